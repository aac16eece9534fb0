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

use std::io::{self, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::clean::{
    ChunkSizes, CleanReader, CleanStats, CleanedChunks, clean_in_background, count_lines,
};
use super::entities::{EntityNotes, resolve_reference, unescape_attribute};
use super::model::{self, CaseAttributes, Detail, RawRun, ResultKind, ResultSet};
use super::rules;
use super::timestamp::parse_timestamp;

/// Maximum element nesting; deeper files are rejected.
pub(crate) const MAX_DEPTH: usize = 256;

/// The reason reading a file stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file is not a readable JUnit report; the reason names the problem.
    Invalid(String),
    /// The callback failed (for example, writing the output).
    Output(anyhow::Error),
}

/// Counts of what was changed while reading a file without error; the
/// values changed while mapping its runs are counted on the output thread.
#[derive(Debug)]
pub(crate) struct FileSummary {
    pub(crate) stats: CleanStats,
    pub(crate) entities: EntityNotes,
}

/// Reads one JUnit report and calls `emit` for every run, in document order.
/// With `background`, decoding and cleaning run on a second thread, which
/// sends chunks of these sizes.
pub(crate) fn read_report(
    input: impl Read + Send,
    background: Option<ChunkSizes>,
    default_started_ms: i64,
    emit: &mut dyn FnMut(&RawRun<'_>) -> anyhow::Result<()>,
) -> Result<FileSummary, ReadError> {
    let mut walker = Walker::new(default_started_ms, emit);
    let stats = if let Some(sizes) = background {
        let (result, stats) =
            clean_in_background(input, sizes, |chunks| parse_chunks(chunks, &mut walker));
        result?;
        stats.expect("the parser stops at the end of input only after the last chunk")
    } else {
        let mut cleaner = CleanReader::new(input);
        let mut cleaned = Vec::new();
        if let Err(error) = cleaner.read_all(&mut cleaned) {
            return Err(unreadable(1 + count_lines(&cleaned), &error));
        }
        parse_chunk(&cleaned, Position::default(), &mut walker)?;
        cleaner.stats
    };
    walker.finish(stats)
}

/// Feeds every event of the cleaned chunks to `walker`.
fn parse_chunks(chunks: &mut CleanedChunks, walker: &mut Walker<'_>) -> Result<(), ReadError> {
    let mut start = Position::default();
    loop {
        let (chunk, lines) = match chunks.next_chunk() {
            Ok(Some(next)) => next,
            Ok(None) => return Ok(()),
            Err(error) => return Err(unreadable(start.line, &error)),
        };
        parse_chunk(&chunk, start, walker)?;
        // The cleaning thread counted the lines of the chunk.
        start = Position {
            offset: start.offset + chunk.len() as u64,
            line: start.line + lines,
        };
        chunks.recycle(chunk);
    }
}

/// Position of a chunk in the cleaned text.
#[derive(Clone, Copy, Debug)]
struct Position {
    /// Bytes before it.
    offset: u64,
    /// Its line, from 1.
    line: u64,
}

impl Default for Position {
    fn default() -> Self {
        Position { offset: 0, line: 1 }
    }
}

impl Position {
    /// Returns the position just after `text`, which starts at this one.
    fn after(self, text: &[u8]) -> Position {
        Position {
            offset: self.offset + text.len() as u64,
            line: self.line + count_lines(text),
        }
    }

    /// Describes the place `index` bytes into `chunk`, which starts at this
    /// position, for an error message. Lines are those of the file. The byte
    /// offset counts the text as decoded and cleaned, so it matches the file
    /// only for UTF-8 files that needed no change.
    // NOTE: the line feeds of a removed DOCTYPE, or of the cut part of a
    // text over the run cap, are not counted, so later lines come out short.
    fn describe(self, chunk: &[u8], index: u64) -> String {
        let index = usize::try_from(index)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let place = self.after(&chunk[..index]);
        format!(
            "invalid XML on line {} (byte {} after decoding)",
            place.line, place.offset
        )
    }
}

/// Builds the error for input that could not be read or cleaned after `line`.
fn unreadable(line: u64, error: &io::Error) -> ReadError {
    ReadError::Invalid(format!("cannot read the report after line {line}: {error}"))
}

/// The UTF-8 encoding of U+FEFF, which quick-xml takes for a byte order mark
/// at the start of its input.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Feeds every event of one chunk of cleaned input, which starts `offset`
/// bytes into the cleaned file, to `walker`. A chunk after the first starts
/// just after a markup, in text, so its events are those the whole input
/// would give there. End tags are checked here against the open elements
/// because each chunk has a reader of its own.
fn parse_chunk(chunk: &[u8], start: Position, walker: &mut Walker<'_>) -> Result<(), ReadError> {
    let mut reader = Reader::from_reader(chunk);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    if start.offset > 0 && chunk.starts_with(BYTE_ORDER_MARK) && walker.wants_text() {
        // The first character of this text, which the reader will skip.
        walker.text("\u{FEFF}")?;
    }
    loop {
        let event_start = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let place = start.describe(chunk, reader.error_position());
                return Err(ReadError::Invalid(format!("{place}: {error}")));
            }
        };
        match event {
            Event::Start(element) => walker.start(&element)?,
            Event::Empty(element) => {
                walker.start(&element)?;
                walker.end()?;
            }
            Event::End(element) => {
                let name = element.name();
                if walker.innermost() != Some(name.as_ref()) {
                    let place = start.describe(chunk, event_start);
                    return Err(ReadError::Invalid(walker.mismatch(name.as_ref(), &place)));
                }
                walker.end()?;
            }
            Event::Text(text) if walker.wants_text() => walker.text(&text.xml10_content())?,
            Event::CData(text) if walker.wants_text() => walker.text(&text.xml10_content())?,
            Event::Text(_) | Event::CData(_) => {}
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference, &mut walker.entities);
                walker.text(&resolved)?;
            }
            Event::Eof => return Ok(()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Calls `visit` with the name and the raw value of each attribute in `raw`,
/// the part of a start tag after its name, and stops at the first error it
/// returns. Follows the XML syntax: whitespace before each attribute, then
/// `name = "value"` (or single quotes), with optional whitespace around `=`.
/// Names keep their prefix: `xmlns:name` or `xsi:type` are other attributes
/// than `name` and `type`. The cleaner already made sure that `raw` is no
/// longer than its tag cap.
fn scan_attributes(
    raw: &str,
    mut visit: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), String> {
    let bytes = raw.as_bytes();
    let mut at = 0;
    loop {
        let key_start = skip_whitespace(bytes, at);
        if key_start == bytes.len() {
            return Ok(());
        }
        at = key_start;
        while at < bytes.len() && NAME_BYTES[usize::from(bytes[at])] == IN_NAME {
            at += 1;
        }
        let stop = bytes
            .get(at)
            .map_or(IN_NAME, |&byte| NAME_BYTES[usize::from(byte)]);
        if at == key_start || stop == NOT_IN_NAME {
            let end = (at + 1).min(bytes.len());
            let shown_name = String::from_utf8_lossy(&bytes[key_start..end]);
            return Err(format!("`{}` is not an attribute name", shown(&shown_name)));
        }
        let key = &raw[key_start..at];
        if key_start == 0 || !is_xml_whitespace(bytes[key_start - 1]) {
            return Err(format!("no space before attribute `{}`", shown(key)));
        }
        at = skip_whitespace(bytes, at);
        if bytes.get(at) != Some(&b'=') {
            return Err(format!("`{}` has no `=` and value", shown(key)));
        }
        at = skip_whitespace(bytes, at + 1);
        let quote = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => quote,
            Some(_) => return Err(format!("the value of `{}` is not quoted", shown(key))),
            None => return Err(format!("`{}` has no value", shown(key))),
        };
        let value_start = at + 1;
        let Some(length) = memchr::memchr(quote, &bytes[value_start..]) else {
            return Err(format!(
                "the value of `{}` has no closing quote",
                shown(key)
            ));
        };
        visit(key, &raw[value_start..value_start + length])?;
        at = value_start + length + 1;
    }
}

