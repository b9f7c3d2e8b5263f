//! Pure newsroom types and rules: no I/O, no async.
//!
//! Untrusted input is parsed into these types at the edge, so a value of a type here is valid.

pub mod clock;
pub mod ids;
pub mod story;
pub mod taxonomy;
pub mod text;
pub mod time;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::*;
pub use story::*;
pub use taxonomy::*;
pub use text::{Headline, HeadlineError, Slug, SlugError};
