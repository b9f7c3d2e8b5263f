//! In-process tests of the JSON API: public content (embargo and draft rules, cursors, cache
//! rules), API tokens (the role × scope matrix, revocation, expiry, the rate limit, the audit
//! log), bad bodies as problem documents, and the OpenAPI document.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::Duration;
use newsdesk_app::{ApiSettings, StoryForm};
use newsdesk_domain::*;
use std::sync::Arc;
use tower::ServiceExt;

mod common;
use common::{plain_request, request, site_with, t0, Res, Setup, Site, ROLES};

async fn site() -> Site {
    site_with(Setup::default()).await
}

async fn send(
    r: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Res {
    request(r, plain_request(method, path, headers, body)).await
}

async fn get(s: &Site, path: &str) -> Res {
    send(&s.router, "GET", path, &[], vec![]).await
}

async fn call(s: &Site, token: &str, method: &str, path: &str, body: serde_json::Value) -> Res {
    let auth = format!("Bearer {token}");
    send(
        &s.router,
        method,
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
    .await
}

async fn token(s: &Site, role: Role, scopes: &[ApiScope]) -> (ApiTokenId, String) {
    let admin = s.user(Role::Admin).clone();
    let owner = s.user(role).id;
    let (t, secret) = s
        .app
        .create_api_token(&admin, owner, "test", scopes, 30)
        .await
        .unwrap();
    (t.id, secret)
}

/// A headline never used before in this process (slugs are made from headlines).
fn fresh(headline: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{headline} {n}")
}

fn form(headline: &str) -> StoryForm {
    StoryForm {
        headline: fresh(headline),
        summary: "A summary.".into(),
        body_md: "Body text.".into(),
        kind: "news".into(),
        sector: "health".into(),
        tags: "api-test-tag".into(),
        ..StoryForm::default()
    }
}

fn story_json(headline: &str) -> serde_json::Value {
    serde_json::json!({
        "headline": fresh(headline), "kind": "news", "sector": "health", "body_md": "Text.",
        "tags": ["api-test-tag"], "editions": [{"edition": "global"}]
    })
}

/// A story of the editor's, submitted for review.
async fn in_review(s: &Site, headline: &str) -> Story {
    let ed = s.user(Role::Editor).clone();
    let st = s.app.create_story(&ed, &form(headline)).await.unwrap();
    s.app
        .transition(&ed, st.id, st.version, Transition::Submit, None)
        .await
        .unwrap()
}

/// A published story of the editor's.
async fn published(s: &Site, headline: &str) -> Story {
    let ed = s.user(Role::Editor).clone();
    let st = in_review(s, headline).await;
    s.app
        .transition(&ed, st.id, st.version, Transition::Publish, None)
        .await
        .unwrap()
}

/// What a token of `role` with only `scope` gets for each operation: the status when the scope
/// and the role both allow it, else refused. Expected outcomes are written out per role, not
/// derived from the code under test.
#[tokio::test]
async fn every_token_operation_by_every_role_and_scope() {
    let s = site().await;
    let src = s
        .app
        .add_source(s.user(Role::Admin), "Matrix Wire", "", 15, false)
        .await
        .unwrap()
        .0;
    use ApiScope::*;
    // (operation, scope it needs, lowest role allowed).
    let ops: [(&str, ApiScope, Role); 8] = [
        ("create", WriteStories, Role::Contributor),
        ("read-others-draft", ReadDrafts, Role::Editor),
        ("update-others-draft", WriteStories, Role::Editor),
        ("submit-own", WriteStories, Role::Contributor),
        ("publish", Publish, Role::Editor),
        ("correct", Publish, Role::Editor),
        ("upload", WriteStories, Role::Author),
        ("push", WirePush, Role::Contributor),
    ];
    let mut checked = 0;
    for (_, role) in ROLES {
        for scope in ApiScope::ALL {
            let (_, tok) = token(&s, role, &[scope]).await;
            let me = s.user(role).clone();
            for (op, needs, lowest) in ops {
                let allowed = scope == needs && role >= lowest;
                let res = match op {
                    "create" => {
                        call(
                            &s,
                            &tok,
                            "POST",
                            "/api/v1/newsroom/stories",
                            story_json("Made by a token"),
                        )
                        .await
                    }
                    "read-others-draft" => {
                        let st = in_review(&s, "Someone else's copy").await;
                        call(
                            &s,
                            &tok,
                            "GET",
                            &format!("/api/v1/newsroom/stories/{}", st.id),
                            serde_json::json!(null),
                        )
                        .await
                    }
                    "update-others-draft" => {
                        let st = in_review(&s, "Someone else's copy").await;
                        let mut body = story_json("Rewritten by a token");
                        body["version"] = st.version.into();
                        call(
                            &s,
                            &tok,
                            "PUT",
                            &format!("/api/v1/newsroom/stories/{}", st.id),
                            body,
                        )
                        .await
                    }
                    "submit-own" => {
                        let st = s
                            .app
                            .create_story(&me, &form("My own draft"))
                            .await
                            .unwrap();
                        call(
                            &s,
                            &tok,
                            "POST",
                            &format!("/api/v1/newsroom/stories/{}/transitions", st.id),
                            serde_json::json!({"step": "submit", "version": st.version}),
                        )
                        .await
                    }
                    "publish" => {
                        let st = in_review(&s, "Ready to go").await;
                        let r = call(
                            &s,
                            &tok,
                            "POST",
                            &format!("/api/v1/newsroom/stories/{}/transitions", st.id),
                            serde_json::json!({"step": "publish", "version": st.version}),
                        )
                        .await;
                        let now = s.store.get_story(st.id).await.unwrap().status;
                        assert_eq!(
                            now == StoryStatus::Published,
                            allowed,
                            "{role:?} {scope:?} publish"
                        );
                        r
                    }
                    "correct" => {
                        let st = published(&s, "Out and wrong").await;
                        call(&s, &tok, "POST", &format!("/api/v1/newsroom/stories/{}/corrections", st.id), serde_json::json!({"version": st.version, "wrong": "It said 5.", "right": "It is 6."})).await
                    }
                    "upload" => {
                        let auth = format!("Bearer {tok}");
                        send(
                            &s.router,
                            "POST",
                            "/api/v1/newsroom/images?alt=A%20picture",
                            &[("authorization", &auth)],
                            b"not a picture at all".to_vec(),
                        )
                        .await
                    }
                    _ => {
                        let auth = format!("Bearer {tok}");
                        send(
                            &s.router,
                            "POST",
                            &format!("/api/wire/{}", src.id),
                            &[
                                ("authorization", &auth),
                                ("content-type", "application/json"),
                            ],
                            b"{not ninjs".to_vec(),
                        )
                        .await
                    }
                };
                let want = match (op, allowed) {
                    ("create", true) | ("correct", true) => StatusCode::CREATED,
                    // Allowed, then refused by content: the picture is junk.
                    ("upload", true) => StatusCode::UNPROCESSABLE_ENTITY,
                    ("push", true) => StatusCode::BAD_REQUEST,
                    ("push", false) => StatusCode::UNAUTHORIZED,
                    (_, true) => StatusCode::OK,
                    (_, false) => StatusCode::FORBIDDEN,
                };
                assert_eq!(
                    res.status, want,
                    "{role:?} with {scope:?}: {op}: {}",
                    res.body
                );
                if op != "push" && !allowed {
                    res.problem(StatusCode::FORBIDDEN);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 4 * 8);
}

#[tokio::test]
async fn an_author_token_with_every_scope_cannot_publish() {
    let s = site().await;
    let (_, tok) = token(&s, Role::Author, &ApiScope::ALL).await;
    let made = call(
        &s,
        &tok,
        "POST",
        "/api/v1/newsroom/stories",
        story_json("Author's piece"),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let (id, v) = (
        made.json()["id"].as_i64().unwrap(),
        made.json()["version"].as_i64().unwrap(),
    );
    let sub = call(
        &s,
        &tok,
        "POST",
        &format!("/api/v1/newsroom/stories/{id}/transitions"),
        serde_json::json!({"step": "submit", "version": v}),
    )
    .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    let v = sub.json()["version"].as_i64().unwrap();
    for step in ["publish", "schedule", "kill"] {
        let r = call(
            &s,
            &tok,
            "POST",
            &format!("/api/v1/newsroom/stories/{id}/transitions"),
            serde_json::json!({"step": step, "version": v, "at": "2030-01-01T00:00:00Z"}),
        )
        .await;
        r.problem(StatusCode::FORBIDDEN);
    }
    assert_eq!(
        s.store.get_story(StoryId(id)).await.unwrap().status,
        StoryStatus::InReview
    );
    get(&s, &format!("/api/v1/stories/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn writes_are_audited_with_the_token_id_and_versions_are_checked() {
    let s = site().await;
    let (tid, tok) = token(
        &s,
        Role::Editor,
        &[ApiScope::WriteStories, ApiScope::Publish],
    )
    .await;
    let made = call(
        &s,
        &tok,
        "POST",
        "/api/v1/newsroom/stories",
        story_json("Audited"),
    )
    .await;
    let id = made.json()["id"].as_i64().unwrap();
    let mut body = story_json("Audited, edited");
    body["version"] = 1.into();
    assert_eq!(
        call(
            &s,
            &tok,
            "PUT",
            &format!("/api/v1/newsroom/stories/{id}"),
            body.clone()
        )
        .await
        .status,
        StatusCode::OK
    );
    // The same version again is stale: refused, nothing overwritten.
    body["headline"] = "Overwriting".into();
    call(
        &s,
        &tok,
        "PUT",
        &format!("/api/v1/newsroom/stories/{id}"),
        body,
    )
    .await
    .problem(StatusCode::CONFLICT);
    let sub = call(
        &s,
        &tok,
        "POST",
        &format!("/api/v1/newsroom/stories/{id}/transitions"),
        serde_json::json!({"step": "submit", "version": 2}),
    )
    .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    let pubd = call(
        &s,
        &tok,
        "POST",
        &format!("/api/v1/newsroom/stories/{id}/transitions"),
        serde_json::json!({"step": "publish", "version": 3}),
    )
    .await;
    assert_eq!(pubd.status, StatusCode::OK, "{}", pubd.body);
    assert!(s
        .store
        .get_story(StoryId(id))
        .await
        .unwrap()
        .headline
        .as_str()
        .starts_with("Audited, edited"));
    let log = s.app.audit_log(s.user(Role::Admin), None).await.unwrap();
    let via = format!("via API token {tid}");
    let mine: Vec<_> = log
        .entries
        .iter()
        .filter(|(e, _)| e.detail.contains(&via))
        .map(|(e, _)| e.action.as_str())
        .collect();
    assert!(
        mine.contains(&"create") && mine.contains(&"publish"),
        "{mine:?}"
    );
    assert!(log
        .entries
        .iter()
        .filter(|(e, _)| e.detail.contains(&via))
        .all(|(e, _)| e.user_id == Some(s.user(Role::Editor).id)));
}

#[tokio::test]
async fn revocation_and_expiry_take_effect_at_once() {
    let s = site().await;
    let (tid, tok) = token(&s, Role::Editor, &[ApiScope::ReadDrafts]).await;
    let st = in_review(&s, "Held copy").await;
    let path = format!("/api/v1/newsroom/stories/{}", st.id);
    assert_eq!(
        call(&s, &tok, "GET", &path, serde_json::json!(null))
            .await
            .status,
        StatusCode::OK
    );
    let listed = s.app.api_tokens(s.user(Role::Admin)).await.unwrap();
    assert_eq!(listed[0].0.last_used_at, Some(t0()), "last use shown");
    // An editor may not revoke; an admin may, and the next request is refused.
    assert!(s
        .app
        .revoke_api_token(s.user(Role::Editor), tid)
        .await
        .is_err());
    s.app
        .revoke_api_token(s.user(Role::Admin), tid)
        .await
        .unwrap();
    call(&s, &tok, "GET", &path, serde_json::json!(null))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // Expiry.
    let (_, tok2) = token(&s, Role::Editor, &[ApiScope::ReadDrafts]).await;
    assert_eq!(
        call(&s, &tok2, "GET", &path, serde_json::json!(null))
            .await
            .status,
        StatusCode::OK
    );
    s.clock.advance(Duration::days(30));
    call(&s, &tok2, "GET", &path, serde_json::json!(null))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // A disabled owner's token stops too.
    s.clock.set(t0());
    let (_, tok3) = token(&s, Role::Author, &[ApiScope::ReadDrafts]).await;
    s.app
        .set_user_access(
            s.user(Role::Admin),
            s.user(Role::Author).id,
            Role::Author,
            true,
        )
        .await
        .unwrap();
    call(&s, &tok3, "GET", &path, serde_json::json!(null))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // Junk and a source's kind of token.
    for bad in ["", "ndt_", "ndt_00", "Basic abc", &"x".repeat(5000)] {
        call(&s, bad, "GET", &path, serde_json::json!(null))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_rate_limit_counts_requests_before_their_work() {
    let s = site().await;
    s.app.set_api_settings(ApiSettings {
        rate_per_minute: 3,
        ..ApiSettings::default()
    });
    let (_, tok) = token(&s, Role::Editor, &[ApiScope::WriteStories]).await;
    let before = s.store.count_stories().await.unwrap();
    let mut codes = Vec::new();
    for i in 0..5 {
        codes.push(
            call(
                &s,
                &tok,
                "POST",
                "/api/v1/newsroom/stories",
                story_json(&format!("Flood {i}")),
            )
            .await
            .status,
        );
    }
    assert_eq!(codes[..3], [StatusCode::CREATED; 3]);
    assert_eq!(codes[3..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    assert_eq!(
        s.store.count_stories().await.unwrap(),
        before + 3,
        "refused requests did nothing"
    );
    // The next minute counts afresh; another token has its own count.
    s.clock.advance(Duration::minutes(1));
    assert_eq!(
        call(
            &s,
            &tok,
            "POST",
            "/api/v1/newsroom/stories",
            story_json("Next minute")
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // A full map of counters refuses a token it does not count yet, rather than growing.
    s.app.set_api_settings(ApiSettings {
        rate_per_minute: 3,
        rate_tracked_tokens: 1,
        ..ApiSettings::default()
    });
    let (_, other) = token(&s, Role::Editor, &[ApiScope::WriteStories]).await;
    call(
        &s,
        &other,
        "POST",
        "/api/v1/newsroom/stories",
        story_json("Crowded"),
    )
    .await
    .problem(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn bad_bodies_and_oversized_requests_are_4xx_problems() {
    let s = site().await;
    s.app.set_api_settings(ApiSettings {
        body_max_bytes: 4096,
        ..ApiSettings::default()
    });
    let (_, tok) = token(&s, Role::Editor, &ApiScope::ALL).await;
    let auth = format!("Bearer {tok}");
    let post = |body: Vec<u8>, ct: &'static str| {
        let auth = auth.clone();
        let r = s.router.clone();
        async move {
            send(
                &r,
                "POST",
                "/api/v1/newsroom/stories",
                &[("authorization", &auth), ("content-type", ct)],
                body,
            )
            .await
        }
    };
    for bad in [
        &b"{"[..],
        b"[]",
        b"null",
        b"{\"headline\": 5}",
        b"\xff\xfe",
        b"{\"headline\":\"x\",\"kind\":\"news\",\"sector\":\"health\",\"bogus\":1}",
    ] {
        post(bad.to_vec(), "application/json")
            .await
            .problem(StatusCode::BAD_REQUEST);
    }
    post(b"headline=x".to_vec(), "application/x-www-form-urlencoded")
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Valid JSON, invalid story: 422 with the field named.
    let r = post(
        serde_json::json!({"headline": "", "kind": "nope", "sector": "health"})
            .to_string()
            .into_bytes(),
        "application/json",
    )
    .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["detail"].as_str().unwrap().contains("kind"));
    // Too large: declared, and streamed without a length.
    let big = format!("{{\"headline\":\"{}\"}}", "a".repeat(10_000)).into_bytes();
    post(big.clone(), "application/json")
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    let chunks: Vec<Vec<u8>> = big.chunks(1000).map(<[u8]>::to_vec).collect();
    let json = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, _) = send_chunks(&s, "/api/v1/newsroom/stories", &json, chunks, false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A body is read only once the token, its scope and its owner's role are known: refused
    // requests promising a body they never send are answered without polling it.
    let (_, contrib) = token(&s, Role::Contributor, &ApiScope::ALL).await;
    let contrib = format!("Bearer {contrib}");
    let (_, reader) = token(&s, Role::Editor, &[ApiScope::ReadDrafts]).await;
    let reader = format!("Bearer {reader}");
    for (path, auth, want) in [
        (
            "/api/v1/newsroom/stories",
            "Bearer ndt_nope",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/v1/newsroom/stories",
            reader.as_str(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/newsroom/stories/1/corrections",
            reader.as_str(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/newsroom/images?alt=x",
            contrib.as_str(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/newsroom/images?alt=x",
            reader.as_str(),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let h = [
            ("authorization", auth),
            ("content-type", "application/json"),
        ];
        let (status, polled) = send_chunks(&s, path, &h, vec![b"{".to_vec()], true).await;
        assert_eq!((status, polled), (want, 0), "{path} {auth}");
    }
    // Unknown paths and methods under /api/v1 are problems too.
    get(&s, "/api/v1/nothing")
        .await
        .problem(StatusCode::NOT_FOUND);
    send(&s.router, "DELETE", "/api/v1/stories", &[], vec![])
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    // Without a token the body is never looked at: 401 whatever it is.
    send(
        &s.router,
        "POST",
        "/api/v1/newsroom/stories",
        &[("content-type", "application/json")],
        big,
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
}

/// A body of chunks and no length; counts how often it was polled, and with `endless` never
/// ends after them (a sender promising more).
struct Chunks {
    left: std::collections::VecDeque<axum::body::Bytes>,
    endless: bool,
    polled: Arc<std::sync::atomic::AtomicUsize>,
}

impl http_body::Body for Chunks {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.polled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.left.pop_front() {
            Some(b) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(b)))),
            None if self.endless => std::task::Poll::Pending,
            None => std::task::Poll::Ready(None),
        }
    }
}

/// Sends `chunks` as a body without a length; returns the status and how often it was polled.
async fn send_chunks(
    s: &Site,
    path: &str,
    headers: &[(&str, &str)],
    chunks: Vec<Vec<u8>>,
    endless: bool,
) -> (StatusCode, usize) {
    let polled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut req = Request::builder().method("POST").uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = Body::new(Chunks {
        left: chunks.into_iter().map(Into::into).collect(),
        endless,
        polled: polled.clone(),
    });
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        s.router.clone().oneshot(req.body(body).unwrap()),
    )
    .await
    .unwrap_or_else(|_| panic!("{path}: the server waited for a body it should refuse"))
    .unwrap();
    let status = res.status();
    (status, polled.load(std::sync::atomic::Ordering::SeqCst))
}

#[tokio::test]
async fn embargoed_and_draft_stories_are_absent_from_every_public_answer() {
    let s = site().await;
    let ed = s.user(Role::Editor).clone();
    let draft = s
        .app
        .create_story(&ed, &form("SECRETDRAFT copy"))
        .await
        .unwrap();
    let review = in_review(&s, "SECRETREVIEW copy").await;
    // Published under an embargo that ends in an hour.
    let mut f = form("SECRETEMBARGO copy");
    f.embargo_until = (t0() + Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let emb = s.app.create_story(&ed, &f).await.unwrap();
    let emb = s
        .app
        .transition(&ed, emb.id, emb.version, Transition::Submit, None)
        .await
        .unwrap();
    let emb = s
        .app
        .transition(&ed, emb.id, emb.version, Transition::Publish, None)
        .await
        .unwrap();
    // Scheduled for tomorrow.
    let sch = in_review(&s, "SECRETSCHEDULE copy").await;
    s.app
        .transition(
            &ed,
            sch.id,
            sch.version,
            Transition::Schedule,
            Some(t0() + Duration::days(1)),
        )
        .await
        .unwrap();
    // A correction on a public story, so the corrections list has something.
    let open = published(&s, "Public copy").await;
    s.app
        .correct_story(&ed, open.id, open.version, "It said 5.", "It is 6.")
        .await
        .unwrap();
    let hidden = [draft.id, review.id, emb.id, sch.id];
    let mut answers = Vec::new();
    let lists = [
        "/api/v1/stories?limit=100".to_owned(),
        "/api/v1/stories?edition=global&limit=100".to_owned(),
        "/api/v1/stories?sector=health&limit=100".to_owned(),
        "/api/v1/stories?kind=news&limit=100".to_owned(),
        "/api/v1/stories?tag=api-test-tag&limit=100".to_owned(),
        "/api/v1/corrections".to_owned(),
        "/api/v1/editions".to_owned(),
        "/api/v1/sectors".to_owned(),
    ];
    for p in &lists {
        answers.push((p.clone(), get(&s, p).await));
    }
    for id in hidden {
        let st = s.store.get_story(id).await.unwrap();
        for p in [
            format!("/api/v1/stories/{id}"),
            format!("/api/v1/stories/by-slug/{}", st.slug),
        ] {
            let r = get(&s, &p).await;
            r.problem(StatusCode::NOT_FOUND);
            answers.push((p, r));
        }
    }
    // Walk the whole stream by cursor, a few at a time.
    let mut next = Some(String::new());
    let mut seen = Vec::new();
    while let Some(c) = next {
        let p = if c.is_empty() {
            "/api/v1/stories?limit=3".to_owned()
        } else {
            format!("/api/v1/stories?limit=3&cursor={c}")
        };
        let r = get(&s, &p).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        seen.extend(
            j["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_i64().unwrap()),
        );
        next = j["next_cursor"].as_str().map(str::to_owned);
        answers.push((p, r));
    }
    let public = s.app.read().all_public(s.app.now()).count();
    let mut uniq = seen.clone();
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(
        (seen.len(), uniq.len()),
        (public, public),
        "every public story once"
    );
    for (p, r) in &answers {
        for word in [
            "SECRETDRAFT",
            "SECRETREVIEW",
            "SECRETEMBARGO",
            "SECRETSCHEDULE",
        ] {
            assert!(!r.body.contains(word), "{p} shows {word}");
        }
        for id in hidden {
            assert!(
                !r.body.contains(&format!("\"id\":{},", id.0)),
                "{p} shows {id}"
            );
        }
    }
    assert!(answers[0].1.body.contains("Public copy"));
    assert!(answers[5].1.body.contains("It is 6."));
    // The embargo ends: the story appears in the (cached) answers at once.
    s.clock.advance(Duration::hours(1));
    s.app.sync().await.unwrap();
    assert!(get(&s, "/api/v1/stories?limit=100")
        .await
        .body
        .contains("SECRETEMBARGO"));
    assert_eq!(
        get(&s, &format!("/api/v1/stories/{}", emb.id)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn public_answers_follow_the_cache_rules_and_check_their_parameters() {
    let s = site().await;
    let st = published(&s, "Cache me").await;
    let p = format!("/api/v1/stories/{}", st.id);
    let r = get(&s, &p).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("cache-control").starts_with("public, max-age="));
    let etag = r.header("etag");
    assert!(etag.starts_with('"'));
    let again = send(&s.router, "GET", &p, &[("if-none-match", &etag)], vec![]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let j = r.json();
    assert_eq!(j["headline"], st.headline.to_string());
    assert_eq!(
        j["url"],
        format!("https://news.example/article/{}", st.slug)
    );
    // A change purges the answer: a correction shows at once, with a new ETag.
    let ed = s.user(Role::Editor).clone();
    s.app
        .correct_story(&ed, st.id, st.version, "Wrong.", "Right.")
        .await
        .unwrap();
    let r2 = get(&s, &p).await;
    assert!(r2.body.contains("Right.") && r2.header("etag") != etag);
    // By slug; an old slug moves.
    assert_eq!(
        get(&s, &format!("/api/v1/stories/by-slug/{}", st.slug))
            .await
            .json()["id"],
        st.id.0
    );
    // The syndication forms share the route.
    assert_eq!(
        get(&s, &format!("/api/v1/stories/{}.ninjs.json", st.id))
            .await
            .status,
        StatusCode::OK
    );
    // Ids: digits only; other forms are 404 problems.
    for bad in [
        "abc",
        "-1",
        "+5",
        "5.json",
        "5.ninjs.xml",
        "99999999999999999999",
        "0",
    ] {
        get(&s, &format!("/api/v1/stories/{bad}"))
            .await
            .problem(StatusCode::NOT_FOUND);
    }
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=zz",
        "cursor=",
        "bogus=1",
        "sector=health&tag=x",
        "limit=1&limit=2",
    ] {
        let r = get(&s, &format!("/api/v1/stories?{bad}")).await;
        if bad == "cursor=" {
            assert_eq!(r.status, StatusCode::OK);
        } else {
            r.problem(StatusCode::BAD_REQUEST);
        }
    }
    for missing in [
        "edition=nowhere",
        "sector=nowhere",
        "kind=nowhere",
        "tag=nowhere",
        "author=nobody",
    ] {
        get(&s, &format!("/api/v1/stories?{missing}"))
            .await
            .problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_covers_the_api() {
    let s = site().await;
    let r = get(&s, "/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let d = r.json();
    assert_eq!(d["openapi"], "3.1.0");
    for path in [
        "/api/v1/stories",
        "/api/v1/stories/{id}",
        "/api/v1/stories/by-slug/{slug}",
        "/api/v1/editions",
        "/api/v1/sectors",
        "/api/v1/corrections",
        "/api/v1/newsroom/stories",
        "/api/v1/newsroom/stories/{id}",
        "/api/v1/newsroom/stories/{id}/transitions",
        "/api/v1/newsroom/stories/{id}/corrections",
        "/api/v1/newsroom/images",
        "/api/v1/search",
        "/api/v1/stories/{id}.ninjs.json",
        "/api/v1/stories/{id}.newsml.xml",
    ] {
        assert!(d["paths"][path].is_object(), "{path} missing");
    }
    // The syndication forms with their own media types.
    for (path, ct) in [
        ("/api/v1/stories/{id}.ninjs.json", "application/ninjs+json"),
        (
            "/api/v1/stories/{id}.newsml.xml",
            "application/vnd.iptc.g2.newsitem+xml",
        ),
    ] {
        let ok = &d["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(ok[ct].is_object(), "{path}: {ok}");
        assert!(
            d["paths"][path]["get"]["responses"]["404"]["content"]["application/problem+json"]
                .is_object()
        );
    }
    assert!(d["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        d["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    assert_eq!(
        d["paths"]["/api/v1/newsroom/stories"]["post"]["responses"]["401"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

/// Every 401 from the API carries an RFC 6750 challenge; `error="invalid_token"` only when a
/// bearer token was sent (unknown, revoked or expired).
#[tokio::test]
async fn every_401_carries_a_bearer_challenge() {
    let s = site().await;
    let (tid, tok) = token(&s, Role::Editor, &ApiScope::ALL).await;
    let st = in_review(&s, "Challenged copy").await;
    let path = format!("/api/v1/newsroom/stories/{}", st.id);
    let plain = r#"Bearer realm="newsdesk""#;
    // No token, or another scheme: the challenge without an error.
    for headers in [vec![], vec![("authorization", "Basic YTpi")]] {
        for (method, p) in [
            ("GET", path.as_str()),
            ("POST", "/api/v1/newsroom/stories"),
            ("POST", "/api/v1/newsroom/images"),
        ] {
            let r = send(&s.router, method, p, &headers, vec![]).await;
            r.problem(StatusCode::UNAUTHORIZED);
            assert_eq!(r.header("www-authenticate"), plain, "{method} {p}");
        }
    }
    // A bad, revoked or expired token: invalid_token.
    let bad = |r: &Res| {
        r.problem(StatusCode::UNAUTHORIZED);
        let c = r.header("www-authenticate");
        assert!(c.starts_with("Bearer realm=\"newsdesk\""), "{c}");
        assert!(c.contains(r#"error="invalid_token""#), "{c}");
    };
    bad(&call(&s, "ndt_0000", "GET", &path, serde_json::json!(null)).await);
    assert_eq!(
        call(&s, &tok, "GET", &path, serde_json::json!(null))
            .await
            .status,
        StatusCode::OK
    );
    s.app
        .revoke_api_token(s.user(Role::Admin), tid)
        .await
        .unwrap();
    bad(&call(&s, &tok, "PUT", &path, story_json("Revoked")).await);
    let (_, tok2) = token(&s, Role::Editor, &ApiScope::ALL).await;
    s.clock.advance(Duration::days(31));
    bad(&call(&s, &tok2, "GET", &path, serde_json::json!(null)).await);
    // The agency push endpoint too.
    let r = send(
        &s.router,
        "POST",
        "/api/wire/1",
        &[("authorization", "Bearer wrong")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r
        .header("www-authenticate")
        .contains(r#"error="invalid_token""#));
    let r = send(&s.router, "POST", "/api/wire/1", &[], b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate"), plain);
    // Other refusals carry no challenge.
    let r = get(&s, "/api/v1/stories/999999").await;
    assert!(r.headers.get("www-authenticate").is_none());
}
