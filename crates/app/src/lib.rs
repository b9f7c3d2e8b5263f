//! Use cases: the one place where rules, permissions and transactions live.
//!
//! For the reader site this is the read model (kept in step with the change log), article
//! lookups with slug redirects, view counting and trending.

pub mod api;
pub mod audience;
pub mod auth;
pub mod config;
pub mod desk;
pub mod diff;
pub mod error;
pub mod feedback;
pub mod follow;
pub mod import;
pub mod jobs;
pub mod newsletter;
pub mod newsroom;
pub mod purge;
pub mod readmodel;
pub mod search;
pub mod sources;
pub mod syndication;
pub mod totp;
pub mod webhooks;
pub mod wire;

pub use api::{ApiCaller, ApiSettings, ListCursor};
pub use audience::{is_bot_or_prefetch, Audience, ViewLimits};
pub use auth::{Authed, Login, LoginStep};
pub use config::SiteConfig;
pub use desk::{AuditPage, FlaggedStory, History, RevisionDiff, RevisionRow, StoryRights};
pub use error::{AppError, AppResult, FieldError};
pub use newsroom::{require, StoryForm};
pub use readmodel::{Filter, Paged, Snapshot, SnapshotBuilder, Taxonomy};

use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// The application: store, clock, settings, read model and audience counters.
pub struct App {
    /// The database: private, so every path to it is a use case here, where its rules are.
    store: Arc<dyn Store>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Site settings.
    pub site: SiteConfig,
    /// View counts and trending lists.
    pub audience: Audience,
    /// Counts of what the node did, for metrics.
    pub counters: Counters,
    /// The wire desk's clusterer.
    wire: Arc<wire::WireState>,
    /// How agency feeds are fetched.
    fetch_policy: RwLock<newsdesk_fetch::FetchPolicy>,
    /// How this node's job worker runs.
    job_settings: RwLock<jobs::JobSettings>,
    /// The JSON API's bounds and rate-limit counters.
    api: api::ApiState,
    /// Where e-mail goes (invitations, password resets); an in-memory stub until set.
    mailer: RwLock<Arc<dyn newsdesk_mail::Mailer>>,
    snapshot: RwLock<Snapshot>,
    /// Versions of what pages show, moved by `sync` (the precise purge).
    pub versions: purge::Versions,
    content_generation: AtomicU64,
    sync_state: tokio::sync::Mutex<SyncState>,
    /// Milliseconds between reads of the change log when nothing wakes the follower.
    changes_poll_ms: AtomicU64,
    /// Places for Argon2 work (password checks and new hashes): bounds CPU and memory.
    hash_permits: tokio::sync::Semaphore,
    /// Password verifications run since start.
    password_checks: Arc<AtomicU64>,
    /// Places for password-reset e-mails being queued after their answer.
    reset_mails: Arc<tokio::sync::Semaphore>,
    /// The newsletter's settings, link key, throttle and transport pace.
    newsletter: newsletter::NewsletterState,
    /// Full-text search, once attached.
    search: std::sync::OnceLock<search::SearchState>,
    /// The feedback desk's settings, form key and rate limit.
    feedback: RwLock<Arc<feedback::FeedbackDesk>>,
    /// Webhook delivery settings.
    webhooks: RwLock<webhooks::WebhookConfig>,
    /// The site's shared secret (one for every node, kept in the store): the keys of the
    /// feedback form and the newsletter's links are made from it unless configured.
    site_secret: Vec<u8>,
}

/// The name of the site's shared secret in the store.
const SITE_SECRET: &str = "site";

