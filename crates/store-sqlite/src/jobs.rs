//! SQL of background jobs.

use super::{from_ms, ms, opt_ms, sql_err};
use chrono::{DateTime, Utc};
use newsdesk_domain::{Job, JobCounts, JobId, JobOutcome, JobState, NewJob};
use newsdesk_store::{StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

const COLS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, created_at, \
                    locked_by, lease_until, last_error, finished_at, dedupe";

type Raw = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
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
    ))
}

fn job(x: Raw) -> StoreResult<Job> {
    Ok(Job {
        id: JobId(x.0),
        kind: x.1,
        payload: x.2,
        state: JobState::parse(&x.3)
            .ok_or_else(|| StoreError::msg(format!("bad job state {:?} in database", x.3)))?,
        attempts: u32::try_from(x.4).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(x.5).unwrap_or(u32::MAX),
        run_at: from_ms(x.6)?,
        created_at: from_ms(x.7)?,
        locked_by: x.8,
        lease_until: opt_ms(x.9)?,
        last_error: x.10,
        finished_at: opt_ms(x.11)?,
        dedupe: x.12,
    })
}

fn rows(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<Job>> {
    let mut st = c.prepare_cached(sql).map_err(sql_err)?;
    let raws = st
        .query_map(p, raw)
        .map_err(sql_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_err)?;
    raws.into_iter().map(job).collect()
}

/// Longest error text kept with a job.
const ERROR_CHARS: usize = 2_000;

fn clip(e: &str) -> String {
    e.chars().take(ERROR_CHARS).collect()
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Option<JobId>>> {
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        if let Some(key) = &j.dedupe {
            let held: Option<i64> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE dedupe = ?1 AND state IN ('queued', 'running')",
                    params![key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            if held.is_some() {
                out.push(None);
                continue;
            }
        }
        tx.execute(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, dedupe) \
             VALUES (?1, ?2, 'queued', 0, ?3, ?4, ?5, ?6)",
            params![
                j.kind,
                j.payload,
                i64::from(j.max_attempts.max(1)),
                ms(j.run_at),
                ms(now),
                j.dedupe
            ],
        )
        .map_err(sql_err)?;
        out.push(Some(JobId(tx.last_insert_rowid())));
    }
    Ok(out)
}

pub(crate) fn claim(
    tx: &Transaction<'_>,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
) -> StoreResult<Vec<Job>> {
    let now_ms = ms(now);
    // Jobs whose worker died after their last allowed attempt go to the dead letters.
    tx.execute(
        "UPDATE jobs SET state = 'dead', finished_at = ?1, locked_by = NULL, lease_until = NULL, \
         last_error = coalesce(last_error || ' / ', '') || 'its worker stopped before it finished, on the last attempt' \
         WHERE state = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
        params![now_ms],
    )
    .map_err(sql_err)?;
    let ids: Vec<i64> = {
        let mut st = tx
            .prepare_cached(
                "SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= ?1) \
                 OR (state = 'running' AND lease_until < ?1) ORDER BY run_at, id LIMIT ?2",
            )
            .map_err(sql_err)?;
        let ids = st
            .query_map(
                params![now_ms, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .map_err(sql_err)?
            .collect::<rusqlite::Result<Vec<i64>>>()
            .map_err(sql_err)?;
        ids
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        tx.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?2, \
             lease_until = ?3, run_at = ?4 WHERE id = ?1",
            params![id, worker, ms(lease_until), now_ms],
        )
        .map_err(sql_err)?;
        out.extend(rows(
            tx,
            &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
            params![id],
        )?);
    }
    Ok(out)
}

pub(crate) fn extend(
    tx: &Transaction<'_>,
    id: JobId,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> StoreResult<()> {
    match tx
        .execute(
            "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND state = 'running' AND locked_by = ?2",
            params![id.0, worker, ms(lease_until)],
        )
        .map_err(sql_err)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn finish(
    tx: &Transaction<'_>,
    id: JobId,
    worker: &str,
    outcome: &JobOutcome,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let held = "id = ?1 AND state = 'running' AND locked_by = ?2";
    let n = match outcome {
        JobOutcome::Done => tx.execute(
            &format!(
                "UPDATE jobs SET state = 'done', finished_at = ?3, locked_by = NULL, \
                 lease_until = NULL WHERE {held}"
            ),
            params![id.0, worker, ms(now)],
        ),
        JobOutcome::Retry { at, error } => tx.execute(
            &format!(
                "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                 finished_at = CASE WHEN attempts >= max_attempts THEN ?5 END, \
                 run_at = ?3, last_error = ?4, locked_by = NULL, lease_until = NULL WHERE {held}"
            ),
            params![id.0, worker, ms(*at), clip(error), ms(now)],
        ),
        JobOutcome::Dead { error } => tx.execute(
            &format!(
                "UPDATE jobs SET state = 'dead', finished_at = ?3, last_error = ?4, \
                 locked_by = NULL, lease_until = NULL WHERE {held}"
            ),
            params![id.0, worker, ms(now), clip(error)],
        ),
    }
    .map_err(sql_err)?;
    match n {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn redact(
    tx: &Transaction<'_>,
    id: JobId,
    worker: &str,
    payload: &str,
) -> StoreResult<()> {
    match tx
        .execute(
            "UPDATE jobs SET payload = ?3 WHERE id = ?1 AND state = 'running' AND locked_by = ?2",
            params![id.0, worker, payload],
        )
        .map_err(sql_err)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn list(c: &Connection, state: Option<JobState>, limit: usize) -> StoreResult<Vec<Job>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match state {
        Some(s) => rows(
            c,
            &format!("SELECT {COLS} FROM jobs WHERE state = ?1 ORDER BY id DESC LIMIT ?2"),
            params![s.as_str(), limit],
        ),
        None => rows(
            c,
            &format!("SELECT {COLS} FROM jobs ORDER BY id DESC LIMIT ?1"),
            params![limit],
        ),
    }
}

pub(crate) fn get(c: &Connection, id: JobId) -> StoreResult<Job> {
    rows(
        c,
        &format!("SELECT {COLS} FROM jobs WHERE id = ?1"),
        params![id.0],
    )?
    .into_iter()
    .next()
    .ok_or(StoreError::NotFound)
}

pub(crate) fn retry_dead(tx: &Transaction<'_>, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
    // A retried job with a de-duplication key must not make two live jobs with one key.
    let dedupe: Option<Option<String>> = tx
        .query_row(
            "SELECT dedupe FROM jobs WHERE id = ?1 AND state = 'dead'",
            params![id.0],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    let Some(dedupe) = dedupe else {
        return Err(StoreError::NotFound);
    };
    if let Some(key) = dedupe {
        let live: i64 = tx
            .query_row(
                "SELECT count(*) FROM jobs WHERE dedupe = ?1 AND state IN ('queued', 'running')",
                params![key],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        if live > 0 {
            return Err(StoreError::Conflict(newsdesk_store::Conflict::JobKeyLive(
                key,
            )));
        }
    }
    tx.execute(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?2, finished_at = NULL, \
         locked_by = NULL, lease_until = NULL WHERE id = ?1",
        params![id.0, ms(now)],
    )
    .map_err(sql_err)?;
    Ok(())
}

pub(crate) fn counts(c: &Connection) -> StoreResult<JobCounts> {
    let mut st = c
        .prepare_cached("SELECT state, count(*) FROM jobs GROUP BY state")
        .map_err(sql_err)?;
    let pairs = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(sql_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_err)?;
    let mut out = JobCounts::default();
    for (s, n) in pairs {
        match JobState::parse(&s) {
            Some(JobState::Queued) => out.queued = n,
            Some(JobState::Running) => out.running = n,
            Some(JobState::Done) => out.done = n,
            Some(JobState::Dead) => out.dead = n,
            None => {}
        }
    }
    Ok(out)
}

pub(crate) fn prune(
    tx: &Transaction<'_>,
    before: DateTime<Utc>,
    keep_dead: usize,
) -> StoreResult<usize> {
    let done = tx
        .execute(
            "DELETE FROM jobs WHERE state = 'done' AND finished_at < ?1",
            params![ms(before)],
        )
        .map_err(sql_err)?;
    let dead = tx
        .execute(
            "DELETE FROM jobs WHERE state = 'dead' AND id NOT IN \
             (SELECT id FROM jobs WHERE state = 'dead' ORDER BY finished_at DESC, id DESC LIMIT ?1)",
            params![i64::try_from(keep_dead).unwrap_or(i64::MAX)],
        )
        .map_err(sql_err)?;
    Ok(done + dead)
}
