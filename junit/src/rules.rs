//! Mapping rules from JUnit attributes to Octane `test_run` fields: status
//! precedence, the `time` parser, the `classname` split and length limits.
//!
//! These functions are pure so the reader can apply them per case and the
//! tests can check every producer quirk without XML around it.

/// Maximum length of Octane name-like attributes (`name`, `package`, `class`),
/// fixed by the test-result XSD.
pub(crate) const OCTANE_NAME_MAX: usize = 255;

/// Octane run status. `Planned` exists in the XSD but is never produced here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Passed,
    Failed,
    Skipped,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "Passed",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
        }
    }
}

/// Result children seen in one `<testcase>`, as far as they decide the status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ResultFlags {
    pub(crate) error: bool,
    pub(crate) failure: bool,
    pub(crate) skipped: bool,
    /// `rerunFailure` or `rerunError`: a Surefire retry that failed again.
    pub(crate) rerun: bool,
}

/// Decides the status: any `failure` or `error` gives Failed, then `skipped`
/// gives Skipped, else Passed.
///
/// `flakyFailure`/`flakyError` never change the status (the test passed on a
/// retry). A `rerunFailure`/`rerunError` without `failure` or `error` means
/// no attempt passed, so it also gives Failed.
pub(crate) fn status_of(flags: ResultFlags) -> Status {
    if flags.error || flags.failure || flags.rerun {
        Status::Failed
    } else if flags.skipped {
        Status::Skipped
    } else {
        Status::Passed
    }
}

/// Outcome of parsing a `time` attribute.
#[derive(Debug, PartialEq)]
pub(crate) enum Duration {
    /// Milliseconds, never negative.
    Millis(i64),
    /// The value was negative and was replaced by 0.
    Negative,
    /// The value could not be read and was replaced by 0.
    Invalid,
    /// The value was above [`MAX_DURATION_MS`] and was replaced by 0.
    TooLarge,
}

/// Maximum duration taken as real: 100 days in milliseconds. Longer values
/// come from a wrong unit or a broken clock, so they are reported as 0.
pub(crate) const MAX_DURATION_MS: i64 = 100 * 24 * 3600 * 1000;

/// Parses a JUnit `time` value (seconds) into milliseconds, rounded.
///
/// Accepts an empty or blank value (0), comma thousands separators
/// (`2,503.1`), a lone decimal comma (`0,5`), exponents (`1.4e-05`) and the
/// clock form `[h:]mm:ss[.f]`. Values above [`MAX_DURATION_MS`] give
/// [`Duration::TooLarge`].
pub(crate) fn parse_duration(raw: &str) -> Duration {
    let text = raw.trim();
    if text.is_empty() {
        return Duration::Millis(0);
    }
    if let Some(millis) = parse_plain_millis(text) {
        return checked_millis(millis);
    }
    let seconds = match parse_seconds(text) {
        Some(value) if value.is_finite() => value,
        _ => return Duration::Invalid,
    };
    if seconds < 0.0 {
        return Duration::Negative;
    }
    // `as` saturates at i64::MAX, which is far above the limit.
    checked_millis((seconds * 1000.0).round() as i64)
}

fn checked_millis(millis: i64) -> Duration {
    if millis > MAX_DURATION_MS {
        Duration::TooLarge
    } else {
        Duration::Millis(millis)
    }
}

/// Parses the common form `123` or `123.4` with at most three decimals
/// exactly, without going through `f64`. The result equals the `f64` path:
/// with at most 12 integer digits the float error stays far below the 0.5 ms
/// that rounding removes. Returns `None` for any other form.
fn parse_plain_millis(text: &str) -> Option<i64> {
    let (integer, fraction) = match text.bytes().position(|byte| byte == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, ""),
    };
    if integer.is_empty()
        || integer.len() > 12
        || fraction.len() > 3
        || (fraction.is_empty() && text.len() > integer.len())
    {
        return None;
    }
    let mut millis: i64 = 0;
    for byte in integer.bytes() {
        if !byte.is_ascii_digit() {
            return None;
        }
        millis = millis * 10 + i64::from(byte - b'0');
    }
    let mut scale = 1000;
    for byte in fraction.bytes() {
        if !byte.is_ascii_digit() {
            return None;
        }
        scale /= 10;
        millis = millis * 10 + i64::from(byte - b'0');
    }
    Some(millis * scale)
}

