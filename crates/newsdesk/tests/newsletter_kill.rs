//! Exactly once across a crash: `newsdesk serve` sends a digest into a real SMTP server on
//! loopback (aiosmtpd, `crates/mail/tests/smtp_sink.py`), is killed with SIGKILL mid-send,
//! and is started again on the same data folder. Every subscriber gets the digest, and nobody
//! gets it twice, except at most one reader whose message the server accepted (250) in the
//! moment before its send row was committed: the one window the design leaves, documented in
//! ARCHITECTURE.md; that copy carries the same Message-ID, so it is recognisable. The server
//! sends one message at a time here (`concurrency = 1`); with `c` in flight the window holds
//! at most `c` messages.
//! Needs `python3` and `pip install aiosmtpd==1.4.6`. Every wait is bounded.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SUBSCRIBERS: usize = 120;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("newsdesk-nl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn newsdesk(config: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("NEWSDESK_") {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1")
        .env("MALLOC_ARENA_MAX", "2")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data);
    c
}

fn run(mut c: Command) -> String {
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `serve` and waits (bounded) for its "serving" line.
fn serve(config: &Path, data: &Path) -> Killed {
    let mut c = newsdesk(config, data);
    c.args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let child = Killed(child);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("newsdesk serve did not start");
        if line.starts_with("newsdesk is serving") {
            std::thread::spawn(move || for _ in rx {});
            return child;
        }
    }
}

fn delivered(inbox: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(inbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect()
}

fn header(raw: &str, name: &str) -> String {
    raw.split("\r\n\r\n")
        .next()
        .unwrap()
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_owned()
}

fn wait_for(inbox: &Path, n: usize, within: Duration) -> usize {
    let end = Instant::now() + within;
    loop {
        let got = delivered(inbox).len();
        if got >= n || Instant::now() > end {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_digest_reaches_everyone_once_across_a_kill_9() {
    let root = dir("kill");
    let (data, inbox) = (root.join("data"), root.join("inbox"));
    let port = free_port();
    let mut sink = Killed(
        Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../mail/tests/smtp_sink.py"
            ))
            .arg(port.to_string())
            .arg(&inbox)
            .args(["--seconds", "300"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 for the SMTP sink"),
    );
    let mut ready = String::new();
    BufReader::new(sink.0.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the SMTP sink needs aiosmtpd");

    let config = root.join("newsdesk.toml");
    std::fs::write(
        &config,
        format!(
            "log = \"warn\"\n[mail]\ntransport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {port}\nsmtp_tls = \"none\"\n[jobs]\nlease_seconds = 5\n\
             [newsletter]\nmax_per_second = 40\nconcurrency = 1\n"
        ),
    )
    .unwrap();
    let mut c = newsdesk(&config, &data);
    c.args(["demo", "--stories", "40"]);
    run(c);
    let list = root.join("list.txt");
    let addresses: Vec<String> = (0..SUBSCRIBERS)
        .map(|i| format!("reader{i}@example.org"))
        .collect();
    std::fs::write(&list, addresses.join("\n")).unwrap();
    let mut c = newsdesk(&config, &data);
    c.args([
        "newsletter",
        "import",
        "--frequency",
        "weekly",
        "--note",
        "test list",
    ])
    .arg(&list);
    assert!(run(c).contains(&format!("imported {SUBSCRIBERS} subscribers")));
    let mut c = newsdesk(&config, &data);
    c.args(["newsletter", "digest", "--weekly"]);
    run(c);

    // First run: killed (SIGKILL) once a part of the digest went out.
    let first = serve(&config, &data);
    let before = wait_for(&inbox, SUBSCRIBERS / 4, Duration::from_secs(120));
    drop(first); // Child::kill is SIGKILL on Unix.
    let at_kill = delivered(&inbox).len();
    assert!(
        before >= SUBSCRIBERS / 4 && at_kill < SUBSCRIBERS,
        "killed mid-send: {at_kill} of {SUBSCRIBERS} had arrived"
    );

    // Second run on the same data: the rest goes out once the dead worker's lease ran out.
    let second = serve(&config, &data);
    wait_for(&inbox, SUBSCRIBERS, Duration::from_secs(180));
    // A little longer, to see any message sent twice.
    std::thread::sleep(Duration::from_secs(2));
    drop(second);

    let mut per_reader: HashMap<String, Vec<String>> = HashMap::new();
    for p in delivered(&inbox) {
        let raw = std::fs::read_to_string(&p).unwrap();
        per_reader
            .entry(header(&raw, "To"))
            .or_default()
            .push(header(&raw, "Message-ID"));
    }
    for a in &addresses {
        assert!(per_reader.contains_key(a), "{a} got no digest");
    }
    assert_eq!(per_reader.len(), SUBSCRIBERS, "nobody else got mail");
    let twice: Vec<_> = per_reader.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        twice.len() <= 1,
        "more than the one reader of the 250-to-commit window got it twice: {twice:?}"
    );
    for (_, ids) in twice {
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], ids[1], "a resend keeps its Message-ID");
    }
    let _ = std::fs::remove_dir_all(&root);
}
