//! The newsletter's subscribers and digests.

use crate::{EditionId, EmailAddress, SectorId, StoryId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Database id of a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriberId(pub i64);

/// Database id of a digest (one mailing: a daily or weekly digest of an edition, or an alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DigestId(pub i64);

impl std::fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for DigestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How often a subscriber gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every day at the edition's hour.
    Daily,
    /// Once a week, on the configured day.
    Weekly,
}

impl Frequency {
    /// As stored and shown in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }
    /// Parses [`Frequency::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }
}

/// Where a subscriber is in the double opt-in and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    /// Asked, not confirmed: only the confirmation is ever sent.
    Pending,
    /// Confirmed: digests and alerts are sent.
    Active,
    /// Unsubscribed by the reader.
    Unsubscribed,
    /// Hard bounce or complaint: nothing is sent, and a new request is not acted on.
    Suppressed,
}

impl SubscriberStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Active => "active",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Suppressed => "suppressed",
        }
    }
    /// Parses [`SubscriberStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            SubscriberStatus::Pending,
            SubscriberStatus::Active,
            SubscriberStatus::Unsubscribed,
            SubscriberStatus::Suppressed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What a reader chose to receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Editions whose digest is sent (at least one).
    pub editions: Vec<EditionId>,
    /// Sectors of interest; empty means every sector.
    pub sectors: Vec<SectorId>,
    /// Digest frequency.
    pub frequency: Frequency,
    /// Whether breaking-news alerts are sent too.
    pub breaking: bool,
}

/// One subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// Id.
    pub id: SubscriberId,
    /// Address (lower case).
    pub email: EmailAddress,
    /// State.
    pub status: SubscriberStatus,
    /// What they receive.
    pub prefs: Preferences,
    /// Random secret of this subscriber, part of every signed link (new at each request).
    pub nonce: String,
    /// When the row was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When the last confirmation was sent (throttles re-sends).
    pub confirm_sent_at: Option<DateTime<Utc>>,
    /// When the reader confirmed (the consent's time).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// What the reader agreed to, in words, as shown on the form.
    pub consent_text: String,
    /// The address of the form the request came from.
    pub consent_source: String,
    /// Why it is suppressed or unsubscribed (bounce, complaint, one-click, preferences page).
    pub reason: String,
}

/// A new subscriber or a request that replaces a pending/unsubscribed one's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    /// Address.
    pub email: EmailAddress,
    /// Choices.
    pub prefs: Preferences,
    /// New random nonce.
    pub nonce: String,
    /// What was agreed to.
    pub consent_text: String,
    /// The form's address.
    pub consent_source: String,
}

/// Subscribers per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriberCounts {
    /// Not confirmed yet.
    pub pending: i64,
    /// Receiving.
    pub active: i64,
    /// Left.
    pub unsubscribed: i64,
    /// Bounced or complained.
    pub suppressed: i64,
}

/// Which subscribers a digest goes to (chosen when it is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DigestAudience {
    /// Active subscribers of the edition with this frequency.
    Digest(EditionId, Frequency),
    /// Active subscribers who want alerts, of any of the story's editions (all of them when the
    /// list holds the Global edition).
    Breaking,
}

/// A mailing to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestInput {
    /// Unique key (`daily:3:2026-12-06`, `breaking:42`): a digest is made once per key.
    pub key: String,
    /// `daily`, `weekly` or `breaking`.
    pub kind: String,
    /// Its edition.
    pub edition: EditionId,
    /// The subject line.
    pub subject: String,
    /// The candidate stories, in order (the content, fixed when it is made).
    pub stories: Vec<StoryId>,
    /// Who gets it.
    pub audience: DigestAudience,
    /// For alerts: the story's editions (recipients with any of them).
    pub editions: Vec<EditionId>,
}

/// A mailing, with its sending counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Id.
    pub id: DigestId,
    /// Unique key.
    pub key: String,
    /// `daily`, `weekly` or `breaking`.
    pub kind: String,
    /// Its edition.
    pub edition: EditionId,
    /// Subject.
    pub subject: String,
    /// Candidate stories.
    pub stories: Vec<StoryId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the last send finished, once none is pending.
    pub finished_at: Option<DateTime<Utc>>,
    /// Recipients chosen.
    pub total: i64,
    /// Sent (the SMTP server said 250).
    pub sent: i64,
    /// Not yet sent (including those waiting for a retry).
    pub pending: i64,
    /// Failed for good.
    pub failed: i64,
    /// Skipped (nothing for the reader, or no longer subscribed).
    pub skipped: i64,
}

/// One recipient's send of a digest, due now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSend {
    /// The recipient as they are now.
    pub subscriber: Subscriber,
    /// Attempts so far.
    pub attempts: i64,
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted it (250).
    Sent {
        /// Its Message-ID.
        message_id: String,
    },
    /// Try again at this time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Failed for good.
    Failed {
        /// Why.
        error: String,
    },
    /// Not sent, on purpose.
    Skipped {
        /// Why.
        why: String,
    },
}
