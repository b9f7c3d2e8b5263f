//! Syndication out: `/api/v1/stories/{id}.ninjs.json` (IPTC ninjs 2.2) and
//! `/api/v1/stories/{id}.newsml.xml` (a NewsML-G2 `newsItem`). What may be carried is decided in
//! `app` ([`App::syndication_item`](newsdesk_app::App::syndication_item)); the conversion is
//! `newsdesk_interchange`'s. A story taken down answers 200 with a withheld or canceled item (so
//! partners take it down too); drafts, embargoed and unknown stories are a 404 problem document.

use crate::error::WebError;
use crate::WebState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use newsdesk_domain::StoryId;
use newsdesk_interchange::{newsml, ninjs};
use std::sync::Arc;

/// The two formats, by the file name's ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `N.ninjs.json`.
    Ninjs,
    /// `N.newsml.xml`.
    NewsMl,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Ninjs => "application/ninjs+json; charset=utf-8",
            Format::NewsMl => "application/vnd.iptc.g2.newsitem+xml; charset=utf-8",
        }
    }
}

/// Reads `42.ninjs.json` or `42.newsml.xml` (plain ASCII digits, as every id in a path).
pub fn parse_file(file: &str) -> Option<(StoryId, Format)> {
    let (id, format) = if let Some(id) = file.strip_suffix(".ninjs.json") {
        (id, Format::Ninjs)
    } else {
        (file.strip_suffix(".newsml.xml")?, Format::NewsMl)
    };
    Some((id.parse().ok()?, format))
}

/// The story `id` as a ninjs document.
pub async fn ninjs(
    st: &WebState,
    id: StoryId,
    req: &HeaderMap,
) -> Result<Response<Body>, WebError> {
    respond(st, id, Format::Ninjs, req).await
}

/// The story `id` as a NewsML-G2 `newsItem`.
pub async fn newsml(
    st: &WebState,
    id: StoryId,
    req: &HeaderMap,
) -> Result<Response<Body>, WebError> {
    respond(st, id, Format::NewsMl, req).await
}

async fn respond(
    st: &WebState,
    id: StoryId,
    format: Format,
    req: &HeaderMap,
) -> Result<Response<Body>, WebError> {
    let item = st.app.syndication_item(id).await?;
    let publisher = st.app.publisher();
    let body = match format {
        Format::Ninjs => ninjs::to_string(&item, &publisher),
        Format::NewsMl => newsml::to_string(&item, &publisher),
    };
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body.as_bytes()));
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "public, max-age=60")
        .header(header::VARY, "Accept-Encoding");
    let res = if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, format.content_type())
            .body(Body::from(body))
    };
    Ok(crate::respond::or_500(res))
}

/// `GET /api/v1/stories/{file}`: a story in a syndication format (`N.ninjs.json`,
/// `N.newsml.xml`); any other name is a 404 problem document.
pub async fn by_file(
    State(st): State<Arc<WebState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    match parse_file(&file) {
        Some((id, Format::Ninjs)) => ninjs(&st, id, &headers).await,
        Some((id, Format::NewsMl)) => newsml(&st, id, &headers).await,
        None => Err(WebError::from(newsdesk_app::AppError::NotFound)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_parse_strictly() {
        assert_eq!(
            parse_file("42.ninjs.json"),
            Some((StoryId(42), Format::Ninjs))
        );
        assert_eq!(
            parse_file("7.newsml.xml"),
            Some((StoryId(7), Format::NewsMl))
        );
        for bad in [
            "42",
            "+4.ninjs.json",
            "x.newsml.xml",
            ".ninjs.json",
            "4.json",
            "4.ninjs.json.x",
        ] {
            assert_eq!(parse_file(bad), None, "{bad}");
        }
    }
}
