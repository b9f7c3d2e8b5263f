//! End-to-end ingest benchmark: a generated stream of agency items from five agencies (each event
//! reported by several of them in different words) through `App::ingest` into SQLite.
//!
//! `cargo run --release -p newsdesk-app --example ingest_bench -- [ITEMS] [BATCH] [MODE]`
//!
//! MODE `generated` (default): short items over a made-up vocabulary. MODE `real`: real-length
//! stories (300–800 words) built from real agency sentences, the AG News descriptions in
//! `../shared/corpora/news-text/ag-news-dev/` (read at run time, test data only): each event is
//! a random draw of descriptions, each agency's report of it drops and reorders some of them.
//!
//! Prints items per second for every tenth of the run (the per-item cost must stay flat:
//! clustering is a banded lookup, not a comparison with everything), the clusterer's
//! comparisons per item, and the process's resident memory.

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;
use std::time::Instant;

const AGENCIES: [&str; 5] = [
    "Pan-Regional Wire",
    "Continental Press",
    "Coastal News Service",
    "Highland Agency",
    "Metro Wire",
];
const PLACES: [&str; 12] = [
    "Nairobi",
    "Mombasa",
    "Lagos",
    "Accra",
    "Dhaka",
    "Kathmandu",
    "Lima",
    "Quito",
    "Manila",
    "Hanoi",
    "Tunis",
    "Amman",
];
const TOPICS: [&str; 10] = [
    "floods",
    "a new clinic",
    "the school budget",
    "a power cut",
    "a bus strike",
    "the harvest",
    "a water project",
    "a court ruling",
    "an election count",
    "a vaccine drive",
];
const VERBS: [&str; 6] = ["hit", "reached", "changed", "delayed", "expanded", "shook"];
const FILLER: [&str; 12] = [
    "officials said",
    "residents reported",
    "according to local media",
    "the ministry confirmed",
    "aid groups warned",
    "witnesses said",
    "the mayor said",
    "figures showed",
    "a spokesperson said",
    "the report found",
    "unions said",
    "doctors said",
];

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_owned())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU seconds used by this process so far (user + system), from `/proc/self/stat`: on a shared
/// machine the wall clock also counts time spent waiting for a core.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// A small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, v: &'a [&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

/// Item `n` of the stream: events come in groups of up to five reports, one per agency, worded
/// differently; about one report in twenty is an exact re-send of the previous one.
fn item(n: usize, rng: &mut Rng, start: chrono::DateTime<Utc>) -> WireItem {
    let event = n / 4;
    let agency = AGENCIES[n % 5];
    let mut ev = Rng(event as u64 * 7919);
    let (place, topic, verb) = (ev.pick(&PLACES), ev.pick(&TOPICS), ev.pick(&VERBS));
    let number = ev.next() % 900 + 12;
    // Words of this event only (names, places, figures in real copy), shared by its reports.
    const SYL: [&str; 16] = [
        "ka", "mo", "ri", "ta", "ne", "lu", "sa", "vo", "di", "pe", "zu", "ho", "mi", "ga", "be",
        "to",
    ];
    let own: Vec<String> = (0..40)
        .map(|_| {
            (0..3)
                .map(|_| SYL[(ev.next() % 16) as usize])
                .collect::<String>()
        })
        .collect();
    // Most of a report is about its own event; agencies differ in filler and word order.
    let mut body = format!(
        "In {place}, {topic} {verb} {number} families near {} and {}. ",
        own[0], own[1]
    );
    for k in 0..8 {
        let a = (k * 4 + (n % 5)) % 38 + 2;
        body.push_str(&format!(
            "{} {} {} {} {} in {place}. ",
            own[a],
            own[(a + 1) % 40],
            rng.pick(&FILLER),
            own[(a + 2) % 40],
            own[(a + 3) % 40]
        ));
    }
    WireItem {
        agency: agency.into(),
        agency_id: format!("{agency}-{n}"),
        version: 1,
        headline: format!("{place}: {topic} {verb} {number} families near {}", own[0]),
        summary: String::new(),
        body_html: format!("<p>{body}</p>"),
        byline: String::new(),
        urgency: Some((event % 5 + 1) as u8),
        language: Some("en".into()),
        published_at: Some(start + Duration::seconds(n as i64 * 2)),
        updated_at: None,
        subjects: vec![],
        places: vec![],
        usage_terms: None,
        links: vec![],
        status: WireStatus::Usable,
        embargo: None,
    }
}

/// Real agency sentences: the AG News descriptions (HTML entities decoded), in file order.
fn real_sentences() -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/news-text/ag-news-dev/ag-news-dev.csv");
    let raw = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (real mode needs the corpora)", path.display()))?;
    let mut out = Vec::new();
    for line in raw.lines().skip(1) {
        let mut fields = Vec::new();
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
                (',', false) => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        fields.push(cur);
        if let [_, _, title, desc] = &fields[..] {
            let clean = |s: &str| {
                s.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
                    .replace("#39;", "'")
                    .replace("\\", " ")
            };
            out.push((clean(title), clean(desc)));
        }
    }
    Ok(out)
}

