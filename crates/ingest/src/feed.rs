//! RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 from the XML tree into [`ParsedFeed`].

use crate::html::{self, cp1252};
use crate::text::{base64_decode, child_base, resolve_html, resolve_url};
use crate::xml::{Element, Node, XHTML};
use crate::{parse_date, Format, IngestError, ParsedEntry, ParsedFeed};

pub(crate) const ATOM10: &str = "http://www.w3.org/2005/Atom";
pub(crate) const ATOM03: &str = "http://purl.org/atom/ns#";
const RSS10: &str = "http://purl.org/rss/1.0/";
const RSS09: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS_OTHER: &[&str] = &[
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://purl.org/net/rss1.1#",
];
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS: &str = "http://purl.org/dc/terms/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const MEDIA: &str = "http://search.yahoo.com/mrss/";
const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const ITUNES: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";

/// Parses a feed document's root element. `doctype` is the document's DOCTYPE declaration,
/// if any (it tells Netscape's RSS 0.91 from UserLand's).
pub(crate) fn parse(
    root: &Element,
    doctype: Option<&str>,
    base_url: Option<&str>,
) -> Result<ParsedFeed, IngestError> {
    match root.local.as_str() {
        "feed" => Ok(parse_atom(root, base_url)),
        "entry" if root.ns == ATOM10 || root.ns == ATOM03 || root.ns.is_empty() => {
            Ok(parse_atom(root, base_url))
        }
        "rss" | "RDF" | "channel" | "Channel" => Ok(parse_rss(root, doctype, base_url)),
        "CHANNEL" => Ok(parse_cdf(root, base_url)),
        other => Err(IngestError::NotAFeed(format!(
            "root element <{other}> is not RSS or Atom"
        ))),
    }
}

/// A language tag with `_` normalised to `-` (`en_US` → `en-US`).
fn lang_tag(s: &str) -> String {
    s.trim().replace('_', "-")
}

fn base_of(parent: Option<&str>, el: &Element) -> Option<String> {
    child_base(parent, el.xml_base())
}

/// A text field's value and whether it is HTML (else plain text).
#[derive(Debug, Clone, Default)]
struct Text {
    value: String,
    html: bool,
}

/// Splits an optional [`Text`] into the value and its HTML flag.
fn split(t: Option<Text>) -> (Option<String>, bool) {
    match t {
        Some(t) => (Some(t.value), t.html),
        None => (None, false),
    }
}

/// The first value that has text; else an empty value when an element was there but empty
/// (`<description/>` gives `Some("")`), `None` when there was none.
fn first_present(values: impl IntoIterator<Item = Option<Text>>) -> Option<Text> {
    let mut empty = None;
    for v in values.into_iter().flatten() {
        if !v.value.is_empty() {
            return Some(v);
        }
        empty = Some(v);
    }
    empty
}

/// The byte a character stands for in Latin-1 or Windows-1252, if any.
fn single_byte(c: char) -> Option<u8> {
    if let Ok(b) = u8::try_from(c) {
        return Some(b);
    }
    (0x80u8..=0x9F).find(|b| cp1252(u32::from(*b)) == Some(c))
}

/// Repairs two common encoding accidents in feed text: UTF-8 that was read as Latin-1 or
/// Windows-1252 and encoded again (`Ã©` → `é`, `â€™` → `’`), and Windows-1252 characters
/// written as C1 code points (`&#146;` → `’`). A value is re-read only when every character
/// maps back to a byte and those bytes are valid UTF-8, which ordinary text never is.
pub(crate) fn repair_text(s: String) -> String {
    let s = if s.chars().any(|c| c >= '\u{80}') {
        let bytes: Option<Vec<u8>> = s.chars().map(single_byte).collect();
        match bytes.map(String::from_utf8) {
            Some(Ok(fixed)) => fixed,
            _ => s,
        }
    } else {
        s
    };
    if s.chars().any(|c| ('\u{80}'..='\u{9F}').contains(&c)) {
        s.chars()
            .map(|c| cp1252(u32::from(c)).unwrap_or(c))
            .collect()
    } else {
        s
    }
}

