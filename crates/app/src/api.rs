//! The JSON API's use cases: API tokens (made by an admin, shown once, kept as a SHA-256 hash,
//! scoped, expiring, revocable), the rate limit per token, and the token's door to the same
//! newsroom use cases the pages call. A token acts as its owner: a request passes only if the
//! token's scope names the operation *and* the owner's role allows it (the use case checks the
//! role, as for a page), so a token of an author cannot publish whatever its scopes say.
//!
//! Public reading needs no token; its rule (what is public when) is the read model's, the same
//! the reader pages use ([`App::public_article_by_id`], [`ListCursor`] over
//! [`crate::Snapshot::public_after`]).

use crate::sources::PushGrant;
use crate::{App, AppError, AppResult, Article, StoryForm};
use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::*;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

/// What every API token starts with (so a leaked one is recognisable, and a source's push
/// token is told from it).
pub const TOKEN_PREFIX: &str = "ndt_";

/// A token's use is noted at most this often (not one write per request).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The API's bounds (`[api]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSettings {
    /// Requests one token may make per minute (on each node); beyond, 429.
    pub rate_per_minute: u32,
    /// Tokens whose minute is counted at once; when full, a token not yet counted this minute
    /// is refused (429) rather than the map growing.
    pub rate_tracked_tokens: usize,
    /// Stories on a listing page unless `limit` asks otherwise.
    pub page_size: usize,
    /// Largest `limit` a listing takes.
    pub page_size_max: usize,
    /// Largest JSON body of a token request, in bytes.
    pub body_max_bytes: usize,
    /// Largest picture uploaded through the API, in bytes.
    pub upload_max_bytes: usize,
    /// Days a token lives unless its maker says otherwise.
    pub token_days_default: i64,
    /// Most days a token may live.
    pub token_days_max: i64,
    /// Newest corrections `/api/v1/corrections` lists.
    pub corrections_max: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            rate_per_minute: 600,
            rate_tracked_tokens: 10_000,
            page_size: 20,
            page_size_max: 100,
            body_max_bytes: 1024 * 1024,
            upload_max_bytes: 16 * 1024 * 1024,
            token_days_default: 90,
            token_days_max: 365,
            corrections_max: 100,
        }
    }
}

/// The API's state on a node: its settings and the minute counters of the rate limit.
#[derive(Debug, Default)]
pub struct ApiState {
    settings: RwLock<ApiSettings>,
    /// Per token: the minute counted and the requests in it.
    windows: Mutex<HashMap<ApiTokenId, (i64, u32)>>,
}

/// Who a token request is: the token and its owner as they are now.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The token (live, checked).
    pub token: ApiToken,
    /// Its owner, whose role the use cases check.
    pub user: User,
}

tokio::task_local! {
    /// The token a use case runs for, so its audit line names it.
    static VIA_TOKEN: ApiTokenId;
}

/// What an audit line's detail gets when its write came through an API token.
pub(crate) fn via_token(detail: String) -> String {
    match VIA_TOKEN.try_with(|t| *t) {
        Ok(id) if detail.is_empty() => format!("via API token {id}"),
        Ok(id) => format!("{detail} (via API token {id})"),
        Err(_) => detail,
    }
}

/// A position in a listing: after the story visible from `at` with id `id`. Written as an
/// opaque token (hex), read back only if well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    /// When the last story shown became visible.
    pub at: DateTime<Utc>,
    /// Its id.
    pub id: StoryId,
}

impl ListCursor {
    /// The cursor after `card`.
    pub fn after(card: &StoryCard) -> Option<Self> {
        card.visible_from().map(|at| Self { at, id: card.id })
    }

