//! Test-result uploads: `POST .../test-results?skip-errors=true`, then the task status.
//!
//! Octane queues an accepted upload (202 with a task id) and processes it later. The tool polls
//! the task until it leaves `queued` and `running`, within a bounded wait.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;
use ureq::http::Method;

use super::session::{Body, Session};
use crate::target::Target;

/// Maximum wait for Octane to process one upload. Octane goes on processing after that, but
/// the tool stops polling.
const MAX_TASK_WAIT: Duration = Duration::from_secs(60);
/// Time kept free before the `timeout` deadline for the status request itself and the sign-out.
const POLL_MARGIN: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct Accepted {
    id: serde_json::Value,
}

#[derive(Deserialize)]
struct TaskStatus {
    status: String,
    #[serde(rename = "errorDetails")]
    error_details: Option<serde_json::Value>,
}

/// How Octane ended processing an upload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TaskOutcome {
    /// Final status `success`.
    Success,
    /// Another final status (`warning`, `failed`), with Octane's error details.
    Finished { status: String, details: String },
    /// Still queued or running when the wait ended.
    Pending { status: String },
}

/// Uploads one payload and waits for Octane to process it. `poll_interval` is the first wait
/// between status requests; it doubles up to 5 seconds.
pub(crate) fn upload_test_results(
    session: &mut Session,
    target: &Target,
    payload: &Path,
    poll_interval: Duration,
) -> anyhow::Result<(String, TaskOutcome)> {
    let url = format!("{}/test-results?skip-errors=true", target.api());
    let reply = session.send_ok(Method::POST, &url, &Body::XmlFile(payload))?;
    if reply.status != 202 && reply.status != 200 && reply.status != 201 {
        bail!(
            "POST /test-results returned HTTP {} instead of 202",
            reply.status
        );
    }
    let accepted: Accepted =
        serde_json::from_str(&reply.body).context("invalid JSON in the test-results response")?;
    let id = match accepted.id {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s,
        other => bail!("the test-results response has an invalid task id `{other}`"),
    };

    let task_url = format!("{}/test-results/{id}", target.api());
    let started = Instant::now();
    let mut wait = poll_interval;
    let mut status = "queued".to_string();
    loop {
        // Octane accepted the upload, so running out of time only ends the watching.
        if started.elapsed() + wait >= MAX_TASK_WAIT || session.remaining() <= wait + POLL_MARGIN {
            return Ok((id, TaskOutcome::Pending { status }));
        }
        std::thread::sleep(wait);
        let reply = session.send_ok(Method::GET, &task_url, &Body::Empty)?;
        let task: TaskStatus = serde_json::from_str(&reply.body)
            .with_context(|| format!("invalid JSON in the status of test-results task {id}"))?;
        status = task.status.to_ascii_lowercase();
        if status != "queued" && status != "running" {
            let outcome = if status == "success" {
                TaskOutcome::Success
            } else {
                let details = task.error_details.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                TaskOutcome::Finished {
                    status,
                    details: details.unwrap_or_default(),
                }
            };
            return Ok((id, outcome));
        }
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}
