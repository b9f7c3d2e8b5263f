//! Agency copy in: parsing RSS, Atom, JSON Feed, ninjs, NewsML-G2, NewsML 1.x, NITF 3.x,
//! IPTC 7901 and ANPA 1312 into `WireItem`s.
//!
//! Two entry points:
//! - [`parse_feed`] reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 into a
//!   generic [`ParsedFeed`] whose names follow Python feedparser's, so conformance tests map
//!   one to one;
//! - [`parse_items`] reads any of these formats into normalised
//!   [`WireItem`](newsdesk_domain::WireItem)s.
//!
//! Parsing is bounded by [`Limits`]: input size, XML node count and nesting depth; DOCTYPEs
//! that could declare entities are refused, so a hostile source costs bounded time and
//! memory. No I/O happens here: fetching is the caller's job.

#[cfg(any(test, feature = "canonical"))]
mod canonical;
mod date;
mod decode;
mod error;
mod feed;
mod html;
mod json;
mod jsonfeed;
mod newsml;
mod newsml1;
mod ninjs;
mod nitf;
mod teletype;
mod text;
mod wire;
mod xml;

use chrono::{DateTime, Utc};
use newsdesk_domain::entities;
use newsdesk_domain::WireItem;

pub use date::{parse_date, parse_embargo};
pub use error::{IngestError, Limits};

/// The formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// RSS 0.9x, RSS 1.0 (RDF) and RSS 2.0.
    Rss,
    /// Atom 0.3 and Atom 1.0 (feed or single entry documents).
    Atom,
    /// JSON Feed 1.0 and 1.1.
    JsonFeed,
    /// IPTC ninjs 1.x, 2.x and 3.x.
    Ninjs,
    /// IPTC NewsML-G2 (newsItem, packageItem, newsMessage).
    NewsMlG2,
    /// NITF 3.x (News Industry Text Format).
    Nitf,
    /// IPTC NewsML 1.x (`NewsML` with `NewsItem`s).
    NewsMl1,
    /// IPTC 7901, the teletype-era text layout (dpa, SDA/ATS …).
    Iptc7901,
    /// ANPA 1312, the teletype-era text layout of AP and others.
    Anpa1312,
}

/// A feed in a generic model, close to Python feedparser's names so conformance tests map
/// one to one.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    /// Which family the document belongs to.
    pub format: Format,
    /// feedparser-style version: `rss090`, `rss091n` (Netscape DOCTYPE), `rss091u`, `rss092`,
    /// `rss093`, `rss094`, `rss10`, `rss11`, `rss20`, `rss` (no version), `cdf`, `atom01`,
    /// `atom02`, `atom03`, `atom10`, `atom` (no known version), `json1`, `json11`.
    pub version: String,
    /// Feed title (HTML kept as in the feed).
    pub title: Option<String>,
    /// Feed home page, resolved against `xml:base` / the document URL.
    pub link: Option<String>,
    /// Feed subtitle / description / tagline (HTML kept).
    pub subtitle: Option<String>,
    /// Feed rights / copyright.
    pub rights: Option<String>,
    /// `title` is HTML (else plain text).
    pub title_html: bool,
    /// `subtitle` is HTML (else plain text).
    pub subtitle_html: bool,
    /// `rights` is HTML (else plain text).
    pub rights_html: bool,
    /// Feed language (`language`, `dc:language`, `xml:lang` on the root).
    pub language: Option<String>,
    /// Entries in document order.
    pub entries: Vec<ParsedEntry>,
}

