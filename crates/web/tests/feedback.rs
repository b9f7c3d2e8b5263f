//! The feedback desk over HTTP: the reader's form (spam checks, errors with what was typed
//! kept), the desk's e-mail, the newsroom's queue by role, replies by e-mail, and escaping.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use axum::Router;
use chrono::Duration;
use newsdesk_app::SiteConfig;
use newsdesk_domain::*;
use std::sync::Arc;

mod common;
use common::*;

fn config() -> SiteConfig {
    SiteConfig {
        base_url: "https://news.example".into(),
        contact_email: "desk@news.example".into(),
        ..SiteConfig::default()
    }
}

async fn site() -> Site {
    site_with(Setup {
        stories: 4,
        config: config(),
        ..Setup::default()
    })
    .await
}

/// A form request from `peer`'s address (the feedback desk counts by address).
async fn send(
    r: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    peer: [u8; 4],
) -> Res {
    let mut req = form_request(method, path, headers, body);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            peer, 40000,
        ))));
    request(r, req).await
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
    let mails = s.mail.take();
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

#[tokio::test]
async fn the_queue_shows_messages_escaped_and_replies_by_e_mail() {
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
    s.mail.take();
    // Who may see and change the queue is checked route by route and role by role in
    // `newsroom.rs` (`every_newsroom_route_by_every_role_and_by_no_session`); here, what an
    // editor and an admin see of a hostile message, and what they do with it.
    let editor = login(&s, "editor@example.org").await;
    let admin = login(&s, "admin@example.org").await;
    for b in [&editor, &admin] {
        for path in [
            "/newsroom/feedback".to_owned(),
            "/newsroom/feedback?status=all".to_owned(),
            format!("/newsroom/feedback/{id}"),
        ] {
            let r = get(&s, b, &path).await;
            assert_eq!(r.status, StatusCode::OK, "GET {path}");
            assert!(!r.body.contains("<script>alert"), "escaped: {path}");
            assert!(!r.body.contains("<img src=x"), "escaped: {path}");
        }
    }
    let one = get(&s, &editor, &format!("/newsroom/feedback/{id}")).await;
    assert!(one.body.contains("&#60;script&#62;") || one.body.contains("&lt;script&gt;"));
    let menu = get(&s, &editor, "/newsroom").await;
    assert!(menu.body.contains("href=\"/newsroom/feedback\""));
    let author = login(&s, "author@example.org").await;
    let menu = get(&s, &author, "/newsroom").await;
    assert!(!menu.body.contains("href=\"/newsroom/feedback\""));
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/feedback/{id}/status"),
        &[("status", "spam")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // An empty reply is a bad form.
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/feedback/{id}/reply"),
        &[("reply", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.store.get_feedback(id).await.unwrap().status,
        FeedbackStatus::Spam
    );
    let r = post(
        &s,
        &editor,
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
    let mails = s.mail.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to.as_str(), "reader@example.org");
    assert!(mails[0].text.starts_with("Thank you, we fixed the map."));
    assert!(!mails[0].subject.contains('\n'));
    // No address left: nothing to reply to.
    let r = submit(&s, "/", 5, &[("message", "anonymous")], [10, 0, 0, 10]).await;
    assert_eq!(r.status, StatusCode::OK);
    let anon = s.store.list_feedback(None, 1).await.unwrap()[0].id;
    let r = post(
        &s,
        &admin,
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

    let s = site_with(Setup {
        stories: 4,
        config: SiteConfig {
            base_url: "https://news.example".into(),
            linkedin_url: "https://www.linkedin.com/company/our-desk".into(),
            youtube_url: "https://www.youtube.com/@ourdesk".into(),
            ..SiteConfig::default()
        },
        ..Setup::default()
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

/// A receiver on loopback: answers each request with the next status of `script` (the last one
/// from then on) and keeps what it was sent (head, body).
async fn receiver(script: Vec<u16>) -> (u16, Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let k = sock.read(&mut chunk).await.unwrap_or(0);
                if k == 0 {
                    break (String::new(), String::new());
                }
                buf.extend_from_slice(&chunk[..k]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let head = text[..end].to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break (head, text[end + 4..end + 4 + len].to_owned());
                    }
                }
            };
            let status = script[n.min(script.len() - 1)];
            n += 1;
            seen.lock().unwrap().push((head, body));
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: 7\r\nconnection: close\r\n\r\nanswer{}",
                n % 10
            );
            let _ = sock.write_all(answer.as_bytes()).await;
        }
    });
    (port, got)
}

