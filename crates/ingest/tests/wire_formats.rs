//! Real agency files in the formats of the wire desk (NITF 3.x, NewsML 1.x, IPTC 7901,
//! ANPA 1312, NewsML-G2 packages): every file of `wire-formats/MANIFEST.json` gives its story
//! (or package) with the manifest's headline and a body, or a clear error — never a panic;
//! encodings (two files lie in their XML declaration) come out as the intended characters;
//! write-throughs and leads are updates.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use newsdesk_domain::WireItem;
use newsdesk_ingest::{detect, parse_items, Format, Limits};
use serde_json::Value;

fn manifest() -> (std::path::PathBuf, Vec<Value>) {
    let dir = common::collection("wire-formats");
    let text = std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (dir, v.as_array().unwrap().clone())
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn read(dir: &std::path::Path, file: &str) -> Result<Vec<WireItem>, String> {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    parse_items("agency", &bytes, None, None, &Limits::default()).map_err(|e| e.to_string())
}

/// The manifest's headline for a file: `hl1`/`headline`, or the package's / first item's.
fn expected_headline(e: &Value) -> Option<String> {
    let h = e.get("hl1").or_else(|| e.get("headline"));
    if let Some(h) = h {
        return h.as_str().map(str::to_owned);
    }
    let items = e.get("items")?.as_array()?;
    items
        .iter()
        .find_map(|i| i.get("headline").and_then(Value::as_str))
        .map(str::to_owned)
}

#[test]
fn every_manifest_file_reads_with_its_headline_and_a_body() {
    let (dir, entries) = manifest();
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for e in &entries {
        let file = e["file"].as_str().unwrap();
        let format = e["format"].as_str().unwrap().to_owned();
        let row = table.entry(format.clone()).or_default();
        let items = match read(&dir, file) {
            Ok(items) => items,
            Err(err) => {
                row.1 += 1;
                failures.push(format!("{file}: error {err}"));
                continue;
            }
        };
        row.0 += 1;
        if expected_headline(e).as_deref() == Some("Impressum") {
            // dpa's legal notice is a service message, set aside (see below).
            if !items.is_empty() {
                failures.push(format!("{file}: the Impressum was read as a story"));
            }
            continue;
        }
        let Some(first) = items.first() else {
            failures.push(format!("{file}: no items"));
            continue;
        };
        if let Some(h) = expected_headline(e).filter(|h| !h.is_empty()) {
            if !items.iter().any(|i| norm(&i.headline) == norm(&h)) {
                failures.push(format!("{file}: headline {:?}, want {h:?}", first.headline));
            }
        }
        if !items.iter().any(|i| !i.headline.trim().is_empty()) {
            failures.push(format!("{file}: no headline at all"));
        }
        let is_package = e["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["kind"] == "packageItem"));
        // Pictures have their caption as summary and no body; the Belga tip is a
        // headline-only alert whose Lead and Body are empty in the source.
        let body_or_caption = !first.body_html.trim().is_empty()
            || !first.summary.trim().is_empty()
            || file.ends_with("belga_tip_newsml_1_2.xml");
        if !is_package && !body_or_caption {
            failures.push(format!("{file}: empty body"));
        }
        let source_has_fffd = std::fs::read(dir.join(file))
            .unwrap()
            .windows(3)
            .any(|w| w == [0xEF, 0xBF, 0xBD]);
        for i in items.iter().filter(|_| !source_has_fffd) {
            assert!(
                !i.headline.contains('\u{FFFD}') && !i.body_html.contains('\u{FFFD}'),
                "{file}: replacement characters"
            );
        }
    }
    for (format, (read, errors)) in &table {
        println!("{format}: {read} read, {errors} errors");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_dpa_impressum_is_set_aside_not_read_as_a_story() {
    let (dir, _) = manifest();
    let bytes = std::fs::read(dir.join("iptc7901/dpa_copyright.txt")).unwrap();
    let parsed = newsdesk_ingest::parse_items_report(
        "dpa",
        &bytes,
        &newsdesk_ingest::HttpMeta::default(),
        &Limits::default(),
    )
    .unwrap();
    assert!(parsed.items.is_empty(), "{:?}", parsed.items);
    assert_eq!(parsed.set_aside.len(), 1);
    assert!(parsed.set_aside[0].reason.contains("Impressum"));
    // A story that only mentions the word is copy as usual.
    let story = bytes
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .replace("Impressum =", "Impressum rules change for publishers =");
    let parsed = newsdesk_ingest::parse_items_report(
        "dpa",
        story.as_bytes(),
        &newsdesk_ingest::HttpMeta::default(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(parsed.items.len(), 1);
}

#[test]
fn formats_are_detected_from_the_content() {
    let (dir, entries) = manifest();
    for e in &entries {
        let file = e["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let want = match e["format"].as_str().unwrap() {
            "NITF" => Format::Nitf,
            "NewsML 1.x" => Format::NewsMl1,
            "IPTC 7901" => Format::Iptc7901,
            "ANPA 1312" => Format::Anpa1312,
            _ => Format::NewsMlG2,
        };
        assert_eq!(detect(&bytes, None), Some(want), "{file}");
    }
}

#[test]
fn lying_and_latin1_encodings_give_the_intended_characters() {
    let (dir, _) = manifest();
    for (file, want) in [
        ("nitf/mapping_test.xml", "41-årig"),
        ("nitf/nitf_test.xml", "41-årig"),
        ("nitf/pa5.xml", "£66BN"),
        ("newsml-1.2/afp20.xml", "Décès de Naomi Musenga"),
        ("newsml-1.2/ats_newsml_1_2_belga.xml", "magasin à Landquart"),
        ("iptc7901/ats.txt", "«catastrophe pour notre économie»"),
    ] {
        let items = read(&dir, file).unwrap();
        assert!(
            items[0].headline.contains(want),
            "{file}: {}",
            items[0].headline
        );
    }
    let items = read(&dir, "anpa1312/ap_anpa-6.tst").unwrap();
    assert!(items[0].body_html.contains("López"), "ap_anpa-6");
    let items = read(&dir, "iptc7901/IPTC7901_odd_charset.txt").unwrap();
    assert!(items[0].body_html.contains('ü'), "odd charset");
}

#[test]
fn updates_carry_their_version_and_version_zero_stays_zero() {
    let (dir, _) = manifest();
    let version = |file: &str| read(&dir, file).unwrap()[0].version;
    assert_eq!(version("anpa1312/ap_anpa-1.tst"), 2, "1stLd-Writethru");
    assert_eq!(version("anpa1312/ap_anpa-4.tst"), 4, "3rdLd-Writethru");
    assert_eq!(version("anpa1312/anpa-1.tst"), 1);
    assert_eq!(version("iptc7901/dpa.txt"), 3, "2ND LEAD");
    assert_eq!(version("iptc7901/IPTC7901_odd_charset.txt"), 2, "1ST LEAD");
    assert_eq!(version("iptc7901/IPTC7901.txt"), 1);
    assert_eq!(version("newsml-1.2/anp_belga.xml"), 2, "RevisionId 2");
    assert_eq!(
        version("newsml-1.2/belga_tip_newsml_1_2.xml"),
        0,
        "RevisionId 0"
    );
    assert_eq!(version("nitf/mapping_test.xml"), 4, "du-key version 04");
    assert_eq!(
        version("nitf/handle_invalid_fields.xml"),
        2,
        "one write-through"
    );
    // The same story's updates share one agency id.
    let a = read(&dir, "anpa1312/ap_anpa-3.tst").unwrap();
    assert!(a[0].agency_id.contains("BC-US--GiantLobsterDeath"));
}

#[test]
fn bylines_and_unfilled_dates_are_read_for_what_they_are() {
    let (dir, _) = manifest();
    let i = &read(&dir, "iptc7901/dpa_four_line.txt").unwrap()[0];
    assert_eq!(i.byline, "dpa correspondents");
    let i = &read(&dir, "nitf/handle_invalid_fields.xml").unwrap()[0];
    assert!(i.embargo.is_none(), "a template date.release is no embargo");
    assert!(i.published_at.is_some());
    let i = &read(&dir, "anpa1312/anpa-1.tst").unwrap()[0];
    assert_eq!(
        i.byline,
        "PAUL BYRNE and ALMUDENA CALATRAVA, Associated Press"
    );
    assert!(!i.body_html.contains("AP Photo"));
}

#[test]
fn packages_give_their_items_in_order_with_the_package_metadata() {
    let (dir, _) = manifest();
    let items = read(&dir, "newsml-g2-packages/video.xml").unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.agency_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "tag:reuters.com,2013:newsml_OVE933ZR5",
            "tag:reuters.com,2013:newsml_LOVE9230WHZNT",
            "tag:reuters.com,2013:newsml_LOVE9230WHZNS",
            "tag:reuters.com,2013:newsml_LOVE9230WHZNR",
        ]
    );
    assert!(
        items.iter().all(|i| !i.headline.is_empty()),
        "no blank rows"
    );
    // A package without guid or headline is a wrapper: its one item comes out, headed by
    // the headline of the NITF it carries.
    let items = read(&dir, "newsml-g2-packages/scoop.xml").unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].agency_id, "BD-20160112123540");
    assert!(items[0].headline.starts_with("Dick Smith receivers"));
    // A package whose items are elsewhere is read for what it is: a list of references.
    let items = read(&dir, "newsml-g2-packages/snep.xml").unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].headline, "OUSTPM Link List");
}

