//! SQL of the wire desk: agency items, clusters, lineage and flags.

use super::{from_ms, sql_err};
use newsdesk_domain::*;
use newsdesk_store::{StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(StoreError::other)
}

fn unjson<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(StoreError::other)
}

pub(crate) const ITEM_COLS: &str = "id, item, cluster_id, received_at, sector, editions, evidence";

type RawItem = (i64, String, i64, i64, Option<String>, String, String);

pub(crate) fn raw_item(r: &Row<'_>) -> rusqlite::Result<RawItem> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

pub(crate) fn item(raw: RawItem) -> StoreResult<StoredWireItem> {
    Ok(StoredWireItem {
        id: WireItemId(raw.0),
        item: unjson(&raw.1)?,
        cluster_id: ClusterId(raw.2),
        received_at: from_ms(raw.3)?,
        sector: raw.4,
        editions: unjson(&raw.5)?,
        evidence: unjson(&raw.6)?,
    })
}

pub(crate) const CLUSTER_COLS: &str =
    "id, headline, summary, summary_accepted, urgency, sector, editions, agencies, \
     languages, items, created_at, updated_at, embargo";

type RawCluster = (
    i64,
    String,
    String,
    bool,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
);

pub(crate) fn raw_cluster(r: &Row<'_>) -> rusqlite::Result<RawCluster> {
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
    ))
}

pub(crate) fn cluster(raw: RawCluster) -> StoreResult<WireCluster> {
    Ok(WireCluster {
        id: ClusterId(raw.0),
        headline: raw.1,
        summary: raw.2,
        summary_accepted: raw.3,
        urgency: raw.4.and_then(|u| u8::try_from(u).ok()),
        sector: raw.5,
        editions: unjson(&raw.6)?,
        agencies: unjson(&raw.7)?,
        languages: unjson(&raw.8)?,
        items: raw.9,
        created_at: from_ms(raw.10)?,
        updated_at: from_ms(raw.11)?,
        embargo: raw.12.map(from_ms).transpose()?,
    })
}

