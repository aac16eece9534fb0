//! Writer of Octane test-result XML (`<test_result>` documents), one run at a
//! time.
//!
//! The output follows the XSD Octane serves at `…/test-results/xsd`: the
//! optional `<build>` first, then `<test_runs>` with one `<test_run>` per run
//! and an `<error type message>` element holding the stack trace for failed
//! runs. Characters that XML 1.0 does not allow are dropped and counted;
//! tabs and line breaks in attributes are written as character references so
//! they survive attribute normalization.

use std::io::{self, Write};

use super::BuildRef;
use super::model::TestRun;
use super::rules;

/// Streaming writer of one `<test_result>` document.
pub(crate) struct PayloadWriter<W: Write> {
    out: W,
    bytes: u64,
    runs: u64,
    dropped_chars: u64,
}

impl<W: Write> PayloadWriter<W> {
    /// Writes the XML declaration, the root and the `<build>` element.
    pub(crate) fn begin(out: W, build: Option<&BuildRef>) -> io::Result<Self> {
        let mut writer = PayloadWriter {
            out,
            bytes: 0,
            runs: 0,
            dropped_chars: 0,
        };
        writer.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n")?;
        if let Some(build) = build {
            writer.raw("  <build")?;
            writer.attribute("server_id", &build.server_id)?;
            writer.attribute("job_id", &build.job_id)?;
            writer.attribute("build_id", &build.build_id)?;
            writer.raw("/>\n")?;
        }
        writer.raw("  <test_runs>\n")?;
        Ok(writer)
    }

    /// Writes one `<test_run>`; `report_url` must already match the XSD pattern.
    pub(crate) fn write_run(&mut self, run: &TestRun, report_url: Option<&str>) -> io::Result<()> {
        self.raw("    <test_run")?;
        if !run.package.is_empty() {
            self.attribute("package", &run.package)?;
        }
        if !run.class.is_empty() {
            self.attribute("class", &run.class)?;
        }
        self.attribute("name", &run.name)?;
        self.attribute("status", run.status.as_str())?;
        self.attribute("duration", &run.duration_ms.to_string())?;
        self.attribute("started", &run.started_ms.to_string())?;
        if let Some(url) = report_url {
            self.attribute("external_report_url", url)?;
        }
        match &run.error {
            None => self.raw("/>\n")?,
            Some(error) => {
                self.raw(">\n      <error")?;
                if let Some(kind) = &error.kind {
                    self.attribute("type", kind)?;
                }
                if let Some(message) = &error.message {
                    self.attribute("message", message)?;
                }
                self.raw(">")?;
                self.text(&error.stack_trace)?;
                self.raw("</error>\n    </test_run>\n")?;
            }
        }
        self.runs += 1;
        Ok(())
    }

    /// Closes the document and returns the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.raw("  </test_runs>\n</test_result>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn runs(&self) -> u64 {
        self.runs
    }

    /// Characters dropped because XML 1.0 does not allow them.
    pub(crate) fn dropped_chars(&self) -> u64 {
        self.dropped_chars
    }

    fn raw(&mut self, text: &str) -> io::Result<()> {
        self.bytes += text.len() as u64;
        self.out.write_all(text.as_bytes())
    }

    fn attribute(&mut self, name: &str, value: &str) -> io::Result<()> {
        self.raw(" ")?;
        self.raw(name)?;
        self.raw("=\"")?;
        self.escaped(value, true)?;
        self.raw("\"")
    }

    fn text(&mut self, value: &str) -> io::Result<()> {
        self.escaped(value, false)
    }

    /// Writes `value` with markup characters escaped. Clean stretches are
    /// written in one call.
    fn escaped(&mut self, value: &str, in_attribute: bool) -> io::Result<()> {
        let mut clean_from = 0;
        for (index, ch) in value.char_indices() {
            let replacement = match ch {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' if in_attribute => "&quot;",
                '\t' if in_attribute => "&#9;",
                '\n' if in_attribute => "&#10;",
                '\r' => "&#13;",
                ch if !rules::is_xml_char(ch) => {
                    self.dropped_chars += 1;
                    ""
                }
                _ => continue,
            };
            self.raw(&value[clean_from..index])?;
            self.raw(replacement)?;
            clean_from = index + ch.len_utf8();
        }
        self.raw(&value[clean_from..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::model::RunError;
    use crate::junit::rules::Status;

    fn run(status: Status, error: Option<RunError>) -> TestRun {
        TestRun {
            name: "adds \"1\" & <2>".into(),
            package: "com.example".into(),
            class: String::new(),
            status,
            duration_ms: 12,
            started_ms: 1_700_000_000_000,
            error,
        }
    }

    fn write(runs: &[TestRun], build: Option<&BuildRef>) -> String {
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
        let error = RunError {
            kind: Some("AssertionError".into()),
            message: Some("line one\nline\ttwo".into()),
            stack_trace: "at a <b>\r\n\u{1}end \"q\"".into(),
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
    fn empty_document_is_complete() {
        let output = write(&[], None);
        assert_eq!(
            output,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n  <test_runs>\n  </test_runs>\n</test_result>\n"
        );
    }
}
