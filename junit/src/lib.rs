//! JUnit XML test reports converted to Octane test-result XML.
//!
//! The converter of `octane-report`, in a crate of its own so that it can be
//! optimized for speed while the rest of the program is optimized for size.
//!
//! Each report file is read once by a streaming reader. Its runs are
//! formatted as they are read and held in a [`spool::Spool`] until the file
//! ends. Only a file read without error has its runs copied into the output.
//! A bad file (empty, not XML, truncated, unsupported root) thus adds no run
//! at all; it is listed in [`Conversion::file_errors`] and the other files
//! still go out.
//! Memory stays bounded whatever the file size: no document is held whole,
//! texts are capped while reading (see `clean` and `model` for the limits)
//! and the spool moves to a temporary file beyond
//! [`spool::SPOOL_MEMORY_MAX`] bytes.
//!
//! Large reports are split into several payloads, each a complete
//! `<test_result>` naming the same build: a new payload starts after
//! [`MAX_RUNS_PER_PAYLOAD`] runs or once the current one passed
//! [`MAX_PAYLOAD_BYTES`].

#![forbid(unsafe_code)]

mod clean;
mod cli;
mod entities;
mod lexer;
mod model;
mod notes;
mod output;
mod packed;
mod patterns;
mod reader;
mod rules;
mod spool;
mod timestamp;
mod writer;

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use cli::{ConvertArgs, parse_convert_args, run_convert};
pub use patterns::expand_patterns;

use model::{MappingNotes, RawRun};
use output::{RunSender, RunSink, with_output_thread};
use reader::{ReadError, read_report};
use rules::Status;
use writer::PayloadWriter;

/// Runs per payload before a new payload starts.
pub const MAX_RUNS_PER_PAYLOAD: u64 = 5_000;
/// Payload size in bytes after which a new payload starts; one run can add at
/// most about 80 KiB (capped stack trace, message and names) beyond it.
pub const MAX_PAYLOAD_BYTES: u64 = 8 << 20;
/// Minimum file size for cleaning on a second thread while the file is
/// parsed. For smaller files, starting the thread costs more than it saves.
const BACKGROUND_CLEANING_MIN_BYTES: u64 = 1 << 20;
/// Failed runs listed in [`Conversion::first_failures`].
const FIRST_FAILURES_MAX: usize = 10;

/// The build the test results belong to (Octane `<build>` attributes).
#[derive(Clone, Debug)]
pub struct BuildRef {
    pub server_id: String,
    pub job_id: String,
    pub build_id: String,
}

/// Settings of one conversion.
#[derive(Clone, Debug)]
pub struct ConvertOptions {
    /// `None` omits `<build>` (a conversion without ids).
    pub build: Option<BuildRef>,
    /// Build start in epoch milliseconds, used when no case or suite timestamp parses.
    pub default_started_ms: i64,
    /// Link to the CI run; left out with a warning unless it matches the XSD pattern.
    pub external_report_url: Option<String>,
}

/// Files matched by the `test_results` patterns.
#[derive(Debug)]
pub struct Expansion {
    pub files: Vec<PathBuf>,
    pub unmatched: Vec<String>,
}

/// Runs per Octane status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// A report file that could not be converted.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub reason: String,
}

/// Result of converting a set of report files.
#[derive(Debug, Default)]
pub struct Conversion {
    /// Octane XML files, each a complete document naming the same build.
    pub payloads: Vec<PathBuf>,
    /// Runs written into each payload, in the order of [`Self::payloads`].
    pub payload_counts: Vec<Counts>,
    pub counts: Counts,
    /// Up to ten `package.class.name` labels of failed runs.
    pub first_failures: Vec<String>,
    pub file_errors: Vec<FileError>,
    /// Changes made to the input, one line per kind and file, prefixed with the path.
    pub warnings: Vec<String>,
    /// Files that were read without error.
    pub files_converted: usize,
}

