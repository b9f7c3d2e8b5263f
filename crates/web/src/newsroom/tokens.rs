//! Admin → API tokens (`/newsroom/admin/tokens`): make a token (its secret shown once, on the
//! answer to the form, never in a URL), see every token with its scopes, expiry and last use,
//! and revoke one (at once: tokens are looked up in the database on every request).

use super::extract::{Param, Posted, Session};
use super::{frame, html_response, see_other, utc, AppError, Frame, Opt, Page, St};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use newsdesk_app::Authed;
use newsdesk_domain::*;

/// A token as the page lists it.
pub struct TokenRow {
    id: i64,
    name: String,
    owner: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
    state: &'static str,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "newsroom/tokens.html")]
struct TokensPage {
    f: Frame,
    tokens: Vec<TokenRow>,
    owners: Vec<Opt>,
    scopes: Vec<Opt>,
    days: i64,
    days_max: i64,
    /// The secret of the token just made (shown once).
    secret: String,
}

/// `GET /newsroom/admin/tokens`.
pub(super) async fn list(State(st): St, Session(a): Session) -> Page {
    Ok(page(&st, &a, String::new()).await?)
}

/// `POST /newsroom/admin/tokens`: makes a token and shows its secret once.
pub(super) async fn create(State(st): St, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let owner = UserId(
        form.get("owner")
            .parse()
            .map_err(|_| AppError::invalid("owner", "Choose the account the token acts as."))?,
    );
    let scopes: Vec<ApiScope> = form
        .all("scope")
        .iter()
        .filter_map(|s| ApiScope::parse(s))
        .collect();
    let days = form
        .get("days")
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid("days", "Give the days the token lives as a number."))?;
    let (_, secret) = st
        .app
        .create_api_token(&a.user, owner, form.get("name"), &scopes, days)
        .await?;
    Ok(page(&st, a, secret).await?)
}

/// `POST /newsroom/admin/tokens/{id}/revoke`.
pub(super) async fn revoke(State(st): St, Param(id): Param, p: Posted) -> Page {
    let id = ApiTokenId(id.parse().map_err(|_| AppError::NotFound)?);
    st.app.revoke_api_token(&p.session.0.user, id).await?;
    Ok(see_other("/newsroom/admin/tokens"))
}

async fn page(st: &WebState, a: &Authed, secret: String) -> Result<Response<Body>, AppError> {
    let tokens = st.app.api_tokens(&a.user).await?;
    let users = st.app.users(&a.user).await?;
    let now = st.app.now();
    let settings = st.app.api_settings();
    let rows = tokens
        .into_iter()
        .map(|(t, owner)| TokenRow {
            id: t.id.0,
            name: t.name.clone(),
            owner,
            scopes: ApiScope::join(&t.scopes).replace(',', ", "),
            created: utc(t.created_at),
            expires: utc(t.expires_at),
            last_used: t.last_used_at.map(utc).unwrap_or_else(|| "never".into()),
            state: if t.revoked_at.is_some() {
                "revoked"
            } else if !t.is_live_at(now) {
                "expired"
            } else {
                "live"
            },
            revocable: t.revoked_at.is_none(),
        })
        .collect();
    let page = TokensPage {
        f: frame(st, Some(a), "API tokens"),
        tokens: rows,
        owners: users
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| Opt {
                value: u.id.0.to_string(),
                label: format!("{} ({}, {})", u.name, u.email, u.role),
                selected: u.id == a.user.id,
            })
            .collect(),
        scopes: ApiScope::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: s.as_str().into(),
                selected: false,
            })
            .collect(),
        days: settings.token_days_default,
        days_max: settings.token_days_max,
        secret,
    };
    Ok(html_response(StatusCode::OK, page.render()))
}
