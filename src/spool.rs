//! The spool: reports that could not be delivered, kept on disk for `octane-report replay`.
//!
//! Each undelivered run becomes one folder in the spool directory, named
//! `<UTC time>-<build id>-<process id>`, with `entry.json` and the test-result payloads it
//! lists. `entry.json` contains the format version and the Octane address (server URL, shared
//! space, workspace). It also contains what registers the CI server and the pipeline, the build
//! report as sent to `PUT .../analytics/ci/builds`, the payload file names and the last error.
//! It contains no client id, client secret, cookie or token. A folder is written under a `.tmp`
//! name and renamed when complete, so a reader never sees half an entry.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::files::{self, Links};
use crate::octane::{BuildReport, Registration};
use crate::target::Target;

/// Version of the `entry.json` layout.
const FORMAT: u32 = 1;
/// File name of an entry's description.
pub(crate) const ENTRY_FILE: &str = "entry.json";
/// Spool directory inside the workspace when `spool_dir` is not set.
pub(crate) const DEFAULT_DIR: &str = ".octane-report/spool";
/// Largest `entry.json` read; real entries are about one kilobyte.
const MAX_ENTRY_BYTES: u64 = 1024 * 1024;

/// One undelivered report, as stored in `entry.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) format: u32,
    /// When the entry was written, RFC 3339 in UTC.
    pub(crate) created_at: String,
    /// Server URL with any context path, e.g. `https://host/octane`.
    pub(crate) url: String,
    pub(crate) shared_space: String,
    pub(crate) workspace: String,
    pub(crate) registration: Registration,
    pub(crate) build: BuildReport,
    /// Test-result payload file names, in the entry's folder, in upload order.
    #[serde(default)]
    pub(crate) test_results: Vec<String>,
    /// The delivery error, with secrets removed.
    #[serde(default)]
    pub(crate) last_error: String,
}

impl Entry {
    pub(crate) fn new(
        target: &Target,
        registration: &Registration,
        build: &BuildReport,
        last_error: String,
    ) -> Entry {
        Entry {
            format: FORMAT,
            created_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            url: target.base.clone(),
            shared_space: target.shared_space.clone(),
            workspace: target.workspace.clone(),
            registration: registration.clone(),
            build: build.clone(),
            test_results: Vec::new(),
            last_error,
        }
    }
}

/// Resolves the `spool_dir` setting: relative paths are inside the workspace.
pub(crate) fn resolve_dir(setting: Option<&Path>, workspace: &Path) -> PathBuf {
    let dir = setting.unwrap_or(Path::new(DEFAULT_DIR));
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        workspace.join(dir)
    }
}

/// Writes an entry with copies of its test-result payloads and returns its folder. On failure
/// the partly written `.tmp` folder is removed.
pub(crate) fn write(dir: &Path, entry: &Entry, payloads: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let name = format!(
        "{}-{}-{}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        file_name_part(&entry.build.build_ci_id),
        std::process::id()
    );
    let partial = dir.join(format!("{name}.tmp"));
    let done = dir.join(&name);
    // Payloads contain test output, which other local users need not read.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the spool directory `{}`", dir.display()))?;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&partial)
        .with_context(|| format!("cannot create the spool folder `{}`", partial.display()))?;
    let result = write_files(&partial, entry, payloads).and_then(|()| {
        fs::rename(&partial, &done)
            .with_context(|| format!("cannot rename `{}`", partial.display()))
    });
    if let Err(error) = result {
        return match fs::remove_dir_all(&partial) {
            Ok(()) => Err(error),
            Err(e) => Err(error.context(format!(
                "the partial folder `{}` could not be removed either ({e}); remove it",
                partial.display()
            ))),
        };
    }
    Ok(done)
}

/// Writes the payload copies and `entry.json` into the `.tmp` folder.
fn write_files(partial: &Path, entry: &Entry, payloads: &[PathBuf]) -> anyhow::Result<()> {
    let mut entry = entry.clone();
    entry.test_results.clear();
    for (index, payload) in payloads.iter().enumerate() {
        let file = format!("test-results-{}.xml", index + 1);
        let copy = || -> std::io::Result<()> {
            let mut source = fs::File::open(payload)?;
            let mut target = private_file(&partial.join(&file))?;
            std::io::copy(&mut source, &mut target)?;
            target.sync_all()
        };
        copy().with_context(|| {
            format!(
                "cannot copy the test-result payload `{}` to the spool",
                payload.display()
            )
        })?;
        entry.test_results.push(file);
    }
    let json = serde_json::to_vec_pretty(&entry).context("cannot encode the spool entry")?;
    let entry_path = partial.join(ENTRY_FILE);
    private_file(&entry_path)
        .and_then(|mut file| {
            file.write_all(&json)?;
            file.sync_all()
        })
        .with_context(|| format!("cannot write `{}`", entry_path.display()))
}

