//! The `convert` subcommand: JUnit reports to one Octane XML document on
//! stdout or in a file, or to split payload files whose paths are printed on
//! stdout, without network access.
//!
//! Exit codes: 0 when at least one file was converted, or when nothing was
//! wrong (every pattern matched and every file was read); 1 when no file
//! was converted and a pattern matched nothing or a file was invalid.
//! Warnings and invalid files are printed to stderr either way.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{
    ConvertOptions, convert_to_payloads, expand_patterns, write_document, write_document_to_file,
};

/// Arguments of `octane-report convert [--output FILE] PATTERN...`.
#[derive(Debug, PartialEq)]
pub struct ConvertArgs {
    /// Glob patterns; each may itself hold several, separated by commas or newlines.
    pub(crate) patterns: Vec<String>,
    /// Output file; stdout when `None`.
    pub(crate) output: Option<PathBuf>,
    /// Folder that relative patterns start from.
    pub(crate) base: PathBuf,
    /// When set, split payloads are written into this folder (as the upload
    /// does) instead of one document.
    pub(crate) payload_dir: Option<PathBuf>,
}

pub(crate) const CONVERT_USAGE: &str =
    "usage: octane-report convert [--output FILE | --payload-dir DIR] PATTERN...";

/// Parses the arguments that follow `convert`.
pub fn parse_convert_args(
    args: impl IntoIterator<Item = OsString>,
    base: PathBuf,
) -> anyhow::Result<ConvertArgs> {
    use lexopt::prelude::*;

    let mut parser =
        lexopt::Parser::from_iter(std::iter::once(OsString::from("convert")).chain(args));
    let mut patterns = Vec::new();
    let mut output = None;
    let mut payload_dir = None;
    while let Some(argument) = parser.next()? {
        match argument {
            Short('o') | Long("output") => output = Some(PathBuf::from(parser.value()?)),
            Long("payload-dir") => payload_dir = Some(PathBuf::from(parser.value()?)),
            Value(value) => {
                let value = value.into_string().map_err(|value| {
                    anyhow::anyhow!("pattern `{}` is not valid UTF-8", value.to_string_lossy())
                })?;
                patterns.push(value);
            }
            other => return Err(other.unexpected()).context(CONVERT_USAGE),
        }
    }
    if patterns.is_empty() {
        bail!("missing test report pattern; {CONVERT_USAGE}");
    }
    if output.is_some() && payload_dir.is_some() {
        bail!("--output and --payload-dir cannot be combined; {CONVERT_USAGE}");
    }
    Ok(ConvertArgs {
        patterns,
        output,
        base,
        payload_dir,
    })
}

/// Runs `convert`; see the module documentation for the exit codes.
pub fn run_convert(args: &ConvertArgs) -> anyhow::Result<ExitCode> {
    let expansion = expand_patterns(&args.patterns.join("\n"), &args.base)?;
    for pattern in &expansion.unmatched {
        warn(&format!("pattern `{pattern}` matched no file"));
    }
    let opts = ConvertOptions {
        build: None,
        default_started_ms: chrono::Utc::now().timestamp_millis(),
        external_report_url: None,
    };
    let conversion = match (&args.output, &args.payload_dir) {
        (_, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create payload folder {}", dir.display()))?;
            let conversion = convert_to_payloads(&expansion.files, &opts, dir)?;
            for payload in &conversion.payloads {
                println!("{}", payload.display());
            }
            conversion
        }
        (Some(path), None) => {
            if expansion
                .files
                .iter()
                .any(|input| is_same_file(path, input))
            {
                bail!(
                    "output file {} is also one of the input reports; choose another file",
                    path.display()
                );
            }
            let mut file = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            // Write errors surface when the document is flushed. The file is
            // for reading, not a store that must survive a crash, so it is
            // not synced to disk (for a large report that would take longer
            // than converting it).
            write_document_to_file(&expansion.files, &opts, &mut file)
                .with_context(|| format!("failed to write output file {}", path.display()))?
        }
        (None, None) => {
            let mut stdout = io::stdout();
            let conversion = write_document(&expansion.files, &opts, &mut stdout)?;
            stdout.flush().context("failed to write to stdout")?;
            conversion
        }
    };
    for line in &conversion.warnings {
        warn(line);
    }
    for error in &conversion.file_errors {
        warn(&format!("{}: {}", error.path.display(), error.reason));
    }
    let counts = conversion.counts;
    eprintln!(
        "octane-report: converted {} of {} files: {} passed, {} failed, {} skipped",
        conversion.files_converted,
        expansion.files.len(),
        counts.passed,
        counts.failed,
        counts.skipped
    );
    let nothing_wrong = expansion.unmatched.is_empty() && conversion.file_errors.is_empty();
    if conversion.files_converted > 0 || nothing_wrong {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("octane-report: error: no test report was converted (see the warnings above)");
    Ok(ExitCode::from(1))
}

/// True when `a` and `b` name the same existing file, also through a hard
/// link or a symbolic link.
fn is_same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn warn(message: &str) {
    eprintln!("octane-report: warning: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<ConvertArgs> {
        parse_convert_args(args.iter().map(OsString::from), PathBuf::from("/w"))
    }

    #[test]
    fn output_and_patterns() {
        let args = parse(&["-o", "out.xml", "a/*.xml", "--output=b.xml", "c.xml"])
            .expect("valid arguments");
        assert_eq!(args.patterns, ["a/*.xml", "c.xml"]);
        assert_eq!(args.output, Some(PathBuf::from("b.xml")));
        assert_eq!(args.payload_dir, None);
    }

    #[test]
    fn output_and_payload_dir_exclusive() {
        let error = parse(&["-o", "a", "--payload-dir", "d", "x.xml"]).expect_err("both outputs");
        assert!(error.to_string().contains("cannot be combined"), "{error}");
    }

    #[test]
    fn missing_pattern_rejected() {
        let error = parse(&["--output", "x"]).expect_err("no pattern");
        assert!(
            error.to_string().contains("missing test report pattern"),
            "{error}"
        );
    }

    #[test]
    fn unknown_flag_rejected() {
        let error = parse(&["--verbose", "a.xml"]).expect_err("unknown flag");
        assert!(format!("{error:#}").contains("--verbose"), "{error:#}");
    }
}
