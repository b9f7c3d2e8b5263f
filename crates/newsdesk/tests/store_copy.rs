//! `newsdesk store copy`: the demo site (with accounts, agency copy and a session) copied from
//! SQLite into another SQLite file by the command, and into PostgreSQL (when
//! `NEWSDESK_TEST_DATABASE_URL` is set) by the same copy; the target has the same rows, serves a
//! story page byte for byte as the source does, and logs in with the same password.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::copy::{copy_site, CopyOptions, TableCopy};
use newsdesk_store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("NEWSDESK_") {
            c.env_remove(k);
        }
    }
    c.env("NEWSDESK_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("newsdesk-copy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn app(store: Arc<dyn Store>) -> Arc<App> {
    App::load(
        store,
        Arc::new(ManualClock::new(t0())),
        SiteConfig::default(),
    )
    .await
    .unwrap()
}

/// The demo site with an editor, agency copy, and a live session (which is not copied).
async fn source(dir: &Path) -> Arc<newsdesk_store_sqlite::SqliteStore> {
    let store = Arc::new(newsdesk_store_sqlite::SqliteStore::open(&dir.join("src.db")).unwrap());
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 12,
            now: t0(),
            seed: 3,
            media_dir: dir.join("media"),
        },
    )
    .await
    .unwrap();
    let a = app(store.clone()).await;
    a.add_user("ed@example.org", "Ed", Role::Editor, PASSWORD)
        .await
        .unwrap();
    a.ingest(newsdesk_demo::wire_items(t0())).await.unwrap();
    assert!(matches!(
        a.login("ed@example.org", PASSWORD, "127.0.0.1")
            .await
            .unwrap(),
        newsdesk_app::auth::LoginStep::Done(_)
    ));
    store
}

async fn page(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, String::from_utf8_lossy(&raw).into_owned())
}

/// The target holds the source's site: stories, clusters, accounts (the password works), no
/// sessions, and a story page that reads the same.
async fn same_site(src: Arc<dyn Store>, dst: Arc<dyn Store>, media: &Path) {
    assert_eq!(
        src.count_stories().await.unwrap(),
        dst.count_stories().await.unwrap()
    );
    let q = WireQuery {
        limit: 500,
        ..Default::default()
    };
    assert_eq!(
        src.list_clusters(&q).await.unwrap(),
        dst.list_clusters(&q).await.unwrap()
    );
    let cards = src.list_published_cards().await.unwrap();
    let story = cards.first().unwrap();
    let (a, b) = (app(src.clone()).await, app(dst.clone()).await);
    let ra = newsdesk_web::router(newsdesk_web::WebState::new(a.clone(), media.to_owned()));
    let rb = newsdesk_web::router(newsdesk_web::WebState::new(b.clone(), media.to_owned()));
    let path = format!("/article/{}", story.slug);
    let (sa, pa) = page(&ra, &path).await;
    let (sb, pb) = page(&rb, &path).await;
    assert_eq!((sa, sb), (StatusCode::OK, StatusCode::OK), "{path}");
    assert!(pa.contains(story.headline.as_str()));
    assert_eq!(pa, pb, "the story page reads the same");
    assert_eq!(page(&ra, "/").await, page(&rb, "/").await, "home page");
    assert!(matches!(
        b.login("ed@example.org", PASSWORD, "127.0.0.1")
            .await
            .unwrap(),
        newsdesk_app::auth::LoginStep::Done(_)
    ));
    // New rows follow the copied ones (ids are not reused).
    b.ingest(vec![WireItem {
        agency: "Agency Z".into(),
        agency_id: "z-1".into(),
        version: 1,
        headline: "A new item after the move".into(),
        body_html: "<p>Something new happened somewhere else entirely.</p>".into(),
        ..newsdesk_demo::wire_items(t0()).remove(0)
    }])
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_site_copies_to_another_sqlite_file_by_the_command() {
    let dir = temp_dir("sqlite");
    let src = source(&dir).await;
    let dst_path = dir.join("dst.db");
    let out = bin()
        .arg("store")
        .arg("copy")
        .arg("--from")
        .arg(format!("sqlite:{}", dir.join("src.db").display()))
        .arg("--to")
        .arg(format!("sqlite:{}", dst_path.display()))
        .arg("--batch")
        .arg("7")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("the copy checks out"), "{said}");
    assert!(
        said.contains("sessions"),
        "sessions reported as not copied: {said}"
    );
    let dst = Arc::new(newsdesk_store_sqlite::SqliteStore::open(&dst_path).unwrap());
    same_site(src.clone(), dst.clone(), &dir.join("media")).await;
    // Never into a site with content, unless asked to replace it.
    let again = bin()
        .arg("store")
        .arg("copy")
        .arg("--from")
        .arg(format!("sqlite:{}", dir.join("src.db").display()))
        .arg("--to")
        .arg(format!("sqlite:{}", dst_path.display()))
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_site_copies_to_postgres_and_checks_out() {
    let Some(pg) = newsdesk_store_postgres::temp_store().await.unwrap() else {
        newsdesk_store_postgres::say_skipped("copying a site to PostgreSQL");
        return;
    };
    let dir = temp_dir("postgres");
    let src = source(&dir).await;
    let options = CopyOptions {
        batch: 7,
        ..Default::default()
    };
    let report = copy_site(&*src, &*pg, &options, &mut ()).await.unwrap();
    assert!(report.ok(), "{report:#?}");
    assert!(report.sampled > 50, "{report:#?}");
    assert!(report.dropped_columns.is_empty(), "{report:#?}");
    let sessions = report
        .skipped
        .iter()
        .find(|(t, _)| t == "sessions")
        .unwrap();
    assert_eq!(sessions.1, 1, "the session stayed behind");
    assert!(
        report
            .tables
            .iter()
            .any(|(t, n, _)| t == "wire_items" && *n > 0),
        "{report:#?}"
    );
    // A second copy is refused; with replace it empties the target first and checks out again.
    let refused = copy_site(&*src, &*pg, &options, &mut ()).await.unwrap_err();
    assert!(refused.to_string().contains("not empty"), "{refused}");
    let again = CopyOptions {
        replace: true,
        ..options
    };
    assert!(copy_site(&*src, &*pg, &again, &mut ()).await.unwrap().ok());
    assert_eq!(pg.kind(), "postgres");
    same_site(src.clone(), pg.clone(), &dir.join("media")).await;
    // And back: PostgreSQL as the source, read a batch of 7 at a time along each table's
    // primary key (composite ones included), into a new SQLite file.
    let back = Arc::new(newsdesk_store_sqlite::SqliteStore::open(&dir.join("back.db")).unwrap());
    let report = copy_site(&*pg, &*back, &options, &mut ()).await.unwrap();
    assert!(report.ok(), "{report:#?}");
    let tags = report.tables.iter().find(|(t, _, _)| t == "story_tags");
    assert!(tags.is_some_and(|(_, n, _)| *n > 7), "{report:#?}");
    same_site(pg.clone(), back.clone(), &dir.join("media")).await;
    let _ = std::fs::remove_dir_all(&dir);
}