/// The media type of a text element: its `type` attribute (`text`, `html`, `xhtml` or a
/// MIME type), else the element's default.
fn media_type(el: &Element, default: &str) -> String {
    let ty = el
        .attr("type")
        .map_or(default, str::trim)
        .to_ascii_lowercase();
    match ty.as_str() {
        "text" | "plain" => "text/plain".to_owned(),
        "html" => "text/html".to_owned(),
        "xhtml" => "application/xhtml+xml".to_owned(),
        _ => ty,
    }
}

/// How a text element is read.
#[derive(Clone, Copy)]
struct TextRules<'a> {
    /// The media type when the element has no `type` attribute.
    default_type: &'a str,
    /// Atom 1.0: inline XHTML loses its wrapping `<div>`.
    atom10: bool,
    /// RSS: nominally plain text that looks like HTML is taken as HTML.
    guess_html: bool,
}

const RSS_TEXT: TextRules<'static> = TextRules {
    default_type: "text/plain",
    atom10: false,
    guess_html: true,
};
const RSS_HTML: TextRules<'static> = TextRules {
    default_type: "text/html",
    atom10: false,
    guess_html: true,
};
const XHTML_BODY: TextRules<'static> = TextRules {
    default_type: "application/xhtml+xml",
    atom10: false,
    guess_html: false,
};

fn atom_rules(atom10: bool) -> TextRules<'static> {
    TextRules {
        default_type: "text/plain",
        atom10,
        guess_html: false,
    }
}

/// The value of a text element (Atom text construct or content, RSS title, description …):
///
/// - base64 (`mode="base64"`, or a media type that is neither text nor XML) is decoded
///   when it decodes to UTF-8 text, else kept as written;
/// - inline markup (child elements) is serialised as XHTML (see [`Element::inner_html`]),
///   in Atom 1.0 without the wrapping `<div>`;
/// - HTML is kept as written, with relative URLs in URL attributes resolved; RSS text that
///   is nominally plain but looks like HTML counts as HTML (see [`html::looks_like_html`]);
/// - text is repaired (see [`repair_text`]) and trimmed; an empty element gives an empty
///   value.
fn text_value(el: &Element, rules: TextRules<'_>, parent_base: Option<&str>) -> Option<Text> {
    let base = base_of(parent_base, el);
    let base = base.as_deref();
    let mut ty = media_type(el, rules.default_type);
    let mode = el.attr("mode").unwrap_or("").trim().to_ascii_lowercase();
    let xmlish = ty.ends_with("+xml") || ty.ends_with("/xml");
    let base64 = mode == "base64" || !(ty.starts_with("text/") || xmlish);
    let has_children = el.elements().next().is_some();
    if has_children && !ty.ends_with("xml") {
        // Markup declared as escaped (or plain) that is really inline XML.
        ty = "application/xhtml+xml".to_owned();
    }
    let (value, is_html) = if xmlish && ty != "application/xhtml+xml" {
        // Another XML vocabulary (`image/svg+xml` …): not text a desk can use.
        (String::new(), false)
    } else if ty == "application/xhtml+xml" {
        let significant: Vec<&Node> = el
            .children
            .iter()
            .filter(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()))
            .collect();
        let inner = match significant.as_slice() {
            [Node::Element(div)] if rules.atom10 && div.local == "div" => div.inner_html(),
            _ => el.inner_html(),
        };
        (resolve_html(&inner, base), true)
    } else {
        let raw = el.text();
        let mut text = raw.trim().to_owned();
        if base64 {
            // Decoded when it is text; an image, sound or video is no text at all; anything
            // else that does not decode to text is kept as written.
            let media = ["image/", "audio/", "video/"]
                .iter()
                .any(|m| ty.starts_with(m));
            match base64_decode(&text).map(String::from_utf8) {
                Some(Ok(s)) => text = s.trim().to_owned(),
                Some(Err(_)) if media => text.clear(),
                _ => {}
            }
        }
        let is_html = ty == "text/html"
            || (rules.guess_html && ty == "text/plain" && html::looks_like_html(&text));
        if is_html {
            (resolve_html(&text, base), true)
        } else {
            (text, false)
        }
    };
    Some(Text {
        value: repair_text(value).trim().to_owned(),
        html: is_html,
    })
}

