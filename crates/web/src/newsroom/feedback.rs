//! The feedback desk's queue: readers' messages (shown escaped, as text), their status, and
//! replies by e-mail. Who may see it is `app`'s rule.

use super::extract::{Param, Posted, Session};
use super::stories::query;
use super::{frame, html_response, see_other, utc, Frame, Opt, Page, St};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use newsdesk_app::{AppError, Authed};
use newsdesk_domain::*;

/// A message in the queue's list.
pub struct FeedbackRow {
    id: i64,
    when: String,
    from: String,
    excerpt: String,
    page: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "newsroom/feedback.html")]
struct QueuePage {
    f: Frame,
    counts: FeedbackCounts,
    statuses: Vec<Opt>,
    rows: Vec<FeedbackRow>,
}

#[derive(Template)]
#[template(path = "newsroom/feedback_one.html")]
struct MessagePage {
    f: Frame,
    id: i64,
    from: String,
    when: String,
    email: String,
    page: String,
    /// `page` as a link target: a path on this site, percent-encoded; empty when it is not one.
    page_href: String,
    status: &'static str,
    lines: Vec<String>,
    moves: Vec<Opt>,
    reply: Vec<String>,
    replied: String,
    draft: String,
}

fn sender(m: &FeedbackMessage) -> String {
    if m.sent.name.is_empty() {
        "a reader".into()
    } else {
        m.sent.name.clone()
    }
}

fn id_of(raw: &str) -> Result<FeedbackId, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
        .map(FeedbackId)
        .ok_or(AppError::NotFound)
}

/// `GET /newsroom/feedback` (`?status=` new, answered, spam or all; new by default).
pub(super) async fn queue(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    st.app.may_moderate_feedback(&a.user)?;
    let q = query(q);
    let status = match q.get("status") {
        "" => Some(FeedbackStatus::New),
        "all" => None,
        s => Some(
            FeedbackStatus::parse(s)
                .ok_or_else(|| AppError::invalid("status", "No such status."))?,
        ),
    };
    let (counts, list) = st.app.feedback_queue(&a.user, status).await?;
    let mut statuses: Vec<Opt> = FeedbackStatus::ALL
        .into_iter()
        .map(|s| Opt {
            value: s.as_str().into(),
            label: s.as_str().into(),
            selected: status == Some(s),
        })
        .collect();
    statuses.push(Opt {
        value: "all".into(),
        label: "all".into(),
        selected: status.is_none(),
    });
    let rows = list
        .iter()
        .map(|m| FeedbackRow {
            id: m.id.0,
            when: utc(m.received_at),
            from: sender(m),
            excerpt: excerpt(&m.sent.message),
            page: m.sent.page.clone(),
            status: m.status.as_str(),
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        QueuePage {
            f: frame(&st, Some(&a), "Feedback"),
            counts,
            statuses,
            rows,
        }
        .render(),
    ))
}

/// The first 160 characters of a message, on one line.
fn excerpt(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("{}…", one.chars().take(160).collect::<String>())
    } else {
        one
    }
}

/// `GET /newsroom/feedback/{id}`.
pub(super) async fn one(State(st): St, Param(id): Param, Session(a): Session) -> Page {
    let id = id_of(&id)?;
    Ok(message_page(&st, &a, id, String::new(), Vec::new(), String::new()).await?)
}

/// `POST /newsroom/feedback/{id}/status`.
pub(super) async fn status(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = id_of(&id)?;
    let s = FeedbackStatus::parse(form.get("status"))
        .ok_or_else(|| AppError::invalid("status", "Choose a status."))?;
    st.app.set_feedback_status(&a.user, id, s).await?;
    Ok(see_other(&format!("/newsroom/feedback/{id}")))
}

/// `POST /newsroom/feedback/{id}/reply`: the reply is e-mailed and kept with the message; a
/// refused reply gets the page back with what was typed.
pub(super) async fn reply(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = id_of(&id)?;
    match st.app.reply_feedback(&a.user, id, form.get("reply")).await {
        Ok(()) => Ok(message_page(
            &st,
            a,
            id,
            "Your reply is on its way.".into(),
            Vec::new(),
            String::new(),
        )
        .await?),
        Err(AppError::Invalid(fields)) => {
            let errors = fields.into_iter().map(|f| f.message).collect();
            let mut res =
                message_page(&st, a, id, String::new(), errors, form.get("reply").into()).await?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

async fn message_page(
    st: &WebState,
    a: &Authed,
    id: FeedbackId,
    notice: String,
    errors: Vec<String>,
    draft: String,
) -> Result<Response<Body>, AppError> {
    let m = st.app.feedback_message(&a.user, id).await?;
    let mut f = frame(st, Some(a), "Feedback");
    f.notice = notice;
    f.errors = errors;
    let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    let moves = FeedbackStatus::ALL
        .into_iter()
        .filter(|s| *s != m.status)
        .map(|s| Opt {
            value: s.as_str().into(),
            label: match s {
                FeedbackStatus::New => "Mark as new",
                FeedbackStatus::Answered => "Mark as answered",
                FeedbackStatus::Spam => "Mark as spam",
            }
            .into(),
            selected: false,
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        MessagePage {
            f,
            id: m.id.0,
            from: sender(&m),
            when: utc(m.received_at),
            email: m.sent.email.clone(),
            page: m.sent.page.clone(),
            page_href: page_href(&m.sent.page),
            status: m.status.as_str(),
            lines: lines(&m.sent.message),
            moves,
            reply: m.reply.as_ref().map(|r| lines(&r.text)).unwrap_or_default(),
            replied: m.reply.as_ref().map(|r| utc(r.at)).unwrap_or_default(),
            draft,
        }
        .render(),
    ))
}

/// Bytes a link to the page a message was sent from keeps as typed; the rest (quotes, angle
/// brackets, spaces, `%`, `\`, non-ASCII) is percent-encoded, so the link is a valid URL.
const PAGE_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b'?')
    .remove(b'=')
    .remove(b'&')
    .remove(b'+');

/// The link to the page a message says it was sent from: only a path on this site (one `/`
/// first, so never `//host`), percent-encoded; empty (shown as text) otherwise.
fn page_href(page: &str) -> String {
    if !page.starts_with('/') || page.starts_with("//") {
        return String::new();
    }
    percent_encoding::utf8_percent_encode(page, PAGE_KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::page_href;

    #[test]
    fn the_page_link_is_a_valid_path_on_this_site_or_none() {
        assert_eq!(page_href("/sector/health?page=2"), "/sector/health?page=2");
        assert_eq!(
            page_href("/\"><script>alert(150)</script>"),
            "/%22%3E%3Cscript%3Ealert%28150%29%3C/script%3E"
        );
        assert_eq!(page_href("/a b%zz\\c"), "/a%20b%25zz%5Cc");
        assert_eq!(page_href("//evil.example/x"), "");
        assert_eq!(page_href("https://evil.example/"), "");
        assert_eq!(page_href("javascript:alert(1)"), "");
    }
}
