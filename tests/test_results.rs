//! Test results end to end: reports in the workspace, the build result, uploads and outputs.

mod common;

use common::*;

const PASSING_AND_FAILING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="calc" timestamp="2026-03-14T09:20:00Z">
    <testcase classname="com.acme.CalcTest" name="adds" time="0.012"/>
    <testcase classname="com.acme.CalcTest" name="subtracts" time="1,234.5"/>
    <testcase classname="com.acme.CalcTest" name="divides" time="0.003">
      <failure type="java.lang.AssertionError" message="expected 2 but was 3">at CalcTest.divides(CalcTest.java:20)</failure>
    </testcase>
    <testcase classname="com.acme.CalcTest" name="later"><skipped/></testcase>
  </testsuite>
</testsuites>
"#;

const ALL_PASSING: &str =
    r#"<testsuite name="s"><testcase classname="a.B" name="ok" time="0.5"/></testsuite>"#;

fn workspace_with(reports: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("tests");
    for (name, text) in reports {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn upload_bodies(fake: &FakeOctane) -> Vec<String> {
    fake.state()
        .test_uploads
        .iter()
        .map(|(_, body)| body.clone())
        .collect()
}

#[test]
fn failed_tests_make_build_unstable() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("reports/TEST-calc.xml", PASSING_AND_FAILING)]);
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "reports/*.xml");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let builds = fake.builds();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].result, "unstable");
    let bodies = upload_bodies(&fake);
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains(r#"<build server_id="github:github.com/acme" job_id="acme/widget/.github/workflows/ci.yml" build_id="13000000001-1""#),
        "{}",
        bodies[0]
    );
    assert!(bodies[0].contains(r#"name="divides""#), "{}", bodies[0]);
    assert!(bodies[0].contains(r#"status="Failed""#), "{}", bodies[0]);
    assert!(bodies[0].contains(r#"duration="1234500""#), "{}", bodies[0]);
    assert!(bodies[0].contains("expected 2 but was 3"), "{}", bodies[0]);
    assert_eq!(fake.violations(), Vec::<String>::new());

    let output = read(&dir.file("output"));
    assert!(output.contains("tests_passed=2\n"), "{output}");
    assert!(output.contains("tests_failed=1\n"), "{output}");
    assert!(output.contains("tests_skipped=1\n"), "{output}");
    let summary = read(&dir.file("summary"));
    assert!(
        summary.contains("2 passed, 1 failed, 1 skipped"),
        "{summary}"
    );
    assert!(summary.contains("divides"), "{summary}");
    result.assert_stderr_contains("reported as unstable");
}

#[test]
fn build_is_reported_before_tests() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("TEST-a.xml", ALL_PASSING)]);
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "TEST-*.xml");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let paths: Vec<String> = fake
        .state()
        .requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let build = paths
        .iter()
        .position(|p| p.ends_with("analytics/ci/builds"))
        .expect("build reported");
    let upload = paths
        .iter()
        .position(|p| p.starts_with("POST") && p.ends_with("test-results"))
        .expect("tests uploaded");
    let poll = paths
        .iter()
        .position(|p| p.starts_with("GET") && p.contains("test-results/"))
        .expect("task polled");
    assert!(build < upload, "{paths:?}");
    assert!(upload < poll, "{paths:?}");
    assert_eq!(fake.builds()[0].result, "success");
}

#[test]
fn unstable_switch_off_keeps_success() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("r.xml", PASSING_AND_FAILING)]);
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "r.xml");
    set(&mut env, "INPUT_UNSTABLE_ON_TEST_FAILURES", "false");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds()[0].result, "success");
}

