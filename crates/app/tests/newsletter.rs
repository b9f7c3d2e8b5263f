//! The newsletter over a real SQLite store, a manual clock and a real SMTP server on loopback
//! (aiosmtpd, `smtp_sink.py`): double opt-in, digests, alerts, unsubscribing, suppression.
//! Needs `python3` and `pip install aiosmtpd==1.4.6`; fails (does not skip) without them.
#![allow(clippy::unwrap_used)]

#[path = "../../mail/tests/common/mod.rs"]
mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{leaves, parse, SmtpSink};
use newsdesk_app::newsletter::{MakeDigest, NewsletterSettings, SubscribeForm};
use newsdesk_app::{App, AppError, SiteConfig};
use newsdesk_domain::*;
use newsdesk_mail::{parse_mailbox, SmtpConfig, SmtpMailer, SmtpTls};
use newsdesk_store::Store;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

struct Room {
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    sink: SmtpSink,
    editor: User,
}

async fn room() -> Room {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 30,
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
    let sink = SmtpSink::start(None);
    app.set_mailer(Arc::new(
        SmtpMailer::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(sink.port),
            username: None,
            password: None,
            tls: SmtpTls::None,
            from: parse_mailbox("The Daily Planet <news@planet.example>").unwrap(),
            timeout: std::time::Duration::from_secs(10),
            pool_size: 4,
            pool_idle: std::time::Duration::from_secs(30),
        })
        .unwrap(),
    ));
    app.set_newsletter(
        NewsletterSettings {
            max_per_second: 1000,
            webhook_secret: "hook-secret".into(),
            ..NewsletterSettings::default()
        },
        b"a test key of enough length, 32+".to_vec(),
    );
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
        sink,
        editor,
    }
}

fn form(email: &str) -> SubscribeForm {
    SubscribeForm {
        email: email.into(),
        editions: vec![],
        sectors: vec![],
        frequency: "daily".into(),
        breaking: true,
        source: "/sector/health".into(),
    }
}

/// Messages in the sink right now: the sink writes a message before it answers 250, so once
/// the jobs ran every accepted one is there (no waiting). `_expected` documents the count.
fn inbox(r: &Room, _expected: usize) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(r.sink.inbox.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn text_of(raw: &[u8]) -> String {
    leaves(raw)
        .into_iter()
        .find(|p| p.content_type() == "text/plain")
        .unwrap()
        .text()
}

/// The first `https://planet.example{path}?t=…` link in a text.
fn link(text: &str, path: &str) -> String {
    let start = text
        .find(&format!("https://planet.example{path}?t="))
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '>')
        .next()
        .unwrap()
        .to_owned()
}

