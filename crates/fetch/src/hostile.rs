//! A hostile news agency on loopback, for tests (feature `hostile-server`).
//!
//! It speaks just enough HTTP/1.1 by hand to misbehave in the ways a real hostile or broken
//! source would. Every route answers one request and closes the connection. The server and
//! every connection it is serving stop when the [`HostileServer`] is dropped.
//!
//! | route | behaviour |
//! | --- | --- |
//! | `/ok` | a small RSS feed |
//! | `/ok-gzip` | the same feed, `Content-Encoding: gzip` |
//! | `/slow-drip` | 200, then one body byte every 500 ms, forever |
//! | `/slow-headers` | the status line and headers one byte every 500 ms, forever |
//! | `/stall` | 200 headers, then silence |
//! | `/endless` | 200 with no `Content-Length`, an infinite body as fast as possible |
//! | `/huge-headers` | 200 followed by an endless stream of 1 kB header lines |
//! | `/huge-length` | `Content-Length: 1000000000000` |
//! | `/gzip-bomb` | ~1 MB of gzip (`Content-Encoding: gzip`) inflating to 1 GiB of zeros |
//! | `/redirect-loop` | 302 to itself |
//! | `/redirect-chain/N` | 302 to `/redirect-chain/N-1`; `/redirect-chain/0` to `/ok` |
//! | `/redirect-private` | 302 to `http://10.0.0.1/feed.xml` |
//! | `/redirect-metadata` | 302 to `http://169.254.169.254/latest/meta-data/` |
//! | `/redirect-file` | 302 to `file:///etc/passwd` |
//! | `/redirect-localhost` | 302 to `http://localhost:PORT/ok` (a name, resolved) |
//! | `/billion-laughs` | an RSS document with nested entity expansion |
//! | `/xxe` | an RSS document with an external entity on `file:///etc/passwd` |
//! | `/bad-utf8` | an RSS document declared UTF-8 with invalid UTF-8 bytes in it |
//! | `/wrong-type` | the RSS feed served as `image/png` |
//! | `/429` | 429 with `Retry-After: 120` |
//! | `/503` | 503 with no `Retry-After` |
//! | `/etag` | the feed with an ETag and Last-Modified; 304 when `If-None-Match` matches |
//! | anything else | 404 |

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Size the gzip bomb inflates to.
pub const GZIP_BOMB_INFLATED: u64 = 1 << 30;
/// The ETag the `/etag` route serves.
pub const ETAG: &str = "\"v1\"";
/// The Last-Modified the `/etag` route serves.
pub const LAST_MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

/// The small RSS feed `/ok` serves.
pub const OK_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Hostile Agency</title><link>http://agency.test/</link>
<description>Wire</description>
<item><title>Calm news</title><link>http://agency.test/1</link><guid>agency-1</guid>
<pubDate>Wed, 21 Oct 2015 07:28:00 GMT</pubDate><description>Nothing happened.</description></item>
</channel></rss>
"#;

/// The billion laughs document `/billion-laughs` serves.
pub const BILLION_LAUGHS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>http://agency.test/</link>
<description>laughs</description>
<item><title>&lol9;</title><guid>laughs-1</guid><description>&lol9;</description></item>
</channel></rss>
"#;

/// The XXE document `/xxe` serves.
pub const XXE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
 <!ENTITY remote SYSTEM "http://169.254.169.254/latest/meta-data/">
]>
<rss version="2.0"><channel><title>XXE</title><link>http://agency.test/</link>
<description>&xxe;</description>
<item><title>&xxe;</title><guid>xxe-1</guid><description>&remote;</description></item>
</channel></rss>
"#;

/// The bytes `/bad-utf8` serves: declared UTF-8, with invalid sequences in a title.
pub fn bad_utf8() -> Vec<u8> {
    let mut doc = Vec::new();
    doc.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Bad ",
    );
    doc.extend_from_slice(&[
        0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x20, 0xf0, 0x28, 0x8c, 0xbc,
    ]);
    doc.extend_from_slice(
        b" bytes</title><link>http://agency.test/</link><description>x</description>\n<item><title>\xc0\xaf</title><guid>bad-1</guid></item></channel></rss>\n",
    );
    doc
}

/// The gzip bomb `/gzip-bomb` serves: [`GZIP_BOMB_INFLATED`] zero bytes, compressed (about
/// 1 MB). Built once per process, on first use, in a streaming way (never 1 GiB in memory).
pub fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        let mut written = 0u64;
        let mut ok = true;
        while written < GZIP_BOMB_INFLATED && ok {
            ok = enc.write_all(&zeros).is_ok();
            written += zeros.len() as u64;
        }
        enc.finish().unwrap_or_default()
    })
}

