//! IPTC NewsML 1.x (1.0–1.2) into [`WireItem`]s: one per `NewsItem`.
//!
//! Elements are matched by local name, so the 1.2 namespace
//! (`http://iptc.org/std/NewsML/2003-10-10/`) and none read alike. The mapping:
//! `ProviderId`, `DateId` and `NewsItemId` → agency id (`urn:newsml:…`, without the
//! revision, so revisions of one item update one story); `RevisionId` → version (absent: 1;
//! an agency's 0 stays 0); the first non-empty `HeadLine` (else a component in the role
//! `Title`, else `SlugLine` or `NameLabel`) → headline; `SubHeadLine` or a `Lead` component →
//! summary; `ByLine` → byline; `Status`, `Urgency`, `FirstCreated`, `ThisRevisionCreated`,
//! `StatusWillChange` → status, urgency, dates and embargo; `SubjectCode` → `subj:` subjects;
//! `Language` → language; text content (embedded NITF `body.content`, XHTML or plain text in
//! `DataContent`) → body; `ContentItem/@Href` (pictures, video, attachments) → links.

use newsdesk_domain::{WireItem, WireSubject};

use crate::text::{collapse, html_to_text, resolve_url, text_to_html};
use crate::wire::{agency_id, compact_date, desc, named, safe_html, status, urgency};
use crate::xml::Element;
use crate::IngestError;

/// Reads a parsed `<NewsML>` document (or a bare `<NewsItem>`).
pub(crate) fn parse(
    agency: &str,
    root: &Element,
    base_url: Option<&str>,
) -> Result<Vec<WireItem>, IngestError> {
    match root.local.as_str() {
        "NewsItem" => Ok(vec![item(agency, root, None, base_url)]),
        "NewsML" => {
            let priority = named(root, "NewsEnvelope")
                .and_then(|e| named(e, "Priority"))
                .and_then(|p| p.attr("FormalName"));
            let items: Vec<WireItem> = root
                .elements()
                .filter(|e| e.local == "NewsItem")
                .map(|e| item(agency, e, priority, base_url))
                .collect();
            if items.is_empty() {
                return Err(IngestError::NotAFeed(
                    "a NewsML document without a NewsItem".into(),
                ));
            }
            Ok(items)
        }
        other => Err(IngestError::NotAFeed(format!(
            "<{other}> is not a NewsML 1.x document"
        ))),
    }
}

