//! Drone: a plugin step; settings arrive as `PLUGIN_*`. Times are unix seconds.

use super::{Ci, CiValues, result_from, start_from, var};
use crate::env::Env;

pub(super) fn read(env: &Env) -> anyhow::Result<CiValues> {
    let host = var(env, Ci::Drone, "DRONE_SYSTEM_HOST")?;
    let proto = env.get_trimmed("DRONE_SYSTEM_PROTO").unwrap_or("https");
    let repo = var(env, Ci::Drone, "DRONE_REPO")?;
    let number = var(env, Ci::Drone, "DRONE_BUILD_NUMBER")?;

    // A pipeline file may hold several pipelines (stages); each is its own Octane pipeline,
    // except the usual single one named `default`.
    let job_id = match env.get_trimmed("DRONE_STAGE_NAME") {
        Some(stage) if stage != "default" => format!("{repo}/{stage}"),
        _ => repo.to_string(),
    };

    Ok(CiValues {
        server_id: Some(format!("drone:{host}")),
        server_name: Some(format!("Drone {host}")),
        server_url: Some(format!("{proto}://{host}")),
        pipeline_name: Some(job_id.clone()),
        job_id: Some(job_id),
        build_id: Some(number.to_string()),
        build_name: Some(number.to_string()),
        result: result_from(env, Ci::Drone, "DRONE_BUILD_STATUS")?,
        result_hint: None,
        start: start_from(env, Ci::Drone, "DRONE_BUILD_STARTED")?,
        github_run: None,
        run_url: env.get_trimmed("DRONE_BUILD_LINK").map(Into::into),
        workspace: env.get_trimmed("DRONE_WORKSPACE").map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use crate::build_result::BuildResult;
    use crate::ci::Ci;
    use crate::ci::tests::{context, example_env};

    #[test]
    fn plugin_step_after_failure() {
        let context = context(&example_env("drone.env")).unwrap();

        assert_eq!(context.ci, Ci::Drone);
        assert_eq!(context.server_id, "drone:drone.example.com");
        assert_eq!(
            context.server_url.as_deref(),
            Some("https://drone.example.com")
        );
        assert_eq!(context.job_id, "acme/widget");
        assert_eq!(context.build_id, "318");
        assert_eq!(context.build_name, "318");
        assert_eq!(context.result, BuildResult::Failure);
        assert_eq!(context.start.unwrap().time.timestamp(), 1_773_479_980);
        assert_eq!(
            context.run_url.as_deref(),
            Some("https://drone.example.com/acme/widget/318")
        );
    }

    #[test]
    fn named_stage_joins_job_id() {
        let mut env = example_env("drone.env");
        env.set("DRONE_STAGE_NAME", "arm64");

        let context = context(&env).unwrap();

        assert_eq!(context.job_id, "acme/widget/arm64");
        assert_eq!(context.pipeline_name, "acme/widget/arm64");
    }

    #[test]
    fn unknown_status_names_variable() {
        let mut env = example_env("drone.env");
        env.set("DRONE_BUILD_STATUS", "pending");

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("DRONE_BUILD_STATUS"), "{message}");
    }

    #[test]
    fn started_in_milliseconds_too() {
        let mut env = example_env("drone.env");
        env.set("DRONE_BUILD_STARTED", "1773479980500");

        let context = context(&env).unwrap();

        assert_eq!(
            context.start.unwrap().time.timestamp_millis(),
            1_773_479_980_500
        );
    }
}
