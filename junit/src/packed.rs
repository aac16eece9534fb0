//! Cases packed into bytes for the trip from the parsing thread to the
//! output thread.
//!
//! Packing copies the case's texts, each behind its length, and its flags,
//! so the parsing thread does as little per case as it can. Mapping the case
//! to a run, escaping and formatting happen on the output thread (see
//! [`super::output`]).

use std::io;

use super::model::{ErrorView, RawRun};
use super::rules::ResultFlags;

const ERROR: u8 = 1;
const FAILURE: u8 = 1 << 1;
const SKIPPED: u8 = 1 << 2;
const RERUN: u8 = 1 << 3;
const STACK_TRACE_CUT: u8 = 1 << 4;
const HAS_TIME: u8 = 1 << 5;
const HAS_TIMESTAMP: u8 = 1 << 6;

const HAS_ERROR: u8 = 1;
const HAS_TYPE: u8 = 1 << 1;
const HAS_MESSAGE: u8 = 1 << 2;

/// Appends `run` to `out` in the form [`unpack`] reads.
pub(crate) fn pack(run: &RawRun<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(&run.inherited_started_ms.to_le_bytes());
    let flags = [
        (run.flags.error, ERROR),
        (run.flags.failure, FAILURE),
        (run.flags.skipped, SKIPPED),
        (run.flags.rerun, RERUN),
        (run.stack_trace_cut, STACK_TRACE_CUT),
        (run.time.is_some(), HAS_TIME),
        (run.timestamp.is_some(), HAS_TIMESTAMP),
    ]
    .into_iter()
    .fold(0, |flags, (set, bit)| if set { flags | bit } else { flags });
    let error_flags = run.error.map_or(0, |error| {
        let mut flags = HAS_ERROR;
        if error.kind.is_some() {
            flags |= HAS_TYPE;
        }
        if error.message.is_some() {
            flags |= HAS_MESSAGE;
        }
        flags
    });
    out.extend_from_slice(&[flags, error_flags]);
    for text in [Some(run.name), Some(run.classname), run.time, run.timestamp]
        .into_iter()
        .flatten()
    {
        push_text(out, text);
    }
    if let Some(error) = run.error {
        for text in [error.kind, error.message].into_iter().flatten() {
            push_text(out, text);
        }
        push_text(out, error.stack_trace);
    }
}

/// Texts are capped far below 4 GiB while reading, so any length fits a `u32`.
fn push_text(out: &mut Vec<u8>, text: &str) {
    let length = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&text.as_bytes()[..length as usize]);
}

/// Reads a case packed by [`pack`].
pub(crate) fn unpack(bytes: &[u8]) -> io::Result<RawRun<'_>> {
    let mut input = Input { rest: bytes };
    let inherited_started_ms = i64::from_le_bytes(input.array()?);
    let [flags, error_flags] = input.array()?;
    let name = input.text()?;
    let classname = input.text()?;
    let time = input.text_if(flags & HAS_TIME != 0)?;
    let timestamp = input.text_if(flags & HAS_TIMESTAMP != 0)?;
    let error = if error_flags & HAS_ERROR == 0 {
        None
    } else {
        let kind = input.text_if(error_flags & HAS_TYPE != 0)?;
        let message = input.text_if(error_flags & HAS_MESSAGE != 0)?;
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
    Ok(RawRun {
        name,
        classname,
        time,
        timestamp,
        inherited_started_ms,
        flags: ResultFlags {
            error: flags & ERROR != 0,
            failure: flags & FAILURE != 0,
            skipped: flags & SKIPPED != 0,
            rerun: flags & RERUN != 0,
        },
        stack_trace_cut: flags & STACK_TRACE_CUT != 0,
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

    fn text_if(&mut self, present: bool) -> io::Result<Option<&'a str>> {
        if present {
            self.text().map(Some)
        } else {
            Ok(None)
        }
    }
}

fn corrupt() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "corrupt test case between threads",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(error: Option<ErrorView<'static>>) -> RawRun<'static> {
        RawRun {
            name: "adds ✓",
            classname: "com.example.Math",
            time: Some("0.5"),
            timestamp: None,
            inherited_started_ms: -1_700_000_000_123,
            flags: ResultFlags {
                error: false,
                failure: error.is_some(),
                skipped: true,
                rerun: false,
            },
            stack_trace_cut: true,
            error,
        }
    }

    #[test]
    fn round_trip() {
        let errors = [
            None,
            Some(ErrorView {
                kind: None,
                message: Some("boom"),
                stack_trace: "at a\n\tat b",
            }),
            Some(ErrorView {
                kind: Some("E"),
                message: None,
                stack_trace: "",
            }),
        ];
        for error in errors {
            let run = sample(error);
            let mut bytes = vec![9];
            pack(&run, &mut bytes);
            assert_eq!(unpack(&bytes[1..]).expect("unpacks"), run);
        }
        let mut bytes = Vec::new();
        let timed = RawRun {
            time: None,
            timestamp: Some("2024-01-01T00:00:00Z"),
            ..sample(None)
        };
        pack(&timed, &mut bytes);
        assert_eq!(unpack(&bytes).expect("unpacks"), timed);
    }

    #[test]
    fn damaged_bytes_are_an_error() {
        let mut bytes = Vec::new();
        pack(&sample(None), &mut bytes);
        for length in 0..bytes.len() {
            assert!(unpack(&bytes[..length]).is_err(), "cut at {length}");
        }
        bytes.push(0);
        assert!(unpack(&bytes).is_err(), "trailing byte");
    }
}
