//! RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 from the XML tree into [`ParsedFeed`].

use crate::text::{base64_decode, child_base, resolve_html, resolve_url};
use crate::xml::{Element, XHTML};
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

/// Parses a feed document's root element.
pub(crate) fn parse(root: &Element, base_url: Option<&str>) -> Result<ParsedFeed, IngestError> {
    match root.local.as_str() {
        "feed" => Ok(parse_atom(root, base_url)),
        "entry" if root.ns == ATOM10 || root.ns == ATOM03 || root.ns.is_empty() => {
            Ok(parse_atom(root, base_url))
        }
        "rss" | "RDF" | "channel" | "Channel" => Ok(parse_rss(root, base_url)),
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

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn base_of(parent: Option<&str>, el: &Element) -> Option<String> {
    child_base(parent, el.xml_base())
}

// ---------------------------------------------------------------- Atom

/// The value of an Atom text construct (or content), following feedparser: `text` as
/// decoded text; `html` as the decoded HTML; `xhtml` serialised, without the wrapping
/// `<div>` in Atom 1.0; base64 mode decoded. Relative URLs in HTML are resolved.
fn atom_text(el: &Element, is10: bool, parent_base: Option<&str>) -> Option<String> {
    let base = base_of(parent_base, el);
    let base = base.as_deref();
    let ty = el
        .attr("type")
        .unwrap_or("text")
        .trim()
        .to_ascii_lowercase();
    let mode = el.attr("mode").unwrap_or("").trim().to_ascii_lowercase();
    let htmlish = ty.contains("html");
    if mode == "base64" || (is10 && !htmlish && !ty.starts_with("text") && ty.contains('/')) {
        // Atom 0.3 base64 mode, or Atom 1.0 non-text media type (base64 per RFC 4287).
        let raw = el.text();
        if let Some(bytes) = base64_decode(raw.trim()) {
            let s = String::from_utf8_lossy(&bytes).into_owned();
            return non_empty(if htmlish || mode == "base64" {
                resolve_html(&s, base)
            } else {
                s
            });
        }
        return non_empty(raw);
    }
    let is_xhtml = ty == "xhtml" || ty == "application/xhtml+xml" || mode == "xml";
    if is_xhtml {
        let inner = if is10 {
            let divs: Vec<&Element> = el.elements().collect();
            match divs.as_slice() {
                [div] if div.local == "div" && (div.ns == XHTML || div.ns.is_empty()) => {
                    div.inner_xml()
                }
                _ => el.inner_xml(),
            }
        } else {
            el.inner_xml()
        };
        return non_empty(resolve_html(&inner, base));
    }
    let has_children = el.elements().next().is_some();
    let value = if has_children {
        el.inner_xml()
    } else {
        el.text()
    };
    if htmlish || has_children {
        non_empty(resolve_html(&value, base))
    } else {
        non_empty(value)
    }
}

struct AtomLink {
    rel: String,
    ty: String,
    href: String,
}

fn atom_links(el: &Element, ns: &str, base: Option<&str>) -> Vec<AtomLink> {
    el.children_named(ns, "link")
        .filter_map(|l| {
            let href = l.attr("href")?.trim();
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
    match (name, email) {
        (Some(n), Some(e)) => Some(format!("{n} ({e})")),
        (Some(n), None) => Some(n),
        (None, Some(e)) => Some(e),
        (None, None) => el
            .elements()
            .next()
            .is_none()
            .then(|| el.text_trim())
            .flatten(),
    }
}

fn first_date(el: &Element, names: &[(&str, &str)]) -> Option<chrono::DateTime<chrono::Utc>> {
    // Within one element name the last value wins, as in feedparser.
    names.iter().find_map(|(ns, local)| {
        el.children_named(ns, local)
            .filter_map(|e| parse_date(&e.text()))
            .last()
    })
}

fn parse_atom(root: &Element, base_url: Option<&str>) -> ParsedFeed {
    let ns = root.ns.as_str();
    let is10 = ns == ATOM10;
    let version = if is10 {
        "atom10"
    } else if ns == ATOM03 || root.attr("version") == Some("0.3") {
        "atom03"
    } else {
        "atom"
    };
    let base = base_of(base_url, root);
    let base = base.as_deref();
    let feed_lang = root.xml_lang().map(lang_tag);
    let mut feed = ParsedFeed {
        format: Format::Atom,
        version: version.to_owned(),
        title: None,
        link: None,
        subtitle: None,
        rights: None,
        language: feed_lang.clone(),
        entries: Vec::new(),
    };
    if root.local == "entry" {
        feed.entries
            .push(atom_entry(root, ns, is10, base_url, feed_lang.as_deref()));
        return feed;
    }
    feed.title = root
        .child(ns, "title")
        .and_then(|t| atom_text(t, is10, base));
    feed.subtitle = root
        .child(ns, "subtitle")
        .or_else(|| root.child(ns, "tagline"))
        .and_then(|t| atom_text(t, is10, base));
    feed.rights = root
        .child(ns, "rights")
        .or_else(|| root.child(ns, "copyright"))
        .and_then(|t| atom_text(t, is10, base));
    feed.link = pick_links(&atom_links(root, ns, base)).0;
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
    let base = base_of(parent_base, e);
    let base = base.as_deref();
    let (link, links) = pick_links(&atom_links(e, ns, base));
    // An id is an opaque string; only one written as a path (`/x`, `./x`, `../x`) is
    // resolved against the base.
    let id = e.child(ns, "id").and_then(Element::text_trim).map(|id| {
        if id.starts_with('/') || id.starts_with("./") || id.starts_with("../") {
            let b = base_of(base, e.child(ns, "id").unwrap_or(e));
            resolve_url(b.as_deref(), &id)
        } else {
            id
        }
    });
    let mut tags: Vec<String> = e
        .children_named(ns, "category")
        .filter_map(|c| {
            c.attr("term")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .or_else(|| c.text_trim())
        })
        .collect();
    tags.extend(
        e.children_named(DC, "subject")
            .filter_map(Element::text_trim),
    );
    ParsedEntry {
        id,
        title: e.child(ns, "title").and_then(|t| atom_text(t, is10, base)),
        link,
        links,
        summary: e
            .child(ns, "summary")
            .and_then(|t| atom_text(t, is10, base)),
        content: e.child(ns, "content").and_then(|c| {
            if c.attr("src").is_some() && c.children.is_empty() {
                None
            } else {
                atom_text(c, is10, base)
            }
        }),
        author: e
            .child(ns, "author")
            .and_then(|a| atom_person(a, ns))
            .or_else(|| e.child(DC, "creator").and_then(Element::text_trim)),
        published: first_date(e, &[(ns, "published"), (ns, "issued"), (DCTERMS, "issued")]),
        updated: first_date(e, &[(ns, "updated"), (ns, "modified"), (DC, "date")]),
        tags,
        rights: e
            .child(ns, "rights")
            .or_else(|| e.child(ns, "copyright"))
            .and_then(|t| atom_text(t, is10, base)),
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

fn rss_child<'a>(el: &'a Element, local: &str) -> Option<&'a Element> {
    el.elements().find(|e| e.local == local && is_rss_ns(&e.ns))
}

fn rss_children<'a>(el: &'a Element, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    el.elements()
        .filter(move |e| e.local == local && is_rss_ns(&e.ns))
}

/// RSS text: the decoded text, or serialised markup when the element holds naked
/// elements; relative URLs in it resolved.
fn rss_html(el: &Element, parent_base: Option<&str>) -> Option<String> {
    let base = base_of(parent_base, el);
    let value = if el.elements().next().is_some() {
        el.inner_xml()
    } else {
        el.text()
    };
    non_empty(resolve_html(&value, base.as_deref()))
}

fn rss_version(root: &Element, channel: Option<&Element>) -> String {
    if root.ns == "http://purl.org/net/rss1.1#" {
        return "rss11".to_owned();
    }
    if root.local == "RDF" {
        let ns = channel.map(|c| c.ns.as_str()).unwrap_or("");
        return if ns == RSS09 { "rss090" } else { "rss10" }.to_owned();
    }
    match root.attr("version").map(str::trim) {
        Some("0.91") => "rss091".to_owned(),
        Some("0.92") => "rss092".to_owned(),
        Some("0.93") => "rss093".to_owned(),
        Some("0.94") => "rss094".to_owned(),
        Some(v) if v.starts_with('2') => "rss20".to_owned(),
        _ => "rss".to_owned(),
    }
}

fn parse_rss(root: &Element, base_url: Option<&str>) -> ParsedFeed {
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
        version: rss_version(root, channel),
        title: None,
        link: None,
        subtitle: None,
        rights: None,
        language: root.xml_lang().map(lang_tag),
        entries: Vec::new(),
    };
    let mut items: Vec<&Element> = Vec::new();
    if let Some(ch) = channel {
        feed.title = rss_child(ch, "title")
            .or_else(|| ch.child(DC, "title"))
            .and_then(|t| rss_html(t, chan_base));
        feed.link = rss_child(ch, "link")
            .and_then(Element::text_trim)
            .map(|l| resolve_url(chan_base, &l))
            .or_else(|| pick_links(&atom_links(ch, ATOM10, chan_base)).0);
        feed.subtitle = rss_child(ch, "description")
            .or_else(|| ch.child(DC, "description"))
            .and_then(|t| rss_html(t, chan_base));
        feed.rights = rss_child(ch, "copyright")
            .or_else(|| ch.child(DC, "rights"))
            .and_then(|t| rss_html(t, chan_base));
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
    // Without a document URL, relative item links resolve against the channel link.
    let item_base: Option<String> = match chan_base {
        Some(b) => Some(b.to_owned()),
        None => feed.link.clone().filter(|l| l.contains("://")),
    };
    feed.entries = items
        .into_iter()
        .map(|it| rss_item(it, item_base.as_deref(), feed.language.as_deref()))
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
    let link = rss_child(it, "link")
        .and_then(Element::text_trim)
        .map(|l| resolve_url(base, &l))
        .or(atom_main)
        .or_else(|| {
            guid.as_ref()
                .filter(|g| guid_is_link && (g.starts_with("http://") || g.starts_with("https://")))
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
    let description = rss_child(it, "description")
        .or_else(|| it.child(DC, "description"))
        .and_then(|d| rss_html(d, base));
    let summary_el = it.elements().find(|e| e.local == "summary");
    // When an item has both `summary` and `description`, the first is the summary and the
    // other the content (feedparser's reading).
    let summary_first = summary_el.is_some_and(|s| {
        it.elements().position(|e| std::ptr::eq(e, s))
            < it.elements().position(|e| e.local == "description")
    });
    let encoded = it
        .child(CONTENT, "encoded")
        .and_then(|c| rss_html(c, base))
        .or_else(|| {
            it.elements()
                .find(|e| e.local == "body" && (e.ns == XHTML || e.ns.is_empty()))
                .and_then(|b| non_empty(resolve_html(&b.inner_xml(), base_of(base, b).as_deref())))
        })
        .or_else(|| rss_child(it, "fullitem").and_then(|c| rss_html(c, base)));
    let (summary, content) = match (
        summary_el.and_then(|s| rss_html(s, base)),
        description,
        encoded,
    ) {
        (Some(s), Some(d), None) if summary_first => (Some(s), Some(d)),
        (Some(s), Some(d), None) => (Some(d), Some(s)),
        (Some(s), None, c) => (Some(s), c),
        (_, d, c) => (d, c),
    };
    let author = rss_child(it, "author")
        .or_else(|| it.child(DC, "creator"))
        .or_else(|| it.child(DC, "author"))
        .and_then(Element::text_trim)
        .or_else(|| {
            it.child(ATOM10, "author")
                .and_then(|a| atom_person(a, ATOM10))
        });
    let mut tags: Vec<String> = rss_children(it, "category")
        .filter_map(Element::text_trim)
        .collect();
    tags.extend(
        it.children_named(DC, "subject")
            .filter_map(Element::text_trim),
    );
    ParsedEntry {
        id: guid
            .or_else(|| it.child(ATOM10, "id").and_then(Element::text_trim))
            .or_else(|| it.child(DC, "identifier").and_then(Element::text_trim))
            .or_else(|| it.attr_ns(RDF, "about").map(|a| resolve_url(base, a))),
        title: rss_child(it, "title")
            .or_else(|| it.child(DC, "title"))
            .or_else(|| it.child(MEDIA, "title"))
            .and_then(|t| rss_html(t, base)),
        link,
        links,
        summary,
        content,
        author,
        published: first_date(
            it,
            &[
                ("", "pubDate"),
                (RSS10, "pubDate"),
                (DCTERMS, "issued"),
                (DCTERMS, "created"),
                (ATOM10, "published"),
            ],
        ),
        updated: first_date(
            it,
            &[(DC, "date"), (DCTERMS, "modified"), (ATOM10, "updated")],
        ),
        tags,
        rights: it
            .child(DC, "rights")
            .or_else(|| rss_child(it, "copyright"))
            .and_then(Element::text_trim),
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
        language: None,
        entries,
    }
}