    /// The opaque form.
    pub fn encode(&self) -> String {
        let plain = format!("v1:{}:{}", self.at.timestamp_millis(), self.id);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads [`ListCursor::encode`]'s form; anything else is `None`.
    pub fn decode(s: &str) -> Option<Self> {
        if s.is_empty() || s.len() > 96 || !s.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let mut it = plain.split(':');
        let (Some("v1"), Some(ms), Some(id), None) = (it.next(), it.next(), it.next(), it.next())
        else {
            return None;
        };
        let at = DateTime::<Utc>::from_timestamp_millis(ms.parse().ok()?)?;
        Some(Self {
            at,
            id: id.parse().ok()?,
        })
    }
}

impl App {
    /// Uses these API bounds from now on.
    pub fn set_api_settings(&self, settings: ApiSettings) {
        *self.api.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// The API bounds in use.
    pub fn api_settings(&self) -> ApiSettings {
        *self.api.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    fn token_days(&self, days: i64) -> AppResult<Duration> {
        let max = self.api_settings().token_days_max.max(1);
        if !(1..=max).contains(&days) {
            return Err(AppError::invalid(
                "days",
                format!("A token lives from 1 to {max} days."),
            ));
        }
        Ok(Duration::days(days))
    }

    async fn issue_token(
        &self,
        created_by: UserId,
        owner: UserId,
        name: &str,
        scopes: &[ApiScope],
        days: i64,
        audit_by: Option<UserId>,
    ) -> AppResult<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "name",
                "Name the token in 1 to 100 characters.",
            ));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort_unstable();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(AppError::invalid(
                "scopes",
                "Give the token at least one scope.",
            ));
        }
        let life = self.token_days(days)?;
        let owner_user = self.store.get_user(owner).await.map_err(|e| match e {
            newsdesk_store::StoreError::NotFound => {
                AppError::invalid("owner", "There is no such account.")
            }
            other => other.into(),
        })?;
        if owner_user.disabled {
            return Err(AppError::invalid("owner", "That account is disabled."));
        }
        // 256 random bits; only their SHA-256 is kept.
        let secret = format!("{TOKEN_PREFIX}{}", crate::auth::random_hex(32)?);
        let now = self.now();
        let token = self
            .store
            .create_api_token(&ApiTokenInput {
                name: name.to_owned(),
                owner,
                created_by,
                scopes: scopes.clone(),
                hash: crate::auth::hash_token(&secret),
                created_at: now,
                expires_at: now + life,
            })
            .await?;
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: audit_by,
                action: "api-token".into(),
                target: format!("api-token:{}", token.id),
                detail: format!(
                    "{name} for {} ({}), {days} days{}",
                    owner_user.email,
                    ApiScope::join(&scopes),
                    if audit_by.is_none() {
                        ", from the command line"
                    } else {
                        ""
                    }
                ),
            })
            .await?;
        Ok((token, secret))
    }

    /// An admin makes a token for `owner` (any active account): returns it with its secret,
    /// which is shown once and never kept.
    pub async fn create_api_token(
        &self,
        actor: &User,
        owner: UserId,
        name: &str,
        scopes: &[ApiScope],
        days: i64,
    ) -> AppResult<(ApiToken, String)> {
        crate::require(actor, Capability::ManageUsers)?;
        self.issue_token(actor.id, owner, name, scopes, days, Some(actor.id))
            .await
    }

    /// The operator of the machine makes a token (the command line): owned by the account
    /// with this address, made by it too.
    pub async fn create_api_token_cli(
        &self,
        owner_email: &str,
        name: &str,
        scopes: &[ApiScope],
        days: i64,
    ) -> AppResult<(ApiToken, String)> {
        let email = EmailAddress::parse(owner_email)
            .map_err(|e| AppError::invalid("owner", e.to_string()))?;
        let Some((user, _)) = self.store.find_login(&email).await? else {
            return Err(AppError::invalid("owner", "There is no such account."));
        };
        self.issue_token(user.id, user.id, name, scopes, days, None)
            .await
    }

    /// Every token with its owner's name, newest first (admins only).
    pub async fn api_tokens(&self, actor: &User) -> AppResult<Vec<(ApiToken, String)>> {
        crate::require(actor, Capability::ManageUsers)?;
        let users = self.store.list_users().await?;
        Ok(self
            .store
            .list_api_tokens()
            .await?
            .into_iter()
            .map(|t| {
                let owner = users
                    .iter()
                    .find(|u| u.id == t.owner)
                    .map(|u| format!("{} ({})", u.name, u.role))
                    .unwrap_or_else(|| "?".into());
                (t, owner)
            })
            .collect())
    }

    /// Revokes a token: the next request with it is refused, on every node (tokens are looked
    /// up in the database on each request).
    pub async fn revoke_api_token(&self, actor: &User, id: ApiTokenId) -> AppResult<()> {
        crate::require(actor, Capability::ManageUsers)?;
        let now = self.now();
        self.store.revoke_api_token(id, now).await?;
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(actor.id),
                action: "api-token-revoke".into(),
                target: format!("api-token:{id}"),
                detail: String::new(),
            })
            .await?;
        Ok(())
    }

    /// The caller of a token request, from the bearer token: a live token of an active owner,
    /// counted against its rate limit before any work. [`AppError::Forbidden`] means "not
    /// authenticated" here (unknown, expired or revoked token, disabled owner);
    /// [`AppError::RateLimited`], over its limit.
    pub async fn api_caller(&self, bearer: &str) -> AppResult<ApiCaller> {
        let bearer = bearer.trim();
        if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 200 {
            return Err(AppError::Forbidden);
        }
        let given = crate::auth::hash_token(bearer);
        let Some((token, stored)) = self.store.api_token_by_hash(&given).await? else {
            return Err(AppError::Forbidden);
        };
        let now = self.now();
        if !crate::auth::constant_eq(&given, &stored) || !token.is_live_at(now) {
            return Err(AppError::Forbidden);
        }
        let user = self.store.get_user(token.owner).await?;
        if user.disabled {
            return Err(AppError::Forbidden);
        }
        self.count_api_request(token.id, now)?;
        if token.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
            self.store.touch_api_token(token.id, now).await?;
        }
        Ok(ApiCaller { token, user })
    }

    /// Counts a request of `token` in its minute; refuses past the limit, and refuses a token
    /// not yet counted when the map of counters is full of live minutes.
    fn count_api_request(&self, token: ApiTokenId, now: DateTime<Utc>) -> AppResult<()> {
        let s = self.api_settings();
        let minute = now.timestamp().div_euclid(60);
        let mut w = self.api.windows.lock().unwrap_or_else(|e| e.into_inner());
        if !w.contains_key(&token) && w.len() >= s.rate_tracked_tokens.max(1) {
            w.retain(|_, (m, _)| *m == minute);
            if w.len() >= s.rate_tracked_tokens.max(1) {
                return Err(AppError::RateLimited);
            }
        }
        let e = w.entry(token).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        if e.1 >= s.rate_per_minute {
            return Err(AppError::RateLimited);
        }
        e.1 += 1;
        Ok(())
    }

    /// Refuses unless the token carries `scope` (the role is the use case's to check).
    pub fn api_scope(caller: &ApiCaller, scope: ApiScope) -> AppResult<()> {
        if caller.token.has(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A story as the newsroom sees it, whatever its status (scope `read_drafts`; the owner
    /// must be allowed to open it).
    pub async fn api_story(&self, caller: &ApiCaller, id: StoryId) -> AppResult<Story> {
        Self::api_scope(caller, ApiScope::ReadDrafts)?;
        self.story_for_edit(&caller.user, id).await
    }

    /// Starts a draft (scope `write_stories`).
    pub async fn api_create_story(&self, caller: &ApiCaller, form: &StoryForm) -> AppResult<Story> {
        Self::api_scope(caller, ApiScope::WriteStories)?;
        VIA_TOKEN
            .scope(caller.token.id, self.create_story(&caller.user, form))
            .await
    }

    /// Saves a story at `version` (scope `write_stories`; optimistic lock as on the page).
    pub async fn api_save_story(
        &self,
        caller: &ApiCaller,
        id: StoryId,
        version: i64,
        form: &StoryForm,
    ) -> AppResult<Story> {
        Self::api_scope(caller, ApiScope::WriteStories)?;
        VIA_TOKEN
            .scope(
                caller.token.id,
                self.save_story(&caller.user, id, version, form),
            )
            .await
    }

    /// Takes a workflow step: submit and send back need `write_stories`; publish, schedule,
    /// unpublish and kill need `publish`.
    pub async fn api_transition(
        &self,
        caller: &ApiCaller,
        id: StoryId,
        version: i64,
        step: Transition,
        at: Option<DateTime<Utc>>,
    ) -> AppResult<Story> {
        Self::api_scope(caller, scope_of(step))?;
        VIA_TOKEN
            .scope(
                caller.token.id,
                self.transition(&caller.user, id, version, step, at),
            )
            .await
    }

    /// Adds a correction (scope `publish`).
    pub async fn api_correct(
        &self,
        caller: &ApiCaller,
        id: StoryId,
        version: i64,
        wrong: &str,
        right: &str,
    ) -> AppResult<Correction> {
        Self::api_scope(caller, ApiScope::Publish)?;
        VIA_TOKEN
            .scope(
                caller.token.id,
                self.correct_story(&caller.user, id, version, wrong, right),
            )
            .await
    }

    /// Whether the caller may upload a picture: asked before the body is read.
    pub fn api_may_upload(&self, caller: &ApiCaller) -> AppResult<()> {
        Self::api_scope(caller, ApiScope::WriteStories)?;
        self.may_upload(&caller.user)
    }

    /// Uploads a picture (scope `write_stories`; the owner's role must allow uploads).
    pub async fn api_upload_image(
        &self,
        caller: &ApiCaller,
        bytes: Vec<u8>,
        alt: &str,
        caption: &str,
        credit: &str,
        media: &dyn newsdesk_media::MediaStore,
    ) -> AppResult<Image> {
        self.api_may_upload(caller)?;
        VIA_TOKEN
            .scope(
                caller.token.id,
                self.upload_image(&caller.user, bytes, alt, caption, credit, media),
            )
            .await
    }

    /// A push to `source` by an API token with the `wire_push` scope (instead of the source's
    /// own push token): refused, like the source's token, before the body is read.
    pub async fn authorize_push_by_token(
        &self,
        caller: &ApiCaller,
        source: SourceId,
    ) -> AppResult<PushGrant> {
        Self::api_scope(caller, ApiScope::WirePush)?;
        crate::require(&caller.user, Capability::ViewNewsroom)?;
        let src = self.store.get_source(source, self.now()).await?;
        if !src.enabled {
            return Err(AppError::Conflict(
                "This source is switched off; the newsroom takes no copy from it now.".into(),
            ));
        }
        Ok(PushGrant(src))
    }

    /// The public story with this id, with its corrections and lineage links: the same rule
    /// as its page (published, embargo over), the read model asked first, the database last.
    pub async fn public_article_by_id(&self, id: StoryId) -> AppResult<Article> {
        let now = self.now();
        if self.read().public_card(id, now).is_none() {
            return Err(AppError::NotFound);
        }
        let read = self.store.get_article(id).await?;
        if !read.story.is_public_at(now) {
            return Err(AppError::NotFound);
        }
        Ok(Article {
            story: read.story,
            corrections: read.corrections,
            based_on: read.lineage.into_iter().filter_map(|l| l.link).collect(),
        })
    }
}

/// The scope a workflow step needs.
pub fn scope_of(step: Transition) -> ApiScope {
    match step {
        Transition::Submit | Transition::SendBack => ApiScope::WriteStories,
        Transition::Publish | Transition::Schedule | Transition::Unpublish | Transition::Kill => {
            ApiScope::Publish
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = ListCursor {
            at: DateTime::<Utc>::from_timestamp_millis(1_700_000_000_123).unwrap(),
            id: StoryId(42),
        };
        assert_eq!(ListCursor::decode(&c.encode()), Some(c));
        for bad in ["", "zz", "7631", "76313a313a", &"a".repeat(200), "é"] {
            assert_eq!(ListCursor::decode(bad), None, "{bad:?}");
        }
    }
}