/// Creates a new file that only its owner can read and write.
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Reads an entry's `entry.json` and checks that every payload it lists is a regular file
/// inside the entry folder.
pub(crate) fn read(entry_dir: &Path) -> anyhow::Result<Entry> {
    let path = entry_dir.join(ENTRY_FILE);
    let bytes = files::read_limited(&path, Links::Reject, MAX_ENTRY_BYTES)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let entry: Entry = serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid spool entry `{}`", path.display()))?;
    if entry.format != FORMAT {
        bail!(
            "spool entry `{}` has format {}, but this version reads format {FORMAT}",
            path.display(),
            entry.format
        );
    }
    for file in &entry.test_results {
        if file.is_empty() || file.contains(['/', '\\', '\0']) || file.starts_with('.') {
            bail!(
                "invalid spool entry `{}`: test-result file name `{}` is not a plain file name",
                path.display(),
                file.escape_default()
            );
        }
        // A symlink, FIFO or device in the folder would send or block on something that is
        // not the entry's own payload.
        let payload = entry_dir.join(file);
        let metadata = fs::symlink_metadata(&payload)
            .with_context(|| format!("cannot read payload `{}`", payload.display()))?;
        if !metadata.file_type().is_file() {
            bail!(
                "invalid spool entry `{}`: test-result payload `{}` is not a regular file",
                path.display(),
                payload.display()
            );
        }
    }
    Ok(entry)
}

/// The folders of a spool directory.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Listing {
    /// Complete entries in name order, which is the order they were written.
    pub(crate) entries: Vec<PathBuf>,
    /// `.tmp` folders: entries that a run started but never finished writing.
    pub(crate) partial: Vec<PathBuf>,
}

/// Lists the spool directory `dir`. Only real subfolders (not symlinks) that contain a regular
/// `entry.json` are entries. `dir` itself must not be an entry, because replay removes what
/// it delivered and `dir` may contain other entries and files.
pub(crate) fn list(dir: &Path) -> anyhow::Result<Listing> {
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => bail!(
            "`{}` is not a directory: pass the spool directory (`spool_dir`) that a failed run \
             named",
            dir.display()
        ),
        Err(_) => bail!(
            "spool directory `{}` not found: pass the `spool_dir` folder that a failed run named",
            dir.display()
        ),
    }
    if fs::symlink_metadata(dir.join(ENTRY_FILE)).is_ok() {
        let parent = dir.parent().unwrap_or(Path::new("."));
        bail!(
            "`{}` is one spool entry, not a spool directory: pass the folder that contains it \
             (`{}`), or move the entry into an empty folder and pass that folder",
            dir.display(),
            parent.display()
        );
    }
    let mut listing = Listing::default();
    let items = fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    for item in items {
        let item = item.with_context(|| format!("cannot list `{}`", dir.display()))?;
        if !item.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = item.path();
        if path.extension().is_some_and(|ext| ext == "tmp") {
            listing.partial.push(path);
        } else if fs::symlink_metadata(path.join(ENTRY_FILE)).is_ok_and(|m| m.is_file()) {
            listing.entries.push(path);
        }
    }
    listing.entries.sort();
    listing.partial.sort();
    Ok(listing)
}

/// Removes a delivered entry: `entry.json` first, so an interrupted removal never leaves an
/// entry whose payloads are gone, then the listed payloads, then the folder when it is empty.
/// Returns false when `entry.json` was already gone.
pub(crate) fn remove(entry_dir: &Path, entry: &Entry) -> anyhow::Result<bool> {
    let entry_path = entry_dir.join(ENTRY_FILE);
    match fs::remove_file(&entry_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot remove `{}`", entry_path.display()));
        }
    }
    for file in &entry.test_results {
        let path = entry_dir.join(file);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove `{}`", path.display())),
        }
    }
    fs::remove_dir(entry_dir).with_context(|| {
        format!(
            "cannot remove the folder `{}`; it contains files that are not part of the entry",
            entry_dir.display()
        )
    })?;
    Ok(true)
}

