//! Streaming JUnit XML reader built on quick-xml.
//!
//! It walks `<testsuites>`, `<testsuite>` (nested to any depth) and
//! `<testcase>` elements and hands each finished run to a callback, so memory
//! does not grow with the file. Suite counters are ignored; only the cases
//! found count. A suite that carries `<error>` or `<failure>` directly (a
//! class that failed to load, a failing `afterAll`) becomes one extra failed
//! run named after the suite, so the failure is never lost.
//!
//! Entities: only the five predefined ones and character references are
//! resolved. Any other reference stays in the text as written, and the DTD
//! that could declare it was already removed by [`CleanReader`].

use std::io::{BufReader, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::clean::{CleanReader, CleanStats};
use super::entities::{EntityNotes, resolve_reference, unescape_attribute};
use super::model::{self, CaseAttributes, Detail, MappingNotes, ResultKind, ResultSet, TestRun};
use super::rules;
use super::timestamp::parse_timestamp;

/// Maximum element nesting; deeper files are rejected.
pub(crate) const MAX_DEPTH: usize = 256;

/// Why reading a file stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file is not a readable JUnit report; the reason names the problem.
    Invalid(String),
    /// The callback failed (for example, writing the output).
    Output(anyhow::Error),
}

/// Notes on a successfully read file.
#[derive(Debug, Default)]
pub(crate) struct FileSummary {
    pub(crate) warnings: Vec<String>,
}

/// Reads one JUnit report and calls `emit` for every run, in document order.
pub(crate) fn read_report(
    input: impl Read,
    default_started_ms: i64,
    emit: &mut dyn FnMut(TestRun) -> anyhow::Result<()>,
) -> Result<FileSummary, ReadError> {
    let mut reader =
        Reader::from_reader(BufReader::with_capacity(64 << 10, CleanReader::new(input)));
    let mut walker = Walker::new(default_started_ms, emit);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(error) => {
                let position = reader.error_position();
                return Err(ReadError::Invalid(format!(
                    "invalid XML near byte {position}: {error}"
                )));
            }
        };
        match event {
            Event::Start(element) => walker.start(&element)?,
            Event::Empty(element) => {
                walker.start(&element)?;
                walker.end()?;
            }
            Event::End(_) => walker.end()?,
            Event::Text(text) => walker.text(&text.xml10_content())?,
            Event::CData(text) => walker.text(&text.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference, &mut walker.entities);
                walker.text(&resolved)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    let stats = reader.get_ref().get_ref().stats;
    walker.finish(stats)
}

struct Suite {
    depth: usize,
    attributes: CaseAttributes,
    started_ms: Option<i64>,
    cases: u64,
    results: ResultSet,
}

struct Case {
    depth: usize,
    attributes: CaseAttributes,
    results: ResultSet,
}

struct Capture {
    depth: usize,
    kind: ResultKind,
    detail: Detail,
    body: String,
    /// Depth of a `system-out`/`system-err` inside the result, whose text is skipped.
    skip_from: Option<usize>,
}

struct Walker<'a> {
    default_started_ms: i64,
    emit: &'a mut dyn FnMut(TestRun) -> anyhow::Result<()>,
    open: Vec<String>,
    root_seen: bool,
    suites: Vec<Suite>,
    case: Option<Case>,
    capture: Option<Capture>,
    notes: MappingNotes,
    entities: EntityNotes,
}

impl<'a> Walker<'a> {
    fn new(
        default_started_ms: i64,
        emit: &'a mut dyn FnMut(TestRun) -> anyhow::Result<()>,
    ) -> Self {
        Walker {
            default_started_ms,
            emit,
            open: Vec::new(),
            root_seen: false,
            suites: Vec::new(),
            case: None,
            capture: None,
            notes: MappingNotes::default(),
            entities: EntityNotes::default(),
        }
    }

