//! In-process tests of the newsroom over HTTP: login, cookies, CSRF, the whole editorial path,
//! conflicts, corrections on the public site, and refusals.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{TimeZone, Utc};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use std::sync::Arc;
use tower::ServiceExt;

mod common;
use common::*;

/// The newsroom's users (no author: tests add one where they need it).
const USERS: [(&str, Role); 3] = [
    ("editor@example.org", Role::Editor),
    ("contrib@example.org", Role::Contributor),
    ("admin@example.org", Role::Admin),
];

async fn site() -> Site {
    site_with(Setup {
        users: &USERS,
        ..Setup::default()
    })
    .await
}

fn story_fields<'a>(headline: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("headline", headline),
        ("summary", "Summary <b>bold</b> \"quoted\""),
        ("body_md", body),
        ("kind", "news"),
        ("sector", "health"),
        ("edition", "global"),
        ("edition", "south-asia"),
        ("rank-south-asia", "1"),
        ("tags", "vaccines, <script>alert('tag')</script>"),
        ("region", "India"),
        ("action", "save"),
    ]
}

fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/newsroom/stories/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_and_their_posts_refused() {
    let s = site().await;
    let r = send(&s.router, "GET", "/newsroom", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/newsroom/login");
    let r = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[],
        enc(&[("headline", "x")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&s.router, "GET", "/newsroom/login", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(r.body.contains("Log in to the newsroom"));
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_never_keeps_a_planted_session_id() {
    let s = site().await;
    let wrong = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[("email", "editor@example.org"), ("password", "nope")]),
    )
    .await;
    let unknown = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[("email", "who@example.org"), ("password", "nope")]),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong
        .body
        .contains("The e-mail address or the password is wrong."));
    assert_eq!(
        wrong.body.replace("editor@example.org", "X"),
        unknown.body.replace("who@example.org", "X"),
        "same answer either way"
    );
    let planted = "__Host-newsdesk_session=0123456789abcdef0123456789abcdef";
    let r = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[("cookie", planted)],
        enc(&[
            ("email", "editor@example.org"),
            ("password", "a long enough password"),
        ]),
    )
    .await;
    let set = r.header("set-cookie");
    for attr in [
        "__Host-newsdesk_session=",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("Domain"), "__Host- cookies have no Domain");
    assert!(
        !set.contains("0123456789abcdef0123456789abcdef"),
        "a fixed id is not accepted"
    );
    let with_planted = send(
        &s.router,
        "GET",
        "/newsroom",
        &[("cookie", planted)],
        vec![],
    )
    .await;
    assert_eq!(
        with_planted.status,
        StatusCode::SEE_OTHER,
        "the planted id is still not a session"
    );
    let b = login(&s, "editor@example.org").await;
    let out = post(&s, &b, "/newsroom/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(
        get(&s, &b, "/newsroom").await.status,
        StatusCode::SEE_OTHER,
        "logged out for good"
    );
}

