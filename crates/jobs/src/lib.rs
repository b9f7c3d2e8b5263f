//! Background jobs kept in the database: typed jobs, a worker that claims them with a lease,
//! retries with back-off, and dead letters.
//!
//! A job is queued in the store (often in the same transaction as the change that causes it), so
//! a crash cannot lose it. A worker claims due jobs with a lease; while it runs a job it renews
//! the lease, and if its process dies the lease runs out and another worker (on this node after a
//! restart, or on another node) claims the job again. So a job runs *at least* once; handlers are
//! written to be idempotent (a poll stores items by agency id and version, a publication is an
//! idempotent update, a mail send records what it sent).
//!
//! This crate knows nothing of what the jobs do: `app` implements [`Handler`] and dispatches on
//! the job's kind.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::{Clock, Job, JobOutcome, NewJob};
use newsdesk_store::{Store, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// A job type: its arguments, serialised as the job's JSON payload.
pub trait JobKind: Serialize + DeserializeOwned {
    /// The stored kind; the worker dispatches on it.
    const KIND: &'static str;
    /// Attempts before the job becomes a dead letter.
    const MAX_ATTEMPTS: u32 = 8;
    /// A key that keeps a second copy of this job from being queued while one is live.
    fn dedupe(&self) -> Option<String> {
        None
    }
}

/// The stored form of a typed job, due at `run_at`.
pub fn new_job<J: JobKind>(job: &J, run_at: DateTime<Utc>) -> Result<NewJob, JobError> {
    Ok(NewJob {
        kind: J::KIND.to_owned(),
        payload: serde_json::to_string(job)
            .map_err(|e| JobError::Fatal(format!("cannot encode a {} job: {e}", J::KIND)))?,
        run_at,
        dedupe: job.dedupe(),
        max_attempts: J::MAX_ATTEMPTS,
    })
}

/// The typed arguments of a stored job; a payload that does not decode is a fatal error.
pub fn decode<J: JobKind>(job: &Job) -> Result<J, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| {
        JobError::Fatal(format!(
            "the arguments of {} job {} do not decode: {e}",
            job.kind, job.id
        ))
    })
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another try later (a network error, a busy database).
    Retry(String),
    /// Will never work (bad arguments, a deleted source): straight to the dead letters.
    Fatal(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Retry(m) => write!(f, "{m} (will retry)"),
            JobError::Fatal(m) => write!(f, "{m}"),
        }
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                JobError::Fatal("what the job was about no longer exists".into())
            }
            other => JobError::Retry(format!("{other}")),
        }
    }
}

/// Does the work of claimed jobs.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Runs one job. An unknown kind should be [`JobError::Fatal`].
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// Exponential back-off between attempts, with a deterministic spread so that jobs failing
/// together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::seconds(10),
            cap: Duration::hours(1),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt number `attempt` (1-based) of job `id`: base × 2^(n-1),
    /// at most `cap`, then spread by up to +25 % (from a hash of the job and attempt).
    pub fn delay(&self, id: i64, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let ms = self
            .base
            .num_milliseconds()
            .max(1)
            .saturating_mul(1_i64 << doublings)
            .min(self.cap.num_milliseconds().max(1));
        let mut key = [0u8; 12];
        key[..8].copy_from_slice(&id.to_le_bytes());
        key[8..].copy_from_slice(&attempt.to_le_bytes());
        let spread = (xxhash_rust::xxh3::xxh3_64(&key) % 1_000) as i64; // 0..1000 ‰ of a quarter
        Duration::milliseconds(ms + ms / 4 * spread / 1_000)
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name in the job table (host, process and a random part).
    pub id: String,
    /// How long a claim holds before another worker may take the job; renewed while it runs.
    pub lease: Duration,
    /// Most jobs claimed (and run at once) per round.
    pub batch: usize,
    /// Pause when no job was due.
    pub idle: std::time::Duration,
    /// Back-off between attempts.
    pub backoff: Backoff,
    /// Done jobs are deleted after this long.
    pub keep_done: Duration,
    /// Dead letters kept (the newest).
    pub keep_dead: usize,
}

impl WorkerConfig {
    /// Defaults for a worker named `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            lease: Duration::seconds(60),
            batch: 4,
            idle: std::time::Duration::from_secs(1),
            backoff: Backoff::default(),
            keep_done: Duration::days(2),
            keep_dead: 1_000,
        }
    }
}

/// A name for this process's worker: host, process id and a random part.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    // A random part (the standard library's per-process hash keys), not the time.
    let random = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish() as u32
    };
    format!("{host}:{}:{:08x}", std::process::id(), random)
}

/// What one round of a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Jobs claimed.
    pub claimed: usize,
    /// Of those, done.
    pub done: usize,
    /// Of those, queued again for a later attempt.
    pub retried: usize,
    /// Of those, dead letters.
    pub dead: usize,
    /// Outcomes dropped because the lease was lost meanwhile.
    pub lost: usize,
}

/// Claims and runs jobs.
pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    handler: Arc<dyn Handler>,
    cfg: WorkerConfig,
}