fn formal(el: Option<&Element>) -> Option<&str> {
    el.and_then(|e| e.attr("FormalName"))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn text_of(el: Option<&Element>) -> Option<String> {
    el.map(|e| html_to_text(&e.inner_xml()))
        .filter(|t| !t.is_empty())
}

/// The role of a component (`Main`, `Title`, `Lead`, `Body`, `Image` …), lower-cased.
fn role(el: &Element) -> String {
    formal(named(el, "Role"))
        .unwrap_or("")
        .rsplit(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Text content of a `DataContent`: embedded NITF's `body.content`, XHTML or other markup,
/// or plain text; `None` when empty.
fn data_html(dc: &Element) -> Option<String> {
    if let Some(nitf) = desc(dc, "nitf", 2).first() {
        let body = desc(nitf, "body.content", 3);
        return body
            .first()
            .map(|b| safe_html(Some(&b.inner_xml())))
            .filter(|h| !h.is_empty());
    }
    if let Some(bc) = desc(dc, "body.content", 4).first() {
        return Some(safe_html(Some(&bc.inner_xml()))).filter(|h| !h.is_empty());
    }
    let html = if dc.elements().next().is_some() {
        let inner = desc(dc, "body", 3)
            .first()
            .map(|b| b.inner_xml())
            .unwrap_or_else(|| dc.inner_xml());
        safe_html(Some(&inner))
    } else {
        let t = dc.text();
        if crate::html::looks_like_html(&t) {
            safe_html(Some(&t))
        } else {
            text_to_html(&t)
        }
    };
    (!html_to_text(&html).is_empty()).then_some(html)
}

#[derive(Default)]
struct Collected {
    headline: Option<String>,
    title: Option<String>,
    subheadline: Option<String>,
    lead: Option<String>,
    slug: Option<String>,
    byline: Option<String>,
    body: Vec<String>,
    links: Vec<String>,
    subjects: Vec<WireSubject>,
    language: Option<String>,
    copyright: Option<String>,
}

/// Walks a `NewsComponent` and its nested components in document order.
fn walk(nc: &Element, base: Option<&str>, out: &mut Collected, depth: usize) {
    if depth == 0 {
        return;
    }
    let role = role(nc);
    if let Some(lines) = named(nc, "NewsLines") {
        if out.headline.is_none() {
            out.headline = text_of(named(lines, "HeadLine"));
        }
        if out.subheadline.is_none() {
            out.subheadline = text_of(named(lines, "SubHeadLine"));
        }
        if out.byline.is_none() {
            out.byline = text_of(named(lines, "ByLine"));
        }
        if out.slug.is_none() {
            out.slug = text_of(named(lines, "SlugLine"));
        }
        if out.copyright.is_none() {
            out.copyright = text_of(named(lines, "CopyrightLine"));
        }
    }
    if let Some(dm) = named(nc, "DescriptiveMetadata") {
        if out.language.is_none() {
            out.language = formal(named(dm, "Language")).map(str::to_owned);
        }
        for sc in dm.elements().filter(|e| e.local == "SubjectCode") {
            for s in sc.elements() {
                if let Some(code) = formal(Some(s)) {
                    let sub = WireSubject {
                        code: format!("subj:{code}"),
                        name: None,
                    };
                    if !out.subjects.contains(&sub) {
                        out.subjects.push(sub);
                    }
                }
            }
        }
    }
    for c in nc.elements() {
        match c.local.as_str() {
            "NewsComponent" => walk(c, base, out, depth - 1),
            "ContentItem" => {
                if let Some(href) = c.attr("Href").map(str::trim).filter(|h| !h.is_empty()) {
                    let l = resolve_url(base, href);
                    if crate::text::has_safe_scheme(&l) && !out.links.contains(&l) {
                        out.links.push(l);
                    }
                }
                let mime = formal(named(c, "MimeType"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !(mime.is_empty() || mime.starts_with("text/") || mime.contains("xml")) {
                    continue;
                }
                let Some(html) = named(c, "DataContent").and_then(data_html) else {
                    continue;
                };
                match role.as_str() {
                    "title" if out.title.is_none() => out.title = Some(html_to_text(&html)),
                    "lead" | "abstract" if out.lead.is_none() => {
                        out.lead = Some(html_to_text(&html))
                    }
                    "title" | "lead" | "abstract" => {}
                    _ => out.body.push(html),
                }
            }
            _ => {}
        }
    }
}

fn item(
    agency: &str,
    ni: &Element,
    envelope_priority: Option<&str>,
    base: Option<&str>,
) -> WireItem {
    let ident = named(ni, "Identification");
    let nid = ident.and_then(|i| named(i, "NewsIdentifier"));
    let part = |local: &str| {
        nid.and_then(|n| named(n, local))
            .and_then(Element::text_trim)
            .map(|t| collapse(&t))
    };
    let id = match (part("ProviderId"), part("NewsItemId")) {
        (Some(p), Some(n)) => Some(format!(
            "urn:newsml:{p}:{}:{n}",
            part("DateId").unwrap_or_default()
        )),
        // `urn:newsml:provider:date:item:revision`, without the revision; a bare
        // `urn:newsml:provider` names no item (the id then comes from headline and date).
        _ => part("PublicIdentifier").and_then(|p| {
            let parts: Vec<&str> = p.split(':').collect();
            match parts.len() {
                5 => Some(p.clone()),
                n if n >= 6 => Some(parts[..5].join(":")),
                _ => None,
            }
        }),
    };
    let version = part("RevisionId")
        .and_then(|r| r.parse::<i64>().ok())
        .filter(|v| *v >= 0)
        .unwrap_or(1);
    let mgmt = named(ni, "NewsManagement");
    let m = |local: &str| mgmt.and_then(|m| named(m, local));
    let published = m("FirstCreated")
        .and_then(Element::text_trim)
        .and_then(|t| compact_date(&t));
    let updated = m("ThisRevisionCreated")
        .and_then(Element::text_trim)
        .and_then(|t| compact_date(&t))
        .or(published);
    let embargo = m("StatusWillChange")
        .and_then(|s| named(s, "DateAndTime"))
        .and_then(Element::text_trim)
        .and_then(|t| compact_date(&t));

    let mut c = Collected::default();
    if let Some(nc) = named(ni, "NewsComponent") {
        walk(nc, base, &mut c, 16);
    }
    let name_label = ident
        .and_then(|i| named(i, "NameLabel"))
        .and_then(Element::text_trim)
        .map(|t| collapse(&t));
    let headline = c
        .headline
        .clone()
        .or_else(|| c.title.clone())
        .or_else(|| c.slug.clone())
        .or(name_label)
        .unwrap_or_default();
    let summary = c
        .lead
        .clone()
        .or_else(|| c.subheadline.clone().filter(|s| *s != headline))
        .unwrap_or_default();
    let language = ni
        .xml_lang()
        .map(str::to_owned)
        .or(c.language.clone())
        .map(|l| l.trim().replace('_', "-"))
        .filter(|l| !l.is_empty());
    WireItem {
        agency: agency.to_owned(),
        agency_id: agency_id(
            id.as_deref(),
            c.links.first().map(String::as_str),
            &headline,
            published,
        ),
        version,
        headline,
        summary,
        body_html: c.body.concat(),
        byline: c.byline.unwrap_or_default(),
        urgency: urgency(formal(m("Urgency")).or(envelope_priority)),
        language,
        published_at: published,
        updated_at: updated,
        subjects: c.subjects,
        places: Vec::new(),
        usage_terms: c.copyright,
        links: c.links,
        status: status(formal(m("Status"))),
        embargo,
    }
}
