//! The real binary against the fake Octane: registration, build reports, failures and outputs.

mod common;

use common::*;

const NO_SECRETS: &[&str] = &[FAKE_CLIENT_SECRET];

fn github_files(dir: &TempDir) -> [std::path::PathBuf; 3] {
    [dir.file("output"), dir.file("summary"), dir.file("state")]
}

fn assert_clean(run: &Run, dir: &TempDir) {
    let files = github_files(dir);
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    assert_no_secret(run, &paths, &[FAKE_CLIENT_SECRET, FAKE_GITHUB_TOKEN]);
}

/// Checks that `output` names the CI server and pipeline ids the fake handed out.
fn assert_entity_ids_written(fake: &FakeOctane, output: &str) {
    let server_id = &fake.servers()[0].id;
    let pipeline_id = &fake.pipelines()[0].id;
    assert!(
        output.contains(&format!("server_id={server_id}\n")),
        "{output}"
    );
    assert!(
        output.contains(&format!("pipeline_id={pipeline_id}\n")),
        "{output}"
    );
}

#[test]
fn first_run_registers_then_reuses() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("register");
    let env = github_env(&fake, dir.path(), "1");

    let first = run(&env, &[]);
    let second = run(&env, &[]);

    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    first.assert_stderr_contains("registered");
    second.assert_stderr_contains("found");
    let servers = fake.servers();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].instance_id, "github:github.com/acme");
    assert_eq!(servers[0].server_type, "github_actions");
    assert_eq!(servers[0].url.as_deref(), Some("https://github.com/acme"));
    let pipelines = fake.pipelines();
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].name, "acme/widget CI");
    assert_eq!(
        pipelines[0].root_job_ci_id,
        "acme/widget/.github/workflows/ci.yml"
    );
    let builds = fake.builds();
    assert_eq!(builds.len(), 1, "the same ids update the same build");
    assert_eq!(builds[0].reports, 2);
    assert_eq!(builds[0].build_ci_id, "13000000001-1");
    assert_eq!(builds[0].build_name, "318");
    assert_eq!(builds[0].result, "success");
    assert_eq!(builds[0].start_time, 1_773_479_980_000);
    assert!(builds[0].duration > 0);
    assert_eq!(fake.violations(), Vec::<String>::new());
    assert_eq!(fake.state().sign_outs, 2);
    assert_clean(&first, &dir);
    assert_clean(&second, &dir);
}

#[test]
fn rerun_attempt_is_new_build() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("attempt");

    let first = run(&github_env(&fake, dir.path(), "1"), &[]);
    let rerun = run(&github_env(&fake, dir.path(), "2"), &[]);

    assert_eq!((first.code, rerun.code), (0, 0), "{}", rerun.stderr);
    let builds = fake.builds();
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[1].build_ci_id, "13000000001-2");
    assert_eq!(builds[1].build_name, "318.2");
    assert_eq!(fake.servers().len(), 1);
    assert_eq!(fake.pipelines().len(), 1);
}

#[test]
fn github_outputs_and_summary() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("outputs");

    let result = run(&github_env(&fake, dir.path(), "2"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let output = read(&dir.file("output"));
    assert_entity_ids_written(&fake, &output);
    assert!(output.contains("build_id=13000000001-2\n"), "{output}");
    assert!(
        output.contains(&format!(
            "pipeline_url={}/ui/entity-navigation?p=1001/1002",
            fake.base_url()
        )),
        "{output}"
    );
    let summary = read(&dir.file("summary"));
    assert!(summary.contains("Octane report"), "{summary}");
    assert!(summary.contains("acme/widget CI"), "{summary}");
    assert!(summary.contains("| Result | success |"), "{summary}");
    let mask_line = result.stdout.lines().next().unwrap_or_default();
    assert_eq!(mask_line, format!("::add-mask::{FAKE_CLIENT_SECRET}"));
    assert_clean(&result, &dir);
}

#[test]
fn session_expiry_mid_flow_signs_in_again() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("expiry");
    fake.add_fault("PUT", "analytics/ci/builds", Fault::ExpireSession);

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(fake.state().sign_ins, 2);
    let statuses: Vec<u16> = fake.state().requests.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(fake.violations(), Vec::<String>::new());
    assert_clean(&result, &dir);
}

