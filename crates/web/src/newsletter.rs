//! The newsletter's reader pages under `/newsletter`: the subscribe form and its answer, the
//! confirmation (double opt-in), the preference page and unsubscribing (RFC 8058 one-click),
//! and the sending service's webhook for bounces and complaints. Every rule is in `app`; this
//! turns requests into its calls. Pages that carry a token are `noindex` and send no referrer.

use crate::forms::FormData;
use crate::views::Chrome;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use newsdesk_app::newsletter::SubscribeForm;
use newsdesk_app::AppError;
use newsdesk_domain::*;
use std::net::SocketAddr;
use std::sync::Arc;

type St = State<Arc<WebState>>;

/// Largest form body read (the subscribe and preference forms are small).
const FORM_MAX: usize = 16 * 1024;

/// The routes under `/newsletter`.
pub fn router() -> Router<Arc<WebState>> {
    Router::new()
        .route("/newsletter", get(page))
        .route("/newsletter/subscribe", post(subscribe).get(page))
        .route("/newsletter/confirm", get(confirm_page).post(confirm))
        .route(
            "/newsletter/preferences",
            get(preferences_page).post(preferences_post),
        )
        .route(
            "/newsletter/unsubscribe",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/newsletter/events", post(events))
}

/// A choice in a list.
pub struct Choice {
    /// Form value.
    pub value: String,
    /// Label.
    pub label: String,
    /// Chosen.
    pub checked: bool,
}

/// What the newsletter template shows.
#[derive(Default)]
pub struct NlView {
    /// Which part: form, sent, confirm, confirmed, prefs, saved, unsubscribe, unsubscribed,
    /// invalid, limited.
    pub mode: &'static str,
    /// Heading.
    pub heading: String,
    /// A sentence under it.
    pub message: String,
    /// The address typed or subscribed.
    pub email: String,
    /// The link's token (confirm, preferences).
    pub token: String,
    /// Editions to choose from.
    pub editions: Vec<Choice>,
    /// Sectors to choose from.
    pub sectors: Vec<Choice>,
    /// Weekly chosen (else daily).
    pub weekly: bool,
    /// Breaking news chosen.
    pub breaking: bool,
    /// Errors to show above the form.
    pub errors: Vec<String>,
    /// The page the form was on.
    pub source: String,
}

#[derive(Template)]
#[template(path = "newsletter.html")]
struct NewsletterPage {
    c: Chrome,
    v: NlView,
}

fn query_get(q: Option<&str>, key: &str) -> String {
    FormData::parse(q.unwrap_or("").as_bytes())
        .map(|f| f.get(key).to_owned())
        .unwrap_or_default()
}

/// Renders the page in the chrome of `edition` (Global when unknown).
fn render(
    st: &WebState,
    edition: &str,
    status: StatusCode,
    v: NlView,
    private: bool,
) -> Response<Body> {
    let body = {
        let snap = st.app.read();
        let ed = snap
            .tax
            .edition_by_slug(edition)
            .or_else(|| snap.tax.global())
            .cloned();
        ed.and_then(|ed| {
            let cx = crate::reader::ctx(st, &snap, &ed);
            let c = cx.chrome(
                &v.heading,
                "Our newsletter: a daily or weekly digest of the stories you follow, and breaking news.",
                "/newsletter",
                "/newsletter",
            );
            NewsletterPage { c, v }.render().ok()
        })
    };
    let mut b = Response::builder()
        .status(if body.is_some() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        })
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store");
    if private {
        b = b
            .header("x-robots-tag", "noindex")
            .header(header::REFERRER_POLICY, "no-referrer");
    }
    crate::respond::or_500(b.body(Body::from(
        body.unwrap_or_else(|| "Something went wrong.".to_owned()),
    )))
}

