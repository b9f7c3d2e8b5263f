//! The machine door: `/api`. Today it holds the agencies' push endpoint (`/api/wire/{source}`),
//! whose answers are JSON with a stable error code; the JSON content API is to join it here,
//! its errors given their problem face (`application/problem+json`) by this router's layer.

use crate::error::{faces, Face};
use crate::forms::{body_limit, read_body, BodyError, BodyLimit};
use crate::WebState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, Response, StatusCode};
use axum::routing::any;
use axum::Router;
use newsdesk_app::AppError;
use std::sync::Arc;

/// The `/api` routes, their errors answered as problem documents.
pub fn router(state: Arc<WebState>) -> Router<Arc<WebState>> {
    Router::new()
        .route("/api/wire/{*source}", any(push_handler))
        .route("/api/wire/", any(push_handler))
        .layer(body_limit(PUSH_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            (state, Face::Json),
            faces,
        ))
}

async fn push_handler(State(st): State<Arc<WebState>>, req: Request) -> Response<Body> {
    push(&st, req).await
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
        .and_then(|s| s.parse::<newsdesk_domain::SourceId>().ok())
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
    // An API token with the `wire_push` scope may push to any source, as its own token may.
    let grant = if token.starts_with(newsdesk_app::api::TOKEN_PREFIX) {
        match st.app.api_caller(&token).await {
            Ok(who) => st.app.authorize_push_by_token(&who, id).await,
            Err(AppError::RateLimited) => {
                return err(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "This token made too many requests this minute.",
                )
            }
            Err(e) => Err(e),
        }
    } else {
        st.app.authorize_push(id, &token).await
    };
    let grant = match grant {
        Ok(g) => g,
        Err(e) => {
            let mut res = push_error(e);
            if res.status() == StatusCode::UNAUTHORIZED {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static(crate::error::bearer_challenge(
                        req.headers(),
                    )),
                );
            }
            return res;
        }
    };
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .map_or(PUSH_LIMIT, |l| l.0);
    let body = match read_body(req.into_body(), limit).await {
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
        AppError::Busy => {
            let mut res = err(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The wire desk is busy (another node holds the clustering lease, or the database is saturated); nothing was stored. Send it again shortly.",
            );
            crate::error::retry_after(&mut res);
            res
        }
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

#[cfg(test)]
mod push_errors {
    use super::*;

    #[test]
    fn a_busy_wire_desk_is_a_503_with_retry_after_not_a_500() {
        // What a push meets when another node holds the clustering lease past the wait.
        let e: AppError = newsdesk_store::StoreError::Busy.into();
        let res = push_error(e);
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let wait = res
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok());
        assert_eq!(wait, Some("5"));
    }
}
