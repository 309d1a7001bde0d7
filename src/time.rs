//! Dates, through `jiff`: text from inventories, reports and flags in (RFC 3339 with any
//! offset and fraction, `YYYY-MM-DD`, a space for the `T`, or Unix seconds), Unix seconds
//! out; and Unix seconds (with a UTC offset) back to RFC 3339 text. Impossible dates
//! (`2024-02-30`) and absurd ones (beyond year 9999) are refused with a reason that never
//! repeats the input.

use jiff::{
    fmt::temporal::{Pieces, PiecesOffset},
    tz::Offset,
    Timestamp,
};

/// Why a date was refused (the input itself is never part of the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("empty")]
    Empty,
    #[error("outside the years 0001-9999")]
    OutOfRange,
    #[error("not a calendar date (no such day or time)")]
    Impossible,
    #[error("not a date (RFC 3339, YYYY-MM-DD or Unix seconds)")]
    Malformed,
}

/// The instant of Unix second `secs`, if it lies within the years jiff (and RFC 3339) support.
fn timestamp(secs: i64) -> Result<Timestamp, DateError> {
    Timestamp::from_second(secs).map_err(|_| DateError::OutOfRange)
}

/// Unix seconds as a date, refusing what no calendar has.
pub fn check_unix(secs: i64) -> Result<i64, DateError> {
    let t = timestamp(secs)?;
    if Offset::UTC.to_datetime(t).year() < 1 {
        return Err(DateError::OutOfRange);
    }
    Ok(secs)
}

/// RFC 3339 text of `secs` (Unix time) shown in the zone `offset_minutes` east of UTC.
/// Instants beyond what RFC 3339 can write are clamped to its range.
pub fn rfc3339(secs: i64, offset_minutes: i32) -> String {
    let t = timestamp(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    let offset = Offset::from_seconds(offset_minutes.saturating_mul(60)).unwrap_or(Offset::UTC);
    let dt = offset.to_datetime(t);
    let zone = if offset_minutes == 0 || offset == Offset::UTC {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let o = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", o / 60, o % 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// The day (`YYYY-MM-DD`, UTC) of Unix second `secs`.
pub fn day(secs: i64) -> String {
    rfc3339(secs, 0)[..10].to_string()
}

/// Whether text has the digits and dashes of a calendar date where a date should start:
/// then a refusal is about the calendar, not the shape.
fn looks_like_a_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// Parse a date (see the module doc); Unix seconds out, or why not.
pub fn parse_date_checked(s: &str) -> Result<i64, DateError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().map_err(|_| DateError::OutOfRange)?;
        return check_unix(n);
    }
    if !s.is_ascii() {
        // Every accepted form is ASCII; refusing early keeps odd offsets away from slicing.
        return Err(DateError::Malformed);
    }
    // No offset means UTC; `… UTC` is UTC too.
    let text = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix("UTC"))
        .unwrap_or(s)
        .trim_end();
    let pieces = match Pieces::parse(text) {
        Ok(p) => p,
        Err(_) if looks_like_a_date(s) && s.len() <= 35 => return Err(DateError::Impossible),
        Err(_) if s.len() > 4 && s[..5].bytes().all(|b| b.is_ascii_digit()) => {
            return Err(DateError::OutOfRange)
        }
        Err(_) => return Err(DateError::Malformed),
    };
    if pieces.time_zone_annotation().is_some() {
        return Err(DateError::Malformed);
    }
    let dt = pieces
        .date()
        .to_datetime(pieces.time().unwrap_or(jiff::civil::Time::midnight()));
    if dt.year() < 1 {
        return Err(DateError::OutOfRange);
    }
    let offset = match pieces.offset() {
        None | Some(PiecesOffset::Zulu) => Offset::UTC,
        Some(PiecesOffset::Numeric(n)) => n.offset(),
        Some(_) => return Err(DateError::Malformed),
    };
    match offset.to_timestamp(dt) {
        Ok(t) => Ok(t.as_second()),
        // The calendar's last day (`9999-12-31T23:59:59Z`, Google's "never expires") lies
        // just past the last instant jiff represents: the end of time, as written.
        Err(_) if dt.year() == 9999 => Ok(Timestamp::MAX.as_second()),
        Err(_) => Err(DateError::OutOfRange),
    }
}

/// Parse a date, or `None` (see `parse_date_checked` for the reason).
pub fn parse_date(s: &str) -> Option<i64> {
    parse_date_checked(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_forms() {
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Some(1_700_000_000));
        assert_eq!(
            parse_date("2023-11-14T22:13:20.123456Z"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_date("2023-11-14T15:13:20.000-07:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_date("2023-11-14 22:13:20"), Some(1_700_000_000));
        assert_eq!(parse_date("2023-11-14 22:13:20 UTC"), Some(1_700_000_000));
        assert_eq!(parse_date("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_date("2023-11-14"), Some(1_699_920_000));
        for bad in [
            "",
            "yesterday",
            "2023-13-01",
            "2023-11-14T25:00:00Z",
            "14/11/2023",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    /// Issue 11 item 2: a multi-byte offset panicked in the hand-written parser; impossible
    /// and absurd dates are refused, each with its reason.
    #[test]
    fn hostile_dates_are_refused_without_panic() {
        assert_eq!(
            parse_date_checked("2023-11-14T23:13:20+a0\u{e9}00"),
            Err(DateError::Malformed)
        );
        assert_eq!(
            parse_date_checked("2023-11-14T23:13:20+\u{1f600}"),
            Err(DateError::Malformed)
        );
        assert_eq!(parse_date_checked("2024-02-30"), Err(DateError::Impossible));
        assert_eq!(
            parse_date_checked("2023-02-29T00:00:00Z"),
            Err(DateError::Impossible)
        );
        assert_eq!(
            parse_date_checked("10000-01-01T00:00:00Z"),
            Err(DateError::OutOfRange)
        );
        assert_eq!(
            parse_date_checked("99999999999999999999"),
            Err(DateError::OutOfRange)
        );
        assert_eq!(
            parse_date_checked("999999999999"),
            Err(DateError::OutOfRange)
        );
        assert_eq!(parse_date_checked("1e308"), Err(DateError::Malformed));
        assert_eq!(parse_date_checked("2024-02-29"), Ok(1_709_164_800));
        // The reason never repeats the input.
        let msg = DateError::Impossible.to_string();
        assert!(!msg.contains("2024"));
    }

    #[test]
    fn round_trips_and_known_values() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 0), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(rfc3339(1_700_000_000, -330), "2023-11-14T16:43:20-05:30");
        assert_eq!(day(1_700_000_000), "2023-11-14");
        for t in [-62_000_000_000i64, -1, 0, 1, 951_782_400, 1_700_000_000] {
            assert_eq!(parse_date(&rfc3339(t, 0)), Some(t));
        }
        // Out of range: clamped, never a panic.
        assert!(rfc3339(i64::MAX, 0).starts_with("9999-"));
        assert!(rfc3339(i64::MIN, 0).starts_with("-009999") || rfc3339(i64::MIN, 0).contains('-'));
    }
}