fn token(link: &str) -> String {
    link.split("?t=").nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn double_opt_in_then_a_digest_then_one_click_unsubscribe() {
    let r = room().await;
    let app = &r.app;
    app.subscribe(&form("Reader@Example.org"), "10.0.0.1")
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let got = inbox(&r, 1);
    assert_eq!(got.len(), 1, "only the confirmation");
    let head = parse(&got[0]);
    assert_eq!(head.header("To"), Some("reader@example.org"));
    assert_eq!(
        head.header("Subject"),
        Some("Confirm your subscription to The Daily Planet")
    );
    assert!(head
        .header("List-Unsubscribe")
        .unwrap()
        .starts_with("<https://planet.example/newsletter/unsubscribe?t="));
    assert_eq!(
        head.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let text = text_of(&got[0]);
    assert!(text.contains("daily digest"), "{text}");
    let confirm = link(&text, "/newsletter/confirm");

    // The consent is kept: what was agreed to and the form's address.
    let s = r
        .store
        .find_subscriber(&EmailAddress::parse("reader@example.org").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.status, SubscriberStatus::Pending);
    assert_eq!(s.consent_source, "https://planet.example/sector/health");
    assert!(s.consent_text.contains("breaking-news alerts"));

    // Nothing but the confirmation until the link is followed: a digest made now skips them.
    let date = t0().date_naive();
    let d0 = app
        .make_digest(&MakeDigest {
            edition: EditionId(1),
            frequency: Frequency::Daily,
            date,
        })
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    assert_eq!(inbox(&r, 1).len(), 1);
    assert_eq!(r.store.get_digest(d0).await.unwrap().total, 0);

    // A forged or altered token does nothing.
    let mut forged = token(&confirm);
    forged.replace_range(forged.len() - 2.., "00");
    assert!(matches!(
        app.confirm_subscription(&forged).await,
        Err(AppError::NotFound)
    ));
    let s = app.confirm_subscription(&token(&confirm)).await.unwrap();
    assert_eq!(s.status, SubscriberStatus::Active);
    assert_eq!(s.confirmed_at, Some(t0()));

    // The next day's digest reaches them, once, with a Message-ID made from (digest, reader).
    r.clock.set(t0() + Duration::days(1));
    let d1 = app
        .make_digest(&MakeDigest {
            edition: EditionId(1),
            frequency: Frequency::Daily,
            date: date.succ_opt().unwrap(),
        })
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let got = inbox(&r, 2);
    assert_eq!(got.len(), 2, "the digest arrived");
    let head = parse(&got[1]);
    assert!(head.header("Subject").unwrap().contains("daily digest"));
    assert_eq!(
        head.header("Message-ID").unwrap(),
        format!("<newsletter.{d1}.{}@planet.example>", s.id)
    );
    let parts = leaves(&got[1]);
    assert_eq!(parts.len(), 2, "text and HTML");
    let text = text_of(&got[1]);
    assert!(text.contains("https://planet.example/article/"), "{text}");
    let d = r.store.get_digest(d1).await.unwrap();
    assert_eq!((d.total, d.sent, d.pending), (1, 1, 0));
    assert!(d.finished_at.is_some());

    // Made again (a second scheduler, a retried job): not a second digest, no second mail.
    let again = app
        .make_digest(&MakeDigest {
            edition: EditionId(1),
            frequency: Frequency::Daily,
            date: date.succ_opt().unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(again, d1);
    app.run_jobs_until_idle().await.unwrap();
    assert_eq!(inbox(&r, 3).len(), 2);

    // Unsubscribe with the link of the List-Unsubscribe header.
    let unsub = head.header("List-Unsubscribe").unwrap();
    let unsub = unsub.trim_start_matches('<').trim_end_matches('>');
    app.unsubscribe(&token(unsub), "one-click").await.unwrap();
    r.clock.set(t0() + Duration::days(2));
    let d2 = app
        .make_digest(&MakeDigest {
            edition: EditionId(1),
            frequency: Frequency::Daily,
            date: date.succ_opt().unwrap().succ_opt().unwrap(),
        })
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    assert_eq!(inbox(&r, 3).len(), 2, "nothing after unsubscribing");
    assert_eq!(r.store.get_digest(d2).await.unwrap().total, 0);
}

#[tokio::test]
async fn same_answer_whether_subscribed_or_not_and_throttled_before_work() {
    let r = room().await;
    let app = &r.app;
    app.subscribe(&form("known@example.org"), "10.0.0.2")
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let text = text_of(&inbox(&r, 1)[0]);
    app.confirm_subscription(&token(&link(&text, "/newsletter/confirm")))
        .await
        .unwrap();
    // An active address and a new one get the same answer; only the new one gets mail.
    assert!(app
        .subscribe(&form("known@example.org"), "10.0.0.3")
        .await
        .is_ok());
    assert!(app
        .subscribe(&form("new@example.org"), "10.0.0.3")
        .await
        .is_ok());
    app.run_jobs_until_idle().await.unwrap();
    let got = inbox(&r, 2);
    assert_eq!(got.len(), 2);
    assert_eq!(parse(&got[1]).header("To"), Some("new@example.org"));
    // Per address: the fourth request within the hour is refused, before any work.
    for _ in 0..2 {
        app.subscribe(&form("new@example.org"), "10.0.0.4")
            .await
            .unwrap();
    }
    assert!(matches!(
        app.subscribe(&form("new@example.org"), "10.0.0.5").await,
        Err(AppError::RateLimited)
    ));
    // Per client: counted even for input that is refused.
    for i in 0..20 {
        let _ = app.subscribe(&form(&format!("bad{i}")), "10.0.0.9").await;
    }
    assert!(matches!(
        app.subscribe(&form("fresh@example.org"), "10.0.0.9").await,
        Err(AppError::RateLimited)
    ));
    // An hour later it is allowed again.
    r.clock.set(t0() + Duration::minutes(61));
    assert!(app
        .subscribe(&form("fresh@example.org"), "10.0.0.9")
        .await
        .is_ok());
}

#[tokio::test]
async fn breaking_alert_for_a_visible_story_once_and_bounces_suppress() {
    let r = room().await;
    let app = &r.app;
    for who in ["one@example.org", "two@example.org"] {
        app.subscribe(&form(who), "10.0.0.1").await.unwrap();
    }
    app.run_jobs_until_idle().await.unwrap();
    for raw in inbox(&r, 2) {
        let t = token(&link(&text_of(&raw), "/newsletter/confirm"));
        app.confirm_subscription(&t).await.unwrap();
    }
    // A complaint about "two" suppresses it (only with the webhook's secret).
    assert!(!app.webhook_secret_ok("wrong"));
    assert!(app.webhook_secret_ok("hook-secret"));
    let n = app
        .newsletter_events(br#"[{"type":"complaint","email":"two@example.org"},{"type":"bounce","bounce":"soft","email":"one@example.org"}]"#)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(app.newsletter_events(b"not json").await.is_err());
    let story = app
        .alert_candidates(&r.editor, 1)
        .unwrap()
        .first()
        .unwrap()
        .0;
    let d = app.send_breaking_alert(&r.editor, story).await.unwrap();
    assert_eq!(d.total, 1, "only the subscriber not suppressed");
    app.run_jobs_until_idle().await.unwrap();
    let got = inbox(&r, 3);
    assert_eq!(got.len(), 3);
    let head = parse(&got[2]);
    assert_eq!(head.header("To"), Some("one@example.org"));
    assert!(head.header("Subject").unwrap().starts_with("Breaking: "));
    // Once per story.
    assert!(matches!(
        app.send_breaking_alert(&r.editor, story).await,
        Err(AppError::Conflict(_))
    ));
    // A story readers cannot see is refused; an author may not send alerts.
    assert!(matches!(
        app.send_breaking_alert(&r.editor, StoryId(999_999)).await,
        Err(AppError::Conflict(_))
    ));
    let author = app
        .add_user(
            "au@example.org",
            "Au",
            Role::Author,
            "a long enough password",
        )
        .await
        .unwrap();
    assert!(matches!(
        app.send_breaking_alert(&author, story).await,
        Err(AppError::Forbidden)
    ));
    // A suppressed address asking again is answered the same and sent nothing.
    app.subscribe(&form("two@example.org"), "10.0.0.7")
        .await
        .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    assert_eq!(inbox(&r, 4).len(), 3);
}

#[tokio::test]
async fn subscriber_export_is_csv_injection_safe_and_editors_only() {
    let r = room().await;
    let app = &r.app;
    app.subscribe(&form("=cmd@example.org"), "10.0.0.1")
        .await
        .unwrap();
    let csv = app.subscribers_csv(&r.editor, "").await.unwrap();
    assert!(csv.contains("\"'=cmd@example.org\""), "{csv}");
    assert!(!csv.contains(",\"=cmd"), "{csv}");
    let contributor = app
        .add_user(
            "c@example.org",
            "C",
            Role::Contributor,
            "a long enough password",
        )
        .await
        .unwrap();
    assert!(matches!(
        app.subscribers_csv(&contributor, "").await,
        Err(AppError::Forbidden)
    ));
    let (counts, rows, _) = app.subscribers(&r.editor, "cmd", None).await.unwrap();
    assert_eq!(counts.pending, 1);
    assert_eq!(rows.len(), 1);
    let (_, rows, _) = app.subscribers(&r.editor, "%", None).await.unwrap();
    assert!(rows.is_empty(), "LIKE's wildcard matches itself only");
}

#[tokio::test]
async fn digests_are_scheduled_once_at_the_hour_and_never_hold_hidden_stories() {
    let r = room().await;
    let app = &r.app;
    // Weekly: the demo's regular stories are older than a day.
    let mut weekly = form("sched@example.org");
    weekly.frequency = "weekly".into();
    app.subscribe(&weekly, "10.0.0.1").await.unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let t = token(&link(&text_of(&inbox(&r, 1)[0]), "/newsletter/confirm"));
    app.confirm_subscription(&t).await.unwrap();
    // 10:00 UTC on the demo's day: its embargoed story is public from 15:00, its scheduled one
    // from 11:00, so neither may be in the digest made now.
    let hour = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let global_tz = app.read().tax.global().unwrap().tz;
    app.set_newsletter(
        NewsletterSettings {
            digest_hour: chrono::Timelike::hour(&hour.with_timezone(&global_tz)),
            weekly_day: chrono::Datelike::weekday(&hour.with_timezone(&global_tz))
                .to_string()
                .to_lowercase(),
            max_per_second: 1000,
            ..NewsletterSettings::default()
        },
        Vec::new(),
    );
    r.clock.set(hour);
    let queued = app.schedule_digests().await.unwrap();
    assert!(queued >= 1, "the Global edition is at its hour");
    assert_eq!(app.schedule_digests().await.unwrap(), 0, "not queued twice");
    app.run_jobs_until_idle().await.unwrap();
    let got = inbox(&r, 2);
    let made = r.store.list_digests(10).await.unwrap();
    assert_eq!(got.len(), 2, "the confirmation and one digest: {made:?}");
    let text = text_of(&got[1]);
    for hidden in ["EMBARGOED", "SCHEDULED", "DRAFT"] {
        assert!(
            !text.contains(hidden),
            "a {hidden} story in a digest: {text}"
        );
    }
    // Later in the same hour, on another node or after a restart: still one digest.
    r.clock.set(hour + Duration::minutes(30));
    app.schedule_digests().await.unwrap();
    app.run_jobs_until_idle().await.unwrap();
    assert_eq!(inbox(&r, 3).len(), 2);
}
