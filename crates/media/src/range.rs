//! HTTP `Range` requests, so browsers can seek in videos and resume downloads.

/// What to answer to a request, given its `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// Send the whole file with `200 OK`.
    Full,
    /// Send bytes `start..=end_inclusive` with `206 Partial Content` and
    /// `Content-Range: bytes {start}-{end_inclusive}/{len}`.
    Partial {
        /// First byte to send.
        start: u64,
        /// Last byte to send (inclusive, always below the length).
        end_inclusive: u64,
    },
    /// Answer `416 Range Not Satisfiable` with `Content-Range: bytes */{len}`.
    Unsatisfiable,
}

impl RangeAnswer {
    /// The `Content-Range` header value for this answer (`None` for [`RangeAnswer::Full`]).
    pub fn content_range(&self, len: u64) -> Option<String> {
        match *self {
            RangeAnswer::Full => None,
            RangeAnswer::Partial {
                start,
                end_inclusive,
            } => Some(format!("bytes {start}-{end_inclusive}/{len}")),
            RangeAnswer::Unsatisfiable => Some(format!("bytes */{len}")),
        }
    }
}

/// Parses a single-range `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a file
/// of `len` bytes.
///
/// - No header, a unit other than `bytes`, or a malformed value → [`RangeAnswer::Full`]
///   (RFC 9110 lets a server ignore a range it does not understand).
/// - Several ranges (`bytes=0-1,5-6`) → [`RangeAnswer::Full`]: multipart answers are not
///   supported, and sending everything is always allowed.
/// - `a-b` with `b < a` is malformed → Full; `b` past the end is clamped to the last byte.
/// - A start at or past the end, a suffix `-0`, or any range on an empty file →
///   [`RangeAnswer::Unsatisfiable`].
/// - `-n` asks for the last `n` bytes (the whole file if `n ≥ len`).
pub fn parse_range(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(header) = header else {
        return RangeAnswer::Full;
    };
    let header = header.trim();
    let Some((unit, spec)) = header.split_once('=') else {
        return RangeAnswer::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAnswer::Full;
    }
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (number(first), number(last)) {
        // bytes=-n
        (None, Some(n)) if first.is_empty() => {
            if n == 0 || len == 0 {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Partial {
                    start: len.saturating_sub(n),
                    end_inclusive: len - 1,
                }
            }
        }
        // bytes=a-
        (Some(a), None) if last.is_empty() => from(a, len - len.min(1), len),
        // bytes=a-b
        (Some(a), Some(b)) if a <= b => from(a, b, len),
        _ => RangeAnswer::Full,
    }
}

fn from(start: u64, end: u64, len: u64) -> RangeAnswer {
    if start >= len {
        RangeAnswer::Unsatisfiable
    } else {
        RangeAnswer::Partial {
            start,
            end_inclusive: end.min(len - 1),
        }
    }
}

/// Digits only (no sign, no spaces inside); values too big for u64 saturate, which gives the
/// right answer (past the end) for starts, ends and suffixes alike.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}