/// One entry of a [`ParsedFeed`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedEntry {
    /// `guid` / Atom `id` / JSON Feed `id`.
    pub id: Option<String>,
    /// Title (HTML kept as in the feed).
    pub title: Option<String>,
    /// `title` is HTML (else plain text).
    pub title_html: bool,
    /// The entry's own page (`link`, Atom `rel="alternate"`, permalink `guid`, JSON `url`).
    pub link: Option<String>,
    /// Every link of the entry (alternate first, then others and enclosures), resolved.
    pub links: Vec<String>,
    /// Summary / description, as in the feed (HTML kept, relative URLs resolved).
    pub summary: Option<String>,
    /// `summary` is HTML (else plain text).
    pub summary_html: bool,
    /// Full content (`content:encoded`, Atom `content`, `xhtml:body`, JSON `content_html`).
    pub content: Option<String>,
    /// `content` is HTML (else plain text).
    pub content_html: bool,
    /// Author name (or e-mail when that is all there is).
    pub author: Option<String>,
    /// First publication (`pubDate`, `dc:date`, Atom `published`/`issued`).
    pub published: Option<DateTime<Utc>>,
    /// Last update (Atom `updated`/`modified`, `dcterms:modified`, JSON `date_modified`).
    pub updated: Option<DateTime<Utc>>,
    /// Category terms (`category`, `dc:subject`, Atom `category/@term`, JSON `tags`).
    pub tags: Vec<String>,
    /// Entry rights / copyright.
    pub rights: Option<String>,
    /// `rights` is HTML (else plain text).
    pub rights_html: bool,
    /// Language of the entry (`xml:lang`, `dc:language`, JSON `language`).
    pub language: Option<String>,
}

/// Writes an HTML fragment in one canonical form, the one Python feedparser gives feed HTML:
/// lower-case names, attributes sorted and double-quoted, `<br />`, bare `&` before a word
/// escaped, numeric references with a lower-case `x` and Windows-1252 C1 references mapped
/// (`&#146;` → `&#x2019;`), inline SVG/MathML with their namespace. Two fragments that
/// differ only in how the markup is written canonicalise to the same string. Nothing is
/// removed (this is not a sanitiser). Test support: compiled only with the `canonical`
/// feature, which this crate's own tests turn on; the product never needs it.
#[cfg(feature = "canonical")]
pub fn normalize_html(html: &str) -> String {
    canonical::normalize(html, None, false)
}

/// Guesses the format from the bytes, with the Content-Type as a hint when sniffing cannot
/// tell. `None` when it is neither XML of a known root nor JSON.
pub fn detect(bytes: &[u8], content_type: Option<&str>) -> Option<Format> {
    let head = bytes.get(..bytes.len().min(64 * 1024)).unwrap_or(bytes);
    let text = match decode::decode(head, content_type) {
        Ok(t) => t,
        Err(_) => String::from_utf8_lossy(head).into_owned(),
    };
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if trimmed.contains("jsonfeed.org/version") {
            return Some(Format::JsonFeed);
        }
        return Some(Format::Ninjs);
    }
    if !trimmed.starts_with('<') {
        if let Some(f) = teletype::sniff(trimmed) {
            return Some(f);
        }
    }
    if let Some(root) = xml_root_name(trimmed) {
        let local = root.rsplit(':').next().unwrap_or(&root);
        match local {
            "rss" | "RDF" | "channel" | "Channel" | "CHANNEL" => return Some(Format::Rss),
            "feed" | "entry" => return Some(Format::Atom),
            "newsItem" | "packageItem" | "newsMessage" | "knowledgeItem" | "planningItem"
            | "conceptItem" | "catalogItem" => return Some(Format::NewsMlG2),
            "nitf" => return Some(Format::Nitf),
            "NewsML" | "NewsItem" => return Some(Format::NewsMl1),
            _ => {}
        }
    }
    let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    match ct.as_str() {
        "application/rss+xml" | "application/rdf+xml" => Some(Format::Rss),
        "application/atom+xml" => Some(Format::Atom),
        "application/feed+json" => Some(Format::JsonFeed),
        "application/ninjs+json" => Some(Format::Ninjs),
        c if c.contains("nitf") => Some(Format::Nitf),
        c if c.contains("newsml") || c.contains("g2") => Some(Format::NewsMlG2),
        _ => None,
    }
}

