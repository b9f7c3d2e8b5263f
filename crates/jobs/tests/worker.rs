//! The worker over the real SQLite store, with a manual clock: retries at their back-off,
//! dead letters, panics, a dead worker's job taken over, and jobs that outlive a restart.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use newsdesk_domain::{Clock, Job, JobState, ManualClock};
use newsdesk_jobs::{decode, new_job, Handler, JobError, JobKind, Worker, WorkerConfig};
use newsdesk_store::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Serialize, Deserialize)]
struct Work {
    name: String,
    /// Failures before it works (`u32::MAX`: never works).
    fails: u32,
}

impl JobKind for Work {
    const KIND: &'static str = "work";
    const MAX_ATTEMPTS: u32 = 4;
    fn dedupe(&self) -> Option<String> {
        Some(format!("work:{}", self.name))
    }
}

#[derive(Default)]
struct Counting {
    calls: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Handler for Counting {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        if job.kind != Work::KIND {
            return Err(JobError::Fatal(format!("no handler for {}", job.kind)));
        }
        let w: Work = decode(job)?;
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(w.name.clone()).or_default();
            *n += 1;
            *n
        };
        match w.name.as_str() {
            "panics" => panic!("handler bug"),
            "fatal" => Err(JobError::Fatal("the source was deleted".into())),
            _ if n <= w.fails => Err(JobError::Retry(format!("failure {n}"))),
            _ => Ok(()),
        }
    }
}

impl Counting {
    fn calls(&self, name: &str) -> u32 {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

fn setup() -> (
    Arc<newsdesk_store_sqlite::SqliteStore>,
    Arc<ManualClock>,
    Arc<Counting>,
    Worker,
) {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().unwrap(),
    ));
    let handler = Arc::new(Counting::default());
    let worker = Worker::new(
        store.clone(),
        clock.clone(),
        handler.clone(),
        WorkerConfig::new("test-worker"),
    );
    (store, clock, handler, worker)
}

async fn enqueue(store: &dyn Store, clock: &ManualClock, name: &str, fails: u32) {
    let job = new_job(
        &Work {
            name: name.into(),
            fails,
        },
        clock.now(),
    )
    .unwrap();
    store.enqueue_jobs(&[job], clock.now()).await.unwrap();
}

async fn job_named(store: &dyn Store, name: &str) -> Job {
    store
        .list_jobs(None, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.dedupe.as_deref() == Some(&format!("work:{name}")))
        .unwrap()
}

#[tokio::test]
async fn a_failing_job_is_retried_after_its_back_off_until_it_works() {
    let (store, clock, handler, worker) = setup();
    enqueue(&*store, &clock, "flaky", 2).await;
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.claimed, r.retried), (1, 1));
    let j = job_named(&*store, "flaky").await;
    assert_eq!(j.state, JobState::Queued);
    let wait = j.run_at - clock.now();
    assert!(wait >= Duration::seconds(10) && wait <= Duration::milliseconds(12_500));
    // Not before its time.
    clock.advance(wait - Duration::seconds(1));
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    clock.advance(Duration::seconds(1));
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    // The second wait is about twice the first.
    let j = job_named(&*store, "flaky").await;
    let wait2 = j.run_at - clock.now();
    assert!(wait2 >= Duration::seconds(20) && wait2 <= Duration::seconds(25));
    clock.advance(wait2);
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.claimed, r.done), (1, 1));
    assert_eq!(handler.calls("flaky"), 3);
    let j = job_named(&*store, "flaky").await;
    assert_eq!((j.state, j.attempts), (JobState::Done, 3));
}

#[tokio::test]
async fn a_job_that_never_works_ends_as_a_dead_letter_and_can_be_retried() {
    let (store, clock, handler, worker) = setup();
    enqueue(&*store, &clock, "broken", u32::MAX).await;
    enqueue(&*store, &clock, "fatal", 0).await;
    for _ in 0..10 {
        worker.run_once().await.unwrap();
        clock.advance(Duration::hours(2));
    }
    assert_eq!(
        handler.calls("broken"),
        4,
        "MAX_ATTEMPTS attempts, then no more"
    );
    assert_eq!(handler.calls("fatal"), 1, "a fatal error is not retried");
    let dead = store.list_jobs(Some(JobState::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 2);
    let broken = job_named(&*store, "broken").await;
    assert!(broken.last_error.unwrap().contains("after 4 attempts"));
    // An admin retries it: it runs again.
    store.retry_dead_job(broken.id, clock.now()).await.unwrap();
    worker.run_once().await.unwrap();
    assert_eq!(handler.calls("broken"), 5);
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_not_the_worker() {
    let (store, clock, handler, worker) = setup();
    enqueue(&*store, &clock, "panics", 0).await;
    enqueue(&*store, &clock, "fine", 0).await;
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.claimed, r.done, r.retried), (2, 1, 1));
    assert_eq!(handler.calls("panics"), 1);
    let j = job_named(&*store, "panics").await;
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.last_error.as_deref(), Some("the job panicked"));
}

#[tokio::test]
async fn a_job_held_by_a_dead_worker_is_taken_over_when_its_lease_runs_out() {
    let (store, clock, handler, worker) = setup();
    enqueue(&*store, &clock, "orphan", 0).await;
    // Another process claimed it, then died (it never finishes).
    let now = clock.now();
    let held = store
        .claim_jobs("dead-process", now, now + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        worker.run_once().await.unwrap().claimed,
        0,
        "held by its lease"
    );
    clock.advance(Duration::seconds(61));
    let r = worker.run_once().await.unwrap();
    assert_eq!((r.claimed, r.done), (1, 1));
    assert_eq!(handler.calls("orphan"), 1);
    let j = job_named(&*store, "orphan").await;
    assert_eq!((j.state, j.attempts), (JobState::Done, 2));
}

#[tokio::test]
async fn queued_jobs_outlive_a_restart() {
    let (store, clock, _, worker) = setup();
    enqueue(&*store, &clock, "later", 0).await;
    let path = store.path().to_owned();
    drop(worker);
    drop(store);
    // A new process opens the same database.
    let store = Arc::new(newsdesk_store_sqlite::SqliteStore::open(&path).unwrap());
    let handler = Arc::new(Counting::default());
    let worker = Worker::new(
        store.clone(),
        clock.clone(),
        handler.clone(),
        WorkerConfig::new("restarted"),
    );
    assert_eq!(worker.run_once().await.unwrap().done, 1);
    assert_eq!(handler.calls("later"), 1);
}

#[tokio::test]
async fn an_unknown_kind_is_a_dead_letter() {
    let (store, clock, _, worker) = setup();
    let job = newsdesk_domain::NewJob {
        kind: "from_a_newer_version".into(),
        payload: "{}".into(),
        run_at: clock.now(),
        dedupe: None,
        max_attempts: 5,
    };
    store.enqueue_jobs(&[job], clock.now()).await.unwrap();
    let r = worker.run_once().await.unwrap();
    assert_eq!(r.dead, 1);
}
