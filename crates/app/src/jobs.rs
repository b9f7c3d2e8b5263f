//! The app's background jobs: their types, the handler that runs them, and the admin's view of
//! the queue (dead letters and retries).
//!
//! Work that must happen once and must not be lost goes through the job table rather than a
//! timer of one node: a due source is queued once (its de-duplication key), claimed by one worker,
//! and claimed again if that worker's process dies before it finishes.

use crate::{require, App, AppError, AppResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::{
    AuditInput, Capability, ClusterId, EmailAddress, Job, JobCounts, JobId, JobState, Role,
    SourceId, User,
};
use newsdesk_jobs::{decode, new_job, Handler, JobError, JobKind, Round, Worker, WorkerConfig};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Poll one agency feed (queued when the source is due).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PollSource {
    /// The source.
    pub source: SourceId,
}

impl JobKind for PollSource {
    const KIND: &'static str = "poll_source";
    // A failing feed is the source's health, backed off by the source's own schedule; the job
    // itself only fails when the database does.
    const MAX_ATTEMPTS: u32 = 3;
    fn dedupe(&self) -> Option<String> {
        Some(format!("poll_source:{}", self.source))
    }
}

/// Refresh a wire cluster's summary draft (queued when new copy joins it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryDraft {
    /// The cluster.
    pub cluster: ClusterId,
}

impl JobKind for SummaryDraft {
    const KIND: &'static str = "summary_draft";
    const MAX_ATTEMPTS: u32 = 5;
    // A queued refresh reads the cluster when it runs, so one queued job covers every batch
    // that touches the cluster meanwhile.
    fn dedupe(&self) -> Option<String> {
        Some(format!("summary_draft:{}", self.cluster))
    }
}

/// Publish one new agency item by its source's auto-publish rule (queued in the transaction
/// that stores the item, so a crash between storing and publishing loses nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AutoPublishItem {
    /// The source whose rule applies.
    pub source: SourceId,
    /// The item's agency.
    pub agency: String,
    /// The item's id at its agency.
    pub agency_id: String,
}

impl JobKind for AutoPublishItem {
    const KIND: &'static str = "auto_publish";
    const MAX_ATTEMPTS: u32 = 8;
    // One live job per item; a second run (a retry, a worker that died after publishing)
    // finds the story already built on the item and publishes nothing.
    fn dedupe(&self) -> Option<String> {
        Some(format!("auto_publish:{}:{}", self.agency, self.agency_id))
    }
}

/// Publish the scheduled stories whose time has come (queued by whichever node first notices
/// one is due; one live job at a time, so each publication happens once, on one node).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishDue {}

impl JobKind for PublishDue {
    const KIND: &'static str = "publish_due";
    const MAX_ATTEMPTS: u32 = 5;
    fn dedupe(&self) -> Option<String> {
        Some("publish_due".into())
    }
}

/// Send one e-mail, with retries and back-off. The payload says which mail and to whom, never
/// a password-reset token: the reset link's token is made (and saved) when the job sends. An
/// invitation's link is the one secret a payload holds (the admin is shown the same link); the
/// job replaces its payload with a note once the mail is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "mail", rename_all = "snake_case")]
pub enum SendMail {
    /// A password-reset link to an account (its owner asked; the request's throttle bounds how
    /// many are queued per account).
    PasswordReset {
        /// The account.
        user: i64,
    },
    /// An invitation with its single-use link.
    Invitation {
        /// The invited address.
        to: EmailAddress,
        /// The role offered.
        role: Role,
        /// The link (carries the invitation's token).
        link: String,
        /// When the invitation ends.
        expires: DateTime<Utc>,
    },
    /// The desk's notice of a reader's feedback message (the message is read when it sends).
    FeedbackNotice {
        /// The message.
        feedback: i64,
    },
    /// An editor's reply to a feedback message (kept with the message, read when it sends).
    FeedbackReply {
        /// The message.
        feedback: i64,
    },
    /// What an invitation job's payload becomes once the mail is sent.
    Sent {
        /// To whom.
        to: EmailAddress,
    },
}

impl JobKind for SendMail {
    const KIND: &'static str = "send_mail";
    /// About twenty minutes of back-off in all before the mail is a dead letter.
    const MAX_ATTEMPTS: u32 = 8;
}

/// How a node's job worker runs (`[jobs]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Jobs claimed and run at once.
    pub batch: usize,
    /// Seconds a claim holds before another worker may take the job (renewed while it runs).
    pub lease_seconds: i64,
    /// Hours a done job is kept before it is deleted.
    pub keep_done_hours: i64,
    /// Dead letters kept (the newest).
    pub keep_dead: usize,
}