/// The qualified name of the first element in an XML text, skipping the prolog.
fn xml_root_name(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let lt = rest.find('<')?;
        rest = &rest[lt + 1..];
        if let Some(r) = rest.strip_prefix("!--") {
            rest = &r[r.find("-->")? + 3..];
            continue;
        }
        if rest.starts_with('?') || rest.starts_with('!') {
            rest = &rest[rest.find('>')? + 1..];
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return (!name.is_empty()).then_some(name);
    }
}

/// What the HTTP response said about a document, for [`parse_feed_with`] and
/// [`parse_items_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpMeta<'a> {
    /// `Content-Type`: a hint for the character set and the format.
    pub content_type: Option<&'a str>,
    /// The document URL (or its `Content-Location`): the base for relative links where the
    /// document sets no `xml:base`. Ignored unless its scheme is a safe one (`http`, …).
    pub base_url: Option<&'a str>,
    /// `Content-Language`: the language of a document that names none itself.
    pub content_language: Option<&'a str>,
}

/// The first language tag of a `Content-Language` value (`en-GB, fr` → `en-GB`).
fn header_language(v: Option<&str>) -> Option<String> {
    let tag = v?.split(',').next()?.trim();
    (!tag.is_empty() && tag != "*").then(|| tag.replace('_', "-"))
}

/// Parses an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 document.
///
/// `content_type` (the HTTP header) helps with the character set and format; `base_url`
/// (the document URL or `Content-Location`) resolves relative links where the document has
/// no `xml:base`. ninjs and NewsML-G2 are not feeds: use [`parse_items`] for them.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base_url: Option<&str>,
    limits: &Limits,
) -> Result<ParsedFeed, IngestError> {
    let meta = HttpMeta {
        content_type,
        base_url,
        content_language: None,
    };
    parse_feed_with(bytes, &meta, limits)
}

/// [`parse_feed`] with everything the HTTP response said about the document (see
/// [`HttpMeta`]): `Content-Language` becomes the feed's and entries' language where the
/// document names none.
pub fn parse_feed_with(
    bytes: &[u8],
    meta: &HttpMeta<'_>,
    limits: &Limits,
) -> Result<ParsedFeed, IngestError> {
    if bytes.len() > limits.max_bytes {
        return Err(IngestError::TooLarge);
    }
    let content_type = meta.content_type;
    // A document URL with a scheme that could run code is no base.
    let base_url = meta.base_url.filter(|b| text::has_safe_scheme(b));
    let mut feed = match detect(bytes, content_type) {
        Some(Format::JsonFeed) => jsonfeed::parse(bytes, base_url, limits),
        Some(Format::Ninjs) => {
            // Could still be a JSON Feed with an unusual version string.
            jsonfeed::parse(bytes, base_url, limits)
        }
        Some(
            f @ (Format::NewsMlG2
            | Format::Nitf
            | Format::NewsMl1
            | Format::Iptc7901
            | Format::Anpa1312),
        ) => Err(IngestError::NotAFeed(format!(
            "{f:?} is agency copy, not a feed; use parse_items"
        ))),
        _ => {
            let text = decode::decode(bytes, content_type)?;
            let doc = xml::parse_document(&text, limits)?;
            feed::parse(&doc.root, doc.doctype.as_deref(), base_url)
        }
    }?;
    if let Some(lang) = header_language(meta.content_language) {
        if feed.language.is_none() {
            feed.language = Some(lang.clone());
        }
        for e in feed.entries.iter_mut().filter(|e| e.language.is_none()) {
            e.language = Some(lang.clone());
        }
    }
    Ok(feed)
}

/// Parses any of the five formats into normalised wire items.
///
/// Feeds go through [`parse_feed`]; ninjs may be a single object, an array or an object with
/// `items`; NewsML-G2 may be a `newsItem`, a `packageItem` or a `newsMessage` carrying
/// items. `agency` is the source's name and becomes [`WireItem::agency`]; a provider the
/// item names goes into the byline when the item has no byline of its own (see the README
/// for the full mapping).
pub fn parse_items(
    agency: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    base_url: Option<&str>,
    limits: &Limits,
) -> Result<Vec<WireItem>, IngestError> {
    let meta = HttpMeta {
        content_type,
        base_url,
        content_language: None,
    };
    parse_items_with(agency, bytes, &meta, limits)
}

