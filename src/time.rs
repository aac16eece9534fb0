//! Timestamps from settings and CI variables, and build durations.

use anyhow::bail;
use chrono::{DateTime, Datelike, FixedOffset, Utc};

/// Accepted forms, for error messages.
pub(crate) const TIME_FORMS: &str = "RFC 3339 with a time zone (2026-03-14T09:18:05Z, 2026-03-14T10:18:05+01:00), \
     or epoch seconds or milliseconds";

/// Epoch values at or above this are milliseconds (10^11 seconds is the year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;
/// Last millisecond of the year 9999, the end of RFC 3339's range. Later epoch values are
/// rejected, because no tool can print them back as RFC 3339.
const MAX_EPOCH_MILLIS: i64 = 253_402_300_799_999;

/// Parses RFC 3339 (also with a space for `T` and `+HHMM` offsets) or epoch seconds or
/// milliseconds. A time without a zone is rejected because its meaning depends on the host.
pub(crate) fn parse_instant(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return parse_epoch(text);
    }
    if let Some(time) = parse_zoned(text) {
        let utc = time.with_timezone(&Utc);
        // An offset can move a time at the edge of year 0 or 9999 out of RFC 3339's range.
        if !(0..=9999).contains(&utc.year()) {
            bail!("timestamp out of range: its UTC time is outside the years 0000 to 9999");
        }
        return Ok(utc);
    }
    bail!("not a timestamp with a time zone")
}

fn parse_epoch(digits: &str) -> anyhow::Result<DateTime<Utc>> {
    let Ok(value) = digits.parse::<i64>() else {
        bail!("epoch value out of range");
    };
    let millis = if value >= MILLIS_THRESHOLD {
        value
    } else {
        value.saturating_mul(1000)
    };
    if millis > MAX_EPOCH_MILLIS {
        bail!("epoch value out of range: after the year 9999");
    }
    match DateTime::from_timestamp_millis(millis) {
        Some(time) => Ok(time),
        None => bail!("epoch value out of range"),
    }
}

fn parse_zoned(text: &str) -> Option<DateTime<FixedOffset>> {
    if text.len() < 11 || !text.is_ascii() {
        return None;
    }
    // RFC 3339 allows a space between date and time; chrono's RFC 3339 parser accepts it too,
    // but the `%z` fallback below needs the `T`.
    let normalized = if text.as_bytes()[10] == b' ' {
        format!("{}T{}", &text[..10], &text[11..])
    } else {
        text.to_string()
    };
    DateTime::parse_from_rfc3339(&normalized)
        .ok()
        .or_else(|| DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
}

/// Milliseconds from `start` to `end`, never negative.
pub(crate) fn duration_ms(start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
    u64::try_from((end - start).num_milliseconds()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(text: &str) -> i64 {
        parse_instant(text).unwrap().timestamp_millis()
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(millis("2026-03-14T09:19:40Z"), 1_773_479_980_000);
        assert_eq!(millis("2026-03-14T10:19:40+01:00"), 1_773_479_980_000);
        assert_eq!(millis("2026-03-14 09:19:40Z"), 1_773_479_980_000);
        assert_eq!(millis("2026-03-14T10:19:40+0100"), 1_773_479_980_000);
        assert_eq!(millis("2026-03-14T09:19:40.250Z"), 1_773_479_980_250);
        assert_eq!(millis("2026-03-14t09:19:40z"), 1_773_479_980_000);
    }

    #[test]
    fn epoch_seconds_and_milliseconds() {
        assert_eq!(millis("1773479980"), 1_773_479_980_000);
        assert_eq!(millis("1773479980123"), 1_773_479_980_123);
        assert_eq!(millis(" 1773479980 "), 1_773_479_980_000);
        assert_eq!(millis("253402300799999"), 253_402_300_799_999);
    }

    #[test]
    fn invalid_timestamps() {
        for text in [
            "",
            "yesterday",
            "2026-03-14T09:19:40",
            "2026-03-14",
            "-5",
            "99999999999999999999999",
            "2026-13-14T09:19:40Z",
            "2026-03-14T09:19:40Zé",
            // Found by fuzzing: epoch milliseconds in the year 136404, which RFC 3339 cannot
            // express.
            "4242424242424241",
            "253402300800000",
            "9999-12-31T23:59:59-01:00",
            "0000-01-01T00:00:00+01:00",
        ] {
            assert!(parse_instant(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn duration_is_never_negative() {
        let start = parse_instant("2026-03-14T09:19:40Z").unwrap();
        let end = parse_instant("2026-03-14T09:26:53Z").unwrap();

        assert_eq!(duration_ms(start, end), 433_000);
        assert_eq!(duration_ms(end, start), 0);
    }
}