/// Classes of bytes in [`NAME_BYTES`].
const IN_NAME: u8 = 0;
const ENDS_NAME: u8 = 1;
const NOT_IN_NAME: u8 = 2;

/// For each byte, whether it can be part of an attribute name, ends one
/// (whitespace, `=`) or cannot appear in one (quotes, `<`, `>`, `&`, `/`).
static NAME_BYTES: [u8; 256] = {
    let mut table = [IN_NAME; 256];
    let mut index = 0;
    let ends = b" \t\r\n=";
    while index < ends.len() {
        table[ends[index] as usize] = ENDS_NAME;
        index += 1;
    }
    let bad = b"\"'<>&/";
    index = 0;
    while index < bad.len() {
        table[bad[index] as usize] = NOT_IN_NAME;
        index += 1;
    }
    table
};

/// `name` without its namespace prefix. Names are short, so a plain loop
/// beats a vectorized search here.
fn local_name(name: &str) -> &str {
    match name.bytes().rposition(|byte| byte == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

fn is_xml_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_xml_whitespace(bytes[at]) {
        at += 1;
    }
    at
}

/// Cuts an attribute name to at most 64 bytes for an error message.
fn shown(key: &str) -> &str {
    rules::cut_bytes(key, 64)
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
    emit: &'a mut dyn FnMut(&RawRun<'_>) -> anyhow::Result<()>,
    /// Names of the open elements, concatenated; `open_ends` marks where each ends.
    open_names: String,
    open_ends: Vec<usize>,
    root_seen: bool,
    suites: Vec<Suite>,
    case: Option<Case>,
    capture: Option<Capture>,
    entities: EntityNotes,
    /// Attributes of ended cases and suites, reused for the next ones.
    spare_attributes: Vec<CaseAttributes>,
}

