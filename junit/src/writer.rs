//! Writer of Octane test-result XML (`<test_result>` documents), one run at a
//! time.
//!
//! The output follows the XSD Octane serves at `…/test-results/xsd`: the
//! optional `<build>` first, then `<test_runs>` with one `<test_run>` per run
//! and an `<error type message>` element holding the stack trace for failed
//! runs. Characters that XML 1.0 does not allow are dropped and counted;
//! tabs and line breaks in attributes are written as character references so
//! they survive attribute normalization.
//!
//! A run is formatted once into a byte buffer by [`format_run`]; the buffer
//! can be kept (spooled) and copied into a payload later with
//! [`PayloadWriter::write_formatted`].

use std::io::{self, Write};

use super::BuildRef;
use super::model::RunView;

/// Streaming writer of one `<test_result>` document.
pub(crate) struct PayloadWriter<W: Write> {
    out: W,
    bytes: u64,
    runs: u64,
    dropped_chars: u64,
    scratch: Vec<u8>,
}

impl<W: Write> PayloadWriter<W> {
    /// Writes the XML declaration, the root and the `<build>` element.
    pub(crate) fn begin(out: W, build: Option<&BuildRef>) -> io::Result<Self> {
        let mut writer = PayloadWriter {
            out,
            bytes: 0,
            runs: 0,
            dropped_chars: 0,
            scratch: Vec::new(),
        };
        let mut head = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n".to_vec();
        if let Some(build) = build {
            head.extend_from_slice(b"  <build");
            writer.dropped_chars += push_attribute(&mut head, "server_id", &build.server_id);
            writer.dropped_chars += push_attribute(&mut head, "job_id", &build.job_id);
            writer.dropped_chars += push_attribute(&mut head, "build_id", &build.build_id);
            head.extend_from_slice(b"/>\n");
        }
        head.extend_from_slice(b"  <test_runs>\n");
        writer.raw(&head)?;
        Ok(writer)
    }

    /// Writes one `<test_run>`; `report_url` must already match the XSD pattern.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn write_run(
        &mut self,
        run: &RunView<'_>,
        report_url: Option<&str>,
    ) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.dropped_chars += format_run(run, report_url, &mut scratch);
        let result = self.write_formatted(&scratch);
        self.scratch = scratch;
        result
    }

    /// Writes one `<test_run>` formatted by [`format_run`].
    pub(crate) fn write_formatted(&mut self, run_xml: &[u8]) -> io::Result<()> {
        self.raw(run_xml)?;
        self.runs += 1;
        Ok(())
    }

    /// Closes the document and returns the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.raw(b"  </test_runs>\n</test_result>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Returns the output, for a caller that needs to reposition it; see
    /// [`Self::rewind`].
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Sets the counts back to `bytes` and `runs`, after the caller cut the
    /// output back to the point where they were taken.
    pub(crate) fn rewind(&mut self, bytes: u64, runs: u64) {
        self.bytes = bytes;
        self.runs = runs;
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn runs(&self) -> u64 {
        self.runs
    }

    /// Characters dropped because XML 1.0 does not allow them, from the build
    /// ids and from runs passed to [`Self::write_run`].
    pub(crate) fn dropped_chars(&self) -> u64 {
        self.dropped_chars
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }
}

/// Appends the `<test_run>` element of `run` to `out` and returns the number
/// of characters dropped because XML 1.0 does not allow them.
/// `report_url` must already match the XSD pattern.
pub(crate) fn format_run(run: &RunView<'_>, report_url: Option<&str>, out: &mut Vec<u8>) -> u64 {
    let mut dropped = 0;
    out.extend_from_slice(b"    <test_run");
    if !run.package.is_empty() {
        dropped += push_attribute(out, "package", run.package);
    }
    if !run.class.is_empty() {
        dropped += push_attribute(out, "class", run.class);
    }
    dropped += push_attribute(out, "name", run.name);
    out.extend_from_slice(b" status=\"");
    out.extend_from_slice(run.status.as_str().as_bytes());
    out.extend_from_slice(b"\" duration=\"");
    out.extend_from_slice(itoa::Buffer::new().format(run.duration_ms).as_bytes());
    out.extend_from_slice(b"\" started=\"");
    out.extend_from_slice(itoa::Buffer::new().format(run.started_ms).as_bytes());
    out.push(b'"');
    if let Some(url) = report_url {
        dropped += push_attribute(out, "external_report_url", url);
    }
    match &run.error {
        None => out.extend_from_slice(b"/>\n"),
        Some(error) => {
            out.extend_from_slice(b">\n      <error");
            if let Some(kind) = error.kind {
                dropped += push_attribute(out, "type", kind);
            }
            if let Some(message) = error.message {
                dropped += push_attribute(out, "message", message);
            }
            out.push(b'>');
            dropped += push_escaped(out, error.stack_trace, &TEXT_ESCAPES);
            out.extend_from_slice(b"</error>\n    </test_run>\n");
        }
    }
    dropped
}

fn push_attribute(out: &mut Vec<u8>, name: &str, value: &str) -> u64 {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    let dropped = push_escaped(out, value, &ATTRIBUTE_ESCAPES);
    out.push(b'"');
    dropped
}

