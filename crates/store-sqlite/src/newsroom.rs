//! SQL helpers of the newsroom tables: accounts, sessions, revisions, corrections, audit log.

use super::{from_ms, ms, sql_err};
use newsdesk_domain::*;
use newsdesk_store::{StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// Keeps a revision of a story as saved.
pub(crate) fn write_revision(
    tx: &Transaction<'_>,
    story: i64,
    version: i64,
    by: Option<UserId>,
    input: &StoryInput,
) -> StoreResult<()> {
    let snapshot = serde_json::to_string(input).map_err(StoreError::other)?;
    tx.prepare_cached(
        "INSERT INTO story_revisions (story_id, version, by_user, at, snapshot) VALUES (?1,?2,?3,?4,?5)",
    )
    .map_err(sql_err)?
    .execute(params![story, version, by.map(|u| u.0), ms(input.updated_at), snapshot])
    .map_err(sql_err)?;
    Ok(())
}

/// Writes one audit line inside a transaction.
pub(crate) fn audit(tx: &Transaction<'_>, a: &AuditInput) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, user_id, action, target, detail) VALUES (?1,?2,?3,?4,?5)",
    )
    .map_err(sql_err)?
    .execute(params![
        ms(a.at),
        a.user_id.map(|u| u.0),
        a.action,
        a.target,
        a.detail
    ])
    .map_err(sql_err)?;
    Ok(())
}

/// Columns of a user, in the order [`user_from_row`] reads them.
pub(crate) const USER_COLS: &str =
    "id, email, name, role, disabled, author_id, created_at, totp_secret IS NOT NULL";

type RawUser = (i64, String, String, String, bool, Option<i64>, i64, bool);

pub(crate) fn raw_user(r: &Row<'_>) -> rusqlite::Result<RawUser> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

pub(crate) fn user(raw: RawUser) -> StoreResult<User> {
    Ok(User {
        id: UserId(raw.0),
        email: EmailAddress::parse(&raw.1)
            .map_err(|e| StoreError::msg(format!("bad e-mail in database: {e}")))?,
        name: raw.2,
        role: Role::parse(&raw.3).ok_or_else(|| StoreError::msg(format!("bad role {}", raw.3)))?,
        disabled: raw.4,
        author_id: raw.5.map(AuthorId),
        created_at: from_ms(raw.6)?,
        totp_enabled: raw.7,
    })
}

pub(crate) fn load_user(c: &Connection, id: i64) -> StoreResult<User> {
    let raw = c
        .query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [id],
            raw_user,
        )
        .map_err(sql_err)?;
    user(raw)
}

pub(crate) fn revision_meta(r: &Row<'_>) -> rusqlite::Result<(i64, i64, Option<i64>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub(crate) fn parse_snapshot(s: &str) -> StoreResult<StoryInput> {
    serde_json::from_str(s).map_err(StoreError::other)
}

type RawCorrection = (i64, i64, String, String, i64, Option<i64>);

pub(crate) const CORRECTION_COLS: &str = "id, story_id, wrong, right_text, at, by_user";

pub(crate) fn raw_correction(r: &Row<'_>) -> rusqlite::Result<RawCorrection> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn correction(raw: RawCorrection) -> StoreResult<Correction> {
    Ok(Correction {
        id: raw.0,
        story_id: StoryId(raw.1),
        wrong: raw.2,
        right: raw.3,
        at: from_ms(raw.4)?,
        by: raw.5.map(UserId),
    })
}

pub(crate) fn session_row(r: &Row<'_>) -> rusqlite::Result<(String, i64, i64, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub(crate) fn take_invitation(
    tx: &Transaction<'_>,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<Invitation>> {
    let row: Option<(String, String, Option<i64>, i64)> = tx
        .query_row(
            "SELECT email, role, invited_by, expires_at FROM invitations \
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token_hash, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql_err)?;
    let Some((email, role, by, expires)) = row else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE invitations SET used_at = ?2 WHERE token_hash = ?1",
        params![token_hash, now],
    )
    .map_err(sql_err)?;
    Ok(Some(Invitation {
        email: EmailAddress::parse(&email).map_err(|e| StoreError::msg(e.to_string()))?,
        role: Role::parse(&role).ok_or_else(|| StoreError::msg("bad role"))?,
        invited_by: by.map(UserId),
        expires_at: from_ms(expires)?,
    }))
}