/// Parses every file and writes payloads into `out_dir` as
/// `test-results-0001.xml`, `test-results-0002.xml`…; no run gives no payload.
/// Runs of a large file are spooled in a temporary file in `out_dir`.
pub fn convert_to_payloads(
    files: &[PathBuf],
    opts: &ConvertOptions,
    out_dir: &Path,
) -> anyhow::Result<Conversion> {
    let mut conversion = Conversion::default();
    let report_url = checked_report_url(opts, &mut conversion.warnings)?;
    let mut sink = PayloadSet {
        out_dir,
        build: opts.build.as_ref(),
        current: None,
        paths: Vec::new(),
        counts: Vec::new(),
        dropped_chars: 0,
    };
    let dropped_chars = convert_files(
        files,
        opts,
        report_url.as_deref(),
        out_dir,
        &mut conversion,
        &mut sink,
    )?;
    sink.close()?;
    conversion.payloads = sink.paths;
    conversion.payload_counts = sink.counts;
    note_dropped_chars(dropped_chars + sink.dropped_chars, &mut conversion.warnings);
    Ok(conversion)
}

/// Writes one document with every run to `out` (the `convert` subcommand).
/// Runs of a large file are spooled in a temporary file in
/// [`std::env::temp_dir`].
pub fn write_document(
    files: &[PathBuf],
    opts: &ConvertOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<Conversion> {
    write_one_document(files, opts, out, None)
}

/// Writes one document with every run to `file`, from its current position.
/// When `file` is a regular file, runs go into it as they are read, and the
/// runs of a file that fails are cut off again. No run is then copied
/// through a spool. Any other file gets [`write_document`].
pub fn write_document_to_file(
    files: &[PathBuf],
    opts: &ConvertOptions,
    file: &mut File,
) -> anyhow::Result<Conversion> {
    let regular = file.metadata().is_ok_and(|metadata| metadata.is_file());
    match file.stream_position() {
        Ok(start) if regular => write_one_document(files, opts, &*file, Some((&*file, start))),
        _ => write_document(files, opts, file),
    }
}

/// Writes one document to `out`. With `file`, the file that `out` writes to
/// and the document's position in it, the runs of a file that fails are cut
/// off the file again instead of going through the spool.
fn write_one_document<W: Write + Send>(
    files: &[PathBuf],
    opts: &ConvertOptions,
    out: W,
    file: Option<(&File, u64)>,
) -> anyhow::Result<Conversion> {
    let mut conversion = Conversion::default();
    let report_url = checked_report_url(opts, &mut conversion.warnings)?;
    let writer = PayloadWriter::begin(BufWriter::with_capacity(64 << 10, out), opts.build.as_ref())
        .context("failed to write the output")?;
    let mut sink = Document {
        writer,
        file,
        mark: (0, 0),
    };
    let dropped_chars = convert_files(
        files,
        opts,
        report_url.as_deref(),
        &std::env::temp_dir(),
        &mut conversion,
        &mut sink,
    )?;

    let writer = sink.writer;
    note_dropped_chars(
        dropped_chars + writer.dropped_chars(),
        &mut conversion.warnings,
    );
    writer.finish().context("failed to write the output")?;
    Ok(conversion)
}

/// One document being written.
struct Document<'a, W: Write + Send> {
    writer: PayloadWriter<BufWriter<W>>,
    /// The regular file that the writer writes to, and the position of the
    /// document in it, when runs can be cut off again.
    file: Option<(&'a File, u64)>,
    /// Bytes and runs written at the last mark.
    mark: (u64, u64),
}

impl<W: Write + Send> RunSink for Document<'_, W> {
    fn append(&mut self, _status: Status, run_xml: &[u8]) -> io::Result<()> {
        self.writer.write_formatted(run_xml)
    }

    fn mark(&mut self) -> io::Result<bool> {
        self.mark = (self.writer.bytes(), self.writer.runs());
        Ok(self.file.is_some())
    }

    fn take_back(&mut self) -> io::Result<()> {
        let Some((mut file, start)) = self.file else {
            return Err(io::Error::other("this output cannot take runs back"));
        };
        let (bytes, runs) = self.mark;
        self.writer.get_mut().flush()?;
        file.set_len(start + bytes)?;
        file.seek(SeekFrom::Start(start + bytes))?;
        self.writer.rewind(bytes, runs);
        Ok(())
    }
}

