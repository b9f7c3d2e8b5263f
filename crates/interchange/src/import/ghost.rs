//! Ghost JSON exports (Ghost 1.x to 5.x): `{"db":[{"meta":…,"data":{posts, tags, users,
//! posts_tags, posts_authors}}]}` (or the same without the `db` wrapper). Posts and pages
//! (`type: page`, or `page: 1` before Ghost 4), their tags and authors (`posts_authors`, or
//! `author_id` in Ghost 1), bodies from `html`, else `lexical` (Ghost 5), else `mobiledoc`.
//! A Ghost post's old address is `/{slug}/` (Ghost's default permalink).

use super::{html, Export, ImportError, ItemKind, ItemStatus, SourceAuthor, SourceItem, Term};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn date(v: &Value, k: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v[k].as_str()?.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            // Ghost 1 wrote "2017-09-01 12:29:50".
            chrono::NaiveDateTime::parse_from_str(v[k].as_str()?.trim(), "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|d| d.and_utc())
        })
}

/// The uploads-relative path of a Ghost image URL (`…/content/images/2021/03/x.jpg` →
/// `2021/03/x.jpg`).
fn image_path(url: &str) -> Option<String> {
    let i = url.find("/content/images/")?;
    let p = &url[i + "/content/images/".len()..];
    (!p.is_empty()).then(|| p.to_string())
}

