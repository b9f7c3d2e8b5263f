//! Media uploads for newsdesk.
//!
//! - Pictures ([`process_image`]): JPEG, PNG or WebP, told by content, never by name; size,
//!   pixel-count and side limits checked before decoding (a decompression bomb is refused
//!   cleanly); re-encoded so no metadata survives; resized to the `srcset` widths; stored under
//!   server-made names. Alt text is checked with [`clean_alt_text`].
//! - Short videos ([`store_video`]): MP4 or WebM, told by content, with a size limit, stored
//!   under server-made names; [`parse_range`] answers HTTP range requests when serving them.
//! - [`is_media_file_name`] tells whether a requested name is one this crate makes.
//! - Where the files live ([`MediaStore`]): a local folder ([`LocalFolder`], the default) or,
//!   with the `s3` feature, an S3-compatible bucket (`S3Store`) that several nodes share.
//!
//! Nothing here panics on any input; every refusal is a [`MediaError`] whose message can be
//! shown to the uploader.

mod alt;
mod error;
mod files;
mod picture;
mod range;
#[cfg(feature = "s3")]
mod s3;
mod sniff;
mod store;
mod video;

pub use alt::{clean_alt_text, AltTextError, MAX_ALT_CHARS};
pub use error::MediaError;
pub use files::is_media_file_name;
pub use picture::{
    dimensions, encode_image, process_image, EncodedImage, ImageLimits, Processed, JPEG_QUALITY,
};
pub use range::{parse_range, RangeAnswer};
#[cfg(feature = "s3")]
pub use s3::{S3Config, S3Store};
pub use sniff::{sniff, ImageKind};
pub use store::{
    content_type_of, put_all, ByteStream, LocalFolder, MediaMeta, MediaStore, CHUNK_BYTES,
};
pub use video::{check_video, sniff_video, store_video, VideoKind, VideoLimits, VIDEO_SNIFF_BYTES};
