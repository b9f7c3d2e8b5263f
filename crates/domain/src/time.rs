//! How times are shown to readers: in the edition's time zone and the house format.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `04-09-2025 02:16 IST`: day-month-year, 24-hour time, zone abbreviation.
pub fn stamp(t: DateTime<Utc>, tz: Tz) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than through `format`, which parses its pattern at every call (every
    // card in a list has a stamp). The zone's name is what `%Z` writes: the offset's display.
    let l = t.with_timezone(&tz);
    format!(
        "{:02}-{:02}-{:04} {:02}:{:02} {}",
        l.day(),
        l.month(),
        l.year(),
        l.hour(),
        l.minute(),
        l.offset()
    )
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

    #[test]
    fn stamp_writes_what_the_strftime_pattern_writes() {
        // Zones with letters, with numbers for a name (-03, +0545) and with summer time.
        let zones = [
            chrono_tz::UTC,
            chrono_tz::Asia::Kolkata,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Europe::London,
            chrono_tz::Pacific::Chatham,
            chrono_tz::Australia::Lord_Howe,
        ];
        let start = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 0).unwrap();
        for i in 0..2_000i64 {
            let t = start + chrono::Duration::minutes(i * 9_973);
            for tz in zones {
                let want = t.with_timezone(&tz).format("%d-%m-%Y %H:%M %Z").to_string();
                assert_eq!(stamp(t, tz), want, "{t} in {tz}");
            }
        }
    }
}
