//! Agency sources: the health list and the form to add one; one source's page with its health
//! (with items per day), and for admins its settings, a new push token, "poll now" and the
//! auto-publish rule.

use super::extract::{Param, Posted, Session};
use super::stories::query;
use super::{frame, html_response, see_other, utc, Check, Frame, Opt, Page, St};
use crate::forms::FormData;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use newsdesk_app::{AppError, Authed, FieldError};
use newsdesk_domain::*;

/// Days of the items-per-day table.
const DAYS: usize = 7;

#[derive(Template)]
#[template(path = "newsroom/source.html")]
struct SourcePage {
    f: super::Frame,
    id: i64,
    name: String,
    url: String,
    push_url: String,
    enabled: bool,
    ok: String,
    error: String,
    failures: i64,
    next: String,
    per_day: Vec<(String, i64)>,
    is_admin: bool,
    /// Settings as shown (after a mistake: as typed).
    form_url: String,
    form_minutes: String,
    form_enabled: bool,
    form_ca: String,
    invalid: Vec<String>,
    rule_on: bool,
    rule_sectors: Vec<Check>,
    rule_editions: Vec<Check>,
    rule_urgency: Vec<Opt>,
}

impl SourcePage {
    fn wrong(&self, field: &str) -> bool {
        self.invalid.iter().any(|f| f == field)
    }
}

/// What a POST to the page changed, for the page shown after it.
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) notice: String,
    errors: Vec<String>,
    invalid: Vec<String>,
    /// The settings form as sent, when it had mistakes: address, interval, on, CA.
    typed: Option<(String, String, bool, String)>,
}

pub(super) async fn page(
    st: &WebState,
    a: &Authed,
    id: i64,
    out: Outcome,
) -> Result<Response<Body>, AppError> {
    let (src, per_day) = st.app.source_health(&a.user, SourceId(id), DAYS).await?;
    let base = st.app.site.base_url.trim_end_matches('/').to_owned();
    let per_day = per_day
        .into_iter()
        .enumerate()
        .map(|(d, n)| {
            let label = match d {
                0 => "Last 24 hours".to_owned(),
                1 => "24 to 48 hours ago".to_owned(),
                d => format!("{d} to {} days ago", d + 1),
            };
            (label, n)
        })
        .collect();
    let rule = src.auto_publish.clone();
    let (rule_sectors, rule_editions) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        let chosen = |list: Option<&Vec<String>>, slug: &str| {
            list.is_some_and(|l| l.iter().any(|x| x == slug))
        };
        (
            tax.sectors
                .iter()
                .map(|s| Check {
                    value: s.slug.to_string(),
                    label: s.name.clone(),
                    checked: chosen(rule.as_ref().map(|r| &r.sectors), s.slug.as_str()),
                })
                .collect(),
            tax.editions
                .iter()
                .map(|e| Check {
                    value: e.slug.to_string(),
                    label: e.name.clone(),
                    checked: chosen(rule.as_ref().map(|r| &r.editions), e.slug.as_str()),
                })
                .collect(),
        )
    };
    let max = rule.as_ref().and_then(|r| r.max_urgency);
    let mut rule_urgency = vec![Opt {
        value: String::new(),
        label: "any urgency".into(),
        selected: max.is_none(),
    }];
    rule_urgency.extend((1..=9u8).map(|u| Opt {
        value: u.to_string(),
        label: if u == 1 {
            "1 (most urgent) only".into()
        } else {
            format!("1 to {u}")
        },
        selected: max == Some(u),
    }));
    let (form_url, form_minutes, form_enabled, form_ca) = out.typed.unwrap_or_else(|| {
        (
            src.url.clone().unwrap_or_default(),
            src.poll_minutes.to_string(),
            src.enabled,
            src.ca_pem.clone().unwrap_or_default(),
        )
    });
    let mut f = frame(st, Some(a), &format!("Source: {}", src.name));
    f.notice = out.notice;
    let status = if out.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    f.errors = out.errors;
    let page = SourcePage {
        f,
        id,
        push_url: format!("{base}/api/wire/{id}"),
        url: src.url.clone().unwrap_or_else(|| "none (push only)".into()),
        name: src.name,
        enabled: src.enabled,
        ok: src
            .last_success_at
            .map(utc)
            .unwrap_or_else(|| "never".into()),
        error: match (src.last_error, src.last_error_at) {
            (Some(e), Some(t)) => format!("{e} ({})", utc(t)),
            _ => "none".into(),
        },
        failures: src.failures,
        next: if !src.enabled {
            "none: the source is off".into()
        } else if src.url.is_none() {
            "none: agencies push to it".into()
        } else {
            utc(src.next_poll_at)
        },
        per_day,
        is_admin: a.user.role.can(Capability::ManageUsers),
        form_url,
        form_minutes,
        form_enabled,
        form_ca,
        invalid: out.invalid,
        rule_on: rule.is_some(),
        rule_sectors,
        rule_editions,
        rule_urgency,
    };
    Ok(html_response(status, page.render()))
}

fn invalid(errs: Vec<FieldError>) -> Outcome {
    Outcome {
        invalid: errs.iter().map(|e| e.field.clone()).collect(),
        errors: errs.into_iter().map(|e| e.message).collect(),
        ..Outcome::default()
    }
}

