//! Helpers shared by the integration tests: temporary folders, the SMTP sink child process and
//! a small MIME reader for checking what was sent.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A folder under cargo's test scratch space, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    #[allow(
        clippy::disallowed_methods,
        reason = "a unique folder name, not a time any code reads"
    )]
    pub fn new(label: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "newsdesk-mail-{label}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tests/smtp_sink.py` running as a child process; killed on drop, even when a test panics.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub inbox: TempDir,
    log: PathBuf,
    _log_dir: TempDir,
}

const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
const READY_WITHIN: Duration = Duration::from_secs(15);

impl SmtpSink {
    /// Starts the sink on a free loopback port and waits (bounded) until it accepts connections.
    /// Panics with a clear message when python3 or aiosmtpd is missing.
    pub fn start(auth: Option<&str>) -> Self {
        Self::start_with(auth, &[])
    }

    /// [`SmtpSink::start`] with more arguments for the sink (`--close-after K`).
    pub fn start_with(auth: Option<&str>, extra: &[&str]) -> Self {
        let inbox = TempDir::new("inbox");
        let log_dir = TempDir::new("sinklog");
        let log = log_dir.path().join("stderr.txt");
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.arg(SINK)
            .arg(port.to_string())
            .arg(inbox.path())
            .args(["--seconds", "60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(auth) = auth {
            cmd.args(["--auth", auth]);
        }
        cmd.args(extra);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("could not start python3 (needed for the SMTP sink {SINK}): {e}")
        });
        let mut sink = Self {
            child,
            port,
            inbox,
            log,
            _log_dir: log_dir,
        };
        sink.wait_until_ready();
        sink
    }

    fn wait_until_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let stderr = std::fs::read_to_string(&self.log).unwrap_or_default();
                if status.code() == Some(3) {
                    panic!(
                        "the SMTP sink needs the Python package aiosmtpd: run \
                         `pip install aiosmtpd==1.4.6`\n{stderr}"
                    );
                }
                panic!("the SMTP sink {SINK} exited early ({status}):\n{stderr}");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                let stderr = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!(
                    "the SMTP sink did not accept connections within {READY_WITHIN:?}:\n{stderr}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The raw messages received so far, waiting (bounded) until there are at least `n`.
    pub fn received(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.inbox.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect();
            if files.len() >= n || Instant::now() > deadline {
                files.sort();
                return files.iter().map(|p| std::fs::read(p).unwrap()).collect();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How many connections carried the messages in `folder` (the sink names each file after the
/// client port of the connection it came on).
pub fn connections_used(folder: &Path) -> usize {
    let mut ports: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml") && !n.starts_with('.'))
        .filter_map(|n| n.split('.').nth(1).map(str::to_owned))
        .collect();
    ports.sort();
    ports.dedup();
    ports.len()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A MIME entity: unfolded headers and the decoded body.
#[derive(Debug)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> String {
        self.header("Content-Type")
            .unwrap_or("text/plain")
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_ascii_lowercase()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// Parses a message (CRLF line ends required, as RFC 5322 says) into its head and raw body.
pub fn parse(raw: &[u8]) -> Part {
    let text = std::str::from_utf8(raw).expect("a 7-bit/UTF-8 message");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a blank CRLF line between head and body");
    assert!(
        !head.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF in the head"
    );
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers
                .last_mut()
                .expect("no continuation first")
                .1
                .push_str(line);
        } else {
            let (name, value) = line.split_once(':').expect("name: value");
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    Part {
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// The leaf parts of a message, bodies decoded (7bit, quoted-printable, base64).
pub fn leaves(raw: &[u8]) -> Vec<Part> {
    let mut out = Vec::new();
    collect(parse(raw), &mut out);
    out
}

fn collect(part: Part, out: &mut Vec<Part>) {
    let ct = part.header("Content-Type").unwrap_or("").to_owned();
    if ct.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = ct
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .expect("a boundary")
            .trim_matches('"')
            .to_owned();
        let body = String::from_utf8(part.body).unwrap();
        let delim = format!("--{boundary}");
        for seg in body.split(&delim).skip(1) {
            if seg.starts_with("--") {
                break;
            }
            let seg = seg.strip_prefix("\r\n").unwrap_or(seg);
            let seg = seg.strip_suffix("\r\n").unwrap_or(seg);
            collect(parse(seg.as_bytes()), out);
        }
    } else {
        let cte = part
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let body = match cte.as_str() {
            "quoted-printable" => qp_decode(&part.body),
            "base64" => b64_decode(&part.body),
            _ => part.body.clone(),
        };
        out.push(Part {
            headers: part.headers,
            body,
        });
    }
}

fn qp_decode(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn b64_decode(b: &[u8]) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &c in b {
        let Some(v) = A.iter().position(|&a| a == c) else {
            continue; // CRLF and '=' padding
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
