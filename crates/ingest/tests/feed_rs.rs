//! Conformance with the feed-rs fixtures: entry count, titles, links, dates and summaries
//! against the JSON feed-rs produced for each fixture.
#![allow(clippy::unwrap_used)]

mod common;

use newsdesk_ingest::{parse_feed, Limits, ParsedFeed};
use serde_json::Value;

const THRESHOLD: f64 = 95.0;

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn content(v: &Value) -> Option<String> {
    v.get("content").and_then(Value::as_str).map(norm)
}

fn date(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// Differences between our parse and feed-rs's.
fn compare(ours: &ParsedFeed, theirs: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let entries = theirs["entries"].as_array().cloned().unwrap_or_default();
    if entries.len() != ours.entries.len() {
        diffs.push(format!(
            "entry count {} (want {})",
            ours.entries.len(),
            entries.len()
        ));
        return diffs;
    }
    if let Some(t) = theirs.get("title").and_then(content) {
        let got = ours.title.as_deref().map(norm);
        if got.as_deref() != Some(t.as_str()) {
            diffs.push(format!("feed title {got:?} (want {t:?})"));
        }
    }
    for (i, (e, t)) in ours.entries.iter().zip(&entries).enumerate() {
        if let Some(want) = t.get("title").and_then(content) {
            let got = e.title.as_deref().map(norm);
            if got.as_deref() != Some(want.as_str()) {
                diffs.push(format!("[{i}] title {got:?} (want {want:?})"));
            }
        }
        let want_links: Vec<&str> = t["links"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l["href"].as_str()).collect())
            .unwrap_or_default();
        if let Some(first) = want_links.first() {
            if !e.links.iter().any(|l| l == first) {
                diffs.push(format!("[{i}] links {:?} lack {first:?}", e.links));
            }
        }
        if let Some(want) = date(&t["published"]) {
            if e.published.or(e.updated) != Some(want) {
                diffs.push(format!("[{i}] published {:?} (want {want})", e.published));
            }
        }
        if let Some(want) = date(&t["updated"]) {
            if e.updated.or(e.published) != Some(want) {
                diffs.push(format!("[{i}] updated {:?} (want {want})", e.updated));
            }
        }
        if let Some(want) = t.get("summary").and_then(content) {
            let got = e.summary.as_deref().map(norm);
            if got.as_deref() != Some(want.as_str()) {
                let g = got.unwrap_or_default();
                diffs.push(format!(
                    "[{i}] summary {:?} (want {:?})",
                    g.chars().take(80).collect::<String>(),
                    want.chars().take(80).collect::<String>()
                ));
            }
        }
    }
    diffs
}

#[test]
fn feed_rs_fixtures() {
    let dir = common::collection("feed-rs").join("feed-rs/fixture");
    let mut cases = Vec::new();
    for sub in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        for f in std::fs::read_dir(sub.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let p = f.path();
            let name = p.to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".serde.json") {
                cases.push((stem.to_owned(), p.clone()));
            }
        }
    }
    cases.sort();
    let (mut passed, mut total) = (0, 0);
    let mut failures = Vec::new();
    for (stem, expected_path) in &cases {
        let input = [".xml", ".json"]
            .iter()
            .map(|ext| format!("{stem}{ext}"))
            .find(|p| std::path::Path::new(p).is_file());
        let Some(input) = input else { continue };
        total += 1;
        let short = input.rsplit("fixture/").next().unwrap_or(&input).to_owned();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(expected_path).unwrap()).unwrap();
        let bytes = std::fs::read(&input).unwrap();
        match parse_feed(&bytes, None, None, &Limits::default()) {
            Ok(feed) => {
                let diffs = compare(&feed, &expected);
                if diffs.is_empty() {
                    passed += 1;
                } else {
                    failures.push(format!("{short}: {}", diffs.join("; ")));
                }
            }
            Err(e) => failures.push(format!("{short}: error {e}")),
        }
    }
    let rate = common::report("feed-rs", passed, total, &failures);
    assert!(total > 0, "no feed-rs fixtures found");
    assert!(
        rate >= THRESHOLD,
        "feed-rs pass rate {rate:.1}% below {THRESHOLD}%"
    );
}
