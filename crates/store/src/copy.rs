//! Copying a whole site from one store to another (`newsdesk store copy`), table by table.
//!
//! The store traits read and write use cases, not whole tables (there is no "every session" or
//! "every send row" call, nor a way to write a row with its id), so the copy is a table-level
//! one: each backend implements [`TableCopy`] (its tables' columns, rows in key order a batch at a
//! time, inserts of rows as they are, keeping ids), and [`copy_site`] drives any source into any
//! target. Tables go in [`TABLES`] order (a table after those it refers to); what is only a
//! node's passing state ([`SKIPPED`]: sessions, half-done logins, the login throttle, presence,
//! password-reset links, leases) stays behind. The target is checked at the end: row counts per
//! table, then a sample of rows looked up in the target by all their values.

use crate::{StoreError, StoreResult};
use async_trait::async_trait;

/// One value of a row, as both backends can hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer (SQLite INTEGER; PostgreSQL BIGINT, INTEGER, SMALLINT, BOOLEAN as 0/1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// The tables copied, in an order where each comes after those it refers to.
pub const TABLES: &[&str] = &[
    "sectors",
    "editions",
    "desks",
    "authors",
    "tags",
    "images",
    "users",
    "stories",
    "story_editions",
    "story_authors",
    "story_tags",
    "slug_redirects",
    "static_pages",
    "changes",
    "story_views",
    "invitations",
    "story_revisions",
    "corrections",
    "audit_log",
    "story_autosaves",
    "wire_clusters",
    "wire_items",
    "story_lineage",
    "lineage_flags",
    "wire_sources",
    "jobs",
    "newsletter_subscribers",
    "newsletter_subscriber_editions",
    "newsletter_subscriber_sectors",
    "newsletter_digests",
    "newsletter_sends",
    "api_tokens",
    "imported_items",
    "old_url_redirects",
    "feedback",
    "webhooks",
    "webhook_deliveries",
    "site_secrets",
];

/// Tables left behind: one node's passing state, and secrets that should not outlive a move
/// (sessions, reset links). Readers and staff log in again on the new site.
pub const SKIPPED: &[&str] = &[
    "sessions",
    "pending_logins",
    "login_failures",
    "story_presence",
    "password_resets",
    "leases",
    "schema_migrations",
];

/// A backend's tables as rows: what [`copy_site`] needs of a source and a target.
#[async_trait]
pub trait TableCopy: Send + Sync {
    /// Which backend this is ("sqlite", "postgres").
    fn kind(&self) -> &'static str;
    /// Every table of the store's schema (any order).
    async fn table_names(&self) -> StoreResult<Vec<String>>;
    /// The columns of a table, in the schema's order.
    async fn columns(&self, table: &str) -> StoreResult<Vec<String>>;
    /// The rows of a table.
    async fn count_rows(&self, table: &str) -> StoreResult<u64>;
    /// The columns of a table's primary key, in key order (empty when it has none).
    async fn key_columns(&self, table: &str) -> StoreResult<Vec<String>>;
    /// At most `limit` rows of `table` (the values of `cols`), from row number `offset` on.
    /// With a `key` (columns among `cols`, the table's primary key), ordered by it and, given
    /// `after` (the key's values in the last row read), only the rows after it: a copy's batch is
    /// one index range, however large the table. With an empty `key`, ordered by all of `cols`
    /// (every call sorts the table again: only for small tables without a primary key).
    async fn read_rows(
        &self,
        table: &str,
        cols: &[String],
        key: &[String],
        after: Option<&[Cell]>,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<Vec<Cell>>>;
    /// Inserts rows as they are (ids kept), in one transaction.
    async fn write_rows(&self, table: &str, cols: &[String], rows: &[Vec<Cell>])
        -> StoreResult<()>;
    /// Whether a row with exactly these values is in `table`.
    async fn has_row(&self, table: &str, cols: &[String], row: &[Cell]) -> StoreResult<bool>;
    /// Empties these tables (in the order given).
    async fn clear_tables(&self, tables: &[String]) -> StoreResult<()>;
    /// After the copy: whatever makes new rows follow the copied ones (PostgreSQL's identity
    /// sequences move past the copied ids).
    async fn finish_copy(&self, tables: &[String]) -> StoreResult<()>;
}

/// How a copy went, table by table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyReport {
    /// (table, rows in the source, rows in the target after the copy).
    pub tables: Vec<(String, u64, u64)>,
    /// Tables left behind on purpose, with their rows in the source.
    pub skipped: Vec<(String, u64)>,
    /// Rows sampled and found identical in the target.
    pub sampled: u64,
    /// What did not match (empty when the copy checks out).
    pub mismatches: Vec<String>,
    /// Source columns the target has no place for (left out).
    pub dropped_columns: Vec<String>,
}

impl CopyReport {
    /// True when every count matched and every sampled row was found.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// What the copy tells its caller as it goes (a progress bar).
pub trait CopyProgress: Send {
    /// The rows to copy in all, once known.
    fn total(&mut self, rows: u64);
    /// A table is being copied.
    fn table(&mut self, name: &str);
    /// `rows` more rows were copied.
    fn copied(&mut self, rows: u64);
}

impl CopyProgress for () {
    fn total(&mut self, _: u64) {}
    fn table(&mut self, _: &str) {}
    fn copied(&mut self, _: u64) {}
}

/// How to copy.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Rows per batch (memory holds one batch).
    pub batch: usize,
    /// Empty the target's tables first instead of refusing a target that has content.
    pub replace: bool,
    /// Rows sampled per table for the final check.
    pub sample: usize,
    /// Seed of the sample's choice.
    pub seed: u64,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            batch: 500,
            replace: false,
            sample: 20,
            seed: 0x5eed,
        }
    }
}

