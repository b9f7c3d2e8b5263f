//! The newsroom under `/newsroom`: an axum router whose handlers take the extractors of
//! `extract` (session with its login rules, CSRF-checked form, upload), so no route can skip a
//! check; every permission is decided in `app`. Modules by what they serve: `login` (session,
//! login, account), `stories` (dashboard, editor, workflow, history), `wire`, `sources`,
//! `media`, `admin` (accounts, audit log, jobs).

mod admin;
pub mod extract;
mod feedback;
mod login;
mod media;
mod newsletter;
mod sources;
mod stories;
mod tokens;
mod webhooks;
mod wire;

pub use stories::story_form;
pub use wire::agency_html;

use crate::assets;
use crate::error::{Face, WebError};
pub(crate) use crate::respond::see_other;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use extract::{
    body_limit, Posted, Session, FORM_LIMIT, OPEN_FORM_LIMIT, UPLOAD_LIMIT, VIDEO_UPLOAD_LIMIT,
};
use newsdesk_app::diff::Chunk;
use newsdesk_app::{AppError, Authed, StoryForm};
use newsdesk_domain::*;
use std::sync::Arc;

/// The state a newsroom handler extracts.
type St = State<Arc<WebState>>;
/// What a newsroom handler answers.
type Page = Result<Response<Body>, WebError>;

