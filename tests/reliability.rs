//! Delivery under faults: retries, timeouts, TLS trust, the spool and replay, and parallel runs.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::tls_front::TlsFront;
use common::*;

/// Upper bound for one run of the binary in these tests.
const LIMIT: Duration = Duration::from_secs(60);

fn github_run(env: &[(String, String)]) -> Run {
    run_bounded(env, &[], LIMIT)
}

fn spool_dir(dir: &TempDir) -> PathBuf {
    dir.path().join(".octane-report/spool")
}

fn retry_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|line| line.contains("; retry "))
        .collect()
}

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Fault {
    Fault::Reply(
        status,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body.to_string(),
    )
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html><html><head><title>503</title></head><body>\
    <h1>Service Temporarily Unavailable</h1><p>Octane is being upgraded.</p></body></html>";

#[test]
fn status_503_three_times_then_success() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("retry503");
    for _ in 0..3 {
        fake.add_fault("PUT", "analytics/ci/builds", reply(503, &[], "{}"));
    }

    let result = github_run(&github_env(&fake, dir.path(), "1"));

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
    let retries = retry_lines(&result);
    assert_eq!(retries.len(), 3, "{}", result.stderr);
    assert!(retries[0].contains("PUT /api/"), "{}", retries[0]);
    assert!(retries[0].contains("HTTP 503"), "{}", retries[0]);
    assert!(retries[0].contains("retry 1 of 5 in"), "{}", retries[0]);
    assert!(spool_entries(&spool_dir(&dir)).is_empty());
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn status_429_honours_retry_after() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("retry429");
    fake.add_fault(
        "GET",
        "ci_servers",
        reply(
            429,
            &[("Retry-After", "1")],
            r#"{"description":"slow down"}"#,
        ),
    );

    let result = github_run(&github_env(&fake, dir.path(), "1"));

    assert_eq!(result.code, 0, "{}", result.stderr);
    let retries = retry_lines(&result);
    assert_eq!(retries.len(), 1, "{}", result.stderr);
    assert!(retries[0].contains("HTTP 429"), "{}", retries[0]);
    assert!(
        retries[0].contains("in 1.0 s (Retry-After)"),
        "{}",
        retries[0]
    );
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn retry_after_http_date() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("retrydate");
    // A date in the past counts as no header: the normal backoff applies.
    fake.add_fault(
        "POST",
        "sign_in",
        reply(
            503,
            &[("Retry-After", "Fri, 13 Mar 2026 09:00:00 GMT")],
            "{}",
        ),
    );

    let result = github_run(&github_env(&fake, dir.path(), "1"));

    assert_eq!(result.code, 0, "{}", result.stderr);
    let retries = retry_lines(&result);
    assert_eq!(retries.len(), 1, "{}", result.stderr);
    assert!(!retries[0].contains("(Retry-After)"), "{}", retries[0]);
}

#[test]
fn dropped_connection_is_retried() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("drop");
    fake.add_fault("POST", "sign_in", Fault::Drop);

    let result = github_run(&github_env(&fake, dir.path(), "1"));

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(fake.state().faults.is_empty(), "the drop was not applied");
    let retries = retry_lines(&result);
    assert_eq!(retries.len(), 1, "{}", result.stderr);
    assert!(
        retries[0].contains("POST /authentication/sign_in"),
        "{}",
        retries[0]
    );
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn slow_response_times_out_and_is_retried() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("slow");
    fake.add_fault("GET", "pipelines", Fault::Delay(Duration::from_secs(3)));
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "OCTANE_REPORT_REQUEST_TIMEOUT_MS", "500");

    let result = github_run(&env);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let retries = retry_lines(&result);
    assert_eq!(retries.len(), 1, "{}", result.stderr);
    assert!(retries[0].contains("timed out"), "{}", retries[0]);
    assert_eq!(fake.pipelines().len(), 1);
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn final_statuses_are_not_retried() {
    for status in [400, 403, 404, 409] {
        let fake = FakeOctane::start();
        let dir = TempDir::new("final");
        fake.add_fault(
            "PUT",
            "analytics/ci/builds",
            reply(
                status,
                &[],
                r#"{"error_code":"x","description":"rejected"}"#,
            ),
        );

        let result = github_run(&github_env(&fake, dir.path(), "1"));

        assert_eq!(result.code, 0, "{status}: {}", result.stderr);
        assert!(
            retry_lines(&result).is_empty(),
            "{status}: {}",
            result.stderr
        );
        let puts = fake
            .state()
            .requests
            .iter()
            .filter(|r| r.method == "PUT")
            .count();
        assert_eq!(puts, 1, "{status}");
        assert!(
            result.stderr.contains(&format!("HTTP {status}: rejected")),
            "{status}: {}",
            result.stderr
        );
        assert_eq!(spool_entries(&spool_dir(&dir)).len(), 1, "{status}");
    }
}

