//! [`Store`] on PostgreSQL: several newsdesk nodes on one database.
//!
//! `tokio-postgres` with a `deadpool-postgres` pool (see ARCHITECTURE.md for why not `sqlx`).
//! Every write is one transaction on one pooled connection, at READ COMMITTED; where the SQLite
//! store relies on its single writer, this one takes the row (`FOR NO KEY UPDATE`: it does not
//! block the foreign-key checks of other writers, so it cannot deadlock with them) or a
//! transaction-level advisory lock, so the semantics are the same with many writers on many
//! nodes. Times are stored as Unix milliseconds (BIGINT), as on SQLite.
//!
//! The change log is gap-free: `changes.seq` is `max + 1`, taken under an advisory lock that is
//! held until the transaction ends, so a reader never sees seq N+1 before N is committed (and a
//! rolled-back write leaves no hole).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use newsdesk_domain::*;
use newsdesk_store::prelude::*;
use newsdesk_store::{ArticleRead, Conflict, LineageLink, StoreError, StoreResult};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, GenericClient, Row, Transaction};

mod api_tokens;
mod copy;
mod feedback;
mod imports;
mod jobs;
mod leases;
mod listen;
mod newsletter;
mod newsroom;
mod secrets;
mod sources;
mod webhooks;
mod wire;

/// Ordered migrations; the `schema_migrations` table records which ran.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("newsletter.sql"),
    include_str!("api_tokens.sql"),
    include_str!("imports.sql"),
    include_str!("feedback.sql"),
    include_str!("secrets.sql"),
    include_str!("leases.sql"),
    include_str!("story_lists.sql"),
];

/// The pool's size when the configuration does not say.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// Purposes of the two-key advisory locks (the first key is the schema's hash).
const LOCK_MIGRATIONS: i32 = 0;
const LOCK_CHANGES: i32 = 1;

type Param<'a> = &'a (dyn ToSql + Sync);

/// The PostgreSQL store.
pub struct PgStore {
    pool: deadpool_postgres::Pool,
    clock: Arc<dyn Clock>,
    /// The hash of the schema this store lives in: the first key of its advisory locks, so
    /// stores in other schemas of the same database do not wait on each other.
    ns: i32,
    /// Where the listening connection connects (the pool's settings).
    config: tokio_postgres::Config,
    /// The connection listening for change-log notifications, started by the first
    /// [`StoryStore::change_waiter`].
    listener: std::sync::OnceLock<listen::Listener>,
}

/// Maps a database error to the kinds the use cases act on (by SQLSTATE, never by text).
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        return StoreError::other(e);
    };
    let code = db.code();
    if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        return StoreError::Busy;
    }
    if *code == SqlState::UNIQUE_VIOLATION {
        match db.constraint() {
            Some("users_email_key") => return StoreError::Conflict(Conflict::EmailTaken),
            Some("stories_slug_key") | Some("slug_redirects_pkey") => {
                return StoreError::Conflict(Conflict::SlugTaken(key_value(db.detail())))
            }
            Some("jobs_dedupe") => {
                return StoreError::Conflict(Conflict::JobKeyLive(key_value(db.detail())))
            }
            _ => {}
        }
    }
    if code.code().starts_with("23") {
        return StoreError::Conflict(Conflict::Constraint(format!(
            "{} ({})",
            db.message(),
            db.constraint().unwrap_or("")
        )));
    }
    StoreError::other(e)
}

/// The value in a unique violation's detail, `Key (slug)=(the-value) already exists.`
fn key_value(detail: Option<&str>) -> String {
    detail
        .and_then(|d| d.split_once(")=("))
        .and_then(|(_, rest)| rest.rsplit_once(") already exists"))
        .map(|(v, _)| v.to_owned())
        .unwrap_or_default()
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        deadpool_postgres::PoolError::Timeout(_) => StoreError::Busy,
        other => StoreError::other(other),
    }
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(v)
        .single()
        .ok_or_else(|| StoreError::msg(format!("bad timestamp {v}")))
}

pub(crate) fn opt_ms(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

fn slug_col(s: String) -> StoreResult<Slug> {
    Slug::parse(&s).map_err(|e| StoreError::msg(format!("bad slug {s:?} in database: {e}")))
}

/// One column of a row, with a type mismatch as an error (not a panic).
pub(crate) fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i).map_err(pg_err)
}

pub(crate) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    p: &[Param<'_>],
) -> StoreResult<Vec<Row>> {
    c.query(sql, p).await.map_err(pg_err)
}

/// Runs a query: prepared each time on a plain client or transaction (two round trips), or, on
/// a transaction of a pooled connection ([`deadpool_postgres::Transaction`]), from that
/// connection's cache of prepared statements (one). Only fixed SQL goes to that cache (the
/// article read of a page miss, [`StoryStore::get_article`], one statement, and its fallback
/// for a row without its lists), so it holds those few statements per connection and cannot
/// grow with what is asked.
pub(crate) trait Rows: Sync {
    fn rows(
        &self,
        sql: &str,
        p: &[Param<'_>],
    ) -> impl std::future::Future<Output = StoreResult<Vec<Row>>> + Send;
}

impl Rows for Client {
    async fn rows(&self, sql: &str, p: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        self.query(sql, p).await.map_err(pg_err)
    }
}

impl Rows for Transaction<'_> {
    async fn rows(&self, sql: &str, p: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        self.query(sql, p).await.map_err(pg_err)
    }
}

impl Rows for deadpool_postgres::Transaction<'_> {
    async fn rows(&self, sql: &str, p: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let statement = self.prepare_cached(sql).await.map_err(pg_err)?;
        self.query(&statement, p).await.map_err(pg_err)
    }
}

pub(crate) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    p: &[Param<'_>],
) -> StoreResult<Option<Row>> {
    c.query_opt(sql, p).await.map_err(pg_err)
}

