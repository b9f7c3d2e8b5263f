//! Newsroom records: revisions, corrections, the audit log, sessions.

use crate::ids::StoryId;
use crate::people::{Role, UserId};
use crate::story::StoryInput;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One saved state of a story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Database id.
    pub id: i64,
    /// The story.
    pub story_id: StoryId,
    /// The story version this revision is.
    pub version: i64,
    /// Who saved it (none for imports and the system).
    pub by: Option<UserId>,
    /// When.
    pub at: DateTime<Utc>,
    /// What was saved.
    pub input: StoryInput,
}

/// A revision without its content, for history lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionMeta {
    /// Database id.
    pub id: i64,
    /// Story version.
    pub version: i64,
    /// Who saved it.
    pub by: Option<UserId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Status at that revision.
    pub status: crate::story::StoryStatus,
    /// Headline at that revision.
    pub headline: String,
}

/// A public, structured correction of a published story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Database id.
    pub id: i64,
    /// The corrected story.
    pub story_id: StoryId,
    /// What the story said that was wrong.
    pub wrong: String,
    /// What is right.
    pub right: String,
    /// When the correction was made.
    pub at: DateTime<Utc>,
    /// The editor who made it.
    pub by: Option<UserId>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Database id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (none for the system).
    pub user_id: Option<UserId>,
    /// What ("publish", "kill", "role", "login", ...).
    pub action: String,
    /// On what ("story:12", "user:3").
    pub target: String,
    /// Details in words.
    pub detail: String,
}

/// An audit line to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInput {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub user_id: Option<UserId>,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details.
    pub detail: String,
}

/// A server-side login session. The cookie holds a random token; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token, hex.
    pub token_hash: String,
    /// The account.
    pub user_id: UserId,
    /// Login time (for the absolute time-out).
    pub created_at: DateTime<Utc>,
    /// Last request (for the idle time-out).
    pub last_seen_at: DateTime<Utc>,
    /// The CSRF token of forms in this session.
    pub csrf_token: String,
}

/// A single-use invitation to make an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Who is invited.
    pub email: crate::people::EmailAddress,
    /// With which role.
    pub role: Role,
    /// Who invited.
    pub invited_by: Option<UserId>,
    /// Until when it can be used.
    pub expires_at: DateTime<Utc>,
}

/// Which stories a newsroom list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskQuery {
    /// Only these statuses (all when empty).
    pub statuses: Vec<crate::story::StoryStatus>,
    /// Only stories this account created.
    pub owner: Option<UserId>,
    /// Only headlines containing this text (case-insensitive).
    pub text: Option<String>,
    /// Only stories whose embargo ends after this instant.
    pub embargoed_after: Option<DateTime<Utc>>,
    /// Only stories of this sector.
    pub sector: Option<crate::ids::SectorId>,
    /// Only stories placed in this edition.
    pub edition: Option<crate::ids::EditionId>,
    /// Only stories with this desk byline.
    pub desk: Option<crate::ids::DeskId>,
    /// Only stories by this author.
    pub author: Option<crate::ids::AuthorId>,
    /// At most this many, newest change first.
    pub limit: usize,
}

/// A story in a newsroom list.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskRow {
    /// The card.
    pub card: crate::story::StoryCard,
    /// Who created it.
    pub created_by: Option<UserId>,
}
