//! The one error type of this crate, with messages written for newsroom staff.

/// Why an upload was refused or could not be stored.
///
/// Every message (`Display`) is meant to be shown as is to the person who uploaded the file:
/// it says what is wrong and, where it can, what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The image file is bigger than [`crate::ImageLimits::max_bytes`].
    #[error("This image file is too big: the limit is {}. Please upload a smaller file.", human_bytes(*max as u64))]
    TooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// The content is not a picture at all (whatever its file name says).
    #[error("{}", not_an_image_message(looks_like))]
    NotAnImage {
        /// What the file looks like, e.g. "an SVG drawing", "a PDF document", "text".
        looks_like: &'static str,
    },
    /// A real picture, in a format this site does not take (GIF, BMP, TIFF, HEIC…).
    /// The text names the format, in the plural: "GIF images".
    #[error("{0} are not accepted here. Please use JPEG, PNG or WebP.")]
    Unsupported(String),
    /// The picture's dimensions (read from its header, before decoding) are above the limits:
    /// too many pixels in all, or one side too long.
    #[error(
        "This picture is {w} × {h} pixels, which is too large to process: the limit is {} megapixels, and very long sides are refused too. Please scale it down before uploading.",
        megapixels(*max)
    )]
    TooManyPixels {
        /// Width stated by the file.
        w: u32,
        /// Height stated by the file.
        h: u32,
        /// The pixel-count limit.
        max: u64,
    },
    /// The file starts like a picture but is damaged, incomplete or could not be read.
    #[error("This image file is damaged or incomplete and could not be read ({0}). Please export it again and retry.")]
    Corrupt(String),
    /// The video file is bigger than [`crate::VideoLimits::max_bytes`].
    #[error("This video file is too big: the limit is {}. Please upload a shorter or more compressed video.", human_bytes(*max))]
    VideoTooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// The content is not an MP4 or WebM video (whatever its file name says).
    #[error(
        "This file is not an MP4 or WebM video. Please upload a video in one of those formats."
    )]
    NotAVideo,
    /// Reading or writing a file on the server failed; nothing is wrong with the upload itself.
    #[error("The file could not be stored on the server ({0}). Please try again; if it keeps failing, tell the technical team.")]
    Io(String),
}

impl From<std::io::Error> for MediaError {
    fn from(e: std::io::Error) -> Self {
        MediaError::Io(e.to_string())
    }
}

fn not_an_image_message(looks_like: &str) -> String {
    match looks_like {
        "an SVG drawing" => "SVG drawings are not accepted: they can carry scripts and links. \
                             Please export the drawing as a PNG and upload that."
            .to_owned(),
        "an empty file" => {
            "This file is empty. Please upload a JPEG, PNG or WebP picture.".to_owned()
        }
        other => format!(
            "This file is not a picture: it looks like {other}. \
             Please upload a JPEG, PNG or WebP picture."
        ),
    }
}

/// "15 MB", "100 MB", "512 KB", "900 bytes" (binary units, written the way people say them).
fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MB", n as f64 / MIB as f64)
    } else if n >= KIB {
        format!("{} KB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// "40", "2.5"
fn megapixels(max: u64) -> String {
    if max.is_multiple_of(1_000_000) {
        format!("{}", max / 1_000_000)
    } else {
        format!("{:.1}", max as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        assert_eq!(
            MediaError::TooLarge {
                max: 15 * 1024 * 1024
            }
            .to_string(),
            "This image file is too big: the limit is 15 MB. Please upload a smaller file."
        );
        assert!(MediaError::TooManyPixels {
            w: 60_000,
            h: 60_000,
            max: 40_000_000
        }
        .to_string()
        .contains("60000 × 60000 pixels"));
        assert!(MediaError::Unsupported("GIF images".into())
            .to_string()
            .starts_with("GIF images are not accepted"));
        assert!(MediaError::NotAnImage {
            looks_like: "an SVG drawing"
        }
        .to_string()
        .starts_with("SVG drawings are not accepted"));
        assert!(MediaError::NotAnImage {
            looks_like: "a PDF document"
        }
        .to_string()
        .contains("it looks like a PDF document"));
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(2048), "2 KB");
        assert_eq!(human_bytes(12), "12 bytes");
        assert_eq!(megapixels(2_500_000), "2.5");
    }
}
