//! Feed entries to wire items, format detection and feed versions.
#![allow(clippy::unwrap_used)]

use newsdesk_domain::WireStatus;
use newsdesk_ingest::{detect, parse_feed, parse_items, Format, Limits};

const RSS: &str = r#"<?xml version="1.0" encoding="iso-8859-1"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Wire</title><link>http://wire.example/</link><language>en_GB</language><copyright>(c) Wire</copyright>
<item><title>Floods &amp; storms in Nairobi&nbsp;today</title><link>/news/1</link>
<guid isPermaLink="false">wire-1</guid>
<description>&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;&lt;/p&gt;</description>
<content:encoded><![CDATA[<p onclick="evil()">Body <a href="javascript:alert(1)">x</a><script>bad()</script> caf\xe9</p>]]></content:encoded>
<author>desk@wire.example (Wire Desk)</author>
<category>http://cv.iptc.org/newscodes/mediatopic/06000000</category><category>Weather</category>
<pubDate>Tue, 02 Jan 2024 03:04:05 GMT</pubDate></item>
<item><title>No id</title><pubDate>Tue, 02 Jan 2024 03:04:05 GMT</pubDate></item>
</channel></rss>"#;

#[test]
fn rss_item_becomes_a_wire_item() {
    let bytes: Vec<u8> = RSS
        .replace("caf\\xe9", "caf\u{e9}")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let items = parse_items("Wire", &bytes, None, None, &Limits::default()).unwrap();
    assert_eq!(items.len(), 2);
    let i = &items[0];
    assert_eq!(i.agency, "Wire");
    assert_eq!(i.agency_id, "wire-1");
    assert_eq!(i.version, 1);
    assert_eq!(i.status, WireStatus::Usable);
    assert_eq!(i.headline, "Floods & storms in Nairobi today");
    assert_eq!(i.summary, "Short summary");
    assert!(i.body_html.contains("Body"), "{}", i.body_html);
    assert!(i.body_html.contains("café"), "{}", i.body_html);
    assert!(
        !i.body_html.contains("script")
            && !i.body_html.contains("onclick")
            && !i.body_html.contains("javascript")
    );
    assert_eq!(i.byline, "Wire Desk");
    assert_eq!(i.language.as_deref(), Some("en-GB"));
    assert_eq!(i.links[0], "http://wire.example/news/1");
    assert_eq!(i.usage_terms.as_deref(), Some("(c) Wire"));
    assert_eq!(i.subjects[0].code, "medtop:06000000");
    assert_eq!(i.subjects[1].code, "Weather");
    assert_eq!(
        i.published_at.unwrap().to_rfc3339(),
        "2024-01-02T03:04:05+00:00"
    );
    // No guid, no link: a stable hash of title and date.
    assert!(items[1].agency_id.starts_with("hash:"));
    let again = parse_items("Wire", &bytes, None, None, &Limits::default()).unwrap();
    assert_eq!(again[1].agency_id, items[1].agency_id);
}

#[test]
fn detects_formats() {
    assert_eq!(
        detect(b"<?xml version='1.0'?><rss version='2.0'/>", None),
        Some(Format::Rss)
    );
    assert_eq!(
        detect(b"<!-- c --><rdf:RDF xmlns:rdf='x'/>", None),
        Some(Format::Rss)
    );
    assert_eq!(
        detect(
            b"\xef\xbb\xbf<feed xmlns='http://www.w3.org/2005/Atom'/>",
            None
        ),
        Some(Format::Atom)
    );
    assert_eq!(
        detect(br#"{"version":"https://jsonfeed.org/version/1.1"}"#, None),
        Some(Format::JsonFeed)
    );
    assert_eq!(detect(br#"{"uri":"x"}"#, None), Some(Format::Ninjs));
    assert_eq!(
        detect(
            b"<newsMessage xmlns='http://iptc.org/std/nar/2006-10-01/'/>",
            None
        ),
        Some(Format::NewsMlG2)
    );
    assert_eq!(
        detect(b"garbage", Some("application/atom+xml")),
        Some(Format::Atom)
    );
    assert_eq!(detect(b"garbage", None), None);
}

#[test]
fn versions_and_atom_entries() {
    let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><link href="http://a.example/"/>
      <entry><id>urn:1</id><title>T</title><link rel="alternate" type="text/html" href="http://a.example/1"/>
      <published>2024-01-01T00:00:00Z</published><updated>2024-01-02T00:00:00+01:00</updated></entry></feed>"#;
    let f = parse_feed(atom, None, None, &Limits::default()).unwrap();
    assert_eq!((f.format, f.version.as_str()), (Format::Atom, "atom10"));
    assert_eq!(f.link.as_deref(), Some("http://a.example/"));
    let e = &f.entries[0];
    assert_eq!(e.updated.unwrap().to_rfc3339(), "2024-01-01T23:00:00+00:00");
    let items = parse_items("A", atom, None, None, &Limits::default()).unwrap();
    assert_eq!(items[0].updated_at, e.updated);
    assert_eq!(items[0].published_at, e.published);

    let rdf = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <channel rdf:about="http://r.example/"><title>R</title><link>http://r.example/</link></channel>
      <item rdf:about="http://r.example/1"><title>I</title><link>http://r.example/1</link></item></rdf:RDF>"#;
    let f = parse_feed(rdf, None, None, &Limits::default()).unwrap();
    assert_eq!(f.version, "rss10");
    assert_eq!(f.entries[0].id.as_deref(), Some("http://r.example/1"));

    let json = br#"{"version":"https://jsonfeed.org/version/1","title":"J","items":[{"id":"1","content_text":"a & b"}]}"#;
    let f = parse_feed(json, None, None, &Limits::default()).unwrap();
    assert_eq!((f.format, f.version.as_str()), (Format::JsonFeed, "json1"));
    assert_eq!(f.entries[0].content.as_deref(), Some("<p>a &amp; b</p>"));
}

#[test]
fn newsml_message_with_several_items_and_withdrawal() {
    let g2 = br#"<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header/><itemSet>
      <newsItem guid="urn:a" version="3"><itemMeta><pubStatus qcode="stat:canceled"/><provider literal="AFP"/></itemMeta>
        <contentMeta><headline>A</headline><subject uri="http://cv.iptc.org/newscodes/mediatopic/20000763"/>
        <subject type="cpnat:geoArea" qcode="iso3166-1a2:ke"><name>Kenya</name></subject></contentMeta>
        <contentSet><inlineData contenttype="text/plain">line one

line two</inlineData></contentSet></newsItem>
      <newsItem guid="urn:b"><contentMeta><headline>B</headline></contentMeta></newsItem>
    </itemSet></newsMessage>"#;
    let items = parse_items("wire", g2, None, None, &Limits::default()).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0].version, items[0].status),
        (3, WireStatus::Canceled)
    );
    assert_eq!(items[0].byline, "AFP");
    assert_eq!(items[0].subjects[0].code, "medtop:20000763");
    assert_eq!(items[0].places[0].name.as_deref(), Some("Kenya"));
    assert_eq!(items[0].body_html, "<p>line one</p><p>line two</p>");
    assert_eq!((items[1].version, items[1].status), (1, WireStatus::Usable));
}
