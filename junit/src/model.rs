//! Test runs as the writer needs them, and the assembly of one run from the
//! attributes and result elements of a `<testcase>` (or of a suite that
//! reports an error of its own).
//!
//! The reader collects a case into a [`RawRun`]; [`build_run`] maps it to
//! the [`RunView`] the writer formats. Both borrow their texts, so the
//! mapping copies nothing, and it runs on the output thread, away from the
//! parser.

use super::rules::{self, Duration, ResultFlags, Status};
use super::timestamp::parse_timestamp;

/// Maximum bytes of the stack trace of one run (all result bodies together).
pub(crate) const STACK_TRACE_CAP: usize = 64 << 10;
/// Maximum bytes of an error message.
pub(crate) const MESSAGE_CAP: usize = 4 << 10;
/// Maximum bytes of an error type.
pub(crate) const TYPE_CAP: usize = 1 << 10;
/// Maximum bytes kept of names while reading; the writer's limit is lower.
pub(crate) const NAME_READ_CAP: usize = 4 << 10;

/// Name given to a case without a name, as the Octane Jenkins plugin does.
pub(crate) const UNNAMED: &str = "[noName]";

/// One Octane `test_run`, with texts borrowed from a [`RawRun`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RunView<'a> {
    pub(crate) name: &'a str,
    pub(crate) package: &'a str,
    pub(crate) class: &'a str,
    pub(crate) status: Status,
    pub(crate) duration_ms: i64,
    pub(crate) started_ms: i64,
    pub(crate) error: Option<ErrorView<'a>>,
}

/// The `<error>` element of a failed run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ErrorView<'a> {
    pub(crate) kind: Option<&'a str>,
    pub(crate) message: Option<&'a str>,
    pub(crate) stack_trace: &'a str,
}

/// A case (or a suite with an error of its own) as read, before mapping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RawRun<'a> {
    pub(crate) name: &'a str,
    pub(crate) classname: &'a str,
    pub(crate) time: Option<&'a str>,
    pub(crate) timestamp: Option<&'a str>,
    /// The nearest suite timestamp, or the build start when no suite has one.
    pub(crate) inherited_started_ms: i64,
    pub(crate) flags: ResultFlags,
    pub(crate) stack_trace_cut: bool,
    /// Type, message and stack trace when the run failed.
    pub(crate) error: Option<ErrorView<'a>>,
}

impl RawRun<'_> {
    pub(crate) fn status(&self) -> Status {
        rules::status_of(self.flags)
    }
}

/// Kind of a result element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ResultKind {
    Failure,
    Error,
    Skipped,
    Flaky,
    Rerun,
}

impl ResultKind {
    pub(crate) fn from_element(name: &str) -> Option<ResultKind> {
        match name {
            "failure" => Some(ResultKind::Failure),
            "error" => Some(ResultKind::Error),
            "skipped" => Some(ResultKind::Skipped),
            "flakyFailure" | "flakyError" => Some(ResultKind::Flaky),
            "rerunFailure" | "rerunError" => Some(ResultKind::Rerun),
            _ => None,
        }
    }
}

/// `type` and `message` of one result element.
#[derive(Clone, Debug, Default)]
pub(crate) struct Detail {
    pub(crate) kind: Option<String>,
    pub(crate) message: Option<String>,
}

/// Statuses, details and bodies collected from the result elements of one case (or suite).
#[derive(Debug, Default)]
pub(crate) struct ResultSet {
    pub(crate) flags: ResultFlags,
    first_error: Option<Detail>,
    first_failure: Option<Detail>,
    first_rerun: Option<Detail>,
    stack_trace: String,
    pub(crate) stack_trace_cut: bool,
}

impl ResultSet {
    /// Records a finished result element with its body text.
    pub(crate) fn add(&mut self, kind: ResultKind, mut detail: Detail, body: &str) {
        let body = body.trim();
        if detail.message.is_none() {
            detail.message = body
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .map(|line| rules::cut_bytes(line, MESSAGE_CAP).to_string());
        }
        let slot = match kind {
            ResultKind::Error => {
                self.flags.error = true;
                &mut self.first_error
            }
            ResultKind::Failure => {
                self.flags.failure = true;
                &mut self.first_failure
            }
            ResultKind::Rerun => {
                self.flags.rerun = true;
                &mut self.first_rerun
            }
            ResultKind::Skipped => {
                self.flags.skipped = true;
                return;
            }
            ResultKind::Flaky => {
                self.append_body(body);
                return;
            }
        };
        if slot.is_none() {
            *slot = Some(detail);
        }
        self.append_body(body);
    }

