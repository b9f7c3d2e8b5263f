//! SQL of background jobs. Claims take rows with `FOR UPDATE SKIP LOCKED`: nodes claiming at
//! the same time each get other jobs, and none waits for another.

use super::{exec, from_ms, get, ms, opt_ms, query, query_opt, Param};
use chrono::{DateTime, Utc};
use newsdesk_domain::{Job, JobCounts, JobId, JobOutcome, JobState, NewJob};
use newsdesk_store::{StoreError, StoreResult};
use tokio_postgres::{GenericClient, Row, Transaction};

const COLS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, created_at, \
                    locked_by, lease_until, last_error, finished_at, dedupe";

fn job(r: &Row) -> StoreResult<Job> {
    let state: String = get(r, 3)?;
    let attempts: i64 = get(r, 4)?;
    let max_attempts: i64 = get(r, 5)?;
    Ok(Job {
        id: JobId(get(r, 0)?),
        kind: get(r, 1)?,
        payload: get(r, 2)?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::msg(format!("bad job state {state:?} in database")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
        run_at: from_ms(get(r, 6)?)?,
        created_at: from_ms(get(r, 7)?)?,
        locked_by: get(r, 8)?,
        lease_until: opt_ms(get(r, 9)?)?,
        last_error: get(r, 10)?,
        finished_at: opt_ms(get(r, 11)?)?,
        dedupe: get(r, 12)?,
    })
}

async fn rows<C: GenericClient>(c: &C, sql: &str, p: &[Param<'_>]) -> StoreResult<Vec<Job>> {
    query(c, sql, p).await?.iter().map(job).collect()
}

/// Longest error text kept with a job.
const ERROR_CHARS: usize = 2_000;

fn clip(e: &str) -> String {
    e.chars().take(ERROR_CHARS).collect()
}

fn one_changed(n: u64) -> StoreResult<()> {
    match n {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn enqueue(
    tx: &Transaction<'_>,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Option<JobId>>> {
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        // The partial unique index decides, also against a job queued meanwhile by another
        // node: a held key inserts nothing and returns no row.
        let r = query_opt(
            tx,
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, dedupe) \
             VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6) \
             ON CONFLICT (dedupe) WHERE dedupe IS NOT NULL AND state IN ('queued', 'running') \
             DO NOTHING RETURNING id",
            &[
                &j.kind,
                &j.payload,
                &i64::from(j.max_attempts.max(1)),
                &ms(j.run_at),
                &ms(now),
                &j.dedupe,
            ],
        )
        .await?;
        out.push(r.map(|r| get(&r, 0).map(JobId)).transpose()?);
    }
    Ok(out)
}

pub(crate) async fn claim(
    tx: &Transaction<'_>,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
) -> StoreResult<Vec<Job>> {
    let now_ms = ms(now);
    // Jobs whose worker died after their last allowed attempt go to the dead letters.
    exec(
        tx,
        "UPDATE jobs SET state = 'dead', finished_at = $1, locked_by = NULL, lease_until = NULL, \
         last_error = coalesce(last_error || ' / ', '') || 'its worker stopped before it finished, on the last attempt' \
         WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1 \
         AND attempts >= max_attempts FOR UPDATE SKIP LOCKED)",
        &[&now_ms],
    )
    .await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let cols = COLS
        .split(", ")
        .map(|c| format!("j.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let picked = query(
        tx,
        &format!(
            "WITH picked AS (SELECT id, run_at AS due FROM jobs \
             WHERE (state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1) \
             ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = $2, \
             lease_until = $3, run_at = $1 FROM picked WHERE j.id = picked.id \
             RETURNING {cols}, picked.due"
        ),
        &[&now_ms, &worker, &ms(lease_until), &limit],
    )
    .await?;
    let mut out = picked
        .iter()
        .map(|r| Ok((get::<i64>(r, 13)?, job(r)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    // Oldest due first, as they were picked.
    out.sort_by_key(|(due, j)| (*due, j.id.0));
    Ok(out.into_iter().map(|(_, j)| j).collect())
}

pub(crate) async fn extend<C: GenericClient>(
    c: &C,
    id: JobId,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> StoreResult<()> {
    one_changed(
        exec(
            c,
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND state = 'running' AND locked_by = $2",
            &[&id.0, &worker, &ms(lease_until)],
        )
        .await?,
    )
}

pub(crate) async fn finish<C: GenericClient>(
    c: &C,
    id: JobId,
    worker: &str,
    outcome: &JobOutcome,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let held = "id = $1 AND state = 'running' AND locked_by = $2";
    let n = match outcome {
        JobOutcome::Done => {
            exec(
                c,
                &format!(
                    "UPDATE jobs SET state = 'done', finished_at = $3, locked_by = NULL, \
                     lease_until = NULL WHERE {held}"
                ),
                &[&id.0, &worker, &ms(now)],
            )
            .await?
        }
        JobOutcome::Retry { at, error } => {
            exec(
                c,
                &format!(
                    "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                     finished_at = CASE WHEN attempts >= max_attempts THEN $5::BIGINT END, \
                     run_at = $3, last_error = $4, locked_by = NULL, lease_until = NULL WHERE {held}"
                ),
                &[&id.0, &worker, &ms(*at), &clip(error), &ms(now)],
            )
            .await?
        }
        JobOutcome::Dead { error } => {
            exec(
                c,
                &format!(
                    "UPDATE jobs SET state = 'dead', finished_at = $3, last_error = $4, \
                     locked_by = NULL, lease_until = NULL WHERE {held}"
                ),
                &[&id.0, &worker, &ms(now), &clip(error)],
            )
            .await?
        }
    };
    one_changed(n)
}

pub(crate) async fn redact<C: GenericClient>(
    c: &C,
    id: JobId,
    worker: &str,
    payload: &str,
) -> StoreResult<()> {
    one_changed(
        exec(
            c,
            "UPDATE jobs SET payload = $3 WHERE id = $1 AND state = 'running' AND locked_by = $2",
            &[&id.0, &worker, &payload],
        )
        .await?,
    )
}

pub(crate) async fn list<C: GenericClient>(
    c: &C,
    state: Option<JobState>,
    limit: usize,
) -> StoreResult<Vec<Job>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match state {
        Some(s) => {
            rows(
                c,
                &format!("SELECT {COLS} FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2"),
                &[&s.as_str(), &limit],
            )
            .await
        }
        None => {
            rows(
                c,
                &format!("SELECT {COLS} FROM jobs ORDER BY id DESC LIMIT $1"),
                &[&limit],
            )
            .await
        }
    }
}

pub(crate) async fn get_job<C: GenericClient>(c: &C, id: JobId) -> StoreResult<Job> {
    rows(
        c,
        &format!("SELECT {COLS} FROM jobs WHERE id = $1"),
        &[&id.0],
    )
    .await?
    .into_iter()
    .next()
    .ok_or(StoreError::NotFound)
}

pub(crate) async fn retry_dead(
    tx: &Transaction<'_>,
    id: JobId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(r) = query_opt(
        tx,
        "SELECT dedupe FROM jobs WHERE id = $1 AND state = 'dead' FOR UPDATE",
        &[&id.0],
    )
    .await?
    else {
        return Err(StoreError::NotFound);
    };
    let dedupe: Option<String> = super::get(&r, 0)?;
    // A retried job with a de-duplication key must not make two live jobs with one key: the
    // unique index refuses it, also against a job queued meanwhile by another node.
    exec(
        tx,
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, finished_at = NULL, \
         locked_by = NULL, lease_until = NULL WHERE id = $1",
        &[&id.0, &ms(now)],
    )
    .await
    .map_err(|e| match (e, dedupe) {
        (StoreError::Conflict(newsdesk_store::Conflict::JobKeyLive(_)), Some(key)) => {
            StoreError::Conflict(newsdesk_store::Conflict::JobKeyLive(key))
        }
        (e, _) => e,
    })?;
    Ok(())
}

pub(crate) async fn counts<C: GenericClient>(c: &C) -> StoreResult<JobCounts> {
    let mut out = JobCounts::default();
    for r in query(c, "SELECT state, count(*) FROM jobs GROUP BY state", &[]).await? {
        let s: String = super::get(&r, 0)?;
        let n: i64 = super::get(&r, 1)?;
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

pub(crate) async fn prune(
    tx: &Transaction<'_>,
    before: DateTime<Utc>,
    keep_dead: usize,
) -> StoreResult<usize> {
    let done = exec(
        tx,
        "DELETE FROM jobs WHERE state = 'done' AND finished_at < $1",
        &[&ms(before)],
    )
    .await?;
    let dead = exec(
        tx,
        "DELETE FROM jobs WHERE state = 'dead' AND id NOT IN \
         (SELECT id FROM jobs WHERE state = 'dead' ORDER BY finished_at DESC, id DESC LIMIT $1)",
        &[&i64::try_from(keep_dead).unwrap_or(i64::MAX)],
    )
    .await?;
    Ok(usize::try_from(done + dead).unwrap_or(usize::MAX))
}
