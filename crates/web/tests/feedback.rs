//! The feedback desk over HTTP: the reader's form (spam checks, errors with what was typed
//! kept), the desk's e-mail, the newsroom's queue by role, replies by e-mail, and escaping.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;
use tower::ServiceExt;

struct Site {
    router: Router,
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    outbox: Arc<newsdesk_mail::MemoryMailer>,
}

async fn site() -> Site {
    site_with(SiteConfig {
        base_url: "https://news.example".into(),
        contact_email: "desk@news.example".into(),
        ..SiteConfig::default()
    })
    .await
}

async fn site_with(config: SiteConfig) -> Site {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 4,
            now: t0,
            seed: 5,
            media_dir: media.clone(),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0));
    let app = App::load(store.clone(), clock.clone(), config)
        .await
        .unwrap();
    for (email, role) in [
        ("contrib@example.org", Role::Contributor),
        ("author@example.org", Role::Author),
        ("editor@example.org", Role::Editor),
        ("admin@example.org", Role::Admin),
    ] {
        app.add_user(email, "", role, "a long enough password")
            .await
            .unwrap();
    }
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    app.set_mailer(outbox.clone());
    let router = newsdesk_web::router(newsdesk_web::WebState::new(app.clone(), media));
    Site {
        router,
        app,
        store,
        clock,
        outbox,
    }
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(
    r: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    peer: [u8; 4],
) -> Res {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if method == "POST" {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let mut req = req.body(Body::from(body)).unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            peer, 40000,
        ))));
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

