//! The newsroom: login, dashboard, story editor, workflow, history, corrections, audit log and
//! accounts. Every state change is a POST carrying the session's CSRF token and checked for a
//! same-origin `Origin`/`Sec-Fetch-Site`; every permission is decided in `app`.

use crate::assets;
use crate::forms::{cookie, read_body, BodyError, FormData};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use newsdesk_app::diff::{self, Chunk};
use newsdesk_app::{AppError, Authed, LoginStep, StoryForm};
use newsdesk_domain::*;
use std::net::SocketAddr;

/// Name of the session cookie. `__Host-` makes browsers insist on Secure, path `/` and no Domain.
pub const SESSION_COOKIE: &str = "__Host-newsdesk_session";
/// Largest form body accepted from a session.
const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Largest form body of the pages open without a session (login, password reset, invitation).
const OPEN_FORM_LIMIT: usize = 64 * 1024;

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

#[path = "newsroom_sources.rs"]
mod sources;

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
        if a.user.role.can(Capability::ViewAudit) {
            menu.push(Link {
                label: "Audit log".into(),
                href: "/newsroom/audit".into(),
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

fn see_other(to: &str) -> Response<Body> {
    crate::respond::or_500(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty()),
    )
}

fn message(
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

/// The answer to a use-case error, in the newsroom's design.
fn app_error(st: &WebState, authed: Option<&Authed>, e: AppError) -> Response<Body> {
    match e {
        AppError::NotFound => message(
            st,
            authed,
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here.",
        ),
        AppError::Forbidden => message(
            st,
            authed,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Your role does not allow this.",
        ),
        AppError::Invalid(fields) => {
            let text = fields
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
            message(
                st,
                authed,
                StatusCode::BAD_REQUEST,
                "Please check the form",
                &text,
            )
        }
        AppError::Conflict(m) => {
            message(st, authed, StatusCode::CONFLICT, "Someone changed this", &m)
        }
        AppError::RateLimited => message(
            st,
            authed,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Please wait a few minutes and try again.",
        ),
        AppError::Internal(cause) => {
            tracing::error!(cause = %crate::respond::chain(&*cause), "newsroom request failed");
            message(
                st,
                authed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Nothing was lost; please try again.",
            )
        }
    }
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

/// The answer to a body that could not be read.
fn body_refused(
    st: &WebState,
    authed: Option<&Authed>,
    e: BodyError,
    limit: usize,
) -> Response<Body> {
    match e {
        BodyError::TooLarge => {
            let text = if limit >= 1024 * 1024 {
                format!("The form is larger than {} MiB.", limit / (1024 * 1024))
            } else {
                format!("The form is larger than {} KiB.", limit / 1024)
            };
            message(
                st,
                authed,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                &text,
            )
        }
        BodyError::TimedOut => message(
            st,
            authed,
            StatusCode::REQUEST_TIMEOUT,
            "Too slow",
            "The form did not arrive in time; please send it again.",
        ),
        BodyError::Broken => message(
            st,
            authed,
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        ),
    }
}

/// Reads a form body of at most `limit` bytes, or the page that says why not.
async fn read_form(
    st: &WebState,
    authed: Option<&Authed>,
    body: Body,
    limit: usize,
) -> Result<FormData, Response<Body>> {
    let bytes = read_body(body, limit)
        .await
        .map_err(|e| body_refused(st, authed, e, limit))?;
    FormData::parse(&bytes).ok_or_else(|| {
        message(
            st,
            authed,
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read (it is not valid UTF-8).",
        )
    })
}

/// Entry point for `/newsroom` and below.
pub async fn handle(st: &WebState, req: Request) -> Response<Body> {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let (parts, body) = req.into_parts();
    let method = parts.method;
    let headers = parts.headers;
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    if method != Method::GET && method != Method::HEAD && method != Method::POST {
        return message(
            st,
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "Use the forms of the newsroom.",
        );
    }
    let multipart = method == Method::POST
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let video_for = path
            .strip_prefix("/newsroom/stories/")
            .and_then(|rest| rest.strip_suffix("/video"))
            .and_then(|id| id.parse::<i64>().ok())
            .map(StoryId);
        return upload(st, headers, body, video_for).await;
    }
    let query = FormData::parse(query.as_bytes()).unwrap_or_default();
    let segs: Vec<&str> = path
        .trim_start_matches("/newsroom")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    // The session is looked up, and the request checked, before any body is read: a POST
    // that will be refused costs no read.
    let authed = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => match st.app.session(token).await {
            Ok(a) => a,
            Err(e) => return app_error(st, None, e),
        },
        None => None,
    };
    let post = method == Method::POST;
    // Every state change, with or without a session, must come from our own pages.
    if post && !same_origin(&headers, &st.app.site.base_url) {
        return message(
            st,
            None,
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was not sent from the newsroom.",
        );
    }
    let open_page = matches!(
        segs.as_slice(),
        ["login"] | ["login", "code"] | ["forgot"] | ["reset", _] | ["invitation", _]
    );
    // Pages open without a session: their forms are small, and so is their limit.
    let mut body = Some(body);
    let form = if open_page && post {
        match read_form(st, None, body.take().unwrap_or_default(), OPEN_FORM_LIMIT).await {
            Ok(f) => f,
            Err(res) => return res,
        }
    } else {
        FormData::default()
    };
    match (segs.as_slice(), post) {
        (["login"], false) => {
            if authed.is_some() {
                return see_other("/newsroom");
            }
            return html_response(
                StatusCode::OK,
                LoginPage {
                    f: frame(st, None, "Log in"),
                    email: String::new(),
                }
                .render(),
            );
        }
        (["login"], true) => return login(st, &form, &address).await,
        (["login", "code"], true) => return login_code(st, &form, &address).await,
        (["forgot"], false) => {
            return html_response(
                StatusCode::OK,
                ForgotPage {
                    f: frame(st, None, "Forgot your password"),
                }
                .render(),
            )
        }
        (["forgot"], true) => {
            return match st.app.send_password_reset(form.get("email"), &address).await {
                Ok(()) => message(st, None, StatusCode::OK, "Check your e-mail", "If an account exists for that address, we have sent it a link to choose a new password. The link works once, for one hour."),
                Err(e) => app_error(st, None, e),
            };
        }
        (["reset", token], false) => {
            return html_response(
                StatusCode::OK,
                ResetPage {
                    f: frame(st, None, "Choose a new password"),
                    token: (*token).to_owned(),
                }
                .render(),
            )
        }
        (["reset", token], true) => {
            return match st.app.reset_password(token, form.get("password")).await {
                Ok(()) => message(
                    st,
                    None,
                    StatusCode::OK,
                    "Password changed",
                    "Your password is changed and every old session has ended. You can now log in.",
                ),
                Err(e) => app_error(st, None, e),
            };
        }
        (["invitation", token], false) => {
            return html_response(
                StatusCode::OK,
                InvitationPage {
                    f: frame(st, None, "Join the newsroom"),
                    token: (*token).to_owned(),
                }
                .render(),
            )
        }
        (["invitation", token], true) => {
            return match st
                .app
                .accept_invitation(token, form.get("name"), form.get("password"))
                .await
            {
                Ok(_) => message(
                    st,
                    None,
                    StatusCode::OK,
                    "Welcome",
                    "Your account is ready. You can now log in.",
                ),
                Err(e) => app_error(st, None, e),
            };
        }
        _ => {}
    }
    let Some(authed) = authed else {
        if post {
            return message(
                st,
                None,
                StatusCode::FORBIDDEN,
                "Please log in",
                "Your session has ended. Log in and try again.",
            );
        }
        return see_other("/newsroom/login");
    };
    // A site that requires a second factor sends editors and admins without one to set it up.
    if st.app.second_factor_missing(&authed.user)
        && !matches!(
            segs.as_slice(),
            ["account"] | ["account", "totp"] | ["logout"]
        )
    {
        return see_other("/newsroom/account");
    }
    let form = if post && !open_page {
        match read_form(
            st,
            Some(&authed),
            body.take().unwrap_or_default(),
            BODY_LIMIT,
        )
        .await
        {
            Ok(f) => f,
            Err(res) => return res,
        }
    } else {
        form
    };
    if post && !authed.csrf_ok(form.get("csrf")) {
        return message(
            st,
            Some(&authed),
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was not sent from your newsroom session. Reload the page and try again.",
        );
    }
    // Pictures and videos of stories not yet public, for the newsroom's own pages.
    if let (["media", name], false) = (segs.as_slice(), post) {
        if let Err(e) = newsdesk_app::require(&authed.user, Capability::ViewNewsroom) {
            return app_error(st, Some(&authed), e);
        }
        let Some(file) = crate::assets::read_media(&st.media_dir, name).await else {
            return app_error(st, Some(&authed), AppError::NotFound);
        };
        let mut res = crate::assets::media_response(&file, &headers);
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("private, no-store"),
        );
        return res;
    }
    let r = route(st, &authed, &segs, post, &form, &query).await;
    match r {
        Ok(res) => res,
        Err(e) => app_error(st, Some(&authed), e),
    }
}

/// A cluster in the wire inbox.
pub struct ClusterRow {
    /// Link.
    pub href: String,
    /// Headline.
    pub headline: String,
    /// Urgency, or empty.
    pub urgency: String,
    /// Agencies.
    pub agencies: String,
    /// Items.
    pub items: i64,
    /// Sector.
    pub sector: String,
    /// Editions.
    pub editions: String,
    /// Last item, UTC.
    pub updated: String,
    /// "Embargoed until … UTC" while an agency embargo holds, else empty.
    pub embargo: String,
}

#[derive(Template)]
#[template(path = "newsroom/wire.html")]
struct WirePage {
    f: Frame,
    rows: Vec<ClusterRow>,
    agency: String,
    sectors: Vec<Opt>,
    editions: Vec<Opt>,
    periods: Vec<Opt>,
    agencies: Vec<String>,
    language: String,
    filtered: bool,
}

/// The inbox's time filter: value, label, hours (`None`: everything).
const PERIODS: [(&str, &str, Option<i64>); 5] = [
    ("24h", "last 24 hours", Some(24)),
    ("48h", "last 48 hours", Some(48)),
    ("7d", "last 7 days", Some(24 * 7)),
    ("30d", "last 30 days", Some(24 * 30)),
    ("all", "all time", None),
];

/// One agency version in a cluster page.
pub struct ItemView {
    /// Agency.
    pub agency: String,
    /// Agency id and version.
    pub ident: String,
    /// Status.
    pub status: String,
    /// Published, UTC.
    pub published: String,
    /// Headline.
    pub headline: String,
    /// Sanitised body.
    pub body_html: String,
    /// Word diff against the first item (empty for the first).
    pub diff: Vec<DiffPart>,
    /// Suggested editions with evidence.
    pub tags: String,
    /// "Embargoed until … UTC" while the item's embargo holds, else empty.
    pub embargo: String,
}

#[derive(Template)]
#[template(path = "newsroom/cluster.html")]
struct ClusterPage {
    f: Frame,
    id: i64,
    headline: String,
    summary: String,
    summary_accepted: bool,
    items: Vec<ItemView>,
    can_edit: bool,
    sectors: Vec<Opt>,
    editions: Vec<Check>,
    tags: String,
    embargo: String,
}

async fn wire_inbox(
    st: &WebState,
    a: &Authed,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    let opt = |k: &str| Some(query.get(k).trim().to_owned()).filter(|v| !v.is_empty());
    // The desk works on the last two days by default; older events are a choice away.
    let period = match query.get("period").trim() {
        "" => "48h",
        p => p,
    };
    let Some(&(_, _, hours)) = PERIODS.iter().find(|(v, _, _)| *v == period) else {
        return Err(AppError::invalid(
            "period",
            "Choose a period from the list.",
        ));
    };
    let q = WireQuery {
        agency: opt("agency"),
        sector: opt("sector"),
        edition: opt("edition"),
        language: opt("language"),
        since: hours.map(|h| st.app.now() - chrono::Duration::hours(h)),
        limit: 200,
    };
    let clusters = st.app.wire_inbox(&a.user, &q).await?;
    // Suggestions for the agency field: the sources (for those who may see them) and the
    // agencies of the events listed.
    let sources = if a.user.role.can(Capability::EditAnyStory) {
        st.app.sources(&a.user).await?
    } else {
        Vec::new()
    };
    let mut agencies: Vec<String> = sources
        .into_iter()
        .map(|s| s.name)
        .chain(clusters.iter().flat_map(|c| c.agencies.iter().cloned()))
        .collect();
    agencies.sort();
    agencies.dedup();
    let (sectors, editions) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        (
            slug_options(
                "any sector",
                q.sector.as_deref().unwrap_or(""),
                tax.sectors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any edition",
                q.edition.as_deref().unwrap_or(""),
                tax.editions
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
        )
    };
    let periods = PERIODS
        .iter()
        .map(|(v, label, _)| Opt {
            value: (*v).into(),
            label: (*label).into(),
            selected: *v == period,
        })
        .collect();
    let now = st.app.now();
    let rows = clusters
        .iter()
        .map(|c| ClusterRow {
            href: format!("/newsroom/wire/{}", c.id),
            headline: c.headline.clone(),
            urgency: c.urgency.map(|u| u.to_string()).unwrap_or_default(),
            agencies: c.agencies.join(", "),
            items: c.items,
            sector: c.sector.clone().unwrap_or_default(),
            editions: c.editions.join(", "),
            updated: utc(c.updated_at),
            embargo: embargo_notice(c.embargo, now).unwrap_or_default(),
        })
        .collect();
    let page = WirePage {
        f: frame(st, Some(a), "Wire"),
        rows,
        filtered: q.agency.is_some()
            || q.sector.is_some()
            || q.edition.is_some()
            || q.language.is_some(),
        agency: q.agency.unwrap_or_default(),
        sectors,
        editions,
        periods,
        agencies,
        language: q.language.unwrap_or_default(),
    };
    Ok(html_response(StatusCode::OK, page.render()))
}

async fn wire_cluster(
    st: &WebState,
    a: &Authed,
    id: i64,
    query_saved: bool,
) -> Result<Response<Body>, AppError> {
    let (cluster, items) = st.app.wire_cluster(&a.user, id).await?;
    let now = st.app.now();
    let first_text = items
        .first()
        .map(|i| newsdesk_render::plain_text(&i.item.body_html))
        .unwrap_or_default();
    let views = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let text = newsdesk_render::plain_text(&i.item.body_html);
            ItemView {
                agency: i.item.agency.clone(),
                ident: format!("{} v{}", i.item.agency_id, i.item.version),
                status: format!("{:?}", i.item.status).to_lowercase(),
                published: i.item.published_at.map(utc).unwrap_or_default(),
                headline: i.item.headline.clone(),
                body_html: agency_html(&newsdesk_render::sanitize_html(&i.item.body_html)),
                diff: if n == 0 {
                    Vec::new()
                } else {
                    diff_parts(diff::words(&first_text, &text))
                },
                embargo: embargo_notice(i.item.embargo, now).unwrap_or_default(),
                tags: if i.evidence.is_empty() {
                    i.editions.join(", ")
                } else {
                    format!(
                        "{} (from: {})",
                        i.editions.join(", "),
                        i.evidence.join(", ")
                    )
                },
            }
        })
        .collect();
    let (sectors, editions) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        let sectors = slug_options(
            "(none)",
            cluster.sector.as_deref().unwrap_or(""),
            tax.sectors
                .iter()
                .map(|x| (x.slug.as_str(), x.name.as_str())),
        );
        let editions = tax
            .editions
            .iter()
            .filter(|e| e.slug.as_str() != GLOBAL_EDITION)
            .map(|x| Check {
                value: x.slug.to_string(),
                label: x.name.clone(),
                checked: cluster.editions.iter().any(|e| e == x.slug.as_str()),
            })
            .collect();
        (sectors, editions)
    };
    let tags = format!(
        "{}; {}",
        cluster.sector.as_deref().unwrap_or("no sector"),
        if cluster.editions.is_empty() {
            "no edition".to_owned()
        } else {
            cluster.editions.join(", ")
        }
    );
    let mut f = frame(st, Some(a), "Wire cluster");
    if query_saved {
        f.notice = "Saved.".into();
    }
    let page = ClusterPage {
        f,
        id,
        headline: cluster.headline,
        summary: cluster.summary,
        summary_accepted: cluster.summary_accepted,
        items: views,
        can_edit: a.user.role.can(Capability::EditAnyStory),
        sectors,
        editions,
        tags,
        embargo: embargo_notice(cluster.embargo, now).unwrap_or_default(),
    };
    Ok(html_response(StatusCode::OK, page.render()))
}

