//! Settings: the `OCTANE_` / `PLUGIN_` / `INPUT_` lookup and validation.
//!
//! Each setting has a snake_case key. Its value is the first non-empty one of `OCTANE_<KEY>`,
//! `PLUGIN_<KEY>` (Drone, Woodpecker) and `INPUT_<KEY>` (GitHub Actions), each also with
//! hyphens in place of underscores (`INPUT_CLIENT-ID`). The raw strings go through envy into
//! `RawSettings`, then `Settings::load` checks and converts them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::build_result::{BuildResult, RESULT_WORDS};
use crate::env::Env;
use crate::log::escape_command;
use crate::time::{TIME_FORMS, parse_instant};

/// One setting: key, default as shown in `--help`, and meaning.
pub(crate) struct SettingInfo {
    pub(crate) key: &'static str,
    pub(crate) default: &'static str,
    pub(crate) help: &'static str,
    pub(crate) secret: bool,
}

const fn setting(key: &'static str, default: &'static str, help: &'static str) -> SettingInfo {
    SettingInfo {
        key,
        default,
        help,
        secret: false,
    }
}

/// Every setting, in the order `--help` lists them.
pub(crate) const SETTINGS: &[SettingInfo] = &[
    setting(
        "url",
        "required",
        "Octane URL; the browser URL https://HOST[/CONTEXT]/ui/?p=SPACE/WORKSPACE is split",
    ),
    setting("shared_space", "from url", "shared space id (digits)"),
    setting("workspace", "from url", "workspace id (digits)"),
    setting("client_id", "required", "API access key id"),
    SettingInfo {
        key: "client_secret",
        default: "required",
        help: "API access key secret",
        secret: true,
    },
    setting(
        "server_id",
        "from the CI",
        "CI server identity in Octane (instance_id)",
    ),
    setting("server_name", "from the CI", "CI server display name"),
    setting("server_url", "from the CI", "link to the CI server"),
    setting("job_id", "from the CI", "root job ci id of the pipeline"),
    setting(
        "pipeline_name",
        "from the CI",
        "pipeline display name (unique in the shared space)",
    ),
    setting("build_id", "from the CI", "build ci id"),
    setting("build_name", "from the CI", "build display name"),
    setting(
        "result",
        "from the CI",
        "build result word: success, failure, unstable, aborted and CI synonyms",
    ),
    setting(
        "started_at",
        "from the CI",
        "build start: RFC 3339, or epoch seconds or milliseconds",
    ),
    SettingInfo {
        key: "github_token",
        default: "empty",
        help: "token to read the run start time from the GitHub API",
        secret: true,
    },
    setting(
        "fail_on_error",
        "false",
        "exit with code 2 when delivery fails",
    ),
    setting(
        "dry_run",
        "false",
        "print the requests, secrets redacted, and send nothing",
    ),
    setting(
        "test_results",
        "empty",
        "glob patterns of JUnit reports, comma or newline separated",
    ),
    setting(
        "unstable_on_test_failures",
        "true",
        "report a successful build with failed tests as unstable",
    ),
    setting(
        "timeout",
        "120",
        "overall delivery deadline in seconds, retries included",
    ),
    setting(
        "ca_file",
        "empty",
        "PEM bundle of extra trusted CA certificates",
    ),
    setting(
        "spool_dir",
        ".octane-report/spool",
        "where undelivered reports are kept, relative to the workspace",
    ),
];

/// Prefixes, in lookup order.
const PREFIXES: [&str; 3] = ["OCTANE_", "PLUGIN_", "INPUT_"];

/// Values after lookup, before validation. It has no `Debug` outside tests because it contains
/// secrets.
#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Debug))]
struct RawSettings {
    url: Option<String>,
    shared_space: Option<String>,
    workspace: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    server_id: Option<String>,
    server_name: Option<String>,
    server_url: Option<String>,
    job_id: Option<String>,
    pipeline_name: Option<String>,
    build_id: Option<String>,
    build_name: Option<String>,
    result: Option<String>,
    started_at: Option<String>,
    github_token: Option<String>,
    fail_on_error: Option<String>,
    dry_run: Option<String>,
    test_results: Option<String>,
    unstable_on_test_failures: Option<String>,
    timeout: Option<String>,
    ca_file: Option<String>,
    spool_dir: Option<String>,
}