/// Category terms from the extensions feeds use besides `category` and `dc:subject`:
/// `media:category`, `itunes:category` (nested ones too) and comma-separated
/// `itunes:keywords` / `media:keywords`.
fn extension_tags(el: &Element, tags: &mut Vec<String>) {
    for c in el.elements() {
        let lname = c.local.to_ascii_lowercase();
        if c.ns == MEDIA && lname == "category" {
            tags.extend(c.text_trim());
        } else if c.ns.eq_ignore_ascii_case(ITUNES) && lname == "category" {
            let mut stack = vec![c];
            while let Some(cat) = stack.pop() {
                tags.extend(
                    cat.attr("text")
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                );
                let mut nested: Vec<&Element> = cat
                    .elements()
                    .filter(|n| n.local.eq_ignore_ascii_case("category"))
                    .collect();
                nested.reverse();
                stack.extend(nested);
            }
        } else if c.ns == MEDIA && (lname == "group" || lname == "content") {
            extension_tags(c, tags);
        } else if (c.ns == MEDIA || c.ns.eq_ignore_ascii_case(ITUNES)) && lname == "keywords" {
            let text = c.text();
            tags.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            );
        }
    }
}

/// Drops repeated terms, keeping the first of each.
fn dedup(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A permalink: an absolute http(s) URL that parses.
fn is_permalink(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && url::Url::parse(s).is_ok()
}

struct AtomLink {
    rel: String,
    ty: String,
    href: String,
}

/// Atom links; a link without `href` that holds its URL as text counts too.
fn atom_links(el: &Element, ns: &str, base: Option<&str>) -> Vec<AtomLink> {
    el.children_named(ns, "link")
        .filter_map(|l| {
            let text = l.text_trim();
            let href = l.attr("href").map(str::trim).or(text.as_deref())?;
            let lbase = base_of(base, l);
            Some(AtomLink {
                rel: l.attr("rel").unwrap_or("alternate").trim().to_owned(),
                ty: l.attr("type").unwrap_or("").trim().to_ascii_lowercase(),
                href: resolve_url(lbase.as_deref(), href),
            })
        })
        .collect()
}

/// The alternate link (preferring an HTML one), then every other link.
fn pick_links(links: &[AtomLink]) -> (Option<String>, Vec<String>) {
    let alternates: Vec<&AtomLink> = links.iter().filter(|l| l.rel == "alternate").collect();
    let main = alternates
        .iter()
        .find(|l| l.ty.is_empty() || l.ty.contains("html"))
        .or(alternates.first())
        .map(|l| l.href.clone());
    let mut all: Vec<String> = main.iter().cloned().collect();
    for l in links {
        if !all.contains(&l.href) {
            all.push(l.href.clone());
        }
    }
    (main, all)
}

fn atom_person(el: &Element, ns: &str) -> Option<String> {
    let name = el.child(ns, "name").and_then(Element::text_trim);
    let email = el.child(ns, "email").and_then(Element::text_trim);
    let person = match (name, email) {
        (Some(n), Some(e)) => Some(format!("{n} ({e})")),
        (Some(n), None) => Some(n),
        (None, Some(e)) => Some(e),
        (None, None) => el
            .elements()
            .next()
            .is_none()
            .then(|| el.text_trim())
            .flatten(),
    };
    person.map(repair_text)
}

/// Summary and content of an entry, in document order as feed readers take them: the first
/// summary-like element is the summary; a second one, while there is no content yet,
/// becomes the content; the first content element is the content.
#[derive(Default)]
struct SummaryContent {
    summary: Option<Text>,
    content: Option<Text>,
    has_content: bool,
}

impl SummaryContent {
    fn summary(&mut self, value: Option<Text>) {
        if self.summary.is_some() && !self.has_content {
            self.content(value, true);
        } else {
            self.summary = value;
        }
    }

    /// A content element; `counts` is false for `xhtml:body`, which does not stop a later
    /// summary from becoming the content.
    fn content(&mut self, value: Option<Text>, counts: bool) {
        self.has_content |= counts;
        if self.content.is_none() {
            self.content = value;
        }
    }
}

fn first_date(el: &Element, names: &[(&str, &str)]) -> Option<chrono::DateTime<chrono::Utc>> {
    // Within one element name the last value wins, as in feedparser.
    // An empty namespace stands for the RSS ones; names match without regard to case.
    names.iter().find_map(|(ns, local)| {
        el.elements()
            .filter(|e| {
                e.local.eq_ignore_ascii_case(local)
                    && if ns.is_empty() {
                        is_rss_ns(&e.ns)
                    } else {
                        e.ns == *ns
                    }
            })
            .filter_map(|e| parse_date(&e.text()))
            .last()
    })
}

/// An Atom id. An id is an opaque string; only one written as a path (`/x`, `./x`, `../x`)
/// is resolved against the base.
fn atom_id(el: &Element, ns: &str, base: Option<&str>) -> Option<String> {
    let id_el = el.child(ns, "id")?;
    let id = id_el.text_trim()?;
    Some(
        if id.starts_with('/') || id.starts_with("./") || id.starts_with("../") {
            resolve_url(base_of(base, id_el).as_deref(), &id)
        } else {
            id
        },
    )
}

fn atom_version(root: &Element) -> &'static str {
    // A document that declares the Atom 1.0 namespace is Atom 1.0, whatever prefix it uses.
    let declares_10 = root
        .attrs
        .iter()
        .any(|a| (a.qname == "xmlns" || a.qname.starts_with("xmlns:")) && a.value == ATOM10);
    if root.ns == ATOM10 || declares_10 {
        return "atom10";
    }
    match root.attr("version").map(str::trim) {
        Some("0.1") => "atom01",
        Some("0.2") => "atom02",
        Some("0.3") => "atom03",
        _ => "atom",
    }
}