/// Reads every file once and passes the formatted runs of each file that was
/// read without error to `sink`, which runs on a second thread. Returns the
/// number of characters dropped from those runs because XML 1.0 does not
/// allow them.
fn convert_files(
    files: &[PathBuf],
    opts: &ConvertOptions,
    report_url: Option<&str>,
    spool_dir: &Path,
    conversion: &mut Conversion,
    sink: &mut dyn RunSink,
) -> anyhow::Result<u64> {
    let (summaries, written) = with_output_thread(spool_dir, report_url, sink, |runs| {
        read_files(files, opts, conversion, runs)
    })?;
    // The output thread reports on the same files, in the same order.
    for ((path, summary), notes) in summaries.iter().zip(&written.notes) {
        let path = path.display();
        let lines = notes::describe(&summary.stats, notes, &summary.entities);
        conversion
            .warnings
            .extend(lines.iter().map(|line| format!("{path}: {line}")));
    }
    Ok(written.dropped_chars)
}

/// Reads every file and returns the path and summary of each file read
/// without error.
fn read_files<'a>(
    files: &'a [PathBuf],
    opts: &ConvertOptions,
    conversion: &mut Conversion,
    runs: &mut RunSender,
) -> anyhow::Result<Vec<(&'a Path, reader::FileSummary)>> {
    let mut summaries = Vec::new();
    for path in files {
        let mut tally = Tally::default();
        let mut emit = |run: &RawRun<'_>| -> anyhow::Result<()> {
            tally.record(run);
            runs.push(run)
        };
        let result = read_file(path, opts.default_started_ms, &mut emit)?;
        runs.end_file(result.is_ok())?;
        match result {
            Ok(summary) => {
                conversion.files_converted += 1;
                tally.merge_into(conversion);
                summaries.push((path.as_path(), summary));
            }
            Err(reason) => {
                conversion.file_errors.push(FileError {
                    path: path.clone(),
                    reason,
                });
            }
        }
    }
    Ok(summaries)
}

/// Counters of one file, added to the conversion once the file is read
/// without error.
#[derive(Default)]
struct Tally {
    counts: Counts,
    first_failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, raw: &RawRun<'_>) {
        let status = raw.status();
        self.counts.add(status);
        if status == Status::Failed && self.first_failures.len() < FIRST_FAILURES_MAX {
            // The output thread maps every run and counts the changes; this
            // mapping only names the first few failures.
            let run = model::build_run(raw, &mut MappingNotes::default());
            let parts = [run.package, run.class, run.name];
            let label: Vec<&str> = parts.into_iter().filter(|part| !part.is_empty()).collect();
            self.first_failures.push(label.join("."));
        }
    }

    fn merge_into(self, conversion: &mut Conversion) {
        let counts = &mut conversion.counts;
        counts.passed += self.counts.passed;
        counts.failed += self.counts.failed;
        counts.skipped += self.counts.skipped;
        let room = FIRST_FAILURES_MAX.saturating_sub(conversion.first_failures.len());
        conversion
            .first_failures
            .extend(self.first_failures.into_iter().take(room));
    }
}

impl Counts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
        }
    }
}

/// Reads one file; the outer error is an output failure, the inner one the
/// reason the file is invalid.
fn read_file(
    path: &Path,
    default_started_ms: i64,
    emit: &mut dyn FnMut(&RawRun<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<Result<reader::FileSummary, String>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) => return Ok(Err(format!("cannot open the file: {error}"))),
    };
    let background = if cfg!(fuzzing) {
        // Fuzz inputs are small: cut them into tiny chunks so that the
        // fuzzer reaches the chunk boundaries of large reports.
        Some(clean::ChunkSizes { read: 7, least: 1 })
    } else {
        file.metadata()
            .is_ok_and(|metadata| metadata.len() >= BACKGROUND_CLEANING_MIN_BYTES)
            .then_some(clean::CHUNK_SIZES)
    };
    match read_report(file, background, default_started_ms, emit) {
        Ok(summary) => Ok(Ok(summary)),
        Err(ReadError::Invalid(reason)) => Ok(Err(reason)),
        Err(ReadError::Output(error)) => Err(error),
    }
}

