//! Delivery of one build to Octane, shared by `report` and `replay`: sign in, register the CI
//! server and the pipeline, send the build report and the test results, sign out. What
//! cannot be delivered goes to the spool.

use std::path::{Path, PathBuf};

use junit::Counts;

use crate::log::Log;
use crate::octane::{self, BuildReport, Ensured, Registration, Session};
use crate::spool::{self, Entry};
use crate::target::Target;
use crate::test_upload;

/// Entity ids returned by Octane.
pub(crate) struct Delivered {
    pub(crate) server: Ensured,
    pub(crate) pipeline: Ensured,
}

/// Everything one delivery sends.
pub(crate) struct Job<'a> {
    pub(crate) target: &'a Target,
    pub(crate) registration: &'a Registration,
    pub(crate) report: &'a BuildReport,
    /// Octane test-result XML files, uploaded after the build report.
    pub(crate) test_payloads: &'a [PathBuf],
    /// Runs per payload, for the log; empty when replaying.
    pub(crate) test_counts: &'a [Counts],
}

/// Octane entity ids learned so far, kept when a later request fails.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) server_id: Option<String>,
    pub(crate) pipeline_id: Option<String>,
}

/// Delivers a job in one signed-in session. `found` receives each entity id as soon as it is
/// known, so a caller can still name them after a failure.
pub(crate) fn deliver(
    session: &mut Session,
    job: &Job,
    found: &mut Found,
    log: &Log,
) -> anyhow::Result<Delivered> {
    session.sign_in()?;
    let result = deliver_signed_in(session, job, found, log);
    if let Err(e) = session.sign_out() {
        log.warn(&format!("sign-out failed: {e:#}"));
    }
    result
}

fn deliver_signed_in(
    session: &mut Session,
    job: &Job,
    found: &mut Found,
    log: &Log,
) -> anyhow::Result<Delivered> {
    let Job {
        target,
        registration,
        report,
        test_payloads,
        test_counts,
    } = job;
    let server = octane::ensure_server(session, target, registration)?;
    found.server_id = Some(server.id.clone());
    log.info(&format!(
        "CI server {} {} (id {})",
        registration.server_id,
        if server.created {
            "registered"
        } else {
            "found"
        },
        server.id
    ));
    let pipeline = octane::ensure_pipeline(session, target, registration, &server.id)?;
    found.pipeline_id = Some(pipeline.id.clone());
    log.info(&format!(
        "pipeline {} {} (id {})",
        registration.pipeline_name,
        if pipeline.created { "created" } else { "found" },
        pipeline.id
    ));
    octane::report_build(session, target, report)?;
    log.info(&format!(
        "build {} reported to {}: {}, duration {} ms",
        report.build_ci_id,
        target.host(),
        report.result,
        report.duration
    ));
    test_upload::upload(session, target, test_payloads, test_counts, log)?;
    Ok(Delivered { server, pipeline })
}

/// Writes an undelivered job to the spool and logs where. Returns the entry's folder, or
/// `None` when even the spool could not be written.
pub(crate) fn spool_job(
    spool_dir: &Path,
    job: &Job,
    error: &anyhow::Error,
    log: &Log,
) -> Option<PathBuf> {
    let entry = Entry::new(
        job.target,
        job.registration,
        job.report,
        log.redact(&format!("{error:#}")),
    );
    match spool::write(spool_dir, &entry, job.test_payloads) {
        Ok(path) => {
            log.warn(&format!(
                "the undelivered report was saved to {}; keep `{}` (e.g. as a build artifact) \
                 and send it later with `octane-report replay {}`",
                path.display(),
                spool_dir.display(),
                spool_dir.display()
            ));
            Some(path)
        }
        Err(e) => {
            log.error(&format!(
                "the undelivered report could not be saved to the spool, so it is lost: {e:#}"
            ));
            None
        }
    }
}
