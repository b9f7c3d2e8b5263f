//! Agency sources against a hostile server on loopback: each bad source ends with a clear error
//! on its health record, in bounded time, while a healthy source keeps working.
#![allow(clippy::unwrap_used)]

use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_fetch::hostile::HostileServer;
use newsdesk_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn hostile_sources_fail_cleanly_and_healthy_ones_keep_working() {
    let server = HostileServer::start().await.unwrap();
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    let now = SystemClock.now();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 3,
            now,
            seed: 4,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let app = App::load(store.clone(), Arc::new(SystemClock), SiteConfig::default())
        .await
        .unwrap();
    app.set_fetch_policy(newsdesk_fetch::FetchPolicy {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(3),
        idle_timeout: Duration::from_secs(1),
        low_speed_limit: 100,
        low_speed_window: Duration::from_secs(1),
        max_body: 2 * 1024 * 1024,
        ..Default::default()
    });
    let admin = app
        .add_user(
            "admin@example.org",
            "A",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let editor = app
        .add_user(
            "ed@example.org",
            "E",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    assert!(
        app.add_source(&editor, "X", &server.url("/ok"), 15, true)
            .await
            .is_err(),
        "admins add sources"
    );
    assert!(app
        .add_source(&admin, "X", "file:///etc/passwd", 15, true)
        .await
        .is_err());
    let cases = [
        ("Healthy", "/ok", None),
        ("Drip", "/slow-drip", Some("slow")),
        ("Endless", "/endless", Some("large")),
        ("Bomb", "/gzip-bomb", Some("large")),
        ("Loop", "/redirect-loop", Some("redirect")),
        ("Private", "/redirect-private", Some("private")),
        ("Laughs", "/billion-laughs", Some("could not be read")),
        ("Xxe", "/xxe", Some("could not be read")),
        ("Limited", "/429", Some("retry after")),
        ("Image", "/wrong-type", Some("image")),
    ];
    let mut ids = Vec::new();
    for (name, path, _) in &cases {
        let (src, token) = app
            .add_source(&admin, name, &server.url(path), 15, true)
            .await
            .unwrap();
        assert_eq!(token.len(), 48);
        ids.push(src.id);
    }
    let started = Instant::now();
    assert_eq!(app.poll_due_sources().await.unwrap(), cases.len());
    // Queued once: a second look while they wait queues nothing more.
    assert_eq!(app.poll_due_sources().await.unwrap(), 0);
    let round = app.run_jobs_until_idle().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "bounded: {:?}",
        started.elapsed()
    );
    // Every poll ran once and succeeded as a job (a failing feed is the source's health, not
    // the job's); the healthy feed's copy also queued summary drafts, run in the same rounds.
    assert_eq!(round.claimed, round.done);
    let polls = store
        .list_jobs(Some(newsdesk_domain::JobState::Done), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "poll_source")
        .count();
    assert_eq!(polls, cases.len());
    let sources = app.sources(&editor).await.unwrap();
    for ((name, _, want), id) in cases.iter().zip(&ids) {
        let s = sources.iter().find(|s| s.id == *id).unwrap();
        match want {
            None => {
                assert!(
                    s.last_success_at.is_some(),
                    "{name} works: {:?}",
                    s.last_error
                );
                assert!(s.items_last_day > 0, "{name} brought items");
            }
            Some(word) => {
                let err = s.last_error.clone().unwrap_or_default().to_lowercase();
                assert!(
                    err.contains(word),
                    "{name}: {err:?} should mention {word:?}"
                );
                assert_eq!(s.failures, 1);
                assert!(s.next_poll_at > SystemClock.now(), "{name} is backed off");
            }
        }
    }
    let limited = sources.iter().find(|s| s.name == "Limited").unwrap();
    assert!(
        limited.next_poll_at >= SystemClock.now() + chrono::Duration::seconds(110),
        "Retry-After is honoured"
    );
    // Nothing is due right after; the healthy source is polled again at its interval.
    assert_eq!(app.poll_due_sources().await.unwrap(), 0);
    // Pushes need the source's token.
    let (push_src, token) = app
        .add_source(&admin, "Pusher", "", 15, false)
        .await
        .unwrap();
    let ninjs = br#"{"uri":"urn:pusher:1","version":"1","headline":"Pushed story about floods in Kenya","body_text":"Text.","pubstatus":"usable"}"#;
    assert!(matches!(
        app.push(push_src.id, "wrong", ninjs, Some("application/json"))
            .await,
        Err(newsdesk_app::AppError::Forbidden)
    ));
    let r = app
        .push(push_src.id, &token, ninjs, Some("application/json"))
        .await
        .unwrap();
    assert_eq!(r.new, 1);
    assert!(matches!(
        app.push(push_src.id, &token, b"{not json", Some("application/json"))
            .await,
        Err(newsdesk_app::AppError::Invalid(_))
    ));

    // A new token: the old one stops working at once, the new one works.
    assert!(matches!(
        app.new_source_token(&editor, push_src.id).await,
        Err(newsdesk_app::AppError::Forbidden)
    ));
    let fresh = app.new_source_token(&admin, push_src.id).await.unwrap();
    assert_ne!(fresh, token);
    let second = br#"{"uri":"urn:pusher:2","version":"1","headline":"Second pushed story","body_text":"More text.","pubstatus":"usable"}"#;
    assert!(matches!(
        app.push(push_src.id, &token, second, Some("application/json"))
            .await,
        Err(newsdesk_app::AppError::Forbidden)
    ));
    assert_eq!(
        app.push(push_src.id, &fresh, second, Some("application/json"))
            .await
            .unwrap()
            .new,
        1
    );
    let (health, per_day) = app.source_health(&editor, push_src.id, 7).await.unwrap();
    assert_eq!(per_day.len(), 7);
    assert_eq!(per_day[0], 2, "both pushes today: {per_day:?}");
    assert!(health.last_success_at.is_some());

    // Settings: checked like a new source; switching a source off refuses its pushes.
    let healthy = ids[0];
    for (url, minutes, field) in [
        ("ftp://x.example/feed", 15, "url"),
        (&*server.url("/ok"), 0, "poll_minutes"),
        (&*server.url("/ok"), 2000, "poll_minutes"),
    ] {
        match app
            .update_source(&admin, healthy, url, minutes, true, "")
            .await
        {
            Err(newsdesk_app::AppError::Invalid(errs)) => {
                assert_eq!(errs[0].field, field, "{url} {minutes}")
            }
            other => panic!("{url} {minutes}: {other:?}"),
        }
    }
    assert!(matches!(
        app.update_source(&editor, healthy, &server.url("/ok"), 5, true, "")
            .await,
        Err(newsdesk_app::AppError::Forbidden)
    ));
    let off = app
        .update_source(&admin, push_src.id, "", 30, false, "")
        .await
        .unwrap();
    assert_eq!((off.poll_minutes, off.enabled), (30, false));
    let third = br#"{"uri":"urn:pusher:3","version":"1","headline":"Third","body_text":"x","pubstatus":"usable"}"#;
    assert!(matches!(
        app.push(push_src.id, &fresh, third, Some("application/json"))
            .await,
        Err(newsdesk_app::AppError::Conflict(_))
    ));
    assert!(
        matches!(
            app.push(push_src.id, "wrong", third, Some("application/json"))
                .await,
            Err(newsdesk_app::AppError::Forbidden)
        ),
        "a wrong token is refused as such, on or off"
    );
    // Poll now, whatever the schedule: the healthy feed answers at once; a push-only source
    // has nothing to poll.
    let polled = app.poll_source_now(&admin, healthy).await.unwrap();
    assert!(polled.is_ok(), "{polled:?}");
    assert!(matches!(
        app.poll_source_now(&admin, push_src.id).await,
        Err(newsdesk_app::AppError::Conflict(_))
    ));
    // Auto-publish rules name real sectors and editions.
    let bad = newsdesk_domain::AutoPublish {
        sectors: vec!["no-such-sector".into()],
        max_urgency: Some(2),
        editions: vec![],
    };
    assert!(matches!(
        app.set_auto_publish(&admin, healthy, Some(bad)).await,
        Err(newsdesk_app::AppError::Invalid(_))
    ));
    let bad = newsdesk_domain::AutoPublish {
        sectors: vec![],
        max_urgency: Some(0),
        editions: vec![],
    };
    assert!(matches!(
        app.set_auto_publish(&admin, healthy, Some(bad)).await,
        Err(newsdesk_app::AppError::Invalid(_))
    ));
}

/// An agency feed over HTTPS under a private CA: refused as untrusted until the source is given
/// that CA, then read; a pasted key or garbage is refused as a CA.
#[tokio::test]
async fn a_source_under_a_private_ca_is_trusted_once_given_its_ca() {
    let feed = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Private Agency</title><link>https://agency.test/</link>
<description>Wire behind a private CA</description>
<item><title>Harbour reopens in Mombasa after the storm</title><guid>private-1</guid>
<description>The port of Mombasa in Kenya reopened on Friday.</description></item>
</channel></rss>"#;
    let server = newsdesk_fetch::hostile::TlsFeedServer::start(feed, "application/rss+xml")
        .await
        .unwrap();
    let store: Arc<dyn Store> = newsdesk_store_sqlite::temp_store().unwrap();
    let app = App::load(store.clone(), Arc::new(SystemClock), SiteConfig::default())
        .await
        .unwrap();
    let admin = app
        .add_user(
            "admin@example.org",
            "A",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let (src, _) = app
        .add_source(&admin, "Private Agency", &server.url("/feed"), 15, true)
        .await
        .unwrap();
    let first = app.poll_source_now(&admin, src.id).await.unwrap();
    let err = first.unwrap_err();
    assert!(err.contains("not trusted"), "{err}");
    for bad in [
        "not a certificate",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----",
    ] {
        match app
            .update_source(&admin, src.id, &server.url("/feed"), 15, true, bad)
            .await
        {
            Err(newsdesk_app::AppError::Invalid(errs)) => assert_eq!(errs[0].field, "ca_pem"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let updated = app
        .update_source(
            &admin,
            src.id,
            &server.url("/feed"),
            15,
            true,
            server.ca_pem(),
        )
        .await
        .unwrap();
    assert_eq!(updated.ca_pem.as_deref(), Some(server.ca_pem().trim()));
    let report = app.poll_source_now(&admin, src.id).await.unwrap().unwrap();
    assert_eq!(report.new, 1, "the feed is read once its CA is trusted");
    let health = app.source_health(&admin, src.id, 1).await.unwrap().0;
    assert_eq!(health.failures, 0);
}

/// The poller hands the response's `Content-Language` to the parser: a feed that names no
/// language of its own gets the header's.
#[tokio::test]
async fn polling_passes_the_content_language_to_the_parser() {
    let server = HostileServer::start().await.unwrap();
    let store: Arc<dyn Store> = newsdesk_store_sqlite::temp_store().unwrap();
    let app = App::load(store.clone(), Arc::new(SystemClock), SiteConfig::default())
        .await
        .unwrap();
    let admin = app
        .add_user(
            "admin@example.org",
            "A",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let (src, _) = app
        .add_source(&admin, "Swiss", &server.url("/content-language"), 15, true)
        .await
        .unwrap();
    let report = app.poll_source_now(&admin, src.id).await.unwrap().unwrap();
    assert_eq!(report.new, 1);
    let query = WireQuery {
        language: Some("de-CH".into()),
        ..WireQuery::default()
    };
    let clusters = app.wire_inbox(&admin, &query).await.unwrap();
    assert_eq!(clusters.len(), 1, "the item carries the header's language");
}