/// [`parse_items`] with everything the HTTP response said about the document (see
/// [`HttpMeta`]).
pub fn parse_items_with(
    agency: &str,
    bytes: &[u8],
    meta: &HttpMeta<'_>,
    limits: &Limits,
) -> Result<Vec<WireItem>, IngestError> {
    parse_items_report(agency, bytes, meta, limits).map(|p| p.items)
}

/// An item a document carried that is not copy for the desk, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAside {
    /// The item as read (its id, dates, embargo and codes are all there is).
    pub item: WireItem,
    /// Why it was set aside.
    pub reason: String,
}

/// The items of a document, and the ones set aside.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedItems {
    /// Copy for the desk, in document order.
    pub items: Vec<WireItem>,
    /// Items with neither headline nor text (package wrappers, metadata-only items).
    pub set_aside: Vec<SetAside>,
    /// In [`parse_item_set`]: this document's items that went out with a package read from
    /// another document of the set.
    pub packaged: usize,
}

/// [`parse_items_with`], also saying which items were set aside and why: an item with no
/// headline, no summary and no body is not a blank row on the desk.
pub fn parse_items_report(
    agency: &str,
    bytes: &[u8],
    meta: &HttpMeta<'_>,
    limits: &Limits,
) -> Result<ParsedItems, IngestError> {
    let base = meta.base_url.filter(|b| text::has_safe_scheme(b));
    Ok(sort_out(parse_raw(agency, bytes, meta, limits)?, base))
}

/// Sets aside the items with nothing in them and finishes the others' bodies.
fn sort_out(items: Vec<WireItem>, base: Option<&str>) -> ParsedItems {
    let mut out = ParsedItems::default();
    for mut item in items {
        if item.headline.trim().is_empty()
            && item.summary.trim().is_empty()
            && text::html_to_text(&item.body_html).is_empty()
        {
            out.set_aside.push(SetAside {
                item,
                reason: "no headline and no text (a wrapper or metadata-only item)".into(),
            });
            continue;
        }
        if is_impressum(&item) {
            out.set_aside.push(SetAside {
                item,
                reason: "the agency's Impressum (legal boilerplate sent as a service message), \
                         not a story"
                    .into(),
            });
            continue;
        }
        wire::finish(&mut item, base);
        out.items.push(item);
    }
    out
}

/// dpa (and other German-speaking agencies) send their legal notice, the "Impressum", on the
/// wire from time to time as an item headed "Impressum" with copyright filler for text. Told
/// by its heading alone: no story is headed by that one word.
fn is_impressum(item: &WireItem) -> bool {
    item.headline
        .trim()
        .trim_end_matches(['=', '/', ':'])
        .trim()
        .eq_ignore_ascii_case("impressum")
}

