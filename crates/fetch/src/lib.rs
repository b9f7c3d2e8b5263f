//! Safe fetching of outside resources (agency feeds, pages, images) for newsdesk.
//!
//! One HTTP client for every outside fetch. It speaks only `http` and `https`; it resolves
//! each host itself and connects only to an address that passed [`is_blocked`] (so a name
//! that resolves, or a redirect that points, to a loopback, private, link-local or cloud
//! metadata address is refused, and DNS rebinding between check and connect is impossible:
//! the checked address is the one dialled). Redirects are followed by hand, each hop checked
//! again, up to a cap. Connect, idle and total time-outs, a minimum transfer speed, and a cap
//! on the body size *after* decompression bound what a hostile source can cost: a gzip bomb
//! stops at the cap, a slow drip stops at the speed check, an endless body at the cap.
//!
//! Polling helpers: [`Conditional`] requests (ETag / Last-Modified, answered by
//! [`Fetched::NotModified`]), [`FetchError::RateLimited`] with the server's `Retry-After`, and
//! [`Backoff`] for the delay before the next poll of a failing source.
//!
//! HTTPS is checked against Mozilla's roots, compiled in (webpki-roots), plus any extra CA
//! certificates in [`FetchPolicy::extra_root_certs`] (PEM), for a source served under a
//! private CA. A failed handshake is a [`FetchError::Tls`] saying what was wrong with the
//! certificate ([`TlsProblem`]).

mod addr;
mod backoff;
mod client;
#[cfg(feature = "hostile-server")]
pub mod hostile;

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

pub use addr::{classify, is_blocked, AddrClass};
pub use backoff::Backoff;
pub use client::{feed_content_type_refused, Fetcher, Posted};

/// Limits for every fetch made by one [`Fetcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Redirects followed before giving up (each hop is checked like the first URL).
    pub max_redirects: u8,
    /// Name resolution, TCP connect and TLS handshake, each.
    pub connect_timeout: Duration,
    /// The whole fetch: every hop, headers and the full body.
    pub total_timeout: Duration,
    /// Longest wait for the response headers, or between two pieces of the body.
    pub idle_timeout: Duration,
    /// Minimum average speed in bytes per second over each `low_speed_window` of the body
    /// (0 turns the check off). Stops slow drips long before the total time-out.
    pub low_speed_limit: u64,
    pub low_speed_window: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body: usize,
    /// Allow loopback addresses (127/8, ::1). For tests against a local server only.
    pub allow_loopback: bool,
    /// Allow private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), for a source
    /// explicitly configured on an internal network. Link-local, cloud metadata, unspecified,
    /// multicast and reserved addresses are refused whatever the policy.
    pub allow_private: bool,
    /// Certificate authorities trusted for HTTPS in addition to Mozilla's roots (which are
    /// always trusted): each entry is PEM text with one or more `CERTIFICATE` blocks, for
    /// instance the CA of an agency whose feed is served under a private CA. Text outside
    /// the blocks is ignored; a block that does not decode, a certificate that does not
    /// parse, any other kind of block (a private key pasted by mistake) or an entry with no
    /// certificate at all makes [`Fetcher::new`] fail with [`FetchError::Config`]. Empty by
    /// default.
    pub extra_root_certs: Vec<String>,
    pub user_agent: String,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            max_redirects: 5,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(5),
            low_speed_limit: 1024,
            low_speed_window: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            allow_loopback: false,
            allow_private: false,
            extra_root_certs: Vec::new(),
            user_agent: concat!("newsdesk/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Validators from the previous successful fetch, sent as `If-None-Match` and
/// `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditional {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The outcome of a successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: the validators matched; nothing new.
    NotModified,
    Ok {
        /// The body, decompressed, at most `max_body` bytes, delivered as received (no
        /// charset decoding: that is the parser's job).
        body: Vec<u8>,
        content_type: Option<String>,
        /// `Content-Language`: the language of a document that names none itself.
        content_language: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
        /// The URL after redirects.
        final_url: String,
    },
}

