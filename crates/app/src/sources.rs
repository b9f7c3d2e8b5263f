//! Agency sources: feeds polled on a schedule through the safe fetcher (conditional requests,
//! back-off on errors, a health record per source) and agencies that push copy with a token.

use crate::auth::{hash_token, random_hex};
use crate::newsroom::require;
use crate::wire::IngestReport;
use crate::{App, AppError, AppResult};
use newsdesk_domain::*;
use newsdesk_fetch::{Backoff, Conditional, FetchPolicy, Fetched, Fetcher};

/// A poll's outcome before it is recorded: the report and new validators, or the error and any
/// Retry-After the server gave.
type PollResult =
    Result<(IngestReport, Option<String>, Option<String>), (String, Option<std::time::Duration>)>;

/// Shortest and longest polling interval, in minutes.
pub const POLL_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;

impl App {
    /// Replaces the fetch policy (tests use short time-outs).
    pub fn set_fetch_policy(&self, policy: FetchPolicy) {
        *self.fetch_policy.write().unwrap_or_else(|e| e.into_inner()) = policy;
    }

    /// Adds a source (admins). Returns it with its push token, shown once.
    pub async fn add_source(
        &self,
        actor: &User,
        name: &str,
        url: &str,
        poll_minutes: i64,
        allow_loopback: bool,
    ) -> AppResult<(Source, String)> {
        require(actor, Capability::ManageUsers)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "name",
                "Give the agency a name of 1 to 100 characters.",
            ));
        }
        let url = check_feed_url(url)?;
        check_poll_minutes(poll_minutes)?;
        let token = random_hex(24)?;
        let src = self
            .store
            .create_source(
                name,
                (!url.is_empty()).then_some(url),
                poll_minutes,
                allow_loopback,
                &hash_token(&token),
                self.now(),
            )
            .await?;
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(actor.id),
                action: "add-source".into(),
                target: format!("source:{}", src.id),
                detail: format!("{name} {url}"),
            })
            .await?;
        Ok((src, token))
    }

    /// One source with its health and the items received in each of the last `days` days, the
    /// most recent first (editors and admins).
    pub async fn source_health(
        &self,
        actor: &User,
        id: SourceId,
        days: usize,
    ) -> AppResult<(Source, Vec<i64>)> {
        require(actor, Capability::EditAnyStory)?;
        let now = self.now();
        let src = self.store.get_source(id, now).await?;
        let per_day = self.store.source_items_per_day(id, now, days).await?;
        Ok((src, per_day))
    }

    /// Changes a source's feed address, polling interval, whether it is on, and the CA
    /// certificates (PEM, empty for none) trusted for its HTTPS feed (admins).
    pub async fn update_source(
        &self,
        actor: &User,
        id: SourceId,
        url: &str,
        poll_minutes: i64,
        enabled: bool,
        ca_pem: &str,
    ) -> AppResult<Source> {
        require(actor, Capability::ManageUsers)?;
        let url = check_feed_url(url)?;
        check_poll_minutes(poll_minutes)?;
        let ca_pem = check_ca_pem(ca_pem)?;
        let now = self.now();
        self.store
            .update_source(
                id,
                (!url.is_empty()).then_some(url),
                poll_minutes,
                enabled,
                ca_pem,
                now,
            )
            .await?;
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(actor.id),
                action: "edit-source".into(),
                target: format!("source:{id}"),
                detail: format!(
                    "{url} every {poll_minutes} min, {}",
                    if enabled { "on" } else { "off" }
                ),
            })
            .await?;
        Ok(self.store.get_source(id, now).await?)
    }

    /// Gives a source a new push token, returned once; the old one stops working (admins).
    pub async fn new_source_token(&self, actor: &User, id: SourceId) -> AppResult<String> {
        require(actor, Capability::ManageUsers)?;
        let token = random_hex(24)?;
        self.store.set_source_token(id, &hash_token(&token)).await?;
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(actor.id),
                action: "new-source-token".into(),
                target: format!("source:{id}"),
                detail: String::new(),
            })
            .await?;
        Ok(token)
    }

    /// Polls a source's feed now, whatever its schedule (admins): the tool to see at once
    /// whether a fix to a feed worked. The outcome is recorded on its health like any poll.
    pub async fn poll_source_now(
        &self,
        actor: &User,
        id: SourceId,
    ) -> AppResult<Result<IngestReport, String>> {
        require(actor, Capability::ManageUsers)?;
        let src = self.store.get_source(id, self.now()).await?;
        if src.url.is_none() {
            return Err(AppError::Conflict(
                "This source has no feed address: agencies push to it.".into(),
            ));
        }
        Ok(self.poll_source(&src).await)
    }

    /// Every source with its health (editors and admins).
    pub async fn sources(&self, actor: &User) -> AppResult<Vec<Source>> {
        require(actor, Capability::EditAnyStory)?;
        Ok(self.store.list_sources(self.now()).await?)
    }

    /// Polls one feed now and records the outcome on the source.
    pub async fn poll_source(&self, s: &Source) -> Result<IngestReport, String> {
        let Some(url) = s.url.clone() else {
            return Err("this source has no feed address".into());
        };
        let mut policy = self
            .fetch_policy
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        policy.allow_loopback = s.allow_loopback;
        if let Some(pem) = &s.ca_pem {
            policy.extra_root_certs.push(pem.clone());
        }
        let cond = Conditional {
            etag: s.etag.clone(),
            last_modified: s.last_modified.clone(),
        };
        let result: PollResult = async {
            let fetcher = Fetcher::new(policy).map_err(|e| (e.to_string(), None))?;
            match fetcher.get_feed(&url, &cond).await {
                Ok(Fetched::NotModified) => Ok((IngestReport::default(), None, None)),
                Ok(Fetched::Ok {
                    body,
                    content_type,
                    content_language,
                    etag,
                    last_modified,
                    final_url,
                }) => {
                    // Everything the response said about the document reaches the parser:
                    // `Content-Language` is the language of a feed that names none.
                    let meta = newsdesk_ingest::HttpMeta {
                        content_type: content_type.as_deref(),
                        base_url: Some(&final_url),
                        content_language: content_language.as_deref(),
                    };
                    let items = newsdesk_ingest::parse_items_with(
                        &s.name,
                        &body,
                        &meta,
                        &newsdesk_ingest::Limits::default(),
                    )
                    .map_err(|e| (format!("the feed could not be read: {e}"), None))?;
                    // New items its rule admits are auto-published by jobs queued with them.
                    let report = self
                        .ingest_from(Some(s), items)
                        .await
                        .map_err(|e| (e.to_string(), None))?;
                    Ok((report, etag, last_modified))
                }
                Err(e) => Err((e.to_string(), e.retry_after())),
            }
        }
        .await;
        let now = self.now();
        let (record, out) = match result {
            Ok((report, etag, last_modified)) => (
                PollRecord {
                    at: now,
                    error: None,
                    etag,
                    last_modified,
                    next_poll_at: now + chrono::Duration::minutes(s.poll_minutes),
                },
                Ok(report),
            ),
            Err((e, retry_after)) => {
                self.counters
                    .ingest_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let failures = u32::try_from(s.failures + 1).unwrap_or(u32::MAX);
                let delay = Backoff::default().next_delay(failures, retry_after);
                let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(6));
                (
                    PollRecord {
                        at: now,
                        error: Some(e.clone()),
                        etag: None,
                        last_modified: None,
                        next_poll_at: now + delay,
                    },
                    Err(e),
                )
            }
        };
        if let Err(e) = self.store.record_poll(s.id, &record).await {
            tracing::error!(source = s.id.0, error = %e, "recording a poll failed");
        }
        out
    }

    /// Copy pushed by an agency (ninjs, NewsML-G2 or a feed document), authenticated by the
    /// source's token: [`App::authorize_push`] then [`App::take_push`].
    pub async fn push(
        &self,
        source: SourceId,
        token: &str,
        body: &[u8],
        content_type: Option<&str>,
    ) -> AppResult<IngestReport> {
        let grant = self.authorize_push(source, token).await?;
        self.take_push(grant, body, content_type).await
    }

    /// Checks a push before its body is read: the source exists, the token is its own
    /// (`Forbidden` otherwise, the same for an unknown source) and it is switched on
    /// (`Conflict`, told only to a holder of the right token).
    pub async fn authorize_push(&self, source: SourceId, token: &str) -> AppResult<PushGrant> {
        let Some(hash) = self
            .store
            .source_token_hash(source)
            .await
            .map_err(|_| AppError::Forbidden)?
        else {
            return Err(AppError::Forbidden);
        };
        let given = hash_token(token);
        let same = crate::auth::constant_eq(&given, &hash);
        let src = self.store.get_source(source, self.now()).await?;
        if !same {
            return Err(AppError::Forbidden);
        }
        if !src.enabled {
            // The agency has the right token: tell it why nothing is taken.
            return Err(AppError::Conflict(
                "This source is switched off; the newsroom takes no copy from it now.".into(),
            ));
        }
        Ok(PushGrant(src))
    }

    /// Takes the document of a push that [`App::authorize_push`] let in.
    pub async fn take_push(
        &self,
        grant: PushGrant,
        body: &[u8],
        content_type: Option<&str>,
    ) -> AppResult<IngestReport> {
        let PushGrant(src) = grant;
        let source = src.id;
        let taken = async {
            let items = newsdesk_ingest::parse_items(
                &src.name,
                body,
                content_type,
                None,
                &newsdesk_ingest::Limits::default(),
            )
            .map_err(|e| AppError::invalid("body", e.to_string()))?;
            let report = self.ingest_from(Some(&src), items).await?;
            Ok::<_, AppError>(report)
        }
        .await;
        let report = match taken {
            Ok(r) => r,
            Err(e) => {
                self.counters
                    .ingest_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
        };
        let now = self.now();
        let next = src.next_poll_at.max(now);
        self.store
            .record_poll(
                source,
                &PollRecord {
                    at: now,
                    error: None,
                    etag: None,
                    last_modified: None,
                    next_poll_at: next,
                },
            )
            .await?;
        Ok(report)
    }
}

