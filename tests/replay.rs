//! `replay` against tampered and unusual spool folders: payloads that are not regular files,
//! folders that are not entries, and entries whose address was edited.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// Returns the settings of a plain run whose delivery fails at once (a closed loopback port), so the
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

#[test]
fn replay_requires_url_setting() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("needsurl");
    let spool = dir.path().join("spool");
    let entry = spooled_entry(&spool, "7");
    // The saved address points at the fake, as a tampered entry could.
    let path = entry.join("entry.json");
    let mut saved: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    saved["url"] = serde_json::json!(fake.base_url());
    std::fs::write(&path, saved.to_string()).unwrap();
    let env = vars(&[
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
    ]);

    let result = replay(&env, &spool);

    assert_eq!(result.code, 1, "{}", result.stderr);
    result.assert_stderr_contains("missing `url`");
    assert!(fake.state().requests.is_empty(), "the saved URL was used");
    assert!(entry.join("entry.json").is_file());
}

#[test]
fn tampered_address_is_rejected() {
    let cases = [
        ("shared_space", "1001/../../../admin/users?x="),
        ("workspace", "1002?x"),
        ("url", "ftp://127.0.0.1:9"),
    ];
    for (field, value) in cases {
        let fake = FakeOctane::start();
        let dir = TempDir::new("tampered");
        let spool = dir.path().join("spool");
        let entry = spooled_entry(&spool, "7");
        let path = entry.join("entry.json");
        let mut saved: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
        saved[field] = serde_json::json!(value);
        std::fs::write(&path, saved.to_string()).unwrap();

        let result = replay(&octane_settings(&fake), &spool);

        assert_eq!(result.code, 0, "{field}: {}", result.stderr);
        assert!(
            result.stderr.contains("invalid spool entry"),
            "{field}: {}",
            result.stderr
        );
        assert!(
            fake.state().requests.is_empty(),
            "{field}: a request was sent"
        );
        assert!(entry.join("entry.json").is_file(), "{field}: entry kept");
    }
}

#[test]
fn other_saved_server_is_named() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("otherserver");
    let spool = dir.path().join("spool");
    spooled_entry(&spool, "7");

    let result = replay(&octane_settings(&fake), &spool);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains(
        "was saved for http://127.0.0.1:9/api/shared_spaces/1001/workspaces/1002",
    );
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn entry_folder_as_dir_is_refused() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("entryasdir");
    let spool = dir.path().join("spool");
    let first = spooled_entry(&spool, "7");
    let second = spooled_entry(&spool, "8");
    // The spool directory itself gets an entry.json, and an unrelated folder.
    std::fs::copy(first.join("entry.json"), spool.join("entry.json")).unwrap();
    std::fs::create_dir(spool.join("inner")).unwrap();
    std::fs::write(spool.join("inner/other.txt"), "unrelated").unwrap();

    let result = replay(&octane_settings(&fake), &spool);
    let single = replay(&octane_settings(&fake), &first);

    assert_eq!(result.code, 1, "{}", result.stderr);
    result.assert_stderr_contains("is one spool entry");
    assert_eq!(single.code, 1, "{}", single.stderr);
    single.assert_stderr_contains("move the entry into an empty folder");
    assert!(fake.builds().is_empty());
    assert!(spool.join("entry.json").is_file());
    assert!(spool.join("inner/other.txt").is_file());
    assert!(first.join("entry.json").is_file());
    assert!(second.join("entry.json").is_file());
}

#[test]
fn replay_removes_only_entry_files() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("foreign");
    let spool = dir.path().join("spool");
    let entry = spooled_entry(&spool, "7");
    std::fs::write(entry.join("notes.txt"), "unrelated").unwrap();
    std::fs::create_dir(spool.join("inner")).unwrap();
    std::fs::write(spool.join("inner/other.txt"), "unrelated").unwrap();

    let result = replay(&octane_settings(&fake), &spool);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
    assert!(!entry.join("entry.json").exists());
    assert!(entry.join("notes.txt").is_file());
    assert!(spool.join("inner/other.txt").is_file());
    result.assert_stderr_contains("not part of the entry");
}

#[test]
fn partial_entries_are_named() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("partial");
    let spool = dir.path().join("spool");
    let partial = spool.join("20260314T000000.000Z-7-1.tmp");
    std::fs::create_dir_all(&partial).unwrap();

    let result = replay(&octane_settings(&fake), &spool);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        result.stderr.contains(&format!(
            "`{}` is an incomplete spool entry",
            partial.display()
        )),
        "{}",
        result.stderr
    );
}

#[test]
fn file_as_dir_is_not_a_directory() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("fileasdir");
    let file = dir.file("spool");
    std::fs::write(&file, "").unwrap();

    let result = replay(&octane_settings(&fake), &file);

    assert_eq!(result.code, 1, "{}", result.stderr);
    result.assert_stderr_contains("is not a directory");
}

#[test]
fn timeout_covers_whole_replay() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("replaytimeout");
    let spool = dir.path().join("spool");
    for build in ["1", "2", "3", "4"] {
        spooled_entry(&spool, build);
    }
    for _ in 0..4 {
        fake.add_fault("POST", "sign_in", Fault::Delay(Duration::from_secs(4)));
    }
    let mut env = octane_settings(&fake);
    set(&mut env, "OCTANE_TIMEOUT", "2");

    let result = replay(&env, &spool);

    result.assert_stderr_contains("for the whole replay ran out, so the remaining 3 entries");
    result.assert_stderr_contains("0 of 4 entries delivered");
    assert_eq!(spool_entries(&spool).len(), 4);
}

#[test]
fn rejected_sign_in_stops_replay() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("badcreds");
    let spool = dir.path().join("spool");
    for build in ["1", "2", "3"] {
        spooled_entry(&spool, build);
    }
    let mut env = octane_settings(&fake);
    set(&mut env, "OCTANE_CLIENT_SECRET", "wrong-secret-value");
    set(&mut env, "OCTANE_FAIL_ON_ERROR", "true");

    let result = replay(&env, &spool);

    assert_eq!(result.code, 2, "{}", result.stderr);
    let sign_ins = fake
        .state()
        .requests
        .iter()
        .filter(|r| r.path == "/authentication/sign_in")
        .count();
    assert_eq!(sign_ins, 1, "{}", result.stderr);
    result.assert_stderr_contains("the remaining 2 entries were not tried");
    assert_eq!(spool_entries(&spool).len(), 3);
}