/// Why a fetch failed. The `Display` text is meant for a source's health page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("URL scheme {0:?} not allowed (only http and https)")]
    SchemeNotAllowed(String),
    #[error("refused: {host} resolves to {class} ({addr})")]
    BlockedAddress {
        host: String,
        addr: IpAddr,
        class: AddrClass,
    },
    #[error("too many redirects (more than {max})")]
    TooManyRedirects { max: u8 },
    #[error("redirect loop back to {0}")]
    RedirectLoop(String),
    /// Which stage ran out of time: "dns", "connect", "tls handshake", "response headers",
    /// "idle" (between two pieces of the body) or "total".
    #[error("timed out ({0})")]
    Timeout(&'static str),
    #[error("transfer too slow (under {min_bytes_per_sec} bytes/s)")]
    TooSlow { min_bytes_per_sec: u64 },
    #[error("response too large (more than {max} bytes)")]
    TooLarge { max: usize },
    #[error("rate limited (HTTP {status}){}", retry_after_text(.retry_after))]
    RateLimited {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("HTTP error {status}{}", reason_text(*.status))]
    Http { status: u16 },
    #[error("wrong content type for a feed: {0}")]
    WrongContentType(String),
    #[error("undecodable response: {0}")]
    Decode(String),
    /// The connection was made but the TLS handshake failed: the certificate was refused,
    /// or the server broke the TLS protocol.
    #[error("TLS with {host}: {problem}")]
    Tls { host: String, problem: TlsProblem },
    #[error("network error: {0}")]
    Network(String),
    #[error("fetcher configuration: {0}")]
    Config(String),
}

/// What was wrong with a TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsProblem {
    /// The certificate does not chain to a trusted root: self-signed, or issued by a private
    /// CA that is not in [`FetchPolicy::extra_root_certs`].
    #[error("certificate not trusted (self-signed, or its issuer is not a trusted CA)")]
    Untrusted,
    /// The certificate is valid, but for other names than the URL's host.
    #[error("certificate not valid for this name{}", names_text(.presented))]
    WrongName {
        /// The names the certificate is for (DNS names and IP addresses), as far as known.
        presented: Vec<String>,
    },
    #[error("certificate expired{}", when_text("on", .not_after))]
    Expired { not_after: Option<SystemTime> },
    #[error("certificate not valid yet{}", when_text("valid from", .not_before))]
    NotYetValid { not_before: Option<SystemTime> },
    /// Anything else (a bad signature, a protocol error, an alert from the server, ...), in
    /// rustls's words.
    #[error("{0}")]
    Other(String),
}

fn names_text(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (it is for {})", names.join(", "))
    }
}

fn when_text(word: &str, at: &Option<SystemTime>) -> String {
    match at {
        Some(t) => format!(" ({word} {})", httpdate::fmt_http_date(*t)),
        None => String::new(),
    }
}

impl FetchError {
    /// The delay the server asked for, if it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", retry after {} s", d.as_secs()),
        None => String::new(),
    }
}

fn reason_text(status: u16) -> String {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_read_well() {
        let e = FetchError::BlockedAddress {
            host: "feeds.example".into(),
            addr: "127.0.0.1".parse().expect("ip"),
            class: AddrClass::Loopback,
        };
        assert_eq!(
            e.to_string(),
            "refused: feeds.example resolves to a loopback address (127.0.0.1)"
        );
        let e = FetchError::RateLimited {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        };
        assert_eq!(e.to_string(), "rate limited (HTTP 429), retry after 120 s");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
        assert_eq!(
            FetchError::Http { status: 404 }.to_string(),
            "HTTP error 404 Not Found"
        );
        assert_eq!(
            FetchError::Timeout("total").to_string(),
            "timed out (total)"
        );
        let tls = |problem| {
            FetchError::Tls {
                host: "feeds.example".into(),
                problem,
            }
            .to_string()
        };
        assert_eq!(
            tls(TlsProblem::Untrusted),
            "TLS with feeds.example: certificate not trusted (self-signed, or its issuer is not a trusted CA)"
        );
        assert_eq!(
            tls(TlsProblem::WrongName {
                presented: vec!["a.example".into(), "192.0.2.1".into()]
            }),
            "TLS with feeds.example: certificate not valid for this name (it is for a.example, 192.0.2.1)"
        );
        assert_eq!(
            tls(TlsProblem::WrongName {
                presented: Vec::new()
            }),
            "TLS with feeds.example: certificate not valid for this name"
        );
        assert_eq!(
            tls(TlsProblem::Expired {
                not_after: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480))
            }),
            "TLS with feeds.example: certificate expired (on Wed, 21 Oct 2015 07:28:00 GMT)"
        );
        assert_eq!(
            tls(TlsProblem::NotYetValid { not_before: None }),
            "TLS with feeds.example: certificate not valid yet"
        );
    }
}