impl Worker {
    /// A worker over `store`, running jobs with `handler`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handler: Arc<dyn Handler>,
        cfg: WorkerConfig,
    ) -> Self {
        Self {
            store,
            clock,
            handler,
            cfg,
        }
    }

    /// This worker's settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.cfg
    }

    /// Claims the due jobs (up to the batch), runs them at once, and records each outcome.
    pub async fn run_once(&self) -> StoreResult<Round> {
        let now = self.clock.now();
        let jobs = self
            .store
            .claim_jobs(
                &self.cfg.id,
                now,
                now + self.cfg.lease,
                self.cfg.batch.max(1),
            )
            .await?;
        let mut round = Round {
            claimed: jobs.len(),
            ..Round::default()
        };
        let mut running = tokio::task::JoinSet::new();
        for job in jobs {
            let handler = self.handler.clone();
            let store = self.store.clone();
            let clock = self.clock.clone();
            let (worker, lease) = (self.cfg.id.clone(), self.cfg.lease);
            running.spawn(async move {
                // A panic in a handler is that job's failure, not the worker's.
                let id = job.id;
                let work = tokio::spawn({
                    let job = job.clone();
                    async move { handler.run(&job).await }
                });
                let renew = renew_lease(store, clock, worker, id, lease);
                tokio::pin!(work);
                tokio::pin!(renew);
                let result = tokio::select! {
                    r = &mut work => r,
                    _ = &mut renew => work.await,
                };
                let result = match result {
                    Ok(r) => r,
                    Err(e) if e.is_panic() => Err(JobError::Retry("the job panicked".into())),
                    Err(e) => Err(JobError::Retry(format!("the job was cancelled: {e}"))),
                };
                (job, result)
            });
        }
        while let Some(joined) = running.join_next().await {
            let Ok((job, result)) = joined else {
                continue;
            };
            let now = self.clock.now();
            let outcome = match &result {
                Ok(()) => JobOutcome::Done,
                Err(JobError::Fatal(m)) => JobOutcome::Dead { error: m.clone() },
                Err(JobError::Retry(m)) if job.attempts >= job.max_attempts => JobOutcome::Dead {
                    error: format!("{m} (after {} attempts)", job.attempts),
                },
                Err(JobError::Retry(m)) => JobOutcome::Retry {
                    at: now + self.cfg.backoff.delay(job.id.0, job.attempts),
                    error: m.clone(),
                },
            };
            match &outcome {
                JobOutcome::Done => round.done += 1,
                JobOutcome::Retry { error, .. } => {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed; will retry");
                    round.retried += 1;
                }
                JobOutcome::Dead { error } => {
                    tracing::error!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed for good");
                    round.dead += 1;
                }
            }
            match self
                .store
                .finish_job(job.id, &self.cfg.id, &outcome, now)
                .await
            {
                Ok(()) => {}
                Err(StoreError::NotFound) => {
                    tracing::warn!(job = %job.id, "lost the lease of a job before it finished; its outcome is dropped");
                    round.lost += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(round)
    }

    /// Runs rounds until `shutdown` fires: at once while jobs are due, otherwise every
    /// `idle`. Prunes old done jobs and surplus dead letters every hour.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut pruned_at: Option<DateTime<Utc>> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let now = self.clock.now();
            if pruned_at.is_none_or(|t| now - t > Duration::hours(1)) {
                pruned_at = Some(now);
                if let Err(e) = self
                    .store
                    .prune_jobs(now - self.cfg.keep_done, self.cfg.keep_dead)
                    .await
                {
                    tracing::error!(error = %e, "pruning old jobs failed");
                }
            }
            let busy = match self.run_once().await {
                Ok(r) => r.claimed > 0,
                Err(e) => {
                    tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "claiming jobs failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.cfg.idle) => {}
                    _ = shutdown.changed() => break,
                }
            }
        }
    }
}

/// Renews a running job's lease every third of it; never returns (the caller stops polling it
/// when the job ends). Stops renewing once the lease is lost.
async fn renew_lease(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    worker: String,
    id: newsdesk_domain::JobId,
    lease: Duration,
) {
    let every = (lease / 3)
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(20))
        .max(std::time::Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = store
            .extend_job_lease(id, &worker, clock.now() + lease)
            .await
        {
            tracing::warn!(job = %id, error = %e, "could not renew a job's lease");
            if matches!(e, StoreError::NotFound) {
                return std::future::pending().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_a_bounded_spread() {
        let b = Backoff::default();
        for id in 0..50 {
            for attempt in 1..20u32 {
                let d = b.delay(id, attempt).num_milliseconds();
                let plain = (10_000_i64 << (attempt - 1).min(30)).min(3_600_000);
                assert!(
                    d >= plain && d <= plain + plain / 4,
                    "{id}/{attempt}: {d} vs {plain}"
                );
            }
        }
        // The spread differs between jobs.
        let spread: std::collections::HashSet<i64> = (0..50)
            .map(|id| b.delay(id, 3).num_milliseconds())
            .collect();
        assert!(spread.len() > 10);
    }
}
