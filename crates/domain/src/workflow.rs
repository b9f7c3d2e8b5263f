//! The editorial workflow: which status changes exist, so that no step can be skipped.
//!
//! ```text
//! draft → in review → scheduled → published → unpublished
//!   ↑         │  └──────────────────↗  │            │
//!   └─ back ──┘                        └── killed ←─┘   (draft and in review can be killed too)
//! ```

use crate::story::StoryStatus;
use serde::{Deserialize, Serialize};

/// A workflow step a user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transition {
    /// Draft → in review.
    Submit,
    /// In review or scheduled → draft (sent back to the writer); unpublished → draft (reopened).
    SendBack,
    /// In review, scheduled or unpublished → published, now.
    Publish,
    /// In review → scheduled for a time.
    Schedule,
    /// Published → unpublished.
    Unpublish,
    /// Anything but killed → killed, for good.
    Kill,
}

impl Transition {
    /// Every transition.
    pub const ALL: [Transition; 6] = [
        Transition::Submit,
        Transition::SendBack,
        Transition::Publish,
        Transition::Schedule,
        Transition::Unpublish,
        Transition::Kill,
    ];

    /// Stable name used in forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::SendBack => "send-back",
            Transition::Publish => "publish",
            Transition::Schedule => "schedule",
            Transition::Unpublish => "unpublish",
            Transition::Kill => "kill",
        }
    }

    /// Parses [`Transition::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The status a story in `from` reaches by this step, or `None` if the step does not exist
    /// from there.
    pub fn apply(self, from: StoryStatus) -> Option<StoryStatus> {
        use StoryStatus::*;
        Some(match (self, from) {
            (Transition::Submit, Draft) => InReview,
            (Transition::SendBack, InReview | Scheduled | Unpublished) => Draft,
            (Transition::Publish, InReview | Scheduled | Unpublished) => Published,
            (Transition::Schedule, InReview) => Scheduled,
            (Transition::Unpublish, Published) => Unpublished,
            (Transition::Kill, Draft | InReview | Scheduled | Published | Unpublished) => Killed,
            _ => return None,
        })
    }
}

/// Whether a story in this status can still be edited.
pub fn editable(status: StoryStatus) -> bool {
    status != StoryStatus::Killed
}

#[cfg(test)]
mod tests {
    use super::*;
    use StoryStatus::*;

    #[test]
    fn no_step_can_be_skipped() {
        assert_eq!(
            Transition::Publish.apply(Draft),
            None,
            "a draft goes through review"
        );
        assert_eq!(Transition::Schedule.apply(Draft), None);
        assert_eq!(Transition::Submit.apply(Draft), Some(InReview));
        assert_eq!(Transition::Publish.apply(InReview), Some(Published));
        assert_eq!(Transition::Schedule.apply(InReview), Some(Scheduled));
        assert_eq!(Transition::Unpublish.apply(Published), Some(Unpublished));
        assert_eq!(Transition::Unpublish.apply(Draft), None);
        for t in Transition::ALL {
            assert_eq!(t.apply(Killed), None, "killed is final");
        }
        assert!(!editable(Killed));
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
        }
    }
}
