//! The HTTP/1.1 client: our own resolution, address check, connect, TLS, redirects and
//! capped, decompressed body reading.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use url::{Host, Url};

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use crate::{classify, AddrClass, Conditional, FetchError, FetchPolicy, Fetched, TlsProblem};

/// Headers larger than this end the fetch (hyper's read buffer).
const MAX_HEADER_BUF: usize = 64 * 1024;
/// Addresses tried per host before giving up.
const MAX_ADDRS_TRIED: usize = 4;

/// The one client for outside fetches. Cheap to clone; share it between sources.
#[derive(Clone)]
pub struct Fetcher {
    policy: Arc<FetchPolicy>,
    tls: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Mozilla's roots plus the policy's extra CA certificates (PEM).
fn root_store(extra: &[String]) -> Result<RootCertStore, FetchError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (i, text) in extra.iter().enumerate() {
        let entry = format!("extra_root_certs[{i}]");
        let mut found = 0usize;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes()) {
            let (kind, der) = section
                .map_err(|e| FetchError::Config(format!("{entry}: {}", pem_error_text(&e))))?;
            if kind != SectionKind::Certificate {
                return Err(FetchError::Config(format!(
                    "{entry}: holds a {} block; only CERTIFICATE blocks belong here",
                    section_label(kind)
                )));
            }
            found += 1;
            roots.add(CertificateDer::from(der)).map_err(|e| {
                let why = match e {
                    rustls::Error::InvalidCertificate(c) => format!("{c:?}"),
                    other => other.to_string(),
                };
                FetchError::Config(format!(
                    "{entry}: certificate {found} is not a usable X.509 certificate ({why})"
                ))
            })?;
        }
        if found == 0 {
            return Err(FetchError::Config(format!(
                "{entry}: no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)"
            )));
        }
    }
    Ok(roots)
}

fn pem_error_text(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a PEM block is not closed (no -----END {}----- line)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "malformed PEM line {:?}",
            String::from_utf8_lossy(line)
                .chars()
                .take(80)
                .collect::<String>()
        ),
        pem::Error::Base64Decode(detail) => format!("bad base64 in a PEM block ({detail})"),
        other => format!("bad PEM: {other}"),
    }
}

fn section_label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        _ => "non-certificate",
    }
}

/// A failed TLS handshake: rustls's verdict as a [`FetchError::Tls`]; an I/O failure during
/// the handshake (reset, closed) as a network error.
fn tls_error(host: &str, e: io::Error) -> FetchError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(err) => FetchError::Tls {
            host: host.to_string(),
            problem: tls_problem(err),
        },
        None => FetchError::Network(format!("TLS with {host}: {e}")),
    }
}

fn tls_problem(err: &rustls::Error) -> TlsProblem {
    let at = |t: &rustls::pki_types::UnixTime| {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(t.as_secs()))
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsProblem::Untrusted,
            CertificateError::NotValidForName => TlsProblem::WrongName {
                presented: Vec::new(),
            },
            CertificateError::NotValidForNameContext { presented, .. } => TlsProblem::WrongName {
                presented: presented.iter().map(|n| tidy_name(n)).collect(),
            },
            CertificateError::Expired => TlsProblem::Expired { not_after: None },
            CertificateError::ExpiredContext { not_after, .. } => TlsProblem::Expired {
                not_after: at(not_after),
            },
            CertificateError::NotValidYet => TlsProblem::NotYetValid { not_before: None },
            CertificateError::NotValidYetContext { not_before, .. } => TlsProblem::NotYetValid {
                not_before: at(not_before),
            },
            _ => TlsProblem::Other(err.to_string()),
        },
        _ => TlsProblem::Other(err.to_string()),
    }
}

/// `DnsName("feeds.example")` / `IpAddress(127.0.0.1)`, as webpki reports the names in a
/// certificate, to `feeds.example` / `127.0.0.1`.
fn tidy_name(name: &str) -> String {
    let inner = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        });
    inner.unwrap_or(name).to_string()
}

