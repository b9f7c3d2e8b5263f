//! What the in-process web tests share: a demo site on a temporary SQLite file with its users,
//! one request through the router read whole, form encoding, and a browser logged in to the
//! newsroom. Each test file keeps its own thin `send` (which headers it adds by default).
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_mail::MemoryMailer;
use newsdesk_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

/// Every test user's password.
pub const PASSWORD: &str = "a long enough password";

/// One user of each role below admin and an admin.
pub const ROLES: [(&str, Role); 4] = [
    ("contrib@example.org", Role::Contributor),
    ("author@example.org", Role::Author),
    ("editor@example.org", Role::Editor),
    ("admin@example.org", Role::Admin),
];

/// The site's clock at the start of every test.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

/// A site: its router, and behind it what the test may check or set up directly.
pub struct Site {
    pub router: Router,
    pub app: Arc<App>,
    /// The database, for test setup and checks (the site reaches it only through `app`).
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub media: PathBuf,
    /// Where the site's mail goes.
    pub mail: Arc<MemoryMailer>,
    /// The users made at set-up, in the order given.
    pub users: Vec<User>,
}

impl Site {
    /// The set-up user with this role.
    pub fn user(&self, role: Role) -> &User {
        self.users.iter().find(|u| u.role == role).unwrap()
    }
}

/// How a test's site is made.
pub struct Setup {
    /// Demo stories (seed 5).
    pub stories: usize,
    pub config: SiteConfig,
    /// Users made with [`PASSWORD`].
    pub users: &'static [(&'static str, Role)],
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            stories: 12,
            config: SiteConfig {
                base_url: "https://news.example".into(),
                ..SiteConfig::default()
            },
            users: &ROLES,
        }
    }
}

/// A demo site made as `setup` says, with mail kept in memory.
pub async fn site_with(setup: Setup) -> Site {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: setup.stories,
            now: t0(),
            seed: 5,
            media_dir: media.clone(),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), setup.config)
        .await
        .unwrap();
    let mut users = Vec::new();
    for (email, role) in setup.users {
        users.push(app.add_user(email, "", *role, PASSWORD).await.unwrap());
    }
    let mail = Arc::new(MemoryMailer::new());
    app.set_mailer(mail.clone());
    let router = newsdesk_web::router(newsdesk_web::WebState::new(app.clone(), media.clone()));
    Site {
        router,
        app,
        store,
        clock,
        media,
        mail,
        users,
    }
}

/// A response read whole.
pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Res {
    /// A header's value ("" when absent).
    pub fn header(&self, k: &str) -> String {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts an RFC 9457 problem document with this status.
    pub fn problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        let p = self.json();
        assert_eq!(p["status"], status.as_u16());
        assert!(p["title"].is_string() && p["detail"].is_string());
    }
}

/// Sends one request through the router and reads the answer whole.
pub async fn request(r: &Router, req: Request<Body>) -> Res {
    read(r.clone().oneshot(req).await.unwrap()).await
}

/// A response read whole.
pub async fn read(res: axum::response::Response) -> Res {
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

/// `pairs` as an `application/x-www-form-urlencoded` body.
pub fn enc(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Percent-encodes everything but letters and digits.
pub fn pct(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The value of the input `name` in a page (`name="…" value="…"`).
pub fn field(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {body}"));
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// `method` on `path` with these headers (and nothing else) and this body.
pub fn plain_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body)).unwrap()
}

/// A form request: `method` on `path` with these headers, and for a POST the form's type.
pub fn form_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Request<Body> {
    let mut req = plain_request(method, path, headers, body);
    if method == "POST" {
        req.headers_mut().append(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    req
}

/// [`form_request`] sent through the router.
pub async fn send(
    r: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Res {
    request(r, form_request(method, path, headers, body)).await
}

/// A browser logged in to the newsroom: its cookie and its session's CSRF token. The default
/// one has neither (no session).
#[derive(Default)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Logs `email` in (one step; no second factor) and reads the session's CSRF token.
pub async fn login(s: &Site, email: &str) -> Browser {
    let res = request(
        &s.router,
        form_request(
            "POST",
            "/newsroom/login",
            &[("sec-fetch-site", "same-origin")],
            enc(&[("email", email), ("password", PASSWORD)]),
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let set = res.header("set-cookie");
    let cookie = set.split(';').next().unwrap().to_owned();
    let dash = send(
        &s.router,
        "GET",
        "/newsroom",
        &[("cookie", &cookie)],
        vec![],
    )
    .await;
    assert_eq!(dash.status, StatusCode::OK);
    let csrf = field(&dash.body, "csrf");
    Browser { cookie, csrf }
}

/// A newsroom form posted by `b` (with its CSRF token), as from the site's own pages.
pub async fn post(s: &Site, b: &Browser, path: &str, fields: &[(&str, &str)]) -> Res {
    let mut all = vec![("csrf", b.csrf.as_str())];
    all.extend_from_slice(fields);
    request(
        &s.router,
        form_request(
            "POST",
            path,
            &[
                ("cookie", &b.cookie),
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://news.example"),
            ],
            enc(&all),
        ),
    )
    .await
}

/// A newsroom page as `b` sees it.
pub async fn get(s: &Site, b: &Browser, path: &str) -> Res {
    request(
        &s.router,
        form_request("GET", path, &[("cookie", &b.cookie)], vec![]),
    )
    .await
}