/// A secret value whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Returns the value, for request bodies and headers only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Checked settings.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) url: Option<String>,
    pub(crate) shared_space: Option<String>,
    pub(crate) workspace: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) server_id: Option<String>,
    pub(crate) server_name: Option<String>,
    pub(crate) server_url: Option<String>,
    pub(crate) job_id: Option<String>,
    pub(crate) pipeline_name: Option<String>,
    pub(crate) build_id: Option<String>,
    pub(crate) build_name: Option<String>,
    pub(crate) result: Option<BuildResult>,
    pub(crate) started_at: Option<DateTime<Utc>>,
    pub(crate) github_token: Option<Secret>,
    pub(crate) fail_on_error: bool,
    pub(crate) dry_run: bool,
    pub(crate) test_results: Option<String>,
    pub(crate) unstable_on_test_failures: bool,
    pub(crate) timeout: Duration,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) spool_dir: Option<PathBuf>,
}

/// Longest `timeout` accepted, in seconds.
const MAX_TIMEOUT_SECS: u64 = 3600;

impl Settings {
    /// Looks up and checks every setting. The error names the setting, the variable it came
    /// from and the accepted form; it never contains a secret value.
    pub(crate) fn load(env: &Env) -> anyhow::Result<Settings> {
        let mut pairs = Vec::new();
        for info in SETTINGS {
            if let Some((name, value)) = lookup(env, info.key)? {
                pairs.push((info.key.to_string(), value.to_string()));
                if value.len() > max_len(info.key) {
                    return Err(anyhow!(
                        "invalid `{}` (from {name}): {} bytes, more than the {} allowed",
                        info.key,
                        value.len(),
                        max_len(info.key)
                    ));
                }
            }
        }
        let raw: RawSettings =
            envy::from_iter(pairs).map_err(|e| anyhow!("cannot read settings: {e}"))?;

        let settings = Settings {
            url: trimmed(raw.url),
            shared_space: trimmed(raw.shared_space),
            workspace: trimmed(raw.workspace),
            client_id: trimmed(raw.client_id),
            client_secret: raw.client_secret.map(Secret::new),
            server_id: trimmed(raw.server_id),
            server_name: trimmed(raw.server_name),
            server_url: trimmed(raw.server_url),
            job_id: trimmed(raw.job_id),
            pipeline_name: trimmed(raw.pipeline_name),
            build_id: trimmed(raw.build_id),
            build_name: trimmed(raw.build_name),
            result: raw.result.as_deref().map(parse_result).transpose()?,
            started_at: raw
                .started_at
                .as_deref()
                .map(parse_started_at)
                .transpose()?,
            github_token: trimmed(raw.github_token).map(Secret::new),
            fail_on_error: parse_bool("fail_on_error", raw.fail_on_error.as_deref(), false)?,
            dry_run: parse_bool("dry_run", raw.dry_run.as_deref(), false)?,
            test_results: trimmed(raw.test_results),
            unstable_on_test_failures: parse_bool(
                "unstable_on_test_failures",
                raw.unstable_on_test_failures.as_deref(),
                true,
            )?,
            timeout: parse_timeout(raw.timeout.as_deref())?,
            ca_file: trimmed(raw.ca_file).map(PathBuf::from),
            spool_dir: trimmed(raw.spool_dir).map(PathBuf::from),
        };
        Ok(settings)
    }
}

