//! `newsdesk serve` as started by an operator, on loopback: the address its links use, and the
//! silent-connection attack that once made it stop answering. Every wait is bounded.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Far longer than any limit the servers below are given.
const BOUND: Duration = Duration::from_secs(45);

struct Served {
    child: Child,
    port: u16,
    /// Lines printed before the "serving" line (logs and warnings).
    before: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("newsdesk-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `newsdesk serve --listen 127.0.0.1:0` (through `sh -c PREFIX` when given, e.g. to
/// lower a limit) with `env`, and waits for the line saying where it serves.
fn serve(name: &str, shell_prefix: Option<&str>, env: &[(&str, &str)]) -> Served {
    let bin = env!("CARGO_BIN_EXE_newsdesk");
    let data = temp_dir(name);
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    let mut c = match shell_prefix {
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{prefix} && exec \"$0\" \"$@\""))
                .arg(bin)
                .args(args);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(args);
            c
        }
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("NEWSDESK_") {
            c.env_remove(k);
        }
    }
    c.env("NEWSDESK_LOG", "warn")
        .env("NO_COLOR", "1")
        .env_remove("MALLOC_ARENA_MAX");
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut before = String::new();
    loop {
        let Ok(line) = rx.recv_timeout(BOUND) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("newsdesk did not start: {before}");
        };
        if let Some(rest) = line.strip_prefix("newsdesk is serving http://127.0.0.1:") {
            let port = rest.split('/').next().unwrap().parse().unwrap();
            // Keep draining its output so it never blocks on a full pipe.
            std::thread::spawn(move || for _ in rx {});
            return Served {
                child,
                port,
                before,
            };
        }
        before.push_str(&line);
        before.push('\n');
    }
}

fn get(port: u16, path: &str) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(BOUND)).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out)
        .unwrap_or_else(|e| panic!("GET {path} was not answered: {e}"));
    out
}

#[test]
fn links_point_to_the_address_served_unless_base_url_says_otherwise() {
    let s = serve("base-url", None, &[]);
    let robots = get(s.port, "/robots.txt");
    assert!(
        robots.contains(&format!("Sitemap: http://127.0.0.1:{}/sitemap.xml", s.port)),
        "{robots}"
    );
    assert!(!s.before.contains("base_url"), "{}", s.before);
    drop(s);
    let s = serve(
        "base-url-set",
        None,
        &[("NEWSDESK_SITE__BASE_URL", "http://127.0.0.1:1")],
    );
    assert!(
        s.before.contains(&format!(
            "site.base_url is http://127.0.0.1:1 but newsdesk serves 127.0.0.1:{}",
            s.port
        )),
        "a warning at start: {}",
        s.before
    );
    let robots = get(s.port, "/robots.txt");
    assert!(
        robots.contains("Sitemap: http://127.0.0.1:1/sitemap.xml"),
        "{robots}"
    );
}

#[test]
fn more_silent_connections_than_file_descriptors_do_not_stop_the_site() {
    // The attack as it was tried: more silent connections than the process may open files.
    let s = serve(
        "silent",
        Some("ulimit -n 160"),
        &[("NEWSDESK_SERVER__HEADER_READ_TIMEOUT_SECS", "1")],
    );
    assert!(
        s.before.contains("server.max_connections lowered"),
        "the connection limit fits the descriptors: {}",
        s.before
    );
    let silent: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    let answer = get(s.port, "/robots.txt");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut closed = 0;
    for mut c in silent {
        c.set_read_timeout(Some(BOUND)).unwrap();
        let mut buf = [0u8; 64];
        match c.read(&mut buf) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            other => panic!("a silent connection was not closed: {other:?}"),
        }
    }
    assert_eq!(closed, 300);
}

/// The environment the running server has (after any restart of itself).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environ(s: &Served) -> Vec<String> {
    std::fs::read(format!("/proc/{}/environ", s.child.id()))
        .unwrap()
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn serve_runs_with_the_configured_malloc_arenas_unless_the_environment_says_otherwise() {
    let s = serve("arenas", None, &[]);
    assert!(environ(&s).contains(&"MALLOC_ARENA_MAX=4".to_owned()));
    assert!(get(s.port, "/robots.txt").starts_with("HTTP/1.1 200"));
    drop(s);
    let s = serve("arenas-env", None, &[("MALLOC_ARENA_MAX", "3")]);
    assert!(environ(&s).contains(&"MALLOC_ARENA_MAX=3".to_owned()));
    drop(s);
    let s = serve(
        "arenas-off",
        None,
        &[("NEWSDESK_SERVER__MALLOC_ARENAS", "0")],
    );
    assert!(!environ(&s)
        .iter()
        .any(|v| v.starts_with("MALLOC_ARENA_MAX=")));
}
