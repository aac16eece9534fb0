//! Lenient parser for JUnit `timestamp` attributes, giving epoch milliseconds
//! for the Octane `started` attribute.
//!
//! Producers disagree on the form: RFC 3339 with `Z` or an offset, naive
//! local or UTC time (pytest, jest-junit), a space or `T ` instead of `T`,
//! fractions of any length, a ` UTC` suffix (TestNG), Go's
//! `+0000 UTC` and a bare date. A time without a zone is read as UTC because
//! the file does not say which zone the producer used. Dates before 1970
//! (Go's and .NET's zero time `0001-01-01`) mean "unknown".

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Parses a timestamp into epoch milliseconds, or `None` when the form is
/// unknown or the date is before 1970.
pub(crate) fn parse_timestamp(raw: &str) -> Option<i64> {
    let text = normalize(raw)?;
    let millis = parse_with_zone(&text)
        .or_else(|| parse_naive(&text))
        .or_else(|| parse_date(&text))?;
    (millis >= 0).then_some(millis)
}

/// Trims, drops a ` UTC`/` GMT` suffix and turns `T ` or a space between
/// date and time into `T`.
fn normalize(raw: &str) -> Option<String> {
    let mut text = raw.trim().to_string();
    for suffix in [" UTC", " GMT"] {
        if let Some(stripped) = text.strip_suffix(suffix) {
            text = stripped.trim_end().to_string();
        }
    }
    if text.len() < 10 || !text.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = text.split_at(10);
    let rest = rest.trim_start_matches(['T', ' ']).trim_start();
    if rest.is_empty() {
        return Some(date.to_string());
    }
    // Go writes `2024-01-03 12:27:54 +0000`; join the zone to the time.
    let rest = rest.replacen(" +", "+", 1).replacen(" -", "-", 1);
    Some(format!("{date}T{rest}"))
}

fn parse_with_zone(text: &str) -> Option<i64> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.timestamp_millis());
    }
    // Offsets without a colon (`+0100`).
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|parsed| parsed.timestamp_millis())
}

fn parse_naive(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|parsed| parsed.and_utc().timestamp_millis())
}

fn parse_date(text: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-03T12:27:11Z in epoch milliseconds.
    const BASE: i64 = 1_704_284_831_000;

    #[test]
    fn accepted_forms() {
        let cases = [
            ("2024-01-03T12:27:11Z", BASE),
            ("2024-01-03T12:27:11", BASE),
            ("2024-01-03 12:27:11", BASE),
            ("2024-01-03T 12:27:11", BASE),
            ("2024-01-03T12:27:11 UTC", BASE),
            ("2024-01-03 12:27:11 +0000 UTC", BASE),
            ("2024-01-03T13:27:11+01:00", BASE),
            ("2024-01-03T13:27:11+0100", BASE),
            ("2024-01-03T11:27:11.21-01:00", BASE + 210),
            ("2024-01-03T12:27:11.815873", BASE + 815),
            ("2024-01-03 12:27:11Z", BASE),
            ("  2024-01-03T12:27:11Z  ", BASE),
            ("2024-01-03", BASE - (12 * 3600 + 27 * 60 + 11) * 1000),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_timestamp(raw), Some(expected), "timestamp {raw:?}");
        }
    }

    #[test]
    fn rejected_forms() {
        let cases = [
            "",
            "yesterday",
            "0001-01-01T00:00:00Z",
            "0001-01-01 00:00:00 +0000 UTC",
            "Mon Apr 01 2024 10:00:00 GMT+0000 (Coordinated Universal Time)",
            "2024-13-40T00:00:00",
            "é2024-01-03",
        ];
        for raw in cases {
            assert_eq!(parse_timestamp(raw), None, "timestamp {raw:?}");
        }
    }
}
