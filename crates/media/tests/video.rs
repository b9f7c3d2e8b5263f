//! Short videos: sniffing, size limit, server-made names; HTTP ranges.
#![allow(clippy::unwrap_used)]

mod common;

use common::TempDir;
use newsdesk_media::{
    is_media_file_name, parse_range, sniff_video, store_video, MediaError, RangeAnswer, VideoKind,
    VideoLimits,
};

/// A minimal MP4: an `ftyp` box (major brand `brand`) then an `mdat` box of filler.
fn mp4(brand: &[u8; 4]) -> Vec<u8> {
    let mut v = 24u32.to_be_bytes().to_vec();
    v.extend_from_slice(b"ftyp");
    v.extend_from_slice(brand);
    v.extend_from_slice(&0x200u32.to_be_bytes());
    v.extend_from_slice(b"isommp41");
    v.extend_from_slice(&1032u32.to_be_bytes());
    v.extend_from_slice(b"mdat");
    v.extend(std::iter::repeat_n(0xAB, 1024));
    v
}

/// A minimal WebM: an EBML header whose DocType is `doc_type`, then a Segment start.
fn webm(doc_type: &[u8]) -> Vec<u8> {
    let mut body = vec![0x42, 0x86, 0x81, 0x01]; // EBMLVersion 1
    body.extend_from_slice(&[0x42, 0xF7, 0x81, 0x01]); // EBMLReadVersion 1
    body.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]); // DocType
    body.extend_from_slice(doc_type);
    body.extend_from_slice(&[0x42, 0x87, 0x81, 0x04]); // DocTypeVersion 4
    let mut v = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | body.len() as u8];
    v.extend_from_slice(&body);
    v.extend_from_slice(&[
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    v.extend(std::iter::repeat_n(0x11, 512));
    v
}

#[test]
fn sniffing() {
    for brand in [b"isom", b"mp42", b"avc1", b"M4V ", b"dash", b"iso5"] {
        assert_eq!(sniff_video(&mp4(brand)), Ok(VideoKind::Mp4), "{brand:?}");
    }
    // Unknown major brand, but a known compatible brand.
    assert_eq!(sniff_video(&mp4(b"XYZ1")), Ok(VideoKind::Mp4));
    assert_eq!(sniff_video(&webm(b"webm")), Ok(VideoKind::Webm));
    assert_eq!(sniff_video(&webm(b"matroska")), Err(MediaError::NotAVideo));
    for bad in [
        &b""[..],
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"\0\0\0\x18ftypqt  \0\0\0\0qt  ",
        b"\0\0\0\x14ftypheic\0\0\0\0mif1",
        b"\x1A\x45\xDF\xA3",
        b"\x1A\x45\xDF\xA3\x9F\x42\x82\x84we",
        b"GIF89a",
    ] {
        assert_eq!(sniff_video(bad), Err(MediaError::NotAVideo), "{bad:?}");
    }
    assert_eq!(VideoKind::Webm.mime(), "video/webm");
}

#[test]
fn store_accepts_mp4_and_webm_under_server_names() {
    let dir = TempDir::new("video");
    let out = dir.path().join("videos");
    for (bytes, kind) in [
        (mp4(b"isom"), VideoKind::Mp4),
        (webm(b"webm"), VideoKind::Webm),
    ] {
        let src = dir.path().join("upload.tmp");
        std::fs::write(&src, &bytes).unwrap();
        let (key, name, got) = store_video(&src, &VideoLimits::default(), &out).unwrap();
        assert_eq!(got, kind);
        assert!(key.starts_with("vid-") && key.len() == 20, "{key}");
        assert_eq!(name, format!("{key}.{}", kind.ext()));
        assert!(is_media_file_name(&name));
        assert_eq!(std::fs::read(out.join(&name)).unwrap(), bytes);
        assert!(!src.exists(), "the temporary upload is consumed");
    }
}

#[test]
fn an_mp4_that_is_html_is_refused() {
    let dir = TempDir::new("fakevideo");
    let src = dir.path().join("clip.mp4");
    std::fs::write(&src, "<html><body><script>steal()</script></body></html>").unwrap();
    let err = store_video(&src, &VideoLimits::default(), &dir.path().join("out")).unwrap_err();
    assert_eq!(err, MediaError::NotAVideo);
    assert!(
        err.to_string().contains("not an MP4 or WebM video"),
        "{err}"
    );
    assert!(
        src.exists(),
        "a refused upload is left for the caller to delete"
    );
    assert!(!dir.path().join("out").exists());

    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        store_video(&empty, &VideoLimits::default(), dir.path()),
        Err(MediaError::NotAVideo)
    );
}