    fn start(&mut self, element: &BytesStart<'_>) -> Result<(), ReadError> {
        let name = element.local_name().as_ref().to_string();
        let depth = self.open.len() + 1;
        if depth > MAX_DEPTH {
            return Err(ReadError::Invalid(format!(
                "elements nested deeper than {MAX_DEPTH}"
            )));
        }
        if !self.root_seen {
            self.root_seen = true;
            if !matches!(name.as_str(), "testsuites" | "testsuite" | "testrun") {
                let shown = &name;
                return Err(ReadError::Invalid(format!(
                    "unsupported root element <{shown}>; expected <testsuites> or <testsuite>"
                )));
            }
        }
        self.open.push(name);
        let name = self.open.last().expect("pushed above").as_str();

        if let Some(capture) = &mut self.capture {
            if capture.skip_from.is_none() && matches!(name, "system-out" | "system-err") {
                capture.skip_from = Some(depth);
            }
            return Ok(());
        }
        if let Some(kind) = ResultKind::from_element(name) {
            if self.case.is_some() || !self.suites.is_empty() {
                let detail = self.read_detail(element)?;
                self.capture = Some(Capture {
                    depth,
                    kind,
                    detail,
                    body: String::new(),
                    skip_from: None,
                });
            }
            return Ok(());
        }
        match name {
            "testcase" if self.case.is_none() => {
                let attributes = self.read_case_attributes(element)?;
                self.case = Some(Case {
                    depth,
                    attributes,
                    results: ResultSet::default(),
                });
            }
            "testsuite" | "testsuites" | "testrun" if self.case.is_none() => {
                let attributes = self.read_case_attributes(element)?;
                let started_ms = attributes.timestamp.as_deref().and_then(parse_timestamp);
                self.suites.push(Suite {
                    depth,
                    attributes,
                    started_ms,
                    cases: 0,
                    results: ResultSet::default(),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), ReadError> {
        let depth = self.open.len();
        self.open.pop();
        if let Some(capture) = &mut self.capture {
            if capture.skip_from == Some(depth) {
                capture.skip_from = None;
            }
            if capture.depth == depth {
                let capture = self.capture.take().expect("checked above");
                let owner = match &mut self.case {
                    Some(case) => &mut case.results,
                    None => {
                        &mut self
                            .suites
                            .last_mut()
                            .expect("capture needs an owner")
                            .results
                    }
                };
                owner.add(capture.kind, capture.detail, &capture.body);
            }
            return Ok(());
        }
        if self.case.as_ref().is_some_and(|case| case.depth == depth) {
            let case = self.case.take().expect("checked above");
            if let Some(suite) = self.suites.last_mut() {
                suite.cases += 1;
            }
            let run = model::build_run(
                case.attributes,
                case.results,
                self.inherited_started_ms(),
                &mut self.notes,
            );
            return self.send(run);
        }
        if self.suites.last().is_some_and(|suite| suite.depth == depth) {
            let suite = self.suites.pop().expect("checked above");
            if let Some(parent) = self.suites.last_mut() {
                parent.cases += suite.cases;
            }
            if suite.results.has_failure() {
                let inherited = suite
                    .started_ms
                    .unwrap_or_else(|| self.inherited_started_ms());
                let mut attributes = suite.attributes;
                attributes.classname = attributes.name.clone();
                attributes.timestamp = None;
                let run = model::build_run(attributes, suite.results, inherited, &mut self.notes);
                return self.send(run);
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), ReadError> {
        if !self.root_seen && !text.trim().is_empty() {
            return Err(ReadError::Invalid(
                "not an XML report: text before the root element".to_string(),
            ));
        }
        if let Some(capture) = &mut self.capture
            && capture.skip_from.is_none()
            && capture.body.len() < model::STACK_TRACE_CAP
        {
            let room = model::STACK_TRACE_CAP - capture.body.len();
            capture.body.push_str(rules::cut_bytes(text, room));
        }
        Ok(())
    }

    fn send(&mut self, run: TestRun) -> Result<(), ReadError> {
        (self.emit)(run).map_err(ReadError::Output)
    }

    fn inherited_started_ms(&self) -> i64 {
        self.suites
            .iter()
            .rev()
            .find_map(|suite| suite.started_ms)
            .unwrap_or(self.default_started_ms)
    }

    fn attribute_values<const N: usize>(
        &mut self,
        element: &BytesStart<'_>,
        keys: [&str; N],
        caps: [usize; N],
    ) -> Result<[Option<String>; N], ReadError> {
        let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
        for attribute in element.attributes().with_checks(false) {
            let attribute = attribute
                .map_err(|error| ReadError::Invalid(format!("invalid attribute: {error}")))?;
            let key = attribute.key.local_name();
            if let Some(index) = keys.iter().position(|wanted| *wanted == key.as_ref()) {
                let raw = rules::cut_bytes(&attribute.value, caps[index] * 2);
                let value = unescape_attribute(raw, &mut self.entities);
                values[index] = Some(rules::cut_bytes(&value, caps[index]).to_string());
            }
        }
        Ok(values)
    }

    fn read_case_attributes(
        &mut self,
        element: &BytesStart<'_>,
    ) -> Result<CaseAttributes, ReadError> {
        let cap = model::NAME_READ_CAP;
        let [name, classname, time, timestamp] = self.attribute_values(
            element,
            ["name", "classname", "time", "timestamp"],
            [cap; 4],
        )?;
        Ok(CaseAttributes {
            name: name.unwrap_or_default(),
            classname: classname.unwrap_or_default(),
            time,
            timestamp,
        })
    }

    fn read_detail(&mut self, element: &BytesStart<'_>) -> Result<Detail, ReadError> {
        let [kind, message] = self.attribute_values(
            element,
            ["type", "message"],
            [model::TYPE_CAP, model::MESSAGE_CAP],
        )?;
        let kind = kind.filter(|kind| !kind.trim().is_empty());
        let message = message.filter(|message| !message.trim().is_empty());
        Ok(Detail { kind, message })
    }

    fn finish(self, stats: CleanStats) -> Result<FileSummary, ReadError> {
        if !self.root_seen {
            let reason = if stats.input_bytes == 0 {
                "empty file"
            } else {
                "no root element: not an XML report"
            };
            return Err(ReadError::Invalid(reason.to_string()));
        }
        if let Some(name) = self.open.last() {
            return Err(ReadError::Invalid(format!(
                "unexpected end of file inside <{name}>"
            )));
        }
        let warnings = super::notes::describe(&stats, &self.notes, &self.entities);
        Ok(FileSummary { warnings })
    }
}
