//! `octane-report`: report a CI build, and its test results, to ALM Octane.

#![forbid(unsafe_code)]

mod build_result;
mod ci;
mod cli;
mod delivery;
mod env;
mod files;
mod github_api;
mod log;
mod net;
mod octane;
mod outputs;
mod record_start;
mod replay;
mod report;
mod settings;
mod spool;
mod target;
mod test_upload;
mod time;

use std::process::ExitCode;

use cli::Command;
use env::Env;
use log::Log;
use report::Outcome;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os()) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("octane-report: error: {e:#}");
            return ExitCode::from(1);
        }
    };
    match command {
        Command::Help => {
            print!("{}", cli::help());
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("octane-report {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Convert(args) => convert(args),
        Command::RecordStart { env_file } => match load_env(env_file.as_deref()) {
            Ok(env) => record_start::run(&env),
            Err(code) => code,
        },
        Command::Report { dry_run, env_file } => match load_env(env_file.as_deref()) {
            Ok(env) => report_build(&env, dry_run),
            Err(code) => code,
        },
        Command::Replay { dir, env_file } => match load_env(env_file.as_deref()) {
            Ok(env) => run_logged(&env, true, |log| replay::run(&env, &dir, log)),
            Err(code) => code,
        },
    }
}

fn convert(args: Vec<std::ffi::OsString>) -> ExitCode {
    let result = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|base| junit::parse_convert_args(args, base))
        .and_then(|args| junit::run_convert(&args));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("octane-report: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn load_env(env_file: Option<&std::path::Path>) -> Result<Env, ExitCode> {
    let mut env = Env::from_process();
    if let Some(path) = env_file
        && let Err(e) = env.overlay_file(path)
    {
        eprintln!("octane-report: error: {e:#}");
        return Err(ExitCode::from(1));
    }
    Ok(env)
}

fn report_build(env: &Env, dry_run: bool) -> ExitCode {
    // A dry run prints no secret, and its output is often pasted elsewhere, so it prints no
    // `::add-mask::` line (which carries the secret) either.
    let mask = !dry_run && !settings::dry_run_requested(env);
    run_logged(env, mask, |log| report::run(env, dry_run, log))
}

/// Runs a command that sends to Octane and maps its outcome to the exit code.
fn run_logged(
    env: &Env,
    mask: bool,
    command: impl FnOnce(&mut Log) -> Result<Outcome, report::InvalidInput>,
) -> ExitCode {
    let github = ci::Ci::detect(env) == ci::Ci::GitHub;
    if github && mask {
        // Before anything else is printed, so the runner masks the secrets in every later line.
        settings::print_github_masks(env);
    }
    let mut log = Log::new(github);
    match command(&mut log) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::DeliveryFailed {
            fail_on_error: true,
        }) => ExitCode::from(2),
        Ok(Outcome::DeliveryFailed {
            fail_on_error: false,
        }) => ExitCode::SUCCESS,
        Err(invalid) => {
            log.error(&invalid.to_string());
            ExitCode::from(1)
        }
    }
}
