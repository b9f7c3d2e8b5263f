//! Image uploads: limits before decoding, re-encoding, srcset widths, server-made names.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageReader};

use crate::files::{random_hex, write_atomically};
use crate::{sniff, ImageKind, MediaError};

/// JPEG quality of every re-encoded photo.
pub const JPEG_QUALITY: u8 = 82;

/// Limits applied to every image upload, all checked before the picture is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted file, in bytes (default 15 MiB).
    pub max_bytes: usize,
    /// Largest accepted pixel count, width × height (default 40 megapixels).
    pub max_pixels: u64,
    /// Longest accepted side, in pixels (default 12,000).
    pub max_side: u32,
    /// Widths written for `srcset` (default 480, 800, 1200, 1600). Order does not matter.
    pub widths: Vec<u32>,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 15 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 12_000,
            widths: vec![480, 800, 1200, 1600],
        }
    }
}

impl ImageLimits {
    /// The most memory the decoder may allocate: the largest allowed picture at 16 bits per
    /// channel with alpha (8 bytes a pixel), plus room for the decoder's own tables.
    fn max_alloc(&self) -> u64 {
        self.max_pixels
            .saturating_mul(8)
            .saturating_add(64 * 1024 * 1024)
    }

    fn check_dimensions(&self, w: u32, h: u32) -> Result<(), MediaError> {
        if w == 0 || h == 0 {
            return Err(MediaError::Corrupt("the picture has no pixels".into()));
        }
        if u64::from(w) * u64::from(h) > self.max_pixels || w > self.max_side || h > self.max_side {
            return Err(MediaError::TooManyPixels {
                w,
                h,
                max: self.max_pixels,
            });
        }
        Ok(())
    }
}

/// The result of a successful image upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// Server-made name shared by all the files of this upload: `img-` and 16 hex digits.
    pub key: String,
    /// Extension of every file written: `"jpg"` (opaque pictures) or `"png"` (pictures that
    /// use transparency).
    pub ext: &'static str,
    /// Width of the uploaded picture, after EXIF rotation.
    pub width: u32,
    /// Height of the uploaded picture, after EXIF rotation.
    pub height: u32,
    /// Widths actually written, ascending. Never larger than [`Processed::width`].
    pub widths: Vec<u32>,
    /// File names (`{key}-{width}.{ext}`, in the order of `widths`) and their sizes in bytes.
    pub files: Vec<(String, u64)>,
}