#[test]
fn rotated_cookies_are_followed() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("rotate");
    fake.state().rotate_cookies = true;

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(
        fake.state().sign_ins,
        1,
        "no re-login needed when cookies are followed"
    );
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn unreachable_octane_exit_codes() {
    let dir = TempDir::new("unreachable");
    let fake = FakeOctane::start();
    let mut env = github_env(&fake, dir.path(), "1");
    // Port 9 (discard) on loopback has no listener here, so the connection is refused.
    set(&mut env, "INPUT_URL", "http://127.0.0.1:9/ui/?p=1001/1002");

    let lenient = run(&env, &[]);
    set(&mut env, "INPUT_FAIL_ON_ERROR", "true");
    let strict = run(&env, &[]);

    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    for result in [&lenient, &strict] {
        result.assert_stderr_contains("::error title=octane-report::delivery to Octane failed");
        result.assert_stderr_contains("sign_in");
        assert_clean(result, &dir);
    }
    let summary = read(&dir.file("summary"));
    assert!(summary.contains("Octane report failed"), "{summary}");
}

#[test]
fn wrong_secret_is_reported() {
    let fake = FakeOctane::start();
    let mut env = octane_settings(&fake);
    env.extend(vars(&[
        ("OCTANE_SERVER_ID", "box"),
        ("OCTANE_JOB_ID", "nightly"),
        ("OCTANE_BUILD_ID", "7"),
        ("OCTANE_RESULT", "success"),
        ("OCTANE_FAIL_ON_ERROR", "true"),
    ]));
    set(&mut env, "OCTANE_CLIENT_SECRET", "wrong-secret-value");

    let result = run(&env, &[]);

    assert_eq!(result.code, 2, "{}", result.stderr);
    result.assert_stderr_contains("sign-in rejected");
    result.assert_stderr_contains("HTTP 401");
    result.assert_stderr_contains("correlation id");
    assert!(
        !result.stderr.contains("wrong-secret-value"),
        "{}",
        result.stderr
    );
    assert!(fake.servers().is_empty());
}

#[test]
fn missing_credentials_send_nothing() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("nocreds");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_CLIENT_ID", "");
    set(&mut env, "INPUT_CLIENT_SECRET", "");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("no credentials");
    assert!(fake.state().requests.is_empty());
    assert!(read(&dir.file("summary")).contains("Octane report skipped"));
    assert_eq!(read(&dir.file("output")), "");
}

#[test]
fn one_credential_missing_is_invalid() {
    let fake = FakeOctane::start();
    let mut env = octane_settings(&fake);
    set(&mut env, "OCTANE_CLIENT_SECRET", "");

    let result = run(&env, &[]);

    assert_eq!(result.code, 1, "{}", result.stderr);
    result.assert_stderr_contains("missing `client_secret`");
    assert!(fake.state().requests.is_empty());
}

#[test]
fn invalid_settings_exit_1_naming_setting() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("invalid");
    let cases = [
        (
            "INPUT_URL",
            "ftp://octane.example.com/",
            "invalid `url` value `ftp://octane.example.com/`",
        ),
        (
            "INPUT_URL",
            "https://octane.example.com/ui/?p=1001",
            "missing `workspace`",
        ),
        (
            "INPUT_RESULT",
            "finished-ok",
            "invalid `result` value `finished-ok`",
        ),
        (
            "INPUT_STARTED_AT",
            "14/03/2026",
            "invalid `started_at` value `14/03/2026`",
        ),
        (
            "INPUT_TIMEOUT",
            "forever",
            "invalid `timeout` value `forever`",
        ),
    ];
    for (name, value, expected) in cases {
        let mut env = github_env(&fake, dir.path(), "1");
        set(&mut env, name, value);

        let result = run(&env, &[]);

        assert_eq!(result.code, 1, "{name}={value}: {}", result.stderr);
        assert!(
            result.stderr.contains(expected),
            "{name}={value}: {}",
            result.stderr
        );
        assert_clean(&result, &dir);
    }
    assert!(fake.state().requests.is_empty());
}