/// Validates the build ids and returns the report URL when the XSD accepts it.
fn checked_report_url(
    opts: &ConvertOptions,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<String>> {
    if let Some(build) = &opts.build {
        for (name, value) in [
            ("server_id", &build.server_id),
            ("job_id", &build.job_id),
            ("build_id", &build.build_id),
        ] {
            let length = value.encode_utf16().count();
            if !(1..=rules::OCTANE_NAME_MAX).contains(&length) {
                bail!(
                    "build {name} `{value}` must be 1 to 255 characters long for Octane test results"
                );
            }
        }
    }
    let Some(url) = &opts.external_report_url else {
        return Ok(None);
    };
    if is_valid_report_url(url) {
        Ok(Some(url.clone()))
    } else {
        warnings.push(format!(
            "left out the report link `{url}`: Octane accepts http(s) URLs of 6 to 512 characters"
        ));
        Ok(None)
    }
}

/// Checks `url` against the XSD's `urlType`: 6 to 512 characters, no line
/// break, starting with `http(s)://`, `td(s)://` or `testdirector(s):`.
fn is_valid_report_url(url: &str) -> bool {
    let length = url.chars().count();
    if !(6..=512).contains(&length) || url.contains(['\n', '\r']) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let case_insensitive = ["http://", "https://", "td://", "tds://"]
        .iter()
        .any(|prefix| lower.starts_with(prefix));
    case_insensitive || url.starts_with("testdirector:") || url.starts_with("testdirectors:")
}

fn note_dropped_chars(count: u64, warnings: &mut Vec<String>) {
    if count > 0 {
        warnings.push(format!(
            "dropped {count} characters that XML 1.0 does not allow from the output"
        ));
    }
}

/// Payload files being written into one folder.
struct PayloadSet<'a> {
    out_dir: &'a Path,
    build: Option<&'a BuildRef>,
    current: Option<PayloadWriter<BufWriter<File>>>,
    paths: Vec<PathBuf>,
    /// Runs written into each payload, one entry per path in `paths`.
    counts: Vec<Counts>,
    dropped_chars: u64,
}

impl RunSink for PayloadSet<'_> {
    fn append(&mut self, status: Status, run_xml: &[u8]) -> io::Result<()> {
        let writer = match &mut self.current {
            Some(writer) => writer,
            None => {
                let path = self
                    .out_dir
                    .join(format!("test-results-{:04}.xml", self.paths.len() + 1));
                let file = File::create(&path).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot create {}: {error}", path.display()),
                    )
                })?;
                self.paths.push(path);
                self.counts.push(Counts::default());
                self.current.insert(PayloadWriter::begin(
                    BufWriter::with_capacity(64 << 10, file),
                    self.build,
                )?)
            }
        };
        writer.write_formatted(run_xml)?;
        if let Some(counts) = self.counts.last_mut() {
            counts.add(status);
        }
        if writer.runs() >= MAX_RUNS_PER_PAYLOAD || writer.bytes() >= MAX_PAYLOAD_BYTES {
            self.close()?;
        }
        Ok(())
    }
}