fn parse_atom(root: &Element, base_url: Option<&str>) -> ParsedFeed {
    let ns = root.ns.as_str();
    let is10 = ns == ATOM10;
    let rules = atom_rules(is10);
    let base = base_of(base_url, root);
    let base = base.as_deref();
    let feed_lang = root.xml_lang().map(lang_tag);
    let mut feed = ParsedFeed {
        format: Format::Atom,
        version: atom_version(root).to_owned(),
        title: None,
        link: None,
        subtitle: None,
        rights: None,
        title_html: false,
        subtitle_html: false,
        rights_html: false,
        language: feed_lang.clone(),
        entries: Vec::new(),
    };
    if root.local == "entry" {
        feed.entries
            .push(atom_entry(root, ns, is10, base_url, feed_lang.as_deref()));
        return feed;
    }
    let texts = |names: &[&str]| {
        first_present(
            names
                .iter()
                .flat_map(|n| root.children_named(ns, n))
                .map(|t| text_value(t, rules, base)),
        )
    };
    (feed.title, feed.title_html) = split(texts(&["title"]));
    (feed.subtitle, feed.subtitle_html) = split(texts(&["subtitle", "tagline"]));
    (feed.rights, feed.rights_html) = split(texts(&["rights", "copyright"]));
    feed.link = pick_links(&atom_links(root, ns, base))
        .0
        .or_else(|| atom_id(root, ns, base).filter(|i| is_permalink(i)));
    feed.entries = root
        .children_named(ns, "entry")
        .map(|e| atom_entry(e, ns, is10, base, feed_lang.as_deref()))
        .collect();
    feed
}

