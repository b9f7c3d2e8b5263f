//! A minimal PNG encoder (8-bit RGB, one IDAT) and a small painter for the demo illustrations.

use flate2::write::ZlibEncoder;
use flate2::Compression;
use std::io::Write;

/// The eight bytes every PNG file starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Encodes `rgb` (rows top to bottom, 3 bytes a pixel) as a PNG file.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> std::io::Result<Vec<u8>> {
    let row = width as usize * 3;
    if width == 0 || height == 0 || rgb.len() != row * height as usize {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "pixel buffer does not match the image size",
        ));
    }
    let mut z = ZlibEncoder::new(Vec::with_capacity(rgb.len() / 8), Compression::default());
    for line in rgb.chunks_exact(row) {
        // Filter type 0 (None) for every scanline.
        z.write_all(&[0])?;
        z.write_all(line)?;
    }
    let idat = z.finish()?;

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(&PNG_SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// An RGB colour.
pub type Rgb = [u8; 3];

/// The look of one illustration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Layered rolling hills under a soft sun.
    Hills,
    /// Translucent circles floating over a diagonal gradient.
    Bubbles,
    /// Wide diagonal ribbons of light.
    Ribbons,
    /// Horizontal bands of gentle waves.
    Waves,
}

impl Style {
    /// Every style, in the order the generator cycles through them.
    pub const ALL: [Style; 4] = [Style::Hills, Style::Bubbles, Style::Ribbons, Style::Waves];

    /// Words for the alt text.
    pub fn describe(self) -> &'static str {
        match self {
            Style::Hills => "layered rolling hills under a soft sun",
            Style::Bubbles => "translucent circles drifting over a diagonal gradient",
            Style::Ribbons => "wide diagonal ribbons of light",
            Style::Waves => "gentle horizontal waves",
        }
    }
}

/// Everything needed to paint one illustration at any width: a resolution-independent description.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Look.
    pub style: Style,
    /// Dark, middle, light and accent colours.
    pub palette: [Rgb; 4],
    /// Free shape parameters in `[0, 1)`, drawn from the seed.
    pub params: [f32; 16],
}

/// A stacked layer: colour at its ridge, colour towards the bottom, and the ridge `y = f(x)`.
type Layer<'a> = ([f32; 3], [f32; 3], &'a dyn Fn(f32) -> f32);

/// A float RGB canvas; coordinates are in units of the image width (x in 0..1, y in 0..h/w).
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

