//! Timestamp formats used by feeds, sitemaps and structured data.
//!
//! chrono's own `to_rfc2822` panics for years outside 0..=9999; these helpers go through
//! `format` instead so a corrupt or far-future date can never take a page down.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats `dt` as RFC 2822 (`Tue, 01 Jul 2025 10:52:37 +0000`), as RSS 2.0 requires.
///
/// Never panics, even for years that RFC 2822 cannot express (they are written as chrono
/// prints them, which is wrong but harmless compared with a failed feed).
pub fn rfc2822(dt: DateTime<Utc>) -> String {
    dt.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Formats `dt` as RFC 3339 with whole seconds and a `Z` suffix (`2025-07-01T10:52:37Z`).
///
/// This is also a valid W3C datetime, so sitemaps, Atom, JSON Feed and JSON-LD share it.
/// Sub-second precision is dropped on purpose: no consumer needs it and it makes
/// feeds byte-stable across re-renders of the same data.
pub fn rfc3339(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_known_instant() {
        let dt = Utc.with_ymd_and_hms(2025, 7, 1, 10, 52, 37).unwrap();
        assert_eq!(rfc2822(dt), "Tue, 01 Jul 2025 10:52:37 +0000");
        assert_eq!(rfc3339(dt), "2025-07-01T10:52:37Z");
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for dt in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            assert!(!rfc2822(dt).is_empty());
            assert!(!rfc3339(dt).is_empty());
        }
    }
}
