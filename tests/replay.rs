//! `replay` against tampered and unusual spool folders: payloads that are not regular files,
//! folders that are not entries, and entries whose address was edited.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// The settings of a plain run whose delivery fails at once (a closed loopback port), so the
/// report is spooled into `spool`.
fn failing_env(spool: &Path) -> Vec<(String, String)> {
    vars(&[
        ("OCTANE_URL", "http://127.0.0.1:9/ui/?p=1001/1002"),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("OCTANE_SERVER_ID", "box"),
        ("OCTANE_JOB_ID", "nightly"),
        ("OCTANE_BUILD_ID", "7"),
        ("OCTANE_RESULT", "success"),
        ("OCTANE_STARTED_AT", "1773479980"),
        ("OCTANE_SPOOL_DIR", spool.to_str().unwrap()),
    ])
}

/// Writes one spool entry into `spool` and returns its folder.
fn spooled_entry(spool: &Path, build_id: &str) -> PathBuf {
    let mut env = failing_env(spool);
    set(&mut env, "OCTANE_BUILD_ID", build_id);
    let before = spool_entries(spool);
    let result = run_bounded(&env, &[], LIMIT);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let after = spool_entries(spool);
    let new: Vec<_> = after.into_iter().filter(|e| !before.contains(e)).collect();
    assert_eq!(new.len(), 1, "{}", result.stderr);
    new[0].clone()
}

/// Sets the `test_results` list of an entry.
fn set_test_results(entry_dir: &Path, names: &[&str]) {
    let path = entry_dir.join("entry.json");
    let mut entry: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    entry["test_results"] = serde_json::json!(names);
    std::fs::write(&path, entry.to_string()).unwrap();
}

fn replay(env: &[(String, String)], dir: &Path) -> Run {
    run_bounded(env, &["replay", dir.to_str().unwrap()], LIMIT)
}

#[test]
fn payload_must_be_regular_file() {
    let dir = TempDir::new("payloadkinds");
    let outside = dir.file("outside.txt");
    std::fs::write(&outside, "root:x:0:0:outside content").unwrap();
    let kinds = ["symlink", "fifo", "folder", "empty name"];
    for kind in kinds {
        let fake = FakeOctane::start();
        let spool = dir.path().join(format!("spool-{kind}"));
        let entry = spooled_entry(&spool, "7");
        let payload = entry.join("test-results-1.xml");
        let name = match kind {
            "symlink" => {
                std::os::unix::fs::symlink(&outside, &payload).unwrap();
                "test-results-1.xml"
            }
            "fifo" => {
                let status = std::process::Command::new("mkfifo")
                    .arg(&payload)
                    .status()
                    .unwrap();
                assert!(status.success());
                "test-results-1.xml"
            }
            "folder" => {
                std::fs::create_dir(&payload).unwrap();
                "test-results-1.xml"
            }
            _ => "",
        };
        set_test_results(&entry, &[name]);

        let result = replay(&octane_settings(&fake), &spool);

        assert_eq!(result.code, 0, "{kind}: {}", result.stderr);
        assert!(
            result.stderr.contains("0 of 1 entries delivered"),
            "{kind}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains("not a plain file name")
                || result.stderr.contains("is not a regular file"),
            "{kind}: {}",
            result.stderr
        );
        assert!(fake.state().test_uploads.is_empty(), "{kind}");
        assert!(fake.builds().is_empty(), "{kind}");
        let bodies: Vec<String> = fake
            .state()
            .requests
            .iter()
            .map(|r| r.body.clone())
            .collect();
        assert!(
            !bodies.iter().any(|b| b.contains("outside content")),
            "{kind}: {bodies:?}"
        );
        assert!(entry.join("entry.json").is_file(), "{kind}: entry kept");
    }
}