    fn append_body(&mut self, body: &str) {
        if body.is_empty() {
            return;
        }
        let separator = if self.stack_trace.is_empty() {
            ""
        } else {
            "\n\n"
        };
        let room = STACK_TRACE_CAP.saturating_sub(self.stack_trace.len() + separator.len());
        let kept = rules::cut_bytes(body, room);
        if kept.len() < body.len() {
            self.stack_trace_cut = true;
        }
        if !kept.is_empty() {
            self.stack_trace.push_str(separator);
            self.stack_trace.push_str(kept);
        }
    }

    /// True when a suite carried `<error>` or `<failure>` of its own.
    pub(crate) fn has_failure(&self) -> bool {
        self.flags.error || self.flags.failure
    }

    /// Returns the case read with `attributes` and these results. A failed run
    /// takes the type and message of the first error, else of the first
    /// failure, else of the first failed rerun.
    pub(crate) fn raw_run<'a>(
        &'a self,
        attributes: &'a CaseAttributes,
        inherited_started_ms: i64,
    ) -> RawRun<'a> {
        let failed = rules::status_of(self.flags) == Status::Failed;
        let detail = self
            .first_error
            .as_ref()
            .or(self.first_failure.as_ref())
            .or(self.first_rerun.as_ref())
            .filter(|_| failed);
        RawRun {
            name: &attributes.name,
            classname: &attributes.classname,
            time: attributes.time.as_deref(),
            timestamp: attributes.timestamp.as_deref(),
            inherited_started_ms,
            flags: self.flags,
            stack_trace_cut: self.stack_trace_cut,
            error: detail.map(|detail| ErrorView {
                kind: detail.kind.as_deref(),
                message: detail.message.as_deref(),
                stack_trace: &self.stack_trace,
            }),
        }
    }
}

/// Attributes of a `<testcase>` (or of a failing suite) before mapping.
#[derive(Debug, Default)]
pub(crate) struct CaseAttributes {
    pub(crate) name: String,
    pub(crate) classname: String,
    pub(crate) time: Option<String>,
    pub(crate) timestamp: Option<String>,
}

/// Per-file counters of values that were changed while mapping.
#[derive(Debug, Default)]
pub(crate) struct MappingNotes {
    pub(crate) negative_times: u64,
    pub(crate) invalid_times: u64,
    pub(crate) too_large_times: u64,
    pub(crate) first_bad_time: Option<String>,
    pub(crate) names_cut: u64,
    pub(crate) unnamed: u64,
    pub(crate) stack_traces_cut: u64,
}