/// Copies every table of `from` into `to` (both migrated to the same schema), then checks the
/// target. A target with any content is refused unless `options.replace`.
pub async fn copy_site(
    from: &dyn TableCopy,
    to: &dyn TableCopy,
    options: &CopyOptions,
    progress: &mut dyn CopyProgress,
) -> StoreResult<CopyReport> {
    let mut report = CopyReport::default();
    let source_tables = from.table_names().await?;
    let target_tables = to.table_names().await?;
    // Known tables in their order, then any other (a table added since this list was written
    // is copied too, after the rest).
    let mut tables: Vec<String> = TABLES
        .iter()
        .filter(|t| source_tables.iter().any(|s| s == *t))
        .map(|t| t.to_string())
        .collect();
    let mut extra: Vec<String> = source_tables
        .iter()
        .filter(|t| !TABLES.contains(&t.as_str()) && !SKIPPED.contains(&t.as_str()))
        .cloned()
        .collect();
    extra.sort();
    tables.extend(extra);
    for t in &tables {
        if !target_tables.contains(t) {
            return Err(StoreError::msg(format!(
                "the target has no table {t}: is it migrated to the same version as the source?"
            )));
        }
    }
    for t in SKIPPED {
        if source_tables.iter().any(|s| s == t) {
            report
                .skipped
                .push((t.to_string(), from.count_rows(t).await?));
        }
    }
    let mut busy = Vec::new();
    for t in &tables {
        if to.count_rows(t).await? > 0 {
            busy.push(t.clone());
        }
    }
    if !busy.is_empty() {
        if !options.replace {
            return Err(StoreError::msg(format!(
                "the target is not empty (rows in {}); copy into an empty database, or pass \
                 --replace to empty these tables first",
                busy.join(", ")
            )));
        }
        let reversed: Vec<String> = tables.iter().rev().cloned().collect();
        to.clear_tables(&reversed).await?;
    }
    let mut counts = Vec::with_capacity(tables.len());
    for t in &tables {
        counts.push(from.count_rows(t).await?);
    }
    progress.total(counts.iter().sum());
    let batch = options.batch.max(1);
    let mut plans = Vec::with_capacity(tables.len());
    for t in &tables {
        let src = from.columns(t).await?;
        let dst = to.columns(t).await?;
        let cols: Vec<String> = src.iter().filter(|c| dst.contains(c)).cloned().collect();
        for c in src.iter().filter(|c| !dst.contains(c)) {
            report.dropped_columns.push(format!("{t}.{c}"));
        }
        plans.push(cols);
    }
    for (t, cols) in tables.iter().zip(&plans) {
        progress.table(t);
        // Batches follow the primary key (keyset paging) when every key column is copied.
        let mut key = from.key_columns(t).await?;
        let at: Vec<usize> = key
            .iter()
            .filter_map(|k| cols.iter().position(|c| c == k))
            .collect();
        if at.len() != key.len() {
            key.clear();
        }
        let (mut after, mut offset) = (None::<Vec<Cell>>, 0u64);
        loop {
            let rows = from
                .read_rows(
                    t,
                    cols,
                    &key,
                    after.as_deref(),
                    if key.is_empty() { offset } else { 0 },
                    batch,
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            to.write_rows(t, cols, &rows).await?;
            progress.copied(rows.len() as u64);
            if !key.is_empty() {
                let last = rows.last().map(|r| {
                    at.iter()
                        .map(|i| r.get(*i).cloned().unwrap_or(Cell::Null))
                        .collect::<Vec<_>>()
                });
                if last.as_ref().is_some_and(|k| k.contains(&Cell::Null)) {
                    return Err(StoreError::msg(format!("{t}: a row with no primary key")));
                }
                after = last;
            }
            offset += rows.len() as u64;
            if rows.len() < batch {
                break;
            }
        }
    }
    to.finish_copy(&tables).await?;
    // The check: counts, then a sample of rows found in the target with the same values.
    let mut rng = options.seed | 1;
    for ((t, cols), n) in tables.iter().zip(&plans).zip(&counts) {
        let mut keys = from.key_columns(t).await?;
        if !keys.iter().all(|k| cols.contains(k)) {
            keys.clear();
        }
        let got = to.count_rows(t).await?;
        if got != *n {
            report
                .mismatches
                .push(format!("{t}: {n} rows in the source, {got} in the target"));
        }
        report.tables.push((t.clone(), *n, got));
        if *n == 0 {
            continue;
        }
        for _ in 0..options.sample.min(*n as usize) {
            // xorshift: a reproducible sample without a dependency.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = rng % n;
            let Some(row) = from
                .read_rows(t, cols, &keys[..], None, at, 1)
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            report.sampled += 1;
            if !to.has_row(t, cols, &row).await? {
                report
                    .mismatches
                    .push(format!("{t}: row {at} of the source is not in the target"));
            }
        }
    }
    Ok(report)
}
