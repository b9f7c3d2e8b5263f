//! Imports from other systems on PostgreSQL: which items were imported, and their old
//! addresses. An item imported twice is the primary key's conflict
//! ([`newsdesk_store::Conflict::Constraint`], as on SQLite), also when two nodes import it at once.

use super::{begin, commit, exec, get, insert_story_by, newsroom, query_one, query_opt, PgStore};
use async_trait::async_trait;
use newsdesk_domain::*;
use newsdesk_store::{ImportRecord, ImportStore, ImportTarget, StoreResult};
use tokio_postgres::{Row, Transaction};

fn import_target(r: &Row) -> StoreResult<Option<ImportTarget>> {
    let story: Option<i64> = get(r, 0)?;
    let page: Option<String> = get(r, 1)?;
    Ok(match (story, page) {
        (Some(id), _) => Some(ImportTarget::Story(StoryId(id))),
        (None, Some(p)) => Slug::parse(&p).ok().map(ImportTarget::Page),
        _ => None,
    })
}

async fn record_import_tx(
    tx: &Transaction<'_>,
    record: &ImportRecord,
    target: &ImportTarget,
    at: i64,
) -> StoreResult<()> {
    let (story, page) = match target {
        ImportTarget::Story(id) => (Some(id.0), None),
        ImportTarget::Page(slug) => (None, Some(slug.to_string())),
    };
    exec(
        tx,
        "INSERT INTO imported_items (source, source_id, story_id, page_slug, imported_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&record.source, &record.source_id, &story, &page, &at],
    )
    .await?;
    for path in &record.old_paths {
        exec(
            tx,
            "INSERT INTO old_url_redirects (path, story_id, page_slug) VALUES ($1, $2, $3) \
             ON CONFLICT (path) DO NOTHING",
            &[path, &story, &page],
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ImportStore for PgStore {
    async fn imported(&self, source: &str, source_id: &str) -> StoreResult<Option<ImportTarget>> {
        let c = self.conn().await?;
        match query_opt(
            &**c,
            "SELECT story_id, page_slug FROM imported_items WHERE source = $1 AND source_id = $2",
            &[&source, &source_id],
        )
        .await?
        {
            Some(r) => import_target(&r),
            None => Ok(None),
        }
    }

    async fn create_imported_story(
        &self,
        record: &ImportRecord,
        story: &StoryInput,
        by: Option<UserId>,
        audit: &AuditInput,
    ) -> StoreResult<Story> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let id = insert_story_by(&tx, self.ns, story, by, true, at).await?;
        let mut a = audit.clone();
        if a.target.is_empty() {
            a.target = format!("story:{id}");
        }
        newsroom::audit(&tx, &a).await?;
        record_import_tx(&tx, record, &ImportTarget::Story(StoryId(id)), at).await?;
        commit(tx).await?;
        Ok(Story {
            id: StoryId(id),
            version: 1,
            input: story.clone(),
        })
    }

    async fn record_import(&self, record: &ImportRecord, target: &ImportTarget) -> StoreResult<()> {
        let at = self.now_ms();
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        record_import_tx(&tx, record, target, at).await?;
        commit(tx).await
    }

    async fn find_redirect(&self, path: &str) -> StoreResult<Option<ImportTarget>> {
        let c = self.conn().await?;
        match query_opt(
            &**c,
            "SELECT story_id, page_slug FROM old_url_redirects WHERE path = $1",
            &[&path],
        )
        .await?
        {
            Some(r) => import_target(&r),
            None => Ok(None),
        }
    }

    async fn count_imported(&self, source: &str) -> StoreResult<i64> {
        let c = self.conn().await?;
        get(
            &query_one(
                &**c,
                "SELECT count(*) FROM imported_items WHERE source = $1",
                &[&source],
            )
            .await?,
            0,
        )
    }

    async fn import_account(
        &self,
        email: &EmailAddress,
        name: &str,
        author: AuthorId,
        password_hash: &str,
        audit: &AuditInput,
    ) -> StoreResult<(User, bool)> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // Two nodes importing the same person make one account: the insert that loses the
        // race finds the winner's row.
        let made = query_opt(
            &tx,
            "INSERT INTO users (email, name, role, password_hash, disabled, author_id, created_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
            &[
                &email.as_str(),
                &name,
                &Role::Author.as_str(),
                &password_hash,
                &author.0,
                &super::ms(audit.at),
            ],
        )
        .await?;
        let (id, fresh) = match made {
            Some(r) => {
                let id: i64 = get(&r, 0)?;
                let mut a = audit.clone();
                if a.target.is_empty() {
                    a.target = format!("user:{id}");
                }
                newsroom::audit(&tx, &a).await?;
                (id, true)
            }
            None => {
                let r = query_one(
                    &tx,
                    "SELECT id FROM users WHERE email = $1 FOR NO KEY UPDATE",
                    &[&email.as_str()],
                )
                .await?;
                let id: i64 = get(&r, 0)?;
                exec(
                    &tx,
                    "UPDATE users SET author_id = $2 WHERE id = $1 AND author_id IS NULL",
                    &[&id, &author.0],
                )
                .await?;
                (id, false)
            }
        };
        let user = newsroom::load_user(&tx, id).await?;
        commit(tx).await?;
        Ok((user, fresh))
    }
}
