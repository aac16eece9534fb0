//! Woodpecker: a plugin step; settings arrive as `PLUGIN_*`. Times are unix seconds.
//!
//! Plugin steps also get Drone's variables, but `DRONE_BUILD_STATUS` is always `success` there,
//! so the result comes only from `CI_PIPELINE_STATUS` (Woodpecker 3.15 and later).

use super::{Ci, CiValues, result_from, start_from, var};
use crate::env::Env;

pub(super) fn read(env: &Env) -> anyhow::Result<CiValues> {
    let host = var(env, Ci::Woodpecker, "CI_SYSTEM_HOST")?;
    let repo = var(env, Ci::Woodpecker, "CI_REPO")?;
    let number = var(env, Ci::Woodpecker, "CI_PIPELINE_NUMBER")?;
    let job_id = match env.get_trimmed("CI_WORKFLOW_NAME") {
        Some(workflow) => format!("{repo}/{workflow}"),
        None => repo.to_string(),
    };

    Ok(CiValues {
        server_id: Some(format!("woodpecker:{host}")),
        server_name: Some(format!("Woodpecker {host}")),
        server_url: env.get_trimmed("CI_SYSTEM_URL").map(Into::into),
        pipeline_name: Some(job_id.clone()),
        job_id: Some(job_id),
        build_id: Some(number.to_string()),
        build_name: Some(number.to_string()),
        result: result_from(env, Ci::Woodpecker, "CI_PIPELINE_STATUS")?,
        result_hint: Some(
            "Woodpecker before 3.15 does not pass the pipeline status; add one step with \
             `when: status: [success]` and `result: success`, and one with `when: status: \
             [failure]` and `result: failure`"
                .to_string(),
        ),
        start: start_from(env, Ci::Woodpecker, "CI_PIPELINE_STARTED")?,
        github_run: None,
        run_url: env.get_trimmed("CI_PIPELINE_URL").map(Into::into),
        workspace: env.get_trimmed("CI_WORKSPACE").map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use crate::build_result::BuildResult;
    use crate::ci::Ci;
    use crate::ci::tests::{context, example_env};

    #[test]
    fn pipeline_status_wins_over_drone_copy() {
        let context = context(&example_env("woodpecker.env")).unwrap();

        assert_eq!(context.ci, Ci::Woodpecker);
        assert_eq!(context.result, BuildResult::Failure);
        assert_eq!(context.result_source, "CI_PIPELINE_STATUS");
        assert_eq!(context.server_id, "woodpecker:ci.example.org");
        assert_eq!(
            context.server_url.as_deref(),
            Some("https://ci.example.org")
        );
        assert_eq!(context.job_id, "acme/widget/test");
        assert_eq!(context.build_id, "318");
        assert_eq!(context.start.unwrap().time.timestamp(), 1_773_479_980);
    }

    #[test]
    fn old_woodpecker_needs_result_setting() {
        let mut env = example_env("woodpecker.env");
        env.set("CI_PIPELINE_STATUS", "");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("missing `result`"), "{message}");
        assert!(message.contains("3.15"), "{message}");
    }
}
