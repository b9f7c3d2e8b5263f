//! SQL of API tokens.

use super::{from_ms, ms, opt_ms, sql_err, update_one};
use newsdesk_domain::{ApiScope, ApiToken, ApiTokenId, ApiTokenInput, UserId};
use newsdesk_store::StoreResult;
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLS: &str = "id, name, owner_id, created_by, scopes, created_at, expires_at, last_used_at, \
                    revoked_at, token_hash";

type Raw = (
    i64,
    String,
    i64,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn token(x: Raw) -> StoreResult<(ApiToken, String)> {
    Ok((
        ApiToken {
            id: ApiTokenId(x.0),
            name: x.1,
            owner: UserId(x.2),
            created_by: UserId(x.3),
            scopes: ApiScope::parse_list(&x.4),
            created_at: from_ms(x.5)?,
            expires_at: from_ms(x.6)?,
            last_used_at: opt_ms(x.7)?,
            revoked_at: opt_ms(x.8)?,
        },
        x.9,
    ))
}

pub(crate) fn create(c: &Connection, t: &ApiTokenInput) -> StoreResult<ApiToken> {
    c.execute(
        "INSERT INTO api_tokens (name, owner_id, created_by, scopes, token_hash, created_at, expires_at) \
         VALUES (?1,?2,?3,?4,?5,?6,?7)",
        params![
            t.name,
            t.owner.0,
            t.created_by.0,
            ApiScope::join(&t.scopes),
            t.hash,
            ms(t.created_at),
            ms(t.expires_at)
        ],
    )
    .map_err(sql_err)?;
    let id = c.last_insert_rowid();
    c.query_row(
        &format!("SELECT {COLS} FROM api_tokens WHERE id = ?1"),
        [id],
        raw,
    )
    .map_err(sql_err)
    .and_then(token)
    .map(|x| x.0)
}

pub(crate) fn list(c: &Connection) -> StoreResult<Vec<ApiToken>> {
    let mut st = c
        .prepare(&format!(
            "SELECT {COLS} FROM api_tokens ORDER BY created_at DESC, id DESC"
        ))
        .map_err(sql_err)?;
    let rows = st.query_map([], raw).map_err(sql_err)?;
    rows.map(|r| r.map_err(sql_err).and_then(token).map(|x| x.0))
        .collect()
}

pub(crate) fn by_hash(c: &Connection, hash: &str) -> StoreResult<Option<(ApiToken, String)>> {
    c.query_row(
        &format!("SELECT {COLS} FROM api_tokens WHERE token_hash = ?1"),
        [hash],
        raw,
    )
    .optional()
    .map_err(sql_err)?
    .map(token)
    .transpose()
}

pub(crate) fn touch(c: &Connection, id: ApiTokenId, at: i64) -> StoreResult<()> {
    update_one(
        c,
        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
        params![id.0, at],
    )
}

pub(crate) fn revoke(c: &Connection, id: ApiTokenId, at: i64) -> StoreResult<()> {
    update_one(
        c,
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id.0, at],
    )
}