/// Byte is copied as is.
const COPY: u8 = 0;
/// Byte is replaced by a reference or dropped; see [`replacement`].
const SPECIAL: u8 = 1;
/// First byte of U+FFFE or U+FFFF (`EF BF BE`, `EF BF BF`), the only
/// characters above U+001F that a Rust string can hold and XML 1.0 forbids.
const LEAD_EF: u8 = 2;

const fn escape_table(in_attribute: bool) -> [u8; 256] {
    let mut table = [COPY; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = SPECIAL;
        byte += 1;
    }
    if !in_attribute {
        table[b'\t' as usize] = COPY;
        table[b'\n' as usize] = COPY;
    }
    table[b'&' as usize] = SPECIAL;
    table[b'<' as usize] = SPECIAL;
    table[b'>' as usize] = SPECIAL;
    if in_attribute {
        table[b'"' as usize] = SPECIAL;
    }
    table[0xEF] = LEAD_EF;
    table
}

static TEXT_ESCAPES: [u8; 256] = escape_table(false);
static ATTRIBUTE_ESCAPES: [u8; 256] = escape_table(true);

/// Reference written for a byte marked [`SPECIAL`], or `None` for a control
/// character that is dropped.
fn replacement(byte: u8) -> Option<&'static [u8]> {
    match byte {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#9;"),
        b'\n' => Some(b"&#10;"),
        b'\r' => Some(b"&#13;"),
        _ => None,
    }
}

/// Appends `value` with markup characters escaped and returns the number of
/// characters dropped. Clean stretches are copied in one call.
fn push_escaped(out: &mut Vec<u8>, value: &str, table: &[u8; 256]) -> u64 {
    let bytes = value.as_bytes();
    let mut dropped = 0;
    let mut clean_from = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let (skip, replaced) = match table[usize::from(byte)] {
            COPY => {
                index += 1;
                continue;
            }
            SPECIAL => (1, replacement(byte)),
            _ if matches!(bytes.get(index + 1..index + 3), Some([0xBF, 0xBE | 0xBF])) => (3, None),
            _ => {
                index += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[clean_from..index]);
        match replaced {
            Some(reference) => out.extend_from_slice(reference),
            None => dropped += 1,
        }
        index += skip;
        clean_from = index;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorView;
    use crate::rules::Status;

    fn run(status: Status, error: Option<ErrorView<'_>>) -> RunView<'_> {
        RunView {
            name: "adds \"1\" & <2>",
            package: "com.example",
            class: "",
            status,
            duration_ms: 12,
            started_ms: 1_700_000_000_000,
            error,
        }
    }

    fn write(runs: &[RunView<'_>], build: Option<&BuildRef>) -> String {
        let mut writer = PayloadWriter::begin(Vec::new(), build).expect("writing to memory");
        for run in runs {
            writer
                .write_run(run, Some("https://ci.example.com/run/1"))
                .expect("writing to memory");
        }
        String::from_utf8(writer.finish().expect("writing to memory")).expect("UTF-8 output")
    }

    #[test]
    fn passed_run_with_build() {
        let build = BuildRef {
            server_id: "s<1>".into(),
            job_id: "j".into(),
            build_id: "b".into(),
        };
        let output = write(&[run(Status::Passed, None)], Some(&build));
        assert!(output.contains("<build server_id=\"s&lt;1&gt;\" job_id=\"j\" build_id=\"b\"/>"));
        assert!(output.contains(
            "<test_run package=\"com.example\" name=\"adds &quot;1&quot; &amp; &lt;2&gt;\" status=\"Passed\" \
             duration=\"12\" started=\"1700000000000\" external_report_url=\"https://ci.example.com/run/1\"/>"
        ));
        assert!(!output.contains("class="));
    }

    #[test]
    fn failed_run_error_element() {
        let error = ErrorView {
            kind: Some("AssertionError"),
            message: Some("line one\nline\ttwo"),
            stack_trace: "at a <b>\r\n\u{1}end \"q\"",
        };
        let mut writer = PayloadWriter::begin(Vec::new(), None).expect("writing to memory");
        writer
            .write_run(&run(Status::Failed, Some(error)), None)
            .expect("writing to memory");
        assert_eq!(writer.dropped_chars(), 1);
        let output = String::from_utf8(writer.finish().expect("finish")).expect("UTF-8");
        assert!(output.contains(
            "<error type=\"AssertionError\" message=\"line one&#10;line&#9;two\">at a &lt;b&gt;&#13;\nend \"q\"</error>"
        ));
        assert!(!output.contains("<build"));
    }

    #[test]
    fn noncharacters_dropped() {
        let mut out = Vec::new();
        let dropped = push_escaped(
            &mut out,
            "a\u{FFFE}b\u{FFFF}c\u{FFFD}\u{EFFF}\0",
            &TEXT_ESCAPES,
        );
        assert_eq!(dropped, 3);
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "abc\u{FFFD}\u{EFFF}"
        );
    }

    #[test]
    fn empty_document_is_complete() {
        let output = write(&[], None);
        assert_eq!(
            output,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n  <test_runs>\n  </test_runs>\n</test_result>\n"
        );
    }
}
