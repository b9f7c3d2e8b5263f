//! Webhooks (admins): register addresses for events, see each one's deliveries, turn them off
//! or remove them. Who may is `app`'s rule.

use super::extract::{Param, Posted, Session};
use super::{frame, html_response, see_other, utc, Check, Frame, Page, St};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use newsdesk_app::{AppError, Authed};
use newsdesk_domain::*;

/// A hook in the list.
pub struct HookRow {
    id: i64,
    url: String,
    events: String,
    enabled: bool,
}

/// A delivery in a hook's list.
pub struct DeliveryRow {
    id: i64,
    event: String,
    state: &'static str,
    attempts: i64,
    when: String,
    status: String,
    excerpt: String,
}

#[derive(Template)]
#[template(path = "newsroom/webhooks.html")]
struct ListPage {
    f: Frame,
    hooks: Vec<HookRow>,
    events: Vec<Check>,
    url: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "newsroom/webhook.html")]
struct HookPage {
    f: Frame,
    id: i64,
    url: String,
    events: String,
    enabled: bool,
    rows: Vec<DeliveryRow>,
}

fn names(events: &[WebhookEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn id_of(raw: &str) -> Result<WebhookId, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
        .map(WebhookId)
        .ok_or(AppError::NotFound)
}

/// `GET /newsroom/webhooks`.
pub(super) async fn list(State(st): St, Session(a): Session) -> Page {
    Ok(list_page(&st, &a, String::new(), &[], String::new(), Vec::new()).await?)
}

/// `POST /newsroom/webhooks`: a new hook; its secret is shown once.
pub(super) async fn add(State(st): St, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let chosen: Vec<WebhookEvent> = form
        .all("event")
        .iter()
        .filter_map(|e| WebhookEvent::parse(e))
        .collect();
    match st.app.add_webhook(&a.user, form.get("url"), &chosen).await {
        Ok((_, secret)) => Ok(list_page(&st, a, secret, &[], String::new(), Vec::new()).await?),
        Err(AppError::Invalid(fields)) => {
            let errors = fields.into_iter().map(|f| f.message).collect();
            let mut res = list_page(
                &st,
                a,
                String::new(),
                &chosen,
                form.get("url").into(),
                errors,
            )
            .await?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /newsroom/webhooks/{id}`.
pub(super) async fn one(State(st): St, Param(id): Param, Session(a): Session) -> Page {
    let id = id_of(&id)?;
    let (hook, deliveries) = st.app.webhook(&a.user, id).await?;
    let rows = deliveries
        .into_iter()
        .map(|d| {
            let (when, status, excerpt) = match d.last {
                Some((at, status, text)) => (
                    utc(at),
                    if status == 0 {
                        "none".into()
                    } else {
                        status.to_string()
                    },
                    text,
                ),
                None => (String::new(), String::new(), String::new()),
            };
            DeliveryRow {
                id: d.id,
                event: d.event,
                state: d.state.as_str(),
                attempts: d.attempts,
                when,
                status,
                excerpt,
            }
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        HookPage {
            f: frame(&st, Some(&a), "Webhook"),
            id: hook.id.0,
            url: hook.url,
            events: names(&hook.events),
            enabled: hook.enabled,
            rows,
        }
        .render(),
    ))
}

/// `POST /newsroom/webhooks/{id}`: `action` on, off or delete.
pub(super) async fn change(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = id_of(&id)?;
    match form.get("action") {
        "on" => st.app.set_webhook_enabled(&a.user, id, true).await?,
        "off" => st.app.set_webhook_enabled(&a.user, id, false).await?,
        "delete" => {
            st.app.delete_webhook(&a.user, id).await?;
            return Ok(see_other("/newsroom/webhooks"));
        }
        _ => return Err(AppError::invalid("action", "Choose on, off or remove.").into()),
    }
    Ok(see_other(&format!("/newsroom/webhooks/{id}")))
}

async fn list_page(
    st: &WebState,
    a: &Authed,
    secret: String,
    chosen: &[WebhookEvent],
    url: String,
    errors: Vec<String>,
) -> Result<Response<Body>, AppError> {
    let hooks = st.app.webhooks(&a.user).await?;
    let mut f = frame(st, Some(a), "Webhooks");
    f.errors = errors;
    Ok(html_response(
        StatusCode::OK,
        ListPage {
            f,
            hooks: hooks
                .into_iter()
                .map(|h| HookRow {
                    id: h.id.0,
                    events: names(&h.events),
                    url: h.url,
                    enabled: h.enabled,
                })
                .collect(),
            events: WebhookEvent::ALL
                .into_iter()
                .map(|e| Check {
                    value: e.as_str().into(),
                    label: e.as_str().into(),
                    checked: chosen.contains(&e),
                })
                .collect(),
            url,
            secret,
        }
        .render(),
    ))
}
