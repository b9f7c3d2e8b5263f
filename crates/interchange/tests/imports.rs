//! The importers' parsers on the real exports in `../shared/corpora/imports/` (their
//! `EXPECTATIONS.json` says what each file holds), and on broken and hostile files: each is read
//! whole with the expected counts, or refused with a clear error, never a panic.
#![allow(clippy::unwrap_used)]

use newsdesk_interchange::import::{ghost, wxr, Export, ImportError, ItemKind, ItemStatus};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/imports");
    assert!(
        p.join("wordpress/EXPECTATIONS.json").is_file(),
        "the import corpora are missing at {}",
        p.display()
    );
    p
}

fn expectations(kind: &str) -> serde_json::Map<String, Value> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir().join(kind).join("EXPECTATIONS.json")).unwrap())
            .unwrap();
    v.as_object().unwrap().clone()
}

fn read(kind: &str, file: &str) -> String {
    String::from_utf8(std::fs::read(dir().join(kind).join(file)).unwrap()).unwrap()
}

fn count(e: &Value, key: &str) -> usize {
    e["counts"][key].as_u64().unwrap_or(0) as usize
}

#[test]
fn every_wordpress_export_is_read_whole_or_refused() {
    for (file, e) in expectations("wordpress") {
        let text = read("wordpress", &file);
        let version_ok = e["wxr_version_text"]
            .as_str()
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
        let got = wxr::parse(&text);
        if !e["well_formed"].as_bool().unwrap() {
            assert!(
                matches!(got, Err(ImportError::Malformed(_))),
                "{file}: {got:?}"
            );
            continue;
        }
        if !version_ok {
            let err = got.unwrap_err();
            assert!(
                matches!(err, ImportError::NotAnExport(_)),
                "{file}: {err:?}"
            );
            assert!(err.to_string().contains("wxr_version"), "{file}: {err}");
            continue;
        }
        let ex = got.unwrap_or_else(|err| panic!("{file}: {err}"));
        let by_type = &e["counts"]["items_by_post_type"];
        let n = |t: &str| by_type[t].as_u64().unwrap_or(0) as usize;
        assert_eq!(ex.items.len(), count(&e, "items"), "{file}: items");
        let kinds = |k: ItemKind| ex.items.iter().filter(|i| i.kind == Some(k)).count();
        assert_eq!(kinds(ItemKind::Post), n("post"), "{file}: posts");
        assert_eq!(kinds(ItemKind::Page), n("page"), "{file}: pages");
        // Every post and page is to be imported (only attachments and menu items are left out).
        let importable = ex.importable().count();
        assert_eq!(importable, n("post") + n("page"), "{file}: importable");
        for i in ex.items.iter().filter(|i| i.skip.is_some()) {
            assert!(
                i.kind.is_none(),
                "{file}: {} skipped: {:?}",
                i.source_id,
                i.skip
            );
        }
        let authors = match count(&e, "author_elements") {
            0 => {
                let mut c: Vec<&str> = e["counts"]["dc_creators"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                c.dedup();
                c.len()
            }
            a => a,
        };
        assert_eq!(ex.authors.len(), authors, "{file}: authors");
        assert_eq!(
            ex.categories.len(),
            count(&e, "category_elements"),
            "{file}: categories"
        );
        assert_eq!(ex.tags.len(), count(&e, "tag_elements"), "{file}: tags");
        let published = ex
            .items
            .iter()
            .filter(|i| i.kind.is_some() && i.status == Some(ItemStatus::Published))
            .count();
        assert!(
            published
                <= e["counts"]["items_by_status"]["publish"]
                    .as_u64()
                    .unwrap_or(0) as usize
        );
    }
}

fn post(ex: &Export) -> &newsdesk_interchange::import::SourceItem {
    ex.items
        .iter()
        .find(|i| i.kind == Some(ItemKind::Post))
        .unwrap()
}

#[test]
fn wordpress_content_is_kept_exactly() {
    let ex = wxr::parse(&read(
        "wordpress",
        "wordpress-importer/crazy-cdata-escaped.xml",
    ))
    .unwrap();
    assert!(
        post(&ex)
            .html
            .contains("Content with nested <![CDATA[ tags ]]> :)"),
        "{}",
        post(&ex).html
    );
    let ex = wxr::parse(&read("wordpress", "wordpress-importer/slashes.xml")).unwrap();
    assert!(
        post(&ex).html.contains(r#"Slashes aren\'t \"cool\""#),
        "{}",
        post(&ex).html
    );
    assert!(ex
        .categories
        .iter()
        .any(|c| c.name == r#"a \"great\" category"#));
    let e = expectations("wordpress");
    let want = &e["wordpress-importer/wxr-utf-8-challenges.xml"]["upstream_test_asserts"]
        ["post_fields_equal"];
    let ex = wxr::parse(&read(
        "wordpress",
        "wordpress-importer/wxr-utf-8-challenges.xml",
    ))
    .unwrap();
    let p = post(&ex);
    assert_eq!(p.title, want["post_title"].as_str().unwrap());
    assert_eq!(p.slug, want["post_name"].as_str().unwrap());
    assert_eq!(p.excerpt, want["post_excerpt"].as_str().unwrap().trim());
    // The theme test data: headings, links, images and embeds survive as HTML and links.
    let ex = wxr::parse(&read(
        "wordpress",
        "theme-test-data/themeunittestdata.wordpress.xml",
    ))
    .unwrap();
    let all: String = ex.importable().map(|i| i.html.as_str()).collect();
    for needle in ["<h2", "<a href=", "<img ", "<blockquote", "<ul", "<table"] {
        assert!(all.contains(needle), "{needle} is lost");
    }
    assert!(
        all.contains("<a href=\"https://www.youtube.com/watch?v="),
        "embeds become links"
    );
    assert!(!all.contains("<!-- wp:"), "block comments are dropped");
    let dated = ex.importable().filter(|i| i.date.is_some()).count();
    assert_eq!(dated, ex.importable().count(), "every item has its date");
}

#[test]
fn every_ghost_export_is_read_whole_or_refused() {
    for (file, e) in expectations("ghost") {
        let text = read("ghost", &file);
        let got = ghost::parse(&text);
        if e["valid_ghost_export"].as_bool() != Some(true) {
            assert!(got.is_err(), "{file}");
            assert!(got.unwrap_err().to_string().contains("Ghost export"));
            continue;
        }
        let ex = got.unwrap_or_else(|err| panic!("{file}: {err}"));
        let tables = &e["non_empty_tables"];
        let rows = |t: &str| tables[t].as_u64().unwrap_or(0) as usize;
        assert_eq!(ex.items.len(), rows("posts"), "{file}: posts");
        assert_eq!(ex.authors.len(), rows("users"), "{file}: users");
        assert_eq!(ex.tags.len(), rows("tags"), "{file}: tags");
        for (key, n) in e["posts_by_type_status"].as_object().into_iter().flatten() {
            let (t, s) = key.split_once('/').unwrap();
            let kind = if t == "page" {
                ItemKind::Page
            } else {
                ItemKind::Post
            };
            let status = if s == "published" {
                ItemStatus::Published
            } else {
                ItemStatus::NotPublic
            };
            let got = ex
                .importable()
                .filter(|i| i.kind == Some(kind) && i.status == Some(status))
                .count();
            assert_eq!(got as u64, n.as_u64().unwrap(), "{file}: {key}");
        }
        let mut slugs: Vec<&str> = ex.items.iter().map(|i| i.slug.as_str()).collect();
        let mut want: Vec<&str> = e["post_slugs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        slugs.sort_unstable();
        want.sort_unstable();
        assert_eq!(slugs, want, "{file}");
        for i in ex.importable() {
            assert!(!i.html.trim().is_empty(), "{file}: {} has no body", i.slug);
            if rows("posts_authors") >= rows("posts") {
                assert!(!i.authors.is_empty(), "{file}: {} has no author", i.slug);
            }
        }
    }
}

#[test]
fn truncated_and_hostile_files_are_clear_errors() {
    // Every cut of a real export is refused (no partial import), never a panic.
    for (kind, file) in [
        ("wordpress", "wordpress-importer/small-export.xml"),
        ("ghost", "v2_export.json"),
    ] {
        let text = read(kind, file);
        let mut cuts = 0;
        for n in (1..40).map(|k| text.len() * k / 40) {
            let Some(cut) = text.get(..n) else { continue };
            let got = if kind == "ghost" {
                ghost::parse(cut)
            } else {
                wxr::parse(cut)
            };
            assert!(got.is_err(), "{file} cut at {n} was read");
            cuts += 1;
        }
        assert!(cuts > 30);
    }
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version><item><title>&lol2;</title></item></channel></rss>"#;
    assert_eq!(wxr::parse(billion_laughs).unwrap_err(), ImportError::Dtd);
    assert!(wxr::parse("").is_err());
    assert!(wxr::parse("<html><body/></html>").is_err());
    assert!(ghost::parse("[]").is_err());
    assert!(ghost::parse("{\"db\":[{\"data\":{\"posts\":{}}}]}").is_err());
    // A nesting bomb is refused before it costs anything.
    let deep = format!(
        "<rss><channel><wp:wxr_version>1.2</wp:wxr_version>{}{}</channel></rss>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    assert!(matches!(wxr::parse(&deep), Err(ImportError::Malformed(_))));
}
