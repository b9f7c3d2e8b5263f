//! The feedback desk: readers write to the newsroom through a form (no JavaScript, no
//! third-party service), and editors answer from a moderated queue.
//!
//! Spam is held off in this order, the cheap checks first: a rate limit per address, counted
//! before anything else is looked at (a bounded map: when it is full of live entries new
//! addresses are refused, so a flood costs a fixed amount of memory); a honeypot field people
//! never see (filled: the sender is thanked and nothing is kept); a signed timestamp in the
//! form (HMAC-SHA256 with the node's form key), so a form sent sooner than a person could fill
//! it, or older than a day, or forged, is refused; and a cap on links in the message.

use crate::jobs::SendMail;
use crate::{require, App, AppError, AppResult, FieldError};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use newsdesk_domain::*;
use newsdesk_jobs::new_job;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// `[feedback]`: the form's limits and where the desk's notices go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackConfig {
    /// Where the desk is told of new messages ("" = the site's contact e-mail).
    pub desk_email: String,
    /// Key of the form's signed timestamp ("" = a key made from the site's shared secret,
    /// which the store keeps, so every node accepts a form shown by another).
    pub form_key: String,
    /// A form sent sooner than this after it was shown is refused (seconds, 0 to 600).
    pub min_fill_seconds: u64,
    /// A form older than this is refused (hours, 1 to 168).
    pub max_form_age_hours: u64,
    /// Messages one address may send per hour, counted before anything is checked (1 to 1000).
    pub per_address_per_hour: u32,
    /// Addresses the rate limit remembers (100 to 1,000,000; about 100 bytes each). When it is
    /// full of addresses seen in the last hour, new addresses are refused until one expires.
    pub addresses_max: usize,
    /// Most links (http://, https://, www.) a message may hold (0 to 50).
    pub max_links: usize,
    /// Longest message, in characters (100 to 100,000).
    pub max_message_chars: usize,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            desk_email: String::new(),
            form_key: String::new(),
            min_fill_seconds: 3,
            max_form_age_hours: 24,
            per_address_per_hour: 10,
            addresses_max: 10_000,
            max_links: 2,
            max_message_chars: 5_000,
        }
    }
}

impl FeedbackConfig {
    /// The settings within their bounds.
    pub fn bounded(mut self) -> Self {
        self.min_fill_seconds = self.min_fill_seconds.min(600);
        self.max_form_age_hours = self.max_form_age_hours.clamp(1, 168);
        self.per_address_per_hour = self.per_address_per_hour.clamp(1, 1000);
        self.addresses_max = self.addresses_max.clamp(100, 1_000_000);
        self.max_links = self.max_links.min(50);
        self.max_message_chars = self.max_message_chars.clamp(100, 100_000);
        self
    }
}

/// Longest name, reply address and page path kept.
const NAME_CHARS: usize = 200;
const PAGE_CHARS: usize = 500;
/// Longest reply an editor may send, in characters.
const REPLY_CHARS: usize = 20_000;
/// Most messages listed on one queue page.
const LISTED: usize = 200;

/// The desk's runtime state: settings, form key and the per-address counts.
pub struct FeedbackDesk {
    cfg: FeedbackConfig,
    key: Vec<u8>,
    seen: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

/// What the feedback form's key is made for, from the site's shared secret.
pub(crate) const KEY_PURPOSE: &str = "feedback form";

impl FeedbackDesk {
    /// A desk with these settings (bounded); a random form key unless one is set.
    pub fn new(cfg: FeedbackConfig) -> Self {
        let mut k = vec![0u8; 32];
        if getrandom::fill(&mut k).is_err() {
            tracing::error!("no randomness for the feedback form's key");
        }
        Self::with_default_key(cfg, k)
    }

    /// A desk with these settings (bounded), whose form key is the configured one or else
    /// `key` (the App's: made from the site's shared secret, the same on every node).
    pub fn with_default_key(cfg: FeedbackConfig, key: Vec<u8>) -> Self {
        let cfg = cfg.bounded();
        let key = if cfg.form_key.is_empty() {
            key
        } else {
            cfg.form_key.as_bytes().to_vec()
        };
        Self {
            cfg,
            key,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &FeedbackConfig {
        &self.cfg
    }

    fn mac(&self, ts: i64) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(b"feedback-form:");
        mac.update(ts.to_string().as_bytes());
        crate::auth::hex(&mac.finalize().into_bytes())
    }

    /// The token a form shown at `now` carries: its time and that time's HMAC.
    pub fn token(&self, now: DateTime<Utc>) -> String {
        let ts = now.timestamp();
        format!("{ts}.{}", self.mac(ts))
    }

    /// Why a token sent back at `now` is refused, if it is.
    fn check_token(&self, token: &str, now: DateTime<Utc>) -> Option<&'static str> {
        let expired = "This form has expired. Please send your message again.";
        let Some((ts, mac)) = token.split_once('.') else {
            return Some(expired);
        };
        let Ok(ts) = ts.parse::<i64>() else {
            return Some(expired);
        };
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return Some(expired);
        };
        m.update(b"feedback-form:");
        m.update(ts.to_string().as_bytes());
        let Some(raw) = unhex(mac) else {
            return Some(expired);
        };
        if m.verify_slice(&raw).is_err() {
            return Some(expired);
        }
        let age = now.timestamp() - ts;
        let min = i64::try_from(self.cfg.min_fill_seconds).unwrap_or(3);
        let max = i64::try_from(self.cfg.max_form_age_hours).unwrap_or(24) * 3600;
        if age < min {
            return Some(
                "That was quicker than we expected from a person. Please check your message and send it again.",
            );
        }
        if age > max {
            return Some(expired);
        }
        None
    }