#[test]
fn timeout_setting_stops_retries() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("deadline");
    for _ in 0..6 {
        fake.add_fault("POST", "sign_in", reply(503, &[], "{}"));
    }
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_TIMEOUT", "2");
    // The default first wait, so the second wait no longer fits into two seconds.
    set(&mut env, "OCTANE_REPORT_RETRY_BASE_MS", "2000");
    set(&mut env, "INPUT_FAIL_ON_ERROR", "true");

    let result = github_run(&env);

    assert_eq!(result.code, 2, "{}", result.stderr);
    result.assert_stderr_contains("no retry, because the `timeout` of 2 s ends");
    result.assert_stderr_contains("HTTP 503");
    assert!(retry_lines(&result).len() <= 1, "{}", result.stderr);
    assert_eq!(spool_entries(&spool_dir(&dir)).len(), 1);
}

#[test]
fn maintenance_page_is_spooled_then_replayed() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("html");
    for _ in 0..6 {
        fake.add_fault(
            "PUT",
            "analytics/ci/builds",
            reply(503, &[("Content-Type", "text/html")], MAINTENANCE_PAGE),
        );
    }
    let env = github_env(&fake, dir.path(), "1");

    let failed = github_run(&env);

    assert_eq!(failed.code, 0, "{}", failed.stderr);
    assert_eq!(retry_lines(&failed).len(), 5, "{}", failed.stderr);
    failed.assert_stderr_contains("Octane is unavailable");
    assert!(!failed.stderr.contains("<h1>"), "{}", failed.stderr);
    assert!(fake.builds().is_empty());
    let entries = spool_entries(&spool_dir(&dir));
    assert_eq!(entries.len(), 1);
    let output = read(&dir.file("output"));
    assert!(
        output.contains("spool_dir=.octane-report/spool\n"),
        "{output}"
    );
    let summary = read(&dir.file("summary"));
    assert!(summary.contains("Octane report failed"), "{summary}");
    assert!(summary.contains("octane-report replay"), "{summary}");

    let spool = spool_dir(&dir);
    let replayed = run_bounded(&env, &["replay", spool.to_str().unwrap()], LIMIT);

    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    replayed.assert_stderr_contains("1 of 1 entries delivered");
    assert!(spool_entries(&spool).is_empty());
    let builds = fake.builds();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].build_ci_id, "13000000001-1");
    assert_eq!(builds[0].start_time, 1_773_479_980_000);
    assert_eq!(fake.violations().len(), 0, "{:?}", fake.violations());
}

#[test]
fn spool_entry_contents() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("entry");
    let mut env = github_env(&fake, dir.path(), "2");
    set(&mut env, "INPUT_URL", "http://127.0.0.1:9/ui/?p=1001/1002");

    let result = github_run(&env);

    assert_eq!(result.code, 0, "{}", result.stderr);
    let entries = spool_entries(&spool_dir(&dir));
    assert_eq!(entries.len(), 1);
    let entry: serde_json::Value =
        serde_json::from_str(&read(&entries[0].join("entry.json"))).unwrap();
    assert_eq!(entry["format"], 1);
    assert_eq!(entry["url"], "http://127.0.0.1:9");
    assert_eq!(entry["shared_space"], "1001");
    assert_eq!(entry["workspace"], "1002");
    assert_eq!(entry["registration"]["server_id"], "github:github.com/acme");
    assert_eq!(entry["registration"]["server_type"], "github_actions");
    assert_eq!(entry["registration"]["pipeline_name"], "acme/widget CI");
    assert_eq!(entry["build"]["buildCiId"], "13000000001-2");
    assert_eq!(entry["build"]["result"], "success");
    assert!(
        entry["last_error"].as_str().unwrap().contains("sign_in"),
        "{entry}"
    );
    let text = read(&entries[0].join("entry.json"));
    assert!(!text.contains(FAKE_CLIENT_ID), "{text}");
    assert!(!text.contains(FAKE_CLIENT_SECRET), "{text}");
}

