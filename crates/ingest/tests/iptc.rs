//! NewsML-G2 and ninjs examples: they parse, and the subjects and places IPTC lists for each
//! (TAGS_EXTRACTED.json) come out.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use newsdesk_domain::{WireItem, WireStatus};
use newsdesk_ingest::{parse_items, IngestError, Limits};
use serde_json::Value;

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_code(items: &[WireItem], code: &str) -> bool {
    let iso = code
        .strip_prefix("iso3166-1a2:")
        .map(str::to_ascii_uppercase);
    items.iter().any(|i| {
        i.subjects.iter().any(|s| s.code == code)
            || i.places
                .iter()
                .any(|p| p.code.as_deref() == Some(code) || (iso.is_some() && p.code == iso))
    })
}

fn has_name(items: &[WireItem], name: &str) -> bool {
    items.iter().any(|i| {
        i.subjects.iter().any(|s| s.name.as_deref() == Some(name))
            || i.places.iter().any(|p| p.name.as_deref() == Some(name))
    })
}

fn load_tags(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("TAGS_EXTRACTED.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn newsml_g2_examples_carry_their_subjects_and_places() {
    let corpora = common::corpora();
    let dir = common::collection("iptc-newsml-g2");
    let (mut total, mut passed, mut missing) = (0, 0, 0);
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for case in load_tags(&dir) {
        let file = case["file"].as_str().unwrap();
        let Ok(bytes) = std::fs::read(corpora.join(file)) else {
            missing += 1;
            continue;
        };
        total += 1;
        let items = match parse_items("iptc", &bytes, None, None, &Limits::default()) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{file}: error {e}"));
                continue;
            }
        };
        if items.is_empty() {
            // Knowledge/concept/planning items describe things; they are not wire copy.
            skipped.push(file.to_owned());
            total -= 1;
            continue;
        }
        let mut bad = Vec::new();
        for s in case["subjects"].as_array().unwrap() {
            let qcode = s[0].as_str();
            let name = s[2].as_str().unwrap_or("");
            match qcode {
                Some(q) if !has_code(&items, q) => bad.push(format!("subject {q}")),
                None if !name.is_empty() && !has_name(&items, name) => {
                    bad.push(format!("subject named {name:?}"));
                }
                _ => {}
            }
        }
        for l in case["locations"].as_array().unwrap() {
            if let Some(q) = l[1].as_str() {
                if !has_code(&items, q) {
                    bad.push(format!("place {q}"));
                }
            }
            for b in l[3].as_array().into_iter().flatten() {
                if let Some(q) = b[0].as_str().filter(|q| q.starts_with("iso3166-1a2:")) {
                    if !has_code(&items, q) {
                        bad.push(format!("country {q}"));
                    }
                }
            }
        }
        if let Some(h) = case["headline"]
            .as_array()
            .and_then(|h| h.first())
            .and_then(Value::as_str)
        {
            if !items.iter().any(|i| i.headline == norm(h)) {
                bad.push(format!(
                    "headline {:?} (want {:?})",
                    items[0].headline,
                    norm(h)
                ));
            }
        }
        if bad.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{file}: missing {}", bad.join(", ")));
        }
    }
    println!("NewsML-G2: {missing} listed examples not in this copy of the corpus; not wire copy (no items): {skipped:?}");
    let rate = common::report("NewsML-G2 tags", passed, total, &failures);
    assert!(total > 0, "no NewsML-G2 examples found");
    assert!(rate >= 100.0, "NewsML-G2 tag rate {rate:.1}%");
}

#[test]
fn newsml_g2_example_maps_every_field() {
    let dir = common::collection("iptc-newsml-g2");
    let bytes =
        std::fs::read(dir.join("releases/2.35/examples/LISTING_1_A_NewsML-G2_News_Item.xml"))
            .unwrap();
    let items = parse_items("acme", &bytes, None, None, &Limits::default()).unwrap();
    let [item] = items.as_slice() else {
        panic!("one item expected, got {}", items.len())
    };
    assert_eq!(item.agency, "acme");
    assert_eq!(
        item.agency_id,
        "urn:newsml:acmenews.com:20161018:US-FINANCE-FED"
    );
    assert_eq!(item.version, 11);
    assert_eq!(item.headline, "Fed to halt QE to avert \"bubble\"");
    assert_eq!(item.byline, "Meredith Jameson");
    assert_eq!(item.language.as_deref(), Some("en-GB"));
    assert_eq!(item.status, WireStatus::Usable);
    assert_eq!(
        item.usage_terms.as_deref(),
        Some("Not for use outside the United States")
    );
    assert_eq!(
        item.published_at.unwrap().to_rfc3339(),
        "2016-10-18T18:12:21+00:00"
    );
    assert_eq!(
        item.updated_at.unwrap().to_rfc3339(),
        "2018-10-21T21:25:32+00:00"
    );
    assert!(item
        .places
        .iter()
        .any(|p| p.code.as_deref() == Some("DE") && p.name.as_deref() == Some("Germany")));
    assert!(item
        .subjects
        .iter()
        .any(|s| s.code == "medtop:20000523" && s.name.as_deref() == Some("labour market")));
}

