//! SQL of agency sources.

use super::{from_ms, sql_err};
use newsdesk_domain::{Source, SourceId};
use newsdesk_store::StoreResult;
use rusqlite::{Connection, Row};

const COLS: &str =
    "s.id, s.name, s.url, s.poll_minutes, s.allow_loopback, s.enabled, s.etag, s.last_modified, \
     s.last_success_at, s.last_error, s.last_error_at, s.failures, s.next_poll_at, \
     (SELECT count(*) FROM wire_items w WHERE w.agency = s.name AND w.received_at >= ?1), s.auto_publish, \
     s.ca_pem";

type Raw = (
    i64,
    String,
    Option<String>,
    i64,
    bool,
    bool,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
    ))
}

fn source(x: Raw) -> StoreResult<Source> {
    Ok(Source {
        id: SourceId(x.0),
        name: x.1,
        url: x.2,
        poll_minutes: x.3,
        allow_loopback: x.4,
        enabled: x.5,
        etag: x.6,
        last_modified: x.7,
        last_success_at: x.8.map(from_ms).transpose()?,
        last_error: x.9,
        last_error_at: x.10.map(from_ms).transpose()?,
        failures: x.11,
        next_poll_at: from_ms(x.12)?,
        items_last_day: x.13,
        auto_publish: x
            .14
            .map(|j| serde_json::from_str::<newsdesk_domain::AutoPublish>(&j))
            .transpose()
            .map_err(newsdesk_store::StoreError::other)?,
        ca_pem: x.15,
    })
}

/// One source; `now` (ms) dates the items-per-day count.
pub(crate) fn load(c: &Connection, id: i64, now: i64) -> StoreResult<Source> {
    let r = c
        .query_row(
            &format!("SELECT {COLS} FROM wire_sources s WHERE s.id = ?2"),
            [now - 86_400_000, id],
            raw,
        )
        .map_err(sql_err)?;
    source(r)
}

/// Every source, by name.
pub(crate) fn list(c: &Connection, now: i64) -> StoreResult<Vec<Source>> {
    let mut st = c
        .prepare(&format!(
            "SELECT {COLS} FROM wire_sources s ORDER BY s.name, s.id"
        ))
        .map_err(sql_err)?;
    let rows = st.query_map([now - 86_400_000], raw).map_err(sql_err)?;
    rows.map(|r| r.map_err(sql_err).and_then(source)).collect()
}