#[test]
fn dry_run_sends_nothing() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("dry");
    let env = github_env(&fake, dir.path(), "2");

    let result = run(&env, &["--dry-run"]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(fake.state().requests.is_empty());
    assert!(
        result.stdout.contains("PUT http://127.0.0.1:"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("\"buildCiId\": \"13000000001-2\""),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("\"client_secret\": \"(redacted)\""),
        "{}",
        result.stdout
    );
    result.assert_stderr_contains("dry run: nothing was sent");
    assert_clean(&result, &dir);
}

#[test]
fn start_time_from_github_api() {
    let fake = FakeOctane::start();
    let github = FakeGitHub::start("2026-03-14T09:20:11Z");
    let dir = TempDir::new("ghapi");
    let mut env = github_env(&fake, dir.path(), "2");
    set(&mut env, "GITHUB_API_URL", &github.api_url());
    set(&mut env, "INPUT_GITHUB_TOKEN", FAKE_GITHUB_TOKEN);

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("from the GitHub API");
    assert_eq!(fake.builds()[0].start_time, 1_773_480_011_000);
    let requests = github.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].0,
        "/repos/acme/widget/actions/runs/13000000001/attempts/2"
    );
    assert_clean(&result, &dir);
}

#[test]
fn github_api_failure_falls_back() {
    let fake = FakeOctane::start();
    let github = FakeGitHub::start("2026-03-14T09:20:11Z");
    let dir = TempDir::new("ghapi-fail");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "GITHUB_API_URL", &github.api_url());
    set(&mut env, "INPUT_GITHUB_TOKEN", "ghs_revokedTokenValue");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("HTTP 401");
    result.assert_stderr_contains("pre-entrypoint");
    assert_eq!(fake.builds()[0].start_time, 1_773_479_980_000);
    assert!(
        !result.stderr.contains("ghs_revokedTokenValue"),
        "{}",
        result.stderr
    );
}

#[test]
fn no_start_source_warns_and_uses_now() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("nostart");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "STATE_started_at", "");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("starting now, with duration 0");
    let build = &fake.builds()[0];
    assert!(build.duration < 60_000, "{}", build.duration);
}

#[test]
fn pipeline_name_taken_names_setting() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("taken");
    let other_server = fake.add_server("jenkins:build.example.com");
    fake.add_pipeline("acme/widget CI", &other_server, "some/other/job");

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("set `pipeline_name`");
    result.assert_stderr_contains("HTTP 409");
    assert!(fake.builds().is_empty());
}

