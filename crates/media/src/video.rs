//! Short videos for the Shorts strip: MP4 or WebM, checked by content, stored under a
//! server-made name.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::files::{random_hex, temp_name};
use crate::MediaError;

/// Limits applied to every video upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoLimits {
    /// Largest accepted file, in bytes (default 100 MiB).
    pub max_bytes: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits {
            max_bytes: 100 * 1024 * 1024,
        }
    }
}

/// The video containers that are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoKind {
    /// MPEG-4 (ISO base media file format with a known `ftyp` brand).
    Mp4,
    /// WebM (EBML with DocType `webm`).
    Webm,
}

impl VideoKind {
    /// File extension used for stored files.
    pub fn ext(self) -> &'static str {
        match self {
            VideoKind::Mp4 => "mp4",
            VideoKind::Webm => "webm",
        }
    }

    /// The MIME type of this container.
    pub fn mime(self) -> &'static str {
        match self {
            VideoKind::Mp4 => "video/mp4",
            VideoKind::Webm => "video/webm",
        }
    }
}

/// How many leading bytes [`store_video`] reads to tell the kind.
pub const VIDEO_SNIFF_BYTES: usize = 4096;

const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"dash",
];

/// Tells whether `head` (the first bytes of a file; a few hundred are enough, see
/// [`VIDEO_SNIFF_BYTES`]) starts an MP4 or a WebM video.
///
/// - MP4: an `ftyp` box at offset 4 whose major brand, or one of its compatible brands, is
///   `isom`, `iso2`…`iso6`, `mp41`, `mp42`, `avc1`, `M4V ` or `dash`.
/// - WebM: an EBML header (`1A 45 DF A3`) whose DocType element says `webm` (general
///   Matroska `.mkv` is refused).
///
/// Anything else is [`MediaError::NotAVideo`].
pub fn sniff_video(head: &[u8]) -> Result<VideoKind, MediaError> {
    if is_mp4(head) {
        Ok(VideoKind::Mp4)
    } else if is_webm(head) {
        Ok(VideoKind::Webm)
    } else {
        Err(MediaError::NotAVideo)
    }
}

fn is_mp4(b: &[u8]) -> bool {
    if b.len() < 12 || &b[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if size < 16 && size != 0 {
        // An ftyp box has at least a major brand and a minor version.
        return false;
    }
    let known = |brand: &[u8]| MP4_BRANDS.iter().any(|k| &k[..] == brand);
    if known(&b[8..12]) {
        return true;
    }
    // Compatible brands follow the minor version, up to the end of the box.
    let end = if size == 0 {
        b.len()
    } else {
        size.min(b.len())
    };
    b.get(16..end)
        .is_some_and(|brands| brands.chunks_exact(4).any(known))
}

/// Reads an EBML variable-length integer at `b[*pos..]`. With `keep_marker` the length
/// marker bit stays (element IDs), without it the value is returned (sizes).
fn read_vint(b: &[u8], pos: &mut usize, keep_marker: bool) -> Option<u64> {
    let first = *b.get(*pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = b.get(*pos..*pos + len)?;
    let mut value = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    for &byte in &bytes[1..] {
        value = (value << 8) | u64::from(byte);
    }
    *pos += len;
    Some(value)
}

fn is_webm(b: &[u8]) -> bool {
    const EBML: u64 = 0x1A45_DFA3;
    const DOC_TYPE: u64 = 0x4282;
    let mut pos = 0;
    if read_vint(b, &mut pos, true) != Some(EBML) {
        return false;
    }
    let Some(header_size) = read_vint(b, &mut pos, false) else {
        return false;
    };
    let header_end = usize::try_from(header_size)
        .ok()
        .and_then(|s| pos.checked_add(s))
        .map_or(b.len(), |e| e.min(b.len()));
    while pos < header_end {
        let Some(id) = read_vint(b, &mut pos, true) else {
            return false;
        };
        let Some(size) = read_vint(b, &mut pos, false).and_then(|s| usize::try_from(s).ok()) else {
            return false;
        };
        let Some(data) = pos.checked_add(size).and_then(|end| b.get(pos..end)) else {
            return false;
        };
        if id == DOC_TYPE {
            // The string may be padded with zero bytes.
            let trimmed: &[u8] = match data.iter().position(|&c| c == 0) {
                Some(i) => &data[..i],
                None => data,
            };
            return trimmed == b"webm";
        }
        pos += size;
    }
    false
}

/// Stores an uploaded video that the web layer has already saved to `src` (a temporary file).
///
/// Checks the size against [`VideoLimits::max_bytes`] (an empty file is
/// [`MediaError::NotAVideo`]), reads the first [`VIDEO_SNIFF_BYTES`] and tells the kind with
/// [`sniff_video`], then moves the file into `out_dir` (created if missing) as
/// `vid-<16 hex>.{mp4,webm}`. The move is a rename when `src` is on the same file system;
/// otherwise the file is copied to a temporary name in `out_dir`, renamed into place, and
/// `src` is removed. Either way `src` is consumed on success and left alone on refusal.
///
/// Returns the key (`vid-<16 hex>`), the file name and the kind. The video is not decoded or
/// transcoded; its poster image is a separate upload through [`crate::process_image`].
pub fn store_video(
    src: &Path,
    limits: &VideoLimits,
    out_dir: &Path,
) -> Result<(String, String, VideoKind), MediaError> {
    let (key, name, kind) = check_video(src, limits)?;
    move_into(src, out_dir, &name)?;
    Ok((key, name, kind))
}

/// The checks of [`store_video`] without the move: the size limit and the kind told from the
/// first bytes. Returns the server-made key (`vid-<16 hex>`), the file name to store the video
/// under, and its kind; `src` is left where it is.
pub fn check_video(
    src: &Path,
    limits: &VideoLimits,
) -> Result<(String, String, VideoKind), MediaError> {
    let mut file = File::open(src)?;
    let len = file.metadata()?.len();
    if len > limits.max_bytes {
        return Err(MediaError::VideoTooLarge {
            max: limits.max_bytes,
        });
    }
    if len == 0 {
        return Err(MediaError::NotAVideo);
    }
    let mut head = Vec::with_capacity(VIDEO_SNIFF_BYTES);
    (&mut file)
        .take(VIDEO_SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    drop(file);
    let kind = sniff_video(&head)?;
    let key = format!("vid-{}", random_hex(8)?);
    let name = format!("{key}.{}", kind.ext());
    Ok((key, name, kind))
}

/// Moves the file `src` into `out_dir` (created if missing) as `name`: a rename when both are
/// on the same file system, else a copy to a temporary name in `out_dir`, a rename into place,
/// and the removal of `src`. `out_dir/name` is either absent or complete.
pub(crate) fn move_into(src: &Path, out_dir: &Path, name: &str) -> Result<(), MediaError> {
    fs::create_dir_all(out_dir)?;
    let dest = out_dir.join(name);
    if fs::rename(src, &dest).is_err() {
        // Most likely another file system: copy, then rename within out_dir.
        let tmp = out_dir.join(temp_name(name)?);
        let copied = fs::copy(src, &tmp).and_then(|_| {
            File::open(&tmp)?.sync_all()?;
            fs::rename(&tmp, &dest)
        });
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        let _ = fs::remove_file(src);
    }
    Ok(())
}
