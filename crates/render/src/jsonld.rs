//! schema.org JSON-LD for article pages: `NewsArticle`/`OpinionNewsArticle` and
//! `BreadcrumbList`.
//!
//! Output is meant to be pasted verbatim inside `<script type="application/ld+json">`, so
//! it is escaped for that context (see [`escape_json_for_script`]); a headline containing
//! `</script>` cannot end the script element.

use crate::text::truncate_words;
use crate::time::rfc3339;
use chrono::{DateTime, Utc};

/// Google's documented maximum headline length for article rich results.
const HEADLINE_MAX_CHARS: usize = 110;

/// Structured data for one article page.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleLd {
    /// `OpinionNewsArticle` when true (columns, editorials), `NewsArticle` otherwise.
    pub opinion: bool,
    /// Headline; cut to 110 characters on output.
    pub headline: String,
    /// Plain-text description (standfirst).
    pub description: String,
    /// Absolute canonical URL of the article.
    pub url: String,
    /// Absolute image URLs, preferably in several aspect ratios.
    pub image_urls: Vec<String>,
    /// First publication time.
    pub date_published: DateTime<Utc>,
    /// Last substantive update.
    pub date_modified: DateTime<Utc>,
    /// Bylines; when empty the publisher is named as author.
    pub authors: Vec<LdAuthor>,
    /// Publisher (the site's) name.
    pub publisher_name: String,
    /// Absolute URL of the publisher's logo.
    pub publisher_logo_url: Option<String>,
    /// Sector name.
    pub section: Option<String>,
    /// Tag names.
    pub keywords: Vec<String>,
    /// Absolute URLs of sources the article is based on (agency copy, documents).
    pub is_based_on: Vec<String>,
    /// Published corrections, oldest first.
    pub corrections: Vec<LdCorrection>,
}

/// An article author: a person or an organisation (an agency, a desk).
#[derive(Debug, Clone, PartialEq)]
pub struct LdAuthor {
    /// Display name.
    pub name: String,
    /// Absolute URL of the author's profile page.
    pub url: Option<String>,
    /// `Organization` when true, `Person` otherwise.
    pub is_organization: bool,
}

/// A correction, rendered as a schema.org `CorrectionComment`.
#[derive(Debug, Clone, PartialEq)]
pub struct LdCorrection {
    /// What was corrected, as shown to readers.
    pub text: String,
    /// When the correction was published.
    pub date_published: DateTime<Utc>,
}

