//! Rendered responses and the in-memory page cache.
//!
//! A page is rendered once, compressed once, and its bytes are served until the read model or
//! the trending lists change (the cache entry carries the stamp it was built at). Every response
//! carries a cache policy, a strong `ETag` and, where known, `Last-Modified`, and conditional
//! requests get `304 Not Modified`.

use crate::respond::OrServerError;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Brotli bytes: only for pages read often (made in the background with the best gzip
    /// form) and static assets (made once at start); a miss never waits for Brotli.
    pub br: Option<Bytes>,
    /// Strong validator (quoted).
    pub etag: String,
    /// `Last-Modified`, if the page knows it.
    pub last_modified: Option<DateTime<Utc>>,
    /// The header values, made once.
    headers: Prepared,
    /// `Surrogate-Key` and `Cache-Tag`: what the response shows, for a CDN's purge.
    keys: Option<(HeaderValue, HeaderValue)>,
    /// A page joined at response time: its own compressed pieces (the rest, shared by many
    /// pages, is given to [`Rendered::respond_joined`]).
    joined: Option<Box<Joined>>,
}

/// The own pieces of a page joined at response time, and the frame they fit.
#[derive(Debug)]
struct Joined {
    /// The page's pieces, in order, before the shared ones.
    pieces: Vec<Deflated>,
    /// The shared frame they were made for (see [`Rendered::frame`]).
    frame: u64,
    /// The hashes of its non-empty pieces, in order: what its ETag hashes before the shared
    /// pieces' (the same for every answer, so made once).
    own: Vec<u8>,
    /// The page made whole for one version of the shared pieces (a page read often, made in
    /// the background): answered as it is while the shared pieces given are those.
    whole: Option<Whole>,
    /// The version of the shared pieces joined last while the whole form was absent or of
    /// another version, and how many answers joined it: a whole form is made for a version
    /// read [`WHOLE_READS`] times.
    seen: AtomicU64,
    seen_reads: AtomicU32,
}

impl Joined {
    fn new(pieces: Vec<Deflated>, frame: u64, whole: Option<Whole>) -> Self {
        let own = pieces
            .iter()
            .filter(|d| d.len > 0)
            .flat_map(|d| d.hash.to_le_bytes())
            .collect();
        Joined {
            pieces,
            frame,
            own,
            whole,
            seen: AtomicU64::new(0),
            seen_reads: AtomicU32::new(0),
        }
    }

    /// The ETag of the page joined with `shared`: a hash of all the pieces' hashes.
    fn etag(&self, shared: &[&Deflated]) -> String {
        let hash = with_hashes(&self.own, shared, xxhash_rust::xxh3::xxh3_64);
        format!("\"{hash:016x}\"")
    }
}

/// Runs `f` on `own` followed by the hashes of the non-empty `shared` pieces (on the stack for
/// the usual handful of pieces).
fn with_hashes<T>(own: &[u8], shared: &[&Deflated], f: impl FnOnce(&[u8]) -> T) -> T {
    let mut buf = [0u8; 256];
    let n = own.len() + shared.len() * 8;
    let mut heap = Vec::new();
    let out: &mut [u8] = if n <= buf.len() {
        &mut buf[..]
    } else {
        heap.resize(n, 0);
        &mut heap[..]
    };
    out[..own.len()].copy_from_slice(own);
    let mut at = own.len();
    for d in shared.iter().filter(|d| d.len > 0) {
        out[at..at + 8].copy_from_slice(&d.hash.to_le_bytes());
        at += 8;
    }
    f(&out[..at])
}

/// The version of a set of shared pieces (a hash of their hashes).
fn shared_tag(shared: &[&Deflated]) -> u64 {
    with_hashes(&[], shared, xxhash_rust::xxh3::xxh3_64)
}

/// A joined page made whole for one version of its shared pieces: one gzip member at the
/// best level, a Brotli form, and its ETag (the joined page's for those pieces).
#[derive(Debug, Clone)]
struct Whole {
    /// The shared pieces' version ([`shared_tag`]).
    tag: u64,
    gzip: Bytes,
    br: Option<Bytes>,
    etag: String,
    etag_value: HeaderValue,
}

/// Answers joined with one version of the shared pieces after which a joined page gets a whole
/// form for that version (in the background). Higher than [`HOT_READS`]: a whole form about
/// doubles what a page holds, so it is for pages read many times per rail version (a page on
/// every front page), not for every page a random reader comes back to.
pub const WHOLE_READS: u32 = 256;

/// Header values of a [`Rendered`], formatted once rather than per response.
#[derive(Debug)]
struct Prepared {
    etag: HeaderValue,
    last_modified: Option<HeaderValue>,
    content_type: HeaderValue,
}

/// Smallest body worth compressing.
const GZIP_MIN: usize = 512;

/// Brotli quality for pages read often, made in the background: 5 compresses an article page
/// (24 KB) some 10 % smaller than gzip at its best level for about twice gzip's cost. Quality 9
/// was 0.5 % smaller still but cost 15 times more (some 20 ms a page: its hasher allocates and
/// clears 32 MB per page whatever the page's size), which made Brotli a sixth of the server's
/// CPU under random readers. Static assets, made once, use 11.
const BR_QUALITY_HOT: u32 = 5;
/// Brotli quality for static assets.
const BR_QUALITY_ASSETS: u32 = 11;

