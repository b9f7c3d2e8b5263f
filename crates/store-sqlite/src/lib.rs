//! [`Store`] on SQLite: the embedded default.
//!
//! Durable means durable: WAL with `synchronous=FULL`, one writer connection taking
//! `BEGIN IMMEDIATE` transactions, and a small pool of read-only connections. Blocking SQLite calls
//! run on tokio's blocking threads, except the article read of a page miss, a read by key that
//! costs less than the hand-off: it runs on the calling thread when a pooled connection is idle.

pub use backup::{backup_online, BackupError, BackupOptions, BackupReport};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use newsdesk_domain::*;
use newsdesk_store::prelude::*;
use newsdesk_store::{ArticleRead, Conflict, LineageLink, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod api_tokens;
mod backup;
mod copy;
mod feedback;
mod imports;
mod jobs;
mod leases;
mod newsletter;
mod newsroom;
mod secrets;
mod sources;
mod wire;

/// Ordered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("newsroom.sql"),
    include_str!("presence.sql"),
    include_str!("totp.sql"),
    include_str!("video.sql"),
    include_str!("wire.sql"),
    include_str!("sources.sql"),
    include_str!("autopublish.sql"),
    include_str!("wire_by_agency.sql"),
    include_str!("logins.sql"),
    include_str!("source_ca.sql"),
    include_str!("wire_embargo.sql"),
    include_str!("jobs.sql"),
    include_str!("newsletter.sql"),
    include_str!("api_tokens.sql"),
    include_str!("imports.sql"),
    include_str!("feedback.sql"),
    include_str!("secrets.sql"),
    include_str!("leases.sql"),
    include_str!("story_lists.sql"),
];

/// Most idle read connections kept.
const READ_POOL: usize = 8;

/// SQLite's page cache of each read connection, in KiB (the writer keeps 16 MB). Reader pages
/// come from the operating system's file cache anyway; eight readers that each kept 16 MB of
/// the pages a crawler walked through held 128 MB of the server's memory for nothing.
const READ_CACHE_KIB: u32 = 2048;

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    clock: Arc<dyn Clock>,
    /// Read round trips made so far (see [`SqliteStore::reads`]).
    reads: Arc<AtomicU64>,
}

pub(crate) fn sql_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, msg) => match f.code {
            ErrorCode::ConstraintViolation => StoreError::Conflict(Conflict::Constraint(
                msg.clone().unwrap_or_else(|| "constraint violated".into()),
            )),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy,
            _ => StoreError::other(e),
        },
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        _ => StoreError::other(e),
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

/// Runs an UPDATE meant to change exactly one row; none changed means there is no such row.
fn update_one(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<()> {
    match c.execute(sql, p).map_err(sql_err)? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

fn configure(conn: &Connection, read_only: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Room for every statement the hot paths run (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
         PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;",
    )?;
    if read_only {
        conn.execute_batch(&format!(
            "PRAGMA query_only=1; PRAGMA cache_size=-{READ_CACHE_KIB};"
        ))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(StoreError::other)?;
            }
        }
        let mut conn = Connection::open(path).map_err(sql_err)?;
        configure(&conn, false).map_err(sql_err)?;
        migrate(&mut conn)?;
        Ok(Self {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
            clock: Arc::new(SystemClock),
            reads: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This store with its time (the change log's instants) from `clock` instead of the system
    /// clock (tests that set the time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many read round trips (one read connection, one hand-off to a blocking thread each)
    /// this store has made: tests count them to hold hot paths to one read.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Now, from the store's clock, as stored.
    fn now_ms(&self) -> i64 {
        ms(self.clock.now())
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open(&path).map_err(sql_err)?;
                    configure(&c, true).map_err(sql_err)?;
                    c
                }
            };
            let out = f(&conn);
            let mut idle = pool.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < READ_POOL {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(StoreError::other)?
    }

    /// [`Self::read`] for a short read by key (a few pages, no scan): run on the calling thread
    /// when an idle pooled connection is at hand, so it costs no hand-off to the blocking pool
    /// (a wake-up of a pool thread and of this task again, which cost as much as the read
    /// itself); without one it goes through [`Self::read`], which opens one on a blocking thread.
    async fn read_now<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some(conn) = pooled else {
            return self.read(f).await;
        };
        self.reads.fetch_add(1, Ordering::Relaxed);
        let out = f(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < READ_POOL {
            idle.push(conn);
        }
        out
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let out = f(&tx)?;
            tx.commit().map_err(sql_err)?;
            Ok(out)
        })
        .await
        .map_err(StoreError::other)?
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let done: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_err)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        tx.execute_batch(sql).map_err(sql_err)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        tracing::info!(migration = i + 1, "applied SQLite migration");
    }
    Ok(())
}

fn log_change(
    tx: &Transaction<'_>,
    at: i64,
    entity: ChangeEntity,
    id: i64,
    key: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO changes (at, entity, entity_id, key) VALUES (?1, ?2, ?3, ?4)",
        params![at, entity.as_str(), id, key],
    )
    .map_err(sql_err)?;
    Ok(())
}

