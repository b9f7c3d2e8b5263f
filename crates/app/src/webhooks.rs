//! Outgoing webhooks: an admin registers URLs for events; each event is recorded once per
//! subscribed hook (its key is made from what happened, so the same event cannot be recorded
//! twice for a hook) and delivered by a job with retries and back-off, signed with the hook's
//! secret, through the SSRF-safe client of `fetch`.
//!
//! Events come from the use cases (publish, save, correct, unpublish, kill, scheduled and
//! automatic publication, new wire clusters), after their transaction commits.
//!
//! Signature: `Newsdesk-Signature: sha256=` + hex HMAC-SHA256, keyed with the hook's secret, of
//! `{timestamp}.{body}`, where `timestamp` is the `Newsdesk-Timestamp` header (Unix seconds).

use crate::{require, App, AppError, AppResult};
use hmac::{Hmac, Mac};
use newsdesk_domain::*;
use newsdesk_jobs::{decode, new_job, JobError, JobKind};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// `[webhooks]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Seconds one delivery may take in all (1 to 60).
    pub timeout_seconds: u64,
    /// Bytes of a receiver's answer kept with the delivery (0 to 4096).
    pub excerpt_bytes: usize,
    /// Finished deliveries kept per hook, the newest (10 to 10,000).
    pub keep_deliveries: usize,
    /// Hooks at most (1 to 100).
    pub max_hooks: usize,
    /// Deliver to addresses in private ranges (10/8, 172.16/12, 192.168/16, fc00::/7): only for
    /// receivers on your own network. Loopback, link-local and metadata addresses stay refused.
    pub allow_private: bool,
    /// Deliver to loopback addresses: for tests only.
    pub allow_loopback: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout_seconds: 10,
            excerpt_bytes: 1024,
            keep_deliveries: 200,
            max_hooks: 20,
            allow_private: false,
            allow_loopback: false,
        }
    }
}

impl WebhookConfig {
    /// The settings within their bounds.
    pub fn bounded(mut self) -> Self {
        self.timeout_seconds = self.timeout_seconds.clamp(1, 60);
        self.excerpt_bytes = self.excerpt_bytes.min(4096);
        self.keep_deliveries = self.keep_deliveries.clamp(10, 10_000);
        self.max_hooks = self.max_hooks.clamp(1, 100);
        self
    }
}

/// Deliver one event to one hook (queued with the delivery's record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhook {
    /// The hook.
    pub hook: i64,
    /// The event's key.
    pub event: String,
}

impl JobKind for DeliverWebhook {
    const KIND: &'static str = "deliver_webhook";
    /// About twenty minutes of back-off (10 s, 20 s, 40 s …) before the delivery has failed.
    const MAX_ATTEMPTS: u32 = 8;
}

/// Most deliveries listed for a hook.
const LISTED: usize = 50;

/// Who registers and manages webhooks: admins (stated once, here).
pub const MANAGE_WEBHOOKS: Capability = Capability::ManageUsers;

/// The signature header's value for `body` sent at `timestamp` with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

/// An http(s) URL with a host, no credentials, at most 2,000 characters.
fn check_url(url: &str) -> AppResult<String> {
    let u = url.trim();
    let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
    let rest = u.split_once("://").map(|(_, r)| r).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !scheme_ok
        || authority.is_empty()
        || authority.contains('@')
        || u.chars().count() > 2000
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::invalid(
            "url",
            "Give an http:// or https:// address with a host (no user name or password).",
        ));
    }
    Ok(u.to_owned())
}

impl App {
    /// Uses these webhook settings from now on.
    pub fn set_webhook_config(&self, cfg: WebhookConfig) {
        *self.webhooks.write().unwrap_or_else(|e| e.into_inner()) = cfg.bounded();
    }