/// The running server. Dropping it stops the server and every connection it serves.
#[derive(Debug)]
pub struct HostileServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileServer {
    /// Bind 127.0.0.1 on a free port and serve in the current Tokio runtime. The gzip bomb
    /// is built first (once per process, a second or two), so that `/gzip-bomb` answers at
    /// once.
    pub async fn start() -> io::Result<Self> {
        tokio::task::spawn_blocking(gzip_bomb)
            .await
            .map_err(io::Error::other)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                while conns.try_join_next().is_some() {}
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                conns.spawn(async move {
                    let _ = serve(stream, addr).await;
                });
            }
        });
        Ok(HostileServer { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

struct Req {
    path: String,
    headers: HashMap<String, String>,
}

async fn read_request(stream: &mut TcpStream) -> io::Result<Req> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if buf.len() > 16 * 1024 {
            return Err(io::Error::other("request head too large"));
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .map_err(|_| io::Error::other("request timeout"))??;
        if n == 0 {
            return Err(io::Error::other("closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Req { path, headers })
}

fn head(status: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

async fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> io::Result<()> {
    let mut out = head(
        status,
        &[
            ("Content-Type", ctype.to_string()),
            ("Content-Length", body.len().to_string()),
        ],
    );
    out.extend_from_slice(body);
    stream.write_all(&out).await?;
    stream.shutdown().await
}

async fn redirect(stream: &mut TcpStream, location: &str) -> io::Result<()> {
    let out = head(
        "302 Found",
        &[
            ("Location", location.to_string()),
            ("Content-Length", "0".to_string()),
        ],
    );
    stream.write_all(&out).await?;
    stream.shutdown().await
}

const RSS: &str = "application/rss+xml; charset=utf-8";
/// Upper bound on how long any "forever" route runs, should a client never hang up.
const FOREVER: Duration = Duration::from_secs(600);

async fn serve(mut stream: TcpStream, addr: SocketAddr) -> io::Result<()> {
    let req = read_request(&mut stream).await?;
    let path = req.path.split('?').next().unwrap_or("/").to_string();
    match path.as_str() {
        "/ok" => respond(&mut stream, "200 OK", RSS, OK_FEED.as_bytes()).await,
        "/content-language" => {
            let h = [
                ("Content-Type", RSS.to_string()),
                ("Content-Language", "de-CH".to_string()),
                ("Content-Length", OK_FEED.len().to_string()),
            ];
            let mut out = head("200 OK", &h);
            out.extend_from_slice(OK_FEED.as_bytes());
            stream.write_all(&out).await?;
            stream.shutdown().await
        }
        "/ok-gzip" => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(OK_FEED.as_bytes())?;
            let body = enc.finish()?;
            let mut out = head(
                "200 OK",
                &[
                    ("Content-Type", RSS.to_string()),
                    ("Content-Encoding", "gzip".to_string()),
                    ("Content-Length", body.len().to_string()),
                ],
            );
            out.extend_from_slice(&body);
            stream.write_all(&out).await
        }
        "/slow-drip" => {
            stream
                .write_all(&head("200 OK", &[("Content-Type", RSS.to_string())]))
                .await?;
            let drip = async {
                for byte in OK_FEED.bytes().cycle() {
                    stream.write_all(&[byte]).await?;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok::<(), io::Error>(())
            };
            let _ = tokio::time::timeout(FOREVER, drip).await;
            Ok(())
        }
        "/slow-headers" => {
            let status = head("200 OK", &[("Content-Type", RSS.to_string())]);
            let drip = async {
                for byte in status.iter().cycle().take(1 << 20) {
                    stream.write_all(&[*byte]).await?;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok::<(), io::Error>(())
            };
            let _ = tokio::time::timeout(FOREVER, drip).await;
            Ok(())
        }
        "/stall" => {
            stream
                .write_all(&head("200 OK", &[("Content-Type", RSS.to_string())]))
                .await?;
            stream.write_all(b"<?xml").await?;
            tokio::time::sleep(FOREVER).await;
            Ok(())
        }
        "/endless" => {
            stream
                .write_all(&head("200 OK", &[("Content-Type", RSS.to_string())]))
                .await?;
            let chunk = b"<item><title>more</title></item>\n".repeat(512);
            let flood = async { while stream.write_all(&chunk).await.is_ok() {} };
            let _ = tokio::time::timeout(FOREVER, flood).await;
            Ok(())
        }
        "/huge-headers" => {
            let out = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n".to_vec();
            let junk = format!("X-Junk: {}\r\n", "j".repeat(1000));
            let flood = async {
                stream.write_all(&out).await?;
                for _ in 0..100_000 {
                    stream.write_all(junk.as_bytes()).await?;
                }
                Ok::<(), io::Error>(())
            };
            let _ = tokio::time::timeout(FOREVER, flood).await;
            Ok(())
        }
        "/huge-length" => {
            stream
                .write_all(&head(
                    "200 OK",
                    &[
                        ("Content-Type", RSS.to_string()),
                        ("Content-Length", "1000000000000".to_string()),
                    ],
                ))
                .await?;
            let _ = stream.write_all(OK_FEED.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        }
        "/gzip-bomb" => {
            let bomb = tokio::task::spawn_blocking(gzip_bomb)
                .await
                .map_err(io::Error::other)?;
            let out = head(
                "200 OK",
                &[
                    ("Content-Type", RSS.to_string()),
                    ("Content-Encoding", "gzip".to_string()),
                    ("Content-Length", bomb.len().to_string()),
                ],
            );
            stream.write_all(&out).await?;
            stream.write_all(bomb).await?;
            stream.shutdown().await
        }
        "/redirect-loop" => redirect(&mut stream, "/redirect-loop").await,
        "/redirect-private" => redirect(&mut stream, "http://10.0.0.1/feed.xml").await,
        "/redirect-metadata" => {
            redirect(&mut stream, "http://169.254.169.254/latest/meta-data/").await
        }
        "/redirect-file" => redirect(&mut stream, "file:///etc/passwd").await,
        "/redirect-localhost" => {
            let to = format!("http://localhost:{}/ok", addr.port());
            redirect(&mut stream, &to).await
        }
        p if p.starts_with("/redirect-chain/") => {
            let n: u32 = p["/redirect-chain/".len()..].parse().unwrap_or(0);
            let to = if n == 0 {
                "/ok".to_string()
            } else {
                format!("/redirect-chain/{}", n - 1)
            };
            redirect(&mut stream, &to).await
        }
        "/billion-laughs" => respond(&mut stream, "200 OK", RSS, BILLION_LAUGHS.as_bytes()).await,
        "/xxe" => respond(&mut stream, "200 OK", RSS, XXE.as_bytes()).await,
        "/bad-utf8" => respond(&mut stream, "200 OK", RSS, &bad_utf8()).await,
        "/wrong-type" => respond(&mut stream, "200 OK", "image/png", OK_FEED.as_bytes()).await,
        "/429" => {
            let out = head(
                "429 Too Many Requests",
                &[
                    ("Retry-After", "120".to_string()),
                    ("Content-Length", "0".to_string()),
                ],
            );
            stream.write_all(&out).await?;
            stream.shutdown().await
        }
        "/503" => {
            respond(
                &mut stream,
                "503 Service Unavailable",
                "text/plain",
                b"down",
            )
            .await
        }
        "/etag" => {
            let matches = req
                .headers
                .get("if-none-match")
                .is_some_and(|v| v.split(',').any(|t| t.trim() == ETAG))
                || (!req.headers.contains_key("if-none-match")
                    && req
                        .headers
                        .get("if-modified-since")
                        .is_some_and(|v| v == LAST_MODIFIED));
            let validators = [
                ("ETag", ETAG.to_string()),
                ("Last-Modified", LAST_MODIFIED.to_string()),
            ];
            if matches {
                let mut h = validators.to_vec();
                h.push(("Content-Length", "0".to_string()));
                stream.write_all(&head("304 Not Modified", &h)).await?;
                stream.shutdown().await
            } else {
                let mut h = validators.to_vec();
                h.push(("Content-Type", RSS.to_string()));
                h.push(("Content-Length", OK_FEED.len().to_string()));
                let mut out = head("200 OK", &h);
                out.extend_from_slice(OK_FEED.as_bytes());
                stream.write_all(&out).await?;
                stream.shutdown().await
            }
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found").await,
    }
}

/// An HTTPS feed on 127.0.0.1 under a private certificate authority made at start (rcgen): the
/// fetcher trusts it only when given [`TlsFeedServer::ca_pem`] in
/// [`crate::FetchPolicy::extra_root_certs`]. Every request gets the feed. Dropping it stops it.
pub struct TlsFeedServer {
    addr: SocketAddr,
    ca_pem: String,
    task: JoinHandle<()>,
}

impl Drop for TlsFeedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFeedServer {
    /// Starts serving `body` as `content_type` over HTTPS for the names `localhost` and
    /// `127.0.0.1`.
    pub async fn start(body: &str, content_type: &str) -> io::Result<Self> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        use std::sync::Arc;
        let fail = |e: &dyn std::fmt::Display| io::Error::other(e.to_string());
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(&e))?;
        ca.distinguished_name
            .push(DnType::CommonName, "newsdesk test agency CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(|e| fail(&e))?)
            .map_err(|e| fail(&e))?;
        let mut leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|e| fail(&e))?;
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().map_err(|e| fail(&e))?;
        let cert = leaf.signed_by(&key, &issuer).map_err(|e| fail(&e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(&e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| fail(&e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let response = response.clone();
                conns.spawn(async move {
                    let Ok(Ok(mut tls)) =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.len() < 65_536 {
                        match tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await
                        {
                            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Ok(TlsFeedServer {
            addr,
            ca_pem: issuer.pem(),
            task,
        })
    }

    /// `https://localhost:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// The private CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}
