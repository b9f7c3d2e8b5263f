//! What the reader's pages and its feeds share (so neither imports the other): why a request
//! fails, how a listing path resolves against the read model, and how a correction reads.

use crate::paths::{ListingPath, PathError};
use chrono::{DateTime, Utc};
use newsdesk_app::{AppError, Filter};
use newsdesk_domain::*;

/// Why a request ends in an error page.
#[derive(Debug)]
pub enum Fail {
    /// 400 with a reason.
    BadRequest(&'static str),
    /// 404.
    NotFound,
    /// 500; the cause is logged.
    Internal(String),
}

impl From<PathError> for Fail {
    fn from(e: PathError) -> Self {
        match e {
            PathError::BadRequest => Fail::BadRequest("The address is not valid."),
            PathError::NotFound => Fail::NotFound,
        }
    }
}

impl From<AppError> for Fail {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Fail::NotFound,
            other => Fail::Internal(crate::respond::chain(&other)),
        }
    }
}

impl From<askama::Error> for Fail {
    fn from(e: askama::Error) -> Self {
        Fail::Internal(format!("template: {e}"))
    }
}

/// How a correction reads on the page: what was wrong, then what is right.
pub fn correction_text(c: &Correction) -> String {
    format!(
        "An earlier version of this story said: {} Correct: {}",
        c.wrong, c.right
    )
}

/// Resolves a listing path to its filter, heading and intro line.
pub fn resolve_listing(
    snap: &newsdesk_app::Snapshot,
    l: &ListingPath,
    now: DateTime<Utc>,
) -> Result<(Filter, String, String), Fail> {
    let tax = &snap.tax;
    Ok(match l {
        ListingPath::All => (Filter::All, "Latest".into(), String::new()),
        ListingPath::Sector(s) => {
            let s = tax.sector_by_slug(s).ok_or(Fail::NotFound)?;
            (
                Filter::Sector(s.id),
                s.name.clone(),
                format!("Latest {} news and views.", s.name),
            )
        }
        ListingPath::Kind(k) => {
            let k = Kind::from_listing_slug(k).ok_or(Fail::NotFound)?;
            (Filter::Kind(k), k.plural_label().to_owned(), String::new())
        }
        ListingPath::Tag(t) => {
            let t = snap.public_tag_by_slug(t, now).ok_or(Fail::NotFound)?;
            (Filter::Tag(t.id), format!("Tag: {}", t.name), String::new())
        }
        ListingPath::Desk(d) => {
            let d = tax.desk_by_slug(d).ok_or(Fail::NotFound)?;
            (
                Filter::Desk(d.id),
                d.name.clone(),
                "Stories by this desk.".into(),
            )
        }
        ListingPath::Author(a) => {
            let a = tax.author_by_slug(a).ok_or(Fail::NotFound)?;
            (Filter::Author(a.id), a.name.clone(), a.bio.clone())
        }
        ListingPath::Archive(y, m, d) => {
            let month = chrono::NaiveDate::from_ymd_opt(*y, *m, 1).ok_or(Fail::NotFound)?;
            match d {
                Some(d) => {
                    let day = chrono::NaiveDate::from_ymd_opt(*y, *m, *d).ok_or(Fail::NotFound)?;
                    (
                        Filter::Day(day),
                        format!("Archive: {}", day.format("%-d %B %Y")),
                        String::new(),
                    )
                }
                None => (
                    Filter::Month(*y, *m),
                    format!("Archive: {}", month.format("%B %Y")),
                    String::new(),
                ),
            }
        }
    })
}