/// The newsroom's routes. Each handler names its checks by its extractors: [`Session`] (a
/// session that has passed the login rules), [`Posted`] (that and a same-origin form within the
/// body limit carrying the session's CSRF token), `OpenForm` (the small forms open without a
/// session), `UploadBody` (multipart, its CSRF field read first). Any other path or method under
/// `/newsroom` is answered by [`unknown`], after the same checks. Errors get their face (page or
/// problem document) from the router's layer.
pub fn router(state: Arc<WebState>) -> Router<Arc<WebState>> {
    // A known path asked with a method it does not take is answered like an unknown path.
    let r = |m: MethodRouter<Arc<WebState>>| m.fallback(unknown);
    // The forms open without a session are small.
    let open = |m: MethodRouter<Arc<WebState>>| r(m).layer(body_limit(OPEN_FORM_LIMIT));
    Router::new()
        .route("/newsroom", r(get(stories::dashboard_get)))
        .route("/newsroom/", r(get(stories::dashboard_get)))
        // Open without a session.
        .route(
            "/newsroom/login",
            open(get(login::login_page).post(login::login_post)),
        )
        .route("/newsroom/login/code", open(post(login::code_post)))
        .route(
            "/newsroom/forgot",
            open(get(login::forgot_page).post(login::forgot_post)),
        )
        .route(
            "/newsroom/reset/{token}",
            open(get(login::reset_page).post(login::reset_post)),
        )
        .route(
            "/newsroom/invitation/{token}",
            open(get(login::invitation_page).post(login::invitation_post)),
        )
        // Open to a session that has still to set up its second factor.
        .route("/newsroom/logout", r(post(login::logout)))
        .route("/newsroom/account", r(get(login::account)))
        .route("/newsroom/account/totp", r(post(login::totp_post)))
        // Stories.
        .route(
            "/newsroom/stories/new",
            r(get(stories::new_get).post(stories::new_post)),
        )
        .route("/newsroom/preview", r(post(stories::preview)))
        .route(
            "/newsroom/stories/{id}",
            r(get(stories::story_get).post(stories::story_post)),
        )
        .route(
            "/newsroom/stories/{id}/autosave",
            r(post(stories::autosave)),
        )
        .route("/newsroom/stories/{id}/step", r(post(stories::step)))
        .route("/newsroom/stories/{id}/correct", r(post(stories::correct)))
        .route(
            "/newsroom/stories/{id}/history",
            r(get(stories::history_get)),
        )
        .route("/newsroom/stories/{id}/restore", r(post(stories::restore)))
        .route("/newsroom/stories/{id}/flags", r(post(stories::flags)))
        .route(
            "/newsroom/stories/{id}/video",
            r(post(media::video)).layer(body_limit(VIDEO_UPLOAD_LIMIT)),
        )
        // The wire desk and its sources.
        .route("/newsroom/wire", r(get(wire::inbox)))
        .route("/newsroom/wire/{id}", r(get(wire::cluster)))
        .route("/newsroom/wire/{id}/tags", r(post(wire::tags)))
        .route("/newsroom/wire/{id}/story", r(post(wire::story)))
        .route("/newsroom/wire/{id}/summary", r(post(wire::summary)))
        .route(
            "/newsroom/sources",
            r(get(sources::list).post(sources::add)),
        )
        .route(
            "/newsroom/sources/{id}",
            r(get(sources::one).post(sources::settings)),
        )
        .route("/newsroom/sources/{id}/token", r(post(sources::token)))
        .route("/newsroom/sources/{id}/poll", r(post(sources::poll)))
        .route(
            "/newsroom/sources/{id}/auto-publish",
            r(post(sources::rule)),
        )
        // Media.
        .route(
            "/newsroom/media",
            r(get(media::list).post(media::upload)).layer(body_limit(UPLOAD_LIMIT)),
        )
        .route("/newsroom/media/{name}", r(get(media::file)))
        // Administration.
        .route("/newsroom/audit", r(get(admin::audit)))
        .route("/newsroom/jobs", r(get(admin::jobs)))
        .route("/newsroom/jobs/{id}/retry", r(post(admin::retry)))
        .route("/newsroom/users", r(get(admin::users)))
        .route("/newsroom/users/invite", r(post(admin::invite)))
        .route("/newsroom/users/{id}", r(post(admin::access)))
        .route("/newsroom/subscribers", r(get(newsletter::subscribers)))
        .route("/newsroom/subscribers.csv", r(get(newsletter::export)))
        .route("/newsroom/newsletter", r(get(newsletter::history)))
        .route("/newsroom/newsletter/alert", r(post(newsletter::alert)))
        .route(
            "/newsroom/admin/tokens",
            r(get(tokens::list).post(tokens::create)),
        )
        .route(
            "/newsroom/admin/tokens/{id}/revoke",
            r(post(tokens::revoke)),
        )
        // The feedback desk.
        .route("/newsroom/feedback", r(get(feedback::queue)))
        .route("/newsroom/feedback/{id}", r(get(feedback::one)))
        .route("/newsroom/feedback/{id}/status", r(post(feedback::status)))
        .route("/newsroom/feedback/{id}/reply", r(post(feedback::reply)))
        // Webhooks.
        .route(
            "/newsroom/webhooks",
            r(get(webhooks::list).post(webhooks::add)),
        )
        .route(
            "/newsroom/webhooks/{id}",
            r(get(webhooks::one).post(webhooks::change)),
        )
        .route("/newsroom/{*rest}", any(unknown))
        .layer(body_limit(FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            (state, Face::ByAccept(error_page)),
            crate::error::faces,
        ))
}

/// The newsroom's face of an error: its designed message page.
fn error_page(st: &WebState, a: Option<&Authed>, e: &WebError) -> Response<Body> {
    message(st, a, e.status, &e.title, &e.detail)
}

/// Any other path or method under `/newsroom`: after the checks every newsroom request passes
/// (a page needs a session; a form needs its origin, session and token), not found.
async fn unknown(State(st): St, req: Request) -> Page {
    match *req.method() {
        Method::GET | Method::HEAD => {
            let (mut parts, _) = req.into_parts();
            Session::from_request_parts(&mut parts, &st).await?;
        }
        Method::POST => {
            Posted::<Session>::from_request(req, &st).await?;
        }
        _ => {
            return Err(WebError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Not allowed",
                "Use the forms of the newsroom.",
            ))
        }
    }
    Err(WebError::not_found())
}

/// Name of the session cookie. `__Host-` makes browsers insist on Secure, path `/` and no Domain.
pub const SESSION_COOKIE: &str = "__Host-newsdesk_session";

