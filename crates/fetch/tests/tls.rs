//! The fetcher against real TLS on loopback: a tokio-rustls server with certificates made at
//! test time (rcgen, ring), answering by a hand-written HTTP/1.1 responder. A private CA
//! trusted through `FetchPolicy::extra_root_certs` works, including conditional GET; an
//! untrusted, wrongly named, expired or not yet valid certificate, and a server that never
//! finishes the handshake, end in a clear error in bounded time; redirects from HTTPS are
//! checked like any other hop; bad PEM is a configuration error.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use newsdesk_fetch::{
    AddrClass, Conditional, FetchError, FetchPolicy, Fetched, Fetcher, TlsProblem,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ProtocolVersion, ServerConfig, SupportedProtocolVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Private Agency</title><link>https://agency.test/</link>
<description>Wire behind a private CA</description>
<item><title>Encrypted news</title><guid>private-1</guid></item>
</channel></rss>
"#;
const RSS: &str = "application/rss+xml; charset=utf-8";
const ETAG: &str = "\"tls-v1\"";
const LAST_MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
/// 2001-01-01T00:00:00Z, the end of the expired certificate.
const Y2001: u64 = 978_307_200;
/// 2090-01-01T00:00:00Z, the start of the not-yet-valid certificate.
const Y2090: u64 = 3_786_912_000;

// ---------------------------------------------------------------------------------------
// Certificates

/// A private certificate authority, made fresh for each test.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate chain and its key.
struct ServerCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

#[derive(Clone, Copy)]
enum Validity {
    Current,
    /// Valid 2000-01-01 .. 2001-01-01.
    Expired,
    /// Valid from 2090-01-01.
    NotYet,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, "newsdesk tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    fn issue(&self, names: &[&str], validity: Validity) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        match validity {
            Validity::Current => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            Validity::NotYet => {
                params.not_before = rcgen::date_time_ymd(2090, 1, 1);
                params.not_after = rcgen::date_time_ymd(2091, 1, 1);
            }
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// A self-signed certificate for localhost and 127.0.0.1 (what a careless server has).
fn self_signed() -> ServerCert {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    ServerCert {
        chain: vec![certified.cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        )),
    }
}

fn server_config(
    cert: &ServerCert,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(cert.chain.clone(), cert.key.clone_key())
            .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn tls_server_config(cert: &ServerCert) -> Arc<ServerConfig> {
    server_config(cert, rustls::ALL_VERSIONS)
}

// ---------------------------------------------------------------------------------------
// The server

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
    version: Option<ProtocolVersion>,
    path: String,
    headers: HashMap<String, String>,
}

#[derive(Default)]
struct State {
    accepted: AtomicUsize,
    redirects: Mutex<HashMap<String, String>>,
    requests: Mutex<Vec<Seen>>,
    handshake_errors: Mutex<Vec<String>>,
}

#[derive(Clone)]
enum Mode {
    /// HTTPS with this configuration.
    Tls(TlsAcceptor),
    /// Plain HTTP.
    Plain,
    /// Accept TCP, read whatever comes, never answer (a handshake that never completes).
    Silent,
}

/// A server on 127.0.0.1. Dropping it stops it and every connection it serves.
struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                while conns.try_join_next().is_some() {}
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                st.accepted.fetch_add(1, Ordering::SeqCst);
                conns.spawn(serve(tcp, mode.clone(), st.clone()));
            }
        });
        Server { addr, state, task }
    }

    async fn tls(config: Arc<ServerConfig>) -> Server {
        Server::start(Mode::Tls(TlsAcceptor::from(config))).await
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://HOST:PORT{path}`.
    fn https(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port())
    }

    /// Answer `from` with a 302 to `to`.
    fn redirect(&self, from: &str, to: &str) {
        self.state
            .redirects
            .lock()
            .unwrap()
            .insert(from.into(), to.into());
    }

    fn requests(&self) -> Vec<Seen> {
        self.state.requests.lock().unwrap().clone()
    }

    fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