/// Maps a case to a run and counts in `notes` what was changed.
pub(crate) fn build_run<'a>(raw: &RawRun<'a>, notes: &mut MappingNotes) -> RunView<'a> {
    let mut name = raw.name.trim();
    if name.is_empty() {
        notes.unnamed += 1;
        name = UNNAMED;
    }
    let (package, class) = rules::split_classname(raw.classname);
    let [name, package, class] = [name, package, class].map(|text| {
        let (kept, was_cut) = rules::cut_name(text);
        notes.names_cut += u64::from(was_cut);
        kept
    });

    let time = raw.time.unwrap_or("");
    let duration_ms = match rules::parse_duration(time) {
        Duration::Millis(millis) => millis,
        Duration::Negative => {
            notes.negative_times += 1;
            notes.first_bad_time.get_or_insert_with(|| time.to_string());
            0
        }
        Duration::Invalid => {
            notes.invalid_times += 1;
            notes.first_bad_time.get_or_insert_with(|| time.to_string());
            0
        }
        Duration::TooLarge => {
            notes.too_large_times += 1;
            notes.first_bad_time.get_or_insert_with(|| time.to_string());
            0
        }
    };
    let started_ms = raw
        .timestamp
        .and_then(parse_timestamp)
        .unwrap_or(raw.inherited_started_ms);
    notes.stack_traces_cut += u64::from(raw.stack_trace_cut);
    RunView {
        name,
        package,
        class,
        status: raw.status(),
        duration_ms,
        started_ms,
        error: raw.error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type, message and stack trace of a mapped run.
    type OwnedError = (Option<String>, Option<String>, String);

    /// Maps a case and returns its name, status, duration, start and error.
    fn run_of(
        attributes: &CaseAttributes,
        results: &ResultSet,
        inherited_started_ms: i64,
        notes: &mut MappingNotes,
    ) -> (String, Status, i64, i64, Option<OwnedError>) {
        let raw = results.raw_run(attributes, inherited_started_ms);
        let run = build_run(&raw, notes);
        let error = run.error.map(|error| {
            (
                error.kind.map(str::to_string),
                error.message.map(str::to_string),
                error.stack_trace.to_string(),
            )
        });
        (
            run.name.to_string(),
            run.status,
            run.duration_ms,
            run.started_ms,
            error,
        )
    }

    #[test]
    fn error_only_for_failed_runs() {
        let mut skipped = ResultSet::default();
        skipped.add(ResultKind::Skipped, Detail::default(), "reason");
        skipped.add(ResultKind::Flaky, detail("X", Some("m")), "trace");
        let attributes = CaseAttributes::default();
        let raw = skipped.raw_run(&attributes, 7);
        assert_eq!(raw.status(), Status::Skipped);
        assert_eq!(raw.error, None);
    }

    fn detail(kind: &str, message: Option<&str>) -> Detail {
        Detail {
            kind: Some(kind.to_string()),
            message: message.map(str::to_string),
        }
    }

    #[test]
    fn first_error_wins_and_bodies_join() {
        let mut results = ResultSet::default();
        results.add(ResultKind::Skipped, Detail::default(), "skip reason");
        results.add(
            ResultKind::Failure,
            detail("AssertionError", Some("f1")),
            "\nbody one\n",
        );
        results.add(
            ResultKind::Error,
            detail("IOError", None),
            "first line\nsecond",
        );
        results.add(ResultKind::Error, detail("Other", Some("e2")), "body three");
        let attributes = CaseAttributes {
            name: "t".into(),
            ..Default::default()
        };

        let (_, status, _, started_ms, error) =
            run_of(&attributes, &results, 5, &mut MappingNotes::default());

        assert_eq!(status, Status::Failed);
        let (kind, message, stack_trace) = error.expect("failed run has an error");
        assert_eq!(kind.as_deref(), Some("IOError"));
        assert_eq!(message.as_deref(), Some("first line"));
        assert_eq!(stack_trace, "body one\n\nfirst line\nsecond\n\nbody three");
        assert_eq!(started_ms, 5);
    }

    #[test]
    fn flaky_only_passes_without_error() {
        let mut results = ResultSet::default();
        results.add(ResultKind::Flaky, detail("X", Some("m")), "trace");
        let (name, status, _, _, error) = run_of(
            &CaseAttributes::default(),
            &results,
            0,
            &mut MappingNotes::default(),
        );
        assert_eq!(status, Status::Passed);
        assert_eq!(error, None);
        assert_eq!(name, UNNAMED);
    }

    #[test]
    fn stack_trace_capped() {
        let mut results = ResultSet::default();
        results.add(
            ResultKind::Failure,
            Detail::default(),
            &"x".repeat(STACK_TRACE_CAP + 1),
        );
        results.add(ResultKind::Failure, Detail::default(), "more");
        let mut notes = MappingNotes::default();
        let (_, _, _, _, error) = run_of(&CaseAttributes::default(), &results, 0, &mut notes);
        assert_eq!(error.expect("error").2.len(), STACK_TRACE_CAP);
        assert_eq!(notes.stack_traces_cut, 1);
    }

    #[test]
    fn negative_time_noted() {
        let attributes = CaseAttributes {
            time: Some("-3".into()),
            ..Default::default()
        };
        let mut notes = MappingNotes::default();
        let (_, _, duration_ms, _, _) = run_of(&attributes, &ResultSet::default(), 0, &mut notes);
        assert_eq!(duration_ms, 0);
        assert_eq!(notes.negative_times, 1);
        assert_eq!(notes.first_bad_time.as_deref(), Some("-3"));
    }
}