fn slug_taken_by_other(tx: &Transaction<'_>, slug: &Slug, me: Option<i64>) -> StoreResult<bool> {
    let owner: Option<i64> = tx
        .query_row(
            "SELECT story_id FROM slug_redirects WHERE old_slug = ?1 \
             UNION ALL SELECT id FROM stories WHERE slug = ?1 LIMIT 1",
            params![slug.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    Ok(matches!(owner, Some(o) if Some(o) != me))
}

fn write_story_lists(tx: &Transaction<'_>, id: i64, s: &StoryInput) -> StoreResult<()> {
    for table in ["story_editions", "story_authors", "story_tags"] {
        tx.execute(&format!("DELETE FROM {table} WHERE story_id = ?1"), [id])
            .map_err(sql_err)?;
    }
    let mut ed = tx
        .prepare_cached(
            "INSERT INTO story_editions (story_id, edition_id, rank, position) VALUES (?1,?2,?3,?4)",
        )
        .map_err(sql_err)?;
    for (i, p) in s.placements.iter().enumerate() {
        ed.execute(params![id, p.edition_id.0, p.rank, i as i64])
            .map_err(sql_err)?;
    }
    let mut au = tx
        .prepare_cached(
            "INSERT INTO story_authors (story_id, author_id, position) VALUES (?1,?2,?3)",
        )
        .map_err(sql_err)?;
    for (i, a) in s.author_ids.iter().enumerate() {
        au.execute(params![id, a.0, i as i64]).map_err(sql_err)?;
    }
    let mut tg = tx
        .prepare_cached("INSERT INTO story_tags (story_id, tag_id, position) VALUES (?1,?2,?3)")
        .map_err(sql_err)?;
    for (i, t) in s.tag_ids.iter().enumerate() {
        tg.execute(params![id, t.0, i as i64]).map_err(sql_err)?;
    }
    // The same lists in the story's row, for the article read (see `read_article`).
    tx.prepare_cached("UPDATE stories SET lists = ?2 WHERE id = ?1")
        .map_err(sql_err)?
        .execute(params![
            id,
            newsdesk_store::lists::encode(&s.placements, &s.author_ids, &s.tag_ids)
        ])
        .map_err(sql_err)?;
    Ok(())
}

/// The values of a story's columns, in the order both the insert and the update name them
/// (slug … video), so a new column is added in one place.
fn story_values(s: &StoryInput) -> Vec<Box<dyn rusqlite::ToSql>> {
    vec![
        Box::new(s.slug.as_str().to_owned()),
        Box::new(s.kind.as_str()),
        Box::new(s.status.as_str()),
        Box::new(s.headline.as_str().to_owned()),
        Box::new(s.summary.clone()),
        Box::new(s.body_md.clone()),
        Box::new(s.body_html.clone()),
        Box::new(s.sector_id.0),
        Box::new(s.region.clone()),
        Box::new(s.primary_edition_id.0),
        Box::new(s.desk_id.map(|d| d.0)),
        Box::new(s.hero_image_id.map(|d| d.0)),
        Box::new(s.provenance.as_str()),
        Box::new(s.source.clone()),
        Box::new(ms(s.created_at)),
        Box::new(ms(s.updated_at)),
        Box::new(s.published_at.map(ms)),
        Box::new(s.embargo_until.map(ms)),
        Box::new(s.video.clone()),
    ]
}

fn insert_story_tx(tx: &Transaction<'_>, s: &StoryInput, at: i64) -> StoreResult<i64> {
    insert_story_by(tx, s, None, false, at)
}

/// Inserts a story; `revision` keeps its first revision (bulk imports skip it).
fn insert_story_by(
    tx: &Transaction<'_>,
    s: &StoryInput,
    by: Option<UserId>,
    revision: bool,
    at: i64,
) -> StoreResult<i64> {
    if slug_taken_by_other(tx, &s.slug, None)? {
        return Err(StoreError::Conflict(Conflict::SlugTaken(
            s.slug.to_string(),
        )));
    }
    tx.prepare_cached(
        "INSERT INTO stories (version, slug, kind, status, headline, summary, body_md, body_html, \
         sector_id, region, primary_edition_id, desk_id, hero_image_id, provenance, source, \
         created_at, updated_at, published_at, embargo_until, video) \
         VALUES (1,?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
    )
    .map_err(sql_err)?
    .execute(rusqlite::params_from_iter(story_values(s).iter()))
    .map_err(sql_err)?;
    let id = tx.last_insert_rowid();
    if let Some(by) = by {
        tx.execute(
            "UPDATE stories SET created_by = ?2 WHERE id = ?1",
            params![id, by.0],
        )
        .map_err(sql_err)?;
    }
    write_story_lists(tx, id, s)?;
    if revision {
        newsroom::write_revision(tx, id, 1, by, s)?;
    }
    log_change(tx, at, ChangeEntity::Story, id, "")?;
    Ok(id)
}

/// Columns of a card, in the order [`card_from_row`] reads them.
const CARD_COLS: &str = "id, version, slug, kind, status, headline, summary, sector_id, region, \
    primary_edition_id, desk_id, hero_image_id, provenance, updated_at, published_at, embargo_until, \
    video";

fn card_from_row(r: &Row<'_>) -> rusqlite::Result<RawCard> {
    Ok(RawCard {
        id: r.get(0)?,
        version: r.get(1)?,
        slug: r.get(2)?,
        kind: r.get(3)?,
        status: r.get(4)?,
        headline: r.get(5)?,
        summary: r.get(6)?,
        sector_id: r.get(7)?,
        region: r.get(8)?,
        primary_edition_id: r.get(9)?,
        desk_id: r.get(10)?,
        hero_image_id: r.get(11)?,
        provenance: r.get(12)?,
        updated_at: r.get(13)?,
        published_at: r.get(14)?,
        embargo_until: r.get(15)?,
        video: r.get(16)?,
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
fn load_lists(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Lists> {
    load_lists_with(conn, |table, cols| lists_sql(table, cols, filter), args)
}

/// The published cards after a story id, a page in id order. The primary key's range drives
/// the query (`+s.status` keeps SQLite from choosing the status index, which for every page
/// walked every published story and sorted them: a paged start-up took time quadratic in the
/// stories, minutes at 1,000,000).
fn cards_after_sql() -> String {
    format!(
        "SELECT {CARD_COLS} FROM stories s WHERE s.id > ?1 AND +s.status = 'published' \
         ORDER BY s.id LIMIT ?2"
    )
}

/// The query of one list table (`story_editions`, `story_authors`, `story_tags`) for the
/// stories of a page ([`cards_after_sql`]): by their id range in the table's primary key (story
/// id first), without looking up each story's row again (at 1,000,000 stories that join read
/// the stories table three more times). Lists of stories in the range that are not published
/// come too and are left over: the cards take only their own.
fn lists_in_range_sql(table: &str, cols: &str) -> String {
    format!(
        "SELECT x.story_id, {cols} FROM {table} x WHERE x.story_id > ?1 AND x.story_id <= ?2 \
         ORDER BY x.story_id, x.position"
    )
}

/// The query of one list table for [`load_lists`]: the stories `filter` picks.
fn lists_sql(table: &str, cols: &str, filter: &str) -> String {
    format!(
        "SELECT x.story_id, {cols} FROM {table} x JOIN stories s ON s.id = x.story_id \
         WHERE {filter} ORDER BY x.story_id, x.position"
    )
}

/// The query of one list table for one story (`?1`): straight from the table's primary key
/// (story id first), without looking the story's row up again as [`lists_sql`] does.
fn one_story_lists_sql(table: &str, cols: &str) -> String {
    format!("SELECT x.story_id, {cols} FROM {table} x WHERE x.story_id = ?1 ORDER BY x.position")
}

/// [`load_lists`] with each table's query made by `q` (table, columns).
fn load_lists_with(
    conn: &Connection,
    q: impl Fn(&str, &str) -> String,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Lists> {
    let mut lists = Lists::default();
    let mut st = conn
        .prepare_cached(&q("story_editions", "x.edition_id, x.rank"))
        .map_err(sql_err)?;
    let rows = st
        .query_map(args, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i32>>(2)?,
            ))
        })
        .map_err(sql_err)?;
    for row in rows {
        let (sid, eid, rank) = row.map_err(sql_err)?;
        lists.placements.entry(sid).or_default().push(Placement {
            edition_id: EditionId(eid),
            rank,
        });
    }
    let mut st = conn
        .prepare_cached(&q("story_authors", "x.author_id"))
        .map_err(sql_err)?;
    let rows = st
        .query_map(args, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(sql_err)?;
    for row in rows {
        let (sid, aid) = row.map_err(sql_err)?;
        lists.authors.entry(sid).or_default().push(AuthorId(aid));
    }
    let mut st = conn
        .prepare_cached(&q("story_tags", "x.tag_id"))
        .map_err(sql_err)?;
    let rows = st
        .query_map(args, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(sql_err)?;
    for row in rows {
        let (sid, tid) = row.map_err(sql_err)?;
        lists.tags.entry(sid).or_default().push(TagId(tid));
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

fn load_story(conn: &Connection, id: i64) -> StoreResult<Option<Story>> {
    // Cached statements: an article miss reads a story, and preparing its four statements
    // each time cost more than running them.
    let row = conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLS}, body_md, body_html, source, created_at FROM stories WHERE id = ?1"
        ))
        .map_err(sql_err)?
        .query_row([id], |r| {
            Ok((
                card_from_row(r)?,
                r.get::<_, String>(17)?,
                r.get::<_, String>(18)?,
                r.get::<_, Option<String>>(19)?,
                r.get::<_, i64>(20)?,
            ))
        })
        .optional()
        .map_err(sql_err)?;
    let Some((raw, body_md, body_html, source, created_at)) = row else {
        return Ok(None);
    };
    let mut lists = load_lists_with(conn, one_story_lists_sql, &[&id])?;
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
/// and its lineage's first links (JSON arrays, `[]` when there are none, as for most stories).
/// One statement is one snapshot, so no transaction is opened around it: a miss costs one step
/// of one cached statement, where six statements (the row, three list tables, corrections,
/// lineage) and a BEGIN/COMMIT cost twice the CPU (`examples/article_reads.rs`).
///
/// The arrays are ordered after parsing (`newsdesk_store::lists::article_arrays`), not by
/// `ORDER BY` in the aggregates: SQLite makes an ephemeral b-tree (its own pager, page cache
/// and temporary space) for each ordered aggregate at every step, even over no rows, which was a
/// third of a read's CPU.
static ARTICLE_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CARD_COLS}, body_md, body_html, source, created_at, lists, \
         (SELECT json_group_array(json_array(c.id, c.wrong, c.right_text, c.at, c.by_user)) \
          FROM corrections c WHERE c.story_id = s.id), \
         (SELECT json_group_array(json_array(l.item_id, l.version, \
                                             json_extract(w.item, '$.links[0]'))) \
          FROM story_lineage l JOIN wire_items w ON w.id = l.item_id WHERE l.story_id = s.id) \
         FROM stories s WHERE s.id = ?1"
    )
});

/// The columns of [`ARTICLE_SQL`] after the card's.
type ArticleCols = (
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    String,
    String,
);

fn read_article(conn: &Connection, id: i64) -> StoreResult<ArticleRead> {
    let row: Option<(RawCard, ArticleCols)> = conn
        .prepare_cached(&ARTICLE_SQL)
        .map_err(sql_err)?
        .query_row([id], |r| {
            Ok((
                card_from_row(r)?,
                (
                    r.get(17)?,
                    r.get(18)?,
                    r.get(19)?,
                    r.get(20)?,
                    r.get(21)?,
                    r.get(22)?,
                    r.get(23)?,
                ),
            ))
        })
        .optional()
        .map_err(sql_err)?;
    let Some((raw, (body_md, body_html, source, created_at, lists, cor, lin))) = row else {
        return Err(StoreError::NotFound);
    };
    let Some((placements, authors, tags)) =
        lists.as_deref().and_then(newsdesk_store::lists::decode)
    else {
        // A row no save of this version wrote (copied in without its lists): read the tables.
        return article_from_tables(conn, id);
    };
    let card = card_with_lists(raw, placements, authors, tags)?;
    let story = story_of(card, body_md, body_html, source, created_at)?;
    let (corrections, lineage) = newsdesk_store::lists::article_arrays(StoryId(id), &cor, &lin)?;
    Ok(ArticleRead {
        story,
        corrections,
        lineage,
    })
}

/// The article read from the list tables, in one transaction (one snapshot): for a story row
/// without its `lists` (see [`read_article`]).
fn article_from_tables(c: &Connection, id: i64) -> StoreResult<ArticleRead> {
    let tx = c.unchecked_transaction().map_err(sql_err)?;
    let story = load_story(&tx, id)?.ok_or(StoreError::NotFound)?;
    let corrections = {
        let mut st = tx
            .prepare_cached(&format!(
                "SELECT {} FROM corrections WHERE story_id = ?1 ORDER BY at, id",
                newsroom::CORRECTION_COLS
            ))
            .map_err(sql_err)?;
        let rows = st
            .query_map([id], newsroom::raw_correction)
            .map_err(sql_err)?;
        collect(rows)?
            .into_iter()
            .map(newsroom::correction)
            .collect::<StoreResult<Vec<_>>>()?
    };
    let lineage = {
        // The first link is taken from the item's JSON by SQLite, not by parsing the whole
        // agency item (its body) in Rust.
        let mut st = tx
            .prepare_cached(
                "SELECT l.item_id, l.version, json_extract(w.item, '$.links[0]') \
                 FROM story_lineage l JOIN wire_items w ON w.id = l.item_id \
                 WHERE l.story_id = ?1 ORDER BY l.item_id",
            )
            .map_err(sql_err)?;
        let rows = st
            .query_map([id], |r| {
                Ok(LineageLink {
                    item: WireItemId(r.get(0)?),
                    version: r.get(1)?,
                    link: r.get(2)?,
                })
            })
            .map_err(sql_err)?;
        collect(rows)?
    };
    tx.finish().map_err(sql_err)?;
    Ok(ArticleRead {
        story,
        corrections,
        lineage,
    })
}

fn image_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, ImageInput)> {
    let widths: String = r.get(8)?;
    Ok((
        r.get(0)?,
        ImageInput {
            key: r.get(1)?,
            ext: r.get(2)?,
            alt: r.get(3)?,
            caption: r.get(4)?,
            credit: r.get(5)?,
            width: r.get(6)?,
            height: r.get(7)?,
            widths: widths.split(',').filter_map(|w| w.parse().ok()).collect(),
        },
    ))
}

fn image(id: i64, i: ImageInput) -> Image {
    Image {
        id: ImageId(id),
        key: i.key,
        ext: i.ext,
        alt: i.alt,
        caption: i.caption,
        credit: i.credit,
        width: i.width,
        height: i.height,
        widths: i.widths,
    }
}

const IMAGE_COLS: &str = "id, key, ext, alt, caption, credit, width, height, widths";

fn page_from_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, i32, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn page(row: (String, String, String, String, i32, i64)) -> StoreResult<StaticPage> {
    Ok(StaticPage {
        slug: slug_col(row.0)?,
        title: row.1,
        body_md: row.2,
        body_html: row.3,
        position: row.4,
        updated_at: from_ms(row.5)?,
    })
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> StoreResult<Vec<T>> {
    rows.map(|r| r.map_err(sql_err)).collect()
}

/// Replaces a story if it is at `expected_version`; keeps old slugs as redirects; writes a
/// revision (unless `revision` is false) and a change-log row.
fn update_story_tx(
    tx: &Transaction<'_>,
    id: StoryId,
    expected_version: i64,
    input: StoryInput,
    by: Option<UserId>,
    at: i64,
) -> StoreResult<Story> {
    let current: Option<(i64, String)> = tx
        .query_row(
            "SELECT version, slug FROM stories WHERE id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql_err)?;
    let Some((version, old_slug)) = current else {
        return Err(StoreError::NotFound);
    };
    if version != expected_version {
        return Err(StoreError::Conflict(Conflict::StaleVersion {
            expected: expected_version,
            actual: version,
        }));
    }
    if old_slug != input.slug.as_str() {
        if slug_taken_by_other(tx, &input.slug, Some(id.0))? {
            return Err(StoreError::Conflict(Conflict::SlugTaken(
                input.slug.to_string(),
            )));
        }
        // Coming back to an earlier slug: it is current again, not a redirect.
        tx.execute(
            "DELETE FROM slug_redirects WHERE old_slug = ?1",
            [input.slug.as_str()],
        )
        .map_err(sql_err)?;
        tx.execute(
            "INSERT INTO slug_redirects (old_slug, story_id) VALUES (?1, ?2)",
            params![old_slug, id.0],
        )
        .map_err(sql_err)?;
    }
    let s = &input;
    // The columns in STORY_COLUMNS order are ?1..?19; the id is ?20.
    let mut values = story_values(s);
    values.push(Box::new(id.0));
    tx.execute(
        "UPDATE stories SET version = version + 1, slug=?1, kind=?2, status=?3, headline=?4, \
         summary=?5, body_md=?6, body_html=?7, sector_id=?8, region=?9, primary_edition_id=?10, \
         desk_id=?11, hero_image_id=?12, provenance=?13, source=?14, created_at=?15, \
         updated_at=?16, published_at=?17, embargo_until=?18, video=?19 WHERE id = ?20",
        rusqlite::params_from_iter(values.iter()),
    )
    .map_err(sql_err)?;
    write_story_lists(tx, id.0, s)?;
    log_change(tx, at, ChangeEntity::Story, id.0, "")?;
    newsroom::write_revision(tx, id.0, version + 1, by, &input)?;
    Ok(Story {
        id,
        version: version + 1,
        input,
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[async_trait]
impl StoryStore for SqliteStore {
    async fn upsert_sector(&self, slug: &Slug, name: &str, position: i32) -> StoreResult<Sector> {
        let (slug, name) = (slug.clone(), name.to_owned());
        let at = self.now_ms();
        self.write(move |tx| {
            let id: i64 = tx
                .query_row(
                    "INSERT INTO sectors (slug, name, position) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(slug) DO UPDATE SET name = excluded.name, position = excluded.position \
                     RETURNING id",
                    params![slug.as_str(), name, position],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Taxonomy, id, "sector")?;
            Ok(Sector { id: SectorId(id), slug, name, position })
        })
        .await
    }

    async fn list_sectors(&self) -> StoreResult<Vec<Sector>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, slug, name, position FROM sectors ORDER BY position, id")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, slug, name, position)| {
                    Ok(Sector {
                        id: SectorId(id),
                        slug: slug_col(slug)?,
                        name,
                        position,
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_edition(
        &self,
        slug: &Slug,
        name: &str,
        tz: chrono_tz::Tz,
        position: i32,
    ) -> StoreResult<Edition> {
        let (slug, name) = (slug.clone(), name.to_owned());
        let at = self.now_ms();
        self.write(move |tx| {
            let id: i64 = tx
                .query_row(
                    "INSERT INTO editions (slug, name, tz, position) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(slug) DO UPDATE SET name = excluded.name, tz = excluded.tz, \
                     position = excluded.position RETURNING id",
                    params![slug.as_str(), name, tz.name(), position],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Taxonomy, id, "edition")?;
            Ok(Edition {
                id: EditionId(id),
                slug,
                name,
                tz,
                position,
            })
        })
        .await
    }

    async fn list_editions(&self) -> StoreResult<Vec<Edition>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, slug, name, tz, position FROM editions ORDER BY position, id")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get(4)?,
                    ))
                })
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, slug, name, tz, position)| {
                    let tz = tz
                        .parse::<chrono_tz::Tz>()
                        .map_err(|_| StoreError::msg(format!("bad time zone {tz}")))?;
                    Ok(Edition {
                        id: EditionId(id),
                        slug: slug_col(slug)?,
                        name,
                        tz,
                        position,
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_desk(&self, slug: &Slug, name: &str) -> StoreResult<Desk> {
        let (slug, name) = (slug.clone(), name.to_owned());
        let at = self.now_ms();
        self.write(move |tx| {
            let id: i64 = tx
                .query_row(
                    "INSERT INTO desks (slug, name) VALUES (?1, ?2) \
                     ON CONFLICT(slug) DO UPDATE SET name = excluded.name RETURNING id",
                    params![slug.as_str(), name],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Taxonomy, id, "desk")?;
            Ok(Desk {
                id: DeskId(id),
                slug,
                name,
            })
        })
        .await
    }

    async fn list_desks(&self) -> StoreResult<Vec<Desk>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, slug, name FROM desks ORDER BY name, id")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?)))
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, slug, name)| {
                    Ok(Desk {
                        id: DeskId(id),
                        slug: slug_col(slug)?,
                        name,
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_author(
        &self,
        slug: &Slug,
        name: &str,
        bio: &str,
        desk: Option<DeskId>,
    ) -> StoreResult<Author> {
        let (slug, name, bio) = (slug.clone(), name.to_owned(), bio.to_owned());
        let at = self.now_ms();
        self.write(move |tx| {
            let id: i64 = tx
                .query_row(
                    "INSERT INTO authors (slug, name, bio, desk_id) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(slug) DO UPDATE SET name = excluded.name, bio = excluded.bio, \
                     desk_id = excluded.desk_id RETURNING id",
                    params![slug.as_str(), name, bio, desk.map(|d| d.0)],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Taxonomy, id, "author")?;
            Ok(Author {
                id: AuthorId(id),
                slug,
                name,
                bio,
                desk_id: desk,
            })
        })
        .await
    }

    async fn list_authors(&self) -> StoreResult<Vec<Author>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, slug, name, bio, desk_id FROM authors ORDER BY name, id")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, slug, name, bio, desk)| {
                    Ok(Author {
                        id: AuthorId(id),
                        slug: slug_col(slug)?,
                        name,
                        bio,
                        desk_id: desk.map(DeskId),
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_tag(&self, slug: &Slug, name: &str) -> StoreResult<Tag> {
        let (slug, name) = (slug.clone(), name.to_owned());
        let at = self.now_ms();
        self.write(move |tx| {
            let id: i64 = tx
                .query_row(
                    "INSERT INTO tags (slug, name) VALUES (?1, ?2) \
                     ON CONFLICT(slug) DO UPDATE SET name = excluded.name RETURNING id",
                    params![slug.as_str(), name],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Taxonomy, id, "tag")?;
            Ok(Tag {
                id: TagId(id),
                slug,
                name,
            })
        })
        .await
    }

    async fn list_tags(&self) -> StoreResult<Vec<Tag>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, slug, name FROM tags ORDER BY name, id")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?)))
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, slug, name)| {
                    Ok(Tag {
                        id: TagId(id),
                        slug: slug_col(slug)?,
                        name,
                    })
                })
                .collect()
        })
        .await
    }

    async fn insert_image(&self, input: &ImageInput) -> StoreResult<Image> {
        let input = input.clone();
        let at = self.now_ms();
        self.write(move |tx| {
            let widths = input
                .widths
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            tx.execute(
                "INSERT INTO images (key, ext, alt, caption, credit, width, height, widths) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![
                    input.key,
                    input.ext,
                    input.alt,
                    input.caption,
                    input.credit,
                    input.width,
                    input.height,
                    widths
                ],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            log_change(tx, at, ChangeEntity::Image, id, "")?;
            Ok(image(id, input))
        })
        .await
    }

    async fn get_image(&self, id: ImageId) -> StoreResult<Image> {
        self.read(move |c| {
            let (id, i) = c
                .query_row(
                    &format!("SELECT {IMAGE_COLS} FROM images WHERE id = ?1"),
                    [id.0],
                    image_from_row,
                )
                .map_err(sql_err)?;
            Ok(image(id, i))
        })
        .await
    }

    async fn list_images(&self) -> StoreResult<Vec<Image>> {
        self.read(|c| {
            let mut st = c
                .prepare(&format!("SELECT {IMAGE_COLS} FROM images ORDER BY id"))
                .map_err(sql_err)?;
            let rows = st.query_map([], image_from_row).map_err(sql_err)?;
            Ok(collect(rows)?
                .into_iter()
                .map(|(id, i)| image(id, i))
                .collect())
        })
        .await
    }

    async fn insert_story(&self, story: &StoryInput) -> StoreResult<Story> {
        let input = story.clone();
        let at = self.now_ms();
        self.write(move |tx| {
            let id = insert_story_by(tx, &input, None, true, at)?;
            Ok(Story {
                id: StoryId(id),
                version: 1,
                input,
            })
        })
        .await
    }

    async fn insert_stories(&self, stories: &[StoryInput]) -> StoreResult<Vec<StoryId>> {
        let inputs = stories.to_vec();
        let at = self.now_ms();
        self.write(move |tx| {
            inputs
                .iter()
                .map(|s| insert_story_tx(tx, s, at).map(StoryId))
                .collect()
        })
        .await
    }

    async fn update_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
    ) -> StoreResult<Story> {
        let input = story.clone();
        let at = self.now_ms();
        self.write(move |tx| update_story_tx(tx, id, expected_version, input, None, at))
            .await
    }

    async fn get_story(&self, id: StoryId) -> StoreResult<Story> {
        self.read(move |c| load_story(c, id.0)?.ok_or(StoreError::NotFound))
            .await
    }

    async fn get_article(&self, id: StoryId) -> StoreResult<ArticleRead> {
        self.read_now(move |c| read_article(c, id.0)).await
    }

    async fn find_story_by_slug(&self, slug: &Slug) -> StoreResult<Option<Story>> {
        let slug = slug.clone();
        self.read(move |c| {
            let id: Option<i64> = c
                .query_row(
                    "SELECT id FROM stories WHERE slug = ?1",
                    [slug.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            match id {
                Some(id) => load_story(c, id),
                None => Ok(None),
            }
        })
        .await
    }

    async fn find_slug_redirect(&self, old: &Slug) -> StoreResult<Option<Slug>> {
        let old = old.clone();
        self.read(move |c| {
            let cur: Option<String> = c
                .query_row(
                    "SELECT s.slug FROM slug_redirects r JOIN stories s ON s.id = r.story_id \
                     WHERE r.old_slug = ?1",
                    [old.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            cur.map(slug_col).transpose()
        })
        .await
    }

    async fn list_published_cards(&self) -> StoreResult<Vec<StoryCard>> {
        self.read(|c| {
            let filter = "s.status = 'published'";
            let mut lists = load_lists(c, filter, &[])?;
            let mut st = c
                .prepare(&format!(
                    "SELECT {CARD_COLS} FROM stories s WHERE {filter} ORDER BY id"
                ))
                .map_err(sql_err)?;
            let mut rows = st.query([]).map_err(sql_err)?;
            // Each row becomes its card at once: no second copy of every card's text.
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(sql_err)? {
                out.push(finish_card(card_from_row(r).map_err(sql_err)?, &mut lists)?);
            }
            Ok(out)
        })
        .await
    }

    async fn list_published_cards_after(
        &self,
        after: Option<StoryId>,
        limit: usize,
    ) -> StoreResult<Vec<StoryCard>> {
        let after = after.map_or(i64::MIN, |i| i.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            // One snapshot for the cards and their lists: a save between them cannot mix them.
            let tx = c.unchecked_transaction().map_err(sql_err)?;
            let raws = {
                let mut st = tx.prepare_cached(&cards_after_sql()).map_err(sql_err)?;
                let rows = st
                    .query_map(params![after, limit], card_from_row)
                    .map_err(sql_err)?;
                collect(rows)?
            };
            let Some(last) = raws.last().map(|r| r.id) else {
                return Ok(Vec::new());
            };
            let mut lists = load_lists_with(&tx, lists_in_range_sql, &[&after, &last])?;
            raws.into_iter()
                .map(|raw| finish_card(raw, &mut lists))
                .collect()
        })
        .await
    }

    async fn get_cards(&self, ids: &[StoryId]) -> StoreResult<Vec<StoryCard>> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.read(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            let mut st = c
                .prepare_cached(&format!("SELECT {CARD_COLS} FROM stories s WHERE id = ?1"))
                .map_err(sql_err)?;
            for id in ids {
                let Some(raw) = st
                    .query_row([id], card_from_row)
                    .optional()
                    .map_err(sql_err)?
                else {
                    continue;
                };
                let mut lists = load_lists(c, "s.id = ?1", &[&id])?;
                out.push(finish_card(raw, &mut lists)?);
            }
            Ok(out)
        })
        .await
    }

    async fn count_stories(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM stories", [], |r| r.get(0))
                .map_err(sql_err)
        })
        .await
    }

    async fn upsert_page(&self, p: &StaticPage) -> StoreResult<()> {
        let p = p.clone();
        let at = self.now_ms();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO static_pages (slug, title, body_md, body_html, position, updated_at) \
                 VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(slug) DO UPDATE SET title=excluded.title, \
                 body_md=excluded.body_md, body_html=excluded.body_html, position=excluded.position, \
                 updated_at=excluded.updated_at",
                params![p.slug.as_str(), p.title, p.body_md, p.body_html, p.position, ms(p.updated_at)],
            )
            .map_err(sql_err)?;
            log_change(tx, at, ChangeEntity::Page, 0, p.slug.as_str())
        })
        .await
    }

    async fn get_page(&self, slug: &Slug) -> StoreResult<Option<StaticPage>> {
        let slug = slug.clone();
        self.read(move |c| {
            c.query_row(
                "SELECT slug, title, body_md, body_html, position, updated_at FROM static_pages WHERE slug = ?1",
                [slug.as_str()],
                page_from_row,
            )
            .optional()
            .map_err(sql_err)?
            .map(page)
            .transpose()
        })
        .await
    }

    async fn list_pages(&self) -> StoreResult<Vec<StaticPage>> {
        self.read(|c| {
            let mut st = c
                .prepare(
                    "SELECT slug, title, body_md, body_html, position, updated_at FROM static_pages \
                     ORDER BY position, slug",
                )
                .map_err(sql_err)?;
            let rows = st.query_map([], page_from_row).map_err(sql_err)?;
            collect(rows)?.into_iter().map(page).collect()
        })
        .await
    }

    async fn changes_since(&self, after: i64, limit: usize) -> StoreResult<Vec<Change>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT seq, at, entity, entity_id, key FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![after, limit as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
                })
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(seq, at, entity, entity_id, key)| {
                    Ok(Change {
                        seq,
                        at: from_ms(at)?,
                        entity: ChangeEntity::parse(&entity)
                            .ok_or_else(|| StoreError::msg(format!("bad change entity {entity}")))?,
                        entity_id,
                        key,
                    })
                })
                .collect()
        })
        .await
    }

    async fn last_change_seq(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })
            .map_err(sql_err)
        })
        .await
    }
}