/// The choices of the form, with `prefs` (or the defaults) checked.
fn choices(st: &WebState, v: &mut NlView, prefs: Option<&Preferences>, edition: &str) {
    let snap = st.app.read();
    v.editions = snap
        .tax
        .editions
        .iter()
        .map(|e| Choice {
            value: e.slug.as_str().to_owned(),
            label: e.name.clone(),
            checked: match prefs {
                Some(p) => p.editions.contains(&e.id),
                None => e.slug.as_str() == edition || (edition.is_empty() && e.is_global()),
            },
        })
        .collect();
    v.sectors = snap
        .tax
        .sectors
        .iter()
        .map(|s| Choice {
            value: s.slug.as_str().to_owned(),
            label: s.name.clone(),
            checked: prefs.is_some_and(|p| p.sectors.contains(&s.id)),
        })
        .collect();
    v.weekly = prefs.is_some_and(|p| p.frequency == Frequency::Weekly);
    v.breaking = prefs.is_none_or(|p| p.breaking);
}

/// `GET /newsletter` (`?edition=`): the full form.
async fn page(State(st): St, req: Request) -> Response<Body> {
    let edition = query_get(req.uri().query(), "edition");
    let mut v = NlView {
        mode: "form",
        heading: "Subscribe to our newsletter".into(),
        source: "/newsletter".into(),
        ..NlView::default()
    };
    choices(&st, &mut v, None, &edition);
    render(&st, &edition, StatusCode::OK, v, false)
}

async fn read_form(req: Request) -> Result<(HeaderMap, Option<String>, FormData), ()> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_MAX).await.map_err(|_| ())?;
    let form = FormData::parse(&bytes).ok_or(())?;
    Ok((parts.headers, parts.uri.query().map(str::to_owned), form))
}

fn bad_form(st: &WebState) -> Response<Body> {
    let v = NlView {
        mode: "invalid",
        heading: "That form could not be read".into(),
        message: "Please use the form on this page again.".into(),
        ..NlView::default()
    };
    render(st, "", StatusCode::BAD_REQUEST, v, true)
}

/// The path of the page a form was sent from, when it is this site's.
fn source_path(st: &WebState, headers: &HeaderMap, field: &str) -> String {
    let base = st.app.site.base_url.trim_end_matches('/');
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix(base))
        .filter(|p| p.starts_with('/'))
        .map(|p| p.split(['?', '#']).next().unwrap_or("/").to_owned());
    referer.unwrap_or_else(|| field.to_owned())
}

/// `POST /newsletter/subscribe`: the same answer for every valid address.
async fn subscribe(State(st): St, req: Request) -> Response<Body> {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let Ok((headers, query, form)) = read_form(req).await else {
        return bad_form(&st);
    };
    let mut editions = form.all("editions");
    if editions.is_empty() {
        let e = query_get(query.as_deref(), "edition");
        if !e.is_empty() {
            editions.push(e);
        }
    }
    let edition = editions.first().cloned().unwrap_or_default();
    let f = SubscribeForm {
        email: form.get("email").to_owned(),
        editions: editions.clone(),
        sectors: form.all("sectors"),
        frequency: form.get("frequency").to_owned(),
        breaking: form.get("breaking") == "on",
        source: source_path(&st, &headers, form.get("source")),
    };
    match st.app.subscribe(&f, &client).await {
        Ok(()) => {
            let v = NlView {
                mode: "sent",
                heading: "Check your inbox".into(),
                message: format!(
                    "If {} can receive our newsletter, a message with a confirmation link is on its way. Nothing else is sent until the link in it is followed.",
                    f.email.trim()
                ),
                ..NlView::default()
            };
            render(&st, &edition, StatusCode::OK, v, true)
        }
        Err(AppError::RateLimited) => {
            let v = NlView {
                mode: "limited",
                heading: "Too many requests".into(),
                message: "Too many subscription requests came from here or for this address. Please try again in an hour.".into(),
                ..NlView::default()
            };
            render(&st, &edition, StatusCode::TOO_MANY_REQUESTS, v, true)
        }
        Err(AppError::Invalid(errs)) => {
            let mut v = NlView {
                mode: "form",
                heading: "Subscribe to our newsletter".into(),
                email: f.email.clone(),
                errors: errs.into_iter().map(|e| e.message).collect(),
                source: f.source.clone(),
                ..NlView::default()
            };
            let prefs = st
                .app
                .parse_preferences(&editions, &f.sectors, &f.frequency, f.breaking)
                .ok();
            choices(&st, &mut v, prefs.as_ref(), &edition);
            render(&st, &edition, StatusCode::UNPROCESSABLE_ENTITY, v, true)
        }
        Err(e) => internal(&st, e),
    }
}

