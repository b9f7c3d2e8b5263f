//! The newsletter: double opt-in subscriptions, signed preference links, digests and
//! breaking-news alerts sent through the job queue, bounces and complaints.
//!
//! Exactly once: a digest's recipients are chosen when it is made (one send row per
//! subscriber, in the transaction that makes it). The sending job walks the pending rows and
//! commits each one as sent right after the SMTP server's 250, so a process killed mid-send
//! resumes with the rows still pending; the only window for a duplicate is between the 250 and
//! that commit. Each mail has a Message-ID made from (digest, subscriber), the same on a resend,
//! so a receiving system can recognise it.

use crate::auth::random_hex;
use crate::readmodel::Filter;
use crate::{require, App, AppError, AppResult};
use askama::Template;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use hmac::{Hmac, Mac};
use newsdesk_domain::*;
use newsdesk_jobs::{decode, new_job, JobError, JobKind};
use newsdesk_mail::Message;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

/// The `[newsletter]` section of the configuration. Every number is clamped to the bound its
/// comment gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewsletterSettings {
    /// Key of the signed links (confirmation, preferences, unsubscribe). Empty: a key made
    /// from the site's shared secret, which the store keeps (the same on every node).
    pub secret: String,
    /// Shared secret the sending service's bounce/complaint webhook sends (`Authorization:
    /// Bearer …`); empty: the webhook answers 404.
    pub webhook_secret: String,
    /// Largest webhook body read, in bytes (1 KiB – 1 MiB).
    pub webhook_max_bytes: usize,
    /// Local hour (0–23, in each edition's time zone) at which digests are made.
    pub digest_hour: u32,
    /// Day of the weekly digest: mon, tue, wed, thu, fri, sat or sun.
    pub weekly_day: String,
    /// Stories in one reader's digest (1–50).
    pub stories_per_digest: usize,
    /// Messages per second through the transport, all digests together (1–10,000).
    pub max_per_second: u32,
    /// Send rows read and sent per round of a sending job (1–10,000).
    pub send_batch: usize,
    /// Messages of one digest in flight at once (1–64); the SMTP mailer keeps up to
    /// `[mail] smtp_pool` connections open between them, so each sends many messages.
    pub concurrency: usize,
    /// Attempts of one message before it is failed for good (1–20).
    pub max_attempts: i64,
    /// Back-off before the first retry of a message, in seconds, doubled each attempt (1–3,600).
    pub retry_base_seconds: i64,
    /// Hours a confirmation link works (1–720).
    pub confirm_valid_hours: i64,
    /// Minutes before a second confirmation is sent to a pending address (0–1,440).
    pub confirm_resend_minutes: i64,
    /// Subscribe requests per client address per hour (1–1,000).
    pub per_client_hour: u32,
    /// Subscribe requests per e-mail address per hour (1–100).
    pub per_address_hour: u32,
    /// Clients and addresses remembered by the throttle (100–1,000,000); when full, new ones
    /// are refused until the hour ends.
    pub throttle_entries: usize,
    /// Most rows in one CSV export of subscribers (1–10,000,000).
    pub export_max: usize,
}

impl Default for NewsletterSettings {
    fn default() -> Self {
        Self {
            secret: String::new(),
            webhook_secret: String::new(),
            webhook_max_bytes: 64 * 1024,
            digest_hour: 7,
            weekly_day: "mon".into(),
            stories_per_digest: 8,
            max_per_second: 50,
            send_batch: 200,
            concurrency: 8,
            max_attempts: 6,
            retry_base_seconds: 60,
            confirm_valid_hours: 72,
            confirm_resend_minutes: 10,
            per_client_hour: 20,
            per_address_hour: 3,
            throttle_entries: 10_000,
            export_max: 1_000_000,
        }
    }
}

impl NewsletterSettings {
    /// The settings with every number within its bound.
    pub fn bounded(&self) -> Self {
        Self {
            secret: self.secret.clone(),
            webhook_secret: self.webhook_secret.clone(),
            webhook_max_bytes: self.webhook_max_bytes.clamp(1024, 1024 * 1024),
            digest_hour: self.digest_hour.min(23),
            weekly_day: self.weekly_day.clone(),
            stories_per_digest: self.stories_per_digest.clamp(1, 50),
            max_per_second: self.max_per_second.clamp(1, 10_000),
            send_batch: self.send_batch.clamp(1, 10_000),
            concurrency: self.concurrency.clamp(1, 64),
            max_attempts: self.max_attempts.clamp(1, 20),
            retry_base_seconds: self.retry_base_seconds.clamp(1, 3600),
            confirm_valid_hours: self.confirm_valid_hours.clamp(1, 720),
            confirm_resend_minutes: self.confirm_resend_minutes.clamp(0, 1440),
            per_client_hour: self.per_client_hour.clamp(1, 1000),
            per_address_hour: self.per_address_hour.clamp(1, 100),
            throttle_entries: self.throttle_entries.clamp(100, 1_000_000),
            export_max: self.export_max.clamp(1, 10_000_000),
        }
    }

    fn weekday(&self) -> chrono::Weekday {
        self.weekly_day.parse().unwrap_or(chrono::Weekday::Mon)
    }
}

/// What the link key is made for, from the site's shared secret.
pub(crate) const KEY_PURPOSE: &str = "newsletter links";

