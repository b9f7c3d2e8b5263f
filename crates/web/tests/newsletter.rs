//! The newsletter's reader pages over HTTP (in process): the form in the rail and on its page,
//! the same answer for every address, confirming by POST, the preference page, RFC 8058
//! one-click unsubscribe, and the bounce webhook's secret and body limit. (Mail through a real
//! SMTP server is tested in `crates/app/tests/newsletter.rs`.)
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use newsdesk_app::newsletter::NewsletterSettings;
use newsdesk_domain::*;

mod common;
use common::{request, site_with, Res, Setup, Site};

async fn site() -> Site {
    site_with(Setup {
        users: &[],
        ..Setup::default()
    })
    .await
}

async fn send(r: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Res {
    let mut req = Request::builder().method(method).uri(path);
    if method == "POST" {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    request(r, req.body(Body::from(body.to_vec())).unwrap()).await
}

fn token_after(text: &str, path: &str) -> String {
    let start = text.find(&format!("{path}?t=")).unwrap() + path.len() + 3;
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '>' || c == '"')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn subscribe_confirm_change_and_one_click_unsubscribe_over_http() {
    let s = site().await;
    // The rail of every page has the form (no JavaScript needed), and the page has its own.
    let home = send(&s.router, "GET", "/", &[], b"").await;
    assert!(
        home.body
            .contains("action=\"/newsletter/subscribe?edition=global\""),
        "the rail's form"
    );
    assert!(!home
        .body
        .contains("mailto:desk@newsdesk.example?subject=Newsletter"));
    let page = send(&s.router, "GET", "/newsletter?edition=south-asia", &[], b"").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"sectors\""));
    assert!(page.body.contains("value=\"south-asia\" checked"));

    // Bad input: the form again with the error and what was typed.
    let bad = send(
        &s.router,
        "POST",
        "/newsletter/subscribe",
        &[],
        b"email=not-an-address&frequency=daily",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("value=\"not-an-address\""));

    let ok = send(
        &s.router,
        "POST",
        "/newsletter/subscribe?edition=global",
        &[("referer", "https://news.example/sector/health?x=1")],
        b"email=reader%40example.org&frequency=weekly&breaking=on",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.contains("Check your inbox"));
    s.app.run_jobs_until_idle().await.unwrap();
    let sent = s.mail.take();
    assert_eq!(sent.len(), 1);
    let sub = s
        .store
        .find_subscriber(&EmailAddress::parse("reader@example.org").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.consent_source, "https://news.example/sector/health");
    assert_eq!(sub.prefs.frequency, Frequency::Weekly);

    // The link opens a page; only its POST confirms (a scanner's GET changes nothing).
    let t = token_after(&sent[0].text, "/newsletter/confirm");
    let open = send(
        &s.router,
        "GET",
        &format!("/newsletter/confirm?t={t}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(open.status, StatusCode::OK);
    assert_eq!(open.headers.get("x-robots-tag").unwrap(), "noindex");
    assert_eq!(open.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(
        s.store.get_subscriber(sub.id).await.unwrap().status,
        SubscriberStatus::Pending
    );
    let done = send(
        &s.router,
        "POST",
        "/newsletter/confirm",
        &[],
        format!("t={t}").as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        s.store.get_subscriber(sub.id).await.unwrap().status,
        SubscriberStatus::Active
    );

    // The same answer for an address already subscribed; nothing is sent to it.
    let again = send(
        &s.router,
        "POST",
        "/newsletter/subscribe?edition=global",
        &[],
        b"email=reader%40example.org&frequency=weekly&breaking=on",
    )
    .await;
    assert_eq!(
        (again.status, again.body.contains("Check your inbox")),
        (StatusCode::OK, true)
    );
    s.app.run_jobs_until_idle().await.unwrap();
    assert!(s.mail.take().is_empty());

    // The preference page through the link of the List-Unsubscribe header.
    let (_, unsub) = sent[0]
        .headers
        .iter()
        .find(|(n, _)| n == "List-Unsubscribe")
        .unwrap();
    let p = token_after(unsub, "/newsletter/unsubscribe");
    let prefs = send(
        &s.router,
        "GET",
        &format!("/newsletter/preferences?t={p}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(prefs.status, StatusCode::OK);
    assert!(prefs.body.contains("reader@example.org"));
    let saved = send(
        &s.router,
        "POST",
        "/newsletter/preferences",
        &[],
        format!("t={p}&action=save&editions=south-asia&sectors=health&frequency=daily").as_bytes(),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let now = s.store.get_subscriber(sub.id).await.unwrap();
    assert_eq!(now.prefs.frequency, Frequency::Daily);
    assert!(!now.prefs.breaking);
    assert_eq!(now.prefs.editions.len(), 1);

    // RFC 8058: the mail client's POST unsubscribes at once; a GET only shows a button.
    let get = send(
        &s.router,
        "GET",
        &format!("/newsletter/unsubscribe?t={p}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(
        s.store.get_subscriber(sub.id).await.unwrap().status,
        SubscriberStatus::Active
    );
    let one = send(
        &s.router,
        "POST",
        &format!("/newsletter/unsubscribe?t={p}"),
        &[],
        b"List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    let left = s.store.get_subscriber(sub.id).await.unwrap();
    assert_eq!(
        (left.status, left.reason.as_str()),
        (SubscriberStatus::Unsubscribed, "one-click")
    );

    // A bad or altered link gets the designed page.
    for bad in ["garbage", "p1.0.00", &format!("{p}0")] {
        let r = send(
            &s.router,
            "GET",
            &format!("/newsletter/preferences?t={bad}"),
            &[],
            b"",
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(r.body.contains("This link does not work"));
    }
}

#[tokio::test]
async fn the_bounce_webhook_checks_its_secret_before_reading_and_bounds_the_body() {
    let s = site().await;
    let event = br#"{"type":"complaint","email":"angry@example.org"}"#;
    let off = send(
        &s.router,
        "POST",
        "/newsletter/events",
        &[("authorization", "Bearer x")],
        event,
    )
    .await;
    assert_eq!(
        off.status,
        StatusCode::NOT_FOUND,
        "no secret configured: no webhook"
    );
    s.app.set_newsletter(
        NewsletterSettings {
            webhook_secret: "s3cret".into(),
            webhook_max_bytes: 1024,
            ..NewsletterSettings::default()
        },
        Vec::new(),
    );
    for auth in ["Bearer wrong", "Bearer s3cre", "s3cret", ""] {
        let r = send(
            &s.router,
            "POST",
            "/newsletter/events",
            &[("authorization", auth)],
            event,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    let big = vec![b' '; 4096];
    let r = send(
        &s.router,
        "POST",
        "/newsletter/events",
        &[("authorization", "Bearer s3cret")],
        &big,
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = send(
        &s.router,
        "POST",
        "/newsletter/events",
        &[("authorization", "Bearer s3cret")],
        b"{",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        &s.router,
        "POST",
        "/newsletter/events",
        &[("authorization", "Bearer s3cret")],
        event,
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "{\"suppressed\":1}")
    );
    let sub = s
        .store
        .find_subscriber(&EmailAddress::parse("angry@example.org").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.status, SubscriberStatus::Suppressed);
}