/// Renders the `NewsArticle` (or `OpinionNewsArticle`) JSON-LD for an article page.
///
/// Includes `mainEntityOfPage` pointing at the article URL, the publisher with its logo,
/// and `correction` entries. Empty optional lists are omitted. The result is safe to embed
/// in a `<script>` element.
///
/// Written straight into one string (an article miss built a `serde_json::Value` tree, then
/// its text, then the escaped copy of it): compact JSON with each object's keys in sorted
/// order, the very bytes `serde_json` printed for that tree (tested against it).
pub fn article(ld: &ArticleLd) -> String {
    let mut w = Ld::with_capacity(
        512 + ld.headline.len()
            + ld.description.len()
            + 2 * ld.url.len()
            + ld.corrections
                .iter()
                .map(|c| c.text.len() + 80)
                .sum::<usize>(),
    );
    let kind = if ld.opinion {
        "OpinionNewsArticle"
    } else {
        "NewsArticle"
    };
    // Keys in byte order, as serde_json's (sorted) map prints them.
    w.raw("{\"@context\":\"https://schema.org\",\"@type\":");
    w.string(kind);
    if let Some(section) = &ld.section {
        w.key("articleSection");
        w.string(section);
    }
    w.key("author");
    w.raw("[");
    if ld.authors.is_empty() {
        // Google wants an author on every article; unsigned copy is the publisher's.
        publisher(&mut w, ld);
    } else {
        for (i, a) in ld.authors.iter().enumerate() {
            if i > 0 {
                w.raw(",");
            }
            w.raw("{\"@type\":");
            w.string(if a.is_organization {
                "Organization"
            } else {
                "Person"
            });
            w.key("name");
            w.string(&a.name);
            if let Some(url) = &a.url {
                w.key("url");
                w.string(url);
            }
            w.raw("}");
        }
    }
    w.raw("]");
    if !ld.corrections.is_empty() {
        w.key("correction");
        w.raw("[");
        for (i, c) in ld.corrections.iter().enumerate() {
            if i > 0 {
                w.raw(",");
            }
            w.raw("{\"@type\":\"CorrectionComment\",\"datePublished\":");
            w.time(c.date_published);
            w.key("text");
            w.string(&c.text);
            w.raw("}");
        }
        w.raw("]");
    }
    w.key("dateModified");
    w.time(ld.date_modified);
    w.key("datePublished");
    w.time(ld.date_published);
    if !ld.description.is_empty() {
        w.key("description");
        w.string(&ld.description);
    }
    w.key("headline");
    w.string(&truncate_words(&ld.headline, HEADLINE_MAX_CHARS));
    if !ld.image_urls.is_empty() {
        w.key("image");
        w.strings(&ld.image_urls);
    }
    if !ld.is_based_on.is_empty() {
        w.key("isBasedOn");
        w.strings(&ld.is_based_on);
    }
    if !ld.keywords.is_empty() {
        // A comma-separated string is the form every consumer accepts.
        w.key("keywords");
        w.raw("\"");
        for (i, k) in ld.keywords.iter().enumerate() {
            if i > 0 {
                w.raw(", ");
            }
            w.escaped(k);
        }
        w.raw("\"");
    }
    w.key("mainEntityOfPage");
    w.raw("{\"@id\":");
    w.string(&ld.url);
    w.raw(",\"@type\":\"WebPage\"}");
    w.key("publisher");
    publisher(&mut w, ld);
    w.key("url");
    w.string(&ld.url);
    w.raw("}");
    w.out
}

fn publisher(w: &mut Ld, ld: &ArticleLd) {
    w.raw("{\"@type\":\"Organization\"");
    if let Some(logo) = &ld.publisher_logo_url {
        w.key("logo");
        w.raw("{\"@type\":\"ImageObject\",\"url\":");
        w.string(logo);
        w.raw("}");
    }
    w.key("name");
    w.string(&ld.publisher_name);
    w.raw("}");
}

/// Renders a schema.org `BreadcrumbList` from `(name, absolute url)` pairs, outermost first.
/// The result is safe to embed in a `<script>` element.
pub fn breadcrumb_list(items: &[(String, String)]) -> String {
    let mut w = Ld::with_capacity(
        96 + items
            .iter()
            .map(|(n, u)| n.len() + u.len() + 56)
            .sum::<usize>(),
    );
    w.raw(
        "{\"@context\":\"https://schema.org\",\"@type\":\"BreadcrumbList\",\"itemListElement\":[",
    );
    for (i, (name, url)) in items.iter().enumerate() {
        if i > 0 {
            w.raw(",");
        }
        w.raw("{\"@type\":\"ListItem\",\"item\":");
        w.string(url);
        w.key("name");
        w.string(name);
        w.key("position");
        w.raw(&(i + 1).to_string());
        w.raw("}");
    }
    w.raw("]}");
    w.out
}

/// Compact JSON written into a string, script-safe as it goes (see
/// [`escape_json_for_script`]): its strings are escaped as `serde_json` escapes them, then
/// `<`, `>`, `&`, U+2028 and U+2029 as that function does.
struct Ld {
    out: String,
}

