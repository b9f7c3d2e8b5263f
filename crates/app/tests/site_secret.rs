//! Several nodes on one store, with no keys configured: each accepts the feedback forms and the
//! newsletter links another made, because both keys come from the site secret in the store.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::feedback::{FeedbackConfig, FeedbackForm, Submitted};
use newsdesk_app::newsletter::{NewsletterSettings, SubscribeForm};
use newsdesk_app::{App, AppError, SiteConfig};
use newsdesk_domain::*;
use newsdesk_mail::MemoryMailer;
use newsdesk_store::Store;
use std::sync::Arc;

async fn node(store: &Arc<dyn Store>, clock: &Arc<ManualClock>) -> Arc<App> {
    let site = SiteConfig {
        name: "The Daily Planet".into(),
        base_url: "https://planet.example".into(),
        ..SiteConfig::default()
    };
    App::load(store.clone(), clock.clone(), site).await.unwrap()
}

fn feedback(token: String) -> FeedbackForm {
    FeedbackForm {
        name: String::new(),
        email: String::new(),
        message: "The map on the flood story is upside down.".into(),
        page: "/article/floods".into(),
        trap: String::new(),
        token,
    }
}

#[tokio::test]
async fn two_nodes_on_one_store_accept_each_others_forms_and_links() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let sqlite = newsdesk_store_sqlite::temp_store().unwrap();
    let media = sqlite.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*sqlite,
        &newsdesk_demo::DemoOptions {
            stories: 3,
            now: t0,
            seed: 3,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = sqlite;
    let clock = Arc::new(ManualClock::new(t0));
    let (a, b) = (node(&store, &clock).await, node(&store, &clock).await);
    // As `serve` configures them: keys left empty.
    for n in [&a, &b] {
        n.set_feedback_config(FeedbackConfig::default());
        n.set_newsletter(NewsletterSettings::default(), Vec::new());
    }

    // A form shown by node A, sent to node B.
    let shown = a.feedback_token();
    clock.advance(Duration::seconds(30));
    let got = b
        .submit_feedback(&feedback(shown.clone()), "10.0.0.1")
        .await;
    assert!(matches!(got, Ok(Submitted::Kept(_))), "{got:?}");

    // A configured key is used instead: a node with another one refuses A's form.
    let c = node(&store, &clock).await;
    c.set_feedback_config(FeedbackConfig {
        form_key: "a configured key of enough length".into(),
        ..FeedbackConfig::default()
    });
    let refused = c.submit_feedback(&feedback(shown), "10.0.0.2").await;
    assert!(matches!(refused, Err(AppError::Invalid(_))), "{refused:?}");

    // A confirmation link mailed by node A, followed on node B.
    let mailer = Arc::new(MemoryMailer::new());
    a.set_mailer(mailer.clone());
    let form = SubscribeForm {
        email: "reader@example.org".into(),
        editions: vec![],
        sectors: vec![],
        frequency: "daily".into(),
        breaking: false,
        source: "/".into(),
    };
    a.subscribe(&form, "10.0.0.3").await.unwrap();
    a.run_jobs_until_idle().await.unwrap();
    // (The desk's notice of the feedback above goes out too.)
    let sent = mailer.take();
    let confirmation = sent
        .iter()
        .find(|m| m.to.as_str() == "reader@example.org")
        .expect("the confirmation");
    let text = &confirmation.text;
    let start = text
        .find("https://planet.example/newsletter/confirm?t=")
        .unwrap_or_else(|| panic!("no confirmation link in {text}"));
    let token = text[start..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .split("?t=")
        .nth(1)
        .unwrap();
    let s = b.confirm_subscription(token).await.unwrap();
    assert_eq!(s.status, SubscriberStatus::Active);
}
