//! Media uploads for newsdesk.
//!
//! - Pictures ([`process_image`]): JPEG, PNG or WebP, told by content, never by name; size,
//!   pixel-count and side limits checked before decoding (a decompression bomb is refused
//!   cleanly); re-encoded so no metadata survives; resized to the `srcset` widths; stored under
//!   server-made names. Alt text is checked with [`clean_alt_text`].
//! - Short videos ([`store_video`]): MP4 or WebM, told by content, with a size limit, stored
//!   under server-made names; [`parse_range`] answers HTTP range requests when serving them.
//! - [`is_media_file_name`] tells whether a requested name is one this crate makes.
//!
//! Nothing here panics on any input; every refusal is a [`MediaError`] whose message can be
//! shown to the uploader.

mod alt;
mod error;
mod files;
mod picture;
mod range;
mod sniff;
mod video;

pub use alt::{clean_alt_text, AltTextError, MAX_ALT_CHARS};
pub use error::MediaError;
pub use files::is_media_file_name;
pub use picture::{dimensions, process_image, ImageLimits, Processed, JPEG_QUALITY};
pub use range::{parse_range, RangeAnswer};
pub use sniff::{sniff, ImageKind};
pub use video::{sniff_video, store_video, VideoKind, VideoLimits, VIDEO_SNIFF_BYTES};
