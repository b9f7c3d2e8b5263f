//! The storage contract: one trait every backend implements (made of a trait per section), its
//! error type, and the conformance suite every backend must pass (so SQLite and PostgreSQL cannot
//! drift apart; behind the `conformance` feature, for backends' tests).

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod copy;
pub mod lists;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use newsdesk_domain::*;

/// What can go wrong in a store, in terms the use cases can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or an optimistic-lock version was violated; the variant says which.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The database is busy; the caller may retry.
    #[error("database busy")]
    Busy,
    /// Anything else: a bug or an outage. Logged with its cause, never shown.
    #[error("storage failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which rule a write broke, so callers act on the kind and never match on database text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The slug is another story's, current or old.
    #[error("slug {0} is taken")]
    SlugTaken(String),
    /// The row moved on since it was read (optimistic lock): someone else saved it.
    #[error("the row is at version {actual}, not {expected}")]
    StaleVersion {
        /// The version the caller read.
        expected: i64,
        /// The version stored now.
        actual: i64,
    },
    /// An account with this e-mail address exists.
    #[error("an account with this e-mail address exists")]
    EmailTaken,
    /// A job with this de-duplication key is queued or running.
    #[error("a job with key {0} is live")]
    JobKeyLive(String),
    /// Another rule of the database (uniqueness, reference); its text is for the log only.
    #[error("constraint: {0}")]
    Constraint(String),
}

impl Conflict {
    /// What a user may be told: never the database's own words.
    pub fn user_message(&self) -> &'static str {
        match self {
            Conflict::SlugTaken(_) => "That address is taken by another story; choose another slug.",
            Conflict::StaleVersion { .. } => {
                "Someone else saved this meanwhile. Reload to see their version, then make your change again."
            }
            Conflict::EmailTaken => "An account with this e-mail address exists.",
            Conflict::JobKeyLive(_) => "The same work is already queued.",
            Conflict::Constraint(_) => {
                "This could not be saved: it clashes with something saved meanwhile. Reload and try again."
            }
        }
    }
}

impl StoreError {
    /// Wraps any error as [`StoreError::Other`].
    pub fn other(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Other(Box::new(e))
    }
    /// Wraps a message as [`StoreError::Other`].
    pub fn msg(m: impl Into<String>) -> Self {
        StoreError::Other(m.into().into())
    }
}

/// The section traits, for code that calls store methods on a concrete backend or a generic
/// `S: Store` (on `dyn Store` they resolve without it).
pub mod prelude {
    pub use crate::{
        AccountStore, ApiTokenStore, AudienceStore, FeedbackStore, ImportStore, JobStore,
        LeaseStore, LoginStore, NewsletterStore, NewsroomStore, SecretStore, SourceStore, Store,
        StoryStore, WebhookStore, WireStore,
    };
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// What an article page needs from the store, from [`StoryStore::get_article`].
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRead {
    /// The story, whole.
    pub story: Story,
    /// Its corrections, oldest first.
    pub corrections: Vec<Correction>,
    /// The agency items it is built on, by item id.
    pub lineage: Vec<LineageLink>,
}

/// One agency item a story is built on, with its link (for JSON-LD `isBasedOn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageLink {
    /// The agency item.
    pub item: WireItemId,
    /// The item's version the story was built on.
    pub version: i64,
    /// The item's own URL (its first link), if it has one.
    pub link: Option<String>,
}

/// The newsroom's storage: every section below, which a backend implements one by one.
///
/// Every write that changes something readers can see also appends a row to the `changes` log in the
/// same transaction, so caches, search and other nodes can follow it.
///
/// Callers hold an `Arc<dyn Store>`; the sections' methods are called on it directly. Code that
/// calls them on a concrete backend (or a generic `S: Store`) imports [`prelude`].
pub trait Store:
    StoryStore
    + AudienceStore
    + AccountStore
    + NewsroomStore
    + LoginStore
    + WireStore
    + SourceStore
    + JobStore
    + NewsletterStore
    + ApiTokenStore
    + ImportStore
    + FeedbackStore
    + WebhookStore
    + SecretStore
    + LeaseStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is ("sqlite", "postgres"), for logs.
    fn backend(&self) -> &'static str;
}

/// The site's content, which the read model follows: taxonomy, images, stories, static pages
/// and the change log.
#[async_trait]
pub trait StoryStore: Send + Sync {
    // --- taxonomy ---