/// A named link in the newsroom menu.
pub struct Link {
    /// Text.
    pub label: String,
    /// Target.
    pub href: String,
}

/// What every newsroom page has.
pub struct Frame {
    /// `<title>`.
    pub title: String,
    /// Stylesheet.
    pub css_href: String,
    /// Script.
    pub js_href: String,
    /// Site name.
    pub site_name: String,
    /// Logged-in user's name and role, or empty.
    pub who: String,
    /// Menu links for this user.
    pub menu: Vec<Link>,
    /// The session's CSRF token (for the logout form), or empty.
    pub csrf: String,
    /// A notice to show (saved, published...).
    pub notice: String,
    /// Field errors to show above the form.
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "newsroom/login.html")]
struct LoginPage {
    f: Frame,
    email: String,
}

/// A row of a newsroom story list.
pub struct Row {
    /// Link to the editor.
    pub href: String,
    /// Headline.
    pub headline: String,
    /// Status.
    pub status: String,
    /// Last change, UTC.
    pub updated: String,
    /// Publication or embargo time, if any.
    pub when: String,
}

/// A titled list on the dashboard.
pub struct Section {
    /// Heading.
    pub title: String,
    /// HTML id.
    pub id: String,
    /// Stories.
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "newsroom/dashboard.html")]
struct DashboardPage {
    f: Frame,
    q: String,
    sectors: Vec<Opt>,
    editions: Vec<Opt>,
    desks: Vec<Opt>,
    authors: Vec<Opt>,
    filtered: bool,
    sections: Vec<Section>,
    flags: Vec<FlagRow>,
}

/// A word diff as the templates show it: "same", "ins" or "del" parts.
fn diff_parts(chunks: Vec<Chunk>) -> Vec<DiffPart> {
    chunks
        .into_iter()
        .map(|c| match c {
            Chunk::Same(t) => DiffPart {
                kind: "same",
                text: t,
            },
            Chunk::Added(t) => DiffPart {
                kind: "ins",
                text: t,
            },
            Chunk::Removed(t) => DiffPart {
                kind: "del",
                text: t,
            },
        })
        .collect()
}

/// A pick-list of taxonomy entries by slug, with "any" first; `chosen` is the slug asked for.
fn slug_options<'a>(
    any: &str,
    chosen: &str,
    entries: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<Opt> {
    let mut out = vec![Opt {
        value: String::new(),
        label: any.into(),
        selected: chosen.is_empty(),
    }];
    out.extend(entries.map(|(slug, name)| Opt {
        value: slug.into(),
        label: name.into(),
        selected: slug == chosen,
    }));
    out
}

/// A story flagged because agency copy it is built on was withdrawn or corrected.
pub struct FlagRow {
    /// The story's editor.
    pub href: String,
    /// Its headline.
    pub headline: String,
    /// What happened, and when.
    pub what: String,
    /// Story id.
    pub id: i64,
    /// Story version (for the unpublish step).
    pub version: i64,
    /// Whether it is published (then it can be unpublished from the dashboard).
    pub published: bool,
}

/// A checkbox of a group: value, label, ticked.
pub struct Check {
    /// Value.
    pub value: String,
    /// Label.
    pub label: String,
    /// Ticked.
    pub checked: bool,
}

/// An option of a select.
pub struct Opt {
    /// Value.
    pub value: String,
    /// Label.
    pub label: String,
    /// Selected.
    pub selected: bool,
}

/// An edition checkbox with its rank.
pub struct EditionChoice {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Checked.
    pub checked: bool,
    /// Rank text.
    pub rank: String,
}

/// A workflow button.
pub struct Step {
    /// Transition name.
    pub name: String,
    /// Button label.
    pub label: String,
}

