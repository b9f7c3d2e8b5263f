//! Operations: a request span on every request, and Prometheus metrics at `/metrics` (off unless
//! `[server] metrics` says otherwise).
//!
//! Labels come from fixed sets (a route *kind* from the first path segment, the status code), so
//! the number of series does not grow with the number of distinct URLs or clients.

use crate::WebState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Response, StatusCode};
use axum::middleware::Next;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tracing::Instrument;

/// Who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exposure {
    /// Nobody: `/metrics` is an ordinary unknown page.
    #[default]
    Off,
    /// Clients on loopback only (a scraper on the same machine, or through a local proxy).
    Loopback,
    /// Anyone who can reach the server (protect it at the proxy).
    On,
}

/// The route kind of a path: its first segment when it is one of the site's own, "edition" for
/// anything else a reader may ask for (editions are URL prefixes), so labels stay few.
pub fn route_label(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "" => "home",
        "article" => "article",
        "sector" => "sector",
        "kind" => "kind",
        "tag" => "tag",
        "author" => "author",
        "desk" => "desk",
        "page" => "page",
        "corrections" => "corrections",
        "media" => "media",
        "static" | "assets" | "favicon.ico" => "static",
        "newsroom" => "newsroom",
        "api" => "api",
        "metrics" => "metrics",
        "healthz" => "health",
        "robots.txt" => "robots",
        f if f.starts_with("feed") => "feed",
        f if f.starts_with("sitemap") => "sitemap",
        _ => "edition",
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Series {
    count: u64,
    micros: u64,
}

/// Request counts and time, by route kind and status; and the memory trims' count and time.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), Series>>,
    trims: Mutex<Trims>,
}

/// What `malloc_trim` cost: it holds each arena's lock while it walks that arena, so a request
/// allocating in the same arena waits for it; the longest one is the pause a reader could see.
#[derive(Debug, Default, Clone, Copy)]
struct Trims {
    count: u64,
    micros: u64,
    max_micros: u64,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, route: &'static str, status: u16, elapsed: std::time::Duration) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry((route, status)).or_default();
        s.count += 1;
        s.micros += u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    }

    /// Records one memory trim (`[server] malloc_trim_secs`) and how long it took.
    pub fn observe_trim(&self, took: std::time::Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let mut t = self.trims.lock().unwrap_or_else(|e| e.into_inner());
        t.count += 1;
        t.micros = t.micros.saturating_add(micros);
        t.max_micros = t.max_micros.max(micros);
    }

    /// Requests answered with `route` and `status` so far.
    pub fn count(&self, route: &str, status: u16) -> u64 {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|((r, s), _)| *r == route && *s == status)
            .map_or(0, |(_, v)| v.count)
    }
}

/// Middleware: every request runs in a span with its method and route kind; its status and
/// duration are recorded on the span, logged at debug level, and counted.
pub async fn observe(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response<Body> {
    let route = route_label(req.uri().path());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        %method,
        route,
        status = tracing::field::Empty,
        ms = tracing::field::Empty
    );
    let started = std::time::Instant::now();
    let res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    span.record("status", status);
    span.record("ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!("answered"));
    st.metrics.observe(route, status, elapsed);
    res
}

/// `GET /metrics` in Prometheus' text format, or `None` when it is not to be served to this
/// client (the caller answers as for any unknown page).
pub async fn serve(st: &WebState, peer: Option<std::net::IpAddr>) -> Option<Response<Body>> {
    let allowed = match st.metrics_exposure {
        Exposure::Off => false,
        Exposure::On => true,
        Exposure::Loopback => peer.is_some_and(|ip| ip.is_loopback()),
    };
    if !allowed {
        return None;
    }
    let text = render(st).await;
    Some(crate::respond::or_500(
        Response::builder()
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(text)),
    ))
}

