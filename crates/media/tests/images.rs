//! Image uploads: what is accepted, what is refused (with which message), what is written.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use image::DynamicImage;
use newsdesk_media::{
    is_media_file_name, process_image, sniff, ImageKind, ImageLimits, MediaError, Processed,
};

fn process(bytes: &[u8], out: &TempDir) -> Result<Processed, MediaError> {
    process_image(bytes, &ImageLimits::default(), out.path())
}

fn not_an_image(result: Result<Processed, MediaError>) -> (&'static str, String) {
    match result {
        Err(e @ MediaError::NotAnImage { looks_like }) => (looks_like, e.to_string()),
        other => panic!("expected NotAnImage, got {other:?}"),
    }
}

#[test]
fn a_photo_named_jpg_that_is_not_an_image_is_refused_by_content() {
    let out = TempDir::new("fake");
    let cases: [(&[u8], &str); 4] = [
        (b"Hello, this is the caption I meant to send.\n", "text"),
        (
            b"<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>",
            "a web page (HTML)",
        ),
        (
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n",
            "a PDF document",
        ),
        (
            b"PK\x03\x04\x14\0\0\0\x08\0",
            "a ZIP archive or office document",
        ),
    ];
    for (content, expected) in cases {
        // Saved under an image name, as an upload would be: the name changes nothing.
        let path = out.path().join("photo.jpg");
        std::fs::write(&path, content).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (looks_like, msg) = not_an_image(process(&bytes, &out));
        assert_eq!(looks_like, expected);
        assert!(msg.starts_with("This file is not a picture"), "{msg}");
        assert!(msg.contains(expected), "{msg}");
        assert!(msg.contains("JPEG, PNG or WebP"), "{msg}");
    }
    assert_eq!(
        out.names(),
        vec!["photo.jpg".to_owned()],
        "nothing else written"
    );
}

#[test]
fn svg_with_script_is_refused() {
    let out = TempDir::new("svg");
    let svg = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a drawing program -->
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
  <script>fetch('/admin/users', {method: 'DELETE'})</script>
  <circle cx="50" cy="50" r="40" fill="red"/>
</svg>"#;
    let (looks_like, msg) = not_an_image(process(svg, &out));
    assert_eq!(looks_like, "an SVG drawing");
    assert!(msg.starts_with("SVG drawings are not accepted"), "{msg}");
    assert!(msg.contains("PNG"), "{msg}");
    // Also without an XML prolog, with a BOM and leading white space, in capitals.
    let (looks_like, _) = not_an_image(process(b"\xEF\xBB\xBF\n  <SVG onload='x()'/>", &out));
    assert_eq!(looks_like, "an SVG drawing");
    assert!(out.names().is_empty());
}

#[test]
fn other_picture_formats_name_the_accepted_ones() {
    let out = TempDir::new("formats");
    for (bytes, what) in [(gif(), "GIF images"), (bmp(), "BMP images")] {
        let err = process(&bytes, &out).unwrap_err();
        assert_eq!(err, MediaError::Unsupported(what.to_owned()));
        let msg = err.to_string();
        assert!(msg.starts_with(what), "{msg}");
        assert!(msg.contains("JPEG, PNG or WebP"), "{msg}");
    }
}

#[test]
fn corrupt_pictures_are_refused_without_panicking() {
    let out = TempDir::new("corrupt");
    let png = png_opaque(120, 90);
    let jpg = jpeg(120, 90);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("png cut in the middle", png[..png.len() / 2].to_vec()),
        ("png cut in its header", png[..20].to_vec()),
        ("jpeg cut in its header", jpg[..40].to_vec()),
        ("jpeg cut in the middle", jpg[..jpg.len() / 2].to_vec()),
        ("png signature only", png[..8].to_vec()),
        ("jpeg marker only", vec![0xFF, 0xD8, 0xFF]),
    ];
    // PNG with its pixel data scrambled (the chunk CRC no longer matches).
    let mut scrambled = png.clone();
    let idat = scrambled.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut scrambled[idat + 4..idat + 40] {
        *b ^= 0x5A;
    }
    cases.push(("png scrambled", scrambled));
    for (name, bytes) in cases {
        match process(&bytes, &out) {
            Err(e @ MediaError::Corrupt(_)) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("This image file is damaged"),
                    "{name}: {msg}"
                );
            }
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        }
    }
    assert!(out.names().is_empty(), "{:?}", out.names());
}

