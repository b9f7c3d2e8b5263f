//! Content sniffing: what a file *is*, from its first bytes, never from its name.

use crate::MediaError;

/// The picture formats that are accepted for upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF????WEBP`).
    Webp,
}

impl ImageKind {
    /// The MIME type of this format.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    pub(crate) fn format(self) -> image::ImageFormat {
        match self {
            ImageKind::Jpeg => image::ImageFormat::Jpeg,
            ImageKind::Png => image::ImageFormat::Png,
            ImageKind::Webp => image::ImageFormat::WebP,
        }
    }
}

fn not_image(looks_like: &'static str) -> MediaError {
    MediaError::NotAnImage { looks_like }
}

fn unsupported(what: &str) -> MediaError {
    MediaError::Unsupported(what.to_owned())
}

/// Tells which accepted picture format `bytes` is, from magic bytes only (the file name and the
/// browser's declared type are never trusted).
///
/// Anything else is refused with a word about what it looks like:
/// - other picture formats (GIF, BMP, TIFF/camera RAW, HEIC, AVIF, ICO, PSD, JPEG 2000,
///   JPEG XL) → [`MediaError::Unsupported`], naming the accepted formats;
/// - everything else → [`MediaError::NotAnImage`]: "an SVG drawing" (SVG is refused because it
///   can carry scripts), "a web page (HTML)", "an XML document", "a PDF document",
///   "a ZIP archive or office document", "a video", "text", "an empty file", …
pub fn sniff(bytes: &[u8]) -> Result<ImageKind, MediaError> {
    let b = bytes;
    if b.is_empty() {
        return Err(not_image("an empty file"));
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageKind::Jpeg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageKind::Png);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" {
        return match &b[8..12] {
            b"WEBP" => Ok(ImageKind::Webp),
            b"AVI " => Err(not_image("a video")),
            b"WAVE" => Err(not_image("a sound file")),
            _ => Err(not_image("an unknown kind of file")),
        };
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Err(unsupported("GIF images"));
    }
    if is_bmp(b) {
        return Err(unsupported("BMP images"));
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return Err(unsupported("TIFF images and camera RAW files"));
    }
    if b.starts_with(b"8BPS") {
        return Err(unsupported("Photoshop files"));
    }
    if b.starts_with(&[0, 0, 0, 0x0C, b'j', b'P', b' ', b' ']) {
        return Err(unsupported("JPEG 2000 images"));
    }
    if b.starts_with(&[0xFF, 0x0A]) || b.starts_with(&[0, 0, 0, 0x0C, b'J', b'X', b'L', b' ']) {
        return Err(unsupported("JPEG XL images"));
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return match &b[8..12] {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                Err(unsupported("HEIC/HEIF photos (the iPhone default)"))
            }
            b"avif" | b"avis" => Err(unsupported("AVIF images")),
            _ => Err(not_image("a video")),
        };
    }
    // After the ftyp check: an ISO box of 256 bytes also starts 00 00 01 00.
    if b.starts_with(&[0, 0, 1, 0]) || b.starts_with(&[0, 0, 2, 0]) {
        return Err(unsupported("Icon files"));
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Err(not_image("a video"));
    }
    if b.starts_with(b"%PDF-") {
        return Err(not_image("a PDF document"));
    }
    if b.starts_with(b"%!PS") {
        return Err(not_image("a PostScript document"));
    }
    if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
        return Err(not_image("a ZIP archive or office document"));
    }
    if b.starts_with(&[0x1F, 0x8B])
        || b.starts_with(b"Rar!")
        || b.starts_with(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C])
        || b.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0])
        || b.starts_with(b"BZh")
        || b.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
    {
        return Err(not_image("a compressed archive"));
    }
    if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(not_image("an old-style office document"));
    }
    if b.starts_with(b"\x7FELF") || b.starts_with(b"MZ") || b.starts_with(&[0xCF, 0xFA, 0xED, 0xFE])
    {
        return Err(not_image("a program"));
    }
    if b.starts_with(b"ID3") || b.starts_with(b"fLaC") || b.starts_with(b"OggS") {
        return Err(not_image("a sound or video file"));
    }
    if let Some(what) = sniff_markup(b) {
        return Err(not_image(what));
    }
    if looks_like_text(b) {
        return Err(not_image("text"));
    }
    Err(not_image("an unknown kind of file"))
}

