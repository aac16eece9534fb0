//! The build's test results: found by `test_results` patterns, converted before the build is
//! reported (so failed tests can make the build `unstable`), uploaded after it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use junit::{BuildRef, ConvertOptions, Counts};

use crate::ci::BuildContext;
use crate::log::Log;
use crate::octane::{self, Session, TaskOutcome};
use crate::outputs::markdown_cell;
use crate::target::Target;

/// First wait between task status requests.
const FIRST_POLL: Duration = Duration::from_millis(500);

/// A private folder of converted payloads (mode 0700, random name), removed when dropped.
pub(crate) struct PayloadDir {
    dir: tempfile::TempDir,
}

impl PayloadDir {
    fn create() -> anyhow::Result<PayloadDir> {
        let dir = tempfile::Builder::new()
            .prefix("octane-report-")
            .tempdir()
            .context("cannot create a temporary folder for test-result payloads")?;
        Ok(PayloadDir { dir })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Converted test results, ready to upload.
pub(crate) struct PreparedTests {
    pub(crate) payloads: Vec<PathBuf>,
    /// Runs per payload, in the order of `payloads`.
    pub(crate) payload_counts: Vec<Counts>,
    pub(crate) counts: Counts,
    pub(crate) first_failures: Vec<String>,
    /// Report files that could not be read, with the reason.
    pub(crate) bad_files: usize,
    /// Kept so the payload files live until the run ends.
    _payload_dir: PayloadDir,
}

/// Finds and converts the reports that `patterns` match under the workspace. Each bad file and
/// each pattern that matches nothing is logged by name; the other files still go out.
pub(crate) fn prepare(
    patterns: &str,
    context: &BuildContext,
    start: DateTime<Utc>,
    log: &Log,
) -> anyhow::Result<PreparedTests> {
    let expansion =
        junit::expand_patterns(patterns, &context.workspace).context("invalid `test_results`")?;
    for pattern in &expansion.unmatched {
        log.warn(&format!(
            "test_results pattern `{pattern}` matched no file under `{}`",
            context.workspace.display()
        ));
    }
    let dir = PayloadDir::create()?;
    let options = ConvertOptions {
        build: Some(BuildRef {
            server_id: context.server_id.clone(),
            job_id: context.job_id.clone(),
            build_id: context.build_id.clone(),
        }),
        default_started_ms: start.timestamp_millis(),
        external_report_url: context.run_url.clone(),
    };
    let conversion = junit::convert_to_payloads(&expansion.files, &options, dir.path())?;
    for warning in &conversion.warnings {
        log.warn(warning);
    }
    for error in &conversion.file_errors {
        log.error(&format!(
            "cannot read test report `{}`: {}",
            error.path.display(),
            error.reason
        ));
    }
    let counts = conversion.counts;
    log.info(&format!(
        "test results: {} passed, {} failed, {} skipped, from report files: {}, uploads: {}",
        counts.passed,
        counts.failed,
        counts.skipped,
        conversion.files_converted,
        conversion.payloads.len()
    ));
    Ok(PreparedTests {
        payloads: conversion.payloads,
        payload_counts: conversion.payload_counts,
        counts,
        first_failures: conversion.first_failures,
        bad_files: conversion.file_errors.len(),
        _payload_dir: dir,
    })
}

/// Uploads every payload in order. Stops at the first upload Octane does not accept.
pub(crate) fn upload(
    session: &mut Session,
    target: &Target,
    payloads: &[PathBuf],
    counts: &[Counts],
    log: &Log,
) -> anyhow::Result<()> {
    let total = payloads.len();
    for (index, payload) in payloads.iter().enumerate() {
        let (task, outcome) = octane::upload_test_results(session, target, payload, FIRST_POLL)
            .with_context(|| format!("cannot upload test results {} of {total}", index + 1))?;
        // A replayed spool entry has no counts.
        let tally = counts.get(index).map_or(String::new(), |c| {
            format!(
                ": {} passed, {} failed, {} skipped",
                c.passed, c.failed, c.skipped
            )
        });
        match outcome {
            TaskOutcome::Success => {
                log.info(&format!(
                    "test results {} of {total} processed by Octane (task {task}){tally}",
                    index + 1
                ));
            }
            TaskOutcome::Pending { status } => log.warn(&format!(
                "test results {} of {total} still `{status}` in Octane (task {task}); Octane processes them later",
                index + 1
            )),
            TaskOutcome::Finished { status, details } => {
                anyhow::bail!(
                    "Octane ended test-results task {task} ({} of {total}) with status `{status}`: {details}",
                    index + 1
                )
            }
        }
    }
    Ok(())
}

/// Step outputs with the test counts.
pub(crate) fn outputs(tests: &PreparedTests) -> [(&'static str, String); 3] {
    [
        ("tests_passed", tests.counts.passed.to_string()),
        ("tests_failed", tests.counts.failed.to_string()),
        ("tests_skipped", tests.counts.skipped.to_string()),
    ]
}

/// Job summary lines with the counts and the first failed tests.
pub(crate) fn summary(tests: &PreparedTests) -> String {
    let counts = tests.counts;
    let mut text = format!(
        "| Tests | {} passed, {} failed, {} skipped |\n",
        counts.passed, counts.failed, counts.skipped
    );
    if !tests.first_failures.is_empty() {
        text.push_str("\nFirst failed tests:\n\n");
        for name in &tests.first_failures {
            let _ = writeln!(text, "- `{}`", markdown_cell(name).replace('`', "'"));
        }
    }
    text
}