async fn serve(tcp: TcpStream, mode: Mode, state: Arc<State>) {
    match mode {
        Mode::Plain => {
            let _ = respond(tcp, None, None, None, &state).await;
        }
        Mode::Silent => {
            let mut tcp = tcp;
            let mut buf = [0u8; 1024];
            let hold = async {
                while let Ok(n) = tcp.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = timeout(Duration::from_secs(30), hold).await;
        }
        Mode::Tls(acceptor) => match timeout(Duration::from_secs(5), acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                let (_, conn) = tls.get_ref();
                let sni = conn.server_name().map(str::to_string);
                let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
                let version = conn.protocol_version();
                let _ = respond(tls, sni, alpn, version, &state).await;
            }
            Ok(Err(e)) => state.handshake_errors.lock().unwrap().push(e.to_string()),
            Err(_) => state
                .handshake_errors
                .lock()
                .unwrap()
                .push("timed out".into()),
        },
    }
}

/// Read one request head and answer it: a configured redirect, `/feed` (with ETag and
/// Last-Modified; 304 when `If-None-Match` matches), or 404.
async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
    version: Option<ProtocolVersion>,
    state: &State,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::other("request timeout"))??;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let redirect = state.redirects.lock().unwrap().get(&path).cloned();
    let not_modified = headers.get("if-none-match").map(String::as_str) == Some(ETAG);
    state.requests.lock().unwrap().push(Seen {
        sni,
        alpn,
        version,
        path: path.clone(),
        headers,
    });
    let response = if let Some(location) = redirect {
        format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    } else if path == "/feed" && not_modified {
        format!("HTTP/1.1 304 Not Modified\r\nETag: {ETAG}\r\nConnection: close\r\n\r\n")
    } else if path == "/feed" {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {RSS}\r\nETag: {ETAG}\r\nLast-Modified: {LAST_MODIFIED}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{FEED}",
            FEED.len()
        )
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

// ---------------------------------------------------------------------------------------
// The client side

/// Short limits, loopback allowed, `extra` CA certificates trusted.
fn policy(extra: Vec<String>) -> FetchPolicy {
    FetchPolicy {
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(4),
        idle_timeout: Duration::from_secs(1),
        low_speed_limit: 100,
        low_speed_window: Duration::from_secs(1),
        max_body: 1 << 20,
        allow_loopback: true,
        extra_root_certs: extra,
        user_agent: "newsdesk-tls-test".into(),
        ..FetchPolicy::default()
    }
}

fn trusting(ca: &TestCa) -> Fetcher {
    Fetcher::new(policy(vec![ca.pem()])).unwrap()
}

/// Longest any one case may run before the test gives up (a runaway guard, not a speed check:
/// which limit stopped a fetch is asserted from its error kind).
const RUNAWAY: Duration = Duration::from_secs(30);

/// Fetch and expect an error; returns it with the time it took.
async fn expect_err(f: &Fetcher, url: &str) -> (FetchError, Duration) {
    let start = Instant::now();
    let result = tokio::time::timeout(RUNAWAY, f.get(url, &Conditional::default()))
        .await
        .unwrap_or_else(|_| panic!("{url}: still running after {RUNAWAY:?}"));
    let elapsed = start.elapsed();
    let err = match result {
        Err(e) => e,
        Ok(other) => panic!("{url}: expected an error, got {other:?}"),
    };
    eprintln!("{url}: {err} after {elapsed:?}");
    (err, elapsed)
}

