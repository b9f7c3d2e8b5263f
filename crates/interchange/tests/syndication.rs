//! Syndicated items checked against the standards' own schemas: ninjs against the IPTC JSON
//! schema 2.2, NewsML-G2 against the IPTC XSDs 2.35 (with `xmllint --schema`, from Debian's
//! `libxml2-utils`). Both read `../shared/corpora` and fail with a clear message without it.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use newsdesk_domain::*;
use newsdesk_interchange::*;
use std::path::PathBuf;
use std::process::Command;

fn corpora() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    assert!(
        p.join("iptc-ninjs").is_dir() && p.join("iptc-newsml-g2").is_dir(),
        "the IPTC corpora are missing at {} (../shared/corpora beside the project)",
        p.display()
    );
    p
}

fn publisher() -> Publisher {
    Publisher {
        name: "The Daily Test".into(),
        base_url: "https://news.example".into(),
        language: "en".into(),
        copyright_holder: "Daily Test Ltd".into(),
    }
}

fn item(status: PubStatus) -> Item {
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
    let story = Story {
        id: StoryId(42),
        version: 7,
        input: StoryInput {
            slug: Slug::parse("flood-waters-recede").unwrap(),
            kind: Kind::Analysis,
            status: StoryStatus::Published,
            headline: Headline::parse("Flood waters recede <slowly> & \"calmly\"").unwrap(),
            summary: "Rivers fall after a week; farms count the cost.".into(),
            body_md: String::new(),
            body_html: "<h2>Fields</h2><p>Water &amp; mud, <a href=\"https://example.org/x\">a link</a>.</p><p>Control\u{1}char and ]]&gt; end</p><br>".into(),
            sector_id: SectorId(1),
            region: "Kenya".into(),
            primary_edition_id: EditionId(1),
            placements: vec![],
            desk_id: None,
            author_ids: vec![AuthorId(1)],
            tag_ids: vec![TagId(1)],
            hero_image_id: Some(ImageId(1)),
            video: None,
            provenance: Provenance::AgencyInputs,
            source: Some("Reuters".into()),
            created_at: t,
            updated_at: t + chrono::Duration::hours(3),
            published_at: Some(t + chrono::Duration::hours(1)),
            embargo_until: Some(t + chrono::Duration::hours(2)),
        },
    };
    Item {
        corrections: vec![Correction {
            id: 1,
            story_id: StoryId(42),
            wrong: "the river rose 3 m".into(),
            right: "it rose 2 m".into(),
            at: t + chrono::Duration::hours(3),
            by: None,
        }],
        status,
        version_created: story.updated_at,
        url: "https://news.example/article/flood-waters-recede".into(),
        sector: Some(Named {
            name: "Agro-Forestry".into(),
            uri: "https://news.example/sector/agro-forestry".into(),
        }),
        authors: vec![Named {
            name: "Amina Odhiambo".into(),
            uri: "https://news.example/author/amina-odhiambo".into(),
        }],
        desk: None,
        tags: vec![Named {
            name: "Floods".into(),
            uri: "https://news.example/tag/floods".into(),
        }],
        places: vec!["Kenya".into()],
        topics: vec![MediaTopic::parse("medtop:20000210").unwrap()],
        based_on: vec!["https://agency.example/item/1".into(), "not a link".into()],
        picture: Some(Picture {
            href: "https://news.example/media/abc-1200.png".into(),
            mime: "image/png".into(),
            width: 1200,
            height: 800,
            alt: "A flooded field".into(),
            caption: "Near Kisumu".into(),
            credit: "Staff".into(),
        }),
        story,
    }
}