fn header_of(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or("")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn webhooks_are_signed_retried_after_a_500_delivered_once_and_never_to_refused_addresses() {
    let s = site().await;
    s.app
        .set_webhook_config(newsdesk_app::webhooks::WebhookConfig {
            allow_loopback: true,
            ..Default::default()
        });
    let (port, got) = receiver(vec![500, 204]).await;
    let admin = login(&s, "admin@example.org").await;
    let url = format!("http://127.0.0.1:{port}/hook");
    // Who may see and change webhooks (admins) is checked in `newsroom.rs`'s role matrix.
    let fields = [
        ("url", url.as_str()),
        ("event", "story.published"),
        ("event", "story.killed"),
    ];
    let r = post(
        &s,
        &admin,
        "/newsroom/webhooks",
        &[("url", "ftp://x.example/"), ("event", "story.published")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(&s, &admin, "/newsroom/webhooks", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let i = r.body.find("class=\"wh-secret\">").unwrap() + 18;
    let secret = r.body[i..i + r.body[i..].find('<').unwrap()].to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let again = get(&s, &admin, "/newsroom/webhooks").await;
    assert!(!again.body.contains(&secret), "the secret is shown once");
    let hook = s.store.list_webhooks().await.unwrap()[0].id;

    // A story is taken down (no hook takes that) and published again.
    let ed = s
        .store
        .find_login(&EmailAddress::parse("editor@example.org").unwrap())
        .await
        .unwrap()
        .unwrap()
        .0;
    let story = s
        .store
        .list_desk_stories(&DeskQuery {
            statuses: vec![StoryStatus::Published],
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .card
        .id;
    let v = s.store.get_story(story).await.unwrap().version;
    let down = s
        .app
        .transition(&ed, story, v, Transition::Unpublish, None)
        .await
        .unwrap();
    let up = s
        .app
        .transition(&ed, story, down.version, Transition::Publish, None)
        .await
        .unwrap();
    s.app.run_jobs_until_idle().await.unwrap();
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "one event, one attempt so far"
    );
    let d = s.store.list_webhook_deliveries(hook, 10).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].state, DeliveryState::Pending);
    assert_eq!(d[0].last.as_ref().unwrap().1, 500, "the 500 is logged");
    assert_eq!(d[0].last.as_ref().unwrap().2, "answer1", "with an excerpt");
    // After the back-off, tried again and delivered.
    s.clock.advance(Duration::minutes(5));
    s.app.run_jobs_until_idle().await.unwrap();
    s.clock.advance(Duration::hours(2));
    s.app.run_jobs_until_idle().await.unwrap();
    let sent = got.lock().unwrap().clone();
    assert_eq!(
        sent.len(),
        2,
        "retried once after the 500, then never again"
    );
    let (head, body) = &sent[1];
    assert_eq!(sent[0].1, *body, "the same body each time");
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    assert_eq!(header_of(head, "content-type"), "application/json");
    assert_eq!(header_of(head, "newsdesk-event"), "story.published");
    let ts = header_of(head, "newsdesk-timestamp");
    // The signature (its formula is checked against a vector made apart in app's tests).
    assert_eq!(
        header_of(head, "newsdesk-signature"),
        newsdesk_app::webhooks::signature(&secret, ts.parse().unwrap(), body)
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["event"], "story.published");
    assert_eq!(json["data"]["story"]["id"], story.0);
    assert_eq!(json["data"]["story"]["version"], up.version);
    let d = s.store.list_webhook_deliveries(hook, 10).await.unwrap();
    assert_eq!((d[0].state, d[0].attempts), (DeliveryState::Delivered, 2));
    // (The clock moved hours on: the admin's session ended.)
    let admin = login(&s, "admin@example.org").await;
    let page = get(&s, &admin, &format!("/newsroom/webhooks/{hook}")).await;
    assert!(
        page.body.contains("delivered") && page.body.contains("204"),
        "{}",
        page.body
    );

    // Loopback is not allowed by default: a delivery there is refused, not retried.
    s.app
        .set_webhook_config(newsdesk_app::webhooks::WebhookConfig::default());
    let current = s.store.get_story(story).await.unwrap();
    s.app
        .transition(&ed, story, current.version, Transition::Kill, None)
        .await
        .unwrap();
    s.app.run_jobs_until_idle().await.unwrap();
    s.clock.advance(Duration::hours(2));
    s.app.run_jobs_until_idle().await.unwrap();
    assert_eq!(
        got.lock().unwrap().len(),
        2,
        "nothing reached the refused address"
    );
    let d = s.store.list_webhook_deliveries(hook, 10).await.unwrap();
    assert_eq!(d[0].event, "story.killed");
    assert_eq!((d[0].state, d[0].attempts), (DeliveryState::Failed, 1));
    assert!(
        d[0].last.as_ref().unwrap().2.contains("loopback"),
        "{:?}",
        d[0].last
    );
    // Metadata and link-local addresses are refused whatever the settings.
    s.app
        .set_webhook_config(newsdesk_app::webhooks::WebhookConfig {
            allow_loopback: true,
            allow_private: true,
            ..Default::default()
        });
    let admin = login(&s, "admin@example.org").await;
    let meta = post(
        &s,
        &admin,
        "/newsroom/webhooks",
        &[
            ("url", "http://169.254.169.254/latest/meta-data/"),
            ("event", "wire.cluster_created"),
        ],
    )
    .await;
    assert_eq!(meta.status, StatusCode::OK);
    let meta_hook = s.store.list_webhooks().await.unwrap()[1].id;
    s.app
        .ingest(vec![WireItem {
            agency: "Agency A".into(),
            agency_id: "wh-1".into(),
            version: 1,
            headline: "Floods in Mombasa".into(),
            summary: String::new(),
            body_html: "<p>Heavy rain flooded Mombasa in Kenya.</p>".into(),
            byline: String::new(),
            urgency: Some(2),
            language: Some("en".into()),
            published_at: Some(s.clock.now()),
            updated_at: None,
            subjects: vec![],
            places: vec![],
            usage_terms: None,
            links: vec![],
            status: WireStatus::Usable,
            embargo: None,
        }])
        .await
        .unwrap();
    s.app.run_jobs_until_idle().await.unwrap();
    let d = s
        .store
        .list_webhook_deliveries(meta_hook, 10)
        .await
        .unwrap();
    assert_eq!(d.len(), 1, "the new cluster is an event");
    assert_eq!(d[0].event, "wire.cluster_created");
    assert_eq!(d[0].state, DeliveryState::Failed);
    assert!(
        d[0].last.as_ref().unwrap().2.contains("refused"),
        "{:?}",
        d[0].last
    );
}