#[test]
fn server_created_by_parallel_job() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("race");
    fake.add_server("github:github.com/acme");
    // The lookup misses the server as if it ran just before a parallel job created it.
    fake.add_fault(
        "GET",
        "ci_servers",
        Fault::Reply(
            200,
            vec![],
            r#"{"total_count":0,"data":[],"exceeds_total_count":false}"#.into(),
        ),
    );

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.servers().len(), 1);
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn gitlab_drone_woodpecker_plain_runs() {
    let fake = FakeOctane::start();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let cases = [
        (
            "gitlab.env",
            "gitlab:gitlab.example.com",
            "acme/platform/widget",
            "912345",
            "318",
            "failure",
            1_773_479_885_000,
        ),
        (
            "drone.env",
            "drone:drone.example.com",
            "acme/widget",
            "318",
            "318",
            "failure",
            1_773_479_980_000,
        ),
        (
            "woodpecker.env",
            "woodpecker:ci.example.org",
            "acme/widget/test",
            "318",
            "318",
            "failure",
            1_773_479_980_000,
        ),
        (
            "plain.env",
            "build-box-1",
            "nightly",
            "2026-03-14.1",
            "2026-03-14.1",
            "success",
            1_773_479_980_000,
        ),
    ];
    for (file, server, job, build, name, result, start) in cases {
        // The fake's address replaces the example URL; the rest comes from the example file.
        let env = vars(&[
            ("OCTANE_URL", &fake.browser_url()),
            ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
            ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ]);
        let env_file = examples.join(file);
        let dir = TempDir::new("ci");
        let patched = dir.file("ci.env");
        let text = std::fs::read_to_string(&env_file).unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.contains("_URL=https://octane") && !l.contains("_CLIENT_"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&patched, text).unwrap();

        let run_result = run(&env, &["--env-file", patched.to_str().unwrap()]);

        assert_eq!(run_result.code, 0, "{file}: {}", run_result.stderr);
        let builds = fake.builds();
        let found = builds
            .iter()
            .find(|b| b.server_ci_id == server && b.job_ci_id == job);
        let found = found.unwrap_or_else(|| panic!("{file}: no build in {builds:?}"));
        assert_eq!(found.build_ci_id, build, "{file}");
        assert_eq!(found.build_name, name, "{file}");
        assert_eq!(found.result, result, "{file}");
        assert_eq!(found.start_time, start, "{file}");
        assert_no_secret(&run_result, &[], NO_SECRETS);
    }
    assert_eq!(fake.servers().len(), 4);
    assert_eq!(fake.pipelines().len(), 4);
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn record_start_writes_state() {
    let dir = TempDir::new("record");
    let state = dir.file("state");
    let env = vars(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STATE", state.to_str().unwrap()),
    ]);

    let result = run(&env, &["record-start"]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let text = read(&state);
    let millis: i64 = text
        .trim()
        .strip_prefix("started_at=")
        .unwrap()
        .parse()
        .unwrap();
    assert!(millis > 1_700_000_000_000, "{text}");
}

#[test]
fn help_and_version() {
    let help = run(&[], &["--help"]);
    let version = run(&[], &["--version"]);

    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("SETTINGS:"), "{}", help.stdout);
    assert!(help.stdout.contains("EXIT CODES:"), "{}", help.stdout);
    assert_eq!(
        version.stdout.trim(),
        format!("octane-report {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_flag_exits_1() {
    let result = run(&[], &["--no-such-flag"]);

    assert_eq!(result.code, 1);
    result.assert_stderr_contains("--no-such-flag");
}

#[test]
fn echoed_secret_cut_in_error_is_hidden() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("echo");
    // The secret starts just before the 300-character cut of a plain-text error body.
    let body = format!("{}{FAKE_CLIENT_SECRET} was rejected", "x".repeat(295));
    fake.add_fault(
        "PUT",
        "analytics/ci/builds",
        Fault::Reply(
            400,
            vec![("Content-Type".into(), "text/plain".into())],
            body,
        ),
    );

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("HTTP 400");
    let prefix = &FAKE_CLIENT_SECRET[..8];
    assert!(!result.stderr.contains(prefix), "{}", result.stderr);
    assert!(!read(&dir.file("summary")).contains(prefix));
    assert_clean(&result, &dir);
}

#[test]
fn non_numeric_entity_id_is_rejected() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("badid");
    fake.add_fault(
        "GET",
        "ci_servers",
        Fault::Reply(
            200,
            vec![],
            r#"{"total_count":1,"data":[{"id":"1)](x) ##[error]injected"}]}"#.into(),
        ),
    );

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("entity id that is not a number");
    assert!(!result.stderr.contains("##[error]"), "{}", result.stderr);
    assert!(!read(&dir.file("output")).contains("injected"));
    assert!(fake.builds().is_empty());
}

#[test]
fn dry_run_prints_no_mask_line() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("drymask");

    let result = run(&github_env(&fake, dir.path(), "1"), &["--dry-run"]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(
        !result.stdout.contains(FAKE_CLIENT_SECRET),
        "{}",
        result.stdout
    );
    assert!(!result.stdout.contains("::add-mask::"), "{}", result.stdout);
}

#[test]
fn failed_build_report_keeps_found_ids() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("foundids");
    fake.add_fault(
        "PUT",
        "analytics/ci/builds",
        Fault::Reply(
            400,
            vec![],
            r#"{"error_code":"x","description":"rejected"}"#.into(),
        ),
    );

    let result = run(&github_env(&fake, dir.path(), "1"), &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let output = read(&dir.file("output"));
    assert_entity_ids_written(&fake, &output);
    assert!(output.contains("pipeline_url="), "{output}");
    assert!(!output.contains("build_id="), "{output}");
}