/// Aborts the connection task when the fetch ends (or is dropped by a time-out), so a
/// hostile server's socket is closed at once.
struct ConnGuard(JoinHandle<()>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        if policy.max_body == 0 {
            return Err(FetchError::Config("max_body must be positive".into()));
        }
        for (name, d) in [
            ("connect_timeout", policy.connect_timeout),
            ("total_timeout", policy.total_timeout),
            ("idle_timeout", policy.idle_timeout),
        ] {
            if d.is_zero() {
                return Err(FetchError::Config(format!("{name} must be positive")));
            }
        }
        if policy.low_speed_limit > 0 && policy.low_speed_window.is_zero() {
            return Err(FetchError::Config(
                "low_speed_window must be positive when low_speed_limit is set".into(),
            ));
        }
        HeaderValue::from_str(&policy.user_agent)
            .map_err(|_| FetchError::Config("user agent is not a valid header value".into()))?;
        let roots = root_store(&policy.extra_root_certs)?;
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Fetcher {
            policy: Arc::new(policy),
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Fetch `url` (following redirects) within the policy's limits.
    pub async fn get(&self, url: &str, cond: &Conditional) -> Result<Fetched, FetchError> {
        self.fetch(url, cond, false).await
    }

    /// As [`Fetcher::get`], and refuse, before reading the body, a response whose
    /// `Content-Type` cannot be a feed (images, audio, video, fonts, PDF, archives).
    pub async fn get_feed(&self, url: &str, cond: &Conditional) -> Result<Fetched, FetchError> {
        self.fetch(url, cond, true).await
    }

    async fn fetch(
        &self,
        url: &str,
        cond: &Conditional,
        feed: bool,
    ) -> Result<Fetched, FetchError> {
        match timeout(self.policy.total_timeout, self.follow(url, cond, feed)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout("total")),
        }
    }

    async fn follow(
        &self,
        url: &str,
        cond: &Conditional,
        feed: bool,
    ) -> Result<Fetched, FetchError> {
        let mut current =
            check_url(Url::parse(url).map_err(|e| FetchError::BadUrl(format!("{url}: {e}")))?)?;
        let mut visited = vec![current.clone()];
        let mut redirects = 0u8;
        loop {
            let (response, guard) = self.exchange(&current, cond).await?;
            let status = response.status();
            if is_redirect(status) {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::Http {
                        status: status.as_u16(),
                    })?;
                let next = current
                    .join(location)
                    .map_err(|e| FetchError::BadUrl(format!("redirect to {location:?}: {e}")))?;
                let next = check_url(next)?;
                drop(guard);
                if visited.contains(&next) {
                    return Err(FetchError::RedirectLoop(next.to_string()));
                }
                if redirects >= self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        max: self.policy.max_redirects,
                    });
                }
                redirects += 1;
                visited.push(next.clone());
                current = next;
                continue;
            }
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified);
            }
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, wall_clock()));
            if status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some())
            {
                return Err(FetchError::RateLimited {
                    status: status.as_u16(),
                    retry_after,
                });
            }
            if !status.is_success() {
                return Err(FetchError::Http {
                    status: status.as_u16(),
                });
            }
            let headers = response.headers();
            let text = |name: header::HeaderName| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let content_type = text(header::CONTENT_TYPE);
            let content_language = text(header::CONTENT_LANGUAGE);
            let etag = text(header::ETAG);
            let last_modified = text(header::LAST_MODIFIED);
            if feed {
                if let Some(ct) = &content_type {
                    if feed_content_type_refused(ct) {
                        return Err(FetchError::WrongContentType(ct.clone()));
                    }
                }
            }
            let body = self.read_body(response).await?;
            drop(guard);
            return Ok(Fetched::Ok {
                body,
                content_type,
                content_language,
                etag,
                last_modified,
                final_url: current.to_string(),
            });
        }
    }

    /// POSTs `body` to `url` (one hop: a redirect is an answer like any other, never followed)
    /// with the same address checks and time limits as a fetch, and returns the status and at
    /// most `excerpt` bytes of the answer (the rest is not read). For webhooks.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        excerpt: usize,
    ) -> Result<Posted, FetchError> {
        let url =
            check_url(Url::parse(url).map_err(|e| FetchError::BadUrl(format!("{url}: {e}")))?)?;
        let work = async {
            let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
            let path = if path.is_empty() { "/" } else { path };
            let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
            let mut builder = Request::post(path)
                .header(header::HOST, host)
                .header(header::USER_AGENT, self.policy.user_agent.as_str())
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, body.len());
            for (name, value) in headers {
                builder = builder.header(*name, value.as_str());
            }
            let request = builder
                .body(http_body_util::Full::new(Bytes::from(body)))
                .map_err(|e| FetchError::BadUrl(format!("{url}: {e}")))?;
            let (response, guard) = self.exchange_with(&url, request).await?;
            let status = response.status().as_u16();
            let mut got = Vec::new();
            let mut stream = response.into_body();
            while got.len() < excerpt {
                match timeout(self.policy.idle_timeout, stream.frame()).await {
                    Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            let room = excerpt - got.len();
                            got.extend_from_slice(&data[..data.len().min(room)]);
                        }
                    }
                }
            }
            drop(guard);
            Ok(Posted {
                status,
                excerpt: got,
            })
        };
        match timeout(self.policy.total_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout("total")),
        }
    }

    /// Whether the policy lets us connect to `ip`; the refusing class otherwise.
    fn allowed(&self, ip: IpAddr) -> Result<(), AddrClass> {
        match classify(ip) {
            None => Ok(()),
            Some(AddrClass::Loopback) if self.policy.allow_loopback => Ok(()),
            Some(AddrClass::Private) if self.policy.allow_private => Ok(()),
            Some(class) => Err(class),
        }
    }

    /// Resolve the host of `url` and keep only the addresses the policy allows.
    async fn resolve(&self, url: &Url) -> Result<Vec<SocketAddr>, FetchError> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::BadUrl(format!("{url}: no port")))?;
        let (name, candidates): (String, Vec<IpAddr>) = match url.host() {
            Some(Host::Ipv4(ip)) => (ip.to_string(), vec![IpAddr::V4(ip)]),
            Some(Host::Ipv6(ip)) => (ip.to_string(), vec![IpAddr::V6(ip)]),
            Some(Host::Domain(domain)) => {
                let found = timeout(
                    self.policy.connect_timeout,
                    tokio::net::lookup_host((domain, port)),
                )
                .await
                .map_err(|_| FetchError::Timeout("dns"))?
                .map_err(|e| FetchError::Network(format!("cannot resolve {domain}: {e}")))?;
                let mut ips: Vec<IpAddr> = Vec::new();
                for addr in found {
                    if !ips.contains(&addr.ip()) {
                        ips.push(addr.ip());
                    }
                }
                (domain.to_string(), ips)
            }
            None => return Err(FetchError::BadUrl(format!("{url}: no host"))),
        };
        let mut refused = None;
        let mut allowed = Vec::new();
        for ip in candidates {
            match self.allowed(ip) {
                Ok(()) => allowed.push(SocketAddr::new(ip, port)),
                Err(class) => {
                    refused.get_or_insert((ip, class));
                }
            }
        }
        if allowed.is_empty() {
            return Err(match refused {
                Some((addr, class)) => FetchError::BlockedAddress {
                    host: name,
                    addr,
                    class,
                },
                None => FetchError::Network(format!("{name} has no address")),
            });
        }
        Ok(allowed)
    }

    /// Connect to a checked address of `url`'s host and exchange one request for the
    /// response headers.
    async fn exchange(
        &self,
        url: &Url,
        cond: &Conditional,
    ) -> Result<(Response<Incoming>, ConnGuard), FetchError> {
        let request = self.build_request(url, cond)?;
        self.exchange_with(url, request).await
    }

    /// Connect to a checked address of `url`'s host and send `request` (any body).
    async fn exchange_with<B>(
        &self,
        url: &Url,
        request: Request<B>,
    ) -> Result<(Response<Incoming>, ConnGuard), FetchError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let addrs = self.resolve(url).await?;
        let mut last_err = None;
        let mut tcp = None;
        for addr in addrs.into_iter().take(MAX_ADDRS_TRIED) {
            match timeout(self.policy.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    tcp = Some(stream);
                    break;
                }
                Ok(Err(e)) => {
                    last_err = Some(FetchError::Network(format!("connect to {addr}: {e}")))
                }
                Err(_) => last_err = Some(FetchError::Timeout("connect")),
            }
        }
        let tcp = match tcp {
            Some(tcp) => tcp,
            None => {
                return Err(last_err.unwrap_or_else(|| FetchError::Network("no address".into())))
            }
        };
        let _ = tcp.set_nodelay(true);
        if url.scheme() == "https" {
            let host = url
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .unwrap_or_default()
                .to_string();
            let server_name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|_| FetchError::BadUrl(format!("{host}: not a valid TLS server name")))?;
            let tls = timeout(
                self.policy.connect_timeout,
                self.tls.connect(server_name, tcp),
            )
            .await
            .map_err(|_| FetchError::Timeout("tls handshake"))?
            .map_err(|e| tls_error(&host, e))?;
            self.send(tls, request).await
        } else {
            self.send(tcp, request).await
        }
    }

    fn build_request(
        &self,
        url: &Url,
        cond: &Conditional,
    ) -> Result<Request<Empty<Bytes>>, FetchError> {
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let path = if path.is_empty() { "/" } else { path };
        let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
        let mut builder = Request::get(path)
            .header(header::HOST, host)
            .header(header::USER_AGENT, self.policy.user_agent.as_str())
            .header(
                header::ACCEPT,
                "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            )
            .header(header::ACCEPT_ENCODING, "gzip");
        if let Some(etag) = cond
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = cond
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(header::IF_MODIFIED_SINCE, lm);
        }
        builder
            .body(Empty::new())
            .map_err(|e| FetchError::BadUrl(format!("{url}: {e}")))
    }

    async fn send<IO, B>(
        &self,
        io: IO,
        request: Request<B>,
    ) -> Result<(Response<Incoming>, ConnGuard), FetchError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(MAX_HEADER_BUF)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| FetchError::Network(format!("HTTP handshake: {e}")))?;
        let guard = ConnGuard(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let response = timeout(self.policy.idle_timeout, sender.send_request(request))
            .await
            .map_err(|_| FetchError::Timeout("response headers"))?
            .map_err(|e| FetchError::Network(format!("bad HTTP response: {e}")))?;
        Ok((response, guard))
    }

    /// Read the body within the idle time-out, the speed check and the size cap, which
    /// applies to the decompressed bytes.
    async fn read_body(&self, response: Response<Incoming>) -> Result<Vec<u8>, FetchError> {
        let max = self.policy.max_body;
        let headers = response.headers();
        let encoding = content_encoding(headers)?;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        // Raw bytes are capped too (with slack for incompressible gzip), so a stream that
        // decodes to nothing cannot run forever.
        let raw_cap = (max as u64).saturating_add(max as u64 / 16 + 4096);
        let mut sink = CappedSink::new(max);
        if let Some(len) = declared {
            if (encoding == Encoding::Identity && len > max as u64) || len > raw_cap {
                return Err(FetchError::TooLarge { max });
            }
            if encoding == Encoding::Identity {
                sink.buf.reserve(len as usize);
            }
        }
        let mut decoder = match encoding {
            Encoding::Identity => Decoder::Identity(sink),
            Encoding::Gzip => Decoder::Gzip(flate2::write::MultiGzDecoder::new(sink)),
            Encoding::Deflate => Decoder::Deflate(flate2::write::ZlibDecoder::new(sink)),
        };
        let mut body = response.into_body();
        let mut received: u64 = 0;
        let mut speed = SpeedCheck::new(self.policy.low_speed_limit, self.policy.low_speed_window);
        loop {
            let frame = match timeout(self.policy.idle_timeout, body.frame()).await {
                Err(_) => return Err(FetchError::Timeout("idle")),
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(FetchError::Network(format!("reading body: {e}")));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            received += data.len() as u64;
            if received > raw_cap {
                return Err(FetchError::TooLarge { max });
            }
            decoder.write_all(&data).map_err(|e| decode_error(e, max))?;
            speed.check(received)?;
        }
        decoder.finish().map_err(|e| decode_error(e, max))
    }
}