#[test]
fn a_newsml_g2_version_zero_stays_zero() {
    let doc = br#"<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:1" version="0">
      <contentMeta><headline>First take</headline></contentMeta>
      <contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><body><p>Text.</p></body></html></inlineXML></contentSet>
    </newsItem>"#;
    let items = parse_items("a", doc, None, None, &Limits::default()).unwrap();
    assert_eq!(items[0].version, 0);
}

#[test]
fn the_reuters_package_resolves_its_item_refs_to_the_sibling_files() {
    let (dir, entries) = manifest();
    let folder: Vec<&Value> = entries
        .iter()
        .filter(|e| e["file"].as_str().unwrap().contains("reuters-KBN0FL0NM/"))
        .collect();
    assert_eq!(folder.len(), 6);
    let bytes: Vec<Vec<u8>> = folder
        .iter()
        .map(|e| std::fs::read(dir.join(e["file"].as_str().unwrap())).unwrap())
        .collect();
    // The package file in the middle of the set, as a folder listing would give it.
    let mut docs: Vec<(&str, &[u8])> = bytes.iter().map(|b| ("reuters", b.as_slice())).collect();
    docs.rotate_left(2);
    let results = newsdesk_ingest::parse_item_set(&docs, &Limits::default());
    let package = folder
        .iter()
        .position(|e| e["items"][0]["kind"] == "packageItem")
        .unwrap();
    let package_at = (package + docs.len() - 2) % docs.len();
    let mut package_items = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        let p = r.unwrap();
        if i == package_at {
            package_items = p.items;
        } else {
            assert!(p.items.is_empty(), "doc {i} read with its package");
            assert_eq!(p.packaged, 1);
        }
    }
    let want: Vec<String> = folder[package]["items"][0]["itemRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["residref"].as_str().unwrap().to_owned())
        .collect();
    let got: Vec<String> = package_items.iter().map(|i| i.agency_id.clone()).collect();
    assert_eq!(got, want, "all 5 itemRefs, in the package's order");
    // The package's metadata reaches its items.
    assert!(package_items.iter().all(|i| !i.headline.is_empty()));
}

