//! Session and login: the login page and its one-time-code step, forgotten passwords,
//! invitations (all open without a session, small forms only), logging out, and the user's own
//! account with its second factor.

use super::extract::{OpenForm, Posted, SetupSession};
use super::{
    clear_cookie, frame, html_response, message, see_other, session_cookie, AppError,
    InvitationPage, LoginPage, Page, St,
};
use crate::forms::FormData;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{header, Response, StatusCode};
use newsdesk_app::{Authed, LoginStep};
use std::net::SocketAddr;

use super::extract::Param;
use super::Frame;

/// The client's address, for the login throttle.
fn address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// `GET /newsroom/login`: the form, or the dashboard for a live session.
pub(super) async fn login_page(State(st): St, parts: Parts) -> Page {
    if super::extract::lookup(&parts, &st).await?.is_some() {
        return Ok(see_other("/newsroom"));
    }
    Ok(html_response(
        StatusCode::OK,
        LoginPage {
            f: frame(&st, None, "Log in"),
            email: String::new(),
        }
        .render(),
    ))
}

/// `POST /newsroom/login`.
pub(super) async fn login_post(State(st): St, parts: Parts, OpenForm(form): OpenForm) -> Page {
    Ok(login(&st, &form, &address(&parts)).await)
}

/// `POST /newsroom/login/code`.
pub(super) async fn code_post(State(st): St, parts: Parts, OpenForm(form): OpenForm) -> Page {
    Ok(login_code(&st, &form, &address(&parts)).await)
}

/// `GET /newsroom/forgot`.
pub(super) async fn forgot_page(State(st): St) -> Page {
    Ok(html_response(
        StatusCode::OK,
        ForgotPage {
            f: frame(&st, None, "Forgot your password"),
        }
        .render(),
    ))
}

/// `POST /newsroom/forgot`.
pub(super) async fn forgot_post(State(st): St, parts: Parts, OpenForm(form): OpenForm) -> Page {
    st.app
        .send_password_reset(form.get("email"), &address(&parts))
        .await?;
    Ok(message(&st, None, StatusCode::OK, "Check your e-mail", "If an account exists for that address, we have sent it a link to choose a new password. The link works once, for one hour."))
}

/// `GET /newsroom/reset/{token}`.
pub(super) async fn reset_page(State(st): St, Param(token): Param) -> Page {
    Ok(html_response(
        StatusCode::OK,
        ResetPage {
            f: frame(&st, None, "Choose a new password"),
            token,
        }
        .render(),
    ))
}

/// `POST /newsroom/reset/{token}`.
pub(super) async fn reset_post(
    State(st): St,
    Param(token): Param,
    OpenForm(form): OpenForm,
) -> Page {
    st.app.reset_password(&token, form.get("password")).await?;
    Ok(message(
        &st,
        None,
        StatusCode::OK,
        "Password changed",
        "Your password is changed and every old session has ended. You can now log in.",
    ))
}

/// `GET /newsroom/invitation/{token}`.
pub(super) async fn invitation_page(State(st): St, Param(token): Param) -> Page {
    Ok(html_response(
        StatusCode::OK,
        InvitationPage {
            f: frame(&st, None, "Join the newsroom"),
            token,
        }
        .render(),
    ))
}

/// `POST /newsroom/invitation/{token}`.
pub(super) async fn invitation_post(
    State(st): St,
    Param(token): Param,
    OpenForm(form): OpenForm,
) -> Page {
    st.app
        .accept_invitation(&token, form.get("name"), form.get("password"))
        .await?;
    Ok(message(
        &st,
        None,
        StatusCode::OK,
        "Welcome",
        "Your account is ready. You can now log in.",
    ))
}

/// `POST /newsroom/logout` (also before a required second factor is set up).
pub(super) async fn logout(State(st): St, p: Posted<SetupSession>) -> Page {
    st.app.logout(&p.session.0).await?;
    Ok(crate::respond::or_500(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/newsroom/login")
            .header(header::SET_COOKIE, clear_cookie())
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty()),
    ))
}

/// `GET /newsroom/account` (also before a required second factor is set up).
pub(super) async fn account(State(st): St, SetupSession(a): SetupSession) -> Page {
    Ok(account_page(&st, &a, Vec::new(), String::new()).await?)
}

/// `POST /newsroom/account/totp`: turn the second factor on or off.
pub(super) async fn totp_post(State(st): St, p: Posted<SetupSession>) -> Page {
    let (a, form) = (&p.session.0, &p.form);
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
    Ok(match result {
        Ok(notice) => account_page(&st, a, Vec::new(), notice.into()).await?,
        Err(AppError::Invalid(f)) => {
            account_page(
                &st,
                a,
                f.into_iter().map(|x| x.message).collect(),
                String::new(),
            )
            .await?
        }
        Err(e) => return Err(e.into()),
    })
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
        Err(e) => super::app_error(e),
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
        Err(e) => super::app_error(e),
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
