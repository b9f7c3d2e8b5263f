//! IPTC ninjs 1.x, 2.x and 3.x into [`WireItem`]s.
//!
//! Keys are matched case-insensitively and ignoring underscores, so 1.x `versioncreated`,
//! 3.x `versionCreated`, 1.x `body_html` and `bodyHtml` all work.

use newsdesk_domain::{WireItem, WirePlace, WireSubject};
use serde_json::Value;

use crate::json::{self, get, list, str_of};
use crate::text::{html_to_text, medtop_from_uri, text_to_html};
use crate::wire::{agency_id, safe_html, status, urgency};
use crate::{parse_date, IngestError, Limits};

pub(crate) fn parse(
    agency: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<WireItem>, IngestError> {
    let v = json::parse(bytes, limits)?;
    let objects: Vec<&Value> = match &v {
        Value::Array(a) => a.iter().filter(|x| x.is_object()).collect(),
        Value::Object(_) => match get(&v, "items") {
            Some(Value::Array(a)) if get(&v, "uri").is_none() => {
                a.iter().filter(|x| x.is_object()).collect()
            }
            _ => vec![&v],
        },
        _ => {
            return Err(IngestError::NotAFeed(
                "JSON is neither a ninjs object nor an array of them".into(),
            ))
        }
    };
    Ok(objects.into_iter().map(|o| item(agency, o)).collect())
}

/// The value of the entry with `role` in a 2.x/3.x list (`headlines`, `descriptions`), else
/// the first one.
fn by_role(o: &Value, key: &str, roles: &[&str]) -> Option<(String, Option<String>)> {
    let entries = list(o, key);
    let pick = roles
        .iter()
        .find_map(|r| {
            entries
                .iter()
                .find(|e| str_of(e, "role").is_some_and(|x| x.eq_ignore_ascii_case(r)))
        })
        // Never the credit line ("ASSOCIATED PRESS") when nothing has a wanted role.
        .or_else(|| {
            entries.iter().find(|e| {
                !str_of(e, "role").is_some_and(|r| {
                    let r = r.to_ascii_lowercase();
                    r.contains("credit") || r.contains("copyright")
                })
            })
        })?;
    let value = str_of(pick, "value")?;
    Some((value, str_of(pick, "contenttype")))
}

fn is_html_type(ct: Option<&str>) -> bool {
    ct.is_some_and(|c| c.contains("html"))
}

/// The `<body.content>` of an NITF document, or the whole text.
fn nitf_body(s: &str) -> &str {
    match (s.find("<body.content>"), s.find("</body.content>")) {
        (Some(a), Some(b)) if b > a => &s[a + "<body.content>".len()..b],
        _ => s,
    }
}

fn body(o: &Value) -> String {
    if let Some(h) = str_of(o, "body_html").or_else(|| str_of(o, "body_xhtml")) {
        return safe_html(Some(&h));
    }
    let bodies = list(o, "bodies");
    let find = |pred: &dyn Fn(Option<&str>, Option<&str>) -> bool| {
        bodies.iter().find_map(|b| {
            let ct = str_of(b, "contenttype");
            let role = str_of(b, "role");
            pred(ct.as_deref(), role.as_deref())
                .then(|| str_of(b, "value"))
                .flatten()
                .map(|v| (v, ct))
        })
    };
    if let Some((v, _)) =
        find(&|ct, role| is_html_type(ct) || role.is_some_and(|r| r.contains("html")))
    {
        return safe_html(Some(&v));
    }
    let is_nitf = |ct: Option<&str>, v: &str| {
        ct.is_some_and(|c| c.to_ascii_lowercase().contains("nitf"))
            || v.contains("<nitf") && v.contains("<body.content")
    };
    if let Some(v) = bodies.iter().find_map(|b| {
        let v = str_of(b, "value")?;
        is_nitf(str_of(b, "contenttype").as_deref(), &v).then_some(v)
    }) {
        // Only the NITF's text: its head (title, hedline, byline, distributor) is metadata.
        return safe_html(Some(nitf_body(&v)));
    }
    if let Some(t) = str_of(o, "body_text") {
        return text_to_html(&t);
    }
    if let Some((v, _)) = find(&|_, _| true) {
        return text_to_html(&v);
    }
    String::new()
}

/// A subject code: Media Topic URIs and schemes become `medtop:…`; else the literal, the
/// code (qualified by a known scheme), the URI, the name.
fn subject_code(s: &Value) -> Option<String> {
    let uri = str_of(s, "uri");
    if let Some(m) = uri.as_deref().and_then(medtop_from_uri) {
        return Some(m);
    }
    let code = str_of(s, "code");
    if let (Some(scheme), Some(code)) = (str_of(s, "scheme"), code.as_deref()) {
        if scheme.contains("mediatopic") {
            return Some(format!("medtop:{code}"));
        }
        if scheme.contains("subjectcode") {
            return Some(format!("subj:{code}"));
        }
    }
    str_of(s, "literal")
        .or(code)
        .or(uri)
        .or_else(|| str_of(s, "name"))
}

fn subjects(o: &Value) -> Vec<WireSubject> {
    let mut out: Vec<WireSubject> = Vec::new();
    for s in list(o, "subject").into_iter().chain(list(o, "subjects")) {
        let sub = if let Some(text) = s.as_str() {
            WireSubject {
                code: text.trim().to_owned(),
                name: None,
            }
        } else {
            let Some(code) = subject_code(s) else {
                continue;
            };
            WireSubject {
                code,
                name: str_of(s, "name"),
            }
        };
        if !sub.code.is_empty() && !out.contains(&sub) {
            out.push(sub);
        }
    }
    out
}

fn places(o: &Value) -> Vec<WirePlace> {
    let mut out: Vec<WirePlace> = Vec::new();
    for p in list(o, "place").into_iter().chain(list(o, "places")) {
        let name = str_of(p, "name").or_else(|| p.as_str().map(|s| s.trim().to_owned()));
        let scheme = str_of(p, "scheme").unwrap_or_default();
        let code = match str_of(p, "code") {
            Some(c) if scheme.contains("iso3166") => Some(c.to_ascii_uppercase()),
            Some(c) => Some(c),
            None => str_of(p, "literal").or_else(|| str_of(p, "uri")),
        };
        let place = WirePlace { code, name };
        if (place.code.is_some() || place.name.is_some()) && !out.contains(&place) {
            out.push(place);
        }
    }
    out
}

fn links(o: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(u) =
        str_of(o, "uri").filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    {
        out.push(u);
    }
    for l in list(o, "links") {
        if let Some(h) = str_of(l, "href") {
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    if let Some(Value::Object(r)) = get(o, "renditions") {
        for rend in r.values() {
            if let Some(h) = str_of(rend, "href") {
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
    }
    if let Some(Value::Array(r)) = get(o, "renditions") {
        for rend in r {
            if let Some(h) = str_of(rend, "href") {
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
    }
    out
}

/// The agency's version; its version 0 (a first version, for some agencies) stays 0.
fn version(o: &Value) -> i64 {
    match get(o, "version") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(1),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(1),
        _ => 1,
    }
    .max(0)
}

fn date(o: &Value, key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    str_of(o, key).as_deref().and_then(parse_date)
}

/// The `embargoed` date-time, read so it is never early (see [`crate::parse_embargo`]). A
/// value that is not a string (a number, an object) is an embargo that cannot be read: held.
fn embargo(o: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match get(o, "embargoed") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => crate::parse_embargo(s),
        Some(_) => Some(newsdesk_domain::embargo_unknown()),
    }
}

fn item(agency: &str, o: &Value) -> WireItem {
    let headline = str_of(o, "headline")
        .or_else(|| by_role(o, "headlines", &["main"]).map(|(v, _)| v))
        .or_else(|| str_of(o, "title"))
        .map(|h| html_to_text(&h))
        .unwrap_or_default();
    let summary = str_of(o, "description_text")
        .or_else(|| str_of(o, "description_html").map(|h| html_to_text(&h)))
        .or_else(|| {
            // A picture's summary is its caption.
            let visual = str_of(o, "type")
                .is_some_and(|t| matches!(t.as_str(), "picture" | "graphic" | "video"));
            let roles: &[&str] = if visual {
                &["caption", "summary", "lead", "abstract", "teaser"]
            } else {
                &["summary", "lead", "abstract", "teaser", "caption"]
            };
            by_role(o, "descriptions", roles).map(|(v, _)| html_to_text(&v))
        })
        .map(|s| html_to_text(&s))
        .unwrap_or_default();
    let published = date(o, "firstcreated")
        .or_else(|| date(o, "contentcreated"))
        .or_else(|| date(o, "versioncreated"));
    let updated = date(o, "versioncreated").or(published);
    let byline = str_of(o, "byline")
        .or_else(|| str_of(o, "by"))
        .or_else(|| str_of(o, "copyrightholder"))
        .unwrap_or_default();
    let links = links(o);
    let usage_terms = str_of(o, "usageterms")
        .or_else(|| get(o, "rightsinfo").and_then(|r| str_of(r, "usageterms")));
    WireItem {
        agency: agency.to_owned(),
        agency_id: agency_id(
            str_of(o, "uri").or_else(|| str_of(o, "guid")).as_deref(),
            links.first().map(String::as_str),
            &headline,
            published,
        ),
        version: version(o),
        headline,
        summary,
        body_html: body(o),
        byline,
        urgency: urgency(str_of(o, "urgency").as_deref()),
        language: str_of(o, "language"),
        published_at: published,
        updated_at: updated,
        subjects: subjects(o),
        places: places(o),
        usage_terms,
        links,
        status: status(str_of(o, "pubstatus").as_deref()),
        embargo: embargo(o),
    }
}
