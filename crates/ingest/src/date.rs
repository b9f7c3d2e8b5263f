//! Dates in the many forms feeds use.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parses a feed date to UTC. Never panics; `None` when the text is not a date.
///
/// Accepted forms:
/// - RFC 822 / RFC 2822 / RFC 1123: `Thu, 09 Feb 2006 23:59:45 +0000`, with or without the
///   weekday (in any case or language), single-digit days, full or abbreviated month names in
///   any case, two-digit years (`00`–`49` → 20xx, `50`–`99` → 19xx), with or without seconds,
///   numeric zones (`+0400`, `-02:34`, `-0000`), named zones (`UT`, `GMT`, `Z`, `EST`, `EDT`,
///   `CST`, `CDT`, `MST`, `MDT`, `PST`, `PDT`, `AST`, `ADT`, `BST`, `CET`, `CEST`, `IST`, …),
///   RFC 822 military letters (`A`–`I`, `K`–`M` west, `N`–`Y` east, `Z`), parenthesised
///   comments (nested, with escapes) and any whitespace; `Dec 31 2005` (month first) and
///   asctime (`Sun Jan  4 16:29:06 PST 2004`) too. No zone means UTC.
/// - RFC 3339 / ISO 8601 / W3C-DTF: `2003-12-31T10:14:55Z`, with or without seconds,
///   fractional seconds, `±hh:mm`, `±hhmm` or `±hh` offsets, a space or spaces around the
///   `T`, compact forms (`20031231T101455Z`, `2003-12-31T101455+01:00`), date only
///   (`2003-12-31`), year and month (`2003-12`), year (`2003`), ordinal dates (`2003-365`).
///   A date without a time is midnight UTC.
/// - `2006/09/15 08:19:53 EST` (slashes).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 200 {
        return None;
    }
    let first = s.chars().next()?;
    if first.is_ascii_digit() {
        if let Some(d) = parse_iso(s) {
            return Some(d);
        }
    }
    parse_rfc822(s)
}

/// The latest zone on earth (UTC−12), in seconds east of UTC: a time without a zone, read
/// there, is the latest instant it can mean.
const LATEST_ZONE: i64 = -12 * 3600;

/// Reads an agency embargo so that it is never early. `None` means no embargo: the field is
/// absent or empty (NewsML-G2 allows an empty `<embargoed/>`, which means none).
///
/// - A date and time with a zone (`2026-11-20T12:00:00+03:00`, `…Z`, RFC 822 with `GMT`) is
///   that instant.
/// - A date and time without a zone is read in the latest zone on earth (UTC−12): `12:00`
///   becomes 00:00 UTC the next day. Which zone the agency meant is unknown, and only the
///   latest reading cannot be early.
/// - A full date alone is the start of that day in UTC−12 (12:00 UTC that day).
/// - Anything else (`Next Monday`, a year or a month alone, garbage) is
///   [`newsdesk_domain::embargo_unknown`]: held until an editor sets a time, because the agency
///   said "not yet" and guessing when could publish early.
pub fn parse_embargo(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(read_embargo(s).unwrap_or_else(newsdesk_domain::embargo_unknown))
}

fn read_embargo(s: &str) -> Option<DateTime<Utc>> {
    if s.len() > 200 {
        return None;
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let split = s.find(['T', 't', ' ']);
        let (date_part, rest) = match split {
            Some(p) => (
                s[..p].trim(),
                s[p..].trim_start_matches([' ', 'T', 't']).trim_start(),
            ),
            None => (s, ""),
        };
        // A full date: 8 digits, `2026-11-20`, `2026/11/20` or the ordinal `2026-324`, not
        // a year or a month alone.
        if date_part.len() >= 8 {
            if let Some(date) = parse_iso_date(date_part) {
                if rest.is_empty() {
                    return finish(date, NaiveTime::MIN, LATEST_ZONE);
                }
                if let Some((time, zone)) = parse_time(rest) {
                    let offset = if zone.trim().is_empty() {
                        LATEST_ZONE
                    } else {
                        zone_offset(zone)?
                    };
                    return finish(date, time, offset);
                }
            }
        }
    }
    let (t, zoned) = parse_rfc822_zoned(s)?;
    Some(if zoned {
        t
    } else {
        t - Duration::seconds(LATEST_ZONE)
    })
}

