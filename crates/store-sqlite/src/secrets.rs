//! SQL of the site's shared secrets: one row per name, the first one offered kept.

use super::{sql_err, SqliteStore};
use async_trait::async_trait;
use newsdesk_store::{SecretStore, StoreResult};
use rusqlite::params;

#[async_trait]
impl SecretStore for SqliteStore {
    async fn site_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        let (name, candidate, at) = (name.to_owned(), candidate.to_owned(), self.now_ms());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO site_secrets (name, value, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO NOTHING",
                params![name, candidate, at],
            )
            .map_err(sql_err)?;
            tx.query_row(
                "SELECT value FROM site_secrets WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .map_err(sql_err)
        })
        .await
    }
}