fn parse_seconds(text: &str) -> Option<f64> {
    if text.contains(':') {
        return parse_clock(text);
    }
    if text.contains(',') {
        let normalized = if is_grouped_thousands(text) {
            text.replace(',', "")
        } else if text.matches(',').count() == 1 && !text.contains('.') {
            text.replace(',', ".")
        } else {
            return None;
        };
        return normalized.parse().ok();
    }
    text.parse().ok()
}

/// True for `1,024` or `-2,503.1`: groups of exactly three digits after the first.
fn is_grouped_thousands(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let integer = unsigned.split('.').next().unwrap_or("");
    let mut groups = integer.split(',');
    let first = groups.next().unwrap_or("");
    let first_ok = (1..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_digit());
    first_ok && groups.all(|group| group.len() == 3 && group.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses `mm:ss(.f)` or `h:mm:ss(.f)` into seconds.
fn parse_clock(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut seconds = 0.0;
    for part in &parts {
        let value: f64 = part.parse().ok()?;
        if value < 0.0 {
            return None;
        }
        seconds = seconds * 60.0 + value;
    }
    Some(seconds)
}

/// Splits a JUnit `classname` into Octane `(package, class)`.
///
/// The first rule that applies wins: a space anywhere (jest, mocha, browser
/// names) keeps everything in `class`; otherwise split at the last `/` (Go
/// import paths), else at the last `::` (Rust, C++), else at the last `.`;
/// without a separator everything goes to `class`.
pub(crate) fn split_classname(classname: &str) -> (&str, &str) {
    let classname = classname.trim();
    // One pass over the bytes: the separators are ASCII, so every match sits
    // on a character boundary.
    let mut last_slash = None;
    let mut last_double_colon = None;
    let mut last_dot = None;
    let mut previous = 0;
    for (index, &byte) in classname.as_bytes().iter().enumerate() {
        match byte {
            b' ' => return ("", classname),
            b'/' => last_slash = Some(index),
            b'.' => last_dot = Some(index),
            // In `:::` the last two colons form the pair, as with `rfind("::")`.
            b':' if previous == b':' => last_double_colon = Some(index - 1),
            _ => {}
        }
        previous = byte;
    }
    let split = |index: usize, length: usize| (&classname[..index], &classname[index + length..]);
    if let Some(index) = last_slash {
        return split(index, 1);
    }
    if let Some(index) = last_double_colon {
        return split(index, 2);
    }
    if let Some(index) = last_dot {
        return split(index, 1);
    }
    ("", classname)
}

/// Cuts `text` to at most [`OCTANE_NAME_MAX`] UTF-16 code units, on a
/// character boundary. Returns the text and whether it was cut.
///
/// UTF-16 units are counted because the server side is Java, where a
/// character outside the BMP has length 2. The cut is then also within the
/// XSD's limit of 255 code points.
pub(crate) fn cut_name(text: &str) -> (&str, bool) {
    // Every character takes at least as many UTF-8 bytes as UTF-16 units.
    if text.len() <= OCTANE_NAME_MAX {
        return (text, false);
    }
    let mut units = 0;
    for (index, ch) in text.char_indices() {
        units += ch.len_utf16();
        if units > OCTANE_NAME_MAX {
            return (&text[..index], true);
        }
    }
    (text, false)
}

/// Cuts `text` to at most `max_bytes` bytes on a character boundary.
pub(crate) fn cut_bytes(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True for characters allowed in an XML 1.0 document.
pub(crate) fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_precedence() {
        let all = ResultFlags {
            error: true,
            failure: true,
            skipped: true,
            rerun: false,
        };
        assert_eq!(status_of(all), Status::Failed);
        let skipped = ResultFlags {
            skipped: true,
            ..Default::default()
        };
        assert_eq!(status_of(skipped), Status::Skipped);
        let rerun_only = ResultFlags {
            rerun: true,
            ..Default::default()
        };
        assert_eq!(status_of(rerun_only), Status::Failed);
        assert_eq!(status_of(ResultFlags::default()), Status::Passed);
    }

    #[test]
    fn duration_forms() {
        let cases = [
            ("", Duration::Millis(0)),
            ("  ", Duration::Millis(0)),
            ("0.0125", Duration::Millis(13)),
            ("3.002", Duration::Millis(3002)),
            ("2,503.1", Duration::Millis(2_503_100)),
            ("1,024", Duration::Millis(1_024_000)),
            ("0,5", Duration::Millis(500)),
            ("1.4e-05", Duration::Millis(0)),
            ("1.6398392E6", Duration::Millis(1_639_839_200)),
            ("1.6398392E8", Duration::TooLarge),
            ("0:00:00.693097", Duration::Millis(693)),
            ("1:02", Duration::Millis(62_000)),
            ("-345345", Duration::Negative),
            ("abc", Duration::Invalid),
            ("NaN", Duration::Invalid),
            ("1,2,3", Duration::Invalid),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_duration(raw), expected, "time {raw:?}");
        }
    }

    #[test]
    fn plain_duration_matches_float_parse() {
        let mut values: Vec<String> = ["0", "7", "0.5", "1.25", "3.002", "999999999999.999", "12."]
            .iter()
            .map(|value| value.to_string())
            .collect();
        for whole in [0, 1, 59, 1234] {
            for millis in 0..1000 {
                values.push(format!("{whole}.{millis:03}"));
                values.push(format!("{whole}.{}", millis / 10));
            }
        }
        for value in values {
            let float = parse_seconds(&value).map(|seconds| (seconds * 1000.0).round() as i64);
            let plain = parse_plain_millis(&value);
            if plain.is_some() {
                assert_eq!(plain, float, "time {value:?}");
            }
        }
        assert_eq!(parse_plain_millis("3.002"), Some(3002));
        assert_eq!(parse_plain_millis("0.0125"), None);
        assert_eq!(parse_plain_millis("12."), None);
        assert_eq!(parse_plain_millis(".5"), None);
        assert_eq!(parse_plain_millis("-1"), None);
    }

    #[test]
    fn duration_over_limit() {
        let limit_seconds = MAX_DURATION_MS / 1000;
        let cases = [
            (limit_seconds.to_string(), Duration::Millis(MAX_DURATION_MS)),
            (format!("{limit_seconds}.001"), Duration::TooLarge),
            ("999999999999".to_string(), Duration::TooLarge),
            ("1e308".to_string(), Duration::TooLarge),
            ("1e400".to_string(), Duration::Invalid),
            ("2400:00:01".to_string(), Duration::TooLarge),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_duration(&raw), expected, "time {raw:?}");
        }
    }

    #[test]
    fn classname_rules() {
        let cases = [
            ("com.example.CalcTest", ("com.example", "CalcTest")),
            ("github.com/org/repo/pkg", ("github.com/org/repo", "pkg")),
            ("my_crate::tests", ("my_crate", "tests")),
            ("a.b::c", ("a.b", "c")),
            ("a:::b", ("a:", "b")),
            ("ns:Test", ("", "ns:Test")),
            (
                "Chrome 30.0.1599 (Mac OS X 10.9.0).Suite",
                ("", "Chrome 30.0.1599 (Mac OS X 10.9.0).Suite"),
            ),
            ("Lonely", ("", "Lonely")),
            ("", ("", "")),
            ("trailing.", ("trailing", "")),
        ];
        for (raw, expected) in cases {
            assert_eq!(split_classname(raw), expected, "classname {raw:?}");
        }
    }

    #[test]
    fn cut_name_counts_utf16_units() {
        let long = "é".repeat(300);
        let (cut, was_cut) = cut_name(&long);
        assert!(was_cut);
        assert_eq!(cut.chars().count(), 255);

        // U+1F600 takes two UTF-16 units, so 127 of them fit and 128 do not.
        let emoji = "\u{1F600}".repeat(200);
        let (cut, was_cut) = cut_name(&emoji);
        assert!(was_cut);
        assert_eq!(cut.chars().count(), 127);

        let short = "short";
        assert_eq!(cut_name(short), ("short", false));
    }

    #[test]
    fn cut_bytes_keeps_char_boundary() {
        assert_eq!(cut_bytes("aé", 2), "a");
        assert_eq!(cut_bytes("abc", 10), "abc");
    }

    #[test]
    fn xml_char_ranges() {
        assert!(is_xml_char('\t'));
        assert!(!is_xml_char('\u{1B}'));
        assert!(!is_xml_char('\u{0}'));
        assert!(!is_xml_char('\u{FFFE}'));
        assert!(is_xml_char('\u{1F600}'));
    }
}
