//! Command-line flags and `--help`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use lexopt::prelude::*;

use crate::settings::SETTINGS;

/// The command the arguments request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Report the build (the default).
    Report {
        dry_run: bool,
        env_file: Option<PathBuf>,
    },
    /// Convert test reports to Octane's XML without contacting Octane; the arguments after
    /// `convert` go to its own parser.
    Convert(Vec<OsString>),
    /// Record the job start time for the main step (the action's pre-entrypoint).
    RecordStart {
        env_file: Option<PathBuf>,
    },
    /// Send the reports kept in a spool directory.
    Replay {
        dir: PathBuf,
        env_file: Option<PathBuf>,
    },
    Help,
    Version,
}

/// Executable name that acts as `record-start`, for the action's `pre-entrypoint`, which can
/// name an executable but pass it no arguments of its own.
const RECORD_START_NAME: &str = "octane-report-record-start";

/// Parses the arguments, program name first.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<Command> {
    let mut args = args.into_iter();
    let program = args.next().unwrap_or_default();
    let mut parser = lexopt::Parser::from_args(args);
    let called_as_record_start = PathBuf::from(&program)
        .file_name()
        .is_some_and(|name| name == RECORD_START_NAME);

    let mut dry_run = false;
    let mut env_file = None;
    let mut subcommand: Option<String> = called_as_record_start.then(|| "record-start".to_string());
    let mut operand: Option<PathBuf> = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Short('n') | Long("dry-run") => dry_run = true,
            Long("env-file") => {
                let value = parser.value().context("`--env-file` needs a file name")?;
                env_file = Some(PathBuf::from(value));
            }
            Value(word) if subcommand.is_none() => {
                let word = word.string().context("invalid subcommand")?;
                if word == "convert" && !dry_run && env_file.is_none() {
                    let rest: Vec<OsString> = parser.raw_args()?.collect();
                    if rest.iter().any(|a| a == "--help" || a == "-h") {
                        return Ok(Command::Help);
                    }
                    return Ok(Command::Convert(rest));
                }
                subcommand = Some(word);
            }
            // A GitHub Docker action passes its `args` to every stage; ignore empty ones.
            Value(word) if word.is_empty() => {}
            Value(word) if subcommand.as_deref() == Some("replay") && operand.is_none() => {
                operand = Some(PathBuf::from(word));
            }
            other => bail!("{}; see `octane-report --help`", other.unexpected()),
        }
    }

    match subcommand.as_deref() {
        None | Some("report") => Ok(Command::Report { dry_run, env_file }),
        Some("convert") => {
            bail!("`convert` takes no `--dry-run` or `--env-file`; see `octane-report --help`")
        }
        Some("record-start") => Ok(Command::RecordStart { env_file }),
        Some("replay") => match operand {
            Some(dir) => Ok(Command::Replay { dir, env_file }),
            None => bail!("`replay` needs the spool directory: octane-report replay DIR"),
        },
        Some("help") => Ok(Command::Help),
        Some(other) => bail!(
            "unknown subcommand `{}`; see `octane-report --help`",
            other.escape_default()
        ),
    }
}

