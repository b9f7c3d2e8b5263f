//! Administration: accounts and invitations, the audit log, and the job queue.

use super::extract::{Param, Posted, Session};
use super::stories::query;
use super::{
    frame, html_response, see_other, utc, AppError, AuditPage, JobRow, JobsPage, Opt, Page, St,
    UserRow, UsersPage,
};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use newsdesk_app::Authed;
use newsdesk_domain::*;

/// `GET /newsroom/audit` (`?before=` an entry id for older ones).
pub(super) async fn audit(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    let before = query(q).get("before").parse::<i64>().ok();
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
            f: frame(&st, Some(&a), "Audit log"),
            rows,
            older_href,
        }
        .render(),
    ))
}

/// `GET /newsroom/jobs` (`?state=` one state).
pub(super) async fn jobs(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    Ok(jobs_page(&st, &a, query(q).get("state"), String::new()).await?)
}

/// `POST /newsroom/jobs/{id}/retry`: a dead letter queued again.
pub(super) async fn retry(State(st): St, Param(id): Param, p: Posted) -> Page {
    let a = &p.session.0;
    let id = JobId(id.parse().map_err(|_| AppError::NotFound)?);
    st.app.retry_job(&a.user, id).await?;
    Ok(jobs_page(&st, a, "dead", format!("Job {id} is queued again.")).await?)
}

/// `GET /newsroom/users`.
pub(super) async fn users(State(st): St, Session(a): Session) -> Page {
    Ok(users_page(&st, &a, String::new()).await?)
}

/// `POST /newsroom/users/invite`: the invitation's link is shown (and e-mailed).
pub(super) async fn invite(State(st): St, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let role =
        Role::parse(form.get("role")).ok_or_else(|| AppError::invalid("role", "Choose a role."))?;
    let token = st.app.invite(&a.user, form.get("email"), role).await?;
    let link = format!(
        "{}/newsroom/invitation/{token}",
        st.app.site.base_url.trim_end_matches('/')
    );
    Ok(users_page(&st, a, link).await?)
}

/// `POST /newsroom/users/{id}`: role and access.
pub(super) async fn access(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = UserId(id.parse().map_err(|_| AppError::NotFound)?);
    let role =
        Role::parse(form.get("role")).ok_or_else(|| AppError::invalid("role", "Choose a role."))?;
    st.app
        .set_user_access(&a.user, id, role, form.get("disabled") == "on")
        .await?;
    Ok(see_other("/newsroom/users"))
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
