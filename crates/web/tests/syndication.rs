//! Syndication out through the router: `/api/v1/stories/{id}.ninjs.json` and `.newsml.xml`
//! over a demo-seeded store, checked against the IPTC schemas (ninjs 2.2, NewsML-G2 2.35 XSD
//! with `xmllint`), with the public rule: drafts, scheduled and embargoed stories are 404 problem
//! documents, unpublished and killed ones withheld and canceled items without content.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

fn now0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
}

fn corpora() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    assert!(
        p.join("iptc-ninjs").is_dir(),
        "the IPTC corpora are missing at {}",
        p.display()
    );
    p
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(r: &Router, path: &str, headers: &[(&str, &str)]) -> Res {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = r
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

fn ninjs_valid(doc: &serde_json::Value) {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let v = VALIDATOR.get_or_init(validator);
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(corpora().join("iptc-ninjs/specification/ninjs-schema_2.2.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_resource(
            "https://geojson.org/schema/GeoJSON.json",
            jsonschema::Resource::from_contents(serde_json::json!({})).unwrap(),
        )
        .build(&schema)
        .unwrap()
}

fn g2_valid(xml: &str, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-g2");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.xml"));
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(corpora().join("iptc-newsml-g2/specification/NewsML-G2_2.35-spec-All-Power.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint (Debian package libxml2-utils)");
    assert!(
        out.status.success(),
        "{name}: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn stories_go_out_as_ninjs_and_newsml_only_as_readers_may_see_them() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let dir = store.path().parent().unwrap().to_owned();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 40,
            now: now0(),
            seed: 5,
            media_dir: dir.join("media"),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(now0()));
    let site = SiteConfig {
        base_url: "https://news.example".into(),
        ..SiteConfig::default()
    };
    let app = App::load(store.clone(), clock.clone(), site).await.unwrap();
    let router = newsdesk_web::router(newsdesk_web::WebState::new(app.clone(), dir.join("media")));

    let n = store.count_stories().await.unwrap();
    let cards = store
        .get_cards(&(1..=n).map(StoryId).collect::<Vec<_>>())
        .await
        .unwrap();
    let (public, hidden): (Vec<_>, Vec<_>) = cards.iter().partition(|c| c.is_public_at(now0()));
    assert!(
        !hidden.is_empty(),
        "the demo has embargoed, scheduled and draft stories"
    );

    // Every public story is a valid item of both formats.
    for c in &public {
        let r = get(
            &router,
            &format!("/api/v1/stories/{}.ninjs.json", c.id),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ninjs+json"));
        let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        ninjs_valid(&doc);
        assert_eq!(doc["pubstatus"], "usable");
        assert_eq!(doc["headlines"][0]["value"], c.headline.as_str());
        let r = get(
            &router,
            &format!("/api/v1/stories/{}.newsml.xml", c.id),
            &[],
        )
        .await;
        assert_eq!(r.status, 200);
        g2_valid(&r.body, &format!("story-{}", c.id));
        assert!(r.body.contains("stat:usable"));
    }

    // Drafts, scheduled and embargoed stories are not there at all.
    for c in &hidden {
        for ext in ["ninjs.json", "newsml.xml"] {
            let r = get(&router, &format!("/api/v1/stories/{}.{ext}", c.id), &[]).await;
            assert_eq!(r.status, 404, "story {} ({:?}) leaks", c.id, c.status);
            assert!(r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json"));
            assert!(!r.body.contains(c.headline.as_str()));
        }
    }
    for bad in [
        "0.ninjs.json",
        "999999.newsml.xml",
        "abc.ninjs.json",
        "1.json",
        "+1.newsml.xml",
    ] {
        let r = get(&router, &format!("/api/v1/stories/{bad}"), &[]).await;
        assert_eq!(r.status, 404, "{bad}");
    }

    // A conditional GET of an unchanged item is a 304.
    let first = public[0];
    let path = format!("/api/v1/stories/{}.ninjs.json", first.id);
    let etag = get(&router, &path, &[]).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&router, &path, &[("if-none-match", &etag)])
            .await
            .status,
        304
    );

    // A correction is carried and the version moves.
    let story = store.get_story(first.id).await.unwrap();
    let mut corrected = story.input.clone();
    corrected.updated_at = now0();
    let audit = AuditInput {
        at: now0(),
        user_id: None,
        action: "correct".into(),
        target: format!("story:{}", first.id),
        detail: String::new(),
    };
    store
        .add_correction(
            first.id,
            story.version,
            &corrected,
            "the bridge was 40 m long",
            "it was 60 m long",
            &audit,
        )
        .await
        .unwrap();
    app.sync().await.unwrap();
    let r = get(
        &router,
        &format!("/api/v1/stories/{}.newsml.xml", first.id),
        &[],
    )
    .await;
    g2_valid(&r.body, "corrected");
    assert!(r.body.contains("sig:correction"));
    assert!(r.body.contains("the bridge was 40 m long"));
    let doc: serde_json::Value =
        serde_json::from_str(&get(&router, &path, &[]).await.body).unwrap();
    ninjs_valid(&doc);
    assert!(doc.to_string().contains("it was 60 m long"));

    // Unpublished: withheld; killed: canceled; neither carries content.
    for (status, ninjs, qcode) in [
        (StoryStatus::Unpublished, "withheld", "stat:withheld"),
        (StoryStatus::Killed, "canceled", "stat:canceled"),
    ] {
        let current = store.get_story(first.id).await.unwrap();
        let mut input = current.input.clone();
        input.status = status;
        input.updated_at = now0() + Duration::minutes(5);
        store
            .update_story(first.id, current.version, &input)
            .await
            .unwrap();
        app.sync().await.unwrap();
        let r = get(&router, &path, &[]).await;
        assert_eq!(r.status, 200);
        let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        ninjs_valid(&doc);
        assert_eq!(doc["pubstatus"], ninjs);
        assert!(doc["version"].as_str().unwrap().parse::<i64>().unwrap() > story.version);
        assert!(!r.body.contains(story.headline.as_str()));
        let r = get(
            &router,
            &format!("/api/v1/stories/{}.newsml.xml", first.id),
            &[],
        )
        .await;
        g2_valid(&r.body, ninjs);
        assert!(r.body.contains(qcode));
        assert!(!r.body.contains(story.headline.as_str()));
    }
    // A story killed before anyone could see it stays unknown.
    let draft = hidden
        .iter()
        .find(|c| c.status == StoryStatus::Draft)
        .unwrap();
    let current = store.get_story(draft.id).await.unwrap();
    let mut input = current.input.clone();
    input.status = StoryStatus::Killed;
    store
        .update_story(draft.id, current.version, &input)
        .await
        .unwrap();
    let r = get(
        &router,
        &format!("/api/v1/stories/{}.ninjs.json", draft.id),
        &[],
    )
    .await;
    assert_eq!(r.status, 404);
}
