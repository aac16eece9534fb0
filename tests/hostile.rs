//! Hostile input outside test reports: odd ids, over-long and non-UTF-8 values, bad URLs, a
//! huge env file, and a fake Octane that sends malformed, huge or no responses.

mod common;

use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn plain_env(fake: &FakeOctane, dir: &TempDir) -> Vec<(String, String)> {
    let mut env = octane_settings(fake);
    env.extend(vars(&[
        ("OCTANE_SERVER_ID", "box"),
        ("OCTANE_JOB_ID", "nightly"),
        ("OCTANE_BUILD_ID", "7"),
        ("OCTANE_RESULT", "success"),
        ("OCTANE_STARTED_AT", "1773479980"),
        ("OCTANE_FAIL_ON_ERROR", "true"),
        ("OCTANE_SPOOL_DIR", dir.path().to_str().unwrap()),
    ]));
    env
}

#[test]
fn special_ids_round_trip() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("ids");
    let server_id = r#"srv ^(x)\ "q" 'ü' ✓"#;
    let job_id = r#"job (1) \ ^caret^ "quoted" ñ/ü"#;
    let build_id = r"b^1(2)\3 é";
    let pipeline_name = r#"Pipe "ü" (x) \ ^"#;
    let mut env = plain_env(&fake, &dir);
    set(&mut env, "OCTANE_SERVER_ID", server_id);
    set(&mut env, "OCTANE_JOB_ID", job_id);
    set(&mut env, "OCTANE_BUILD_ID", build_id);
    set(&mut env, "OCTANE_PIPELINE_NAME", pipeline_name);

    let first = run_bounded(&env, &[], LIMIT);
    let second = run_bounded(&env, &[], LIMIT);

    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let servers = fake.servers();
    assert_eq!(servers.len(), 1, "the lookup found the server again");
    assert_eq!(servers[0].instance_id, server_id);
    let pipelines = fake.pipelines();
    assert_eq!(pipelines.len(), 1, "the lookup found the pipeline again");
    assert_eq!(pipelines[0].root_job_ci_id, job_id);
    assert_eq!(pipelines[0].name, pipeline_name);
    let builds = fake.builds();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].build_ci_id, build_id);
    assert_eq!(builds[0].job_ci_id, job_id);
    assert_eq!(builds[0].server_ci_id, server_id);
    assert_eq!(builds[0].reports, 2);
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn over_long_and_non_utf8_values() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("long");
    // Linux limits one environment string to 128 KiB.
    let huge = "x".repeat(120 * 1024);
    let cases = [
        (
            "OCTANE_PIPELINE_NAME",
            "x".repeat(10_000),
            "`pipeline_name`",
        ),
        ("OCTANE_BUILD_ID", "7".repeat(5000), "`build_id`"),
    ];
    for (name, value, expected) in cases {
        let mut env = plain_env(&fake, &dir);
        set(&mut env, name, &value);

        let result = run_bounded(&env, &[], LIMIT);

        assert_eq!(result.code, 1, "{name}: {}", result.stderr);
        assert!(
            result.stderr.contains(expected),
            "{name}: {}",
            result.stderr
        );
        assert!(result.stderr.len() < 2000, "{name}: the value was echoed");
    }
    // A huge value in a variable the tool does not read changes nothing.
    let mut env = plain_env(&fake, &dir);
    env.push(("SOME_OTHER_VARIABLE".into(), huge));
    let unrelated = run_bounded(&env, &[], LIMIT);
    assert_eq!(unrelated.code, 0, "{}", unrelated.stderr);
    assert!(fake.state().requests.len() > 1);

    let non_utf8 = non_utf8_run(&fake, &dir, "OCTANE_JOB_ID");
    assert_eq!(non_utf8.code, 1, "{}", non_utf8.stderr);
    non_utf8.assert_stderr_contains(
        "invalid `job_id` (from OCTANE_JOB_ID): the value is not valid UTF-8",
    );
    let other = non_utf8_run(&fake, &dir, "UNRELATED");
    assert_eq!(other.code, 0, "{}", other.stderr);
}

fn non_utf8_run(fake: &FakeOctane, dir: &TempDir, name: &str) -> Run {
    use std::os::unix::ffi::OsStrExt;
    let mut command = std::process::Command::new(BINARY);
    command.env_clear().stdin(std::process::Stdio::null());
    command.env("OCTANE_REPORT_RETRY_BASE_MS", TEST_RETRY_BASE_MS);
    for (key, value) in plain_env(fake, dir) {
        if key != name {
            command.env(key, value);
        }
    }
    command.env(name, std::ffi::OsStr::from_bytes(b"job-\xff\xfe"));
    Run::from_output(command.output().expect("run octane-report"))
}

