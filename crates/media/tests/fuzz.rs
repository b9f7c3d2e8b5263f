//! A deterministic mutation fuzz loop: damaged pictures and videos never make the crate
//! panic, and anything accepted is a well-formed result.
#![allow(clippy::unwrap_used)]

mod common;

use common::{jpeg, jpeg_with_exif, png_alpha, png_opaque, webp, TempDir};
use newsdesk_media::{
    parse_range, process_image, sniff, sniff_video, ImageLimits, MediaError, RangeAnswer,
};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            break;
        }
        let i = rng.below(v.len());
        match rng.below(7) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = rng.next() as u8,
            2 => v[i] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)],
            3 => v.truncate(i),
            4 => {
                let n = rng.below(64).min(v.len() - i);
                v.drain(i..i + n);
            }
            5 => {
                let n = rng.below(64).min(v.len() - i);
                let copy: Vec<u8> = v[i..i + n].to_vec();
                let j = rng.below(v.len());
                v.splice(j..j, copy);
            }
            // Header fields (sizes, dimensions, lengths) live near the start.
            _ => {
                let j = rng.below(v.len().min(64));
                v[j] = rng.next() as u8;
            }
        }
    }
    v
}

#[test]
fn mutated_images_never_panic() {
    let out = TempDir::new("fuzz");
    // Small limits keep every accepted mutation cheap to decode and resize.
    let limits = ImageLimits {
        max_bytes: 1024 * 1024,
        max_pixels: 250_000,
        max_side: 2_000,
        widths: vec![16, 40],
    };
    let seeds = [
        png_opaque(48, 32),
        png_alpha(40, 40),
        jpeg(48, 32),
        jpeg_with_exif(40, 24, 6, "GPS-SECRET-TEST"),
        webp(32, 24),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..600 {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, seed);
        let _ = sniff(&input);
        let _ = sniff_video(&input);
        match process_image(&input, &limits, out.path()) {
            Ok(p) => {
                accepted += 1;
                assert!(!p.widths.is_empty());
                assert!(p.widths.iter().all(|&w| w <= p.width));
                assert_eq!(p.files.len(), p.widths.len());
                for (name, _) in &p.files {
                    let data = std::fs::read(out.path().join(name)).unwrap();
                    assert!(!common::contains(&data, b"GPS-SECRET-TEST"));
                    std::fs::remove_file(out.path().join(name)).unwrap();
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
                assert!(!matches!(e, MediaError::Io(_)), "round {round}: {e}");
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
    assert!(out.names().is_empty(), "no leftovers: {:?}", out.names());
}

#[test]
fn random_range_headers_never_panic() {
    let mut rng = Rng(42);
    let alphabet = b"bytes=-,0123456789 ";
    for _ in 0..2000 {
        let n = rng.below(24);
        let header: String = (0..n)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        let len = rng.next() % 5000;
        if let RangeAnswer::Partial {
            start,
            end_inclusive,
        } = parse_range(Some(&header), len)
        {
            assert!(
                start <= end_inclusive && end_inclusive < len,
                "{header:?} {len}"
            );
        }
    }
}