#[derive(Template)]
#[template(path = "newsroom/editor.html")]
struct EditorPage {
    f: Frame,
    action: String,
    story_id: i64,
    version: i64,
    status: String,
    public_href: String,
    form: StoryForm,
    kinds: Vec<Opt>,
    sectors: Vec<Opt>,
    desks: Vec<Opt>,
    authors: Vec<Opt>,
    images: Vec<Opt>,
    editions: Vec<EditionChoice>,
    preview_html: String,
    can_edit: bool,
    steps: Vec<Step>,
    can_schedule: bool,
    can_correct: bool,
    corrections: Vec<(String, String, String)>,
    others: String,
    autosave_at: String,
    video: String,
}

#[derive(Template)]
#[template(path = "newsroom/conflict.html")]
struct ConflictPage {
    f: Frame,
    story_id: i64,
    theirs_version: i64,
    theirs_headline: String,
    theirs_body: String,
    yours_headline: String,
    yours_body: String,
}

/// A revision in the history list.
pub struct RevRow {
    /// Revision id.
    pub id: i64,
    /// Version.
    pub version: i64,
    /// When, UTC.
    pub at: String,
    /// Who.
    pub by: String,
    /// Status then.
    pub status: String,
    /// Headline then.
    pub headline: String,
}

/// A piece of a diff for the template.
pub struct DiffPart {
    /// "same", "ins" or "del".
    pub kind: &'static str,
    /// Text.
    pub text: String,
}

#[derive(Template)]
#[template(path = "newsroom/history.html")]
struct HistoryPage {
    f: Frame,
    story_id: i64,
    version: i64,
    headline: String,
    revisions: Vec<RevRow>,
    from: i64,
    to: i64,
    diff_headline: Vec<DiffPart>,
    diff_body: Vec<DiffPart>,
    /// Said when the body's difference is coarser than word by word.
    diff_note: String,
    can_restore: bool,
}

#[derive(Template)]
#[template(path = "newsroom/audit.html")]
struct AuditPage {
    f: Frame,
    rows: Vec<(String, String, String, String, String)>,
    older_href: String,
}

/// A background job in the admin's list.
pub struct JobRow {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Arguments (JSON).
    pub payload: String,
    /// State.
    pub state: &'static str,
    /// "attempts of max".
    pub attempts: String,
    /// Due, last claimed or finished (UTC).
    pub when: String,
    /// Last error, or empty.
    pub error: String,
    /// Whether it can be retried (dead letters).
    pub retry: bool,
}

#[derive(Template)]
#[template(path = "newsroom/jobs.html")]
struct JobsPage {
    f: Frame,
    counts: newsdesk_domain::JobCounts,
    states: Vec<Opt>,
    rows: Vec<JobRow>,
}

/// An account in the admin list.
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role options.
    pub roles: Vec<Opt>,
    /// Disabled.
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "newsroom/users.html")]
struct UsersPage {
    f: Frame,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    invitation_link: String,
}

#[derive(Template)]
#[template(path = "newsroom/invitation.html")]
struct InvitationPage {
    f: Frame,
    token: String,
}