/// Parses a numeric or named zone into seconds east of UTC.
fn zone_offset(z: &str) -> Option<i64> {
    let z = z.trim();
    if z.is_empty() {
        return Some(0);
    }
    if let Some(rest) = z.strip_prefix(['+', '-']) {
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i64>().ok()?, 0),
            3 => (digits[..1].parse().ok()?, digits[1..].parse().ok()?),
            4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
            _ => return None,
        };
        if h > 23 || m > 59 {
            return None;
        }
        return Some(sign * (h * 3600 + m * 60));
    }
    let upper = z.to_ascii_uppercase();
    let hours: i64 = match upper.as_str() {
        "UT" | "UTC" | "GMT" | "Z" | "WET" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "AST" => -4,
        "ADT" => -3,
        "AKST" => -9,
        "AKDT" => -8,
        "HST" => -10,
        "BST" | "CET" | "WEST" | "MET" => 1,
        "CEST" | "EET" | "MEST" => 2,
        "EEST" | "MSK" => 3,
        "IST" => return Some(5 * 3600 + 1800),
        "JST" | "KST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        "NZST" => 12,
        "NZDT" => 13,
        _ if upper.len() == 1 => {
            // RFC 822 military zones.
            let c = upper.as_bytes()[0];
            match c {
                b'A'..=b'I' => -i64::from(c - b'A' + 1),
                b'K'..=b'M' => -i64::from(c - b'K' + 10),
                b'N'..=b'Y' => i64::from(c - b'N' + 1),
                _ => return None,
            }
        }
        // `GMT+2`, `UTC-05:00`
        _ => {
            for p in ["GMT", "UTC", "UT"] {
                if let Some(rest) = upper.strip_prefix(p) {
                    if rest.starts_with(['+', '-']) {
                        return zone_offset(rest);
                    }
                }
            }
            return None;
        }
    };
    Some(hours * 3600)
}

fn finish(date: NaiveDate, time: NaiveTime, offset_secs: i64) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::new(date, time);
    let utc = naive.checked_sub_signed(Duration::seconds(offset_secs))?;
    Some(Utc.from_utc_datetime(&utc))
}

/// Parses `HH[:MM[:SS[.frac]]]` or compact `HHMM[SS[.frac]]`, returning the time and the
/// rest of the string (the zone).
fn parse_time(s: &str) -> Option<(NaiveTime, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(s.len());
    let (t, rest) = s.split_at(end);
    let (main, frac) = match t.find(['.', ',']) {
        Some(p) => (&t[..p], &t[p + 1..]),
        None => (t, ""),
    };
    let parts: Vec<&str> = if main.contains(':') {
        main.split(':').collect()
    } else {
        match main.len() {
            2 => vec![&main[..2]],
            4 => vec![&main[..2], &main[2..4]],
            6 => vec![&main[..2], &main[2..4], &main[4..6]],
            _ => return None,
        }
    };
    let num = |p: &str| -> Option<u32> {
        (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let h = num(parts.first()?)?;
    let m = match parts.get(1) {
        Some(p) => num(p)?,
        None => 0,
    };
    let sec = match parts.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    if parts.len() > 3 {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = 10u32.pow(9 - u32::try_from(digits.len()).ok()?);
        digits.parse::<u32>().ok()? * scale
    };
    // The leap second 60 is clamped to 59.
    let time = NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)?;
    Some((time, rest))
}

fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // Split date and the rest at 'T', 't' or whitespace.
    let split = s.find(['T', 't', ' ']);
    let (date_part, rest) = match split {
        Some(p) => (
            &s[..p],
            s[p..].trim_start_matches([' ', 'T', 't']).trim_start(),
        ),
        None => (s, ""),
    };
    let date_part = date_part.trim();
    let date = parse_iso_date(date_part)?;
    if rest.is_empty() {
        return finish(date, NaiveTime::MIN, 0);
    }
    // A date followed directly by a zone (`2003-12-31Z`, `2003-12-31+01:00`) is unusual but
    // harmless.
    let (time, zone) = parse_time(rest)?;
    let offset = zone_offset(zone)?;
    finish(date, time, offset)
}