#[test]
fn unmatched_pattern_and_bad_file_named() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[
        ("good.xml", ALL_PASSING),
        ("bad.xml", "<testsuite><testcase name="),
    ]);
    let mut env = github_env(&fake, dir.path(), "1");
    set(
        &mut env,
        "INPUT_TEST_RESULTS",
        "good.xml, bad.xml\nmissing/*.xml",
    );

    let lenient = run(&env, &[]);
    set(&mut env, "INPUT_FAIL_ON_ERROR", "true");
    let strict = run(&env, &[]);

    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    for result in [&lenient, &strict] {
        result.assert_stderr_contains("missing/*.xml");
        result.assert_stderr_contains("bad.xml");
    }
    let bodies = upload_bodies(&fake);
    assert_eq!(bodies.len(), 2, "the good file goes out on both runs");
    assert!(bodies[0].contains(r#"name="ok""#), "{}", bodies[0]);
}

#[test]
fn failed_task_is_delivery_failure() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("r.xml", ALL_PASSING)]);
    fake.state().task_statuses = vec!["queued".into(), "running".into(), "failed".into()];
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "r.xml");
    set(&mut env, "INPUT_FAIL_ON_ERROR", "true");

    let result = run(&env, &[]);

    assert_eq!(result.code, 2, "{}", result.stderr);
    result.assert_stderr_contains("status `failed`");
    assert_eq!(fake.builds().len(), 1, "the build itself was reported");
}

#[test]
fn dry_run_lists_uploads_only() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("r.xml", PASSING_AND_FAILING)]);
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "r.xml");

    let result = run(&env, &["--dry-run"]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(fake.state().requests.is_empty());
    assert!(
        result.stdout.contains("/test-results?skip-errors=true"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("\"result\": \"unstable\""),
        "{}",
        result.stdout
    );
}

#[test]
fn convert_writes_octane_xml() {
    let dir = workspace_with(&[("r.xml", PASSING_AND_FAILING)]);
    let out = dir.file("out.xml");

    let result = run(
        &[],
        &[
            "convert",
            "--output",
            out.to_str().unwrap(),
            dir.file("r.xml").to_str().unwrap(),
        ],
    );

    assert_eq!(result.code, 0, "{}", result.stderr);
    let xml = read(&out);
    assert!(xml.contains("<test_result"), "{xml}");
    assert_eq!(xml.matches("<test_run ").count(), 4, "{xml}");
    assert!(xml.contains(r#"package="com.acme""#), "{xml}");
    assert!(xml.contains(r#"class="CalcTest""#), "{xml}");
}

#[test]
fn slow_task_ends_watch_not_run() {
    let fake = FakeOctane::start();
    let dir = workspace_with(&[("r.xml", ALL_PASSING)]);
    fake.state().task_statuses = vec!["queued".into(); 50];
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TEST_RESULTS", "r.xml");
    set(&mut env, "INPUT_FAIL_ON_ERROR", "true");
    // The deadline leaves about one status request before the margin for the sign-out.
    set(&mut env, "INPUT_TIMEOUT", "7");

    let result = run(&env, &[]);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("still `queued`");
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(fake.state().sign_outs, 1);
    assert!(read(&dir.file("output")).contains("tests_passed=1\n"));
}

#[test]
fn convert_output_cannot_be_input() {
    let dir = workspace_with(&[("r.xml", ALL_PASSING)]);
    let input = dir.file("r.xml");
    let link = dir.file("link.xml");
    std::fs::hard_link(&input, &link).expect("hard link");

    // The input itself, then a hard link to it, whose path differs.
    for output in [&input, &link] {
        let result = run(
            &[],
            &[
                "convert",
                "--output",
                output.to_str().unwrap(),
                input.to_str().unwrap(),
            ],
        );

        assert_eq!(result.code, 1, "{}", result.stderr);
        result.assert_stderr_contains("also one of the input reports");
        assert_eq!(read(&input), ALL_PASSING);
    }
}

#[test]
fn convert_nothing_matched_is_error() {
    let dir = workspace_with(&[]);

    let result = run(&[], &["convert", dir.file("none/*.xml").to_str().unwrap()]);

    assert_eq!(result.code, 1, "{}", result.stderr);
    result.assert_stderr_contains("octane-report: error: no test report was converted");
}
