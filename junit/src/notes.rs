//! Turns the per-file counters of cleaning and mapping into warning lines.
//!
//! Each kind of change gives at most one line per file with a count, so a
//! report with a million bad values still prints a handful of lines.

use super::clean::{ATTRIBUTE_CAP, CleanStats, RUN_CAP};
use super::entities::EntityNotes;
use super::model::{MappingNotes, STACK_TRACE_CAP, UNNAMED};
use super::rules::{MAX_DURATION_MS, OCTANE_NAME_MAX};

/// Describes what was dropped, cut or replaced in one file.
pub(crate) fn describe(
    stats: &CleanStats,
    notes: &MappingNotes,
    entities: &EntityNotes,
) -> Vec<String> {
    let mut lines = Vec::new();
    if stats.encoding != "UTF-8" && !stats.encoding.is_empty() {
        lines.push(format!("read as {}", stats.encoding));
    }
    if let Some(label) = &stats.unsupported_encoding {
        lines.push(format!(
            "declared encoding `{label}` is not supported; read as UTF-8"
        ));
    }
    if stats.malformed_encoding {
        lines.push(format!(
            "invalid {} byte sequences replaced with U+FFFD",
            stats.encoding
        ));
    }
    let control = stats.control_chars + entities.illegal_characters;
    if control > 0 {
        lines.push(format!(
            "dropped {control} control characters that XML 1.0 does not allow"
        ));
    }
    if stats.doctypes > 0 {
        lines.push("ignored the document type declaration (DTDs are never processed)".to_string());
    }
    if entities.unknown > 0 {
        let first = entities.first_unknown.as_deref().unwrap_or("");
        lines.push(format!(
            "kept {} references to undeclared entities as text (first: &{first};)",
            entities.unknown
        ));
    }
    if stats.runs_cut > 0 {
        lines.push(format!(
            "cut {} texts longer than {} KiB or attribute values longer than {} KiB",
            stats.runs_cut,
            RUN_CAP >> 10,
            ATTRIBUTE_CAP >> 10
        ));
    }
    if notes.negative_times > 0 {
        lines.push(format!(
            "{} negative times reported as 0 ms",
            notes.negative_times
        ));
    }
    if notes.invalid_times > 0 {
        lines.push(format!(
            "{} unreadable times reported as 0 ms",
            notes.invalid_times
        ));
    }
    if notes.too_large_times > 0 {
        lines.push(format!(
            "{} times over {} days reported as 0 ms",
            notes.too_large_times,
            MAX_DURATION_MS / (24 * 3600 * 1000)
        ));
    }
    if let Some(time) = &notes.first_bad_time {
        lines.push(format!("first bad time value: `{time}`"));
    }
    if notes.names_cut > 0 {
        lines.push(format!(
            "cut {} names, packages or classes to {OCTANE_NAME_MAX} characters",
            notes.names_cut
        ));
    }
    if notes.unnamed > 0 {
        lines.push(format!(
            "{} test cases without a name reported as {UNNAMED}",
            notes.unnamed
        ));
    }
    if notes.stack_traces_cut > 0 {
        lines.push(format!(
            "cut {} stack traces to {} KiB",
            notes.stack_traces_cut,
            STACK_TRACE_CAP >> 10
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_file_gives_no_lines() {
        let stats = CleanStats {
            encoding: "UTF-8",
            ..Default::default()
        };
        assert!(describe(&stats, &MappingNotes::default(), &EntityNotes::default()).is_empty());
    }

    #[test]
    fn each_change_gives_one_line() {
        let stats = CleanStats {
            encoding: "UTF-16LE",
            control_chars: 2,
            doctypes: 1,
            ..Default::default()
        };
        let notes = MappingNotes {
            negative_times: 3,
            first_bad_time: Some("-1".into()),
            ..Default::default()
        };
        let entities = EntityNotes {
            unknown: 1,
            first_unknown: Some("xxe".into()),
            illegal_characters: 1,
        };
        let lines = describe(&stats, &notes, &entities);
        assert_eq!(
            lines,
            [
                "read as UTF-16LE",
                "dropped 3 control characters that XML 1.0 does not allow",
                "ignored the document type declaration (DTDs are never processed)",
                "kept 1 references to undeclared entities as text (first: &xxe;)",
                "3 negative times reported as 0 ms",
                "first bad time value: `-1`",
            ]
        );
    }
}