fn atom_entry(
    e: &Element,
    ns: &str,
    is10: bool,
    parent_base: Option<&str>,
    feed_lang: Option<&str>,
) -> ParsedEntry {
    let rules = atom_rules(is10);
    let base = base_of(parent_base, e);
    let base = base.as_deref();
    let (link, links) = pick_links(&atom_links(e, ns, base));
    let id = atom_id(e, ns, base);
    let mut tags: Vec<String> = e
        .children_named(ns, "category")
        .filter_map(|c| {
            c.attr("term")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .or_else(|| c.own_text_trim())
        })
        .collect();
    tags.extend(
        e.children_named(DC, "subject")
            .filter_map(Element::text_trim),
    );
    extension_tags(e, &mut tags);
    let tags = dedup(tags);
    // With no link of its own, an entry whose id is a web address links there.
    let link = link.or_else(|| id.clone().filter(|i| is_permalink(i)));
    let links = if links.is_empty() {
        link.iter().cloned().collect()
    } else {
        links
    };
    let mut sc = SummaryContent::default();
    for c in e.elements() {
        if c.is(ns, "summary") {
            sc.summary(text_value(c, rules, base));
        } else if c.is(DC, "description") {
            sc.summary(text_value(c, RSS_HTML, base));
        } else if c.is(ns, "content") {
            sc.content(text_value(c, rules, base), true);
        } else if c.is(CONTENT, "encoded") {
            sc.content(text_value(c, RSS_HTML, base), true);
        }
    }
    let texts = |names: &[&str]| {
        first_present(
            names
                .iter()
                .flat_map(|n| e.children_named(ns, n))
                .map(|t| text_value(t, rules, base)),
        )
    };
    let (title, title_html) = split(texts(&["title"]));
    let (summary, summary_html) = split(sc.summary);
    let (content, content_html) = split(sc.content);
    let (rights, rights_html) = split(texts(&["rights", "copyright"]));
    ParsedEntry {
        id,
        title,
        title_html,
        link,
        links,
        summary,
        summary_html,
        content,
        content_html,
        author: e
            .child(ns, "author")
            .and_then(|a| atom_person(a, ns))
            .or_else(|| {
                e.child(DC, "creator")
                    .and_then(Element::text_trim)
                    .map(repair_text)
            }),
        published: first_date(e, &[(ns, "published"), (ns, "issued"), (DCTERMS, "issued")]),
        updated: first_date(e, &[(ns, "updated"), (ns, "modified"), (DC, "date")]),
        tags,
        rights,
        rights_html,
        language: e
            .xml_lang()
            .map(lang_tag)
            .or_else(|| feed_lang.map(str::to_owned)),
    }
}

// ---------------------------------------------------------------- RSS

fn is_rss_ns(ns: &str) -> bool {
    ns.is_empty()
        || ns == RSS10
        || ns == RSS09
        || RSS_OTHER.contains(&ns)
        || ns.starts_with("http://backend.userland.com/rss")
}

/// RSS element names are matched without regard to case (`<Title>`, `<PUBDATE>`), as
/// feed readers do.
fn rss_child<'a>(el: &'a Element, local: &str) -> Option<&'a Element> {
    el.elements()
        .find(|e| e.local.eq_ignore_ascii_case(local) && is_rss_ns(&e.ns))
}

fn rss_children<'a>(el: &'a Element, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    el.elements()
        .filter(move |e| e.local.eq_ignore_ascii_case(local) && is_rss_ns(&e.ns))
}

/// The first RSS child among `names` (in that order of preference) that has text, read
/// with `rules`.
fn rss_text(
    el: &Element,
    names: &[(&str, &str)],
    rules: TextRules<'_>,
    base: Option<&str>,
) -> Option<Text> {
    first_present(names.iter().flat_map(|(ns, local)| {
        el.elements()
            .filter(move |e| {
                e.local.eq_ignore_ascii_case(local)
                    && if ns.is_empty() {
                        is_rss_ns(&e.ns)
                    } else {
                        e.ns == *ns
                    }
            })
            .map(move |e| text_value(e, rules, base))
    }))
}

fn rss_version(root: &Element, channel: Option<&Element>, doctype: Option<&str>) -> String {
    if root.ns == "http://purl.org/net/rss1.1#" {
        return "rss11".to_owned();
    }
    if root.local == "RDF" {
        let ns = channel.map(|c| c.ns.as_str()).unwrap_or("");
        return if ns == RSS09 { "rss090" } else { "rss10" }.to_owned();
    }
    // Netscape's RSS 0.91 is told from UserLand's by its DOCTYPE.
    if root.local == "rss" && doctype.is_some_and(|d| d.to_ascii_lowercase().contains("netscape")) {
        return "rss091n".to_owned();
    }
    match root.attr("version").map(str::trim) {
        Some("0.91") => "rss091u".to_owned(),
        Some("0.92") => "rss092".to_owned(),
        Some("0.93") => "rss093".to_owned(),
        Some("0.94") => "rss094".to_owned(),
        Some(v) if v.starts_with("2.") => "rss20".to_owned(),
        _ => "rss".to_owned(),
    }
}