    /// Counts one message from `address` at `now`; false when it is over the limit (or the
    /// map is full of live addresses).
    fn take(&self, address: &str, now: DateTime<Utc>) -> bool {
        let hour = Duration::hours(1);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.contains_key(address) && seen.len() >= self.cfg.addresses_max {
            seen.retain(|_, (start, _)| now - *start < hour);
            if seen.len() >= self.cfg.addresses_max {
                return false;
            }
        }
        let entry = seen.entry(address.to_owned()).or_insert((now, 0));
        if now - entry.0 >= hour {
            *entry = (now, 0);
        }
        if entry.1 >= self.cfg.per_address_per_hour {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Addresses the rate limit holds now (tests and metrics).
    pub fn addresses_held(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// What the feedback form sends, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackForm {
    /// Name (optional).
    pub name: String,
    /// Reply address (optional).
    pub email: String,
    /// The message.
    pub message: String,
    /// The page it was sent from.
    pub page: String,
    /// The honeypot field (people leave it empty: it is hidden from them).
    pub trap: String,
    /// The signed timestamp.
    pub token: String,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Kept in the queue.
    Kept(FeedbackId),
    /// Caught by the honeypot: the sender is thanked all the same, nothing is kept.
    Dropped,
}

/// Links in a text: http://, https:// and www. (case-insensitive).
pub fn count_links(s: &str) -> usize {
    let lower = s.to_lowercase();
    ["http://", "https://", "www."]
        .iter()
        .map(|p| lower.matches(p).count())
        .sum::<usize>()
        // "https://www.x" is one link, not two.
        .saturating_sub(lower.matches("://www.").count())
}

/// Text without control characters (line breaks and tabs kept in a message).
fn clean(s: &str, lines: bool) -> String {
    s.chars()
        .filter(|c| !c.is_control() || (lines && matches!(c, '\n' | '\t')))
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A page path of this site sent with a form, or "" (anything else is not kept).
pub fn page_path(s: &str) -> String {
    let s = s.trim();
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && s.chars().count() <= PAGE_CHARS
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if ok {
        s.to_owned()
    } else {
        String::new()
    }
}

/// Who may read and answer the feedback queue: editors and admins (stated once, here).
pub const MODERATE_FEEDBACK: Capability = Capability::EditAnyStory;

fn may_moderate(actor: &User) -> AppResult<()> {
    require(actor, MODERATE_FEEDBACK)
}

impl App {
    /// Uses these feedback settings from now on (a new rate-limit map; the form key is the
    /// configured one, else the one made from the site's shared secret).
    pub fn set_feedback_config(&self, cfg: FeedbackConfig) {
        let desk = FeedbackDesk::with_default_key(cfg, self.site_key(KEY_PURPOSE));
        *self.feedback.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(desk);
    }

    /// The feedback desk's settings and state.
    pub fn feedback_desk(&self) -> std::sync::Arc<FeedbackDesk> {
        self.feedback
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `actor` may read and answer the feedback queue.
    pub fn may_moderate_feedback(&self, actor: &User) -> AppResult<()> {
        may_moderate(actor)
    }

    /// The token for a feedback form shown now.
    pub fn feedback_token(&self) -> String {
        self.feedback_desk().token(self.now())
    }

    /// Takes a reader's message from `address`: counted against the address's hourly limit
    /// first, then the honeypot, the form's signed time, and the fields. A kept message is
    /// stored as new and the desk's e-mail queued in the same transaction.
    pub async fn submit_feedback(
        &self,
        form: &FeedbackForm,
        address: &str,
    ) -> AppResult<Submitted> {
        let now = self.now();
        let desk = self.feedback_desk();
        if !desk.take(address, now) {
            return Err(AppError::RateLimited);
        }
        if !form.trap.trim().is_empty() {
            tracing::info!("a feedback form with its honeypot filled was dropped");
            return Ok(Submitted::Dropped);
        }
        let cfg = desk.config();
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        if let Some(why) = desk.check_token(&form.token, now) {
            err("form", why);
        }
        let name = clean(&form.name, false);
        if name.chars().count() > NAME_CHARS {
            err("name", "Please keep your name under 200 characters.");
        }
        let email = clean(&form.email, false);
        let email = if email.is_empty() {
            String::new()
        } else {
            match EmailAddress::parse(&email) {
                Ok(e) => e.to_string(),
                Err(_) => {
                    err(
                        "email",
                        "That e-mail address does not look right (or leave it empty).",
                    );
                    String::new()
                }
            }
        };
        let message = clean(&form.message, true);
        if message.is_empty() {
            err("message", "Please write your message.");
        } else if message.chars().count() > cfg.max_message_chars {
            err(
                "message",
                &format!(
                    "Please keep your message under {} characters.",
                    cfg.max_message_chars
                ),
            );
        }
        if count_links(&message) + count_links(&name) > cfg.max_links {
            err(
                "message",
                &format!(
                    "Please include at most {} links in your message.",
                    cfg.max_links
                ),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let kept = NewFeedback {
            name,
            email,
            message,
            page: page_path(&form.page),
        };
        let notify = self
            .feedback_desk_address()
            .map(|_| new_job(&SendMail::FeedbackNotice { feedback: 0 }, now))
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        let id = self.store.add_feedback(&kept, now, notify.as_ref()).await?;
        Ok(Submitted::Kept(id))
    }

    /// Where the desk's notices go, if anywhere.
    pub(crate) fn feedback_desk_address(&self) -> Option<EmailAddress> {
        let desk = self.feedback_desk();
        let cfg = desk.config();
        let raw = if cfg.desk_email.trim().is_empty() {
            &self.site.contact_email
        } else {
            &cfg.desk_email
        };
        EmailAddress::parse(raw).ok()
    }

    /// The queue: counts per status and the newest messages of one status (all when `None`).
    pub async fn feedback_queue(
        &self,
        actor: &User,
        status: Option<FeedbackStatus>,
    ) -> AppResult<(FeedbackCounts, Vec<FeedbackMessage>)> {
        may_moderate(actor)?;
        let counts = self.store.feedback_counts().await?;
        let list = self.store.list_feedback(status, LISTED).await?;
        Ok((counts, list))
    }

    /// One message.
    pub async fn feedback_message(
        &self,
        actor: &User,
        id: FeedbackId,
    ) -> AppResult<FeedbackMessage> {
        may_moderate(actor)?;
        Ok(self.store.get_feedback(id).await?)
    }

    /// Moves a message to another status (answered without a reply, spam, back to new).
    pub async fn set_feedback_status(
        &self,
        actor: &User,
        id: FeedbackId,
        status: FeedbackStatus,
    ) -> AppResult<()> {
        may_moderate(actor)?;
        self.store.set_feedback_status(id, status).await?;
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(actor.id),
                action: "feedback_status".into(),
                target: format!("feedback {id}"),
                detail: status.as_str().into(),
            })
            .await?;
        Ok(())
    }

    /// Replies to a message by e-mail: the reply is kept with the message, which is marked
    /// answered, and the e-mail queued, in one transaction.
    pub async fn reply_feedback(&self, actor: &User, id: FeedbackId, text: &str) -> AppResult<()> {
        may_moderate(actor)?;
        let msg = self.store.get_feedback(id).await?;
        if msg.sent.email.is_empty() {
            return Err(AppError::invalid(
                "reply",
                "This reader left no e-mail address to reply to.",
            ));
        }
        let text = clean(text, true);
        if text.is_empty() {
            return Err(AppError::invalid("reply", "Write the reply first."));
        }
        if text.chars().count() > REPLY_CHARS {
            return Err(AppError::invalid(
                "reply",
                "Please keep the reply under 20,000 characters.",
            ));
        }
        let now = self.now();
        let job = new_job(&SendMail::FeedbackReply { feedback: id.0 }, now)
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        self.store
            .reply_feedback(
                id,
                &FeedbackReply {
                    text,
                    by: actor.id,
                    at: now,
                },
                &job,
                &AuditInput {
                    at: now,
                    user_id: Some(actor.id),
                    action: "feedback_reply".into(),
                    target: format!("feedback {id}"),
                    detail: String::new(),
                },
            )
            .await?;
        Ok(())
    }

    /// The e-mail a feedback job sends: the desk's notice of message `id`, or the reply to it.
    pub(crate) async fn feedback_mail(
        &self,
        id: i64,
        reply: bool,
    ) -> AppResult<Option<newsdesk_mail::Message>> {
        let msg = match self.store.get_feedback(FeedbackId(id)).await {
            Ok(m) => m,
            Err(newsdesk_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let site = one_line(&self.site.name);
        let base = self.site.base_url.trim_end_matches('/');
        if reply {
            let (Some(r), Ok(to)) = (&msg.reply, EmailAddress::parse(&msg.sent.email)) else {
                return Ok(None);
            };
            let quoted: String = msg
                .sent
                .message
                .lines()
                .map(|l| format!("> {l}\n"))
                .collect();
            return Ok(Some(newsdesk_mail::Message {
                to,
                subject: format!("Re: your message to {site}"),
                text: format!(
                    "{}\n\n-- \n{site}\n\nYou wrote on {}:\n{quoted}",
                    r.text,
                    msg.received_at.format("%-d %B %Y at %H:%M UTC")
                ),
                html: None,
                headers: Vec::new(),
            }));
        }
        let Some(to) = self.feedback_desk_address() else {
            return Ok(None);
        };
        let who = if msg.sent.name.is_empty() {
            "a reader".to_owned()
        } else {
            one_line(&msg.sent.name)
        };
        let reply_to = if msg.sent.email.is_empty() {
            "(no address given)".to_owned()
        } else {
            msg.sent.email.clone()
        };
        let page = if msg.sent.page.is_empty() {
            "(not known)".to_owned()
        } else {
            format!("{base}{}", msg.sent.page)
        };
        Ok(Some(newsdesk_mail::Message {
            to,
            subject: format!("Feedback from {who}"),
            text: format!(
                "A reader wrote to {site}.\n\nFrom: {who}\nReply address: {reply_to}\nPage: {page}\n\n{}\n\n-- \nAnswer it in the newsroom: {base}/newsroom/feedback/{}\n",
                msg.sent.message, msg.id
            ),
            html: None,
            headers: Vec::new(),
        }))
    }
}

/// Bytes of lowercase or uppercase hex text, or `None`.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One line: control characters and runs of white space become single spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
    }

    #[test]
    fn tokens_are_signed_and_timed() {
        let d = FeedbackDesk::new(FeedbackConfig::default());
        let tok = d.token(t());
        assert!(d.check_token(&tok, t() + Duration::seconds(5)).is_none());
        // Too fast, too old, forged, garbled.
        assert!(d.check_token(&tok, t() + Duration::seconds(1)).is_some());
        assert!(d.check_token(&tok, t() + Duration::hours(25)).is_some());
        let (ts, mac) = tok.split_once('.').unwrap();
        let earlier = format!("{}.{mac}", ts.parse::<i64>().unwrap() - 100);
        assert!(d
            .check_token(&earlier, t() + Duration::seconds(5))
            .is_some());
        for bad in ["", ".", "x.y", "1.zz", &format!("{ts}.")] {
            assert!(d.check_token(bad, t() + Duration::seconds(5)).is_some());
        }
        // Another node's key does not sign for this one.
        let other = FeedbackDesk::new(FeedbackConfig::default());
        assert!(other
            .check_token(&tok, t() + Duration::seconds(5))
            .is_some());
        // A shared key does.
        let keyed = |k: &str| {
            FeedbackDesk::new(FeedbackConfig {
                form_key: k.into(),
                ..Default::default()
            })
        };
        let a = keyed("shared secret").token(t());
        assert!(keyed("shared secret")
            .check_token(&a, t() + Duration::seconds(5))
            .is_none());
    }

    #[test]
    fn the_rate_limit_counts_per_address_and_its_map_is_bounded() {
        let d = FeedbackDesk::new(FeedbackConfig {
            per_address_per_hour: 2,
            addresses_max: 100,
            ..Default::default()
        });
        assert!(d.take("a", t()) && d.take("a", t()));
        assert!(!d.take("a", t()));
        assert!(d.take("a", t() + Duration::minutes(61)));
        for i in 0..99 {
            assert!(d.take(&format!("x{i}"), t()));
        }
        assert_eq!(d.addresses_held(), 100);
        // Full of live addresses: a new one is refused, a known one still counts.
        assert!(!d.take("new", t()));
        assert!(d.take("x1", t()));
        assert_eq!(d.addresses_held(), 100);
        // An hour on, the old entries make room.
        assert!(d.take("new", t() + Duration::minutes(62)));
        assert!(d.addresses_held() <= 2);
    }

    #[test]
    fn links_and_pages() {
        assert_eq!(
            count_links("see https://www.a.example and http://b and www.c"),
            3
        );
        assert_eq!(count_links("HTTPS://A"), 1);
        assert_eq!(count_links("no links"), 0);
        assert_eq!(page_path("/article/x?y=1"), "/article/x?y=1");
        for bad in [
            "//evil.example/x",
            "https://evil.example/",
            "/a b",
            "/a\u{0}",
            "x",
        ] {
            assert_eq!(page_path(bad), "", "{bad:?}");
        }
    }
}
