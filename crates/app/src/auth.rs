//! Accounts and sessions: password hashing, login with throttling, server-side sessions, CSRF
//! tokens and invitations.
//!
//! Passwords are hashed with Argon2id. A login always verifies one hash, against a dummy hash
//! when the account does not exist, so it takes as long either way, and the answer never says
//! which of the two was wrong. The session cookie holds a 128-bit random token; the database
//! keeps only its SHA-256. Every login makes a new token, so a token planted before login is
//! worthless after it.
//!
//! Every login attempt is counted in the database before its password or code is checked, in
//! one transaction with the check of the limits, so parallel attempts cannot slip past the
//! throttle. Argon2 work (19 MiB each) runs under a semaphore sized to the cores; an attempt
//! that cannot get a place within [`HASH_WAIT`] is refused as "too many attempts".

use crate::jobs::SendMail;
use crate::{App, AppError, AppResult, FieldError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::*;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 12;
/// Longest password accepted (Argon2 would take anything; this bounds the work).
pub const PASSWORD_MAX: usize = 1024;
/// A session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::hours(2);
/// A session ends this long after login, however active.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// How long an invitation can be used.
pub const INVITATION_TTL: Duration = Duration::days(7);
/// Failed logins allowed per account in [`THROTTLE_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failed logins allowed per client address in [`THROTTLE_WINDOW`].
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Window of the login throttle.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Password-reset requests per client address in [`RESET_WINDOW`] (beyond: "too many attempts").
pub const MAX_RESETS_PER_ADDRESS: usize = 10;
/// Password-reset e-mails per account in [`RESET_WINDOW`] (beyond: the same answer, no e-mail).
pub const MAX_RESETS_PER_ACCOUNT: usize = 3;
/// Window of the password-reset limits.
pub const RESET_WINDOW: Duration = Duration::hours(1);
/// Counted attempts are kept this long: the longest window of any throttle.
const THROTTLE_KEEP: Duration = RESET_WINDOW;
/// Longest wait for a place to run Argon2; then the attempt is refused as rate-limited.
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Password-reset e-mails being queued at once, after their answer; beyond, a request is
/// answered the same but sends nothing (and says so in the log).
pub const RESET_MAILS_IN_FLIGHT: usize = 64;
/// Sessions are marked as seen at most this often (not one write per request).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> AppResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| AppError::Internal(format!("no randomness: {e}").into()))?;
    Ok(hex(&buf))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 of a token, hex: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| AppError::Internal(format!("no randomness: {e}").into()))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string().into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string().into()))
}

/// Whether `password` matches `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The password hash of an account that has no password yet (an imported author's): no
/// password verifies against it, and an invitation to its address takes the account over.
pub(crate) const NO_PASSWORD: &str = "!";

/// A hash of nothing in particular, verified when the account does not exist.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("newsdesk dummy password for timing").unwrap_or_default())
}

/// Checks a new password against the policy.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError {
            field: "password".into(),
            message: format!("Use at least {PASSWORD_MIN} characters."),
        });
    }
    if n > PASSWORD_MAX {
        return Err(FieldError {
            field: "password".into(),
            message: format!("Use at most {PASSWORD_MAX} characters."),
        });
    }
    Ok(())
}

/// A successful login: the token goes into the cookie, never into the database.
#[derive(Debug)]
pub struct Login {
    /// Cookie value.
    pub token: String,
    /// The account.
    pub user: User,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginStep {
    /// Logged in.
    Done(Login),
    /// The account has a second factor: ask for a code, carrying this pending token.
    NeedCode {
        /// Single-use, five-minute token naming the half-done login.
        pending: String,
    },
}

/// How long a half-done login (password right, code still to come) lasts.
pub const PENDING_TTL: Duration = Duration::minutes(5);
/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);

/// A request's valid session.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The account.
    pub user: User,
    /// The form token of this session.
    pub csrf_token: String,
    /// Hash of the cookie token (to end the session).
    pub token_hash: String,
}

impl Authed {
    /// Whether `given` is this session's form token (compared in constant time). Every
    /// state-changing newsroom request must carry it.
    pub fn csrf_ok(&self, given: &str) -> bool {
        constant_eq(given, &self.csrf_token)
    }
}

/// Whether two secrets are equal, in time that depends only on their lengths.
pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn wrong_login() -> AppError {
    AppError::Invalid(vec![FieldError {
        field: "login".into(),
        message: "The e-mail address or the password is wrong.".into(),
    }])
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))
}

