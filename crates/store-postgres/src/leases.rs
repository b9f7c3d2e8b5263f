//! Leases on PostgreSQL: one named row per lease, its holder and expiry. Taking one is a single
//! upsert whose condition is the rule, so two nodes taking it at once cannot both win (the
//! second waits on the row's lock, then sees the first's holder and an expiry in the future).

use super::{exec, from_ms, get, ms, query_opt, PgStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_store::{LeaseStore, StoreResult};

#[async_trait]
impl LeaseStore for PgStore {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let c = self.conn().await?;
        let n = exec(
            &**c,
            "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE leases.holder = excluded.holder OR leases.until_ms <= $4",
            &[&name, &holder, &ms(until), &ms(now)],
        )
        .await?;
        Ok(n > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &**c,
            "DELETE FROM leases WHERE name = $1 AND holder = $2",
            &[&name, &holder],
        )
        .await?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let c = self.conn().await?;
        match query_opt(
            &**c,
            "SELECT holder, until_ms FROM leases WHERE name = $1",
            &[&name],
        )
        .await?
        {
            Some(r) => Ok(Some((get(&r, 0)?, from_ms(get(&r, 1)?)?))),
            None => Ok(None),
        }
    }
}