/// The answer to a [`Fetcher::post`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The status code.
    pub status: u16,
    /// The first bytes of the answer's body (up to the excerpt asked for; not decompressed).
    pub excerpt: Vec<u8>,
}

/// Check a URL (the first one or a redirect target) before any connection.
fn check_url(mut url: Url) -> Result<Url, FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(FetchError::SchemeNotAllowed(other.to_string())),
    }
    if url.host().is_none() {
        return Err(FetchError::BadUrl(format!("{url}: no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadUrl(
            "credentials in the URL are not supported".into(),
        ));
    }
    url.set_fragment(None);
    Ok(url)
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Now by the wall clock. `fetch` depends on nothing of ours, so it cannot be given the
/// newsroom's `Clock`; it only reads an HTTP date in `Retry-After` against it.
#[allow(
    clippy::disallowed_methods,
    reason = "fetch has no Clock; a server's HTTP date is read against the wall clock"
)]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

/// `Retry-After` as delay-seconds or an HTTP date (a delay from `now`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// True for a `Content-Type` that cannot be a feed: images, audio, video, fonts, 3-D models,
/// PDF and archives. HTML and `application/octet-stream` pass (feed discovery and sloppy
/// servers).
pub fn feed_content_type_refused(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let top = media.split('/').next().unwrap_or_default();
    matches!(top, "image" | "audio" | "video" | "font" | "model")
        || matches!(
            media.as_str(),
            "application/pdf"
                | "application/zip"
                | "application/x-tar"
                | "application/x-7z-compressed"
                | "application/vnd.rar"
                | "application/wasm"
                | "application/java-archive"
                | "application/x-msdownload"
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

fn content_encoding(headers: &HeaderMap) -> Result<Encoding, FetchError> {
    let mut result = Encoding::Identity;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let value = value
            .to_str()
            .map_err(|_| FetchError::Decode("unreadable Content-Encoding".into()))?;
        for coding in value.split(',').map(|c| c.trim().to_ascii_lowercase()) {
            let this = match coding.as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Encoding::Gzip,
                "deflate" => Encoding::Deflate,
                other => {
                    return Err(FetchError::Decode(format!(
                        "unsupported Content-Encoding {other:?}"
                    )))
                }
            };
            if result != Encoding::Identity {
                return Err(FetchError::Decode(
                    "stacked Content-Encodings are not supported".into(),
                ));
            }
            result = this;
        }
    }
    Ok(result)
}

