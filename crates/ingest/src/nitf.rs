//! NITF 3.x (News Industry Text Format, IPTC) into a [`WireItem`].
//!
//! One `<nitf>` document is one story. Elements are matched by local name, so the NITF
//! namespaces (`http://iptc.org/std/NITF/2006-10-18/` and none) read alike. The mapping:
//! `hl1` (else `head/title`) → headline; `abstract` (else an `hl2` that differs from the
//! headline) → summary; `body.content` → body (sanitised); `byline` → byline;
//! `doc-id/@id-string` (else `du-key/@key`) → agency id; `du-key/@version` (else 1 plus the
//! number of commented `revision-history` entries, each a write-through) → version, an
//! agency's 0 kept as 0; `date.issue` → published; `date.release` → embargo when it is a
//! real date later than the issue; `management-status` → status; `urgency/@ed-urg` →
//! urgency; `tobject.subject/@tobject.subject.refnum` → `subj:` subjects, `key-list`
//! keywords → plain subjects; dateline or `evloc` city and country → places.

use newsdesk_domain::{WireItem, WirePlace, WireSubject};

use crate::text::{collapse, html_to_text};
use crate::wire::{agency_id, compact_date, desc, named, safe_html, status, urgency};
use crate::xml::Element;
use crate::IngestError;

/// Reads a parsed `<nitf>` document.
pub(crate) fn parse(agency: &str, root: &Element) -> Result<WireItem, IngestError> {
    if root.local != "nitf" {
        return Err(IngestError::NotAFeed(format!(
            "<{}> is not a NITF document",
            root.qname
        )));
    }
    Ok(item(agency, root))
}

fn attr_of<'a>(el: Option<&'a Element>, name: &str) -> Option<&'a str> {
    el.and_then(|e| e.attr(name))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A NITF document (or one embedded in NewsML 1.x) as a wire item.
pub(crate) fn item(agency: &str, nitf: &Element) -> WireItem {
    let head = named(nitf, "head");
    let docdata = head.and_then(|h| named(h, "docdata"));
    let body = named(nitf, "body");
    let body_head = body.and_then(|b| named(b, "body.head"));
    let hedline = body_head.and_then(|b| named(b, "hedline"));

    let hl1 = hedline
        .and_then(|h| named(h, "hl1"))
        .map(|h| html_to_text(&h.inner_xml()))
        .filter(|h| !h.is_empty());
    let headline = hl1
        .or_else(|| {
            head.and_then(|h| named(h, "title"))
                .and_then(Element::text_trim)
                .map(|t| collapse(&t))
        })
        .unwrap_or_default();
    let summary = body_head
        .and_then(|b| named(b, "abstract"))
        .map(|a| html_to_text(&a.inner_xml()))
        .filter(|s| !s.is_empty())
        .or_else(|| {
            hedline
                .and_then(|h| named(h, "hl2"))
                .map(|h| html_to_text(&h.inner_xml()))
                .filter(|s| !s.is_empty() && *s != headline)
        })
        .unwrap_or_default();
    let byline = body_head
        .map(|b| {
            b.elements()
                .filter(|e| e.local == "byline")
                .map(|e| collapse(&e.text()))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let body_html = body
        .and_then(|b| named(b, "body.content"))
        .map(|c| safe_html(Some(&c.inner_xml())))
        .unwrap_or_default();

    let du_key = docdata.and_then(|d| named(d, "du-key"));
    let revisions = head
        .map(|h| {
            let mut n = 0i64;
            let mut stack = vec![h];
            while let Some(e) = stack.pop() {
                for c in e.elements() {
                    if c.local == "revision-history" {
                        n += i64::from(c.attr("comment").is_some_and(|v| !v.trim().is_empty()));
                    } else {
                        stack.push(c);
                    }
                }
            }
            n
        })
        .unwrap_or(0);
    let version = attr_of(du_key, "version")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v >= 0)
        .unwrap_or(1 + revisions);

    let published = attr_of(docdata.and_then(|d| named(d, "date.issue")), "norm")
        .and_then(compact_date)
        .or_else(|| {
            attr_of(
                body_head
                    .and_then(|b| named(b, "dateline"))
                    .and_then(|d| named(d, "story.date")),
                "norm",
            )
            .and_then(compact_date)
        });
    let release =
        attr_of(docdata.and_then(|d| named(d, "date.release")), "norm").and_then(compact_date);
    let embargo = match (release, published) {
        (Some(r), Some(p)) if r > p => Some(r),
        (Some(r), None) => Some(r),
        _ => None,
    };

    let mut subjects: Vec<WireSubject> = Vec::new();
    let mut push_subject = |code: String, name: Option<String>| {
        let s = WireSubject { code, name };
        if !s.code.is_empty() && !subjects.iter().any(|x| x.code == s.code) {
            subjects.push(s);
        }
    };
    if let Some(h) = head {
        for s in desc(h, "tobject.subject", 4) {
            if let Some(r) = s.attr("tobject.subject.refnum").map(str::trim) {
                if !r.is_empty() {
                    let name = s
                        .attr("tobject.subject.matter")
                        .or_else(|| s.attr("tobject.subject.type"))
                        .map(str::to_owned);
                    push_subject(format!("subj:{r}"), name);
                }
            }
        }
    }
    if let Some(d) = docdata {
        for k in desc(d, "keyword", 3) {
            let key = k
                .attr("key")
                .map(str::to_owned)
                .or_else(|| k.text_trim())
                .map(|t| collapse(&t))
                .unwrap_or_default();
            push_subject(key, None);
        }
    }

    let mut places: Vec<WirePlace> = Vec::new();
    let mut push_place = |name: Option<String>| {
        if let Some(name) = name.map(|n| collapse(&n)).filter(|n| !n.is_empty()) {
            let p = WirePlace {
                code: None,
                name: Some(name),
            };
            if !places.contains(&p) {
                places.push(p);
            }
        }
    };
    if let Some(loc) = body_head
        .and_then(|b| named(b, "dateline"))
        .and_then(|d| named(d, "location"))
    {
        push_place(named(loc, "city").and_then(Element::text_trim));
        push_place(named(loc, "country").and_then(Element::text_trim));
    }
    if let Some(ev) = docdata.and_then(|d| named(d, "evloc")) {
        push_place(ev.attr("city").map(str::to_owned));
        push_place(ev.attr("country").map(str::to_owned));
    }

    let language = nitf
        .xml_lang()
        .or_else(|| nitf.attr("baselang"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.replace('_', "-"));
    let id = attr_of(docdata.and_then(|d| named(d, "doc-id")), "id-string")
        .or_else(|| attr_of(du_key, "key"));
    let urgency_value = attr_of(docdata.and_then(|d| named(d, "urgency")), "ed-urg")
        .or_else(|| attr_of(head.and_then(|h| named(h, "urgency")), "ed-urg"));
    WireItem {
        agency: agency.to_owned(),
        agency_id: agency_id(id, None, &headline, published),
        version,
        headline,
        summary,
        body_html,
        byline,
        urgency: urgency(urgency_value),
        language,
        published_at: published,
        updated_at: published,
        subjects,
        places,
        usage_terms: attr_of(docdata.and_then(|d| named(d, "doc.copyright")), "holder")
            .map(|h| format!("© {h}")),
        links: Vec::new(),
        status: status(docdata.and_then(|d| d.attr("management-status"))),
        embargo,
    }
}
