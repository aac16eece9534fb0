//! Feeds arbitrary text to the timestamp parser of `started_at` and the CI start variables.
//!
//! Every input must parse or fail without a panic. A parsed time must survive a round trip
//! through RFC 3339, and a run of digits at or above the milliseconds threshold must come back
//! as the same number of milliseconds.

#![no_main]

#[allow(dead_code)]
#[path = "../../src/time.rs"]
mod time;

use chrono::SecondsFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = time::parse_instant(text) else {
        return;
    };

    let printed = parsed.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let again = time::parse_instant(&printed).expect("RFC 3339 output parses again");
    assert_eq!(again, parsed, "round trip of {text:?} through {printed:?}");

    let trimmed = text.trim();
    if trimmed.bytes().all(|b| b.is_ascii_digit())
        && let Ok(value) = trimmed.parse::<i64>()
        && value >= 100_000_000_000
    {
        assert_eq!(parsed.timestamp_millis(), value, "milliseconds {text:?}");
    }
    let _ = time::duration_ms(parsed, chrono::Utc::now());
});