impl Ld {
    fn with_capacity(n: usize) -> Self {
        Ld {
            out: String::with_capacity(n),
        }
    }
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }
    /// `,"key":` (keys are plain ASCII).
    fn key(&mut self, k: &str) {
        self.out.push_str(",\"");
        self.out.push_str(k);
        self.out.push_str("\":");
    }
    fn string(&mut self, s: &str) {
        self.out.push('"');
        self.escaped(s);
        self.out.push('"');
    }
    fn strings(&mut self, list: &[String]) {
        self.out.push('[');
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(s);
        }
        self.out.push(']');
    }
    fn time(&mut self, t: DateTime<Utc>) {
        // RFC 3339 text has nothing to escape.
        self.string(&rfc3339(t));
    }
    /// The inside of a JSON string: runs without anything to escape are copied whole (the
    /// scan is by byte: every character escaped is ASCII but U+2028 and U+2029, whose UTF-8
    /// forms start with 0xE2).
    fn escaped(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut from = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (esc, len): (&str, usize) = match b {
                b'"' => ("\\\"", 1),
                b'\\' => ("\\\\", 1),
                b'\n' => ("\\n", 1),
                b'\r' => ("\\r", 1),
                b'\t' => ("\\t", 1),
                0x08 => ("\\b", 1),
                0x0c => ("\\f", 1),
                b'<' => ("\\u003c", 1),
                b'>' => ("\\u003e", 1),
                b'&' => ("\\u0026", 1),
                0xe2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xa8) => {
                    ("\\u2028", 3)
                }
                0xe2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0xa9) => {
                    ("\\u2029", 3)
                }
                b if b < 0x20 => ("", 1),
                _ => {
                    i += 1;
                    continue;
                }
            };
            // `from..i` ends before an ASCII byte or an 0xE2 lead byte: on a char boundary.
            self.out.push_str(s.get(from..i).unwrap_or(""));
            if esc.is_empty() {
                // Other control characters: `\u00XX`, lower-case hex like serde_json.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.push_str("\\u00");
                self.out.push(char::from(HEX[usize::from(b >> 4)]));
                self.out.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                self.out.push_str(esc);
            }
            i += len;
            from = i;
        }
        self.out.push_str(s.get(from..).unwrap_or(""));
    }
}