impl Rendered {
    /// Wraps bytes, computing the ETag and the compressed form once, at a fast level (this is
    /// the miss path; pages read often are recompressed at the best level in the background).
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        Self::with_level(
            status,
            content_type,
            policy,
            body.into(),
            last_modified,
            Some(flate2::Compression::fast()),
        )
    }

    /// Like [`Rendered::new`] for a response made for one request and never stored (a search
    /// results page): its gzip form is made only when that request takes gzip.
    pub fn for_one(
        req: &HeaderMap,
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        body: impl Into<Bytes>,
    ) -> Self {
        Self::with_level(
            status,
            content_type,
            policy,
            body.into(),
            None,
            accepts_gzip(req).then(flate2::Compression::fast),
        )
    }

    /// Like [`Rendered::new`] for a body made of pieces, some compressed beforehand (see
    /// [`Deflated`]): only the others are compressed now. It comes compact (its gzip form only,
    /// always made), and its ETag is a hash of the pieces' hashes.
    pub fn from_pieces(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        pieces: &[Piece<'_>],
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        let mut r = Self::with_level(
            status,
            content_type,
            policy,
            Bytes::new(),
            last_modified,
            Some(flate2::Compression::fast()),
        );
        // The validator comes from the pieces' own hashes: the ready pieces' text is not kept.
        let hashes: Vec<u8> = pieces
            .iter()
            .filter(|p| p.len() > 0)
            .flat_map(|p| p.hash().to_le_bytes())
            .collect();
        r.etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&hashes));
        r.headers.etag =
            HeaderValue::from_str(&r.etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        // Only the gzip form is made (a page is cached compact anyway); the identity bytes are
        // decompressed from it for the rare client that takes no gzip.
        r.gzip = stitch(pieces, flate2::Compression::fast());
        if r.gzip.is_none() {
            r.body = Bytes::from(pieces.iter().map(|p| p.text()).collect::<String>());
        }
        r
    }

    /// Like [`Rendered::new`] at the best compression level: for files made once at start
    /// (the stylesheet, scripts).
    pub fn precompressed(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        let mut r = Self::with_level(
            status,
            content_type,
            policy,
            body.into(),
            last_modified,
            Some(flate2::Compression::best()),
        );
        if r.gzip.is_some() {
            r.br = brotli(&r.body, BR_QUALITY_ASSETS);
        }
        r
    }

    /// A page joined at response time: its own `pieces` (compressed each on its own), to be
    /// followed by pieces shared with other pages (an edition's rail and footer) given when it is
    /// answered ([`Rendered::respond_joined`]). `frame` names the shared pieces it fits: a
    /// page whose frame is no longer the current one is stale.
    pub fn joined(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        pieces: Vec<Deflated>,
        last_modified: Option<DateTime<Utc>>,
        frame: u64,
    ) -> Self {
        let mut r = Self::with_level(
            status,
            content_type,
            policy,
            Bytes::new(),
            last_modified,
            Some(flate2::Compression::fast()),
        );
        r.joined = Some(Box::new(Joined::new(pieces, frame, None)));
        r
    }

    /// The frame a joined page fits (`None` for a page made whole).
    pub fn frame(&self) -> Option<u64> {
        self.joined.as_ref().map(|j| j.frame)
    }

    /// The same response keeping only its gzip form (when it has one): most clients take gzip,
    /// and the rare one that does not gets it decompressed. A cached page then costs its
    /// compressed size, about a fifth of its identity bytes.
    pub fn compact(mut self) -> Self {
        if self.gzip.is_some() {
            self.body = Bytes::new();
        }
        self
    }

    /// The identity bytes (decompressed from the gzip form if only that is kept; for a joined
    /// page, its own pieces only).
    pub fn identity(&self) -> Bytes {
        if let Some(j) = &self.joined {
            return Bytes::from(j.pieces.iter().map(Deflated::text).collect::<String>());
        }
        match &self.gzip {
            Some(gz) if self.body.is_empty() => {
                let mut out = Vec::with_capacity(gz.len() * 5);
                let mut d = flate2::read::GzDecoder::new(&gz[..]);
                match std::io::Read::read_to_end(&mut d, &mut out) {
                    Ok(_) => Bytes::from(out),
                    Err(_) => Bytes::new(),
                }
            }
            _ => self.body.clone(),
        }
    }

    /// The same response with its gzip form made at the best level and a Brotli form (`None`
    /// if it has no compressed form).
    /// A joined page gets each of its own pieces at the best level instead (and no Brotli
    /// form: it would be of one rail, and the rail moves; see the README).
    pub fn recompressed_best(&self) -> Option<Rendered> {
        if let Some(j) = &self.joined {
            let pieces = j
                .pieces
                .iter()
                .map(|d| if d.best { d.clone() } else { d.recompressed() })
                .collect();
            return Some(Rendered {
                joined: Some(Box::new(Joined::new(pieces, j.frame, j.whole.clone()))),
                ..self.same()
            });
        }
        self.gzip.as_ref()?;
        let identity = self.identity();
        let gzip = gzip(&identity, flate2::Compression::best())?;
        let br = brotli(&identity, BR_QUALITY_HOT);
        Some(Rendered {
            gzip: Some(gzip),
            br,
            ..self.same()
        })
    }

    /// Whether this joined page has been answered [`WHOLE_READS`] times with shared pieces
    /// its whole form (if any) is not made for: then [`Rendered::with_whole`] is worth making,
    /// in the background.
    pub fn wants_whole(&self) -> bool {
        self.joined.as_ref().is_some_and(|j| {
            j.seen_reads.load(Ordering::Relaxed) >= WHOLE_READS
                && j.whole
                    .as_ref()
                    .is_none_or(|w| w.tag != j.seen.load(Ordering::Relaxed))
        })
    }

    /// This joined page with its own pieces at the best level and a whole form for `shared`
    /// (the whole text in one gzip member at the best level, and Brotli), answered instead of
    /// joining while [`Rendered::respond_joined`] is given the same shared pieces. `None` for
    /// a page not joined, or when a piece does not decompress.
    pub fn with_whole(&self, shared: &[&Deflated]) -> Option<Rendered> {
        let j = self.joined.as_ref()?;
        let mut text = String::new();
        for d in j.pieces.iter().chain(shared.iter().copied()) {
            let t = d.text();
            if t.len() as u64 != d.len {
                return None;
            }
            text.push_str(&t);
        }
        let gzip = gzip(text.as_bytes(), flate2::Compression::best())?;
        let br = brotli(text.as_bytes(), BR_QUALITY_HOT);
        let etag = j.etag(shared);
        let whole = Whole {
            tag: shared_tag(shared),
            gzip,
            br,
            etag_value: HeaderValue::from_str(&etag).ok()?,
            etag,
        };
        let pieces = j
            .pieces
            .iter()
            .map(|d| if d.best { d.clone() } else { d.recompressed() })
            .collect();
        Some(Rendered {
            joined: Some(Box::new(Joined::new(pieces, j.frame, Some(whole)))),
            ..self.same()
        })
    }

    /// Whether this joined page has a whole form (for any version of the shared pieces).
    pub fn has_whole(&self) -> bool {
        self.joined.as_ref().is_some_and(|j| j.whole.is_some())
    }

    /// A copy of the response's headers and identity bytes, without compressed forms.
    fn same(&self) -> Rendered {
        Rendered {
            status: self.status,
            content_type: self.content_type,
            policy: self.policy,
            body: self.body.clone(),
            gzip: None,
            br: None,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
            headers: Prepared {
                etag: self.headers.etag.clone(),
                last_modified: self.headers.last_modified.clone(),
                content_type: self.headers.content_type.clone(),
            },
            keys: self.keys.clone(),
            joined: None,
        }
    }

    /// Names what the response shows (space-separated keys) in `Surrogate-Key` and, comma-
    /// separated, in `Cache-Tag`, so a CDN can purge it by the keys a change touches.
    pub fn with_keys(mut self, keys: &str) -> Self {
        if keys.is_empty() {
            return self;
        }
        let surrogate = HeaderValue::from_str(keys);
        let tags = HeaderValue::from_str(&keys.replace(' ', ","));
        if let (Ok(s), Ok(t)) = (surrogate, tags) {
            self.keys = Some((s, t));
        }
        self
    }

    /// Every byte this response holds.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.body.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.br.as_ref().map_or(0, Bytes::len)
            + self.etag.len() * 2
            + self.headers.last_modified.as_ref().map_or(0, |v| v.len())
            + self.keys.as_ref().map_or(0, |(s, t)| s.len() + t.len())
            + self.joined.as_ref().map_or(0, |j| {
                std::mem::size_of::<Joined>()
                    + j.pieces.len() * std::mem::size_of::<Deflated>()
                    + j.pieces.iter().map(Deflated::bytes).sum::<usize>()
                    + j.own.len()
                    + j.whole.as_ref().map_or(0, |w| {
                        w.gzip.len() + w.br.as_ref().map_or(0, Bytes::len) + w.etag.len() * 2
                    })
            })
    }

    fn with_level(
        status: StatusCode,
        content_type: &'static str,
        policy: CachePolicy,
        body: Bytes,
        last_modified: Option<DateTime<Utc>>,
        level: Option<flate2::Compression>,
    ) -> Self {
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
        let compressible = content_type.starts_with("text/")
            || content_type.contains("xml")
            || content_type.contains("json")
            || content_type.contains("javascript");
        let gzip = level
            .filter(|_| compressible && body.len() >= GZIP_MIN)
            .and_then(|level| gzip(&body, level));
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
            br: None,
            etag,
            last_modified,
            headers,
            keys: None,
            joined: None,
        }
    }

    /// The headers every answer of this response carries, with `etag`.
    fn builder(&self, etag: HeaderValue) -> axum::http::response::Builder {
        let mut b = Response::builder()
            .header(
                header::CACHE_CONTROL,
                HeaderValue::from_static(self.policy.header()),
            )
            .header(header::ETAG, etag)
            .header(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Some(lm) = &self.headers.last_modified {
            b = b.header(header::LAST_MODIFIED, lm.clone());
        }
        if let Some((surrogate, tags)) = &self.keys {
            b = b
                .header("surrogate-key", surrogate.clone())
                .header("cache-tag", tags.clone());
        }
        b
    }

    /// The answer of a joined page ([`Rendered::joined`]) followed by the `shared` pieces: one
    /// gzip member made of the gzip header, every piece's deflate bytes as they are (sent as a
    /// body of several chunks, none copied), an empty final block, and the CRC-32 and length
    /// combined from the pieces' own. The ETag is a hash of the pieces' hashes, so it changes
    /// with any of them. A client that takes no gzip gets the pieces' text.
    pub fn respond_joined(&self, req: &HeaderMap, shared: &[&Deflated]) -> Response<Body> {
        let Some(j) = &self.joined else {
            return self.respond(req);
        };
        let tag = shared_tag(shared);
        match &j.whole {
            // Made whole for these shared pieces: answered as a page made whole is.
            Some(w) if w.tag == tag && choose_coding(req, false, true) != Coding::Identity => {
                return self.answer(req, &w.etag, &w.etag_value, w.br.as_ref(), Some(&w.gzip));
            }
            Some(w) if w.tag == tag => {}
            // Counts answers per version of the shared pieces (see `wants_whole`).
            _ => {
                if j.seen.swap(tag, Ordering::Relaxed) == tag {
                    j.seen_reads.fetch_add(1, Ordering::Relaxed);
                } else {
                    j.seen_reads.store(1, Ordering::Relaxed);
                }
            }
        }
        let pieces = || j.pieces.iter().chain(shared.iter().copied());
        let etag = j.etag(shared);
        let b = self.builder(
            HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
        );
        if self.status == StatusCode::OK && not_modified(req, &etag, self.last_modified) {
            return b
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .or_500();
        }
        let b = b
            .status(self.status)
            .header(header::CONTENT_TYPE, self.headers.content_type.clone());
        if choose_coding(req, false, true) != Coding::Gzip {
            let text: String = pieces().map(Deflated::text).collect();
            return b
                .header(header::CONTENT_LENGTH, text.len())
                .body(Body::from(text))
                .or_500();
        }
        let mut crc = 0u32;
        let mut len = 0u64;
        let mut chunks =
            std::collections::VecDeque::with_capacity(j.pieces.len() + shared.len() + 2);
        chunks.push_back(Bytes::from_static(&GZIP_HEADER));
        for d in pieces().filter(|d| d.len > 0) {
            crc = crc32_combine(crc, d.crc, d.len);
            len += d.len;
            chunks.push_back(d.bytes.clone());
        }
        let mut trailer = Vec::with_capacity(10);
        // A final, empty block with fixed codes; the CRC-32 and the length (mod 2^32).
        trailer.extend_from_slice(&[0x03, 0x00]);
        trailer.extend_from_slice(&crc.to_le_bytes());
        trailer.extend_from_slice(&(len as u32).to_le_bytes());
        chunks.push_back(Bytes::from(trailer));
        let size: usize = chunks.iter().map(Bytes::len).sum();
        b.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
            .header(header::CONTENT_LENGTH, size)
            .body(Body::new(Chunks {
                left: size as u64,
                chunks,
            }))
            .or_500()
    }

    /// The response for a request with these headers (304, gzip or identity).
    pub fn respond(&self, req: &HeaderMap) -> Response<Body> {
        self.answer(
            req,
            &self.etag,
            &self.headers.etag,
            self.br.as_ref(),
            self.gzip.as_ref(),
        )
    }

    /// The response in one of these forms (304, Brotli, gzip or identity), with this ETag.
    fn answer(
        &self,
        req: &HeaderMap,
        etag: &str,
        etag_value: &HeaderValue,
        br: Option<&Bytes>,
        gzip: Option<&Bytes>,
    ) -> Response<Body> {
        let b = self.builder(etag_value.clone());
        if self.status == StatusCode::OK && not_modified(req, etag, self.last_modified) {
            return b
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .or_500();
        }
        let mut b = b
            .status(self.status)
            .header(header::CONTENT_TYPE, self.headers.content_type.clone());
        let body = match (choose_coding(req, br.is_some(), gzip.is_some()), br, gzip) {
            (Coding::Br, Some(br), _) => {
                b = b.header(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
                br.clone()
            }
            (Coding::Gzip, _, Some(gz)) => {
                b = b.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                gz.clone()
            }
            _ => self.identity(),
        };
        b.header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .or_500()
    }
}

/// The gzip header of the pages made here: no name, no time, unknown system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A body sent as the chunks it is made of (hyper writes them with one vectored write).
struct Chunks {
    chunks: std::collections::VecDeque<Bytes>,
    left: u64,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(b) = &next {
            self.left -= b.len() as u64;
        }
        std::task::Poll::Ready(next.map(|b| Ok(http_body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// A piece of a page compressed on its own, so that pages sharing it (an article's own part,
/// an edition's rail) join it to their other pieces instead of compressing it again: raw deflate
/// ended by a sync flush (so it ends on a byte boundary and refers to nothing before it), with
/// the CRC-32 and length of its bytes.
#[derive(Debug, Clone, Default)]
pub struct Deflated {
    bytes: Bytes,
    crc: u32,
    len: u64,
    /// XXH3 of the text (pages' ETags are made of their pieces' hashes).
    hash: u64,
    /// Made at the best level.
    best: bool,
}

impl Deflated {
    /// `text` compressed at `level`.
    pub fn new(text: &str, level: flate2::Compression) -> Self {
        with_compressor(level, |c| {
            // The compressor writes into this thread's scratch vector (kept when small), and
            // the piece keeps an exact copy: no vector grown and freed at every piece.
            let mut out = SCRATCH.with(|s| s.take());
            out.clear();
            let mut d = Self::with(c, text.as_bytes(), &mut out).unwrap_or_default();
            d.best = level.level() >= flate2::Compression::best().level();
            if out.capacity() <= SCRATCH_MAX {
                SCRATCH.with(|s| s.replace(out));
            }
            d
        })
    }

    /// The pieces one after the other as one piece (their bytes copied; no compressing). Its
    /// hash is made of theirs, so it changes with any of them.
    pub fn concat(parts: &[&Deflated]) -> Self {
        let mut bytes = Vec::with_capacity(parts.iter().map(|d| d.bytes.len()).sum());
        let mut crc = 0u32;
        let mut len = 0;
        let mut ids = Vec::with_capacity(parts.len() * 16);
        for d in parts.iter().filter(|d| d.len > 0) {
            bytes.extend_from_slice(&d.bytes);
            crc = crc32_combine(crc, d.crc, d.len);
            len += d.len;
            ids.extend_from_slice(&d.hash.to_le_bytes());
            ids.extend_from_slice(&d.len.to_le_bytes());
        }
        Deflated {
            bytes: Bytes::from(bytes),
            crc,
            len,
            hash: xxhash_rust::xxh3::xxh3_64(&ids),
            best: parts.iter().all(|d| d.best || d.len == 0),
        }
    }

    /// The same text at the best level (itself if it does not decompress), with the same hash
    /// (the pages' ETags stay).
    pub fn recompressed(&self) -> Self {
        let text = self.text();
        if text.len() as u64 != self.len {
            return self.clone();
        }
        Deflated {
            hash: self.hash,
            ..Deflated::new(&text, flate2::Compression::best())
        }
    }

    /// The length of its text.
    pub fn text_len(&self) -> u64 {
        self.len
    }

    /// Compressed bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The text, decompressed (empty if the bytes do not decompress).
    pub fn text(&self) -> String {
        let mut d = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(self.len as usize);
        match d.decompress_vec(&self.bytes, &mut out, flate2::FlushDecompress::Sync) {
            Ok(_) if out.len() as u64 == self.len => String::from_utf8(out).unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn with(c: &mut flate2::Compress, input: &[u8], out: &mut Vec<u8>) -> Option<Self> {
        let start = out.len();
        deflate_sync(c, input, out)?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(input);
        Some(Deflated {
            bytes: Bytes::copy_from_slice(&out[start..]),
            crc: crc.finalize(),
            len: input.len() as u64,
            hash: xxhash_rust::xxh3::xxh3_64(input),
            best: false,
        })
    }
}

/// The largest scratch vector a thread keeps for compressed output ([`Deflated::new`]).
const SCRATCH_MAX: usize = 64 << 10;

thread_local! {
    /// Compressed output being written, before it is copied into its piece.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    /// Raw-deflate compressors of this thread by level, kept between pages: making one
    /// allocates and clears some 300 KB, which cost more than compressing a page at the fast
    /// level (a profile of article misses showed a fifth of their time there).
    static COMPRESSORS: std::cell::RefCell<Vec<(u32, flate2::Compress)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with a raw-deflate compressor at `level` (reset by [`deflate_sync`] before use).
/// The fast and default levels are kept per thread; others are made for the call.
fn with_compressor<T>(level: flate2::Compression, f: impl FnOnce(&mut flate2::Compress) -> T) -> T {
    let keep = level.level() <= flate2::Compression::default().level();
    let taken = keep
        .then(|| {
            COMPRESSORS.with(|c| {
                let mut list = c.try_borrow_mut().ok()?;
                let at = list.iter().position(|(l, _)| *l == level.level())?;
                Some(list.swap_remove(at).1)
            })
        })
        .flatten();
    let mut c = taken.unwrap_or_else(|| flate2::Compress::new(level, false));
    let out = f(&mut c);
    if keep {
        COMPRESSORS.with(|list| {
            if let Ok(mut list) = list.try_borrow_mut() {
                list.push((level.level(), c));
            }
        });
    }
    out
}

/// Compresses `input` onto `out` as raw deflate from a fresh history, ended by a sync flush.
fn deflate_sync(c: &mut flate2::Compress, input: &[u8], out: &mut Vec<u8>) -> Option<()> {
    c.reset();
    if input.is_empty() {
        return Some(());
    }
    loop {
        let done = usize::try_from(c.total_in()).ok()?.min(input.len());
        out.reserve(64 + (input.len() - done) / 2);
        c.compress_vec(&input[done..], out, flate2::FlushCompress::Sync)
            .ok()?;
        // The flush is complete when input is all taken and output room is left over.
        if usize::try_from(c.total_in()).ok()? == input.len() && out.len() < out.capacity() {
            return Some(());
        }
    }
}

/// A piece of a page: text to compress now, or text compressed beforehand.
#[derive(Clone, Copy)]
pub enum Piece<'a> {
    /// Compressed with the page.
    Text(&'a str),
    /// Compressed already (its text is not needed: a cached part keeps only this).
    Ready(&'a Deflated),
}

impl Piece<'_> {
    /// The text (decompressed for a ready piece).
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Piece::Text(t) => std::borrow::Cow::Borrowed(t),
            Piece::Ready(d) => std::borrow::Cow::Owned(d.text()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Piece::Text(t) => t.len(),
            Piece::Ready(d) => d.len as usize,
        }
    }

    fn hash(&self) -> u64 {
        match self {
            Piece::Text(t) => xxhash_rust::xxh3::xxh3_64(t.as_bytes()),
            Piece::Ready(d) => d.hash,
        }
    }
}

/// The CRC-32 (IEEE) polynomial, bit-reversed: bit 31 stands for x^0, as the CRC is computed.
const CRC_POLY: u32 = 0xedb8_8320;

/// `a` times `b` modulo the CRC-32 polynomial, both in the CRC's bit-reversed order.
fn crc_mul(a: u32, mut b: u32) -> u32 {
    let mut p = 0u32;
    let mut m = 1u32 << 31;
    while m != 0 {
        if a & m != 0 {
            p ^= b;
        }
        m >>= 1;
        b = if b & 1 != 0 {
            (b >> 1) ^ CRC_POLY
        } else {
            b >> 1
        };
    }
    p
}

/// x^(2^k) modulo the polynomial, for k in 0..64.
static CRC_X2K: std::sync::LazyLock<[u32; 64]> = std::sync::LazyLock::new(|| {
    let mut t = [0u32; 64];
    // x^1: bit 30 in the reversed order.
    let mut p = 1u32 << 30;
    for e in t.iter_mut() {
        *e = p;
        p = crc_mul(p, p);
    }
    t
});

/// The CRC-32 of two texts one after the other, from the CRC of each and the second's length:
/// the first's CRC is moved past `len2` bytes (times x^(8·len2), by squaring), then the second's
/// added. A few dozen steps, where `crc32fast`'s `combine` squares a 32×32 bit matrix for every
/// bit of the length (each response joined from pieces combined five of them: 1-2 µs).
fn crc32_combine(crc1: u32, crc2: u32, len2: u64) -> u32 {
    // x^0 (1) in the reversed order.
    let mut shift = 1u32 << 31;
    let mut n = len2;
    let mut k = 3; // 8 bits a byte: x^(8·len2) = x^(len2·2^3)
    while n != 0 {
        if n & 1 != 0 {
            shift = crc_mul(CRC_X2K[k % 64], shift);
        }
        n >>= 1;
        k += 1;
    }
    crc_mul(shift, crc1) ^ crc2
}

/// One gzip member made of pieces: the ready ones joined as they are, the others compressed
/// now at `level`. Each piece ends on a byte boundary; an empty final block closes the stream,
/// and the CRC-32 of the whole is combined from the pieces' own.
fn stitch(pieces: &[Piece<'_>], level: flate2::Compression) -> Option<Bytes> {
    let total: usize = pieces.iter().map(Piece::len).sum();
    let mut out = Vec::with_capacity(total / 4 + 64);
    out.extend_from_slice(&GZIP_HEADER);
    let mut crc = 0u32;
    with_compressor(level, |c| {
        for p in pieces {
            match p {
                Piece::Ready(d) => {
                    out.extend_from_slice(&d.bytes);
                    crc = crc32_combine(crc, d.crc, d.len);
                }
                Piece::Text(t) if !t.is_empty() => {
                    deflate_sync(c, t.as_bytes(), &mut out)?;
                    crc = crc32_combine(crc, crc32fast::hash(t.as_bytes()), t.len() as u64);
                }
                Piece::Text(_) => {}
            }
        }
        Some(())
    })?;
    // A final, empty block with fixed codes.
    out.extend_from_slice(&[0x03, 0x00]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    Some(exact(out))
}

fn gzip(bytes: &[u8], level: flate2::Compression) -> Option<Bytes> {
    match std::str::from_utf8(bytes) {
        Ok(text) => stitch(&[Piece::Text(text)], level),
        Err(_) => {
            let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), level);
            enc.write_all(bytes).ok()?;
            enc.finish().ok().map(exact)
        }
    }
}

/// The bytes without the spare room their vector grew: `Bytes` keeps a vector's whole
/// allocation, and a page cache weighing pages by their length would hold up to twice its budget.
fn exact(mut v: Vec<u8>) -> Bytes {
    v.shrink_to_fit();
    Bytes::from(v)
}

/// IMF-fixdate, as HTTP wants it.
pub fn http_date(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than through `format`, which parses its pattern at every call (a page
    // miss makes one).
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Brotli bytes of `bytes` at `quality` (0-11).
fn brotli(bytes: &[u8], quality: u32) -> Option<Bytes> {
    // A window as large as the input (at least 2^18, at most 2^22): a larger one finds nothing
    // more and costs memory to set up.
    let lgwin = (usize::BITS - bytes.len().leading_zeros()).clamp(18, 22);
    let mut w =
        brotli::CompressorWriter::new(Vec::with_capacity(bytes.len() / 4), 4096, quality, lgwin);
    w.write_all(bytes).ok()?;
    // Ends the stream.
    Some(exact(w.into_inner()))
}

/// A content coding a response is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli.
    Br,
    /// gzip.
    Gzip,
    /// As is.
    Identity,
}

/// The q-value the client's `Accept-Encoding` gives `coding`: its own entry, else `*`'s, else 0
/// (RFC 9110, 12.5.3). A q that does not parse counts as 1; q is clamped to 0..=1.
fn q_value(req: &HeaderMap, coding: &str) -> f32 {
    let mut own: Option<f32> = None;
    let mut any: Option<f32> = None;
    for v in req.get_all(header::ACCEPT_ENCODING) {
        for part in v.to_str().unwrap_or("").split(',') {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let q = it
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next()
                .map_or(1.0, |v| v.parse::<f32>().unwrap_or(1.0).clamp(0.0, 1.0));
            if name.eq_ignore_ascii_case(coding) {
                own.get_or_insert(q);
            } else if name == "*" {
                any.get_or_insert(q);
            }
        }
    }
    own.or(any).unwrap_or(0.0)
}

/// The coding to answer in, given the forms a response has: Brotli when the client accepts it
/// at least as much as gzip, else gzip when accepted, else identity.
pub fn choose_coding(req: &HeaderMap, has_br: bool, has_gzip: bool) -> Coding {
    let gz = if has_gzip { q_value(req, "gzip") } else { 0.0 };
    let br = if has_br { q_value(req, "br") } else { 0.0 };
    if br > 0.0 && br >= gz {
        Coding::Br
    } else if gz > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Whether the client accepts gzip (a `gzip` coding, or `*`, with a non-zero q).
pub fn accepts_gzip(req: &HeaderMap) -> bool {
    q_value(req, "gzip") > 0.0
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

pub use newsdesk_app::purge::Stamp;

/// What the cache needs to know of a value: the bytes it holds, and whether a smaller form can
/// be made in the background once it is read often.
pub trait Weigh: Send + Sync + Sized + 'static {
    /// Every byte the value holds.
    fn bytes(&self) -> usize;
    /// The value made smaller (best compression), if that applies.
    fn recompressed(&self) -> Option<Self> {
        None
    }
}

impl Weigh for Rendered {
    fn bytes(&self) -> usize {
        Rendered::bytes(self)
    }
    fn recompressed(&self) -> Option<Self> {
        self.recompressed_best()
    }
}

/// Bytes an entry costs besides its page and key: moka's node, the `Arc`s, the counters.
const ENTRY_OVERHEAD: usize = 256;

/// Reads after which a page is recompressed at the best level, in the background.
pub const HOT_READS: u32 = 8;

/// Recompressions allowed to run at once; a hot page found while they are busy waits for its
/// next read.
const RECOMPRESS_AT_ONCE: usize = 1;

/// After a recompression taking `t`, its slot stays taken for `t` times this more (the thread
/// sleeps), so recompressing takes at most a quarter of one core: under random readers every
/// page becomes hot, and each rail change (trending) makes every page new again, so without a
/// pause the background step kept one of the machine's cores busy that serving needed.
const RECOMPRESS_PAUSE_FACTOR: u32 = 3;

/// A cached value (a page, or a part of pages) and what it was built from.
pub struct Cached<V = Rendered> {
    /// The response.
    pub page: Arc<V>,
    /// What it was built from.
    pub stamp: Stamp,
    reads: AtomicU32,
    /// A replacement is being made for it ([`PageCache::recompress_with`]).
    remaking: std::sync::atomic::AtomicBool,
}

impl<V: Weigh> Cached<V> {
    /// Wraps a value built at `stamp`.
    pub fn new(page: Arc<V>, stamp: Stamp) -> Self {
        Self {
            page,
            stamp,
            reads: AtomicU32::new(0),
            remaking: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Every byte this entry holds under `key`.
    fn weight(&self, key: &str) -> u32 {
        let n = key.len()
            + std::mem::size_of::<Self>()
            + self.page.bytes()
            + self.stamp.deps.len() * std::mem::size_of::<newsdesk_app::purge::Dep>()
            + ENTRY_OVERHEAD;
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// In-flight builds: one per key, so misses of one URL at the same moment render once.
type Flight<V> = Arc<tokio::sync::OnceCell<Arc<Cached<V>>>>;

/// The smallest weight a cached entry usually has (an article's story part is ~3 KiB, a joined
/// article page ~6 KiB): the map is made with room for `max_bytes / ENTRY_GUESS` entries.
const ENTRY_GUESS: u64 = 4 << 10;

/// Rendered pages by URL, within a byte budget.
///
/// Eviction is moka's: TinyLFU admission (a page read once does not push out a page read
/// often, so a crawler walking the archive does not empty the cache) over LRU order, with every
/// entry weighed in bytes (key, page, its gzip form, headers and a fixed overhead).
pub struct PageCache<V = Rendered> {
    map: moka::sync::Cache<String, Arc<Cached<V>>, foldhash::fast::RandomState>,
    inflight: Mutex<HashMap<String, Flight<V>>>,
    max_bytes: u64,
    builds: AtomicU64,
    hits: AtomicU64,
    recompressing: Arc<AtomicUsize>,
}

impl<V: Weigh> PageCache<V> {
    /// A cache holding at most `max_bytes` bytes of pages.
    pub fn new(max_bytes: u64) -> Self {
        let max_bytes = max_bytes.max(1 << 20);
        Self {
            map: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                // Room for as many entries as the budget holds of small ones, made now: a table
                // that grows while the cache fills rehashes every entry at each doubling (at
                // 30,000 misses from empty, 4 % of their CPU). 8 bytes a slot, two slots or more
                // an entry, outside the budget: 1.5 MiB for pages and parts at the default.
                .initial_capacity(
                    usize::try_from(max_bytes / ENTRY_GUESS)
                        .unwrap_or(usize::MAX)
                        .min(1 << 17),
                )
                .eviction_policy(moka::policy::EvictionPolicy::tiny_lfu())
                .weigher(|k: &String, v: &Arc<Cached<V>>| v.weight(k))
                // Keys are URLs, hashed at every read: foldhash (seeded per process) instead of
                // SipHash (seen in profiles of article misses).
                .build_with_hasher(foldhash::fast::RandomState::default()),
            inflight: Mutex::new(HashMap::new()),
            max_bytes,
            builds: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            recompressing: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The page at `key` if `fresh` accepts its stamp.
    pub fn get(&self, key: &str, fresh: impl Fn(&Stamp) -> bool) -> Option<Arc<Cached<V>>> {
        self.get_where(key, |c| fresh(&c.stamp))
    }

    /// The page at `key` if `fresh` accepts it.
    fn get_where(&self, key: &str, fresh: impl Fn(&Cached<V>) -> bool) -> Option<Arc<Cached<V>>> {
        let hit = self.map.get(key).filter(|c| fresh(c))?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        // Hot and not yet recompressed (an entry made by recompressing starts at `u32::MAX / 2`).
        let reads = hit.reads.fetch_add(1, Ordering::Relaxed) + 1;
        if (HOT_READS..u32::MAX / 2).contains(&reads) {
            self.recompress(key, &hit);
        }
        Some(hit)
    }

    /// Keeps a page just built.
    pub fn put(&self, key: String, cached: Arc<Cached<V>>) {
        self.builds.fetch_add(1, Ordering::Relaxed);
        self.map.insert(key, cached);
    }

    /// The page at `key`, fresh by `fresh`, or `build`'s: concurrent misses of one key wait for
    /// one build (single flight). A failed build is not kept; the next caller builds again.
    pub async fn get_or_build<E, F, Fut>(
        &self,
        key: &str,
        fresh: impl Fn(&Stamp) -> bool,
        build: F,
    ) -> Result<Arc<Cached<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Cached<V>, E>>,
    {
        self.get_or_build_where(key, |c| fresh(&c.stamp), build)
            .await
    }

    /// [`PageCache::get_or_build`] where `fresh` sees the whole entry (its value too: a joined
    /// page is stale when the frame it fits is no longer the current one).
    pub async fn get_or_build_where<E, F, Fut>(
        &self,
        key: &str,
        fresh: impl Fn(&Cached<V>) -> bool,
        build: F,
    ) -> Result<Arc<Cached<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Cached<V>, E>>,
    {
        if let Some(hit) = self.get_where(key, &fresh) {
            return Ok(hit);
        }
        let flight = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            // Built while we took the lock?
            if let Some(hit) = self.map.get(key).filter(|c| fresh(c)) {
                return Ok(hit);
            }
            match inflight.get(key) {
                Some(f) if f.get().is_none_or(|c| fresh(c)) => f.clone(),
                _ => {
                    let f = Flight::default();
                    inflight.insert(key.to_owned(), f.clone());
                    f
                }
            }
        };
        let result = flight
            .get_or_try_init(|| async {
                self.builds.fetch_add(1, Ordering::Relaxed);
                let built = Arc::new(build().await?);
                self.map.insert(key.to_owned(), built.clone());
                Ok(built)
            })
            .await
            .cloned();
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if inflight.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            inflight.remove(key);
        }
        result
    }

    /// Recompresses a page read often at the best level, off the request path. The entry is
    /// replaced only if it is still the one that was read (a rebuild in between wins).
    fn recompress(&self, key: &str, hit: &Arc<Cached<V>>) {
        self.replace_in_background(key, hit, V::recompressed, || {
            // Not again for this entry while its replacement is being made.
            hit.reads.store(u32::MAX / 2, Ordering::Relaxed);
        });
    }

    /// Replaces the entry `hit` at `key` with what `make` makes of its value, off the request
    /// path, under the same limit as recompression (at most [`RECOMPRESS_AT_ONCE`] at once,
    /// then a pause): for a better form that needs what only the caller knows (a joined page's
    /// whole form needs the shared pieces it is answered with). Once per entry; skipped when
    /// the limit is reached (the caller asks again at a later read). The entry is replaced only
    /// if it is still the one that was read.
    pub fn recompress_with(
        &self,
        key: &str,
        hit: &Arc<Cached<V>>,
        make: impl FnOnce(&V) -> Option<V> + Send + 'static,
    ) {
        if hit.remaking.load(Ordering::Relaxed) {
            return;
        }
        self.replace_in_background(key, hit, make, || {
            hit.remaking.store(true, Ordering::Relaxed);
        });
    }

    fn replace_in_background(
        &self,
        key: &str,
        hit: &Arc<Cached<V>>,
        make: impl FnOnce(&V) -> Option<V> + Send + 'static,
        started: impl FnOnce(),
    ) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let busy = self.recompressing.fetch_add(1, Ordering::AcqRel);
        if busy >= RECOMPRESS_AT_ONCE {
            self.recompressing.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        started();
        let (map, key, hit, counter) = (
            self.map.clone(),
            key.to_owned(),
            hit.clone(),
            self.recompressing.clone(),
        );
        rt.spawn_blocking(move || {
            let started = std::time::Instant::now();
            if let Some(best) = make(&hit.page) {
                let next = Arc::new(Cached {
                    page: Arc::new(best),
                    stamp: hit.stamp.clone(),
                    reads: AtomicU32::new(u32::MAX / 2),
                    remaking: std::sync::atomic::AtomicBool::new(false),
                });
                map.entry_by_ref(key.as_str())
                    .and_compute_with(|cur| match cur {
                        Some(e) if Arc::ptr_eq(e.value(), &hit) => {
                            moka::ops::compute::Op::Put(next)
                        }
                        _ => moka::ops::compute::Op::Nop,
                    });
            }
            std::thread::sleep(started.elapsed() * RECOMPRESS_PAUSE_FACTOR);
            counter.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Pages built so far (misses that rendered).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// Reads answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The byte budget.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Bytes held now (after pending evictions are done).
    pub fn weighted_bytes(&self) -> u64 {
        self.map.run_pending_tasks();
        self.map.weighted_size()
    }

    /// Number of cached pages.
    pub fn len(&self) -> usize {
        self.map.run_pending_tasks();
        usize::try_from(self.map.entry_count()).unwrap_or(usize::MAX)
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
    fn crc_combined_from_pieces_is_the_crc_of_the_whole() {
        // Texts of many lengths (0 to 70,000 bytes: every bit of the length goes through).
        let text: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let cuts = [
            0usize, 1, 2, 3, 7, 8, 255, 256, 1_000, 4_097, 33_333, 65_536, 69_999, 70_000,
        ];
        for &a in &cuts {
            for &b in cuts.iter().filter(|b| **b >= a) {
                let (x, y) = (&text[..a], &text[a..b]);
                assert_eq!(
                    crc32_combine(crc32fast::hash(x), crc32fast::hash(y), y.len() as u64),
                    crc32fast::hash(&text[..b]),
                    "{a}..{b}"
                );
            }
        }
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
    fn brotli_negotiation_follows_q_values() {
        let pick = |ae: &'static str| choose_coding(&hm(&[("accept-encoding", ae)]), true, true);
        assert_eq!(pick("gzip, deflate, br"), Coding::Br);
        assert_eq!(pick("br;q=1.0, gzip;q=0.8"), Coding::Br);
        assert_eq!(pick("br;q=0.5, gzip;q=0.8"), Coding::Gzip);
        assert_eq!(pick("gzip, br;q=0"), Coding::Gzip);
        assert_eq!(pick("BR ; Q=0.000, gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(pick("*"), Coding::Br);
        assert_eq!(pick("*;q=0.5, br;q=0"), Coding::Gzip);
        assert_eq!(pick("identity"), Coding::Identity);
        assert_eq!(choose_coding(&hm(&[]), true, true), Coding::Identity);
        // A page without a Brotli form (a fresh miss) answers gzip to the same client.
        let h = hm(&[("accept-encoding", "gzip, deflate, br")]);
        assert_eq!(choose_coding(&h, false, true), Coding::Gzip);
        assert_eq!(choose_coding(&h, false, false), Coding::Identity);
    }

    #[test]
    fn a_response_for_one_request_is_compressed_only_when_it_takes_gzip() {
        let body = "<p>results</p>".repeat(200);
        let plain = Rendered::for_one(
            &hm(&[]),
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::NoStore,
            body.clone(),
        );
        assert!(plain.gzip.is_none());
        assert_eq!(plain.identity(), body.as_bytes());
        let gz = Rendered::for_one(
            &hm(&[("accept-encoding", "gzip, deflate, br")]),
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::NoStore,
            body.clone(),
        );
        assert!(gz.gzip.is_some());
        assert_eq!(gz.identity(), body.as_bytes());
        assert_eq!(gz.etag, plain.etag);
    }

    #[test]
    fn a_fresh_miss_has_no_brotli_form_and_answers_gzip() {
        let text: String = (0..3000).map(|i| format!("<li>item {i}</li>")).collect();
        let r = Rendered::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            text,
            None,
        );
        assert!(r.br.is_none() && r.gzip.is_some());
        let resp = r.respond(&hm(&[("accept-encoding", "br, gzip")]));
        assert_eq!(resp.headers()["content-encoding"], "gzip");
    }

    #[test]
    fn static_assets_come_in_brotli_too() {
        use std::io::Read;
        let css = &crate::assets::CSS;
        let br = css.br.as_ref().expect("a Brotli form");
        assert!(br.len() < css.gzip.as_ref().unwrap().len());
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, css.body);
        let resp = css.respond(&hm(&[("accept-encoding", "gzip, br")]));
        assert_eq!(resp.headers()["content-encoding"], "br");
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
        // Every weekday and month, against the strftime pattern it replaces.
        for i in 0..800i64 {
            let t = t + chrono::Duration::seconds(i * 86_400 * 3 + i * 3_671);
            assert_eq!(
                http_date(t),
                t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
            );
        }
    }

    fn st(at: u64) -> Stamp {
        Stamp { at, deps: vec![] }
    }

    fn page(n: usize) -> Arc<Rendered> {
        Arc::new(Rendered::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Front,
            "x".repeat(n),
            None,
        ))
    }

    #[test]
    fn a_compact_page_keeps_only_gzip_and_still_answers_identity() {
        let text = "<p>hello</p>".repeat(200);
        let r = Rendered::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            text.clone(),
            None,
        );
        let full = r.bytes();
        let c = r.compact();
        assert!(c.bytes() < full - text.len() + 1);
        assert_eq!(c.identity(), text.as_bytes());
        let res = c.respond(&hm(&[]));
        assert_eq!(
            res.headers()[header::CONTENT_LENGTH],
            text.len().to_string()
        );
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    }

    #[test]
    fn cache_respects_stamps() {
        let c: PageCache = PageCache::new(1 << 20);
        let r = page(600);
        assert!(r.gzip.is_some());
        c.put("/".into(), Arc::new(Cached::new(r, st(1))));
        assert!(c.get("/", |s| s.at == 1).is_some());
        assert!(c.get("/", |s| s.at == 2).is_none());
    }

    #[test]
    fn the_byte_budget_is_honoured() {
        let budget: u64 = 2 << 20; // 2 MiB
        let c: PageCache = PageCache::new(budget);
        // 400 pages of ~50 KB each (~20 MB with their gzip forms): ten times the budget.
        let mut weighed = 0u64;
        for i in 0..400 {
            let key = format!("/article/story-{i}");
            let e = Arc::new(Cached::new(page(50_000 + i), st(1)));
            weighed += u64::from(e.weight(&key));
            c.put(key, e);
            // Some pages are read often.
            for _ in 0..3 {
                let _ = c.get("/article/story-0", |_| true);
            }
        }
        assert!(weighed > budget * 5);
        let held = c.weighted_bytes();
        assert!(held <= budget, "{held} > {budget}");
        assert!(held > 0);
        // Each entry is weighed with its body and gzip form, so the count is bounded too.
        assert!(c.len() <= (budget / 50_000) as usize, "{}", c.len());
        // The page read often survived the flood of pages read once.
        assert!(c.get("/article/story-0", |_| true).is_some());
    }

    #[test]
    fn the_byte_budget_holds_with_joined_pages() {
        let budget: u64 = 1 << 20;
        let c: PageCache = PageCache::new(budget);
        let mut weighed = 0u64;
        for i in 0..1000 {
            let text: String = (0..600)
                .map(|j| format!("<p>{}</p>", i * 7919 + j))
                .collect();
            let own = vec![Deflated::new(&text, flate2::Compression::fast())];
            let page = Rendered::joined(
                StatusCode::OK,
                "text/html; charset=utf-8",
                CachePolicy::Article,
                own,
                None,
                1,
            );
            let key = format!("/article/story-{i}");
            let e = Arc::new(Cached::new(Arc::new(page), st(1)));
            weighed += u64::from(e.weight(&key));
            c.put(key, e);
        }
        assert!(weighed > budget * 2, "{weighed}");
        let held = c.weighted_bytes();
        assert!(held <= budget && held > 0, "{held} > {budget}");
    }

    #[test]
    fn pages_read_often_are_recompressed_at_the_best_level_in_the_background() {
        use std::io::Read;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let c: PageCache = PageCache::new(1 << 20);
            let text: String = (0..3000)
                .map(|i| format!("<li>story {} of {}</li>", i % 97, i % 13))
                .collect();
            let fast = Arc::new(Rendered::new(
                StatusCode::OK,
                "text/html; charset=utf-8",
                CachePolicy::Article,
                text.clone(),
                None,
            ));
            let fast_len = fast.gzip.as_ref().unwrap().len();
            c.put("/hot".into(), Arc::new(Cached::new(fast, st(1))));
            for _ in 0..HOT_READS {
                assert!(c.get("/hot", |_| true).is_some());
            }
            let mut best = None;
            for _ in 0..2000 {
                let now = c.get("/hot", |_| true).unwrap();
                if now.page.gzip.as_ref().unwrap().len() != fast_len {
                    best = Some(now);
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let best = best.expect("recompressed in the background");
            let gz = best.page.gzip.as_ref().unwrap();
            assert!(gz.len() < fast_len, "{} < {fast_len}", gz.len());
            let mut out = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
            assert_eq!(best.page.etag, c.get("/hot", |_| true).unwrap().page.etag);
            // And a Brotli form, smaller still, for the clients that take it.
            let br = best.page.br.as_ref().expect("a Brotli form for a hot page");
            assert!(br.len() < gz.len(), "{} < {}", br.len(), gz.len());
            let mut out = String::new();
            brotli::Decompressor::new(&br[..], 4096)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
            let resp = best.page.respond(&hm(&[("accept-encoding", "gzip, br")]));
            assert_eq!(resp.headers()["content-encoding"], "br");
        });
    }

    #[test]
    fn concurrent_misses_of_one_url_render_once() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            const N: usize = 16;
            let c: Arc<PageCache> = Arc::new(PageCache::new(1 << 20));
            let started = Arc::new(AtomicUsize::new(0));
            let renders = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for _ in 0..N {
                let (c, started, renders) = (c.clone(), started.clone(), renders.clone());
                tasks.push(tokio::spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    c.get_or_build(
                        "/busy",
                        |s| s.at == 1,
                        || async {
                            renders.fetch_add(1, Ordering::SeqCst);
                            // Hold the build open until every caller has asked for the page, so
                            // all N misses overlap.
                            while started.load(Ordering::SeqCst) < N {
                                tokio::task::yield_now().await;
                            }
                            tokio::task::yield_now().await;
                            Ok::<_, ()>(Cached::new(page(600), st(1)))
                        },
                    )
                    .await
                    .unwrap()
                }));
            }
            let mut pages = Vec::new();
            for t in tasks {
                pages.push(t.await.unwrap());
            }
            assert_eq!(renders.load(Ordering::SeqCst), 1);
            assert_eq!(c.builds(), 1);
            assert!(pages.iter().all(|p| Arc::ptr_eq(p, &pages[0])));
            // A stale stamp builds again, once.
            c.get_or_build(
                "/busy",
                |s| s.at == 2,
                || async { Ok::<_, ()>(Cached::new(page(600), st(2))) },
            )
            .await
            .unwrap();
            assert_eq!(c.builds(), 2);
        });
    }

    #[test]
    fn a_page_stitched_from_pieces_is_one_gzip_member_of_its_text() {
        use std::io::Read;
        let part = format!("<article>{}</article>", "<p>body text</p>".repeat(300));
        let rail: String = (0..50).map(|i| format!("<li>item {i}</li>")).collect();
        // Big enough to take several rounds of output room, and hard to compress.
        let big: String = (0..40_000u64)
            .map(|i| format!("{:x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        let pd = Deflated::new(&part, flate2::Compression::default());
        let rd = Deflated::new(&rail, flate2::Compression::best());
        let bd = Deflated::new(&big, flate2::Compression::fast());
        let pieces = [
            Piece::Text("<!doctype html><html><head><title>t</title></head><body>"),
            Piece::Ready(&pd),
            Piece::Text(""),
            Piece::Text("<div>between</div>"),
            Piece::Ready(&rd),
            Piece::Ready(&bd),
            Piece::Text(&big),
            Piece::Text("</body></html>"),
        ];
        let whole: String = pieces.iter().map(|p| p.text()).collect();
        assert!(whole.contains(&part) && whole.contains(&rail) && whole.contains(&big));
        let r = Rendered::from_pieces(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            &pieces,
            None,
        );
        assert!(r.body.is_empty(), "only the gzip form is made");
        let gz = r.gzip.clone().unwrap();
        // A decoder that reads one member only (and checks its CRC and length) gets it all.
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, whole);
        // The ready pieces went in as they were made.
        for d in [&pd, &rd, &bd] {
            assert!(gz.windows(d.bytes.len()).any(|w| w == &d.bytes[..]));
        }
        // The same validator for the same pieces, another for a changed piece.
        let again = Rendered::from_pieces(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            &pieces,
            None,
        );
        assert_eq!(r.etag, again.etag);
        let changed = Deflated::new(&part.replace("body", "bodY"), flate2::Compression::fast());
        let mut other = pieces;
        other[1] = Piece::Ready(&changed);
        let other = Rendered::from_pieces(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            &other,
            None,
        );
        assert_ne!(r.etag, other.etag);
        assert_eq!(r.compact().identity(), whole.as_bytes());
    }

    #[test]
    fn a_joined_page_answers_one_gzip_member_of_its_pieces_and_the_shared_ones() {
        use http_body_util::BodyExt;
        let body = |r: Response<Body>| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(r.into_body().collect())
                .unwrap()
                .to_bytes()
        };
        let head = "<!DOCTYPE html><html><head><title>t</title></head><body>".repeat(3);
        let part = format!("<article>{}</article>", "<p>body text</p>".repeat(300));
        let tail = "<ul class=related><li>one</li></ul></main>";
        let rail: String = (0..400).map(|i| format!("<li>trending {i}</li>")).collect();
        let foot = "<footer>feet</footer></body></html>";
        let fast = flate2::Compression::fast();
        let own = vec![
            Deflated::new(&head, fast),
            Deflated::new(&part, flate2::Compression::best()),
            Deflated::new("", fast),
            Deflated::new(tail, fast),
        ];
        let own_sum: usize = own.iter().map(Deflated::bytes).sum();
        let page = Rendered::joined(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            own,
            None,
            7,
        );
        assert_eq!(page.frame(), Some(7));
        let (r1, f) = (
            Deflated::new(&rail, flate2::Compression::best()),
            Deflated::new(foot, fast),
        );
        let whole = [head.as_str(), &part, tail, &rail, foot].concat();
        let gz = hm(&[("accept-encoding", "gzip, br")]);
        let res = page.respond_joined(&gz, &[&r1, &f]);
        assert_eq!(res.headers()["content-encoding"], "gzip");
        let etag = res.headers()["etag"].clone();
        let length: usize = res.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let raw = body(res);
        assert_eq!(raw.len(), length);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
            .unwrap();
        assert_eq!(out, whole);
        // A client without gzip reads the text.
        let res = page.respond_joined(&hm(&[]), &[&r1, &f]);
        assert!(res.headers().get("content-encoding").is_none());
        assert_eq!(body(res), whole.as_bytes());
        // 304 for the same pieces; another ETag when a shared piece changes.
        let inm = hm(&[("if-none-match", etag.to_str().unwrap().to_owned().leak())]);
        assert_eq!(page.respond_joined(&inm, &[&r1, &f]).status(), 304);
        let r2 = Deflated::new(&rail.replace("trending 1", "trending one"), fast);
        let moved = page.respond_joined(&inm, &[&r2, &f]);
        assert_eq!(moved.status(), 200);
        assert_ne!(moved.headers()["etag"], etag);
        // What the page weighs is its own pieces: a bigger shared piece changes nothing.
        let own_bytes = page.bytes();
        assert!(
            own_bytes <= std::mem::size_of::<Rendered>() + 512 + own_sum,
            "{own_bytes}"
        );
        assert!(own_sum + r1.bytes() < raw.len());
        // Recompressed in the background: its own pieces at the best level, same text and ETag.
        let best = page.recompressed_best().unwrap();
        assert!(best.bytes() < own_bytes, "{} < {own_bytes}", best.bytes());
        assert!(best.br.is_none());
        let res = best.respond_joined(&gz, &[&r1, &f]);
        assert_eq!(res.headers()["etag"], etag);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body(res)[..]), &mut out)
            .unwrap();
        assert_eq!(out, whole);
    }

    /// A joined article-like page, its shared pieces and their whole text.
    fn joined_page(seed: usize) -> (Rendered, Vec<Deflated>, String) {
        let fast = flate2::Compression::fast();
        let head = format!("<!DOCTYPE html><html><head><title>{seed}</title></head><body>");
        let part: String = (0..300)
            .map(|i| format!("<p>paragraph {} of {seed}</p>", i * 7919 % 1009))
            .collect();
        let tail = format!("<ul class=related><li>{seed}</li></ul></main>");
        let own = vec![
            Deflated::new(&head, fast),
            Deflated::new(&part, fast),
            Deflated::new("", fast),
            Deflated::new(&tail, fast),
        ];
        let page = Rendered::joined(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            own,
            None,
            7,
        );
        let rail: String = (0..400).map(|i| format!("<li>trending {i}</li>")).collect();
        let foot = "<footer>feet</footer></body></html>";
        let shared = vec![
            Deflated::new(&rail, flate2::Compression::best()),
            Deflated::new(foot, flate2::Compression::best()),
        ];
        (
            page,
            shared,
            [head, part, tail, rail, foot.to_owned()].concat(),
        )
    }

    fn decoded(res: Response<Body>) -> (Option<String>, String) {
        use http_body_util::BodyExt;
        use std::io::Read;
        let coding = res
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        let raw = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(res.into_body().collect())
            .unwrap()
            .to_bytes();
        let mut out = String::new();
        match coding.as_deref() {
            Some("gzip") => {
                flate2::read::GzDecoder::new(&raw[..])
                    .read_to_string(&mut out)
                    .unwrap();
            }
            Some("br") => {
                brotli::Decompressor::new(&raw[..], 4096)
                    .read_to_string(&mut out)
                    .unwrap();
            }
            _ => out = String::from_utf8(raw.to_vec()).unwrap(),
        }
        (coding, out)
    }

    #[test]
    fn a_hot_joined_page_is_answered_from_its_whole_form_while_the_rail_stays() {
        let (page, shared, whole) = joined_page(1);
        let sh: Vec<&Deflated> = shared.iter().collect();
        let (gz, br) = (
            hm(&[("accept-encoding", "gzip")]),
            hm(&[("accept-encoding", "gzip, deflate, br")]),
        );
        let joined = page.respond_joined(&gz, &sh);
        let etag = joined.headers()["etag"].clone();
        assert_eq!(decoded(joined), (Some("gzip".into()), whole.clone()));
        // Not worth a whole form until read often with these shared pieces.
        assert!(!page.wants_whole());
        for _ in 1..WHOLE_READS {
            let _ = page.respond_joined(&gz, &sh);
        }
        assert!(page.wants_whole());
        let hot = page.with_whole(&sh).unwrap();
        assert!(hot.has_whole() && !hot.wants_whole());
        // The whole form: one gzip member (contiguous, not several chunks), the same text and
        // ETag as the joined answer, Brotli for the clients that take it, 304 for the ETag.
        let res = hot.respond_joined(&gz, &sh);
        assert_eq!(res.headers()["etag"], etag);
        assert_eq!(decoded(res), (Some("gzip".into()), whole.clone()));
        let res = hot.respond_joined(&br, &sh);
        assert_eq!(res.headers()["etag"], etag);
        assert_eq!(decoded(res), (Some("br".into()), whole.clone()));
        let inm = hm(&[("if-none-match", etag.to_str().unwrap().to_owned().leak())]);
        assert_eq!(hot.respond_joined(&inm, &sh).status(), 304);
        // A client without gzip still reads the text.
        assert_eq!(
            decoded(hot.respond_joined(&hm(&[]), &sh)),
            (None, whole.clone())
        );
        // Its whole form is smaller than the joined answer: it is not the joined bytes.
        let whole_gz = hot
            .joined
            .as_ref()
            .unwrap()
            .whole
            .as_ref()
            .unwrap()
            .gzip
            .len();
        let joined_len: usize = page.respond_joined(&gz, &sh).headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(whole_gz < joined_len, "{whole_gz} < {joined_len}");

        // The rail moves: the new rail is joined (never the old whole form), with another ETag.
        let rail2 = Deflated::new(
            &(0..400)
                .map(|i| format!("<li>moved {i}</li>"))
                .collect::<String>(),
            flate2::Compression::best(),
        );
        let sh2 = [&rail2, &shared[1]];
        let whole2 = whole.replace(&shared[0].text(), &rail2.text());
        assert_ne!(whole2, whole);
        for h in [&gz, &br, &hm(&[])] {
            let res = hot.respond_joined(h, &sh2);
            assert_ne!(res.headers()["etag"], etag);
            assert_eq!(decoded(res).1, whole2);
        }
        assert_eq!(hot.respond_joined(&inm, &sh2).status(), 200);
        // Read often with the new rail: made whole again, for it.
        for _ in 0..WHOLE_READS {
            let _ = hot.respond_joined(&gz, &sh2);
        }
        assert!(hot.wants_whole());
        let hot2 = hot.with_whole(&sh2).unwrap();
        assert_eq!(
            decoded(hot2.respond_joined(&br, &sh2)),
            (Some("br".into()), whole2)
        );
        assert_eq!(
            decoded(hot2.respond_joined(&gz, &sh)),
            (Some("gzip".into()), whole)
        );
    }

    #[test]
    fn a_whole_form_is_weighed_and_the_budget_holds() {
        let (page, shared, _) = joined_page(0);
        let sh: Vec<&Deflated> = shared.iter().collect();
        let hot = page.with_whole(&sh).unwrap();
        let w = hot.joined.as_ref().unwrap().whole.clone().unwrap();
        let best = page.recompressed_best().unwrap();
        assert!(
            hot.bytes() >= best.bytes() + w.gzip.len() + w.br.as_ref().unwrap().len(),
            "{} {}",
            hot.bytes(),
            best.bytes()
        );
        let budget: u64 = 1 << 20;
        let c: PageCache = PageCache::new(budget);
        let mut weighed = 0u64;
        for i in 0..600 {
            let (page, shared, _) = joined_page(i);
            let sh: Vec<&Deflated> = shared.iter().collect();
            let key = format!("/article/story-{i}");
            let e = Arc::new(Cached::new(Arc::new(page.with_whole(&sh).unwrap()), st(1)));
            weighed += u64::from(e.weight(&key));
            c.put(key, e);
        }
        assert!(weighed > budget * 2, "{weighed}");
        let held = c.weighted_bytes();
        assert!(held <= budget && held > 0, "{held} > {budget}");
    }

    #[test]
    fn the_cache_makes_a_hot_joined_page_whole_in_the_background() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let (page, shared, whole) = joined_page(3);
        let gz = hm(&[("accept-encoding", "gzip, br")]);
        let made = rt.block_on(async {
            let c: PageCache = PageCache::new(1 << 20);
            c.put("/a".into(), Arc::new(Cached::new(Arc::new(page), st(1))));
            for _ in 0..(WHOLE_READS * 20) {
                let hit = c.get("/a", |_| true).unwrap();
                let sh: Vec<&Deflated> = shared.iter().collect();
                let res = hit.page.respond_joined(&gz, &sh);
                if hit.page.has_whole() {
                    return Some(res);
                }
                if hit.page.wants_whole() {
                    let s = shared.clone();
                    c.recompress_with("/a", &hit, move |p| p.with_whole(&[&s[0], &s[1]]));
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            None
        });
        let res = made.expect("made whole in the background");
        assert_eq!(decoded(res), (Some("br".into()), whole));
    }

    #[test]
    fn a_cached_gzip_form_holds_no_spare_room() {
        // What the cache weighs (the length) is what the page holds (the allocation).
        let text: String = (0..4000)
            .map(|i| format!("<li>{}</li>", i * 7919 % 10007))
            .collect();
        let r = Rendered::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Article,
            text,
            None,
        );
        for gz in [
            r.gzip.clone().unwrap(),
            r.recompressed_best().unwrap().gzip.unwrap(),
        ] {
            let v: Vec<u8> = gz.into();
            assert_eq!(v.capacity(), v.len());
        }
    }
}
