//! The main run: settings, build context, start time, then delivery to Octane and CI outputs.

use std::fmt::Write as _;
use std::io::Write as _;

use chrono::{DateTime, Utc};

use crate::build_result::BuildResult;
use crate::ci::{BuildContext, Ci, CiValues, Start};
use crate::delivery::{self, Delivered, Job};
use crate::env::Env;
use crate::github_api;
use crate::log::Log;
use crate::net::Network;
use crate::octane::{self, BuildReport, Registration, RetryPolicy, Session};
use crate::outputs::{GitHubFiles, markdown_cell};
use crate::settings::{Secret, Settings};
use crate::spool;
use crate::target::{Target, parse_target};
use crate::test_upload::{self, PreparedTests};
use crate::time::duration_ms;

/// The end state of a run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Reported, skipped for missing credentials, or printed by a dry run.
    Done,
    /// Delivery failed; the exit code depends on `fail_on_error`.
    DeliveryFailed { fail_on_error: bool },
}

/// An error in the settings or the CI environment (exit code 1).
#[derive(Debug)]
pub(crate) struct InvalidInput(pub(crate) anyhow::Error);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

/// Everything checked before any request is sent.
struct Prepared {
    target: Target,
    tests: Option<PreparedTests>,
    client_id: String,
    client_secret: Secret,
    context: BuildContext,
    report: BuildReport,
}

/// Runs the report. `dry_run_flag` is `--dry-run`; the `dry_run` setting works the same way.
pub(crate) fn run(env: &Env, dry_run_flag: bool, log: &mut Log) -> Result<Outcome, InvalidInput> {
    let now = Utc::now();
    let settings = Settings::load(env).map_err(InvalidInput)?;
    for secret in [&settings.client_secret, &settings.github_token]
        .into_iter()
        .flatten()
    {
        log.add_secret(secret.expose());
    }
    let dry_run = dry_run_flag || settings.dry_run;

    let network = Network::from_env(env, &settings, log).map_err(InvalidInput)?;

    let Some(prepared) =
        prepare(env, &settings, &network, now, dry_run, log).map_err(InvalidInput)?
    else {
        let summary = "### Octane report skipped\n\nNo credentials: `client_id` and \
                       `client_secret` are empty, so nothing was sent.\n";
        if let Err(e) = GitHubFiles::from_env(env).add_summary(summary) {
            log.warn(&format!("{e:#}"));
        }
        return Ok(Outcome::Done);
    };
    let Prepared {
        target,
        tests,
        client_id,
        client_secret,
        context,
        report,
    } = prepared;
    let registration = Registration::from_context(&context);

    let bad_test_files = tests.as_ref().is_some_and(|t| t.bad_files > 0);
    if dry_run {
        print_plan(
            &target,
            &registration,
            &client_id,
            &report,
            tests.as_ref(),
            log,
        );
        return Ok(Outcome::Done);
    }

    let files = GitHubFiles::from_env(env);
    let agent = network.agent_for(&target.base, log).map_err(InvalidInput)?;
    let mut session = Session::new(
        agent,
        &target,
        &client_id,
        &client_secret,
        settings.timeout,
        RetryPolicy::from_env(env),
        log,
    );
    let job = Job {
        target: &target,
        registration: &registration,
        report: &report,
        test_payloads: tests.as_ref().map_or(&[], |t| t.payloads.as_slice()),
        test_counts: tests.as_ref().map_or(&[], |t| t.payload_counts.as_slice()),
    };
    let mut found = delivery::Found::default();
    match delivery::deliver(&mut session, &job, &mut found, log) {
        Ok(delivered) => {
            write_success_outputs(
                &files,
                &target,
                &context,
                &report,
                tests.as_ref(),
                &delivered,
                log,
            );
            if bad_test_files && settings.fail_on_error {
                return Err(InvalidInput(anyhow::anyhow!(
                    "some test reports could not be read (listed above) and `fail_on_error` is true"
                )));
            }
            Ok(Outcome::Done)
        }
        Err(error) => {
            let message = format!("delivery to Octane failed: {error:#}");
            log.error(&message);
            let spool_dir = spool::resolve_dir(settings.spool_dir.as_deref(), &context.workspace);
            let spooled = delivery::spool_job(&spool_dir, &job, &error, log);
            write_found_ids(&files, &target, &found, log);
            write_failure_outputs(&files, &context, &error, spooled.is_some(), &spool_dir, log);
            Ok(Outcome::DeliveryFailed {
                fail_on_error: settings.fail_on_error,
            })
        }
    }
}

/// Writes the entity ids a failed delivery still learned, so later steps can link to them.
fn write_found_ids(files: &GitHubFiles, target: &Target, found: &delivery::Found, log: &Log) {
    let mut outputs = Vec::new();
    if let Some(id) = &found.server_id {
        outputs.push(("server_id", id.clone()));
    }
    if let Some(id) = &found.pipeline_id {
        outputs.push(("pipeline_id", id.clone()));
        outputs.push(("pipeline_url", pipeline_link(target, id)));
    }
    if outputs.is_empty() {
        return;
    }
    if let Err(e) = files.set_outputs(&outputs) {
        log.warn(&format!("{e:#}"));
    }
}