#[test]
fn a_newsml_1_id_names_the_item_not_the_provider_nor_the_revision() {
    let (dir, _) = manifest();
    let tip = &read(&dir, "newsml-1.2/belga_tip_newsml_1_2.xml").unwrap()[0];
    assert_ne!(
        tip.agency_id, "urn:newsml:www.belga.be",
        "a provider is no item id"
    );
    let afp = &read(&dir, "newsml-1.2/afp.xml").unwrap()[0];
    assert_eq!(
        afp.agency_id,
        "urn:newsml:afp.com:20140829T135002Z:TX-PAR-FXW86"
    );
}

#[test]
fn truncated_and_mangled_agency_files_never_panic() {
    let (dir, entries) = manifest();
    let mut errors = 0usize;
    for e in &entries {
        let bytes = std::fs::read(dir.join(e["file"].as_str().unwrap())).unwrap();
        let n = bytes.len();
        for cut in [1, 2, 3, 7, n / 5, n / 3, n / 2, n * 2 / 3, n - 1] {
            let part = &bytes[..cut.min(n)];
            errors += usize::from(parse_items("a", part, None, None, &Limits::default()).is_err());
            // Control characters dropped, as some relays do.
            let stripped: Vec<u8> = part
                .iter()
                .copied()
                .filter(|b| *b >= 0x20 || *b == b'\n')
                .collect();
            let _ = parse_items("a", &stripped, None, None, &Limits::default());
        }
    }
    // Most truncations cannot be read; what matters is a clear error, never a panic.
    assert!(errors > 0);
    // A document over the size limit is refused before any work.
    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let big = std::fs::read(dir.join("anpa1312/anpa-1.tst")).unwrap();
    assert!(parse_items("a", &big, None, None, &small).is_err());
}

#[test]
fn anpa_stories_without_a_headline_line_are_headed_as_a_desk_would() {
    let (dir, _) = manifest();
    // A news alert is one dateline sentence: that sentence, without the dateline, heads it.
    let i = &read(&dir, "anpa1312/ap_anpa-5.tst").unwrap()[0];
    assert_eq!(
        i.headline,
        "Hawaii files court challenge to Trump administration's definition of close U.S. \
         relationship needed to avoid travel ban"
    );
    assert!(i.body_html.contains("HONOLULU (AP)"), "the lede stays");
    // Agate: the lede is a long table caption, so the slug as written on the keyword line.
    let i = &read(&dir, "anpa1312/anpa-3.tst").unwrap()[0];
    assert_eq!(i.headline, "Global Weather-Fahrenheit");
    // The keyword is kept, marked as such.
    let kw = i.subjects.iter().find(|s| s.code.starts_with("keyword:"));
    assert_eq!(
        kw.map(|s| (s.code.as_str(), s.name.as_deref())),
        Some((
            "keyword:BC-WEA--GlobalWeather-Fa",
            Some("Global Weather-Fahrenheit")
        ))
    );
    // A story with its headline line keeps it.
    let i = &read(&dir, "anpa1312/anpa-1.tst").unwrap()[0];
    assert_eq!(i.headline, "For Argentine chemo patients, mirrors can hurt");
}
