//! SQL of the wire desk: agency items, clusters, lineage and flags.

use super::{exec, from_ms, get, query, query_one, query_opt, Param};
use newsdesk_domain::*;
use newsdesk_store::{StoreError, StoreResult};
use tokio_postgres::{GenericClient, Row, Transaction};

fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(StoreError::other)
}

fn unjson<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(StoreError::other)
}

pub(crate) const ITEM_COLS: &str = "id, item, cluster_id, received_at, sector, editions, evidence";

pub(crate) fn item(r: &Row) -> StoreResult<StoredWireItem> {
    Ok(StoredWireItem {
        id: WireItemId(get(r, 0)?),
        item: unjson(&get::<String>(r, 1)?)?,
        cluster_id: ClusterId(get(r, 2)?),
        received_at: from_ms(get(r, 3)?)?,
        sector: get(r, 4)?,
        editions: unjson(&get::<String>(r, 5)?)?,
        evidence: unjson(&get::<String>(r, 6)?)?,
    })
}

pub(crate) const CLUSTER_COLS: &str =
    "id, headline, summary, summary_accepted, urgency, sector, editions, agencies, \
     languages, items, created_at, updated_at, embargo";

pub(crate) fn cluster(r: &Row) -> StoreResult<WireCluster> {
    Ok(WireCluster {
        id: ClusterId(get(r, 0)?),
        headline: get(r, 1)?,
        summary: get(r, 2)?,
        summary_accepted: get(r, 3)?,
        urgency: get::<Option<i64>>(r, 4)?.and_then(|u| u8::try_from(u).ok()),
        sector: get(r, 5)?,
        editions: unjson(&get::<String>(r, 6)?)?,
        agencies: unjson(&get::<String>(r, 7)?)?,
        languages: unjson(&get::<String>(r, 8)?)?,
        items: get(r, 9)?,
        created_at: from_ms(get(r, 10)?)?,
        updated_at: from_ms(get(r, 11)?)?,
        embargo: get::<Option<i64>>(r, 12)?.map(from_ms).transpose()?,
    })
}

/// Recomputes a cluster's counts, agencies, languages and urgency from its items. The cluster's
/// row is locked first: a node adding to the same cluster waits, and the counts read after the
/// lock include its committed items (READ COMMITTED reads anew at each statement).
async fn refresh_cluster(tx: &Transaction<'_>, id: i64, at: i64) -> StoreResult<()> {
    exec(
        tx,
        "SELECT id FROM wire_clusters WHERE id = $1 FOR NO KEY UPDATE",
        &[&id],
    )
    .await?;
    let r = query_one(
        tx,
        "SELECT count(*), min(urgency), max(CASE WHEN status = 'usable' THEN embargo END) \
         FROM wire_items WHERE cluster_id = $1",
        &[&id],
    )
    .await?;
    let items: i64 = get(&r, 0)?;
    let urgency: Option<i64> = get(&r, 1)?;
    let embargo: Option<i64> = get(&r, 2)?;
    let mut lists = Vec::with_capacity(2);
    for col in ["agency", "language"] {
        let v: Vec<String> = query(
            tx,
            &format!(
                "SELECT DISTINCT {col} FROM wire_items WHERE cluster_id = $1 AND {col} IS NOT NULL \
                 ORDER BY {col}"
            ),
            &[&id],
        )
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect::<StoreResult<_>>()?;
        lists.push(json(&v)?);
    }
    exec(
        tx,
        "UPDATE wire_clusters SET items = $2, urgency = $3, agencies = $4, languages = $5, \
         updated_at = $6, embargo = $7 WHERE id = $1",
        &[&id, &items, &urgency, &lists[0], &lists[1], &at, &embargo],
    )
    .await?;
    Ok(())
}