/// Makes serialised JSON safe to place inside an HTML `<script>` element.
///
/// `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026`, so neither `</script>` nor
/// `<!--` can appear; U+2028 and U+2029 are escaped because older JavaScript parsers treat
/// them as line terminators. These characters can only occur inside JSON strings, where the
/// `\u` forms mean exactly the same thing, so the JSON value is unchanged.
pub fn escape_json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    fn sample() -> ArticleLd {
        ArticleLd {
            opinion: false,
            headline: "Council approves budget".into(),
            description: "The vote was 7-2.".into(),
            url: "https://example.org/news/budget".into(),
            image_urls: vec!["https://example.org/i/1.jpg".into()],
            date_published: Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap(),
            date_modified: Utc.with_ymd_and_hms(2025, 6, 1, 9, 30, 0).unwrap(),
            authors: vec![
                LdAuthor {
                    name: "Ada Reporter".into(),
                    url: Some("https://example.org/people/ada".into()),
                    is_organization: false,
                },
                LdAuthor {
                    name: "Wire Agency".into(),
                    url: None,
                    is_organization: true,
                },
            ],
            publisher_name: "Example News".into(),
            publisher_logo_url: Some("https://example.org/logo.png".into()),
            section: Some("Politics".into()),
            keywords: vec!["budget".into(), "council".into()],
            is_based_on: vec!["https://agency.example/item/9".into()],
            corrections: vec![LdCorrection {
                text: "An earlier version misstated the vote.".into(),
                date_published: Utc.with_ymd_and_hms(2025, 6, 2, 10, 0, 0).unwrap(),
            }],
        }
    }

    /// The former rendering, through a `serde_json::Value` tree: the direct writer must print
    /// the very same bytes (the pages' HTML does not change).
    fn reference_article(ld: &ArticleLd) -> String {
        let mut m = Map::new();
        m.insert("@context".into(), "https://schema.org".into());
        let kind = if ld.opinion {
            "OpinionNewsArticle"
        } else {
            "NewsArticle"
        };
        m.insert("@type".into(), kind.into());
        m.insert(
            "headline".into(),
            truncate_words(&ld.headline, HEADLINE_MAX_CHARS)
                .into_owned()
                .into(),
        );
        if !ld.description.is_empty() {
            m.insert("description".into(), ld.description.clone().into());
        }
        m.insert("url".into(), ld.url.clone().into());
        m.insert(
            "mainEntityOfPage".into(),
            json!({ "@type": "WebPage", "@id": ld.url }),
        );
        if !ld.image_urls.is_empty() {
            m.insert("image".into(), ld.image_urls.clone().into());
        }
        m.insert("datePublished".into(), rfc3339(ld.date_published).into());
        m.insert("dateModified".into(), rfc3339(ld.date_modified).into());
        let mut p = Map::new();
        p.insert("@type".into(), "Organization".into());
        p.insert("name".into(), ld.publisher_name.clone().into());
        if let Some(logo) = &ld.publisher_logo_url {
            p.insert(
                "logo".into(),
                json!({ "@type": "ImageObject", "url": logo }),
            );
        }
        let publisher = Value::Object(p);
        let authors: Vec<Value> = if ld.authors.is_empty() {
            vec![publisher.clone()]
        } else {
            ld.authors
                .iter()
                .map(|a| {
                    let mut m = Map::new();
                    let kind = if a.is_organization {
                        "Organization"
                    } else {
                        "Person"
                    };
                    m.insert("@type".into(), kind.into());
                    m.insert("name".into(), a.name.clone().into());
                    if let Some(url) = &a.url {
                        m.insert("url".into(), url.clone().into());
                    }
                    Value::Object(m)
                })
                .collect()
        };
        m.insert("author".into(), authors.into());
        m.insert("publisher".into(), publisher);
        if let Some(section) = &ld.section {
            m.insert("articleSection".into(), section.clone().into());
        }
        if !ld.keywords.is_empty() {
            m.insert("keywords".into(), ld.keywords.join(", ").into());
        }
        if !ld.is_based_on.is_empty() {
            m.insert("isBasedOn".into(), ld.is_based_on.clone().into());
        }
        if !ld.corrections.is_empty() {
            let corrections: Vec<Value> = ld
                .corrections
                .iter()
                .map(|c| {
                    json!({
                        "@type": "CorrectionComment",
                        "text": c.text,
                        "datePublished": rfc3339(c.date_published),
                    })
                })
                .collect();
            m.insert("correction".into(), corrections.into());
        }
        escape_json_for_script(&Value::Object(m).to_string())
    }

    fn reference_breadcrumb_list(items: &[(String, String)]) -> String {
        let elements: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, (name, url))| {
                json!({
                    "@type": "ListItem",
                    "position": i + 1,
                    "name": name,
                    "item": url,
                })
            })
            .collect();
        let doc = json!({
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": elements,
        });
        escape_json_for_script(&doc.to_string())
    }

    #[test]
    fn same_bytes_as_the_value_tree() {
        let mut ld = sample();
        assert_eq!(article(&ld), reference_article(&ld));
        ld.opinion = true;
        ld.authors.clear();
        ld.corrections.clear();
        ld.publisher_logo_url = None;
        ld.section = None;
        ld.keywords.clear();
        ld.image_urls.clear();
        ld.is_based_on.clear();
        ld.description.clear();
        assert_eq!(article(&ld), reference_article(&ld));
        let crumbs = [
            ("Home".to_string(), "https://example.org/".to_string()),
            ("A \"quoted\" <b>".into(), "https://x/?a&b".into()),
        ];
        assert_eq!(breadcrumb_list(&crumbs), reference_breadcrumb_list(&crumbs));
        assert_eq!(breadcrumb_list(&[]), reference_breadcrumb_list(&[]));
    }

    #[test]
    fn article_fields() {
        let v: Value = serde_json::from_str(&article(&sample())).unwrap();
        assert_eq!(v["@context"], "https://schema.org");
        assert_eq!(v["@type"], "NewsArticle");
        assert_eq!(v["headline"], "Council approves budget");
        assert_eq!(
            v["mainEntityOfPage"]["@id"],
            "https://example.org/news/budget"
        );
        assert_eq!(v["image"][0], "https://example.org/i/1.jpg");
        assert_eq!(v["datePublished"], "2025-06-01T08:00:00Z");
        assert_eq!(v["dateModified"], "2025-06-01T09:30:00Z");
        assert_eq!(v["author"][0]["@type"], "Person");
        assert_eq!(v["author"][0]["url"], "https://example.org/people/ada");
        assert_eq!(v["author"][1]["@type"], "Organization");
        assert_eq!(
            v["publisher"]["logo"]["url"],
            "https://example.org/logo.png"
        );
        assert_eq!(v["articleSection"], "Politics");
        assert_eq!(v["keywords"], "budget, council");
        assert_eq!(v["isBasedOn"][0], "https://agency.example/item/9");
        assert_eq!(v["correction"][0]["@type"], "CorrectionComment");
        assert_eq!(v["correction"][0]["datePublished"], "2025-06-02T10:00:00Z");
    }

    #[test]
    fn opinion_and_fallback_author() {
        let mut ld = sample();
        ld.opinion = true;
        ld.authors.clear();
        ld.corrections.clear();
        let v: Value = serde_json::from_str(&article(&ld)).unwrap();
        assert_eq!(v["@type"], "OpinionNewsArticle");
        assert_eq!(v["author"][0]["name"], "Example News");
        assert!(v.get("correction").is_none());
    }

    #[test]
    fn long_headline_is_cut() {
        let mut ld = sample();
        ld.headline = "word ".repeat(40);
        let v: Value = serde_json::from_str(&article(&ld)).unwrap();
        let h = v["headline"].as_str().unwrap();
        assert!(h.chars().count() <= 110);
        assert!(h.ends_with('…'));
    }

    #[test]
    fn cannot_break_out_of_script() {
        let mut ld = sample();
        ld.headline = "</script><script>alert(1)</script> & <!-- \u{2028}\u{2029}".into();
        ld.description = "</SCRIPT>".into();
        let out = article(&ld);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        assert!(!out.contains('\u{2028}') && !out.contains('\u{2029}'));
        assert!(out.contains("\\u003c/script\\u003e"));
        // Still the same data once parsed.
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["headline"], ld.headline.as_str());
        assert_eq!(v["description"], "</SCRIPT>");

        let crumbs = breadcrumb_list(&[("</script>".into(), "https://x/?a&b".into())]);
        assert!(!crumbs.contains('<') && !crumbs.contains('&'));
    }

    #[test]
    fn breadcrumbs() {
        let v: Value = serde_json::from_str(&breadcrumb_list(&[
            ("Home".into(), "https://example.org/".into()),
            ("Politics".into(), "https://example.org/politics".into()),
        ]))
        .unwrap();
        assert_eq!(v["@type"], "BreadcrumbList");
        assert_eq!(v["itemListElement"][1]["position"], 2);
        assert_eq!(v["itemListElement"][1]["name"], "Politics");
        assert_eq!(
            v["itemListElement"][1]["item"],
            "https://example.org/politics"
        );
    }

    proptest! {
        #[test]
        fn any_text_prints_as_the_value_tree_did(
            a in any::<String>(),
            b in any::<String>(),
            c in "[\\x00-\\x7f\u{2028}\u{2029}<>&\"\\\\é]{0,40}",
            n in 0usize..3,
        ) {
            let mut ld = sample();
            ld.headline = a.clone();
            ld.description = c.clone();
            ld.url = b.clone();
            ld.keywords = vec![a.clone(); n];
            ld.is_based_on = vec![c.clone(); n];
            ld.image_urls = vec![b.clone(); n];
            ld.section = Some(c.clone());
            ld.publisher_name = c.clone();
            ld.authors = (0..n)
                .map(|i| LdAuthor { name: c.clone(), url: (i == 0).then(|| b.clone()), is_organization: i == 1 })
                .collect();
            ld.corrections = (0..n)
                .map(|_| LdCorrection { text: c.clone(), date_published: ld.date_published })
                .collect();
            prop_assert_eq!(article(&ld), reference_article(&ld));
            let crumbs: Vec<(String, String)> =
                (0..n).map(|_| (c.clone(), a.clone())).chain([(b.clone(), c.clone())]).collect();
            prop_assert_eq!(breadcrumb_list(&crumbs), reference_breadcrumb_list(&crumbs));
        }

        #[test]
        fn any_headline_is_script_safe_and_round_trips(s in any::<String>()) {
            let mut ld = sample();
            ld.headline = s.clone();
            ld.keywords = vec![s.clone()];
            let out = article(&ld);
            prop_assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
            let v: Value = serde_json::from_str(&out).unwrap();
            let expected = truncate_words(&s, HEADLINE_MAX_CHARS);
            prop_assert_eq!(v["headline"].as_str(), Some(expected.as_ref()));
        }
    }
}
