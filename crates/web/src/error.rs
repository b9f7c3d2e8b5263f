//! `WebError`: the one error type of the newsroom's handlers and extractors, with two faces.
//!
//! A handler or extractor returns a `WebError` (a status, a title and a sentence for the
//! person asking; an internal cause is logged when it is made and never shown). Turned into a
//! response it carries itself as an extension; the [`faces`] layer of its router then writes the
//! face: the newsroom's designed message page (with the menu of the session the request had,
//! if any) or an RFC 9457 problem document (`application/problem+json`) for JSON callers. The
//! newsroom chooses by the request's `Accept`; a JSON router (the coming `/api`) always answers
//! problems.

use crate::WebState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use newsdesk_app::{AppError, Authed};
use std::sync::{Arc, OnceLock};

/// Seconds a `503 Service Unavailable` asks the caller to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u32 = 5;

/// Adds `Retry-After` to a 503 that has none, so that no 503 leaves without saying when to
/// come back.
pub fn retry_after(res: &mut Response<Body>) {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
}

/// A refusal or failure, as the person asking is told it.
#[derive(Debug, Clone)]
pub struct WebError {
    /// Status.
    pub status: StatusCode,
    /// Heading (the problem's `title`).
    pub title: String,
    /// What to do about it (the problem's `detail`).
    pub detail: String,
    /// Not an error but a detour (`303 See Other` here), such as "log in first".
    pub see_other: Option<String>,
}

impl WebError {
    /// An error with this status, title and detail.
    pub fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title: title.to_owned(),
            detail: detail.into(),
            see_other: None,
        }
    }

    /// A redirect to `to` (a request that must go elsewhere first).
    pub fn see_other(to: &str) -> Self {
        Self {
            see_other: Some(to.to_owned()),
            ..Self::new(StatusCode::SEE_OTHER, "See other", to)
        }
    }

    /// Nothing here.
    pub fn not_found() -> Self {
        AppError::NotFound.into()
    }

    /// The problem document (RFC 9457) of this error.
    pub fn problem(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        })
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => {
                Self::new(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
            }
            AppError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this.",
            ),
            AppError::Invalid(fields) => Self::new(
                StatusCode::BAD_REQUEST,
                "Please check the form",
                fields
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            AppError::Conflict(m) => Self::new(StatusCode::CONFLICT, "Someone changed this", m),
            AppError::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Please wait a few minutes and try again.",
            ),
            AppError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                format!("Nothing was done; please try again in {RETRY_AFTER_SECS} seconds."),
            ),
            AppError::Internal(cause) => {
                tracing::error!(cause = %crate::respond::chain(&*cause), "newsroom request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Nothing was lost; please try again.",
                )
            }
        }
    }
}

impl IntoResponse for WebError {
    /// The error with a plain face, carrying itself for [`faces`] to give it its real one.
    fn into_response(self) -> Response<Body> {
        if let Some(to) = &self.see_other {
            return crate::respond::see_other(to);
        }
        let mut res = crate::respond::or_500(
            Response::builder()
                .status(self.status)
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from(format!("{}. {}", self.title, self.detail))),
        );
        retry_after(&mut res);
        res.extensions_mut().insert(self);
        res
    }
}

/// How a router draws an error as HTML: its designed page, with the request's session if any.
pub type HtmlFace = fn(&WebState, Option<&Authed>, &WebError) -> Response<Body>;

/// Which face a router's errors have.
#[derive(Clone, Copy)]
pub enum Face {
    /// The designed page, or a problem document when the request accepts JSON and not HTML.
    ByAccept(HtmlFace),
    /// Always a problem document (JSON routers).
    Json,
}

/// Whether a request asks for JSON rather than HTML.
pub fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let json = accept.contains("application/json") || accept.contains("+json");
    json && !accept.contains("text/html")
}

/// The session a request turned out to have, filled by the session extractor, so that an
/// error page made after it shows that session's menu.
#[derive(Clone, Default)]
pub struct SessionSlot(Arc<OnceLock<Authed>>);

impl SessionSlot {
    /// Notes the request's session.
    pub fn fill(&self, a: &Authed) {
        let _ = self.0.set(a.clone());
    }

    /// The request's session, if it had one.
    pub fn get(&self) -> Option<&Authed> {
        self.0.get()
    }
}

/// The layer that gives a router's errors their face (see the module's text).
pub async fn faces(
    State((st, face)): State<(Arc<WebState>, Face)>,
    mut req: Request,
    next: Next,
) -> Response<Body> {
    let html = match face {
        Face::ByAccept(page) if !wants_json(req.headers()) => Some(page),
        _ => None,
    };
    let slot = SessionSlot::default();
    req.extensions_mut().insert(slot.clone());
    let challenge = bearer_challenge(req.headers());
    let res = next.run(req).await;
    let Some(err) = res.extensions().get::<WebError>().cloned() else {
        return res;
    };
    if let Some(page) = html {
        let mut out = page(&st, slot.get(), &err);
        retry_after(&mut out);
        return out;
    }
    let mut out = crate::respond::or_500(
        Response::builder()
            .status(err.status)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(err.problem().to_string())),
    );
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if err.status == StatusCode::UNAUTHORIZED {
        out.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    retry_after(&mut out);
    out
}

/// The `WWW-Authenticate` challenge of a 401 from a JSON router (RFC 6750): a request that
/// sent a bearer token is told it is invalid (unknown, revoked, expired, or its owner
/// disabled: the answer does not say which); one that sent none, or another scheme, is told
/// the scheme only.
pub fn bearer_challenge(req: &HeaderMap) -> &'static str {
    let bearer = req
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    if bearer {
        r#"Bearer realm="newsdesk", error="invalid_token", error_description="The token is unknown, expired or revoked.""#
    } else {
        r#"Bearer realm="newsdesk""#
    }
}
