//! Pure newsroom types and rules: no I/O, no async.
//!
//! Untrusted input is parsed into these types at the edge, so a value of a type here is valid.

pub mod api;
pub mod clock;
pub mod entities;
pub mod feedback;
pub mod ids;
pub mod job;
pub mod newsletter;
pub mod newsroom;
pub mod people;
pub mod story;
pub mod taxonomy;
pub mod text;
pub mod time;
pub mod wire;
pub mod workflow;

pub use api::{ApiScope, ApiToken, ApiTokenId, ApiTokenInput};
pub use clock::{Clock, ManualClock, SystemClock};
pub use feedback::*;
pub use ids::*;
pub use job::{Job, JobCounts, JobOutcome, JobState, NewJob};
pub use newsletter::*;
pub use newsroom::*;
pub use people::*;
pub use story::*;
pub use taxonomy::*;
pub use text::{Headline, HeadlineError, Slug, SlugError};
pub use wire::*;
pub use workflow::{editable, Transition};