fn parse_rss(root: &Element, doctype: Option<&str>, base_url: Option<&str>) -> ParsedFeed {
    let channel = if root.local == "channel" || root.local == "Channel" {
        Some(root)
    } else {
        rss_child(root, "channel")
    };
    let base = base_of(base_url, root);
    let chan_base = channel.map_or(base.clone(), |c| base_of(base.as_deref(), c));
    let chan_base = chan_base.as_deref();
    let mut feed = ParsedFeed {
        format: Format::Rss,
        version: rss_version(root, channel, doctype),
        title: None,
        link: None,
        subtitle: None,
        rights: None,
        title_html: false,
        subtitle_html: false,
        rights_html: false,
        language: root.xml_lang().map(lang_tag),
        entries: Vec::new(),
    };
    let mut items: Vec<&Element> = Vec::new();
    if let Some(ch) = channel {
        (feed.title, feed.title_html) = split(rss_text(
            ch,
            &[("", "title"), (DC, "title")],
            RSS_TEXT,
            chan_base,
        ));
        feed.link = rss_child(ch, "link")
            .and_then(|l| l.text_trim().or_else(|| l.attr("href").map(str::to_owned)))
            .filter(|l| !l.trim().is_empty())
            .map(|l| resolve_url(chan_base, &l))
            .or_else(|| pick_links(&atom_links(ch, ATOM10, chan_base)).0);
        (feed.subtitle, feed.subtitle_html) = split(rss_text(
            ch,
            &[("", "description"), (DC, "description")],
            RSS_HTML,
            chan_base,
        ));
        (feed.rights, feed.rights_html) = split(rss_text(
            ch,
            &[("", "copyright"), (DC, "rights")],
            RSS_TEXT,
            chan_base,
        ));
        feed.language = rss_child(ch, "language")
            .or_else(|| ch.child(DC, "language"))
            .and_then(Element::text_trim)
            .map(|l| lang_tag(&l))
            .or_else(|| ch.xml_lang().map(lang_tag))
            .or(feed.language);
        items.extend(rss_children(ch, "item"));
        // RSS 1.1 keeps its items in an `items` collection.
        for coll in rss_children(ch, "items") {
            items.extend(rss_children(coll, "item"));
        }
    }
    if !channel.is_some_and(|c| std::ptr::eq(c, root)) {
        items.extend(rss_children(root, "item"));
    }
    feed.entries = items
        .into_iter()
        .map(|it| rss_item(it, chan_base, feed.language.as_deref()))
        .collect();
    feed
}

