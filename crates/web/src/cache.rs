//! Rendered responses and the in-memory page cache.
//!
//! A page is rendered once, compressed once, and its bytes are served until the read model or
//! the trending lists change (the cache entry carries the stamp it was built at). Every response
//! carries a cache policy, a strong `ETag` and, where known, `Last-Modified`, and conditional
//! requests get `304 Not Modified`.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};

/// How long browsers and CDNs may keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Home and edition home: they change with every story.
    Front,
    /// An article: changes with its story and its side lists.
    Article,
    /// Sector, kind, tag, desk, author and archive listings; static pages.
    Listing,
    /// Feeds.
    Feed,
    /// Sitemaps and robots.txt.
    Sitemap,
    /// Files whose URL changes when their content does.
    Immutable,
    /// Uploaded media (server-made names, never reused).
    Media,
    /// A 404: short, so a story published a moment later is found.
    NotFound,
    /// Errors and bad requests: never stored.
    NoStore,
    /// Permanent redirects.
    Redirect,
}

impl CachePolicy {
    /// The `Cache-Control` value.
    pub fn header(self) -> &'static str {
        match self {
            CachePolicy::Front => {
                "public, max-age=30, stale-while-revalidate=60, stale-if-error=600"
            }
            CachePolicy::Article => {
                "public, max-age=60, stale-while-revalidate=300, stale-if-error=3600"
            }
            CachePolicy::Listing => {
                "public, max-age=60, stale-while-revalidate=300, stale-if-error=3600"
            }
            CachePolicy::Feed => "public, max-age=300, stale-while-revalidate=600",
            CachePolicy::Sitemap => "public, max-age=900",
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::Media => "public, max-age=2592000",
            CachePolicy::NotFound => "public, max-age=30",
            CachePolicy::NoStore => "no-store",
            CachePolicy::Redirect => "public, max-age=3600",
        }
    }
}

/// A response ready to serve many times.
#[derive(Debug)]
pub struct Rendered {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Cache policy.
    pub policy: CachePolicy,
    /// Identity bytes.
    pub body: Bytes,
    /// gzip bytes, when worth it.
    pub gzip: Option<Bytes>,
    /// Strong validator (quoted).
    pub etag: String,
    /// `Last-Modified`, if the page knows it.
    pub last_modified: Option<DateTime<Utc>>,
    /// The header values, made once.
    headers: Prepared,
}

/// Header values of a [`Rendered`], formatted once rather than per response.
#[derive(Debug)]
struct Prepared {
    etag: HeaderValue,
    last_modified: Option<HeaderValue>,
    content_type: HeaderValue,
}

/// Smallest body worth compressing.
const GZIP_MIN: usize = 512;

impl Rendered {
    /// Wraps bytes, computing the ETag and the compressed form once.
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        let body: Bytes = body.into();
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
        let compressible = content_type.starts_with("text/")
            || content_type.contains("xml")
            || content_type.contains("json")
            || content_type.contains("javascript");
        let gzip = (compressible && body.len() >= GZIP_MIN)
            .then(|| gzip(&body))
            .flatten();
        let headers = Prepared {
            etag: HeaderValue::from_str(&etag)
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
            last_modified: last_modified.and_then(|t| HeaderValue::from_str(&http_date(t)).ok()),
            content_type: HeaderValue::from_static(content_type),
        };
        Self {
            status,
            content_type,
            policy,
            body,
            gzip,
            etag,
            last_modified,
            headers,
        }
    }

    /// The response for a request with these headers (304, gzip or identity).
    pub fn respond(&self, req: &HeaderMap) -> Response<Body> {
        let mut b = Response::builder()
            .header(
                header::CACHE_CONTROL,
                HeaderValue::from_static(self.policy.header()),
            )
            .header(header::ETAG, self.headers.etag.clone())
            .header(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Some(lm) = &self.headers.last_modified {
            b = b.header(header::LAST_MODIFIED, lm.clone());
        }
        if self.status == StatusCode::OK && not_modified(req, &self.etag, self.last_modified) {
            return b
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .unwrap_or_else(|_| Response::new(Body::empty()));
        }
        b = b
            .status(self.status)
            .header(header::CONTENT_TYPE, self.headers.content_type.clone());
        let body = match &self.gzip {
            Some(gz) if accepts_gzip(req) => {
                b = b.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                gz.clone()
            }
            _ => self.body.clone(),
        };
        b.header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(Bytes::from)
}

/// IMF-fixdate, as HTTP wants it.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether the client accepts gzip (a `gzip` coding, or `*`, with a non-zero q).
pub fn accepts_gzip(req: &HeaderMap) -> bool {
    req.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q_zero = it.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            (coding == "gzip" || coding == "*") && !q_zero
        })
    })
}