/// A `Vec` that refuses to grow past `max` bytes.
struct CappedSink {
    buf: Vec<u8>,
    max: usize,
}

/// The marker error a [`CappedSink`] returns when full.
#[derive(Debug)]
struct CapReached;

impl std::fmt::Display for CapReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("body size cap reached")
    }
}

impl std::error::Error for CapReached {}

impl CappedSink {
    fn new(max: usize) -> Self {
        CappedSink {
            buf: Vec::new(),
            max,
        }
    }
}

impl Write for CappedSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.buf.len() + data.len() > self.max {
            return Err(io::Error::other(CapReached));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Decoder {
    Identity(CappedSink),
    Gzip(flate2::write::MultiGzDecoder<CappedSink>),
    Deflate(flate2::write::ZlibDecoder<CappedSink>),
}

impl Decoder {
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Decoder::Identity(sink) => sink.write_all(data),
            Decoder::Gzip(d) => d.write_all(data),
            Decoder::Deflate(d) => d.write_all(data),
        }
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        Ok(match self {
            Decoder::Identity(sink) => sink.buf,
            Decoder::Gzip(d) => d.finish()?.buf,
            Decoder::Deflate(d) => d.finish()?.buf,
        })
    }
}

fn decode_error(e: io::Error, max: usize) -> FetchError {
    let cap = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<CapReached>().is_some());
    if cap {
        FetchError::TooLarge { max }
    } else {
        FetchError::Decode(format!("bad compressed body: {e}"))
    }
}

