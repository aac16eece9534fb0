//! Holding area for the formatted runs of the file being read.
//!
//! Runs are kept here until the whole file has been read without error and
//! only then copied into the output, so a file that fails anywhere adds no
//! run and every file is read once. The first [`SPOOL_MEMORY_MAX`] bytes stay
//! in memory; a larger file spills into an unnamed temporary file, which the
//! operating system removes when it is closed.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::output::RunSink;
use super::rules::Status;

/// Bytes of spooled runs kept in memory before they move to a temporary file.
pub(crate) const SPOOL_MEMORY_MAX: usize = 4 << 20;

/// Frame header: the run's status, then its length as a little-endian `u32`.
const HEADER_LENGTH: usize = 5;

/// Spooled runs of one file, each framed with its status and length.
pub(crate) struct Spool {
    dir: PathBuf,
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    /// Scratch buffer for one run while replaying from the file.
    frame: Vec<u8>,
}

impl Spool {
    /// Creates an empty spool; a temporary file, when needed, goes into `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Spool {
            dir: dir.to_path_buf(),
            memory: Vec::new(),
            file: None,
            frame: Vec::new(),
        }
    }

    /// Appends runs framed by [`push_frame`].
    pub(crate) fn push_frames(&mut self, frames: &[u8]) -> io::Result<()> {
        if self.file.is_none() && self.memory.len() + frames.len() > SPOOL_MEMORY_MAX {
            self.spill()?;
        }
        match &mut self.file {
            Some(file) => file.write_all(frames),
            None => {
                self.memory.extend_from_slice(frames);
                Ok(())
            }
        }
    }

    /// Appends every spooled run to `sink` in order, then empties the spool.
    pub(crate) fn drain(&mut self, sink: &mut dyn RunSink) -> io::Result<()> {
        let Some(file) = self.file.take() else {
            let mut rest = self.memory.as_slice();
            while !rest.is_empty() {
                let (status, run_xml, after) = split_frame(rest)?;
                sink.append(status, run_xml)?;
                rest = after;
            }
            self.memory.clear();
            return Ok(());
        };
        let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        let mut input = BufReader::with_capacity(64 << 10, file);
        let mut header = [0; HEADER_LENGTH];
        loop {
            match input.read_exact(&mut header) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(error) => return Err(error),
            }
            let (status, length) = parse_header(&header)?;
            self.frame.resize(length, 0);
            input.read_exact(&mut self.frame)?;
            sink.append(status, &self.frame)?;
        }
        self.frame = Vec::new();
        Ok(())
    }

    /// Drops every spooled run.
    pub(crate) fn clear(&mut self) {
        self.memory.clear();
        self.file = None;
    }

    /// Moves the runs held in memory into a new temporary file.
    fn spill(&mut self) -> io::Result<()> {
        let file = tempfile::tempfile_in(&self.dir).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot create a temporary file in {}: {error}",
                    self.dir.display()
                ),
            )
        })?;
        let mut file = BufWriter::with_capacity(64 << 10, file);
        file.write_all(&self.memory)?;
        self.memory.clear();
        self.file = Some(file);
        Ok(())
    }
}

/// Appends one formatted run to `frames`, framed with its status and length.
#[cfg(test)]
pub(crate) fn push_frame(frames: &mut Vec<u8>, status: Status, run_xml: &[u8]) -> io::Result<()> {
    push_frame_with(frames, status, |frame| frame.extend_from_slice(run_xml))
}

/// Appends one run that `format` writes straight into `frames`, framed with
/// its status and length, so the run is not copied from another buffer. The
/// same framing carries packed runs to the output thread.
pub(crate) fn push_frame_with(
    frames: &mut Vec<u8>,
    status: Status,
    format: impl FnOnce(&mut Vec<u8>),
) -> io::Result<()> {
    let header_at = frames.len();
    frames.push(status_code(status));
    frames.extend_from_slice(&[0; 4]);
    format(frames);
    let run_length = frames.len() - header_at - HEADER_LENGTH;
    let Ok(length) = u32::try_from(run_length) else {
        frames.truncate(header_at);
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "formatted test run larger than 4 GiB",
        ));
    };
    frames[header_at + 1..header_at + HEADER_LENGTH].copy_from_slice(&length.to_le_bytes());
    Ok(())
}

