//! CI detection and the build context: who reports, which pipeline, which build, how it ended.
//!
//! Each CI module reads its own variables into `CiValues`; `BuildContext::resolve` lets settings
//! override them and checks that every id is present.

mod drone;
mod generic;
mod github;
mod gitlab;
mod woodpecker;

use std::path::PathBuf;

use anyhow::bail;
use chrono::{DateTime, Utc};

use crate::build_result::BuildResult;
use crate::env::Env;
use crate::settings::Settings;
use crate::time::parse_instant;

pub(crate) use github::GitHubRun;

/// The CI systems the tool detects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ci {
    GitHub,
    GitLab,
    Woodpecker,
    Drone,
    Generic,
}

impl Ci {
    /// Detects the CI. Woodpecker comes before Drone because its plugin steps carry `DRONE_*`
    /// copies.
    pub(crate) fn detect(env: &Env) -> Ci {
        if env.get("GITHUB_ACTIONS") == Some("true") {
            Ci::GitHub
        } else if env.get("GITLAB_CI") == Some("true") {
            Ci::GitLab
        } else if env.get("CI") == Some("woodpecker") {
            Ci::Woodpecker
        } else if env.get("DRONE") == Some("true") {
            Ci::Drone
        } else {
            Ci::Generic
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Ci::GitHub => "GitHub Actions",
            Ci::GitLab => "GitLab CI",
            Ci::Woodpecker => "Woodpecker",
            Ci::Drone => "Drone",
            Ci::Generic => "plain run",
        }
    }

    /// `server_type` of the CI server entity.
    pub(crate) fn server_type(self) -> &'static str {
        match self {
            Ci::GitHub => "github_actions",
            Ci::GitLab => "gitlab",
            Ci::Woodpecker => "woodpecker",
            Ci::Drone => "drone",
            Ci::Generic => "unknown",
        }
    }
}

/// A start time and where it came from, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Start {
    pub(crate) time: DateTime<Utc>,
    pub(crate) source: String,
}

/// Values a CI's variables supply. A setting overrides any of them.
#[derive(Debug, Default)]
pub(crate) struct CiValues {
    pub(crate) server_id: Option<String>,
    pub(crate) server_name: Option<String>,
    pub(crate) server_url: Option<String>,
    pub(crate) job_id: Option<String>,
    pub(crate) pipeline_name: Option<String>,
    pub(crate) build_id: Option<String>,
    pub(crate) build_name: Option<String>,
    pub(crate) result: Option<(BuildResult, String)>,
    /// The reason the CI gives no result, when there is a known one.
    pub(crate) result_hint: Option<String>,
    /// Start candidates in order of preference, after `started_at` and the GitHub API.
    pub(crate) start: Option<Start>,
    pub(crate) github_run: Option<GitHubRun>,
    pub(crate) run_url: Option<String>,
    pub(crate) workspace: Option<PathBuf>,
}

impl CiValues {
    /// Reads the values of `ci` from `env`.
    pub(crate) fn read(ci: Ci, env: &Env) -> anyhow::Result<CiValues> {
        match ci {
            Ci::GitHub => github::read(env),
            Ci::GitLab => gitlab::read(env),
            Ci::Woodpecker => woodpecker::read(env),
            Ci::Drone => drone::read(env),
            Ci::Generic => Ok(generic::read(env)),
        }
    }
}

/// Everything the reports need to name the build.
#[derive(Debug)]
pub(crate) struct BuildContext {
    pub(crate) ci: Ci,
    pub(crate) server_id: String,
    pub(crate) server_name: String,
    pub(crate) server_url: Option<String>,
    pub(crate) job_id: String,
    pub(crate) pipeline_name: String,
    pub(crate) build_id: String,
    pub(crate) build_name: String,
    pub(crate) result: BuildResult,
    /// The variable or setting that gave the result.
    pub(crate) result_source: String,
    /// `started_at` when set, else the CI's own start time.
    pub(crate) start: Option<Start>,
    pub(crate) github_run: Option<GitHubRun>,
    pub(crate) run_url: Option<String>,
    pub(crate) workspace: PathBuf,
}