impl Processed {
    /// The MIME type of the files written.
    pub fn mime(&self) -> &'static str {
        if self.ext == "png" {
            "image/png"
        } else {
            "image/jpeg"
        }
    }

    /// Height of the version `width` pixels wide (aspect ratio kept, at least 1).
    pub fn height_for(&self, width: u32) -> u32 {
        scaled_height(self.width, self.height, width)
    }

    /// A `srcset` attribute value: `"{base}{file} {width}w, …"`. `base` is the URL prefix the
    /// files are served under, e.g. `"/media/"`.
    pub fn srcset(&self, base: &str) -> String {
        self.files
            .iter()
            .zip(&self.widths)
            .map(|((name, _), w)| format!("{base}{name} {w}w"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads a picture's width and height from its header only: no pixel data is decoded and no
/// image-sized buffer is allocated, so a decompression bomb costs nothing here.
pub fn dimensions(bytes: &[u8], kind: ImageKind) -> Result<(u32, u32), MediaError> {
    ImageReader::with_format(Cursor::new(bytes), kind.format())
        .into_dimensions()
        .map_err(|e| corrupt(&e))
}

/// Takes an uploaded picture and writes its web versions to `out_dir` (created if missing).
///
/// Steps, each refusing cleanly (never panicking) on bad input:
/// 1. the file size is checked against [`ImageLimits::max_bytes`];
/// 2. the format is told from the content ([`sniff`]), never the name: JPEG, PNG, WebP only;
/// 3. width and height are read from the header and checked against
///    [`ImageLimits::max_pixels`] and [`ImageLimits::max_side`] *before* decoding, so a
///    decompression bomb is refused without allocating; the decoder is also given the same
///    limits (`image::Limits`: maximum width, height and allocation) as a second guard;
/// 4. the picture is decoded (for an animated WebP, the first frame);
/// 5. the EXIF orientation (JPEG and WebP) is applied to the pixels, since the EXIF block
///    itself is not kept;
/// 6. it is resized with a Lanczos3 filter to each configured width no larger than the
///    original (never upscaled; the largest version is made from the original, the smaller
///    ones from that largest version, which is much faster on big photos); if the original is
///    narrower than every configured width, the original width alone is written;
/// 7. each version is encoded afresh — JPEG at quality [`JPEG_QUALITY`], or PNG when the
///    picture actually uses transparency — so no metadata of the upload (EXIF, GPS, XMP,
///    IPTC, comments) is carried over, except its colour profile (below);
/// 8. files are named `{key}-{width}.{ext}` with a random server-made key, and each is
///    written to a temporary name in `out_dir` then renamed, so a reader never sees half a
///    file. If any step fails, files already written for this upload are removed.
///
/// Colour profiles: an embedded ICC profile (a camera's Adobe RGB or a phone's Display P3) is
/// written into every version, so colour-managed browsers show the colours the photographer
/// saw, when it describes the colour space of the output (RGB for colour versions, grey for
/// greyscale ones) and is at most [`MAX_ICC_BYTES`]; otherwise it is dropped and the pixels are
/// taken as sRGB (a CMYK profile, for one, no longer fits pixels decoded to RGB).
pub fn process_image(
    bytes: &[u8],
    limits: &ImageLimits,
    out_dir: &Path,
) -> Result<Processed, MediaError> {
    let encoded = encode_image(bytes, limits)?;
    std::fs::create_dir_all(out_dir)?;
    let mut written: Vec<&str> = Vec::with_capacity(encoded.data.len());
    for ((name, _), data) in encoded.processed.files.iter().zip(&encoded.data) {
        if let Err(e) = write_atomically(out_dir, name, data) {
            for name in &written {
                let _ = std::fs::remove_file(out_dir.join(name));
            }
            return Err(e);
        }
        written.push(name);
    }
    Ok(encoded.processed)
}

/// A picture's web versions made in memory, not yet stored anywhere: what
/// [`process_image`] writes, for a [`crate::MediaStore`] to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    /// Key, widths and the names of the files to store (`processed.files`).
    pub processed: Processed,
    /// The bytes of each file, in the order of `processed.files`.
    pub data: Vec<Vec<u8>>,
}

/// Steps 1 to 7 of [`process_image`] (every check, the decoding, resizing and re-encoding)
/// with the versions kept in memory under their server-made names.
pub fn encode_image(bytes: &[u8], limits: &ImageLimits) -> Result<EncodedImage, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooLarge {
            max: limits.max_bytes,
        });
    }
    let kind = sniff(bytes)?;
    let (w, h) = dimensions(bytes, kind)?;
    limits.check_dimensions(w, h)?;
    if kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        // The JPEG decoder fills missing data with grey; publishing half a picture is worse
        // than asking for the file again.
        return Err(MediaError::Corrupt(
            "the end of the file is missing; it was probably cut off during the upload".into(),
        ));
    }

    let (img, icc) = decode(bytes, kind, limits, (w, h))?;
    let img = to_eight_bits(img);
    let (width, height) = (img.width(), img.height());
    let alpha = uses_transparency(&img);
    let ext = if alpha { "png" } else { "jpg" };
    let img = if alpha {
        img
    } else if img.color().has_color() {
        DynamicImage::ImageRgb8(img.into_rgb8())
    } else {
        DynamicImage::ImageLuma8(img.into_luma8())
    };
    let icc = icc.filter(|p| profile_fits(p, img.color().has_color()));

    let widths = target_widths(width, &limits.widths);
    let key = format!("img-{}", random_hex(8)?);
    let mut files: Vec<(String, u64)> = Vec::with_capacity(widths.len());
    let mut data: Vec<Vec<u8>> = Vec::with_capacity(widths.len());
    // Resizing a 40-megapixel picture is the slow part: do it once, to the largest width,
    // and make the smaller versions from that one.
    let largest = widths.last().copied().unwrap_or(width);
    let base = if largest == width {
        img
    } else {
        img.resize_exact(
            largest,
            scaled_height(width, height, largest),
            FilterType::Lanczos3,
        )
    };
    for &tw in &widths {
        let th = scaled_height(width, height, tw);
        let bytes = encode_version(&base, tw, th, alpha, icc.as_deref())?;
        files.push((format!("{key}-{tw}.{ext}"), bytes.len() as u64));
        data.push(bytes);
    }
    Ok(EncodedImage {
        processed: Processed {
            key,
            ext,
            width,
            height,
            widths,
            files,
        },
        data,
    })
}

fn decode(
    bytes: &[u8],
    kind: ImageKind,
    limits: &ImageLimits,
    (w, h): (u32, u32),
) -> Result<(DynamicImage, Option<Vec<u8>>), MediaError> {
    let too_big = || MediaError::TooManyPixels {
        w,
        h,
        max: limits.max_pixels,
    };
    let map = |e: ImageError| match e {
        ImageError::Limits(_) => too_big(),
        other => corrupt(&other),
    };
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_alloc());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(map)?;
    if decoder.dimensions() != (w, h) {
        return Err(MediaError::Corrupt(
            "the picture's size is inconsistent".into(),
        ));
    }
    if decoder.total_bytes() > limits.max_alloc() {
        return Err(too_big());
    }
    // A broken EXIF block is no reason to refuse a picture: it is dropped anyway.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // A broken profile is dropped like any other broken metadata.
    let icc = decoder.icc_profile().ok().flatten();
    let mut img = DynamicImage::from_decoder(decoder).map_err(map)?;
    img.apply_orientation(orientation);
    Ok((img, icc))
}

/// Largest colour profile carried into the versions (display profiles are a few kilobytes;
/// anything far larger is not worth adding to every version of every picture).
pub const MAX_ICC_BYTES: usize = 256 * 1024;