/// Reads a set of documents together, such as the files of one folder: a NewsML-G2
/// package's `itemRef`s resolve to items in the other documents of the set (an agency often
/// sends a package and each of its items as separate files). The package's document then
/// gives the package's items in its order, with its metadata; a document whose items all
/// went out with a package from another document gives none of its own (its
/// [`ParsedItems::packaged`] counts them). Each document comes with its source's name (see
/// [`parse_items`]'s `agency`) and gets its own result, in order.
pub fn parse_item_set(
    docs: &[(&str, &[u8])],
    limits: &Limits,
) -> Vec<Result<ParsedItems, IngestError>> {
    // NewsML-G2 documents are kept as trees so packages can reach across them.
    let mut roots: Vec<Option<xml::Element>> = Vec::with_capacity(docs.len());
    let mut results: Vec<Option<Result<ParsedItems, IngestError>>> = Vec::new();
    for &(agency, d) in docs {
        let tree = (detect(d, None) == Some(Format::NewsMlG2) && d.len() <= limits.max_bytes)
            .then(|| decode::decode(d, None).and_then(|t| xml::parse(&t, limits)));
        match tree {
            Some(Ok(root)) if newsml::is_g2(&root) => {
                roots.push(Some(root));
                results.push(None);
            }
            _ => {
                roots.push(None);
                results.push(Some(parse_items_report(
                    agency,
                    d,
                    &HttpMeta::default(),
                    limits,
                )));
            }
        }
    }
    let members: Vec<Vec<&xml::Element>> = roots
        .iter()
        .map(|r| r.as_ref().map(newsml::members).unwrap_or_default())
        .collect();
    // claimed[j][k]: document j's k-th item goes out with a package of document i.
    let mut claimed: Vec<Vec<Option<usize>>> =
        members.iter().map(|m| vec![None; m.len()]).collect();
    for (i, own) in members.iter().enumerate() {
        for p in own.iter().filter(|e| e.local == "packageItem") {
            for r in newsml::item_refs(p) {
                let here = own
                    .iter()
                    .any(|e| e.local == "newsItem" && newsml::guid_matches(e.attr("guid"), &r));
                if here {
                    continue;
                }
                let found = members.iter().enumerate().find_map(|(j, m)| {
                    if j == i {
                        return None;
                    }
                    m.iter().enumerate().find_map(|(k, e)| {
                        (e.local == "newsItem"
                            && claimed[j][k].is_none()
                            && newsml::guid_matches(e.attr("guid"), &r))
                        .then_some((j, k))
                    })
                });
                if let Some((j, k)) = found {
                    claimed[j][k] = Some(i);
                }
            }
        }
    }
    for (i, slot) in results.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let mut all: Vec<&xml::Element> = Vec::new();
        let mut packaged = 0usize;
        for (k, e) in members[i].iter().enumerate() {
            match claimed[i][k] {
                Some(_) => packaged += 1,
                None => all.push(e),
            }
        }
        for (j, m) in members.iter().enumerate() {
            for (k, e) in m.iter().enumerate() {
                if j != i && claimed[j][k] == Some(i) {
                    all.push(e);
                }
            }
        }
        let agency = docs.get(i).map_or("", |d| d.0);
        let mut parsed = sort_out(newsml::expand_packages(agency, &all, None), None);
        parsed.packaged = packaged;
        *slot = Some(Ok(parsed));
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(IngestError::NotAFeed("unread document".into()))))
        .collect()
}

fn parse_raw(
    agency: &str,
    bytes: &[u8],
    meta: &HttpMeta<'_>,
    limits: &Limits,
) -> Result<Vec<WireItem>, IngestError> {
    if bytes.len() > limits.max_bytes {
        return Err(IngestError::TooLarge);
    }
    match detect(bytes, meta.content_type) {
        Some(Format::Ninjs) => ninjs::parse(agency, bytes, limits),
        Some(Format::NewsMlG2) => {
            let text = decode::decode(bytes, meta.content_type)?;
            let root = xml::parse(&text, limits)?;
            newsml::parse(agency, &root, meta.base_url)
        }
        Some(Format::Nitf) => {
            let text = decode::decode_agency(bytes, meta.content_type, true)?;
            let root = xml::parse(&xml::drop_parameter_subset(&text), limits)?;
            nitf::parse(agency, &root).map(|i| vec![i])
        }
        Some(Format::NewsMl1) => {
            let text = decode::decode_agency(bytes, meta.content_type, true)?;
            let root = xml::parse(&xml::drop_parameter_subset(&text), limits)?;
            newsml1::parse(agency, &root, meta.base_url)
        }
        Some(Format::Iptc7901) => {
            let text = decode::decode_agency(bytes, meta.content_type, false)?;
            teletype::parse_7901(agency, &text, limits).map(|i| vec![i])
        }
        Some(Format::Anpa1312) => {
            let text = decode::decode_agency(bytes, meta.content_type, false)?;
            teletype::parse_anpa(agency, &text, limits).map(|i| vec![i])
        }
        _ => {
            let feed = parse_feed_with(bytes, meta, limits)?;
            Ok(feed
                .entries
                .iter()
                .map(|e| wire::from_entry(agency, &feed, e))
                .collect())
        }
    }
}