impl<'a> Walker<'a> {
    fn new(
        default_started_ms: i64,
        emit: &'a mut dyn FnMut(&RawRun<'_>) -> anyhow::Result<()>,
    ) -> Self {
        Walker {
            default_started_ms,
            emit,
            open_names: String::new(),
            open_ends: Vec::new(),
            root_seen: false,
            suites: Vec::new(),
            case: None,
            capture: None,
            entities: EntityNotes::default(),
            spare_attributes: Vec::new(),
        }
    }

    /// Name of the innermost open element, with its namespace prefix.
    fn innermost(&self) -> Option<&str> {
        let end = *self.open_ends.last()?;
        let start = match self.open_ends.len() {
            1 => 0,
            count => self.open_ends[count - 2],
        };
        Some(&self.open_names[start..end])
    }

    /// Describes an end tag `</name>` at `place` that does not close the
    /// innermost open element.
    fn mismatch(&self, name: &str, place: &str) -> String {
        let name = rules::cut_bytes(name, 64);
        match self.innermost() {
            Some(open) => format!(
                "{place}: </{name}> found where </{}> was expected",
                rules::cut_bytes(open, 64)
            ),
            None => format!("{place}: </{name}> closes no element"),
        }
    }

    fn start(&mut self, element: &BytesStart<'_>) -> Result<(), ReadError> {
        let qualified = element.name();
        let name = local_name(qualified.as_ref());
        let depth = self.open_ends.len() + 1;
        if depth > MAX_DEPTH {
            return Err(ReadError::Invalid(format!(
                "elements nested deeper than {MAX_DEPTH}"
            )));
        }
        if self.root_seen && self.open_ends.is_empty() {
            return Err(ReadError::Invalid(format!(
                "a second root element <{}> after the first one closed",
                rules::cut_bytes(qualified.as_ref(), 64)
            )));
        }
        if !self.root_seen {
            self.root_seen = true;
            if !matches!(name, "testsuites" | "testsuite" | "testrun") {
                return Err(ReadError::Invalid(format!(
                    "unsupported root element <{name}>; expected <testsuites> or <testsuite>"
                )));
            }
        }
        self.open_names.push_str(qualified.as_ref());
        self.open_ends.push(self.open_names.len());

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
        let depth = self.open_ends.len();
        self.open_ends.pop();
        self.open_names
            .truncate(self.open_ends.last().copied().unwrap_or(0));
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
            let inherited = self.inherited_started_ms();
            let sent = (self.emit)(&case.results.raw_run(&case.attributes, inherited));
            self.spare_attributes.push(case.attributes);
            return sent.map_err(ReadError::Output);
        }
        if self.suites.last().is_some_and(|suite| suite.depth == depth) {
            let suite = self.suites.pop().expect("checked above");
            if let Some(parent) = self.suites.last_mut() {
                parent.cases += suite.cases;
            }
            if !suite.results.has_failure() {
                self.spare_attributes.push(suite.attributes);
            } else {
                let inherited = suite
                    .started_ms
                    .unwrap_or_else(|| self.inherited_started_ms());
                let attributes = suite.attributes;
                let run = RawRun {
                    classname: &attributes.name,
                    timestamp: None,
                    ..suite.results.raw_run(&attributes, inherited)
                };
                return (self.emit)(&run).map_err(ReadError::Output);
            }
        }
        Ok(())
    }

    /// True when [`Self::text`] would look at the text: outside the root, or
    /// inside a result element whose body is still below its cap.
    fn wants_text(&self) -> bool {
        !self.root_seen
            || self.open_ends.is_empty()
            || self.capture.as_ref().is_some_and(|capture| {
                capture.skip_from.is_none() && capture.body.len() < model::STACK_TRACE_CAP
            })
    }

    fn text(&mut self, text: &str) -> Result<(), ReadError> {
        if (!self.root_seen || self.open_ends.is_empty()) && !text.trim().is_empty() {
            let reason = if self.root_seen {
                "text after the root element"
            } else {
                "not an XML report: text before the root element"
            };
            return Err(ReadError::Invalid(reason.to_string()));
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

    fn inherited_started_ms(&self) -> i64 {
        self.suites
            .iter()
            .rev()
            .find_map(|suite| suite.started_ms)
            .unwrap_or(self.default_started_ms)
    }

    /// Calls `set` with the index in `keys` and the unescaped value, cut to
    /// its cap, of each attribute named in `keys`. One of these attributes
    /// given twice is an error: which value would count is unclear.
    fn visit_attributes<const N: usize>(
        &mut self,
        element: &BytesStart<'_>,
        keys: [&str; N],
        caps: [usize; N],
        mut set: impl FnMut(usize, &str),
    ) -> Result<(), ReadError> {
        let entities = &mut self.entities;
        let mut seen = [false; N];
        scan_attributes(element.attributes_raw(), |key, raw| {
            let Some(index) = keys.iter().position(|wanted| *wanted == key) else {
                return Ok(());
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(format!("attribute `{key}` given twice"));
            }
            let raw = rules::cut_bytes(raw, caps[index] * 2);
            if memchr::memchr(b'&', raw.as_bytes()).is_some() {
                let value = unescape_attribute(raw, entities);
                set(index, rules::cut_bytes(&value, caps[index]));
            } else {
                set(index, rules::cut_bytes(raw, caps[index]));
            }
            Ok(())
        })
        .map_err(|reason| ReadError::Invalid(format!("invalid attribute: {reason}")))
    }

    /// Reads the attributes of a case or suite into strings reused from an
    /// element that ended, so most cases allocate nothing here.
    fn read_case_attributes(
        &mut self,
        element: &BytesStart<'_>,
    ) -> Result<CaseAttributes, ReadError> {
        let mut attributes = self.spare_attributes.pop().unwrap_or_default();
        attributes.name.clear();
        attributes.classname.clear();
        let mut found = [false; 4];
        let cap = model::NAME_READ_CAP;
        self.visit_attributes(
            element,
            ["name", "classname", "time", "timestamp"],
            [cap; 4],
            |index, value| {
                found[index] = true;
                let target = match index {
                    0 => &mut attributes.name,
                    1 => &mut attributes.classname,
                    2 => attributes.time.get_or_insert_default(),
                    _ => attributes.timestamp.get_or_insert_default(),
                };
                target.clear();
                target.push_str(value);
            },
        )?;
        if !found[2] {
            attributes.time = None;
        }
        if !found[3] {
            attributes.timestamp = None;
        }
        Ok(attributes)
    }

    fn read_detail(&mut self, element: &BytesStart<'_>) -> Result<Detail, ReadError> {
        let mut kind = None;
        let mut message = None;
        self.visit_attributes(
            element,
            ["type", "message"],
            [model::TYPE_CAP, model::MESSAGE_CAP],
            |index, value| {
                let target = if index == 0 { &mut kind } else { &mut message };
                *target = Some(value.to_string());
            },
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
        if let Some(name) = self.innermost() {
            return Err(ReadError::Invalid(format!(
                "unexpected end of file inside <{name}>"
            )));
        }
        Ok(FileSummary {
            stats,
            entities: self.entities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(raw: &str) -> Result<Vec<(String, String)>, String> {
        let mut found = Vec::new();
        scan_attributes(raw, |key, value| {
            found.push((key.to_string(), value.to_string()));
            Ok(())
        })?;
        Ok(found)
    }

    #[test]
    fn attribute_forms() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        };
        assert_eq!(scanned(""), Ok(Vec::new()));
        assert_eq!(scanned(" \t\r\n "), Ok(Vec::new()));
        assert_eq!(
            scanned(" name=\"a 'b'\" time = '1.5'\n\tx:classname=\"c\" "),
            Ok(pairs(&[
                ("name", "a 'b'"),
                ("time", "1.5"),
                ("x:classname", "c")
            ]))
        );
        assert_eq!(
            scanned(" a=\"\" b='2'"),
            Ok(pairs(&[("a", ""), ("b", "2")]))
        );
        assert_eq!(scanned(" a=\"&lt;\""), Ok(pairs(&[("a", "&lt;")])));
    }

    #[test]
    fn malformed_attributes_rejected() {
        for (raw, reason) in [
            (" name", "`name` has no `=` and value"),
            (" name other=\"1\"", "`name` has no `=` and value"),
            (" name=", "`name` has no value"),
            (" name=value", "the value of `name` is not quoted"),
            (" name=\"value", "the value of `name` has no closing quote"),
            (" name='value\"", "the value of `name` has no closing quote"),
            (" a=\"1\"b=\"2\"", "no space before attribute `b`"),
            (" =\"x\"", "`=` is not an attribute name"),
            (" \"name\"=\"x\"", "`\"` is not an attribute name"),
            (" na<me=\"x\"", "`na<` is not an attribute name"),
        ] {
            assert_eq!(scanned(raw), Err(reason.to_string()), "{raw:?}");
        }
    }

    /// Reads `report` and returns the names of its runs or the reason it is invalid.
    fn read(report: &str) -> Result<Vec<String>, String> {
        let mut runs = Vec::new();
        let mut emit = |run: &RawRun<'_>| -> anyhow::Result<()> {
            runs.push(run.name.to_string());
            Ok(())
        };
        match read_report(report.as_bytes(), None, 0, &mut emit) {
            Ok(_) => Ok(runs),
            Err(ReadError::Invalid(reason)) => Err(reason),
            Err(ReadError::Output(error)) => panic!("output error {error}"),
        }
    }

    #[test]
    fn end_tags_must_match() {
        assert_eq!(
            read("<testsuite><testcase name=\"a\"></testsuite>"),
            Err(
                "invalid XML on line 1 (byte 30 after decoding): </testsuite> found where </testcase> was expected"
                    .to_string()
            )
        );
        assert_eq!(
            read("<x:testsuite></testsuite>"),
            Err(
                "invalid XML on line 1 (byte 13 after decoding): </testsuite> found where </x:testsuite> was expected"
                    .to_string()
            )
        );
        assert_eq!(
            read("<testsuite/></testsuite>"),
            Err(
                "invalid XML on line 1 (byte 12 after decoding): </testsuite> closes no element"
                    .to_string()
            )
        );
        assert_eq!(
            read("<testsuite>\n<testcase name=\"a\">\r\n</testsuite>"),
            Err(
                "invalid XML on line 3 (byte 33 after decoding): </testsuite> found where </testcase> was expected"
                    .to_string()
            )
        );
        let runs = read("<x:testsuite><testcase name=\"a\"></testcase ></x:testsuite>");
        assert_eq!(runs.map(|runs| runs.len()), Ok(1));
    }

    /// Reads `report` with `background` and describes every run, or the error.
    fn described(report: &[u8], background: Option<ChunkSizes>) -> Result<Vec<String>, String> {
        let mut runs = Vec::new();
        let mut emit = |run: &RawRun<'_>| -> anyhow::Result<()> {
            runs.push(format!("{run:?}"));
            Ok(())
        };
        match read_report(report, background, 0, &mut emit) {
            Ok(summary) => {
                runs.push(format!("{:?}", summary.stats.control_chars));
                Ok(runs)
            }
            Err(ReadError::Invalid(reason)) => Err(reason),
            Err(ReadError::Output(error)) => panic!("output error {error}"),
        }
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let report = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
            <!DOCTYPE testsuites [<!ENTITY x \"y\">]>\n\
            <!-- generated --><?producer test?>\n\
            <testsuites><testsuite name=\"outer\" timestamp=\"2024-01-02T03:04:05Z\">\n\
            <testsuite name=\"inner\">\n\
            <testcase name=\"a &amp; b\" classname=\"p.q.C\" time=\"1,234.5\">\
            <failure message=\"m &lt;1&gt;\" type=\"T\">\u{FEFF}trace &amp; more\u{1}<![CDATA[ <raw> ]]>\
            tail é😀</failure><system-out>ignored</system-out></testcase>\n\
            <testcase name='b' classname='p.q.C'><skipped/></testcase>\n\
            <testcase name=\"c\"><error>\u{FEFF}</error><rerunFailure>r</rerunFailure></testcase>\n\
            </testsuite><error message=\"setup\">boom</error></testsuite></testsuites>\n";
        // The first read takes at least 1 KiB, so pad the start beyond it.
        let report = report.replace(
            "<!-- generated -->",
            &format!("<!--{}-->", "-x".repeat(1024)),
        );
        let whole = described(report.as_bytes(), None).expect("valid report");
        assert_eq!(whole.len(), 5, "{whole:?}");
        for read in [1, 2, 3, 7, 64] {
            let sizes = ChunkSizes { read, least: 1 };
            let chunked = described(report.as_bytes(), Some(sizes));
            assert_eq!(chunked.as_ref(), Ok(&whole), "read size {read}");
        }

        let broken = report.replace(
            "</testcase>\n<testcase name='b'",
            "</testsuite>\n<testcase name='b'",
        );
        let reason = described(broken.as_bytes(), None).expect_err("mismatched end tag");
        for read in [1, 3, 64] {
            let sizes = ChunkSizes { read, least: 1 };
            let chunked = described(broken.as_bytes(), Some(sizes));
            assert_eq!(chunked, Err(reason.clone()), "read size {read}");
        }
    }

    #[test]
    fn chunk_starting_with_feff() {
        let first = "<testsuite><testcase name=\"a\"><failure>";
        let second = "\u{FEFF}trace</failure></testcase></testsuite>";
        let mut traces = Vec::new();
        let mut emit = |run: &RawRun<'_>| -> anyhow::Result<()> {
            traces.push(run.error.map(|error| error.stack_trace.to_string()));
            Ok(())
        };
        let mut walker = Walker::new(0, &mut emit);
        let start = Position::default();
        parse_chunk(first.as_bytes(), start, &mut walker).expect("first chunk parses");
        parse_chunk(
            second.as_bytes(),
            start.after(first.as_bytes()),
            &mut walker,
        )
        .expect("second chunk parses");
        walker
            .finish(CleanStats::default())
            .expect("complete report");
        assert_eq!(traces, [Some("\u{FEFF}trace".to_string())]);
    }

    #[test]
    fn only_unprefixed_attributes_count() {
        let report = "<testsuite><testcase name=\"real\" xmlns:name=\"urn:fake\" x:time=\"9\">\
            <failure type=\"T\" xsi:type=\"ns:R\">t</failure></testcase></testsuite>";
        let mut seen = Vec::new();
        let mut emit = |run: &RawRun<'_>| -> anyhow::Result<()> {
            seen.push((run.name.to_string(), run.time.map(str::to_string)));
            seen.push((
                run.error
                    .and_then(|error| error.kind)
                    .unwrap_or("")
                    .to_string(),
                None,
            ));
            Ok(())
        };
        read_report(report.as_bytes(), None, 0, &mut emit).expect("valid report");
        assert_eq!(seen, [("real".to_string(), None), ("T".to_string(), None)]);
        assert_eq!(
            read("<testsuite><testcase name=\"a\" name=\"b\"/></testsuite>"),
            Err("invalid attribute: attribute `name` given twice".to_string())
        );
    }

    #[test]
    fn nothing_but_space_outside_the_root() {
        assert_eq!(
            read("<testsuite><testcase name=\"a\"/></testsuite><foo><testcase name=\"b\"/></foo>"),
            Err("a second root element <foo> after the first one closed".to_string())
        );
        assert_eq!(
            read("<testsuite><testcase name=\"a\"/></testsuite>junk"),
            Err("text after the root element".to_string())
        );
        let fine =
            "<?xml version=\"1.0\"?>\n<testsuite><testcase name=\"a\"/></testsuite>\n<!-- c -->\n";
        assert_eq!(read(fine), Ok(vec!["a".to_string()]));
    }

    #[test]
    fn malformed_attribute_fails_the_file() {
        let report = "<testsuite><testcase name=\"a\" time></testcase></testsuite>";
        let mut runs = 0;
        let mut emit = |_: &RawRun<'_>| -> anyhow::Result<()> {
            runs += 1;
            Ok(())
        };
        let error = read_report(report.as_bytes(), None, 0, &mut emit).expect_err("invalid");
        let ReadError::Invalid(reason) = error else {
            panic!("expected an invalid file, got {error:?}");
        };
        assert_eq!(reason, "invalid attribute: `time` has no `=` and value");
        assert_eq!(runs, 0);
    }
}