/// Conditional request check: `If-None-Match` wins; `If-Modified-Since` only without it.
pub fn not_modified(req: &HeaderMap, etag: &str, last_modified: Option<DateTime<Utc>>) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH) {
        let inm = inm.to_str().unwrap_or("");
        return inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    }
    if let (Some(ims), Some(lm)) = (req.get(header::IF_MODIFIED_SINCE), last_modified) {
        if let Ok(ims) = DateTime::parse_from_rfc2822(ims.to_str().unwrap_or("")) {
            return lm.timestamp() <= ims.timestamp();
        }
    }
    false
}

/// What a cached page was built from; a different stamp means rebuild.
pub type Stamp = (u64, u64);

/// Rendered pages by URL.
pub struct PageCache {
    map: RwLock<HashMap<String, (Stamp, Arc<Rendered>)>>,
    capacity: usize,
}

impl PageCache {
    /// A cache holding at most `capacity` pages.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            capacity: capacity.max(16),
        }
    }

    /// The page at `key` if it was built at `stamp`.
    pub fn get(&self, key: &str, stamp: Stamp) -> Option<Arc<Rendered>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, r)| r.clone())
    }

    /// Keeps a page. When full, drops stale entries first, then an arbitrary tenth.
    pub fn put(&self, key: String, stamp: Stamp, page: Arc<Rendered>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (s, _)| *s == stamp);
            if map.len() >= self.capacity {
                let drop: Vec<String> = map.keys().take(self.capacity / 10 + 1).cloned().collect();
                for k in drop {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, (stamp, page));
    }

    /// Number of cached pages.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Headers every response carries.
pub fn security_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "strict-origin-when-cross-origin");
    set(h, "x-frame-options", "DENY");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    set(h, "cross-origin-opener-policy", "same-origin");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(&hm(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&hm(&[(
            "accept-encoding",
            "br;q=1.0, gzip;q=0.8"
        )])));
        assert!(!accepts_gzip(&hm(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&hm(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&hm(&[])));
    }

    #[test]
    fn conditional_requests() {
        let t = DateTime::parse_from_rfc3339("2025-09-04T02:16:00Z")
            .unwrap()
            .to_utc();
        assert!(not_modified(
            &hm(&[("if-none-match", "\"abc\"")]),
            "\"abc\"",
            None
        ));
        assert!(not_modified(
            &hm(&[("if-none-match", "W/\"abc\", \"x\"")]),
            "\"abc\"",
            None
        ));
        assert!(!not_modified(
            &hm(&[("if-none-match", "\"x\"")]),
            "\"abc\"",
            Some(t)
        ));
        assert!(not_modified(
            &hm(&[("if-modified-since", "Thu, 04 Sep 2025 02:16:00 GMT")]),
            "\"a\"",
            Some(t)
        ));
        assert!(!not_modified(
            &hm(&[("if-modified-since", "Thu, 04 Sep 2025 02:15:59 GMT")]),
            "\"a\"",
            Some(t)
        ));
        assert!(!not_modified(
            &hm(&[("if-modified-since", "garbage")]),
            "\"a\"",
            Some(t)
        ));
        assert_eq!(http_date(t), "Thu, 04 Sep 2025 02:16:00 GMT");
    }

    #[test]
    fn cache_respects_stamps_and_capacity() {
        let c = PageCache::new(16);
        let r = Arc::new(Rendered::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Front,
            "x".repeat(600),
            None,
        ));
        assert!(r.gzip.is_some());
        c.put("/".into(), (1, 1), r.clone());
        assert!(c.get("/", (1, 1)).is_some());
        assert!(c.get("/", (2, 1)).is_none());
        for i in 0..40 {
            c.put(format!("/{i}"), (1, 1), r.clone());
        }
        assert!(c.len() <= 16);
    }
}
