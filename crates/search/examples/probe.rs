//! Times queries on an index folder, one thread, no HTTP: where a search's time goes.
//!
//! `cargo run --release -p newsdesk-search --example probe -- {data}/search/gen-N [rounds [queries]]`
//! (with a file of queries, one a line, the first `rounds` of them are timed once each).

use newsdesk_search::{parse, Filters, Limits, Query, SearchIndex, Sort};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: probe INDEX_DIR [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(20), |r| r.parse())?;
    let ix = SearchIndex::open(std::path::Path::new(&dir), 15 << 20, 1)?;
    println!("{} documents", ix.len());
    let groups: [(&str, &[&str]); 3] = [
        (
            "one-word",
            &[
                "health", "water", "climate", "election", "market", "school", "energy", "court",
                "police", "science",
            ],
        ),
        (
            "two-word",
            &[
                "health water",
                "climate policy",
                "election result",
                "market prices",
                "school teachers",
                "energy prices",
                "court ruling",
                "police report",
                "science study",
                "rural health",
            ],
        ),
        (
            "phrase",
            &[
                "\"public health\"",
                "\"climate change\"",
                "\"the government\"",
                "\"said on\"",
                "\"new report\"",
            ],
        ),
    ];
    // A file of queries, one a line (bench/search.sh writes one): timed once each, slowest shown.
    if let Some(file) = args.next() {
        let text = std::fs::read_to_string(file)?;
        let mut times: Vec<(f64, &str)> = Vec::new();
        for q in text.lines().take(rounds.max(1)) {
            let p = parse(
                q,
                Limits {
                    max_chars: 200,
                    max_terms: 12,
                },
            );
            let t = Instant::now();
            ix.search(&Query {
                clauses: &p.clauses,
                filters: &Filters::default(),
                visible_at: i64::MAX,
                sort: Sort::Relevance,
                offset: 0,
                limit: 10,
                snippet_chars: 200,
                count_cap: 1_000,
            })?;
            times.push((t.elapsed().as_secs_f64() * 1e3, q));
        }
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize].0;
        println!(
            "{} queries: p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms",
            times.len(),
            at(0.5),
            at(0.95),
            at(0.99)
        );
        for (t, q) in times.iter().rev().take(5) {
            println!("  {t:.2} ms  {q}");
        }
        return Ok(());
    }
    let limits = Limits {
        max_chars: 200,
        max_terms: 12,
    };
    // PROBE_FILTERED=1: a filter that lets everything through, so tantivy's own plan runs
    // (to compare with the unfiltered passes).
    let filters = match std::env::var("PROBE_FILTERED").as_deref() {
        Ok("1") => Filters {
            from: Some(0),
            ..Filters::default()
        },
        _ => Filters::default(),
    };
    for sort in [Sort::Relevance, Sort::Newest] {
        for (name, qs) in groups {
            let mut times = Vec::new();
            let mut total = 0;
            for _ in 0..rounds {
                for q in qs {
                    let p = parse(q, limits);
                    let t = Instant::now();
                    let hits = ix.search(&Query {
                        clauses: &p.clauses,
                        filters: &filters,
                        visible_at: i64::MAX,
                        sort,
                        offset: 0,
                        limit: 10,
                        snippet_chars: 200,
                        count_cap: 1_000,
                    })?;
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    total += hits.total;
                }
            }
            times.sort_by(f64::total_cmp);
            let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
            println!(
                "{sort:?} {name:9} p50 {:.2} ms  p95 {:.2} ms  max {:.2} ms  (mean total {})",
                at(0.5),
                at(0.95),
                at(1.0),
                total / times.len()
            );
        }
    }
    Ok(())
}