/// Turns an id into a short, portable part of a file name.
fn file_name_part(id: &str) -> String {
    let part: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    part.trim_start_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        let target = Target {
            base: "https://octane.example.com/ctx".into(),
            shared_space: "1001".into(),
            workspace: "1002".into(),
            plain_http: false,
        };
        let registration = Registration {
            server_id: "github:github.com/acme".into(),
            server_name: "GitHub acme".into(),
            server_type: "github_actions".into(),
            server_url: None,
            job_id: "acme/widget/.github/workflows/ci.yml".into(),
            pipeline_name: "acme/widget CI".into(),
        };
        let build = BuildReport {
            server_ci_id: registration.server_id.clone(),
            job_ci_id: registration.job_id.clone(),
            build_ci_id: "13/0 (x)".into(),
            build_name: "318".into(),
            start_time: 1_773_479_980_000,
            duration: 1000,
            status: "finished".into(),
            result: "success".into(),
        };
        Entry::new(&target, &registration, &build, "HTTP 503".into())
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("octane-report-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = temp_dir("roundtrip");
        let payload =
            std::env::temp_dir().join(format!("octane-report-payload-{}.xml", std::process::id()));
        fs::write(&payload, "<test_result/>").unwrap();
        let entry = sample();

        let written = write(&dir, &entry, std::slice::from_ref(&payload)).unwrap();
        let listed = list(&dir).unwrap().entries;
        let read_back = read(&written).unwrap();

        assert_eq!(listed, vec![written.clone()]);
        assert_eq!(read_back.build, entry.build);
        assert_eq!(read_back.registration, entry.registration);
        assert_eq!(
            read_back.test_results,
            vec!["test-results-1.xml".to_string()]
        );
        assert_eq!(
            fs::read_to_string(written.join("test-results-1.xml")).unwrap(),
            "<test_result/>"
        );
        assert!(
            written
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .contains("-13_0__x_-"),
            "{}",
            written.display()
        );
        let error = format!("{:#}", list(&written).unwrap_err());
        assert!(error.contains("is one spool entry"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_file(&payload).unwrap();
    }

    #[test]
    fn partial_entries_are_skipped() {
        let dir = temp_dir("partial");
        fs::create_dir_all(dir.join("20260314T000000Z-1-1.tmp")).unwrap();
        fs::write(dir.join("20260314T000000Z-1-1.tmp").join(ENTRY_FILE), "{}").unwrap();

        let listing = list(&dir).unwrap();
        assert_eq!(listing.entries, Vec::<PathBuf>::new());
        assert_eq!(listing.partial, vec![dir.join("20260314T000000Z-1-1.tmp")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn payload_names_must_stay_inside_entry() {
        let dir = temp_dir("escape");
        let written = write(&dir, &sample(), &[]).unwrap();
        let mut entry = read(&written).unwrap();
        entry.test_results = vec!["../../etc/passwd".into()];
        fs::write(
            written.join(ENTRY_FILE),
            serde_json::to_vec(&entry).unwrap(),
        )
        .unwrap();

        let error = format!("{:#}", read(&written).unwrap_err());

        assert!(error.contains("not a plain file name"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_removes_partial_folder() {
        let dir = temp_dir("failed");
        let missing = dir.join("missing-payload.xml");

        let error = write(&dir, &sample(), &[missing]).unwrap_err();

        assert!(format!("{error:#}").contains("cannot copy"), "{error:#}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spool_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("modes");

        let written = write(&dir, &sample(), &[]).unwrap();

        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&written), 0o700);
        assert_eq!(mode(&written.join(ENTRY_FILE)), 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn remove_keeps_foreign_files() {
        let dir = temp_dir("remove");
        let written = write(&dir, &sample(), &[]).unwrap();
        fs::write(written.join("notes.txt"), "not part of the entry").unwrap();
        let entry = read(&written).unwrap();

        let error = remove(&written, &entry).unwrap_err();

        assert!(
            format!("{error:#}").contains("not part of the entry"),
            "{error:#}"
        );
        assert!(written.join("notes.txt").is_file());
        assert!(!written.join(ENTRY_FILE).exists());
        assert!(!remove(&written, &entry).unwrap(), "already removed");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_dir_is_inside_workspace() {
        let workspace = Path::new("/github/workspace");

        assert_eq!(
            resolve_dir(None, workspace),
            PathBuf::from("/github/workspace/.octane-report/spool")
        );
        assert_eq!(
            resolve_dir(Some(Path::new("/tmp/spool")), workspace),
            PathBuf::from("/tmp/spool")
        );
    }
}