/// Exactly one row, or [`StoreError::NotFound`].
pub(crate) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    p: &[Param<'_>],
) -> StoreResult<Row> {
    query_opt(c, sql, p).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn exec<C: GenericClient>(c: &C, sql: &str, p: &[Param<'_>]) -> StoreResult<u64> {
    c.execute(sql, p).await.map_err(pg_err)
}

/// Runs an UPDATE meant to change exactly one row; none changed means there is no such row.
async fn update_one<C: GenericClient>(c: &C, sql: &str, p: &[Param<'_>]) -> StoreResult<()> {
    match exec(c, sql, p).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Opens a transaction on a pooled connection.
async fn begin(c: &mut deadpool_postgres::Object) -> StoreResult<Transaction<'_>> {
    let client: &mut Client = c;
    client.transaction().await.map_err(pg_err)
}

async fn commit(tx: Transaction<'_>) -> StoreResult<()> {
    tx.commit().await.map_err(pg_err)
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`, or key=value form) with at most
    /// `pool_size` connections, and applies pending migrations (under an advisory lock, so nodes
    /// starting together do not race).
    pub async fn connect(url: &str, pool_size: usize) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::msg(format!("bad database_url: {e}")))?;
        Self::from_config(config, pool_size).await
    }

    /// As [`PgStore::connect`], from a parsed configuration.
    pub async fn from_config(
        config: tokio_postgres::Config,
        pool_size: usize,
    ) -> StoreResult<Self> {
        let manager = deadpool_postgres::Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(StoreError::other)?;
        let mut c = pool.get().await.map_err(pool_err)?;
        let ns: i32 = {
            let row = query_one(&**c, "SELECT hashtext(current_schema())", &[]).await?;
            get(&row, 0)?
        };
        migrate(&mut c, ns).await?;
        drop(c);
        Ok(Self {
            pool,
            clock: Arc::new(SystemClock),
            ns,
            config,
            listener: std::sync::OnceLock::new(),
        })
    }

    /// How many statements one pooled connection keeps prepared (see [`Rows`]): for tests
    /// and diagnostics.
    pub async fn prepared_statements(&self) -> StoreResult<usize> {
        Ok(self.conn().await?.statement_cache.size())
    }

    /// The article read from the list tables, in one transaction (one snapshot): for a story
    /// row without its `lists` (see `get_article`).
    async fn article_from_tables(&self, id: StoryId) -> StoreResult<ArticleRead> {
        let mut c = self.conn().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let story = load_story(&tx, id.0).await?.ok_or(StoreError::NotFound)?;
        let corrections = tx
            .rows(
                &format!(
                    "SELECT {} FROM corrections WHERE story_id = $1 ORDER BY at, id",
                    newsroom::CORRECTION_COLS
                ),
                &[&id.0],
            )
            .await?
            .iter()
            .map(newsroom::correction)
            .collect::<StoreResult<Vec<_>>>()?;
        // The first link is taken from the item's JSON by the database, not by parsing the
        // whole agency item (its body) here.
        let lineage = tx
            .rows(
                "SELECT l.item_id, l.version, (w.item::jsonb -> 'links') ->> 0 \
             FROM story_lineage l JOIN wire_items w ON w.id = l.item_id \
             WHERE l.story_id = $1 ORDER BY l.item_id",
                &[&id.0],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(LineageLink {
                    item: WireItemId(get(r, 0)?),
                    version: get(r, 1)?,
                    link: get(r, 2)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await.map_err(pg_err)?;
        Ok(ArticleRead {
            story,
            corrections,
            lineage,
        })
    }

    /// This store with its time (the change log's instants) from `clock` instead of the system
    /// clock (tests that set the time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Now, from the store's clock, as stored.
    fn now_ms(&self) -> i64 {
        ms(self.clock.now())
    }

    async fn conn(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Appends a change-log row. The advisory lock is held until the transaction ends, so
    /// change-log writers commit one after another and `seq` becomes visible in order.
    async fn log_change(
        &self,
        tx: &Transaction<'_>,
        at: i64,
        entity: ChangeEntity,
        id: i64,
        key: &str,
    ) -> StoreResult<()> {
        log_change(tx, self.ns, at, entity, id, key).await
    }
}

pub(crate) async fn log_change(
    tx: &Transaction<'_>,
    ns: i32,
    at: i64,
    entity: ChangeEntity,
    id: i64,
    key: &str,
) -> StoreResult<()> {
    // The notification goes out when the transaction commits (never if it rolls back), once
    // per transaction: the payload, this schema's hash, is the same for every row.
    exec(
        tx,
        "SELECT pg_advisory_xact_lock($1, $2), pg_notify($3, $4)",
        &[&ns, &LOCK_CHANGES, &listen::CHANNEL, &ns.to_string()],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO changes (seq, at, entity, entity_id, key) \
         SELECT coalesce(max(seq), 0) + 1, $1, $2, $3, $4 FROM changes",
        &[&at, &entity.as_str(), &id, &key],
    )
    .await?;
    Ok(())
}

async fn migrate(c: &mut deadpool_postgres::Object, ns: i32) -> StoreResult<()> {
    let tx = begin(c).await?;
    exec(
        &tx,
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&ns, &LOCK_MIGRATIONS],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(pg_err)?;
    let done: i64 = get(
        &query_one(
            &tx,
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?,
        0,
    )?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        tx.batch_execute(sql).await.map_err(pg_err)?;
        let v = i as i64 + 1;
        exec(
            &tx,
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&v],
        )
        .await?;
        tracing::info!(migration = v, "applied PostgreSQL migration");
    }
    commit(tx).await
}

async fn slug_taken_by_other<C: GenericClient>(
    tx: &C,
    slug: &Slug,
    me: Option<i64>,
) -> StoreResult<bool> {
    let owner = query_opt(
        tx,
        "SELECT story_id FROM slug_redirects WHERE old_slug = $1 \
         UNION ALL SELECT id FROM stories WHERE slug = $1 LIMIT 1",
        &[&slug.as_str()],
    )
    .await?;
    let owner: Option<i64> = owner.map(|r| get(&r, 0)).transpose()?;
    Ok(matches!(owner, Some(o) if Some(o) != me))
}

async fn write_story_lists(tx: &Transaction<'_>, id: i64, s: &StoryInput) -> StoreResult<()> {
    for table in ["story_editions", "story_authors", "story_tags"] {
        exec(
            tx,
            &format!("DELETE FROM {table} WHERE story_id = $1"),
            &[&id],
        )
        .await?;
    }
    for (i, p) in s.placements.iter().enumerate() {
        exec(
            tx,
            "INSERT INTO story_editions (story_id, edition_id, rank, position) VALUES ($1,$2,$3,$4)",
            &[&id, &p.edition_id.0, &p.rank.map(i64::from), &(i as i64)],
        )
        .await?;
    }
    for (i, a) in s.author_ids.iter().enumerate() {
        exec(
            tx,
            "INSERT INTO story_authors (story_id, author_id, position) VALUES ($1,$2,$3)",
            &[&id, &a.0, &(i as i64)],
        )
        .await?;
    }
    for (i, t) in s.tag_ids.iter().enumerate() {
        exec(
            tx,
            "INSERT INTO story_tags (story_id, tag_id, position) VALUES ($1,$2,$3)",
            &[&id, &t.0, &(i as i64)],
        )
        .await?;
    }
    // The same lists in the story's row, for the article read (see `ARTICLE_SQL`).
    exec(
        tx,
        "UPDATE stories SET lists = $2 WHERE id = $1",
        &[
            &id,
            &newsdesk_store::lists::encode(&s.placements, &s.author_ids, &s.tag_ids),
        ],
    )
    .await?;
    Ok(())
}

/// The values of a story's columns, in the order both the insert and the update name them
/// (slug … video), so a new column is added in one place.
struct StoryValues {
    slug: String,
    kind: &'static str,
    status: &'static str,
    headline: String,
    sector: i64,
    edition: i64,
    desk: Option<i64>,
    hero: Option<i64>,
    provenance: &'static str,
    created: i64,
    updated: i64,
    published: Option<i64>,
    embargo: Option<i64>,
}

impl StoryValues {
    fn of(s: &StoryInput) -> Self {
        Self {
            slug: s.slug.as_str().to_owned(),
            kind: s.kind.as_str(),
            status: s.status.as_str(),
            headline: s.headline.as_str().to_owned(),
            sector: s.sector_id.0,
            edition: s.primary_edition_id.0,
            desk: s.desk_id.map(|d| d.0),
            hero: s.hero_image_id.map(|d| d.0),
            provenance: s.provenance.as_str(),
            created: ms(s.created_at),
            updated: ms(s.updated_at),
            published: s.published_at.map(ms),
            embargo: s.embargo_until.map(ms),
        }
    }

    fn params<'a>(&'a self, s: &'a StoryInput) -> Vec<Param<'a>> {
        vec![
            &self.slug,
            &self.kind,
            &self.status,
            &self.headline,
            &s.summary,
            &s.body_md,
            &s.body_html,
            &self.sector,
            &s.region,
            &self.edition,
            &self.desk,
            &self.hero,
            &self.provenance,
            &s.source,
            &self.created,
            &self.updated,
            &self.published,
            &self.embargo,
            &s.video,
        ]
    }
}

/// Inserts a story; `revision` keeps its first revision (bulk imports skip it).
async fn insert_story_by(
    tx: &Transaction<'_>,
    ns: i32,
    s: &StoryInput,
    by: Option<UserId>,
    revision: bool,
    at: i64,
) -> StoreResult<i64> {
    if slug_taken_by_other(tx, &s.slug, None).await? {
        return Err(StoreError::Conflict(Conflict::SlugTaken(
            s.slug.to_string(),
        )));
    }
    let v = StoryValues::of(s);
    let mut p = v.params(s);
    let by_id = by.map(|u| u.0);
    p.push(&by_id);
    let row = query_one(
        tx,
        "INSERT INTO stories (version, slug, kind, status, headline, summary, body_md, body_html, \
         sector_id, region, primary_edition_id, desk_id, hero_image_id, provenance, source, \
         created_at, updated_at, published_at, embargo_until, video, created_by) \
         VALUES (1,$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) \
         RETURNING id",
        &p,
    )
    .await
    .map_err(|e| slug_conflict(e, &s.slug))?;
    let id: i64 = get(&row, 0)?;
    write_story_lists(tx, id, s).await?;
    if revision {
        newsroom::write_revision(tx, id, 1, by, s).await?;
    }
    log_change(tx, ns, at, ChangeEntity::Story, id, "").await?;
    Ok(id)
}

/// A slug taken meanwhile by a write on another connection is the same conflict as one taken
/// before.
fn slug_conflict(e: StoreError, slug: &Slug) -> StoreError {
    match e {
        StoreError::Conflict(Conflict::SlugTaken(_)) => {
            StoreError::Conflict(Conflict::SlugTaken(slug.to_string()))
        }
        other => other,
    }
}

/// Columns of a card, in the order [`card_from_row`] reads them.
const CARD_COLS: &str = "id, version, slug, kind, status, headline, summary, sector_id, region, \
    primary_edition_id, desk_id, hero_image_id, provenance, updated_at, published_at, embargo_until, \
    video";

fn card_from_row(r: &Row) -> StoreResult<RawCard> {
    Ok(RawCard {
        id: get(r, 0)?,
        version: get(r, 1)?,
        slug: get(r, 2)?,
        kind: get(r, 3)?,
        status: get(r, 4)?,
        headline: get(r, 5)?,
        summary: get(r, 6)?,
        sector_id: get(r, 7)?,
        region: get(r, 8)?,
        primary_edition_id: get(r, 9)?,
        desk_id: get(r, 10)?,
        hero_image_id: get(r, 11)?,
        provenance: get(r, 12)?,
        updated_at: get(r, 13)?,
        published_at: get(r, 14)?,
        embargo_until: get(r, 15)?,
        video: get(r, 16)?,
    })
}

/// A card as it comes out of SQL, before its text columns are parsed into domain types.
struct RawCard {
    id: i64,
    version: i64,
    slug: String,
    kind: String,
    status: String,
    headline: String,
    summary: String,
    sector_id: i64,
    region: String,
    primary_edition_id: i64,
    desk_id: Option<i64>,
    hero_image_id: Option<i64>,
    provenance: String,
    updated_at: i64,
    published_at: Option<i64>,
    embargo_until: Option<i64>,
    video: Option<String>,
}

#[derive(Default)]
struct Lists {
    placements: HashMap<i64, Vec<Placement>>,
    authors: HashMap<i64, Vec<AuthorId>>,
    tags: HashMap<i64, Vec<TagId>>,
}

/// Loads the edition, author and tag lists of the stories selected by `filter` (a WHERE on `s`).
async fn load_lists<C: Rows>(c: &C, filter: &str, args: &[Param<'_>]) -> StoreResult<Lists> {
    let mut lists = Lists::default();
    let q = |table: &str, cols: &str| {
        format!(
            "SELECT x.story_id, {cols} FROM {table} x JOIN stories s ON s.id = x.story_id \
             WHERE {filter} ORDER BY x.story_id, x.position"
        )
    };
    for r in c
        .rows(&q("story_editions", "x.edition_id, x.rank"), args)
        .await?
    {
        let rank: Option<i64> = get(&r, 2)?;
        lists
            .placements
            .entry(get(&r, 0)?)
            .or_default()
            .push(Placement {
                edition_id: EditionId(get(&r, 1)?),
                rank: rank.and_then(|v| i32::try_from(v).ok()),
            });
    }
    for r in c.rows(&q("story_authors", "x.author_id"), args).await? {
        lists
            .authors
            .entry(get(&r, 0)?)
            .or_default()
            .push(AuthorId(get(&r, 1)?));
    }
    for r in c.rows(&q("story_tags", "x.tag_id"), args).await? {
        lists
            .tags
            .entry(get(&r, 0)?)
            .or_default()
            .push(TagId(get(&r, 1)?));
    }
    Ok(lists)
}

fn finish_card(raw: RawCard, lists: &mut Lists) -> StoreResult<StoryCard> {
    // The lists were grown by pushes: keep no spare room (the read model holds every card).
    fn exact<T>(mut v: Vec<T>) -> Vec<T> {
        v.shrink_to_fit();
        v
    }
    let placements = exact(lists.placements.remove(&raw.id).unwrap_or_default());
    let authors = exact(lists.authors.remove(&raw.id).unwrap_or_default());
    let tags = exact(lists.tags.remove(&raw.id).unwrap_or_default());
    card_with_lists(raw, placements, authors, tags)
}

/// A card of its row's columns and its three lists.
fn card_with_lists(
    raw: RawCard,
    placements: Vec<Placement>,
    author_ids: Vec<AuthorId>,
    tag_ids: Vec<TagId>,
) -> StoreResult<StoryCard> {
    Ok(StoryCard {
        id: StoryId(raw.id),
        version: raw.version,
        slug: slug_col(raw.slug)?,
        kind: Kind::parse(&raw.kind)
            .ok_or_else(|| StoreError::msg(format!("bad kind {}", raw.kind)))?,
        status: StoryStatus::parse(&raw.status)
            .ok_or_else(|| StoreError::msg(format!("bad status {}", raw.status)))?,
        headline: Headline::parse(&raw.headline)
            .map_err(|e| StoreError::msg(format!("bad headline in story {}: {e}", raw.id)))?,
        summary: raw.summary,
        sector_id: SectorId(raw.sector_id),
        region: raw.region,
        primary_edition_id: EditionId(raw.primary_edition_id),
        placements,
        desk_id: raw.desk_id.map(DeskId),
        author_ids,
        tag_ids,
        hero_image_id: raw.hero_image_id.map(ImageId),
        provenance: Provenance::parse(&raw.provenance)
            .ok_or_else(|| StoreError::msg(format!("bad provenance {}", raw.provenance)))?,
        updated_at: from_ms(raw.updated_at)?,
        published_at: opt_ms(raw.published_at)?,
        embargo_until: opt_ms(raw.embargo_until)?,
        video: raw.video,
    })
}

async fn load_story<C: Rows>(c: &C, id: i64) -> StoreResult<Option<Story>> {
    let Some(r) = c
        .rows(
            &format!(
                "SELECT {CARD_COLS}, body_md, body_html, source, created_at FROM stories WHERE id = $1"
            ),
            &[&id],
        )
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let raw = card_from_row(&r)?;
    let body_md: String = get(&r, 17)?;
    let body_html: String = get(&r, 18)?;
    let source: Option<String> = get(&r, 19)?;
    let created_at: i64 = get(&r, 20)?;
    let mut lists = load_lists(c, "s.id = $1", &[&id]).await?;
    let card = finish_card(raw, &mut lists)?;
    story_of(card, body_md, body_html, source, created_at).map(Some)
}

/// A whole story: its card and the columns only the story has.
fn story_of(
    card: StoryCard,
    body_md: String,
    body_html: String,
    source: Option<String>,
    created_at: i64,
) -> StoreResult<Story> {
    Ok(Story {
        id: card.id,
        version: card.version,
        input: StoryInput {
            slug: card.slug,
            kind: card.kind,
            status: card.status,
            headline: card.headline,
            summary: card.summary,
            body_md,
            body_html,
            sector_id: card.sector_id,
            region: card.region,
            primary_edition_id: card.primary_edition_id,
            placements: card.placements,
            desk_id: card.desk_id,
            author_ids: card.author_ids,
            tag_ids: card.tag_ids,
            hero_image_id: card.hero_image_id,
            video: card.video,
            provenance: card.provenance,
            source,
            created_at: from_ms(created_at)?,
            updated_at: card.updated_at,
            published_at: card.published_at,
            embargo_until: card.embargo_until,
        },
    })
}

/// The article read of a page miss ([`StoryStore::get_article`]) as one statement: the story's
/// row with its lists (kept in the row by every save, `newsdesk_store::lists`), its corrections
/// and its lineage's first links (JSON arrays, `[]` when there are none). The first link is
/// taken from the item's JSON by the database, not by parsing the whole agency item here.
static ARTICLE_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CARD_COLS}, body_md, body_html, source, created_at, lists, \
         (SELECT coalesce(json_agg(json_build_array(c.id, c.wrong, c.right_text, c.at, c.by_user) \
                                   ORDER BY c.at, c.id)::text, '[]') \
          FROM corrections c WHERE c.story_id = s.id), \
         (SELECT coalesce(json_agg(json_build_array(l.item_id, l.version, \
                                                    (w.item::jsonb -> 'links') ->> 0) \
                                   ORDER BY l.item_id)::text, '[]') \
          FROM story_lineage l JOIN wire_items w ON w.id = l.item_id WHERE l.story_id = s.id) \
         FROM stories s WHERE s.id = $1"
    )
});

const IMAGE_COLS: &str = "id, key, ext, alt, caption, credit, width, height, widths";

fn image_from_row(r: &Row) -> StoreResult<Image> {
    let widths: String = get(r, 8)?;
    let dim = |i: usize| -> StoreResult<u32> {
        let v: i64 = get(r, i)?;
        u32::try_from(v).map_err(|_| StoreError::msg(format!("bad image size {v}")))
    };
    Ok(Image {
        id: ImageId(get(r, 0)?),
        key: get(r, 1)?,
        ext: get(r, 2)?,
        alt: get(r, 3)?,
        caption: get(r, 4)?,
        credit: get(r, 5)?,
        width: dim(6)?,
        height: dim(7)?,
        widths: widths.split(',').filter_map(|w| w.parse().ok()).collect(),
    })
}

const PAGE_COLS: &str = "slug, title, body_md, body_html, position, updated_at";

fn page_from_row(r: &Row) -> StoreResult<StaticPage> {
    let position: i64 = get(r, 4)?;
    Ok(StaticPage {
        slug: slug_col(get(r, 0)?)?,
        title: get(r, 1)?,
        body_md: get(r, 2)?,
        body_html: get(r, 3)?,
        position: i32::try_from(position).unwrap_or(i32::MAX),
        updated_at: from_ms(get(r, 5)?)?,
    })
}

fn position(r: &Row, i: usize) -> StoreResult<i32> {
    let v: i64 = get(r, i)?;
    Ok(i32::try_from(v).unwrap_or(i32::MAX))
}

/// Replaces a story if it is at `expected_version` (the row locked, so two nodes saving from
/// one version cannot both win); keeps old slugs as redirects; writes a revision and a
/// change-log row.
async fn update_story_tx(
    tx: &Transaction<'_>,
    ns: i32,
    id: StoryId,
    expected_version: i64,
    input: StoryInput,
    by: Option<UserId>,
    at: i64,
) -> StoreResult<Story> {
    let current = query_opt(
        tx,
        "SELECT version, slug FROM stories WHERE id = $1 FOR NO KEY UPDATE",
        &[&id.0],
    )
    .await?;
    let Some(current) = current else {
        return Err(StoreError::NotFound);
    };
    let version: i64 = get(&current, 0)?;
    let old_slug: String = get(&current, 1)?;
    if version != expected_version {
        return Err(StoreError::Conflict(Conflict::StaleVersion {
            expected: expected_version,
            actual: version,
        }));
    }
    if old_slug != input.slug.as_str() {
        if slug_taken_by_other(tx, &input.slug, Some(id.0)).await? {
            return Err(StoreError::Conflict(Conflict::SlugTaken(
                input.slug.to_string(),
            )));
        }
        // Coming back to an earlier slug: it is current again, not a redirect.
        exec(
            tx,
            "DELETE FROM slug_redirects WHERE old_slug = $1",
            &[&input.slug.as_str()],
        )
        .await?;
        exec(
            tx,
            "INSERT INTO slug_redirects (old_slug, story_id) VALUES ($1, $2)",
            &[&old_slug, &id.0],
        )
        .await
        .map_err(|e| slug_conflict(e, &input.slug))?;
    }
    let s = &input;
    let v = StoryValues::of(s);
    let mut p = v.params(s);
    p.push(&id.0);
    exec(
        tx,
        "UPDATE stories SET version = version + 1, slug=$1, kind=$2, status=$3, headline=$4, \
         summary=$5, body_md=$6, body_html=$7, sector_id=$8, region=$9, primary_edition_id=$10, \
         desk_id=$11, hero_image_id=$12, provenance=$13, source=$14, created_at=$15, \
         updated_at=$16, published_at=$17, embargo_until=$18, video=$19 WHERE id = $20",
        &p,
    )
    .await
    .map_err(|e| slug_conflict(e, &input.slug))?;
    write_story_lists(tx, id.0, s).await?;
    newsroom::write_revision(tx, id.0, version + 1, by, &input).await?;
    log_change(tx, ns, at, ChangeEntity::Story, id.0, "").await?;
    Ok(Story {
        id,
        version: version + 1,
        input,
    })
}

fn sector(r: &Row) -> StoreResult<Sector> {
    Ok(Sector {
        id: SectorId(get(r, 0)?),
        slug: slug_col(get(r, 1)?)?,
        name: get(r, 2)?,
        position: position(r, 3)?,
    })
}

fn edition(r: &Row) -> StoreResult<Edition> {
    let tz: String = get(r, 3)?;
    Ok(Edition {
        id: EditionId(get(r, 0)?),
        slug: slug_col(get(r, 1)?)?,
        name: get(r, 2)?,
        tz: tz
            .parse::<chrono_tz::Tz>()
            .map_err(|_| StoreError::msg(format!("bad time zone {tz}")))?,
        position: position(r, 4)?,
    })
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[async_trait]
impl StoryStore for PgStore {
    async fn upsert_sector(&self, slug: &Slug, name: &str, position: i32) -> StoreResult<Sector> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO sectors (slug, name, position) VALUES ($1, $2, $3) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name, position = excluded.position \
             RETURNING id",
            &[&slug.as_str(), &name, &i64::from(position)],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Taxonomy, id, "sector")
            .await?;
        commit(tx).await?;
        Ok(Sector {
            id: SectorId(id),
            slug: slug.clone(),
            name: name.to_owned(),
            position,
        })
    }

    async fn list_sectors(&self) -> StoreResult<Vec<Sector>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, slug, name, position FROM sectors ORDER BY position, id",
            &[],
        )
        .await?
        .iter()
        .map(sector)
        .collect()
    }

    async fn upsert_edition(
        &self,
        slug: &Slug,
        name: &str,
        tz: chrono_tz::Tz,
        position: i32,
    ) -> StoreResult<Edition> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO editions (slug, name, tz, position) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name, tz = excluded.tz, \
             position = excluded.position RETURNING id",
            &[&slug.as_str(), &name, &tz.name(), &i64::from(position)],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Taxonomy, id, "edition")
            .await?;
        commit(tx).await?;
        Ok(Edition {
            id: EditionId(id),
            slug: slug.clone(),
            name: name.to_owned(),
            tz,
            position,
        })
    }

    async fn list_editions(&self) -> StoreResult<Vec<Edition>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, slug, name, tz, position FROM editions ORDER BY position, id",
            &[],
        )
        .await?
        .iter()
        .map(edition)
        .collect()
    }

    async fn upsert_desk(&self, slug: &Slug, name: &str) -> StoreResult<Desk> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO desks (slug, name) VALUES ($1, $2) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id",
            &[&slug.as_str(), &name],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Taxonomy, id, "desk")
            .await?;
        commit(tx).await?;
        Ok(Desk {
            id: DeskId(id),
            slug: slug.clone(),
            name: name.to_owned(),
        })
    }

    async fn list_desks(&self) -> StoreResult<Vec<Desk>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, slug, name FROM desks ORDER BY name, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Desk {
                id: DeskId(get(r, 0)?),
                slug: slug_col(get(r, 1)?)?,
                name: get(r, 2)?,
            })
        })
        .collect()
    }

    async fn upsert_author(
        &self,
        slug: &Slug,
        name: &str,
        bio: &str,
        desk: Option<DeskId>,
    ) -> StoreResult<Author> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO authors (slug, name, bio, desk_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name, bio = excluded.bio, \
             desk_id = excluded.desk_id RETURNING id",
            &[&slug.as_str(), &name, &bio, &desk.map(|d| d.0)],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Taxonomy, id, "author")
            .await?;
        commit(tx).await?;
        Ok(Author {
            id: AuthorId(id),
            slug: slug.clone(),
            name: name.to_owned(),
            bio: bio.to_owned(),
            desk_id: desk,
        })
    }

    async fn list_authors(&self) -> StoreResult<Vec<Author>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, slug, name, bio, desk_id FROM authors ORDER BY name, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Author {
                id: AuthorId(get(r, 0)?),
                slug: slug_col(get(r, 1)?)?,
                name: get(r, 2)?,
                bio: get(r, 3)?,
                desk_id: get::<Option<i64>>(r, 4)?.map(DeskId),
            })
        })
        .collect()
    }

    async fn upsert_tag(&self, slug: &Slug, name: &str) -> StoreResult<Tag> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO tags (slug, name) VALUES ($1, $2) \
             ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id",
            &[&slug.as_str(), &name],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Taxonomy, id, "tag")
            .await?;
        commit(tx).await?;
        Ok(Tag {
            id: TagId(id),
            slug: slug.clone(),
            name: name.to_owned(),
        })
    }

    async fn list_tags(&self) -> StoreResult<Vec<Tag>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, slug, name FROM tags ORDER BY name, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Tag {
                id: TagId(get(r, 0)?),
                slug: slug_col(get(r, 1)?)?,
                name: get(r, 2)?,
            })
        })
        .collect()
    }

    async fn insert_image(&self, input: &ImageInput) -> StoreResult<Image> {
        let at = self.now_ms();
        let widths = input
            .widths
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO images (key, ext, alt, caption, credit, width, height, widths) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
            &[
                &input.key,
                &input.ext,
                &input.alt,
                &input.caption,
                &input.credit,
                &i64::from(input.width),
                &i64::from(input.height),
                &widths,
            ],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        self.log_change(&tx, at, ChangeEntity::Image, id, "")
            .await?;
        commit(tx).await?;
        let i = input.clone();
        Ok(Image {
            id: ImageId(id),
            key: i.key,
            ext: i.ext,
            alt: i.alt,
            caption: i.caption,
            credit: i.credit,
            width: i.width,
            height: i.height,
            widths: i.widths,
        })
    }

    async fn get_image(&self, id: ImageId) -> StoreResult<Image> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            &format!("SELECT {IMAGE_COLS} FROM images WHERE id = $1"),
            &[&id.0],
        )
        .await?;
        image_from_row(&r)
    }

    async fn list_images(&self) -> StoreResult<Vec<Image>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!("SELECT {IMAGE_COLS} FROM images ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(image_from_row)
        .collect()
    }

    async fn insert_story(&self, story: &StoryInput) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let id = insert_story_by(&tx, self.ns, story, None, true, at).await?;
        commit(tx).await?;
        Ok(Story {
            id: StoryId(id),
            version: 1,
            input: story.clone(),
        })
    }

    async fn insert_stories(&self, stories: &[StoryInput]) -> StoreResult<Vec<StoryId>> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let mut out = Vec::with_capacity(stories.len());
        for s in stories {
            out.push(StoryId(
                insert_story_by(&tx, self.ns, s, None, false, at).await?,
            ));
        }
        commit(tx).await?;
        Ok(out)
    }

    async fn update_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
    ) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let saved =
            update_story_tx(&tx, self.ns, id, expected_version, story.clone(), None, at).await?;
        commit(tx).await?;
        Ok(saved)
    }

    async fn get_story(&self, id: StoryId) -> StoreResult<Story> {
        let c = self.conn().await?;
        load_story(&**c, id.0).await?.ok_or(StoreError::NotFound)
    }

    async fn get_article(&self, id: StoryId) -> StoreResult<ArticleRead> {
        let c = self.conn().await?;
        // One statement is one snapshot (no transaction to open and close), prepared once per
        // pooled connection: a miss is one round trip.
        let statement = c.prepare_cached(&ARTICLE_SQL).await.map_err(pg_err)?;
        let Some(r) = c.query_opt(&statement, &[&id.0]).await.map_err(pg_err)? else {
            return Err(StoreError::NotFound);
        };
        let lists: Option<String> = get(&r, 21)?;
        let Some((placements, authors, tags)) =
            lists.as_deref().and_then(newsdesk_store::lists::decode)
        else {
            // A row no save of this version wrote (copied in without its lists).
            drop(c);
            return self.article_from_tables(id).await;
        };
        let card = card_with_lists(card_from_row(&r)?, placements, authors, tags)?;
        let story = story_of(card, get(&r, 17)?, get(&r, 18)?, get(&r, 19)?, get(&r, 20)?)?;
        let cor: String = get(&r, 22)?;
        let lin: String = get(&r, 23)?;
        let (corrections, lineage) = newsdesk_store::lists::article_arrays(id, &cor, &lin)?;
        Ok(ArticleRead {
            story,
            corrections,
            lineage,
        })
    }

    async fn find_story_by_slug(&self, slug: &Slug) -> StoreResult<Option<Story>> {
        let c = self.conn().await?;
        let id = query_opt(
            &**c,
            "SELECT id FROM stories WHERE slug = $1",
            &[&slug.as_str()],
        )
        .await?;
        match id {
            Some(r) => load_story(&**c, get(&r, 0)?).await,
            None => Ok(None),
        }
    }

    async fn find_slug_redirect(&self, old: &Slug) -> StoreResult<Option<Slug>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            "SELECT s.slug FROM slug_redirects r JOIN stories s ON s.id = r.story_id \
             WHERE r.old_slug = $1",
            &[&old.as_str()],
        )
        .await?
        .map(|r| slug_col(get(&r, 0)?))
        .transpose()
    }

    async fn list_published_cards(&self) -> StoreResult<Vec<StoryCard>> {
        let mut c = self.conn().await?;
        let client: &mut Client = &mut c;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let filter = "s.status = 'published'";
        let mut lists = load_lists(&tx, filter, &[]).await?;
        let rows = query(
            &tx,
            &format!("SELECT {CARD_COLS} FROM stories s WHERE {filter} ORDER BY id"),
            &[],
        )
        .await?;
        commit(tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(finish_card(card_from_row(r)?, &mut lists)?);
        }
        Ok(out)
    }

    async fn list_published_cards_after(
        &self,
        after: Option<StoryId>,
        limit: usize,
    ) -> StoreResult<Vec<StoryCard>> {
        let after = after.map_or(i64::MIN, |i| i.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut c = self.conn().await?;
        let client: &mut Client = &mut c;
        // One snapshot for the cards and their lists: a save between them cannot mix them.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let rows = query(
            &tx,
            &format!(
                "SELECT {CARD_COLS} FROM stories s WHERE s.status = 'published' AND s.id > $1 \
                 ORDER BY s.id LIMIT $2"
            ),
            &[&after, &limit],
        )
        .await?;
        let Some(last) = rows.last().map(|r| get::<i64>(r, 0)).transpose()? else {
            commit(tx).await?;
            return Ok(Vec::new());
        };
        let mut lists = load_lists(
            &tx,
            "x.story_id > $1 AND x.story_id <= $2 AND s.status = 'published'",
            &[&after, &last],
        )
        .await?;
        commit(tx).await?;
        rows.iter()
            .map(|r| finish_card(card_from_row(r)?, &mut lists))
            .collect()
    }

    async fn get_cards(&self, ids: &[StoryId]) -> StoreResult<Vec<StoryCard>> {
        let c = self.conn().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(r) = query_opt(
                &**c,
                &format!("SELECT {CARD_COLS} FROM stories s WHERE id = $1"),
                &[&id.0],
            )
            .await?
            else {
                continue;
            };
            let mut lists = load_lists(&**c, "s.id = $1", &[&id.0]).await?;
            out.push(finish_card(card_from_row(&r)?, &mut lists)?);
        }
        Ok(out)
    }

    async fn count_stories(&self) -> StoreResult<i64> {
        let c = self.conn().await?;
        get(
            &query_one(&**c, "SELECT count(*) FROM stories", &[]).await?,
            0,
        )
    }

    async fn upsert_page(&self, p: &StaticPage) -> StoreResult<()> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        exec(
            &tx,
            "INSERT INTO static_pages (slug, title, body_md, body_html, position, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (slug) DO UPDATE SET title=excluded.title, \
             body_md=excluded.body_md, body_html=excluded.body_html, position=excluded.position, \
             updated_at=excluded.updated_at",
            &[
                &p.slug.as_str(),
                &p.title,
                &p.body_md,
                &p.body_html,
                &i64::from(p.position),
                &ms(p.updated_at),
            ],
        )
        .await?;
        self.log_change(&tx, at, ChangeEntity::Page, 0, p.slug.as_str())
            .await?;
        commit(tx).await
    }

    async fn get_page(&self, slug: &Slug) -> StoreResult<Option<StaticPage>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            &format!("SELECT {PAGE_COLS} FROM static_pages WHERE slug = $1"),
            &[&slug.as_str()],
        )
        .await?
        .map(|r| page_from_row(&r))
        .transpose()
    }

    async fn list_pages(&self) -> StoreResult<Vec<StaticPage>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!("SELECT {PAGE_COLS} FROM static_pages ORDER BY position, slug"),
            &[],
        )
        .await?
        .iter()
        .map(page_from_row)
        .collect()
    }

    async fn changes_since(&self, after: i64, limit: usize) -> StoreResult<Vec<Change>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT seq, at, entity, entity_id, key FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .await?
        .iter()
        .map(|r| {
            let entity: String = get(r, 2)?;
            Ok(Change {
                seq: get(r, 0)?,
                at: from_ms(get(r, 1)?)?,
                entity: ChangeEntity::parse(&entity)
                    .ok_or_else(|| StoreError::msg(format!("bad change entity {entity}")))?,
                entity_id: get(r, 3)?,
                key: get(r, 4)?,
            })
        })
        .collect()
    }

    async fn last_change_seq(&self) -> StoreResult<i64> {
        let c = self.conn().await?;
        get(
            &query_one(
                &**c,
                "SELECT coalesce(max(seq), 0)::BIGINT FROM changes",
                &[],
            )
            .await?,
            0,
        )
    }

    fn change_waiter(&self) -> newsdesk_store::ChangeWaiter {
        // The listening task needs a runtime; outside one, poll.
        if tokio::runtime::Handle::try_current().is_err() {
            return newsdesk_store::ChangeWaiter::polling();
        }
        self.listener
            .get_or_init(|| listen::Listener::start(self.config.clone(), self.ns))
            .waiter()
    }
}

#[async_trait]
impl AudienceStore for PgStore {
    async fn add_views(&self, batch: &[ViewCount]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        for v in batch {
            exec(
                &tx,
                "INSERT INTO story_views (story_id, edition_id, day, views) VALUES ($1,$2,$3,$4) \
                 ON CONFLICT (story_id, edition_id, day) \
                 DO UPDATE SET views = story_views.views + excluded.views",
                &[&v.story_id.0, &v.edition_id.0, &v.day.to_string(), &v.views],
            )
            .await?;
        }
        commit(tx).await
    }

    async fn views_since(&self, since: NaiveDate) -> StoreResult<Vec<ViewCount>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT story_id, edition_id, day, views FROM story_views WHERE day >= $1",
            &[&since.to_string()],
        )
        .await?
        .iter()
        .map(|r| {
            let day: String = get(r, 2)?;
            Ok(ViewCount {
                story_id: StoryId(get(r, 0)?),
                edition_id: EditionId(get(r, 1)?),
                day: day.parse().map_err(StoreError::other)?,
                views: get(r, 3)?,
            })
        })
        .collect()
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_user(
        &self,
        email: &EmailAddress,
        name: &str,
        role: Role,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<User> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1,$2,$3,$4,$5) \
             RETURNING id",
            &[&email.as_str(), &name, &role.as_str(), &password_hash, &ms(audit.at)],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(Conflict::EmailTaken),
            other => other,
        })?;
        let id: i64 = get(&row, 0)?;
        let mut a = audit.clone();
        if a.target.is_empty() {
            a.target = format!("user:{id}");
        }
        newsroom::audit(&tx, &a).await?;
        let user = newsroom::load_user(&tx, id).await?;
        commit(tx).await?;
        Ok(user)
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let c = self.conn().await?;
        newsroom::load_user(&**c, id.0).await
    }

    async fn find_login(&self, email: &EmailAddress) -> StoreResult<Option<(User, String)>> {
        let c = self.conn().await?;
        let Some(r) = query_opt(
            &**c,
            &format!(
                "SELECT {}, password_hash FROM users WHERE email = $1",
                newsroom::USER_COLS
            ),
            &[&email.as_str()],
        )
        .await?
        else {
            return Ok(None);
        };
        Ok(Some((newsroom::user(&r)?, get(&r, 8)?)))
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {} FROM users ORDER BY name, id",
                newsroom::USER_COLS
            ),
            &[],
        )
        .await?
        .iter()
        .map(newsroom::user)
        .collect()
    }

    async fn update_user(
        &self,
        id: UserId,
        role: Role,
        disabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<User> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        update_one(
            &tx,
            "UPDATE users SET role = $2, disabled = $3 WHERE id = $1",
            &[&id.0, &role.as_str(), &disabled],
        )
        .await?;
        if disabled {
            exec(&tx, "DELETE FROM sessions WHERE user_id = $1", &[&id.0]).await?;
        }
        newsroom::audit(&tx, audit).await?;
        let user = newsroom::load_user(&tx, id.0).await?;
        commit(tx).await?;
        Ok(user)
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        update_one(
            &tx,
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id.0, &password_hash],
        )
        .await?;
        exec(&tx, "DELETE FROM sessions WHERE user_id = $1", &[&id.0]).await?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await
    }

    async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, csrf_token) \
             VALUES ($1,$2,$3,$4,$5)",
            &[
                &s.token_hash,
                &s.user_id.0,
                &ms(s.created_at),
                &ms(s.last_seen_at),
                &s.csrf_token,
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(SessionRecord, User)>> {
        let c = self.conn().await?;
        let Some(r) = query_opt(
            &**c,
            "SELECT token_hash, user_id, created_at, last_seen_at, csrf_token FROM sessions \
             WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?
        else {
            return Ok(None);
        };
        let uid: i64 = get(&r, 1)?;
        let user = newsroom::load_user(&**c, uid).await?;
        Ok(Some((
            SessionRecord {
                token_hash: get(&r, 0)?,
                user_id: UserId(uid),
                created_at: from_ms(get(&r, 2)?)?,
                last_seen_at: from_ms(get(&r, 3)?)?,
                csrf_token: get(&r, 4)?,
            },
            user,
        )))
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
            &[&token_hash, &ms(at)],
        )
        .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "DELETE FROM sessions WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?;
        Ok(())
    }

    async fn create_invitation(&self, token_hash: &str, inv: &Invitation) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO invitations (token_hash, email, role, invited_by, expires_at) \
             VALUES ($1,$2,$3,$4,$5)",
            &[
                &token_hash,
                &inv.email.as_str(),
                &inv.role.as_str(),
                &inv.invited_by.map(|u| u.0),
                &ms(inv.expires_at),
            ],
        )
        .await?;
        Ok(())
    }

    async fn take_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Invitation>> {
        let c = self.conn().await?;
        newsroom::take_invitation(&**c, token_hash, ms(now)).await
    }
}

#[async_trait]
impl NewsroomStore for PgStore {
    async fn create_story(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
    ) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let id = insert_story_by(&tx, self.ns, story, Some(by), true, at).await?;
        let mut a = audit.clone();
        if a.target.is_empty() {
            a.target = format!("story:{id}");
        }
        newsroom::audit(&tx, &a).await?;
        commit(tx).await?;
        Ok(Story {
            id: StoryId(id),
            version: 1,
            input: story.clone(),
        })
    }

    async fn save_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
        by: Option<UserId>,
        audit: Option<&AuditInput>,
    ) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let saved =
            update_story_tx(&tx, self.ns, id, expected_version, story.clone(), by, at).await?;
        if let Some(a) = audit {
            newsroom::audit(&tx, a).await?;
        }
        commit(tx).await?;
        Ok(saved)
    }

    async fn story_owner(&self, id: StoryId) -> StoreResult<Option<UserId>> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            "SELECT created_by FROM stories WHERE id = $1",
            &[&id.0],
        )
        .await?;
        Ok(get::<Option<i64>>(&r, 0)?.map(UserId))
    }

    async fn list_desk_stories(&self, q: &DeskQuery) -> StoreResult<Vec<DeskRow>> {
        let mut sql = format!("SELECT {CARD_COLS}, created_by FROM stories s WHERE 1=1");
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        if !q.statuses.is_empty() {
            let marks: Vec<String> = q
                .statuses
                .iter()
                .map(|st| {
                    args.push(Box::new(st.as_str().to_owned()));
                    format!("${}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND status IN ({})", marks.join(",")));
        }
        if let Some(o) = q.owner {
            args.push(Box::new(o.0));
            sql.push_str(&format!(" AND created_by = ${}", args.len()));
        }
        if let Some(t) = q.text.as_ref().filter(|t| !t.trim().is_empty()) {
            let escaped = t
                .trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(Box::new(format!("%{escaped}%")));
            sql.push_str(&format!(
                " AND lower(headline) LIKE ${} ESCAPE '\\'",
                args.len()
            ));
        }
        if let Some(after) = q.embargoed_after {
            args.push(Box::new(ms(after)));
            sql.push_str(&format!(" AND embargo_until > ${}", args.len()));
        }
        if let Some(sector) = q.sector {
            args.push(Box::new(sector.0));
            sql.push_str(&format!(" AND sector_id = ${}", args.len()));
        }
        if let Some(desk) = q.desk {
            args.push(Box::new(desk.0));
            sql.push_str(&format!(" AND desk_id = ${}", args.len()));
        }
        if let Some(edition) = q.edition {
            args.push(Box::new(edition.0));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM story_editions e WHERE e.story_id = s.id AND e.edition_id = ${})",
                args.len()
            ));
        }
        if let Some(author) = q.author {
            args.push(Box::new(author.0));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM story_authors a WHERE a.story_id = s.id AND a.author_id = ${})",
                args.len()
            ));
        }
        args.push(Box::new(q.limit.clamp(1, 1000) as i64));
        sql.push_str(&format!(
            " ORDER BY updated_at DESC, id DESC LIMIT ${}",
            args.len()
        ));
        let refs: Vec<Param<'_>> = args
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let c = self.conn().await?;
        let rows = query(&**c, &sql, &refs).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let raw = card_from_row(r)?;
            let owner: Option<i64> = get(r, 17)?;
            let id = raw.id;
            let mut lists = load_lists(&**c, "s.id = $1", &[&id]).await?;
            out.push(DeskRow {
                card: finish_card(raw, &mut lists)?,
                created_by: owner.map(UserId),
            });
        }
        Ok(out)
    }

    async fn list_revisions(&self, story: StoryId) -> StoreResult<Vec<RevisionMeta>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, version, by_user, at, snapshot FROM story_revisions WHERE story_id = $1 \
             ORDER BY version DESC",
            &[&story.0],
        )
        .await?
        .iter()
        .map(|r| {
            let snap: String = get(r, 4)?;
            let input = newsroom::parse_snapshot(&snap)?;
            Ok(RevisionMeta {
                id: get(r, 0)?,
                version: get(r, 1)?,
                by: get::<Option<i64>>(r, 2)?.map(UserId),
                at: from_ms(get(r, 3)?)?,
                status: input.status,
                headline: input.headline.to_string(),
            })
        })
        .collect()
    }

    async fn get_revision(&self, id: i64) -> StoreResult<Revision> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            "SELECT id, story_id, version, by_user, at, snapshot FROM story_revisions WHERE id = $1",
            &[&id],
        )
        .await?;
        let snap: String = get(&r, 5)?;
        Ok(Revision {
            id: get(&r, 0)?,
            story_id: StoryId(get(&r, 1)?),
            version: get(&r, 2)?,
            by: get::<Option<i64>>(&r, 3)?.map(UserId),
            at: from_ms(get(&r, 4)?)?,
            input: newsroom::parse_snapshot(&snap)?,
        })
    }

    async fn add_correction(
        &self,
        story: StoryId,
        expected_version: i64,
        updated: &StoryInput,
        wrong: &str,
        right: &str,
        audit: &AuditInput,
    ) -> StoreResult<(Story, Correction)> {
        let now = self.now_ms();
        let at = updated.updated_at;
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let saved = update_story_tx(
            &tx,
            self.ns,
            story,
            expected_version,
            updated.clone(),
            audit.user_id,
            now,
        )
        .await?;
        let row = query_one(
            &tx,
            "INSERT INTO corrections (story_id, wrong, right_text, at, by_user) \
             VALUES ($1,$2,$3,$4,$5) RETURNING id",
            &[
                &story.0,
                &wrong,
                &right,
                &ms(at),
                &audit.user_id.map(|u| u.0),
            ],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await?;
        Ok((
            saved,
            Correction {
                id,
                story_id: story,
                wrong: wrong.to_owned(),
                right: right.to_owned(),
                at,
                by: audit.user_id,
            },
        ))
    }

    async fn list_corrections(&self, story: StoryId) -> StoreResult<Vec<Correction>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {} FROM corrections WHERE story_id = $1 ORDER BY at, id",
                newsroom::CORRECTION_COLS
            ),
            &[&story.0],
        )
        .await?
        .iter()
        .map(newsroom::correction)
        .collect()
    }

    async fn recent_corrections(&self, limit: usize) -> StoreResult<Vec<Correction>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {} FROM corrections ORDER BY at DESC, id DESC LIMIT $1",
                newsroom::CORRECTION_COLS
            ),
            &[&i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .await?
        .iter()
        .map(newsroom::correction)
        .collect()
    }

    async fn publish_due(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoryId>> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // Rows another node is publishing right now are skipped, not waited for: it publishes
        // them, once.
        let due = query(
            &tx,
            "SELECT id, version FROM stories WHERE status = 'scheduled' AND published_at <= $1 \
             ORDER BY id FOR NO KEY UPDATE SKIP LOCKED",
            &[&ms(now)],
        )
        .await?;
        let mut done = Vec::new();
        for r in &due {
            let id: i64 = get(r, 0)?;
            let version: i64 = get(r, 1)?;
            let Some(story) = load_story(&tx, id).await? else {
                continue;
            };
            let mut input = story.input.clone();
            input.status = StoryStatus::Published;
            // The scheduled time is the publication time, even if the server was down then.
            input.updated_at = input.published_at.unwrap_or(now).max(input.updated_at);
            update_story_tx(&tx, self.ns, StoryId(id), version, input, None, ms(now)).await?;
            newsroom::audit(
                &tx,
                &AuditInput {
                    at: now,
                    user_id: None,
                    action: "publish".into(),
                    target: format!("story:{id}"),
                    detail: "scheduled publication".into(),
                },
            )
            .await?;
            done.push(StoryId(id));
        }
        commit(tx).await?;
        Ok(done)
    }

    async fn next_scheduled_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            "SELECT min(published_at) FROM stories WHERE status = 'scheduled'",
            &[],
        )
        .await?;
        opt_ms(get(&r, 0)?)
    }

    async fn record_audit(&self, audit: &AuditInput) -> StoreResult<()> {
        let c = self.conn().await?;
        newsroom::audit(&**c, audit).await
    }

    async fn list_audit(&self, limit: usize, before: Option<i64>) -> StoreResult<Vec<AuditEntry>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT id, at, user_id, action, target, detail FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
            &[&before.unwrap_or(i64::MAX), &(limit.clamp(1, 1000) as i64)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: get(r, 0)?,
                at: from_ms(get(r, 1)?)?,
                user_id: get::<Option<i64>>(r, 2)?.map(UserId),
                action: get(r, 3)?,
                target: get(r, 4)?,
                detail: get(r, 5)?,
            })
        })
        .collect()
    }

    async fn touch_presence(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO story_presence (story_id, user_id, seen_at) VALUES ($1,$2,$3) \
             ON CONFLICT (story_id, user_id) DO UPDATE SET seen_at = excluded.seen_at",
            &[&story.0, &user.0, &ms(at)],
        )
        .await?;
        Ok(())
    }

    async fn presence(
        &self,
        story: StoryId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(User, DateTime<Utc>)>> {
        let c = self.conn().await?;
        let rows = query(
            &**c,
            "SELECT user_id, seen_at FROM story_presence WHERE story_id = $1 AND seen_at >= $2 \
             ORDER BY seen_at DESC",
            &[&story.0, &ms(since)],
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push((
                newsroom::load_user(&**c, get(r, 0)?).await?,
                from_ms(get(r, 1)?)?,
            ));
        }
        Ok(out)
    }

    async fn put_autosave(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
        form: &str,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO story_autosaves (story_id, user_id, at, form) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (story_id, user_id) DO UPDATE SET at = excluded.at, form = excluded.form",
            &[&story.0, &user.0, &ms(at), &form],
        )
        .await?;
        Ok(())
    }

    async fn get_autosave(
        &self,
        story: StoryId,
        user: UserId,
    ) -> StoreResult<Option<(DateTime<Utc>, String)>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            "SELECT at, form FROM story_autosaves WHERE story_id = $1 AND user_id = $2",
            &[&story.0, &user.0],
        )
        .await?
        .map(|r| Ok((from_ms(get(&r, 0)?)?, get(&r, 1)?)))
        .transpose()
    }

    async fn delete_autosave(&self, story: StoryId, user: UserId) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "DELETE FROM story_autosaves WHERE story_id = $1 AND user_id = $2",
            &[&story.0, &user.0],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl LoginStore for PgStore {
    async fn set_totp(
        &self,
        id: UserId,
        secret: Option<&str>,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        update_one(
            &tx,
            "UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1",
            &[&id.0, &secret],
        )
        .await?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await
    }

    async fn totp_secret(&self, id: UserId) -> StoreResult<Option<String>> {
        let c = self.conn().await?;
        get(
            &query_one(
                &**c,
                "SELECT totp_secret FROM users WHERE id = $1",
                &[&id.0],
            )
            .await?,
            0,
        )
    }

    async fn use_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool> {
        let c = self.conn().await?;
        // One statement: the row lock makes a second use of the same step see the first.
        let n = exec(
            &**c,
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
            &[&id.0, &step],
        )
        .await?;
        Ok(n == 1)
    }

    async fn create_pending_login(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // A half-done login lives minutes; anything past its expiry at the time a new one
        // starts is forgotten.
        exec(
            &tx,
            "DELETE FROM pending_logins WHERE expires_at < $1",
            &[&(ms(expires_at) - 86_400_000)],
        )
        .await?;
        exec(
            &tx,
            "INSERT INTO pending_logins (token_hash, user_id, expires_at) VALUES ($1,$2,$3)",
            &[&token_hash, &user.0, &ms(expires_at)],
        )
        .await?;
        commit(tx).await
    }

    async fn pending_login(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(UserId, DateTime<Utc>)>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            "SELECT user_id, expires_at FROM pending_logins WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?
        .map(|r| Ok((UserId(get(&r, 0)?), from_ms(get(&r, 1)?)?)))
        .transpose()
    }

    async fn end_pending_login(&self, token_hash: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "DELETE FROM pending_logins WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?;
        Ok(())
    }

    async fn take_login_attempt(
        &self,
        keys: &[(&str, usize)],
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // Each key's count and insert happen under that key's advisory lock, held until the
        // transaction ends: no other take, on this node or another, comes between them. Keys
        // are locked in one order, so two takes cannot wait on each other.
        let mut sorted: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        sorted.sort_unstable();
        sorted.dedup();
        for key in &sorted {
            exec(
                &tx,
                "SELECT pg_advisory_xact_lock(($1::BIGINT << 32) | (hashtext($2)::BIGINT & 4294967295))",
                &[&i64::from(self.ns), key],
            )
            .await?;
        }
        exec(
            &tx,
            "DELETE FROM login_failures WHERE at < $1",
            &[&ms(forget_before)],
        )
        .await?;
        for (key, limit) in keys {
            let n: i64 = get(
                &query_one(
                    &tx,
                    "SELECT count(*) FROM login_failures WHERE key = $1 AND at > $2",
                    &[key, &ms(since)],
                )
                .await?,
                0,
            )?;
            if usize::try_from(n).unwrap_or(usize::MAX) >= *limit {
                commit(tx).await?;
                return Ok(false);
            }
        }
        for (key, _) in keys {
            exec(
                &tx,
                "INSERT INTO login_failures (key, at) VALUES ($1, $2)",
                &[key, &ms(at)],
            )
            .await?;
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn give_back_login_attempt(&self, key: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "DELETE FROM login_failures WHERE id = \
             (SELECT id FROM login_failures WHERE key = $1 AND at = $2 LIMIT 1)",
            &[&key, &ms(at)],
        )
        .await?;
        Ok(())
    }

    async fn login_failures_since(&self, key: &str, since: DateTime<Utc>) -> StoreResult<usize> {
        let c = self.conn().await?;
        let n: i64 = get(
            &query_one(
                &**c,
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at > $2",
                &[&key, &ms(since)],
            )
            .await?,
            0,
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(&**c, "DELETE FROM login_failures WHERE key = $1", &[&key]).await?;
        Ok(())
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1,$2,$3)",
            &[&token_hash, &user.0, &ms(expires_at)],
        )
        .await?;
        Ok(())
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let c = self.conn().await?;
        // One statement: of two nodes taking the same token, the second finds it used.
        query_opt(
            &**c,
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
            &[&token_hash, &ms(now)],
        )
        .await?
        .map(|r| Ok(UserId(get(&r, 0)?)))
        .transpose()
    }
}

#[async_trait]
impl WireStore for PgStore {
    async fn store_wire_item(
        &self,
        item: &WireItem,
        content_hash: &str,
        cluster_id: ClusterId,
        tags: &WireTags,
        at: DateTime<Utc>,
    ) -> StoreResult<(WireItemId, WireOutcome)> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let out = wire::store_item(&tx, item, content_hash, cluster_id.0, tags, ms(at)).await?;
        commit(tx).await?;
        Ok((WireItemId(out.0), out.1))
    }

    async fn store_wire_items(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>> {
        self.store_wire_items_queueing(items, &[], at).await
    }

    async fn store_wire_items_queueing(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        jobs_if_new: &[Option<NewJob>],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let mut out = Vec::with_capacity(items.len());
        let mut queue = Vec::new();
        for (i, (item, hash, cluster, tags)) in items.iter().enumerate() {
            let (id, outcome) = wire::store_item(&tx, item, hash, cluster.0, tags, ms(at)).await?;
            if outcome == WireOutcome::New {
                if let Some(Some(job)) = jobs_if_new.get(i) {
                    queue.push(job.clone());
                }
            }
            out.push((WireItemId(id), outcome));
        }
        jobs::enqueue(&tx, &queue, at).await?;
        commit(tx).await?;
        Ok(out)
    }

    async fn create_story_from_wire_once(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        item: (WireItemId, i64),
    ) -> StoreResult<Option<Story>> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // The item's row is the lock: two nodes running the same job wait here, and the second
        // finds the story the first made.
        query_one(
            &tx,
            "SELECT id FROM wire_items WHERE id = $1 FOR NO KEY UPDATE",
            &[&item.0 .0],
        )
        .await?;
        let made = query_opt(
            &tx,
            "SELECT story_id FROM story_lineage WHERE item_id = $1 LIMIT 1",
            &[&item.0 .0],
        )
        .await?;
        if made.is_some() {
            commit(tx).await?;
            return Ok(None);
        }
        let id = insert_story_by(&tx, self.ns, story, Some(by), true, at).await?;
        exec(
            &tx,
            "INSERT INTO story_lineage (story_id, item_id, version) VALUES ($1,$2,$3)",
            &[&id, &item.0 .0, &item.1],
        )
        .await?;
        let mut a = audit.clone();
        if a.target.is_empty() {
            a.target = format!("story:{id}");
        }
        newsroom::audit(&tx, &a).await?;
        commit(tx).await?;
        Ok(Some(Story {
            id: StoryId(id),
            version: 1,
            input: story.clone(),
        }))
    }

    async fn set_summary_drafts(&self, drafts: &[(ClusterId, String)]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        for (id, text) in drafts {
            exec(
                &tx,
                "UPDATE wire_clusters SET summary = $2 WHERE id = $1 AND NOT summary_accepted",
                &[&id.0, text],
            )
            .await?;
        }
        commit(tx).await
    }

    async fn find_wire_items(&self, keys: &[(String, String)]) -> StoreResult<Vec<StoredWireItem>> {
        let c = self.conn().await?;
        let mut out = Vec::new();
        for (a, id) in keys {
            if let Some(r) = query_opt(
                &**c,
                &format!(
                    "SELECT {} FROM wire_items WHERE agency = $1 AND agency_id = $2",
                    wire::ITEM_COLS
                ),
                &[a, id],
            )
            .await?
            {
                out.push(wire::item(&r)?);
            }
        }
        Ok(out)
    }

    async fn find_wire_item(
        &self,
        agency: &str,
        agency_id: &str,
    ) -> StoreResult<Option<StoredWireItem>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            &format!(
                "SELECT {} FROM wire_items WHERE agency = $1 AND agency_id = $2",
                wire::ITEM_COLS
            ),
            &[&agency, &agency_id],
        )
        .await?
        .map(|r| wire::item(&r))
        .transpose()
    }

    async fn get_wire_item(&self, id: WireItemId) -> StoreResult<StoredWireItem> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            &format!("SELECT {} FROM wire_items WHERE id = $1", wire::ITEM_COLS),
            &[&id.0],
        )
        .await?;
        wire::item(&r)
    }

    async fn recent_wire_items(&self, since: DateTime<Utc>) -> StoreResult<Vec<StoredWireItem>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {} FROM wire_items WHERE received_at >= $1 ORDER BY id",
                wire::ITEM_COLS
            ),
            &[&ms(since)],
        )
        .await?
        .iter()
        .map(wire::item)
        .collect()
    }

    async fn wire_items_after(
        &self,
        after: WireItemId,
        since: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StoredWireItem>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {} FROM wire_items WHERE id > $1 AND received_at >= $2 ORDER BY id LIMIT $3",
                wire::ITEM_COLS
            ),
            &[&after.0, &ms(since), &limit],
        )
        .await?
        .iter()
        .map(wire::item)
        .collect()
    }

    async fn last_wire_item_id(&self) -> StoreResult<WireItemId> {
        let c = self.conn().await?;
        let r = query_one(&**c, "SELECT coalesce(max(id), 0) FROM wire_items", &[]).await?;
        Ok(WireItemId(get(&r, 0)?))
    }

    async fn list_clusters(&self, query: &WireQuery) -> StoreResult<Vec<WireCluster>> {
        let c = self.conn().await?;
        wire::list_clusters(&**c, query).await
    }

    async fn get_cluster(&self, id: ClusterId) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
        let c = self.conn().await?;
        wire::cluster_with_items(&**c, id.0, None).await
    }

    async fn get_cluster_head(
        &self,
        id: ClusterId,
        limit: usize,
    ) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        wire::cluster_with_items(&**c, id.0, Some(limit)).await
    }

    async fn set_cluster_summary(
        &self,
        id: ClusterId,
        summary: &str,
        accepted: bool,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE wire_clusters SET summary = $2, summary_accepted = $3 WHERE id = $1",
            &[&id.0, &summary, &accepted],
        )
        .await
    }

    async fn set_cluster_tags(
        &self,
        id: ClusterId,
        sector: Option<&str>,
        editions: &[String],
    ) -> StoreResult<()> {
        let editions = serde_json::to_string(editions).map_err(StoreError::other)?;
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE wire_clusters SET sector = $2, editions = $3 WHERE id = $1",
            &[&id.0, &sector, &editions],
        )
        .await
    }

    async fn create_story_from_wire(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        lineage: &[(WireItemId, i64)],
    ) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let id = insert_story_by(&tx, self.ns, story, Some(by), true, at).await?;
        for (item, version) in lineage {
            exec(
                &tx,
                "INSERT INTO story_lineage (story_id, item_id, version) VALUES ($1,$2,$3)",
                &[&id, &item.0, version],
            )
            .await?;
        }
        let mut a = audit.clone();
        if a.target.is_empty() {
            a.target = format!("story:{id}");
        }
        newsroom::audit(&tx, &a).await?;
        commit(tx).await?;
        Ok(Story {
            id: StoryId(id),
            version: 1,
            input: story.clone(),
        })
    }

    async fn lineage(&self, story: StoryId) -> StoreResult<Vec<(WireItemId, i64)>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT item_id, version FROM story_lineage WHERE story_id = $1 ORDER BY item_id",
            &[&story.0],
        )
        .await?
        .iter()
        .map(|r| Ok((WireItemId(get(r, 0)?), get(r, 1)?)))
        .collect()
    }

    async fn lineage_flags(&self) -> StoreResult<Vec<LineageFlag>> {
        let c = self.conn().await?;
        query(
            &**c,
            "SELECT story_id, item_id, reason, at FROM lineage_flags WHERE resolved_at IS NULL \
             ORDER BY at DESC, id DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(LineageFlag {
                story_id: StoryId(get(r, 0)?),
                item_id: WireItemId(get(r, 1)?),
                reason: get(r, 2)?,
                at: from_ms(get(r, 3)?)?,
            })
        })
        .collect()
    }

    async fn resolve_lineage_flags(&self, story: StoryId, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "UPDATE lineage_flags SET resolved_at = $2 WHERE story_id = $1 AND resolved_at IS NULL",
            &[&story.0, &ms(at)],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl SourceStore for PgStore {
    async fn create_source(
        &self,
        name: &str,
        url: Option<&str>,
        poll_minutes: i64,
        allow_loopback: bool,
        push_token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Source> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            "INSERT INTO wire_sources (name, url, poll_minutes, allow_loopback, push_token_hash, \
             next_poll_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$6) RETURNING id",
            &[
                &name,
                &url,
                &poll_minutes,
                &allow_loopback,
                &push_token_hash,
                &ms(at),
            ],
        )
        .await?;
        sources::load(&**c, get(&r, 0)?, ms(at)).await
    }

    async fn list_sources(&self, now: DateTime<Utc>) -> StoreResult<Vec<Source>> {
        let c = self.conn().await?;
        sources::list(&**c, ms(now)).await
    }

    async fn get_source(&self, id: SourceId, now: DateTime<Utc>) -> StoreResult<Source> {
        let c = self.conn().await?;
        sources::load(&**c, id.0, ms(now)).await
    }

    async fn set_auto_publish(&self, id: SourceId, rule: Option<&AutoPublish>) -> StoreResult<()> {
        let rule = rule
            .map(serde_json::to_string)
            .transpose()
            .map_err(StoreError::other)?;
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE wire_sources SET auto_publish = $2 WHERE id = $1",
            &[&id.0, &rule],
        )
        .await
    }

    async fn source_token_hash(&self, id: SourceId) -> StoreResult<Option<String>> {
        let c = self.conn().await?;
        get(
            &query_one(
                &**c,
                "SELECT push_token_hash FROM wire_sources WHERE id = $1",
                &[&id.0],
            )
            .await?,
            0,
        )
    }

    async fn update_source(
        &self,
        id: SourceId,
        url: Option<&str>,
        poll_minutes: i64,
        enabled: bool,
        ca_pem: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let old: Option<String> = get(
            &query_one(
                &tx,
                "SELECT url FROM wire_sources WHERE id = $1 FOR NO KEY UPDATE",
                &[&id.0],
            )
            .await?,
            0,
        )?;
        exec(
            &tx,
            "UPDATE wire_sources SET url = $2, poll_minutes = $3, enabled = $4, ca_pem = $5 \
             WHERE id = $1",
            &[&id.0, &url, &poll_minutes, &enabled, &ca_pem],
        )
        .await?;
        if old.as_deref() != url {
            exec(
                &tx,
                "UPDATE wire_sources SET etag = NULL, last_modified = NULL, failures = 0, \
                 next_poll_at = $2 WHERE id = $1",
                &[&id.0, &ms(at)],
            )
            .await?;
        }
        commit(tx).await
    }

    async fn set_source_token(&self, id: SourceId, push_token_hash: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE wire_sources SET push_token_hash = $2 WHERE id = $1",
            &[&id.0, &push_token_hash],
        )
        .await
    }

    async fn source_items_per_day(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
        days: usize,
    ) -> StoreResult<Vec<i64>> {
        let now = ms(now);
        let days = days.clamp(1, 366);
        let c = self.conn().await?;
        let name: String = get(
            &query_one(
                &**c,
                "SELECT name FROM wire_sources WHERE id = $1",
                &[&id.0],
            )
            .await?,
            0,
        )?;
        let start = now - 86_400_000 * days as i64;
        let rows = query(
            &**c,
            "SELECT ($3 - received_at) / 86400000 AS d, count(*) FROM wire_items \
             WHERE agency = $1 AND received_at > $2 AND received_at <= $3 GROUP BY d",
            &[&name, &start, &now],
        )
        .await?;
        let mut out = vec![0i64; days];
        for r in &rows {
            let d: i64 = get(r, 0)?;
            if let Some(slot) = usize::try_from(d).ok().and_then(|d| out.get_mut(d)) {
                *slot = get(r, 1)?;
            }
        }
        Ok(out)
    }

    async fn record_poll(&self, id: SourceId, r: &PollRecord) -> StoreResult<()> {
        let c = self.conn().await?;
        match &r.error {
            None => update_one(
                &**c,
                "UPDATE wire_sources SET last_success_at = $2, failures = 0, next_poll_at = $3, \
                     etag = coalesce($4, etag), last_modified = coalesce($5, last_modified) \
                     WHERE id = $1",
                &[
                    &id.0,
                    &ms(r.at),
                    &ms(r.next_poll_at),
                    &r.etag,
                    &r.last_modified,
                ],
            )
            .await,
            Some(e) => {
                update_one(
                    &**c,
                    "UPDATE wire_sources SET last_error = $2, last_error_at = $3, \
                     failures = failures + 1, next_poll_at = $4 WHERE id = $1",
                    &[&id.0, e, &ms(r.at), &ms(r.next_poll_at)],
                )
                .await
            }
        }
    }
}

#[async_trait]
impl JobStore for PgStore {
    async fn enqueue_jobs(
        &self,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Option<JobId>>> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let out = jobs::enqueue(&tx, jobs, now).await?;
        commit(tx).await?;
        Ok(out)
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let out = jobs::claim(&tx, worker, now, lease_until, limit).await?;
        commit(tx).await?;
        Ok(out)
    }

    async fn extend_job_lease(
        &self,
        id: JobId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        jobs::extend(&**c, id, worker, lease_until).await
    }

    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        jobs::finish(&**c, id, worker, outcome, now).await
    }

    async fn redact_job_payload(&self, id: JobId, worker: &str, payload: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        jobs::redact(&**c, id, worker, payload).await
    }

    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> StoreResult<Vec<Job>> {
        let c = self.conn().await?;
        jobs::list(&**c, state, limit).await
    }

    async fn get_job(&self, id: JobId) -> StoreResult<Job> {
        let c = self.conn().await?;
        jobs::get_job(&**c, id).await
    }

    async fn retry_dead_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        jobs::retry_dead(&tx, id, now).await?;
        commit(tx).await
    }

    async fn job_counts(&self) -> StoreResult<JobCounts> {
        let c = self.conn().await?;
        jobs::counts(&**c).await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>, keep_dead: usize) -> StoreResult<usize> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let n = jobs::prune(&tx, before, keep_dead).await?;
        commit(tx).await?;
        Ok(n)
    }
}

/// The database URL of the test server (`NEWSDESK_TEST_DATABASE_URL`), if one is set.
pub fn test_database_url() -> Option<String> {
    std::env::var("NEWSDESK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Says, once per test process and past the test harness's output capture (so it shows even
/// when the tests pass), that PostgreSQL tests were skipped for want of a server.
pub fn say_skipped(what: &str) {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: {what}: NEWSDESK_TEST_DATABASE_URL is not set, so no PostgreSQL \
             server to run them on. .ci/run starts one; by hand: \
             scripts/pg-throwaway.sh start \"$(mktemp -d)\" prints the URL to set. ***\n"
        );
    });
}

/// A fresh store in a new schema of the test database (tests and the conformance suite), so
/// tests run in parallel on one server. Schemas of test processes that have ended are dropped.
/// `None` when `NEWSDESK_TEST_DATABASE_URL` is not set.
pub async fn temp_store() -> StoreResult<Option<Arc<PgStore>>> {
    Ok(match temp_config().await? {
        Some(config) => Some(Arc::new(PgStore::from_config(config, 4).await?)),
        None => None,
    })
}

/// The configuration of a fresh, empty schema of the test database, for tests that open
/// several stores (nodes) on it. `None` when `NEWSDESK_TEST_DATABASE_URL` is not set.
pub async fn temp_config() -> StoreResult<Option<tokio_postgres::Config>> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let Some(url) = test_database_url() else {
        return Ok(None);
    };
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::msg(format!("bad NEWSDESK_TEST_DATABASE_URL: {e}")))?;
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(pg_err)?;
    let task = tokio::spawn(conn);
    let pid = std::process::id();
    let n = N.fetch_add(1, Ordering::Relaxed);
    if n == 0 {
        sweep_test_schemas(&client, pid).await?;
    }
    let schema = format!("newsdesk_test_{pid}_{n}");
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .map_err(pg_err)?;
    drop(client);
    let _ = task.await;
    config.options(format!("-c search_path={schema}"));
    Ok(Some(config))
}

/// Drops the schemas of test processes that have ended (where /proc tells which are alive).
async fn sweep_test_schemas(client: &Client, me: u32) -> StoreResult<()> {
    if !std::path::Path::new("/proc/self").exists() {
        return Ok(());
    }
    let rows = query(
        client,
        "SELECT nspname::TEXT FROM pg_namespace WHERE nspname LIKE 'newsdesk\\_test\\_%'",
        &[],
    )
    .await?;
    for r in &rows {
        let name: String = get(r, 0)?;
        let Some(pid) = name
            .strip_prefix("newsdesk_test_")
            .and_then(|r| r.split('_').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != me && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            // Another process may be dropping it too; either way it goes.
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_value_of_a_unique_violation_is_read_from_its_detail() {
        assert_eq!(
            key_value(Some("Key (slug)=(a-b) already exists.")),
            "a-b".to_owned()
        );
        assert_eq!(key_value(None), String::new());
    }
}