/// Prints `::add-mask::` for each secret setting, so GitHub hides the values in the log.
pub(crate) fn print_github_masks(env: &Env) {
    for info in SETTINGS.iter().filter(|s| s.secret) {
        if let Ok(Some((_, value))) = lookup(env, info.key) {
            // The runner decodes %25, %0D and %0A in the value before it masks it, so the value
            // is encoded the same way. Each line is masked too, because the log is masked line
            // by line.
            println!("::add-mask::{}", escape_command(value));
            for line in value
                .lines()
                .filter(|l| !l.trim().is_empty() && *l != value)
            {
                println!("::add-mask::{}", escape_command(line));
            }
        }
    }
}

/// Returns true when the `dry_run` setting requests a dry run. An invalid value counts as false
/// here, and `Settings::load` reports it.
pub(crate) fn dry_run_requested(env: &Env) -> bool {
    matches!(lookup(env, "dry_run"), Ok(Some((_, value))) if parse_bool("dry_run", Some(value), false).unwrap_or(false))
}

/// Returns the variable name and value that supply `key`, if any.
fn lookup<'e>(env: &'e Env, key: &str) -> anyhow::Result<Option<(String, &'e str)>> {
    let upper = key.to_ascii_uppercase();
    let hyphenated = upper.replace('_', "-");
    let spellings = if hyphenated == upper {
        vec![upper]
    } else {
        vec![upper, hyphenated]
    };
    for prefix in PREFIXES {
        for spelling in &spellings {
            let name = format!("{prefix}{spelling}");
            if env.is_non_utf8(&name) {
                return Err(anyhow!(
                    "invalid `{key}` (from {name}): the value is not valid UTF-8"
                ));
            }
            if let Some(value) = env.get(&name) {
                return Ok(Some((name, value)));
            }
        }
    }
    Ok(None)
}

/// Longest accepted value of a setting, in bytes. Octane limits names to 255 characters and
/// ci ids to 4000; the rest gets room for long glob lists.
fn max_len(key: &str) -> usize {
    match key {
        "test_results" => 64 * 1024,
        "server_id" | "job_id" | "build_id" => 4000,
        _ => 8 * 1024,
    }
}

fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Builds the error for an invalid value. The message names the setting, quotes the value
/// (shortened, control characters escaped) and lists the accepted form. Never use it for secrets.
pub(crate) fn invalid(key: &str, value: &str, expected: &str, reason: &str) -> anyhow::Error {
    let mut shown: String = value
        .chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().count() > 80 {
        shown.push_str("...");
    }
    anyhow!("invalid `{key}` value `{shown}`: {reason}; expected {expected}")
}

fn parse_result(word: &str) -> anyhow::Result<BuildResult> {
    BuildResult::from_word(word)
        .ok_or_else(|| invalid("result", word, RESULT_WORDS, "unknown result word"))
}

fn parse_started_at(text: &str) -> anyhow::Result<DateTime<Utc>> {
    parse_instant(text).map_err(|e| invalid("started_at", text, TIME_FORMS, &e.to_string()))
}

/// Parses `true`/`false`, `1`/`0` or `yes`/`no` in any case.
fn parse_bool(key: &str, value: Option<&str>, default: bool) -> anyhow::Result<bool> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(
            key,
            value,
            "true or false (also 1/0, yes/no)",
            "not a boolean",
        )),
    }
}