#[async_trait]
impl AudienceStore for SqliteStore {
    async fn add_views(&self, batch: &[ViewCount]) -> StoreResult<()> {
        let batch = batch.to_vec();
        self.write(move |tx| {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO story_views (story_id, edition_id, day, views) VALUES (?1,?2,?3,?4) \
                     ON CONFLICT(story_id, edition_id, day) DO UPDATE SET views = views + excluded.views",
                )
                .map_err(sql_err)?;
            for v in &batch {
                st.execute(params![v.story_id.0, v.edition_id.0, v.day.to_string(), v.views])
                    .map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn views_since(&self, since: NaiveDate) -> StoreResult<Vec<ViewCount>> {
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT story_id, edition_id, day, views FROM story_views WHERE day >= ?1")
                .map_err(sql_err)?;
            let rows = st
                .query_map([since.to_string()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(s, e, day, views)| {
                    Ok(ViewCount {
                        story_id: StoryId(s),
                        edition_id: EditionId(e),
                        day: day.parse().map_err(StoreError::other)?,
                        views,
                    })
                })
                .collect()
        })
        .await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(
        &self,
        email: &EmailAddress,
        name: &str,
        role: Role,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<User> {
        let (email, name, hash, audit) = (
            email.clone(),
            name.to_owned(),
            password_hash.to_owned(),
            audit.clone(),
        );
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?1,?2,?3,?4,?5)",
                params![email.as_str(), name, role.as_str(), hash, ms(audit.at)],
            )
            .map_err(|e| match sql_err(e) {
                StoreError::Conflict(_) => StoreError::Conflict(Conflict::EmailTaken),
                other => other,
            })?;
            let id = tx.last_insert_rowid();
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("user:{id}");
            }
            newsroom::audit(tx, &a)?;
            newsroom::load_user(tx, id)
        })
        .await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        self.read(move |c| newsroom::load_user(c, id.0)).await
    }

    async fn find_login(&self, email: &EmailAddress) -> StoreResult<Option<(User, String)>> {
        let email = email.clone();
        self.read(move |c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {}, password_hash FROM users WHERE email = ?1",
                        newsroom::USER_COLS
                    ),
                    [email.as_str()],
                    |r| Ok((newsroom::raw_user(r)?, r.get::<_, String>(8)?)),
                )
                .optional()
                .map_err(sql_err)?;
            row.map(|(raw, hash)| Ok((newsroom::user(raw)?, hash)))
                .transpose()
        })
        .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {} FROM users ORDER BY name, id",
                    newsroom::USER_COLS
                ))
                .map_err(sql_err)?;
            let rows = st.query_map([], newsroom::raw_user).map_err(sql_err)?;
            collect(rows)?.into_iter().map(newsroom::user).collect()
        })
        .await
    }

    async fn update_user(
        &self,
        id: UserId,
        role: Role,
        disabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<User> {
        let audit = audit.clone();
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET role = ?2, disabled = ?3 WHERE id = ?1",
                    params![id.0, role.as_str(), disabled],
                )
                .map_err(sql_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.0])
                    .map_err(sql_err)?;
            }
            newsroom::audit(tx, &audit)?;
            newsroom::load_user(tx, id.0)
        })
        .await
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let (hash, audit) = (password_hash.to_owned(), audit.clone());
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    params![id.0, hash],
                )
                .map_err(sql_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.0])
                .map_err(sql_err)?;
            newsroom::audit(tx, &audit)
        })
        .await
    }

    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let s = session.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, csrf_token) VALUES (?1,?2,?3,?4,?5)",
                params![s.token_hash, s.user_id.0, ms(s.created_at), ms(s.last_seen_at), s.csrf_token],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(SessionRecord, User)>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT token_hash, user_id, created_at, last_seen_at, csrf_token FROM sessions WHERE token_hash = ?1",
                    [&token_hash],
                    newsroom::session_row,
                )
                .optional()
                .map_err(sql_err)?;
            let Some((hash, uid, created, seen, csrf)) = row else { return Ok(None) };
            let user = newsroom::load_user(c, uid)?;
            Ok(Some((
                SessionRecord {
                    token_hash: hash,
                    user_id: UserId(uid),
                    created_at: from_ms(created)?,
                    last_seen_at: from_ms(seen)?,
                    csrf_token: csrf,
                },
                user,
            )))
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                params![token_hash, ms(at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn create_invitation(&self, token_hash: &str, inv: &Invitation) -> StoreResult<()> {
        let (token_hash, inv) = (token_hash.to_owned(), inv.clone());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO invitations (token_hash, email, role, invited_by, expires_at) VALUES (?1,?2,?3,?4,?5)",
                params![token_hash, inv.email.as_str(), inv.role.as_str(), inv.invited_by.map(|u| u.0), ms(inv.expires_at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn take_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Invitation>> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| newsroom::take_invitation(tx, &token_hash, ms(now)))
            .await
    }
}

#[async_trait]
impl NewsroomStore for SqliteStore {
    async fn create_story(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
    ) -> StoreResult<Story> {
        let (input, audit) = (story.clone(), audit.clone());
        let at = self.now_ms();
        self.write(move |tx| {
            let id = insert_story_by(tx, &input, Some(by), true, at)?;
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("story:{id}");
            }
            newsroom::audit(tx, &a)?;
            Ok(Story {
                id: StoryId(id),
                version: 1,
                input,
            })
        })
        .await
    }

    async fn save_story(
        &self,
        id: StoryId,
        expected_version: i64,
        story: &StoryInput,
        by: Option<UserId>,
        audit: Option<&AuditInput>,
    ) -> StoreResult<Story> {
        let (input, audit) = (story.clone(), audit.cloned());
        let at = self.now_ms();
        self.write(move |tx| {
            let saved = update_story_tx(tx, id, expected_version, input, by, at)?;
            if let Some(a) = audit {
                newsroom::audit(tx, &a)?;
            }
            Ok(saved)
        })
        .await
    }

    async fn story_owner(&self, id: StoryId) -> StoreResult<Option<UserId>> {
        self.read(move |c| {
            let owner: Option<i64> = c
                .query_row(
                    "SELECT created_by FROM stories WHERE id = ?1",
                    [id.0],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            Ok(owner.map(UserId))
        })
        .await
    }

    async fn list_desk_stories(&self, q: &DeskQuery) -> StoreResult<Vec<DeskRow>> {
        let q = q.clone();
        self.read(move |c| {
            let mut sql = format!("SELECT {CARD_COLS}, created_by FROM stories s WHERE 1=1");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            if !q.statuses.is_empty() {
                let marks: Vec<String> = q
                    .statuses
                    .iter()
                    .map(|st| {
                        args.push(Box::new(st.as_str().to_owned()));
                        format!("?{}", args.len())
                    })
                    .collect();
                sql.push_str(&format!(" AND status IN ({})", marks.join(",")));
            }
            if let Some(o) = q.owner {
                args.push(Box::new(o.0));
                sql.push_str(&format!(" AND created_by = ?{}", args.len()));
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
                    " AND lower(headline) LIKE ?{} ESCAPE '\\'",
                    args.len()
                ));
            }
            if let Some(after) = q.embargoed_after {
                args.push(Box::new(ms(after)));
                sql.push_str(&format!(" AND embargo_until > ?{}", args.len()));
            }
            if let Some(sector) = q.sector {
                args.push(Box::new(sector.0));
                sql.push_str(&format!(" AND sector_id = ?{}", args.len()));
            }
            if let Some(desk) = q.desk {
                args.push(Box::new(desk.0));
                sql.push_str(&format!(" AND desk_id = ?{}", args.len()));
            }
            if let Some(edition) = q.edition {
                args.push(Box::new(edition.0));
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM story_editions e WHERE e.story_id = s.id AND e.edition_id = ?{})",
                    args.len()
                ));
            }
            if let Some(author) = q.author {
                args.push(Box::new(author.0));
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM story_authors a WHERE a.story_id = s.id AND a.author_id = ?{})",
                    args.len()
                ));
            }
            args.push(Box::new(q.limit.clamp(1, 1000) as i64));
            sql.push_str(&format!(
                " ORDER BY updated_at DESC, id DESC LIMIT ?{}",
                args.len()
            ));
            let mut st = c.prepare(&sql).map_err(sql_err)?;
            let refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|b| b.as_ref()).collect();
            let rows = st
                .query_map(refs.as_slice(), |r| {
                    Ok((card_from_row(r)?, r.get::<_, Option<i64>>(17)?))
                })
                .map_err(sql_err)?;
            let raws = collect(rows)?;
            let mut out = Vec::with_capacity(raws.len());
            for (raw, owner) in raws {
                let id = raw.id;
                let mut lists = load_lists(c, "s.id = ?1", &[&id])?;
                out.push(DeskRow {
                    card: finish_card(raw, &mut lists)?,
                    created_by: owner.map(UserId),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn list_revisions(&self, story: StoryId) -> StoreResult<Vec<RevisionMeta>> {
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT id, version, by_user, at, snapshot FROM story_revisions WHERE story_id = ?1 ORDER BY version DESC")
                .map_err(sql_err)?;
            let rows = st.query_map([story.0], newsroom::revision_meta).map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, version, by, at, snap)| {
                    let input = newsroom::parse_snapshot(&snap)?;
                    Ok(RevisionMeta {
                        id,
                        version,
                        by: by.map(UserId),
                        at: from_ms(at)?,
                        status: input.status,
                        headline: input.headline.to_string(),
                    })
                })
                .collect()
        })
        .await
    }

    async fn get_revision(&self, id: i64) -> StoreResult<Revision> {
        self.read(move |c| {
            let (rid, story, version, by, at, snap): (i64, i64, i64, Option<i64>, i64, String) = c
                .query_row(
                    "SELECT id, story_id, version, by_user, at, snapshot FROM story_revisions WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .map_err(sql_err)?;
            Ok(Revision {
                id: rid,
                story_id: StoryId(story),
                version,
                by: by.map(UserId),
                at: from_ms(at)?,
                input: newsroom::parse_snapshot(&snap)?,
            })
        })
        .await
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
        let (input, wrong, right, audit) = (
            updated.clone(),
            wrong.to_owned(),
            right.to_owned(),
            audit.clone(),
        );
        let now = self.now_ms();
        self.write(move |tx| {
            let at = input.updated_at;
            let saved = update_story_tx(tx, story, expected_version, input, audit.user_id, now)?;
            tx.execute(
                "INSERT INTO corrections (story_id, wrong, right_text, at, by_user) VALUES (?1,?2,?3,?4,?5)",
                params![story.0, wrong, right, ms(at), audit.user_id.map(|u| u.0)],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            newsroom::audit(tx, &audit)?;
            Ok((
                saved,
                Correction { id, story_id: story, wrong, right, at, by: audit.user_id },
            ))
        })
        .await
    }

    async fn list_corrections(&self, story: StoryId) -> StoreResult<Vec<Correction>> {
        self.read(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {} FROM corrections WHERE story_id = ?1 ORDER BY at, id",
                    newsroom::CORRECTION_COLS
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map([story.0], newsroom::raw_correction)
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(newsroom::correction)
                .collect()
        })
        .await
    }

    async fn recent_corrections(&self, limit: usize) -> StoreResult<Vec<Correction>> {
        self.read(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {} FROM corrections ORDER BY at DESC, id DESC LIMIT ?1",
                    newsroom::CORRECTION_COLS
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map([limit as i64], newsroom::raw_correction)
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(newsroom::correction)
                .collect()
        })
        .await
    }

    async fn publish_due(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoryId>> {
        self.write(move |tx| {
            let due: Vec<(i64, i64)> = {
                let mut st = tx
                    .prepare("SELECT id, version FROM stories WHERE status = 'scheduled' AND published_at <= ?1")
                    .map_err(sql_err)?;
                let rows = st.query_map([ms(now)], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sql_err)?;
                collect(rows)?
            };
            let mut done = Vec::new();
            for (id, version) in due {
                let Some(story) = load_story(tx, id)? else { continue };
                let mut input = story.input.clone();
                input.status = StoryStatus::Published;
                // The scheduled time is the publication time, even if the server was down then.
                input.updated_at = input.published_at.unwrap_or(now).max(input.updated_at);
                update_story_tx(tx, StoryId(id), version, input, None, ms(now))?;
                newsroom::audit(
                    tx,
                    &AuditInput {
                        at: now,
                        user_id: None,
                        action: "publish".into(),
                        target: format!("story:{id}"),
                        detail: "scheduled publication".into(),
                    },
                )?;
                done.push(StoryId(id));
            }
            Ok(done)
        })
        .await
    }

    async fn next_scheduled_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(|c| {
            let t: Option<i64> = c
                .query_row(
                    "SELECT min(published_at) FROM stories WHERE status = 'scheduled'",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            t.map(from_ms).transpose()
        })
        .await
    }

    async fn record_audit(&self, audit: &AuditInput) -> StoreResult<()> {
        let audit = audit.clone();
        self.write(move |tx| newsroom::audit(tx, &audit)).await
    }

    async fn list_audit(&self, limit: usize, before: Option<i64>) -> StoreResult<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, at, user_id, action, target, detail FROM audit_log \
                     WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map(
                    params![before.unwrap_or(i64::MAX), limit.clamp(1, 1000) as i64],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    },
                )
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(id, at, user, action, target, detail)| {
                    Ok(AuditEntry {
                        id,
                        at: from_ms(at)?,
                        user_id: user.map(UserId),
                        action,
                        target,
                        detail,
                    })
                })
                .collect()
        })
        .await
    }

    async fn touch_presence(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO story_presence (story_id, user_id, seen_at) VALUES (?1,?2,?3) \
                 ON CONFLICT(story_id, user_id) DO UPDATE SET seen_at = excluded.seen_at",
                params![story.0, user.0, ms(at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn presence(
        &self,
        story: StoryId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(User, DateTime<Utc>)>> {
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT user_id, seen_at FROM story_presence WHERE story_id = ?1 AND seen_at >= ?2 ORDER BY seen_at DESC")
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![story.0, ms(since)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(u, at)| Ok((newsroom::load_user(c, u)?, from_ms(at)?)))
                .collect()
        })
        .await
    }

    async fn put_autosave(
        &self,
        story: StoryId,
        user: UserId,
        at: DateTime<Utc>,
        form: &str,
    ) -> StoreResult<()> {
        let form = form.to_owned();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO story_autosaves (story_id, user_id, at, form) VALUES (?1,?2,?3,?4) \
                 ON CONFLICT(story_id, user_id) DO UPDATE SET at = excluded.at, form = excluded.form",
                params![story.0, user.0, ms(at), form],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn get_autosave(
        &self,
        story: StoryId,
        user: UserId,
    ) -> StoreResult<Option<(DateTime<Utc>, String)>> {
        self.read(move |c| {
            let row: Option<(i64, String)> = c
                .query_row(
                    "SELECT at, form FROM story_autosaves WHERE story_id = ?1 AND user_id = ?2",
                    params![story.0, user.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err)?;
            row.map(|(at, f)| Ok((from_ms(at)?, f))).transpose()
        })
        .await
    }

    async fn delete_autosave(&self, story: StoryId, user: UserId) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM story_autosaves WHERE story_id = ?1 AND user_id = ?2",
                params![story.0, user.0],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl LoginStore for SqliteStore {
    async fn set_totp(
        &self,
        id: UserId,
        secret: Option<&str>,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let (secret, audit) = (secret.map(str::to_owned), audit.clone());
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_secret = ?2, totp_last_step = NULL WHERE id = ?1",
                    params![id.0, secret],
                )
                .map_err(sql_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            newsroom::audit(tx, &audit)
        })
        .await
    }

    async fn totp_secret(&self, id: UserId) -> StoreResult<Option<String>> {
        self.read(move |c| {
            c.query_row("SELECT totp_secret FROM users WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .map_err(sql_err)
        })
        .await
    }

    async fn use_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool> {
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                    params![id.0, step],
                )
                .map_err(sql_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn create_pending_login(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        // A half-done login lives minutes; anything past its expiry at the time a new one
        // starts is forgotten.
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM pending_logins WHERE expires_at < ?1",
                params![ms(expires_at) - 86_400_000],
            )
            .map_err(sql_err)?;
            tx.execute(
                "INSERT INTO pending_logins (token_hash, user_id, expires_at) VALUES (?1,?2,?3)",
                params![token_hash, user.0, ms(expires_at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn pending_login(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(UserId, DateTime<Utc>)>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            let row: Option<(i64, i64)> = c
                .query_row(
                    "SELECT user_id, expires_at FROM pending_logins WHERE token_hash = ?1",
                    [token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err)?;
            row.map(|(u, e)| Ok((UserId(u), from_ms(e)?))).transpose()
        })
        .await
    }

    async fn end_pending_login(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM pending_logins WHERE token_hash = ?1",
                [token_hash],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn take_login_attempt(
        &self,
        keys: &[(&str, usize)],
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let keys: Vec<(String, usize)> = keys.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
        // The count and the insert share one IMMEDIATE transaction: no other take, on this node
        // or another, can come between them.
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM login_failures WHERE at < ?1",
                [ms(forget_before)],
            )
            .map_err(sql_err)?;
            for (key, limit) in &keys {
                let n: i64 = tx
                    .query_row(
                        "SELECT count(*) FROM login_failures WHERE key = ?1 AND at > ?2",
                        params![key, ms(since)],
                        |r| r.get(0),
                    )
                    .map_err(sql_err)?;
                if usize::try_from(n).unwrap_or(usize::MAX) >= *limit {
                    return Ok(false);
                }
            }
            for (key, _) in &keys {
                tx.execute(
                    "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
                    params![key, ms(at)],
                )
                .map_err(sql_err)?;
            }
            Ok(true)
        })
        .await
    }

    async fn give_back_login_attempt(&self, key: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM login_failures WHERE rowid = \
                 (SELECT rowid FROM login_failures WHERE key = ?1 AND at = ?2 LIMIT 1)",
                params![key, ms(at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn login_failures_since(&self, key: &str, since: DateTime<Utc>) -> StoreResult<usize> {
        let key = key.to_owned();
        self.read(move |c| {
            let n: i64 = c
                .query_row(
                    "SELECT count(*) FROM login_failures WHERE key = ?1 AND at > ?2",
                    params![key, ms(since)],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = ?1", [key])
                .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (?1,?2,?3)",
                params![token_hash, user.0, ms(expires_at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            let user: Option<i64> = tx
                .query_row(
                    "SELECT user_id FROM password_resets WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                    params![token_hash, ms(now)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            if user.is_some() {
                tx.execute("UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1", params![token_hash, ms(now)])
                    .map_err(sql_err)?;
            }
            Ok(user.map(UserId))
        })
        .await
    }
}

#[async_trait]
impl WireStore for SqliteStore {
    async fn store_wire_item(
        &self,
        item: &WireItem,
        content_hash: &str,
        cluster_id: ClusterId,
        tags: &WireTags,
        at: DateTime<Utc>,
    ) -> StoreResult<(WireItemId, WireOutcome)> {
        let (item, hash, tags) = (item.clone(), content_hash.to_owned(), tags.clone());
        self.write(move |tx| {
            wire::store_item(tx, &item, &hash, cluster_id.0, &tags, ms(at))
                .map(|(id, outcome)| (WireItemId(id), outcome))
        })
        .await
    }

    async fn store_wire_items(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>> {
        let items = items.to_vec();
        self.write(move |tx| {
            let mut touched = Vec::new();
            let out = items
                .iter()
                .map(|(item, hash, cluster, tags)| {
                    wire::store_batch_item(tx, item, hash, cluster.0, tags, ms(at), &mut touched)
                        .map(|(id, outcome)| (WireItemId(id), outcome))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            wire::refresh_clusters(tx, &touched, ms(at))?;
            Ok(out)
        })
        .await
    }

    // The wire desk and its jobs (auto-publish on the job table).
    async fn store_wire_items_queueing(
        &self,
        items: &[(WireItem, String, ClusterId, WireTags)],
        jobs_if_new: &[Option<NewJob>],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<(WireItemId, WireOutcome)>> {
        let (items, jobs_if_new) = (items.to_vec(), jobs_if_new.to_vec());
        self.write(move |tx| {
            let mut out = Vec::with_capacity(items.len());
            let mut queue = Vec::new();
            let mut touched = Vec::new();
            for (i, (item, hash, cluster, tags)) in items.iter().enumerate() {
                let stored =
                    wire::store_batch_item(tx, item, hash, cluster.0, tags, ms(at), &mut touched)
                        .map(|(id, outcome)| (WireItemId(id), outcome))?;
                if stored.1 == WireOutcome::New {
                    if let Some(Some(job)) = jobs_if_new.get(i) {
                        queue.push(job.clone());
                    }
                }
                out.push(stored);
            }
            wire::refresh_clusters(tx, &touched, ms(at))?;
            jobs::enqueue(tx, &queue, at)?;
            Ok(out)
        })
        .await
    }

    async fn create_story_from_wire_once(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        item: (WireItemId, i64),
    ) -> StoreResult<Option<Story>> {
        let (input, audit) = (story.clone(), audit.clone());
        let at = self.now_ms();
        self.write(move |tx| {
            let made: Option<i64> = tx
                .query_row(
                    "SELECT story_id FROM story_lineage WHERE item_id = ?1 LIMIT 1",
                    params![item.0 .0],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            if made.is_some() {
                return Ok(None);
            }
            let id = insert_story_by(tx, &input, Some(by), true, at)?;
            tx.execute(
                "INSERT INTO story_lineage (story_id, item_id, version) VALUES (?1,?2,?3)",
                params![id, item.0 .0, item.1],
            )
            .map_err(sql_err)?;
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("story:{id}");
            }
            newsroom::audit(tx, &a)?;
            Ok(Some(Story {
                id: StoryId(id),
                version: 1,
                input,
            }))
        })
        .await
    }

    async fn set_summary_drafts(&self, drafts: &[(ClusterId, String)]) -> StoreResult<()> {
        let drafts = drafts.to_vec();
        self.write(move |tx| {
            let mut st = tx
                .prepare_cached(
                    "UPDATE wire_clusters SET summary = ?2 WHERE id = ?1 AND summary_accepted = 0",
                )
                .map_err(sql_err)?;
            for (id, text) in &drafts {
                st.execute(params![id.0, text]).map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn find_wire_items(&self, keys: &[(String, String)]) -> StoreResult<Vec<StoredWireItem>> {
        let keys = keys.to_vec();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {} FROM wire_items WHERE agency = ?1 AND agency_id = ?2",
                    wire::ITEM_COLS
                ))
                .map_err(sql_err)?;
            let mut out = Vec::new();
            for (a, id) in &keys {
                if let Some(raw) = st
                    .query_row(params![a, id], wire::raw_item)
                    .optional()
                    .map_err(sql_err)?
                {
                    out.push(wire::item(raw)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn find_wire_item(
        &self,
        agency: &str,
        agency_id: &str,
    ) -> StoreResult<Option<StoredWireItem>> {
        let (agency, agency_id) = (agency.to_owned(), agency_id.to_owned());
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {} FROM wire_items WHERE agency = ?1 AND agency_id = ?2",
                    wire::ITEM_COLS
                ),
                params![agency, agency_id],
                wire::raw_item,
            )
            .optional()
            .map_err(sql_err)?
            .map(wire::item)
            .transpose()
        })
        .await
    }

    async fn get_wire_item(&self, id: WireItemId) -> StoreResult<StoredWireItem> {
        self.read(move |c| {
            let raw = c
                .query_row(
                    &format!("SELECT {} FROM wire_items WHERE id = ?1", wire::ITEM_COLS),
                    [id.0],
                    wire::raw_item,
                )
                .map_err(sql_err)?;
            wire::item(raw)
        })
        .await
    }

    async fn recent_wire_items(&self, since: DateTime<Utc>) -> StoreResult<Vec<StoredWireItem>> {
        self.read(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {} FROM wire_items WHERE received_at >= ?1 ORDER BY id",
                    wire::ITEM_COLS
                ))
                .map_err(sql_err)?;
            let rows = st.query_map([ms(since)], wire::raw_item).map_err(sql_err)?;
            collect(rows)?.into_iter().map(wire::item).collect()
        })
        .await
    }

    async fn wire_items_after(
        &self,
        after: WireItemId,
        since: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<StoredWireItem>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {} FROM wire_items WHERE id > ?1 AND received_at >= ?2 ORDER BY id LIMIT ?3",
                    wire::ITEM_COLS
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![after.0, ms(since), limit], wire::raw_item)
                .map_err(sql_err)?;
            collect(rows)?.into_iter().map(wire::item).collect()
        })
        .await
    }

    async fn last_wire_item_id(&self) -> StoreResult<WireItemId> {
        self.read(|c| {
            c.query_row("SELECT coalesce(max(id), 0) FROM wire_items", [], |r| {
                r.get(0)
            })
            .map(WireItemId)
            .map_err(sql_err)
        })
        .await
    }

    async fn list_clusters(&self, query: &WireQuery) -> StoreResult<Vec<WireCluster>> {
        let q = query.clone();
        self.read(move |c| wire::list_clusters(c, &q)).await
    }

    async fn get_cluster(&self, id: ClusterId) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
        // SQLite reads a negative LIMIT as "no limit".
        self.read(move |c| wire::cluster_with_items(c, id.0, -1))
            .await
    }

    async fn get_cluster_head(
        &self,
        id: ClusterId,
        limit: usize,
    ) -> StoreResult<(WireCluster, Vec<StoredWireItem>)> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| wire::cluster_with_items(c, id.0, limit))
            .await
    }

    async fn set_cluster_tags(
        &self,
        id: ClusterId,
        sector: Option<&str>,
        editions: &[String],
    ) -> StoreResult<()> {
        let sector = sector.map(str::to_owned);
        let editions = serde_json::to_string(editions).map_err(StoreError::other)?;
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE wire_clusters SET sector = ?2, editions = ?3 WHERE id = ?1",
                params![id.0, sector, editions],
            )
        })
        .await
    }

    async fn set_cluster_summary(
        &self,
        id: ClusterId,
        summary: &str,
        accepted: bool,
    ) -> StoreResult<()> {
        let summary = summary.to_owned();
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE wire_clusters SET summary = ?2, summary_accepted = ?3 WHERE id = ?1",
                params![id.0, summary, accepted],
            )
        })
        .await
    }

    async fn create_story_from_wire(
        &self,
        story: &StoryInput,
        by: UserId,
        audit: &AuditInput,
        lineage: &[(WireItemId, i64)],
    ) -> StoreResult<Story> {
        let (input, audit, lineage) = (story.clone(), audit.clone(), lineage.to_vec());
        let at = self.now_ms();
        self.write(move |tx| {
            let id = insert_story_by(tx, &input, Some(by), true, at)?;
            for (item, version) in &lineage {
                tx.execute(
                    "INSERT INTO story_lineage (story_id, item_id, version) VALUES (?1,?2,?3)",
                    params![id, item.0, version],
                )
                .map_err(sql_err)?;
            }
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("story:{id}");
            }
            newsroom::audit(tx, &a)?;
            Ok(Story {
                id: StoryId(id),
                version: 1,
                input,
            })
        })
        .await
    }

    async fn lineage(&self, story: StoryId) -> StoreResult<Vec<(WireItemId, i64)>> {
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT item_id, version FROM story_lineage WHERE story_id = ?1 ORDER BY item_id")
                .map_err(sql_err)?;
            let rows = st.query_map([story.0], |r| Ok((WireItemId(r.get(0)?), r.get(1)?))).map_err(sql_err)?;
            collect(rows)
        })
        .await
    }

    async fn lineage_flags(&self) -> StoreResult<Vec<LineageFlag>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT story_id, item_id, reason, at FROM lineage_flags WHERE resolved_at IS NULL ORDER BY at DESC, id DESC")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)))
                .map_err(sql_err)?;
            collect(rows)?
                .into_iter()
                .map(|(s, i, reason, at)| Ok(LineageFlag { story_id: StoryId(s), item_id: WireItemId(i), reason, at: from_ms(at)? }))
                .collect()
        })
        .await
    }

    async fn resolve_lineage_flags(&self, story: StoryId, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE lineage_flags SET resolved_at = ?2 WHERE story_id = ?1 AND resolved_at IS NULL",
                params![story.0, ms(at)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl SourceStore for SqliteStore {
    async fn create_source(
        &self,
        name: &str,
        url: Option<&str>,
        poll_minutes: i64,
        allow_loopback: bool,
        push_token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Source> {
        let (name, url, hash) = (
            name.to_owned(),
            url.map(str::to_owned),
            push_token_hash.to_owned(),
        );
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO wire_sources (name, url, poll_minutes, allow_loopback, push_token_hash, next_poll_at, created_at) \
                 VALUES (?1,?2,?3,?4,?5,?6,?6)",
                params![name, url, poll_minutes, allow_loopback, hash, ms(at)],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            sources::load(tx, id, ms(at))
        })
        .await
    }

    async fn list_sources(&self, now: DateTime<Utc>) -> StoreResult<Vec<Source>> {
        self.read(move |c| sources::list(c, ms(now))).await
    }

    async fn get_source(&self, id: SourceId, now: DateTime<Utc>) -> StoreResult<Source> {
        self.read(move |c| sources::load(c, id.0, ms(now))).await
    }

    async fn set_auto_publish(&self, id: SourceId, rule: Option<&AutoPublish>) -> StoreResult<()> {
        let rule = rule
            .map(serde_json::to_string)
            .transpose()
            .map_err(StoreError::other)?;
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE wire_sources SET auto_publish = ?2 WHERE id = ?1",
                params![id.0, rule],
            )
        })
        .await
    }

    async fn source_token_hash(&self, id: SourceId) -> StoreResult<Option<String>> {
        self.read(move |c| {
            c.query_row(
                "SELECT push_token_hash FROM wire_sources WHERE id = ?1",
                [id.0],
                |r| r.get(0),
            )
            .map_err(sql_err)
        })
        .await
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
        let url = url.map(str::to_owned);
        let ca_pem = ca_pem.map(str::to_owned);
        self.write(move |tx| {
            let old: Option<String> = tx
                .query_row("SELECT url FROM wire_sources WHERE id = ?1", [id.0], |r| {
                    r.get(0)
                })
                .map_err(sql_err)?;
            tx.execute(
                "UPDATE wire_sources SET url = ?2, poll_minutes = ?3, enabled = ?4, ca_pem = ?5 \
                 WHERE id = ?1",
                params![id.0, url, poll_minutes, enabled, ca_pem],
            )
            .map_err(sql_err)?;
            if old != url {
                tx.execute(
                    "UPDATE wire_sources SET etag = NULL, last_modified = NULL, failures = 0, \
                     next_poll_at = ?2 WHERE id = ?1",
                    params![id.0, ms(at)],
                )
                .map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn set_source_token(&self, id: SourceId, push_token_hash: &str) -> StoreResult<()> {
        let hash = push_token_hash.to_owned();
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE wire_sources SET push_token_hash = ?2 WHERE id = ?1",
                params![id.0, hash],
            )
        })
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
        self.read(move |c| {
            let name: String = c
                .query_row("SELECT name FROM wire_sources WHERE id = ?1", [id.0], |r| {
                    r.get(0)
                })
                .map_err(sql_err)?;
            let start = now - 86_400_000 * days as i64;
            let mut st = c
                .prepare_cached(
                    "SELECT (?3 - received_at) / 86400000 AS d, count(*) FROM wire_items \
                     WHERE agency = ?1 AND received_at > ?2 AND received_at <= ?3 GROUP BY d",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![name, start, now], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(sql_err)?;
            let mut out = vec![0i64; days];
            for row in rows {
                let (d, n) = row.map_err(sql_err)?;
                if let Some(slot) = usize::try_from(d).ok().and_then(|d| out.get_mut(d)) {
                    *slot = n;
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_poll(&self, id: SourceId, record: &PollRecord) -> StoreResult<()> {
        let r = record.clone();
        self.write(move |tx| {
            let n = match &r.error {
                None => tx.execute(
                    "UPDATE wire_sources SET last_success_at = ?2, failures = 0, next_poll_at = ?3, \
                     etag = coalesce(?4, etag), last_modified = coalesce(?5, last_modified) WHERE id = ?1",
                    params![id.0, ms(r.at), ms(r.next_poll_at), r.etag, r.last_modified],
                ),
                Some(e) => tx.execute(
                    "UPDATE wire_sources SET last_error = ?2, last_error_at = ?3, failures = failures + 1, \
                     next_poll_at = ?4 WHERE id = ?1",
                    params![id.0, e, ms(r.at), ms(r.next_poll_at)],
                ),
            }
            .map_err(sql_err)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue_jobs(
        &self,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Option<JobId>>> {
        let jobs = jobs.to_vec();
        self.write(move |tx| jobs::enqueue(tx, &jobs, now)).await
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let worker = worker.to_owned();
        self.write(move |tx| jobs::claim(tx, &worker, now, lease_until, limit))
            .await
    }

    async fn extend_job_lease(
        &self,
        id: JobId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<()> {
        let worker = worker.to_owned();
        self.write(move |tx| jobs::extend(tx, id, &worker, lease_until))
            .await
    }

    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (worker, outcome) = (worker.to_owned(), outcome.clone());
        self.write(move |tx| jobs::finish(tx, id, &worker, &outcome, now))
            .await
    }

    async fn redact_job_payload(&self, id: JobId, worker: &str, payload: &str) -> StoreResult<()> {
        let (worker, payload) = (worker.to_owned(), payload.to_owned());
        self.write(move |tx| jobs::redact(tx, id, &worker, &payload))
            .await
    }

    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> StoreResult<Vec<Job>> {
        self.read(move |c| jobs::list(c, state, limit)).await
    }

    async fn get_job(&self, id: JobId) -> StoreResult<Job> {
        self.read(move |c| jobs::get(c, id)).await
    }

    async fn retry_dead_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| jobs::retry_dead(tx, id, now)).await
    }

    async fn job_counts(&self) -> StoreResult<JobCounts> {
        self.read(jobs::counts).await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>, keep_dead: usize) -> StoreResult<usize> {
        self.write(move |tx| jobs::prune(tx, before, keep_dead))
            .await
    }
}

/// A fresh store in a new temporary folder (tests and the conformance suite).
pub fn temp_store() -> StoreResult<Arc<SqliteStore>> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    static SWEEP: std::sync::Once = std::sync::Once::new();
    // Folders of test processes that have ended are removed (a test may drop its store and
    // reopen the same path, so a store does not delete its own folder when dropped).
    SWEEP.call_once(|| {
        // Only where /proc tells which processes are alive.
        if !Path::new("/proc/self").exists() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("newsdesk-test-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
    let dir = std::env::temp_dir().join(format!(
        "newsdesk-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Arc::new(SqliteStore::open(&dir.join("newsdesk.db"))?))
}

#[async_trait]
impl ApiTokenStore for SqliteStore {
    async fn create_api_token(&self, input: &ApiTokenInput) -> StoreResult<ApiToken> {
        let input = input.clone();
        self.write(move |tx| api_tokens::create(tx, &input)).await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        self.read(api_tokens::list).await
    }

    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, String)>> {
        let hash = hash.to_owned();
        self.read(move |c| api_tokens::by_hash(c, &hash)).await
    }

    async fn touch_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| api_tokens::touch(tx, id, ms(at)))
            .await
    }

    async fn revoke_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(move |tx| api_tokens::revoke(tx, id, ms(at)))
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn read_connections_keep_a_small_page_cache() {
        let s = temp_store().unwrap();
        let (kib, query_only): (i64, i64) = s
            .read(|c| {
                let kib = c
                    .query_row("PRAGMA cache_size", [], |r| r.get(0))
                    .map_err(sql_err)?;
                let q = c
                    .query_row("PRAGMA query_only", [], |r| r.get(0))
                    .map_err(sql_err)?;
                Ok((kib, q))
            })
            .await
            .unwrap();
        assert_eq!(kib, -i64::from(READ_CACHE_KIB));
        assert_eq!(query_only, 1);
    }

    /// What SQLite plans for `sql` (`EXPLAIN QUERY PLAN`), one step a line.
    fn plan(c: &Connection, sql: &str) -> String {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        // Every query planned here takes two numbers.
        let rows = st.query_map([0i64, 0], |r| r.get::<_, String>(3)).unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    /// A page of the paged start-up reads only its own stories: the primary keys' ranges drive
    /// the queries. (Through the status index, every page walked every published story and
    /// sorted them: start-up was quadratic in the stories.)
    #[tokio::test]
    async fn a_page_of_cards_is_read_by_its_id_range() {
        let s = temp_store().unwrap();
        let plans = s
            .read(|c| {
                let mut out = vec![plan(c, &cards_after_sql())];
                for (table, cols) in [
                    ("story_editions", "x.edition_id, x.rank"),
                    ("story_authors", "x.author_id"),
                    ("story_tags", "x.tag_id"),
                ] {
                    out.push(plan(c, &lists_in_range_sql(table, cols)));
                }
                Ok(out)
            })
            .await
            .unwrap();
        assert_eq!(plans[0], "SEARCH s USING INTEGER PRIMARY KEY (rowid>?)");
        // (The old plan: "SEARCH s USING INDEX stories_by_status (status=?)", then a sort.)
        for p in &plans[1..] {
            let first = p.lines().next().unwrap();
            assert!(first.starts_with("SEARCH x USING INDEX"), "{p}");
            assert!(first.ends_with("(story_id>? AND story_id<?)"), "{p}");
            // Not the stories' rows again, one lookup a list entry.
            assert!(!p.contains("SEARCH s"), "{p}");
            assert!(!p.contains("stories_by_status"), "{p}");
        }
    }

    #[test]
    fn cards_keep_no_spare_room_in_their_lists() {
        let mut lists = Lists::default();
        lists.placements.entry(1).or_default().push(Placement {
            edition_id: EditionId(1),
            rank: None,
        });
        lists.authors.entry(1).or_default().push(AuthorId(2));
        for t in 1..=3 {
            lists.tags.entry(1).or_default().push(TagId(t));
        }
        let raw = RawCard {
            id: 1,
            version: 1,
            slug: "a-story".into(),
            kind: Kind::News.as_str().into(),
            status: StoryStatus::Published.as_str().into(),
            headline: "A story".into(),
            summary: String::new(),
            sector_id: 1,
            region: String::new(),
            primary_edition_id: 1,
            desk_id: None,
            hero_image_id: None,
            provenance: Provenance::Staff.as_str().into(),
            updated_at: 0,
            published_at: Some(0),
            embargo_until: None,
            video: None,
        };
        let c = finish_card(raw, &mut lists).unwrap();
        assert_eq!(c.placements.capacity(), 1);
        assert_eq!(c.author_ids.capacity(), 1);
        assert_eq!(c.tag_ids.capacity(), 3);
    }
}
