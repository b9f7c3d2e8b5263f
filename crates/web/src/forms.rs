//! Reading form bodies and cookies by hand, so malformed input gets our own clear answer.

use axum::body::Bytes;
use percent_encoding::percent_decode;

/// Fields of an `application/x-www-form-urlencoded` body, in order (keys may repeat).
#[derive(Debug, Default, Clone)]
pub struct FormData(pub Vec<(String, String)>);

fn decode(s: &str) -> Option<String> {
    let plus = s.replace('+', " ");
    percent_decode(plus.as_bytes())
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

impl FormData {
    /// Parses a body; `None` when it is not valid UTF-8 after decoding.
    pub fn parse(body: &[u8]) -> Option<FormData> {
        let text = std::str::from_utf8(body).ok()?;
        let mut out = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Some(FormData(out))
    }

    /// The first value of a field, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of a field.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The most a route reads of a request body. The routers set it (a layer for the whole
/// router, overridden by a layer on a route: see [`body_limit`]); every extractor that reads a
/// body reads this, so the limits are stated in one place, beside the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// The layer that sets the body limit of the routes it wraps.
pub fn body_limit(bytes: usize) -> axum::Extension<BodyLimit> {
    axum::Extension(BodyLimit(bytes))
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit of its route.
    TooLarge,
    /// It did not arrive within the server's body read timeout.
    TimedOut,
    /// The connection failed while it was read.
    Broken,
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, BodyError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| body_error(&e))
}

/// What a body-reading error was, from its chain of causes.
pub fn body_error(e: &(dyn std::error::Error + 'static)) -> BodyError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return BodyError::TooLarge;
        }
        if err.is::<crate::server::BodyTimeout>() {
            return BodyError::TimedOut;
        }
        cur = err.source();
    }
    BodyError::Broken
}

/// The value of a cookie in a `Cookie` header.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let f = FormData::parse(b"a=1&b=x+y%21&a=2&empty=&flag").unwrap();
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.all("a"), ["1", "2"]);
        assert_eq!(f.get("b"), "x y!");
        assert_eq!(f.get("flag"), "");
        assert_eq!(f.get("missing"), "");
        assert!(FormData::parse(b"a=%FF").is_none());
        assert!(FormData::parse(&[0xff, 0xfe]).is_none());
    }

    #[test]
    fn reads_cookies() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; __Host-s=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&h, "__Host-s"), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