impl Default for JobSettings {
    fn default() -> Self {
        let w = WorkerConfig::new("");
        Self {
            batch: w.batch,
            lease_seconds: w.lease.num_seconds(),
            keep_done_hours: w.keep_done.num_hours(),
            keep_dead: w.keep_dead,
        }
    }
}

/// Most jobs listed on the newsroom's jobs page.
const LISTED: usize = 200;

/// Runs the app's jobs.
pub struct AppJobs(pub Arc<App>);

#[async_trait]
impl Handler for AppJobs {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let app = &self.0;
        match job.kind.as_str() {
            PollSource::KIND => {
                let p: PollSource = decode(job)?;
                let now = app.now();
                let s = app.store.get_source(p.source, now).await?;
                // Another node may have polled it meanwhile, or an admin switched it off.
                if !s.enabled || s.url.is_none() || s.next_poll_at > now {
                    return Ok(());
                }
                if let Err(e) = app.poll_source(&s).await {
                    tracing::warn!(source = s.id.0, error = %e, "polling an agency feed failed");
                }
                Ok(())
            }
            SummaryDraft::KIND => {
                let d: SummaryDraft = decode(job)?;
                app.refresh_summary_draft(d.cluster)
                    .await
                    .map_err(app_error)
            }
            AutoPublishItem::KIND => {
                let a: AutoPublishItem = decode(job)?;
                let now = app.now();
                let source = app.store.get_source(a.source, now).await?;
                let Some(stored) = app.store.find_wire_item(&a.agency, &a.agency_id).await? else {
                    return Err(JobError::Fatal(format!(
                        "agency item {} of {} is not stored",
                        a.agency_id, a.agency
                    )));
                };
                app.auto_publish_item(&source, &stored)
                    .await
                    .map(|_| ())
                    .map_err(app_error)
            }
            PublishDue::KIND => {
                let _: PublishDue = decode(job)?;
                app.publish_due().await.map(|_| ()).map_err(app_error)
            }
            SendMail::KIND => {
                let (mail, secret) = match decode::<SendMail>(job)? {
                    SendMail::PasswordReset { user } => (
                        app.password_reset_mail(newsdesk_domain::UserId(user))
                            .await
                            .map_err(app_error)?,
                        false,
                    ),
                    SendMail::Invitation {
                        to,
                        role,
                        link,
                        expires,
                    } => (
                        Some(newsdesk_mail::Message::new(
                            to,
                            newsdesk_mail::templates::invitation(
                                &app.site.name,
                                &link,
                                role,
                                expires,
                            ),
                        )),
                        true,
                    ),
                    SendMail::FeedbackNotice { feedback } => (
                        app.feedback_mail(feedback, false)
                            .await
                            .map_err(app_error)?,
                        false,
                    ),
                    SendMail::FeedbackReply { feedback } => (
                        app.feedback_mail(feedback, true).await.map_err(app_error)?,
                        false,
                    ),
                    SendMail::Sent { .. } => (None, false),
                };
                let Some(mail) = mail else {
                    return Ok(());
                };
                app.mailer().send(&mail).await.map_err(|e| {
                    if e.is_retryable() {
                        JobError::Retry(format!("the e-mail was not sent: {e}"))
                    } else {
                        JobError::Fatal(format!("the e-mail was refused: {e}"))
                    }
                })?;
                if secret {
                    // The link is no longer kept in the job table once it is sent.
                    let sent = serde_json::to_string(&SendMail::Sent {
                        to: mail.to.clone(),
                    })
                    .map_err(|e| JobError::Fatal(e.to_string()))?;
                    let worker = job.locked_by.as_deref().unwrap_or_default();
                    if let Err(e) = app.store.redact_job_payload(job.id, worker, &sent).await {
                        tracing::warn!(job = %job.id, error = %e, "a sent invitation's link stays in its job");
                    }
                }
                Ok(())
            }
            other if other.starts_with("newsletter_") => crate::newsletter::run_job(app, job).await,
            crate::webhooks::DeliverWebhook::KIND => app.deliver_webhook(job).await,
            other => Err(JobError::Fatal(format!(
                "no handler for jobs of kind {other:?}"
            ))),
        }
    }
}

/// A use case's error as a job's: what no longer exists or is refused will not work later
/// either; anything else may.
pub(crate) fn app_error(e: AppError) -> JobError {
    match e {
        AppError::NotFound => JobError::Fatal("what the job was about no longer exists".into()),
        AppError::Forbidden | AppError::Invalid(_) | AppError::Conflict(_) => {
            JobError::Fatal(e.to_string())
        }
        // The cause, for the Jobs page ("internal error" alone tells an admin nothing).
        AppError::Internal(cause) => JobError::Retry(cause.to_string()),
        other => JobError::Retry(other.to_string()),
    }
}

