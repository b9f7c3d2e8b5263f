//! Feed reading rules: text types, summary and content order, versions, encodings and the
//! small leniencies feed readers share.
#![allow(clippy::unwrap_used)]

use newsdesk_ingest::{
    normalize_html, parse_feed, parse_feed_with, parse_items, HttpMeta, Limits, ParsedFeed,
};

fn feed(xml: &str) -> ParsedFeed {
    parse_feed(
        xml.as_bytes(),
        None,
        Some("http://e.example/f/"),
        &Limits::default(),
    )
    .unwrap()
}

#[test]
fn html_is_kept_as_written_and_flagged() {
    let f = feed(
        r#"<rss version="2.0"><channel><title>A &amp;lt;b&amp;gt; title</title>
        <item><title>AT&amp;T &amp;amp; &lt;b&gt;you&lt;/b&gt;</title><title>second</title>
        <description>a&lt;br/&gt;b &lt;img src="x.png" alt="y"&gt;</description></item>
        <item><title>1 &lt; 2 &lt;grin&gt;</title></item></channel></rss>"#,
    );
    let e = &f.entries[0];
    // RSS titles are plain text unless they look like HTML.
    assert!(e.title_html);
    assert_eq!(e.title.as_deref(), Some("AT&T &amp; <b>you</b>"));
    assert!(!f.entries[1].title_html);
    assert_eq!(f.entries[1].title.as_deref(), Some("1 < 2 <grin>"));
    // Descriptions are HTML; only URL attributes change (resolved).
    assert!(e.summary_html);
    assert_eq!(
        e.summary.as_deref(),
        Some(r#"a<br/>b <img src="http://e.example/f/x.png" alt="y">"#)
    );
    // The canonical form sorts attributes and writes void elements one way.
    assert_eq!(
        normalize_html(e.summary.as_deref().unwrap()),
        r#"a<br />b <img alt="y" src="http://e.example/f/x.png" />"#
    );
    // A plain-text headline keeps its angle brackets.
    let items = parse_items(
        "W",
        br#"<rss version="2.0"><channel><item><title>1 &lt; 2 &lt;grin&gt;</title></item></channel></rss>"#,
        None,
        None,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(items[0].headline, "1 < 2 <grin>");
}

#[test]
fn atom_text_constructs() {
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:svg="http://www.w3.org/2000/svg">
        <title type="html">Q&amp;A time</title>
        <entry><title type="text">&lt;b&gt;literal&lt;/b&gt;</title>
        <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Hi <b>there</b><br/>
          <svg:svg width="1"><svg:circle r="1"/></svg:svg></div></summary>
        <content type="application/octet-stream">PHA+SGk8L3A+</content></entry>
        <entry><summary>one</summary><summary>two</summary><summary>three</summary></entry>
        <entry><content type="image/png">iVBORw0KGgo=</content><content src="http://e.example/x"/></entry>
        </feed>"#,
    );
    assert!(f.title_html);
    assert_eq!(f.title.as_deref(), Some("Q&A time"));
    assert_eq!(normalize_html(f.title.as_deref().unwrap()), "Q&amp;A time");
    let e = &f.entries[0];
    assert!(!e.title_html);
    assert_eq!(e.title.as_deref(), Some("<b>literal</b>"));
    assert!(e.summary_html);
    assert_eq!(
        e.summary.as_deref(),
        Some(
            r#"Hi <b>there</b><br />
          <svg xmlns="http://www.w3.org/2000/svg" width="1"><circle r="1"></circle></svg>"#
        )
    );
    // Base64 content that decodes to text.
    assert_eq!(e.content.as_deref(), Some("<p>Hi</p>"));
    // A second summary with no content yet is the content; a third is the summary again.
    let e = &f.entries[1];
    assert_eq!(e.summary.as_deref(), Some("three"));
    assert_eq!(e.content.as_deref(), Some("two"));
    // An image is no text; out-of-line content is empty.
    assert_eq!(f.entries[2].content.as_deref(), Some(""));
    assert!(f.version == "atom10");
}

#[test]
fn empty_elements_are_present_but_empty() {
    let f = feed(
        r#"<rss version="2.0"><channel><description/><link>http://e.example/</link>
        <item><title></title><description>x</description></item></channel></rss>"#,
    );
    assert_eq!(f.subtitle.as_deref(), Some(""));
    assert_eq!(f.link.as_deref(), Some("http://e.example/"));
    assert_eq!(f.entries[0].title.as_deref(), Some(""));
    let items = parse_items(
        "W",
        br#"<rss version="2.0"><channel><item><title/><description>x</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"/></item></channel></rss>"#,
        None,
        None,
        &Limits::default(),
    )
    .unwrap();
    // An empty content element does not hide the description.
    assert_eq!(items[0].body_html, "x");
    assert_eq!(items[0].headline, "");
}

#[test]
fn versions() {
    let v = |xml: &str| feed(xml).version;
    assert_eq!(
        v(
            r#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel/></rss>"#
        ),
        "rss091n"
    );
    assert_eq!(v(r#"<rss version="0.91"><channel/></rss>"#), "rss091u");
    assert_eq!(v(r#"<rss version="2.0.1"><channel/></rss>"#), "rss20");
    assert_eq!(v(r#"<rss><channel/></rss>"#), "rss");
    assert_eq!(
        v(r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"/>"#),
        "atom03"
    );
    assert_eq!(
        v(r#"<feed version="0.2" xmlns="http://purl.org/atom/ns#"/>"#),
        "atom02"
    );
    assert_eq!(v(r#"<feed xmlns="http://purl.org/atom/ns#"/>"#), "atom");
    // Namespace URIs that differ only in case are the real ones.
    assert_eq!(
        v(r#"<feed xmlns="http://www.w3.org/2005/atom"/>"#),
        "atom10"
    );
    assert_eq!(
        v(r#"<feed xmlns:atom="http://www.w3.org/2005/Atom"><title>t</title></feed>"#),
        "atom10"
    );
}

#[test]
fn lenient_reading() {
    // A root end tag cut short at the very end of the document.
    let f = feed(r#"<rss><channel><title>testing &#160; entity</title></channel></rss"#);
    assert_eq!(f.title.as_deref(), Some("testing \u{a0} entity"));
    // Anything else cut short is still refused.
    assert!(parse_feed(
        b"<rss><channel><title>x</title></channel",
        None,
        None,
        &Limits::default()
    )
    .is_err());
    // Every HTML 4 entity.
    let f = feed("<rss><channel><title>&thetasym; &upsih; &lceil; &zwj;</title></channel></rss>");
    assert_eq!(
        f.title.as_deref(),
        Some("\u{3d1} \u{3d2} \u{2308} \u{200d}")
    );
    // RSS element names in any case; links written Atom-style; ids as links.
    let f = feed(
        r#"<rss><channel><TiTlE>T</TiTlE><item><Title>I</Title><PubDate>Tue, 02 Jan 2024 03:04:05 GMT</PubDate>
        <link href="http://e.example/1"/><category>c <image>x</image></category><category>c</category>
        <media:category xmlns:media="http://search.yahoo.com/mrss">m</media:category>
        <itunes:category xmlns:itunes="http://www.itunes.com/DTDs/Podcast-1.0.dtd" text="Tech"><itunes:category text="Gadgets"/></itunes:category>
        </item></channel></rss>"#,
    );
    assert_eq!(f.title.as_deref(), Some("T"));
    let e = &f.entries[0];
    assert_eq!(e.title.as_deref(), Some("I"));
    assert!(e.published.is_some());
    assert_eq!(e.link.as_deref(), Some("http://e.example/1"));
    assert_eq!(e.tags, ["c", "m", "Tech", "Gadgets"]);
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>http://e.example/</id>
        <entry><id>http://e.example/1</id><link rel="alternate">http://e.example/alt</link></entry>
        <entry><id>http://e.example/2</id></entry><entry><id>urn:x</id></entry></feed>"#,
    );
    assert_eq!(f.link.as_deref(), Some("http://e.example/"));
    assert_eq!(f.entries[0].link.as_deref(), Some("http://e.example/alt"));
    assert_eq!(f.entries[1].link.as_deref(), Some("http://e.example/2"));
    assert_eq!(f.entries[2].link, None);
    // A guid that is no valid URL is no link.
    let f =
        feed(r#"<rss><channel><item><guid>http://example.c[o.test/</guid></item></channel></rss>"#);
    assert_eq!(f.entries[0].link, None);
}

#[test]
fn text_repairs() {
    // Windows-1252 characters written as C1 references.
    let f =
        feed("<rss><channel><item><description>don&#146;t</description></item></channel></rss>");
    assert_eq!(f.entries[0].summary.as_deref(), Some("don\u{2019}t"));
    // UTF-8 read as Latin-1 and written again.
    let f = feed(
        "<rss><channel><item><description>&#226;&#128;&#166; caf&#195;&#169;</description></item></channel></rss>",
    );
    assert_eq!(f.entries[0].summary.as_deref(), Some("\u{2026} café"));
    // UTF-8 read as Windows-1252 (a document labelled ISO-8859-1).
    let mut bytes =
        b"<?xml version='1.0' encoding='iso-8859-1'?><rss><channel><item><description>isn".to_vec();
    bytes.extend_from_slice("\u{2019}t".as_bytes());
    bytes.extend_from_slice(b"</description></item></channel></rss>");
    let f = parse_feed(&bytes, None, None, &Limits::default()).unwrap();
    assert_eq!(f.entries[0].summary.as_deref(), Some("isn\u{2019}t"));
    // Ordinary text is left alone.
    let f = feed("<rss><channel><item><description>caf\u{e9} \u{2019} \u{20ac}</description></item></channel></rss>");
    assert_eq!(
        f.entries[0].summary.as_deref(),
        Some("caf\u{e9} \u{2019} \u{20ac}")
    );
}

#[test]
fn http_metadata_and_unsafe_bases() {
    let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom"><link href="/abs"/><entry><title>t</title></entry></feed>"#;
    let meta = HttpMeta {
        content_type: Some("application/atom+xml"),
        base_url: Some("http://e.example/feed"),
        content_language: Some("en-GB, fr"),
    };
    let f = parse_feed_with(xml, &meta, &Limits::default()).unwrap();
    assert_eq!(f.language.as_deref(), Some("en-GB"));
    assert_eq!(f.entries[0].language.as_deref(), Some("en-GB"));
    assert_eq!(f.link.as_deref(), Some("http://e.example/abs"));
    // The document's own language wins over the header.
    let own = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"/>"#;
    let f = parse_feed_with(own, &meta, &Limits::default()).unwrap();
    assert_eq!(f.language.as_deref(), Some("fr"));
    // A base that could run code is ignored, in the API and in xml:base.
    let f = parse_feed(xml, None, Some("javascript:alert(1)"), &Limits::default()).unwrap();
    assert_eq!(f.link.as_deref(), Some("/abs"));
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(1)//"><link href="abs"/></feed>"#,
    );
    assert_eq!(f.link.as_deref(), Some("http://e.example/f/abs"));
}

#[test]
fn utf32_documents() {
    let xml = "<rss><channel><title>caf\u{e9}</title></channel></rss>";
    let be: Vec<u8> = xml
        .chars()
        .flat_map(|c| u32::from(c).to_be_bytes())
        .collect();
    assert_eq!(
        parse_feed(&be, None, None, &Limits::default())
            .unwrap()
            .title
            .as_deref(),
        Some("café")
    );
    let mut le = vec![0xFF, 0xFE, 0, 0];
    le.extend(xml.chars().flat_map(|c| u32::from(c).to_le_bytes()));
    assert_eq!(
        parse_feed(&le, None, None, &Limits::default())
            .unwrap()
            .title
            .as_deref(),
        Some("café")
    );
}

#[test]
fn relative_links_without_a_base_stay_relative_in_the_feed_but_not_on_the_wire() {
    let xml = br#"<rss version="2.0"><channel><link>http://w.example/</link><item><title>t</title><link>news/1</link></item></channel></rss>"#;
    let f = parse_feed(xml, None, None, &Limits::default()).unwrap();
    assert_eq!(f.entries[0].link.as_deref(), Some("news/1"));
    let items = parse_items("W", xml, None, None, &Limits::default()).unwrap();
    assert_eq!(items[0].links, ["http://w.example/news/1"]);
    assert_eq!(items[0].agency_id, "http://w.example/news/1");
    let xml = br#"<rss version="2.0"><channel><item><title>t</title><link>javascript:alert(1)</link><enclosure url="http://w.example/a.mp3"/></item></channel></rss>"#;
    let items = parse_items("W", xml, None, None, &Limits::default()).unwrap();
    assert_eq!(items[0].links, ["http://w.example/a.mp3"]);
}
