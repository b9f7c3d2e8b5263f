//! Site feeds in the three formats readers and aggregators ask for: RSS 2.0, Atom 1.0 and
//! JSON Feed 1.1, all rendered from one plain [`Feed`] value so they cannot disagree.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::time::{rfc2822, rfc3339};
use crate::xml::XmlWriter;

/// A feed document: the site, a sector, an edition, a tag or the corrections list.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// Feed title, e.g. "Example News — Economy".
    pub title: String,
    /// One-line description of what the feed carries.
    pub description: String,
    /// Absolute URL of the HTML page this feed mirrors.
    pub home_url: String,
    /// Absolute URL of this feed document itself (used for self links and the Atom id).
    pub feed_url: String,
    /// BCP 47 language tag, e.g. "en".
    pub language: String,
    /// When the feed's content last changed.
    pub updated: DateTime<Utc>,
    /// Entries, newest first.
    pub entries: Vec<FeedEntry>,
}

/// One story in a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Stable, globally unique id, e.g. `tag:example.org,2025:story:123`. Never a URL that
    /// can change with the slug, so readers do not show a story twice after a rename.
    pub id: String,
    /// Absolute URL of the story page.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Plain-text summary (standfirst).
    pub summary: String,
    /// Sanitised HTML body, if the feed carries full text.
    pub content_html: Option<String>,
    /// Author display names (bylines).
    pub authors: Vec<String>,
    /// Sector and tag names.
    pub categories: Vec<String>,
    /// First publication time.
    pub published: DateTime<Utc>,
    /// Last substantive update.
    pub updated: DateTime<Utc>,
    /// Absolute URL of the lead image.
    pub image_url: Option<String>,
}

const NS_ATOM: &str = "http://www.w3.org/2005/Atom";
const NS_CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const NS_DC: &str = "http://purl.org/dc/elements/1.1/";
const NS_MEDIA: &str = "http://search.yahoo.com/mrss/";

/// Renders `feed` as RSS 2.0 (with the Atom, content, Dublin Core and Media RSS extensions).
///
/// Item `guid` is the entry id with `isPermaLink="false"` because ids are deliberately not
/// URLs; full HTML goes in `content:encoded` (CDATA), the summary in `description`; the
/// lead image is a `media:content medium="image"` since `enclosure` would demand a byte
/// length we do not know. Well-formed for any input.
pub fn rss(feed: &Feed) -> String {
    let mut x = XmlWriter::new();
    x.open(
        "rss",
        &[
            ("version", "2.0"),
            ("xmlns:atom", NS_ATOM),
            ("xmlns:content", NS_CONTENT),
            ("xmlns:dc", NS_DC),
            ("xmlns:media", NS_MEDIA),
        ],
    );
    x.open("channel", &[]);
    x.text("title", &[], &feed.title);
    x.text("link", &[], &feed.home_url);
    x.text(
        "description",
        &[],
        &crate::text::escape_html(&feed.description),
    );
    x.text("language", &[], &feed.language);
    x.text("lastBuildDate", &[], &rfc2822(feed.updated));
    x.empty(
        "atom:link",
        &[
            ("href", &feed.feed_url),
            ("rel", "self"),
            ("type", "application/rss+xml"),
        ],
    );
    for e in &feed.entries {
        x.open("item", &[]);
        x.text("title", &[], &e.title);
        x.text("link", &[], &e.url);
        x.text("guid", &[("isPermaLink", "false")], &e.id);
        x.text("pubDate", &[], &rfc2822(e.published));
        x.text("description", &[], &crate::text::escape_html(&e.summary));
        if let Some(html) = &e.content_html {
            x.cdata("content:encoded", html);
        }
        for a in &e.authors {
            x.text("dc:creator", &[], a);
        }
        for c in &e.categories {
            x.text("category", &[], c);
        }
        if let Some(img) = &e.image_url {
            x.empty("media:content", &[("url", img), ("medium", "image")]);
        }
        x.close("item");
    }
    x.close("channel");
    x.close("rss");
    x.finish()
}

