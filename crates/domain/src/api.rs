//! API tokens: what a token may do (its scopes) and what is kept of it (never the token itself).

use crate::people::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Database id of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiTokenId(pub i64);

impl std::fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One thing a token may be used for. A token acts as its owner: what it may do is what its
/// scopes name *and* its owner's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Read stories that are not public (drafts, in review, scheduled, embargoed) the owner may open.
    ReadDrafts,
    /// Create and edit stories, submit and send back, upload media.
    WriteStories,
    /// Publish, schedule, unpublish, kill, correct.
    Publish,
    /// Push agency copy to `/api/wire/{source}`.
    WirePush,
}

impl ApiScope {
    /// Every scope.
    pub const ALL: [ApiScope; 4] = [
        ApiScope::ReadDrafts,
        ApiScope::WriteStories,
        ApiScope::Publish,
        ApiScope::WirePush,
    ];

    /// Stable name (database, forms, CLI, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::ReadDrafts => "read_drafts",
            ApiScope::WriteStories => "write_stories",
            ApiScope::Publish => "publish",
            ApiScope::WirePush => "wire_push",
        }
    }

    /// Parses [`ApiScope::as_str`].
    pub fn parse(s: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Scopes written as a comma-separated list (unknown names are dropped), in order, once each.
    pub fn parse_list(s: &str) -> Vec<ApiScope> {
        let mut out: Vec<ApiScope> = s.split(',').filter_map(ApiScope::parse).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Scopes as a comma-separated list.
    pub fn join(scopes: &[ApiScope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A new token as stored: only the hash of the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInput {
    /// What it is for ("CMS bridge").
    pub name: String,
    /// Whose rights it carries.
    pub owner: UserId,
    /// Who made it (an admin).
    pub created_by: UserId,
    /// What it may be used for.
    pub scopes: Vec<ApiScope>,
    /// SHA-256 of the secret, lowercase hex.
    pub hash: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A token as the newsroom sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Id (audit lines name it).
    pub id: ApiTokenId,
    /// What it is for.
    pub name: String,
    /// Whose rights it carries.
    pub owner: UserId,
    /// Who made it.
    pub created_by: UserId,
    /// What it may be used for.
    pub scopes: Vec<ApiScope>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last used (noted at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may be used at `now`: not revoked, not expired.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// Whether the token carries `scope`.
    pub fn has(&self, scope: ApiScope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_round_trip() {
        let s = ApiScope::parse_list("publish, read_drafts,bogus,publish");
        assert_eq!(s, vec![ApiScope::ReadDrafts, ApiScope::Publish]);
        assert_eq!(ApiScope::join(&s), "read_drafts,publish");
        assert_eq!(
            ApiScope::parse_list(&ApiScope::join(&ApiScope::ALL)),
            ApiScope::ALL
        );
    }
}