/// Runs a statement through the connection's statement cache (ingest runs the same few
/// statements for every item).
fn exec(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

/// One row of a cached statement.
fn query_one<T>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

/// Recomputes a cluster's counts, agencies, languages and urgency from its items.
fn refresh_cluster(tx: &Transaction<'_>, id: i64, at: i64) -> StoreResult<()> {
    let (items, urgency, embargo): (i64, Option<i64>, Option<i64>) = query_one(
        tx,
        "SELECT count(*), min(urgency), max(CASE WHEN status = 'usable' THEN embargo END) \
         FROM wire_items WHERE cluster_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .map_err(sql_err)?;
    let list = |col: &str| -> StoreResult<String> {
        let mut st = tx
            .prepare_cached(&format!(
                "SELECT DISTINCT {col} FROM wire_items WHERE cluster_id = ?1 AND {col} IS NOT NULL ORDER BY {col}"
            ))
            .map_err(sql_err)?;
        let rows = st
            .query_map([id], |r| r.get::<_, String>(0))
            .map_err(sql_err)?;
        let v: Vec<String> = rows.collect::<Result<_, _>>().map_err(sql_err)?;
        json(&v)
    };
    let (agencies, languages) = (list("agency")?, list("language")?);
    exec(
            tx,
        "UPDATE wire_clusters SET items = ?2, urgency = ?3, agencies = ?4, languages = ?5, updated_at = ?6, \
         embargo = ?7 WHERE id = ?1",
        params![id, items, urgency, agencies, languages, at, embargo],
    )
    .map_err(sql_err)?;
    Ok(())
}

fn flag_stories(
    tx: &Transaction<'_>,
    item_id: i64,
    reason: &str,
    at: i64,
) -> StoreResult<Vec<StoryId>> {
    let ids: Vec<i64> = {
        let mut st = tx
            .prepare_cached(
                "SELECT story_id FROM story_lineage WHERE item_id = ?1 ORDER BY story_id",
            )
            .map_err(sql_err)?;
        let rows = st.query_map([item_id], |r| r.get(0)).map_err(sql_err)?;
        rows.collect::<Result<_, _>>().map_err(sql_err)?
    };
    for s in &ids {
        exec(
            tx,
            "INSERT INTO lineage_flags (story_id, item_id, reason, at) VALUES (?1,?2,?3,?4)",
            params![s, item_id, reason, at],
        )
        .map_err(sql_err)?;
    }
    Ok(ids.into_iter().map(StoryId).collect())
}

fn status_str(s: WireStatus) -> &'static str {
    match s {
        WireStatus::Usable => "usable",
        WireStatus::Withdrawn => "withdrawn",
        WireStatus::Canceled => "canceled",
    }
}

pub(crate) fn store_item(
    tx: &Transaction<'_>,
    it: &WireItem,
    hash: &str,
    cluster_id: i64,
    tags: &WireTags,
    at: i64,
) -> StoreResult<(i64, WireOutcome)> {
    let mut touched = Vec::new();
    let out = store_batch_item(tx, it, hash, cluster_id, tags, at, &mut touched)?;
    refresh_clusters(tx, &touched, at)?;
    Ok(out)
}

/// Refreshes the counts and lists of each cluster a batch touched, once per cluster.
pub(crate) fn refresh_clusters(tx: &Transaction<'_>, ids: &[i64], at: i64) -> StoreResult<()> {
    for id in ids {
        refresh_cluster(tx, *id, at)?;
    }
    Ok(())
}

/// [`store_item`] for one item of a batch: the clusters it touches are added to `touched` (in
/// order, once each) instead of refreshed, so a batch refreshes each cluster once, at its end
/// ([`refresh_clusters`]), however many of its items join it. Nothing in the batch reads the
/// refreshed columns, so the result is the same.
pub(crate) fn store_batch_item(
    tx: &Transaction<'_>,
    it: &WireItem,
    hash: &str,
    cluster_id: i64,
    tags: &WireTags,
    at: i64,
    touched: &mut Vec<i64>,
) -> StoreResult<(i64, WireOutcome)> {
    let mut touch = |c: i64| {
        if !touched.contains(&c) {
            touched.push(c);
        }
    };
    let existing: Option<(i64, i64, String, i64)> = query_one(
            tx,
            "SELECT id, version, content_hash, cluster_id FROM wire_items WHERE agency = ?1 AND agency_id = ?2",
            params![it.agency, it.agency_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql_err)?;
    let body = json(it)?;
    let embargo = it.embargo.map(super::ms);
    let withdrawn = it.status != WireStatus::Usable;
    match existing {
        Some((id, version, old_hash, _))
            if it.version < version
                || (it.version == version && old_hash == hash && !withdrawn) =>
        {
            Ok((id, WireOutcome::Duplicate))
        }
        Some((id, _, _, cluster)) => {
            exec(
            tx,
                "UPDATE wire_items SET version = ?2, status = ?3, content_hash = ?4, urgency = ?5, language = ?6, \
                 item = ?7, received_at = ?8, embargo = ?9 WHERE id = ?1",
                params![id, it.version, status_str(it.status), hash, it.urgency, it.language, body, at, embargo],
            )
            .map_err(sql_err)?;
            touch(cluster);
            if withdrawn {
                let reason = if it.status == WireStatus::Canceled {
                    "cancelled by the agency"
                } else {
                    "withdrawn by the agency"
                };
                return Ok((
                    id,
                    WireOutcome::Withdrawn(flag_stories(tx, id, reason, at)?),
                ));
            }
            flag_stories(
                tx,
                id,
                &format!("corrected by the agency (version {})", it.version),
                at,
            )?;
            Ok((id, WireOutcome::Updated))
        }
        None => {
            exec(
            tx,
                "INSERT INTO wire_clusters (id, headline, sector, editions, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?5) \
                 ON CONFLICT(id) DO NOTHING",
                params![cluster_id, it.headline, tags.sector, json(&tags.editions)?, at],
            )
            .map_err(sql_err)?;
            exec(
            tx,
                "INSERT INTO wire_items (agency, agency_id, version, status, content_hash, urgency, language, item, \
                 cluster_id, received_at, sector, editions, evidence, embargo) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                params![
                    it.agency,
                    it.agency_id,
                    it.version,
                    status_str(it.status),
                    hash,
                    it.urgency,
                    it.language,
                    body,
                    cluster_id,
                    at,
                    tags.sector,
                    json(&tags.editions)?,
                    json(&tags.evidence)?,
                    embargo
                ],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            touch(cluster_id);
            Ok((
                id,
                if withdrawn {
                    WireOutcome::Withdrawn(Vec::new())
                } else {
                    WireOutcome::New
                },
            ))
        }
    }
}

/// A cluster and its first `limit` items, oldest first (a negative limit reads them all).
pub(crate) fn cluster_with_items(
    c: &Connection,
    id: i64,
    limit: i64,
) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
    let cl = c
        .query_row(
            &format!("SELECT {CLUSTER_COLS} FROM wire_clusters WHERE id = ?1"),
            [id],
            raw_cluster,
        )
        .map_err(sql_err)?;
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {ITEM_COLS} FROM wire_items WHERE cluster_id = ?1 ORDER BY id LIMIT ?2"
        ))
        .map_err(sql_err)?;
    let rows = st
        .query_map(params![id, limit], raw_item)
        .map_err(sql_err)?;
    let items = rows
        .map(|r| r.map_err(sql_err).and_then(item))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((cluster(cl)?, items))
}

pub(crate) fn list_clusters(c: &Connection, q: &WireQuery) -> StoreResult<Vec<WireCluster>> {
    let mut sql = format!("SELECT {CLUSTER_COLS} FROM wire_clusters WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    let like = |col: &str, v: &Option<String>, args: &mut Vec<String>, sql: &mut String| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            args.push(format!("%\"{}\"%", v.replace('"', "")));
            sql.push_str(&format!(" AND {col} LIKE ?{}", args.len()));
        }
    };
    like("agencies", &q.agency, &mut args, &mut sql);
    like("editions", &q.edition, &mut args, &mut sql);
    like("languages", &q.language, &mut args, &mut sql);
    if let Some(s) = q.sector.as_ref().filter(|s| !s.is_empty()) {
        args.push(s.clone());
        sql.push_str(&format!(" AND sector = ?{}", args.len()));
    }
    if let Some(since) = q.since {
        // An integer, not text from outside: safe to write into the statement. The range uses
        // the updated_at index, so the inbox reads only the recent clusters, however long the
        // history.
        sql.push_str(&format!(" AND updated_at >= {}", since.timestamp_millis()));
    }
    sql.push_str(&format!(
        " ORDER BY coalesce(urgency, 10), updated_at DESC, id DESC LIMIT {}",
        q.limit.clamp(1, 500)
    ));
    let mut st = c.prepare(&sql).map_err(sql_err)?;
    let refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a as &dyn rusqlite::ToSql).collect();
    let rows = st
        .query_map(refs.as_slice(), raw_cluster)
        .map_err(sql_err)?;
    rows.map(|r| r.map_err(sql_err).and_then(cluster)).collect()
}