/// Splits the first frame off `frames`: its status, its content and the
/// frames after it.
pub(crate) fn split_frame(frames: &[u8]) -> io::Result<(Status, &[u8], &[u8])> {
    let (status, length) = parse_header(frames)?;
    let end = HEADER_LENGTH + length;
    let content = frames.get(HEADER_LENGTH..end).ok_or_else(truncated)?;
    Ok((status, content, &frames[end..]))
}

fn status_code(status: Status) -> u8 {
    match status {
        Status::Passed => 0,
        Status::Failed => 1,
        Status::Skipped => 2,
    }
}

fn parse_header(bytes: &[u8]) -> io::Result<(Status, usize)> {
    let header: &[u8; HEADER_LENGTH] = bytes
        .get(..HEADER_LENGTH)
        .and_then(|header| header.try_into().ok())
        .ok_or_else(truncated)?;
    let status = match header[0] {
        0 => Status::Passed,
        1 => Status::Failed,
        2 => Status::Skipped,
        code => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid run status {code} in the spool"),
            ));
        }
    };
    let length = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
    Ok((status, length as usize))
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated run in the spool")
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Spool {
        fn push(&mut self, status: Status, run_xml: &[u8]) -> io::Result<()> {
            let mut frame = Vec::new();
            push_frame(&mut frame, status, run_xml)?;
            self.push_frames(&frame)
        }
    }

    /// Collects the runs it is given.
    struct Collected(Vec<(Status, Vec<u8>)>);

    impl RunSink for Collected {
        fn append(&mut self, status: Status, run_xml: &[u8]) -> io::Result<()> {
            self.0.push((status, run_xml.to_vec()));
            Ok(())
        }
    }

    fn drained(spool: &mut Spool) -> Vec<(Status, Vec<u8>)> {
        let mut collected = Collected(Vec::new());
        spool.drain(&mut collected).expect("draining the spool");
        collected.0
    }

    #[test]
    fn memory_spool_keeps_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::new(dir.path());
        spool.push(Status::Passed, b"a").expect("push");
        spool.push(Status::Skipped, b"").expect("push");
        spool.push(Status::Failed, b"ccc").expect("push");

        let runs = drained(&mut spool);

        assert_eq!(
            runs,
            [
                (Status::Passed, b"a".to_vec()),
                (Status::Skipped, Vec::new()),
                (Status::Failed, b"ccc".to_vec()),
            ]
        );
        assert!(drained(&mut spool).is_empty(), "drain empties the spool");
    }

    #[test]
    fn large_spool_spills_to_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::new(dir.path());
        let run_xml = vec![b'x'; 100 << 10];
        let count = SPOOL_MEMORY_MAX / run_xml.len() + 5;
        for index in 0..count {
            let status = if index % 2 == 0 {
                Status::Passed
            } else {
                Status::Failed
            };
            spool.push(status, &run_xml).expect("push");
        }
        assert!(spool.file.is_some(), "spool moved to a file");

        let runs = drained(&mut spool);

        assert_eq!(runs.len(), count);
        assert_eq!(runs[1].0, Status::Failed);
        assert!(runs.iter().all(|(_, bytes)| *bytes == run_xml));
        assert!(drained(&mut spool).is_empty(), "drain empties the spool");
    }

    #[test]
    fn cleared_spool_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::new(dir.path());
        spool.push(Status::Passed, b"a").expect("push");
        spool.clear();
        assert!(drained(&mut spool).is_empty());
    }
}
