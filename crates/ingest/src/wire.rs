//! Mapping to [`WireItem`]: from a feed entry, and helpers shared by ninjs and NewsML-G2.

use newsdesk_domain::{WireItem, WireStatus, WireSubject};

use crate::text::{
    collapse, html_to_text, medtop_from_uri, resolve_url, stable_hash, text_to_html,
};
use crate::xml::Element;
use crate::{ParsedEntry, ParsedFeed};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The id of an item: its own id, else its link, else a stable hash of title and date
/// (`hash:` + 16 hex digits) so the same entry polled twice gets the same id.
pub(crate) fn agency_id(
    id: Option<&str>,
    link: Option<&str>,
    title: &str,
    date: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    if let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) {
        return id.to_owned();
    }
    if let Some(l) = link.map(str::trim).filter(|s| !s.is_empty()) {
        return l.to_owned();
    }
    let d = date.map(|d| d.to_rfc3339()).unwrap_or_default();
    format!("hash:{}", stable_hash(&[title, &d]))
}

/// Sanitised HTML, or empty. Agency markup is prepared first (see [`prepare_html`]) so that
/// basic formatting survives the story sanitiser and block boundaries stay word boundaries.
pub(crate) fn safe_html(html: Option<&str>) -> String {
    html.map(|h| newsdesk_render::sanitize_html(&prepare_html(h)))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Elements that run inside a line of text; every other tag (`p`, `div`, NITF's `block`,
/// `hl2`, `tagline`, `distributor` …) is a block boundary.
const INLINE: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "big",
    "chron",
    "cite",
    "classifier",
    "code",
    "copyrite",
    "del",
    "dfn",
    "em",
    "event",
    "font",
    "frac",
    "func",
    "i",
    "img",
    "ins",
    "kbd",
    "lang",
    "location",
    "mark",
    "money",
    "num",
    "object.title",
    "org",
    "person",
    "pronounce",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "tt",
    "u",
    "var",
    "virtloc",
    "wbr",
];

/// Blocks the story sanitiser keeps (their boundaries survive) or removes whole.
const KEPT: &[&str] = &[
    "blockquote",
    "br",
    "embed",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "iframe",
    "li",
    "object",
    "ol",
    "p",
    "pre",
    "script",
    "style",
    "table",
    "tbody",
    "td",
    "template",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Agency HTML before the sanitiser: `b`, `i` and `h1` (which the story allowlist spells
/// `strong`, `em` and `h2`) are renamed so the formatting is kept, and a space goes before
/// every block-level tag the sanitiser unwraps, so the sanitiser unwrapping an unknown block (`<block>`,
/// `<tagline>`, `<div>`) never glues its text onto the word before it.
pub(crate) fn prepare_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let closing = after.starts_with('/');
        let name_start = usize::from(closing);
        let name_len = after[name_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
            .unwrap_or(after.len() - name_start);
        let name = &after[name_start..name_start + name_len];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.push('<');
            rest = after;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let unwrapped = !INLINE.contains(&lower.as_str()) && !KEPT.contains(&lower.as_str());
        if unwrapped && !out.ends_with(char::is_whitespace) {
            out.push(' ');
        }
        let renamed = match lower.as_str() {
            "b" => "strong",
            "i" => "em",
            "h1" => "h2",
            _ => name,
        };
        out.push('<');
        if closing {
            out.push('/');
        }
        out.push_str(renamed);
        rest = &after[name_start + name_len..];
    }
    out.push_str(rest);
    out
}

/// Makes the links of sanitised HTML absolute against `base` (the item's own address, else
/// the feed's or document's); a relative `href` or `src` that nothing resolves is dropped,
/// since it would point into the newsroom's own site.
pub(crate) fn absolutize(html: &str, base: Option<&str>) -> String {
    let base = base.filter(|b| b.starts_with("http://") || b.starts_with("https://"));
    let resolved = match base {
        Some(b) => crate::text::resolve_html(html, Some(b)),
        None => html.to_owned(),
    };
    let mut out = String::with_capacity(resolved.len());
    let mut rest = resolved.as_str();
    loop {
        let next = [" href=\"", " src=\""]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        let Some((i, plen)) = next else { break };
        let vstart = i + plen;
        let Some(vlen) = rest[vstart..].find('"') else {
            break;
        };
        let value = &rest[vstart..vstart + vlen];
        let absolute = crate::text::has_scheme(value) || value.starts_with("//");
        if absolute {
            out.push_str(&rest[..vstart + vlen + 1]);
        } else {
            out.push_str(&rest[..i]);
        }
        rest = &rest[vstart + vlen + 1..];
    }
    out.push_str(rest);
    out
}

fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Removes the headline where the body repeats it as its first block (some agencies put it
/// there once, some twice).
pub(crate) fn strip_repeated_headline(body_html: &str, headline: &str) -> String {
    let want = fold(headline);
    if want.is_empty() {
        return body_html.to_owned();
    }
    let mut body = body_html.trim_start();
    for _ in 0..3 {
        let Some(tag_end) = body.strip_prefix('<').and_then(|b| b.find('>')) else {
            break;
        };
        let name: String = body[1..=tag_end]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !matches!(
            name.as_str(),
            "p" | "h2" | "h3" | "h4" | "h5" | "h6" | "strong" | "div"
        ) {
            break;
        }
        let close = format!("</{name}>");
        let Some(end) = body.find(&close) else { break };
        let block = &body[..end + close.len()];
        if fold(&crate::text::html_to_text(block)) != want {
            break;
        }
        body = body[block.len()..].trim_start();
    }
    body.to_owned()
}

/// What every parser's items go through last: the body loses a repeated headline and gets
/// absolute links (against the item's own address, else `base`).
pub(crate) fn finish(item: &mut WireItem, base: Option<&str>) {
    if item.body_html.is_empty() {
        return;
    }
    let own = item
        .links
        .first()
        .map(String::as_str)
        .filter(|l| l.starts_with("http://") || l.starts_with("https://"));
    let body = strip_repeated_headline(&item.body_html, &item.headline);
    item.body_html = absolutize(&body, own.or(base));
}

/// A subject from a feed category: a Media Topic URI becomes `medtop:…`, anything else is
/// kept as the plain term.
fn subject_from_tag(tag: &str) -> WireSubject {
    match medtop_from_uri(tag) {
        Some(code) => WireSubject { code, name: None },
        None => WireSubject {
            code: tag.trim().to_owned(),
            name: None,
        },
    }
}

/// A text field that has something in it (an empty element counts as absent here).
fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

/// A field as plain text: HTML is stripped, plain text has its whitespace collapsed.
fn plain(s: &str, html: bool) -> String {
    if html {
        html_to_text(s)
    } else {
        collapse(s)
    }
}

/// Maps a feed entry to a wire item.
///
/// RSS/Atom/JSON Feed have no versions or kill notices: version is 1 and status usable (an
/// entry disappearing from a feed is not a withdrawal).
pub(crate) fn from_entry(agency: &str, feed: &ParsedFeed, e: &ParsedEntry) -> WireItem {
    let headline = text(&e.title)
        .map(|t| plain(t, e.title_html))
        .unwrap_or_default();
    let summary = text(&e.summary)
        .map(|t| plain(t, e.summary_html))
        .unwrap_or_default();
    let body = text(&e.content)
        .map(|c| (c, e.content_html))
        .or_else(|| text(&e.summary).map(|s| (s, e.summary_html)));
    let body_html = match body {
        Some((b, true)) => safe_html(Some(b)),
        Some((b, false)) => text_to_html(b),
        None => String::new(),
    };
    // A link the feed left relative (no document URL, no xml:base) is read against the
    // feed's own home page, so the desk always gets absolute links.
    let home = feed.link.as_deref().filter(|l| l.contains("://"));
    let absolute = |l: &str| {
        if l.contains("://") {
            l.to_owned()
        } else {
            resolve_url(home, l)
        }
    };
    // Links whose scheme could run code (`javascript:` …) never reach the desk.
    let mut links: Vec<String> = Vec::with_capacity(e.links.len());
    for l in e.links.iter().map(|l| absolute(l)) {
        if crate::text::has_safe_scheme(&l) && !links.contains(&l) {
            links.push(l);
        }
    }
    let link = e.link.as_deref().map(absolute);
    let published = e.published.or(e.updated);
    let mut subjects: Vec<WireSubject> = Vec::new();
    for t in &e.tags {
        let s = subject_from_tag(t);
        if !s.code.is_empty() && !subjects.contains(&s) {
            subjects.push(s);
        }
    }
    WireItem {
        agency: agency.to_owned(),
        agency_id: agency_id(e.id.as_deref(), link.as_deref(), &headline, published),
        version: 1,
        headline,
        summary,
        body_html,
        byline: e.author.as_deref().map(byline).unwrap_or_default(),
        urgency: None,
        language: e.language.clone().or_else(|| feed.language.clone()),
        published_at: published,
        updated_at: e.updated.or(e.published),
        subjects,
        places: Vec::new(),
        usage_terms: text(&e.rights)
            .map(|r| plain(r, e.rights_html))
            .or_else(|| text(&feed.rights).map(|r| plain(r, feed.rights_html)))
            .filter(|s| !s.is_empty()),
        links,
        status: WireStatus::Usable,
        // RSS, Atom and JSON Feed have no embargo field.
        embargo: None,
    }
}

/// A byline from a feed author: `Name (e-mail)` becomes `Name`, and `e-mail (Name)` (the
/// RSS 2.0 form) becomes `Name`; a bare e-mail address is kept.
fn byline(author: &str) -> String {
    let a = author.trim();
    if let (Some(open), true) = (a.rfind('('), a.ends_with(')')) {
        let outside = a[..open].trim();
        let inside = a[open + 1..a.len() - 1].trim();
        return if outside.contains('@') && !inside.is_empty() {
            inside.to_owned()
        } else if !outside.is_empty() {
            outside.to_owned()
        } else {
            inside.to_owned()
        };
    }
    a.to_owned()
}

/// Parses a status word (`usable`, `withheld`, `canceled`/`cancelled`, with or without a
/// `stat:` prefix).
pub(crate) fn status(s: Option<&str>) -> WireStatus {
    let s = s.unwrap_or("").trim().to_ascii_lowercase();
    let s = s.rsplit(':').next().unwrap_or("");
    match s {
        "withheld" | "withdrawn" => WireStatus::Withdrawn,
        "canceled" | "cancelled" => WireStatus::Canceled,
        _ => WireStatus::Usable,
    }
}

/// Urgency 1–9 from a number or numeric string.
pub(crate) fn urgency(s: Option<&str>) -> Option<u8> {
    let n: i64 = s?.trim().parse().ok()?;
    u8::try_from(n).ok().filter(|n| (1..=9).contains(n))
}

/// The first child element with this local name, in any namespace (agency XML formats are
/// written with and without their namespaces).
pub(crate) fn named<'a>(el: &'a Element, local: &str) -> Option<&'a Element> {
    el.elements().find(|e| e.local == local)
}

/// Descendants with this local name, in document order, at most `depth` levels down.
pub(crate) fn desc<'a>(el: &'a Element, local: &str, depth: usize) -> Vec<&'a Element> {
    fn walk<'a>(el: &'a Element, local: &str, depth: usize, out: &mut Vec<&'a Element>) {
        for c in el.elements() {
            if c.local == local {
                out.push(c);
            }
            if depth > 1 {
                walk(c, local, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(el, local, depth, &mut out);
    out
}

/// A date in the compact ISO 8601 forms agency formats use (`20200703T165136-0400`,
/// `20140829T135002Z`, `20140829`), or any form [`parse_date`](crate::parse_date) reads.
/// An unfilled template (`YYYYMMDD000000-HHMM`) is no date.
pub(crate) fn compact_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for f in ["%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S%:z"] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let bare = s.trim_end_matches('Z');
    if let Ok(d) = NaiveDateTime::parse_from_str(bare, "%Y%m%dT%H%M%S") {
        return Some(d.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(bare, "%Y%m%d") {
        return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    crate::parse_date(s)
}

/// The version an update marker stands for: "1ST LEAD", "1stLd-Writethru" or "2nd Ld" is
/// the first, second … update of a story, so version 2, 3 …; a bare "Writethru" is 2.
pub(crate) fn lead_version(marker: &str) -> Option<i64> {
    let m = marker.trim().to_ascii_lowercase();
    let digits: String = m.chars().take_while(char::is_ascii_digit).collect();
    let rest = m[digits.len()..].trim_start_matches(['s', 't', 'n', 'd', 'r', 'h']);
    let rest = rest.trim_start_matches([' ', '-']);
    if !digits.is_empty() && (rest.starts_with("ld") || rest.starts_with("lead")) {
        return digits.parse::<i64>().ok().map(|n| n + 1);
    }
    (m.contains("writethru") || m.contains("write-thru")).then_some(2)
}

/// Plain-text paragraphs as HTML paragraphs.
pub(crate) fn paragraphs_html<S: AsRef<str>>(paras: &[S]) -> String {
    let mut out = String::new();
    for p in paras.iter().map(|p| collapse(p.as_ref())) {
        if !p.is_empty() {
            out.push_str("<p>");
            out.push_str(&crate::text::escape_html(&p));
            out.push_str("</p>");
        }
    }
    out
}
