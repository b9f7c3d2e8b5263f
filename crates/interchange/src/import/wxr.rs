//! WordPress eXtended RSS (WXR 1.0, 1.1, 1.2), read with a streaming XML parser that never
//! expands entities: a DOCTYPE declaring any (an entity bomb) is refused, and only XML's own
//! five entities and character references are read. Like WordPress's own importer, a file
//! without a numeric `wp:wxr_version` is not taken for an export, and a file that is not
//! well-formed (truncated, mismatched tags, `]]>` inside CDATA) is refused whole.

use super::{html, Export, ImportError, ItemKind, ItemStatus, SourceAuthor, SourceItem, Term};
use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;

/// Deepest element nesting read.
const MAX_DEPTH: usize = 64;

#[derive(Default)]
struct Attachment {
    file: Option<String>,
    alt: String,
}

#[derive(Default)]
struct RawItem {
    item: SourceItem,
    post_type: String,
    status: String,
    content: String,
    date_gmt: String,
    date_local: String,
    pub_date: String,
    modified_gmt: String,
    thumbnail_id: Option<String>,
    attached_file: Option<String>,
    image_alt: String,
    meta_key: String,
    meta_value: String,
    cat_domain: String,
    cat_nicename: String,
}

fn local_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0000") {
        return None;
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.and_utc())
}

fn qname(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_string()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.as_ref() == name).then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string())
        })
    })
}

