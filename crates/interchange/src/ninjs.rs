//! A story as an IPTC ninjs 2.2 document (News in JSON).
//!
//! Mapping: `uri` is the story's API address (stable across slug changes), `version` the story's
//! saved version, `pubstatus` usable/withheld/canceled, `embargoed` the story's embargo, the
//! headline, summary and body as `headlines`/`descriptions`/`bodies` (body as sanitised HTML),
//! each public correction as a description with role `correction`, the byline as `by`, Media
//! Topics of the agency copy plus the sector and tags as `subjects`, the region as `places`, the
//! kind as `genres`, the hero picture as a `picture` association. A withheld or canceled item
//! carries only its identity, version, dates and status (`representationtype: partial`).

use crate::{Item, PubStatus, Publisher};
use newsdesk_domain::text::html_to_text;
use newsdesk_render::rfc3339;
use serde_json::{json, Map, Value};

/// The ninjs version produced, and its schema.
pub const VERSION: &str = "2.2";
/// The schema URI of [`VERSION`].
pub const SCHEMA: &str = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#";

/// The item as a ninjs 2.2 object.
pub fn to_value(item: &Item, publisher: &Publisher) -> Value {
    let s = &item.story;
    let mut o = Map::new();
    o.insert("uri".into(), json!(item.uri(publisher)));
    o.insert(
        "standard".into(),
        json!({ "name": "ninjs", "version": VERSION, "schema": SCHEMA }),
    );
    o.insert("type".into(), json!("text"));
    o.insert("version".into(), json!(s.version.to_string()));
    o.insert("pubstatus".into(), json!(item.status.ninjs()));
    o.insert(
        "versioncreated".into(),
        json!(rfc3339(item.version_created)),
    );
    if let Some(p) = s.published_at {
        o.insert("firstcreated".into(), json!(rfc3339(p)));
    }
    if let Some(e) = s.embargo_until {
        o.insert("embargoed".into(), json!(rfc3339(e)));
    }
    if item.status != PubStatus::Usable {
        o.insert("representationtype".into(), json!("partial"));
        o.insert(
            "ednote".into(),
            json!(match item.status {
                PubStatus::Canceled => "This story has been withdrawn. Remove it.",
                _ => "This story has been taken down. Do not use it until a later version says so.",
            }),
        );
        return Value::Object(o);
    }
    o.insert("representationtype".into(), json!("full"));
    o.insert("contentcreated".into(), json!(rfc3339(s.created_at)));
    o.insert("language".into(), json!(publisher.language));
    o.insert("slugline".into(), json!(s.slug.as_str()));
    let holder = if publisher.copyright_holder.is_empty() {
        &publisher.name
    } else {
        &publisher.copyright_holder
    };
    o.insert("copyrightholder".into(), json!(holder));
    o.insert(
        "headlines".into(),
        json!([{ "role": "main", "value": s.headline.as_str() }]),
    );
    let mut descriptions = Vec::new();
    if !s.summary.trim().is_empty() {
        descriptions
            .push(json!({ "role": "summary", "contenttype": "text/plain", "value": s.summary }));
    }
    for c in &item.corrections {
        descriptions.push(json!({
            "role": "correction",
            "contenttype": "text/plain",
            "value": Item::correction_notice(c),
        }));
    }
    if !descriptions.is_empty() {
        o.insert("descriptions".into(), Value::Array(descriptions));
    }
    let text = html_to_text(&s.body_html);
    o.insert(
        "bodies".into(),
        json!([{
            "role": "main",
            "contenttype": "text/html",
            "value": s.body_html,
            "charcount": text.chars().count(),
            "wordcount": crate::word_count(&text),
        }]),
    );
    if let Some(by) = item.byline() {
        o.insert("by".into(), json!(by));
    }
    let mut subjects: Vec<Value> = item
        .topics
        .iter()
        .map(|t| {
            let mut v = json!({ "uri": t.uri(), "literal": t.qcode(), "rel": "about" });
            if let Some(n) = &t.name {
                v["name"] = json!(n);
            }
            v
        })
        .collect();
    if let Some(sec) = &item.sector {
        subjects.push(json!({ "name": sec.name, "uri": sec.uri, "rel": "sector" }));
    }
    for t in &item.tags {
        subjects.push(json!({ "name": t.name, "uri": t.uri, "rel": "tag" }));
    }
    if !subjects.is_empty() {
        o.insert("subjects".into(), Value::Array(subjects));
    }
    if !item.places.is_empty() {
        let places: Vec<Value> = item.places.iter().map(|p| json!({ "name": p })).collect();
        o.insert("places".into(), Value::Array(places));
    }
    o.insert(
        "genres".into(),
        json!([{ "name": crate::genre_name(s.kind), "literal": s.kind.as_str() }]),
    );
    let mut sources: Vec<Value> = Vec::new();
    if let Some(src) = s.source.as_deref().filter(|x| !x.trim().is_empty()) {
        sources.push(json!({ "name": src, "role": "source" }));
    }
    for link in &item.based_on {
        if is_absolute(link) {
            sources.push(json!({ "uri": link, "role": "based-on" }));
        }
    }
    if !sources.is_empty() {
        o.insert("infosources".into(), Value::Array(sources));
    }
    o.insert(
        "altids".into(),
        json!([{ "role": "newsdesk-id", "value": s.id.to_string() }]),
    );
    o.insert(
        "renditions".into(),
        json!([{ "name": "web", "href": item.url, "contenttype": "text/html" }]),
    );
    if let Some(p) = &item.picture {
        let mut pic = json!({
            "name": "featureimage",
            "uri": p.href,
            "type": "picture",
            "renditions": [{
                "name": "original",
                "href": p.href,
                "contenttype": p.mime,
                "width": p.width,
                "height": p.height,
            }],
        });
        let mut d = vec![json!({ "role": "alt", "value": p.alt })];
        if !p.caption.is_empty() {
            d.push(json!({ "role": "caption", "value": p.caption }));
        }
        pic["descriptions"] = Value::Array(d);
        if !p.credit.is_empty() {
            pic["by"] = json!(p.credit);
        }
        o.insert("associations".into(), json!([pic]));
    }
    Value::Object(o)
}

/// The item as a ninjs 2.2 document, pretty-printed.
pub fn to_string(item: &Item, publisher: &Publisher) -> String {
    let v = to_value(item, publisher);
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
}

/// Whether a link is an absolute http(s) URI (the only kind `format: uri` admits here).
pub(crate) fn is_absolute(link: &str) -> bool {
    (link.starts_with("https://") || link.starts_with("http://"))
        && !link.contains(|c: char| c.is_whitespace() || c.is_control())
}