impl App {
    /// Runs jobs with `settings` from now on (workers made afterwards).
    pub fn set_job_settings(&self, settings: JobSettings) {
        *self.job_settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// A worker running this app's jobs, named `id`.
    pub fn job_worker(self: &Arc<Self>, id: String) -> Worker {
        let s = *self.job_settings.read().unwrap_or_else(|e| e.into_inner());
        let mut cfg = WorkerConfig::new(id);
        cfg.batch = s.batch.max(1);
        cfg.lease = chrono::Duration::seconds(s.lease_seconds.max(5));
        cfg.keep_done = chrono::Duration::hours(s.keep_done_hours.max(1));
        cfg.keep_dead = s.keep_dead;
        Worker::new(
            self.store.clone(),
            self.clock.clone(),
            Arc::new(AppJobs(self.clone())),
            cfg,
        )
    }

    /// Runs rounds of jobs until none is due (tests and the CLI); returns what was done.
    pub async fn run_jobs_until_idle(self: &Arc<Self>) -> AppResult<Round> {
        let worker = self.job_worker(format!("{}-inline", newsdesk_jobs::worker_name()));
        let mut total = Round::default();
        // Bounded, in case a job keeps queueing work that is due at once.
        for _ in 0..1_000 {
            let r = worker.run_once().await?;
            if r.claimed == 0 {
                break;
            }
            total.claimed += r.claimed;
            total.done += r.done;
            total.retried += r.retried;
            total.dead += r.dead;
            total.lost += r.lost;
        }
        Ok(total)
    }

    /// Queues a poll of every enabled feed whose time has come; a source already queued or
    /// being polled is not queued twice. Returns how many were queued.
    pub async fn poll_due_sources(&self) -> AppResult<usize> {
        let now = self.now();
        let mut jobs = Vec::new();
        for s in self.store.list_sources(now).await? {
            if s.enabled && s.url.is_some() && s.next_poll_at <= now {
                jobs.push(
                    new_job(&PollSource { source: s.id }, now)
                        .map_err(|e| AppError::Internal(e.to_string().into()))?,
                );
            }
        }
        if jobs.is_empty() {
            return Ok(0);
        }
        let queued = self.store.enqueue_jobs(&jobs, now).await?;
        Ok(queued.iter().flatten().count())
    }

    /// Queues the "publish due" job if a scheduled story's time has come (a read every second
    /// on every node; the job's de-duplication key keeps it to one live job however many nodes
    /// notice). Returns how many were queued (0 or 1).
    pub async fn queue_due_publications(&self) -> AppResult<usize> {
        let now = self.now();
        match self.store.next_scheduled_at().await? {
            Some(t) if t <= now => {
                let job = new_job(&PublishDue {}, now)
                    .map_err(|e| AppError::Internal(e.to_string().into()))?;
                let queued = self.store.enqueue_jobs(&[job], now).await?;
                Ok(queued.iter().flatten().count())
            }
            _ => Ok(0),
        }
    }

    /// Jobs per state and the listed jobs in `state` (all when `None`), newest first (admins).
    pub async fn jobs(
        &self,
        actor: &User,
        state: Option<JobState>,
    ) -> AppResult<(JobCounts, Vec<Job>)> {
        require(actor, Capability::ManageUsers)?;
        Ok((
            self.store.job_counts().await?,
            self.store.list_jobs(state, LISTED).await?,
        ))
    }

    /// Jobs per state (metrics; no actor: it tells nothing about any story or person).
    pub async fn job_counts(&self) -> AppResult<JobCounts> {
        Ok(self.store.job_counts().await?)
    }

    /// Puts a dead job back in the queue (admins); audited.
    pub async fn retry_job(&self, actor: &User, id: JobId) -> AppResult<()> {
        require(actor, Capability::ManageUsers)?;
        let now = self.now();
        match self.store.retry_dead_job(id, now).await {
            Ok(()) => {}
            Err(newsdesk_store::StoreError::NotFound) => {
                return Err(AppError::Conflict(
                    "Only a job that failed for good can be retried.".into(),
                ))
            }
            Err(newsdesk_store::StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(
                    "The same work is already queued.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(actor.id),
                action: "retry-job".into(),
                target: format!("job:{id}"),
                detail: String::new(),
            })
            .await?;
        Ok(())
    }
}