#[test]
fn newsml_g2_unit_test_files_never_panic() {
    let dir = common::collection("iptc-newsml-g2").join("tests");
    let mut stack = vec![dir];
    let (mut total, mut ok, mut items) = (0, 0, 0);
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                total += 1;
                let bytes = std::fs::read(&p).unwrap();
                if let Ok(v) = parse_items("iptc", &bytes, None, None, &Limits::default()) {
                    ok += 1;
                    items += v.len();
                }
            }
        }
    }
    println!("NewsML-G2 unit-test files: {total} read without panic, {ok} parsed, {items} items");
    assert!(total > 0);
}

fn ninjs_matches(items: &[WireItem], want: &Value) -> bool {
    let name = want.get("name").and_then(Value::as_str);
    let literal = want.get("literal").and_then(Value::as_str);
    let uri = want.get("uri").and_then(Value::as_str);
    let medtop = uri.and_then(|u| {
        u.strip_prefix("http://cv.iptc.org/newscodes/mediatopic/")
            .map(|c| format!("medtop:{c}"))
    });
    name.is_some_and(|n| has_name(items, n))
        || literal.is_some_and(|l| has_code(items, l))
        || medtop.is_some_and(|m| has_code(items, &m))
        || uri.is_some_and(|u| has_code(items, u))
}

#[test]
fn ninjs_examples_carry_their_subjects_and_places() {
    let corpora = common::corpora();
    let dir = common::collection("iptc-ninjs");
    let (mut total, mut passed, mut missing) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in load_tags(&dir) {
        let file = case["file"].as_str().unwrap();
        let Ok(bytes) = std::fs::read(corpora.join(file)) else {
            missing += 1;
            continue;
        };
        total += 1;
        let items = match parse_items("iptc", &bytes, None, None, &Limits::default()) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{file}: error {e}"));
                continue;
            }
        };
        let mut bad = Vec::new();
        for key in ["subjects", "places"] {
            for want in case[key].as_array().into_iter().flatten() {
                if !ninjs_matches(&items, want) {
                    bad.push(format!("{key} {want}"));
                }
            }
        }
        if let Some(h) = case["headline"].as_str() {
            if !items.iter().any(|i| i.headline == norm(h)) {
                bad.push(format!("headline (want {h:?})"));
            }
        }
        if bad.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{file}: missing {}", bad.join(", ")));
        }
    }
    println!("ninjs: {missing} listed examples not in this copy of the corpus");
    let rate = common::report("ninjs tags", passed, total, &failures);
    assert!(total > 0, "no ninjs examples found");
    assert!(rate >= 100.0, "ninjs tag rate {rate:.1}%");
}

#[test]
fn ninjs_examples_and_validation_suite_parse_or_fail_cleanly() {
    let dir = common::collection("iptc-ninjs");
    let mut stack = vec![dir.join("examples"), dir.join("validation")];
    let (mut total, mut ok, mut with_headline) = (0, 0, 0);
    let mut example_failures = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                total += 1;
                let bytes = std::fs::read(&p).unwrap();
                match parse_items("iptc", &bytes, None, None, &Limits::default()) {
                    Ok(v) => {
                        ok += 1;
                        with_headline += v.iter().filter(|i| !i.headline.is_empty()).count();
                    }
                    Err(e) if p.starts_with(dir.join("examples")) => {
                        example_failures.push(format!("{}: {e}", p.display()));
                    }
                    Err(_) => {}
                }
            }
        }
    }
    println!("ninjs files: {total} read without panic, {ok} parsed, {with_headline} items with a headline");
    assert!(example_failures.is_empty(), "{example_failures:?}");
}