impl BuildContext {
    /// Combines the CI's values with settings; settings win. Fails naming the first missing id.
    pub(crate) fn resolve(ci: Ci, values: CiValues, settings: &Settings) -> anyhow::Result<Self> {
        let pick = |setting: &Option<String>, from_ci: Option<String>| setting.clone().or(from_ci);
        let server_id = require(ci, "server_id", pick(&settings.server_id, values.server_id))?;
        let job_id = require(ci, "job_id", pick(&settings.job_id, values.job_id))?;
        let build_id = require(ci, "build_id", pick(&settings.build_id, values.build_id))?;

        let result = match (settings.result, values.result) {
            (Some(result), _) => (result, "the `result` setting".to_string()),
            (None, Some(from_ci)) => from_ci,
            (None, None) => match values.result_hint {
                Some(hint) => bail!("missing `result`: {hint}"),
                None => bail!(
                    "missing `result`: {} gives no build result; set `result` (e.g. OCTANE_RESULT=success)",
                    ci.name()
                ),
            },
        };

        let start = match settings.started_at {
            Some(time) => Some(Start {
                time,
                source: "the `started_at` setting".to_string(),
            }),
            None => values.start,
        };
        let workspace = match values.workspace {
            Some(dir) => dir,
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };

        Ok(BuildContext {
            ci,
            server_name: pick(&settings.server_name, values.server_name)
                .unwrap_or_else(|| server_id.clone()),
            server_url: pick(&settings.server_url, values.server_url),
            pipeline_name: pick(&settings.pipeline_name, values.pipeline_name)
                .unwrap_or_else(|| job_id.clone()),
            build_name: pick(&settings.build_name, values.build_name)
                .unwrap_or_else(|| build_id.clone()),
            server_id,
            job_id,
            build_id,
            result: result.0,
            result_source: result.1,
            start,
            github_run: values.github_run,
            run_url: values.run_url,
            workspace,
        })
    }
}

fn require(ci: Ci, key: &str, value: Option<String>) -> anyhow::Result<String> {
    match value {
        Some(value) => Ok(value),
        None if ci == Ci::Generic => bail!(
            "missing `{key}`: no CI was detected (GitHub Actions, GitLab CI, Drone, Woodpecker), \
             so set it (e.g. OCTANE_{})",
            key.to_ascii_uppercase()
        ),
        None => bail!(
            "missing `{key}`: {} did not provide it; set it explicitly",
            ci.name()
        ),
    }
}

/// Returns a required CI variable or an error naming it.
fn var<'e>(env: &'e Env, ci: Ci, name: &str) -> anyhow::Result<&'e str> {
    match env.get_trimmed(name) {
        Some(value) => Ok(value),
        None => bail!("{} variable {name} is missing or empty", ci.name()),
    }
}

/// Parses a start time variable; an unparsable value is an error naming the variable.
fn start_from(env: &Env, ci: Ci, name: &str) -> anyhow::Result<Option<Start>> {
    let Some(text) = env.get_trimmed(name) else {
        return Ok(None);
    };
    match parse_instant(text) {
        Ok(time) => Ok(Some(Start {
            time,
            source: name.to_string(),
        })),
        Err(e) => bail!(
            "invalid {} variable {name} `{}`: {e}",
            ci.name(),
            text.escape_default()
        ),
    }
}

/// Maps a CI result variable; an unknown word is an error naming the variable.
fn result_from(env: &Env, ci: Ci, name: &str) -> anyhow::Result<Option<(BuildResult, String)>> {
    let Some(word) = env.get_trimmed(name) else {
        return Ok(None);
    };
    match BuildResult::from_word(word) {
        Some(result) => Ok(Some((result, name.to_string()))),
        None => bail!(
            "unknown {} result {name}=`{}`; set `result` explicitly",
            ci.name(),
            word.escape_default()
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads an example environment file shipped in `examples/`.
    pub(crate) fn example_env(name: &str) -> Env {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let mut env = Env::default();
        env.overlay_file(&path).unwrap();
        env
    }

    pub(crate) fn context(env: &Env) -> anyhow::Result<BuildContext> {
        let ci = Ci::detect(env);
        let settings = Settings::load(env)?;
        BuildContext::resolve(ci, CiValues::read(ci, env)?, &settings)
    }

    #[test]
    fn detection_order() {
        let cases = [
            (
                vec![("GITHUB_ACTIONS", "true"), ("GITLAB_CI", "true")],
                Ci::GitHub,
            ),
            (vec![("GITLAB_CI", "true"), ("DRONE", "true")], Ci::GitLab),
            (
                vec![("CI", "woodpecker"), ("DRONE", "true")],
                Ci::Woodpecker,
            ),
            (vec![("CI", "true"), ("DRONE", "true")], Ci::Drone),
            (vec![("CI", "true")], Ci::Generic),
            (vec![("GITHUB_ACTIONS", "false")], Ci::Generic),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                Ci::detect(&Env::from_pairs(pairs.clone())),
                expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn settings_override_ci_values() {
        let mut env = example_env("drone.env");
        env.set("OCTANE_JOB_ID", "custom/job");
        env.set("OCTANE_RESULT", "unstable");
        env.set("OCTANE_STARTED_AT", "1773479000");

        let context = context(&env).unwrap();

        assert_eq!(context.job_id, "custom/job");
        assert_eq!(context.pipeline_name, "acme/widget");
        assert_eq!(context.result, BuildResult::Unstable);
        assert_eq!(context.start.unwrap().time.timestamp(), 1_773_479_000);
    }
}
