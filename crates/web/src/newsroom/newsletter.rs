//! The newsletter in the newsroom: subscribers (counts, search, CSV export), the sending
//! history, and breaking-news alerts. Every permission is decided in `app`.

use super::extract::{Posted, Session};
use super::stories::query;
use super::{frame, html_response, AppError, Frame, Page, St};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, Response, StatusCode};
use newsdesk_app::Authed;
use newsdesk_domain::*;

/// A subscriber in the list.
pub struct SubRow {
    /// Address.
    pub email: String,
    /// State.
    pub status: &'static str,
    /// Daily or weekly, and alerts.
    pub what: String,
    /// When subscribed (UTC).
    pub created: String,
    /// When confirmed (UTC), or empty.
    pub confirmed: String,
    /// The form it came from.
    pub source: String,
}

#[derive(Template)]
#[template(path = "newsroom/subscribers.html")]
struct SubscribersPage {
    f: Frame,
    counts: SubscriberCounts,
    q: String,
    rows: Vec<SubRow>,
    next_href: String,
    csv_href: String,
}

/// A digest in the history.
pub struct DigestRow {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Made (UTC).
    pub created: String,
    /// Finished (UTC) or empty.
    pub finished: String,
    /// Counts.
    pub total: i64,
    /// Sent.
    pub sent: i64,
    /// Pending.
    pub pending: i64,
    /// Failed.
    pub failed: i64,
    /// Skipped.
    pub skipped: i64,
}

#[derive(Template)]
#[template(path = "newsroom/newsletter.html")]
struct HistoryPage {
    f: Frame,
    rows: Vec<DigestRow>,
    can_alert: bool,
    stories: Vec<(i64, String)>,
}

fn utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `GET /newsroom/subscribers` (`?q=` part of an address, `?after=` an id).
pub(super) async fn subscribers(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    let form = query(q);
    let text = form.get("q").to_owned();
    let after = form.get("after").parse::<i64>().ok().map(SubscriberId);
    let (counts, list, next) = st.app.subscribers(&a.user, &text, after).await?;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let rows = list
        .into_iter()
        .map(|s| SubRow {
            email: s.email.as_str().to_owned(),
            status: s.status.as_str(),
            what: format!(
                "{}{}",
                s.prefs.frequency.as_str(),
                if s.prefs.breaking { " + alerts" } else { "" }
            ),
            created: utc(s.created_at),
            confirmed: s.confirmed_at.map(utc).unwrap_or_default(),
            source: s.consent_source,
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        SubscribersPage {
            f: frame(&st, Some(&a), "Subscribers"),
            counts,
            next_href: next
                .map(|n| format!("/newsroom/subscribers?q={}&after={n}", enc(&text)))
                .unwrap_or_default(),
            csv_href: format!("/newsroom/subscribers.csv?q={}", enc(&text)),
            q: text,
            rows,
        }
        .render(),
    ))
}

/// `GET /newsroom/subscribers.csv` (`?q=`): the list as CSV, safe to open in a spreadsheet.
pub(super) async fn export(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    let text = query(q).get("q").to_owned();
    let csv = st.app.subscribers_csv(&a.user, &text).await?;
    Ok(crate::respond::or_500(
        Response::builder()
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .header(
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subscribers.csv\"",
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(csv)),
    ))
}

async fn history_page(
    st: &WebState,
    a: &Authed,
    notice: String,
) -> Result<Response<Body>, AppError> {
    let list = st.app.digests(&a.user).await?;
    let can_alert = a.user.role.can(Capability::Publish);
    let stories = if can_alert {
        st.app
            .alert_candidates(&a.user, 30)?
            .into_iter()
            .map(|(id, h)| (id.0, h))
            .collect()
    } else {
        Vec::new()
    };
    let rows = list
        .into_iter()
        .map(|d| DigestRow {
            id: d.id.0,
            kind: d.kind,
            subject: d.subject,
            created: utc(d.created_at),
            finished: d.finished_at.map(utc).unwrap_or_default(),
            total: d.total,
            sent: d.sent,
            pending: d.pending,
            failed: d.failed,
            skipped: d.skipped,
        })
        .collect();
    let mut f = frame(st, Some(a), "Newsletter");
    f.notice = notice;
    Ok(html_response(
        StatusCode::OK,
        HistoryPage {
            f,
            rows,
            can_alert,
            stories,
        }
        .render(),
    ))
}

/// `GET /newsroom/newsletter`: the sending history and the alert form.
pub(super) async fn history(State(st): St, Session(a): Session) -> Page {
    Ok(history_page(&st, &a, String::new()).await?)
}

/// `POST /newsroom/newsletter/alert` (`story`): a breaking-news alert for one visible story.
pub(super) async fn alert(State(st): St, p: Posted) -> Page {
    let a = &p.session.0;
    st.app.may_send_alerts(&a.user)?;
    let story = StoryId(
        p.form
            .get("story")
            .parse()
            .map_err(|_| AppError::invalid("story", "Choose a story."))?,
    );
    let d = st.app.send_breaking_alert(&a.user, story).await?;
    Ok(history_page(
        &st,
        a,
        format!("The alert is being sent to {} subscribers.", d.total),
    )
    .await?)
}
