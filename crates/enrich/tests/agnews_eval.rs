//! Sector tagging measured on real agency copy from outside the project: the AG News dev part
//! (`../shared/corpora/news-text/ag-news-dev/`, 1,577 items labelled World / Sports / Business /
//! Sci/Tech; test data only, never embedded). Run with `--nocapture` to see the tables.
//!
//! AG News has four labels and newsdesk fifteen sectors, so each sector is read as one label:
//!
//! | AG News label | newsdesk sectors |
//! |---|---|
//! | World | politics, law-governance, social-gender, education, art-culture, wash |
//! | Sports | sports |
//! | Business | economy-business, energy-extractives, agro-forestry, transport, urban-development |
//! | Sci/Tech | technology, science-environment, health |
//!
//! An item with no sector counts against recall. Rows are split in two: odd rows were looked at
//! while writing the lexicon, even rows were not (the held-out half); both are reported.
#![allow(clippy::unwrap_used)]

use newsdesk_enrich::sector::sectors_from_text;
use std::path::PathBuf;

const LABELS: [&str; 4] = ["World", "Sports", "Business", "Sci/Tech"];

/// The AG News label a newsdesk sector counts as (see the module documentation).
fn label_of(sector: &str) -> &'static str {
    match sector {
        "sports" => "Sports",
        "economy-business" | "energy-extractives" | "agro-forestry" | "transport"
        | "urban-development" => "Business",
        "technology" | "science-environment" | "health" => "Sci/Tech",
        _ => "World",
    }
}

/// Splits one CSV record (RFC 4180 quoting) into fields.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Agency copy as the agencies sent it: a few HTML entities in the text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("#39;", "'")
        .replace("\\", " ")
}

/// (row, label, title, description), or `None` when the corpus is not present.
fn load() -> Option<Vec<(usize, String, String, String)>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/news-text/ag-news-dev/ag-news-dev.csv");
    let raw = std::fs::read_to_string(&path).ok()?;
    let mut out = Vec::new();
    for line in raw.lines().skip(1) {
        let f = csv_fields(line);
        if f.len() == 4 {
            out.push((
                f[0].parse().unwrap(),
                f[1].clone(),
                unescape(&f[2]),
                unescape(&f[3]),
            ));
        }
    }
    Some(out)
}

/// Per-label (precision, recall, F1), macro-F1 and the share of items left without a sector.
struct Scores {
    per_label: Vec<(&'static str, f64, f64, f64, usize)>,
    macro_f1: f64,
    untagged: f64,
    n: usize,
}

fn score(rows: &[&(usize, String, String, String)]) -> Scores {
    let mut tp = [0usize; 4];
    let mut predicted = [0usize; 4];
    let mut actual = [0usize; 4];
    let mut untagged = 0;
    for (_, label, title, desc) in rows {
        let gold = LABELS.iter().position(|l| l == label).unwrap();
        actual[gold] += 1;
        let tags = sectors_from_text(title, desc);
        match tags.first() {
            None => untagged += 1,
            Some(t) => {
                let got = LABELS
                    .iter()
                    .position(|l| *l == label_of(t.sector))
                    .unwrap();
                predicted[got] += 1;
                if got == gold {
                    tp[got] += 1;
                }
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_label: Vec<_> = (0..4)
        .map(|i| {
            let p = ratio(tp[i], predicted[i]);
            let r = ratio(tp[i], actual[i]);
            let f = if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            };
            (LABELS[i], p, r, f, actual[i])
        })
        .collect();
    let macro_f1 = per_label.iter().map(|x| x.3).sum::<f64>() / 4.0;
    Scores {
        per_label,
        macro_f1,
        untagged: ratio(untagged, rows.len()),
        n: rows.len(),
    }
}

fn print(name: &str, s: &Scores) {
    println!("AG News {name} ({} items):", s.n);
    println!("| label | items | precision | recall | F1 |");
    println!("|---|---|---|---|---|");
    for (l, p, r, f, n) in &s.per_label {
        println!("| {l} | {n} | {p:.3} | {r:.3} | {f:.3} |");
    }
    println!(
        "macro-F1 {:.3}; no sector for {:.1} %",
        s.macro_f1,
        s.untagged * 100.0
    );
}

#[test]
fn ag_news_sector_precision_recall() {
    let Some(rows) = load() else {
        println!("AG News corpus not found; skipped");
        return;
    };
    assert!(rows.len() > 1500);
    let odd: Vec<_> = rows.iter().filter(|r| r.0 % 2 == 1).collect();
    let even: Vec<_> = rows.iter().filter(|r| r.0 % 2 == 0).collect();
    let all: Vec<_> = rows.iter().collect();
    let (so, se, sa) = (score(&odd), score(&even), score(&all));
    print("odd rows (looked at)", &so);
    print("even rows (held out)", &se);
    print("all", &sa);
    if std::env::var_os("AG_MISSES").is_some() {
        for (row, label, title, desc) in &odd {
            let tags = sectors_from_text(title, desc);
            let got = tags.first().map(|t| label_of(t.sector));
            if got != Some(label.as_str()) {
                println!(
                    "miss {row} {label} -> {:?}: {title} | {desc} | {:?}",
                    got,
                    tags.iter()
                        .map(|t| (t.sector, t.score, t.evidence.clone()))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
    // A floor under what the lexicon reaches (0.76 held out; it was 0.43 with 55 % untagged
    // before the news vocabulary and the one-keyword primary sector).
    assert!(se.macro_f1 >= 0.72, "held-out macro-F1 {}", se.macro_f1);
    assert!(se.untagged <= 0.05, "untagged {}", se.untagged);
}