/// Fails a transfer whose speed stays under `limit` bytes/s over a whole `window`.
struct SpeedCheck {
    limit: u64,
    window: Duration,
    window_start: Instant,
    bytes_at_start: u64,
}

impl SpeedCheck {
    fn new(limit: u64, window: Duration) -> Self {
        SpeedCheck {
            limit,
            window,
            window_start: Instant::now(),
            bytes_at_start: 0,
        }
    }

    fn check(&mut self, received: u64) -> Result<(), FetchError> {
        if self.limit == 0 {
            return Ok(());
        }
        let elapsed = self.window_start.elapsed();
        if elapsed < self.window {
            return Ok(());
        }
        let needed = (self.limit as f64 * elapsed.as_secs_f64()) as u64;
        if received - self.bytes_at_start < needed {
            return Err(FetchError::TooSlow {
                min_bytes_per_sec: self.limit,
            });
        }
        self.window_start = Instant::now();
        self.bytes_at_start = received;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let check = |s: &str| check_url(Url::parse(s).expect("url"));
        assert!(check("https://feeds.example/rss").is_ok());
        assert_eq!(
            check("file:///etc/passwd"),
            Err(FetchError::SchemeNotAllowed("file".into()))
        );
        assert_eq!(
            check("gopher://x/"),
            Err(FetchError::SchemeNotAllowed("gopher".into()))
        );
        assert!(matches!(
            check("http://u:p@feeds.example/"),
            Err(FetchError::BadUrl(_))
        ));
        assert_eq!(
            check("http://feeds.example/a#frag").map(|u| u.to_string()),
            Ok("http://feeds.example/a".to_string())
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(600));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn feed_types() {
        for ok in [
            "application/rss+xml",
            "application/atom+xml; charset=utf-8",
            "text/xml",
            "text/html",
            "application/octet-stream",
            "application/json",
        ] {
            assert!(!feed_content_type_refused(ok), "{ok}");
        }
        for bad in [
            "image/png",
            "IMAGE/JPEG",
            "video/mp4",
            "application/pdf",
            "font/woff2",
        ] {
            assert!(feed_content_type_refused(bad), "{bad}");
        }
    }

    #[test]
    fn encodings() {
        let mut h = HeaderMap::new();
        assert_eq!(content_encoding(&h), Ok(Encoding::Identity));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("GZIP"));
        assert_eq!(content_encoding(&h), Ok(Encoding::Gzip));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert!(matches!(content_encoding(&h), Err(FetchError::Decode(_))));
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("gzip, gzip"),
        );
        assert!(matches!(content_encoding(&h), Err(FetchError::Decode(_))));
    }

    #[test]
    fn capped_gzip_decoding_stops_at_the_cap() {
        use flate2::write::GzEncoder;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 16];
        for _ in 0..256 {
            enc.write_all(&zeros).expect("compress");
        }
        let bomb = enc.finish().expect("finish"); // 16 MiB of zeros
        let mut d = Decoder::Gzip(flate2::write::MultiGzDecoder::new(CappedSink::new(1 << 20)));
        let err = d.write_all(&bomb).expect_err("cap");
        assert_eq!(
            decode_error(err, 1 << 20),
            FetchError::TooLarge { max: 1 << 20 }
        );
    }

    #[test]
    fn default_policy_refuses_loopback_and_private() {
        let f = Fetcher::new(FetchPolicy::default()).expect("fetcher");
        assert_eq!(
            f.allowed("127.0.0.1".parse().expect("ip")),
            Err(AddrClass::Loopback)
        );
        assert_eq!(
            f.allowed("10.0.0.1".parse().expect("ip")),
            Err(AddrClass::Private)
        );
        assert_eq!(f.allowed("93.184.216.34".parse().expect("ip")), Ok(()));
        let f = Fetcher::new(FetchPolicy {
            allow_loopback: true,
            allow_private: true,
            ..FetchPolicy::default()
        })
        .expect("fetcher");
        assert_eq!(f.allowed("127.0.0.1".parse().expect("ip")), Ok(()));
        assert_eq!(f.allowed("10.0.0.1".parse().expect("ip")), Ok(()));
        assert_eq!(
            f.allowed("169.254.169.254".parse().expect("ip")),
            Err(AddrClass::Metadata)
        );
        assert_eq!(
            f.allowed("fe80::1".parse().expect("ip")),
            Err(AddrClass::LinkLocal)
        );
        assert_eq!(
            f.allowed("0.0.0.0".parse().expect("ip")),
            Err(AddrClass::Unspecified)
        );
    }

    #[test]
    fn tls_failures_are_named() {
        let problem = |e: CertificateError| tls_problem(&rustls::Error::InvalidCertificate(e));
        assert_eq!(
            problem(CertificateError::UnknownIssuer),
            TlsProblem::Untrusted
        );
        assert_eq!(
            problem(CertificateError::NotValidForName),
            TlsProblem::WrongName {
                presented: Vec::new()
            }
        );
        assert_eq!(
            problem(CertificateError::NotValidForNameContext {
                expected: rustls::pki_types::ServerName::try_from("feeds.example").expect("name"),
                presented: vec![
                    "DnsName(\"other.example\")".into(),
                    "IpAddress(192.0.2.1)".into(),
                    "DirectoryName".into(),
                ],
            }),
            TlsProblem::WrongName {
                presented: vec![
                    "other.example".into(),
                    "192.0.2.1".into(),
                    "DirectoryName".into()
                ]
            }
        );
        assert_eq!(
            problem(CertificateError::Expired),
            TlsProblem::Expired { not_after: None }
        );
        assert_eq!(
            problem(CertificateError::NotValidYet),
            TlsProblem::NotYetValid { not_before: None }
        );
        assert!(matches!(
            problem(CertificateError::BadSignature),
            TlsProblem::Other(text) if text.contains("BadSignature")
        ));
        assert!(matches!(
            tls_problem(&rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure
            )),
            TlsProblem::Other(text) if text.contains("HandshakeFailure")
        ));
        // rustls's verdict, as tokio-rustls hands it over, is a TLS error; a plain I/O
        // failure during the handshake is a network error.
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(
            tls_error("feeds.example", wrapped),
            FetchError::Tls {
                host: "feeds.example".into(),
                problem: TlsProblem::Untrusted
            }
        );
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(
            tls_error("feeds.example", reset),
            FetchError::Network("TLS with feeds.example: reset by peer".into())
        );
    }

    #[test]
    fn extra_roots_are_added_to_mozillas() {
        let base = root_store(&[]).expect("roots").len();
        assert!(base > 100, "{base}");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().expect("key");
        let pem = params.self_signed(&key).expect("cert").pem();
        let roots = root_store(&[pem.clone(), format!("{pem}\n{pem}")]).expect("roots");
        assert_eq!(roots.len(), base + 3);
    }

    #[test]
    fn bad_policies_are_refused() {
        assert!(Fetcher::new(FetchPolicy {
            max_body: 0,
            ..FetchPolicy::default()
        })
        .is_err());
        assert!(Fetcher::new(FetchPolicy {
            total_timeout: Duration::ZERO,
            ..FetchPolicy::default()
        })
        .is_err());
        assert!(Fetcher::new(FetchPolicy {
            user_agent: "bad\nagent".into(),
            ..FetchPolicy::default()
        })
        .is_err());
    }
}
