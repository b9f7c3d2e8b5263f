//! Decompression bombs: refused from the header, before any large allocation.
//!
//! This file holds a single test so that the process's peak memory (VmHWM) is not raised by
//! other tests running in parallel threads.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::{jpeg, png_chunk, TempDir};
use flate2::write::ZlibEncoder;
use flate2::Compression;
use newsdesk_media::{dimensions, process_image, sniff, ImageKind, ImageLimits, MediaError};

const SIDE: u32 = 60_000;

/// A real PNG bomb: the header says 60,000 × 60,000 RGB (10.8 GB of pixels once decoded); the
/// data is a zlib stream of zero rows (only the first rows, to keep the file and the test
/// small: the header alone must trigger the refusal).
fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let row = vec![0u8; 1 + 3 * SIDE as usize]; // filter byte + pixels
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    for _ in 0..300 {
        z.write_all(&row).unwrap();
    }
    let idat = z.finish().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &idat));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A real JPEG whose frame header (SOF0) is rewritten to say 60,000 × 60,000.
fn jpeg_bomb() -> Vec<u8> {
    let mut j = jpeg(16, 16);
    let sof = j
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    j[sof + 5..sof + 7].copy_from_slice(&(SIDE as u16).to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&(SIDE as u16).to_be_bytes());
    j
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    let png = png_bomb();
    let jpg = jpeg_bomb();
    assert!(png.len() < 1024 * 1024, "bomb is {} bytes", png.len());
    assert_eq!(sniff(&png), Ok(ImageKind::Png));
    assert_eq!(dimensions(&png, ImageKind::Png), Ok((SIDE, SIDE)));
    assert_eq!(dimensions(&jpg, ImageKind::Jpeg), Ok((SIDE, SIDE)));

    let out = TempDir::new("bomb");
    let limits = ImageLimits::default();
    let before = peak_rss_kib();
    for (name, bomb) in [("png", &png), ("jpeg", &jpg)] {
        let err = process_image(bomb, &limits, out.path()).unwrap_err();
        assert_eq!(
            err,
            MediaError::TooManyPixels {
                w: SIDE,
                h: SIDE,
                max: 40_000_000
            },
            "{name}"
        );
        let msg = err.to_string();
        assert!(msg.contains("60000 × 60000 pixels"), "{msg}");
        assert!(msg.contains("40 megapixels"), "{msg}");
    }
    let after = peak_rss_kib();
    assert!(
        after.saturating_sub(before) < 200 * 1024,
        "peak RSS rose from {before} KiB to {after} KiB"
    );
    assert!(
        out.names().is_empty(),
        "nothing is written: {:?}",
        out.names()
    );

    // One pixel too many, and one side too long, are refused the same way.
    let tight = ImageLimits {
        max_pixels: 16 * 16 - 1,
        ..ImageLimits::default()
    };
    assert!(matches!(
        process_image(&jpeg(16, 16), &tight, out.path()),
        Err(MediaError::TooManyPixels { w: 16, h: 16, .. })
    ));
    let narrow = ImageLimits {
        max_side: 15,
        ..ImageLimits::default()
    };
    assert!(matches!(
        process_image(&jpeg(16, 8), &narrow, out.path()),
        Err(MediaError::TooManyPixels { w: 16, h: 8, .. })
    ));
}