    /// Creates or renames a sector by slug.
    async fn upsert_sector(&self, slug: &Slug, name: &str, position: i32) -> StoreResult<Sector>;
    /// All sectors in menu order.
    async fn list_sectors(&self) -> StoreResult<Vec<Sector>>;
    /// Creates or updates an edition by slug.
    async fn upsert_edition(
        &self,
        slug: &Slug,
        name: &str,
        tz: chrono_tz::Tz,
        position: i32,
    ) -> StoreResult<Edition>;
    /// All editions in menu order.
    async fn list_editions(&self) -> StoreResult<Vec<Edition>>;
    /// Creates or renames a desk by slug.
    async fn upsert_desk(&self, slug: &Slug, name: &str) -> StoreResult<Desk>;
    /// All desks by name.
    async fn list_desks(&self) -> StoreResult<Vec<Desk>>;
    /// Creates or updates an author by slug.
    async fn upsert_author(
        &self,
        slug: &Slug,
        name: &str,
        bio: &str,
        desk: Option<DeskId>,
    ) -> StoreResult<Author>;
    /// All authors by name.
    async fn list_authors(&self) -> StoreResult<Vec<Author>>;
    /// Creates or renames a tag by slug.
    async fn upsert_tag(&self, slug: &Slug, name: &str) -> StoreResult<Tag>;
    /// All tags by name.
    async fn list_tags(&self) -> StoreResult<Vec<Tag>>;

    // --- images ---

    /// Saves an image's metadata (its files are written by the caller first).
    async fn insert_image(&self, image: &ImageInput) -> StoreResult<Image>;
    /// One image.
    async fn get_image(&self, id: ImageId) -> StoreResult<Image>;
    /// Every image (the read model keeps them in memory).
    async fn list_images(&self) -> StoreResult<Vec<Image>>;

    // --- stories ---

    /// Saves a new story. A taken slug (current or old) is a [`StoreError::Conflict`].
    async fn insert_story(&self, story: &StoryInput) -> StoreResult<Story>;
    /// Saves many new stories in one transaction (imports and demo content).
    async fn insert_stories(&self, stories: &[StoryInput]) -> StoreResult<Vec<StoryId>>;
    /// Replaces a story if it is still at `expected_version`, else [`StoreError::Conflict`].
    /// A changed slug keeps the old one as a redirect.
    async fn update_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
    ) -> StoreResult<Story>;
    /// One story, whole.
    async fn get_story(&self, id: StoryId) -> StoreResult<Story>;
    /// What an article page needs from the store, read together on one connection in one
    /// consistent snapshot (one statement on the story's row, which keeps its lists: see
    /// [`lists`]): the story, its corrections (as [`NewsroomStore::list_corrections`]) and its
    /// lineage (as [`WireStore::lineage`]), each with the agency item's first link.
    async fn get_article(&self, id: StoryId) -> StoreResult<ArticleRead>;
    /// The story whose current slug is `slug`.
    async fn find_story_by_slug(&self, slug: &Slug) -> StoreResult<Option<Story>>;
    /// The current slug of the story that once had `old`, for a 301.
    async fn find_slug_redirect(&self, old: &Slug) -> StoreResult<Option<Slug>>;
    /// Cards of every story with status published (including embargoed and future ones).
    async fn list_published_cards(&self) -> StoreResult<Vec<StoryCard>>;
    /// One page of [`StoryStore::list_published_cards`]: the cards of published stories whose
    /// id is greater than `after` (from the first when `None`), in id order, at most `limit`
    /// (keyset pagination: a page costs what the first does). The read model loads page by
    /// page, so start-up holds one page of whole cards at a time, not every card at once.
    async fn list_published_cards_after(
        &self,
        after: Option<StoryId>,
        limit: usize,
    ) -> StoreResult<Vec<StoryCard>>;
    /// The cards of these stories, whatever their status; missing ids are left out.
    async fn get_cards(&self, ids: &[StoryId]) -> StoreResult<Vec<StoryCard>>;
    /// How many stories there are, in any status.
    async fn count_stories(&self) -> StoreResult<i64>;

    // --- static pages ---

    /// Creates or replaces a static page by slug.
    async fn upsert_page(&self, page: &StaticPage) -> StoreResult<()>;
    /// One static page.
    async fn get_page(&self, slug: &Slug) -> StoreResult<Option<StaticPage>>;
    /// All static pages in footer order.
    async fn list_pages(&self) -> StoreResult<Vec<StaticPage>>;

    // --- change log ---

    /// Change-log rows after `after`, oldest first, at most `limit`.
    async fn changes_since(&self, after: i64, limit: usize) -> StoreResult<Vec<Change>>;
    /// The newest change-log position (0 when empty).
    async fn last_change_seq(&self) -> StoreResult<i64>;
    /// What a follower of the change log awaits between reads: woken when another process may
    /// have appended to it (PostgreSQL: a notification), else at its timeout (polling). The
    /// default only polls: a single-process store (SQLite) has its writers sync themselves.
    fn change_waiter(&self) -> ChangeWaiter {
        ChangeWaiter::polling()
    }
}