/// A start tag as the sanitiser writes it: name, attributes (values as written, always
/// double-quoted) and its length in bytes.
type StartTag<'a> = (&'a str, Vec<(&'a str, &'a str)>, usize);

/// The start tag at the beginning of `s` (which begins with `<`) as serialised by the sanitiser.
/// `None` for anything else (end tags, or text the sanitiser would never write).
fn start_tag(s: &str) -> Option<StartTag<'_>> {
    let b = s.as_bytes();
    let name_len = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &s[1..1 + name_len];
    let mut i = 1 + name_len;
    let mut attrs = Vec::new();
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match b.get(i)? {
            b'>' => return Some((name, attrs, i + 1)),
            b'/' if b.get(i + 1) == Some(&b'>') => return Some((name, attrs, i + 2)),
            _ => {}
        }
        let start = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        if i == start {
            return None;
        }
        let key = &s[start..i];
        if b.get(i) == Some(&b'=') {
            if b.get(i + 1) != Some(&b'"') {
                return None;
            }
            let from = i + 2;
            let len = s[from..].find('"')?;
            attrs.push((key, &s[from..from + len]));
            i = from + len + 1;
        } else {
            attrs.push((key, ""));
        }
    }
}

/// Agency copy (already sanitised) as the wire desk shows it. Two things change: a picture
/// becomes a link to the agency's file with its description (the newsroom loads images only from
/// this site, by its Content-Security-Policy, and an agency's picture is not ours to show until it
/// is bought), and a link whose address the sanitiser removed (a `javascript:` one) loses its
/// `rel` as well, which is invalid HTML without an `href`.
pub fn agency_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some((name, attrs, len)) = start_tag(tail) else {
            out.push('<');
            rest = &tail[1..];
            continue;
        };
        let attr = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if name.eq_ignore_ascii_case("img") {
            // Attribute values are written with `&` and `"` escaped but not `<` or `>`.
            let alt = attr("alt")
                .map(|a| a.trim().replace('<', "&lt;").replace('>', "&gt;"))
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "no description".into());
            match attr("src").filter(|u| {
                let u = u.to_ascii_lowercase();
                u.starts_with("https://") || u.starts_with("http://")
            }) {
                Some(src) => out.push_str(&format!(
                    "<a href=\"{src}\" rel=\"noopener noreferrer nofollow\">Agency picture: {alt}</a>"
                )),
                None => out.push_str(&format!("(Agency picture: {alt})")),
            }
        } else if name.eq_ignore_ascii_case("a") && attr("href").is_none() {
            out.push_str("<a");
            for (k, v) in attrs.iter().filter(|(k, _)| *k != "rel") {
                out.push_str(&format!(" {k}=\"{v}\""));
            }
            out.push('>');
        } else {
            out.push_str(&tail[..len]);
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// A source in the health list.
pub struct SourceRow {
    /// The source's page.
    pub href: String,
    /// Name.
    pub name: String,
    /// Feed address or "push only".
    pub url: String,
    /// Last success, UTC.
    pub ok: String,
    /// Last error and when.
    pub error: String,
    /// Failures in a row.
    pub failures: i64,
    /// Next poll.
    pub next: String,
    /// Items in the last 24 hours.
    pub items: i64,
}

/// What the add-a-source form shows: empty, or what was sent when it had mistakes, with the
/// fields that were wrong.
pub struct SourceFields {
    /// Agency name.
    pub name: String,
    /// Feed address.
    pub url: String,
    /// Polling interval as typed.
    pub poll_minutes: String,
    /// Fields named by the errors.
    pub invalid: Vec<String>,
}

impl Default for SourceFields {
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            poll_minutes: "15".into(),
            invalid: Vec::new(),
        }
    }
}

