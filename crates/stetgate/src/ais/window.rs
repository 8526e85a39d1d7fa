//! The transaction window of `GET /transactions`: `dateFrom` inclusive, `dateTo` exclusive, in the
//! forms the bank publishes (`YYYY-MM-DDTHH:MM:SS.SSS` with no offset, `Z`, `+HHMM` or `+HH:MM`; a
//! plain date too), within the history depth of the account's segment (62 or 90 days).
//!
//! The ledger dates operations by day, so instants become Paris days: `dateFrom` includes its whole
//! day, `dateTo` excludes its day unless it is after midnight.

use crate::clock::Calendar;
use crate::ledger::DateWindow;
use jiff::ToSpan;
use jiff::civil::{Date, DateTime};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("{0} is not a date-time of the form YYYY-MM-DDTHH:MM:SS.SSS[Z|+HHMM|+HH:MM] or a date YYYY-MM-DD")]
    Invalid(&'static str),
    #[error("period out of bound: dateFrom is older than the {0} days of history this account offers")]
    OutOfBound(i32),
    #[error("dateFrom must be before dateTo")]
    Inverted,
}

/// A parsed bound: its Paris day, and whether it falls exactly at midnight.
fn parse(text: &str, name: &'static str, calendar: &Calendar) -> Result<(Date, bool), WindowError> {
    let bad = || WindowError::Invalid(name);
    // RFC 3339 5.6 allows a lower-case `t` and `z`; nothing else in these forms is a letter.
    let text = &text.to_ascii_uppercase();
    if text.len() == 10 {
        return text.parse::<Date>().map(|d| (d, true)).map_err(|_| bad());
    }
    let (local, offset_minutes) = split_offset(text).ok_or_else(bad)?;
    // YYYY-MM-DDTHH:MM:SS, then an optional fraction: the published forms always carry seconds.
    let b = local.as_bytes();
    let shaped = b.len() >= 19 && b[10] == b'T' && b[13] == b':' && b[16] == b':' && (b.len() == 19 || b[19] == b'.');
    if !shaped {
        return Err(bad());
    }
    // RFC 3339 allows any number of fraction digits; the parser takes nine (nanoseconds), and
    // nothing finer matters to a day.
    let local = match local.split_once('.') {
        Some((whole, fraction)) if fraction.len() > 9 && fraction.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{whole}.{}", &fraction[..9])
        }
        _ => local.to_owned(),
    };
    let civil: DateTime = local.parse().map_err(|_| bad())?;
    let zoned = match offset_minutes {
        Some(minutes) => {
            let offset = jiff::tz::Offset::from_seconds(minutes * 60).map_err(|_| bad())?;
            let ts = offset.to_timestamp(civil).map_err(|_| bad())?;
            ts.to_zoned(calendar.time_zone().clone())
        }
        None => civil.to_zoned(calendar.time_zone().clone()).map_err(|_| bad())?,
    };
    let midnight = zoned.time() == jiff::civil::Time::midnight();
    Ok((zoned.date(), midnight))
}

/// `2026-11-01T10:00:00.000+01:00` -> (`2026-11-01T10:00:00.000`, Some(60)).
fn split_offset(text: &str) -> Option<(&str, Option<i32>)> {
    if let Some(local) = text.strip_suffix('Z') {
        return Some((local, Some(0)));
    }
    let time_start = text.find('T')?;
    let sign_at = text[time_start..].rfind(['+', '-']).map(|i| i + time_start);
    let Some(at) = sign_at else { return Some((text, None)) };
    let sign = if text.as_bytes()[at] == b'-' { -1 } else { 1 };
    let digits: String = text[at + 1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok().filter(|h| *h <= 23)?;
    let minutes: i32 = digits[2..].parse().ok().filter(|m| *m <= 59)?;
    Some((&text[..at], Some(sign * (hours * 60 + minutes))))
}

/// The window to serve, from the query's bounds, the account's depth and today.
pub fn window(
    date_from: Option<&str>,
    date_to: Option<&str>,
    depth_days: i32,
    today: Date,
    calendar: &Calendar,
) -> Result<DateWindow, WindowError> {
    let earliest = today.saturating_sub(i64::from(depth_days).days());
    let from = match date_from {
        Some(text) => parse(text, "dateFrom", calendar)?.0,
        None => earliest,
    };
    if from < earliest {
        return Err(WindowError::OutOfBound(depth_days));
    }
    let to = match date_to {
        Some(text) => {
            let (day, midnight) = parse(text, "dateTo", calendar)?;
            if midnight { day } else { day.saturating_add(1.days()) }
        }
        None => today.saturating_add(1.days()),
    };
    if from >= to {
        return Err(WindowError::Inverted);
    }
    Ok(DateWindow { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date::constant(2026, 11, 21);

    fn w(from: Option<&str>, to: Option<&str>, depth: i32) -> Result<DateWindow, WindowError> {
        window(from, to, depth, TODAY, &Calendar::paris().unwrap())
    }

    #[test]
    fn the_published_forms() {
        for from in [
            "2026-11-01T00:00:00.000",
            "2026-11-01T00:00:00.000Z",
            "2026-11-01T10:00:00.000+0100",
            "2026-11-01T10:00:00.000+01:00",
            "2026-11-01",
            // RFC 3339 forms: lower-case separators, no fraction.
            "2026-11-01t00:00:00.000z",
            "2026-11-01t10:00:00+01:00",
            "2026-11-01T00:00:00.1234567890Z",
        ] {
            assert_eq!(w(Some(from), None, 62).unwrap().from, Date::constant(2026, 11, 1), "{from}");
        }
        // 23:30 UTC on Oct 31 is Nov 1 in Paris.
        assert_eq!(w(Some("2026-10-31T23:30:00.000Z"), None, 62).unwrap().from, Date::constant(2026, 11, 1));
        for bad in [
            "2026-11-01T10:00",
            "01/11/2026",
            "2026-13-01",
            "yesterday",
            "2026-11-01T10:00:00.000+1",
            "2026-11-01T10:00:00.000+01:0x",
            "2026-11-01T10:00:00.000+24:00",
            "2026-11-01T10:00:00.000+01:60",
        ] {
            assert!(matches!(w(Some(bad), None, 62), Err(WindowError::Invalid("dateFrom"))), "{bad}");
        }
    }

    #[test]
    fn bounds_and_depth() {
        let all = w(None, None, 62).unwrap();
        assert_eq!((all.from, all.to), (Date::constant(2026, 9, 20), Date::constant(2026, 11, 22)));
        assert!(matches!(w(Some("2026-09-19"), None, 62), Err(WindowError::OutOfBound(62))));
        assert!(w(Some("2026-09-19"), None, 90).is_ok(), "corporates have 90 days");
        assert!(matches!(w(Some("2026-11-10"), Some("2026-11-10"), 62), Err(WindowError::Inverted)));
        assert_eq!(w(None, Some("2026-11-10"), 62).unwrap().to, Date::constant(2026, 11, 10), "dateTo exclusive");
        assert_eq!(w(None, Some("2026-11-10T12:00:00.000+01:00"), 62).unwrap().to, Date::constant(2026, 11, 11));
    }
}