/// `POST /newsroom/sources/{id}`: the settings form.
pub(super) async fn save_settings(
    st: &WebState,
    a: &Authed,
    id: i64,
    form: &FormData,
) -> Result<Response<Body>, AppError> {
    // Empty means the default; anything that is not a number is out of range.
    let minutes: i64 = match form.get("poll_minutes").trim() {
        "" => 15,
        m => m.parse().unwrap_or(0),
    };
    let enabled = form.get("enabled") == "on";
    match st
        .app
        .update_source(
            &a.user,
            SourceId(id),
            form.get("url"),
            minutes,
            enabled,
            form.get("ca_pem"),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/newsroom/sources/{id}?saved=1"))),
        Err(AppError::Invalid(errs)) => {
            let mut out = invalid(errs);
            out.typed = Some((
                form.get("url").to_owned(),
                form.get("poll_minutes").to_owned(),
                enabled,
                form.get("ca_pem").to_owned(),
            ));
            page(st, a, id, out).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /newsroom/sources/{id}/token`: a new push token, shown once.
pub(super) async fn new_token(
    st: &WebState,
    a: &Authed,
    id: i64,
) -> Result<Response<Body>, AppError> {
    let token = st.app.new_source_token(&a.user, SourceId(id)).await?;
    let note = format!(
        "New push token (shown once; the old one no longer works): \"Authorization: Bearer {token}\"."
    );
    page(
        st,
        a,
        id,
        Outcome {
            notice: note,
            ..Outcome::default()
        },
    )
    .await
}

/// `POST /newsroom/sources/{id}/poll`: poll the feed now.
pub(super) async fn poll_now(
    st: &WebState,
    a: &Authed,
    id: i64,
) -> Result<Response<Body>, AppError> {
    let notice = match st.app.poll_source_now(&a.user, SourceId(id)).await? {
        Ok(r) => format!(
            "Polled: {} new, {} updated, {} already known, {} withdrawn.",
            r.new, r.updated, r.duplicates, r.withdrawn
        ),
        Err(e) => format!("The poll failed: {e}"),
    };
    page(
        st,
        a,
        id,
        Outcome {
            notice,
            ..Outcome::default()
        },
    )
    .await
}

/// `POST /newsroom/sources/{id}/auto-publish`: set or clear the rule.
pub(super) async fn save_rule(
    st: &WebState,
    a: &Authed,
    id: i64,
    form: &FormData,
) -> Result<Response<Body>, AppError> {
    let rule = if form.get("auto_publish") == "on" {
        let max_urgency = match form.get("max_urgency").trim() {
            "" => None,
            u => Some(u.parse::<u8>().map_err(|_| {
                AppError::invalid("max_urgency", "Urgency runs from 1 (most urgent) to 9.")
            })?),
        };
        Some(AutoPublish {
            sectors: form.all("sector"),
            max_urgency,
            editions: form.all("edition"),
        })
    } else {
        None
    };
    match st.app.set_auto_publish(&a.user, SourceId(id), rule).await {
        Ok(()) => Ok(see_other(&format!("/newsroom/sources/{id}?saved=1"))),
        Err(AppError::Invalid(errs)) => page(st, a, id, invalid(errs)).await,
        Err(e) => Err(e),
    }
}

/// `GET /newsroom/sources`.
pub(super) async fn list(State(st): St, Session(a): Session) -> Page {
    Ok(sources_page(&st, &a, String::new(), Vec::new(), SourceFields::default()).await?)
}

/// `POST /newsroom/sources`: add a source (its push token is shown once).
pub(super) async fn add(State(st): St, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
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
            Ok(sources_page(&st, a, note, Vec::new(), SourceFields::default()).await?)
        }
        Err(AppError::Invalid(f)) => {
            let fields = SourceFields {
                name: form.get("name").into(),
                url: form.get("url").into(),
                poll_minutes: form.get("poll_minutes").into(),
                invalid: f.iter().map(|x| x.field.clone()).collect(),
            };
            Ok(sources_page(
                &st,
                a,
                String::new(),
                f.into_iter().map(|x| x.message).collect(),
                fields,
            )
            .await?)
        }
        Err(e) => Err(e.into()),
    }
}

fn source_id(id: &str) -> Result<i64, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// `GET /newsroom/sources/{id}`.
pub(super) async fn one(State(st): St, Session(a): Session, Param(id): Param, q: RawQuery) -> Page {
    let id = source_id(&id)?;
    let mut out = Outcome::default();
    if query(q).get("saved") == "1" {
        out.notice = "Saved.".into();
    }
    Ok(page(&st, &a, id, out).await?)
}

/// `POST /newsroom/sources/{id}`: its settings.
pub(super) async fn settings(State(st): St, Param(id): Param, p: Posted) -> Page {
    Ok(save_settings(&st, &p.session.0, source_id(&id)?, &p.form).await?)
}

/// `POST /newsroom/sources/{id}/token`.
pub(super) async fn token(State(st): St, Param(id): Param, p: Posted) -> Page {
    Ok(new_token(&st, &p.session.0, source_id(&id)?).await?)
}

/// `POST /newsroom/sources/{id}/poll`.
pub(super) async fn poll(State(st): St, Param(id): Param, p: Posted) -> Page {
    Ok(poll_now(&st, &p.session.0, source_id(&id)?).await?)
}

/// `POST /newsroom/sources/{id}/auto-publish`.
pub(super) async fn rule(State(st): St, Param(id): Param, p: Posted) -> Page {
    Ok(save_rule(&st, &p.session.0, source_id(&id)?, &p.form).await?)
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
