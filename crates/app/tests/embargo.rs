//! Embargo on every surface readers reach besides the site's pages: search, a newsletter digest
//! and a breaking-news alert. An embargoed story is in none of them in the last second of its
//! embargo, and in each from the second it ends (a manual clock; mail kept in memory).
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::newsletter::{MakeDigest, NewsletterSettings, SubscribeForm};
use newsdesk_app::search::{SearchRequest, SearchSettings};
use newsdesk_app::{App, AppError, SiteConfig};
use newsdesk_domain::*;
use newsdesk_mail::MemoryMailer;
use newsdesk_store::Store;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

struct Room {
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    mail: Arc<MemoryMailer>,
    editor: User,
    _dir: tempfile::TempDir,
}

async fn room() -> Room {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 10,
            now: t0(),
            seed: 3,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let site = SiteConfig {
        name: "The Daily Planet".into(),
        base_url: "https://planet.example".into(),
        ..SiteConfig::default()
    };
    let app = App::load(store.clone(), clock.clone(), site).await.unwrap();
    let mail = Arc::new(MemoryMailer::new());
    app.set_mailer(mail.clone());
    app.set_newsletter(
        NewsletterSettings {
            max_per_second: 1000,
            ..NewsletterSettings::default()
        },
        b"a test key of enough length, 32+".to_vec(),
    );
    let dir = tempfile::tempdir().unwrap();
    app.attach_search(dir.path().join("search"), SearchSettings::default())
        .unwrap();
    app.build_search_index(&|_, _| {}).await.unwrap();
    app.sync().await.unwrap();
    let editor = app
        .add_user(
            "ed@example.org",
            "Ed",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    Room {
        app,
        store,
        clock,
        mail,
        editor,
        _dir: dir,
    }
}

async fn found(app: &App, text: &str) -> Vec<StoryId> {
    let r = app
        .search(&SearchRequest {
            text: text.into(),
            page: 1,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    r.hits.iter().map(|h| h.card.id).collect()
}

/// The plain texts of the mails sent since the last call.
fn mails(r: &Room) -> Vec<String> {
    r.mail.take().into_iter().map(|m| m.text).collect()
}

#[tokio::test]
async fn an_embargoed_story_reaches_search_digests_and_alerts_only_from_its_second() {
    let r = room().await;
    let app = &r.app;
    // A reader who wants daily digests of every edition and breaking news.
    app.subscribe(
        &SubscribeForm {
            email: "reader@example.org".into(),
            editions: vec![],
            sectors: vec![],
            frequency: "daily".into(),
            breaking: true,
            source: "/".into(),
        },
        "10.0.0.1",
    )
    .await
    .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let confirm = mails(&r).concat();
    let at = confirm.find("/newsletter/confirm?t=").unwrap();
    let token: String = confirm[at + "/newsletter/confirm?t=".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>')
        .collect();
    app.confirm_subscription(&token).await.unwrap();

    // Published an hour ago under an embargo that ends at 09:30:00.
    let ends = t0() + Duration::minutes(30);
    let any = r.store.list_published_cards().await.unwrap()[0].id;
    let mut input = r.store.get_story(any).await.unwrap().input;
    input.headline = Headline::parse("Zephyrine glacier survey").unwrap();
    input.slug = Slug::parse("zephyrine-glacier-survey").unwrap();
    input.body_html = "<p>The zephyrine survey of the glacier.</p>".into();
    input.status = StoryStatus::Published;
    input.published_at = Some(t0() - Duration::hours(1));
    input.embargo_until = Some(ends);
    let id = r.store.insert_story(&input).await.unwrap().id;
    let global = app.read().tax.global().unwrap().id;
    let digest = |day: u32| MakeDigest {
        edition: global,
        frequency: Frequency::Daily,
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
    };

    // 09:29:59: in none of them.
    r.clock.set(ends - Duration::seconds(1));
    app.sync().await.unwrap();
    assert!(found(app, "zephyrine").await.is_empty(), "search");
    let early = app.make_digest(&digest(20)).await.unwrap();
    assert!(!r
        .store
        .get_digest(early)
        .await
        .unwrap()
        .stories
        .contains(&id));
    assert!(matches!(
        app.send_breaking_alert(&r.editor, id).await,
        Err(AppError::Conflict(_))
    ));
    app.run_jobs_until_idle().await.unwrap();
    let sent = mails(&r);
    assert_eq!(sent.len(), 1, "the early digest");
    assert!(!sent[0].contains("Zephyrine"), "{}", sent[0]);

    // 09:30:00: in each.
    r.clock.set(ends);
    app.sync().await.unwrap();
    assert_eq!(found(app, "zephyrine").await, [id], "search");
    let on_time = app.make_digest(&digest(21)).await.unwrap();
    assert!(r
        .store
        .get_digest(on_time)
        .await
        .unwrap()
        .stories
        .contains(&id));
    app.send_breaking_alert(&r.editor, id).await.unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let sent = mails(&r);
    assert_eq!(sent.len(), 2, "the digest and the alert");
    assert!(
        sent.iter().all(|m| m.contains("Zephyrine glacier survey")),
        "{sent:?}"
    );
}
