//! Serving HTTP/1.1 with limits: our own accept loop on hyper instead of `axum::serve`, which
//! has no time limits and accepts connections until the process runs out of file descriptors.
//!
//! - **Header read timeout**: a connection must send a request's headers within this time,
//!   counted from its opening or from the end of the previous response (so it also ends kept-alive
//!   connections that send nothing more). Silent connections and partial headers are closed.
//! - **Body read timeout**: a request body must arrive whole within this time of its headers;
//!   after it, reading the body fails ([`BodyTimeout`]) and the handler answers 408.
//! - **Idle timeout**: a connection on which no byte moves either way for this long is closed
//!   (a stalled body, a client that stops reading its response).
//! - **Connection limit**: at most `max_connections` connections are served at once. When all
//!   are taken, the server stops accepting until one ends: new connections wait in the kernel's
//!   listen queue (they cost no descriptor of ours there) and are served in turn, which the
//!   timeouts above keep short. The binary keeps the limit below the file-descriptor limit.
//!
//! Graceful shutdown: when `shutdown` completes, no new connection is accepted, every connection
//! finishes the request it is serving and closes, and `run` returns when all are closed or after
//! `shutdown_grace`, whichever comes first.

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The limits of a server. See the module documentation for what each one means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's headers.
    pub header_read_timeout: Duration,
    /// Time for a whole request body, from the end of its headers.
    pub body_read_timeout: Duration,
    /// Time without a byte moving either way after which a connection is closed.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a shutdown waits for open connections.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Counters of a running server.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections open now.
    pub open: AtomicUsize,
    /// Most connections open at once.
    pub peak: AtomicUsize,
    /// Connections accepted in all.
    pub accepted: AtomicU64,
    /// Connections closed by the idle timeout.
    pub idle_closed: AtomicU64,
}

/// A request body that did not arrive within the body read timeout.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimeout {}

/// A server: a router with limits, and its counters.
pub struct Server {
    router: Router,
    limits: Limits,
    stats: Arc<Stats>,
}

impl Server {
    /// A server of `router` within `limits`.
    pub fn new(router: Router, limits: Limits) -> Self {
        Self {
            router,
            limits,
            stats: Arc::new(Stats::default()),
        }
    }

    /// Its counters (shared: they move while it runs).
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Serves connections from `listener` until `shutdown` completes, then shuts down
    /// gracefully. Handlers find the peer's address as `ConnectInfo<SocketAddr>`.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let Server {
            router,
            limits,
            stats,
        } = self;
        // Semaphore permits are u32 in `acquire_many`; no machine serves more anyway.
        let max = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX >> 3);
        let slots = Arc::new(Semaphore::new(max as usize));
        let (close_tx, close_rx) = watch::channel(false);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                _ = &mut shutdown => break,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors or memory, or a connection that died while queued:
                        // wait a moment rather than spin, then go on.
                        if !is_connection_error(&e) {
                            tracing::warn!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        continue;
                    }
                },
            };
            stats.accepted.fetch_add(1, Ordering::Relaxed);
            let now_open = stats.open.fetch_add(1, Ordering::Relaxed) + 1;
            stats.peak.fetch_max(now_open, Ordering::Relaxed);
            let (router, stats, close_rx) = (router.clone(), stats.clone(), close_rx.clone());
            tokio::spawn(async move {
                serve_connection(stream, peer, router, limits, &stats, close_rx).await;
                stats.open.fetch_sub(1, Ordering::Relaxed);
                drop(permit);
            });
        }
        drop(listener);
        let _ = close_tx.send(true);
        // Every permit back means every connection closed.
        if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(max))
            .await
            .is_err()
        {
            tracing::warn!(
                open = stats.open.load(Ordering::Relaxed),
                "connections still open after the shutdown grace period are dropped"
            );
        }
    }
}

/// Errors of one queued connection (not of the listener).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    stats: &Stats,
    mut close_rx: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let body_timeout = limits.body_read_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let deadline = Instant::now() + body_timeout;
        let mut req = req.map(|b| Body::new(TimedBody::new(b, deadline)));
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut conn = std::pin::pin!(builder.serve_connection(io, service));
    let mut closing = *close_rx.borrow();
    if closing {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let idle_at = activity.last() + limits.idle_timeout;
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            _ = close_rx.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(idle_at) => {
                if activity.last() + limits.idle_timeout <= Instant::now() {
                    stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, "idle connection closed");
                    break;
                }
            }
        }
    }
}

/// When a byte last moved on a connection.
struct Activity {
    start: Instant,
    /// Milliseconds from `start`.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A stream that notes every byte read or written.
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that fails with [`BodyTimeout`] when it has not ended by its deadline. The
/// timer is set only when the body first has to wait (most requests have no body at all).
struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(inner: Incoming, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                let deadline = self.deadline;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