fn rss_item(it: &Element, parent_base: Option<&str>, feed_lang: Option<&str>) -> ParsedEntry {
    let base = base_of(parent_base, it);
    let base = base.as_deref();
    let guid_el = rss_child(it, "guid");
    let guid = guid_el.and_then(Element::text_trim);
    let guid_is_link = guid_el.is_some_and(|g| {
        !g.attr("isPermaLink")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    });
    let atom = atom_links(it, ATOM10, base);
    let (atom_main, atom_all) = pick_links(&atom);
    // `<link>` holds the URL as text; some feeds write it Atom-style, in `href`.
    let link = rss_child(it, "link")
        .and_then(|l| l.text_trim().or_else(|| l.attr("href").map(str::to_owned)))
        .filter(|l| !l.trim().is_empty())
        .map(|l| resolve_url(base, &l))
        .or(atom_main)
        .or_else(|| {
            guid.as_ref()
                .filter(|g| guid_is_link && is_permalink(g))
                .cloned()
        });
    let mut links: Vec<String> = link.iter().cloned().collect();
    for l in atom_all {
        if !links.contains(&l) {
            links.push(l);
        }
    }
    for enc in rss_children(it, "enclosure") {
        if let Some(u) = enc.attr("url") {
            let u = resolve_url(base, u);
            if !links.contains(&u) {
                links.push(u);
            }
        }
    }
    // Summary and content in document order (see `SummaryContent`).
    let mut sc = SummaryContent::default();
    for c in it.elements() {
        let rss = is_rss_ns(&c.ns);
        match c.local.to_ascii_lowercase().as_str() {
            "description" if rss || c.ns == DC || c.ns == MEDIA => {
                sc.summary(text_value(c, RSS_HTML, base));
            }
            "summary" => sc.summary(text_value(c, RSS_TEXT, base)),
            "encoded" if c.ns == CONTENT => sc.content(text_value(c, RSS_HTML, base), true),
            "fullitem" if rss => sc.content(text_value(c, RSS_HTML, base), true),
            "content" if c.ns == ATOM10 => sc.content(text_value(c, atom_rules(true), base), true),
            "body" if c.ns == XHTML || c.ns.is_empty() => {
                sc.content(text_value(c, XHTML_BODY, base), false);
            }
            _ => {}
        }
    }
    let author = rss_child(it, "author")
        .or_else(|| it.child(DC, "creator"))
        .or_else(|| it.child(DC, "author"))
        .and_then(Element::text_trim)
        .map(repair_text)
        .or_else(|| {
            it.child(ATOM10, "author")
                .and_then(|a| atom_person(a, ATOM10))
        });
    let mut tags: Vec<String> = rss_children(it, "category")
        .filter_map(Element::own_text_trim)
        .collect();
    tags.extend(
        it.children_named(DC, "subject")
            .filter_map(Element::text_trim),
    );
    extension_tags(it, &mut tags);
    let tags = dedup(tags);
    let (title, title_html) = split(rss_text(
        it,
        &[("", "title"), (DC, "title"), (MEDIA, "title")],
        RSS_TEXT,
        base,
    ));
    let (summary, summary_html) = split(sc.summary);
    let (content, content_html) = split(sc.content);
    let (rights, rights_html) = split(rss_text(
        it,
        &[(DC, "rights"), ("", "copyright")],
        RSS_TEXT,
        base,
    ));
    ParsedEntry {
        id: guid
            .or_else(|| it.child(ATOM10, "id").and_then(Element::text_trim))
            .or_else(|| rss_child(it, "id").and_then(Element::text_trim))
            .or_else(|| it.child(DC, "identifier").and_then(Element::text_trim))
            .or_else(|| it.attr_ns(RDF, "about").map(|a| resolve_url(base, a))),
        title,
        title_html,
        link,
        links,
        summary,
        summary_html,
        content,
        content_html,
        author,
        published: first_date(
            it,
            &[
                ("", "pubDate"),
                (RSS10, "pubDate"),
                (DCTERMS, "issued"),
                (DCTERMS, "created"),
                (ATOM10, "published"),
                ("", "published"),
                ("", "issued"),
            ],
        ),
        updated: first_date(
            it,
            &[
                (DC, "date"),
                (DCTERMS, "modified"),
                (ATOM10, "updated"),
                ("", "updated"),
                ("", "modified"),
            ],
        ),
        tags,
        rights,
        rights_html,
        language: it
            .child(DC, "language")
            .and_then(Element::text_trim)
            .or_else(|| it.xml_lang().map(str::to_owned))
            .or_else(|| feed_lang.map(str::to_owned)),
    }
}

// ---------------------------------------------------------------- CDF

fn cdf_child<'a>(el: &'a Element, local: &str) -> Option<&'a Element> {
    el.elements().find(|e| e.local.eq_ignore_ascii_case(local))
}

fn cdf_href(el: &Element, base: Option<&str>) -> Option<String> {
    el.attrs
        .iter()
        .find(|a| a.local.eq_ignore_ascii_case("href"))
        .map(|a| resolve_url(base, &a.value))
}

/// Microsoft's Channel Definition Format, which feedparser also reads: `CHANNEL`/`ITEM` with
/// `HREF`, `TITLE`, `ABSTRACT` and `LASTMOD`.
fn parse_cdf(root: &Element, base_url: Option<&str>) -> ParsedFeed {
    let base = base_of(base_url, root);
    let base = base.as_deref();
    let text = |el: &Element, name: &str| cdf_child(el, name).and_then(Element::text_trim);
    let entries = root
        .elements()
        .filter(|e| e.local.eq_ignore_ascii_case("item"))
        .map(|it| {
            let link = cdf_href(it, base);
            ParsedEntry {
                title: text(it, "title"),
                links: link.iter().cloned().collect(),
                link,
                summary: text(it, "abstract"),
                updated: it
                    .attrs
                    .iter()
                    .find(|a| a.local.eq_ignore_ascii_case("lastmod"))
                    .and_then(|a| parse_date(&a.value)),
                ..ParsedEntry::default()
            }
        })
        .collect();
    ParsedFeed {
        format: Format::Rss,
        version: "cdf".to_owned(),
        title: text(root, "title"),
        link: cdf_href(root, base),
        subtitle: text(root, "abstract"),
        rights: None,
        title_html: false,
        subtitle_html: false,
        rights_html: false,
        language: None,
        entries,
    }
}
