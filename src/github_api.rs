//! The run start time from the GitHub REST API.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use ureq::http::{Request, header};

use crate::ci::GitHubRun;
use crate::octane::USER_AGENT;
use crate::settings::Secret;
use crate::time::parse_instant;

#[derive(Deserialize)]
struct RunAttempt {
    run_started_at: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    message: Option<String>,
}

/// Reads `run_started_at` of this run attempt:
/// `GET {api}/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt}`.
pub(crate) fn run_started_at(
    agent: &ureq::Agent,
    run: &GitHubRun,
    token: &Secret,
) -> anyhow::Result<DateTime<Utc>> {
    let url = format!(
        "{}/repos/{}/actions/runs/{}/attempts/{}",
        run.api_url, run.repository, run.run_id, run.attempt
    );
    let request = Request::get(&url)
        .header(header::ACCEPT, "application/vnd.github+json")
        .header(header::AUTHORIZATION, format!("Bearer {}", token.expose()))
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header(header::USER_AGENT, USER_AGENT)
        .body(())
        .context("invalid GitHub API request")?;
    let request = agent
        .configure_request(request)
        .timeout_global(Some(Duration::from_secs(15)))
        .build();
    let mut response = agent.run(request).context("GitHub API request failed")?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .context("cannot read the GitHub API response")?;
    if status != 200 {
        let message = serde_json::from_str::<ApiError>(&body)
            .ok()
            .and_then(|e| e.message)
            .unwrap_or_default();
        let hint = if status == 403 || status == 404 {
            " (the token needs `actions: read` permission)"
        } else {
            ""
        };
        bail!("GitHub API request failed with HTTP {status} {message}{hint}");
    }
    let attempt: RunAttempt =
        serde_json::from_str(&body).context("invalid JSON from the GitHub API")?;
    let Some(started) = attempt.run_started_at else {
        bail!("the GitHub API response has no `run_started_at`");
    };
    parse_instant(&started).with_context(|| {
        format!(
            "invalid `run_started_at` `{}` from the GitHub API",
            started.escape_default()
        )
    })
}
