//! The last resort of response building: a response whose builder failed (a header value that
//! is not a valid header, say) is a logged 500, never an empty 200.

use axum::body::Body;
use axum::http::{header, Response, StatusCode};

/// The response `built`, or a plain 500 page with the builder's error logged.
pub fn or_500(built: Result<Response<Body>, axum::http::Error>) -> Response<Body> {
    match built {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "a response could not be built");
            internal_error()
        }
    }
}

/// An error with its whole cause chain, outermost first ("storage failure: disk I/O error: …"),
/// for the log: the outer message alone rarely says what went wrong.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    // Bounded, in case a cause chain loops.
    for _ in 0..16 {
        let Some(cause) = next else { break };
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// `.or_500()` at the end of a response builder chain: see [`or_500`].
pub trait OrServerError {
    /// The response, or a logged plain 500 if it could not be built.
    fn or_500(self) -> Response<Body>;
}

impl OrServerError for Result<Response<Body>, axum::http::Error> {
    fn or_500(self) -> Response<Body> {
        or_500(self)
    }
}

/// A minimal 500 page that needs nothing that could fail.
pub fn internal_error() -> Response<Body> {
    let mut r = Response::new(Body::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head>\
         <body><h1>Something went wrong</h1><p>The page could not be made. Try again in a moment.</p></body></html>",
    ));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// A `303 See Other` to `to`, never cached.
pub fn see_other(to: &str) -> Response<Body> {
    crate::respond::or_500(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("storage failure")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_log_gets_the_whole_cause_chain() {
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(chain(&e), "storage failure: disk full");
    }

    #[test]
    fn a_response_that_cannot_be_built_is_a_500_not_an_empty_200() {
        let bad = Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/a\nSet-Cookie: x=1")
            .body(Body::empty());
        let r = or_500(bad);
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(header::LOCATION).is_none());
        assert_eq!(r.headers()["cache-control"], "no-store");
        let good = or_500(
            Response::builder()
                .status(StatusCode::OK)
                .body(Body::empty()),
        );
        assert_eq!(good.status(), StatusCode::OK);
    }
}