/// The client's address, if the server gave one.
pub fn peer(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The metrics as text.
pub async fn render(st: &WebState) -> String {
    let mut out = String::new();
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "newsdesk_http_requests_total",
        "counter",
        "Requests answered, by route kind and status.",
    );
    let requests: Vec<((&'static str, u16), Series)> = st
        .metrics
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect();
    for ((route, status), s) in &requests {
        let _ = writeln!(
            out,
            "newsdesk_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {}",
            s.count
        );
    }
    family(
        &mut out,
        "newsdesk_http_request_seconds_total",
        "counter",
        "Time spent answering requests, by route kind and status.",
    );
    for ((route, status), s) in &requests {
        let _ = writeln!(
            out,
            "newsdesk_http_request_seconds_total{{route=\"{route}\",status=\"{status}\"}} {:.6}",
            s.micros as f64 / 1e6
        );
    }
    let caches: [(&str, [u64; 4]); 2] = [
        (
            "pages",
            [
                st.cache.hits(),
                st.cache.builds(),
                st.cache.weighted_bytes(),
                st.cache.max_bytes(),
            ],
        ),
        (
            "parts",
            [
                st.parts.hits(),
                st.parts.builds(),
                st.parts.weighted_bytes(),
                st.parts.max_bytes(),
            ],
        ),
    ];
    for (i, (name, kind, help)) in [
        (
            "newsdesk_page_cache_hits_total",
            "counter",
            "Reads served from the cache (pages, and articles' own parts).",
        ),
        (
            "newsdesk_page_cache_builds_total",
            "counter",
            "Entries rendered because the cache had no fresh copy (misses).",
        ),
        (
            "newsdesk_page_cache_bytes",
            "gauge",
            "Bytes held by the cache.",
        ),
        (
            "newsdesk_page_cache_max_bytes",
            "gauge",
            "The cache's byte budget.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        family(&mut out, name, kind, help);
        for (cache, values) in &caches {
            let _ = writeln!(out, "{name}{{cache=\"{cache}\"}} {}", values[i]);
        }
    }
    let trims = *st.metrics.trims.lock().unwrap_or_else(|e| e.into_inner());
    for (name, kind, help, value) in [
        (
            "newsdesk_malloc_trims_total",
            "counter",
            "Times freed memory was given back to the system (malloc_trim).",
            trims.count.to_string(),
        ),
        (
            "newsdesk_malloc_trim_seconds_total",
            "counter",
            "Time spent in malloc_trim.",
            format!("{:.6}", trims.micros as f64 / 1e6),
        ),
        (
            "newsdesk_malloc_trim_seconds_max",
            "gauge",
            "The longest malloc_trim so far (it holds the allocator's locks: a pause).",
            format!("{:.6}", trims.max_micros as f64 / 1e6),
        ),
    ] {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    family(
        &mut out,
        "newsdesk_sync_lag_changes",
        "gauge",
        "Change-log rows written but not yet applied to this node's read model.",
    );
    match st.app.sync_lag().await {
        Ok(lag) => {
            let _ = writeln!(out, "newsdesk_sync_lag_changes {lag}");
        }
        Err(e) => tracing::warn!(error = %crate::respond::chain(&e), "metrics: sync lag unknown"),
    }
    family(
        &mut out,
        "newsdesk_change_wakes_total",
        "counter",
        "Times this node was woken to read the change log by a notification (another node's write).",
    );
    let _ = writeln!(
        out,
        "newsdesk_change_wakes_total {}",
        st.app.counters.change_wakes.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "newsdesk_jobs",
        "gauge",
        "Background jobs by state (queue depth: queued).",
    );
    match st.app.job_counts().await {
        Ok(c) => {
            for (state, n) in [
                ("queued", c.queued),
                ("running", c.running),
                ("dead", c.dead),
                ("done", c.done),
            ] {
                let _ = writeln!(out, "newsdesk_jobs{{state=\"{state}\"}} {n}");
            }
        }
        Err(e) => tracing::warn!(error = %crate::respond::chain(&e), "metrics: job counts unknown"),
    }
    family(
        &mut out,
        "newsdesk_ingest_items_total",
        "counter",
        "Agency items taken in, by outcome.",
    );
    let c = &st.app.counters;
    for (outcome, n) in [
        ("new", &c.ingest_new),
        ("updated", &c.ingest_updated),
        ("duplicate", &c.ingest_duplicates),
        ("withdrawn", &c.ingest_withdrawn),
    ] {
        let _ = writeln!(
            out,
            "newsdesk_ingest_items_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    family(
        &mut out,
        "newsdesk_ingest_errors_total",
        "counter",
        "Polls and pushes of agency copy that failed.",
    );
    let _ = writeln!(
        out,
        "newsdesk_ingest_errors_total {}",
        c.ingest_errors.load(Ordering::Relaxed)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_few_whatever_the_path() {
        assert_eq!(route_label("/"), "home");
        assert_eq!(route_label("/article/some-slug"), "article");
        assert_eq!(route_label("/south-asia/article/x"), "edition");
        assert_eq!(route_label("/feed.rss"), "feed");
        assert_eq!(route_label("/sitemap-news.xml"), "sitemap");
        assert_eq!(route_label("/newsroom/stories/1"), "newsroom");
        assert_eq!(route_label("/any/thing/at/all?x=1"), "edition");
    }

    #[test]
    fn trims_are_counted_with_their_total_and_longest_time() {
        let m = Metrics::default();
        m.observe_trim(std::time::Duration::from_micros(1_500));
        m.observe_trim(std::time::Duration::from_micros(4_000));
        m.observe_trim(std::time::Duration::from_micros(500));
        let t = *m.trims.lock().unwrap();
        assert_eq!((t.count, t.micros, t.max_micros), (3, 6_000, 4_000));
    }
}