/// Reads a Ghost export.
pub fn parse(text: &str) -> Result<Export, ImportError> {
    if text.len() > super::MAX_EXPORT_BYTES {
        return Err(ImportError::TooLarge);
    }
    let root: Value =
        serde_json::from_str(text).map_err(|e| ImportError::Malformed(format!("not JSON: {e}")))?;
    let db = match &root["db"] {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        _ => root.clone(),
    };
    let data = &db["data"];
    if !data.is_object() || !data["posts"].is_array() {
        return Err(ImportError::NotAnExport(
            "there is no db[0].data.posts: this does not look like a Ghost export".into(),
        ));
    }
    let version = s(&db["meta"], "version");
    let mut ex = Export {
        format: if version.is_empty() {
            "Ghost".into()
        } else {
            format!("Ghost {version}")
        },
        ..Export::default()
    };
    let arr = |k: &str| data[k].as_array().cloned().unwrap_or_default();
    for u in arr("users") {
        ex.authors.push(SourceAuthor {
            key: s(&u, "id"),
            name: s(&u, "name"),
            email: Some(s(&u, "email")).filter(|e| !e.is_empty()),
            slug: s(&u, "slug"),
        });
    }
    let mut tag_slug: HashMap<String, String> = HashMap::new();
    for t in arr("tags") {
        tag_slug.insert(s(&t, "id"), s(&t, "slug"));
        ex.tags.push(Term {
            slug: s(&t, "slug"),
            name: s(&t, "name"),
        });
    }
    let mut tags_of: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for pt in arr("posts_tags") {
        if let Some(slug) = tag_slug.get(&s(&pt, "tag_id")) {
            tags_of
                .entry(s(&pt, "post_id"))
                .or_default()
                .push((pt["sort_order"].as_i64().unwrap_or(0), slug.clone()));
        }
    }
    let mut authors_of: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for pa in arr("posts_authors") {
        authors_of
            .entry(s(&pa, "post_id"))
            .or_default()
            .push((pa["sort_order"].as_i64().unwrap_or(0), s(&pa, "author_id")));
    }
    for p in arr("posts") {
        let id = s(&p, "id");
        let is_page = p["type"].as_str() == Some("page")
            || matches!(&p["page"], Value::Bool(true))
            || p["page"].as_i64() == Some(1);
        let kind = match p["type"].as_str() {
            None | Some("post") | Some("page") => Some(if is_page {
                ItemKind::Page
            } else {
                ItemKind::Post
            }),
            Some(_) => None,
        };
        let status_text = s(&p, "status");
        let status = match status_text.as_str() {
            "published" => Some(ItemStatus::Published),
            "draft" | "scheduled" | "sent" => Some(ItemStatus::NotPublic),
            _ => None,
        };
        let mut tags = tags_of.remove(&id).unwrap_or_default();
        tags.sort();
        let mut authors = authors_of.remove(&id).unwrap_or_default();
        authors.sort();
        let mut authors: Vec<String> = authors.into_iter().map(|a| a.1).collect();
        if authors.is_empty() {
            let a = s(&p, "author_id");
            if !a.is_empty() {
                authors.push(a);
            }
        }
        let body = match (
            p["html"].as_str(),
            p["lexical"].as_str(),
            p["mobiledoc"].as_str(),
        ) {
            (Some(h), _, _) if !h.trim().is_empty() => Some(h.to_string()),
            (_, Some(l), _) => html::lexical(l),
            (_, _, Some(m)) => html::mobiledoc(m),
            _ => Some(String::new()),
        };
        let slug = s(&p, "slug");
        let mut skip = match (kind, status) {
            (None, _) => Some(format!("post type \"{}\" is not imported", s(&p, "type"))),
            (_, None) => Some(format!("status \"{status_text}\" is not imported")),
            _ => None,
        };
        if body.is_none() && skip.is_none() {
            skip = Some("its body (mobiledoc or lexical) cannot be read".into());
        }
        if id.is_empty() && skip.is_none() {
            skip = Some("no id".into());
        }
        let feature = s(&p, "feature_image");
        ex.items.push(SourceItem {
            source_id: id,
            kind,
            status,
            title: s(&p, "title"),
            link: (!slug.is_empty()).then(|| format!("/{slug}/")),
            slug,
            html: body.unwrap_or_default(),
            excerpt: {
                let c = s(&p, "custom_excerpt");
                if c.is_empty() {
                    s(&p, "meta_description")
                } else {
                    c
                }
            },
            authors,
            categories: Vec::new(),
            tags: tags.into_iter().map(|t| t.1).collect(),
            date: date(&p, "published_at").or_else(|| date(&p, "created_at")),
            modified: date(&p, "updated_at"),
            featured_image: image_path(&feature),
            featured_alt: s(&p, "feature_image_alt"),
            skip,
        });
    }
    Ok(ex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ghost_5_lexical_post_and_a_page() {
        let doc = r#"{"db":[{"meta":{"version":"5.80.0"},"data":{"posts":[{"id":"a1","type":"post","status":"published","slug":"hello","title":"Hello","html":null,"mobiledoc":null,"lexical":"{\"root\":{\"children\":[{\"type\":\"paragraph\",\"children\":[{\"type\":\"text\",\"text\":\"Hi\",\"format\":0}]}]}}","published_at":"2024-05-01T10:00:00.000Z","feature_image":"__GHOST_URL__/content/images/2024/05/h.jpg"},{"id":"a2","type":"page","status":"draft","slug":"about","title":"About","html":"<p>Us</p>"}],"users":[{"id":"u1","name":"Ann","email":"ann@example.org","slug":"ann"}],"posts_authors":[{"post_id":"a1","author_id":"u1","sort_order":0}],"tags":[],"posts_tags":[]}}]}"#;
        let ex = parse(doc).unwrap();
        assert_eq!(ex.format, "Ghost 5.80.0");
        assert_eq!(ex.items[0].html, "<p>Hi</p>\n");
        assert_eq!(ex.items[0].authors, vec!["u1"]);
        assert_eq!(ex.items[0].featured_image.as_deref(), Some("2024/05/h.jpg"));
        assert_eq!(ex.items[1].kind, Some(ItemKind::Page));
        assert_eq!(ex.items[1].status, Some(ItemStatus::NotPublic));
    }

    #[test]
    fn not_an_export() {
        assert!(matches!(
            parse("{\"asdadas\":1}"),
            Err(ImportError::NotAnExport(_))
        ));
        assert!(matches!(parse("{\"db\":["), Err(ImportError::Malformed(_))));
    }
}