/// The link key an older version kept in `dir/newsletter.key`, if there is one: links signed
/// with it (in mails already sent) are still accepted, see [`App::accept_old_newsletter_key`].
pub fn old_key_file(dir: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read_to_string(dir.join("newsletter.key")) {
        Ok(s) if s.trim().len() >= 32 => Ok(Some(s.trim().as_bytes().to_vec())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The newsletter's state on one node: settings, link key, throttle, transport pace.
pub struct NewsletterState {
    settings: RwLock<NewsletterSettings>,
    key: RwLock<Vec<u8>>,
    /// Keys links were signed with before (still accepted, never used to sign).
    old_keys: RwLock<Vec<Vec<u8>>>,
    throttle: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
    /// When the transport may take the next message.
    pace: tokio::sync::Mutex<tokio::time::Instant>,
    /// Digest keys already queued by this node (cleared when large).
    scheduled: Mutex<HashSet<String>>,
    /// Digests being sent by this node (one sender each).
    sending: Mutex<HashSet<DigestId>>,
}

impl NewsletterState {
    /// The state of a node whose link key (unless configured) is `key`.
    pub(crate) fn with_key(key: Vec<u8>) -> Self {
        Self {
            settings: RwLock::new(NewsletterSettings::default()),
            key: RwLock::new(key),
            old_keys: RwLock::new(Vec::new()),
            throttle: Mutex::new(HashMap::new()),
            pace: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            scheduled: Mutex::new(HashSet::new()),
            sending: Mutex::new(HashSet::new()),
        }
    }
}

/// Send the confirmation (double opt-in) to a pending subscriber.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendConfirmation {
    /// The subscriber.
    pub subscriber: SubscriberId,
}

impl JobKind for SendConfirmation {
    const KIND: &'static str = "newsletter_confirm";
    const MAX_ATTEMPTS: u32 = 8;
    fn dedupe(&self) -> Option<String> {
        Some(format!("newsletter_confirm:{}", self.subscriber))
    }
}

/// Make an edition's digest of a day (once: the digest's key is unique).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MakeDigest {
    /// The edition.
    pub edition: EditionId,
    /// Daily or weekly.
    pub frequency: Frequency,
    /// The edition's local date.
    pub date: NaiveDate,
}

impl MakeDigest {
    fn key(&self) -> String {
        format!("{}:{}:{}", self.frequency.as_str(), self.edition, self.date)
    }
}

impl JobKind for MakeDigest {
    const KIND: &'static str = "newsletter_make";
    const MAX_ATTEMPTS: u32 = 8;
    fn dedupe(&self) -> Option<String> {
        Some(format!("newsletter_make:{}", self.key()))
    }
}

/// Send a digest's pending messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendDigest {
    /// The digest.
    pub digest: DigestId,
}

impl JobKind for SendDigest {
    const KIND: &'static str = "newsletter_send";
    /// Each round sends what is due; messages waiting for their own retry keep it alive.
    const MAX_ATTEMPTS: u32 = 40;
    fn dedupe(&self) -> Option<String> {
        Some(format!("newsletter_send:{}", self.digest))
    }
}

/// What the subscribe form sends.
#[derive(Debug, Clone, Default)]
pub struct SubscribeForm {
    /// Address as typed.
    pub email: String,
    /// Edition slugs (none: the Global edition).
    pub editions: Vec<String>,
    /// Sector slugs (none: every sector).
    pub sectors: Vec<String>,
    /// `daily` or `weekly` (empty: daily).
    pub frequency: String,
    /// Breaking-news alerts too.
    pub breaking: bool,
    /// The path of the page the form was on.
    pub source: String,
}

/// A subscriber as the preference page shows it.
#[derive(Debug, Clone)]
pub struct PreferenceView {
    /// The subscriber.
    pub subscriber: Subscriber,
    /// Their preference token (for the form).
    pub token: String,
}

/// A line of the newsroom's subscriber list.
pub type SubscriberPage = (SubscriberCounts, Vec<Subscriber>, Option<SubscriberId>);

#[derive(Template)]
#[template(path = "newsletter/digest.html")]
struct DigestHtml<'a> {
    site: &'a str,
    heading: &'a str,
    intro: &'a str,
    items: &'a [Item],
    prefs_url: &'a str,
    unsub_url: &'a str,
}

#[derive(Template)]
#[template(path = "newsletter/digest.txt")]
struct DigestText<'a> {
    site: &'a str,
    heading: &'a str,
    intro: &'a str,
    items: &'a [Item],
    prefs_url: &'a str,
    unsub_url: &'a str,
}

#[derive(Template)]
#[template(path = "newsletter/confirm.html")]
struct ConfirmHtml<'a> {
    site: &'a str,
    consent: &'a str,
    link: &'a str,
    hours: i64,
    unsub_url: &'a str,
}

#[derive(Template)]
#[template(path = "newsletter/confirm.txt")]
struct ConfirmText<'a> {
    site: &'a str,
    consent: &'a str,
    link: &'a str,
    hours: i64,
    unsub_url: &'a str,
}

/// One story in a mail.
struct Item {
    headline: String,
    summary: String,
    url: String,
    sector: String,
}

type HmacSha256 = Hmac<Sha256>;