impl SourceFields {
    /// Whether `field` had a mistake.
    pub fn wrong(&self, field: &str) -> bool {
        self.invalid.iter().any(|f| f == field)
    }
}

#[derive(Template)]
#[template(path = "newsroom/sources.html")]
struct SourcesPage {
    f: Frame,
    rows: Vec<SourceRow>,
    can_add: bool,
    form: SourceFields,
}

/// The job queue: counts per state, and the jobs of one state with a retry for dead letters.
async fn jobs_page(
    st: &WebState,
    a: &Authed,
    state: &str,
    notice: String,
) -> Result<Response<Body>, AppError> {
    let state = match state {
        "" | "all" => None,
        s => Some(
            newsdesk_domain::JobState::parse(s)
                .ok_or_else(|| AppError::invalid("state", "No such job state."))?,
        ),
    };
    let (counts, jobs) = st.app.jobs(&a.user, state).await?;
    let mut states = vec![Opt {
        value: "all".into(),
        label: "all".into(),
        selected: state.is_none(),
    }];
    states.extend(newsdesk_domain::JobState::ALL.into_iter().map(|s| Opt {
        value: s.as_str().into(),
        label: s.as_str().into(),
        selected: state == Some(s),
    }));
    let rows = jobs
        .into_iter()
        .map(|j| JobRow {
            id: j.id.0,
            kind: j.kind,
            payload: j.payload,
            state: j.state.as_str(),
            attempts: format!("{} of {}", j.attempts, j.max_attempts),
            when: utc(j.finished_at.unwrap_or(j.run_at)),
            error: j.last_error.unwrap_or_default(),
            retry: j.state == newsdesk_domain::JobState::Dead,
        })
        .collect();
    let mut f = frame(st, Some(a), "Jobs");
    f.notice = notice;
    Ok(html_response(
        StatusCode::OK,
        JobsPage {
            f,
            counts,
            states,
            rows,
        }
        .render(),
    ))
}

async fn sources_page(
    st: &WebState,
    a: &Authed,
    notice: String,
    errors: Vec<String>,
    form: SourceFields,
) -> Result<Response<Body>, AppError> {
    let rows = st
        .app
        .sources(&a.user)
        .await?
        .into_iter()
        .map(|s| SourceRow {
            href: format!("/newsroom/sources/{}", s.id),
            name: s.name,
            url: s.url.clone().unwrap_or_else(|| "push only".into()),
            ok: s.last_success_at.map(utc).unwrap_or_else(|| "never".into()),
            error: match (s.last_error, s.last_error_at) {
                (Some(e), Some(t)) => format!("{e} ({})", utc(t)),
                _ => String::new(),
            },
            failures: s.failures,
            next: if !s.enabled {
                "off".into()
            } else if s.url.is_none() {
                "push only".into()
            } else {
                utc(s.next_poll_at)
            },
            items: s.items_last_day,
        })
        .collect();
    let mut f = frame(st, Some(a), "Sources");
    f.notice = notice;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    f.errors = errors;
    Ok(html_response(
        status,
        SourcesPage {
            f,
            rows,
            can_add: a.user.role.can(Capability::ManageUsers),
            form,
        }
        .render(),
    ))
}

/// Largest pushed document.
const PUSH_LIMIT: usize = 10 * 1024 * 1024;

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    crate::respond::or_500(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(value.to_string())),
    )
}

