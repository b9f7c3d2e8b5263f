//! SQL of imports from other systems: which items were imported, and their old addresses.

use super::{insert_story_by, newsroom, sql_err, SqliteStore};
use async_trait::async_trait;
use newsdesk_domain::*;
use newsdesk_store::{ImportRecord, ImportStore, ImportTarget, StoreResult};
use rusqlite::{params, OptionalExtension, Transaction};

fn import_target(story: Option<i64>, page: Option<String>) -> Option<ImportTarget> {
    match (story, page) {
        (Some(id), _) => Some(ImportTarget::Story(StoryId(id))),
        (None, Some(p)) => Slug::parse(&p).ok().map(ImportTarget::Page),
        _ => None,
    }
}

fn record_import_tx(
    tx: &Transaction<'_>,
    record: &ImportRecord,
    target: &ImportTarget,
    at: i64,
) -> StoreResult<()> {
    let (story, page) = match target {
        ImportTarget::Story(id) => (Some(id.0), None),
        ImportTarget::Page(slug) => (None, Some(slug.to_string())),
    };
    tx.execute(
        "INSERT INTO imported_items (source, source_id, story_id, page_slug, imported_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![record.source, record.source_id, story, page, at],
    )
    .map_err(sql_err)?;
    for path in &record.old_paths {
        tx.execute(
            "INSERT INTO old_url_redirects (path, story_id, page_slug) VALUES (?1, ?2, ?3) \
             ON CONFLICT (path) DO NOTHING",
            params![path, story, page],
        )
        .map_err(sql_err)?;
    }
    Ok(())
}

#[async_trait]
impl ImportStore for SqliteStore {
    async fn imported(&self, source: &str, source_id: &str) -> StoreResult<Option<ImportTarget>> {
        let (source, source_id) = (source.to_owned(), source_id.to_owned());
        self.read(move |c| {
            let row: Option<(Option<i64>, Option<String>)> = c
                .query_row(
                    "SELECT story_id, page_slug FROM imported_items \
                     WHERE source = ?1 AND source_id = ?2",
                    params![source, source_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err)?;
            Ok(row.and_then(|(s, p)| import_target(s, p)))
        })
        .await
    }

    async fn create_imported_story(
        &self,
        record: &ImportRecord,
        story: &StoryInput,
        by: Option<UserId>,
        audit: &AuditInput,
    ) -> StoreResult<Story> {
        let (record, input, audit) = (record.clone(), story.clone(), audit.clone());
        let at = self.now_ms();
        self.write(move |tx| {
            let id = insert_story_by(tx, &input, by, true, at)?;
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("story:{id}");
            }
            newsroom::audit(tx, &a)?;
            record_import_tx(tx, &record, &ImportTarget::Story(StoryId(id)), at)?;
            Ok(Story {
                id: StoryId(id),
                version: 1,
                input,
            })
        })
        .await
    }

    async fn record_import(&self, record: &ImportRecord, target: &ImportTarget) -> StoreResult<()> {
        let (record, target) = (record.clone(), target.clone());
        let at = self.now_ms();
        self.write(move |tx| record_import_tx(tx, &record, &target, at))
            .await
    }

    async fn find_redirect(&self, path: &str) -> StoreResult<Option<ImportTarget>> {
        let path = path.to_owned();
        self.read(move |c| {
            let row: Option<(Option<i64>, Option<String>)> = c
                .query_row(
                    "SELECT story_id, page_slug FROM old_url_redirects WHERE path = ?1",
                    [path],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err)?;
            Ok(row.and_then(|(s, p)| import_target(s, p)))
        })
        .await
    }

    async fn count_imported(&self, source: &str) -> StoreResult<i64> {
        let source = source.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM imported_items WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .map_err(sql_err)
        })
        .await
    }

    async fn import_account(
        &self,
        email: &EmailAddress,
        name: &str,
        author: AuthorId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<(User, bool)> {
        let (email, name, hash, audit) = (
            email.clone(),
            name.to_owned(),
            password_hash.to_owned(),
            audit.clone(),
        );
        self.write(move |tx| {
            let found: Option<i64> = tx
                .query_row(
                    "SELECT id FROM users WHERE email = ?1",
                    [email.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err)?;
            if let Some(id) = found {
                tx.execute(
                    "UPDATE users SET author_id = ?2 WHERE id = ?1 AND author_id IS NULL",
                    params![id, author.0],
                )
                .map_err(sql_err)?;
                return Ok((newsroom::load_user(tx, id)?, false));
            }
            tx.execute(
                "INSERT INTO users (email, name, role, password_hash, disabled, author_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
                params![
                    email.as_str(),
                    name,
                    Role::Author.as_str(),
                    hash,
                    author.0,
                    super::ms(audit.at)
                ],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            let mut a = audit.clone();
            if a.target.is_empty() {
                a.target = format!("user:{id}");
            }
            newsroom::audit(tx, &a)?;
            Ok((newsroom::load_user(tx, id)?, true))
        })
        .await
    }
}