#[test]
fn replay_uses_current_url_and_uploads_tests() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("replayurl");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_URL", "http://127.0.0.1:9/ui/?p=1001/1002");
    let failed = github_run(&env);
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    let spool = spool_dir(&dir);
    let entry_dir = spool_entries(&spool).remove(0);
    // A test-result payload, as a run with test reports keeps it.
    std::fs::write(
        entry_dir.join("test-results-1.xml"),
        "<?xml version=\"1.0\"?><test_result><build server_id=\"s\" job_id=\"j\" build_id=\"b\"/></test_result>",
    )
    .unwrap();
    let entry_path = entry_dir.join("entry.json");
    let mut entry: serde_json::Value = serde_json::from_str(&read(&entry_path)).unwrap();
    entry["test_results"] = serde_json::json!(["test-results-1.xml"]);
    std::fs::write(&entry_path, entry.to_string()).unwrap();

    // The stored URL is unreachable; the current `url` setting wins.
    let replay_env = octane_settings(&fake);
    let replayed = run_bounded(&replay_env, &["replay", spool.to_str().unwrap()], LIMIT);

    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(fake.state().test_uploads.len(), 1);
    assert!(spool_entries(&spool).is_empty());
    replayed.assert_stderr_contains("test results 1 of 1 processed by Octane");
}

#[test]
fn replay_keeps_undelivered_entries() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("replaykeep");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_URL", "http://127.0.0.1:9/ui/?p=1001/1002");
    assert_eq!(github_run(&env).code, 0);
    set(&mut env, "GITHUB_RUN_ATTEMPT", "2");
    assert_eq!(github_run(&env).code, 0);
    let spool = spool_dir(&dir);
    assert_eq!(spool_entries(&spool).len(), 2);
    let mut replay_env = vars(&[
        ("OCTANE_URL", "http://127.0.0.1:9/ui/?p=1001/1002"),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("OCTANE_FAIL_ON_ERROR", "true"),
    ]);

    // The server is still unreachable.
    let failed = run_bounded(&replay_env, &["replay", spool.to_str().unwrap()], LIMIT);
    set(&mut replay_env, "OCTANE_URL", &fake.browser_url());
    let rest = run_bounded(&replay_env, &["replay", spool.to_str().unwrap()], LIMIT);

    assert_eq!(failed.code, 2, "{}", failed.stderr);
    failed.assert_stderr_contains("0 of 2 entries delivered");
    assert_eq!(rest.code, 0, "{}", rest.stderr);
    rest.assert_stderr_contains("2 of 2 entries delivered");
    assert!(spool_entries(&spool).is_empty());
    let builds = fake.builds();
    assert_eq!(builds.len(), 2);
}

#[test]
fn replay_twice_updates_same_build() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("replaytwice");
    let mut env = github_env(&fake, dir.path(), "1");
    set(&mut env, "INPUT_URL", "http://127.0.0.1:9/ui/?p=1001/1002");
    assert_eq!(github_run(&env).code, 0);
    let spool = spool_dir(&dir);
    let entry = spool_entries(&spool).remove(0);
    let copy = dir.path().join("copy");
    let copied_entry = copy.join("entry");
    std::fs::create_dir_all(&copied_entry).unwrap();
    std::fs::copy(entry.join("entry.json"), copied_entry.join("entry.json")).unwrap();
    let replay_env = octane_settings(&fake);

    let first = run_bounded(&replay_env, &["replay", spool.to_str().unwrap()], LIMIT);
    let second = run_bounded(&replay_env, &["replay", copy.to_str().unwrap()], LIMIT);

    assert_eq!((first.code, second.code), (0, 0), "{}", second.stderr);
    let builds = fake.builds();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].reports, 2);
}

