//! API tokens on PostgreSQL. A hash taken twice is the unique index's conflict
//! ([`newsdesk_store::Conflict::Constraint`], as on SQLite).

use super::{from_ms, get, ms, opt_ms, query, query_one, query_opt, update_one, PgStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::{ApiScope, ApiToken, ApiTokenId, ApiTokenInput, UserId};
use newsdesk_store::{ApiTokenStore, StoreResult};
use tokio_postgres::Row;

const COLS: &str = "id, name, owner_id, created_by, scopes, created_at, expires_at, last_used_at, \
                    revoked_at, token_hash";

fn token(r: &Row) -> StoreResult<(ApiToken, String)> {
    let scopes: String = get(r, 4)?;
    Ok((
        ApiToken {
            id: ApiTokenId(get(r, 0)?),
            name: get(r, 1)?,
            owner: UserId(get(r, 2)?),
            created_by: UserId(get(r, 3)?),
            scopes: ApiScope::parse_list(&scopes),
            created_at: from_ms(get(r, 5)?)?,
            expires_at: from_ms(get(r, 6)?)?,
            last_used_at: opt_ms(get(r, 7)?)?,
            revoked_at: opt_ms(get(r, 8)?)?,
        },
        get(r, 9)?,
    ))
}

#[async_trait]
impl ApiTokenStore for PgStore {
    async fn create_api_token(&self, t: &ApiTokenInput) -> StoreResult<ApiToken> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            &format!(
                "INSERT INTO api_tokens (name, owner_id, created_by, scopes, token_hash, \
                 created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING {COLS}"
            ),
            &[
                &t.name,
                &t.owner.0,
                &t.created_by.0,
                &ApiScope::join(&t.scopes),
                &t.hash,
                &ms(t.created_at),
                &ms(t.expires_at),
            ],
        )
        .await?;
        token(&r).map(|x| x.0)
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!("SELECT {COLS} FROM api_tokens ORDER BY created_at DESC, id DESC"),
            &[],
        )
        .await?
        .iter()
        .map(|r| token(r).map(|x| x.0))
        .collect()
    }

    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, String)>> {
        let c = self.conn().await?;
        query_opt(
            &**c,
            &format!("SELECT {COLS} FROM api_tokens WHERE token_hash = $1"),
            &[&hash],
        )
        .await?
        .as_ref()
        .map(token)
        .transpose()
    }

    async fn touch_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
            &[&id.0, &ms(at)],
        )
        .await
    }

    async fn revoke_api_token(&self, id: ApiTokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.conn().await?;
        // The first revocation's time stays.
        update_one(
            &**c,
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
            &[&id.0, &ms(at)],
        )
        .await
    }
}