#[test]
fn too_large_a_file_is_refused_before_anything_else() {
    let out = TempDir::new("large");
    let limits = ImageLimits {
        max_bytes: 1000,
        ..ImageLimits::default()
    };
    let err = process_image(&vec![b'x'; 1001], &limits, out.path()).unwrap_err();
    assert_eq!(err, MediaError::TooLarge { max: 1000 });
    assert!(err.to_string().contains("too big"), "{err}");
    let msg = MediaError::TooLarge {
        max: ImageLimits::default().max_bytes,
    }
    .to_string();
    assert!(msg.contains("15 MB"), "{msg}");
}

#[test]
fn jpeg_with_exif_is_re_encoded_without_metadata() {
    const SECRET: &str = "GPS-SECRET-TEST 51.5007N 0.1246W";
    let upload = jpeg_with_exif(2000, 1500, 1, SECRET);
    assert!(contains(&upload, b"Exif") && contains(&upload, SECRET.as_bytes()));
    assert_eq!(sniff(&upload), Ok(ImageKind::Jpeg));

    let out = TempDir::new("exif");
    let p = process(&upload, &out).unwrap();
    assert_eq!((p.width, p.height), (2000, 1500));
    assert_eq!(p.ext, "jpg");
    assert_eq!(p.mime(), "image/jpeg");
    assert_eq!(p.widths, vec![480, 800, 1200, 1600]);
    assert!(p.key.starts_with("img-") && p.key.len() == 20, "{}", p.key);
    assert_eq!(p.files.len(), 4);
    let mut expected_names = Vec::new();
    for ((name, size), &w) in p.files.iter().zip(&p.widths) {
        assert_eq!(name, &format!("{}-{w}.jpg", p.key));
        assert!(is_media_file_name(name), "{name}");
        let data = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(data.len() as u64, *size);
        assert!(!contains(&data, b"Exif"), "{name} keeps an Exif block");
        assert!(
            !contains(&data, b"GPS-SECRET-TEST"),
            "{name} keeps the secret"
        );
        assert_eq!(sniff(&data), Ok(ImageKind::Jpeg));
        let img = image::load_from_memory(&data).unwrap();
        // Aspect ratio kept: 4:3.
        assert_eq!((img.width(), img.height()), (w, w * 3 / 4), "{name}");
        assert_eq!(p.height_for(w), w * 3 / 4);
        expected_names.push(name.clone());
    }
    // Only the final files are left: no temporary names.
    expected_names.sort();
    assert_eq!(out.names(), expected_names);
    assert_eq!(
        p.srcset("/media/"),
        format!(
            "/media/{k}-480.jpg 480w, /media/{k}-800.jpg 800w, /media/{k}-1200.jpg 1200w, /media/{k}-1600.jpg 1600w",
            k = p.key
        )
    );

    // The same file uploaded twice gets two different server-made keys.
    let again = process(&upload, &out).unwrap();
    assert_ne!(again.key, p.key);
    assert_eq!(out.names().len(), 8);
}

#[test]
fn exif_orientation_is_applied_to_the_pixels() {
    // Stored 400 × 300 with "rotate 90° clockwise to display" (orientation 6).
    let upload = jpeg_with_exif(400, 300, 6, "GPS-SECRET-TEST");
    let out = TempDir::new("orient");
    let p = process(&upload, &out).unwrap();
    assert_eq!((p.width, p.height), (300, 400));
    assert_eq!(
        p.widths,
        vec![300],
        "narrower than every srcset width: original only"
    );
    let data = std::fs::read(out.path().join(&p.files[0].0)).unwrap();
    let img = image::load_from_memory(&data).unwrap();
    assert_eq!((img.width(), img.height()), (300, 400));
    assert!(!contains(&data, b"GPS-SECRET-TEST"));
}

#[test]
fn never_upscaled() {
    let out = TempDir::new("upscale");
    let p = process(&jpeg(1000, 500), &out).unwrap();
    assert_eq!(p.widths, vec![480, 800]);
    assert_eq!(p.files.len(), 2);
    let small = process(&jpeg(200, 100), &out).unwrap();
    assert_eq!(small.widths, vec![200]);
    assert_eq!(small.files[0].0, format!("{}-200.jpg", small.key));
    let exact = process(&jpeg(800, 600), &out).unwrap();
    assert_eq!(exact.widths, vec![480, 800]);
}