fn at(secs: u64) -> Option<SystemTime> {
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

// ---------------------------------------------------------------------------------------
// (a) A private CA, trusted through the policy

#[tokio::test]
async fn private_ca_trusted_by_policy_serves_the_feed() {
    let ca = TestCa::new("Agency Private CA");
    let cert = ca.issue(&["localhost", "127.0.0.1"], Validity::Current);
    let server = Server::tls(tls_server_config(&cert)).await;
    let f = trusting(&ca);

    // By name: SNI sent, certificate checked against the DNS name.
    let url = server.https("localhost", "/feed");
    match f.get(&url, &Conditional::default()).await.unwrap() {
        Fetched::Ok {
            body,
            content_type,
            etag,
            last_modified,
            final_url,
            ..
        } => {
            assert_eq!(body, FEED.as_bytes());
            assert_eq!(content_type.as_deref(), Some(RSS));
            assert_eq!(etag.as_deref(), Some(ETAG));
            assert_eq!(last_modified.as_deref(), Some(LAST_MODIFIED));
            assert_eq!(final_url, url);
        }
        Fetched::NotModified => panic!("first fetch cannot be 304"),
    }
    // By address: no SNI (not allowed for IP addresses), checked against the IP SAN.
    match f
        .get_feed(&server.https("127.0.0.1", "/feed"), &Conditional::default())
        .await
    {
        Ok(Fetched::Ok { body, .. }) => assert_eq!(body, FEED.as_bytes()),
        other => panic!("expected the feed, got {other:?}"),
    }

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].sni.as_deref(), Some("localhost"));
    assert_eq!(seen[1].sni, None);
    for s in &seen {
        assert_eq!(s.path, "/feed");
        assert_eq!(s.alpn.as_deref(), Some(&b"http/1.1"[..]));
        assert_eq!(s.version, Some(ProtocolVersion::TLSv1_3));
        assert_eq!(
            s.headers.get("user-agent").map(String::as_str),
            Some("newsdesk-tls-test")
        );
        assert_eq!(
            s.headers.get("accept-encoding").map(String::as_str),
            Some("gzip")
        );
    }
    assert_eq!(
        seen[0].headers.get("host"),
        Some(&format!("localhost:{}", server.port()))
    );
    assert_eq!(
        seen[1].headers.get("host"),
        Some(&format!("127.0.0.1:{}", server.port()))
    );
    assert!(server.state.handshake_errors.lock().unwrap().is_empty());
}

#[tokio::test]
async fn conditional_get_over_tls_returns_not_modified() {
    let ca = TestCa::new("Agency Private CA");
    let cert = ca.issue(&["localhost"], Validity::Current);
    let server = Server::tls(tls_server_config(&cert)).await;
    let f = trusting(&ca);
    let url = server.https("localhost", "/feed");
    let (etag, last_modified) = match f.get(&url, &Conditional::default()).await.unwrap() {
        Fetched::Ok {
            etag,
            last_modified,
            ..
        } => (etag, last_modified),
        Fetched::NotModified => panic!("first fetch cannot be 304"),
    };
    let cond = Conditional {
        etag,
        last_modified,
    };
    assert_eq!(f.get(&url, &cond).await.unwrap(), Fetched::NotModified);
    let stale = Conditional {
        etag: Some("\"tls-v0\"".into()),
        last_modified: None,
    };
    assert!(matches!(
        f.get(&url, &stale).await.unwrap(),
        Fetched::Ok { .. }
    ));
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].headers.get("if-none-match"), None);
    assert_eq!(
        seen[1].headers.get("if-none-match").map(String::as_str),
        Some(ETAG)
    );
    assert_eq!(
        seen[1].headers.get("if-modified-since").map(String::as_str),
        Some(LAST_MODIFIED)
    );
    assert_eq!(
        seen[2].headers.get("if-none-match").map(String::as_str),
        Some("\"tls-v0\"")
    );
}