/// A typed e-mail address as a throttle key: trimmed, lower case, and at most 320 characters
/// (the longest address), so a megabyte typed in the form is not stored as a key.
fn throttle_name(email: &str) -> String {
    email.trim().to_lowercase().chars().take(320).collect()
}

/// The semaphore of Argon2 work: `configured` places, or one per CPU core when 0.
pub(crate) fn hash_semaphore(configured: usize) -> tokio::sync::Semaphore {
    let n = if configured == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        configured
    };
    tokio::sync::Semaphore::new(n)
}

impl App {
    /// Runs Argon2 work (`f`) on a blocking thread once a place is free, waiting at most
    /// [`HASH_WAIT`] for one (then: rate-limited).
    async fn argon2<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _place = self.hash_place().await?;
        blocking(f).await
    }

    /// A place to run Argon2 work, waiting at most [`HASH_WAIT`] (then: rate-limited).
    async fn hash_place(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        match tokio::time::timeout(HASH_WAIT, self.hash_permits.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) | Err(_) => Err(AppError::RateLimited),
        }
    }

    /// Verifies a password under the Argon2 semaphore, counting the check; `None` verifies
    /// against the dummy hash (made there the first time, under the cap too).
    async fn check_password_hash(&self, password: &str, hash: Option<String>) -> AppResult<bool> {
        let pw = password.to_owned();
        let counter = self.password_checks.clone();
        self.argon2(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            verify_password(&pw, hash.as_deref().unwrap_or_else(|| dummy_hash()))
        })
        .await
    }

    /// Hashes a new password under the Argon2 semaphore.
    async fn new_password_hash(&self, password: &str) -> AppResult<String> {
        let pw = password.to_owned();
        self.argon2(move || hash_password(&pw)).await?
    }

    /// Password verifications run since start (logins, existing account or not).
    pub fn password_checks(&self) -> u64 {
        self.password_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes a login attempt under an account key and an address key before anything is
    /// checked; refused (rate-limited) when either is at its limit.
    async fn take_attempt(
        &self,
        acct_key: &str,
        addr_key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let allowed = self
            .store
            .take_login_attempt(
                &[
                    (acct_key, MAX_FAILURES_PER_ACCOUNT),
                    (addr_key, MAX_FAILURES_PER_ADDRESS),
                ],
                now,
                now - THROTTLE_WINDOW,
                now - THROTTLE_KEEP,
            )
            .await?;
        if allowed {
            Ok(())
        } else {
            Err(AppError::RateLimited)
        }
    }

    /// Logs in with e-mail and password: throttled per account and per address (the attempt is
    /// counted before the password is checked), constant work whether or not the account
    /// exists. Accounts with a second factor get a short-lived pending token instead of a
    /// session, to be completed with [`App::login_code`].
    pub async fn login(&self, email: &str, password: &str, address: &str) -> AppResult<LoginStep> {
        let now = self.now();
        let email_key = format!("account:{}", throttle_name(email));
        let addr_key = format!("address:{address}");
        self.take_attempt(&email_key, &addr_key, now).await?;
        let found = match EmailAddress::parse(email) {
            Ok(e) => self.store.find_login(&e).await?,
            Err(_) => None,
        };
        let (user, hash) = match found {
            Some((u, h)) if !u.disabled => (Some(u), Some(h)),
            _ => (None, None),
        };
        let ok = match self.check_password_hash(password, hash).await {
            Ok(ok) => ok && user.is_some(),
            Err(e) => {
                // Nothing was checked (too busy): the attempt does not count.
                self.store.give_back_login_attempt(&email_key, now).await?;
                self.store.give_back_login_attempt(&addr_key, now).await?;
                return Err(e);
            }
        };
        // A wrong password leaves its attempt counted; a right one gives back its place under
        // the address (an office behind one address logs in all morning).
        let Some(user) = user.filter(|_| ok) else {
            return Err(wrong_login());
        };
        self.store.give_back_login_attempt(&addr_key, now).await?;
        if user.totp_enabled {
            // The code step takes its own attempt; the account's failures stay until it passes.
            self.store.give_back_login_attempt(&email_key, now).await?;
            let pending = random_hex(16)?;
            self.store
                .create_pending_login(&hash_token(&pending), user.id, now + PENDING_TTL)
                .await?;
            return Ok(LoginStep::NeedCode { pending });
        }
        self.store.clear_login_failures(&email_key).await?;
        Ok(LoginStep::Done(self.start_session(user, now).await?))
    }

    /// Second step of a login with a one-time code. Codes are single use; each attempt is
    /// counted before the code is checked, under the same throttle as passwords.
    pub async fn login_code(&self, pending: &str, code: &str, address: &str) -> AppResult<Login> {
        let now = self.now();
        let addr_key = format!("address:{address}");
        let key = hash_token(pending);
        let entry = self.store.pending_login(&key).await?;
        let Some((user_id, expires)) = entry.filter(|(_, exp)| *exp > now) else {
            return Err(AppError::invalid(
                "code",
                "This login has expired. Start again with your password.",
            ));
        };
        let user = self.store.get_user(user_id).await?;
        let acct_key = format!("account:{}", user.email);
        self.take_attempt(&acct_key, &addr_key, now).await?;
        let secret = self
            .store
            .totp_secret(user_id)
            .await?
            .and_then(|s| crate::totp::base32_decode(&s));
        let step = secret.and_then(|s| crate::totp::matching_step(&s, code, now.timestamp()));
        let fresh = match step {
            Some(step) => self.store.use_totp_step(user_id, step).await?,
            None => false,
        };
        if !fresh || user.disabled || expires <= now {
            return Err(AppError::invalid(
                "code",
                "That code is not right. Use the current code from your app.",
            ));
        }
        self.store.end_pending_login(&key).await?;
        self.store.clear_login_failures(&acct_key).await?;
        self.store.give_back_login_attempt(&addr_key, now).await?;
        self.start_session(user, now).await
    }

    async fn start_session(&self, user: User, now: DateTime<Utc>) -> AppResult<Login> {
        let token = random_hex(16)?;
        self.store
            .create_session(&SessionRecord {
                token_hash: hash_token(&token),
                user_id: user.id,
                created_at: now,
                last_seen_at: now,
                csrf_token: random_hex(16)?,
            })
            .await?;
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(user.id),
                action: "login".into(),
                target: format!("user:{}", user.id),
                detail: if user.totp_enabled {
                    "with a one-time code".into()
                } else {
                    String::new()
                },
            })
            .await?;
        Ok(Login { token, user })
    }

    /// A new random TOTP secret (base32) for the actor to add to an authenticator app; nothing
    /// is saved until [`App::enable_totp`] confirms a code from it.
    pub fn new_totp_secret(&self) -> AppResult<String> {
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}").into()))?;
        Ok(crate::totp::base32_encode(&raw))
    }

    /// Turns the second factor on once the actor proves their app produces the right codes.
    pub async fn enable_totp(&self, actor: &User, secret_b32: &str, code: &str) -> AppResult<()> {
        let secret = crate::totp::base32_decode(secret_b32)
            .filter(|s| s.len() >= 10)
            .ok_or_else(|| {
                AppError::invalid("secret", "The setup key is not valid; reload the page.")
            })?;
        let now = self.now();
        let Some(step) = crate::totp::matching_step(&secret, code, now.timestamp()) else {
            return Err(AppError::invalid(
                "code",
                "That code is not right. Check the time on your phone and try the current code.",
            ));
        };
        let audit = AuditInput {
            at: now,
            user_id: Some(actor.id),
            action: "totp-on".into(),
            target: format!("user:{}", actor.id),
            detail: String::new(),
        };
        self.store
            .set_totp(actor.id, Some(&crate::totp::base32_encode(&secret)), &audit)
            .await?;
        self.store.use_totp_step(actor.id, step).await?;
        Ok(())
    }

    /// Turns the second factor off (a current code is needed), unless the site requires it.
    pub async fn disable_totp(&self, actor: &User, code: &str) -> AppResult<()> {
        if self.totp_required(actor) {
            return Err(AppError::invalid(
                "code",
                "Your role must use a second factor on this site.",
            ));
        }
        let now = self.now();
        let secret = self
            .store
            .totp_secret(actor.id)
            .await?
            .and_then(|s| crate::totp::base32_decode(&s));
        let ok = match secret.and_then(|s| crate::totp::matching_step(&s, code, now.timestamp())) {
            Some(step) => self.store.use_totp_step(actor.id, step).await?,
            None => false,
        };
        if !ok {
            return Err(AppError::invalid("code", "That code is not right."));
        }
        let audit = AuditInput {
            at: now,
            user_id: Some(actor.id),
            action: "totp-off".into(),
            target: format!("user:{}", actor.id),
            detail: String::new(),
        };
        Ok(self.store.set_totp(actor.id, None, &audit).await?)
    }

    /// Whether this account must have a second factor (the site requires it for editors and
    /// admins).
    pub fn totp_required(&self, user: &User) -> bool {
        self.site.require_totp_for_editors && user.role >= Role::Editor
    }

    /// E-mails a password-reset link if the address has an account; answers the same either
    /// way, after the same work: the throttle and the account lookup happen for every address,
    /// while queueing the e-mail's job happens after the answer. The job (`send_mail`) makes the
    /// link's token when it sends, so no token waits in the job table; it retries with back-off.
    /// At most [`MAX_RESETS_PER_ADDRESS`] requests per client address (then rate-limited) and
    /// [`MAX_RESETS_PER_ACCOUNT`] e-mails per account (then silently none) in [`RESET_WINDOW`].
    pub async fn send_password_reset(&self, email: &str, address: &str) -> AppResult<()> {
        let now = self.now();
        let take = |key: String, limit: usize| async move {
            self.store
                .take_login_attempt(
                    &[(&key, limit)],
                    now,
                    now - RESET_WINDOW,
                    now - THROTTLE_KEEP,
                )
                .await
        };
        if !take(format!("reset-address:{address}"), MAX_RESETS_PER_ADDRESS).await? {
            return Err(AppError::RateLimited);
        }
        let account_key = format!("reset-account:{}", throttle_name(email));
        let allowed = take(account_key, MAX_RESETS_PER_ACCOUNT).await?;
        let found = match EmailAddress::parse(email) {
            Ok(e) => self.store.find_login(&e).await?,
            Err(_) => None,
        };
        let job = found
            .map(|(u, _)| u)
            .filter(|u| allowed && !u.disabled)
            .map(|u| newsdesk_jobs::new_job(&SendMail::PasswordReset { user: u.id.0 }, now))
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        let Ok(permit) = self.reset_mails.clone().try_acquire_owned() else {
            tracing::warn!("too many password-reset e-mails being queued; one was not sent");
            return Ok(());
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let Some(job) = job else { return };
            if let Err(e) = store.enqueue_jobs(&[job], now).await {
                tracing::warn!(error = %e, "a password-reset e-mail could not be queued");
            }
        });
        Ok(())
    }

    /// The password-reset e-mail of an account, with a new token saved for its link (the mail
    /// job's work); `None` for an account that is gone or disabled meanwhile.
    pub(crate) async fn password_reset_mail(
        &self,
        user: UserId,
    ) -> AppResult<Option<newsdesk_mail::Message>> {
        let user = match self.store.get_user(user).await {
            Ok(u) if !u.disabled => u,
            Ok(_) | Err(newsdesk_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let token = random_hex(16)?;
        let expires = self.now() + RESET_TTL;
        self.store
            .create_password_reset(&hash_token(&token), user.id, expires)
            .await?;
        let link = format!(
            "{}/newsroom/reset/{token}",
            self.site.base_url.trim_end_matches('/')
        );
        Ok(Some(newsdesk_mail::Message::new(
            user.email.clone(),
            newsdesk_mail::templates::password_reset(&self.site.name, &link, expires),
        )))
    }

    /// Waits until every password-reset e-mail requested so far is queued, then runs the due
    /// jobs until none is left (tests and the CLI; a server's worker sends them by itself).
    pub async fn reset_mails_sent(self: &std::sync::Arc<Self>) {
        let all = u32::try_from(RESET_MAILS_IN_FLIGHT).unwrap_or(u32::MAX);
        if let Ok(p) = self.reset_mails.acquire_many(all).await {
            drop(p);
        }
        if let Err(e) = self.run_jobs_until_idle().await {
            tracing::warn!(error = %e, "running the queued jobs failed");
        }
    }

    /// Sets a new password with a reset token; every session of the account ends.
    pub async fn reset_password(&self, token: &str, password: &str) -> AppResult<()> {
        check_password(password).map_err(|f| AppError::Invalid(vec![f]))?;
        // The place comes first: a busy server answers "try again" without using up the link.
        let place = self.hash_place().await?;
        let Some(user) = self
            .store
            .take_password_reset(&hash_token(token), self.now())
            .await?
        else {
            return Err(AppError::invalid(
                "token",
                "This reset link is not valid: it may have been used or expired.",
            ));
        };
        let pw = password.to_owned();
        let hash = blocking(move || hash_password(&pw)).await??;
        drop(place);
        let audit = AuditInput {
            at: self.now(),
            user_id: Some(user),
            action: "password-reset".into(),
            target: format!("user:{user}"),
            detail: String::new(),
        };
        Ok(self.store.set_password(user, &hash, &audit).await?)
    }

    /// The session behind a cookie token, if it is valid now. Expired sessions and sessions of
    /// disabled accounts are ended on sight.
    pub async fn session(&self, token: &str) -> AppResult<Option<Authed>> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = hash_token(token);
        let Some((s, user)) = self.store.find_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        if user.disabled
            || now - s.last_seen_at > IDLE_TIMEOUT
            || now - s.created_at > ABSOLUTE_TIMEOUT
        {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        if now - s.last_seen_at > TOUCH_EVERY {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(Authed {
            user,
            csrf_token: s.csrf_token,
            token_hash: hash,
        }))
    }

    /// Ends a session.
    pub async fn logout(&self, authed: &Authed) -> AppResult<()> {
        self.store.delete_session(&authed.token_hash).await?;
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(authed.user.id),
                action: "logout".into(),
                target: format!("user:{}", authed.user.id),
                detail: String::new(),
            })
            .await?;
        Ok(())
    }

    /// Makes an account from the command line: the operator of the machine acts as the system.
    pub async fn add_user(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> AppResult<User> {
        let email =
            EmailAddress::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
        check_password(password).map_err(|f| AppError::Invalid(vec![f]))?;
        let name = if name.trim().is_empty() {
            email.as_str().split('@').next().unwrap_or("").to_owned()
        } else {
            name.trim().to_owned()
        };
        let hash = self.new_password_hash(password).await?;
        let user = self
            .store
            .create_user(
                &email,
                &name,
                role,
                &hash,
                &AuditInput {
                    at: self.now(),
                    user_id: None,
                    action: "create-user".into(),
                    target: String::new(),
                    detail: format!("{email} as {role}, from the command line"),
                },
            )
            .await?;
        Ok(user)
    }

    /// Invites someone: returns the single-use token to put in the invitation link.
    pub async fn invite(&self, actor: &User, email: &str, role: Role) -> AppResult<String> {
        crate::newsroom::require(actor, Capability::ManageUsers)?;
        let email =
            EmailAddress::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
        let token = random_hex(16)?;
        let now = self.now();
        self.store
            .create_invitation(
                &hash_token(&token),
                &Invitation {
                    email: email.clone(),
                    role,
                    invited_by: Some(actor.id),
                    expires_at: now + INVITATION_TTL,
                },
            )
            .await?;
        let link = format!(
            "{}/newsroom/invitation/{token}",
            self.site.base_url.trim_end_matches('/')
        );
        // The mail is a job (retried with back-off, on the Jobs page); the admin also sees the
        // link, so a mail that fails for good does not lose the invitation.
        let job = newsdesk_jobs::new_job(
            &SendMail::Invitation {
                to: email.clone(),
                role,
                link,
                expires: now + INVITATION_TTL,
            },
            now,
        )
        .map_err(|e| AppError::Internal(e.to_string().into()))?;
        self.store.enqueue_jobs(&[job], now).await?;
        let sent = "e-mail queued";
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(actor.id),
                action: "invite".into(),
                target: format!("email:{email}"),
                detail: format!("as {role}, {sent}"),
            })
            .await?;
        Ok(token)
    }

    /// Accepts an invitation: makes the account with the invited role.
    pub async fn accept_invitation(
        &self,
        token: &str,
        name: &str,
        password: &str,
    ) -> AppResult<User> {
        check_password(password).map_err(|f| AppError::Invalid(vec![f]))?;
        if name.trim().is_empty() || name.chars().count() > 120 {
            return Err(AppError::invalid(
                "name",
                "Give a name of at most 120 characters.",
            ));
        }
        // The place comes first: a busy server answers "try again" without using up the link.
        let place = self.hash_place().await?;
        let Some(inv) = self
            .store
            .take_invitation(&hash_token(token), self.now())
            .await?
        else {
            return Err(AppError::invalid(
                "token",
                "This invitation is not valid: it may have been used or expired.",
            ));
        };
        let pw = password.to_owned();
        let hash = blocking(move || hash_password(&pw)).await??;
        drop(place);
        let audit = AuditInput {
            at: self.now(),
            user_id: inv.invited_by,
            action: "create-user".into(),
            target: String::new(),
            detail: format!("{} accepted an invitation as {}", inv.email, inv.role),
        };
        match self
            .store
            .create_user(&inv.email, name.trim(), inv.role, &hash, &audit)
            .await
        {
            Err(newsdesk_store::StoreError::Conflict(newsdesk_store::Conflict::EmailTaken)) => {
                // An imported author's account (no password yet) is the invited person's:
                // the invitation gives it its password and role and enables it.
                let Some((user, NO_PASSWORD)) = self
                    .store
                    .find_login(&inv.email)
                    .await?
                    .as_ref()
                    .map(|(u, h)| (u.clone(), h.as_str()))
                else {
                    return Err(newsdesk_store::StoreError::Conflict(
                        newsdesk_store::Conflict::EmailTaken,
                    )
                    .into());
                };
                let audit = AuditInput {
                    target: format!("user:{}", user.id),
                    detail: format!(
                        "{} accepted an invitation as {} for an imported account",
                        inv.email, inv.role
                    ),
                    ..audit
                };
                self.store.set_password(user.id, &hash, &audit).await?;
                Ok(self
                    .store
                    .update_user(user.id, inv.role, false, &audit)
                    .await?)
            }
            other => Ok(other?),
        }
    }

    /// Changes an account's role or disables it (admins only; an admin cannot lock themselves out).
    pub async fn set_user_access(
        &self,
        actor: &User,
        id: UserId,
        role: Role,
        disabled: bool,
    ) -> AppResult<User> {
        crate::newsroom::require(actor, Capability::ManageUsers)?;
        if id == actor.id && (disabled || role != Role::Admin) {
            return Err(AppError::invalid(
                "role",
                "You cannot demote or disable your own account.",
            ));
        }
        let before = self.store.get_user(id).await?;
        let detail = format!(
            "role {} → {}{}",
            before.role,
            role,
            if disabled != before.disabled {
                if disabled {
                    ", disabled"
                } else {
                    ", enabled"
                }
            } else {
                ""
            }
        );
        Ok(self
            .store
            .update_user(
                id,
                role,
                disabled,
                &AuditInput {
                    at: self.now(),
                    user_id: Some(actor.id),
                    action: "access".into(),
                    target: format!("user:{id}"),
                    detail,
                },
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_hashes() {
        assert!(
            constant_eq("abc", "abc") && !constant_eq("abc", "abd") && !constant_eq("abc", "ab")
        );
        let t = random_hex(16).unwrap();
        assert_eq!(t.len(), 32);
        assert_ne!(t, random_hex(16).unwrap());
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
    }

    /// Argon2 work waits for a free place at most [`HASH_WAIT`], then is refused; nothing is
    /// checked meanwhile.
    #[tokio::test]
    async fn argon2_work_waits_for_a_place_then_is_refused() {
        let store = newsdesk_store_sqlite::temp_store().unwrap();
        let app = App::load(
            store,
            std::sync::Arc::new(SystemClock),
            crate::SiteConfig {
                password_checks_at_once: 2,
                ..crate::SiteConfig::default()
            },
        )
        .await
        .unwrap();
        app.add_user("a@example.org", "", Role::Author, "a long enough password")
            .await
            .unwrap();
        let held = app.hash_permits.acquire_many(2).await.unwrap();
        let (a, b, c) = tokio::join!(
            app.login("a@example.org", "a long enough password", "1"),
            app.login("b@example.org", "wrong password", "2"),
            app.add_user("c@example.org", "", Role::Author, "a long enough password"),
        );
        assert!(matches!(a, Err(AppError::RateLimited)), "{a:?}");
        assert!(matches!(b, Err(AppError::RateLimited)), "{b:?}");
        assert!(matches!(c, Err(AppError::RateLimited)), "{c:?}");
        assert_eq!(app.password_checks(), 0);
        let outbox = std::sync::Arc::new(newsdesk_mail::MemoryMailer::new());
        app.set_mailer(outbox.clone());
        app.send_password_reset("a@example.org", "1").await.unwrap();
        app.reset_mails_sent().await;
        let text = outbox.take().remove(0).text;
        let i = text.find("/newsroom/reset/").unwrap() + 16;
        let token = &text[i..i + 32];
        assert!(
            matches!(
                app.reset_password(token, "another long password").await,
                Err(AppError::RateLimited)
            ),
            "busy: try again"
        );
        drop(held);
        app.reset_password(token, "another long password")
            .await
            .expect("the link was not used up while the server was busy");
        assert!(app
            .login("a@example.org", "another long password", "1")
            .await
            .is_ok());
        assert_eq!(app.password_checks(), 1);
    }
}
