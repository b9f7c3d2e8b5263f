//! Clean bodies from agency copy: no repeated headline, no labels glued onto the last word,
//! captions as picture summaries, basic formatting kept, relative links resolved (or dropped),
//! items with nothing in them set aside with a reason, agency version 0 kept.
#![allow(clippy::unwrap_used)]

mod common;

use newsdesk_ingest::{parse_items, parse_items_report, HttpMeta, Limits};

fn one(bytes: &[u8]) -> newsdesk_domain::WireItem {
    let mut items = parse_items("agency", bytes, None, None, &Limits::default()).unwrap();
    assert_eq!(items.len(), 1);
    items.remove(0)
}

fn text(html: &str) -> String {
    newsdesk_domain::text::html_to_text(html)
}

#[test]
fn a_headline_repeated_at_the_body_start_goes() {
    let i = one(br#"{"uri":"urn:x:1","headline":"Floods hit Kenya",
        "body_html":"<p>Floods hit Kenya</p><h2>Floods hit Kenya.</h2><p>Rain fell for days.</p>"}"#);
    assert_eq!(i.body_html, "<p>Rain fell for days.</p>");
}

#[test]
fn an_nitf_body_in_ninjs_gives_its_text_not_its_head() {
    let dir = common::collection("iptc-ninjs").join("examples/3.0");
    let bytes = std::fs::read(dir.join(
        "20231008-anti-doping-measures-at-the-tour-down-under-will-be-the-toughest-ever-addb-ninjs-nitf.json",
    ))
    .unwrap();
    let i = one(&bytes);
    let t = text(&i.body_html);
    assert!(
        t.starts_with("The Australian Sports Anti-Doping Authority"),
        "{t}"
    );
    assert!(
        !t.contains("DopingWatch"),
        "byline/distributor in the body: {t}"
    );
    assert!(!i.body_html.contains("&lt;"), "markup shown as text");
}

#[test]
fn block_boundaries_are_word_boundaries() {
    let i = one(br#"{"uri":"urn:x:2","headline":"H",
        "body_html":"<p>The last word.</p><section>World</section><footer>Source: AP</footer>"}"#);
    let t = text(&i.body_html);
    assert!(t.contains("word. World Source: AP"), "{t}");
}

#[test]
fn basic_formatting_survives_the_sanitiser() {
    let i = one(br#"{"uri":"urn:x:3","headline":"H",
        "body_html":"<h1>Part one</h1><p><b>Bold</b>, <i>italic</i>, <strong>s</strong> and <em>e</em></p><h3>Sub</h3>"}"#);
    for want in [
        "<h2>Part one</h2>",
        "<strong>Bold</strong>",
        "<em>italic</em>",
        "<strong>s</strong>",
        "<em>e</em>",
        "<h3>Sub</h3>",
    ] {
        assert!(i.body_html.contains(want), "{want} in {}", i.body_html);
    }
}

#[test]
fn relative_links_resolve_against_the_item_or_the_document_or_go() {
    let i = one(br#"{"uri":"https://agency.example/news/1","headline":"H",
        "body_html":"<p><a href=\"/more\">more</a> <img src=\"pic.jpg\" alt=\"p\"></p>"}"#);
    assert!(
        i.body_html
            .contains(r#"href="https://agency.example/more""#),
        "{}",
        i.body_html
    );
    assert!(
        i.body_html
            .contains(r#"src="https://agency.example/news/pic.jpg""#),
        "{}",
        i.body_html
    );

    let doc =
        br#"{"uri":"urn:x:4","headline":"H","body_html":"<p><a href=\"/more\">more</a></p>"}"#;
    let meta = HttpMeta {
        base_url: Some("https://feeds.example/ninjs"),
        ..HttpMeta::default()
    };
    let p = parse_items_report("a", doc, &meta, &Limits::default()).unwrap();
    assert!(p.items[0]
        .body_html
        .contains(r#"href="https://feeds.example/more""#));

    // Nothing resolves it: the link goes, the words stay.
    let i = one(doc);
    assert!(!i.body_html.contains("href"), "{}", i.body_html);
    assert!(text(&i.body_html).contains("more"));
}

#[test]
fn a_picture_summary_is_its_caption_not_the_credit_line() {
    let i = one(br#"{"uri":"urn:x:5","type":"picture","headline":"Ship",
        "descriptions":[{"role":"creditline","value":"ASSOCIATED PRESS"},
                        {"role":"caption","value":"The ship lies on its side."}]}"#);
    assert_eq!(i.summary, "The ship lies on its side.");
    let i = one(br#"{"uri":"urn:x:6","type":"picture","headline":"Ship",
        "descriptions":[{"role":"credit","value":"ASSOCIATED PRESS"},
                        {"role":"other","value":"Caption text."}]}"#);
    assert_eq!(i.summary, "Caption text.");
}

#[test]
fn items_with_nothing_in_them_are_set_aside_with_a_reason() {
    let doc = br#"[{"uri":"urn:x:7","headline":"Real"},{"uri":"urn:x:8","version":"2"}]"#;
    let p = parse_items_report("a", doc, &HttpMeta::default(), &Limits::default()).unwrap();
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.set_aside.len(), 1);
    assert_eq!(p.set_aside[0].item.agency_id, "urn:x:8");
    assert!(p.set_aside[0].reason.contains("no headline"));
    let g2 =
        br#"<packageItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:p" version="1"/>"#;
    let p = parse_items_report("a", g2, &HttpMeta::default(), &Limits::default()).unwrap();
    assert!(p.items.is_empty() && p.set_aside.len() == 1);
}

#[test]
fn a_ninjs_version_zero_stays_zero() {
    let i = one(br#"{"uri":"urn:x:9","version":"0","headline":"First"}"#);
    assert_eq!(i.version, 0);
}