/// `POST /api/wire/{source}`: an agency pushes ninjs, NewsML-G2 or a feed document, with its
/// source's token as `Authorization: Bearer …`. Answers JSON with a stable error code.
pub async fn push(st: &WebState, req: Request) -> Response<Body> {
    let err = |status: StatusCode, code: &str, message: &str| {
        json_response(
            status,
            serde_json::json!({ "error": code, "message": message }),
        )
    };
    if req.method() != Method::POST {
        return err(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "POST the agency document.",
        );
    }
    let Some(id) = req
        .uri()
        .path()
        .strip_prefix("/api/wire/")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return err(StatusCode::NOT_FOUND, "not_found", "No such source.");
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_owned();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The token is checked before a byte of the body is read: an unauthenticated push is
    // answered at once, whatever it promised to send.
    let grant = match st.app.authorize_push(id, &token).await {
        Ok(g) => g,
        Err(e) => return push_error(e),
    };
    let body = match read_body(req.into_body(), PUSH_LIMIT).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return err(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "The document is larger than 10 MiB.",
            )
        }
        Err(BodyError::TimedOut) => {
            return err(
                StatusCode::REQUEST_TIMEOUT,
                "too_slow",
                "The document did not arrive in time.",
            )
        }
        Err(BodyError::Broken) => {
            return err(
                StatusCode::BAD_REQUEST,
                "unreadable",
                "The document could not be read.",
            )
        }
    };
    match st
        .app
        .take_push(grant, &body, content_type.as_deref())
        .await
    {
        Ok(r) => json_response(
            StatusCode::OK,
            serde_json::json!({ "new": r.new, "updated": r.updated, "duplicates": r.duplicates, "withdrawn": r.withdrawn, "flagged": r.flagged.len() }),
        ),
        Err(e) => push_error(e),
    }
}

/// The JSON answer to a push the app refused.
fn push_error(e: AppError) -> Response<Body> {
    let err = |status: StatusCode, code: &str, message: &str| {
        json_response(
            status,
            serde_json::json!({ "error": code, "message": message }),
        )
    };
    match e {
        AppError::Forbidden | AppError::NotFound => err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unknown source or wrong token.",
        ),
        AppError::Conflict(why) => err(StatusCode::CONFLICT, "source_off", &why),
        AppError::Invalid(f) => err(
            StatusCode::BAD_REQUEST,
            "unreadable",
            &f.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        e => {
            tracing::error!(error = %crate::respond::chain(&e), "push failed");
            err(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The document could not be stored; try again.",
            )
        }
    }
}

/// Largest upload body (the image limit plus the form's other fields).
const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;
/// Largest video upload body.
const VIDEO_UPLOAD_LIMIT: usize = 101 * 1024 * 1024;
/// Largest text field of an upload form (alt text, caption, credit, version, CSRF token).
const UPLOAD_FIELD_LIMIT: usize = 64 * 1024;

/// A temporary upload file in the media folder, removed when dropped.
struct TempUpload(std::path::PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Why an upload's body could not be read.
enum UploadError {
    TooLarge,
    TimedOut,
    Unreadable,
    Disk(std::io::Error),
}

impl From<multer::Error> for UploadError {
    fn from(e: multer::Error) -> Self {
        match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                UploadError::TooLarge
            }
            other => match crate::forms::body_error(&other) {
                BodyError::TooLarge => UploadError::TooLarge,
                BodyError::TimedOut => UploadError::TimedOut,
                BodyError::Broken => UploadError::Unreadable,
            },
        }
    }
}

