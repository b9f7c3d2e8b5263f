//! The reader's `/search` page and `/opensearch.xml`, over a real SQLite store with demo
//! content and a real index.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::search::SearchSettings;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

fn now0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
}

struct Site {
    router: Router,
    app: Arc<App>,
    state: Arc<newsdesk_web::WebState>,
}

async fn site(search: bool) -> Site {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let dir = store.path().parent().unwrap().to_owned();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 60,
            now: now0(),
            seed: 5,
            media_dir: dir.join("media"),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(now0()));
    let cfg = SiteConfig {
        base_url: "https://news.example".into(),
        ..SiteConfig::default()
    };
    let app = App::load(store, clock, cfg).await.unwrap();
    if search {
        let settings = SearchSettings {
            per_page: 2,
            ..SearchSettings::default()
        };
        app.attach_search(dir.join("search"), settings).unwrap();
        app.build_search_index(&|_, _| {}).await.unwrap();
        app.sync().await.unwrap();
        assert!(app.search_ready());
    }
    let state = newsdesk_web::WebState::new(app.clone(), dir.join("media"));
    Site {
        router: newsdesk_web::router(state.clone()),
        app,
        state,
    }
}

struct Res {
    status: StatusCode,
    content_type: String,
    body: String,
}

async fn get(r: &Router, path: &str) -> Res {
    let req = Request::builder()
        .uri(path)
        .header("user-agent", "Mozilla/5.0 Firefox/130.0")
        .body(Body::empty())
        .unwrap();
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res {
        status,
        content_type,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

/// The most frequent long word of the public stories' summaries (found in several stories).
fn common_word(app: &App) -> String {
    let snap = app.read();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in snap.all_public(app.now()) {
        let mut seen = std::collections::HashSet::new();
        for w in c.summary.split(|ch: char| !ch.is_alphabetic()) {
            let w = w.to_lowercase();
            if w.len() >= 6 && seen.insert(w.clone()) {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.first().unwrap().0.clone()
}

#[tokio::test]
async fn search_finds_marks_pages_and_is_never_cached() {
    let s = site(true).await;
    let word = common_word(&s.app);
    let r = get(&s.router, &format!("/search?q={word}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.content_type.starts_with("text/html"));
    assert!(r.body.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(r.body.contains("<mark>"), "{}", r.body);
    assert!(r.body.contains("/article/"));
    assert!(r.body.contains("stories found"));
    // Two per page here, and the word is in several stories: a next page, kept filters.
    assert!(r.body.contains(r#"rel="next""#), "{}", r.body);
    let r2 = get(&s.router, &format!("/search?q={word}&page=2&sort=newest")).await;
    assert_eq!(r2.status, StatusCode::OK);
    assert!(r2.body.contains(r#"rel="prev""#));
    assert!(r2.body.contains("sort=newest"));
    // The same on an edition, its form pointing at its own search.
    let edition = {
        let snap = s.app.read();
        snap.tax
            .editions
            .iter()
            .find(|e| !e.is_global())
            .unwrap()
            .slug
            .to_string()
    };
    let r = get(
        &s.router,
        &format!("/{edition}/search?q={word}&edition=global"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(&format!(r#"action="/{edition}/search""#)));
    // Every page has the menu's form and the OpenSearch link; only search says noindex.
    let home = get(&s.router, "/").await;
    assert!(home.body.contains(r#"action="/search""#));
    assert!(home
        .body
        .contains(r#"type="application/opensearchdescription+xml""#));
    assert!(!home.body.contains("noindex"));
    // Distinct queries do not fill the page cache.
    let before = s.state.cache.len();
    for i in 0..40 {
        let r = get(&s.router, &format!("/search?q={word}+x{i}")).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(s.state.cache.len(), before);
}

#[tokio::test]
async fn notices_are_told_and_bad_queries_never_fail() {
    let s = site(true).await;
    let r = get(&s.router, "/search?q=zzqqxxnothing").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Nothing found"), "{}", r.body);
    let r = get(
        &s.router,
        "/search?q=news&sector=no-such-sector&from=2020-13-01",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("is not known"));
    assert!(r.body.contains("is not a date"));
    let r = get(&s.router, "/search").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(r#"role="search""#));
    let long = "word%20".repeat(1500);
    let xss = get(&s.router, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(xss.status, StatusCode::OK);
    assert!(!xss.body.contains("<script>alert"));
    for q in [
        "q=%22unbalanced",
        "q=AND+OR",
        "q=NOT+-+%22%22+()",
        "q=%00%01%1F%7F",
        "q=%FF%FE",
        "q=a&q=b&page=0",
        "q=x&page=99999999999999999999",
        "q=title:x+*+?+~2+^3",
        "q=x&from=2026-01-02&to=2020-01-01",
        "q=x&kind=%00&edition=..&author=%2F",
        &format!("q={long}"),
    ] {
        let r = get(&s.router, &format!("/search?{q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn without_an_index_search_says_it_is_being_prepared() {
    let s = site(false).await;
    let r = get(&s.router, "/search?q=news").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Search is being prepared"), "{}", r.body);
    assert!(!r.body.contains("Nothing found"));
}

#[tokio::test]
async fn opensearch_describes_the_site_search() {
    let s = site(false).await;
    let r = get(&s.router, "/opensearch.xml").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .content_type
        .starts_with("application/opensearchdescription+xml"));
    assert!(r
        .body
        .contains(r#"template="https://news.example/search?q={searchTerms}""#));
    assert!(r.body.contains("http://a9.com/-/spec/opensearch/1.1/"));
}

/// The body of `path` asked with `Accept-Encoding: gzip`, decompressed, and whether it came
/// gzipped.
async fn get_gzip(r: &Router, path: &str) -> (String, bool) {
    let req = Request::builder()
        .uri(path)
        .header("user-agent", "Mozilla/5.0 Firefox/130.0")
        .header("accept-encoding", "gzip, deflate, br")
        .body(Body::empty())
        .unwrap();
    let res = r.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let gz = res
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    let mut out = String::new();
    if gz {
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
            .unwrap();
    } else {
        out = String::from_utf8(raw).unwrap();
    }
    (out, gz)
}

#[tokio::test]
async fn a_gzipped_results_page_is_joined_from_shared_pieces_and_reads_the_same() {
    // Gzipped, a results page is its own part compressed now, joined with the edition's rail
    // and footer compressed once; the text is the page made whole, byte for byte.
    let s = site(true).await;
    let word = common_word(&s.app);
    let edition = {
        let snap = s.app.read();
        let e = snap.tax.editions.iter().find(|e| !e.is_global()).unwrap();
        e.slug.to_string()
    };
    let paths = [
        format!("/search?q={word}"),
        format!("/search?q={word}+{word}&page=2"),
        format!("/search?q=%22{word}%22&sort=newest"),
        "/search?q=nothingsuchword".to_owned(),
        "/search".to_owned(),
        "/search?q=%3C%21--newsdesk%3Asearch-rail--%3E".to_owned(),
        "/search?q=a&from=notadate".to_owned(),
        format!("/{edition}/search?q={word}"),
    ];
    for p in &paths {
        let (joined, gz) = get_gzip(&s.router, p).await;
        let whole = get(&s.router, p).await;
        assert!(gz, "{p}");
        assert_eq!(joined, whole.body, "{p}");
        assert!(joined.contains(r#"<meta name="robots" content="noindex">"#));
        assert!(joined.trim_end().ends_with("</html>"), "{p}");
    }
    // Each edition's footer was compressed once (above); more searches compress it no more.
    let made = newsdesk_web::search::feet_made();
    for i in 0..10 {
        get_gzip(&s.router, &format!("/search?q={word}+x{i}")).await;
        get_gzip(&s.router, &format!("/{edition}/search?q={word}+x{i}")).await;
    }
    assert_eq!(newsdesk_web::search::feet_made(), made);
}