fn col(c: Rgb) -> [f32; 3] {
    [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![[0.0; 3]; w * h],
        }
    }

    /// Fills with a linear gradient from `a` to `b` along the direction `angle` (radians).
    fn gradient(&mut self, a: [f32; 3], b: [f32; 3], angle: f32) {
        let (s, c) = angle.sin_cos();
        let inv = 1.0 / self.w as f32;
        let hh = self.h as f32 * inv;
        // Range of the projection over the four corners, so t spans 0..1 exactly.
        let corners = [0.0, c, hh * s, c + hh * s];
        let lo = corners.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = corners.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let span = (hi - lo).max(1e-6);
        for y in 0..self.h {
            let fy = y as f32 * inv;
            let row = &mut self.px[y * self.w..(y + 1) * self.w];
            for (x, p) in row.iter_mut().enumerate() {
                let t = ((x as f32 * inv) * c + fy * s - lo) / span;
                *p = mix(a, b, t);
            }
        }
    }

    /// Blends a soft-edged disc.
    fn disc(&mut self, cx: f32, cy: f32, r: f32, color: [f32; 3], alpha: f32, soft: f32) {
        let scale = self.w as f32;
        let reach = r + soft;
        let x0 = ((cx - reach) * scale).floor().max(0.0) as usize;
        let x1 = (((cx + reach) * scale).ceil().max(0.0) as usize).min(self.w);
        let y0 = ((cy - reach) * scale).floor().max(0.0) as usize;
        let y1 = (((cy + reach) * scale).ceil().max(0.0) as usize).min(self.h);
        for y in y0..y1 {
            let dy = y as f32 / scale - cy;
            for x in x0..x1 {
                let dx = x as f32 / scale - cx;
                let d = (dx * dx + dy * dy).sqrt();
                let k = 1.0 - smoothstep(r - soft, r + soft, d);
                if k > 0.0 {
                    let p = &mut self.px[y * self.w + x];
                    *p = mix(*p, color, k * alpha);
                }
            }
        }
    }

    /// Fills stacked layers: layer `i` covers everything below its curve `y = f_i(x)` and is
    /// itself covered by later layers, shading slightly darker towards the bottom. Each pixel is
    /// painted once, by the layer that shows there (plus anti-aliasing at the ridges).
    fn layers(&mut self, layers: &[Layer<'_>]) {
        let scale = self.w as f32;
        let hh = self.h as f32 / scale;
        let mut edges = vec![0f32; layers.len()];
        for x in 0..self.w {
            let fx = x as f32 / scale;
            for (e, l) in edges.iter_mut().zip(layers) {
                *e = (l.2)(fx);
            }
            for (i, (color, shade, _)) in layers.iter().enumerate() {
                let edge = edges[i];
                let start = ((edge * scale).floor().max(0.0) as usize).min(self.h);
                // Below the highest later ridge (plus a pixel for its anti-aliasing) nothing of
                // this layer shows.
                let covered = edges[i + 1..].iter().fold(f32::INFINITY, |m, &e| m.min(e));
                let end = if covered.is_finite() {
                    ((covered * scale).ceil().max(0.0) as usize + 1).min(self.h)
                } else {
                    self.h
                };
                let span = (hh - edge).max(1e-3);
                for y in start..end {
                    let fy = y as f32 / scale;
                    let k = ((fy - edge) * scale + 0.5).clamp(0.0, 1.0);
                    let depth = ((fy - edge) / span).clamp(0.0, 1.0);
                    let c = mix(*color, *shade, depth * 0.6);
                    let p = &mut self.px[y * self.w + x];
                    *p = mix(*p, c, k);
                }
            }
        }
    }

    /// Blends a straight band `width` wide whose centre line is at `offset` along direction `angle`.
    fn band(&mut self, angle: f32, offset: f32, width: f32, color: [f32; 3], alpha: f32) {
        let (s, c) = angle.sin_cos();
        let inv = 1.0 / self.w as f32;
        let soft = width * 0.35;
        let reach = width * 0.5 + soft;
        for y in 0..self.h {
            let fy = y as f32 * inv;
            // Only the columns the band touches on this row (|c| is well above zero for the
            // angles used; fall back to the whole row otherwise).
            let (x0, x1) = if c.abs() > 0.05 {
                let a = (offset - fy * s - reach) / c;
                let b = (offset - fy * s + reach) / c;
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                (
                    ((lo * self.w as f32).floor().max(0.0) as usize).min(self.w),
                    ((hi * self.w as f32).ceil().max(0.0) as usize + 1).min(self.w),
                )
            } else {
                (0, self.w)
            };
            for x in x0..x1 {
                let d = ((x as f32 * inv) * c + fy * s - offset).abs();
                let k = 1.0 - smoothstep(width * 0.5 - soft, width * 0.5 + soft, d);
                if k > 0.0 {
                    let p = &mut self.px[y * self.w + x];
                    *p = mix(*p, color, k * alpha);
                }
            }
        }
    }

    fn into_rgb(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.px.len() * 3);
        for p in self.px {
            for v in p {
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
        out
    }
}

impl Picture {
    /// Paints the picture `width` wide at 16:9 and returns `(height, rgb)`.
    pub fn paint(&self, width: u32) -> (u32, Vec<u8>) {
        let height = width * 9 / 16;
        let (w, h) = (width as usize, height as usize);
        let hh = h as f32 / w as f32;
        let [dark, mid, light, accent] = self.palette.map(col);
        let white = [250.0, 248.0, 240.0];
        let p = &self.params;
        let mut cv = Canvas::new(w, h);
        match self.style {
            Style::Hills => {
                cv.gradient(
                    mix(light, white, 0.55),
                    mix(light, accent, 0.35),
                    std::f32::consts::FRAC_PI_2,
                );
                let (sx, sy) = (0.15 + p[0] * 0.7, hh * (0.18 + p[1] * 0.2));
                cv.disc(sx, sy, 0.09, mix(accent, white, 0.5), 0.35, 0.06);
                cv.disc(sx, sy, 0.05, mix(accent, white, 0.25), 0.9, 0.004);
                let hill = |i: usize, base: f32| {
                    let j = 2 + i * 3;
                    let (f1, f2, ph) = (
                        3.0 + p[j] * 5.0,
                        9.0 + p[j + 1] * 7.0,
                        p[j + 2] * std::f32::consts::TAU,
                    );
                    let amp = 0.035 - i as f32 * 0.006;
                    move |x: f32| {
                        hh * base + amp * (x * f1 + ph).sin() + amp * 0.35 * (x * f2 - ph).sin()
                    }
                };
                let (h0, h1, h2) = (hill(0, 0.50), hill(1, 0.63), hill(2, 0.78));
                cv.layers(&[
                    (mix(light, white, 0.08), mix(light, dark, 0.5), &h0),
                    (mix(mid, white, 0.08), mix(mid, dark, 0.5), &h1),
                    (mix(dark, white, 0.08), dark, &h2),
                ]);
            }
            Style::Bubbles => {
                cv.gradient(dark, mix(mid, light, 0.3), 0.3 + p[0] * 0.9);
                let n = 6 + (p[1] * 5.0) as usize;
                for i in 0..n {
                    let q = |k: usize| p[(i * 3 + k) % 16];
                    let x = (q(2) + i as f32 * 0.618).fract();
                    let y = hh * (q(3) + i as f32 * 0.382).fract();
                    let r = 0.04 + q(4) * 0.14;
                    let c = match i % 3 {
                        0 => light,
                        1 => accent,
                        _ => white,
                    };
                    cv.disc(x, y, r, c, 0.18 + q(5) * 0.25, 0.01 + r * 0.15);
                }
            }
            Style::Ribbons => {
                let angle = 0.5 + p[0] * 0.6;
                cv.gradient(mix(dark, mid, 0.2), mix(light, white, 0.2), angle + 1.2);
                let n = 3 + (p[1] * 3.0) as usize;
                for i in 0..n {
                    let off = -0.1 + (p[2 + i] + i as f32 * 0.29).fract() * 1.3;
                    let width = 0.05 + p[8 + i] * 0.16;
                    let c = if i % 2 == 0 { accent } else { white };
                    cv.band(angle, off, width, c, 0.16 + p[12 + i % 4] * 0.2);
                }
            }
            Style::Waves => {
                cv.gradient(mix(light, white, 0.4), mid, std::f32::consts::FRAC_PI_2);
                let wave = |i: usize, base: f32| {
                    let (f, ph) = (8.0 + p[i * 2] * 10.0, p[i * 2 + 1] * std::f32::consts::TAU);
                    let amp = 0.012 + p[10 + i] * 0.012;
                    move |x: f32| {
                        hh * base + amp * (x * f + ph).sin() + amp * 0.5 * (x * f * 2.3 + ph).cos()
                    }
                };
                let (w0, w1, w2, w3) = (wave(0, 0.30), wave(1, 0.42), wave(2, 0.55), wave(3, 0.70));
                cv.layers(&[
                    (light, dark, &w0),
                    (mid, dark, &w1),
                    (accent, dark, &w2),
                    (dark, mix(dark, [0.0; 3], 0.4), &w3),
                ]);
            }
        }
        (height, cv.into_rgb())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads back the chunks of a PNG and checks their CRCs.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], &PNG_SIGNATURE);
        let mut out = vec![];
        let mut i = 8;
        while i < png.len() {
            let len = u32::from_be_bytes(png[i..i + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[i + 4..i + 8].try_into().unwrap();
            let data = png[i + 8..i + 8 + len].to_vec();
            let crc = u32::from_be_bytes(png[i + 8 + len..i + 12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(&kind);
            h.update(&data);
            assert_eq!(h.finalize(), crc);
            out.push((kind, data));
            i += 12 + len;
        }
        out
    }

    #[test]
    fn encodes_a_valid_png() {
        let (w, h) = (5u32, 3u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7) as u8).collect();
        let png = encode_rgb(w, h, &rgb).unwrap();
        let cs = chunks(&png);
        let kinds: Vec<_> = cs.iter().map(|c| c.0).collect();
        assert_eq!(kinds, vec![*b"IHDR", *b"IDAT", *b"IEND"]);
        assert_eq!(cs[0].1, [0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0]);
        let mut raw = vec![];
        use std::io::Read;
        flate2::read::ZlibDecoder::new(&cs[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), (w as usize * 3 + 1) * h as usize);
        for (y, line) in raw.chunks(w as usize * 3 + 1).enumerate() {
            assert_eq!(line[0], 0);
            let start = y * w as usize * 3;
            assert_eq!(&line[1..], &rgb[start..start + w as usize * 3]);
        }
        assert!(encode_rgb(2, 2, &[0; 3]).is_err());
    }

    #[test]
    fn every_style_paints_the_right_size() {
        for style in Style::ALL {
            let pic = Picture {
                style,
                palette: [[20, 60, 30], [60, 140, 70], [170, 210, 150], [240, 190, 80]],
                params: [0.5; 16],
            };
            let (h, rgb) = pic.paint(64);
            assert_eq!(h, 36);
            assert_eq!(rgb.len(), 64 * 36 * 3);
            // Not a flat colour.
            assert!(rgb.chunks(3).any(|p| p != &rgb[..3]));
        }
    }
}