#[test]
fn replay_errors_exit_1() {
    let fake = FakeOctane::start();
    let missing = run_bounded(
        &octane_settings(&fake),
        &["replay", "/nonexistent/spool"],
        LIMIT,
    );
    let no_dir = run_bounded(&octane_settings(&fake), &["replay"], LIMIT);

    assert_eq!(missing.code, 1, "{}", missing.stderr);
    missing.assert_stderr_contains("spool directory `/nonexistent/spool` not found");
    assert_eq!(no_dir.code, 1, "{}", no_dir.stderr);
    no_dir.assert_stderr_contains("replay DIR");
}

#[test]
fn twenty_parallel_runs_register_once() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("parallel");
    let children: Vec<_> = (0..20)
        .map(|n| {
            let mut env = octane_settings(&fake);
            env.extend(vars(&[
                ("OCTANE_SERVER_ID", "build-farm"),
                ("OCTANE_JOB_ID", "nightly"),
                ("OCTANE_PIPELINE_NAME", "Nightly build"),
                ("OCTANE_RESULT", "success"),
                ("OCTANE_STARTED_AT", "1773479980"),
                ("OCTANE_FAIL_ON_ERROR", "true"),
                ("OCTANE_SPOOL_DIR", dir.path().to_str().unwrap()),
            ]));
            env.push(("OCTANE_BUILD_ID".into(), format!("run-{n}")));
            std::thread::spawn(move || run_bounded(&env, &[], LIMIT))
        })
        .collect();
    let runs: Vec<Run> = children.into_iter().map(|c| c.join().unwrap()).collect();

    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(fake.servers().len(), 1);
    assert_eq!(fake.pipelines().len(), 1);
    let builds = fake.builds();
    assert_eq!(builds.len(), 20);
    assert!(builds.iter().all(|b| b.reports == 1));
    assert_eq!(fake.violations(), Vec::<String>::new());
    assert!(spool_entries(dir.path()).is_empty());
    let registered = runs
        .iter()
        .filter(|r| r.stderr.contains("CI server build-farm registered"))
        .count();
    assert_eq!(registered, 1);
}

/// Starts an HTTPS front before a fresh fake, with the CA's PEM written to `dir`.
fn tls_setup(dir: &TempDir) -> (FakeOctane, TlsFront, PathBuf) {
    let fake = FakeOctane::start();
    let front = TlsFront::start(fake.address());
    let ca = dir.file("ca.pem");
    std::fs::write(&ca, &front.ca_pem).unwrap();
    (fake, front, ca)
}

fn tls_env(front: &TlsFront) -> Vec<(String, String)> {
    vars(&[
        ("OCTANE_URL", &front.browser_url("127.0.0.1")),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("OCTANE_SERVER_ID", "box"),
        ("OCTANE_JOB_ID", "nightly"),
        ("OCTANE_BUILD_ID", "7"),
        ("OCTANE_RESULT", "success"),
        ("OCTANE_FAIL_ON_ERROR", "true"),
    ])
}

#[test]
fn tls_private_ca_is_rejected_by_default() {
    let dir = TempDir::new("tlsreject");
    let (fake, front, _) = tls_setup(&dir);
    let mut env = tls_env(&front);
    env.push((
        "OCTANE_SPOOL_DIR".into(),
        dir.file("spool").display().to_string(),
    ));

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 2, "{}", result.stderr);
    result.assert_stderr_contains("TLS handshake failed");
    result.assert_stderr_contains("set `ca_file`");
    assert!(retry_lines(&result).is_empty(), "{}", result.stderr);
    assert!(fake.state().requests.is_empty());
}