#[tokio::test]
async fn forged_cross_site_requests_are_refused() {
    let s = site().await;
    let b = login(&s, "editor@example.org").await;
    let fields = enc(&story_fields("Forged", "x"));
    let no_token = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[("cookie", &b.cookie)],
        fields.clone(),
    )
    .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let mut with_token = vec![("csrf", b.csrf.as_str())];
    with_token.extend(story_fields("Forged", "x"));
    let cross = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[("cookie", &b.cookie), ("sec-fetch-site", "cross-site")],
        enc(&with_token),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let evil = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[
            ("cookie", &b.cookie),
            ("origin", "https://evil.example"),
            ("host", "news.example"),
        ],
        enc(&with_token),
    )
    .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    let wrong_token = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[("cookie", &b.cookie), ("sec-fetch-site", "same-origin")],
        enc(&[
            ("csrf", "00000000000000000000000000000000"),
            ("headline", "x"),
        ]),
    )
    .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let login_forged = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[("sec-fetch-site", "cross-site")],
        enc(&[
            ("email", "editor@example.org"),
            ("password", "a long enough password"),
        ]),
    )
    .await;
    assert_eq!(
        login_forged.status,
        StatusCode::FORBIDDEN,
        "login CSRF is refused too"
    );
    assert!(s
        .store
        .list_desk_stories(&DeskQuery {
            text: Some("Forged".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_editorial_path_from_draft_to_correction() {
    let s = site().await;
    let contrib = login(&s, "contrib@example.org").await;
    let editor = login(&s, "editor@example.org").await;
    let xss = "<img src=x onerror=alert(1)> Clinics \"open\" </title><script>alert(2)</script>";
    let body = "First paragraph.\n\n<script>alert(3)</script>\n\n[link](javascript:alert(4))";
    let created = post(
        &s,
        &contrib,
        "/newsroom/stories/new",
        &story_fields(xss, body),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_from(&created.header("location"));
    let page = get(&s, &contrib, &format!("/newsroom/stories/{id}")).await;
    assert!(
        !page.body.contains("<script>alert"),
        "the editor escapes what it shows"
    );
    assert_eq!(
        page.status,
        StatusCode::OK,
        "{}",
        &page.body[page.body.len().saturating_sub(3000)..]
    );
    let version = |b: &str| -> String {
        let i = b.find("name=\"version\" value=\"").unwrap() + 22;
        b[i..i + b[i..].find('"').unwrap()].to_owned()
    };
    let v = version(&page.body);
    // The contributor cannot publish, even by forging the step.
    let r = post(
        &s,
        &contrib,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "publish"), ("version", &v)],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &s,
        &contrib,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "submit"), ("version", &v)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let dash = get(&s, &editor, "/newsroom").await;
    let review = &dash.body[dash.body.find("Waiting for review").unwrap()..];
    assert!(review.contains(&format!("/newsroom/stories/{id}")));
    let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    let v = version(&page.body);
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[
            ("step", "schedule"),
            ("version", &v),
            ("publish_at", "2026-11-20T10:00"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let story = s.store.get_story(StoryId(id)).await.unwrap();
    assert_eq!(
        get(&s, &editor, &format!("/article/{}", story.slug))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "scheduled is not public"
    );
    s.clock
        .set(t0() + chrono::Duration::hours(1) + chrono::Duration::minutes(1));
    s.app.publish_due().await.unwrap();
    let public = send(
        &s.router,
        "GET",
        &format!("/article/{}", story.slug),
        &[],
        vec![],
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    // The payloads may appear as escaped text, never as markup.
    for bad in [
        "<script>alert",
        "javascript:alert",
        "<img src=x",
        "</title><script",
    ] {
        assert!(!public.body.contains(bad), "public page contains {bad}");
    }
    assert!(
        public.body.contains("&lt;img src=x onerror=alert(1)&gt;")
            || public.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "the headline is shown as text"
    );
    assert!(send(&s.router, "GET", "/feed.rss", &[], vec![])
        .await
        .body
        .contains(story.slug.as_str()));
    assert!(send(&s.router, "GET", "/sitemap-news.xml", &[], vec![])
        .await
        .body
        .contains(story.slug.as_str()));
    // Correct it.
    let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    let v = version(&page.body);
    s.clock.advance(chrono::Duration::minutes(30));
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/correct"),
        &[
            ("version", &v),
            ("wrong", "12 clinics"),
            ("right", "14 clinics"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let public = send(
        &s.router,
        "GET",
        &format!("/article/{}", story.slug),
        &[],
        vec![],
    )
    .await;
    assert!(public.body.contains("class=\"corrections\""));
    assert!(public.body.contains("14 clinics"));
    assert!(public.body.contains("CorrectionComment"));
    assert!(
        public
            .body
            .contains("Updated: <time class=\"updated\" datetime=\"2026-11-20T10:31:00Z\">"),
        "the Updated time moved"
    );
    let list = send(&s.router, "GET", "/corrections", &[], vec![]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("14 clinics"));
    let feed = send(&s.router, "GET", "/corrections/feed.atom", &[], vec![]).await;
    assert!(feed.body.contains("14 clinics") && feed.body.contains(story.slug.as_str()));
    // History with a diff, and the audit log.
    let hist = get(&s, &editor, &format!("/newsroom/stories/{id}/history")).await;
    assert_eq!(hist.status, StatusCode::OK);
    assert!(hist.body.contains("Restore version"));
    let audit = get(&s, &editor, "/newsroom/audit").await;
    for action in ["submit", "schedule", "publish", "correct", "login"] {
        assert!(
            audit.body.contains(&format!("<td>{action}</td>")),
            "audit lacks {action}"
        );
    }
    assert_eq!(
        get(&s, &contrib, "/newsroom/audit").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_stale_save_shows_both_versions_and_overwrites_nothing() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let created = post(
        &s,
        &editor,
        "/newsroom/stories/new",
        &story_fields("Original headline", "Original body"),
    )
    .await;
    let id = id_from(&created.header("location"));
    let mut first = story_fields("First editor wins", "First body");
    first.push(("version", "1"));
    assert_eq!(
        post(&s, &editor, &format!("/newsroom/stories/{id}"), &first)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut second = story_fields("Second editor loses", "Second body");
    second.push(("version", "1"));
    let r = post(&s, &editor, &format!("/newsroom/stories/{id}"), &second).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("First editor wins") && r.body.contains("Second editor loses"));
    assert_eq!(
        s.store
            .get_story(StoryId(id))
            .await
            .unwrap()
            .headline
            .as_str(),
        "First editor wins"
    );
    // Preview renders without saving.
    let mut prev = story_fields("Preview only", "**bold** text");
    prev.retain(|(k, _)| *k != "action");
    prev.push(("action", "preview"));
    prev.push(("version", "2"));
    let r = post(&s, &editor, &format!("/newsroom/stories/{id}"), &prev).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<strong>bold</strong>"));
    assert_eq!(
        s.store
            .get_story(StoryId(id))
            .await
            .unwrap()
            .headline
            .as_str(),
        "First editor wins"
    );
}

#[tokio::test]
async fn bad_form_input_gets_a_clear_answer() {
    let s = site().await;
    let b = login(&s, "editor@example.org").await;
    let bad_utf8 = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[("cookie", &b.cookie)],
        vec![b'h', b'=', 0xff, 0xfe],
    )
    .await;
    assert_eq!(bad_utf8.status, StatusCode::BAD_REQUEST);
    let huge = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[("cookie", &b.cookie)],
        vec![b'a'; 3 * 1024 * 1024],
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut invalid = story_fields("", "x");
    invalid.retain(|(k, _)| *k != "kind" && *k != "sector");
    invalid.push(("kind", "gossip"));
    let r = post(&s, &b, "/newsroom/stories/new", &invalid).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Please check the form") && r.body.contains("Choose a kind."));
    for path in [
        "/newsroom/stories/abc",
        "/newsroom/stories/999999",
        "/newsroom/nothing",
    ] {
        assert_eq!(
            get(&s, &b, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = post(
        &s,
        &b,
        "/newsroom/stories/1/step",
        &[("step", "fly"), ("version", "1")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_dashboard_filters_by_sector_edition_desk_and_author() {
    let s = site().await;
    let b = login(&s, "editor@example.org").await;
    let published = s
        .store
        .list_desk_stories(&DeskQuery {
            statuses: vec![StoryStatus::Published],
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let (sector, edition) = {
        let snap = s.app.read();
        let card = &published[0].card;
        let sector = snap.tax.sector(card.sector_id).unwrap().slug.to_string();
        let edition = snap
            .tax
            .edition(card.primary_edition_id)
            .unwrap()
            .slug
            .to_string();
        (sector, edition)
    };
    let section = |body: &str| -> Vec<String> {
        // Headlines of the "Recently published" section.
        let at = body.find("id=\"sec-published\"").unwrap();
        let part = &body[at..];
        let part = &part[..part.find("</section>").unwrap_or(part.len())];
        part.split("href=\"/newsroom/stories/")
            .skip(1)
            .map(|x| x[x.find('>').unwrap() + 1..x.find("</a>").unwrap()].to_owned())
            .collect()
    };
    let all = section(&get(&s, &b, "/newsroom").await.body);
    let by_sector = get(&s, &b, &format!("/newsroom?sector={sector}")).await;
    assert_eq!(by_sector.status, StatusCode::OK);
    assert!(by_sector
        .body
        .contains(&format!("<option value=\"{sector}\" selected>")));
    let in_sector = section(&by_sector.body);
    assert!(
        !in_sector.is_empty() && in_sector.len() < all.len(),
        "{in_sector:?} of {all:?}"
    );
    let want: Vec<String> = published
        .iter()
        .filter(|r| {
            s.app
                .read()
                .tax
                .sector(r.card.sector_id)
                .unwrap()
                .slug
                .as_str()
                == sector
        })
        .take(in_sector.len())
        .map(|r| {
            r.card
                .headline
                .to_string()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#x27;")
        })
        .collect();
    assert_eq!(
        in_sector, want,
        "the newest published stories of that sector"
    );
    let both = section(
        &get(
            &s,
            &b,
            &format!("/newsroom?sector={sector}&edition={edition}"),
        )
        .await
        .body,
    );
    assert!(both.len() <= in_sector.len() && both.iter().all(|h| in_sector.contains(h)));
    for bad in [
        "sector=astrology",
        "edition=atlantis",
        "desk=x",
        "author=nobody",
    ] {
        assert_eq!(
            get(&s, &b, &format!("/newsroom?{bad}")).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn admins_invite_and_the_invitation_works_once() {
    let s = site().await;
    let admin = login(&s, "admin@example.org").await;
    let r = post(
        &s,
        &admin,
        "/newsroom/users/invite",
        &[("email", "new@example.org"), ("role", "author")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let i = r.body.find("/newsroom/invitation/").unwrap();
    let path = r.body[i..i + 21 + 32].to_owned();
    let form = enc(&[
        ("name", "New Author"),
        ("password", "a long enough password"),
    ]);
    let ok = send(&s.router, "POST", &path, &[], form.clone()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let again = send(&s.router, "POST", &path, &[], form).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let b = login(&s, "new@example.org").await;
    assert_eq!(
        get(&s, &b, "/newsroom/users").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn presence_autosave_and_live_preview() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let admin = login(&s, "admin@example.org").await;
    let created = post(
        &s,
        &editor,
        "/newsroom/stories/new",
        &story_fields("Shared story", "Body"),
    )
    .await;
    let id = id_from(&created.header("location"));
    let first = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    assert!(!first.body.contains("Also editing now:"), "alone at first");
    let second = get(&s, &admin, &format!("/newsroom/stories/{id}")).await;
    assert!(
        second.body.contains("Also editing now: editor"),
        "the second person is told who else is there"
    );
    let mut fields = story_fields("Autosaved headline", "Autosaved body");
    fields.push(("version", "1"));
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/autosave"),
        &fields,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(json["saved_at"].as_str().unwrap().ends_with("UTC"));
    assert_eq!(json["others"], serde_json::json!(["admin"]));
    assert_eq!(
        s.store
            .get_story(StoryId(id))
            .await
            .unwrap()
            .headline
            .as_str(),
        "Shared story",
        "autosave is not a save"
    );
    s.clock.advance(chrono::Duration::seconds(5));
    let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    assert!(page.body.contains("You have autosaved text"));
    let restored = get(&s, &editor, &format!("/newsroom/stories/{id}?autosave=1")).await;
    assert!(restored.body.contains("value=\"Autosaved headline\""));
    assert_eq!(
        post(&s, &editor, &format!("/newsroom/stories/{id}"), &fields)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    assert!(
        !page.body.contains("You have autosaved text"),
        "a real save uses up the autosave"
    );
    let other_user = post(
        &s,
        &admin,
        &format!("/newsroom/stories/{id}/autosave"),
        &[("heartbeat", "1")],
    )
    .await;
    assert_eq!(other_user.status, StatusCode::OK);
    let preview = post(
        &s,
        &editor,
        "/newsroom/preview",
        &[("body_md", "**hi** <script>alert(1)</script>")],
    )
    .await;
    assert_eq!(
        preview.body.trim(),
        "<p><strong>hi</strong> </p>",
        "sanitised: the script is gone"
    );
    let contrib = login(&s, "contrib@example.org").await;
    let r = post(
        &s,
        &contrib,
        &format!("/newsroom/stories/{id}/autosave"),
        &fields,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "no autosave into a story one may not edit"
    );
}

fn multipart(csrf: &str, alt: &str, file: &[u8], file_name: &str) -> (String, Vec<u8>) {
    let boundary = "----newsdesk-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", csrf),
        ("alt", alt),
        ("caption", "A caption"),
        ("credit", "Photo: test"),
    ] {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PNG whose header claims 60,000 × 60,000 pixels with a tiny body: a decompression bomb.
fn png_bomb() -> Vec<u8> {
    let mut png = newsdesk_demo::png::encode_rgb(2, 2, &[0u8; 12]).unwrap();
    // IHDR data starts at byte 16: width and height, then fix the chunk's CRC.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_served_with_ranges() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let upload = |file: Vec<u8>, alt: &'static str, name: &'static str| {
        let (ct, body) = multipart(&editor.csrf, alt, &file, name);
        let cookie = editor.cookie.clone();
        let router = s.router.clone();
        async move {
            send(
                &router,
                "POST",
                "/newsroom/media",
                &[
                    ("cookie", &cookie),
                    ("content-type", &ct),
                    ("sec-fetch-site", "same-origin"),
                ],
                body,
            )
            .await
        }
    };
    let rgb: Vec<u8> = (0..640 * 360 * 3).map(|i| (i % 251) as u8).collect();
    let good = newsdesk_demo::png::encode_rgb(640, 360, &rgb).unwrap();
    let r = upload(good.clone(), "A test pattern", "pattern.png").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Uploaded picture"));
    let img = s
        .app
        .read()
        .images
        .values()
        .max_by_key(|i| i.id)
        .cloned()
        .unwrap();
    assert!(img.key.starts_with("img-"), "server-made name: {}", img.key);
    assert_eq!(
        img.widths,
        vec![480],
        "the srcset widths that fit, never upscaled"
    );
    // No public story uses it yet: the newsroom sees it through the session.
    let in_newsroom = format!("/newsroom{}", img.variant_path(480));
    let bytes = get(&s, &editor, &in_newsroom).await;
    assert_eq!(bytes.status, StatusCode::OK);
    assert_eq!(bytes.header("accept-ranges"), "bytes");
    let part = send(
        &s.router,
        "GET",
        &in_newsroom,
        &[("range", "bytes=0-9"), ("cookie", &editor.cookie)],
        vec![],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert!(part.header("content-range").starts_with("bytes 0-9/"));
    let bad_range = send(
        &s.router,
        "GET",
        &in_newsroom,
        &[("range", "bytes=999999999-"), ("cookie", &editor.cookie)],
        vec![],
    )
    .await;
    assert_eq!(bad_range.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let bomb = upload(png_bomb(), "Bomb", "bomb.png").await;
    assert_eq!(bomb.status, StatusCode::BAD_REQUEST);
    assert!(bomb.body.contains("too large to process"), "{}", bomb.body);
    let fake = upload(
        b"<html><body>not a picture</body></html>".to_vec(),
        "Fake",
        "photo.jpg",
    )
    .await;
    assert_eq!(fake.status, StatusCode::BAD_REQUEST);
    let svg = upload(
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
        "Drawing",
        "x.png",
    )
    .await;
    assert_eq!(svg.status, StatusCode::BAD_REQUEST);
    assert!(svg.body.contains("SVG"), "{}", svg.body);
    let no_alt = upload(good, "", "pattern.png").await;
    assert_eq!(
        no_alt.status,
        StatusCode::BAD_REQUEST,
        "alt text is required"
    );
    let count = s.app.read().images.len();
    let contrib = login(&s, "contrib@example.org").await;
    let (ct, body) = multipart(
        &contrib.csrf,
        "x",
        &newsdesk_demo::png::encode_rgb(4, 4, &[9u8; 48]).unwrap(),
        "x.png",
    );
    let r = send(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("cookie", &contrib.cookie),
            ("content-type", &ct),
            ("sec-fetch-site", "same-origin"),
        ],
        body,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "contributors do not upload"
    );
    assert_eq!(
        s.app.read().images.len(),
        count,
        "refused uploads saved nothing"
    );
}

#[tokio::test]
async fn two_step_login_over_http_and_required_setup() {
    let s = site().await;
    let b = login(&s, "editor@example.org").await;
    let page = get(&s, &b, "/newsroom/account").await;
    assert_eq!(page.status, StatusCode::OK);
    let i = page.body.find("class=\"totp-secret\">").unwrap() + 20;
    let secret = page.body[i..i + page.body[i..].find('<').unwrap()].to_owned();
    let raw = newsdesk_app::totp::base32_decode(&secret).unwrap();
    let code = |t: chrono::DateTime<Utc>| {
        format!(
            "{:06}",
            newsdesk_app::totp::code_at(&raw, t.timestamp() / 30)
        )
    };
    let on = post(
        &s,
        &b,
        "/newsroom/account/totp",
        &[("secret", &secret), ("code", &code(s.app.now()))],
    )
    .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert!(on.body.contains("Two-step login is on"));
    s.clock.advance(chrono::Duration::seconds(30));
    let step1 = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[
            ("email", "editor@example.org"),
            ("password", "a long enough password"),
        ]),
    )
    .await;
    assert_eq!(step1.status, StatusCode::OK);
    assert!(
        step1.header("set-cookie").is_empty(),
        "no session before the code"
    );
    let i = step1.body.find("name=\"pending\" value=\"").unwrap() + 22;
    let pending = step1.body[i..i + 32].to_owned();
    let wrong = send(
        &s.router,
        "POST",
        "/newsroom/login/code",
        &[],
        enc(&[("pending", &pending), ("code", "000000")]),
    )
    .await;
    if code(s.app.now()) != "000000" {
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let ok = send(
        &s.router,
        "POST",
        "/newsroom/login/code",
        &[],
        enc(&[("pending", &pending), ("code", &code(s.app.now()))]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(ok
        .header("set-cookie")
        .starts_with("__Host-newsdesk_session="));
    // Where the site requires a second factor, an admin without one is sent to set it up.
    let strict = App::load(
        s.store.clone(),
        s.clock.clone(),
        SiteConfig {
            base_url: "https://news.example".into(),
            require_totp_for_editors: true,
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    let router = newsdesk_web::router(newsdesk_web::WebState::new(strict, std::env::temp_dir()));
    let r = send(
        &router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[
            ("email", "admin@example.org"),
            ("password", "a long enough password"),
        ]),
    )
    .await;
    let cookie = r.header("set-cookie").split(';').next().unwrap().to_owned();
    let dash = send(&router, "GET", "/newsroom", &[("cookie", &cookie)], vec![]).await;
    assert_eq!(dash.status, StatusCode::SEE_OTHER);
    assert_eq!(dash.header("location"), "/newsroom/account");
    let acct = send(
        &router,
        "GET",
        "/newsroom/account",
        &[("cookie", &cookie)],
        vec![],
    )
    .await;
    assert!(acct.body.contains("requires two-step login"));
}

#[tokio::test]
async fn invitations_and_password_resets_are_e_mailed() {
    let s = site().await;
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    s.app.set_mailer(outbox.clone());
    let admin = login(&s, "admin@example.org").await;
    let r = post(
        &s,
        &admin,
        "/newsroom/users/invite",
        &[("email", "reporter@example.org"), ("role", "author")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    s.app.run_jobs_until_idle().await.unwrap();
    let jobs = get(&s, &admin, "/newsroom/jobs").await;
    assert!(jobs.body.contains("send_mail"), "the mail's job is listed");
    let mails = outbox.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to.as_str(), "reporter@example.org");
    let i = mails[0]
        .text
        .find("https://news.example/newsroom/invitation/")
        .expect("the link is in the mail");
    let path = mails[0].text[i + 20..i + 20 + 21 + 32].to_owned();
    let made = send(
        &s.router,
        "POST",
        &path,
        &[],
        enc(&[("name", "Reporter"), ("password", "a long enough password")]),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    // Password reset: the same answer for known and unknown addresses; a link that works once.
    let unknown = send(
        &s.router,
        "POST",
        "/newsroom/forgot",
        &[],
        enc(&[("email", "nobody@example.org")]),
    )
    .await;
    let known = send(
        &s.router,
        "POST",
        "/newsroom/forgot",
        &[],
        enc(&[("email", "reporter@example.org")]),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.body, known.body);
    s.app.reset_mails_sent().await;
    let mails = outbox.take();
    assert_eq!(mails.len(), 1, "only the known address gets mail");
    let i = mails[0]
        .text
        .find("https://news.example/newsroom/reset/")
        .unwrap();
    let path = mails[0].text[i + 20..i + 20 + 16 + 32].to_owned();
    let form = enc(&[("password", "a changed long password")]);
    assert_eq!(
        send(&s.router, "POST", &path, &[], form.clone())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&s.router, "POST", &path, &[], form).await.status,
        StatusCode::BAD_REQUEST,
        "the link works once"
    );
    let r = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[
            ("email", "reporter@example.org"),
            ("password", "a changed long password"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

fn fake_mp4() -> Vec<u8> {
    // An ISO-BMFF file starts with an `ftyp` box: size, "ftyp", major brand, minor version,
    // compatible brands. The rest does not matter to the sniffing.
    let mut v = Vec::new();
    v.extend_from_slice(&24u32.to_be_bytes());
    v.extend_from_slice(b"ftypisom");
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(b"isomiso2");
    v.extend_from_slice(&8u32.to_be_bytes());
    v.extend_from_slice(b"free");
    v.extend(std::iter::repeat_n(7u8, 4000));
    v
}

#[tokio::test]
async fn a_short_gets_its_video_and_plays_it_with_ranges() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let mut fields = story_fields("Watch: a short", "A short clip.");
    fields.retain(|(k, _)| *k != "kind");
    fields.push(("kind", "short"));
    fields.push(("hero_image", "1"));
    let created = post(&s, &editor, "/newsroom/stories/new", &fields).await;
    let id = id_from(&created.header("location"));
    let upload = |file: Vec<u8>, version: &'static str| {
        let boundary = "----vid";
        let mut body = Vec::new();
        for (name, value) in [("csrf", editor.csrf.as_str()), ("version", version)] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").as_bytes());
        body.extend_from_slice(&file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let (router, cookie) = (s.router.clone(), editor.cookie.clone());
        async move {
            send(
                &router,
                "POST",
                &format!("/newsroom/stories/{id}/video"),
                &[
                    ("cookie", &cookie),
                    (
                        "content-type",
                        &format!("multipart/form-data; boundary={boundary}"),
                    ),
                    ("sec-fetch-site", "same-origin"),
                ],
                body,
            )
            .await
        }
    };
    let html = upload(b"<html>not a video</html>".to_vec(), "1").await;
    assert_eq!(html.status, StatusCode::BAD_REQUEST, "{}", html.body);
    let ok = upload(fake_mp4(), "1").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let story = s.store.get_story(StoryId(id)).await.unwrap();
    let video = story.video.clone().unwrap();
    assert!(
        video.starts_with("vid-") && video.ends_with(".mp4"),
        "{video}"
    );
    let unpublished = send(&s.router, "GET", &format!("/media/{video}"), &[], vec![]).await;
    assert_eq!(unpublished.status, StatusCode::NOT_FOUND, "not public yet");
    let editor_page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
    assert!(editor_page
        .body
        .contains(&format!("href=\"/newsroom/media/{video}\"")));
    let preview = get(&s, &editor, &format!("/newsroom/media/{video}")).await;
    assert_eq!(preview.status, StatusCode::OK);
    let v = story.version.to_string();
    post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "submit"), ("version", &v)],
    )
    .await;
    let v = (story.version + 1).to_string();
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "publish"), ("version", &v)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let public = send(
        &s.router,
        "GET",
        &format!("/article/{}", story.slug),
        &[],
        vec![],
    )
    .await;
    assert!(
        public.body.contains(&format!(
            "<source src=\"/media/{video}\" type=\"video/mp4\">"
        )),
        "the page plays the video"
    );
    assert!(public.body.contains("poster=\"/media/"));
    let part = send(
        &s.router,
        "GET",
        &format!("/media/{video}"),
        &[("range", "bytes=100-199")],
        vec![],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.header("content-type"), "video/mp4");
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-199/{}", fake_mp4().len())
    );
}

#[tokio::test]
async fn every_newsroom_route_by_every_role_and_by_no_session() {
    let s = site().await;
    s.app
        .add_user(
            "author@example.org",
            "",
            Role::Author,
            "a long enough password",
        )
        .await
        .unwrap();
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
    // Agency copy and a source, for the wire desk's routes.
    s.app
        .ingest(vec![wire_item(
            "Agency A",
            "m-1",
            "Floods in Mombasa",
            "Heavy rain flooded Mombasa in Kenya.",
        )])
        .await
        .unwrap();
    let cluster = s
        .store
        .list_clusters(&WireQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    let admin_user = s
        .store
        .find_login(&EmailAddress::parse("admin@example.org").unwrap())
        .await
        .unwrap()
        .unwrap()
        .0;
    let (src, _) = s
        .app
        .add_source(&admin_user, "Matrix Wire", "", 15, false)
        .await
        .unwrap();
    let src = src.id;
    let dead_job = dead_letter(&s, "broken feed").await;
    // A reader's message for the feedback desk, a webhook, and stories an alert may be sent for
    // (one per role, so one role's alert does not make another's a repeat).
    let fb = s
        .store
        .add_feedback(
            &NewFeedback {
                name: String::new(),
                email: "reader@example.org".into(),
                message: "The map on the flood story is upside down.".into(),
                page: "/".into(),
            },
            t0(),
            None,
        )
        .await
        .unwrap();
    let hook = s
        .app
        .add_webhook(
            &admin_user,
            "https://hooks.example/in",
            &[WebhookEvent::StoryPublished],
        )
        .await
        .unwrap()
        .0
        .id;
    let alertable: Vec<String> = s
        .app
        .alert_candidates(&admin_user, 10)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| *id != story)
        .map(|id| id.to_string())
        .collect();
    assert!(alertable.len() >= 4, "{alertable:?}");
    // (method, path, expected status for: none, contributor, author, editor, admin)
    let get_routes: Vec<(String, [u16; 5])> = vec![
        ("/newsroom/wire".into(), [303, 200, 200, 200, 200]),
        (
            format!("/newsroom/wire/{cluster}"),
            [303, 200, 200, 200, 200],
        ),
        ("/newsroom/sources".into(), [303, 403, 403, 200, 200]),
        (
            format!("/newsroom/sources/{src}"),
            [303, 403, 403, 200, 200],
        ),
        ("/newsroom".into(), [303, 200, 200, 200, 200]),
        ("/newsroom/stories/new".into(), [303, 200, 200, 200, 200]),
        (
            format!("/newsroom/stories/{story}"),
            [303, 403, 403, 200, 200],
        ),
        (
            format!("/newsroom/stories/{story}/history"),
            [303, 403, 403, 200, 200],
        ),
        ("/newsroom/media".into(), [303, 200, 200, 200, 200]),
        ("/newsroom/account".into(), [303, 200, 200, 200, 200]),
        ("/newsroom/audit".into(), [303, 403, 403, 200, 200]),
        ("/newsroom/users".into(), [303, 403, 403, 403, 200]),
        ("/newsroom/admin/tokens".into(), [303, 403, 403, 403, 200]),
        ("/newsroom/jobs".into(), [303, 403, 403, 403, 200]),
        (
            "/newsroom/jobs?state=dead".into(),
            [303, 403, 403, 403, 200],
        ),
        ("/newsroom/newsletter".into(), [303, 403, 403, 200, 200]),
        ("/newsroom/subscribers".into(), [303, 403, 403, 200, 200]),
        (
            "/newsroom/subscribers?q=%25&after=3".into(),
            [303, 403, 403, 200, 200],
        ),
        (
            "/newsroom/subscribers.csv".into(),
            [303, 403, 403, 200, 200],
        ),
        (
            "/newsroom/subscribers.csv?q=example".into(),
            [303, 403, 403, 200, 200],
        ),
        // The feedback desk: editors and admins moderate.
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
            format!("/newsroom/feedback/{fb}"),
            [303, 403, 403, 200, 200],
        ),
        (
            "/newsroom/feedback/999999".into(),
            [303, 403, 403, 404, 404],
        ),
        // Webhooks: admins only.
        ("/newsroom/webhooks".into(), [303, 403, 403, 403, 200]),
        (
            format!("/newsroom/webhooks/{hook}"),
            [303, 403, 403, 403, 200],
        ),
        (
            "/newsroom/webhooks/999999".into(),
            [303, 403, 403, 403, 404],
        ),
    ];
    let mut browsers = vec![None];
    for who in [
        "contrib@example.org",
        "author@example.org",
        "editor@example.org",
        "admin@example.org",
    ] {
        browsers.push(Some(login(&s, who).await));
    }
    for (path, want) in &get_routes {
        for (i, b) in browsers.iter().enumerate() {
            let r = match b {
                Some(b) => get(&s, b, path).await,
                None => send(&s.router, "GET", path, &[], vec![]).await,
            };
            assert_eq!(r.status.as_u16(), want[i], "GET {path} as #{i}");
        }
    }
    // State changes: each tried on a fresh target so one role's success does not hide another's.
    for (i, b) in browsers.iter().enumerate() {
        let Some(b) = b else {
            let r = send(
                &s.router,
                "POST",
                &format!("/newsroom/stories/{story}/step"),
                &[],
                enc(&[("step", "unpublish"), ("version", "1")]),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "no session, no change");
            continue;
        };
        let current = s.store.get_story(story).await.unwrap();
        let step = if current.status == StoryStatus::Published {
            "unpublish"
        } else {
            "publish"
        };
        let r = post(
            &s,
            b,
            &format!("/newsroom/stories/{story}/step"),
            &[("step", step), ("version", &current.version.to_string())],
        )
        .await;
        let expect = if i >= 3 {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, expect, "{step} as #{i}");
        let r = post(
            &s,
            b,
            "/newsroom/users/invite",
            &[("email", &format!("x{i}@example.org")), ("role", "author")],
        )
        .await;
        assert_eq!(
            r.status,
            if i == 4 {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            },
            "invite as #{i}"
        );
        let r = post(
            &s,
            b,
            &format!("/newsroom/stories/{story}/correct"),
            &[("version", "0"), ("wrong", "a"), ("right", "b")],
        )
        .await;
        // Refused for those who may not correct; a stale version is a conflict for those who may.
        let expect = if i >= 3 {
            StatusCode::CONFLICT
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, expect, "a stale correction never lands (#{i})");
        // The wire desk: editors correct tags; only admins touch sources.
        let admin_id = admin_user.id.to_string();
        let wire_posts: [WirePost<'_>; 8] = [
            (
                "/newsroom/admin/tokens".into(),
                vec![
                    ("name", "matrix"),
                    ("owner", admin_id.as_str()),
                    ("scope", "publish"),
                    ("days", "30"),
                ],
                [403, 403, 403, 200],
            ),
            (
                "/newsroom/admin/tokens/1/revoke".into(),
                vec![],
                [403, 403, 403, 303],
            ),
            (
                format!("/newsroom/wire/{cluster}/tags"),
                vec![("sector", "health")],
                [403, 403, 303, 303],
            ),
            (
                format!("/newsroom/sources/{src}"),
                vec![("url", ""), ("poll_minutes", "20"), ("enabled", "on")],
                [403, 403, 403, 303],
            ),
            (
                format!("/newsroom/sources/{src}/token"),
                vec![],
                [403, 403, 403, 200],
            ),
            (
                format!("/newsroom/sources/{src}/auto-publish"),
                vec![],
                [403, 403, 403, 303],
            ),
            (
                format!("/newsroom/sources/{src}/poll"),
                vec![],
                [403, 403, 403, 409],
            ),
            (
                format!("/newsroom/jobs/{dead_job}/retry"),
                vec![],
                [403, 403, 403, 200],
            ),
        ];
        for (path, fields, want) in &wire_posts {
            let r = post(&s, b, path, fields).await;
            assert_eq!(r.status.as_u16(), want[i - 1], "POST {path} as #{i}");
        }
        // The feedback desk (an empty reply is a bad form for those who may reply), the
        // newsletter's breaking alert (a story of this role's own), webhooks.
        let hook_url = format!("https://hooks.example/{i}");
        let desk_posts: [WirePost<'_>; 7] = [
            (
                format!("/newsroom/feedback/{fb}/status"),
                vec![("status", "spam")],
                [403, 403, 303, 303],
            ),
            (
                format!("/newsroom/feedback/{fb}/reply"),
                vec![("reply", "")],
                [403, 403, 400, 400],
            ),
            (
                "/newsroom/newsletter/alert".into(),
                vec![("story", alertable[i - 1].as_str())],
                [403, 403, 200, 200],
            ),
            (
                // The role is checked before the form: a bad form is news only to those who
                // may send alerts.
                "/newsroom/newsletter/alert".into(),
                vec![("story", "not-a-number")],
                [403, 403, 400, 400],
            ),
            (
                "/newsroom/webhooks".into(),
                vec![("url", hook_url.as_str()), ("event", "story.published")],
                [403, 403, 403, 200],
            ),
            (
                format!("/newsroom/webhooks/{hook}"),
                vec![("action", "off")],
                [403, 403, 403, 303],
            ),
            (
                "/newsroom/webhooks/999999".into(),
                vec![("action", "on")],
                [403, 403, 403, 404],
            ),
        ];
        for (path, fields, want) in &desk_posts {
            let r = post(&s, b, path, fields).await;
            assert_eq!(r.status.as_u16(), want[i - 1], "POST {path} as #{i}");
        }
    }
    // What the refused roles tried changed nothing: the message was marked by an editor, two
    // alerts were made, one webhook was added.
    assert_eq!(
        s.store.get_feedback(fb).await.unwrap().status,
        FeedbackStatus::Spam
    );
    assert_eq!(s.store.list_digests(100).await.unwrap().len(), 2);
    assert_eq!(s.store.list_webhooks().await.unwrap().len(), 2);
    // And with no session at all, nothing of the wire desk, the feedback desk, the newsletter,
    // webhooks or API tokens changes.
    for path in [
        format!("/newsroom/wire/{cluster}/tags"),
        format!("/newsroom/sources/{src}/token"),
        format!("/newsroom/sources/{src}/auto-publish"),
        format!("/newsroom/feedback/{fb}/status"),
        format!("/newsroom/feedback/{fb}/reply"),
        "/newsroom/newsletter/alert".into(),
        "/newsroom/webhooks".into(),
        format!("/newsroom/webhooks/{hook}"),
        "/newsroom/admin/tokens".into(),
        "/newsroom/admin/tokens/1/revoke".into(),
    ] {
        let r = send(&s.router, "POST", &path, &[], enc(&[("sector", "health")])).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} with no session"
        );
    }
}

/// A job that failed for good with `error`, as a dead worker's last attempt leaves it.
async fn dead_letter(s: &Site, error: &str) -> JobId {
    // Other work first (summary drafts of copy the test took in), so the claim below is ours.
    s.app.run_jobs_until_idle().await.unwrap();
    let now = s.clock.now();
    let job = NewJob {
        kind: "poll_source".into(),
        payload: r#"{"source":999}"#.into(),
        run_at: now,
        dedupe: None,
        max_attempts: 1,
    };
    let id = s.store.enqueue_jobs(&[job], now).await.unwrap()[0].unwrap();
    let claimed = s
        .store
        .claim_jobs("gone", now, now + chrono::Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    s.store
        .finish_job(
            id,
            "gone",
            &JobOutcome::Dead {
                error: error.into(),
            },
            now,
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn admins_see_dead_letters_and_retry_them_once() {
    let s = site().await;
    let id = dead_letter(&s, "the feed <b>answered</b> 500").await;
    let admin = login(&s, "admin@example.org").await;
    let page = get(&s, &admin, "/newsroom/jobs?state=dead").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Failed for good: 1"), "{}", page.body);
    assert!(
        page.body
            .contains("the feed &#60;b&#62;answered&#60;/b&#62; 500")
            || page
                .body
                .contains("the feed &lt;b&gt;answered&lt;/b&gt; 500"),
        "escaped error: {}",
        page.body
    );
    assert!(page.body.contains(&format!("/newsroom/jobs/{id}/retry")));
    let r = post(&s, &admin, &format!("/newsroom/jobs/{id}/retry"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("queued again"));
    assert_eq!(s.store.get_job(id).await.unwrap().state, JobState::Queued);
    // Only a dead letter can be retried.
    let again = post(&s, &admin, &format!("/newsroom/jobs/{id}/retry"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bad = get(&s, &admin, "/newsroom/jobs?state=sleeping").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The retry is in the audit log.
    let audit = get(&s, &admin, "/newsroom/audit").await;
    assert!(audit.body.contains(&format!("job:{id}")));
    // Running the queue now: the source is gone, so the job is a dead letter again, with why.
    let round = s.app.run_jobs_until_idle().await.unwrap();
    assert_eq!(round.dead, 1);
    let j = s.store.get_job(id).await.unwrap();
    assert_eq!(j.state, JobState::Dead);
    assert!(j.last_error.unwrap().contains("no longer exists"));
}

/// A wire-desk form post: path, fields, expected status for contributor, author, editor, admin.
type WirePost<'a> = (String, Vec<(&'a str, &'a str)>, [u16; 4]);

fn wire_item(agency: &str, id: &str, headline: &str, body: &str) -> WireItem {
    WireItem {
        agency: agency.into(),
        agency_id: id.into(),
        version: 1,
        headline: headline.into(),
        summary: String::new(),
        body_html: format!("<p>{body}</p>"),
        byline: String::new(),
        urgency: Some(2),
        language: Some("en".into()),
        published_at: Some(t0()),
        updated_at: None,
        subjects: vec![],
        places: vec![],
        usage_terms: None,
        links: vec![format!("https://wire.example/{id}")],
        status: WireStatus::Usable,
        embargo: None,
    }
}

#[tokio::test]
async fn the_wire_desk_pages() {
    let s = site().await;
    let body_a = "Heavy rain flooded the Kenyan port city of Mombasa on Thursday, killing at least 12 people and cutting the main road to Nairobi. The Kenya Red Cross said thousands of families had left their homes.";
    let body_b = "At least 12 people died when heavy rain flooded Mombasa, Kenya's port city, on Thursday. The main road to Nairobi was cut and the Kenya Red Cross said thousands of families had left their homes.";
    let items = vec![
        wire_item(
            "Agency A",
            "a-1",
            "Floods kill 12 in Mombasa <script>alert(1)</script>",
            body_a,
        ),
        wire_item("Agency B", "b-1", "Mombasa floods leave 12 dead", body_b),
    ];
    s.app.ingest(items.clone()).await.unwrap();
    let editor = login(&s, "editor@example.org").await;
    let inbox = get(&s, &editor, "/newsroom/wire").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Agency A, Agency B"), "{}", inbox.body);
    assert!(!inbox.body.contains("<script>alert"));
    let none = get(&s, &editor, "/newsroom/wire?agency=Nobody").await;
    assert!(none.body.contains("No agency copy yet") || !none.body.contains("Agency A, Agency B"));
    let i = inbox.body.find("href=\"/newsroom/wire/").unwrap() + 6;
    let href = inbox.body[i..i + inbox.body[i..].find('"').unwrap()].to_owned();
    let page = get(&s, &editor, &href).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Differences from the first report") && page.body.contains("<ins>"));
    // The tagger's suggestions, corrected by the desk.
    assert!(page.body.contains("east-africa"), "{}", page.body);
    // Every tag shows what it rests on: the editions their places, the sector its words.
    assert!(
        page.body.contains("Mombasa (city, Kenya)") && page.body.contains("Kenyan"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("; sector science-environment (from: "),
        "{}",
        page.body
    );
    let r = post(
        &s,
        &editor,
        &format!("{href}/tags"),
        &[
            ("sector", "economy-business"),
            ("edition", "east-africa"),
            ("edition", "southern-africa"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let retagged = get(&s, &editor, &format!("{href}?saved=1")).await;
    assert!(
        retagged
            .body
            .contains("economy-business; east-africa, southern-africa"),
        "{}",
        retagged.body
    );
    let bad = post(
        &s,
        &editor,
        &format!("{href}/tags"),
        &[("sector", "astrology")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let by_sector = get(&s, &editor, "/newsroom/wire?sector=economy-business").await;
    assert!(by_sector.body.contains("Agency A, Agency B"));
    assert!(by_sector
        .body
        .contains("<option value=\"economy-business\" selected>"));
    // The inbox shows the last 48 hours unless asked for more; a made-up period is refused.
    assert!(get(&s, &editor, "/newsroom/wire?period=all")
        .await
        .body
        .contains("Agency A, Agency B"));
    assert_eq!(
        get(&s, &editor, "/newsroom/wire?period=forever")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = post(
        &s,
        &editor,
        &format!("{href}/summary"),
        &[("summary", "Floods in Mombasa kill 12.")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(get(&s, &editor, &href).await.body.contains("(accepted)"));
    let made = post(&s, &editor, &format!("{href}/story"), &[]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let id = id_from(&made.header("location"));
    let story = s.store.get_story(StoryId(id)).await.unwrap();
    assert_eq!(story.summary, "Floods in Mombasa kill 12.");
    assert_eq!(s.store.lineage(story.id).await.unwrap().len(), 2);
    let v = story.version.to_string();
    post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "submit"), ("version", &v)],
    )
    .await;
    let v = (story.version + 1).to_string();
    post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "publish"), ("version", &v)],
    )
    .await;
    let public = send(
        &s.router,
        "GET",
        &format!("/article/{}", story.slug),
        &[],
        vec![],
    )
    .await;
    assert!(public.body.contains("isBasedOn") && public.body.contains("https://wire.example/a-1"));
    assert!(public.body.contains("(This story has not been edited by staff and is auto-generated from a syndicated feed.)"), "unedited copy is labelled so");
    let mut gone = items[0].clone();
    gone.version = 2;
    gone.status = WireStatus::Withdrawn;
    s.app.ingest(vec![gone]).await.unwrap();
    let dash = get(&s, &editor, "/newsroom").await;
    assert!(dash
        .body
        .contains("Flagged: agency copy withdrawn or corrected"));
    assert!(dash.body.contains("withdrawn by the agency"));
    // The flagged story can be unpublished from the dashboard (and corrected from its editor).
    assert!(dash
        .body
        .contains(&format!("href=\"/newsroom/stories/{id}#corr-title\"")));
    let at = dash
        .body
        .find(&format!("action=\"/newsroom/stories/{id}/step\""))
        .expect("an unpublish form");
    let form = &dash.body[at..at + dash.body[at..].find("</form>").unwrap()];
    assert!(form.contains("name=\"step\" value=\"unpublish\""));
    let v0 = form.find("name=\"version\" value=\"").unwrap() + 22;
    let version = &form[v0..v0 + form[v0..].find('"').unwrap()];
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/step"),
        &[("step", "unpublish"), ("version", version)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        s.store.get_story(StoryId(id)).await.unwrap().status,
        StoryStatus::Unpublished
    );
    let r = post(&s, &editor, &format!("/newsroom/stories/{id}/flags"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!get(&s, &editor, "/newsroom")
        .await
        .body
        .contains("Flagged: agency copy"));
}

#[tokio::test]
async fn sources_page_and_the_push_endpoint() {
    let s = site().await;
    let admin = login(&s, "admin@example.org").await;
    let r = post(
        &s,
        &admin,
        "/newsroom/sources",
        &[
            ("name", "Pan-Regional Wire"),
            ("url", ""),
            ("poll_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let i = r.body.find("Bearer ").unwrap() + 7;
    let token = r.body[i..i + 48].to_owned();
    let j = r.body.find("/api/wire/").unwrap();
    let path = r.body[j..j + r.body[j..].find(' ').unwrap()].to_owned();
    let ninjs = br#"{"uri":"urn:prw:77","version":"2","headline":"Floods in Mombasa","body_text":"Rain flooded the Kenyan port city.","pubstatus":"usable","urgency":2}"#.to_vec();
    let wrong = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", "Bearer nope"),
            ("content-type", "application/json"),
        ],
        ninjs.clone(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("\"error\":\"unauthorized\""));
    let auth = format!("Bearer {token}");
    let ok = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        ninjs.clone(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("\"new\":1"));
    let again = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        ninjs,
    )
    .await;
    assert!(
        again.body.contains("\"duplicates\":1"),
        "an exact re-send makes no second item"
    );
    let bad = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        b"{\"uri\": ".to_vec(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("\"error\":\"unreadable\""));
    let page = get(&s, &admin, "/newsroom/sources").await;
    assert!(page.body.contains("Pan-Regional Wire") && page.body.contains("push only"));
    assert_eq!(
        get(&s, &admin, "/newsroom/wire")
            .await
            .body
            .matches("Floods in Mombasa")
            .count(),
        1
    );
    // The source's own page: health with items per day, settings, a new token, the rule.
    let src_id = path.trim_start_matches("/api/wire/").to_owned();
    let src_page = format!("/newsroom/sources/{src_id}");
    assert!(page.body.contains(&format!("href=\"{src_page}\"")));
    let health = get(&s, &admin, &src_page).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    assert!(health.body.contains("Items received per day"));
    assert!(
        health.body.contains("<td>Last 24 hours</td><td>1</td>"),
        "{}",
        health.body
    );
    let bad = post(
        &s,
        &admin,
        &src_page,
        &[("url", ""), ("poll_minutes", "0"), ("enabled", "on")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert!(bad.body.contains("value=\"0\""), "what was typed is kept");
    let ok = post(
        &s,
        &admin,
        &src_page,
        &[("url", ""), ("poll_minutes", "30"), ("enabled", "on")],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let fresh = post(&s, &admin, &format!("{src_page}/token"), &[]).await;
    assert_eq!(fresh.status, StatusCode::OK);
    let i = fresh.body.find("Bearer ").unwrap() + 7;
    let new_token = fresh.body[i..i + 48].to_owned();
    assert_ne!(new_token, token);
    let second = br#"{"uri":"urn:prw:78","version":"1","headline":"Second","body_text":"x","pubstatus":"usable"}"#.to_vec();
    let old = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        second.clone(),
    )
    .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old token is dead"
    );
    let new_auth = format!("Bearer {new_token}");
    let new = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &new_auth),
            ("content-type", "application/json"),
        ],
        second,
    )
    .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    let rule = post(
        &s,
        &admin,
        &format!("{src_page}/auto-publish"),
        &[
            ("auto_publish", "on"),
            ("sector", "health"),
            ("max_urgency", "2"),
            ("edition", "east-africa"),
        ],
    )
    .await;
    assert_eq!(rule.status, StatusCode::SEE_OTHER, "{}", rule.body);
    let shown = get(&s, &admin, &src_page).await.body;
    assert!(shown.contains("id=\"rule-on\" name=\"auto_publish\" value=\"on\" checked"));
    assert!(shown.contains("value=\"2\" selected"));
    let bad_rule = post(
        &s,
        &admin,
        &format!("{src_page}/auto-publish"),
        &[("auto_publish", "on"), ("sector", "astrology")],
    )
    .await;
    assert_eq!(bad_rule.status, StatusCode::BAD_REQUEST);
    let off = post(&s, &admin, &format!("{src_page}/auto-publish"), &[]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let off = post(
        &s,
        &admin,
        &src_page,
        &[("url", ""), ("poll_minutes", "30")],
    )
    .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let refused = send(
        &s.router,
        "POST",
        &path,
        &[
            ("authorization", &new_auth),
            ("content-type", "application/json"),
        ],
        br#"{"uri":"urn:prw:79","version":"1","headline":"Third","body_text":"x","pubstatus":"usable"}"#.to_vec(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("\"error\":\"source_off\""),
        "{}",
        refused.body
    );
    assert!(get(&s, &admin, "/newsroom/sources")
        .await
        .body
        .contains("<td>off</td>"));
    let polled = post(&s, &admin, &format!("{src_page}/poll"), &[]).await;
    assert_eq!(
        polled.status,
        StatusCode::CONFLICT,
        "a push-only source has nothing to poll"
    );
    let editor = login(&s, "editor@example.org").await;
    let seen = get(&s, &editor, &src_page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        !seen.body.contains("Save settings"),
        "editors see health only"
    );
    assert_eq!(
        post(&s, &editor, &format!("{src_page}/token"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&s, &admin, "/newsroom/sources/999999").await.status,
        StatusCode::NOT_FOUND
    );
    let contrib = login(&s, "contrib@example.org").await;
    assert_eq!(
        get(&s, &contrib, "/newsroom/sources").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&s, &contrib, &src_page).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&s.router, "GET", &path, &[], vec![]).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// The attack as it was tried: embargoed ninjs and NewsML-G2 pushed to a source that
/// auto-publishes. Before the embargo the stories are nowhere public (home, article, section,
/// feeds, sitemaps); the desk sees the embargo; after it, they are out.
#[tokio::test]
async fn embargoed_agency_copy_pushed_to_an_auto_publishing_source_waits_for_its_time() {
    let s = site().await;
    let admin = login(&s, "admin@example.org").await;
    let r = post(
        &s,
        &admin,
        "/newsroom/sources",
        &[
            ("name", "Embargo Wire"),
            ("url", ""),
            ("poll_minutes", "15"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let i = r.body.find("Bearer ").unwrap() + 7;
    let auth = format!("Bearer {}", &r.body[i..i + 48]);
    let j = r.body.find("/api/wire/").unwrap();
    let path = r.body[j..j + r.body[j..].find(' ').unwrap()].to_owned();
    let src_page = format!(
        "/newsroom/sources/{}",
        path.trim_start_matches("/api/wire/")
    );
    let rule = post(
        &s,
        &admin,
        &format!("{src_page}/auto-publish"),
        &[("auto_publish", "on")],
    )
    .await;
    assert_eq!(rule.status, StatusCode::SEE_OTHER, "{}", rule.body);
    // t0 is 09:00 UTC. ninjs: 14:00 at +02:00 = 12:00 UTC; NewsML-G2: 07:30 at -05:00 = 12:30 UTC.
    let ninjs = br#"{"uri":"urn:ew:n1","version":"1","headline":"Quarterly jobs figures show record hiring","body_text":"Employers added more workers in the quarter than in any quarter on record, the statistics office will say.","pubstatus":"usable","urgency":2,"embargoed":"2026-11-20T14:00:00+02:00"}"#.to_vec();
    let g2 = br#"<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:ew:g1" version="1" standard="NewsML-G2" standardversion="2.35">
  <itemMeta><itemClass qcode="ninat:text"/><provider literal="EW"/>
    <versionCreated>2026-11-20T08:55:00Z</versionCreated>
    <embargoed>2026-11-20T07:30:00-05:00</embargoed><pubStatus qcode="stat:usable"/></itemMeta>
  <contentMeta><urgency>2</urgency><headline>Comet probe lands on distant ice moon</headline></contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body><p>The probe touched down on the moon's icy crust after a seven-year flight, the space agency will announce.</p></body></html></inlineXML></contentSet>
</newsItem>"#.to_vec();
    for (body, ct) in [(ninjs, "application/json"), (g2, "application/xml")] {
        let ok = send(
            &s.router,
            "POST",
            &path,
            &[("authorization", &auth), ("content-type", ct)],
            body,
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(ok.body.contains("\"new\":1"), "{}", ok.body);
    }
    let twelve = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    s.app.run_jobs_until_idle().await.unwrap();
    let cards = s.store.list_published_cards().await.unwrap();
    let jobs = cards
        .iter()
        .find(|c| c.headline.as_str() == "Quarterly jobs figures show record hiring")
        .expect("auto-published, embargoed");
    let probe = cards
        .iter()
        .find(|c| c.headline.as_str() == "Comet probe lands on distant ice moon")
        .expect("auto-published, embargoed");
    assert_eq!(jobs.embargo_until, Some(twelve));
    assert_eq!(
        probe.embargo_until,
        Some(twelve + chrono::Duration::minutes(30))
    );
    let (jobs_url, probe_url) = (
        format!("/article/{}", jobs.slug),
        format!("/article/{}", probe.slug),
    );
    let sector = |c: &StoryCard| {
        let snap = s.app.read();
        let slug = &snap
            .tax
            .sectors
            .iter()
            .find(|x| x.id == c.sector_id)
            .unwrap()
            .slug;
        format!("/sector/{slug}")
    };
    let mut public_paths: Vec<String> = [
        "/",
        "/feed.rss",
        "/feed.atom",
        "/feed.json",
        "/sitemap.xml",
        "/sitemaps/stories-1.xml",
        "/sitemap-news.xml",
    ]
    .map(String::from)
    .to_vec();
    public_paths.extend([sector(jobs), sector(probe)]);
    public_paths.extend([sector(jobs), sector(probe)].map(|p| format!("{p}/feed.rss")));
    let seen = |body: &str, c: &StoryCard| {
        body.contains(c.headline.as_str()) || body.contains(c.slug.as_str())
    };
    for at in [t0(), twelve - chrono::Duration::seconds(1)] {
        s.clock.set(at);
        s.app.sync().await.unwrap();
        for url in [&jobs_url, &probe_url] {
            let r = send(&s.router, "GET", url, &[], vec![]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{url} at {at}");
        }
        for p in &public_paths {
            let r = send(&s.router, "GET", p, &[], vec![]).await;
            assert!(r.status.is_success(), "{p}: {}", r.status);
            assert!(!seen(&r.body, jobs) && !seen(&r.body, probe), "{p} at {at}");
        }
    }
    // The desk sees the embargoes: the inbox row and the cluster page.
    let editor = login(&s, "editor@example.org").await;
    let inbox = get(&s, &editor, "/newsroom/wire").await;
    assert!(
        inbox
            .body
            .contains("<strong class=\"embargo\">Embargoed until 20-11-2026 12:00 UTC</strong>"),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("Embargoed until 20-11-2026 12:30 UTC"));
    // At 12:00 the jobs story is out, the probe still waits.
    s.clock.set(twelve);
    s.app.sync().await.unwrap();
    assert_eq!(
        send(&s.router, "GET", &jobs_url, &[], vec![]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&s.router, "GET", &probe_url, &[], vec![]).await.status,
        StatusCode::NOT_FOUND
    );
    let home = send(&s.router, "GET", "/", &[], vec![]).await;
    assert!(seen(&home.body, jobs) && !seen(&home.body, probe));
    s.clock.set(twelve + chrono::Duration::minutes(31));
    s.app.sync().await.unwrap();
    for p in [
        "/",
        "/feed.rss",
        "/feed.atom",
        "/feed.json",
        "/sitemaps/stories-1.xml",
    ] {
        let r = send(&s.router, "GET", p, &[], vec![]).await;
        assert!(
            seen(&r.body, jobs) && seen(&r.body, probe),
            "{p}: {}",
            r.body
        );
    }
    assert_eq!(
        send(&s.router, "GET", &probe_url, &[], vec![]).await.status,
        StatusCode::OK
    );
    // Once it has ended the desk no longer shows the embargo.
    assert!(!get(&s, &editor, "/newsroom/wire")
        .await
        .body
        .contains("Embargoed until"));
}

/// The attack as it was tried: 200 wrong passwords at once for one account. Five are checked
/// (401), the rest refused at once with the "too many attempts" page (429).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_over_http_are_throttled() {
    let s = site().await;
    let before = s.app.password_checks();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200 {
        let router = s.router.clone();
        set.spawn(async move {
            let pw = format!("wrong password {i}");
            send(
                &router,
                "POST",
                "/newsroom/login",
                &[("sec-fetch-site", "same-origin")],
                enc(&[("email", "editor@example.org"), ("password", &pw)]),
            )
            .await
        });
    }
    let answers = tokio::time::timeout(std::time::Duration::from_secs(120), set.join_all())
        .await
        .expect("answered in time");
    let count = |st: StatusCode| answers.iter().filter(|r| r.status == st).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 5);
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 195);
    assert!(answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .all(|r| r.body.contains("Too many attempts")));
    assert_eq!(s.app.password_checks() - before, 5);
}

/// Forgot-password, as it was tried: 100 requests for one address. The answer is the same
/// page for a known and an unknown address; at most three e-mails go out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_over_http_sends_at_most_three_mails() {
    let s = site().await;
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    s.app.set_mailer(outbox.clone());
    let forgot = |email: &'static str| {
        let router = s.router.clone();
        async move {
            send(
                &router,
                "POST",
                "/newsroom/forgot",
                &[("sec-fetch-site", "same-origin")],
                enc(&[("email", email)]),
            )
            .await
        }
    };
    let known = forgot("editor@example.org").await;
    let unknown = forgot("nobody@example.org").await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, unknown.body, "the same page either way");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..100 {
        set.spawn(forgot("editor@example.org"));
    }
    let answers = tokio::time::timeout(std::time::Duration::from_secs(60), set.join_all())
        .await
        .expect("answered in time");
    assert!(answers
        .iter()
        .all(|r| r.status == StatusCode::OK || r.status == StatusCode::TOO_MANY_REQUESTS));
    assert!(answers
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .all(|r| r.body == known.body));
    s.app.reset_mails_sent().await;
    let mails = outbox.take();
    assert_eq!(mails.len(), 3, "three e-mails per account and hour");
    assert!(mails.iter().all(|m| m.to.as_str() == "editor@example.org"));
}

/// A request body that sends `first` (if any), then promises more that never comes, counting
/// how often the server asked for it: what a slow or hostile client does.
struct Promised {
    first: Option<axum::body::Bytes>,
    asked: Arc<std::sync::atomic::AtomicUsize>,
}

impl http_body::Body for Promised {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.first.take() {
            Some(b) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(b)))),
            None => std::task::Poll::Pending,
        }
    }
}

/// Sends a request whose body never ends; returns the answer and how often the body was
/// polled. A server that waits for the body fails the time bound.
async fn send_promised(
    r: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    first: Option<Vec<u8>>,
) -> (Res, usize) {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = Body::new(Promised {
        first: first.map(Into::into),
        asked: asked.clone(),
    });
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        r.clone().oneshot(req.body(body).unwrap()),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {path}: the server waited for a body it should refuse"))
    .unwrap();
    (
        read(res).await,
        asked.load(std::sync::atomic::Ordering::SeqCst),
    )
}

fn upload_files_left(media: &std::path::Path) -> usize {
    std::fs::read_dir(media)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn refused_requests_are_answered_without_reading_their_bodies() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let contrib = login(&s, "contrib@example.org").await;
    let admin = login(&s, "admin@example.org").await;
    let admin_user = s
        .app
        .session(admin.cookie.split_once('=').unwrap().1)
        .await
        .unwrap()
        .unwrap()
        .user;
    let (source, _token) = s
        .app
        .add_source(&admin_user, "Slow Wire", "", 15, false)
        .await
        .unwrap();
    let ten_mib = (10 * 1024 * 1024).to_string();

    // A push with a wrong token, or to no source, promising 10 MiB it never sends: answered
    // 401 at once, its body never asked for.
    for path in [format!("/api/wire/{}", source.id), "/api/wire/9999".into()] {
        let (r, asked) = send_promised(
            &s.router,
            "POST",
            &path,
            &[
                ("authorization", "Bearer wrong"),
                ("content-type", "application/json"),
                ("content-length", &ten_mib),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.body);
        assert_eq!(asked, 0, "{path}: the body of a refused push is not read");
    }

    // A newsroom form without a session, or from another site: refused unread.
    let form_ct = ("content-type", "application/x-www-form-urlencoded");
    let (r, asked) = send_promised(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[form_ct, ("content-length", "2000000")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(asked, 0, "no session: the form is not read");
    let (r, asked) = send_promised(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[
            form_ct,
            ("cookie", &editor.cookie),
            ("origin", "https://evil.example"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(asked, 0, "another site's form is not read");
    // The pages open without a session take small forms only.
    let big = format!("email=a%40example.org&password={}", "x".repeat(70 * 1024));
    let r = send(
        &s.router,
        "POST",
        "/newsroom/login",
        &[("sec-fetch-site", "same-origin")],
        big.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("64 KiB"), "{}", r.body);

    // Uploads: session, role and origin are checked before the body, the CSRF token (the
    // first field) before the file.
    let boundary = "----promised";
    let mp_ct = format!("multipart/form-data; boundary={boundary}");
    let head = |csrf: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n\
             Content-Type: image/png\r\n\r\nPNG"
        )
        .into_bytes()
    };
    let (r, asked) = send_promised(
        &s.router,
        "POST",
        "/newsroom/media",
        &[("content-type", &mp_ct), ("sec-fetch-site", "same-origin")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(asked, 0, "no session: the upload is not read");
    let (r, asked) = send_promised(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("content-type", &mp_ct),
            ("cookie", &contrib.cookie),
            ("sec-fetch-site", "same-origin"),
        ],
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "contributors do not upload"
    );
    assert_eq!(asked, 0, "a contributor's upload is not read");
    let (r, asked) = send_promised(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("content-type", &mp_ct),
            ("cookie", &editor.cookie),
            ("sec-fetch-site", "cross-site"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(asked, 0, "another site's upload is not read");
    let (r, _) = send_promised(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("content-type", &mp_ct),
            ("cookie", &editor.cookie),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(head("not-the-token")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Answered while the file is still promised: only the first part was read.
    let media = s.media.clone();
    assert_eq!(upload_files_left(&media), 0);

    // Where two-step login is required, an editor without it uploads nothing (as for every
    // other newsroom request), and the body is not read.
    let strict = App::load(
        s.store.clone(),
        s.clock.clone(),
        SiteConfig {
            base_url: "https://news.example".into(),
            require_totp_for_editors: true,
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    let strict_router = newsdesk_web::router(newsdesk_web::WebState::new(strict, media.clone()));
    let (r, asked) = send_promised(
        &strict_router,
        "POST",
        "/newsroom/media",
        &[
            ("content-type", &mp_ct),
            ("cookie", &editor.cookie),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(head(&editor.csrf)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/newsroom/account");
    assert_eq!(asked, 0, "no second factor: the upload is not read");

    // A picture larger than 2 MiB goes through (streamed to a temporary file, then removed);
    // one over the limit is refused with 413 and leaves nothing behind.
    let mut x = 12345u32;
    let noise: Vec<u8> = (0..1000 * 1000 * 3)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let png = newsdesk_demo::png::encode_rgb(1000, 1000, &noise).unwrap();
    assert!(png.len() > 2 * 1024 * 1024, "{}", png.len());
    let count = s.app.read().images.len();
    let (ct, body) = multipart(&editor.csrf, "Noise", &png, "noise.png");
    let r = send(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("cookie", &editor.cookie),
            ("content-type", &ct),
            ("sec-fetch-site", "same-origin"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Uploaded picture"));
    assert_eq!(s.app.read().images.len(), count + 1);
    let (ct, body) = multipart(
        &editor.csrf,
        "Too big",
        &vec![7u8; 17 * 1024 * 1024],
        "big.png",
    );
    let r = send(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("cookie", &editor.cookie),
            ("content-type", &ct),
            ("sec-fetch-site", "same-origin"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(
        upload_files_left(&media),
        0,
        "temporary upload files are removed"
    );
}

#[tokio::test]
async fn hsts_is_sent_for_an_https_site_only() {
    let s = site().await;
    for path in ["/", "/newsroom/login", "/no-such-page"] {
        let r = send(&s.router, "GET", path, &[], vec![]).await;
        assert_eq!(
            r.header("strict-transport-security"),
            "max-age=31536000",
            "{path}"
        );
    }
    let off = newsdesk_web::router(newsdesk_web::WebState::with_hsts(
        s.app.clone(),
        std::env::temp_dir(),
        false,
    ));
    let r = send(&off, "GET", "/", &[], vec![]).await;
    assert_eq!(r.header("strict-transport-security"), "");
    let plain = App::load(
        s.store.clone(),
        s.clock.clone(),
        SiteConfig {
            base_url: "http://127.0.0.1:9000".into(),
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    let plain = newsdesk_web::router(newsdesk_web::WebState::new(plain, std::env::temp_dir()));
    let r = send(&plain, "GET", "/", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("strict-transport-security"), "", "plain HTTP site");
}

#[tokio::test]
async fn a_diff_of_two_huge_revisions_is_coarse_with_a_note() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    // Two bodies of 99,999 short lines that share nothing: a full comparison table would hold
    // about 10^10 cells (40 GB), which the old code tried to allocate.
    let old = "a\n".repeat(99_999);
    let new = "b\n".repeat(99_999);
    let created = post(
        &s,
        &editor,
        "/newsroom/stories/new",
        &story_fields("A long story", &old),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_from(&created.header("location"));
    let mut edit = story_fields("A long story", &new);
    edit.push(("version", "1"));
    let saved = post(&s, &editor, &format!("/newsroom/stories/{id}"), &edit).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let hist = get(&s, &editor, &format!("/newsroom/stories/{id}/history")).await;
    assert_eq!(hist.status, StatusCode::OK);
    assert!(
        hist.body.contains("too long or too different to compare"),
        "the history says the difference is coarse"
    );
    assert!(hist.body.contains("<del>a\na\n") && hist.body.contains("<ins>b\nb\n"));
    // A small edit still gets its word-by-word difference and no note.
    for body in ["b\nc\n", "b\nd\n"] {
        let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
        let i = page.body.find("name=\"version\" value=\"").unwrap() + 22;
        let v = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
        let mut edit = story_fields("A long story", body);
        edit.push(("version", &v));
        let r = post(&s, &editor, &format!("/newsroom/stories/{id}"), &edit).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let hist = get(&s, &editor, &format!("/newsroom/stories/{id}/history")).await;
    assert!(
        hist.body.contains("<del>c\n</del><ins>d\n</ins>"),
        "{}",
        hist.body
    );
    assert!(!hist.body.contains("too long or too different"));
}

#[tokio::test]
async fn a_tag_only_unpublished_stories_carry_is_not_found() {
    let s = site().await;
    let contrib = login(&s, "contrib@example.org").await;
    let editor = login(&s, "editor@example.org").await;
    let mut fields = story_fields("Board weighs a quiet takeover", "Not for readers yet.");
    fields.retain(|(k, _)| *k != "tags");
    fields.push(("tags", "Quiet takeover talks"));
    fields.push(("embargo_until", "2026-11-20T12:00"));
    let created = post(&s, &contrib, "/newsroom/stories/new", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_from(&created.header("location"));
    let paths = [
        "/tag/quiet-takeover-talks",
        "/tag/quiet-takeover-talks/feed.rss",
        "/tag/quiet-takeover-talks/feed.atom",
        "/tag/quiet-takeover-talks/feed.json",
        "/south-asia/tag/quiet-takeover-talks",
        "/south-asia/tag/quiet-takeover-talks/feed.atom",
    ];
    let status = |p: &'static str| {
        let r = s.router.clone();
        async move { send(&r, "GET", p, &[], vec![]).await.status }
    };
    for p in paths {
        assert_eq!(status(p).await, StatusCode::NOT_FOUND, "draft: {p}");
    }
    // Published under an embargo: still nothing until the embargo ends.
    for step in ["submit", "publish"] {
        let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
        let i = page.body.find("name=\"version\" value=\"").unwrap() + 22;
        let v = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
        let r = post(
            &s,
            &editor,
            &format!("/newsroom/stories/{id}/step"),
            &[("step", step), ("version", &v)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.body);
    }
    for p in paths {
        assert_eq!(status(p).await, StatusCode::NOT_FOUND, "embargoed: {p}");
    }
    s.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 1).unwrap());
    s.app.sync().await.unwrap();
    for p in paths {
        assert_eq!(status(p).await, StatusCode::OK, "public: {p}");
    }
}

#[tokio::test]
async fn contributors_see_neither_who_edits_others_stories_nor_embargoed_headlines() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let contrib = login(&s, "contrib@example.org").await;
    // The editor writes a story under embargo and publishes it; another sits in review.
    let mut fields = story_fields("Minister to resign on Friday", "Embargoed copy.");
    fields.push(("embargo_until", "2026-11-21T06:00"));
    let created = post(&s, &editor, "/newsroom/stories/new", &fields).await;
    let id = id_from(&created.header("location"));
    for step in ["submit", "publish"] {
        let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
        let i = page.body.find("name=\"version\" value=\"").unwrap() + 22;
        let v = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
        let r = post(
            &s,
            &editor,
            &format!("/newsroom/stories/{id}/step"),
            &[("step", step), ("version", &v)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.body);
    }
    let in_review = post(
        &s,
        &editor,
        "/newsroom/stories/new",
        &story_fields("Merger talks collapse", "Review copy."),
    )
    .await;
    let review_id = id_from(&in_review.header("location"));
    let mine = post(
        &s,
        &contrib,
        "/newsroom/stories/new",
        &story_fields("My own little draft", "Mine."),
    )
    .await;
    assert_eq!(mine.status, StatusCode::SEE_OTHER);
    // The editor has both open.
    for i in [id, review_id] {
        get(&s, &editor, &format!("/newsroom/stories/{i}")).await;
    }
    // Presence: the contributor's heartbeat on someone else's story is refused, names none.
    for i in [id, review_id] {
        let r = post(
            &s,
            &contrib,
            &format!("/newsroom/stories/{i}/autosave"),
            &[("heartbeat", "1")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(!r.body.contains("editor@") && !r.body.contains("\"others\""));
    }
    // The editor still sees who else is there on their own story.
    let admin = login(&s, "admin@example.org").await;
    get(&s, &admin, &format!("/newsroom/stories/{id}")).await;
    let r = post(
        &s,
        &editor,
        &format!("/newsroom/stories/{id}/autosave"),
        &[("heartbeat", "1")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("admin"), "{}", r.body);
    // Dashboard: no embargoed or in-review headline of others, even by searching for it.
    for q in ["", "?q=Minister", "?q=Merger"] {
        let dash = get(&s, &contrib, &format!("/newsroom{q}")).await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(!dash.body.contains("Minister to resign"), "embargoed: {q}");
        assert!(
            !dash.body.contains("Merger talks collapse"),
            "in review: {q}"
        );
    }
    let dash = get(&s, &contrib, "/newsroom").await;
    assert!(dash.body.contains("My own little draft"));
    let dash = get(&s, &editor, "/newsroom").await;
    assert!(dash.body.contains("Minister to resign"));
    // Once the embargo ends the story is public, and the contributor's dashboard may list it.
    s.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 1).unwrap());
    s.app.sync().await.unwrap();
    let contrib = login(&s, "contrib@example.org").await; // the old session timed out
    let dash = get(&s, &contrib, "/newsroom").await;
    assert!(dash.body.contains("Minister to resign"));
}

#[tokio::test]
async fn pictures_of_unpublished_stories_are_not_served_to_anyone() {
    let s = site().await;
    let editor = login(&s, "editor@example.org").await;
    let contrib = login(&s, "contrib@example.org").await;
    let rgb: Vec<u8> = (0..640 * 360 * 3).map(|i| (i % 241) as u8).collect();
    let png = newsdesk_demo::png::encode_rgb(640, 360, &rgb).unwrap();
    let (ct, body) = multipart(&editor.csrf, "The leaked picture", &png, "p.png");
    let r = send(
        &s.router,
        "POST",
        "/newsroom/media",
        &[
            ("cookie", &editor.cookie),
            ("content-type", &ct),
            ("sec-fetch-site", "same-origin"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let img = s
        .app
        .read()
        .images
        .values()
        .max_by_key(|i| i.id)
        .cloned()
        .unwrap();
    let public_url = img.variant_path(480);
    assert_eq!(
        send(
            &s.router,
            "GET",
            &format!("/newsroom{public_url}"),
            &[],
            vec![]
        )
        .await
        .status,
        StatusCode::SEE_OTHER,
        "no session, no picture"
    );
    // A draft uses it as its hero image: nobody outside gets it by its URL.
    let id_s = img.id.0.to_string();
    let mut fields = story_fields("A story with a secret picture", "Body.");
    fields.push(("hero_image", &id_s));
    fields.push(("embargo_until", "2026-11-20T12:00"));
    let created = post(&s, &editor, "/newsroom/stories/new", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_from(&created.header("location"));
    let anon = |p: String| {
        let r = s.router.clone();
        async move { send(&r, "GET", &p, &[], vec![]).await.status }
    };
    assert_eq!(
        anon(public_url.clone()).await,
        StatusCode::NOT_FOUND,
        "draft"
    );
    // The newsroom's media list shows it through the session.
    let media = get(&s, &editor, "/newsroom/media").await;
    assert!(media
        .body
        .contains(&format!("src=\"/newsroom{public_url}\"")));
    // Any newsroom login sees it in the newsroom.
    assert_eq!(
        get(&s, &contrib, &format!("/newsroom{public_url}"))
            .await
            .status,
        StatusCode::OK
    );
    // Published under embargo: still not served; after the embargo, it is.
    for step in ["submit", "publish"] {
        let page = get(&s, &editor, &format!("/newsroom/stories/{id}")).await;
        let i = page.body.find("name=\"version\" value=\"").unwrap() + 22;
        let v = page.body[i..i + page.body[i..].find('"').unwrap()].to_owned();
        let r = post(
            &s,
            &editor,
            &format!("/newsroom/stories/{id}/step"),
            &[("step", step), ("version", &v)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.body);
    }
    assert_eq!(
        anon(public_url.clone()).await,
        StatusCode::NOT_FOUND,
        "embargoed"
    );
    s.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 1).unwrap());
    s.app.sync().await.unwrap();
    assert_eq!(anon(public_url.clone()).await, StatusCode::OK, "public");
    // A made-up width or extension of a public picture is still nothing.
    let other = public_url.replace("-480.", "-481.");
    assert_eq!(anon(other).await, StatusCode::NOT_FOUND);
}

/// The second-factor gate is part of the session extractor every newsroom route takes: where
/// the site requires it, an admin who has logged in with the password but not set up the
/// second factor gets nothing but the way to set it up, on every route, form or multipart,
/// known or not (pages and forms alike go to `/newsroom/account`), and an upload's body is
/// never read.
#[tokio::test]
async fn a_half_logged_in_admin_reaches_only_the_second_factor_setup() {
    let s = site().await;
    let strict = App::load(
        s.store.clone(),
        s.clock.clone(),
        SiteConfig {
            base_url: "https://news.example".into(),
            require_totp_for_editors: true,
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    let router = newsdesk_web::router(newsdesk_web::WebState::new(strict, s.media.clone()));
    let r = send(
        &router,
        "POST",
        "/newsroom/login",
        &[],
        enc(&[
            ("email", "admin@example.org"),
            ("password", "a long enough password"),
        ]),
    )
    .await;
    let cookie = r.header("set-cookie").split(';').next().unwrap().to_owned();
    let acct = send(
        &router,
        "GET",
        "/newsroom/account",
        &[("cookie", &cookie)],
        vec![],
    )
    .await;
    assert_eq!(acct.status, StatusCode::OK);
    let i = acct.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = acct.body[i..i + acct.body[i..].find('"').unwrap()].to_owned();
    let gated = |r: &Res, what: &str| {
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{what}: {}", r.body);
        assert_eq!(r.header("location"), "/newsroom/account", "{what}");
    };
    for path in [
        "/newsroom",
        "/newsroom/stories/new",
        "/newsroom/stories/1",
        "/newsroom/stories/1/history",
        "/newsroom/wire",
        "/newsroom/sources",
        "/newsroom/media",
        "/newsroom/media/x.png",
        "/newsroom/audit",
        "/newsroom/jobs",
        "/newsroom/users",
        "/newsroom/no-such-page",
    ] {
        let r = send(&router, "GET", path, &[("cookie", &cookie)], vec![]).await;
        gated(&r, &format!("GET {path}"));
    }
    let same = ("sec-fetch-site", "same-origin");
    for path in [
        "/newsroom/stories/new",
        "/newsroom/preview",
        "/newsroom/stories/1/step",
        "/newsroom/users/invite",
        "/newsroom/sources",
        "/newsroom/no-such-form",
    ] {
        let r = send(
            &router,
            "POST",
            path,
            &[("cookie", &cookie), same],
            enc(&[
                ("csrf", &csrf),
                ("email", "x@example.org"),
                ("role", "admin"),
            ]),
        )
        .await;
        gated(&r, &format!("POST {path}"));
    }
    let boundary = "----gate";
    let mp_ct = format!("multipart/form-data; boundary={boundary}");
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\nPNG"
    )
    .into_bytes();
    for path in ["/newsroom/media", "/newsroom/stories/1/video"] {
        let (r, asked) = send_promised(
            &router,
            "POST",
            path,
            &[("content-type", &mp_ct), ("cookie", &cookie), same],
            Some(head.clone()),
        )
        .await;
        gated(&r, &format!("multipart POST {path}"));
        assert_eq!(asked, 0, "{path}: the upload is not read");
    }
    assert_eq!(upload_files_left(&s.media), 0);
    // Setting up the second factor and logging out stay open.
    let out = send(
        &router,
        "POST",
        "/newsroom/logout",
        &[("cookie", &cookie), same],
        enc(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.header("location"), "/newsroom/login");
}

/// One error type, two faces: the designed page for browsers, an RFC 9457 problem document
/// for a caller that accepts JSON and not HTML; other methods are a designed 405.
#[tokio::test]
async fn newsroom_errors_are_pages_for_browsers_and_problems_for_json_callers() {
    let s = site().await;
    let b = login(&s, "contrib@example.org").await;
    let page = get(&s, &b, "/newsroom/audit").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.body.contains("Your role does not allow this."),
        "{}",
        page.body
    );
    for (path, accept, status, title) in [
        ("/newsroom/audit", "application/json", 403, "Not allowed"),
        (
            "/newsroom/nowhere",
            "application/problem+json",
            404,
            "Not found",
        ),
        (
            "/newsroom/stories/999999",
            "application/json",
            404,
            "Not found",
        ),
    ] {
        let r = send(
            &s.router,
            "GET",
            path,
            &[("cookie", &b.cookie), ("accept", accept)],
            vec![],
        )
        .await;
        assert_eq!(r.status.as_u16(), status, "{path}");
        assert_eq!(
            r.header("content-type"),
            "application/problem+json",
            "{path}"
        );
        let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(p["status"], status, "{path}");
        assert_eq!(p["title"], title, "{path}");
        assert!(
            p["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{path}"
        );
    }
    // A form refused for its token, asked as JSON.
    let r = send(
        &s.router,
        "POST",
        "/newsroom/stories/new",
        &[
            ("cookie", &b.cookie),
            ("sec-fetch-site", "same-origin"),
            ("accept", "application/json"),
        ],
        enc(&[("csrf", "wrong"), ("headline", "x")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let r = send(
        &s.router,
        "PUT",
        "/newsroom",
        &[("cookie", &b.cookie)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.body.contains("Use the forms of the newsroom."),
        "{}",
        r.body
    );
}
