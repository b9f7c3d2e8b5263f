//! CPU time per article miss, measured in process: loads a data folder's database (a demo
//! corpus, such as the one `bench/traffic.sh` generates), then asks the router for N distinct
//! articles once each (Googlebot User-Agent, so no view is counted; `Accept-Encoding: gzip`),
//! every one a miss of the page cache and of the parts cache, and reports the process's CPU
//! time (user + system, from `/proc/self/stat`) per article.
//!
//! ```sh
//! cargo run --release -p newsdesk-web --example miss_bench -- /tmp/newsdesk-traffic/data 5000
//! ```
//!
//! Requests go one at a time, on a 2-worker runtime like a server on this machine's 2 cores.
//! The database is opened as it is (nothing is written).
//!
//! With a third argument `hot`, it asks for one article N times instead (after 2,000 reads, so
//! that the page is recompressed and made whole in the background) and reports the CPU time per
//! cache hit of a hot article page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// User + system CPU time of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // CLK_TCK is 100 on Linux (x86-64 and arm64).
    ticks / 100.0
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, usize) {
    let req = Request::get(path)
        .header(header::USER_AGENT, BOT)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, body.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: miss_bench DATA_DIR [N]"));
    let n: usize = args.next().map_or(5_000, |a| a.parse().expect("N"));
    let hot = args.next().as_deref() == Some("hot");
    let t0 = Instant::now();
    let store: Arc<dyn Store> =
        Arc::new(newsdesk_store_sqlite::SqliteStore::open(&dir.join("newsdesk.db")).unwrap());
    let site = SiteConfig {
        base_url: "http://127.0.0.1:8080".into(),
        ..SiteConfig::default()
    };
    let app = App::load(store, Arc::new(SystemClock), site).await.unwrap();
    let stories = app.read().len();
    eprintln!(
        "loaded {stories} stories in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let state = newsdesk_web::WebState::new(app.clone(), dir.join("media"));
    let router = newsdesk_web::router(state.clone());

    // Distinct public articles spread over the whole timeline; the first 200 warm up (rails,
    // prepared statements, per-thread compressors) and are not counted.
    let now = app.now();
    let all: Vec<String> = app
        .read()
        .all_public(now)
        .map(|c| c.slug.to_string())
        .collect();
    let want = (n + 200).min(all.len());
    let step = (all.len() / want.max(1)).max(1);
    let slugs: Vec<String> = all.iter().step_by(step).take(want).cloned().collect();
    if hot {
        let path = format!("/article/{}", slugs[slugs.len() / 2]);
        for _ in 0..2_000 {
            get(&router, &path).await;
        }
        // The background steps (recompression, the whole form) are done.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let (cpu0, wall0) = (cpu_seconds(), Instant::now());
        let mut bytes = 0usize;
        for _ in 0..n {
            bytes += get(&router, &path).await.1;
        }
        let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
        let m = n.max(1) as f64;
        println!(
            "{n} hits of one article page: {:.1} us CPU per hit, {:.1} us wall per hit, \
             {:.1} KB gzip per page",
            cpu * 1e6 / m,
            wall * 1e6 / m,
            bytes as f64 / m / 1024.0,
        );
        return;
    }
    let (warm, measured) = slugs.split_at(200.min(slugs.len()));
    for s in warm {
        get(&router, &format!("/article/{s}")).await;
    }
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let mut bytes = 0usize;
    let mut bad = 0usize;
    for s in measured {
        let (status, len) = get(&router, &format!("/article/{s}")).await;
        bytes += len;
        bad += usize::from(status != StatusCode::OK);
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let m = measured.len().max(1) as f64;
    println!(
        "{} article misses at {stories} stories, one at a time: {:.0} us CPU per miss, \
         {:.0} us wall per miss, {:.1} KB gzip per page, {bad} not 200",
        measured.len(),
        cpu * 1e6 / m,
        wall * 1e6 / m,
        bytes as f64 / m / 1024.0,
    );
}