/// Reads a WXR export.
pub fn parse(text: &str) -> Result<Export, ImportError> {
    if text.len() > super::MAX_EXPORT_BYTES {
        return Err(ImportError::TooLarge);
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut version: Option<String> = None;
    let mut ex = Export::default();
    let mut author = SourceAuthor::default();
    let mut term = Term::default();
    let mut item: Option<RawItem> = None;
    let mut items: Vec<RawItem> = Vec::new();
    let mut saw_root = false;
    loop {
        let ev = reader.read_event().map_err(|e| {
            ImportError::Malformed(format!("{e} (at byte {})", reader.error_position()))
        })?;
        match ev {
            Event::DocType(d) => {
                let d: &str = &d;
                if d.contains('[') || d.to_ascii_uppercase().contains("ENTITY") {
                    return Err(ImportError::Dtd);
                }
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ImportError::Malformed("elements nested too deep".into()));
                }
                let name = qname(&e);
                if stack.is_empty() {
                    if name != "rss" {
                        return Err(ImportError::NotAnExport(format!(
                            "the root element is <{name}>, not <rss>"
                        )));
                    }
                    saw_root = true;
                }
                let depth = stack.len();
                match (depth, name.as_str()) {
                    (2, "item") => item = Some(RawItem::default()),
                    (2, "wp:author") => author = SourceAuthor::default(),
                    (2, "wp:category") | (2, "wp:tag") => term = Term::default(),
                    (3, "category") => {
                        if let Some(it) = item.as_mut() {
                            it.cat_domain = attr(&e, "domain").unwrap_or_default();
                            it.cat_nicename = attr(&e, "nicename").unwrap_or_default();
                        }
                    }
                    (3, "wp:postmeta") => {
                        if let Some(it) = item.as_mut() {
                            it.meta_key.clear();
                            it.meta_value.clear();
                        }
                    }
                    _ => {}
                }
                stack.push(name);
                buf.clear();
            }
            Event::Empty(_) => {
                if stack.is_empty() {
                    return Err(ImportError::NotAnExport("an empty document element".into()));
                }
            }
            Event::Text(t) => {
                // `]]>` may not appear in text: it is a CDATA section's end that was not
                // escaped (WordPress's regex reader takes it; an XML reader must not).
                if t.contains("]]>") {
                    return Err(ImportError::Malformed(format!(
                        "\"]]>\" outside a CDATA section (at byte {})",
                        reader.buffer_position()
                    )));
                }
                buf.push_str(&t)
            }
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => {
                let name: &str = &r;
                if let Some(c) = r.resolve_char_ref().ok().flatten() {
                    buf.push(c);
                } else {
                    match name {
                        "lt" => buf.push('<'),
                        "gt" => buf.push('>'),
                        "amp" => buf.push('&'),
                        "quot" => buf.push('"'),
                        "apos" => buf.push('\''),
                        other => {
                            return Err(ImportError::Malformed(format!(
                                "undefined entity &{other}; (at byte {})",
                                reader.buffer_position()
                            )))
                        }
                    }
                }
            }
            Event::End(_) => {
                let Some(name) = stack.pop() else {
                    return Err(ImportError::Malformed("unexpected end tag".into()));
                };
                let depth = stack.len();
                let parent = stack.last().map(String::as_str).unwrap_or_default();
                let text = std::mem::take(&mut buf);
                match (depth, parent, name.as_str()) {
                    (2, "channel", "wp:wxr_version") => version = Some(text.trim().to_string()),
                    (2, "channel", "wp:base_site_url") if ex.site_url.is_none() => {
                        ex.site_url = Some(text.trim().to_string());
                    }
                    (2, "channel", "link") => ex.site_url = Some(text.trim().to_string()),
                    (3, "wp:author", field) => match field {
                        "wp:author_login" => author.key = text.trim().to_string(),
                        "wp:author_email" => {
                            author.email = Some(text.trim().to_string()).filter(|s| !s.is_empty())
                        }
                        "wp:author_display_name" => author.name = text.trim().to_string(),
                        _ => {}
                    },
                    (2, "channel", "wp:author") => {
                        let mut a = std::mem::take(&mut author);
                        a.slug = a.key.clone();
                        if a.name.is_empty() {
                            a.name = a.key.clone();
                        }
                        if !a.key.is_empty() {
                            ex.authors.push(a);
                        }
                    }
                    (3, "wp:category", "wp:category_nicename") | (3, "wp:tag", "wp:tag_slug") => {
                        term.slug = text.trim().to_string()
                    }
                    (3, "wp:category", "wp:cat_name") | (3, "wp:tag", "wp:tag_name") => {
                        term.name = text.trim().to_string()
                    }
                    (2, "channel", "wp:category") => ex.categories.push(std::mem::take(&mut term)),
                    (2, "channel", "wp:tag") => ex.tags.push(std::mem::take(&mut term)),
                    (3, "item", field) => {
                        if let Some(it) = item.as_mut() {
                            read_item_field(it, field, text);
                        }
                    }
                    (4, "wp:postmeta", "wp:meta_key") => {
                        if let Some(it) = item.as_mut() {
                            it.meta_key = text.trim().to_string();
                        }
                    }
                    (4, "wp:postmeta", "wp:meta_value") => {
                        if let Some(it) = item.as_mut() {
                            it.meta_value = text;
                        }
                    }
                    (2, "channel", "item") => {
                        if let Some(it) = item.take() {
                            items.push(it);
                        }
                    }
                    _ => {}
                }
                if depth == 3 && parent == "item" && name == "wp:postmeta" {
                    if let Some(it) = item.as_mut() {
                        let value = std::mem::take(&mut it.meta_value);
                        match it.meta_key.as_str() {
                            "_thumbnail_id" => it.thumbnail_id = Some(value.trim().to_string()),
                            "_wp_attached_file" => {
                                it.attached_file = Some(value.trim().to_string())
                            }
                            "_wp_attachment_image_alt" => it.image_alt = value.trim().to_string(),
                            _ => {}
                        }
                    }
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(ImportError::Malformed(format!(
            "the file ends inside <{}> (truncated?)",
            stack.last().map(String::as_str).unwrap_or_default()
        )));
    }
    if !saw_root {
        return Err(ImportError::NotAnExport("no <rss> element".into()));
    }
    let version = match version {
        Some(v) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') => v,
        Some(v) => {
            return Err(ImportError::NotAnExport(format!(
                "wp:wxr_version is {v:?}, not a version number: this does not look like a WordPress export"
            )))
        }
        None => {
            return Err(ImportError::NotAnExport(
                "there is no wp:wxr_version: this does not look like a WordPress export (WXR)".into(),
            ))
        }
    };
    ex.format = format!("WXR {version}");
    finish(&mut ex, items);
    Ok(ex)
}

fn read_item_field(it: &mut RawItem, field: &str, text: String) {
    match field {
        "title" => it.item.title = text.trim().to_string(),
        "link" => it.item.link = Some(text.trim().to_string()).filter(|s| !s.is_empty()),
        "dc:creator" => {
            let c = text.trim().to_string();
            if !c.is_empty() {
                it.item.authors.push(c);
            }
        }
        "content:encoded" => it.content = text,
        "excerpt:encoded" => it.item.excerpt = text.trim().to_string(),
        "wp:post_id" => it.item.source_id = text.trim().to_string(),
        "wp:post_date_gmt" => it.date_gmt = text,
        "wp:post_date" => it.date_local = text,
        "pubDate" => it.pub_date = text,
        "wp:post_modified_gmt" => it.modified_gmt = text,
        "wp:post_name" => it.item.slug = text.trim().to_string(),
        "wp:status" => it.status = text.trim().to_string(),
        "wp:post_type" => it.post_type = text.trim().to_string(),
        "category" => {
            let slug = if it.cat_nicename.is_empty() {
                text.trim().to_string()
            } else {
                std::mem::take(&mut it.cat_nicename)
            };
            match it.cat_domain.as_str() {
                "category" => it.item.categories.push(slug),
                "post_tag" => it.item.tags.push(slug),
                _ => {}
            }
        }
        _ => {}
    }
}

fn finish(ex: &mut Export, raw: Vec<RawItem>) {
    let mut attachments: HashMap<String, Attachment> = HashMap::new();
    for r in &raw {
        if r.post_type == "attachment" {
            attachments.insert(
                r.item.source_id.clone(),
                Attachment {
                    file: r.attached_file.clone(),
                    alt: r.image_alt.clone(),
                },
            );
        }
    }
    // WXR 1.0 has no author list: the authors are the items' creators.
    if ex.authors.is_empty() {
        for r in &raw {
            for c in &r.item.authors {
                if !ex.authors.iter().any(|a| &a.key == c) {
                    ex.authors.push(SourceAuthor {
                        key: c.clone(),
                        name: c.clone(),
                        email: None,
                        slug: c.clone(),
                    });
                }
            }
        }
    }
    for mut r in raw {
        let mut it = std::mem::take(&mut r.item);
        it.kind = match r.post_type.as_str() {
            "post" => Some(ItemKind::Post),
            "page" => Some(ItemKind::Page),
            _ => None,
        };
        it.status = match r.status.as_str() {
            "publish" => Some(ItemStatus::Published),
            "draft" | "pending" | "private" | "future" | "inherit" => Some(ItemStatus::NotPublic),
            _ => None,
        };
        it.skip = match (it.kind, it.status, r.post_type.as_str(), r.status.as_str()) {
            (_, _, "attachment", _) => Some("an attachment (a file, not a post)".to_string()),
            (_, _, "nav_menu_item", _) => Some("a navigation menu item".to_string()),
            (None, _, t, _) => Some(format!("post type \"{t}\" is not imported")),
            (_, _, _, "trash") => Some("in the trash".to_string()),
            (_, _, _, "auto-draft") => Some("an auto-draft".to_string()),
            (_, None, _, s) => Some(format!("status \"{s}\" is not imported")),
            _ => None,
        };
        if it.source_id.is_empty() && it.skip.is_none() {
            it.skip = Some("no wp:post_id".into());
        }
        it.date = local_date(&r.date_gmt)
            .or_else(|| local_date(&r.date_local))
            .or_else(|| {
                DateTime::parse_from_rfc2822(r.pub_date.trim())
                    .ok()
                    .map(|d| d.with_timezone(&Utc))
            });
        it.modified = local_date(&r.modified_gmt);
        it.html = html::wordpress(&r.content);
        if let Some(a) = r.thumbnail_id.as_ref().and_then(|t| attachments.get(t)) {
            it.featured_image = a.file.clone();
            it.featured_alt = a.alt.clone();
        }
        ex.items.push(it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wxr(body: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><wp:wxr_version>1.2</wp:wxr_version>{body}</channel></rss>"#
        )
    }

    #[test]
    fn entity_bombs_and_undefined_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><rss><channel><title>&lol2;</title></channel></rss>"#;
        assert_eq!(parse(bomb).err(), Some(ImportError::Dtd));
        let ext = r#"<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd" [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss/>"#;
        assert_eq!(parse(ext).err(), Some(ImportError::Dtd));
        let undefined = wxr("<item><title>&nbsp;</title></item>");
        assert!(matches!(parse(&undefined), Err(ImportError::Malformed(_))));
    }

    #[test]
    fn an_item_is_read_with_its_terms_and_meta() {
        let x = wxr(
            r#"<item><title>A &amp; B</title><link>https://old.example/2020/01/a-b/</link><dc:creator><![CDATA[admin]]></dc:creator><content:encoded><![CDATA[Hello

<h2>Part</h2>]]></content:encoded><wp:post_id>12</wp:post_id><wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt><wp:post_name>a-b</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><category domain="category" nicename="news"><![CDATA[News]]></category><category domain="post_tag" nicename="x"><![CDATA[X]]></category><wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>13</wp:meta_value></wp:postmeta><wp:comment><wp:comment_content>not the body</wp:comment_content></wp:comment></item><item><title>pic</title><wp:post_id>13</wp:post_id><wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status><wp:postmeta><wp:meta_key>_wp_attached_file</wp:meta_key><wp:meta_value>2020/01/p.jpg</wp:meta_value></wp:postmeta></item>"#,
        );
        let ex = parse(&x).unwrap();
        let it = &ex.items[0];
        assert_eq!(it.title, "A & B");
        assert_eq!(it.categories, vec!["news"]);
        assert_eq!(it.tags, vec!["x"]);
        assert_eq!(it.featured_image.as_deref(), Some("2020/01/p.jpg"));
        assert!(it.html.contains("<p>Hello</p>") && it.html.contains("<h2>Part</h2>"));
        assert_eq!(ex.authors[0].key, "admin");
        assert!(ex.items[1].skip.is_some());
    }
}