/// Returns the `--help` text, which lists every setting under `SETTINGS:`, one per line, key
/// first.
pub(crate) fn help() -> String {
    let mut text = format!(
        "octane-report {}
Report a CI build, and its test results, to ALM Octane (OpenText ValueEdge).

USAGE:
    octane-report [--dry-run] [--env-file FILE]
    octane-report record-start [--env-file FILE]
    octane-report convert [--output FILE | --payload-dir DIR] PATTERN...
    octane-report replay DIR [--env-file FILE]

Reads the build's context from the CI's variables (GitHub Actions, GitLab CI, Drone,
Woodpecker, or settings alone), registers the CI server and the pipeline in Octane when they
are missing, and reports the build's start time, duration and result.

SUBCOMMANDS:
    report          report the build (the default)
    convert         write the Octane test-result XML for JUnit reports matching the glob
                    PATTERNs to stdout or FILE, without contacting Octane
    record-start    append the current time to GITHUB_STATE as started_at (the GitHub
                    action runs this as its pre-entrypoint)
    replay DIR      send the reports that failed runs saved in the spool directory DIR (see
                    `spool_dir`), with the current credentials; each delivered entry is removed

OPTIONS:
    -n, --dry-run         print the requests on stdout, secrets redacted, and send nothing
        --env-file FILE   read variables from a dotenv file; they replace process variables
                          of the same name
    -h, --help            print this help
    -V, --version         print the version

SETTINGS:
Each KEY is read from the first non-empty of OCTANE_KEY, PLUGIN_KEY (Drone, Woodpecker) and
INPUT_KEY (GitHub Actions), key upper-cased; hyphens may replace underscores.
",
        env!("CARGO_PKG_VERSION")
    );
    let width = SETTINGS.iter().map(|s| s.key.len()).max().unwrap_or(0);
    for setting in SETTINGS {
        let _ = writeln!(
            text,
            "  {:width$}  {} [default: {}]",
            setting.key, setting.help, setting.default
        );
    }
    text.push_str(
        "
NETWORK:
    Proxies come from https_proxy, http_proxy and all_proxy (lower or upper case), with any
    user and password in the proxy URL. no_proxy lists hosts, domains (with subdomains), IP
    ranges and HOST:PORT entries that are reached directly. SSL_CERT_FILE adds trusted CAs
    like `ca_file`; certificates are always verified. HTTP 429, 502, 503 and 504, connection
    errors and timeouts are retried up to 5 times, with waits of 1-2, 2-4, 4-8, 8-16 and 16-32 s
    (or the server's Retry-After), as long as `timeout` allows. An undelivered report is saved
    to `spool_dir` for `octane-report replay`.

EXIT CODES:
    0   reported, skipped (no credentials), or delivery failed while fail_on_error is false
    1   invalid settings, flags or CI variables
    2   delivery failed and fail_on_error is true
",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> anyhow::Result<Command> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn default_is_report() {
        assert_eq!(
            parse_strs(&["octane-report"]).unwrap(),
            Command::Report {
                dry_run: false,
                env_file: None
            }
        );
    }

    #[test]
    fn flags_and_env_file() {
        assert_eq!(
            parse_strs(&["octane-report", "--dry-run", "--env-file", "ci.env"]).unwrap(),
            Command::Report {
                dry_run: true,
                env_file: Some(PathBuf::from("ci.env"))
            }
        );
        assert_eq!(
            parse_strs(&["octane-report", "--env-file=ci.env", "-n"]).unwrap(),
            Command::Report {
                dry_run: true,
                env_file: Some(PathBuf::from("ci.env"))
            }
        );
    }

    #[test]
    fn record_start_by_name_or_subcommand() {
        assert_eq!(
            parse_strs(&["/usr/local/bin/octane-report-record-start"]).unwrap(),
            Command::RecordStart { env_file: None }
        );
        assert_eq!(
            parse_strs(&["octane-report", "record-start"]).unwrap(),
            Command::RecordStart { env_file: None }
        );
    }

    #[test]
    fn convert_takes_remaining_arguments() {
        let command =
            parse_strs(&["octane-report", "convert", "--output", "out.xml", "a/*.xml"]).unwrap();

        assert_eq!(
            command,
            Command::Convert(vec!["--output".into(), "out.xml".into(), "a/*.xml".into()])
        );
    }

    #[test]
    fn unknown_flag_and_subcommand() {
        let message = format!(
            "{:#}",
            parse_strs(&["octane-report", "--bogus"]).unwrap_err()
        );
        assert!(message.contains("--bogus"), "{message}");

        let message = format!(
            "{:#}",
            parse_strs(&["octane-report", "upload"]).unwrap_err()
        );
        assert!(message.contains("unknown subcommand `upload`"), "{message}");
    }

    #[test]
    fn help_lists_every_setting() {
        let text = help();

        for setting in SETTINGS {
            assert!(
                text.contains(&format!("\n  {} ", setting.key)),
                "{}",
                setting.key
            );
        }
    }
}