#[test]
fn size_limit_is_enforced() {
    let dir = TempDir::new("bigvideo");
    let src = dir.path().join("big.mp4");
    let bytes = mp4(b"isom");
    std::fs::write(&src, &bytes).unwrap();
    let limits = VideoLimits {
        max_bytes: bytes.len() as u64 - 1,
    };
    let err = store_video(&src, &limits, dir.path()).unwrap_err();
    assert_eq!(
        err,
        MediaError::VideoTooLarge {
            max: bytes.len() as u64 - 1
        }
    );
    assert!(err.to_string().contains("too big"), "{err}");
    let default_msg = MediaError::VideoTooLarge {
        max: VideoLimits::default().max_bytes,
    }
    .to_string();
    assert!(default_msg.contains("100 MB"), "{default_msg}");
    // Exactly at the limit is fine.
    let limits = VideoLimits {
        max_bytes: bytes.len() as u64,
    };
    assert!(store_video(&src, &limits, &dir.path().join("ok")).is_ok());
}

#[test]
fn missing_source_is_an_io_error() {
    let dir = TempDir::new("missing");
    let err = store_video(
        &dir.path().join("nope.mp4"),
        &VideoLimits::default(),
        dir.path(),
    )
    .unwrap_err();
    assert!(matches!(err, MediaError::Io(_)), "{err:?}");
}

#[test]
fn range_table() {
    use RangeAnswer::*;
    let p = |start, end_inclusive| Partial {
        start,
        end_inclusive,
    };
    let cases: &[(Option<&str>, u64, RangeAnswer)] = &[
        (None, 1000, Full),
        (Some("bytes=0-499"), 1000, p(0, 499)),
        (Some("bytes=500-999"), 1000, p(500, 999)),
        (Some("bytes=500-5000"), 1000, p(500, 999)),
        (Some("bytes=0-0"), 1000, p(0, 0)),
        (Some("bytes=999-999"), 1000, p(999, 999)),
        (Some("bytes=500-"), 1000, p(500, 999)),
        (Some("bytes=0-"), 1000, p(0, 999)),
        (Some("bytes=-200"), 1000, p(800, 999)),
        (Some("bytes=-5000"), 1000, p(0, 999)),
        (Some("BYTES = 10 - 20 "), 1000, p(10, 20)),
        (Some("bytes=0-99999999999999999999999"), 1000, p(0, 999)),
        // Unsatisfiable.
        (Some("bytes=1000-"), 1000, Unsatisfiable),
        (Some("bytes=1000-2000"), 1000, Unsatisfiable),
        (Some("bytes=99999999999999999999999-"), 1000, Unsatisfiable),
        (Some("bytes=-0"), 1000, Unsatisfiable),
        (Some("bytes=0-"), 0, Unsatisfiable),
        (Some("bytes=-10"), 0, Unsatisfiable),
        // Several ranges: the whole file (documented).
        (Some("bytes=0-1,5-6"), 1000, Full),
        (Some("bytes=0-1, -5"), 1000, Full),
        // Malformed: ignored.
        (Some(""), 1000, Full),
        (Some("bytes"), 1000, Full),
        (Some("bytes="), 1000, Full),
        (Some("bytes=-"), 1000, Full),
        (Some("bytes=abc-def"), 1000, Full),
        (Some("bytes=5-1"), 1000, Full),
        (Some("bytes=+1-5"), 1000, Full),
        (Some("bytes=1-+5"), 1000, Full),
        (Some("bytes=1--5"), 1000, Full),
        (Some("bytes=1 2-5"), 1000, Full),
        (Some("items=0-5"), 1000, Full),
        (Some("bytes=0x10-20"), 1000, Full),
    ];
    for (header, len, expected) in cases {
        assert_eq!(parse_range(*header, *len), *expected, "{header:?} / {len}");
    }
    assert_eq!(
        p(0, 499).content_range(1000).as_deref(),
        Some("bytes 0-499/1000")
    );
    assert_eq!(
        Unsatisfiable.content_range(1000).as_deref(),
        Some("bytes */1000")
    );
    assert_eq!(Full.content_range(1000), None);
}
