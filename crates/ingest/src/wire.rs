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

/// Sanitised HTML, or empty.
pub(crate) fn safe_html(html: Option<&str>) -> String {
    html.map(newsdesk_render::sanitize_html)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
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
