//! Newsroom accounts: roles, what each role may do, e-mail addresses, users.

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Database id of a newsroom account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a newsroom account is allowed to do, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Writes drafts and submits them; edits only their own drafts.
    Contributor,
    /// Like a contributor, and uploads media.
    Author,
    /// Edits every story, publishes, schedules, unpublishes, kills, corrects.
    Editor,
    /// Everything, and manages accounts.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 4] = [Role::Contributor, Role::Author, Role::Editor, Role::Admin];

    /// Stable name used in the database, forms and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Contributor => "contributor",
            Role::Author => "author",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do `what` (the capability table of the README).
    pub fn can(self, what: Capability) -> bool {
        use Capability::*;
        match what {
            CreateStory | EditOwnDraft | SubmitOwnStory | ViewNewsroom => true,
            UploadMedia => self >= Role::Author,
            EditAnyStory | Publish | Schedule | Unpublish | Kill | Correct | ViewAudit
            | RestoreRevision => self >= Role::Editor,
            ManageUsers | EditPages => self == Role::Admin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a newsroom user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Capability {
    /// See the dashboard and story lists.
    ViewNewsroom,
    /// Start a new draft.
    CreateStory,
    /// Edit a draft (or a story sent back) one created.
    EditOwnDraft,
    /// Send one's own draft to review.
    SubmitOwnStory,
    /// Upload images and videos.
    UploadMedia,
    /// Edit any story in any status.
    EditAnyStory,
    /// Publish now.
    Publish,
    /// Schedule for later.
    Schedule,
    /// Take a published story down.
    Unpublish,
    /// Withdraw a story for good.
    Kill,
    /// Add a correction to a published story.
    Correct,
    /// Restore an earlier revision.
    RestoreRevision,
    /// Read the audit log.
    ViewAudit,
    /// Invite, disable and change the role of accounts.
    ManageUsers,
    /// Edit the static pages.
    EditPages,
}

impl Capability {
    /// Every capability, in the README's order.
    pub const ALL: [Capability; 15] = [
        Capability::ViewNewsroom,
        Capability::CreateStory,
        Capability::EditOwnDraft,
        Capability::SubmitOwnStory,
        Capability::UploadMedia,
        Capability::EditAnyStory,
        Capability::Publish,
        Capability::Schedule,
        Capability::Unpublish,
        Capability::Kill,
        Capability::Correct,
        Capability::RestoreRevision,
        Capability::ViewAudit,
        Capability::ManageUsers,
        Capability::EditPages,
    ];
}

/// A syntactically valid e-mail address, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmailError(&'static str);

impl EmailAddress {
    /// Parses an address: one `@`, a non-empty local part, a domain with a dot and no spaces,
    /// at most 254 characters. Deliberately simple: the real test is the mail we send.
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmailError("an e-mail address is required"));
        }
        if s.len() > 254 {
            return Err(EmailError("an e-mail address is at most 254 characters"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(EmailError("an e-mail address needs an @"));
        };
        let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c);
        if local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains('@')
            || s.chars().any(bad)
        {
            return Err(EmailError("that is not a valid e-mail address"));
        }
        Ok(Self(s.to_lowercase()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

/// A newsroom account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// Login and contact address.
    pub email: EmailAddress,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// A disabled account cannot log in and has no sessions.
    pub disabled: bool,
    /// The byline this account writes under, if any.
    pub author_id: Option<AuthorId>,
    /// Whether logging in also needs a one-time code.
    pub totp_enabled: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn capability_table() {
        use Capability::*;
        assert!(Role::Contributor.can(CreateStory));
        assert!(!Role::Contributor.can(UploadMedia));
        assert!(Role::Author.can(UploadMedia));
        assert!(!Role::Author.can(Publish));
        assert!(Role::Editor.can(Publish) && Role::Editor.can(Kill) && Role::Editor.can(Correct));
        assert!(!Role::Editor.can(ManageUsers));
        for c in Capability::ALL {
            assert!(Role::Admin.can(c), "admin can {c:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            EmailAddress::parse(" Asha@Example.ORG ").unwrap().as_str(),
            "asha@example.org"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@x.org",
            "a@.org",
            "a@x.",
            "a b@x.org",
            "a@x@y.org",
            "<a>@x.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn email_parse_never_panics_and_is_idempotent(s in "\\PC{0,300}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e);
            }
        }
    }
}
