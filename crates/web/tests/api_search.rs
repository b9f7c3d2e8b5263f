//! `GET /api/v1/search`: the `/search` page's use case as JSON, over a real SQLite store and a
//! real index. A story is found once published, an embargoed one from its second and not
//! before, a draft never; highlights, pages and filters; bad queries are 4xx problems.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::search::SearchSettings;
use newsdesk_app::{App, SiteConfig, StoryForm};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;
use tower::ServiceExt;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
}

struct Site {
    router: Router,
    app: Arc<App>,
    clock: Arc<ManualClock>,
    editor: User,
}

async fn site(search: bool) -> Site {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let dir = store.path().parent().unwrap().to_owned();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 30,
            now: t0(),
            seed: 9,
            media_dir: dir.join("media"),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let cfg = SiteConfig {
        base_url: "https://news.example".into(),
        ..SiteConfig::default()
    };
    let app = App::load(store, clock.clone(), cfg).await.unwrap();
    if search {
        let settings = SearchSettings {
            per_page: 2,
            max_pages: 5,
            ..SearchSettings::default()
        };
        app.attach_search(dir.join("search"), settings).unwrap();
        app.build_search_index(&|_, _| {}).await.unwrap();
        app.sync().await.unwrap();
        assert!(app.search_ready());
    }
    let editor = app
        .add_user(
            "editor@example.org",
            "",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    let state = newsdesk_web::WebState::new(app.clone(), dir.join("media"));
    Site {
        router: newsdesk_web::router(state),
        app,
        clock,
        editor,
    }
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_eq!(self.json()["status"], status.as_u16());
    }

    fn ids(&self) -> Vec<i64> {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.json()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect()
    }
}

