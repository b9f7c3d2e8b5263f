//! The stylesheet (embedded in the binary) and media files from the data folder.

use crate::cache::{CachePolicy, Rendered};
use crate::respond::OrServerError;
use axum::body::Body;
use axum::http::{header, HeaderMap, Response, StatusCode};
use std::path::Path;
use std::sync::LazyLock;

/// The site's stylesheet.
pub static CSS: LazyLock<Rendered> = LazyLock::new(|| {
    Rendered::precompressed(
        StatusCode::OK,
        "text/css; charset=utf-8",
        CachePolicy::Immutable,
        include_str!("../static/site.css"),
        None,
    )
});

/// The stylesheet's URL; it carries the content hash so it can be cached for a year.
pub static CSS_HREF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/static/site-{}.css",
        CSS.etag.trim_matches('"').get(..12).unwrap_or("0")
    )
});

/// The newsroom's script (autosave, presence, live preview); the editor works without it.
pub static NEWSROOM_JS: LazyLock<Rendered> = LazyLock::new(|| {
    Rendered::precompressed(
        StatusCode::OK,
        "text/javascript; charset=utf-8",
        CachePolicy::Immutable,
        include_str!("../static/newsroom.js"),
        None,
    )
});

/// The newsroom script's URL, with its content hash.
pub static NEWSROOM_JS_HREF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/static/newsroom-{}.js",
        NEWSROOM_JS.etag.trim_matches('"').get(..12).unwrap_or("0")
    )
});

/// Whether a media file name is one the server could have made (no paths, no dot files).
pub fn safe_media_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains("..")
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_'
        })
}

/// Media type by extension, for the types newsdesk stores.
pub fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit('.').next()?;
    Some(match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => return None,
    })
}

/// Reads a media file; `None` when it does not exist or is not a servable name.
pub async fn read_media(dir: &Path, name: &str) -> Option<Rendered> {
    if !safe_media_name(name) {
        return None;
    }
    let ct = media_type(name)?;
    let bytes = tokio::fs::read(dir.join(name)).await.ok()?;
    let modified = tokio::fs::metadata(dir.join(name))
        .await
        .ok()
        .and_then(|m| m.modified().ok())
        .map(chrono::DateTime::<chrono::Utc>::from);
    Some(Rendered::new(
        StatusCode::OK,
        ct,
        CachePolicy::Media,
        bytes,
        modified,
    ))
}

/// The answer for a media file: whole, or the byte range asked for.
pub fn media_response(file: &Rendered, headers: &HeaderMap) -> Response<Body> {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    match newsdesk_media::parse_range(range, file.body.len() as u64) {
        newsdesk_media::RangeAnswer::Full => {
            let mut res = file.respond(headers);
            res.headers_mut().insert(
                header::ACCEPT_RANGES,
                axum::http::HeaderValue::from_static("bytes"),
            );
            res
        }
        part @ newsdesk_media::RangeAnswer::Partial {
            start,
            end_inclusive,
        } => {
            let len = file.body.len() as u64;
            let slice = file
                .body
                .slice(start as usize..(end_inclusive + 1) as usize);
            Response::builder()
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_TYPE, file.content_type)
                .header(
                    header::CONTENT_RANGE,
                    part.content_range(len).unwrap_or_default(),
                )
                .header(header::ACCEPT_RANGES, "bytes")
                .header(header::CACHE_CONTROL, CachePolicy::Media.header())
                .header(header::ETAG, &file.etag)
                .body(Body::from(slice))
                .or_500()
        }
        newsdesk_media::RangeAnswer::Unsatisfiable => Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(
                header::CONTENT_RANGE,
                format!("bytes */{}", file.body.len()),
            )
            .body(Body::empty())
            .or_500(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_names() {
        assert!(safe_media_name("demo-0001-800.png"));
        assert!(!safe_media_name("../etc/passwd"));
        assert!(!safe_media_name(".env"));
        assert!(!safe_media_name("a/b.png"));
        assert!(!safe_media_name("A.png"));
        assert_eq!(media_type("x.png"), Some("image/png"));
        assert_eq!(media_type("x.svg"), None);
    }
}
