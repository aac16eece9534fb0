//! `record-start`: the GitHub action's pre-entrypoint records when the job started.
//!
//! The main step runs later in a new container; the runner hands it the value as
//! `STATE_started_at`.

use std::fs::OpenOptions;
use std::io::Write;
use std::process::ExitCode;

use crate::env::Env;

pub(crate) fn run(env: &Env) -> ExitCode {
    let Some(path) = env.get_trimmed("GITHUB_STATE") else {
        eprintln!(
            "octane-report: warning: GITHUB_STATE is not set, so the start time was not recorded \
             (record-start is meant for the GitHub action's pre-entrypoint)"
        );
        return ExitCode::SUCCESS;
    };
    let millis = chrono::Utc::now().timestamp_millis();
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| writeln!(file, "started_at={millis}"));
    match written {
        Ok(()) => {
            eprintln!("octane-report: job start recorded ({millis})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Exit 0 even so, because the main step falls back to another start source.
            eprintln!("octane-report: warning: cannot write GITHUB_STATE `{path}`: {e}");
            ExitCode::SUCCESS
        }
    }
}
