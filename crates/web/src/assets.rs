//! The stylesheet (embedded in the binary) and media files from the data folder.

use crate::cache::{CachePolicy, Rendered};
use crate::respond::OrServerError;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use newsdesk_media::MediaStore;
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

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

/// Media files being streamed at once unless configured (`[media] max_streams`).
pub const DEFAULT_MEDIA_STREAMS: usize = 256;

/// Where media files are read from and how many may be streamed at once.
pub struct MediaFiles {
    /// The backend (a local folder or an S3 bucket).
    pub store: Arc<dyn MediaStore>,
    /// One permit per response being streamed; a request finding none gets 503.
    streams: Arc<Semaphore>,
}

impl MediaFiles {
    /// Files in `store`, at most `max_streams` streamed at once.
    pub fn new(store: Arc<dyn MediaStore>, max_streams: usize) -> Self {
        Self {
            store,
            streams: Arc::new(Semaphore::new(max_streams.max(1))),
        }
    }

    /// Responses being streamed now.
    pub fn streaming(&self, max_streams: usize) -> usize {
        max_streams.max(1) - self.streams.available_permits()
    }
}

fn unavailable(why: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::RETRY_AFTER, "1")
        .body(Body::from(format!("{why}\n")))
        .or_500()
}

/// The answer for a media file, streamed from the backend: whole, or the byte range asked for,
/// with a long cache lifetime, its validator and `304` for a conditional request; `None` when
/// there is no such file or it is not a servable name. The response holds one of the
/// `max_streams` permits while its body is sent, and reads one chunk
/// ([`newsdesk_media::CHUNK_BYTES`]) at a time; with none free it is `503` with `Retry-After`.
pub async fn serve_media(
    media: &MediaFiles,
    name: &str,
    headers: &HeaderMap,
) -> Option<Response<Body>> {
    if !safe_media_name(name) {
        return None;
    }
    let ct = media_type(name)?;
    let Ok(permit) = media.streams.clone().try_acquire_owned() else {
        return Some(unavailable(
            "Too many media files are being sent; try again.",
        ));
    };
    let meta = match media.store.head(name).await {
        Ok(Some(m)) => m,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, name, "media backend");
            return Some(unavailable("The media store cannot be reached; try again."));
        }
    };
    let modified = meta.modified.map(chrono::DateTime::<chrono::Utc>::from);
    let etag = HeaderValue::from_str(&meta.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let len = meta.len;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let answer = newsdesk_media::parse_range(range, len);
    let b = Response::builder()
        .header(header::CACHE_CONTROL, CachePolicy::Media.header())
        .header(header::ETAG, etag);
    let (b, part) = match answer {
        newsdesk_media::RangeAnswer::Full => {
            let mut b = b.header(header::VARY, "Accept-Encoding");
            if let Some(lm) = modified {
                b = b.header(header::LAST_MODIFIED, crate::cache::http_date(lm));
            }
            if crate::cache::not_modified(headers, &meta.etag, modified) {
                return Some(
                    b.status(StatusCode::NOT_MODIFIED)
                        .body(Body::empty())
                        .or_500(),
                );
            }
            let b = b
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, ct)
                .header(header::CONTENT_LENGTH, len)
                .header(header::ACCEPT_RANGES, "bytes");
            (b, None)
        }
        part @ newsdesk_media::RangeAnswer::Partial {
            start,
            end_inclusive,
        } => {
            let b = b
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_TYPE, ct)
                .header(
                    header::CONTENT_RANGE,
                    part.content_range(len).unwrap_or_default(),
                )
                .header(header::CONTENT_LENGTH, end_inclusive - start + 1)
                .header(header::ACCEPT_RANGES, "bytes");
            (b, Some((start, end_inclusive)))
        }
        newsdesk_media::RangeAnswer::Unsatisfiable => {
            return Some(
                Response::builder()
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                    .body(Body::empty())
                    .or_500(),
            )
        }
    };
    if len == 0 {
        return Some(b.body(Body::empty()).or_500());
    }
    let stream = match media.store.stream(name, part).await {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, name, "media backend");
            return Some(unavailable("The media store cannot be reached; try again."));
        }
    };
    // The permit goes with the body and is given back when it is sent or dropped.
    let body = futures_util::StreamExt::map(stream, move |chunk| {
        let _held = &permit;
        chunk
    });
    Some(b.body(Body::from_stream(body)).or_500())
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