#[tokio::test]
async fn tls12_only_server_and_several_extra_roots() {
    let ca = TestCa::new("Agency Private CA");
    let other = TestCa::new("Another Private CA");
    let cert = ca.issue(&["localhost"], Validity::Current);
    let server = Server::tls(server_config(&cert, &[&rustls::version::TLS12])).await;
    // Two CAs in one PEM bundle, with text around them, and a third entry.
    let bundle = format!(
        "# agency roots\n{}\nsome comment\n{}",
        other.pem(),
        ca.pem()
    );
    let third = TestCa::new("Third CA");
    let f = Fetcher::new(policy(vec![bundle, third.pem()])).unwrap();
    match f
        .get(&server.https("localhost", "/feed"), &Conditional::default())
        .await
        .unwrap()
    {
        Fetched::Ok { body, .. } => assert_eq!(body, FEED.as_bytes()),
        Fetched::NotModified => panic!("unexpected 304"),
    }
    assert_eq!(server.requests()[0].version, Some(ProtocolVersion::TLSv1_2));
}

#[tokio::test]
async fn https_redirect_within_the_private_ca_is_followed() {
    let ca = TestCa::new("Agency Private CA");
    let cert = ca.issue(&["localhost"], Validity::Current);
    let server = Server::tls(tls_server_config(&cert)).await;
    server.redirect("/old", "/feed");
    server.redirect("/elsewhere", &server.https("localhost", "/old"));
    let f = trusting(&ca);
    match f
        .get(
            &server.https("localhost", "/elsewhere"),
            &Conditional::default(),
        )
        .await
        .unwrap()
    {
        Fetched::Ok {
            body, final_url, ..
        } => {
            assert_eq!(body, FEED.as_bytes());
            assert_eq!(final_url, server.https("localhost", "/feed"));
        }
        Fetched::NotModified => panic!("unexpected 304"),
    }
    let paths: Vec<String> = server.requests().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/elsewhere", "/old", "/feed"]);
}

// ---------------------------------------------------------------------------------------
// (b) Untrusted certificates

#[tokio::test]
async fn untrusted_certificates_are_refused_clearly() {
    // A self-signed certificate, with only Mozilla's roots trusted.
    let server = Server::tls(tls_server_config(&self_signed())).await;
    let f = Fetcher::new(policy(Vec::new())).unwrap();
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "localhost".into(),
            problem: TlsProblem::Untrusted,
        }
    );
    assert_eq!(
        err.to_string(),
        "TLS with localhost: certificate not trusted (self-signed, or its issuer is not a trusted CA)"
    );
    // The same by address.
    let (err, _) = expect_err(&f, &server.https("127.0.0.1", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "127.0.0.1".into(),
            problem: TlsProblem::Untrusted,
        }
    );

    // A private CA's certificate, with a different private CA trusted.
    let ca = TestCa::new("Agency Private CA");
    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost"], Validity::Current),
    ))
    .await;
    let f = trusting(&TestCa::new("Some Other CA"));
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert!(
        matches!(
            err,
            FetchError::Tls {
                problem: TlsProblem::Untrusted,
                ..
            }
        ),
        "{err}"
    );
    // Nothing was served over a refused handshake.
    assert!(server.requests().is_empty());
}

// ---------------------------------------------------------------------------------------
// (c) The wrong name

#[tokio::test]
async fn certificate_for_another_name_is_refused() {
    let ca = TestCa::new("Agency Private CA");
    let f = trusting(&ca);
    let server = Server::tls(tls_server_config(
        &ca.issue(&["feeds.example"], Validity::Current),
    ))
    .await;
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "localhost".into(),
            problem: TlsProblem::WrongName {
                presented: vec!["feeds.example".into()],
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "TLS with localhost: certificate not valid for this name (it is for feeds.example)"
    );

    // A certificate for the name "localhost" does not cover the address 127.0.0.1.
    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost"], Validity::Current),
    ))
    .await;
    let (err, _) = expect_err(&f, &server.https("127.0.0.1", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "127.0.0.1".into(),
            problem: TlsProblem::WrongName {
                presented: vec!["localhost".into()],
            },
        }
    );
    // And one for 127.0.0.1 does not cover "localhost".
    let server = Server::tls(tls_server_config(
        &ca.issue(&["127.0.0.1"], Validity::Current),
    ))
    .await;
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert_eq!(
        err.to_string(),
        "TLS with localhost: certificate not valid for this name (it is for 127.0.0.1)"
    );
}