/// Whether an ICC profile can go with pixels that are colour (`rgb`) or grey: its header says
/// its size and its data colour space (bytes 16–19: `RGB ` or `GRAY`).
fn profile_fits(profile: &[u8], rgb: bool) -> bool {
    if profile.len() < 128 || profile.len() > MAX_ICC_BYTES {
        return false;
    }
    let declared = u32::from_be_bytes([profile[0], profile[1], profile[2], profile[3]]);
    if usize::try_from(declared).ok() != Some(profile.len()) || &profile[36..40] != b"acsp" {
        return false;
    }
    let space = &profile[16..20];
    if rgb {
        space == b"RGB "
    } else {
        space == b"GRAY"
    }
}

/// 16-bit and float pictures become 8-bit, keeping alpha if there is an alpha channel.
fn to_eight_bits(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.into_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.into_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    }
}

/// True if some pixel is not fully opaque (an alpha channel that is all 255 does not count).
fn uses_transparency(img: &DynamicImage) -> bool {
    match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] != u8::MAX),
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p.0[1] != u8::MAX),
        _ => false,
    }
}

/// The configured widths that do not upscale, ascending and without repeats; the original
/// width alone if it is narrower than all of them.
fn target_widths(original: u32, configured: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = configured
        .iter()
        .copied()
        .filter(|&w| w > 0 && w <= original)
        .collect();
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        out.push(original);
    }
    out
}

fn scaled_height(w: u32, h: u32, target_w: u32) -> u32 {
    if w == 0 {
        return h;
    }
    let scaled = (u64::from(h) * u64::from(target_w) + u64::from(w) / 2) / u64::from(w);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// Encodes `img` scaled to `width` × `height` (Lanczos3; no resampling when the size is
/// already right).
fn encode_version(
    img: &DynamicImage,
    width: u32,
    height: u32,
    alpha: bool,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, MediaError> {
    let scaled;
    let version = if (width, height) == (img.width(), img.height()) {
        img
    } else {
        scaled = img.resize_exact(width, height, FilterType::Lanczos3);
        &scaled
    };
    let mut out = Vec::new();
    let result = if alpha {
        let mut enc = PngEncoder::new(&mut out);
        if let Some(p) = icc {
            // Unsupported only means the profile is left out.
            let _ = enc.set_icc_profile(p.to_vec());
        }
        version.write_with_encoder(enc)
    } else {
        let mut enc = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        if let Some(p) = icc {
            let _ = enc.set_icc_profile(p.to_vec());
        }
        version.write_with_encoder(enc)
    };
    result.map_err(|e| MediaError::Io(format!("could not encode the picture: {e}")))?;
    Ok(out)
}

/// True if the JPEG has an end-of-image marker after its first scan. Marker segments are
/// walked up to the first start-of-scan (so a thumbnail inside EXIF does not count); inside
/// scan data a 0xFF byte is always followed by 0x00, a restart marker or another marker, so
/// `FF D9` there is the real end. Bytes after it (e.g. a "motion photo" clip) are allowed.
fn jpeg_is_complete(b: &[u8]) -> bool {
    const SOS: u8 = 0xDA;
    let mut pos = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while b.get(pos) == Some(&0xFF) && b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(pos), b.get(pos + 1)) else {
            return false;
        };
        let Some(len) = b
            .get(pos + 2..pos + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        pos += 2 + len;
        if marker == SOS {
            break;
        }
    }
    b.get(pos..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]))
}

fn corrupt(e: &ImageError) -> MediaError {
    match e {
        ImageError::Unsupported(u) => {
            MediaError::Unsupported(format!("Pictures using this feature ({u})"))
        }
        ImageError::Limits(_) => MediaError::Corrupt("the picture is too large to read".into()),
        other => MediaError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_never_upscale() {
        let w = [480, 800, 1200, 1600];
        assert_eq!(target_widths(4000, &w), vec![480, 800, 1200, 1600]);
        assert_eq!(target_widths(1000, &w), vec![480, 800]);
        assert_eq!(target_widths(800, &w), vec![480, 800]);
        assert_eq!(target_widths(300, &w), vec![300]);
        assert_eq!(target_widths(300, &[]), vec![300]);
        assert_eq!(target_widths(2000, &[1600, 480, 480, 0]), vec![480, 1600]);
    }

    #[test]
    fn jpeg_completeness() {
        // SOI, APP1 holding an embedded "FF D9", SOS, scan data, EOI.
        let head = [
            0xFF, 0xD8, 0xFF, 0xE1, 0, 4, 0xFF, 0xD9, 0xFF, 0xDA, 0, 2, 1, 2, 3,
        ];
        assert!(!jpeg_is_complete(&head));
        let mut full = head.to_vec();
        full.extend_from_slice(&[0xFF, 0xD9, b'x']);
        assert!(jpeg_is_complete(&full));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF]));
    }

    #[test]
    fn heights_keep_ratio() {
        assert_eq!(scaled_height(4000, 3000, 800), 600);
        assert_eq!(scaled_height(3, 2, 2), 1);
        assert_eq!(scaled_height(10_000, 1, 480), 1);
    }
}