fn internal(st: &WebState, e: AppError) -> Response<Body> {
    tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "newsletter request failed");
    let v = NlView {
        mode: "invalid",
        heading: "Something went wrong".into(),
        message: "We could not do this just now. Please try again in a moment.".into(),
        ..NlView::default()
    };
    render(st, "", StatusCode::INTERNAL_SERVER_ERROR, v, true)
}

fn invalid_link(st: &WebState) -> Response<Body> {
    let v = NlView {
        mode: "invalid",
        heading: "This link does not work".into(),
        message: "It may be mistyped, replaced by a newer one, or expired. You can subscribe again from any page.".into(),
        ..NlView::default()
    };
    render(st, "", StatusCode::NOT_FOUND, v, true)
}

fn answer(st: &WebState, r: Result<Response<Body>, AppError>) -> Response<Body> {
    match r {
        Ok(r) => r,
        Err(AppError::NotFound) => invalid_link(st),
        Err(e) => internal(st, e),
    }
}

/// `GET /newsletter/confirm?t=`: asks to confirm (a link scanner's GET changes nothing).
async fn confirm_page(State(st): St, req: Request) -> Response<Body> {
    let t = query_get(req.uri().query(), "t");
    let r = async {
        let s = st.app.check_confirmation(&t).await?;
        let v = NlView {
            mode: "confirm",
            heading: "Confirm your subscription".into(),
            message: s.consent_text.clone(),
            email: s.email.as_str().to_owned(),
            token: t.clone(),
            ..NlView::default()
        };
        Ok(render(&st, "", StatusCode::OK, v, true))
    }
    .await;
    answer(&st, r)
}

/// `POST /newsletter/confirm` (`t` in the form): the subscription becomes active.
async fn confirm(State(st): St, req: Request) -> Response<Body> {
    let Ok((_, query, form)) = read_form(req).await else {
        return bad_form(&st);
    };
    let t = match form.get("t") {
        "" => query_get(query.as_deref(), "t"),
        t => t.to_owned(),
    };
    let r = async {
        let s = st.app.confirm_subscription(&t).await?;
        let v = NlView {
            mode: "confirmed",
            heading: "You are subscribed".into(),
            message: format!("Thank you. {} will receive: {}", s.email, s.consent_text),
            ..NlView::default()
        };
        Ok(render(&st, "", StatusCode::OK, v, true))
    }
    .await;
    answer(&st, r)
}

fn prefs_view(
    st: &WebState,
    s: &Subscriber,
    token: &str,
    mode: &'static str,
    heading: &str,
) -> NlView {
    let mut v = NlView {
        mode,
        heading: heading.into(),
        email: s.email.as_str().to_owned(),
        token: token.to_owned(),
        message: if s.status == SubscriberStatus::Active {
            String::new()
        } else {
            format!("This address is {}: saving sends nothing until it is subscribed again from the form.", s.status.as_str())
        },
        ..NlView::default()
    };
    choices(st, &mut v, Some(&s.prefs), "");
    v
}

/// `GET /newsletter/preferences?t=`.
async fn preferences_page(State(st): St, req: Request) -> Response<Body> {
    let t = query_get(req.uri().query(), "t");
    let r = async {
        let p = st.app.preferences(&t).await?;
        let v = prefs_view(&st, &p.subscriber, &p.token, "prefs", "Your newsletter");
        Ok(render(&st, "", StatusCode::OK, v, true))
    }
    .await;
    answer(&st, r)
}

