//! Hostile bodies cost bounded memory: an endless body, a gzip bomb and a huge declared length
//! each end in `TooLarge` with the process's peak memory barely moved.
//!
//! This file holds a single test, run on one thread, so that the process's peak resident set
//! (VmHWM) measures these fetches alone and not other tests running beside them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use newsdesk_fetch::hostile::HostileServer;
use newsdesk_fetch::{Conditional, FetchError, FetchPolicy, Fetcher};

const CAP: usize = 1 << 20;

/// Peak resident set of this process, in bytes (0 where /proc is missing).
fn vm_hwm() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test(flavor = "current_thread")]
async fn hostile_bodies_cost_bounded_memory() {
    let server = HostileServer::start().await.unwrap();
    let f = Fetcher::new(FetchPolicy {
        max_body: CAP,
        allow_loopback: true,
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(10),
        ..FetchPolicy::default()
    })
    .unwrap();
    let before = vm_hwm();
    for path in ["/endless", "/gzip-bomb", "/huge-length"] {
        let r = tokio::time::timeout(
            Duration::from_secs(30),
            f.get(&server.url(path), &Conditional::default()),
        )
        .await
        .unwrap_or_else(|_| panic!("{path} still running after 30 s"));
        assert_eq!(r, Err(FetchError::TooLarge { max: CAP }), "{path}");
    }
    let grown = vm_hwm().saturating_sub(before);
    eprintln!("peak memory grew by {} KiB", grown / 1024);
    // The cap is 1 MiB; a body read whole (gigabytes) would show here.
    assert!(grown < 64 << 20, "peak memory grew by {grown} bytes");
}