// ---------------------------------------------------------------------------------------
// (d) Expired and not yet valid

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    let ca = TestCa::new("Agency Private CA");
    let f = trusting(&ca);
    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost"], Validity::Expired),
    ))
    .await;
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "localhost".into(),
            problem: TlsProblem::Expired {
                not_after: at(Y2001),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "TLS with localhost: certificate expired (on Mon, 01 Jan 2001 00:00:00 GMT)"
    );

    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost"], Validity::NotYet),
    ))
    .await;
    let (err, _) = expect_err(&f, &server.https("localhost", "/feed")).await;
    assert_eq!(
        err,
        FetchError::Tls {
            host: "localhost".into(),
            problem: TlsProblem::NotYetValid {
                not_before: at(Y2090),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "TLS with localhost: certificate not valid yet (valid from Sun, 01 Jan 2090 00:00:00 GMT)"
    );
}

// ---------------------------------------------------------------------------------------
// (e) A handshake that never completes

#[tokio::test]
async fn a_handshake_that_never_completes_times_out() {
    let server = Server::start(Mode::Silent).await;
    let ca = TestCa::new("Agency Private CA");
    let f = trusting(&ca); // connect_timeout 1 s, total 4 s
    let url = server.https("127.0.0.1", "/feed");
    let (err, elapsed) = expect_err(&f, &url).await;
    assert_eq!(err, FetchError::Timeout("tls handshake"));
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(server.accepted(), 1);

    // A total time-out shorter than the handshake's ends it sooner.
    let f = Fetcher::new(FetchPolicy {
        connect_timeout: Duration::from_secs(3),
        total_timeout: Duration::from_millis(500),
        ..policy(vec![ca.pem()])
    })
    .unwrap();
    let (err, elapsed) = expect_err(&f, &url).await;
    assert_eq!(err, FetchError::Timeout("total"));
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------
// (f) Redirects out of HTTPS, and loopback without the allowance

/// The redirect policy: an `https` → `http` redirect is not refused for being a downgrade
/// (the fetcher follows it like any other hop, as curl and browsers do), but its target is
/// checked again like a first URL: scheme, then the resolved address against the policy.
#[tokio::test]
async fn redirects_from_https_are_checked_like_any_hop() {
    let ca = TestCa::new("Agency Private CA");
    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost", "127.0.0.1"], Validity::Current),
    ))
    .await;
    let plain = Server::start(Mode::Plain).await;
    let plain_url = format!("http://127.0.0.1:{}/feed", plain.port());
    server.redirect("/to-private", "http://10.0.0.1/feed.xml");
    server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/");
    server.redirect("/to-file", "file:///etc/passwd");
    server.redirect("/to-plain-loopback", &plain_url);

    // Blocked addresses are refused before any connection, even with `allow_private`.
    let f = trusting(&ca);
    let (err, _) = expect_err(&f, &server.https("localhost", "/to-private")).await;
    assert_eq!(
        err,
        FetchError::BlockedAddress {
            host: "10.0.0.1".into(),
            addr: "10.0.0.1".parse().unwrap(),
            class: AddrClass::Private,
        }
    );
    let f_private = Fetcher::new(FetchPolicy {
        allow_private: true,
        ..policy(vec![ca.pem()])
    })
    .unwrap();
    let (err, _) = expect_err(&f_private, &server.https("localhost", "/to-metadata")).await;
    assert_eq!(
        err,
        FetchError::BlockedAddress {
            host: "169.254.169.254".into(),
            addr: "169.254.169.254".parse().unwrap(),
            class: AddrClass::Metadata,
        }
    );
    let (err, _) = expect_err(&f, &server.https("localhost", "/to-file")).await;
    assert_eq!(err, FetchError::SchemeNotAllowed("file".into()));

    // With loopback allowed, the downgrade to plain HTTP on loopback is followed.
    match f
        .get(
            &server.https("localhost", "/to-plain-loopback"),
            &Conditional::default(),
        )
        .await
        .unwrap()
    {
        Fetched::Ok {
            body, final_url, ..
        } => {
            assert_eq!(body, FEED.as_bytes());
            assert_eq!(final_url, plain_url);
        }
        Fetched::NotModified => panic!("unexpected 304"),
    }
    assert_eq!(plain.requests().len(), 1);
}