/// Renders `feed` as Atom 1.0.
///
/// The feed id is its own URL (stable and unique by construction). Every entry gets at
/// least one `author`, falling back to the feed title, because Atom requires an author on
/// each entry when the feed has none. HTML content is escaped text (`type="html"`), which
/// needs no CDATA tricks. The lead image is a Media RSS `media:content`, which the common
/// readers understand in Atom too.
pub fn atom(feed: &Feed) -> String {
    let mut x = XmlWriter::new();
    x.open(
        "feed",
        &[
            ("xmlns", NS_ATOM),
            ("xmlns:media", NS_MEDIA),
            ("xml:lang", &feed.language),
        ],
    );
    x.text("id", &[], &feed.feed_url);
    x.text("title", &[("type", "text")], &feed.title);
    if !feed.description.is_empty() {
        x.text("subtitle", &[("type", "text")], &feed.description);
    }
    x.text("updated", &[], &rfc3339(feed.updated));
    x.empty(
        "link",
        &[
            ("rel", "alternate"),
            ("type", "text/html"),
            ("href", &feed.home_url),
        ],
    );
    x.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", "application/atom+xml"),
            ("href", &feed.feed_url),
        ],
    );
    for e in &feed.entries {
        x.open("entry", &[]);
        x.text("id", &[], &e.id);
        x.text("title", &[("type", "text")], &e.title);
        x.empty(
            "link",
            &[
                ("rel", "alternate"),
                ("type", "text/html"),
                ("href", &e.url),
            ],
        );
        x.text("published", &[], &rfc3339(e.published));
        x.text("updated", &[], &rfc3339(e.updated));
        let authors = if e.authors.is_empty() {
            std::slice::from_ref(&feed.title)
        } else {
            &e.authors[..]
        };
        for a in authors {
            x.open("author", &[]);
            x.text("name", &[], a);
            x.close("author");
        }
        x.text("summary", &[("type", "text")], &e.summary);
        if let Some(html) = &e.content_html {
            x.text("content", &[("type", "html")], html);
        }
        for c in &e.categories {
            x.empty("category", &[("term", c)]);
        }
        if let Some(img) = &e.image_url {
            x.empty("media:content", &[("url", img), ("medium", "image")]);
        }
        x.close("entry");
    }
    x.close("feed");
    x.finish()
}

/// Renders `feed` as JSON Feed 1.1.
///
/// Items without HTML content carry the summary as `content_text`, because the spec
/// requires one of the two. Empty optional lists are omitted rather than sent as `[]`.
pub fn json_feed(feed: &Feed) -> String {
    let items: Vec<Value> = feed.entries.iter().map(json_item).collect();
    let doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.feed_url,
        "description": feed.description,
        "language": feed.language,
        "items": items,
    });
    doc.to_string()
}