async fn get(r: &Router, path: &str) -> Res {
    let res = r
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
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

fn form(headline: &str, body: &str) -> StoryForm {
    StoryForm {
        headline: headline.into(),
        summary: "A summary.".into(),
        body_md: body.into(),
        kind: "news".into(),
        sector: "health".into(),
        ..StoryForm::default()
    }
}

/// Makes a story and takes it through review to publication (or leaves it a draft).
async fn story(s: &Site, f: &StoryForm, publish: bool) -> Story {
    let st = s.app.create_story(&s.editor, f).await.unwrap();
    if !publish {
        return st;
    }
    let st = s
        .app
        .transition(&s.editor, st.id, st.version, Transition::Submit, None)
        .await
        .unwrap();
    s.app
        .transition(&s.editor, st.id, st.version, Transition::Publish, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn found_after_publication_embargoed_from_its_second_drafts_never() {
    let s = site(true).await;
    // Nothing yet.
    assert!(get(&s.router, "/api/v1/search?q=quuxalot")
        .await
        .ids()
        .is_empty());

    let open = story(
        &s,
        &form(
            "Harbour quuxalot reopens",
            "The quuxalot of the \\<harbour\\> & more.",
        ),
        true,
    )
    .await;
    let draft = story(&s, &form("Draft quuxalot", "A quuxalot draft."), false).await;
    let mut f = form("Embargoed quuxalot", "An embargoed quuxalot study.");
    let until = t0() + Duration::hours(1);
    f.embargo_until = until.format("%Y-%m-%dT%H:%M").to_string();
    let emb = story(&s, &f, true).await;
    s.app.sync().await.unwrap();

    let r = get(&s.router, "/api/v1/search?q=quuxalot&order=newest").await;
    assert_eq!(r.ids(), vec![open.id.0], "{}", r.body);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let j = r.json();
    assert_eq!(j["total"], 1);
    assert_eq!(j["more"], false, "one story found is all there is");
    assert_eq!(
        (j["page"].as_u64(), j["pages"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(j["next_page"].is_null());
    let hit = &j["hits"][0];
    assert_eq!(hit["slug"], open.slug.to_string());
    assert_eq!(
        hit["url"],
        format!("https://news.example/article/{}", open.slug)
    );
    assert_eq!(hit["headline"], open.headline.to_string());
    // The snippet is plain text; its HTML form is escaped with the match marked, and the
    // highlight's character offsets point at the word.
    let snippet = hit["snippet"].as_str().unwrap();
    let html = hit["snippet_html"].as_str().unwrap();
    assert!(snippet.contains("<harbour> &"), "{snippet}");
    assert!(html.contains("<mark>quuxalot</mark>"), "{html}");
    assert!(html.contains("&lt;harbour&gt; &amp;"), "{html}");
    let h = &hit["highlights"][0];
    let (a, b) = (h["start"].as_u64().unwrap(), h["end"].as_u64().unwrap());
    let chars: String = snippet
        .chars()
        .skip(a as usize)
        .take((b - a) as usize)
        .collect();
    assert_eq!(chars.to_lowercase(), "quuxalot");
    // The ETag answers 304.
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let again = s
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri("/api/v1/search?q=quuxalot&order=newest")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // The embargo holds to its second, with nothing synced in between: the query decides.
    s.clock.set(until - Duration::seconds(1));
    let before = get(&s.router, "/api/v1/search?q=quuxalot").await;
    assert!(!before.ids().contains(&emb.id.0));
    assert!(!before.body.contains("Embargoed"), "{}", before.body);
    s.clock.set(until);
    let at = get(&s.router, "/api/v1/search?q=quuxalot").await.ids();
    assert!(at.contains(&emb.id.0), "{at:?}");
    assert!(at.contains(&open.id.0));
    // The draft never.
    assert!(!at.contains(&draft.id.0));
    s.app.sync().await.unwrap();
    for q in ["quuxalot", "draft", "Draft+quuxalot"] {
        let r = get(&s.router, &format!("/api/v1/search?q={q}")).await;
        assert!(!r.ids().contains(&draft.id.0), "{q}: {}", r.body);
    }
    // Unpublished: gone at once.
    let ed = s.editor.clone();
    let cur = s.app.story_for_edit(&ed, open.id).await.unwrap();
    s.app
        .transition(&ed, open.id, cur.version, Transition::Unpublish, None)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert_eq!(
        get(&s.router, "/api/v1/search?q=quuxalot").await.ids(),
        vec![emb.id.0]
    );
}

#[tokio::test]
async fn filters_pages_and_bad_queries() {
    let s = site(true).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut f = form(&format!("Zebrafish report {i}"), "Zebrafish in the lab.");
        if i == 4 {
            f.sector = "politics".into();
        }
        ids.push(story(&s, &f, true).await.id.0);
    }
    s.app.sync().await.unwrap();
    // Two a page: three pages, walked by next_page.
    let mut seen = Vec::new();
    let mut page = Some(1u64);
    while let Some(p) = page {
        let r = get(&s.router, &format!("/api/v1/search?q=zebrafish&page={p}")).await;
        seen.extend(r.ids());
        let j = r.json();
        assert_eq!(j["total"], 5);
        assert_eq!(j["pages"], 3);
        page = j["next_page"].as_u64();
    }
    seen.sort_unstable();
    assert_eq!(seen, ids);
    // The sector filter.
    assert_eq!(
        get(&s.router, "/api/v1/search?q=zebrafish&sector=politics")
            .await
            .ids(),
        vec![ids[4]]
    );
    let j = get(
        &s.router,
        "/api/v1/search?q=zebrafish&sector=health&kind=news",
    )
    .await
    .json();
    assert_eq!(j["total"], 4);
    // A day range that holds nothing.
    assert!(get(
        &s.router,
        "/api/v1/search?q=zebrafish&from=2001-01-01&to=2001-01-31"
    )
    .await
    .ids()
    .is_empty());
    // Notices of what was cut are told, with an answer.
    let long = "zebrafish+".repeat(30);
    let r = get(&s.router, &format!("/api/v1/search?q={long}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.json()["notices"].as_array().unwrap().is_empty());
    // Bad queries: problems, never a 5xx.
    for bad in [
        "",
        "q=",
        "q=%20%20",
        "q=x&bogus=1",
        "q=x&q=y",
        "q=x&page=0",
        "q=x&page=-1",
        "q=x&page=99999999999999999999",
        "q=zebrafish&page=6",
        "q=x&order=oldest",
        "q=x&from=2020-13-01",
        "q=x&from=2026-01-02&to=2020-01-01",
        "q=x&sector=no-such-sector",
        "q=x&kind=nope",
        "q=x&edition=nowhere",
        "q=x&author=nobody",
        "q=%FF%FE",
    ] {
        get(&s.router, &format!("/api/v1/search?{bad}"))
            .await
            .problem(StatusCode::BAD_REQUEST);
    }
    for odd in [
        "q=%22unbalanced",
        "q=title:x+*+?+~2+^3",
        "q=%00%01%1F%7F+zebrafish",
        "q=%3Cscript%3E",
    ] {
        let r = get(&s.router, &format!("/api/v1/search?{odd}")).await;
        assert_eq!(r.status, StatusCode::OK, "{odd}: {}", r.body);
    }
    // Only operators: no word to search for, a clear 400 (never a 5xx).
    let r = get(&s.router, "/api/v1/search?q=AND+OR+NOT").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("one or more words"), "{}", r.body);
}

#[tokio::test]
async fn without_an_index_the_answer_is_503_with_retry_after() {
    let s = site(false).await;
    let r = get(&s.router, "/api/v1/search?q=anything").await;
    r.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers.get("retry-after").is_some());
}