#[test]
fn ninjs_versions_status_and_bodies() {
    let v1 = br#"{"uri":"urn:x:1","version":"3","pubstatus":"withheld","urgency":2,
        "headline":"H &amp; co","body_html":"<p>Hi<script>x()</script></p>",
        "subject":[{"code":"20000763","scheme":"http://cv.iptc.org/newscodes/mediatopic/","name":"IT"}],
        "place":[{"name":"Kenya","code":"ke","scheme":"http://cvx.iptc.org/iso3166-1a2/"}],
        "usageterms":"No archive","versioncreated":"2024-01-02T03:04:05Z","language":"en"}"#;
    let items = parse_items("ap", v1, None, None, &Limits::default()).unwrap();
    let i = &items[0];
    assert_eq!(
        (i.version, i.status, i.urgency),
        (3, WireStatus::Withdrawn, Some(2))
    );
    assert_eq!(i.headline, "H & co");
    assert_eq!(i.body_html, "<p>Hi</p>");
    assert_eq!(i.subjects[0].code, "medtop:20000763");
    assert_eq!(i.places[0].code.as_deref(), Some("KE"));
    assert_eq!(i.usage_terms.as_deref(), Some("No archive"));

    let v3 = br#"{"items":[{"uri":"urn:x:2","version":7,"pubStatus":"canceled",
        "headlines":[{"role":"main","value":"Main"}],"bodies":[{"role":"text","contentType":"text/plain","value":"a\n\nb"}],
        "subjects":[{"uri":"http://cv.iptc.org/newscodes/mediatopic/15000000","name":"sport"}]}]}"#;
    let items = parse_items("ap", v3, None, None, &Limits::default()).unwrap();
    let i = &items[0];
    assert_eq!((i.version, i.status), (7, WireStatus::Canceled));
    assert_eq!(i.headline, "Main");
    assert_eq!(i.body_html, "<p>a</p><p>b</p>");
    assert_eq!(i.subjects[0].code, "medtop:15000000");

    assert!(parse_items("ap", b"42", None, None, &Limits::default()).is_err());
    let odd = br#"{"version":"https://jsonfeed.org/version/1.1","items":5}"#;
    assert!(parse_items("ap", odd, None, None, &Limits::default())
        .unwrap()
        .is_empty());
    assert!(matches!(
        newsdesk_ingest::parse_feed(b"<html><body/></html>", None, None, &Limits::default()),
        Err(IngestError::NotAFeed(_))
    ));
}

/// Agency embargoes: ninjs `embargoed` and NewsML-G2 `itemMeta/embargoed`, with zones, without,
/// empty and unreadable, from the IPTC examples and inline.
#[test]
fn embargoes_are_read_from_ninjs_and_newsml_g2() {
    // Metadata-only items are set aside (not blank rows), but read: their embargo is there.
    let parse = |bytes: &[u8]| {
        let p = newsdesk_ingest::parse_items_report(
            "acme",
            bytes,
            &newsdesk_ingest::HttpMeta::default(),
            &Limits::default(),
        )
        .unwrap();
        let mut items = p.items;
        items.extend(p.set_aside.into_iter().map(|s| s.item));
        items
    };
    let at = |items: &[WireItem]| items[0].embargo.map(|e| e.to_rfc3339());
    let g2 = common::collection("iptc-newsml-g2");
    let listing =
        std::fs::read(g2.join("releases/2.35/examples/LISTING_1_A_NewsML-G2_News_Item.xml"))
            .unwrap();
    assert_eq!(
        at(&parse(&listing)).as_deref(),
        Some("2018-10-23T12:00:00+00:00")
    );
    // Superdesk writes an empty <embargoed></embargoed> when there is none.
    let scoop =
        std::fs::read(common::collection("wire-formats").join("newsml-g2-packages/scoop.xml"))
            .unwrap();
    let items = parse(&scoop);
    assert!(!items.is_empty() && items.iter().all(|i| i.embargo.is_none()));
    let offset = String::from_utf8(listing)
        .unwrap()
        .replace("2018-10-23T12:00:00Z", "2018-10-23T17:30:00+05:30");
    assert_eq!(
        at(&parse(offset.as_bytes())).as_deref(),
        Some("2018-10-23T12:00:00+00:00")
    );

    let suite = common::collection("iptc-ninjs").join("validation/test_suite/1.0/should_pass");
    let file = |name: &str| parse(&std::fs::read(suite.join(name)).unwrap());
    assert_eq!(
        at(&file("018_embargoed.json")).as_deref(),
        Some("2019-10-01T00:00:00+00:00")
    );
    // A date alone: the start of that day in the latest zone on earth (UTC-12).
    assert_eq!(
        at(&file("020_embargoed_date_only.json")).as_deref(),
        Some("2019-10-01T12:00:00+00:00")
    );
    // "Next Monday": held until further notice.
    assert_eq!(
        file("019_embargoed_bad_datetime.json")[0].embargo,
        Some(newsdesk_domain::embargo_unknown())
    );
    let v3 = br#"{"items":[{"uri":"urn:x:e","embargoed":"2026-11-20T09:00:00-03:00","headlines":[{"role":"main","value":"H"}]}]}"#;
    assert_eq!(at(&parse(v3)).as_deref(), Some("2026-11-20T12:00:00+00:00"));
    let odd = br#"{"uri":"urn:x:n","embargoed":12345}"#;
    assert_eq!(
        parse(odd)[0].embargo,
        Some(newsdesk_domain::embargo_unknown())
    );
    for none in [
        &br#"{"uri":"urn:x:0","embargoed":null}"#[..],
        br#"{"uri":"urn:x:0","embargoed":""}"#,
        br#"{"uri":"urn:x:0"}"#,
    ] {
        assert_eq!(parse(none)[0].embargo, None);
    }
}