/// Without `allow_loopback`, an HTTPS URL on loopback is refused before connecting (no TCP
/// connection, no handshake), however its certificate would have checked out; the same
/// holds for every redirect hop, since each is resolved and checked the same way.
#[tokio::test]
async fn https_on_loopback_without_the_allowance_is_refused_before_connecting() {
    let ca = TestCa::new("Agency Private CA");
    let server = Server::tls(tls_server_config(
        &ca.issue(&["localhost", "127.0.0.1"], Validity::Current),
    ))
    .await;
    let f = Fetcher::new(FetchPolicy {
        allow_loopback: false,
        ..policy(vec![ca.pem()])
    })
    .unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let (err, _) = expect_err(&f, &server.https(host, "/feed")).await;
        match err {
            FetchError::BlockedAddress {
                host: h,
                addr,
                class,
            } => {
                assert_eq!(h, host);
                assert!(addr.is_loopback());
                assert_eq!(class, AddrClass::Loopback);
            }
            other => panic!("expected a refusal, got {other}"),
        }
    }
    // Give a stray connection time to show up, should there be one.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.accepted(), 0);
}

// ---------------------------------------------------------------------------------------
// Bad PEM in the policy

#[test]
fn bad_extra_root_certs_are_configuration_errors() {
    let ca = TestCa::new("Agency Private CA");
    let config_err = |extra: Vec<String>| match Fetcher::new(policy(extra)) {
        Err(FetchError::Config(msg)) => msg,
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("expected a configuration error"),
    };
    let key_pem = KeyPair::generate().unwrap().serialize_pem();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![String::new()],
            "extra_root_certs[0]: no PEM certificate found",
        ),
        (
            vec!["not a certificate at all".into()],
            "extra_root_certs[0]: no PEM certificate found",
        ),
        (
            vec![
                ca.pem(),
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            ],
            "extra_root_certs[1]: bad base64 in a PEM block",
        ),
        (
            vec!["-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n".into()],
            "extra_root_certs[0]: a PEM block is not closed (no -----END CERTIFICATE----- line)",
        ),
        (
            vec![
                "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n".into(),
            ],
            "extra_root_certs[0]: certificate 1 is not a usable X.509 certificate",
        ),
        (
            vec![format!("{}{key_pem}", ca.pem())],
            "extra_root_certs[0]: holds a PRIVATE KEY block; only CERTIFICATE blocks belong here",
        ),
        (
            vec!["-----BEGIN CERTIFICATE----\nAAAA\n-----END CERTIFICATE-----\n".into()],
            "extra_root_certs[0]: malformed PEM line",
        ),
    ];
    for (extra, expected) in cases {
        let msg = config_err(extra);
        eprintln!("{msg}");
        assert!(
            msg.starts_with(expected),
            "{msg:?} should start with {expected:?}"
        );
        let shown = FetchError::Config(msg).to_string();
        assert!(
            shown.starts_with("fetcher configuration: extra_root_certs["),
            "{shown}"
        );
    }
    // A good entry, with comments around the block, is accepted.
    assert!(Fetcher::new(policy(vec![format!("Agency CA\n{}\n", ca.pem())])).is_ok());
}
