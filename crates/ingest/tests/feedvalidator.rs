//! The W3C Feed Validator's test cases as a must-not-panic corpus: every case finishes
//! quickly without panicking, and the valid RSS/Atom cases parse.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use newsdesk_ingest::{parse_feed, parse_items, Limits};
use serde_json::Value;

/// Valid RSS/Atom cases that must parse; set just below what the parser reaches.
const THRESHOLD: f64 = 99.0;
/// The slowest any one case may be (debug build, shared machine).
const MAX_CASE_TIME: Duration = Duration::from_secs(1);

#[test]
fn feedvalidator_cases() {
    let dir = common::collection("feedvalidator");
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("EXPECTATIONS.json")).unwrap())
            .unwrap();
    let limits = Limits::default();
    let (mut total, mut panics, mut slow) = (0, Vec::new(), Vec::new());
    let (mut valid_total, mut valid_ok) = (0, 0);
    let mut valid_failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for case in cases.as_array().unwrap() {
        let path = case["path"].as_str().unwrap();
        let Ok(bytes) = std::fs::read(dir.join(path)) else {
            continue;
        };
        total += 1;
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(|| {
            let feed = parse_feed(&bytes, None, Some("http://example.com/"), &limits);
            let items = parse_items("test", &bytes, None, Some("http://example.com/"), &limits);
            (feed.map(|f| f.entries.len()), items.map(|i| i.len()))
        });
        let took = start.elapsed();
        slowest = slowest.max(took);
        if took > MAX_CASE_TIME {
            slow.push(format!("{path}: {took:?}"));
        }
        let Ok((feed, _items)) = outcome else {
            panics.push(path.to_owned());
            continue;
        };
        let family = path.split('/').nth(1).unwrap_or("");
        let class = case["class"].as_str().unwrap_or("");
        let is_valid = class.starts_with("valid");
        if is_valid && matches!(family, "atom" | "rss" | "rss20" | "rss11") {
            valid_total += 1;
            match feed {
                Ok(_) => valid_ok += 1,
                Err(e) => valid_failures.push(format!("{path}: {e}")),
            }
        }
    }
    println!(
        "feedvalidator: {total} cases run, {} panics, {} slower than {MAX_CASE_TIME:?} (slowest {slowest:?})",
        panics.len(),
        slow.len()
    );
    let rate = common::report(
        "feedvalidator valid RSS/Atom",
        valid_ok,
        valid_total,
        &valid_failures,
    );
    assert!(total > 0, "no feedvalidator cases found");
    assert!(panics.is_empty(), "panicked on: {panics:?}");
    assert!(slow.is_empty(), "too slow: {slow:?}");
    assert!(
        rate >= THRESHOLD,
        "valid-case parse rate {rate:.1}% below {THRESHOLD}%"
    );
}

/// The validator's RSS 2.0 date torture feed: every pubDate parses, to the reading its
/// description states.
#[test]
fn feedvalidator_date_torture() {
    let path = common::collection("feedvalidator")
        .join("testcases/rss20/data-types-datetime/everything.xml");
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let feed = parse_feed(&bytes, None, None, &Limits::default()).unwrap();
    // The stated year of each item, in order ("…February, 9th 1996, 23:59:45 GMT.").
    let descriptions: Vec<&str> = text.split("<description>").skip(1).collect();
    let (mut passed, mut failures) = (0, Vec::new());
    for (i, e) in feed.entries.iter().enumerate() {
        let title = e.title.clone().unwrap_or_default();
        let desc = descriptions.get(i).copied().unwrap_or("");
        let want_year = desc
            .split("9th ")
            .nth(1)
            .and_then(|r| r.get(..4))
            .and_then(|y| y.parse::<i32>().ok());
        let got = e.published;
        let ok = match (got, want_year) {
            (Some(d), Some(y)) => {
                d.to_rfc3339()
                    == format!(
                        "{y:04}-02-09T23:59:{}+00:00",
                        if title.contains("No seconds") {
                            "00"
                        } else {
                            "45"
                        }
                    )
            }
            (Some(_), None) => true, // "one of the following": any reading is accepted
            (None, _) => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("{title}: {got:?}"));
        }
    }
    let rate = common::report(
        "feedvalidator date torture",
        passed,
        feed.entries.len(),
        &failures,
    );
    assert_eq!(feed.entries.len(), 30);
    assert!(rate >= 100.0);
}
