//! Opening files that come from settings or from the spool, where a path may name a symlink,
//! a FIFO or a device instead of a regular file.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Whether `open_regular` follows a symlink in the last path component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Links {
    Follow,
    Reject,
}

/// Opens `path` for reading and fails unless it is a regular file.
///
/// The file is opened with `O_NONBLOCK`, so a FIFO never blocks the open, and the type is
/// checked on the opened descriptor, so the file cannot be swapped between check and use. With
/// `Links::Reject` the open also uses `O_NOFOLLOW`, so a symlink fails with `ELOOP`. Reads from
/// a regular file ignore `O_NONBLOCK`.
pub(crate) fn open_regular(path: &Path, links: Links) -> io::Result<File> {
    let mut flags = libc::O_NONBLOCK;
    if links == Links::Reject {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::new(io::ErrorKind::InvalidInput, "is a symlink")
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes. A larger file fails without reading more than
/// `max + 1` bytes, so a file that grows while it is read cannot exhaust memory.
pub(crate) fn read_limited(path: &Path, links: Links, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path, links)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than the {max}-byte limit"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Creates a FIFO at `path` with the `mkfifo` command.
    pub(crate) fn make_fifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo {}", path.display());
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("octane-report-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn only_regular_files_open() {
        let dir = temp_dir("kinds");
        let regular = dir.join("regular");
        std::fs::write(&regular, "x").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&regular, &link).unwrap();
        let fifo = dir.join("fifo");
        make_fifo(&fifo);

        assert!(open_regular(&regular, Links::Reject).is_ok());
        assert!(open_regular(&link, Links::Follow).is_ok());
        let symlink = open_regular(&link, Links::Reject).unwrap_err();
        assert!(symlink.to_string().contains("symlink"), "{symlink}");
        for path in [&fifo, &dir, Path::new("/dev/null")] {
            let error = open_regular(path, Links::Follow).unwrap_err();
            assert!(
                error.to_string().contains("not a regular file"),
                "{}: {error}",
                path.display()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn read_limited_stops_at_limit() {
        let dir = temp_dir("limit");
        let file = dir.join("file");
        std::fs::write(&file, "12345").unwrap();

        assert_eq!(read_limited(&file, Links::Follow, 5).unwrap(), b"12345");
        let error = read_limited(&file, Links::Follow, 4).unwrap_err();
        assert!(error.to_string().contains("4-byte limit"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