fn json_item(e: &FeedEntry) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), e.id.clone().into());
    m.insert("url".into(), e.url.clone().into());
    m.insert("title".into(), e.title.clone().into());
    m.insert("summary".into(), e.summary.clone().into());
    match &e.content_html {
        Some(html) => m.insert("content_html".into(), html.clone().into()),
        None => m.insert("content_text".into(), e.summary.clone().into()),
    };
    m.insert("date_published".into(), rfc3339(e.published).into());
    m.insert("date_modified".into(), rfc3339(e.updated).into());
    if !e.authors.is_empty() {
        let authors: Vec<Value> = e.authors.iter().map(|a| json!({ "name": a })).collect();
        m.insert("authors".into(), authors.into());
    }
    if !e.categories.is_empty() {
        m.insert("tags".into(), e.categories.clone().into());
    }
    if let Some(img) = &e.image_url {
        m.insert("image".into(), img.clone().into());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {

    #[test]
    fn rss_description_is_html_so_plain_text_is_escaped_twice() {
        let mut f = sample_for_description();
        f.entries[0].summary = "<script>alert(1)</script> & more".into();
        f.description = "<b>not bold</b>".into();
        let out = rss(&f);
        // Readers decode the XML once and then treat the text as HTML: it must stay text.
        assert!(out.contains("<description>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;amp; more</description>"), "{out}");
        assert!(
            out.contains("<description>&amp;lt;b&amp;gt;not bold&amp;lt;/b&amp;gt;</description>")
        );
    }

    fn sample_for_description() -> Feed {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Feed {
            title: "T".into(),
            description: String::new(),
            home_url: "https://x.example/".into(),
            feed_url: "https://x.example/feed.rss".into(),
            language: "en".into(),
            updated: t,
            entries: vec![FeedEntry {
                id: "tag:x.example,2026:1".into(),
                url: "https://x.example/a".into(),
                title: "A".into(),
                summary: String::new(),
                content_html: None,
                authors: vec![],
                categories: vec![],
                published: t,
                updated: t,
                image_url: None,
            }],
        }
    }
    use super::*;
    use crate::xmlcheck::check;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn entry(i: u32) -> FeedEntry {
        FeedEntry {
            id: format!("tag:example.org,2025:story:{i}"),
            url: format!("https://example.org/news/story-{i}"),
            title: format!("Story {i}"),
            summary: "A summary".into(),
            content_html: Some("<p>Body</p>".into()),
            authors: vec!["Ada Reporter".into()],
            categories: vec!["Economy".into()],
            published: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
            updated: Utc.with_ymd_and_hms(2025, 3, 5, 5, 6, 7).unwrap(),
            image_url: Some("https://example.org/img/1.jpg".into()),
        }
    }

    fn feed() -> Feed {
        Feed {
            title: "Example News".into(),
            description: "All the news".into(),
            home_url: "https://example.org/".into(),
            feed_url: "https://example.org/feed.xml".into(),
            language: "en".into(),
            updated: Utc.with_ymd_and_hms(2025, 3, 5, 6, 0, 0).unwrap(),
            entries: vec![entry(1), entry(2)],
        }
    }

    /// A feed whose every string is hostile to XML.
    fn nasty_feed() -> Feed {
        let nasty = "<b>\"Tom & Jerry's\"</b> ]]> \u{0}\u{8}\u{b}\u{c}\u{1f}\u{7f}\u{FFFE} é 😀";
        let mut e = entry(3);
        e.id = nasty.into();
        e.url = format!("https://example.org/?a=1&b=2{nasty}");
        e.title = nasty.into();
        e.summary = nasty.into();
        e.content_html = Some(format!("<p>{nasty}</p>]]>]]]]>"));
        e.authors = vec![nasty.into()];
        e.categories = vec![nasty.into()];
        e.image_url = Some(nasty.into());
        Feed {
            title: nasty.into(),
            description: nasty.into(),
            home_url: nasty.into(),
            feed_url: nasty.into(),
            language: nasty.into(),
            updated: DateTime::<Utc>::MAX_UTC,
            entries: vec![e],
        }
    }

    #[test]
    fn rss_has_required_elements() {
        let xml = rss(&feed());
        check(&xml).unwrap();
        for needle in [
            "<rss version=\"2.0\"",
            "<title>Example News</title>",
            "<link>https://example.org/</link>",
            "<description>All the news</description>",
            "<language>en</language>",
            "<lastBuildDate>Wed, 05 Mar 2025 06:00:00 +0000</lastBuildDate>",
            "<atom:link href=\"https://example.org/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>",
            "<guid isPermaLink=\"false\">tag:example.org,2025:story:1</guid>",
            "<pubDate>Tue, 04 Mar 2025 05:06:07 +0000</pubDate>",
            "<content:encoded><![CDATA[<p>Body</p>]]></content:encoded>",
            "<dc:creator>Ada Reporter</dc:creator>",
            "<category>Economy</category>",
            "<media:content url=\"https://example.org/img/1.jpg\" medium=\"image\"/>",
        ] {
            assert!(xml.contains(needle), "missing {needle} in\n{xml}");
        }
        assert_eq!(xml.matches("<item>").count(), 2);
    }

    #[test]
    fn atom_has_required_elements() {
        let xml = atom(&feed());
        check(&xml).unwrap();
        for needle in [
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"",
            "xml:lang=\"en\"",
            "<id>https://example.org/feed.xml</id>",
            "<updated>2025-03-05T06:00:00Z</updated>",
            "<link rel=\"alternate\" type=\"text/html\" href=\"https://example.org/\"/>",
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://example.org/feed.xml\"/>",
            "<id>tag:example.org,2025:story:1</id>",
            "<published>2025-03-04T05:06:07Z</published>",
            "<updated>2025-03-05T05:06:07Z</updated>",
            "<author>\n<name>Ada Reporter</name>\n</author>",
            "<summary type=\"text\">A summary</summary>",
            "<content type=\"html\">&lt;p&gt;Body&lt;/p&gt;</content>",
            "<category term=\"Economy\"/>",
        ] {
            assert!(xml.contains(needle), "missing {needle} in\n{xml}");
        }
    }

    #[test]
    fn atom_entry_without_author_falls_back_to_feed_title() {
        let mut f = feed();
        f.entries[0].authors.clear();
        let xml = atom(&f);
        assert!(xml.contains("<author>\n<name>Example News</name>\n</author>"));
    }

    #[test]
    fn hostile_strings_stay_well_formed() {
        let f = nasty_feed();
        for xml in [rss(&f), atom(&f)] {
            check(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
            assert!(xml.contains("&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"));
            assert!(!xml.contains('\u{0}') && !xml.contains('\u{1f}') && !xml.contains('\u{FFFE}'));
            assert!(xml.contains("é 😀"));
        }
        let r = rss(&f);
        // The "]]>" inside content is split so the CDATA section is not ended early.
        assert!(r.contains("]]]]><![CDATA[>"));
    }

    #[test]
    fn cdata_split_round_trips() {
        let mut f = feed();
        f.entries.truncate(1);
        f.entries[0].content_html = Some("a]]>b".into());
        let xml = rss(&f);
        let start = xml.find("<content:encoded>").unwrap() + "<content:encoded>".len();
        let end = xml.find("</content:encoded>").unwrap();
        // Unwrap CDATA sections the way an XML parser would.
        let decoded: String = xml[start..end]
            .split("<![CDATA[")
            .flat_map(|p| p.split("]]>"))
            .collect();
        assert_eq!(decoded, "a]]>b");
    }

    #[test]
    fn json_feed_parses() {
        let v: Value = serde_json::from_str(&json_feed(&feed())).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["language"], "en");
        assert_eq!(v["feed_url"], "https://example.org/feed.xml");
        let item = &v["items"][0];
        assert_eq!(item["id"], "tag:example.org,2025:story:1");
        assert_eq!(item["content_html"], "<p>Body</p>");
        assert_eq!(item["date_published"], "2025-03-04T05:06:07Z");
        assert_eq!(item["date_modified"], "2025-03-05T05:06:07Z");
        assert_eq!(item["authors"][0]["name"], "Ada Reporter");
        assert_eq!(item["tags"][0], "Economy");
        assert_eq!(item["image"], "https://example.org/img/1.jpg");
    }

    #[test]
    fn json_feed_without_html_uses_content_text() {
        let mut f = feed();
        f.entries[0].content_html = None;
        f.entries[0].authors.clear();
        let v: Value = serde_json::from_str(&json_feed(&f)).unwrap();
        assert_eq!(v["items"][0]["content_text"], "A summary");
        assert!(v["items"][0].get("authors").is_none());
        let nasty: Value = serde_json::from_str(&json_feed(&nasty_feed())).unwrap();
        assert_eq!(nasty["items"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn empty_feed_is_valid() {
        let mut f = feed();
        f.entries.clear();
        check(&rss(&f)).unwrap();
        check(&atom(&f)).unwrap();
    }

    proptest! {
        #[test]
        fn any_strings_give_well_formed_xml(
            s in any::<String>(),
            t in "[<>&\"' \\]\\x00-\\x1f]{0,20}",
        ) {
            let mut f = feed();
            f.title = s.clone();
            f.entries[0].title = t.clone();
            f.entries[0].content_html = Some(format!("{s}{t}"));
            f.entries[1].categories = vec![s.clone(), t];
            f.entries[1].image_url = Some(s);
            prop_assert!(check(&rss(&f)).is_ok());
            prop_assert!(check(&atom(&f)).is_ok());
            prop_assert!(serde_json::from_str::<Value>(&json_feed(&f)).is_ok());
        }
    }
}