/// A key for one purpose, made from the site's shared secret (HMAC-SHA256 of the purpose), so
/// one stored secret gives independent keys.
fn derive_key(site_secret: &[u8], purpose: &str) -> Vec<u8> {
    use hmac::Mac;
    match hmac::Hmac::<sha2::Sha256>::new_from_slice(site_secret) {
        Ok(mut mac) => {
            mac.update(b"newsdesk key: ");
            mac.update(purpose.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; unreachable, but never an empty key.
        Err(_) => site_secret.to_vec(),
    }
}

/// What a node has done since it started, for `/metrics` (monotonic counters).
#[derive(Debug, Default)]
pub struct Counters {
    /// Agency items stored as new.
    pub ingest_new: AtomicU64,
    /// Agency items that replaced an older version.
    pub ingest_updated: AtomicU64,
    /// Agency items already held (exact re-sends, older versions).
    pub ingest_duplicates: AtomicU64,
    /// Withdrawals and cancellations.
    pub ingest_withdrawn: AtomicU64,
    /// Polls and pushes that failed (unreadable, unreachable, refused by the store).
    pub ingest_errors: AtomicU64,
    /// Times the change-log follower was woken by the store (another node's write) rather
    /// than by its poll interval.
    pub change_wakes: AtomicU64,
}

impl Counters {
    fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct SyncState {
    last_seq: i64,
    next_visible: Option<DateTime<Utc>>,
    /// When visibility was last looked at: stories visible from after it are news to pages.
    checked_at: DateTime<Utc>,
}

/// What an article address leads to.
#[derive(Debug)]
pub enum ArticleLookup {
    /// The public story, with what its page shows.
    Found(Box<Article>),
    /// The story moved to a new slug (answer with a 301).
    Moved(Slug),
}

/// What an article page shows, read from the store at once.
#[derive(Debug)]
pub struct Article {
    /// The story, whole.
    pub story: Story,
    /// Its corrections, oldest first.
    pub corrections: Vec<Correction>,
    /// Links of the agency items it is built on (for JSON-LD `isBasedOn`).
    pub based_on: Vec<String>,
}

/// Loads the taxonomy from the store.
async fn load_taxonomy(store: &dyn Store) -> AppResult<Taxonomy> {
    Ok(Taxonomy {
        sectors: store.list_sectors().await?,
        editions: store.list_editions().await?,
        desks: store.list_desks().await?,
        authors: store.list_authors().await?,
        tags: store.list_tags().await?,
    })
}

/// Published cards read per store call at start-up ([`load_snapshot`]): whole cards are held
/// only a page at a time (some 1-2 MB), the read model keeps their compact form.
pub const CARDS_PER_PAGE: usize = 2_000;

/// Builds the read model from the store, the published cards a page of `per_page` at a time
/// ([`CARDS_PER_PAGE`] at start-up; keyset pagination by id), so that start-up memory stays near the model's own size
/// instead of holding every whole card at once. Pages are read in separate transactions: a
/// story saved meanwhile has its change-log row after the position read before, so the first
/// sync applies it again.
pub async fn load_snapshot(store: &dyn Store, per_page: usize) -> AppResult<Snapshot> {
    let per_page = per_page.max(1);
    let expected = usize::try_from(store.count_stories().await?).unwrap_or(0);
    let mut b = Snapshot::builder(
        load_taxonomy(store).await?,
        store.list_images().await?,
        store.list_pages().await?,
        expected,
    );
    // The next page is read while this one is taken in: the store works on a blocking thread
    // (SQLite) or waits on the network (PostgreSQL) while the builder holds the cards, so on
    // two cores start-up takes about the longer of the two instead of their sum. Two pages of
    // whole cards are held at once.
    let mut page = store.list_published_cards_after(None, per_page).await?;
    loop {
        let next = match page.last() {
            Some(last) if page.len() >= per_page => Some(last.id),
            _ => None,
        };
        let take = async {
            for c in page {
                b.add(c);
            }
        };
        match next {
            Some(after) => {
                let (read, ()) = tokio::join!(
                    store.list_published_cards_after(Some(after), per_page),
                    take
                );
                page = read?;
            }
            None => {
                take.await;
                break;
            }
        }
    }
    Ok(b.finish())
}

impl App {
    /// Loads the read model and past views, ready to serve.
    pub async fn load(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        site: SiteConfig,
    ) -> AppResult<Arc<Self>> {
        let last_seq = store.last_change_seq().await?;
        let snap = load_snapshot(&*store, CARDS_PER_PAGE).await?;
        let now = clock.now();
        let next_visible = snap.next_visibility_after(now);
        let audience = Audience::new(
            site.trending_half_life_hours,
            site.trending_size,
            site.view_limits(),
        );
        let hash_permits = auth::hash_semaphore(site.password_checks_at_once);
        // Made once for the whole site (insert-if-absent), so every node signs alike.
        let site_secret = store
            .site_secret(SITE_SECRET, &auth::random_hex(32)?)
            .await?
            .into_bytes();
        let app = Arc::new(App {
            store,
            clock,
            site,
            audience,
            mailer: RwLock::new(Arc::new(newsdesk_mail::MemoryMailer::default())),
            wire: Arc::new(wire::WireState::default()),
            fetch_policy: RwLock::new(newsdesk_fetch::FetchPolicy::default()),
            job_settings: RwLock::new(jobs::JobSettings::default()),
            api: api::ApiState::default(),
            snapshot: RwLock::new(snap),
            versions: purge::Versions::default(),
            content_generation: AtomicU64::new(1),
            counters: Counters::default(),
            sync_state: tokio::sync::Mutex::new(SyncState {
                last_seq,
                next_visible,
                checked_at: now,
            }),
            changes_poll_ms: AtomicU64::new(follow::DEFAULT_POLL_MS),
            hash_permits,
            password_checks: Arc::new(AtomicU64::new(0)),
            reset_mails: Arc::new(tokio::sync::Semaphore::new(auth::RESET_MAILS_IN_FLIGHT)),
            newsletter: newsletter::NewsletterState::with_key(derive_key(
                &site_secret,
                newsletter::KEY_PURPOSE,
            )),
            search: std::sync::OnceLock::new(),
            feedback: RwLock::new(Arc::new(feedback::FeedbackDesk::with_default_key(
                feedback::FeedbackConfig::default(),
                derive_key(&site_secret, feedback::KEY_PURPOSE),
            ))),
            webhooks: RwLock::new(webhooks::WebhookConfig::default()),
            site_secret,
        });
        app.restore_trending().await?;
        app.restore_wire().await?;
        Ok(app)
    }

    /// Rebuilds trending scores from the last week of daily counts (each day's views taken at its
    /// midday, today's at now): an approximation that only matters for the first hours after start.
    async fn restore_trending(&self) -> AppResult<()> {
        let now = self.now();
        let since = (now - Duration::days(7)).date_naive();
        let rows = self.store.views_since(since).await?;
        let days: BTreeSet<_> = rows.iter().map(|r| r.day).collect();
        let global = self.read().tax.global().map(|g| g.id);
        if let Some(global) = global {
            for day in days {
                let at = day
                    .and_hms_opt(12, 0, 0)
                    .map(|t| t.and_utc())
                    .filter(|t| *t < now)
                    .unwrap_or(now);
                let batch: Vec<ViewCount> = rows.iter().filter(|r| r.day == day).copied().collect();
                self.audience.add_to_scores(&batch, at, global);
            }
        }
        let snap = self.read();
        self.audience.recompute(&snap, now);
        Ok(())
    }

    /// The key for `purpose`, made from the site's shared secret.
    pub(crate) fn site_key(&self, purpose: &str) -> Vec<u8> {
        derive_key(&self.site_secret, purpose)
    }

    /// Sends e-mail through `mailer` from now on.
    pub fn set_mailer(&self, mailer: Arc<dyn newsdesk_mail::Mailer>) {
        *self.mailer.write().unwrap_or_else(|e| e.into_inner()) = mailer;
    }

    /// The mailer in use.
    pub fn mailer(&self) -> Arc<dyn newsdesk_mail::Mailer> {
        self.mailer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A consistent view of the read model; hold it only while building one page.
    pub fn read(&self) -> RwLockReadGuard<'_, Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes whenever anything a page shows may have changed: content (`.0`) or trending (`.1`).
    pub fn stamp(&self) -> (u64, u64) {
        (
            self.content_generation.load(Ordering::Acquire),
            self.audience.generation(),
        )
    }

    /// Change-log rows written but not yet applied to this node's read model.
    pub async fn sync_lag(&self) -> AppResult<i64> {
        let last = self.store.last_change_seq().await?;
        let applied = self.sync_state.lock().await.last_seq;
        Ok((last - applied).max(0))
    }

    /// Applies new change-log rows to the read model, and notices stories whose publication or
    /// embargo time has come. Returns how many changes were applied.
    pub async fn sync(&self) -> AppResult<usize> {
        let mut st = self.sync_state.lock().await;
        let mut applied = 0;
        // What the applied changes touch, before and after; bumped once the read model has them.
        let mut deps: Vec<purge::Dep> = Vec::new();
        loop {
            let changes = self.store.changes_since(st.last_seq, 500).await?;
            let Some(last) = changes.last() else { break };
            st.last_seq = last.seq;
            applied += changes.len();
            let mut story_ids: Vec<StoryId> = Vec::new();
            let (mut taxonomy, mut pages, mut images) = (false, false, Vec::new());
            for c in &changes {
                match c.entity {
                    ChangeEntity::Story => story_ids.push(StoryId(c.entity_id)),
                    ChangeEntity::Taxonomy => taxonomy = true,
                    ChangeEntity::Page => pages = true,
                    ChangeEntity::Image => images.push(ImageId(c.entity_id)),
                }
            }
            story_ids.sort_unstable();
            story_ids.dedup();
            let cards = self.store.get_cards(&story_ids).await?;
            let tax = if taxonomy {
                Some(load_taxonomy(&*self.store).await?)
            } else {
                None
            };
            let page_list = if pages {
                Some(self.store.list_pages().await?)
            } else {
                None
            };
            let mut imgs = Vec::new();
            for id in images {
                imgs.push(self.store.get_image(id).await?);
            }
            let mut snap = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
            for id in &story_ids {
                deps.push(purge::Dep::Story(*id));
                if let Some(old) = snap.card(*id) {
                    purge::card_deps(&old, &mut deps);
                }
                let card = cards.iter().find(|c| c.id == *id).cloned();
                if let Some(new) = &card {
                    purge::card_deps(new, &mut deps);
                }
                snap.apply_card(*id, card);
            }
            if tax.is_some() || page_list.is_some() {
                deps.push(purge::Dep::Site);
            }
            if let Some(t) = tax {
                snap.tax = Arc::new(t);
            }
            if let Some(p) = page_list {
                snap.pages = p.into_iter().map(Arc::new).collect();
            }
            for i in imgs {
                for c in snap.with_image(i.id) {
                    purge::card_deps(&c, &mut deps);
                }
                snap.put_image(i);
            }
        }
        let now = self.now();
        if now > st.checked_at {
            let snap = self.read();
            for c in snap.became_visible(st.checked_at, now) {
                purge::card_deps(&c, &mut deps);
            }
            st.checked_at = now;
        }
        self.versions.bump(&deps);
        let due = st.next_visible.is_some_and(|t| t <= now);
        if applied > 0 || due {
            st.next_visible = self.read().next_visibility_after(now);
            self.content_generation.fetch_add(1, Ordering::AcqRel);
            if due {
                tracing::info!("a scheduled or embargoed story became visible");
            }
        }
        drop(st);
        // The search index follows the same log (its own position, kept in the index).
        if let Err(e) = self.follow_search().await {
            tracing::error!(error = %e, "bringing the search index up to date failed");
        }
        Ok(applied)
    }

    /// Counts a reader's page view in memory, once per client (address and User-Agent) and
    /// story in a window, and at most a few per client in all (see [`audience`]). Returns whether
    /// it counted.
    pub fn count_view(
        &self,
        story: StoryId,
        edition: EditionId,
        address: &str,
        user_agent: &str,
    ) -> bool {
        self.audience
            .count_from(story, edition, address, user_agent, self.now())
    }

    /// Writes pending views to the database in one transaction and refreshes trending.
    pub async fn flush_views(&self) -> AppResult<()> {
        let now = self.now();
        let batch = self.audience.take_pending(now);
        if !batch.is_empty() {
            if let Err(e) = self.store.add_views(&batch).await {
                // Put them back so a passing database hiccup loses no views.
                for v in &batch {
                    for _ in 0..v.views.min(1_000_000) {
                        self.audience.count(v.story_id, v.edition_id);
                    }
                }
                return Err(e.into());
            }
            let global = self.read().tax.global().map(|g| g.id);
            if let Some(g) = global {
                self.audience.add_to_scores(&batch, now, g);
            }
        }
        let snap = self.read();
        self.audience.recompute(&snap, now);
        Ok(())
    }

    /// Whether the media file `name` may be served to anyone: only once a story public now uses
    /// it (its hero picture or its video). The newsroom sees the others through its session.
    pub fn media_is_public(&self, name: &str) -> bool {
        self.read().media_is_public(name, self.now())
    }

    /// The public story at `slug` with its corrections and lineage links (one store read), or
    /// where it moved.
    pub async fn article(&self, slug: &str) -> AppResult<ArticleLookup> {
        let Ok(slug) = Slug::parse(slug) else {
            return Err(AppError::NotFound);
        };
        let now = self.now();
        let id = self.read().public_id_by_slug(slug.as_str(), now);
        if let Some(id) = id {
            let read = self.store.get_article(id).await?;
            let story = read.story;
            // The read model may lag the database by a moment; the database has the last word.
            if story.is_public_at(now) && story.slug == slug {
                return Ok(ArticleLookup::Found(Box::new(Article {
                    story,
                    corrections: read.corrections,
                    based_on: read.lineage.into_iter().filter_map(|l| l.link).collect(),
                })));
            }
            return Err(AppError::NotFound);
        }
        if let Some(new) = self.store.find_slug_redirect(&slug).await? {
            if self.read().public_id_by_slug(new.as_str(), now).is_some() {
                return Ok(ArticleLookup::Moved(new));
            }
        }
        Err(AppError::NotFound)
    }

    /// The public stories with these ids, whole, in the given order (feeds need their bodies).
    pub async fn stories(&self, ids: &[StoryId]) -> AppResult<Vec<Story>> {
        let now = self.now();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.store.get_story(*id).await {
                Ok(s) if s.is_public_at(now) => out.push(s),
                Ok(_) | Err(newsdesk_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// The corrections of a public story, oldest first.
    pub async fn corrections(&self, id: StoryId) -> AppResult<Vec<Correction>> {
        Ok(self.store.list_corrections(id).await?)
    }

    /// The newest corrections of public stories, with the story each belongs to.
    pub async fn recent_corrections(
        &self,
        limit: usize,
    ) -> AppResult<Vec<(Correction, std::sync::Arc<StoryCard>)>> {
        let now = self.now();
        let list = self
            .store
            .recent_corrections(limit.saturating_mul(2).max(limit))
            .await?;
        let snap = self.read();
        Ok(list
            .into_iter()
            .filter_map(|c| snap.public_card(c.story_id, now).map(|card| (c, card)))
            .take(limit)
            .collect())
    }

    /// Runs the background work of one node until `shutdown` fires: follow the change log (woken
    /// by the store, else every `changes_poll_ms`; see [`follow`]), flush views every `views_flush_seconds`, queue polls of due agency feeds and the
    /// publication of due scheduled stories, and run jobs. Flushes once more on the way out.
    pub async fn run_background(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        // Jobs run in their own task, so a slow source never delays the rest.
        let worker = tokio::spawn(
            self.job_worker(newsdesk_jobs::worker_name())
                .run(shutdown.clone()),
        );
        // The change log is followed in its own task: woken by the store (another node's
        // write) or by its poll interval.
        let follower = tokio::spawn(self.clone().follow_changes(shutdown.clone()));
        let poller = {
            let app = self.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stop.changed() => break,
                    }
                    if let Err(e) = app.poll_due_sources().await {
                        tracing::error!(error = %e, "queueing polls of agency sources failed");
                    }
                }
            })
        };
        let flush_every = self.site.views_flush_seconds.max(1);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            n += 1;
            // Scheduled stories are published by a job, once, on whichever node claims it.
            if let Err(e) = self.queue_due_publications().await {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "queueing the publication of scheduled stories failed");
            }
            // Digests whose hour has come, checked every minute (and at start).
            if n % 60 == 1 {
                if let Err(e) = self.schedule_digests().await {
                    tracing::error!(error = %e, "queueing newsletter digests failed");
                }
            }
            if n.is_multiple_of(flush_every) {
                if let Err(e) = self.flush_views().await {
                    tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "flushing views failed");
                }
            }
        }
        if let Err(e) = self.flush_views().await {
            tracing::error!(error = %e, "final flush of views failed");
        }
        poller.abort();
        let _ = follower.await;
        // A job still running when the worker stops is claimed again after its lease.
        let _ = worker.await;
    }
}
