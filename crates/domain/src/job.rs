//! Background jobs as the store keeps them: a kind, a JSON payload, a due time, a state.
//!
//! ```text
//!   enqueue ──► queued ──claim──► running ──done──► done (pruned after a while)
//!                 ▲                  │
//!                 └── retry (back-off)┤
//!                                    └── failed for good / too many attempts ──► dead
//!   dead ──retry by an admin──► queued
//!   running whose lease ran out (its worker died) ──claim──► running again
//! ```

use crate::JobId;
use chrono::{DateTime, Utc};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker until its lease runs out.
    Running,
    /// Finished.
    Done,
    /// Failed for good (dead letter); kept for an admin to read and retry.
    Dead,
}

impl JobState {
    /// All states, in the order the newsroom lists them.
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Dead,
        JobState::Done,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A job to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What kind of work ("poll_source", "send_mail" …); the worker dispatches on it.
    pub kind: String,
    /// The job's arguments as JSON.
    pub payload: String,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    /// While a job with this key is queued or running, another with the same key is not queued
    /// (so a due source is polled once, however many nodes notice it is due).
    pub dedupe: Option<String>,
    /// Attempts before the job is dead.
    pub max_attempts: u32,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Id.
    pub id: JobId,
    /// Kind.
    pub kind: String,
    /// Arguments as JSON.
    pub payload: String,
    /// State.
    pub state: JobState,
    /// Attempts started so far (claims).
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Due time (for a queued job), or when it was last claimed.
    pub run_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// The worker holding it while running.
    pub locked_by: Option<String>,
    /// When a running job's lease runs out; after that another worker may claim it.
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure, for the newsroom.
    pub last_error: Option<String>,
    /// When it finished (done or dead).
    pub finished_at: Option<DateTime<Utc>>,
    /// Its de-duplication key.
    pub dedupe: Option<String>,
}

/// How a claimed job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// It did its work.
    Done,
    /// It failed and should run again at `at`.
    Retry {
        /// Next attempt.
        at: DateTime<Utc>,
        /// What went wrong.
        error: String,
    },
    /// It failed for good.
    Dead {
        /// What went wrong.
        error: String,
    },
}

/// Jobs per state, for the newsroom and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Queued (due or not).
    pub queued: i64,
    /// Running.
    pub running: i64,
    /// Dead letters.
    pub dead: i64,
    /// Done and not yet pruned.
    pub done: i64,
}