/// Wakes a follower of the change log ([`StoryStore::change_waiter`]). It never says what
/// changed: the follower reads the log from its own position, so a lost or doubled wake costs
/// only a read (the cursor stays gap-free whatever wakes it).
#[derive(Debug)]
pub struct ChangeWaiter {
    wakes: Option<tokio::sync::watch::Receiver<u64>>,
}

/// Why [`ChangeWaiter::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The log may have grown (a notification, or the notifier reconnected and may have
    /// missed some).
    Notified,
    /// The timeout passed: poll.
    TimedOut,
}

impl ChangeWaiter {
    /// A waiter that is never notified: every wait lasts its timeout.
    pub fn polling() -> Self {
        Self { wakes: None }
    }

    /// A waiter notified whenever the value behind `wakes` changes (a counter its notifier
    /// bumps). Notifications that came before the first wait wake it at once.
    pub fn notified_by(mut wakes: tokio::sync::watch::Receiver<u64>) -> Self {
        wakes.mark_changed();
        Self { wakes: Some(wakes) }
    }

    /// Whether a notifier stands behind this waiter (else it only polls).
    pub fn is_notified(&self) -> bool {
        self.wakes.is_some()
    }

    /// Waits for a notification (any number since the last wait count as one) or `timeout`.
    pub async fn wait(&mut self, timeout: std::time::Duration) -> Wake {
        let Some(rx) = self.wakes.as_mut() else {
            tokio::time::sleep(timeout).await;
            return Wake::TimedOut;
        };
        match tokio::time::timeout(timeout, rx.changed()).await {
            Ok(Ok(())) => {
                rx.borrow_and_update();
                Wake::Notified
            }
            // The notifier is gone (its store was dropped): poll from now on.
            Ok(Err(_)) => {
                self.wakes = None;
                Wake::TimedOut
            }
            Err(_) => Wake::TimedOut,
        }
    }
}

/// Counted views (trending and the audience pages).
#[async_trait]
pub trait AudienceStore: Send + Sync {
    // --- audience ---

    /// Adds a batch of counted views in one transaction (summing into existing rows).
    async fn add_views(&self, batch: &[ViewCount]) -> StoreResult<()>;
    /// Daily view counts from `since` on.
    async fn views_since(&self, since: NaiveDate) -> StoreResult<Vec<ViewCount>>;
}

/// Accounts, sessions and invitations.
#[async_trait]
pub trait AccountStore: Send + Sync {
    // --- accounts and sessions ---