impl PayloadSet<'_> {
    fn close(&mut self) -> io::Result<()> {
        if let Some(writer) = self.current.take() {
            self.dropped_chars += writer.dropped_chars();
            writer.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_url_pattern() {
        let valid = [
            "https://ci.example.com/run/1",
            "HTTP://x.y",
            "tds://host/a",
            "testdirector:abc",
        ];
        for url in valid {
            assert!(is_valid_report_url(url), "{url}");
        }
        let long = format!("https://{}", "a".repeat(510));
        let invalid = [
            "ftp://host/x",
            "http:",
            "https://a\nb",
            "relative/path",
            long.as_str(),
        ];
        for url in invalid {
            assert!(!is_valid_report_url(url), "{url}");
        }
    }

    /// Writes a report of `cases` test cases: every seventh fails, every
    /// eleventh of the others is skipped.
    fn write_report(path: &Path, cases: usize) {
        let mut xml = String::from("<testsuite name=\"s\">\n");
        for index in 0..cases {
            let body = if index % 7 == 0 {
                "<failure message=\"m\">trace</failure>"
            } else if index % 11 == 0 {
                "<skipped/>"
            } else {
                ""
            };
            xml.push_str(&format!(
                "<testcase name=\"t{index}\" classname=\"a.B\">{body}</testcase>\n"
            ));
        }
        xml.push_str("</testsuite>\n");
        std::fs::write(path, xml).expect("write report");
    }

    /// Writes a report of `cases` test cases that ends in the middle of a tag.
    fn write_truncated_report(path: &Path, cases: usize) {
        write_report(path, cases);
        let mut text = std::fs::read_to_string(path).expect("report readable");
        text.truncate(text.len() - 20);
        std::fs::write(path, text).expect("write report");
    }

    fn options_without_build() -> ConvertOptions {
        ConvertOptions {
            build: None,
            default_started_ms: 0,
            external_report_url: None,
        }
    }

    fn status_counts(payload: &Path) -> Counts {
        let text = std::fs::read_to_string(payload).expect("payload readable");
        Counts {
            passed: text.matches("status=\"Passed\"").count() as u64,
            failed: text.matches("status=\"Failed\"").count() as u64,
            skipped: text.matches("status=\"Skipped\"").count() as u64,
        }
    }

    #[test]
    fn payload_counts_match_payloads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("good.xml");
        write_report(&good, 12_000);
        let truncated = dir.path().join("truncated.xml");
        let text = std::fs::read_to_string(&good).expect("report readable");
        std::fs::write(&truncated, &text[..text.len() - 30]).expect("write report");
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).expect("create out dir");
        let opts = options_without_build();

        let conversion =
            convert_to_payloads(&[good, truncated], &opts, &out_dir).expect("conversion succeeds");

        assert_eq!(conversion.file_errors.len(), 1, "the truncated file fails");
        assert_eq!(conversion.payloads.len(), 3);
        assert_eq!(conversion.payload_counts.len(), conversion.payloads.len());
        let runs: Vec<u64> = conversion
            .payload_counts
            .iter()
            .map(|counts| counts.passed + counts.failed + counts.skipped)
            .collect();
        assert_eq!(runs, [5_000, 5_000, 2_000]);
        for (payload, counts) in conversion.payloads.iter().zip(&conversion.payload_counts) {
            assert_eq!(status_counts(payload), *counts, "{}", payload.display());
        }
        let mut total = Counts::default();
        for counts in &conversion.payload_counts {
            total.passed += counts.passed;
            total.failed += counts.failed;
            total.skipped += counts.skipped;
        }
        assert_eq!(total, conversion.counts);
        assert!(total.failed > 0);
        assert!(total.skipped > 0);
    }

    #[test]
    fn failed_file_adds_no_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let big = dir.path().join("big.xml");
        // Enough runs to move the spool from memory to a temporary file.
        write_truncated_report(&big, 80_000);
        let small = dir.path().join("small.xml");
        write_report(&small, 3);
        let opts = options_without_build();
        let mut output = Vec::new();

        let conversion =
            write_document(&[big.clone(), small], &opts, &mut output).expect("conversion succeeds");

        let text = String::from_utf8(output).expect("UTF-8 output");
        assert_eq!(text.matches("<test_run ").count(), 3);
        assert_eq!(conversion.files_converted, 1);
        assert_eq!(conversion.file_errors.len(), 1);
        assert_eq!(conversion.file_errors[0].path, big);
        assert_eq!(conversion.counts.passed + conversion.counts.failed, 3);
        assert_eq!(conversion.first_failures, ["a.B.t0"]);
    }

    #[test]
    fn failed_file_is_cut_from_the_output_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = dir.path().join("first.xml");
        write_report(&first, 3);
        let big = dir.path().join("big.xml");
        write_truncated_report(&big, 80_000);
        let last = dir.path().join("last.xml");
        write_report(&last, 2);
        let opts = options_without_build();
        let output = dir.path().join("out.xml");
        let mut file = File::create(&output).expect("create output");
        file.write_all(b"kept\n").expect("write prefix");

        let conversion = write_document_to_file(&[first, big.clone(), last], &opts, &mut file)
            .expect("conversion succeeds");
        drop(file);

        let text = std::fs::read_to_string(&output).expect("output readable");
        let document = text
            .strip_prefix("kept\n")
            .expect("text before the document kept");
        assert!(document.starts_with("<?xml"));
        assert!(document.ends_with("</test_runs>\n</test_result>\n"));
        assert_eq!(document.matches("<test_run ").count(), 5);
        assert_eq!(document.matches("name=\"t0\"").count(), 2);
        assert!(
            !document.contains("name=\"t3\""),
            "no run of the failed file"
        );
        assert_eq!(conversion.files_converted, 2);
        assert_eq!(conversion.file_errors.len(), 1);
        assert_eq!(conversion.file_errors[0].path, big);
    }

    #[test]
    fn build_ids_checked() {
        let build = BuildRef {
            server_id: String::new(),
            job_id: "j".into(),
            build_id: "b".into(),
        };
        let opts = ConvertOptions {
            build: Some(build),
            default_started_ms: 0,
            external_report_url: None,
        };
        let error = checked_report_url(&opts, &mut Vec::new()).expect_err("empty server_id");
        assert!(error.to_string().contains("server_id"), "{error}");
    }
}
