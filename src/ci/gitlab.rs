//! GitLab CI: a job's `after_script`, or a job in the `.post` stage.
//!
//! `CI_JOB_STATUS` is `running` while the job's `script` runs. It contains the job's result only
//! in `after_script`, so `running` is never taken as a result.

use super::{Ci, CiValues, result_from, start_from, var};
use crate::env::Env;

pub(super) fn read(env: &Env) -> anyhow::Result<CiValues> {
    let host = var(env, Ci::GitLab, "CI_SERVER_HOST")?;
    let project = var(env, Ci::GitLab, "CI_PROJECT_PATH")?;
    let pipeline_id = var(env, Ci::GitLab, "CI_PIPELINE_ID")?;

    let (result, result_hint) = match env.get_trimmed("CI_JOB_STATUS") {
        Some(status) if status.eq_ignore_ascii_case("running") => (
            None,
            Some(
                "CI_JOB_STATUS is `running`, so the job has not ended yet; run octane-report in \
                 `after_script`, or in a `.post` stage job that sets `result`"
                    .to_string(),
            ),
        ),
        _ => (result_from(env, Ci::GitLab, "CI_JOB_STATUS")?, None),
    };

    Ok(CiValues {
        server_id: Some(format!("gitlab:{host}")),
        server_name: Some(format!("GitLab {host}")),
        server_url: env.get_trimmed("CI_SERVER_URL").map(Into::into),
        job_id: Some(project.to_string()),
        pipeline_name: Some(project.to_string()),
        build_id: Some(pipeline_id.to_string()),
        build_name: env.get_trimmed("CI_PIPELINE_IID").map(Into::into),
        result,
        result_hint,
        start: start_from(env, Ci::GitLab, "CI_PIPELINE_CREATED_AT")?,
        github_run: None,
        run_url: env.get_trimmed("CI_PIPELINE_URL").map(Into::into),
        workspace: env.get_trimmed("CI_PROJECT_DIR").map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use crate::build_result::BuildResult;
    use crate::ci::Ci;
    use crate::ci::tests::{context, example_env};

    #[test]
    fn failed_job_in_after_script() {
        let context = context(&example_env("gitlab.env")).unwrap();

        assert_eq!(context.ci, Ci::GitLab);
        assert_eq!(context.server_id, "gitlab:gitlab.example.com");
        assert_eq!(
            context.server_url.as_deref(),
            Some("https://gitlab.example.com")
        );
        assert_eq!(context.job_id, "acme/platform/widget");
        assert_eq!(context.pipeline_name, "acme/platform/widget");
        assert_eq!(context.build_id, "912345");
        assert_eq!(context.build_name, "318");
        assert_eq!(context.result, BuildResult::Failure);
        assert_eq!(context.result_source, "CI_JOB_STATUS");
        assert_eq!(
            context.workspace.to_str(),
            Some("/builds/acme/platform/widget")
        );
    }

    #[test]
    fn created_at_with_offset() {
        let context = context(&example_env("gitlab.env")).unwrap();

        let start = context.start.unwrap();
        assert_eq!(start.time.to_rfc3339(), "2026-03-14T09:18:05+00:00");
        assert_eq!(start.source, "CI_PIPELINE_CREATED_AT");
    }

    #[test]
    fn running_status_is_not_result() {
        let mut env = example_env("gitlab.env");
        env.set("CI_JOB_STATUS", "running");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("after_script"), "{message}");
    }

    #[test]
    fn running_status_with_result_setting() {
        let mut env = example_env("gitlab.env");
        env.set("CI_JOB_STATUS", "running");
        env.set("OCTANE_RESULT", "success");

        let context = context(&env).unwrap();

        assert_eq!(context.result, BuildResult::Success);
    }

    #[test]
    fn gitlab_statuses_map() {
        for (status, expected) in [
            ("success", BuildResult::Success),
            ("failed", BuildResult::Failure),
            ("canceled", BuildResult::Aborted),
            ("timedout", BuildResult::Failure),
        ] {
            let mut env = example_env("gitlab.env");
            env.set("CI_JOB_STATUS", status);
            assert_eq!(context(&env).unwrap().result, expected, "{status}");
        }
    }

    #[test]
    fn invalid_created_at_names_variable() {
        let mut env = example_env("gitlab.env");
        env.set("CI_PIPELINE_CREATED_AT", "last tuesday");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("CI_PIPELINE_CREATED_AT"), "{message}");
    }

    #[test]
    fn old_gitlab_without_created_at() {
        let mut env = example_env("gitlab.env");
        env.set("CI_PIPELINE_CREATED_AT", "");

        let context = context(&env).unwrap();

        assert_eq!(context.start, None);
    }
}