fn ninjs_errors(doc: &serde_json::Value) -> Vec<String> {
    let path = corpora().join("iptc-ninjs/specification/ninjs-schema_2.2.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read the ninjs schema"))
            .expect("the ninjs schema is JSON");
    // The schema refers to GeoJSON's schema by URL for `places[].geojson`, which we never
    // send; the test does not go to the network, so that reference resolves to an open schema.
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_resource(
            "https://geojson.org/schema/GeoJSON.json",
            jsonschema::Resource::from_contents(serde_json::json!({})).expect("a resource"),
        )
        .build(&schema)
        .expect("the ninjs schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn g2_errors(xml: &str, name: &str) -> Result<(), String> {
    let spec = corpora().join("iptc-newsml-g2/specification/NewsML-G2_2.35-spec-All-Power.xsd");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("g2");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{name}.xml"));
    std::fs::write(&file, xml).expect("write the item");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(&spec)
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian package libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn ninjs_of_a_corrected_story_is_valid_and_carries_it_all() {
    let item = item(PubStatus::Usable);
    let doc = ninjs::to_value(&item, &publisher());
    let errors = ninjs_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    assert_eq!(doc["uri"], "https://news.example/api/v1/stories/42");
    assert_eq!(doc["version"], "7");
    assert_eq!(doc["pubstatus"], "usable");
    assert_eq!(doc["embargoed"], "2026-03-01T11:30:00Z");
    assert_eq!(doc["language"], "en");
    assert_eq!(doc["by"], "Amina Odhiambo");
    assert_eq!(
        doc["subjects"][0]["uri"],
        "http://cv.iptc.org/newscodes/mediatopic/20000210"
    );
    assert_eq!(doc["places"][0]["name"], "Kenya");
    assert_eq!(doc["descriptions"][1]["role"], "correction");
    assert!(doc["descriptions"][1]["value"]
        .as_str()
        .unwrap()
        .contains("the river rose 3 m"));
    assert!(doc["bodies"][0]["value"]
        .as_str()
        .unwrap()
        .contains("<h2>Fields</h2>"));
    // Only absolute links go out as sources.
    assert_eq!(doc["infosources"].as_array().unwrap().len(), 2);
}

#[test]
fn ninjs_of_withheld_and_canceled_items_is_valid_and_empty() {
    for status in [PubStatus::Withheld, PubStatus::Canceled] {
        let doc = ninjs::to_value(&item(status), &publisher());
        let errors = ninjs_errors(&doc);
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
        assert_eq!(doc["pubstatus"], status.ninjs());
        assert_eq!(doc["representationtype"], "partial");
        assert!(doc.get("bodies").is_none() && doc.get("headlines").is_none());
    }
}

#[test]
fn ninjs_validator_refuses_a_bad_document() {
    // The check itself must be able to fail: a wrong status and a relative URI are refused.
    let doc = serde_json::json!({ "uri": "not a uri", "pubstatus": "killed" });
    assert!(ninjs_errors(&doc).len() >= 2);
}

#[test]
fn newsml_g2_items_are_valid_against_the_xsd() {
    for (status, name) in [
        (PubStatus::Usable, "usable"),
        (PubStatus::Withheld, "withheld"),
        (PubStatus::Canceled, "canceled"),
    ] {
        let xml = newsml::to_string(&item(status), &publisher());
        if let Err(e) = g2_errors(&xml, name) {
            panic!("{name}: {e}\n{xml}");
        }
        assert!(xml.contains(&format!("<pubStatus qcode=\"{}\"/>", status.qcode())));
        assert!(xml.contains("version=\"7\""));
    }
    let xml = newsml::to_string(&item(PubStatus::Usable), &publisher());
    assert!(xml.contains("<signal qcode=\"sig:correction\"/>"));
    assert!(xml.contains("<embargoed>2026-03-01T11:30:00Z</embargoed>"));
    assert!(xml.contains("qcode=\"medtop:20000210\""));
    assert!(xml.contains("&lt;h2&gt;Fields&lt;/h2&gt;"));
    assert!(!xml.contains('\u{1}'));
    let canceled = newsml::to_string(&item(PubStatus::Canceled), &publisher());
    assert!(!canceled.contains("contentSet") && !canceled.contains("Flood"));
}

#[test]
fn newsml_validator_refuses_a_bad_item() {
    let xml = newsml::to_string(&item(PubStatus::Usable), &publisher())
        .replace("stat:usable", "not a qcode");
    assert!(g2_errors(&xml, "bad").is_err());
}

#[test]
fn media_topics_parse_only_media_topics() {
    assert_eq!(
        MediaTopic::parse("http://cv.iptc.org/newscodes/mediatopic/04000000")
            .unwrap()
            .qcode(),
        "medtop:04000000"
    );
    assert!(MediaTopic::parse("subj:04000000").is_none());
    assert!(MediaTopic::parse("medtop:123").is_none());
}
