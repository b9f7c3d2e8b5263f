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
//! while writing the lexicon and choosing the word model's weight, even rows were not (the
//! held-out half); both are reported. The shipped word model is trained on IPTC definitions, not
//! on AG News; a second one trained on the odd rows exists only inside this test.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_enrich::sector::{
    sectors_from_text, sectors_from_text_with, word_model, SectorTag, WordModel,
};
use newsdesk_enrich::{content_hash, fingerprint::mix64, Clusterer, MinHasher};
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
    score_with(rows, sectors_from_text)
}

fn score_with(
    rows: &[&(usize, String, String, String)],
    tag: impl Fn(&str, &str) -> Vec<SectorTag>,
) -> Scores {
    let mut tp = [0usize; 4];
    let mut predicted = [0usize; 4];
    let mut actual = [0usize; 4];
    let mut untagged = 0;
    for (_, label, title, desc) in rows {
        let gold = LABELS.iter().position(|l| l == label).unwrap();
        actual[gold] += 1;
        let tags = tag(title, desc);
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
    if std::env::var_os("AG_SWEEP").is_some() {
        for w in [0.0f32, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0] {
            for m in [1.0f32, 2.0, 3.0, 100.0] {
                let f = |r: &[&(usize, String, String, String)]| {
                    score_with(r, |h, b| sectors_from_text_with(h, b, word_model(), w, m)).macro_f1
                };
                println!(
                    "sweep weight {w} margin {m}: odd {:.3} even {:.3}",
                    f(&odd),
                    f(&even)
                );
            }
        }
    }
    // The method with in-domain training text, inside this test only (AG News is test data and
    // never shipped): the word model trained on the odd rows, scored on the even rows.
    let rep = |l: &str| match l {
        "World" => "politics",
        "Sports" => "sports",
        "Business" => "economy-business",
        _ => "technology",
    };
    let texts: Vec<(&'static str, String)> = odd
        .iter()
        .map(|r| (rep(&r.1), format!("{} {} {}", r.2, r.2, r.3)))
        .collect();
    let ag_model = WordModel::train(texts.iter().map(|(s, t)| (*s, t.as_str())));
    let alone = score_with(&even, |h, b| {
        sectors_from_text_with(h, b, &ag_model, 1000.0, f32::MAX)
    });
    print(
        "even rows, word model trained on odd rows (test only)",
        &alone,
    );
    for (w, m) in [(2.0f32, 2.0f32), (4.0, 4.0), (6.0, 100.0), (10.0, 100.0)] {
        let c = score_with(&even, |h, b| sectors_from_text_with(h, b, &ag_model, w, m));
        println!(
            "lexicon + odd-row model weight {w} margin {m}: even macro-F1 {:.3}",
            c.macro_f1
        );
    }
    // Floors under what lexicon + word model reach (0.774 held out, 1.0 % untagged); the
    // lexicon alone reached 0.763 with 2.8 % untagged, 0.43 with 55 % before the news vocabulary.
    assert!(se.macro_f1 >= 0.77, "held-out macro-F1 {}", se.macro_f1);
    assert!(se.untagged <= 0.02, "untagged {}", se.untagged);
    // The method with in-domain text beats the lexicon on the held-out half.
    assert!(alone.macro_f1 >= 0.80, "odd-row model {}", alone.macro_f1);
}

/// A near-duplicate of an agency item as another agency (or a later re-send) would file it:
/// 10–30 % of the words dropped, about 10 % replaced by words of another item, the two halves of
/// the text swapped, a dateline added.
fn variant(text: &str, other: &str, seed: u64) -> String {
    let mut state = seed;
    let mut rnd = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(state)
    };
    let others: Vec<&str> = other.split_whitespace().collect();
    let drop_pct = 10 + rnd() % 21;
    let mut ws: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        let r = rnd() % 100;
        if r < drop_pct {
            continue;
        }
        if r >= 90 && !others.is_empty() {
            ws.push(others[rnd() as usize % others.len()].to_string());
        } else {
            ws.push(w.to_string());
        }
    }
    let half = ws.len() / 2;
    ws.rotate_left(half);
    const DATELINES: [&str; 4] = [
        "NAIROBI (Meridian Wire) -",
        "LIMA, Peru (Continental Press) -",
        "MANILA (Coastal News) --",
        "LONDON (Highland Agency) -",
    ];
    format!("{} {}", DATELINES[rnd() as usize % 4], ws.join(" "))
}

/// Pairwise clustering precision and recall on near-duplicate variants built from AG News items
/// (the items are 1,577 distinct stories; each of 400 gets two rewritten variants within three
/// hours and every tenth an exact re-send under a new id a day later).
#[test]
fn clustering_of_near_duplicate_variants_of_real_copy() {
    let Some(rows) = load() else {
        println!("AG News corpus not found; skipped");
        return;
    };
    let base = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    // (story, published, text)
    let mut items: Vec<(usize, chrono::DateTime<Utc>, String)> = Vec::new();
    for (i, (_, _, title, desc)) in rows.iter().enumerate() {
        let at = base + Duration::minutes(3 * i as i64);
        let text = format!("{title}\n{desc}");
        items.push((i, at, text.clone()));
        if i < 400 {
            let other = &rows[(i * 7 + 3) % rows.len()].3;
            for v in 0..2u64 {
                items.push((
                    i,
                    at + Duration::minutes(20 + 70 * v as i64),
                    variant(&text, other, i as u64 * 10 + v),
                ));
            }
            if i % 10 == 0 {
                items.push((i, at + Duration::hours(26), text.clone()));
            }
        }
    }
    items.sort_by_key(|x| x.1);
    let hasher = MinHasher::default();
    let mut c = Clusterer::default();
    let mut cluster = Vec::with_capacity(items.len());
    for (n, (_, at, text)) in items.iter().enumerate() {
        let (head, body) = text.split_once('\n').unwrap_or((text, ""));
        let sig = hasher.signature(text);
        cluster.push(
            c.add_exact(n as u64, *at, content_hash(head, body), &sig)
                .cluster_id,
        );
    }
    let (mut tp, mut fp, mut fneg) = (0u64, 0u64, 0u64);
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            match (items[i].0 == items[j].0, cluster[i] == cluster[j]) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                _ => {}
            }
        }
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / (tp + fneg).max(1) as f64;
    println!(
        "CLUSTERING (AG News variants, {} items of {} stories): pairwise precision {p:.3}, recall {r:.3} ({tp} true pairs joined, {fp} false, {fneg} missed)",
        items.len(),
        rows.len()
    );
    assert!(p >= 0.95, "precision {p}");
    assert!(r >= 0.80, "recall {r}");
}