    /// Makes an account. A taken e-mail address is a [`StoreError::Conflict`].
    async fn create_user(
        &self,
        email: &EmailAddress,
        name: &str,
        role: Role,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<User>;
    /// One account.
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    /// The account with this address and its password hash, for logging in.
    async fn find_login(&self, email: &EmailAddress) -> StoreResult<Option<(User, String)>>;
    /// Every account.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Changes an account's role and whether it is disabled. Disabling ends all its sessions in
    /// the same transaction.
    async fn update_user(
        &self,
        id: UserId,
        role: Role,
        disabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<User>;
    /// Replaces an account's password hash and ends all its sessions.
    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<()>;
    /// Saves a new session.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The session with this token hash and its account.
    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(SessionRecord, User)>>;
    /// Records activity on a session.
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends one session.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Saves an invitation under the hash of its token.
    async fn create_invitation(&self, token_hash: &str, invitation: &Invitation)
        -> StoreResult<()>;
    /// Uses up an invitation: returns it once if it exists and has not expired at `now`.
    async fn take_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Invitation>>;
}

/// The newsroom: writing, revisions, corrections, scheduled publishing, the audit log,
/// presence and autosave.
#[async_trait]
pub trait NewsroomStore: Send + Sync {
    // --- the newsroom ---

    /// Saves a new story written by `by`, with its first revision and an audit line.
    async fn create_story(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
    ) -> StoreResult<Story>;
    /// Saves a story if it is still at `expected_version` (else [`StoreError::Conflict`]), with a
    /// revision, a change-log row and, if given, an audit line, all in one transaction.
    async fn save_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
        by: Option<UserId>,
        audit: Option<&AuditInput>,
    ) -> StoreResult<Story>;
    /// Who created a story.
    async fn story_owner(&self, id: StoryId) -> StoreResult<Option<UserId>>;
    /// Stories for newsroom lists.
    async fn list_desk_stories(&self, query: &DeskQuery) -> StoreResult<Vec<DeskRow>>;
    /// A story's revisions, newest first.
    async fn list_revisions(&self, story: StoryId) -> StoreResult<Vec<RevisionMeta>>;
    /// One revision, whole.
    async fn get_revision(&self, id: i64) -> StoreResult<Revision>;
    /// Adds a correction and saves the story (its `updated_at` moved by the caller) in one
    /// transaction, if the story is still at `expected_version`.
    async fn add_correction(
        &self,
        story: StoryId,
        expected_version: i64,
        updated: &StoryInput,
        wrong: &str,
        right: &str,
        audit: &AuditInput,
    ) -> StoreResult<(Story, Correction)>;
    /// Corrections of one story, oldest first.
    async fn list_corrections(&self, story: StoryId) -> StoreResult<Vec<Correction>>;
    /// The newest corrections of the whole site.
    async fn recent_corrections(&self, limit: usize) -> StoreResult<Vec<Correction>>;
    /// Publishes every scheduled story whose time has come, once: an idempotent update, so
    /// whichever node runs it, each story is published exactly once. Returns the stories published.
    async fn publish_due(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoryId>>;
    /// (Scheduled publishing on the job table.) The earliest publication time of a scheduled
    /// story, if any: a cheap read that tells a node whether to queue the "publish due" job.
    async fn next_scheduled_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Writes one audit line on its own.
    async fn record_audit(&self, audit: &AuditInput) -> StoreResult<()>;
    /// Audit lines, newest first, older than `before` (an id) if given.
    async fn list_audit(&self, limit: usize, before: Option<i64>) -> StoreResult<Vec<AuditEntry>>;

    // --- presence and autosave ---

    /// Records that `user` has the story open at `at`.
    async fn touch_presence(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Who has had the story open since `since`, most recent first.
    async fn presence(
        &self,
        story: StoryId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(User, DateTime<Utc>)>>;
    /// Keeps one user's unsaved editor text for a story (replacing the previous one).
    async fn put_autosave(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
        form: &str,
    ) -> StoreResult<()>;
    /// One user's autosaved editor text for a story.
    async fn get_autosave(
        &self,
        story: StoryId,
        user: UserId,
    ) -> StoreResult<Option<(DateTime<Utc>, String)>>;
    /// Drops one user's autosaved text (after a real save).
    async fn delete_autosave(&self, story: StoryId, user: UserId) -> StoreResult<()>;
}

/// Logging in safely: second factor, half-done logins, the login throttle and password resets.
#[async_trait]
pub trait LoginStore: Send + Sync {
    // --- second factor and password resets ---

    /// Sets (or with `None` removes) an account's TOTP secret (base32).
    async fn set_totp(
        &self,
        id: UserId,
        secret: Option<&str>,
        audit: &AuditInput,
    ) -> StoreResult<()>;
    /// An account's TOTP secret, if it has one.
    async fn totp_secret(&self, id: UserId) -> StoreResult<Option<String>>;
    /// Records a used TOTP step; false if that step (or a later one) was already used, so a
    /// code cannot be replayed.
    async fn use_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool>;
    /// Saves a half-done login (password right, one-time code still to come) by its token's
    /// hash; expired ones are forgotten at the same time. In the database, so the code may be
    /// given to any node.
    async fn create_pending_login(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The account and expiry of a half-done login, if it exists.
    async fn pending_login(&self, token_hash: &str)
        -> StoreResult<Option<(UserId, DateTime<Utc>)>>;
    /// Ends a half-done login (it succeeded).
    async fn end_pending_login(&self, token_hash: &str) -> StoreResult<()>;
    /// Takes one attempt under throttle keys ("account:…", "address:…"), in one transaction and
    /// before the attempt is checked: allowed only if every key has fewer than its limit of
    /// attempts after `since`; an allowed attempt is recorded at `at` under every key, a refused
    /// one under none. Attempts older than `forget_before` are forgotten, for every key. Shared
    /// by all nodes, so N parallel takes allow at most the limit.
    async fn take_login_attempt(
        &self,
        keys: &[(&str, usize)],
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives back one attempt taken at `at` under a key (the attempt succeeded).
    async fn give_back_login_attempt(&self, key: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Attempts counted for a throttle key since `since`.
    async fn login_failures_since(&self, key: &str, since: DateTime<Utc>) -> StoreResult<usize>;
    /// Forgets a throttle key's attempts (after a successful login).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    /// Saves a password-reset token (by hash).
    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Uses up a password-reset token: the account, once, if not expired.
    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;
}

/// The wire desk: agency items, clusters, summaries and the lineage of stories built on them.
#[async_trait]
pub trait WireStore: Send + Sync {
    // --- the wire desk ---

    /// Stores an agency item in one transaction: new (in `cluster_id`, made if needed), a newer
    /// version replacing the stored one, a duplicate (exact re-send or older version: nothing
    /// changes), or a withdrawal, which flags every story built on the item.
    async fn store_wire_item(
        &self,
        item: &WireItem,
        content_hash: &str,
        cluster_id: ClusterId,
        tags: &WireTags,
        at: DateTime<Utc>,
    ) -> StoreResult<(WireItemId, WireOutcome)>;
    /// Stores many agency items in one transaction (each as [`WireStore::store_wire_item`]).
    async fn store_wire_items(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>>;
    // --- the wire desk and its jobs (auto-publish on the job table) ---

    /// Stores many agency items in one transaction (each as [`WireStore::store_wire_item`]) and, in
    /// the same transaction, queues `jobs_if_new[i]` when item `i` turns out new: a crash cannot
    /// keep an item and lose the job that follows it up (auto-publish). `jobs_if_new` is as long
    /// as `items` (missing entries queue nothing); de-duplication keys work as in
    /// [`JobStore::enqueue_jobs`].
    async fn store_wire_items_queueing(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        jobs_if_new: &[Option<NewJob>],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>>;
    /// Saves a story built on one agency item, with its lineage, in one transaction, unless a
    /// story built on that item exists already (then `None`): publishing an item twice is
    /// impossible however often its job runs.
    async fn create_story_from_wire_once(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        item: (WireItemId, i64),
    ) -> StoreResult<Option<Story>>;

    /// Replaces the summary drafts of many clusters in one transaction (accepted ones are kept).
    async fn set_summary_drafts(&self, drafts: &[(ClusterId, String)]) -> StoreResult<()>;
    /// The stored items with these (agency, agency id) keys; missing ones are left out.
    async fn find_wire_items(&self, keys: &[(String, String)]) -> StoreResult<Vec<StoredWireItem>>;
    /// The stored item with this agency and id.
    async fn find_wire_item(
        &self,
        agency: &str,
        agency_id: &str,
    ) -> StoreResult<Option<StoredWireItem>>;
    /// One stored item by its database id.
    async fn get_wire_item(&self, id: WireItemId) -> StoreResult<StoredWireItem>;
    /// Items received since `since` (to rebuild the clusterer at start).
    async fn recent_wire_items(&self, since: DateTime<Utc>) -> StoreResult<Vec<StoredWireItem>>;
    /// At most `limit` items stored after `after` (by stored id, in that order) and received
    /// since `since`: what a node's clusterer has not seen yet (items other nodes stored).
    async fn wire_items_after(
        &self,
        after: WireItemId,
        since: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StoredWireItem>>;
    /// The largest stored item id (0 when there are none).
    async fn last_wire_item_id(&self) -> StoreResult<WireItemId>;
    /// Clusters for the inbox: most urgent first, then newest.
    async fn list_clusters(&self, query: &WireQuery) -> StoreResult<Vec<WireCluster>>;
    /// One cluster and its items, oldest first.
    async fn get_cluster(&self, id: ClusterId) -> StoreResult<(WireCluster, Vec<StoredWireItem>)>;
    /// One cluster and its first `limit` items (bounded work for large clusters).
    async fn get_cluster_head(
        &self,
        id: ClusterId,
        limit: usize,
    ) -> StoreResult<(WireCluster, Vec<StoredWireItem>)>;
    /// Replaces a cluster's summary; `accepted` when an editor accepted or wrote it.
    async fn set_cluster_summary(
        &self,
        id: ClusterId,
        summary: &str,
        accepted: bool,
    ) -> StoreResult<()>;
    /// Replaces a cluster's suggested sector and editions (the desk corrects the tagger).
    async fn set_cluster_tags(
        &self,
        id: ClusterId,
        sector: Option<&str>,
        editions: &[String],
    ) -> StoreResult<()>;
    /// Saves a new story built on agency items, with its lineage, in one transaction.
    async fn create_story_from_wire(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        lineage: &[(WireItemId, i64)],
    ) -> StoreResult<Story>;
    /// The agency items (id, version) a story is built on.
    async fn lineage(&self, story: StoryId) -> StoreResult<Vec<(WireItemId, i64)>>;
    /// Unresolved flags on stories whose agency items were withdrawn or corrected.
    async fn lineage_flags(&self) -> StoreResult<Vec<LineageFlag>>;
    /// Marks a story's flags as dealt with.
    async fn resolve_lineage_flags(&self, story: StoryId, at: DateTime<Utc>) -> StoreResult<()>;
}

/// Leases: work that one node at a time does for all (the wire clusterer), with failover. A
/// lease is a named row with its holder and an expiry; the holder renews it, and another node
/// may take it only once it has expired. Times come from the caller's clock.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes or renews lease `name` for `holder` until `until`: true when it was free, expired
    /// at `now`, or already `holder`'s; false (nothing changes) when another holder's lease
    /// runs past `now`.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives lease `name` up if `holder` holds it (otherwise nothing changes).
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
    /// The holder of lease `name` and its expiry (an expired lease is still shown).
    async fn lease(&self, name: &str) -> StoreResult<Option<(String, DateTime<Utc>)>>;
}

/// Agency sources: polled feeds and push endpoints, with their health.
#[async_trait]
pub trait SourceStore: Send + Sync {
    // --- agency sources ---

    /// Adds a source (polled when it has a `url`; pushes authenticate with the token's hash).
    async fn create_source(
        &self,
        name: &str,
        url: Option<&str>,
        poll_minutes: i64,
        allow_loopback: bool,
        push_token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Source>;
    /// Every source with its health (items counted over the 24 hours before `now`).
    async fn list_sources(&self, now: DateTime<Utc>) -> StoreResult<Vec<Source>>;
    /// One source with its health.
    async fn get_source(&self, id: SourceId, now: DateTime<Utc>) -> StoreResult<Source>;
    /// Sets or (with `None`) clears a source's auto-publish rule.
    async fn set_auto_publish(&self, id: SourceId, rule: Option<&AutoPublish>) -> StoreResult<()>;
    /// The hash of a source's push token.
    async fn source_token_hash(&self, id: SourceId) -> StoreResult<Option<String>>;
    /// Changes a source's feed address, polling interval, whether it is on and its own CA
    /// certificates. A changed address forgets the old feed's validators and is polled at `at`.
    async fn update_source(
        &self,
        id: SourceId,
        url: Option<&str>,
        poll_minutes: i64,
        enabled: bool,
        ca_pem: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Replaces a source's push token (by its hash); the old token stops working at once.
    async fn set_source_token(&self, id: SourceId, push_token_hash: &str) -> StoreResult<()>;
    /// Items received from a source in each of the last `days` 24-hour periods before `now`,
    /// the most recent first.
    async fn source_items_per_day(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
        days: usize,
    ) -> StoreResult<Vec<i64>>;
    /// Records a poll or push: success (validators, failures reset) or an error (failures + 1).
    async fn record_poll(&self, id: SourceId, record: &PollRecord) -> StoreResult<()>;
}

/// Background jobs (the `jobs` table): queue, claim with a lease, finish, retry, prune.
#[async_trait]
pub trait JobStore: Send + Sync {
    // --- background jobs ---

    /// Queues jobs in one transaction. A job whose `dedupe` key is held by a queued or running
    /// job is not queued (`None` in its place).
    async fn enqueue_jobs(
        &self,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Option<JobId>>>;
    /// Claims up to `limit` jobs for `worker`, atomically: queued jobs due at `now`, and running
    /// jobs whose lease ran out (their worker died). Each claim counts an attempt and holds the
    /// job until `lease_until`. A job whose lease ran out after its last allowed attempt is
    /// moved to dead instead. Oldest due first.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Job>>;
    /// Extends a running job's lease; [`StoreError::NotFound`] if `worker` no longer holds it.
    async fn extend_job_lease(
        &self,
        id: JobId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Ends `worker`'s claim on a job with its outcome; [`StoreError::NotFound`] if the worker
    /// no longer holds it (its lease ran out and another took it), so the outcome is dropped.
    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// (Mail on the job table.) Replaces the payload of a job `worker` holds: a job that carried
    /// a secret (an invitation link) forgets it once its work is done. [`StoreError::NotFound`]
    /// if the worker no longer holds it.
    async fn redact_job_payload(&self, id: JobId, worker: &str, payload: &str) -> StoreResult<()>;
    /// Jobs in a state (all when `None`), newest first, at most `limit`.
    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> StoreResult<Vec<Job>>;
    /// One job.
    async fn get_job(&self, id: JobId) -> StoreResult<Job>;
    /// Puts a dead job back in the queue with its attempts reset; [`StoreError::NotFound`]
    /// unless it is dead.
    async fn retry_dead_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;
    /// How many jobs are in each state.
    async fn job_counts(&self) -> StoreResult<JobCounts>;
    /// Deletes done jobs finished before `before`, and dead ones beyond the newest `keep_dead`;
    /// returns how many were deleted.
    async fn prune_jobs(&self, before: DateTime<Utc>, keep_dead: usize) -> StoreResult<usize>;
}

/// The newsletter: subscribers (double opt-in, preferences, suppression) and digests with one
/// send row per (digest, subscriber), the record that makes each recipient's mail go once.
#[async_trait]
pub trait NewsletterStore: Send + Sync {
    /// The subscriber with this address, if any.
    async fn find_subscriber(&self, email: &EmailAddress) -> StoreResult<Option<Subscriber>>;
    /// One subscriber; [`StoreError::NotFound`] when there is none.
    async fn get_subscriber(&self, id: SubscriberId) -> StoreResult<Subscriber>;
    /// Records a request to subscribe, in one transaction: a new address becomes a pending
    /// subscriber; a pending or unsubscribed one becomes pending again with the new choices,
    /// nonce and consent; an active or suppressed one is left as it is. Returns the subscriber
    /// as stored afterwards.
    async fn request_subscription(
        &self,
        r: &SubscriptionRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber>;
    /// Notes that a confirmation was sent to a subscriber now.
    async fn mark_confirmation_sent(&self, id: SubscriberId, now: DateTime<Utc>)
        -> StoreResult<()>;
    /// A pending subscriber becomes active (the consent's time is `now`); any other is left as
    /// it is. Returns the subscriber afterwards.
    async fn confirm_subscriber(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber>;
    /// Replaces a subscriber's choices.
    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A pending or active subscriber is unsubscribed (`reason` kept); others are left.
    async fn unsubscribe(
        &self,
        id: SubscriberId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Suppresses an address (hard bounce, complaint): known or not, nothing is sent to it
    /// again and requests for it are not acted on. Returns whether it was new.
    async fn suppress_address(
        &self,
        email: &EmailAddress,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Adds subscribers who agreed elsewhere (an operator's import), active at once with
    /// `now` as their consent's time, in one transaction; addresses already known are left as
    /// they are. Returns how many were added.
    async fn import_subscribers(
        &self,
        list: &[SubscriptionRequest],
        now: DateTime<Utc>,
    ) -> StoreResult<usize>;
    /// Subscribers per state.
    async fn subscriber_counts(&self) -> StoreResult<SubscriberCounts>;
    /// Subscribers whose address contains `query` (all when empty), by id, after `after`, at
    /// most `limit`.
    async fn list_subscribers(
        &self,
        query: &str,
        after: Option<SubscriberId>,
        limit: usize,
    ) -> StoreResult<Vec<Subscriber>>;
    /// Makes a digest and its send rows (one per recipient chosen by its audience, now), in one
    /// transaction; a digest whose key exists is not made again. Returns its id and whether it
    /// was made now.
    async fn create_digest(
        &self,
        d: &DigestInput,
        now: DateTime<Utc>,
    ) -> StoreResult<(DigestId, bool)>;
    /// One digest with its counts.
    async fn get_digest(&self, id: DigestId) -> StoreResult<Digest>;
    /// The newest digests, at most `limit`.
    async fn list_digests(&self, limit: usize) -> StoreResult<Vec<Digest>>;
    /// Up to `limit` sends of a digest not yet done and due at `now`, by subscriber id.
    async fn due_sends(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<PendingSend>>;
    /// Records what became of one send (committed at once: after a `Sent` the mail is never
    /// sent again). A send already done is left as it is.
    async fn record_send(
        &self,
        id: DigestId,
        subscriber: SubscriberId,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// When the earliest pending send of a digest is due, if any is pending; with none
    /// pending, marks the digest finished.
    async fn next_send_at(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
}

/// API tokens (the `api_tokens` table): only the SHA-256 of each secret is kept.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    // --- API tokens ---

    /// Stores a new token. Two tokens with one hash is a [`Conflict::Constraint`].
    async fn create_api_token(&self, input: &ApiTokenInput) -> StoreResult<ApiToken>;
    /// Every token, newest first (revoked and expired ones too).
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// The token whose secret hashes to `hash`, with the stored hash (for a constant-time check).
    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, String)>>;
    /// Notes a use of the token at `at`.
    async fn touch_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revokes a token at `at` (a token revoked already keeps its first revocation time).
    /// [`StoreError::NotFound`] when there is no such token.
    async fn revoke_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()>;
}

/// What an item imported from another system became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// A story.
    Story(StoryId),
    /// A static page, by slug.
    Page(Slug),
}

/// An item of another system being imported: its key there and its old addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// The system ("wordpress", "ghost").
    pub source: String,
    /// The item's id there.
    pub source_id: String,
    /// Its old paths on the old site (`/2008/09/03/a-post/`), each to redirect to the new page.
    pub old_paths: Vec<String>,
}

/// Imports from other systems (WordPress, Ghost): which items were imported (so a second run
/// changes nothing) and the old addresses that redirect to them.
#[async_trait]
pub trait ImportStore {
    /// What the item `source_id` of `source` became, if it was imported.
    async fn imported(&self, source: &str, source_id: &str) -> StoreResult<Option<ImportTarget>>;
    /// Makes a story of an imported item in one transaction: the story with its revision,
    /// change-log row and audit line, the item's source id, and its old paths (a path already
    /// taken keeps its first target).
    async fn create_imported_story(
        &self,
        record: &ImportRecord,
        story: &StoryInput,
        by: Option<UserId>,
        audit: &AuditInput,
    ) -> StoreResult<Story>;
    /// Remembers an item imported as something other than a story (a static page), with its
    /// old paths.
    async fn record_import(&self, record: &ImportRecord, target: &ImportTarget) -> StoreResult<()>;
    /// Where the old path `path` leads, if it is one (exact match).
    async fn find_redirect(&self, path: &str) -> StoreResult<Option<ImportTarget>>;
    /// How many items of `source` were imported.
    async fn count_imported(&self, source: &str) -> StoreResult<i64>;
    /// The newsroom account of an imported author, linked to their byline, in one
    /// transaction: the account with `email` if there is one (its byline set to `author` when
    /// it has none; one it has is kept), else a new one (the role author, the password hash
    /// `password_hash` that no password matches, disabled, writing under `author`) with
    /// `audit`. Returns the account and whether it was made.
    async fn import_account(
        &self,
        email: &EmailAddress,
        name: &str,
        author: AuthorId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<(User, bool)>;
}

/// Readers' messages to the desk (the feedback desk): a moderated queue with the editors'
/// replies kept beside them.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    // --- the feedback desk ---

    /// Stores a reader's message as new, and in the same transaction queues `notify` (the
    /// desk's e-mail; its payload gets `"feedback": <id>` added when it is a JSON object).
    async fn add_feedback(
        &self,
        message: &NewFeedback,
        at: DateTime<Utc>,
        notify: Option<&NewJob>,
    ) -> StoreResult<FeedbackId>;
    /// Messages, newest first, in one status (all when `None`), at most `limit`.
    async fn list_feedback(
        &self,
        status: Option<FeedbackStatus>,
        limit: usize,
    ) -> StoreResult<Vec<FeedbackMessage>>;
    /// One message.
    async fn get_feedback(&self, id: FeedbackId) -> StoreResult<FeedbackMessage>;
    /// Moves a message to another status.
    async fn set_feedback_status(&self, id: FeedbackId, status: FeedbackStatus) -> StoreResult<()>;
    /// Keeps an editor's reply with the message, marks it answered, and queues `mail` (the
    /// reply's e-mail) in the same transaction.
    async fn reply_feedback(
        &self,
        id: FeedbackId,
        reply: &FeedbackReply,
        mail: &NewJob,
        audit: &AuditInput,
    ) -> StoreResult<()>;
    /// How many messages are in each status.
    async fn feedback_counts(&self) -> StoreResult<FeedbackCounts>;
}

/// Outgoing webhooks: registered URLs, and each event's delivery to each of them with the
/// last answer.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    // --- webhooks ---

    /// Registers a hook with its signing secret.
    async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEvent],
        secret: &str,
        at: DateTime<Utc>,
        audit: &AuditInput,
    ) -> StoreResult<Webhook>;
    /// Every hook, oldest first.
    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// One hook.
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Webhook>;
    /// A hook's signing secret.
    async fn webhook_secret(&self, id: WebhookId) -> StoreResult<String>;
    /// Turns a hook's deliveries on or off.
    async fn set_webhook_enabled(
        &self,
        id: WebhookId,
        enabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<()>;
    /// Removes a hook and its deliveries.
    async fn delete_webhook(&self, id: WebhookId, audit: &AuditInput) -> StoreResult<()>;
    /// Records one event for each of `hooks` (a delivery per hook, keyed by the event's own
    /// id `event_key`, so the same event is never recorded twice for a hook) and queues
    /// `jobs[i]` for `hooks[i]`, in one transaction; a delivery already recorded queues
    /// nothing. Delivered or failed deliveries of a hook beyond its newest `keep` are deleted.
    /// Returns how many deliveries were new.
    #[allow(clippy::too_many_arguments)]
    async fn queue_webhook_event(
        &self,
        event_key: &str,
        event: &str,
        body: &str,
        hooks: &[WebhookId],
        jobs: &[NewJob],
        at: DateTime<Utc>,
        keep: usize,
    ) -> StoreResult<usize>;
    /// The delivery of event `event_key` to `hook`.
    async fn get_webhook_delivery(
        &self,
        hook: WebhookId,
        event_key: &str,
    ) -> StoreResult<WebhookDelivery>;
    /// Records an attempt of a delivery: when, the status answered (0: none), an excerpt of
    /// the answer or the error, and the state it leaves the delivery in.
    async fn record_webhook_attempt(
        &self,
        delivery: i64,
        at: DateTime<Utc>,
        status: i64,
        excerpt: &str,
        state: DeliveryState,
    ) -> StoreResult<()>;
    /// A hook's deliveries, newest first, at most `limit`.
    async fn list_webhook_deliveries(
        &self,
        hook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDelivery>>;
}

/// Secrets every node of one site shares (the key of the feedback form's signed time, of the
/// newsletter's links), made once by whichever node starts first.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret called `name`. When there is none yet, `candidate` (a fresh random value the
    /// caller made) is stored, atomically: nodes starting together each offer theirs and all get
    /// the one stored first. Never changes once stored.
    async fn site_secret(&self, name: &str, candidate: &str) -> StoreResult<String>;
}