/// `POST /newsroom/media` (a picture with its alt text, caption and credit) and
/// `POST /newsroom/stories/{id}/video`, multipart. Everything that can be checked without the
/// body is checked first: the session, the two-step-login rule, the origin, the right to upload
/// (asked of `app`); then the CSRF token, which must be the form's first field, before any file
/// byte is read. The file goes to a temporary file in the media folder as it arrives, within
/// the limit, never whole into memory.
async fn upload(
    st: &WebState,
    headers: HeaderMap,
    body: Body,
    video_for: Option<StoryId>,
) -> Response<Body> {
    let authed = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => match st.app.session(token).await {
            Ok(a) => a,
            Err(e) => return app_error(st, None, e),
        },
        None => None,
    };
    let Some(a) = authed else {
        return message(
            st,
            None,
            StatusCode::FORBIDDEN,
            "Please log in",
            "Your session has ended. Log in and try again.",
        );
    };
    // The same rule as every other newsroom request: no second factor yet, no newsroom.
    if st.app.second_factor_missing(&a.user) {
        return see_other("/newsroom/account");
    }
    if !same_origin(&headers, &st.app.site.base_url) {
        return csrf_refused(st, &a);
    }
    let allowed = match video_for {
        Some(id) => st.app.may_attach_video(&a.user, id).await.map(|_| ()),
        None => st.app.may_upload(&a.user),
    };
    if let Err(e) = allowed {
        return app_error(st, Some(&a), e);
    }
    let limit = if video_for.is_some() {
        VIDEO_UPLOAD_LIMIT
    } else {
        UPLOAD_LIMIT
    };
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return bad_upload(st, &a);
    };
    let field_limit = UPLOAD_FIELD_LIMIT as u64;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limit as u64)
            .for_field("csrf", field_limit)
            .for_field("alt", field_limit)
            .for_field("caption", field_limit)
            .for_field("credit", field_limit)
            .for_field("version", field_limit),
    );
    let mut parts =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    // The CSRF token comes first (the forms put it first); nothing else is read without it.
    let csrf = match parts.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf") => match field.text().await {
            Ok(t) => t,
            Err(e) => return upload_refused(st, &a, e.into(), limit),
        },
        Ok(_) => String::new(),
        Err(e) => return upload_refused(st, &a, e.into(), limit),
    };
    if !a.csrf_ok(&csrf) {
        return csrf_refused(st, &a);
    }
    let (mut alt, mut caption, mut credit, mut form_version) =
        (String::new(), String::new(), String::new(), String::new());
    let mut file: Option<(TempUpload, u64)> = None;
    loop {
        let mut field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return upload_refused(st, &a, e.into(), limit),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            if file.is_some() {
                return bad_upload(st, &a);
            }
            match save_field(st, &mut field).await {
                Ok(saved) => file = Some(saved),
                Err(e) => return upload_refused(st, &a, e, limit),
            }
            continue;
        }
        let text = match field.text().await {
            Ok(t) => t,
            Err(e) => return upload_refused(st, &a, e.into(), limit),
        };
        match name.as_str() {
            "alt" => alt = text,
            "caption" => caption = text,
            "credit" => credit = text,
            "version" => form_version = text,
            _ => {}
        }
    }
    let file = file.filter(|(_, len)| *len > 0);
    if let Some(id) = video_for {
        return attach_video(st, &a, id, &form_version, file.map(|(f, _)| f)).await;
    }
    let Some((tmp, _)) = file else {
        return media_page(
            st,
            &a,
            vec!["Choose a picture to upload.".into()],
            String::new(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    // A picture is decoded in memory anyway; it is read back only now, within its limit.
    let bytes = match tokio::fs::read(&tmp.0).await {
        Ok(b) => b,
        Err(e) => return app_error(st, Some(&a), AppError::Internal(Box::new(e))),
    };
    drop(tmp);
    match st
        .app
        .upload_image(&a.user, bytes, &alt, &caption, &credit, &st.media_dir)
        .await
    {
        Ok(img) => {
            media_page(
                st,
                &a,
                Vec::new(),
                format!(
                    "Uploaded picture {} ({}×{}).",
                    img.id, img.width, img.height
                ),
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Invalid(fields)) => {
            media_page(
                st,
                &a,
                fields.into_iter().map(|f| f.message).collect(),
                String::new(),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => app_error(st, Some(&a), e),
    }
}

/// Streams a file field into a hidden temporary file in the media folder; returns it and its
/// length. The whole-stream limit of the multipart parser bounds it.
async fn save_field(
    st: &WebState,
    field: &mut multer::Field<'static>,
) -> Result<(TempUpload, u64), UploadError> {
    use tokio::io::AsyncWriteExt;
    let name = newsdesk_app::auth::random_hex(8)
        .map_err(|e| UploadError::Disk(std::io::Error::other(e.to_string())))?;
    tokio::fs::create_dir_all(&st.media_dir)
        .await
        .map_err(UploadError::Disk)?;
    let tmp = TempUpload(st.media_dir.join(format!(".upload-{name}")));
    let mut out = tokio::fs::File::create(&tmp.0)
        .await
        .map_err(UploadError::Disk)?;
    let mut len = 0u64;
    while let Some(chunk) = field.chunk().await? {
        len += chunk.len() as u64;
        out.write_all(&chunk).await.map_err(UploadError::Disk)?;
    }
    out.flush().await.map_err(UploadError::Disk)?;
    Ok((tmp, len))
}

fn csrf_refused(st: &WebState, a: &Authed) -> Response<Body> {
    message(
        st,
        Some(a),
        StatusCode::FORBIDDEN,
        "Refused",
        "This form was not sent from your newsroom session. Reload the page and try again.",
    )
}

fn bad_upload(st: &WebState, a: &Authed) -> Response<Body> {
    message(
        st,
        Some(a),
        StatusCode::BAD_REQUEST,
        "Bad upload",
        "The upload could not be read.",
    )
}

fn upload_refused(st: &WebState, a: &Authed, e: UploadError, limit: usize) -> Response<Body> {
    match e {
        UploadError::TooLarge => {
            let text = format!("The upload is larger than {} MiB.", limit / (1024 * 1024));
            message(
                st,
                Some(a),
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                &text,
            )
        }
        UploadError::TimedOut => message(
            st,
            Some(a),
            StatusCode::REQUEST_TIMEOUT,
            "Too slow",
            "The upload did not arrive in time; please try again.",
        ),
        UploadError::Unreadable => bad_upload(st, a),
        UploadError::Disk(e) => app_error(st, Some(a), AppError::Internal(Box::new(e))),
    }
}

async fn attach_video(
    st: &WebState,
    a: &Authed,
    id: StoryId,
    version: &str,
    file: Option<TempUpload>,
) -> Response<Body> {
    let Ok(version) = version.parse::<i64>() else {
        return message(
            st,
            Some(a),
            StatusCode::BAD_REQUEST,
            "Bad upload",
            "The form lost its version; reload the page.",
        );
    };
    let Some(tmp) = file else {
        return message(
            st,
            Some(a),
            StatusCode::BAD_REQUEST,
            "No video",
            "Choose an MP4 or WebM file to upload.",
        );
    };
    // The upload is in a hidden temporary file in the media folder; the media room moves it
    // (or refuses it), and the temporary file is removed either way.
    let result = st
        .app
        .attach_video(&a.user, id, version, &tmp.0, &st.media_dir)
        .await;
    drop(tmp);
    match result {
        Ok(_) => see_other(&format!("/newsroom/stories/{id}?saved=1")),
        Err(e) => app_error(st, Some(a), e),
    }
}

/// An uploaded picture in the media list.
pub struct MediaRow {
    /// Id (to pick it as a hero image).
    pub id: i64,
    /// Thumbnail URL.
    pub src: String,
    /// Alt text.
    pub alt: String,
    /// Size.
    pub size: String,
}

#[derive(Template)]
#[template(path = "newsroom/media.html")]
struct MediaPage {
    f: Frame,
    rows: Vec<MediaRow>,
    can_upload: bool,
}

async fn media_page(
    st: &WebState,
    a: &Authed,
    errors: Vec<String>,
    notice: String,
    status: StatusCode,
) -> Response<Body> {
    let mut f = frame(st, Some(a), "Pictures");
    f.errors = errors;
    f.notice = notice;
    let rows = {
        let snap = st.app.read();
        let mut imgs: Vec<_> = snap.images.values().cloned().collect();
        imgs.sort_by_key(|i| std::cmp::Reverse(i.id));
        imgs.truncate(60);
        imgs.iter()
            .map(|i| MediaRow {
                id: i.id.0,
                src: format!(
                    "/newsroom{}",
                    i.variant_path(i.widths.first().copied().unwrap_or(i.width))
                ),
                alt: i.alt.clone(),
                size: format!("{}×{}", i.width, i.height),
            })
            .collect()
    };
    html_response(
        status,
        MediaPage {
            f,
            rows,
            can_upload: a.user.role.can(Capability::UploadMedia),
        }
        .render(),
    )
}

async fn login(st: &WebState, form: &FormData, address: &str) -> Response<Body> {
    match st
        .app
        .login(form.get("email"), form.get("password"), address)
        .await
    {
        Ok(LoginStep::Done(login)) => logged_in(&login.token),
        Ok(LoginStep::NeedCode { pending }) => html_response(
            StatusCode::OK,
            CodePage {
                f: frame(st, None, "One-time code"),
                pending,
            }
            .render(),
        ),
        Err(AppError::Invalid(fields)) => {
            let mut f = frame(st, None, "Log in");
            f.errors = fields.into_iter().map(|x| x.message).collect();
            html_response(
                StatusCode::UNAUTHORIZED,
                LoginPage {
                    f,
                    email: form.get("email").to_owned(),
                }
                .render(),
            )
        }
        Err(e) => app_error(st, None, e),
    }
}

async fn login_code(st: &WebState, form: &FormData, address: &str) -> Response<Body> {
    match st
        .app
        .login_code(form.get("pending"), form.get("code"), address)
        .await
    {
        Ok(login) => logged_in(&login.token),
        Err(AppError::Invalid(fields)) => {
            let mut f = frame(st, None, "One-time code");
            f.errors = fields.into_iter().map(|x| x.message).collect();
            html_response(
                StatusCode::UNAUTHORIZED,
                CodePage {
                    f,
                    pending: form.get("pending").to_owned(),
                }
                .render(),
            )
        }
        Err(e) => app_error(st, None, e),
    }
}

fn logged_in(token: &str) -> Response<Body> {
    crate::respond::or_500(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/newsroom")
            .header(header::SET_COOKIE, session_cookie(token, true))
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty()),
    )
}

#[derive(Template)]
#[template(path = "newsroom/forgot.html")]
struct ForgotPage {
    f: Frame,
}

#[derive(Template)]
#[template(path = "newsroom/reset.html")]
struct ResetPage {
    f: Frame,
    token: String,
}

#[derive(Template)]
#[template(path = "newsroom/code.html")]
struct CodePage {
    f: Frame,
    pending: String,
}

#[derive(Template)]
#[template(path = "newsroom/account.html")]
struct AccountPage {
    f: Frame,
    enabled: bool,
    required: bool,
    secret: String,
    uri: String,
}

async fn account_page(
    st: &WebState,
    a: &Authed,
    errors: Vec<String>,
    notice: String,
) -> Result<Response<Body>, AppError> {
    let user = st.app.account(&a.user).await?;
    let secret = if user.totp_enabled {
        String::new()
    } else {
        st.app.new_totp_secret()?
    };
    let uri = if secret.is_empty() {
        String::new()
    } else {
        newsdesk_app::totp::otpauth_uri(&st.app.site.name, user.email.as_str(), &secret)
    };
    let mut f = frame(st, Some(a), "Your account");
    f.errors = errors;
    f.notice = notice;
    let status = if f.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(html_response(
        status,
        AccountPage {
            f,
            enabled: user.totp_enabled,
            required: st.app.totp_required(&user),
            secret,
            uri,
        }
        .render(),
    ))
}

fn story_id(s: &str) -> Result<StoryId, AppError> {
    s.parse::<i64>()
        .map(StoryId)
        .map_err(|_| AppError::NotFound)
}

fn version(form: &FormData) -> Result<i64, AppError> {
    form.get("version")
        .parse()
        .map_err(|_| AppError::invalid("version", "The form lost its version; reload the page."))
}

async fn route(
    st: &WebState,
    a: &Authed,
    segs: &[&str],
    post: bool,
    form: &FormData,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    match (segs, post) {
        ([], false) => dashboard(st, a, query).await,
        (["logout"], true) => {
            st.app.logout(a).await?;
            Ok(crate::respond::or_500(
                Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header(header::LOCATION, "/newsroom/login")
                    .header(header::SET_COOKIE, clear_cookie())
                    .header(header::CACHE_CONTROL, "no-store")
                    .body(Body::empty()),
            ))
        }
        (["stories", "new"], false) => {
            newsdesk_app::require(&a.user, Capability::CreateStory)?;
            let blank = StoryForm {
                kind: "news".into(),
                editions: vec![("global".into(), String::new())],
                ..Default::default()
            };
            Ok(editor(
                st,
                a,
                None,
                blank,
                String::new(),
                Vec::new(),
                StatusCode::OK,
            )
            .await)
        }
        (["stories", "new"], true) => {
            let f = story_form(form);
            if form.get("action") == "preview" {
                let html = newsdesk_render::markdown_to_safe_html(&f.body_md);
                return Ok(editor(st, a, None, f, html, Vec::new(), StatusCode::OK).await);
            }
            match st.app.create_story(&a.user, &f).await {
                Ok(s) => Ok(see_other(&format!("/newsroom/stories/{}?saved=1", s.id))),
                Err(AppError::Invalid(errs)) => Ok(editor(
                    st,
                    a,
                    None,
                    f,
                    String::new(),
                    errs.into_iter().map(|e| e.message).collect(),
                    StatusCode::BAD_REQUEST,
                )
                .await),
                Err(e) => Err(e),
            }
        }
        (["preview"], true) => {
            let html = newsdesk_render::markdown_to_safe_html(form.get("body_md"));
            Ok(crate::respond::or_500(
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                    .header(header::CACHE_CONTROL, "no-store")
                    .body(Body::from(html)),
            ))
        }
        (["stories", id, "autosave"], true) => {
            let id = story_id(id)?;
            let saved_at = if form.get("heartbeat") == "1" {
                String::new()
            } else {
                utc(st.app.autosave(&a.user, id, &story_form(form)).await?)
            };
            let others: Vec<String> = st
                .app
                .presence(&a.user, id)
                .await?
                .into_iter()
                .map(|u| u.name)
                .collect();
            let json = serde_json::json!({ "saved_at": saved_at, "others": others }).to_string();
            Ok(crate::respond::or_500(
                Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CACHE_CONTROL, "no-store")
                    .body(Body::from(json)),
            ))
        }
        (["stories", id], false) if query.get("autosave") == "1" => {
            let story = st.app.story_for_edit(&a.user, story_id(id)?).await?;
            let Some((at, f)) = st.app.autosaved(&a.user, &story).await? else {
                return Ok(see_other(&format!("/newsroom/stories/{}", story.id)));
            };
            let notice = format!("Your autosaved text from {} is in the form below. It is not saved until you press Save.", utc(at));
            Ok(editor_with(
                st,
                a,
                Some(&story),
                f,
                String::new(),
                Vec::new(),
                StatusCode::OK,
                &notice,
            )
            .await)
        }
        (["stories", id], false) => {
            let story = st.app.story_for_edit(&a.user, story_id(id)?).await?;
            let f = form_of(st, &story);
            let mut res = editor(
                st,
                a,
                Some(&story),
                f,
                String::new(),
                Vec::new(),
                StatusCode::OK,
            )
            .await;
            if query.get("saved") == "1" {
                res = with_notice(st, a, Some(&story), "Saved.")
                    .await
                    .unwrap_or(res);
            }
            Ok(res)
        }
        (["stories", id], true) => {
            let id = story_id(id)?;
            let current = st.app.story_for_edit(&a.user, id).await?;
            let f = story_form(form);
            if form.get("action") == "preview" {
                let html = newsdesk_render::markdown_to_safe_html(&f.body_md);
                return Ok(
                    editor(st, a, Some(&current), f, html, Vec::new(), StatusCode::OK).await,
                );
            }
            match st.app.save_story(&a.user, id, version(form)?, &f).await {
                Ok(s) => Ok(see_other(&format!("/newsroom/stories/{}?saved=1", s.id))),
                Err(AppError::Conflict(_)) => {
                    let page = ConflictPage {
                        f: frame(st, Some(a), "Someone changed this story"),
                        story_id: id.0,
                        theirs_version: current.version,
                        theirs_headline: current.headline.to_string(),
                        theirs_body: current.body_md.clone(),
                        yours_headline: f.headline.clone(),
                        yours_body: f.body_md.clone(),
                    };
                    Ok(html_response(StatusCode::CONFLICT, page.render()))
                }
                Err(AppError::Invalid(errs)) => Ok(editor(
                    st,
                    a,
                    Some(&current),
                    f,
                    String::new(),
                    errs.into_iter().map(|e| e.message).collect(),
                    StatusCode::BAD_REQUEST,
                )
                .await),
                Err(e) => Err(e),
            }
        }
        (["stories", id, "step"], true) => {
            let id = story_id(id)?;
            let step = Transition::parse(form.get("step"))
                .ok_or_else(|| AppError::invalid("step", "Unknown step."))?;
            let at = match form.get("publish_at") {
                "" => None,
                s => Some(newsdesk_app::newsroom::parse_utc_input(s).ok_or_else(|| {
                    AppError::invalid("publish_at", "Give the time as a date and time (UTC).")
                })?),
            };
            st.app
                .transition(&a.user, id, version(form)?, step, at)
                .await?;
            Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
        }
        (["stories", id, "correct"], true) => {
            let id = story_id(id)?;
            st.app
                .correct_story(
                    &a.user,
                    id,
                    version(form)?,
                    form.get("wrong"),
                    form.get("right"),
                )
                .await?;
            Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
        }
        (["stories", id, "history"], false) => history(st, a, story_id(id)?, query).await,
        (["stories", id, "restore"], true) => {
            let id = story_id(id)?;
            let rev: i64 = form
                .get("revision")
                .parse()
                .map_err(|_| AppError::NotFound)?;
            st.app
                .restore_revision(&a.user, id, version(form)?, rev)
                .await?;
            Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
        }
        (["wire"], false) => wire_inbox(st, a, query).await,
        (["wire", id], false) => {
            let id = id.parse().map_err(|_| AppError::NotFound)?;
            wire_cluster(st, a, id, query.get("saved") == "1").await
        }
        (["wire", id, "tags"], true) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            let sector = Some(form.get("sector")).filter(|s| !s.trim().is_empty());
            st.app
                .retag_cluster(&a.user, id, sector, &form.all("edition"))
                .await?;
            Ok(see_other(&format!("/newsroom/wire/{id}?saved=1")))
        }
        (["wire", id, "story"], true) => {
            let story = st
                .app
                .story_from_cluster(&a.user, id.parse().map_err(|_| AppError::NotFound)?)
                .await?;
            Ok(see_other(&format!(
                "/newsroom/stories/{}?saved=1",
                story.id
            )))
        }
        (["wire", id, "summary"], true) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            st.app
                .accept_summary(&a.user, id, form.get("summary"))
                .await?;
            Ok(see_other(&format!("/newsroom/wire/{id}")))
        }
        (["stories", id, "flags"], true) => {
            st.app.resolve_flags(&a.user, story_id(id)?).await?;
            Ok(see_other("/newsroom"))
        }
        (["sources"], false) => {
            sources_page(st, a, String::new(), Vec::new(), SourceFields::default()).await
        }
        (["sources", id], false) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            let mut out = sources::Outcome::default();
            if query.get("saved") == "1" {
                out.notice = "Saved.".into();
            }
            sources::page(st, a, id, out).await
        }
        (["sources", id], true) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            sources::save_settings(st, a, id, form).await
        }
        (["sources", id, "token"], true) => {
            sources::new_token(st, a, id.parse().map_err(|_| AppError::NotFound)?).await
        }
        (["sources", id, "poll"], true) => {
            sources::poll_now(st, a, id.parse().map_err(|_| AppError::NotFound)?).await
        }
        (["sources", id, "auto-publish"], true) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            sources::save_rule(st, a, id, form).await
        }
        (["sources"], true) => {
            // Empty means the default; anything that is not a number is out of range.
            let minutes: i64 = match form.get("poll_minutes").trim() {
                "" => 15,
                m => m.parse().unwrap_or(0),
            };
            match st
                .app
                .add_source(&a.user, form.get("name"), form.get("url"), minutes, false)
                .await
            {
                Ok((src, token)) => {
                    let base = st.app.site.base_url.trim_end_matches('/');
                    let note = format!(
                        "Source {} added. Agencies push to {base}/api/wire/{} with the header \"Authorization: Bearer {token}\" (shown once).",
                        src.name, src.id
                    );
                    sources_page(st, a, note, Vec::new(), SourceFields::default()).await
                }
                Err(AppError::Invalid(f)) => {
                    let fields = SourceFields {
                        name: form.get("name").into(),
                        url: form.get("url").into(),
                        poll_minutes: form.get("poll_minutes").into(),
                        invalid: f.iter().map(|x| x.field.clone()).collect(),
                    };
                    sources_page(
                        st,
                        a,
                        String::new(),
                        f.into_iter().map(|x| x.message).collect(),
                        fields,
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
        (["account"], false) => account_page(st, a, Vec::new(), String::new()).await,
        (["account", "totp"], true) => {
            let result = if form.get("action") == "disable" {
                st.app
                    .disable_totp(&a.user, form.get("code"))
                    .await
                    .map(|_| "Two-step login is off.")
            } else {
                st.app
                    .enable_totp(&a.user, form.get("secret"), form.get("code"))
                    .await
                    .map(|_| "Two-step login is on: you will be asked for a code at every login.")
            };
            match result {
                Ok(notice) => account_page(st, a, Vec::new(), notice.into()).await,
                Err(AppError::Invalid(f)) => {
                    account_page(
                        st,
                        a,
                        f.into_iter().map(|x| x.message).collect(),
                        String::new(),
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
        (["media"], false) => {
            Ok(media_page(st, a, Vec::new(), String::new(), StatusCode::OK).await)
        }
        (["audit"], false) => {
            let before = query.get("before").parse::<i64>().ok();
            let log = st.app.audit_log(&a.user, before).await?;
            let older_href = log
                .older
                .map(|id| format!("/newsroom/audit?before={id}"))
                .unwrap_or_default();
            let rows = log
                .entries
                .into_iter()
                .map(|(e, by)| (utc(e.at), by, e.action, e.target, e.detail))
                .collect();
            Ok(html_response(
                StatusCode::OK,
                AuditPage {
                    f: frame(st, Some(a), "Audit log"),
                    rows,
                    older_href,
                }
                .render(),
            ))
        }
        (["jobs"], false) => jobs_page(st, a, query.get("state"), String::new()).await,
        (["jobs", id, "retry"], true) => {
            let id = newsdesk_domain::JobId(id.parse().map_err(|_| AppError::NotFound)?);
            st.app.retry_job(&a.user, id).await?;
            jobs_page(st, a, "dead", format!("Job {id} is queued again.")).await
        }
        (["users"], false) => users_page(st, a, String::new()).await,
        (["users", "invite"], true) => {
            let role = Role::parse(form.get("role"))
                .ok_or_else(|| AppError::invalid("role", "Choose a role."))?;
            let token = st.app.invite(&a.user, form.get("email"), role).await?;
            let link = format!(
                "{}/newsroom/invitation/{token}",
                st.app.site.base_url.trim_end_matches('/')
            );
            users_page(st, a, link).await
        }
        (["users", id], true) => {
            let id = UserId(id.parse().map_err(|_| AppError::NotFound)?);
            let role = Role::parse(form.get("role"))
                .ok_or_else(|| AppError::invalid("role", "Choose a role."))?;
            st.app
                .set_user_access(&a.user, id, role, form.get("disabled") == "on")
                .await?;
            Ok(see_other("/newsroom/users"))
        }
        _ => Err(AppError::NotFound),
    }
}

async fn with_notice(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    notice: &str,
) -> Option<Response<Body>> {
    let s = story?;
    let f = form_of(st, s);
    Some(
        editor_with(
            st,
            a,
            Some(s),
            f,
            String::new(),
            Vec::new(),
            StatusCode::OK,
            notice,
        )
        .await,
    )
}

/// Reads the editor's fields into a [`StoryForm`].
pub fn story_form(form: &FormData) -> StoryForm {
    let editions = form
        .all("edition")
        .into_iter()
        .map(|slug| {
            let rank = form.get(&format!("rank-{slug}")).to_owned();
            (slug, rank)
        })
        .collect();
    StoryForm {
        headline: form.get("headline").into(),
        summary: form.get("summary").into(),
        body_md: form.get("body_md").replace("\r\n", "\n"),
        kind: form.get("kind").into(),
        sector: form.get("sector").into(),
        region: form.get("region").into(),
        editions,
        tags: form.get("tags").into(),
        authors: form
            .all("author")
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect(),
        desk: form.get("desk").into(),
        hero_image: form.get("hero_image").into(),
        source: form.get("source").into(),
        slug: form.get("slug").into(),
        embargo_until: form.get("embargo_until").into(),
    }
}

fn form_of(st: &WebState, s: &Story) -> StoryForm {
    let snap = st.app.read();
    let tax = &snap.tax;
    StoryForm {
        headline: s.headline.to_string(),
        summary: s.summary.clone(),
        body_md: s.body_md.clone(),
        kind: s.kind.as_str().into(),
        sector: tax
            .sector(s.sector_id)
            .map(|x| x.slug.to_string())
            .unwrap_or_default(),
        region: s.region.clone(),
        editions: s
            .placements
            .iter()
            .filter_map(|p| {
                tax.edition(p.edition_id).map(|e| {
                    (
                        e.slug.to_string(),
                        p.rank.map(|r| r.to_string()).unwrap_or_default(),
                    )
                })
            })
            .collect(),
        tags: s
            .tag_ids
            .iter()
            .filter_map(|t| tax.tag(*t))
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        authors: s
            .author_ids
            .iter()
            .filter_map(|a| tax.author(*a))
            .map(|a| a.slug.to_string())
            .collect(),
        desk: s
            .desk_id
            .and_then(|d| tax.desk(d))
            .map(|d| d.slug.to_string())
            .unwrap_or_default(),
        hero_image: s.hero_image_id.map(|i| i.0.to_string()).unwrap_or_default(),
        source: s.source.clone().unwrap_or_default(),
        slug: s.slug.to_string(),
        embargo_until: s
            .embargo_until
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn editor(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    form: StoryForm,
    preview_html: String,
    errors: Vec<String>,
    status: StatusCode,
) -> Response<Body> {
    editor_with(st, a, story, form, preview_html, errors, status, "").await
}

#[allow(clippy::too_many_arguments)]
async fn editor_with(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    form: StoryForm,
    preview_html: String,
    errors: Vec<String>,
    status: StatusCode,
    notice: &str,
) -> Response<Body> {
    // What the editor shows besides the story; a store failure here is an error page with the
    // cause logged, never a page that quietly leaves corrections or presence out.
    let extras = async {
        let rights = st.app.story_rights(&a.user, story).await?;
        let corrections = match story {
            Some(s) => st.app.corrections(s.id).await?,
            None => Vec::new(),
        };
        let others = match story {
            Some(s) => st
                .app
                .presence(&a.user, s.id)
                .await?
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            None => String::new(),
        };
        let autosave_at = match story {
            Some(s) if preview_html.is_empty() && errors.is_empty() => st
                .app
                .autosaved(&a.user, s)
                .await?
                .map(|(t, _)| utc(t))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Ok::<_, AppError>((rights, corrections, others, autosave_at))
    };
    let (rights, corrections, others, autosave_at) = match extras.await {
        Ok(x) => x,
        Err(e) => return app_error(st, Some(a), e),
    };
    let snap = st.app.read();
    let tax = &snap.tax;
    let opt = |value: String, label: String, selected: bool| Opt {
        value,
        label,
        selected,
    };
    let kinds = Kind::ALL
        .iter()
        .map(|k| {
            opt(
                k.as_str().into(),
                k.plural_label().into(),
                form.kind == k.as_str(),
            )
        })
        .collect();
    let sectors = tax
        .sectors
        .iter()
        .map(|s| {
            opt(
                s.slug.to_string(),
                s.name.clone(),
                form.sector == s.slug.as_str(),
            )
        })
        .collect();
    let mut desks = vec![opt(String::new(), "(none)".into(), form.desk.is_empty())];
    desks.extend(tax.desks.iter().map(|d| {
        opt(
            d.slug.to_string(),
            d.name.clone(),
            form.desk == d.slug.as_str(),
        )
    }));
    let authors = tax
        .authors
        .iter()
        .map(|x| {
            opt(
                x.slug.to_string(),
                x.name.clone(),
                form.authors.iter().any(|a| a == x.slug.as_str()),
            )
        })
        .collect();
    let mut images = vec![opt(
        String::new(),
        "(none)".into(),
        form.hero_image.is_empty(),
    )];
    let mut imgs: Vec<_> = snap.images.values().collect();
    imgs.sort_by_key(|i| i.id);
    images.extend(imgs.iter().map(|i| {
        opt(
            i.id.0.to_string(),
            format!("{} — {}", i.id, i.alt),
            form.hero_image == i.id.0.to_string(),
        )
    }));
    let editions = tax
        .editions
        .iter()
        .map(|e| {
            let chosen = form.editions.iter().find(|(s, _)| s == e.slug.as_str());
            EditionChoice {
                slug: e.slug.to_string(),
                name: e.name.clone(),
                checked: chosen.is_some(),
                rank: chosen.map(|(_, r)| r.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let steps = rights
        .steps
        .iter()
        .map(|t| Step {
            name: t.as_str().into(),
            label: match t {
                Transition::Submit => "Submit for review",
                Transition::SendBack => "Send back to draft",
                Transition::Publish => "Publish now",
                Transition::Unpublish => "Unpublish",
                Transition::Kill => "Kill",
                Transition::Schedule => "Schedule",
            }
            .into(),
        })
        .collect();
    let mut f = frame(
        st,
        Some(a),
        if story.is_some() {
            "Edit story"
        } else {
            "New story"
        },
    );
    f.errors = errors;
    f.notice = notice.to_owned();
    let page = EditorPage {
        f,
        action: story
            .map(|s| format!("/newsroom/stories/{}", s.id))
            .unwrap_or_else(|| "/newsroom/stories/new".into()),
        story_id: story.map(|s| s.id.0).unwrap_or(0),
        version: story.map(|s| s.version).unwrap_or(0),
        status: story.map(|s| s.status.as_str()).unwrap_or("new").into(),
        public_href: story
            .filter(|s| s.is_public_at(st.app.now()))
            .map(|s| format!("/article/{}", s.slug))
            .unwrap_or_default(),
        form,
        kinds,
        sectors,
        desks,
        authors,
        images,
        editions,
        preview_html,
        can_edit: rights.can_edit,
        steps,
        can_schedule: rights.can_schedule,
        can_correct: rights.can_correct,
        corrections: corrections
            .iter()
            .map(|c| (utc(c.at), c.wrong.clone(), c.right.clone()))
            .collect(),
        others,
        autosave_at,
        video: story.and_then(|s| s.video.clone()).unwrap_or_default(),
    };
    drop(snap);
    html_response(status, page.render())
}

async fn dashboard(
    st: &WebState,
    a: &Authed,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    newsdesk_app::require(&a.user, Capability::ViewNewsroom)?;
    let q = query.get("q").trim().to_owned();
    let text = (!q.is_empty()).then(|| q.clone());
    let now = st.app.now();
    let row = |r: &DeskRow| Row {
        href: format!("/newsroom/stories/{}", r.card.id),
        headline: r.card.headline.to_string(),
        status: r.card.status.as_str().into(),
        updated: utc(r.card.updated_at),
        when: match (r.card.status, r.card.published_at, r.card.embargo_until) {
            (_, _, Some(e)) if e > now => format!("embargoed until {}", utc(e)),
            (StoryStatus::Scheduled, Some(p), _) => format!("publishes {}", utc(p)),
            (StoryStatus::Published, Some(p), _) => format!("published {}", utc(p)),
            _ => String::new(),
        },
    };
    // Filters shared by every section: headline text and the story's taxonomy.
    let (base, sectors, editions, desks, authors) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        let pick = |key: &str| query.get(key).trim().to_owned();
        let (sector, edition, desk, author) = (
            pick("sector"),
            pick("edition"),
            pick("desk"),
            pick("author"),
        );
        let unknown = |field: &str| AppError::invalid(field, "Choose from the list.");
        let base = DeskQuery {
            text: text.clone(),
            sector: match sector.as_str() {
                "" => None,
                x => Some(tax.sector_by_slug(x).ok_or_else(|| unknown("sector"))?.id),
            },
            edition: match edition.as_str() {
                "" => None,
                x => Some(tax.edition_by_slug(x).ok_or_else(|| unknown("edition"))?.id),
            },
            desk: match desk.as_str() {
                "" => None,
                x => Some(tax.desk_by_slug(x).ok_or_else(|| unknown("desk"))?.id),
            },
            author: match author.as_str() {
                "" => None,
                x => Some(tax.author_by_slug(x).ok_or_else(|| unknown("author"))?.id),
            },
            ..Default::default()
        };
        (
            base,
            slug_options(
                "any sector",
                &sector,
                tax.sectors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any edition",
                &edition,
                tax.editions
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any desk",
                &desk,
                tax.desks.iter().map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any author",
                &author,
                tax.authors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
        )
    };
    let filtered = base.text.is_some()
        || base.sector.is_some()
        || base.edition.is_some()
        || base.desk.is_some()
        || base.author.is_some();
    let section = |statuses: Vec<StoryStatus>, limit: usize| DeskQuery {
        statuses,
        limit,
        ..base.clone()
    };
    let mut sections = Vec::new();
    let queries: Vec<(&str, &str, DeskQuery)> = vec![
        (
            "My drafts",
            "mine",
            DeskQuery {
                owner: Some(a.user.id),
                ..section(vec![StoryStatus::Draft], 50)
            },
        ),
        (
            "Waiting for review",
            "review",
            section(vec![StoryStatus::InReview], 50),
        ),
        (
            "Scheduled",
            "scheduled",
            section(vec![StoryStatus::Scheduled], 50),
        ),
        (
            "Embargoed",
            "embargoed",
            DeskQuery {
                embargoed_after: Some(now),
                ..section(vec![StoryStatus::Published], 50)
            },
        ),
        (
            "Recently published",
            "published",
            section(vec![StoryStatus::Published], 25),
        ),
    ];
    for (title, id, query) in queries {
        let rows = st.app.desk_stories(&a.user, &query).await?;
        sections.push(Section {
            title: title.into(),
            id: id.into(),
            rows: rows.iter().map(row).collect(),
        });
    }
    let flag_rows: Vec<FlagRow> = st
        .app
        .flagged_stories(&a.user)
        .await?
        .into_iter()
        .map(|f| FlagRow {
            href: format!("/newsroom/stories/{}", f.flag.story_id),
            headline: f
                .story
                .as_ref()
                .map(|s| s.headline.to_string())
                .unwrap_or_default(),
            what: format!("{} ({})", f.flag.reason, utc(f.flag.at)),
            id: f.flag.story_id.0,
            version: f.story.as_ref().map_or(0, |s| s.version),
            published: f
                .story
                .as_ref()
                .is_some_and(|s| s.status == StoryStatus::Published),
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        DashboardPage {
            f: frame(st, Some(a), "Dashboard"),
            q,
            sectors,
            editions,
            desks,
            authors,
            filtered,
            sections,
            flags: flag_rows,
        }
        .render(),
    ))
}

async fn history(
    st: &WebState,
    a: &Authed,
    id: StoryId,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    let number = |k: &str| query.get(k).parse::<i64>().ok();
    let h = st
        .app
        .story_history(&a.user, id, number("from"), number("to"))
        .await?;
    let story = &h.story;
    let page = HistoryPage {
        f: frame(st, Some(a), "History"),
        story_id: id.0,
        version: story.version,
        headline: story.headline.to_string(),
        revisions: h
            .revisions
            .iter()
            .map(|r| RevRow {
                id: r.meta.id,
                version: r.meta.version,
                at: utc(r.meta.at),
                by: r.by.clone(),
                status: r.meta.status.as_str().into(),
                headline: r.meta.headline.clone(),
            })
            .collect(),
        from: h.from,
        to: h.to,
        diff_headline: diff_parts(h.diff.headline.clone()),
        diff_body: diff_parts(h.diff.body.clone()),
        diff_note: h.diff.note.clone(),
        can_restore: h.can_restore,
    };
    Ok(html_response(StatusCode::OK, page.render()))
}

async fn users_page(
    st: &WebState,
    a: &Authed,
    invitation_link: String,
) -> Result<Response<Body>, AppError> {
    let users = st.app.users(&a.user).await?;
    let roles = |current: Role| {
        Role::ALL
            .iter()
            .map(|r| Opt {
                value: r.as_str().into(),
                label: r.as_str().into(),
                selected: *r == current,
            })
            .collect()
    };
    let page = UsersPage {
        f: frame(st, Some(a), "Accounts"),
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id.0,
                name: u.name.clone(),
                email: u.email.to_string(),
                roles: roles(u.role),
                disabled: u.disabled,
            })
            .collect(),
        roles: roles(Role::Author),
        invitation_link,
    };
    Ok(html_response(StatusCode::OK, page.render()))
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
