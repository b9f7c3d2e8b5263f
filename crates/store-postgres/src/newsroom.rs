//! SQL helpers of the newsroom tables: accounts, sessions, revisions, corrections, audit log.

use super::{exec, from_ms, get, ms, query_one, query_opt};
use newsdesk_domain::*;
use newsdesk_store::{StoreError, StoreResult};
use tokio_postgres::{GenericClient, Row};

/// Keeps a revision of a story as saved.
pub(crate) async fn write_revision<C: GenericClient>(
    tx: &C,
    story: i64,
    version: i64,
    by: Option<UserId>,
    input: &StoryInput,
) -> StoreResult<()> {
    let snapshot = serde_json::to_string(input).map_err(StoreError::other)?;
    exec(
        tx,
        "INSERT INTO story_revisions (story_id, version, by_user, at, snapshot) VALUES ($1,$2,$3,$4,$5)",
        &[&story, &version, &by.map(|u| u.0), &ms(input.updated_at), &snapshot],
    )
    .await?;
    Ok(())
}

/// Writes one audit line.
pub(crate) async fn audit<C: GenericClient>(tx: &C, a: &AuditInput) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO audit_log (at, user_id, action, target, detail) VALUES ($1,$2,$3,$4,$5)",
        &[
            &ms(a.at),
            &a.user_id.map(|u| u.0),
            &a.action,
            &a.target,
            &a.detail,
        ],
    )
    .await?;
    Ok(())
}

/// Columns of a user, in the order [`user`] reads them.
pub(crate) const USER_COLS: &str =
    "id, email, name, role, disabled, author_id, created_at, totp_secret IS NOT NULL";

pub(crate) fn user(r: &Row) -> StoreResult<User> {
    let email: String = get(r, 1)?;
    let role: String = get(r, 3)?;
    Ok(User {
        id: UserId(get(r, 0)?),
        email: EmailAddress::parse(&email)
            .map_err(|e| StoreError::msg(format!("bad e-mail in database: {e}")))?,
        name: get(r, 2)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::msg(format!("bad role {role}")))?,
        disabled: get(r, 4)?,
        author_id: get::<Option<i64>>(r, 5)?.map(AuthorId),
        created_at: from_ms(get(r, 6)?)?,
        totp_enabled: get(r, 7)?,
    })
}

pub(crate) async fn load_user<C: GenericClient>(c: &C, id: i64) -> StoreResult<User> {
    let r = query_one(
        c,
        &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
        &[&id],
    )
    .await?;
    user(&r)
}

pub(crate) fn parse_snapshot(s: &str) -> StoreResult<StoryInput> {
    serde_json::from_str(s).map_err(StoreError::other)
}

pub(crate) const CORRECTION_COLS: &str = "id, story_id, wrong, right_text, at, by_user";

pub(crate) fn correction(r: &Row) -> StoreResult<Correction> {
    Ok(Correction {
        id: get(r, 0)?,
        story_id: StoryId(get(r, 1)?),
        wrong: get(r, 2)?,
        right: get(r, 3)?,
        at: from_ms(get(r, 4)?)?,
        by: get::<Option<i64>>(r, 5)?.map(UserId),
    })
}

/// Uses up an invitation in one statement: of two nodes taking the same token, the second
/// finds it used.
pub(crate) async fn take_invitation<C: GenericClient>(
    c: &C,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<Invitation>> {
    let Some(r) = query_opt(
        c,
        "UPDATE invitations SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING email, role, invited_by, expires_at",
        &[&token_hash, &now],
    )
    .await?
    else {
        return Ok(None);
    };
    let email: String = get(&r, 0)?;
    let role: String = get(&r, 1)?;
    Ok(Some(Invitation {
        email: EmailAddress::parse(&email).map_err(|e| StoreError::msg(e.to_string()))?,
        role: Role::parse(&role).ok_or_else(|| StoreError::msg("bad role"))?,
        invited_by: get::<Option<i64>>(&r, 2)?.map(UserId),
        expires_at: from_ms(get(&r, 3)?)?,
    }))
}