async fn flag_stories(
    tx: &Transaction<'_>,
    item_id: i64,
    reason: &str,
    at: i64,
) -> StoreResult<Vec<StoryId>> {
    let ids: Vec<i64> = query(
        tx,
        "SELECT story_id FROM story_lineage WHERE item_id = $1 ORDER BY story_id",
        &[&item_id],
    )
    .await?
    .iter()
    .map(|r| get(r, 0))
    .collect::<StoreResult<_>>()?;
    for s in &ids {
        exec(
            tx,
            "INSERT INTO lineage_flags (story_id, item_id, reason, at) VALUES ($1,$2,$3,$4)",
            &[s, &item_id, &reason, &at],
        )
        .await?;
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

pub(crate) async fn store_item(
    tx: &Transaction<'_>,
    it: &WireItem,
    hash: &str,
    cluster_id: i64,
    tags: &WireTags,
    at: i64,
) -> StoreResult<(i64, WireOutcome)> {
    // One agency item at a time across nodes: the same item pushed to two nodes at once is
    // stored once and seen as a duplicate by the second.
    exec(
        tx,
        "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))",
        &[&it.agency, &it.agency_id],
    )
    .await?;
    let existing = query_opt(
        tx,
        "SELECT id, version, content_hash, cluster_id FROM wire_items WHERE agency = $1 AND agency_id = $2",
        &[&it.agency, &it.agency_id],
    )
    .await?;
    let body = json(it)?;
    let embargo = it.embargo.map(super::ms);
    let urgency = it.urgency.map(i64::from);
    let withdrawn = it.status != WireStatus::Usable;
    let existing: Option<(i64, i64, String, i64)> = existing
        .map(|r| Ok::<_, StoreError>((get(&r, 0)?, get(&r, 1)?, get(&r, 2)?, get(&r, 3)?)))
        .transpose()?;
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
                "UPDATE wire_items SET version = $2, status = $3, content_hash = $4, urgency = $5, \
                 language = $6, item = $7, received_at = $8, embargo = $9 WHERE id = $1",
                &[
                    &id,
                    &it.version,
                    &status_str(it.status),
                    &hash,
                    &urgency,
                    &it.language,
                    &body,
                    &at,
                    &embargo,
                ],
            )
            .await?;
            refresh_cluster(tx, cluster, at).await?;
            if withdrawn {
                let reason = if it.status == WireStatus::Canceled {
                    "cancelled by the agency"
                } else {
                    "withdrawn by the agency"
                };
                return Ok((
                    id,
                    WireOutcome::Withdrawn(flag_stories(tx, id, reason, at).await?),
                ));
            }
            flag_stories(
                tx,
                id,
                &format!("corrected by the agency (version {})", it.version),
                at,
            )
            .await?;
            Ok((id, WireOutcome::Updated))
        }
        None => {
            let editions = json(&tags.editions)?;
            exec(
                tx,
                "INSERT INTO wire_clusters (id, headline, sector, editions, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$5) ON CONFLICT (id) DO NOTHING",
                &[&cluster_id, &it.headline, &tags.sector, &editions, &at],
            )
            .await?;
            let evidence = json(&tags.evidence)?;
            let p: [Param<'_>; 14] = [
                &it.agency,
                &it.agency_id,
                &it.version,
                &status_str(it.status),
                &hash,
                &urgency,
                &it.language,
                &body,
                &cluster_id,
                &at,
                &tags.sector,
                &editions,
                &evidence,
                &embargo,
            ];
            let r = query_one(
                tx,
                "INSERT INTO wire_items (agency, agency_id, version, status, content_hash, urgency, \
                 language, item, cluster_id, received_at, sector, editions, evidence, embargo) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id",
                &p,
            )
            .await?;
            let id: i64 = get(&r, 0)?;
            refresh_cluster(tx, cluster_id, at).await?;
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

/// A cluster and its first `limit` items (all with `None`), oldest first.
pub(crate) async fn cluster_with_items<C: GenericClient>(
    c: &C,
    id: i64,
    limit: Option<i64>,
) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
    let cl = query_one(
        c,
        &format!("SELECT {CLUSTER_COLS} FROM wire_clusters WHERE id = $1"),
        &[&id],
    )
    .await?;
    // A NULL limit is no limit.
    let items = query(
        c,
        &format!("SELECT {ITEM_COLS} FROM wire_items WHERE cluster_id = $1 ORDER BY id LIMIT $2"),
        &[&id, &limit],
    )
    .await?
    .iter()
    .map(item)
    .collect::<StoreResult<Vec<_>>>()?;
    Ok((cluster(&cl)?, items))
}

pub(crate) async fn list_clusters<C: GenericClient>(
    c: &C,
    q: &WireQuery,
) -> StoreResult<Vec<WireCluster>> {
    let mut sql = format!("SELECT {CLUSTER_COLS} FROM wire_clusters WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    let like = |col: &str, v: &Option<String>, args: &mut Vec<String>, sql: &mut String| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            // The JSON list holds the value quoted; ILIKE ignores case as SQLite's LIKE does, and
            // its wildcards in the value are literal.
            let v = v
                .replace('"', "")
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(format!("%\"{v}\"%"));
            sql.push_str(&format!(" AND {col} ILIKE ${}", args.len()));
        }
    };
    like("agencies", &q.agency, &mut args, &mut sql);
    like("editions", &q.edition, &mut args, &mut sql);
    like("languages", &q.language, &mut args, &mut sql);
    if let Some(s) = q.sector.as_ref().filter(|s| !s.is_empty()) {
        args.push(s.clone());
        sql.push_str(&format!(" AND sector = ${}", args.len()));
    }
    if let Some(since) = q.since {
        // An integer, not text from outside: safe to write into the statement.
        sql.push_str(&format!(" AND updated_at >= {}", since.timestamp_millis()));
    }
    sql.push_str(&format!(
        " ORDER BY coalesce(urgency, 10), updated_at DESC, id DESC LIMIT {}",
        q.limit.clamp(1, 500)
    ));
    let refs: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
    query(c, &sql, &refs).await?.iter().map(cluster).collect()
}