/// A push whose token was checked: only [`App::authorize_push`] makes one.
#[derive(Debug)]
pub struct PushGrant(pub(crate) Source);

/// A feed address as typed: empty (push only) or an http(s) URL.
fn check_feed_url(url: &str) -> AppResult<&str> {
    let url = url.trim();
    if !url.is_empty() {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() <= 2000
            && !url.contains(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid(
                "url",
                "The feed address must be an http:// or https:// URL.",
            ));
        }
    }
    Ok(url)
}

/// A source's own CA certificates as pasted: empty (none) or PEM the fetcher accepts.
fn check_ca_pem(pem: &str) -> AppResult<Option<&str>> {
    let pem = pem.trim();
    if pem.is_empty() {
        return Ok(None);
    }
    if pem.len() > 64 * 1024 {
        return Err(AppError::invalid(
            "ca_pem",
            "Paste at most 64 KiB of CA certificates.",
        ));
    }
    let policy = FetchPolicy {
        extra_root_certs: vec![pem.to_owned()],
        ..FetchPolicy::default()
    };
    match Fetcher::new(policy) {
        Ok(_) => Ok(Some(pem)),
        Err(e) => Err(AppError::invalid(
            "ca_pem",
            format!("The CA certificate cannot be used: {e}"),
        )),
    }
}

fn check_poll_minutes(poll_minutes: i64) -> AppResult<()> {
    if POLL_MINUTES.contains(&poll_minutes) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "poll_minutes",
            "Poll every 1 to 1,440 minutes.",
        ))
    }
}
