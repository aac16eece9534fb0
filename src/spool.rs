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

    /// Returns the Octane address stored in the entry.
    pub(crate) fn target(&self) -> Target {
        Target {
            base: self.url.clone(),
            shared_space: self.shared_space.clone(),
            workspace: self.workspace.clone(),
            plain_http: self.url.starts_with("http://"),
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

/// Writes an entry with copies of its test-result payloads and returns its folder.
pub(crate) fn write(dir: &Path, entry: &Entry, payloads: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let name = format!(
        "{}-{}-{}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        file_name_part(&entry.build.build_ci_id),
        std::process::id()
    );
    let partial = dir.join(format!("{name}.tmp"));
    let done = dir.join(&name);
    fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create the spool folder `{}`", partial.display()))?;

    let mut entry = entry.clone();
    entry.test_results.clear();
    for (index, payload) in payloads.iter().enumerate() {
        let file = format!("test-results-{}.xml", index + 1);
        fs::copy(payload, partial.join(&file)).with_context(|| {
            format!(
                "cannot copy the test-result payload `{}` to the spool",
                payload.display()
            )
        })?;
        entry.test_results.push(file);
    }
    let json = serde_json::to_vec_pretty(&entry).context("cannot encode the spool entry")?;
    let entry_path = partial.join(ENTRY_FILE);
    fs::write(&entry_path, json)
        .with_context(|| format!("cannot write `{}`", entry_path.display()))?;
    fs::rename(&partial, &done)
        .with_context(|| format!("cannot rename `{}`", partial.display()))?;
    Ok(done)
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

/// Lists the entry folders to replay: `dir` itself when it is one entry, else its complete
/// entries in name order, which is the order they were written.
pub(crate) fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "spool directory `{}` not found: pass the `spool_dir` folder that a failed run named",
            dir.display()
        );
    }
    if dir.join(ENTRY_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut entries = Vec::new();
    let listing = fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    for item in listing {
        let path = item
            .with_context(|| format!("cannot list `{}`", dir.display()))?
            .path();
        let partial = path.extension().is_some_and(|ext| ext == "tmp");
        if !partial && path.join(ENTRY_FILE).is_file() {
            entries.push(path);
        }
    }
    entries.sort();
    Ok(entries)
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
        let listed = list(&dir).unwrap();
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
        assert_eq!(list(&written).unwrap(), vec![written.clone()]);
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_file(&payload).unwrap();
    }

    #[test]
    fn partial_entries_are_skipped() {
        let dir = temp_dir("partial");
        fs::create_dir_all(dir.join("20260314T000000Z-1-1.tmp")).unwrap();
        fs::write(dir.join("20260314T000000Z-1-1.tmp").join(ENTRY_FILE), "{}").unwrap();

        assert_eq!(list(&dir).unwrap(), Vec::<PathBuf>::new());
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
