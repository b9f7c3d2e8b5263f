//! Search relevance on the demo site: the labelled queries of `bench/search-relevance.txt` (each
//! with the stories a reader would expect, judged from the demo content) are run through the
//! search use case, and precision at 10 and the mean reciprocal rank are printed per query and
//! on the whole. It fails when the mean precision falls under the floor below, so a ranking
//! change that makes results worse is noticed.
//!
//! `cargo test -p newsdesk-app --test relevance -- --nocapture` prints the figures.
//! `RELEVANCE_DUMP=/tmp/stories.tsv` also writes every story (slug, headline, summary, tags,
//! byline) to judge new queries from.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use newsdesk_app::search::{SearchRequest, SearchSettings};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

/// The demo as `newsdesk demo` makes it (its default size and seed), at a fixed instant.
const STORIES: usize = newsdesk_demo::DEFAULT_STORIES;
const SEED: u64 = 7;

/// Mean attainable precision at 10 (relevant stories in the first ten over the smaller of 10
/// and the number of relevant stories, since a query with three relevant stories can have no
/// more in its first ten) under which the test fails.
const FLOOR_P10: f64 = 0.90;
/// Mean reciprocal rank under which it fails.
const FLOOR_MRR: f64 = 0.90;

struct Judged {
    query: String,
    relevant: HashSet<String>,
}

fn labelled() -> Vec<Judged> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/search-relevance.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (query, slugs) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("no tab in {line:?}"));
        out.push(Judged {
            query: query.trim().to_owned(),
            relevant: slugs.split_whitespace().map(str::to_owned).collect(),
        });
    }
    out
}

#[tokio::test]
async fn precision_at_10_on_the_labelled_demo_queries() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: STORIES,
            now,
            seed: SEED,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(now));
    let app = App::load(store.clone(), clock, SiteConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    app.attach_search(dir.path().join("search"), SearchSettings::default())
        .unwrap();
    app.build_search_index(&|_, _| {}).await.unwrap();
    app.sync().await.unwrap();

    if let Ok(path) = std::env::var("RELEVANCE_DUMP") {
        let cards = store.list_published_cards().await.unwrap();
        let snap = app.read();
        let mut out = String::new();
        for c in cards {
            let tags: Vec<&str> = c
                .tag_ids
                .iter()
                .filter_map(|t| snap.tax.tag(*t).map(|t| t.name.as_str()))
                .collect();
            let by: Vec<&str> = c
                .author_ids
                .iter()
                .filter_map(|a| snap.tax.author(*a).map(|a| a.name.as_str()))
                .collect();
            let sector = snap.tax.sector(c.sector_id).map_or("", |s| s.name.as_str());
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                c.slug,
                c.headline.as_str(),
                c.summary,
                tags.join("; "),
                by.join("; "),
                sector,
                c.region
            );
        }
        std::fs::write(path, out).unwrap();
    }

    let judged = labelled();
    assert!(judged.len() >= 30, "{} labelled queries", judged.len());
    let (mut p10, mut rr, mut ceiling, mut attained) = (0.0, 0.0, 0.0, 0.0);
    println!("{:<40} {:>4} {:>6} {:>6}", "query", "rel", "P@10", "RR");
    for j in &judged {
        let r = app
            .search(&SearchRequest {
                text: j.query.clone(),
                page: 1,
                ..SearchRequest::default()
            })
            .await
            .unwrap();
        let slugs: Vec<String> = r.hits.iter().map(|h| h.card.slug.to_string()).collect();
        let good = slugs.iter().filter(|s| j.relevant.contains(*s)).count();
        let first = slugs.iter().position(|s| j.relevant.contains(s));
        let p = good as f64 / 10.0;
        let rank = first.map_or(0.0, |i| 1.0 / (i + 1) as f64);
        p10 += p;
        rr += rank;
        ceiling += j.relevant.len().min(10) as f64 / 10.0;
        attained += good as f64 / j.relevant.len().clamp(1, 10) as f64;
        println!(
            "{:<40} {:>4} {:>6.2} {:>6.2}",
            j.query,
            j.relevant.len(),
            p,
            rank
        );
    }
    let n = judged.len() as f64;
    let (p10, mrr, ceiling, attained) = (p10 / n, rr / n, ceiling / n, attained / n);
    println!(
        "{} queries: mean precision@10 {p10:.3} (the labels allow at most {ceiling:.3}; \
         attained {attained:.3} of what they allow), MRR {mrr:.3}",
        judged.len()
    );
    assert!(
        attained >= FLOOR_P10,
        "attainable precision@10 {attained:.3} < {FLOOR_P10}"
    );
    assert!(mrr >= FLOOR_MRR, "MRR {mrr:.3} < {FLOOR_MRR}");
}