/// `POST /newsletter/preferences`: save the choices, or unsubscribe (`action=unsubscribe`).
async fn preferences_post(State(st): St, req: Request) -> Response<Body> {
    let Ok((_, _, form)) = read_form(req).await else {
        return bad_form(&st);
    };
    let t = form.get("t").to_owned();
    let r = async {
        if form.get("action") == "unsubscribe" {
            st.app.unsubscribe(&t, "preference page").await?;
            return Ok(unsubscribed(&st));
        }
        let prefs = match st.app.parse_preferences(
            &form.all("editions"),
            &form.all("sectors"),
            form.get("frequency"),
            form.get("breaking") == "on",
        ) {
            Ok(p) => p,
            Err(AppError::Invalid(errs)) => {
                let p = st.app.preferences(&t).await?;
                let mut v = prefs_view(&st, &p.subscriber, &t, "prefs", "Your newsletter");
                v.errors = errs.into_iter().map(|e| e.message).collect();
                return Ok(render(&st, "", StatusCode::UNPROCESSABLE_ENTITY, v, true));
            }
            Err(e) => return Err(e),
        };
        st.app.update_preferences(&t, &prefs).await?;
        let p = st.app.preferences(&t).await?;
        let v = prefs_view(&st, &p.subscriber, &t, "prefs", "Your choices are saved");
        Ok(render(&st, "", StatusCode::OK, v, true))
    }
    .await;
    answer(&st, r)
}

fn unsubscribed(st: &WebState) -> Response<Body> {
    let v = NlView {
        mode: "unsubscribed",
        heading: "You are unsubscribed".into(),
        message:
            "No more newsletters will be sent to this address. You can subscribe again at any time."
                .into(),
        ..NlView::default()
    };
    render(st, "", StatusCode::OK, v, true)
}

/// `GET /newsletter/unsubscribe?t=`: a button (a GET changes nothing).
async fn unsubscribe_page(State(st): St, req: Request) -> Response<Body> {
    let t = query_get(req.uri().query(), "t");
    let r = async {
        let p = st.app.preferences(&t).await?;
        let v = NlView {
            mode: "unsubscribe",
            heading: "Unsubscribe".into(),
            email: p.subscriber.email.as_str().to_owned(),
            token: t.clone(),
            ..NlView::default()
        };
        Ok(render(&st, "", StatusCode::OK, v, true))
    }
    .await;
    answer(&st, r)
}

/// `POST /newsletter/unsubscribe?t=`: RFC 8058 one-click (a mail client posts
/// `List-Unsubscribe=One-Click`), or the button of the page (`t` in the form).
async fn unsubscribe(State(st): St, req: Request) -> Response<Body> {
    let Ok((_, query, form)) = read_form(req).await else {
        return bad_form(&st);
    };
    let t = match form.get("t") {
        "" => query_get(query.as_deref(), "t"),
        t => t.to_owned(),
    };
    let how = if form.get("List-Unsubscribe") == "One-Click" {
        "one-click"
    } else {
        "unsubscribe page"
    };
    let r = async {
        st.app.unsubscribe(&t, how).await?;
        Ok(unsubscribed(&st))
    }
    .await;
    answer(&st, r)
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    crate::respond::or_500(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(text.to_owned())),
    )
}

/// `POST /newsletter/events`: the sending service's bounces and complaints. The shared secret
/// (`Authorization: Bearer …`) is checked before the body is read, and the body is read only up
/// to `webhook_max_bytes`.
async fn events(State(st): St, req: Request) -> Response<Body> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_owned();
    if st.app.newsletter_settings().webhook_secret.is_empty() {
        return plain(StatusCode::NOT_FOUND, "{\"error\":\"not found\"}");
    }
    if !st.app.webhook_secret_ok(&given) {
        return plain(StatusCode::UNAUTHORIZED, "{\"error\":\"bad secret\"}");
    }
    let limit = st.app.newsletter_settings().webhook_max_bytes;
    let Ok(body) = axum::body::to_bytes(req.into_body(), limit).await else {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "{\"error\":\"the body is too large\"}",
        );
    };
    match st.app.newsletter_events(&body).await {
        Ok(n) => plain(StatusCode::OK, &format!("{{\"suppressed\":{n}}}")),
        Err(AppError::Invalid(errs)) => {
            let msg = errs.first().map(|e| e.message.clone()).unwrap_or_default();
            plain(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": msg }).to_string(),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "newsletter events failed");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"error\":\"internal\"}",
            )
        }
    }
}