fn parse_iso_date(d: &str) -> Option<NaiveDate> {
    let digits_only = d.bytes().all(|b| b.is_ascii_digit());
    if digits_only {
        return match d.len() {
            4 => NaiveDate::from_ymd_opt(d.parse().ok()?, 1, 1),
            6 => NaiveDate::from_ymd_opt(d[..4].parse().ok()?, d[4..].parse().ok()?, 1),
            8 => NaiveDate::from_ymd_opt(
                d[..4].parse().ok()?,
                d[4..6].parse().ok()?,
                d[6..].parse().ok()?,
            ),
            7 => NaiveDate::from_yo_opt(d[..4].parse().ok()?, d[4..].parse().ok()?),
            _ => None,
        };
    }
    let sep = if d.contains('/') { '/' } else { '-' };
    let parts: Vec<&str> = d.split(sep).collect();
    let year: i32 = match parts.first() {
        Some(y) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => y.parse().ok()?,
        _ => return None,
    };
    let num = |p: &str| -> Option<u32> {
        (!p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [_, m] if m.len() == 3 => NaiveDate::from_yo_opt(year, num(m)?),
        [_, m] => NaiveDate::from_ymd_opt(year, num(m)?, 1),
        [_, m, day] => NaiveDate::from_ymd_opt(year, num(m)?, num(day)?),
        _ => None,
    }
}

/// Removes RFC 822 comments: `(…)`, nested, with `\)` escapes.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if depth > 0 => {
                chars.next();
            }
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn month_number(tok: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = tok.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    if lower.len() < 3 {
        return None;
    }
    let idx = NAMES.iter().position(|n| lower.starts_with(n))?;
    // Accept the abbreviation, the full English name, and "sept".
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let ok =
        lower.len() == 3 || FULL.get(idx).is_some_and(|f| f.starts_with(lower)) || lower == "sept";
    ok.then_some(u32::try_from(idx).ok()? + 1)
}

fn parse_rfc822(s: &str) -> Option<DateTime<Utc>> {
    parse_rfc822_zoned(s).map(|(t, _)| t)
}

