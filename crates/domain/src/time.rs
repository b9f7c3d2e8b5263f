//! How times are shown to readers: in the edition's time zone and the house format.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `04-09-2025 02:16 IST`: day-month-year, 24-hour time, zone abbreviation.
pub fn stamp(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d-%m-%Y %H:%M %Z").to_string()
}

/// `Friday, 27 November 2026`: the date line at the top of every page.
pub fn date_line(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%A, %-d %B %Y").to_string()
}

/// `27 Nov 2026`: short dates in lists.
pub fn short_date(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %b %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stamps_in_edition_zone() {
        let t = Utc.with_ymd_and_hms(2025, 9, 3, 20, 46, 0).unwrap();
        assert_eq!(stamp(t, chrono_tz::Asia::Kolkata), "04-09-2025 02:16 IST");
        assert_eq!(stamp(t, chrono_tz::UTC), "03-09-2025 20:46 UTC");
        assert_eq!(stamp(t, chrono_tz::Africa::Nairobi), "03-09-2025 23:46 EAT");
        assert_eq!(
            date_line(t, chrono_tz::Asia::Kolkata),
            "Thursday, 4 September 2025"
        );
    }
}