#[test]
fn tls_private_ca_accepted_with_ca_file() {
    let dir = TempDir::new("tlsaccept");
    let (fake, front, ca) = tls_setup(&dir);
    let mut env = tls_env(&front);
    env.push(("OCTANE_CA_FILE".into(), ca.display().to_string()));

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("trusting 1 extra CA certificate(s) from `ca_file`");
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn tls_private_ca_accepted_with_ssl_cert_file() {
    let dir = TempDir::new("tlsenv");
    let (fake, front, ca) = tls_setup(&dir);
    let mut env = tls_env(&front);
    env.push(("SSL_CERT_FILE".into(), ca.display().to_string()));

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
}

#[test]
fn invalid_ca_file_exits_1_naming_path() {
    let dir = TempDir::new("badca");
    let garbage = dir.file("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let fake = FakeOctane::start();
    for path in [garbage.clone(), dir.file("missing.pem")] {
        let mut env = tls_env_plain(&fake);
        env.push(("OCTANE_CA_FILE".into(), path.display().to_string()));

        let result = run_bounded(&env, &[], LIMIT);

        assert_eq!(result.code, 1, "{}", result.stderr);
        result.assert_stderr_contains("invalid `ca_file`");
        result.assert_stderr_contains(&path.display().to_string());
    }
    assert!(fake.state().requests.is_empty());
}

fn tls_env_plain(fake: &FakeOctane) -> Vec<(String, String)> {
    let mut env = octane_settings(fake);
    env.extend(vars(&[
        ("OCTANE_SERVER_ID", "box"),
        ("OCTANE_JOB_ID", "nightly"),
        ("OCTANE_BUILD_ID", "7"),
        ("OCTANE_RESULT", "success"),
    ]));
    env
}

/// Returns every cookie value the fake handed out, from the requests that carried one.
fn cookie_values(fake: &FakeOctane) -> Vec<String> {
    let mut values = Vec::new();
    for request in &fake.state().requests {
        for (name, value) in &request.headers {
            if name == "cookie" {
                for pair in value.split(';') {
                    if let Some((_, v)) = pair.trim().split_once('=') {
                        values.push(v.to_string());
                    }
                }
            }
        }
    }
    values.sort();
    values.dedup();
    values
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return files;
    };
    for item in listing.flatten() {
        let path = item.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Faults to install: method, part of the path, fault.
type FaultRules = Vec<(&'static str, &'static str, Fault)>;

/// Runs every fault scenario: each report ends up delivered or spooled, the spooled ones are
/// delivered by a replay, and no secret, cookie or token leaks into any output.
#[test]
fn every_fault_delivered_or_spooled_without_secrets() {
    let scenarios: Vec<(&str, FaultRules, bool)> = vec![
        (
            "503 three times",
            vec![("PUT", "analytics/ci/builds", reply(503, &[], "{}")); 3],
            true,
        ),
        (
            "429 with Retry-After",
            vec![(
                "GET",
                "ci_servers",
                reply(429, &[("Retry-After", "1")], "{}"),
            )],
            true,
        ),
        (
            "dropped connection",
            vec![("POST", "sign_in", Fault::Drop)],
            true,
        ),
        (
            "slow response",
            vec![("GET", "pipelines", Fault::Delay(Duration::from_secs(2)))],
            true,
        ),
        (
            "HTML 503 page",
            vec![
                (
                    "PUT",
                    "analytics/ci/builds",
                    reply(503, &[("Content-Type", "text/html")], MAINTENANCE_PAGE)
                );
                6
            ],
            false,
        ),
        (
            "expired session",
            vec![("PUT", "analytics/ci/builds", Fault::ExpireSession)],
            true,
        ),
        (
            "expired session, then 503",
            vec![
                ("GET", "pipelines", Fault::ExpireSession),
                ("POST", "sign_in", reply(503, &[], "{}")),
            ],
            true,
        ),
    ];
    for (name, faults, delivered_at_once) in scenarios {
        let fake = FakeOctane::start();
        let dir = TempDir::new("scenario");
        for (method, path, fault) in faults {
            fake.add_fault(method, path, fault);
        }
        let mut env = github_env(&fake, dir.path(), "1");
        set(&mut env, "INPUT_GITHUB_TOKEN", FAKE_GITHUB_TOKEN);
        set(&mut env, "GITHUB_API_URL", "http://127.0.0.1:9");
        set(&mut env, "OCTANE_REPORT_REQUEST_TIMEOUT_MS", "500");

        let result = github_run(&env);

        assert_eq!(result.code, 0, "{name}: {}", result.stderr);
        let spool = spool_dir(&dir);
        let delivered = fake.builds().len() == 1;
        let spooled = spool_entries(&spool).len() == 1;
        assert!(
            delivered || spooled,
            "{name}: neither delivered nor spooled"
        );
        assert_eq!(delivered, delivered_at_once, "{name}: {}", result.stderr);
        assert_eq!(spooled, !delivered_at_once, "{name}: {}", result.stderr);
        let mut runs = vec![result];
        if spooled {
            let replayed = run_bounded(&env, &["replay", spool.to_str().unwrap()], LIMIT);
            assert_eq!(replayed.code, 0, "{name}: {}", replayed.stderr);
            assert_eq!(fake.builds().len(), 1, "{name}: replay did not deliver");
            assert!(spool_entries(&spool).is_empty(), "{name}");
            runs.push(replayed);
        }

        let mut secrets = vec![
            FAKE_CLIENT_SECRET.to_string(),
            FAKE_GITHUB_TOKEN.to_string(),
        ];
        secrets.extend(cookie_values(&fake));
        assert!(secrets.len() > 2, "{name}: no cookies seen");
        let mut files = vec![dir.file("output"), dir.file("summary")];
        files.extend(files_under(&dir.path().join(".octane-report")));
        let file_refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        for run in &runs {
            assert_no_secret(run, &file_refs, &secret_refs);
        }
    }
}

#[test]
fn echoed_cookie_is_redacted() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("echocookie");
    fake.add_fault("PUT", "analytics/ci/builds", Fault::EchoHeaders(400));
    let env = github_env(&fake, dir.path(), "1");

    let result = github_run(&env);

    assert_eq!(result.code, 0, "{}", result.stderr);
    result.assert_stderr_contains("headers were: ");
    let cookies = cookie_values(&fake);
    assert!(!cookies.is_empty(), "no cookies seen");
    for cookie in &cookies {
        assert!(
            result.stdout.contains(&format!("::add-mask::{cookie}")),
            "cookie not masked: {}",
            result.stdout
        );
    }
    let mut files = vec![dir.file("output"), dir.file("summary")];
    files.extend(files_under(&dir.path().join(".octane-report")));
    assert_eq!(spool_entries(&spool_dir(&dir)).len(), 1);
    let file_refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let cookie_refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
    assert_no_secret(&result, &file_refs, &cookie_refs);
}

#[test]
fn json_escaped_secret_is_redacted() {
    // The fake checks the secret at sign-in, but the fault responds before that check.
    let secret = "S3cret-value/with+chars=";
    let escaped = r"S3cret-value\/with+chars\u003d";
    for pad in [0, 980, 995] {
        let fake = FakeOctane::start();
        let dir = TempDir::new("escapedsecret");
        let body = format!(
            r#"{{"error_code":"x","description":"{} you sent {escaped}"}}"#,
            "x".repeat(pad)
        );
        fake.add_fault("POST", "sign_in", reply(400, &[], &body));
        let mut env = github_env(&fake, dir.path(), "1");
        set(&mut env, "INPUT_CLIENT_SECRET", secret);

        let result = github_run(&env);

        assert_eq!(result.code, 0, "pad {pad}: {}", result.stderr);
        assert!(
            result.stderr.contains("HTTP 400: "),
            "pad {pad}: {}",
            result.stderr
        );
        let mut files = vec![dir.file("output"), dir.file("summary")];
        files.extend(files_under(&dir.path().join(".octane-report")));
        assert_eq!(spool_entries(&spool_dir(&dir)).len(), 1, "pad {pad}");
        let file_refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        // The first ten characters are what a cut inside the secret used to leave.
        assert_no_secret(&result, &file_refs, &[&secret[..10], "S3cret"]);
    }
}
