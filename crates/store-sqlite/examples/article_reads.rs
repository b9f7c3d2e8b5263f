//! CPU time of an article's read on SQLite (`StoryStore::get_article`, the page cache's miss
//! path), measured in process on a data folder's database (a demo corpus such as the one
//! `bench/traffic.sh` generates; work on a copy: opening it applies pending migrations):
//!
//! ```sh
//! cp -a /tmp/pieces-traffic /tmp/mine && \
//!   cargo run --release -p newsdesk-store-sqlite --example article_reads -- /tmp/mine/data/newsdesk.db 20000
//! ```
//!
//! Reads N distinct stories spread over the whole id range, one at a time, on a 2-worker
//! runtime like a server on this machine's 2 cores (as `miss_bench` does), after 500 reads
//! that warm up the connection and its statements, and prints the process's CPU time (user +
//! system, from `/proc/self/stat`, so the hand-off's threads count too) and wall time per read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use newsdesk_domain::StoryId;
use newsdesk_store::StoryStore;
use std::time::Instant;

/// User + system CPU time of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // CLK_TCK is 100 on Linux (x86-64 and arm64).
    ticks / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let db = std::path::PathBuf::from(args.next().expect("usage: article_reads DB [N]"));
    let n: i64 = args.next().map_or(20_000, |a| a.parse().expect("N"));
    let store = newsdesk_store_sqlite::SqliteStore::open(&db).unwrap();
    // The highest story id: stories are numbered from 1 without gaps in a demo corpus.
    let mut hi = 1i64;
    while store.get_article(StoryId(hi * 2)).await.is_ok() {
        hi *= 2;
    }
    let (mut lo_, mut hi_) = (hi, hi * 2);
    while hi_ - lo_ > 1 {
        let mid = (lo_ + hi_) / 2;
        if store.get_article(StoryId(mid)).await.is_ok() {
            lo_ = mid;
        } else {
            hi_ = mid;
        }
    }
    let stories = lo_;
    let step = (stories / (n + 500)).max(1);
    let ids: Vec<i64> = (0..n + 500).map(|i| 1 + (i * step) % stories).collect();
    let (warm, measured) = ids.split_at(500);
    for id in warm {
        store.get_article(StoryId(*id)).await.unwrap();
    }
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let (mut corrections, mut lineage, mut bytes) = (0usize, 0usize, 0usize);
    for id in measured {
        let read = store.get_article(StoryId(*id)).await.unwrap();
        corrections += read.corrections.len();
        lineage += read.lineage.len();
        bytes += read.story.input.body_html.len();
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let m = measured.len() as f64;
    println!(
        "{} article reads of {stories} stories, one at a time: {:.1} us CPU, {:.1} us wall \
         per read ({corrections} corrections, {lineage} lineage links, {:.1} KB of body \
         HTML a story)",
        measured.len(),
        cpu * 1e6 / m,
        wall * 1e6 / m,
        bytes as f64 / m / 1024.0,
    );
}