#[derive(Template)]
#[template(path = "newsroom/message.html")]
struct MessagePage {
    f: Frame,
    heading: String,
    message: String,
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn frame(st: &WebState, authed: Option<&Authed>, title: &str) -> Frame {
    let mut menu = Vec::new();
    if let Some(a) = authed {
        menu.push(Link {
            label: "Dashboard".into(),
            href: "/newsroom".into(),
        });
        menu.push(Link {
            label: "New story".into(),
            href: "/newsroom/stories/new".into(),
        });
        menu.push(Link {
            label: "Pictures".into(),
            href: "/newsroom/media".into(),
        });
        menu.push(Link {
            label: "Wire".into(),
            href: "/newsroom/wire".into(),
        });
        if a.user.role.can(Capability::EditAnyStory) {
            menu.push(Link {
                label: "Sources".into(),
                href: "/newsroom/sources".into(),
            });
        }
        if a.user.role.can(newsdesk_app::feedback::MODERATE_FEEDBACK) {
            menu.push(Link {
                label: "Feedback".into(),
                href: "/newsroom/feedback".into(),
            });
        }
        if a.user.role.can(Capability::ViewAudit) {
            menu.push(Link {
                label: "Audit log".into(),
                href: "/newsroom/audit".into(),
            });
        }
        if a.user.role.can(Capability::ViewAudit) {
            menu.push(Link {
                label: "Newsletter".into(),
                href: "/newsroom/newsletter".into(),
            });
        }
        if a.user.role.can(Capability::ManageUsers) {
            menu.push(Link {
                label: "Accounts".into(),
                href: "/newsroom/users".into(),
            });
            menu.push(Link {
                label: "Jobs".into(),
                href: "/newsroom/jobs".into(),
            });
            menu.push(Link {
                label: "API tokens".into(),
                href: "/newsroom/admin/tokens".into(),
            });
        }
        if a.user.role.can(newsdesk_app::webhooks::MANAGE_WEBHOOKS) {
            menu.push(Link {
                label: "Webhooks".into(),
                href: "/newsroom/webhooks".into(),
            });
        }
        menu.push(Link {
            label: "Your account".into(),
            href: "/newsroom/account".into(),
        });
        menu.push(Link {
            label: "View site".into(),
            href: "/".into(),
        });
    }
    Frame {
        title: format!("{title} | {} newsroom", st.app.site.name),
        css_href: assets::CSS_HREF.clone(),
        js_href: assets::NEWSROOM_JS_HREF.clone(),
        site_name: st.app.site.name.clone(),
        who: authed
            .map(|a| format!("{} ({})", a.user.name, a.user.role))
            .unwrap_or_default(),
        menu,
        csrf: authed.map(|a| a.csrf_token.clone()).unwrap_or_default(),
        notice: String::new(),
        errors: Vec::new(),
    }
}

fn html_response(status: StatusCode, body: Result<String, askama::Error>) -> Response<Body> {
    let (status, body) = match body {
        Ok(b) => (status, b),
        Err(e) => {
            tracing::error!(error = %e, "newsroom template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong.".to_owned(),
            )
        }
    };
    crate::respond::or_500(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-robots-tag", "noindex")
            .body(Body::from(body)),
    )
}

pub(crate) fn message(
    st: &WebState,
    authed: Option<&Authed>,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response<Body> {
    let page = MessagePage {
        f: frame(st, authed, heading),
        heading: heading.to_owned(),
        message: text.to_owned(),
    };
    html_response(status, page.render())
}

/// The answer to a use-case error where a handler builds its response itself: the one
/// [`WebError`] mapping, its face given by the router's layer.
fn app_error(e: AppError) -> Response<Body> {
    axum::response::IntoResponse::into_response(WebError::from(e))
}

/// Whether a state-changing request comes from our own pages: `Sec-Fetch-Site` must say
/// same-origin when sent, and `Origin`, when sent, must be this site: the scheme, host and port
/// of `base_url`, or the host and port the request was sent to (the `Host` header: the site
/// under another name) with the scheme of `base_url`, so a plain-HTTP page never posts into an
/// HTTPS site.
pub fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = h("sec-fetch-site") {
        if site != "same-origin" {
            return false;
        }
    }
    if let Some(origin) = h("origin") {
        let (Some(origin), Some(base)) = (origin_parts(origin), origin_parts(base_url)) else {
            return false;
        };
        if origin == base {
            return true;
        }
        let host = h("host").and_then(|host| origin_parts(&format!("{}://{host}", base.0)));
        return host.is_some_and(|host| host == origin);
    }
    true
}

/// Scheme, host and port of an http(s) origin or URL, lower-cased, with the scheme's default
/// port when none is written; `None` for anything else (`null`, other schemes, user info).
fn origin_parts(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        (format!("[{addr}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host.to_ascii_lowercase(), port))
}

fn session_cookie(token: &str, secure: bool) -> String {
    // `__Host-` cookies must be Secure; over plain HTTP (a local test) browsers still accept it
    // from localhost. Lax keeps the cookie off cross-site POSTs.
    let _ = secure;
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=43200")
}

fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0")
}

/// When a time was, for templates that need ISO form.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_checks() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        let base = "https://news.example";
        assert!(same_origin(&h(&[]), base));
        assert!(same_origin(&h(&[("sec-fetch-site", "same-origin")]), base));
        assert!(!same_origin(&h(&[("sec-fetch-site", "cross-site")]), base));
        assert!(!same_origin(&h(&[("sec-fetch-site", "same-site")]), base));
        assert!(same_origin(&h(&[("origin", "https://news.example")]), base));
        assert!(same_origin(
            &h(&[("origin", "https://News.Example:443")]),
            base
        ));
        // Another name of the site (the Host it was sent to), with the site's scheme.
        assert!(same_origin(
            &h(&[
                ("origin", "https://www.news.example"),
                ("host", "www.news.example")
            ]),
            base
        ));
        // Scheme and port count: a plain-HTTP page never posts into the HTTPS site.
        for origin in [
            "http://news.example",
            "https://news.example:8443",
            "http://127.0.0.1:8080",
        ] {
            for host in ["news.example", "127.0.0.1:8080"] {
                assert!(
                    !same_origin(&h(&[("origin", origin), ("host", host)]), base),
                    "{origin} via {host}"
                );
            }
        }
        let local = "http://127.0.0.1:9000";
        assert!(same_origin(
            &h(&[("origin", "http://127.0.0.1:9000")]),
            local
        ));
        assert!(same_origin(
            &h(&[
                ("origin", "http://localhost:9000"),
                ("host", "localhost:9000")
            ]),
            local
        ));
        assert!(!same_origin(
            &h(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:9000")
            ]),
            local
        ));
        assert!(!same_origin(
            &h(&[
                ("origin", "https://127.0.0.1:9000"),
                ("host", "127.0.0.1:9000")
            ]),
            local
        ));
        assert!(same_origin(
            &h(&[("origin", "http://[::1]:9000"), ("host", "[::1]:9000")]),
            local
        ));
        assert!(!same_origin(
            &h(&[("origin", "http://user@127.0.0.1:9000")]),
            local
        ));
        assert!(!same_origin(
            &h(&[("origin", "https://evil.example"), ("host", "news.example")]),
            base
        ));
        assert!(!same_origin(&h(&[("origin", "null")]), base));
    }

    #[test]
    fn agency_pictures_become_links_and_empty_links_lose_rel() {
        let shown = |html: &str| agency_html(&newsdesk_render::sanitize_html(html));
        assert_eq!(
            shown(
                r#"<p>Floods.</p><figure><img src="https://photos.example/a.jpg?x=1&amp;y=2" alt="A street &quot;under&quot; water" width="800"><figcaption>Mathare</figcaption></figure>"#
            ),
            r#"<p>Floods.</p><figure><a href="https://photos.example/a.jpg?x=1&amp;y=2" rel="noopener noreferrer nofollow">Agency picture: A street &quot;under&quot; water</a><figcaption>Mathare</figcaption></figure>"#
        );
        // A relative address is nowhere on this site: the description only.
        assert_eq!(
            shown(r#"<p><img src="x" onerror="alert(1)" alt="">Text</p>"#),
            "<p>(Agency picture: no description)Text</p>"
        );
        // A description is text, whatever it holds.
        let evil = shown(r#"<img src="https://p.example/1.jpg" alt="<script>alert(2)</script>">"#);
        assert!(
            !evil.contains("<script") && evil.contains("&lt;script&gt;"),
            "{evil}"
        );
        assert_eq!(
            shown(
                r#"<p><a href="javascript:alert(3)" title="t">Line-ups</a> <a href="https://e.example/">ok</a></p>"#
            ),
            r#"<p><a title="t">Line-ups</a> <a href="https://e.example/" rel="noopener noreferrer nofollow">ok</a></p>"#
        );
        // Anything else is left as it was.
        let plain = "<p>a &lt;b&gt; <em>c</em><br>d</p><ul><li>e</li></ul>";
        assert_eq!(agency_html(plain), plain);
        assert_eq!(agency_html("a < b <"), "a < b <");
    }
}
