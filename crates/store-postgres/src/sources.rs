//! SQL of agency sources.

use super::{from_ms, get, query, query_one};
use newsdesk_domain::{Source, SourceId};
use newsdesk_store::StoreResult;
use tokio_postgres::{GenericClient, Row};

const COLS: &str =
    "s.id, s.name, s.url, s.poll_minutes, s.allow_loopback, s.enabled, s.etag, s.last_modified, \
     s.last_success_at, s.last_error, s.last_error_at, s.failures, s.next_poll_at, \
     (SELECT count(*) FROM wire_items w WHERE w.agency = s.name AND w.received_at >= $1), s.auto_publish, \
     s.ca_pem";

fn source(r: &Row) -> StoreResult<Source> {
    Ok(Source {
        id: SourceId(get(r, 0)?),
        name: get(r, 1)?,
        url: get(r, 2)?,
        poll_minutes: get(r, 3)?,
        allow_loopback: get(r, 4)?,
        enabled: get(r, 5)?,
        etag: get(r, 6)?,
        last_modified: get(r, 7)?,
        last_success_at: get::<Option<i64>>(r, 8)?.map(from_ms).transpose()?,
        last_error: get(r, 9)?,
        last_error_at: get::<Option<i64>>(r, 10)?.map(from_ms).transpose()?,
        failures: get(r, 11)?,
        next_poll_at: from_ms(get(r, 12)?)?,
        items_last_day: get(r, 13)?,
        auto_publish: get::<Option<String>>(r, 14)?
            .map(|j| serde_json::from_str::<newsdesk_domain::AutoPublish>(&j))
            .transpose()
            .map_err(newsdesk_store::StoreError::other)?,
        ca_pem: get(r, 15)?,
    })
}

/// One source; `now` (ms) dates the items-per-day count.
pub(crate) async fn load<C: GenericClient>(c: &C, id: i64, now: i64) -> StoreResult<Source> {
    let r = query_one(
        c,
        &format!("SELECT {COLS} FROM wire_sources s WHERE s.id = $2"),
        &[&(now - 86_400_000), &id],
    )
    .await?;
    source(&r)
}

/// Every source, by name.
pub(crate) async fn list<C: GenericClient>(c: &C, now: i64) -> StoreResult<Vec<Source>> {
    query(
        c,
        &format!("SELECT {COLS} FROM wire_sources s ORDER BY s.name, s.id"),
        &[&(now - 86_400_000)],
    )
    .await?
    .iter()
    .map(source)
    .collect()
}
