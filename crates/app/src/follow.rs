//! Following the change log: the task that brings this node's read model, page cache and
//! search index up to date with what any node wrote.
//!
//! The store says when to look ([`newsdesk_store::StoryStore::change_waiter`]): on PostgreSQL
//! another node's commit notifies every node at once (LISTEN/NOTIFY); on SQLite the writers are
//! in this process and sync themselves. Either way the follower also reads the log every
//! `changes_poll_ms` (the fallback when a notification is lost or the listening connection is
//! down) and when a scheduled or embargoed story's time comes. What it reads is decided by its
//! own position in the log ([`App::sync`]), never by the wake, so the cursor stays gap-free.

use crate::App;
use newsdesk_store::Wake;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The poll interval when the configuration does not say (`changes_poll_ms`).
pub const DEFAULT_POLL_MS: u64 = 1000;
/// The shortest wait between two reads however soon a story's time comes.
const MIN_WAIT: Duration = Duration::from_millis(10);

impl App {
    /// Reads the change log at least every `ms` milliseconds (at least 10) when nothing wakes
    /// this node sooner.
    pub fn set_changes_poll_ms(&self, ms: u64) {
        self.changes_poll_ms.store(ms.max(10), Ordering::Relaxed);
    }

    /// The poll interval in effect.
    pub fn changes_poll(&self) -> Duration {
        Duration::from_millis(self.changes_poll_ms.load(Ordering::Relaxed))
    }

    /// Follows the change log until `stop` fires: waits for a wake from the store, the poll
    /// interval or the next scheduled visibility, whichever comes first, then syncs.
    pub async fn follow_changes(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut waiter = self.store.change_waiter();
        tracing::info!(
            notified = waiter.is_notified(),
            poll_ms = self.changes_poll().as_millis() as u64,
            "following the change log"
        );
        loop {
            let wait = self.next_follow_wait().await;
            let wake = tokio::select! {
                w = waiter.wait(wait) => w,
                _ = stop.changed() => break,
            };
            if wake == Wake::Notified {
                self.counters.change_wakes.fetch_add(1, Ordering::Relaxed);
            }
            if let Err(e) = self.sync().await {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "following the change log failed");
            }
        }
    }

    /// How long the follower may wait: the poll interval, shortened to the moment the next
    /// scheduled or embargoed story becomes visible.
    async fn next_follow_wait(&self) -> Duration {
        let poll = self.changes_poll();
        let next = self.sync_state.lock().await.next_visible;
        match next {
            Some(t) => (t - self.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(MIN_WAIT, poll.max(MIN_WAIT)),
            None => poll,
        }
    }
}
