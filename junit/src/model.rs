//! Test runs as the writer needs them, and the assembly of one run from the
//! attributes and result elements of a `<testcase>` (or of a suite that
//! reports an error of its own).

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

/// One Octane `test_run`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TestRun {
    pub(crate) name: String,
    pub(crate) package: String,
    pub(crate) class: String,
    pub(crate) status: Status,
    pub(crate) duration_ms: i64,
    pub(crate) started_ms: i64,
    pub(crate) error: Option<RunError>,
}

/// The `<error>` element of a failed run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunError {
    pub(crate) kind: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) stack_trace: String,
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

    /// Builds the `<error>` element: the first error, else the first failure,
    /// else the first failed rerun gives `type` and `message`.
    fn into_error(self) -> Option<RunError> {
        let detail = self
            .first_error
            .or(self.first_failure)
            .or(self.first_rerun)?;
        Some(RunError {
            kind: detail.kind,
            message: detail.message,
            stack_trace: self.stack_trace,
        })
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

/// Maps a case to a run, written into `run` so its string buffers are
/// reused from case to case. `inherited_started_ms` is the nearest suite
/// timestamp, or the build start when no suite has one.
pub(crate) fn build_run(
    attributes: &CaseAttributes,
    results: ResultSet,
    inherited_started_ms: i64,
    notes: &mut MappingNotes,
    run: &mut TestRun,
) {
    let mut name = attributes.name.trim();
    if name.is_empty() {
        notes.unnamed += 1;
        name = UNNAMED;
    }
    let (package, class) = rules::split_classname(&attributes.classname);
    for (target, text) in [
        (&mut run.name, name),
        (&mut run.package, package),
        (&mut run.class, class),
    ] {
        let (kept, was_cut) = rules::cut_name(text);
        notes.names_cut += u64::from(was_cut);
        target.clear();
        target.push_str(kept);
    }

    let time = attributes.time.as_deref().unwrap_or("");
    run.duration_ms = match rules::parse_duration(time) {
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
    run.started_ms = attributes
        .timestamp
        .as_deref()
        .and_then(parse_timestamp)
        .unwrap_or(inherited_started_ms);

    run.status = rules::status_of(results.flags);
    notes.stack_traces_cut += u64::from(results.stack_trace_cut);
    run.error = if run.status == Status::Failed {
        results.into_error()
    } else {
        None
    };
}

impl Default for TestRun {
    fn default() -> Self {
        TestRun {
            name: String::new(),
            package: String::new(),
            class: String::new(),
            status: Status::Passed,
            duration_ms: 0,
            started_ms: 0,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(
        attributes: &CaseAttributes,
        results: ResultSet,
        inherited_started_ms: i64,
        notes: &mut MappingNotes,
    ) -> TestRun {
        let mut run = TestRun::default();
        build_run(attributes, results, inherited_started_ms, notes, &mut run);
        run
    }

    #[test]
    fn reused_run_fully_overwritten() {
        let mut notes = MappingNotes::default();
        let mut failing = ResultSet::default();
        failing.add(ResultKind::Failure, Detail::default(), "trace");
        let first = CaseAttributes {
            name: "first".into(),
            classname: "a.b.C".into(),
            time: Some("2".into()),
            timestamp: Some("2024-01-03T12:27:11Z".into()),
        };
        let second = CaseAttributes {
            name: "second".into(),
            classname: "D".into(),
            ..Default::default()
        };
        let mut run = TestRun::default();

        build_run(&first, failing, 7, &mut notes, &mut run);
        build_run(&second, ResultSet::default(), 7, &mut notes, &mut run);

        assert_eq!(run, run_of(&second, ResultSet::default(), 7, &mut notes));
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

        let run = run_of(&attributes, results, 5, &mut MappingNotes::default());

        assert_eq!(run.status, Status::Failed);
        let error = run.error.expect("failed run has an error");
        assert_eq!(error.kind.as_deref(), Some("IOError"));
        assert_eq!(error.message.as_deref(), Some("first line"));
        assert_eq!(
            error.stack_trace,
            "body one\n\nfirst line\nsecond\n\nbody three"
        );
        assert_eq!(run.started_ms, 5);
    }

    #[test]
    fn flaky_only_passes_without_error() {
        let mut results = ResultSet::default();
        results.add(ResultKind::Flaky, detail("X", Some("m")), "trace");
        let run = run_of(
            &CaseAttributes::default(),
            results,
            0,
            &mut MappingNotes::default(),
        );
        assert_eq!(run.status, Status::Passed);
        assert_eq!(run.error, None);
        assert_eq!(run.name, UNNAMED);
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
        let run = run_of(&CaseAttributes::default(), results, 0, &mut notes);
        assert_eq!(run.error.expect("error").stack_trace.len(), STACK_TRACE_CAP);
        assert_eq!(notes.stack_traces_cut, 1);
    }

    #[test]
    fn negative_time_noted() {
        let attributes = CaseAttributes {
            time: Some("-3".into()),
            ..Default::default()
        };
        let mut notes = MappingNotes::default();
        let run = run_of(&attributes, ResultSet::default(), 0, &mut notes);
        assert_eq!(run.duration_ms, 0);
        assert_eq!(notes.negative_times, 1);
        assert_eq!(notes.first_bad_time.as_deref(), Some("-3"));
    }
}
