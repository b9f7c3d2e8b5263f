//! The real server on loopback, attacked the way it was: silent connections, partial headers,
//! promised bodies never sent, more connections than it may serve, and slow unauthenticated
//! pushes. Every wait is bounded; nothing is timed, things are counted.
#![allow(clippy::unwrap_used)]

use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use newsdesk_web::server::{Limits, Server, Stats};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any limit below: only a server that never closes runs into it.
const BOUND: Duration = Duration::from_secs(30);

struct Running {
    addr: SocketAddr,
    stats: Arc<Stats>,
    app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(limits: Limits) -> Running {
    let store: Arc<dyn Store> = newsdesk_store_sqlite::temp_store().unwrap();
    let app = App::load(store, Arc::new(SystemClock), SiteConfig::default())
        .await
        .unwrap();
    let router = newsdesk_web::router(newsdesk_web::WebState::new(
        app.clone(),
        std::env::temp_dir(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(router, limits);
    let stats = server.stats();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.run(listener, async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stats,
        app,
        stop: Some(tx),
        done,
    }
}

fn short(header: u64, body: u64, idle: u64, max: usize) -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(header),
        body_read_timeout: Duration::from_secs(body),
        idle_timeout: Duration::from_secs(idle),
        max_connections: max,
        shutdown_grace: Duration::from_secs(5),
    }
}

/// Reads until the server closes the connection; what it sent. Panics past the bound.
async fn read_until_closed(mut c: TcpStream, what: &str) -> String {
    let mut out = Vec::new();
    let r = tokio::time::timeout(BOUND, c.read_to_end(&mut out)).await;
    match r {
        Ok(Ok(_)) => {}
        // A reset is a close too.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: the server kept the connection open"),
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One request on a fresh connection; the answer's head and body.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut c = tokio::time::timeout(BOUND, TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_until_closed(c, path).await
}

#[tokio::test]
async fn silent_partial_and_stalled_connections_are_closed() {
    let s = start(short(1, 1, 30, 64)).await;
    let silent = TcpStream::connect(s.addr).await.unwrap();
    let mut partial = TcpStream::connect(s.addr).await.unwrap();
    partial
        .write_all(b"GET /robots.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: slow")
        .await
        .unwrap();
    let mut promised = TcpStream::connect(s.addr).await.unwrap();
    promised
        .write_all(
            b"POST /newsroom/login HTTP/1.1\r\nHost: t\r\nSec-Fetch-Site: same-origin\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
        )
        .await
        .unwrap();
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(b"GET /robots.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let (silent, partial, promised, kept) = tokio::join!(
        read_until_closed(silent, "silent"),
        read_until_closed(partial, "partial headers"),
        read_until_closed(promised, "promised body"),
        read_until_closed(kept, "kept alive"),
    );
    assert!(
        !silent.contains("200 OK") && !partial.contains("200 OK"),
        "{silent}{partial}"
    );
    assert!(
        promised.starts_with("HTTP/1.1 408"),
        "a body that does not come gets 408: {promised}"
    );
    assert!(
        kept.starts_with("HTTP/1.1 200") && kept.contains("User-agent: *"),
        "answered, then closed when nothing more came: {kept}"
    );
    assert_eq!(s.stats.accepted.load(Ordering::Relaxed), 4);
    wait_for(|| s.stats.open.load(Ordering::Relaxed) == 0).await;
}

#[tokio::test]
async fn a_connection_where_nothing_moves_is_closed_by_the_idle_timeout() {
    let s = start(short(60, 60, 1, 64)).await;
    let silent = TcpStream::connect(s.addr).await.unwrap();
    let mut stalled = TcpStream::connect(s.addr).await.unwrap();
    stalled
        .write_all(
            b"POST /newsroom/login HTTP/1.1\r\nHost: t\r\nSec-Fetch-Site: same-origin\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a",
        )
        .await
        .unwrap();
    tokio::join!(
        read_until_closed(silent, "silent"),
        read_until_closed(stalled, "stalled body"),
    );
    assert_eq!(s.stats.idle_closed.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn more_silent_connections_than_the_limit_do_not_stop_the_site() {
    let s = start(short(1, 1, 30, 4)).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(s.addr).await.unwrap());
    }
    // Queued behind the silent ones, answered once they time out.
    let answer = get(s.addr, "/robots.txt").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        s.stats.peak.load(Ordering::Relaxed) <= 4,
        "at most 4 at once"
    );
    let closed = futures_join_all(silent).await;
    assert_eq!(closed, 20);
}

async fn futures_join_all(conns: Vec<TcpStream>) -> usize {
    let mut set = tokio::task::JoinSet::new();
    for c in conns {
        set.spawn(read_until_closed(c, "silent"));
    }
    let mut n = 0;
    while let Some(r) = set.join_next().await {
        r.unwrap();
        n += 1;
    }
    n
}

#[tokio::test]
async fn slow_unauthenticated_pushes_are_answered_before_their_bodies() {
    // Header and idle limits beyond the bound: refused pushes must be closed by the server
    // itself, not by a timeout.
    let s = start(short(60, 1, 60, 256)).await;
    let admin = s
        .app
        .add_user(
            "admin@example.org",
            "",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let (source, token) = s
        .app
        .add_source(&admin, "Slow Wire", "", 15, false)
        .await
        .unwrap();
    let head = |token: &str| {
        format!(
            "POST /api/wire/{} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{{\"uri\":",
            source.id
        )
    };
    // A hundred pushes promising 10 MiB each with a wrong token: each is answered 401 with
    // its body unsent and its connection closed (the server neither waits for nor holds what
    // was promised).
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (addr, head) = (s.addr, head("wrong"));
        set.spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(head.as_bytes()).await.unwrap();
            let answer = read_until_closed(c, "refused push").await;
            answer.get(..12).unwrap_or("").to_owned()
        });
    }
    let mut refused = 0;
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap(), "HTTP/1.1 401");
        refused += 1;
    }
    assert_eq!(refused, 100);
    // With the right token the body is read, within the body time limit.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(head(&token).as_bytes()).await.unwrap();
    let answer = read_until_closed(c, "slow authorised push").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("too_slow"), "{answer}");
}

#[tokio::test]
async fn shutdown_closes_kept_alive_connections_and_stops_accepting() {
    let mut s = start(short(60, 60, 60, 64)).await;
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(b"GET /robots.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    kept.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    let _ = s.stop.take().unwrap().send(());
    tokio::time::timeout(BOUND, &mut s.done)
        .await
        .expect("the server stops")
        .unwrap();
    read_until_closed(kept, "kept alive at shutdown").await;
    assert!(
        TcpStream::connect(s.addr).await.is_err(),
        "no longer listening"
    );
}

async fn wait_for(cond: impl Fn() -> bool) {
    tokio::time::timeout(BOUND, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("condition within the bound");
}
