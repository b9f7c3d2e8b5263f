//! Server-made names and atomic writes.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::MediaError;

/// `n` random bytes from the operating system, as 2·n lowercase hex digits.
pub(crate) fn random_hex(n: usize) -> Result<String, MediaError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| MediaError::Io(format!("no randomness for a file name: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A temporary name in the same folder (so the final rename is atomic), hidden and unique.
pub(crate) fn temp_name(final_name: &str) -> Result<String, MediaError> {
    Ok(format!(".{final_name}.{}.tmp", random_hex(6)?))
}

/// Writes `data` to `dir/name` through a temporary file and a rename, so that `dir/name`
/// is either absent or complete.
pub(crate) fn write_atomically(dir: &Path, name: &str, data: &[u8]) -> Result<(), MediaError> {
    let tmp = dir.join(temp_name(name)?);
    let result = (|| {
        let mut f = File::create_new(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    Ok(result?)
}

/// True for a name this crate could have made: `img-<16 hex>-<width>.{jpg,png}` or
/// `vid-<16 hex>.{mp4,webm}`. Use it before serving a file named in a URL: such a name
/// cannot climb out of the media folder or point at a temporary file.
pub fn is_media_file_name(name: &str) -> bool {
    let hex16 = |s: &str| {
        s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if let Some(rest) = name.strip_prefix("img-") {
        let Some((stem, ext)) = rest.rsplit_once('.') else {
            return false;
        };
        let Some((key, width)) = stem.split_once('-') else {
            return false;
        };
        matches!(ext, "jpg" | "png")
            && hex16(key)
            && !width.is_empty()
            && width.len() <= 5
            && width.bytes().all(|b| b.is_ascii_digit())
            && !width.starts_with('0')
    } else if let Some(rest) = name.strip_prefix("vid-") {
        let Some((key, ext)) = rest.rsplit_once('.') else {
            return false;
        };
        matches!(ext, "mp4" | "webm") && hex16(key)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_media_file_name("img-0123456789abcdef-480.jpg"));
        assert!(is_media_file_name("img-0123456789abcdef-1600.png"));
        assert!(is_media_file_name("vid-0123456789abcdef.webm"));
        for bad in [
            "",
            "img-0123456789abcdef-480.gif",
            "img-0123456789ABCDEF-480.jpg",
            "img-0123456789abcdef-.jpg",
            "img-0123456789abcdef-048.jpg",
            "../img-0123456789abcdef-480.jpg",
            "img-0123456789abcdef-480.jpg/..",
            ".img-0123456789abcdef-480.jpg.0a0a0a0a0a0a.tmp",
            "vid-0123456789abcde.mp4",
            "vid-0123456789abcdef.mp4.html",
        ] {
            assert!(!is_media_file_name(bad), "{bad}");
        }
        assert_eq!(random_hex(8).map(|s| s.len()).ok(), Some(16));
    }
}