/// Item `n` of the real-length stream: the event's descriptions (300–800 words), each
/// agency keeping about nine in ten of them in its own order; the headline is the first one's
/// title.
fn real_item(
    n: usize,
    rng: &mut Rng,
    start: chrono::DateTime<Utc>,
    sentences: &[(String, String)],
) -> WireItem {
    let event = n / 4;
    let agency = AGENCIES[n % 5];
    let mut ev = Rng(event as u64 * 7919 + 1);
    let target = 300 + (ev.next() % 501) as usize;
    let first = (ev.next() % sentences.len() as u64) as usize;
    let mut parts: Vec<&str> = Vec::new();
    let mut words = 0;
    let mut k = first;
    while words < target {
        let d = sentences[k].1.as_str();
        words += d.split_whitespace().count();
        parts.push(d);
        // Descriptions drawn at random: two events share few of them, as two real stories
        // share only general words.
        k = (ev.next() % sentences.len() as u64) as usize;
    }
    let mut kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|_| !rng.next().is_multiple_of(10))
        .collect();
    let len = kept.len();
    if len > 2 {
        kept.swap((rng.next() as usize) % len, (rng.next() as usize) % len);
    }
    let body: String = kept.iter().map(|p| format!("<p>{p}</p>")).collect();
    WireItem {
        agency: agency.into(),
        agency_id: format!("{agency}-{n}"),
        version: 1,
        headline: sentences[first].0.clone(),
        summary: String::new(),
        body_html: body,
        byline: String::new(),
        urgency: Some((event % 5 + 1) as u8),
        language: Some("en".into()),
        published_at: Some(start + Duration::seconds(n as i64 * 2)),
        updated_at: None,
        subjects: vec![],
        places: vec![],
        usage_terms: None,
        links: vec![],
        status: WireStatus::Usable,
        embargo: None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let batch: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let real = match args.get(3).map(String::as_str) {
        None | Some("generated") => None,
        Some("real") => Some(real_sentences()?),
        Some(other) => return Err(format!("unknown mode {other}: generated or real").into()),
    };
    if let Some(s) = &real {
        println!(
            "real-length mode: stories of 300-800 words from {} agency descriptions",
            s.len()
        );
    }
    let store = newsdesk_store_sqlite::temp_store()?;
    println!("database: {}", store.path().display());
    let folder = store.path().parent().map(std::path::Path::to_owned);
    let store: Arc<dyn Store> = store;
    let start = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .ok_or("date")?;
    let clock = Arc::new(ManualClock::new(start));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default()).await?;
    let mut rng = Rng(42);
    let tenth = (total / 10).max(1);
    let (mut done, mut mark, mut mark_done) = (0usize, Instant::now(), 0usize);
    let begun = Instant::now();
    let cpu_begun = cpu_secs();
    let mut totals = newsdesk_app::wire::IngestReport::default();
    println!(
        "{:>9} {:>12} {:>10} {:>16}",
        "items", "items/s", "RSS MiB", "comparisons/item"
    );
    let mut last_cmp = 0u64;
    while done < total {
        let n = batch.min(total - done);
        let mut items = Vec::with_capacity(n);
        for i in done..done + n {
            // Every twentieth item re-sends the one before it.
            let k = if i % 20 == 19 { i - 1 } else { i };
            items.push(match &real {
                Some(s) => real_item(k, &mut Rng(k as u64), start, s),
                None => item(k, &mut Rng(k as u64), start),
            });
            let _ = rng.next();
        }
        clock.set(start + Duration::seconds((done + n) as i64 * 2));
        let r = app.ingest(items).await?;
        totals.new += r.new;
        totals.duplicates += r.duplicates;
        done += n;
        if done - mark_done >= tenth || done == total {
            let rate = (done - mark_done) as f64 / mark.elapsed().as_secs_f64();
            let cmp = app.cluster_comparisons();
            let per = (cmp - last_cmp) as f64 / (done - mark_done) as f64;
            last_cmp = cmp;
            println!("{done:>9} {rate:>12.0} {:>10.1} {per:>16.1}", rss_mib());
            mark = Instant::now();
            mark_done = done;
        }
    }
    let secs = begun.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_begun;
    let listed = Instant::now();
    let clusters = store
        .list_clusters(&WireQuery {
            limit: 500,
            ..Default::default()
        })
        .await?
        .len();
    println!(
        "wire inbox query (first 500 clusters): {:.1} ms",
        listed.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "CPU: {cpu:.1} s for {total} items = {:.0} items per CPU-second",
        total as f64 / cpu.max(0.01)
    );
    println!(
        "total: {total} items in {secs:.1} s = {:.0} items/s; {} new, {} duplicates; resident memory {:.0} MiB; clusters listed (first 500): {clusters}",
        total as f64 / secs,
        totals.new,
        totals.duplicates,
        rss_mib()
    );
    drop(app);
    drop(store);
    if let Some(folder) = folder {
        let _ = std::fs::remove_dir_all(folder);
    }
    Ok(())
}
