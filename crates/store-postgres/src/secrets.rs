//! The site's shared secrets on PostgreSQL: one row per name, the first one offered kept (the
//! primary key's `ON CONFLICT DO NOTHING`, so nodes starting together make one row and none
//! gets an error).

use super::{exec, get, query_one, PgStore};
use async_trait::async_trait;
use newsdesk_store::{SecretStore, StoreResult};

#[async_trait]
impl SecretStore for PgStore {
    async fn site_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        let at = self.now_ms();
        let c = self.conn().await?;
        exec(
            &**c,
            "INSERT INTO site_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            &[&name, &candidate, &at],
        )
        .await?;
        let row = query_one(
            &**c,
            "SELECT value FROM site_secrets WHERE name = $1",
            &[&name],
        )
        .await?;
        get(&row, 0)
    }
}