#[test]
fn huge_and_invalid_env_files() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("envfile");
    let huge = dir.file("huge.env");
    let line = format!("FILLER={}\n", "y".repeat(1000));
    std::fs::write(&huge, line.repeat(5 * 1024)).unwrap();
    let invalid = dir.file("invalid.env");
    std::fs::write(&invalid, "GOOD=1\nthis line has no equals sign\n").unwrap();
    let binary = dir.file("binary.env");
    std::fs::write(&binary, b"A=\xff\xfe\x00\nB=2\n").unwrap();

    let too_big = run_bounded(
        &plain_env(&fake, &dir),
        &["--env-file", huge.to_str().unwrap()],
        LIMIT,
    );
    let bad_line = run_bounded(
        &plain_env(&fake, &dir),
        &["--env-file", invalid.to_str().unwrap()],
        LIMIT,
    );
    let bad_bytes = run_bounded(
        &plain_env(&fake, &dir),
        &["--env-file", binary.to_str().unwrap()],
        LIMIT,
    );

    assert_eq!(too_big.code, 1, "{}", too_big.stderr);
    too_big.assert_stderr_contains("byte limit");
    too_big.assert_stderr_contains("huge.env");
    assert_eq!(bad_line.code, 1, "{}", bad_line.stderr);
    bad_line.assert_stderr_contains("invalid.env");
    assert_eq!(bad_bytes.code, 1, "{}", bad_bytes.stderr);
    bad_bytes.assert_stderr_contains("binary.env");
    assert!(fake.state().requests.is_empty());
}

#[test]
fn malformed_urls_exit_1() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("urls");
    let cases = [
        "http://",
        "https://[::1",
        "https://octane.example.com:99999/ui/?p=1/2",
        "javascript:alert(1)",
        "https://octane.example.com/ui/?p=abc/def",
        "https://ci:hunter2-password@octane.example.com/ui/?p=1/2",
        "octane.example.com/ui/?p=1/2",
    ];
    for url in cases {
        let mut env = plain_env(&fake, &dir);
        set(&mut env, "OCTANE_URL", url);

        let result = run_bounded(&env, &[], LIMIT);

        assert_eq!(result.code, 1, "{url}: {}", result.stderr);
        assert!(
            result.stderr.contains("`url`") || result.stderr.contains("`shared_space`"),
            "{url}: {}",
            result.stderr
        );
        assert!(
            !result.stderr.contains("hunter2"),
            "{url}: {}",
            result.stderr
        );
        assert!(
            !result.stderr.contains("panicked"),
            "{url}: {}",
            result.stderr
        );
    }
    assert!(fake.state().requests.is_empty());
}

#[test]
fn malformed_huge_and_missing_answers() {
    let huge_body = format!(
        r#"{{"total_count":1,"data":[{{"id":"{}"}}]}}"#,
        "9".repeat(2 * 1024 * 1024)
    );
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "malformed JSON",
            Fault::Reply(200, vec![], "{\"data\": [ {\"id\": ".into()),
            "invalid JSON in the CI server lookup response",
        ),
        (
            "no data list",
            Fault::Reply(200, vec![], "[1, 2, 3]".into()),
            "has no `data` list",
        ),
        (
            "huge body",
            Fault::Reply(200, vec![], huge_body),
            "GET /api/shared_spaces/1001/workspaces/1002/ci_servers failed",
        ),
        (
            "no answer",
            Fault::Delay(Duration::from_secs(30)),
            "the `timeout` of 2 s for the whole delivery ran out",
        ),
    ];
    for (name, fault, expected) in cases {
        let fake = FakeOctane::start();
        let dir = TempDir::new("answers");
        fake.add_fault("GET", "ci_servers", fault);
        let mut env = plain_env(&fake, &dir);
        set(&mut env, "OCTANE_TIMEOUT", "2");
        set(&mut env, "OCTANE_REPORT_REQUEST_TIMEOUT_MS", "5000");

        let result = run_bounded(&env, &[], LIMIT);

        assert_eq!(result.code, 2, "{name}: {}", result.stderr);
        assert!(
            result.stderr.contains(expected),
            "{name}: {}",
            result.stderr
        );
        assert!(
            !result.stderr.contains("panicked"),
            "{name}: {}",
            result.stderr
        );
        assert!(
            result.stderr.len() < 4000,
            "{name}: body dumped: {}",
            result.stderr.len()
        );
        assert_eq!(spool_entries(dir.path()).len(), 1, "{name}");
    }
}

#[test]
fn unwritable_spool_exits_2_and_names_error() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("nospool");
    let not_a_folder = dir.file("afile");
    std::fs::write(&not_a_folder, "").unwrap();
    for _ in 0..6 {
        fake.add_fault(
            "PUT",
            "analytics/ci/builds",
            Fault::Reply(503, Vec::new(), "{}".into()),
        );
    }
    let mut env = plain_env(&fake, &dir);
    set(&mut env, "OCTANE_SPOOL_DIR", not_a_folder.to_str().unwrap());

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 2, "{}", result.stderr);
    result.assert_stderr_contains("could not be saved to the spool, so it is lost");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|item| item.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("afile")]);
}

#[test]
fn control_characters_in_ids_are_not_logged() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("ansi");
    let mut env = plain_env(&fake, &dir);
    set(&mut env, "OCTANE_BUILD_ID", "b1\x1b[31mRED\x1b[0m");

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(!result.stderr.contains('\x1b'), "{:?}", result.stderr);
    result.assert_stderr_contains("b1?[31mRED?[0m");
}
