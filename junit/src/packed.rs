//! Test runs packed into bytes for the trip from the parsing thread to the
//! output thread.
//!
//! Packing copies the run's fields, each behind its length, and nothing
//! else, so the parsing thread does as little per run as it can. Escaping
//! and formatting the XML, about a fifth of the parsing thread's work on
//! large reports, happen on the output thread (see [`super::output`]).

use std::io;

use super::model::TestRun;
use super::rules::Status;

const HAS_ERROR: u8 = 1;
const HAS_TYPE: u8 = 2;
const HAS_MESSAGE: u8 = 4;

/// The fields of one run as the writer reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RunView<'a> {
    pub(crate) name: &'a str,
    pub(crate) package: &'a str,
    pub(crate) class: &'a str,
    pub(crate) status: Status,
    pub(crate) duration_ms: i64,
    pub(crate) started_ms: i64,
    pub(crate) error: Option<ErrorView<'a>>,
}

/// The `<error>` fields of a failed run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ErrorView<'a> {
    pub(crate) kind: Option<&'a str>,
    pub(crate) message: Option<&'a str>,
    pub(crate) stack_trace: &'a str,
}

impl<'a> RunView<'a> {
    pub(crate) fn of(run: &'a TestRun) -> Self {
        RunView {
            name: &run.name,
            package: &run.package,
            class: &run.class,
            status: run.status,
            duration_ms: run.duration_ms,
            started_ms: run.started_ms,
            error: run.error.as_ref().map(|error| ErrorView {
                kind: error.kind.as_deref(),
                message: error.message.as_deref(),
                stack_trace: &error.stack_trace,
            }),
        }
    }
}

/// Appends `run` to `out` in the form [`unpack`] reads. The status is left
/// out: it travels in the frame header (see [`super::spool`]).
pub(crate) fn pack(run: &TestRun, out: &mut Vec<u8>) {
    out.extend_from_slice(&run.duration_ms.to_le_bytes());
    out.extend_from_slice(&run.started_ms.to_le_bytes());
    let mut flags = 0;
    if let Some(error) = &run.error {
        flags |= HAS_ERROR;
        if error.kind.is_some() {
            flags |= HAS_TYPE;
        }
        if error.message.is_some() {
            flags |= HAS_MESSAGE;
        }
    }
    out.push(flags);
    for text in [&run.name, &run.package, &run.class] {
        push_text(out, text);
    }
    if let Some(error) = &run.error {
        for text in [&error.kind, &error.message].into_iter().flatten() {
            push_text(out, text);
        }
        push_text(out, &error.stack_trace);
    }
}

/// Texts are capped far below 4 GiB while reading, so a `u32` holds any length.
fn push_text(out: &mut Vec<u8>, text: &str) {
    let length = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&text.as_bytes()[..length as usize]);
}

/// Reads a run packed by [`pack`] whose status is `status`.
pub(crate) fn unpack(status: Status, bytes: &[u8]) -> io::Result<RunView<'_>> {
    let mut input = Input { rest: bytes };
    let duration_ms = i64::from_le_bytes(input.array()?);
    let started_ms = i64::from_le_bytes(input.array()?);
    let [flags] = input.array()?;
    let name = input.text()?;
    let package = input.text()?;
    let class = input.text()?;
    let error = if flags & HAS_ERROR == 0 {
        None
    } else {
        let kind = if flags & HAS_TYPE == 0 {
            None
        } else {
            Some(input.text()?)
        };
        let message = if flags & HAS_MESSAGE == 0 {
            None
        } else {
            Some(input.text()?)
        };
        let stack_trace = input.text()?;
        Some(ErrorView {
            kind,
            message,
            stack_trace,
        })
    };
    if !input.rest.is_empty() {
        return Err(corrupt());
    }
    Ok(RunView {
        name,
        package,
        class,
        status,
        duration_ms,
        started_ms,
        error,
    })
}

struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    fn take(&mut self, count: usize) -> io::Result<&'a [u8]> {
        if self.rest.len() < count {
            return Err(corrupt());
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| corrupt())
    }

    fn text(&mut self) -> io::Result<&'a str> {
        let length = u32::from_le_bytes(self.array()?) as usize;
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes).map_err(|_| corrupt())
    }
}

fn corrupt() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "corrupt test run between threads",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunError;

    fn sample(error: Option<RunError>) -> TestRun {
        TestRun {
            name: "adds ✓".into(),
            package: "com.example".into(),
            class: String::new(),
            status: Status::Failed,
            duration_ms: -3,
            started_ms: 1_700_000_000_123,
            error,
        }
    }

    #[test]
    fn round_trip() {
        let errors = [
            None,
            Some(RunError {
                kind: None,
                message: Some("boom".into()),
                stack_trace: "at a\n\tat b".into(),
            }),
            Some(RunError {
                kind: Some("E".into()),
                message: None,
                stack_trace: String::new(),
            }),
        ];
        for error in errors {
            let run = sample(error);
            let mut bytes = vec![9];
            pack(&run, &mut bytes);
            assert_eq!(
                unpack(Status::Failed, &bytes[1..]).expect("unpacks"),
                RunView::of(&run)
            );
        }
    }

    #[test]
    fn damaged_bytes_are_an_error() {
        let mut bytes = Vec::new();
        pack(&sample(None), &mut bytes);
        for length in 0..bytes.len() {
            assert!(
                unpack(Status::Failed, &bytes[..length]).is_err(),
                "cut at {length}"
            );
        }
        bytes.push(0);
        assert!(unpack(Status::Failed, &bytes).is_err(), "trailing byte");
    }
}
