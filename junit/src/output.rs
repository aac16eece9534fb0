//! Output thread: formats the runs of each file, spools them and copies them
//! to the output once the parser reports that the file was read without
//! error. An output that can take back what it was given (a regular file)
//! gets the runs straight away and drops those of a file that failed, which
//! saves copying every run through the spool.
//!
//! The parser sends cases in batches of packed cases (see [`super::packed`]),
//! each framed like a spooled run. Mapping, formatting, spooling and writing
//! thus overlap with parsing: about a fifth of the CPU time on a 90 MB
//! report, as measured with `perf` (see docs/benchmarks.md).

use std::io;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use super::model::{MappingNotes, RawRun, build_run};
use super::packed::{self, unpack};
use super::rules::Status;
use super::spool::{self, Spool, split_frame};
use super::writer::format_run;

/// Bytes of framed runs collected before a batch is sent.
const BATCH_BYTES: usize = 64 << 10;
/// Batches queued for the output thread; bounds the memory in flight.
const BATCHES_IN_FLIGHT: usize = 4;

/// Destination of the runs of the files read without error.
pub(crate) trait RunSink: Send {
    /// Appends one formatted run.
    fn append(&mut self, status: Status, run_xml: &[u8]) -> io::Result<()>;

    /// Called before the runs of each file. Returns true when the runs
    /// appended from here on can be taken back with [`Self::take_back`], so
    /// they can be appended before their file has been read to the end.
    fn mark(&mut self) -> io::Result<bool> {
        Ok(false)
    }

    /// Removes the runs appended since the last [`Self::mark`] that returned true.
    fn take_back(&mut self) -> io::Result<()> {
        Err(io::Error::other("this output cannot take runs back"))
    }
}

enum Message {
    Runs(Vec<u8>),
    /// The current file ended; `true` when it was read without error.
    FileEnd(bool),
}

/// Report of the output thread on the files read without error.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Characters dropped from their runs because XML 1.0 does not allow them.
    pub(crate) dropped_chars: u64,
    /// Values changed while mapping, one entry per file in order.
    pub(crate) notes: Vec<MappingNotes>,
}

/// Runs `body` with a [`RunSender`] whose cases reach `sink` on a second
/// thread, mapped to runs and formatted with `report_url` (which must match
/// the XSD pattern). Returns the result of `body` and what the output thread
/// reports, or the output error that stopped the output thread.
pub(crate) fn with_output_thread<T>(
    spool_dir: &Path,
    report_url: Option<&str>,
    sink: &mut dyn RunSink,
    body: impl FnOnce(&mut RunSender) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Written)> {
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel(BATCHES_IN_FLIGHT);
        let (free_sender, free_receiver) = channel();
        let mut spool = Spool::new(spool_dir);
        let writer =
            scope.spawn(move || write_runs(&receiver, &free_sender, report_url, &mut spool, sink));
        let mut runs = RunSender {
            sender: Some(sender),
            free: free_receiver,
            batch: Vec::with_capacity(BATCH_BYTES + (4 << 10)),
        };
        let result = body(&mut runs);
        // Closing the channel lets the output thread finish.
        runs.sender = None;
        let written = match writer.join() {
            Ok(written) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match (result, written) {
            (Err(error), _) if error.downcast_ref::<OutputStopped>().is_none() => Err(error),
            (_, Err(error)) => Err(anyhow::Error::new(error).context("failed to write the output")),
            (result, Ok(written)) => result.map(|value| (value, written)),
        }
    })
}

fn write_runs(
    receiver: &Receiver<Message>,
    free: &Sender<Vec<u8>>,
    report_url: Option<&str>,
    spool: &mut Spool,
    sink: &mut dyn RunSink,
) -> io::Result<Written> {
    let mut formatted = Vec::with_capacity(BATCH_BYTES * 2);
    let mut written = Written::default();
    let mut dropped_in_file = 0;
    let mut notes = MappingNotes::default();
    let mut direct = sink.mark()?;
    while let Ok(message) = receiver.recv() {
        match message {
            Message::Runs(batch) => {
                formatted.clear();
                let mut rest = batch.as_slice();
                while !rest.is_empty() {
                    let (status, packed, after) = split_frame(rest)?;
                    let run = build_run(&unpack(packed)?, &mut notes);
                    if direct {
                        formatted.clear();
                        dropped_in_file += format_run(&run, report_url, &mut formatted);
                        sink.append(status, &formatted)?;
                    } else {
                        spool::push_frame_with(&mut formatted, status, |out| {
                            dropped_in_file += format_run(&run, report_url, out);
                        })?;
                    }
                    rest = after;
                }
                if !direct {
                    spool.push_frames(&formatted)?;
                }
                // The parser may have finished already.
                let _ = free.send(batch);
            }
            Message::FileEnd(true) => {
                if !direct {
                    spool.drain(sink)?;
                }
                written.dropped_chars += std::mem::take(&mut dropped_in_file);
                written.notes.push(std::mem::take(&mut notes));
                direct = sink.mark()?;
            }
            Message::FileEnd(false) => {
                if direct {
                    sink.take_back()?;
                } else {
                    spool.clear();
                }
                dropped_in_file = 0;
                notes = MappingNotes::default();
                direct = sink.mark()?;
            }
        }
    }
    Ok(written)
}

/// Error [`RunSender`] returns when the output thread stopped; the thread's
/// own error replaces it.
#[derive(Debug)]
struct OutputStopped;

impl std::fmt::Display for OutputStopped {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("the output thread stopped")
    }
}

impl std::error::Error for OutputStopped {}

/// Parsing side of the output thread.
pub(crate) struct RunSender {
    sender: Option<SyncSender<Message>>,
    free: Receiver<Vec<u8>>,
    batch: Vec<u8>,
}

impl RunSender {
    /// Adds one case of the current file.
    pub(crate) fn push(&mut self, run: &RawRun<'_>) -> anyhow::Result<()> {
        spool::push_frame_with(&mut self.batch, run.status(), |out| packed::pack(run, out))?;
        if self.batch.len() >= BATCH_BYTES {
            self.send_batch()?;
        }
        Ok(())
    }

    /// Ends the current file: its runs go to the output when `read_ok`,
    /// otherwise they are dropped.
    pub(crate) fn end_file(&mut self, read_ok: bool) -> anyhow::Result<()> {
        if read_ok {
            self.send_batch()?;
        } else {
            self.batch.clear();
        }
        self.send(Message::FileEnd(read_ok))
    }

    fn send_batch(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut next = self.free.try_recv().unwrap_or_default();
        next.clear();
        let batch = std::mem::replace(&mut self.batch, next);
        self.send(Message::Runs(batch))
    }

    fn send(&mut self, message: Message) -> anyhow::Result<()> {
        let sender = self.sender.as_ref().expect("sender open until the end");
        sender
            .send(message)
            .map_err(|_| anyhow::Error::new(OutputStopped))
    }
}