/// Writes the job summary of a failed delivery and, when the report was spooled, the
/// `spool_dir` output. Inside the workspace the path is relative to it, because a Docker
/// action mounts the workspace under another path than later steps use.
fn write_failure_outputs(
    files: &GitHubFiles,
    context: &BuildContext,
    error: &anyhow::Error,
    spooled: bool,
    spool_dir: &std::path::Path,
    log: &Log,
) {
    let shown_dir = spool_dir
        .strip_prefix(&context.workspace)
        .unwrap_or(spool_dir)
        .display()
        .to_string();
    let mut summary = format!(
        "### Octane report failed\n\nThe delivery of build `{}` of `{}` did not complete: {}\n",
        markdown_cell(&context.build_id),
        markdown_cell(&context.pipeline_name),
        markdown_cell(&log.redact(&format!("{error:#}")))
    );
    if spooled {
        let _ = write!(
            summary,
            "\nThe report was saved to `{}`. Keep that folder as an artifact and send it later \
             with `octane-report replay {}`.\n",
            markdown_cell(&shown_dir),
            markdown_cell(&shown_dir)
        );
        if let Err(e) = files.set_outputs(&[("spool_dir", shown_dir.clone())]) {
            log.warn(&format!("{e:#}"));
        }
    }
    if let Err(e) = files.add_summary(&summary) {
        log.warn(&format!("{e:#}"));
    }
}

/// Checks credentials and the target, reads the build context and works out the times.
/// Returns `None` when there are no credentials, which is a skip, not an error.
fn prepare(
    env: &Env,
    settings: &Settings,
    network: &Network,
    now: DateTime<Utc>,
    dry_run: bool,
    log: &Log,
) -> anyhow::Result<Option<Prepared>> {
    let (client_id, client_secret) = match (&settings.client_id, &settings.client_secret) {
        (None, None) => {
            log.warn(
                "no credentials: `client_id` and `client_secret` are empty, so nothing was sent \
                 (normal for pull requests from forks and for unprotected branches)",
            );
            return Ok(None);
        }
        (Some(_), None) => anyhow::bail!("missing `client_secret`: `client_id` is set, set both"),
        (None, Some(_)) => anyhow::bail!("missing `client_id`: `client_secret` is set, set both"),
        (Some(id), Some(secret)) => (id.clone(), secret.clone()),
    };
    let Some(url) = &settings.url else {
        anyhow::bail!(
            "missing `url`: set the Octane URL, e.g. OCTANE_URL=https://HOST/ui/?p=SHARED_SPACE/WORKSPACE"
        );
    };
    let target = parse_target(
        url,
        settings.shared_space.as_deref(),
        settings.workspace.as_deref(),
    )?;
    if target.plain_http {
        log.warn(&format!(
            "`url` uses http://, so the session cookie crosses the network unencrypted to {}",
            target.host()
        ));
    }

    let ci = Ci::detect(env);
    let values = CiValues::read(ci, env)?;
    let context = BuildContext::resolve(ci, values, settings)?;
    let start = resolve_start(&context, settings, network, now, dry_run, log);
    let duration = duration_ms(start.time, now);
    if start.time > now + chrono::Duration::minutes(1) {
        log.warn(&format!(
            "the start time {} from {} is in the future, so the duration is 0; check the clocks",
            start
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            start.source
        ));
    } else if start.time < now - chrono::Duration::days(30) {
        log.warn(&format!(
            "the start time {} from {} is more than 30 days ago; check `started_at`",
            start
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            start.source
        ));
    }
    let tests = match &settings.test_results {
        Some(patterns) => Some(test_upload::prepare(patterns, &context, start.time, log)?),
        None => None,
    };
    let mut result = context.result;
    if let Some(tests) = &tests
        && tests.counts.failed > 0
        && result == BuildResult::Success
        && settings.unstable_on_test_failures
    {
        log.info(&format!(
            "{} tests failed, so the successful build is reported as unstable",
            tests.counts.failed
        ));
        result = BuildResult::Unstable;
    }
    log.info(&format!(
        "{}: build {} ({}) of job {} on server {}, result {} from {}, started {} from {}",
        ci.name(),
        context.build_id,
        context.build_name,
        context.job_id,
        context.server_id,
        context.result,
        context.result_source,
        start
            .time
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        start.source,
    ));

    let report = BuildReport {
        server_ci_id: context.server_id.clone(),
        job_ci_id: context.job_id.clone(),
        build_ci_id: context.build_id.clone(),
        build_name: context.build_name.clone(),
        start_time: start.time.timestamp_millis(),
        duration,
        status: "finished".to_string(),
        result: result.as_str().to_string(),
    };
    Ok(Some(Prepared {
        target,
        tests,
        client_id,
        client_secret,
        context,
        report,
    }))
}