const CONFIRM: char = 'c';
const PREFS: char = 'p';
/// Longest token looked at.
const TOKEN_MAX: usize = 160;
/// Events read from one webhook call.
const EVENTS_MAX: usize = 1000;
/// Digests on the newsroom's history page.
const HISTORY: usize = 100;
/// Subscribers per page of the newsroom's list.
const LISTED: usize = 100;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// One line, no control characters (for subjects).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A CSV cell: quoted, and a leading character a spreadsheet would read as a formula is
/// neutralised with an apostrophe.
pub fn csv_cell(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r', '|', '%']);
    let body = if risky { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", body.replace('"', "\"\""))
}

impl App {
    /// Uses `settings` and the link `key` from now on.
    pub fn set_newsletter(&self, settings: NewsletterSettings, key: Vec<u8>) {
        let nl = &self.newsletter;
        *nl.settings.write().unwrap_or_else(|e| e.into_inner()) = settings.bounded();
        if !key.is_empty() {
            *nl.key.write().unwrap_or_else(|e| e.into_inner()) = key;
        }
    }

    /// Also accepts links signed with `key` (an older version's key from the data folder), so
    /// links in mails sent before keep working; new links are signed with the key in force.
    pub fn accept_old_newsletter_key(&self, key: Vec<u8>) {
        let mut old = self
            .newsletter
            .old_keys
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if !key.is_empty() && !old.contains(&key) {
            old.push(key);
        }
    }

    /// The newsletter settings in force.
    pub fn newsletter_settings(&self) -> NewsletterSettings {
        self.newsletter
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn sign(&self, purpose: char, id: SubscriberId, exp: i64, nonce: &str) -> AppResult<Vec<u8>> {
        let key = self
            .newsletter
            .key
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut mac = HmacSha256::new_from_slice(&key)
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        mac.update(format!("{purpose}\n{id}\n{exp}\n{nonce}").as_bytes());
        Ok(mac.finalize().into_bytes().to_vec())
    }

    fn token(&self, purpose: char, s: &Subscriber, exp: i64) -> AppResult<String> {
        Ok(format!(
            "{purpose}{}.{exp}.{}",
            s.id,
            hex(&self.sign(purpose, s.id, exp, &s.nonce)?)
        ))
    }

    /// The subscriber a token names, if its signature holds (checked in constant time) and it
    /// has not expired; anything else is [`AppError::NotFound`] (one answer for every bad link).
    async fn verify(&self, token: &str, purpose: char) -> AppResult<Subscriber> {
        if token.len() > TOKEN_MAX || !token.starts_with(purpose) {
            return Err(AppError::NotFound);
        }
        let mut parts = token[1..].splitn(3, '.');
        let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(AppError::NotFound);
        };
        let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
        let exp = exp.parse::<i64>().map_err(|_| AppError::NotFound)?;
        let sig = unhex(sig).ok_or(AppError::NotFound)?;
        if exp != 0 && exp < self.now().timestamp() {
            return Err(AppError::NotFound);
        }
        let s = self.store.get_subscriber(SubscriberId(id)).await?;
        let mut keys = vec![self
            .newsletter
            .key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()];
        keys.extend(
            self.newsletter
                .old_keys
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        let signed = format!("{purpose}\n{id}\n{exp}\n{}", s.nonce);
        let good = keys.iter().any(|key| {
            HmacSha256::new_from_slice(key).is_ok_and(|mut mac| {
                mac.update(signed.as_bytes());
                mac.verify_slice(&sig).is_ok()
            })
        });
        if !good {
            return Err(AppError::NotFound);
        }
        Ok(s)
    }

    /// Counts one request against `key`'s hourly allowance; false when it is used up (or the
    /// throttle is full of other keys).
    fn allow(&self, key: String, per_hour: u32, max_entries: usize) -> bool {
        let now = self.now();
        let mut map = self
            .newsletter
            .throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if map.len() >= max_entries && !map.contains_key(&key) {
            map.retain(|_, (start, _)| now - *start < Duration::hours(1));
            if map.len() >= max_entries {
                return false;
            }
        }
        let e = map.entry(key).or_insert((now, 0));
        if now - e.0 >= Duration::hours(1) {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1 <= per_hour
    }

    fn base(&self) -> &str {
        self.site.base_url.trim_end_matches('/')
    }

    /// The host part of the site's address, for Message-IDs and List-Id.
    fn mail_domain(&self) -> String {
        let b = self.base();
        let host = b.split("://").nth(1).unwrap_or(b);
        let host = host.split(['/', ':']).next().unwrap_or("");
        if host.is_empty() {
            "newsdesk.invalid".into()
        } else {
            host.to_ascii_lowercase()
        }
    }

    /// A subscription request from the reader site. Answers the same whether or not the
    /// address is already subscribed; only a pending address is sent anything (the
    /// confirmation). Throttled per client and per address, counted before any work.
    pub async fn subscribe(&self, form: &SubscribeForm, client: &str) -> AppResult<()> {
        let cfg = self.newsletter_settings();
        if !self.allow(
            format!("c:{client}"),
            cfg.per_client_hour,
            cfg.throttle_entries,
        ) {
            return Err(AppError::RateLimited);
        }
        let email = EmailAddress::parse(form.email.trim())
            .map_err(|e| AppError::invalid("email", e.to_string()))?;
        if !self.allow(
            format!("a:{}", email.as_str()),
            cfg.per_address_hour,
            cfg.throttle_entries,
        ) {
            return Err(AppError::RateLimited);
        }
        let prefs = self.parse_preferences(
            &form.editions,
            &form.sectors,
            &form.frequency,
            form.breaking,
        )?;
        let source = form.source.trim();
        let source = if source.starts_with('/')
            && !source.starts_with("//")
            && source.len() <= 300
            && !source.chars().any(char::is_control)
        {
            format!("{}{source}", self.base())
        } else {
            format!("{}/newsletter", self.base())
        };
        let now = self.now();
        let consent = self.consent_text(&prefs);
        let req = SubscriptionRequest {
            email,
            prefs,
            nonce: random_hex(16)?,
            consent_text: consent,
            consent_source: source,
        };
        let s = match self.store.request_subscription(&req, now).await {
            Ok(s) => s,
            // Two requests for a new address at once: the other one made it.
            Err(newsdesk_store::StoreError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if s.status != SubscriberStatus::Pending {
            return Ok(());
        }
        let recent = s
            .confirm_sent_at
            .is_some_and(|t| now - t < Duration::minutes(cfg.confirm_resend_minutes))
            && s.updated_at != now;
        if recent {
            return Ok(());
        }
        let job = new_job(&SendConfirmation { subscriber: s.id }, now)
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        self.store.enqueue_jobs(&[job], now).await?;
        Ok(())
    }

    /// Adds subscribers who agreed elsewhere (the CLI's import: an operator vouches for their
    /// consent, recorded as `note`), active at once, in batches of 1,000. Returns how many of
    /// the valid addresses were new, and the lines that are not addresses.
    pub async fn import_subscribers(
        &self,
        lines: &[String],
        prefs: &Preferences,
        note: &str,
    ) -> AppResult<(usize, Vec<String>)> {
        let mut bad = Vec::new();
        let mut added = 0;
        let consent = format!("{} (imported: {note})", self.consent_text(prefs));
        for chunk in lines.chunks(1000) {
            let mut list = Vec::with_capacity(chunk.len());
            for l in chunk {
                let l = l.trim();
                if l.is_empty() {
                    continue;
                }
                match EmailAddress::parse(l) {
                    Ok(email) => list.push(SubscriptionRequest {
                        email,
                        prefs: prefs.clone(),
                        nonce: random_hex(16)?,
                        consent_text: consent.clone(),
                        consent_source: "newsdesk newsletter import".into(),
                    }),
                    Err(_) => bad.push(l.to_owned()),
                }
            }
            added += self.store.import_subscribers(&list, self.now()).await?;
        }
        Ok((added, bad))
    }

    /// Choices from form values (slugs), checked against the taxonomy.
    pub fn parse_preferences(
        &self,
        editions: &[String],
        sectors: &[String],
        frequency: &str,
        breaking: bool,
    ) -> AppResult<Preferences> {
        let snap = self.read();
        let tax = &snap.tax;
        let mut eds = Vec::new();
        for slug in editions.iter().take(64) {
            let e = tax
                .edition_by_slug(slug)
                .ok_or_else(|| AppError::invalid("editions", "Choose editions from the list."))?;
            eds.push(e.id);
        }
        if eds.is_empty() {
            eds.extend(tax.global().map(|g| g.id));
        }
        if eds.is_empty() {
            return Err(AppError::invalid(
                "editions",
                "Choose at least one edition.",
            ));
        }
        let mut secs = Vec::new();
        for slug in sectors.iter().take(256) {
            let s = tax
                .sector_by_slug(slug)
                .ok_or_else(|| AppError::invalid("sectors", "Choose sectors from the list."))?;
            secs.push(s.id);
        }
        eds.sort_unstable();
        eds.dedup();
        secs.sort_unstable();
        secs.dedup();
        let frequency = if frequency.is_empty() {
            Frequency::Daily
        } else {
            Frequency::parse(frequency)
                .ok_or_else(|| AppError::invalid("frequency", "Choose daily or weekly."))?
        };
        Ok(Preferences {
            editions: eds,
            sectors: secs,
            frequency,
            breaking,
        })
    }

    /// What a reader agrees to, in words (kept with the consent).
    fn consent_text(&self, p: &Preferences) -> String {
        let snap = self.read();
        let eds: Vec<&str> = p
            .editions
            .iter()
            .filter_map(|e| snap.tax.edition(*e).map(|e| e.name.as_str()))
            .collect();
        let secs: Vec<&str> = p
            .sectors
            .iter()
            .filter_map(|s| snap.tax.sector(*s).map(|s| s.name.as_str()))
            .collect();
        format!(
            "E-mail from {}: a {} digest of the {} edition(s), {}{}; unsubscribe at any time.",
            one_line(&self.site.name),
            p.frequency.as_str(),
            eds.join(", "),
            if secs.is_empty() {
                "all sectors".to_owned()
            } else {
                format!("sectors: {}", secs.join(", "))
            },
            if p.breaking {
                ", and breaking-news alerts"
            } else {
                ""
            }
        )
    }

    fn list_urls(&self, s: &Subscriber) -> AppResult<(String, String)> {
        let t = self.token(PREFS, s, 0)?;
        Ok((
            format!("{}/newsletter/preferences?t={t}", self.base()),
            format!("{}/newsletter/unsubscribe?t={t}", self.base()),
        ))
    }

    /// The headers every newsletter mail carries: RFC 8058 one-click unsubscribe and List-Id.
    fn list_headers(&self, m: Message, unsub_url: &str) -> Message {
        m.with_header("List-Unsubscribe", format!("<{unsub_url}>"))
            .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
            .with_header(
                "List-Id",
                format!(
                    "{} <newsletter.{}>",
                    one_line(&self.site.name).replace(['<', '>', '"'], ""),
                    self.mail_domain()
                ),
            )
    }

    /// The confirmation mail of a pending subscriber.
    async fn confirmation_mail(&self, id: SubscriberId) -> AppResult<Option<Message>> {
        let s = self.store.get_subscriber(id).await?;
        if s.status != SubscriberStatus::Pending {
            return Ok(None);
        }
        let cfg = self.newsletter_settings();
        let exp = (self.now() + Duration::hours(cfg.confirm_valid_hours)).timestamp();
        let link = format!(
            "{}/newsletter/confirm?t={}",
            self.base(),
            self.token(CONFIRM, &s, exp)?
        );
        let (_, unsub) = self.list_urls(&s)?;
        let site = one_line(&self.site.name);
        let render = |r: Result<String, askama::Error>| {
            r.map_err(|e| AppError::Internal(e.to_string().into()))
        };
        let text = render(
            ConfirmText {
                site: &site,
                consent: &s.consent_text,
                link: &link,
                hours: cfg.confirm_valid_hours,
                unsub_url: &unsub,
            }
            .render(),
        )?;
        let html = render(
            ConfirmHtml {
                site: &site,
                consent: &s.consent_text,
                link: &link,
                hours: cfg.confirm_valid_hours,
                unsub_url: &unsub,
            }
            .render(),
        )?;
        let m = Message {
            to: s.email.clone(),
            subject: format!("Confirm your subscription to {site}"),
            text,
            html: Some(html),
            headers: Vec::new(),
        };
        Ok(Some(self.list_headers(m, &unsub)))
    }

    /// Follows a confirmation link: the subscription becomes active (the consent's time is
    /// now). A link that is bad, expired or superseded is [`AppError::NotFound`].
    pub async fn confirm_subscription(&self, token: &str) -> AppResult<Subscriber> {
        let s = self.verify(token, CONFIRM).await?;
        match s.status {
            SubscriberStatus::Pending | SubscriberStatus::Active => {
                Ok(self.store.confirm_subscriber(s.id, self.now()).await?)
            }
            _ => Err(AppError::NotFound),
        }
    }

    /// Whether a confirmation link is sound (for the page that asks to confirm).
    pub async fn check_confirmation(&self, token: &str) -> AppResult<Subscriber> {
        self.verify(token, CONFIRM).await
    }

    /// The subscriber a preference link names.
    pub async fn preferences(&self, token: &str) -> AppResult<PreferenceView> {
        let s = self.verify(token, PREFS).await?;
        if s.status == SubscriberStatus::Suppressed {
            return Err(AppError::NotFound);
        }
        Ok(PreferenceView {
            token: token.to_owned(),
            subscriber: s,
        })
    }

    /// Changes a subscriber's choices through their preference link.
    pub async fn update_preferences(&self, token: &str, prefs: &Preferences) -> AppResult<()> {
        let s = self.verify(token, PREFS).await?;
        if s.status == SubscriberStatus::Suppressed {
            return Err(AppError::NotFound);
        }
        self.store.set_preferences(s.id, prefs, self.now()).await?;
        Ok(())
    }

    /// Unsubscribes through a link (one-click POST or the preference page).
    pub async fn unsubscribe(&self, token: &str, how: &str) -> AppResult<Subscriber> {
        let s = self.verify(token, PREFS).await?;
        self.store.unsubscribe(s.id, how, self.now()).await?;
        Ok(s)
    }

    /// Whether `given` is the webhook's shared secret (constant time); false when none is set.
    pub fn webhook_secret_ok(&self, given: &str) -> bool {
        let want = self.newsletter_settings().webhook_secret;
        if want.is_empty() {
            return false;
        }
        // Compare MACs of both: equal length, and no early exit on the first difference.
        let mac = |s: &str| -> Option<Vec<u8>> {
            let key = self
                .newsletter
                .key
                .read()
                .unwrap_or_else(|e| e.into_inner());
            let mut m = HmacSha256::new_from_slice(&key).ok()?;
            m.update(s.as_bytes());
            Some(m.finalize().into_bytes().to_vec())
        };
        match (mac(&want), mac(given)) {
            (Some(a), Some(b)) => {
                a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 && a.len() == b.len()
            }
            _ => false,
        }
    }

    /// The sending service's events (JSON: one event or a list, each `{"type": "bounce" |
    /// "complaint" | …, "email": "…", "bounce": "hard" | "soft"}`): a hard bounce or a
    /// complaint suppresses the address. Call only after [`App::webhook_secret_ok`]. Returns
    /// how many addresses were suppressed now.
    pub async fn newsletter_events(&self, body: &[u8]) -> AppResult<usize> {
        #[derive(Deserialize)]
        struct Event {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(default)]
            email: String,
            #[serde(default)]
            bounce: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Events {
            One(Event),
            Many(Vec<Event>),
        }
        let events = match serde_json::from_slice::<Events>(body) {
            Ok(Events::One(e)) => vec![e],
            Ok(Events::Many(v)) => v,
            Err(e) => {
                return Err(AppError::invalid(
                    "body",
                    format!("The events are not JSON of the documented shape: {e}"),
                ))
            }
        };
        if events.len() > EVENTS_MAX {
            return Err(AppError::invalid(
                "body",
                format!("At most {EVENTS_MAX} events per call."),
            ));
        }
        let now = self.now();
        let mut n = 0;
        for e in events {
            let reason = match (
                e.kind.to_ascii_lowercase().as_str(),
                e.bounce.to_ascii_lowercase().as_str(),
            ) {
                ("complaint", _) => "complaint",
                ("bounce", "hard" | "permanent" | "") => "hard bounce",
                _ => continue,
            };
            let Ok(email) = EmailAddress::parse(e.email.trim()) else {
                continue;
            };
            if self.store.suppress_address(&email, reason, now).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Subscriber counts and a page of subscribers whose address contains `query` (editors).
    pub async fn subscribers(
        &self,
        actor: &User,
        query: &str,
        after: Option<SubscriberId>,
    ) -> AppResult<SubscriberPage> {
        require(actor, Capability::ViewAudit)?;
        let q: String = query.trim().chars().take(200).collect();
        let mut rows = self.store.list_subscribers(&q, after, LISTED + 1).await?;
        let more = rows.len() > LISTED;
        rows.truncate(LISTED);
        let next = if more {
            rows.last().map(|s| s.id)
        } else {
            None
        };
        Ok((self.store.subscriber_counts().await?, rows, next))
    }

    /// Subscribers whose address contains `query` as CSV (editors), safe to open in a
    /// spreadsheet; at most `export_max` rows.
    pub async fn subscribers_csv(&self, actor: &User, query: &str) -> AppResult<String> {
        require(actor, Capability::ViewAudit)?;
        let max = self.newsletter_settings().export_max;
        let q: String = query.trim().chars().take(200).collect();
        let snap_names = {
            let snap = self.read();
            (
                snap.tax
                    .editions
                    .iter()
                    .map(|e| (e.id, e.slug.as_str().to_owned()))
                    .collect::<HashMap<_, _>>(),
                snap.tax
                    .sectors
                    .iter()
                    .map(|s| (s.id, s.slug.as_str().to_owned()))
                    .collect::<HashMap<_, _>>(),
            )
        };
        let mut out = String::from(
            "id,email,status,frequency,breaking,editions,sectors,created_at,confirmed_at,consent,consent_source,reason\r\n",
        );
        let mut after = None;
        let mut n = 0;
        while n < max {
            let rows = self
                .store
                .list_subscribers(&q, after, 1000.min(max - n))
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            for s in &rows {
                let eds: Vec<&str> = s
                    .prefs
                    .editions
                    .iter()
                    .filter_map(|e| snap_names.0.get(e).map(String::as_str))
                    .collect();
                let secs: Vec<&str> = s
                    .prefs
                    .sectors
                    .iter()
                    .filter_map(|e| snap_names.1.get(e).map(String::as_str))
                    .collect();
                let cells = [
                    s.id.to_string(),
                    s.email.as_str().to_owned(),
                    s.status.as_str().to_owned(),
                    s.prefs.frequency.as_str().to_owned(),
                    s.prefs.breaking.to_string(),
                    eds.join(" "),
                    secs.join(" "),
                    s.created_at.to_rfc3339(),
                    s.confirmed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    s.consent_text.clone(),
                    s.consent_source.clone(),
                    s.reason.clone(),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&line.join(","));
                out.push_str("\r\n");
            }
            n += rows.len();
        }
        Ok(out)
    }

    /// The newest digests and alerts with their sending counts (editors).
    pub async fn digests(&self, actor: &User) -> AppResult<Vec<Digest>> {
        require(actor, Capability::ViewAudit)?;
        Ok(self.store.list_digests(HISTORY).await?)
    }

    /// Whether `actor` may send breaking-news alerts (those who may publish): asked before a
    /// form is read, so that a refused role learns nothing from the form's errors.
    pub fn may_send_alerts(&self, actor: &User) -> AppResult<()> {
        require(actor, Capability::Publish)
    }

    /// Sends a breaking-news alert for one published, visible story to the subscribers who
    /// want alerts (editors; once per story). Audited.
    pub async fn send_breaking_alert(&self, actor: &User, story: StoryId) -> AppResult<Digest> {
        self.may_send_alerts(actor)?;
        let now = self.now();
        let (subject, editions, primary) = {
            let snap = self.read();
            let card = snap.public_card(story, now).ok_or_else(|| {
                AppError::Conflict(
                    "Only a published story that readers can see can be sent as an alert.".into(),
                )
            })?;
            let mut eds: Vec<EditionId> = card.placements.iter().map(|p| p.edition_id).collect();
            eds.push(card.primary_edition_id);
            eds.extend(snap.tax.global().map(|g| g.id));
            eds.sort_unstable();
            eds.dedup();
            (
                format!("Breaking: {}", one_line(card.headline.as_str())),
                eds,
                card.primary_edition_id,
            )
        };
        let input = DigestInput {
            key: format!("breaking:{story}"),
            kind: "breaking".into(),
            edition: primary,
            subject,
            stories: vec![story],
            audience: DigestAudience::Breaking,
            editions,
        };
        let (id, made) = self.store.create_digest(&input, now).await?;
        if !made {
            return Err(AppError::Conflict(
                "An alert for this story was sent already.".into(),
            ));
        }
        self.queue_send(id).await?;
        self.store
            .record_audit(&AuditInput {
                at: now,
                user_id: Some(actor.id),
                action: "newsletter-alert".into(),
                target: format!("story:{story}"),
                detail: format!("digest {id}"),
            })
            .await?;
        Ok(self.store.get_digest(id).await?)
    }

    /// The newest stories readers can see, for the alert form (editors).
    pub fn alert_candidates(&self, actor: &User, n: usize) -> AppResult<Vec<(StoryId, String)>> {
        require(actor, Capability::Publish)?;
        let snap = self.read();
        let Some(global) = snap.tax.global().cloned() else {
            return Ok(Vec::new());
        };
        Ok(snap
            .latest(self.now(), &global, Filter::All, n)
            .into_iter()
            .map(|c| (c.id, c.headline.as_str().to_owned()))
            .collect())
    }

    async fn queue_send(&self, id: DigestId) -> AppResult<()> {
        let now = self.now();
        let job = new_job(&SendDigest { digest: id }, now)
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        self.store.enqueue_jobs(&[job], now).await?;
        Ok(())
    }

    /// Queues the digests whose hour has come in each edition's time zone (a daily one every
    /// day, a weekly one on the configured day). Each is made once: the job's de-duplication
    /// key while it is queued, the digest's unique key after. Returns how many were queued.
    pub async fn schedule_digests(&self) -> AppResult<usize> {
        let cfg = self.newsletter_settings();
        let now = self.now();
        let mut jobs = Vec::new();
        let mut keys = Vec::new();
        {
            let snap = self.read();
            let seen = self
                .newsletter
                .scheduled
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for e in &snap.tax.editions {
                let local = now.with_timezone(&e.tz);
                if local.hour() != cfg.digest_hour {
                    continue;
                }
                let mut freqs = vec![Frequency::Daily];
                if local.weekday() == cfg.weekday() {
                    freqs.push(Frequency::Weekly);
                }
                for frequency in freqs {
                    let m = MakeDigest {
                        edition: e.id,
                        frequency,
                        date: local.date_naive(),
                    };
                    if seen.contains(&m.key()) {
                        continue;
                    }
                    keys.push(m.key());
                    jobs.push(
                        new_job(&m, now).map_err(|e| AppError::Internal(e.to_string().into()))?,
                    );
                }
            }
        }
        if jobs.is_empty() {
            return Ok(0);
        }
        let queued = self.store.enqueue_jobs(&jobs, now).await?;
        let mut seen = self
            .newsletter
            .scheduled
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.extend(keys);
        Ok(queued.iter().flatten().count())
    }

    /// Makes an edition's digest (its candidate stories: trending first, then the latest,
    /// published within the period; never a story readers cannot see) and queues its sending.
    pub async fn make_digest(&self, m: &MakeDigest) -> AppResult<DigestId> {
        let cfg = self.newsletter_settings();
        let now = self.now();
        let since = now
            - match m.frequency {
                Frequency::Daily => Duration::days(1),
                Frequency::Weekly => Duration::days(7),
            };
        // Enough candidates that a reader of a few sectors still gets a full digest.
        let want = (cfg.stories_per_digest * 6).min(300);
        let (stories, subject) = {
            let snap = self.read();
            let edition = snap
                .tax
                .edition(m.edition)
                .ok_or(AppError::NotFound)?
                .clone();
            let recent = |c: &StoryCard| c.visible_from().is_some_and(|t| t >= since);
            let mut out: Vec<StoryId> = Vec::new();
            for id in self.audience.list(edition.id).iter() {
                if out.len() >= want {
                    break;
                }
                if let Some(c) = snap.public_card(*id, now) {
                    if recent(&c) && (edition.is_global() || c.in_edition(edition.id)) {
                        out.push(c.id);
                    }
                }
            }
            for c in snap.public(now, &edition, Filter::All) {
                if out.len() >= want || !recent(&c) {
                    break;
                }
                if !out.contains(&c.id) {
                    out.push(c.id);
                }
            }
            let subject = format!(
                "{}: your {} {} digest, {}",
                one_line(&self.site.name),
                one_line(&edition.name),
                m.frequency.as_str(),
                m.date.format("%-d %B %Y")
            );
            (out, subject)
        };
        let input = DigestInput {
            key: m.key(),
            kind: m.frequency.as_str().into(),
            edition: m.edition,
            subject,
            stories,
            audience: DigestAudience::Digest(m.edition, m.frequency),
            editions: vec![m.edition],
        };
        let (id, _) = self.store.create_digest(&input, now).await?;
        // Queued again after a crash between the two: a send job finds only what is pending.
        self.queue_send(id).await?;
        Ok(id)
    }

    /// One reader's mail of a digest; `None` when none of its stories is for them (or visible
    /// any more).
    fn digest_mail(&self, d: &Digest, s: &Subscriber) -> AppResult<Option<Message>> {
        let cfg = self.newsletter_settings();
        let now = self.now();
        let items: Vec<Item> = {
            let snap = self.read();
            let prefix = snap
                .tax
                .edition(d.edition)
                .filter(|e| !e.is_global())
                .map(|e| format!("/{}", e.slug))
                .unwrap_or_default();
            let breaking = d.kind == "breaking";
            d.stories
                .iter()
                .filter_map(|id| snap.public_card(*id, now))
                .filter(|c| {
                    breaking || s.prefs.sectors.is_empty() || s.prefs.sectors.contains(&c.sector_id)
                })
                .take(cfg.stories_per_digest)
                .map(|c| Item {
                    headline: c.headline.as_str().to_owned(),
                    summary: c.summary.clone(),
                    url: format!("{}{prefix}/article/{}", self.base(), c.slug),
                    sector: snap
                        .tax
                        .sector(c.sector_id)
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                })
                .collect()
        };
        if items.is_empty() {
            return Ok(None);
        }
        let (prefs_url, unsub_url) = self.list_urls(s)?;
        let site = one_line(&self.site.name);
        let (heading, intro) = if d.kind == "breaking" {
            ("Breaking news".to_owned(), String::new())
        } else {
            (
                d.subject.clone(),
                "The stories most read, then the latest, in the sectors you follow.".to_owned(),
            )
        };
        let render = |r: Result<String, askama::Error>| {
            r.map_err(|e| AppError::Internal(e.to_string().into()))
        };
        let text = render(
            DigestText {
                site: &site,
                heading: &heading,
                intro: &intro,
                items: &items,
                prefs_url: &prefs_url,
                unsub_url: &unsub_url,
            }
            .render(),
        )?;
        let html = render(
            DigestHtml {
                site: &site,
                heading: &heading,
                intro: &intro,
                items: &items,
                prefs_url: &prefs_url,
                unsub_url: &unsub_url,
            }
            .render(),
        )?;
        let m = Message {
            to: s.email.clone(),
            subject: one_line(&d.subject),
            text,
            html: Some(html),
            headers: vec![("Message-ID".into(), self.message_id(d.id, s.id))],
        };
        Ok(Some(self.list_headers(m, &unsub_url)))
    }

    /// The Message-ID of one reader's copy of a digest: the same on every attempt.
    pub fn message_id(&self, d: DigestId, s: SubscriberId) -> String {
        format!("<newsletter.{d}.{s}@{}>", self.mail_domain())
    }

    /// Waits for the transport's next free slot (`max_per_second`, all digests together).
    async fn pace(&self) {
        let per_second = self.newsletter_settings().max_per_second.max(1);
        let gap = std::time::Duration::from_secs(1) / per_second;
        let slot = {
            let mut next = self.newsletter.pace.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + gap;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Sends a digest's due messages, each recorded as soon as the server has taken it. A
    /// message that fails for a reason that may pass waits for its own retry (back-off per
    /// message); the job is retried while any does.
    pub async fn send_digest(self: &Arc<Self>, id: DigestId) -> Result<(), JobError> {
        {
            let mut sending = self
                .newsletter
                .sending
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !sending.insert(id) {
                return Err(JobError::Retry(
                    "this digest is being sent by this node".into(),
                ));
            }
        }
        let out = self.send_digest_rounds(id).await;
        self.newsletter
            .sending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        out
    }

    async fn send_digest_rounds(self: &Arc<Self>, id: DigestId) -> Result<(), JobError> {
        let cfg = self.newsletter_settings();
        let d = Arc::new(self.store.get_digest(id).await?);
        loop {
            let due = self.store.due_sends(id, self.now(), cfg.send_batch).await?;
            if due.is_empty() {
                break;
            }
            // Up to `concurrency` messages in flight, each recorded on its own right after its
            // 250; a new one starts as soon as any finishes (no waiting for the slowest of a
            // group), so the SMTP connections the mailer keeps stay busy. After an error no new
            // message starts; those in flight finish and are recorded.
            let mut set = tokio::task::JoinSet::new();
            let mut rows = due.into_iter();
            let mut first_err = None;
            loop {
                while first_err.is_none() && set.len() < cfg.concurrency {
                    let Some(p) = rows.next() else { break };
                    let (app, d) = (self.clone(), d.clone());
                    set.spawn(async move { app.send_one(&d, p).await });
                }
                let Some(r) = set.join_next().await else {
                    break;
                };
                let r = r
                    .map_err(|e| JobError::Retry(format!("a send task failed: {e}")))
                    .and_then(|r| r);
                if let Err(e) = r {
                    first_err.get_or_insert(e);
                }
            }
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        match self.store.next_send_at(id, self.now()).await? {
            None => Ok(()),
            Some(_) => Err(JobError::Retry("some messages wait for a retry".into())),
        }
    }

    /// Sends one reader's copy and records what became of it.
    async fn send_one(&self, d: &Digest, p: PendingSend) -> Result<(), JobError> {
        let cfg = self.newsletter_settings();
        let s = &p.subscriber;
        let outcome = if s.status != SubscriberStatus::Active {
            SendOutcome::Skipped {
                why: format!("the subscriber is {}", s.status.as_str()),
            }
        } else {
            match self.digest_mail(d, s) {
                Err(e) => SendOutcome::Failed {
                    error: e.to_string(),
                },
                Ok(None) => SendOutcome::Skipped {
                    why: "nothing in the reader's sectors".into(),
                },
                Ok(Some(m)) => {
                    self.pace().await;
                    match self.mailer().send(&m).await {
                        Ok(()) => SendOutcome::Sent {
                            message_id: self.message_id(d.id, s.id),
                        },
                        Err(e) if e.is_retryable() && p.attempts + 1 < cfg.max_attempts => {
                            let wait = cfg.retry_base_seconds * (1i64 << p.attempts.clamp(0, 12));
                            SendOutcome::Retry {
                                at: self.now() + Duration::seconds(wait.min(6 * 3600)),
                                error: e.to_string(),
                            }
                        }
                        Err(e) => SendOutcome::Failed {
                            error: e.to_string(),
                        },
                    }
                }
            }
        };
        // Committed at once: the window for a duplicate is between the 250 and here.
        self.store
            .record_send(d.id, s.id, &outcome, self.now())
            .await?;
        Ok(())
    }
}

/// Runs the newsletter's jobs (kinds starting with `newsletter_`).
pub(crate) async fn run_job(app: &Arc<App>, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        SendConfirmation::KIND => {
            let c: SendConfirmation = decode(job)?;
            let Some(m) = app
                .confirmation_mail(c.subscriber)
                .await
                .map_err(crate::jobs::app_error)?
            else {
                return Ok(());
            };
            app.mailer().send(&m).await.map_err(|e| {
                if e.is_retryable() {
                    JobError::Retry(format!("the confirmation was not sent: {e}"))
                } else {
                    JobError::Fatal(format!("the confirmation was refused: {e}"))
                }
            })?;
            app.store
                .mark_confirmation_sent(c.subscriber, app.now())
                .await?;
            Ok(())
        }
        MakeDigest::KIND => {
            let m: MakeDigest = decode(job)?;
            app.make_digest(&m)
                .await
                .map(|_| ())
                .map_err(crate::jobs::app_error)
        }
        SendDigest::KIND => {
            let s: SendDigest = decode(job)?;
            app.send_digest(s.digest).await
        }
        other => Err(JobError::Fatal(format!(
            "no handler for jobs of kind {other:?}"
        ))),
    }
}
