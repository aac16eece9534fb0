//! octane-report: reports a CI build and its test results to ALM Octane.
//!
//! This entry point only dispatches `convert` until the full command line
//! replaces it.

#![forbid(unsafe_code)]

mod junit;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new("convert")) {
        eprintln!("octane-report: error: {}", junit_usage());
        return ExitCode::from(1);
    }
    let result = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|base| junit::parse_convert_args(args, base))
        .and_then(|args| junit::run_convert(&args));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("octane-report: error: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn junit_usage() -> &'static str {
    "usage: octane-report convert [--output FILE | --payload-dir DIR] PATTERN..."
}