/// Picks the start time: `started_at`, then on GitHub the API, then the CI's own value, then
/// now (with a warning).
fn resolve_start(
    context: &BuildContext,
    settings: &Settings,
    network: &Network,
    now: DateTime<Utc>,
    dry_run: bool,
    log: &Log,
) -> Start {
    if settings.started_at.is_some()
        && let Some(start) = &context.start
    {
        return start.clone();
    }
    if let (Some(run), Some(token)) = (&context.github_run, &settings.github_token) {
        if dry_run {
            log.info("dry run: the GitHub API is not asked for the run start time");
        } else {
            let agent = network.agent_for(&run.api_url, log);
            match agent.and_then(|agent| github_api::run_started_at(&agent, run, token)) {
                Ok(time) => {
                    return Start {
                        time,
                        source: "the GitHub API (run_started_at)".to_string(),
                    };
                }
                Err(e) => log.warn(&format!(
                    "cannot read the run start time from the GitHub API: {e:#}"
                )),
            }
        }
    }
    if let Some(start) = &context.start {
        return start.clone();
    }
    let hint = match context.ci {
        Ci::GitHub => {
            "set `github_token` (the action's default) or keep the action's pre-entrypoint"
                .to_string()
        }
        Ci::Generic => "no CI was detected; set `started_at`".to_string(),
        ci => format!("{} gave no start time; set `started_at`", ci.name()),
    };
    log.warn(&format!(
        "the build is reported as starting now, with duration 0: {hint}"
    ));
    Start {
        time: now,
        source: "the current time".to_string(),
    }
}

/// Builds a link to the pipeline in Octane's web UI.
// NOTE: the `entity-navigation` form comes from links that Octane's UI shares. It is not part
// of the documented REST API, so a server version may change it.
fn pipeline_link(target: &Target, pipeline_id: &str) -> String {
    format!(
        "{}/ui/entity-navigation?p={}/{}&entityType=pipeline&id={}",
        target.base, target.shared_space, target.workspace, pipeline_id
    )
}

fn write_success_outputs(
    files: &GitHubFiles,
    target: &Target,
    context: &BuildContext,
    report: &BuildReport,
    tests: Option<&PreparedTests>,
    delivered: &Delivered,
    log: &Log,
) {
    let link = pipeline_link(target, &delivered.pipeline.id);
    let mut outputs = vec![
        ("server_id", delivered.server.id.clone()),
        ("pipeline_id", delivered.pipeline.id.clone()),
        ("build_id", context.build_id.clone()),
        ("pipeline_url", link.clone()),
    ];
    if let Some(tests) = tests {
        outputs.extend(test_upload::outputs(tests));
    }
    if let Err(e) = files.set_outputs(&outputs) {
        log.warn(&format!("{e:#}"));
    }
    let mut summary = String::from("### Octane report\n\n| | |\n|---|---|\n");
    let _ = writeln!(
        summary,
        "| Pipeline | [{}]({link}) |",
        markdown_cell(&context.pipeline_name)
    );
    let _ = writeln!(
        summary,
        "| Build | {} (`{}`) |",
        markdown_cell(&context.build_name),
        markdown_cell(&context.build_id)
    );
    let _ = writeln!(summary, "| Result | {} |", report.result);
    let _ = writeln!(
        summary,
        "| Duration | {} |",
        human_duration(report.duration)
    );
    if let Some(tests) = tests {
        summary.push_str(&test_upload::summary(tests));
    }
    summary.push('\n');
    if let Err(e) = files.add_summary(&summary) {
        log.warn(&format!("{e:#}"));
    }
}

fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// Prints the requests of a real run on stdout, secrets redacted.
fn print_plan(
    target: &Target,
    registration: &Registration,
    client_id: &str,
    report: &BuildReport,
    tests: Option<&PreparedTests>,
    log: &Log,
) {
    let mut out = String::new();
    for request in octane::plan(target, registration, client_id, report) {
        let _ = writeln!(out, "{} {}", request.method, request.url);
        if let Some(note) = request.note {
            let _ = writeln!(out, "# {note}");
        }
        if let Some(body) = &request.body {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(body).unwrap_or_default()
            );
        }
        out.push('\n');
        if request.method == "PUT"
            && let Some(tests) = tests
        {
            for (index, payload) in tests.payloads.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "POST {}/test-results?skip-errors=true\n# test results {} of {}: {} bytes of Octane XML\n",
                    target.api(),
                    index + 1,
                    tests.payloads.len(),
                    std::fs::metadata(payload).map(|m| m.len()).unwrap_or(0)
                );
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(log.redact(&out).as_bytes());
    log.info("dry run: nothing was sent");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(433_000), "7 min 13 s");
        assert_eq!(human_duration(7_260_000), "2 h 1 min");
    }

    #[test]
    fn pipeline_link_keeps_context() {
        let target = parse_target("https://h/octane/ui/?p=1001/1002", None, None).unwrap();

        assert_eq!(
            pipeline_link(&target, "42"),
            "https://h/octane/ui/entity-navigation?p=1001/1002&entityType=pipeline&id=42"
        );
    }
}
