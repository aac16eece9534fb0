//! Any other CI, or a developer's terminal: every id comes from settings.

use super::CiValues;
use crate::env::Env;

pub(super) fn read(_env: &Env) -> CiValues {
    CiValues::default()
}

#[cfg(test)]
mod tests {
    use crate::build_result::BuildResult;
    use crate::ci::Ci;
    use crate::ci::tests::{context, example_env};
    use crate::env::Env;

    #[test]
    fn plain_run_from_settings() {
        let context = context(&example_env("plain.env")).unwrap();

        assert_eq!(context.ci, Ci::Generic);
        assert_eq!(context.server_id, "build-box-1");
        assert_eq!(context.server_name, "Build box 1");
        assert_eq!(context.pipeline_name, "nightly");
        assert_eq!(context.build_name, "2026-03-14.1");
        assert_eq!(context.result, BuildResult::Success);
    }

    #[test]
    fn missing_ids_name_setting() {
        let env = Env::from_pairs([("OCTANE_SERVER_ID", "box"), ("OCTANE_RESULT", "success")]);

        let message = format!("{:#}", context(&env).unwrap_err());

        assert!(message.contains("missing `job_id`"), "{message}");
        assert!(message.contains("OCTANE_JOB_ID"), "{message}");
    }
}