fn enc(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn pct(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn field(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {body}"));
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Opens the form (as from `from`), waits `wait` seconds, and sends `fields` from `peer`.
async fn submit(s: &Site, from: &str, wait: i64, fields: &[(&str, &str)], peer: [u8; 4]) -> Res {
    let page = send(
        &s.router,
        "GET",
        &format!("/feedback?from={}", pct(from)),
        &[],
        vec![],
        peer,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let token = field(&page.body, "token");
    let page_field = field(&page.body, "page");
    s.clock.advance(Duration::seconds(wait));
    let mut all = vec![("token", token.as_str()), ("page", page_field.as_str())];
    all.extend_from_slice(fields);
    send(
        &s.router,
        "POST",
        "/feedback",
        &[("origin", "https://news.example")],
        enc(&all),
        peer,
    )
    .await
}

#[tokio::test]
async fn a_reader_s_message_reaches_the_queue_and_the_desk_by_e_mail() {
    let s = site().await;
    // Every page links to the form, with the page it is on.
    let home = send(&s.router, "GET", "/", &[], vec![], [10, 0, 0, 1]).await;
    assert!(
        home.body.contains("href=\"/feedback\""),
        "the footer links to the form"
    );
    assert!(!home
        .body
        .contains("mailto:desk@news.example?subject=Feedback"));
    let form = send(&s.router, "GET", "/feedback", &[], vec![], [10, 0, 0, 1]).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.headers["cache-control"], "no-store");
    assert!(form
        .body
        .contains("<form method=\"post\" action=\"/feedback\""));
    assert!(
        !form.body.contains("<script"),
        "the form needs no JavaScript"
    );

    let r = submit(
        &s,
        "/article/some-story",
        5,
        &[
            ("name", "Asha"),
            ("email", "asha@example.org"),
            (
                "message",
                "Your map of the floods\nhas the river in the wrong place.",
            ),
            ("website", ""),
        ],
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Thank you"), "{}", r.body);
    let list = s.store.list_feedback(None, 10).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].sent.page, "/article/some-story");
    assert_eq!(list[0].sent.email, "asha@example.org");
    assert_eq!(list[0].status, FeedbackStatus::New);
    s.app.run_jobs_until_idle().await.unwrap();
    let mails = s.outbox.take();
    assert_eq!(mails.len(), 1, "the desk is told once");
    assert_eq!(mails[0].to.as_str(), "desk@news.example");
    assert!(mails[0].text.contains("has the river in the wrong place."));
    assert!(mails[0]
        .text
        .contains("https://news.example/newsroom/feedback/"));
}

#[tokio::test]
async fn spam_checks_refuse_with_the_form_back_and_what_was_typed_kept() {
    let s = site().await;
    let peer = [10, 0, 0, 2];
    // Sent sooner than a person could: refused, the text kept.
    let r = submit(
        &s,
        "/",
        0,
        &[
            ("name", "Quick"),
            ("message", "I typed this <fast> & \"well\""),
        ],
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("quicker than we expected"), "{}", r.body);
    assert!(
        r.body
            .contains("I typed this &#60;fast&#62; &#38; &#34;well&#34;")
            || r.body
                .contains("I typed this &lt;fast&gt; &amp; &quot;well&quot;"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Quick\""));
    // Too many links.
    let r = submit(
        &s,
        "/",
        5,
        &[("message", "http://a.example http://b.example www.c.example")],
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("at most 2 links"), "{}", r.body);
    // A bad address and an empty message, both said.
    let r = submit(
        &s,
        "/",
        5,
        &[("email", "not an address"), ("message", " ")],
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("does not look right") && r.body.contains("write your message"));
    // A forged or stale token.
    let r = send(
        &s.router,
        "POST",
        "/feedback",
        &[("origin", "https://news.example")],
        enc(&[("token", "1.00"), ("message", "hello")]),
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("expired"));
    // The honeypot: thanked, nothing kept.
    let r = submit(
        &s,
        "/",
        5,
        &[("message", "Buy now"), ("website", "https://spam.example")],
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Thank you"));
    // From another site: refused before anything.
    let r = send(
        &s.router,
        "POST",
        "/feedback",
        &[("origin", "https://evil.example")],
        enc(&[("message", "hello")]),
        peer,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(s.store.list_feedback(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_address_is_counted_before_the_checks_and_limited_per_hour() {
    let s = site().await;
    let peer = [10, 0, 0, 3];
    // Ten attempts an hour (the default), good or bad alike.
    for i in 0..10 {
        let r = submit(
            &s,
            "/",
            if i % 2 == 0 { 5 } else { 0 },
            &[("message", "hi")],
            peer,
        )
        .await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "attempt {i}");
    }
    let r = submit(&s, "/", 5, &[("message", "one more")], peer).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("one more"), "what was typed is kept");
    // Another address is not held back; the first again after an hour.
    let r = submit(&s, "/", 5, &[("message", "other")], [10, 0, 0, 4]).await;
    assert_eq!(r.status, StatusCode::OK);
    s.clock.advance(Duration::minutes(61));
    let r = submit(&s, "/", 5, &[("message", "later")], peer).await;
    assert_eq!(r.status, StatusCode::OK);
}

struct Browser {
    cookie: String,
    csrf: String,
}

async fn login(s: &Site, email: &str) -> Browser {
    let res = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[("sec-fetch-site", "same-origin")],
        enc(&[("email", email), ("password", "a long enough password")]),
        [127, 0, 0, 1],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let set = res.headers["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set.split(';').next().unwrap().to_owned();
    let dash = send(
        &s.router,
        "GET",
        "/newsroom",
        &[("cookie", &cookie)],
        vec![],
        [127, 0, 0, 1],
    )
    .await;
    let csrf = field(&dash.body, "csrf");
    Browser { cookie, csrf }
}

async fn nr_get(s: &Site, b: Option<&Browser>, path: &str) -> Res {
    let cookie = b.map(|b| b.cookie.clone()).unwrap_or_default();
    send(
        &s.router,
        "GET",
        path,
        &[("cookie", &cookie)],
        vec![],
        [127, 0, 0, 1],
    )
    .await
}

async fn nr_post(s: &Site, b: Option<&Browser>, path: &str, fields: &[(&str, &str)]) -> Res {
    let (cookie, csrf) = b
        .map(|b| (b.cookie.clone(), b.csrf.clone()))
        .unwrap_or_default();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    send(
        &s.router,
        "POST",
        path,
        &[
            ("cookie", &cookie),
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://news.example"),
        ],
        enc(&all),
        [127, 0, 0, 1],
    )
    .await
}

#[tokio::test]
async fn the_queue_by_every_role_and_replies_by_e_mail() {
    let s = site().await;
    let evil = "<script>alert('fb')</script><img src=x onerror=alert(2)>";
    let r = submit(
        &s,
        "/article/x",
        5,
        &[
            ("name", evil),
            ("email", "reader@example.org"),
            ("message", evil),
        ],
        [10, 0, 0, 9],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = s.store.list_feedback(None, 1).await.unwrap()[0].id;
    s.app.run_jobs_until_idle().await.unwrap();
    s.outbox.take();
    let mut browsers: Vec<Option<Browser>> = vec![None];
    for who in [
        "contrib@example.org",
        "author@example.org",
        "editor@example.org",
        "admin@example.org",
    ] {
        browsers.push(Some(login(&s, who).await));
    }
    // (path, expected for: none, contributor, author, editor, admin)
    let gets: [(String, [u16; 5]); 5] = [
        ("/newsroom/feedback".into(), [303, 403, 403, 200, 200]),
        (
            "/newsroom/feedback?status=all".into(),
            [303, 403, 403, 200, 200],
        ),
        (
            "/newsroom/feedback?status=bogus".into(),
            [303, 403, 403, 400, 400],
        ),
        (
            format!("/newsroom/feedback/{id}"),
            [303, 403, 403, 200, 200],
        ),
        (
            "/newsroom/feedback/999999".into(),
            [303, 403, 403, 404, 404],
        ),
    ];
    for (path, want) in &gets {
        for (i, b) in browsers.iter().enumerate() {
            let r = nr_get(&s, b.as_ref(), path).await;
            assert_eq!(r.status.as_u16(), want[i], "GET {path} as #{i}");
            if r.status == StatusCode::OK {
                assert!(!r.body.contains("<script>alert"), "escaped: {path}");
                assert!(!r.body.contains("<img src=x"), "escaped: {path}");
            }
        }
    }
    let one = nr_get(
        &s,
        browsers[3].as_ref(),
        &format!("/newsroom/feedback/{id}"),
    )
    .await;
    assert!(one.body.contains("&#60;script&#62;") || one.body.contains("&lt;script&gt;"));
    let menu = nr_get(&s, browsers[3].as_ref(), "/newsroom").await;
    assert!(menu.body.contains("href=\"/newsroom/feedback\""));
    let menu = nr_get(&s, browsers[2].as_ref(), "/newsroom").await;
    assert!(!menu.body.contains("href=\"/newsroom/feedback\""));
    // State changes: only editors and admins; with no session, refused.
    for (i, b) in browsers.iter().enumerate() {
        let r = nr_post(
            &s,
            b.as_ref(),
            &format!("/newsroom/feedback/{id}/status"),
            &[("status", "spam")],
        )
        .await;
        let want = if i >= 3 { 303 } else { 403 };
        assert_eq!(r.status.as_u16(), want, "status as #{i}");
        let r = nr_post(
            &s,
            b.as_ref(),
            &format!("/newsroom/feedback/{id}/reply"),
            &[("reply", "")],
        )
        .await;
        // Refused for those who may not; an empty reply is a bad form for those who may.
        let want = if i >= 3 { 400 } else { 403 };
        assert_eq!(r.status.as_u16(), want, "empty reply as #{i}");
    }
    assert_eq!(
        s.store.get_feedback(id).await.unwrap().status,
        FeedbackStatus::Spam
    );
    let r = nr_post(
        &s,
        browsers[3].as_ref(),
        &format!("/newsroom/feedback/{id}/reply"),
        &[("reply", "Thank you, we fixed the map.")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("Thank you, we fixed the map."),
        "the reply is kept with it"
    );
    let m = s.store.get_feedback(id).await.unwrap();
    assert_eq!(m.status, FeedbackStatus::Answered);
    assert_eq!(m.reply.unwrap().text, "Thank you, we fixed the map.");
    s.app.run_jobs_until_idle().await.unwrap();
    let mails = s.outbox.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to.as_str(), "reader@example.org");
    assert!(mails[0].text.starts_with("Thank you, we fixed the map."));
    assert!(!mails[0].subject.contains('\n'));
    // No address left: nothing to reply to.
    let r = submit(&s, "/", 5, &[("message", "anonymous")], [10, 0, 0, 10]).await;
    assert_eq!(r.status, StatusCode::OK);
    let anon = s.store.list_feedback(None, 1).await.unwrap()[0].id;
    let r = nr_post(
        &s,
        browsers[4].as_ref(),
        &format!("/newsroom/feedback/{anon}/reply"),
        &[("reply", "hello")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("no e-mail address"));
}

/// The CONNECT links: the publisher's own profiles from configuration, each hidden when unset
/// (the default); RSS, ours, always there.
#[tokio::test]
async fn connect_links_are_the_publisher_s_own_and_hidden_when_unset() {
    let social = |body: &str| {
        let foot = &body[body.find("id=\"f-connect\"").unwrap()..];
        let foot = &foot[..foot.find("</section>").unwrap()];
        let rail = body
            .find("class=\"social\"")
            .map(|i| &body[i..i + body[i..].find("</ul>").unwrap()])
            .unwrap_or("");
        (foot.to_owned(), rail.to_owned())
    };
    let s = site().await;
    let home = send(&s.router, "GET", "/", &[], vec![], [10, 0, 0, 1]).await;
    let (foot, rail) = social(&home.body);
    for hidden in [
        "LinkedIn",
        "Quora",
        "YouTube",
        "linkedin.com",
        "quora.com",
        "youtube.com",
    ] {
        assert!(!home.body.contains(hidden), "{hidden} shown while unset");
    }
    assert!(
        foot.contains(">RSS<") && rail.contains(">RSS<"),
        "{foot} / {rail}"
    );
    assert!(foot.contains("Give Feedback"));

    let s = site_with(SiteConfig {
        base_url: "https://news.example".into(),
        linkedin_url: "https://www.linkedin.com/company/our-desk".into(),
        youtube_url: "https://www.youtube.com/@ourdesk".into(),
        ..SiteConfig::default()
    })
    .await;
    let home = send(&s.router, "GET", "/", &[], vec![], [10, 0, 0, 1]).await;
    let (foot, rail) = social(&home.body);
    for part in [&foot, &rail] {
        assert!(part.contains(
            "<a href=\"https://www.linkedin.com/company/our-desk\" rel=\"noopener\">LinkedIn</a>"
        ), "{part}");
        assert!(
            part.contains("href=\"https://www.youtube.com/@ourdesk\""),
            "{part}"
        );
        assert!(!part.contains("Quora"), "an unset one stays hidden: {part}");
        assert!(part.contains(">RSS<"));
    }
}
