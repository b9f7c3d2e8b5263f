//! Readers' feedback (the feedback desk) and outgoing webhooks, as the store keeps them.

use crate::UserId;
use chrono::{DateTime, Utc};

/// Database id of a reader's feedback message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedbackId(pub i64);

impl std::fmt::Display for FeedbackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a feedback message is in the desk's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedbackStatus {
    /// Not dealt with yet.
    New,
    /// An editor replied (or marked it dealt with).
    Answered,
    /// Junk.
    Spam,
}

impl FeedbackStatus {
    /// Every status, in the newsroom's order.
    pub const ALL: [FeedbackStatus; 3] = [
        FeedbackStatus::New,
        FeedbackStatus::Answered,
        FeedbackStatus::Spam,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::New => "new",
            FeedbackStatus::Answered => "answered",
            FeedbackStatus::Spam => "spam",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A message a reader sent, checked, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    /// Name given, or empty.
    pub name: String,
    /// Reply address given (checked), or empty.
    pub email: String,
    /// The message.
    pub message: String,
    /// The site's page it was sent from (a path), or empty.
    pub page: String,
}

/// A stored feedback message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackMessage {
    /// Id.
    pub id: FeedbackId,
    /// What the reader sent.
    pub sent: NewFeedback,
    /// Where it is in the queue.
    pub status: FeedbackStatus,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The editor's reply, if one was sent.
    pub reply: Option<FeedbackReply>,
}

/// An editor's reply to a message, kept with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackReply {
    /// The text sent.
    pub text: String,
    /// Who sent it.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Messages in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedbackCounts {
    /// New.
    pub new: i64,
    /// Answered.
    pub answered: i64,
    /// Spam.
    pub spam: i64,
}

/// Database id of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(pub i64);

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A story became published.
    StoryPublished,
    /// A published story was saved again.
    StoryUpdated,
    /// A correction was added to a story.
    StoryCorrected,
    /// A published story was taken down.
    StoryUnpublished,
    /// A story was withdrawn for good.
    StoryKilled,
    /// Agency copy started a new wire cluster.
    WireClusterCreated,
}

impl WebhookEvent {
    /// Every event, in the newsroom's order.
    pub const ALL: [WebhookEvent; 6] = [
        WebhookEvent::StoryPublished,
        WebhookEvent::StoryUpdated,
        WebhookEvent::StoryCorrected,
        WebhookEvent::StoryUnpublished,
        WebhookEvent::StoryKilled,
        WebhookEvent::WireClusterCreated,
    ];

    /// Name as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::StoryPublished => "story.published",
            WebhookEvent::StoryUpdated => "story.updated",
            WebhookEvent::StoryCorrected => "story.corrected",
            WebhookEvent::StoryUnpublished => "story.unpublished",
            WebhookEvent::StoryKilled => "story.killed",
            WebhookEvent::WireClusterCreated => "wire.cluster_created",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A registered webhook (its secret is read on its own, for signing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Id.
    pub id: WebhookId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<WebhookEvent>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Queued or being retried.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// One event for one hook: what is sent, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Id (sent as the delivery's id, so a receiver can drop repeats).
    pub id: i64,
    /// The hook.
    pub hook: WebhookId,
    /// The event's name.
    pub event: String,
    /// The JSON body sent.
    pub body: String,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i64,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// The last attempt: when, the status answered (0: no answer), a capped excerpt of the
    /// answer or the error.
    pub last: Option<(DateTime<Utc>, i64, String)>,
}
