//! JSON Feed 1.0 / 1.1 into [`ParsedFeed`].

use serde_json::Value;

use crate::json::{self, as_string, get, list, str_of};
use crate::text::{resolve_url, text_to_html};
use crate::{parse_date, Format, IngestError, Limits, ParsedEntry, ParsedFeed};

pub(crate) fn parse(
    bytes: &[u8],
    base_url: Option<&str>,
    limits: &Limits,
) -> Result<ParsedFeed, IngestError> {
    let v = json::parse(bytes, limits)?;
    let version_url = v.get("version").and_then(Value::as_str).unwrap_or("");
    if !version_url.contains("jsonfeed.org/version") {
        return Err(IngestError::NotAFeed(
            "JSON without a jsonfeed.org version (ninjs? use parse_items)".into(),
        ));
    }
    let version = if version_url.contains("/1.1") {
        "json11"
    } else {
        "json1"
    };
    let home = v.get("home_page_url").and_then(as_string);
    let base = base_url.map(str::to_owned).or_else(|| home.clone());
    let feed_lang = v.get("language").and_then(as_string);
    let feed_authors = authors(&v);
    let entries = v
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|i| i.is_object())
                .map(|i| {
                    item(
                        i,
                        base.as_deref(),
                        feed_lang.as_deref(),
                        feed_authors.as_deref(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ParsedFeed {
        format: Format::JsonFeed,
        version: version.to_owned(),
        title: v.get("title").and_then(as_string),
        link: home.map(|h| resolve_url(base_url, &h)),
        subtitle: v.get("description").and_then(as_string),
        rights: None,
        title_html: false,
        subtitle_html: false,
        rights_html: false,
        language: feed_lang,
        entries,
    })
}

fn authors(v: &Value) -> Option<String> {
    let mut names: Vec<String> = list(v, "authors")
        .into_iter()
        .filter_map(|a| a.get("name").and_then(as_string))
        .collect();
    if names.is_empty() {
        if let Some(n) = v
            .get("author")
            .and_then(|a| a.get("name"))
            .and_then(as_string)
        {
            names.push(n);
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

fn item(
    i: &Value,
    base: Option<&str>,
    feed_lang: Option<&str>,
    feed_author: Option<&str>,
) -> ParsedEntry {
    let url = i
        .get("url")
        .and_then(as_string)
        .map(|u| resolve_url(base, &u));
    let external = i
        .get("external_url")
        .and_then(as_string)
        .map(|u| resolve_url(base, &u));
    let mut links: Vec<String> = url.iter().chain(external.iter()).cloned().collect();
    for a in list(i, "attachments") {
        if let Some(u) = a.get("url").and_then(as_string) {
            links.push(resolve_url(base, &u));
        }
    }
    let content = i.get("content_html").and_then(as_string).or_else(|| {
        i.get("content_text")
            .and_then(as_string)
            .map(|t| text_to_html(&t))
    });
    ParsedEntry {
        id: str_of(i, "id"),
        title: i.get("title").and_then(as_string),
        link: url.or(external),
        links,
        summary: i.get("summary").and_then(as_string),
        content_html: content.is_some(),
        content,
        author: authors(i).or_else(|| feed_author.map(str::to_owned)),
        published: i
            .get("date_published")
            .and_then(Value::as_str)
            .and_then(parse_date),
        updated: i
            .get("date_modified")
            .and_then(Value::as_str)
            .and_then(parse_date),
        tags: get(i, "tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(as_string).collect())
            .unwrap_or_default(),
        rights: None,
        language: i
            .get("language")
            .and_then(as_string)
            .or_else(|| feed_lang.map(str::to_owned)),
        ..ParsedEntry::default()
    }
}
