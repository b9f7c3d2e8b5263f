//! The reader's feedback form at `/feedback` (no JavaScript): shown with the page it was
//! opened from, sent back to the same address. Bad input gets the form back with the errors
//! and what was typed; the checks themselves (rate limit, honeypot, signed time, fields) are
//! `app`'s.

use crate::cache::{CachePolicy, Rendered};
use crate::forms::{read_body, BodyError, FormData};
use crate::pages::{ErrorPage, ErrorView};
use crate::paths::edition_prefix;
use crate::reader::HTML;
use crate::views::{Chrome, Ctx};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use newsdesk_app::feedback::{page_path, FeedbackForm, Submitted};
use newsdesk_app::AppError;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest feedback form body.
pub const FEEDBACK_LIMIT: usize = 64 * 1024;

/// The feedback page.
#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    c: Chrome,
    sent: bool,
    with_email: bool,
    back: String,
    errors: Vec<String>,
    token: String,
    page: String,
    name: String,
    email: String,
    message: String,
}

/// `/feedback`.
pub fn router() -> Router<Arc<WebState>> {
    Router::new().route("/feedback", get(show).post(send))
}

/// The page a GET was opened from: `?from=` if given, else the `Referer` when it is this site.
fn opened_from(st: &WebState, query: Option<&str>, headers: &HeaderMap) -> String {
    let from = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "from")
        .and_then(|(_, v)| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        });
    if let Some(f) = from {
        return page_path(&f);
    }
    let base = st.app.site.base_url.trim_end_matches('/');
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix(base))
        .map(page_path)
        .unwrap_or_default()
}

async fn show(State(st): State<Arc<WebState>>, req: Request) -> Response<Body> {
    let page = opened_from(&st, req.uri().query(), req.headers());
    let form = FeedbackForm {
        page,
        ..Default::default()
    };
    respond(&st, StatusCode::OK, &form, Vec::new(), None, req.headers())
}

async fn send(State(st): State<Arc<WebState>>, req: Request) -> Response<Body> {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    if !crate::newsroom::same_origin(&headers, &st.app.site.base_url) {
        return plain_error(
            &st,
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was not sent from this site.",
            &headers,
        );
    }
    let data = match read_body(body, FEEDBACK_LIMIT).await {
        Ok(b) => FormData::parse(&b),
        Err(BodyError::TooLarge) => {
            return plain_error(
                &st,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The message is too long to send.",
                &headers,
            )
        }
        Err(_) => None,
    };
    let Some(data) = data else {
        return plain_error(
            &st,
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
            &headers,
        );
    };
    let form = FeedbackForm {
        name: data.get("name").to_owned(),
        email: data.get("email").to_owned(),
        message: data.get("message").to_owned(),
        page: data.get("page").to_owned(),
        trap: data.get("website").to_owned(),
        token: data.get("token").to_owned(),
    };
    match st.app.submit_feedback(&form, &address).await {
        Ok(outcome) => {
            let with_email = matches!(outcome, Submitted::Kept(_)) && !form.email.is_empty();
            respond(&st, StatusCode::OK, &form, Vec::new(), Some(with_email), &headers)
        }
        Err(AppError::Invalid(fields)) => {
            let errors = fields.into_iter().map(|f| f.message).collect();
            respond(&st, StatusCode::BAD_REQUEST, &form, errors, None, &headers)
        }
        Err(AppError::RateLimited) => respond(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            &form,
            vec!["You have sent several messages in the last hour. Please wait a while, then send this one again.".into()],
            None,
            &headers,
        ),
        Err(e) => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "a feedback message could not be kept");
            respond(
                &st,
                StatusCode::INTERNAL_SERVER_ERROR,
                &form,
                vec!["Something went wrong on our side. Please send your message again in a moment.".into()],
                None,
                &headers,
            )
        }
    }
}

fn chrome(st: &WebState, title: &str, description: &str) -> Option<Chrome> {
    let snap = st.app.read();
    let edition = snap.tax.global()?.clone();
    let cx = Ctx {
        app: &st.app,
        snap: &snap,
        edition: &edition,
        prefix: edition_prefix(&edition),
        now: st.app.now(),
        css_href: &crate::assets::CSS_HREF,
        rails: &st.rails,
    };
    Some(cx.chrome(title, description, "/feedback", "/feedback"))
}

/// The form (again, with `errors` and what was typed), or the thanks when `sent` is given.
fn respond(
    st: &WebState,
    status: StatusCode,
    form: &FeedbackForm,
    errors: Vec<String>,
    sent: Option<bool>,
    headers: &HeaderMap,
) -> Response<Body> {
    let Some(c) = chrome(st, "Give feedback", "Write to the newsroom.") else {
        return crate::respond::internal_error();
    };
    let page = page_path(&form.page);
    let body = FeedbackPage {
        c,
        sent: sent.is_some(),
        with_email: sent.unwrap_or(false),
        back: page.clone(),
        errors,
        token: st.app.feedback_token(),
        page,
        name: form.name.clone(),
        email: form.email.clone(),
        message: form.message.clone(),
    }
    .render();
    match body {
        Ok(b) => {
            finish(Rendered::new(status, HTML, CachePolicy::NoStore, b, None).respond(headers))
        }
        Err(e) => {
            tracing::error!(error = %e, "the feedback page failed to render");
            crate::respond::internal_error()
        }
    }
}

fn plain_error(
    st: &WebState,
    status: StatusCode,
    heading: &str,
    message: &str,
    headers: &HeaderMap,
) -> Response<Body> {
    let Some(c) = chrome(st, heading, message) else {
        return crate::respond::internal_error();
    };
    let page = ErrorPage {
        c,
        e: ErrorView {
            heading: heading.into(),
            message: message.into(),
        },
    };
    match page.render() {
        Ok(b) => {
            finish(Rendered::new(status, HTML, CachePolicy::NoStore, b, None).respond(headers))
        }
        Err(_) => crate::respond::internal_error(),
    }
}

/// Form pages are never indexed.
fn finish(mut res: Response<Body>) -> Response<Body> {
    res.headers_mut().insert(
        "x-robots-tag",
        axum::http::HeaderValue::from_static("noindex"),
    );
    res
}