/// BMP: "BM", then a DIB header whose size is one of the known ones at offset 14.
fn is_bmp(b: &[u8]) -> bool {
    if !b.starts_with(b"BM") || b.len() < 18 {
        return false;
    }
    let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// Markup (SVG, HTML, XML), after an optional byte-order mark and leading white space.
fn sniff_markup(b: &[u8]) -> Option<&'static str> {
    let b = b.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(b);
    let start = b.iter().position(|c| !c.is_ascii_whitespace())?;
    let b = &b[start..];
    if !b.starts_with(b"<") {
        return None;
    }
    // Look far enough to see past an XML prolog, a DOCTYPE and comments.
    let head = &b[..b.len().min(64 * 1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if has(b"<svg") {
        Some("an SVG drawing")
    } else if has(b"<html") || has(b"<!doctype html") || has(b"<body") || has(b"<script") {
        Some("a web page (HTML)")
    } else if lower.starts_with(b"<?xml") {
        Some("an XML document")
    } else {
        Some("a web page or other markup")
    }
}

/// Mostly printable UTF-8 (or UTF-16 with a byte-order mark) in the first kilobyte.
fn looks_like_text(b: &[u8]) -> bool {
    if b.starts_with(&[0xFF, 0xFE]) || b.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let head = &b[..b.len().min(1024)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The kilobyte may cut a multi-byte character in two.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let total = text.chars().count();
    if total == 0 {
        return false;
    }
    let odd = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C'))
        .count();
    odd * 20 < total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn looks(b: &[u8]) -> &'static str {
        match sniff(b) {
            Err(MediaError::NotAnImage { looks_like }) => looks_like,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accepted_kinds() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Ok(ImageKind::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(ImageKind::Webp));
    }

    #[test]
    fn refused_kinds_say_what_they_are() {
        assert_eq!(looks(b""), "an empty file");
        assert_eq!(looks(b"%PDF-1.7\n"), "a PDF document");
        assert_eq!(
            looks(b"  <svg xmlns='http://www.w3.org/2000/svg'/>"),
            "an SVG drawing"
        );
        assert_eq!(
            looks(b"\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><svg/>"),
            "an SVG drawing"
        );
        assert_eq!(looks(b"<!DOCTYPE html><p>hi"), "a web page (HTML)");
        assert_eq!(looks(b"<?xml version='1.0'?><feed/>"), "an XML document");
        assert_eq!(looks(b"Dear editor, here is my photo."), "text");
        assert_eq!(looks(b"PK\x03\x04...."), "a ZIP archive or office document");
        assert_eq!(looks(b"\0\0\0\x18ftypmp42\0\0\0\0"), "a video");
        assert_eq!(
            looks(b"\x00\x01\x02\x03\x04\x05"),
            "an unknown kind of file"
        );
        // "BM" alone (text starting with BM) is not a BMP.
        assert_eq!(looks(b"BMW press release"), "text");
    }

    #[test]
    fn other_picture_formats_are_unsupported() {
        for b in [
            &b"GIF89a\x01\0\x01\0"[..],
            b"II*\0\x08\0\0\0",
            b"\0\0\0\x18ftypheic\0\0\0\0",
            b"\0\0\0\x1cftypavif\0\0\0\0",
        ] {
            assert!(matches!(sniff(b), Err(MediaError::Unsupported(_))), "{b:?}");
        }
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(
            sniff(&bmp),
            Err(MediaError::Unsupported("BMP images".into()))
        );
    }
}