    fn webhook_config(&self) -> WebhookConfig {
        self.webhooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Registers a hook; returns it and its signing secret, shown this once.
    pub async fn add_webhook(
        &self,
        actor: &User,
        url: &str,
        events: &[WebhookEvent],
    ) -> AppResult<(Webhook, String)> {
        require(actor, MANAGE_WEBHOOKS)?;
        let url = check_url(url)?;
        if events.is_empty() {
            return Err(AppError::invalid("events", "Choose at least one event."));
        }
        if self.store.list_webhooks().await?.len() >= self.webhook_config().max_hooks {
            return Err(AppError::invalid(
                "url",
                "There are as many webhooks as the settings allow; remove one first.",
            ));
        }
        let secret = format!("whsec_{}", crate::auth::random_hex(24)?);
        let now = self.now();
        let hook = self
            .store
            .create_webhook(
                &url,
                events,
                &secret,
                now,
                &self.webhook_audit(actor, "webhook_add", &url),
            )
            .await?;
        Ok((hook, secret))
    }

    fn webhook_audit(&self, actor: &User, action: &str, target: &str) -> AuditInput {
        AuditInput {
            at: self.now(),
            user_id: Some(actor.id),
            action: action.into(),
            target: target.into(),
            detail: String::new(),
        }
    }

    /// Every hook.
    pub async fn webhooks(&self, actor: &User) -> AppResult<Vec<Webhook>> {
        require(actor, MANAGE_WEBHOOKS)?;
        Ok(self.store.list_webhooks().await?)
    }

    /// One hook and its newest deliveries.
    pub async fn webhook(
        &self,
        actor: &User,
        id: WebhookId,
    ) -> AppResult<(Webhook, Vec<WebhookDelivery>)> {
        require(actor, MANAGE_WEBHOOKS)?;
        let hook = self.store.get_webhook(id).await?;
        let list = self.store.list_webhook_deliveries(id, LISTED).await?;
        Ok((hook, list))
    }

    /// Turns a hook on or off.
    pub async fn set_webhook_enabled(
        &self,
        actor: &User,
        id: WebhookId,
        enabled: bool,
    ) -> AppResult<()> {
        require(actor, MANAGE_WEBHOOKS)?;
        let action = if enabled { "webhook_on" } else { "webhook_off" };
        Ok(self
            .store
            .set_webhook_enabled(
                id,
                enabled,
                &self.webhook_audit(actor, action, &id.to_string()),
            )
            .await?)
    }

    /// Removes a hook and its deliveries.
    pub async fn delete_webhook(&self, actor: &User, id: WebhookId) -> AppResult<()> {
        require(actor, MANAGE_WEBHOOKS)?;
        Ok(self
            .store
            .delete_webhook(
                id,
                &self.webhook_audit(actor, "webhook_delete", &id.to_string()),
            )
            .await?)
    }

    /// Records `event` (key `key`, unique to what happened) for every enabled hook that takes
    /// it, each with its delivery job. A failure is logged: the use case that caused the event
    /// has already happened.
    pub(crate) async fn emit_webhook(
        &self,
        event: WebhookEvent,
        key: &str,
        data: serde_json::Value,
    ) {
        if let Err(e) = self.try_emit_webhook(event, key, data).await {
            tracing::error!(event = event.as_str(), error = %e, "a webhook event could not be recorded");
        }
    }

    async fn try_emit_webhook(
        &self,
        event: WebhookEvent,
        key: &str,
        data: serde_json::Value,
    ) -> AppResult<()> {
        let hooks: Vec<WebhookId> = self
            .store
            .list_webhooks()
            .await?
            .into_iter()
            .filter(|h| h.enabled && h.events.contains(&event))
            .map(|h| h.id)
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let body = serde_json::json!({
            "id": key,
            "event": event.as_str(),
            "occurred_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
        .to_string();
        let jobs = hooks
            .iter()
            .map(|h| {
                new_job(
                    &DeliverWebhook {
                        hook: h.0,
                        event: key.to_owned(),
                    },
                    now,
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        let keep = self.webhook_config().keep_deliveries;
        self.store
            .queue_webhook_event(key, event.as_str(), &body, &hooks, &jobs, now, keep)
            .await?;
        Ok(())
    }

    /// A story event: what a receiver needs to fetch the story (no text of an embargoed one).
    pub(crate) async fn emit_story_event(&self, event: WebhookEvent, story: &Story) {
        let now = self.now();
        let base = self.site.base_url.trim_end_matches('/');
        let mut data = serde_json::json!({
            "story": {
                "id": story.id.0,
                "version": story.version,
                "slug": story.slug.as_str(),
                "status": story.status.as_str(),
                "url": format!("{base}/article/{}", story.slug.as_str()),
                "embargo_until": story.embargo_until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            }
        });
        if story.is_public_at(now) {
            data["story"]["headline"] = story.headline.as_str().into();
        }
        let key = format!("story-{}-v{}-{}", story.id.0, story.version, event.as_str());
        self.emit_webhook(event, &key, data).await;
    }

    /// Delivers one event to one hook (the `deliver_webhook` job).
    pub(crate) async fn deliver_webhook(&self, job: &Job) -> Result<(), JobError> {
        let d: DeliverWebhook = decode(job)?;
        let hook_id = WebhookId(d.hook);
        let delivery = match self.store.get_webhook_delivery(hook_id, &d.event).await {
            Ok(x) => x,
            // The hook was removed meanwhile.
            Err(newsdesk_store::StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if delivery.state != DeliveryState::Pending {
            return Ok(());
        }
        let hook = self.store.get_webhook(hook_id).await?;
        let now = self.now();
        let last = job.attempts >= job.max_attempts;
        if !hook.enabled {
            self.store
                .record_webhook_attempt(
                    delivery.id,
                    now,
                    0,
                    "the hook is off",
                    DeliveryState::Failed,
                )
                .await?;
            return Ok(());
        }
        let secret = self.store.webhook_secret(hook_id).await?;
        let cfg = self.webhook_config();
        let policy = newsdesk_fetch::FetchPolicy {
            allow_loopback: cfg.allow_loopback,
            allow_private: cfg.allow_private,
            total_timeout: std::time::Duration::from_secs(cfg.timeout_seconds),
            max_redirects: 0,
            ..Default::default()
        };
        let fetcher = newsdesk_fetch::Fetcher::new(policy)
            .map_err(|e| JobError::Fatal(format!("webhook client: {e}")))?;
        let ts = now.timestamp();
        let headers = [
            ("newsdesk-event", delivery.event.clone()),
            ("newsdesk-delivery", delivery.id.to_string()),
            ("newsdesk-timestamp", ts.to_string()),
            ("newsdesk-signature", signature(&secret, ts, &delivery.body)),
        ];
        let sent = fetcher
            .post(
                &hook.url,
                "application/json",
                &headers,
                delivery.body.clone().into_bytes(),
                cfg.excerpt_bytes,
            )
            .await;
        match sent {
            Ok(p) if (200..300).contains(&p.status) => {
                let text = String::from_utf8_lossy(&p.excerpt).into_owned();
                self.store
                    .record_webhook_attempt(
                        delivery.id,
                        now,
                        i64::from(p.status),
                        &text,
                        DeliveryState::Delivered,
                    )
                    .await?;
                Ok(())
            }
            Ok(p) => {
                let text = String::from_utf8_lossy(&p.excerpt).into_owned();
                let state = if last {
                    DeliveryState::Failed
                } else {
                    DeliveryState::Pending
                };
                self.store
                    .record_webhook_attempt(delivery.id, now, i64::from(p.status), &text, state)
                    .await?;
                Err(JobError::Retry(format!(
                    "the receiver answered {}",
                    p.status
                )))
            }
            Err(e) => {
                // A refused address or a bad URL will not work later either.
                let fatal = matches!(
                    e,
                    newsdesk_fetch::FetchError::BlockedAddress { .. }
                        | newsdesk_fetch::FetchError::BadUrl(_)
                        | newsdesk_fetch::FetchError::SchemeNotAllowed(_)
                );
                let state = if last || fatal {
                    DeliveryState::Failed
                } else {
                    DeliveryState::Pending
                };
                self.store
                    .record_webhook_attempt(delivery.id, now, 0, &e.to_string(), state)
                    .await?;
                if fatal {
                    Err(JobError::Fatal(format!("webhook refused: {e}")))
                } else {
                    Err(JobError::Retry(format!("webhook not delivered: {e}")))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed apart, with Python's hmac module (the README's verification).
        assert_eq!(
            signature(
                "whsec_test",
                1_700_000_000,
                r#"{"event":"story.published"}"#
            ),
            "sha256=5b50fe4369ab1bc4280b9700dc8e057eaf87a5ada84a5adaf66c7e3f107e4f4b"
        );
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example/x?a=1").is_ok());
        for bad in [
            "ftp://x.example/",
            "https://",
            "https://u:p@x.example/",
            "x.example",
            "https://a b/",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