#[test]
fn transparency_keeps_png_and_opaque_pictures_become_jpeg() {
    let out = TempDir::new("alpha");
    let logo = process(&png_alpha(900, 300), &out).unwrap();
    assert_eq!(logo.ext, "png");
    assert_eq!(logo.widths, vec![480, 800]);
    for (name, _) in &logo.files {
        assert!(name.ends_with(".png"));
        let data = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(sniff(&data), Ok(ImageKind::Png));
        let img = image::load_from_memory(&data).unwrap().into_rgba8();
        assert_eq!(img.get_pixel(0, 0).0[3], 0, "corner stays transparent");
    }
    // An opaque PNG photo, with or without an (unused) alpha channel, becomes JPEG.
    for bytes in [png_opaque(900, 600), png_rgba_opaque(900, 600)] {
        let p = process(&bytes, &out).unwrap();
        assert_eq!(p.ext, "jpg");
        let data = std::fs::read(out.path().join(&p.files[0].0)).unwrap();
        assert_eq!(sniff(&data), Ok(ImageKind::Jpeg));
    }
}

#[test]
fn webp_is_accepted_and_re_encoded() {
    let out = TempDir::new("webp");
    let upload = webp(640, 480);
    assert_eq!(sniff(&upload), Ok(ImageKind::Webp));
    let p = process(&upload, &out).unwrap();
    assert_eq!((p.width, p.height, p.ext), (640, 480, "jpg"));
    assert_eq!(p.widths, vec![480]);
}

#[test]
fn grayscale_and_16_bit_pictures_are_handled() {
    let out = TempDir::new("depth");
    let gray = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(600, 400, |x, _| {
        image::Luma([(x % 256) as u8])
    }));
    let p = process(&encode(&gray, image::ImageFormat::Png), &out).unwrap();
    assert_eq!((p.ext, p.widths.clone()), ("jpg", vec![480]));

    let deep = image::DynamicImage::ImageRgba16(image::ImageBuffer::from_fn(500, 500, |x, y| {
        image::Rgba([
            (x * 100) as u16,
            (y * 100) as u16,
            0,
            if x < 10 { 0 } else { 65535 },
        ])
    }));
    let p = process(&encode(&deep, image::ImageFormat::Png), &out).unwrap();
    assert_eq!(p.ext, "png");
    assert_eq!(p.widths, vec![480]);
}

#[test]
fn the_output_folder_is_created() {
    let out = TempDir::new("mkdir");
    let nested = out.path().join("2026").join("05");
    let p = process_image(&jpeg(100, 50), &ImageLimits::default(), &nested).unwrap();
    assert!(nested.join(&p.files[0].0).is_file());
}

/// A minimal ICC profile header (no tags) for the colour space `space`.
fn icc(space: &[u8; 4]) -> Vec<u8> {
    let mut p = vec![0u8; 132];
    p[0..4].copy_from_slice(&132u32.to_be_bytes());
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(space);
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    // Something recognisable inside, to find it again.
    p[100..108].copy_from_slice(b"NDTESTP3");
    p
}

fn with_profile(img: &DynamicImage, profile: Vec<u8>, png: bool) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    if png {
        let mut enc = image::codecs::png::PngEncoder::new(&mut out);
        enc.set_icc_profile(profile).unwrap();
        img.write_with_encoder(enc).unwrap();
    } else {
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        enc.set_icc_profile(profile).unwrap();
        img.write_with_encoder(enc).unwrap();
    }
    out
}

fn profile_of(data: &[u8]) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    image::ImageReader::new(std::io::Cursor::new(data))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap()
        .icc_profile()
        .unwrap()
}

#[test]
fn an_rgb_colour_profile_goes_into_every_version_and_a_cmyk_one_does_not() {
    let photo = DynamicImage::ImageRgb8(photo(900, 600));
    let p3 = icc(b"RGB ");
    let upload = with_profile(&photo, p3.clone(), false);
    assert_eq!(
        profile_of(&upload).as_deref(),
        Some(&p3[..]),
        "the upload has it"
    );
    let out = TempDir::new("icc");
    let p = process(&upload, &out).unwrap();
    assert_eq!(p.files.len(), 2);
    for (name, _) in &p.files {
        let data = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(profile_of(&data).as_deref(), Some(&p3[..]), "{name}");
    }
    // A profile for another colour space than the output's is dropped.
    let cmyk = with_profile(&photo, icc(b"CMYK"), false);
    let p = process(&cmyk, &out).unwrap();
    for (name, _) in &p.files {
        let data = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(profile_of(&data), None, "{name}");
    }
    // A transparent picture stays PNG and keeps its profile too.
    let mut rgba = photo.to_rgba8();
    rgba.get_pixel_mut(3, 3).0[3] = 0;
    let png = with_profile(&DynamicImage::ImageRgba8(rgba), p3.clone(), true);
    let p = process(&png, &out).unwrap();
    assert_eq!(p.ext, "png");
    let data = std::fs::read(out.path().join(&p.files[0].0)).unwrap();
    assert_eq!(profile_of(&data).as_deref(), Some(&p3[..]));
}