fn parse_timeout(value: Option<&str>) -> anyhow::Result<Duration> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Duration::from_secs(120));
    };
    let expected = "whole seconds from 1 to 3600";
    match value.parse::<u64>() {
        Ok(secs) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        Ok(_) => Err(invalid("timeout", value, expected, "out of range")),
        Err(_) => Err(invalid("timeout", value, expected, "not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        Settings::load(&Env::from_pairs(pairs.iter().copied()))
    }

    fn error_of(pairs: &[(&str, &str)]) -> String {
        format!("{:#}", load(pairs).unwrap_err())
    }

    #[test]
    fn prefixes_in_lookup_order() {
        let settings = load(&[
            ("INPUT_JOB_ID", "from-input"),
            ("PLUGIN_JOB_ID", "from-plugin"),
            ("OCTANE_BUILD_ID", "from-octane"),
            ("INPUT_BUILD_ID", "from-input"),
            ("INPUT_SERVER_ID", "only-input"),
        ])
        .unwrap();

        assert_eq!(settings.job_id.as_deref(), Some("from-plugin"));
        assert_eq!(settings.build_id.as_deref(), Some("from-octane"));
        assert_eq!(settings.server_id.as_deref(), Some("only-input"));
    }

    #[test]
    fn empty_value_falls_through() {
        let settings = load(&[("OCTANE_JOB_ID", ""), ("INPUT_JOB_ID", "next")]).unwrap();

        assert_eq!(settings.job_id.as_deref(), Some("next"));
    }

    #[test]
    fn hyphenated_spellings() {
        let settings = load(&[
            ("INPUT_CLIENT-ID", "id-1"),
            ("PLUGIN_FAIL-ON-ERROR", "yes"),
            ("INPUT_CLIENT-SECRET", "s3cr3t"),
        ])
        .unwrap();

        assert_eq!(settings.client_id.as_deref(), Some("id-1"));
        assert!(settings.fail_on_error);
        assert_eq!(
            settings.client_secret.as_ref().map(Secret::expose),
            Some("s3cr3t")
        );
    }

    #[test]
    fn defaults() {
        let settings = load(&[]).unwrap();

        assert!(!settings.fail_on_error);
        assert!(!settings.dry_run);
        assert!(settings.unstable_on_test_failures);
        assert_eq!(settings.timeout, Duration::from_secs(120));
        assert_eq!(settings.url, None);
    }

    #[test]
    fn booleans_in_any_case() {
        for (text, expected) in [
            ("TRUE", true),
            ("False", false),
            ("1", true),
            ("0", false),
            ("No", false),
        ] {
            let settings = load(&[("OCTANE_DRY_RUN", text)]).unwrap();
            assert_eq!(settings.dry_run, expected, "{text}");
        }
    }

    #[test]
    fn invalid_values_name_setting_and_form() {
        let message = error_of(&[("INPUT_RESULT", "done")]);
        assert!(
            message.contains("invalid `result` value `done`"),
            "{message}"
        );
        assert!(message.contains("success"), "{message}");

        let message = error_of(&[("OCTANE_STARTED_AT", "yesterday")]);
        assert!(
            message.contains("invalid `started_at` value `yesterday`"),
            "{message}"
        );
        assert!(message.contains("RFC 3339"), "{message}");

        let message = error_of(&[("OCTANE_TIMEOUT", "0")]);
        assert!(message.contains("invalid `timeout` value `0`"), "{message}");

        let message = error_of(&[("PLUGIN_FAIL_ON_ERROR", "maybe")]);
        assert!(
            message.contains("invalid `fail_on_error` value `maybe`"),
            "{message}"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_errors() {
        let message = error_of(&[("OCTANE_RESULT", "bad\n::error::injected")]);

        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("bad\\n::error::injected"), "{message}");
    }

    #[test]
    fn overlong_value_is_rejected_without_echo() {
        let long = "x".repeat(10_000);

        let message = error_of(&[("OCTANE_PIPELINE_NAME", &long)]);

        assert!(message.contains("`pipeline_name`"), "{message}");
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let settings = load(&[
            ("OCTANE_CLIENT_SECRET", "hunter2"),
            ("INPUT_GITHUB_TOKEN", "ghs_x"),
        ])
        .unwrap();

        let debug = format!("{settings:?}");

        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("ghs_x"), "{debug}");
    }

    #[test]
    fn help_table_covers_raw_fields() {
        let pairs: Vec<(String, String)> = SETTINGS
            .iter()
            .map(|s| (format!("OCTANE_{}", s.key.to_uppercase()), "1".to_string()))
            .collect();

        let raw: RawSettings = envy::prefixed("OCTANE_").from_iter(pairs).unwrap();

        assert_eq!(raw.spool_dir.as_deref(), Some("1"));
        assert_eq!(raw.url.as_deref(), Some("1"));
        assert_eq!(format!("{raw:?}").matches("Some(").count(), SETTINGS.len());
    }
}
