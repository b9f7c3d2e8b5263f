//! SQL of leases: one named row per lease, its holder and expiry.

use super::{from_ms, ms, sql_err, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_store::{LeaseStore, StoreResult};
use rusqlite::{params, OptionalExtension};

/// Takes or renews a lease in one statement: the upsert's condition is the rule (free, expired,
/// or already the holder's), so two takers cannot both win.
pub(crate) const TAKE: &str = "INSERT INTO leases (name, holder, until_ms) VALUES (?1, ?2, ?3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
     WHERE leases.holder = excluded.holder OR leases.until_ms <= ?4";

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |tx| {
            let n = tx
                .execute(TAKE, params![name, holder, ms(until), ms(now)])
                .map_err(sql_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let name = name.to_owned();
        self.read(move |c| {
            let row: Option<(String, i64)> = c
                .query_row(
                    "SELECT holder, until_ms FROM leases WHERE name = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_err)?;
            row.map(|(h, u)| Ok((h, from_ms(u)?))).transpose()
        })
        .await
    }
}
