//! GitHub Actions: a Docker container action step.
//!
//! The run id stays the same on a re-run, so the build id joins it with the attempt number and
//! a re-run is a new build. GitHub has no start-time variable: the start comes from the GitHub
//! API (with `github_token`), else from the time the action's pre-entrypoint recorded in
//! `GITHUB_STATE` (read back as `STATE_started_at`).

use anyhow::bail;

use super::{Ci, CiValues, Start, var};
use crate::env::Env;
use crate::time::parse_instant;

/// The run whose start time the GitHub API can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GitHubRun {
    pub(crate) api_url: String,
    pub(crate) repository: String,
    pub(crate) run_id: String,
    pub(crate) attempt: u32,
}

pub(super) fn read(env: &Env) -> anyhow::Result<CiValues> {
    let server = var(env, Ci::GitHub, "GITHUB_SERVER_URL")?.trim_end_matches('/');
    let repository = var(env, Ci::GitHub, "GITHUB_REPOSITORY")?;
    let Some((owner, repo)) = repository.split_once('/') else {
        bail!(
            "GitHub Actions variable GITHUB_REPOSITORY `{}` is not OWNER/REPO",
            repository.escape_default()
        );
    };
    let owner = env.get_trimmed("GITHUB_REPOSITORY_OWNER").unwrap_or(owner);
    let run_id = var(env, Ci::GitHub, "GITHUB_RUN_ID")?;
    let run_number = var(env, Ci::GitHub, "GITHUB_RUN_NUMBER")?;
    let attempt = match env.get_trimmed("GITHUB_RUN_ATTEMPT") {
        None => 1,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => bail!(
                "invalid GitHub Actions variable GITHUB_RUN_ATTEMPT `{}`",
                text.escape_default()
            ),
        },
    };
    let host = server.split_once("://").map_or(server, |(_, rest)| rest);

    // `owner/repo/.github/workflows/ci.yml@refs/heads/main` names the workflow file; the ref
    // is left out so that every branch reports to one pipeline.
    let workflow_ref = var(env, Ci::GitHub, "GITHUB_WORKFLOW_REF")?;
    let job_id = workflow_ref
        .split_once('@')
        .map_or(workflow_ref, |(path, _)| path);
    let workflow = env.get_trimmed("GITHUB_WORKFLOW").unwrap_or(job_id);

    let build_name = if attempt > 1 {
        format!("{run_number}.{attempt}")
    } else {
        run_number.to_string()
    };
    let run_url = format!("{server}/{repository}/actions/runs/{run_id}/attempts/{attempt}");

    let start = match env.get_trimmed("STATE_started_at") {
        None => None,
        Some(text) => match parse_instant(text) {
            Ok(time) => Some(Start {
                time,
                source: "the time the action's pre-entrypoint recorded".to_string(),
            }),
            Err(e) => bail!(
                "invalid STATE_started_at `{}` from the pre-entrypoint: {e}",
                text.escape_default()
            ),
        },
    };

    Ok(CiValues {
        server_id: Some(format!("github:{host}/{owner}")),
        server_name: Some(format!("GitHub Actions {host}/{owner}")),
        server_url: Some(format!("{server}/{owner}")),
        job_id: Some(job_id.to_string()),
        pipeline_name: Some(format!("{owner}/{repo} {workflow}")),
        build_id: Some(format!("{run_id}-{attempt}")),
        build_name: Some(build_name),
        result: None,
        result_hint: Some(
            "GitHub Actions has no result variable; pass `result: ${{ job.status }}` \
             (the action's default)"
                .to_string(),
        ),
        start,
        github_run: Some(GitHubRun {
            api_url: env
                .get_trimmed("GITHUB_API_URL")
                .unwrap_or("https://api.github.com")
                .trim_end_matches('/')
                .to_string(),
            repository: repository.to_string(),
            run_id: run_id.to_string(),
            attempt,
        }),
        run_url: Some(run_url),
        workspace: env.get_trimmed("GITHUB_WORKSPACE").map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use crate::build_result::BuildResult;
    use crate::ci::Ci;
    use crate::ci::tests::{context, example_env};

    #[test]
    fn second_attempt_is_new_build() {
        let context = context(&example_env("github.env")).unwrap();

        assert_eq!(context.ci, Ci::GitHub);
        assert_eq!(context.server_id, "github:github.com/acme");
        assert_eq!(
            context.server_url.as_deref(),
            Some("https://github.com/acme")
        );
        assert_eq!(context.job_id, "acme/widget/.github/workflows/ci.yml");
        assert_eq!(context.pipeline_name, "acme/widget CI");
        assert_eq!(context.build_id, "13000000001-2");
        assert_eq!(context.build_name, "318.2");
        assert_eq!(context.result, BuildResult::Failure);
        assert_eq!(
            context.run_url.as_deref(),
            Some("https://github.com/acme/widget/actions/runs/13000000001/attempts/2")
        );
        assert_eq!(context.workspace.to_str(), Some("/github/workspace"));
    }

    #[test]
    fn first_attempt_keeps_run_number() {
        let mut env = example_env("github.env");
        env.set("GITHUB_RUN_ATTEMPT", "1");

        let context = context(&env).unwrap();

        assert_eq!(context.build_id, "13000000001-1");
        assert_eq!(context.build_name, "318");
    }

    #[test]
    fn start_from_pre_entrypoint_state() {
        let context = context(&example_env("github.env")).unwrap();

        let start = context.start.unwrap();
        assert_eq!(start.time.timestamp_millis(), 1_773_479_980_000);
        assert!(start.source.contains("pre-entrypoint"), "{}", start.source);
    }

    #[test]
    fn github_run_for_api_lookup() {
        let context = context(&example_env("github.env")).unwrap();

        let run = context.github_run.unwrap();
        assert_eq!(run.api_url, "https://api.github.com");
        assert_eq!(run.repository, "acme/widget");
        assert_eq!((run.run_id.as_str(), run.attempt), ("13000000001", 2));
    }

    #[test]
    fn missing_result_explains_input() {
        let mut env = example_env("github.env");
        env.set("INPUT_RESULT", "");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("missing `result`"), "{message}");
        assert!(message.contains("job.status"), "{message}");
    }

    #[test]
    fn missing_run_id_names_variable() {
        let mut env = example_env("github.env");
        env.set("GITHUB_RUN_ID", "");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("GITHUB_RUN_ID"), "{message}");
    }

    #[test]
    fn invalid_attempt_is_error() {
        let mut env = example_env("github.env");
        env.set("GITHUB_RUN_ATTEMPT", "0");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("GITHUB_RUN_ATTEMPT"), "{message}");
    }
}