/// [`parse_rfc822`], and whether the text gave a zone.
fn parse_rfc822_zoned(s: &str) -> Option<(DateTime<Utc>, bool)> {
    let cleaned = strip_comments(s);
    let mut tokens: Vec<String> = cleaned
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    // Split a glued zone from the time (`23:59:45+0000`, `23:59:45Z`).
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].clone();
        if t.contains(':') {
            if let Some(p) = t
                .find(['+', '-'])
                .or_else(|| t.find(|c: char| c.is_ascii_alphabetic()))
            {
                if p > 0 {
                    tokens[i] = t[..p].to_owned();
                    tokens.insert(i + 1, t[p..].to_owned());
                }
            }
        }
        i += 1;
    }
    let mut month = None;
    let mut numbers: Vec<&str> = Vec::new();
    let mut time: Option<NaiveTime> = None;
    let mut offset: Option<i64> = None;
    let mut pm: Option<bool> = None;
    for tok in &tokens {
        let tok = tok.as_str();
        if time.is_none() && tok.contains(':') {
            let (t, rest) = parse_time(tok)?;
            if !rest.is_empty() {
                return None;
            }
            time = Some(t);
            continue;
        }
        if month.is_none() {
            if let Some(m) = month_number(tok) {
                month = Some(m);
                continue;
            }
        }
        if tok.bytes().all(|b| b.is_ascii_digit()) {
            if tok.len() <= 4 && (numbers.len() < 2) {
                numbers.push(tok);
                continue;
            }
            return None;
        }
        if let Some(m) = tok
            .strip_suffix('.')
            .and_then(|t| t.bytes().all(|b| b.is_ascii_digit()).then_some(t))
        {
            numbers.push(m);
            continue;
        }
        let upper = tok.to_ascii_uppercase();
        if time.is_some() && (upper == "AM" || upper == "PM") {
            pm = Some(upper == "PM");
            continue;
        }
        if time.is_some() && offset.is_none() {
            if let Some(o) = zone_offset(tok) {
                offset = Some(o);
                continue;
            }
        }
        // A weekday (any language) before the date, or other words: ignore alphabetic
        // tokens that come before the day; anything else is not a date.
        if tok.chars().all(char::is_alphabetic) && month.is_none() && numbers.is_empty() {
            continue;
        }
        if tok.chars().all(char::is_alphabetic) && time.is_none() {
            continue;
        }
        return None;
    }
    let month = month?;
    let (day, year) = match numbers.as_slice() {
        [a, b] => {
            if a.len() == 4 {
                (*b, *a)
            } else {
                (*a, *b)
            }
        }
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let mut year: i32 = year.parse().ok()?;
    if year < 100 && numbers.iter().any(|n| n.len() <= 2) {
        year += if year < 50 { 2000 } else { 1900 };
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut time = time.unwrap_or(NaiveTime::MIN);
    if let Some(is_pm) = pm {
        use chrono::Timelike;
        let h = time.hour() % 12 + if is_pm { 12 } else { 0 };
        time = time.with_hour(h)?;
    }
    finish(date, time, offset.unwrap_or(0)).map(|t| (t, offset.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> Option<String> {
        parse_date(s).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
    }

    #[test]
    fn rfc822_forms() {
        let want = Some("2006-02-09T23:59:45".to_owned());
        for s in [
            "Thu, 09 Feb 2006 23:59:45 +0000",
            "09 Feb 2006 23:59:45 +0000",
            "Thu, 9 Feb 2006 23:59:45 +0000",
            "Thu, 09 Feb 06 23:59:45 +0000",
            "Thu, 09 Feb 2006 16:59:45 PDT",
            "Thu, 09 Feb 2006 17:59:45 CST",
            "Thu, 09 Feb 2006 16:59:45 G",
            "Thu, 09 Feb 2006 12:59:45 L",
            "Fri, 10 Feb 2006 03:59:45 Q",
            "Fri, 10 Feb 2006 03:59:45 +0400",
            "Thu, 09 Feb 2006 21:25:45 -0234",
            "Thu, 09 Feb 2006 23:59:45 UT",
            "Thu, 09 Feb 2006 23:59:45 z",
            "tHu, 09 fEb 2006 16:59:45 pDt",
            "Thu(oh how I hate thursdays), 9(th) Feb(ruary) 2006 23:59:45 +0000(GMT r0x0rz)",
            "Thu, 09 (nested (comment) Mar)Feb(escaped comment\\) 2005) 2006()23:59:45 +0000",
            "\tThu , \t 09  Feb\t2006  23:59:45\t +0000",
            "\n Thu,\n 09\n Feb\n 2006\n 23:59:45\n +0000\n",
            "mer, 09 feb 2006 23:59:45 +0000",
            "Thursday, 09 February 2006 23:59:45 GMT",
            "Thu Feb  9 23:59:45 2006",
            "Thu Feb  9 15:59:45 PST 2006",
            "Thu, Feb 09 2006 11:59:45 PM",
        ] {
            assert_eq!(iso(s), want, "{s}");
        }
        assert_eq!(
            iso("Fri, 09 Feb 96 23:59:45 +0000").as_deref(),
            Some("1996-02-09T23:59:45")
        );
        assert_eq!(
            iso("Sun, 09 Feb 1806 23:59:45 +0000").as_deref(),
            Some("1806-02-09T23:59:45")
        );
        assert_eq!(
            iso("Thu, 09 Feb 2006 23:59 +0000").as_deref(),
            Some("2006-02-09T23:59:00")
        );
    }

    #[test]
    fn iso_forms() {
        let want = Some("2003-12-31T10:14:55".to_owned());
        for s in [
            "2003-12-31T10:14:55Z",
            "2003-12-31T10:14:55.12Z",
            "2003-12-31T11:14:55+01:00",
            "2003-12-31T05:14:55-0500",
            "2003-12-31 T 05:14:55-05:00",
            "2003-12-31T 05:14:55-05:00",
            "2003-12-31 05:14:55-05:00",
            "20031231T10:14:55Z",
            "2003-12-31T101455Z",
            "20031231T101455+0000",
            "2003-12-31t10:14:55z",
        ] {
            assert_eq!(iso(s), want, "{s}");
        }
        assert_eq!(
            iso("2003-12-31T10:14Z").as_deref(),
            Some("2003-12-31T10:14:00")
        );
        assert_eq!(iso("2003-12-31").as_deref(), Some("2003-12-31T00:00:00"));
        assert_eq!(iso("2003-12").as_deref(), Some("2003-12-01T00:00:00"));
        assert_eq!(iso("2003").as_deref(), Some("2003-01-01T00:00:00"));
        assert_eq!(iso("2003-365").as_deref(), Some("2003-12-31T00:00:00"));
        assert_eq!(
            iso("2006/09/15 08:19:53 EST").as_deref(),
            Some("2006-09-15T13:19:53")
        );
    }

    #[test]
    fn embargoes_are_never_early() {
        let e = |s: &str| parse_embargo(s).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string());
        assert_eq!(e(""), None);
        assert_eq!(
            e("  \n "),
            None,
            "an empty NewsML-G2 <embargoed/> is no embargo"
        );
        for s in [
            "2026-11-20T12:00:00Z",
            "2026-11-20T15:00:00+03:00",
            "2026-11-20T07:00:00-0500",
            "2026-11-20 12:00Z",
            "Fri, 20 Nov 2026 12:00:00 GMT",
            "Fri, 20 Nov 2026 13:00:00 +0100",
        ] {
            assert_eq!(e(s).as_deref(), Some("2026-11-20T12:00:00"), "{s}");
        }
        // No zone: the latest zone on earth (UTC-12).
        assert_eq!(
            e("2026-11-20T12:00:00").as_deref(),
            Some("2026-11-21T00:00:00")
        );
        assert_eq!(
            e("2016-01-12 12:35:40").as_deref(),
            Some("2016-01-13T00:35:40")
        );
        assert_eq!(
            e("20 Nov 2026 12:00").as_deref(),
            Some("2026-11-21T00:00:00")
        );
        // A date alone: the start of that day in UTC-12.
        assert_eq!(e("2019-10-01").as_deref(), Some("2019-10-01T12:00:00"));
        // Unreadable or too vague: held until further notice.
        let unknown = Some(newsdesk_domain::embargo_unknown());
        for s in [
            "Next Monday",
            "2019",
            "2019-10",
            "2026-11-20T25:00:00Z",
            "\u{0}",
        ] {
            assert_eq!(parse_embargo(s), unknown, "{s}");
        }
        assert_eq!(parse_embargo(&"9".repeat(300)), unknown);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "insert published date here",
            "Public",
            "2003-13-45",
            "99-99T99:99:99",
            "\u{0}",
            "Thu, 99 Feb 2006 25:61:99 +9999",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
