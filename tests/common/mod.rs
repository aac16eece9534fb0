//! Helpers shared by the integration tests: the fake Octane and GitHub API servers, and
//! running the real binary with a cleared environment.

#![allow(dead_code, unused_imports)]

pub mod fake_octane;
pub mod tls_front;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use fake_octane::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeOctane, Fault};

pub const BINARY: &str = env!("CARGO_BIN_EXE_octane-report");

/// A fresh folder under the system temp folder, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "octane-report-test-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp folder");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts that stderr contains `text`, and shows stderr when it does not.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "`{text}` not in stderr:\n{}",
            self.stderr
        );
    }
}

/// First retry wait in milliseconds for test runs, so fault tests take well under a second per
/// retry. It only shortens waits: every retry still happens.
pub const TEST_RETRY_BASE_MS: &str = "20";

/// Runs the binary with only `vars` in its environment, plus a short retry wait unless `vars`
/// sets one.
pub fn run(vars: &[(String, String)], args: &[&str]) -> Run {
    let mut command = Command::new(BINARY);
    command.env_clear().args(args).stdin(Stdio::null());
    command.env("OCTANE_REPORT_RETRY_BASE_MS", TEST_RETRY_BASE_MS);
    for (name, value) in vars {
        command.env(name, value);
    }
    Run::from_output(command.output().expect("run octane-report"))
}

/// Runs the binary like `run`, but kills it and fails the test when it runs longer than
/// `limit`, so a hanging client cannot hang the test suite.
pub fn run_bounded(vars: &[(String, String)], args: &[&str], limit: Duration) -> Run {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.env("OCTANE_REPORT_RETRY_BASE_MS", TEST_RETRY_BASE_MS);
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run octane-report");
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait for octane-report").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("collect output");
            panic!(
                "octane-report ran longer than {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from_output(child.wait_with_output().expect("collect output"))
}

/// Lists the spool entry folders under `dir`, in name order.
pub fn spool_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<PathBuf> = listing
        .filter_map(|item| item.ok().map(|item| item.path()))
        .filter(|path| path.join("entry.json").is_file())
        .collect();
    entries.sort();
    entries
}

/// Builds an environment from string pairs.
pub fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Credentials and the URL of `fake`, as OCTANE_ settings.
pub fn octane_settings(fake: &FakeOctane) -> Vec<(String, String)> {
    vars(&[
        ("OCTANE_URL", &fake.browser_url()),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
    ])
}

/// Builds a GitHub Actions environment like the runner gives a Docker action, writing its file
/// commands into `dir`.
pub fn github_env(fake: &FakeOctane, dir: &Path, attempt: &str) -> Vec<(String, String)> {
    let mut env = vars(&[
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_API_URL", "http://127.0.0.1:9"),
        ("GITHUB_REPOSITORY", "acme/widget"),
        ("GITHUB_REPOSITORY_OWNER", "acme"),
        ("GITHUB_RUN_ID", "13000000001"),
        ("GITHUB_RUN_NUMBER", "318"),
        ("GITHUB_RUN_ATTEMPT", attempt),
        ("GITHUB_WORKFLOW", "CI"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/widget/.github/workflows/ci.yml@refs/heads/main",
        ),
        ("INPUT_URL", &fake.browser_url()),
        ("INPUT_CLIENT_ID", FAKE_CLIENT_ID),
        ("INPUT_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("INPUT_RESULT", "success"),
        ("INPUT_GITHUB_TOKEN", ""),
        ("STATE_started_at", "1773479980000"),
    ]);
    env.push(("GITHUB_WORKSPACE".into(), dir.display().to_string()));
    env.push((
        "GITHUB_OUTPUT".into(),
        dir.join("output").display().to_string(),
    ));
    env.push((
        "GITHUB_STEP_SUMMARY".into(),
        dir.join("summary").display().to_string(),
    ));
    env.push((
        "GITHUB_STATE".into(),
        dir.join("state").display().to_string(),
    ));
    env
}

/// Replaces or adds one variable.
pub fn set(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    env.retain(|(k, _)| k != name);
    env.push((name.to_string(), value.to_string()));
}

/// Reads a file the run wrote, or an empty string.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Fails when a secret appears in the run's output or in the given files. The `::add-mask::`
/// lines are how a step asks GitHub to hide a secret, so those alone may carry it.
pub fn assert_no_secret(run: &Run, files: &[&Path], secrets: &[&str]) {
    let stdout: String = run
        .stdout
        .lines()
        .filter(|line| !line.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in secrets {
        assert!(
            !stdout.contains(secret),
            "secret in stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "secret in stderr:\n{}",
            run.stderr
        );
        for file in files {
            assert!(!read(file).contains(secret), "secret in {}", file.display());
        }
    }
}

/// Requests the fake GitHub API received: path and `Authorization` header.
pub type GitHubRequests = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A fake GitHub REST API that serves the run-attempt request.
pub struct FakeGitHub {
    address: String,
    pub requests: GitHubRequests,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

pub const FAKE_GITHUB_TOKEN: &str = "ghs_fakeTokenForTests123";

impl FakeGitHub {
    /// Starts a server that returns `run_started_at` for run 13000000001 of acme/widget, attempts 1 and 2.
    pub fn start(run_started_at: &'static str) -> FakeGitHub {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind the fake GitHub API");
        let address = server
            .server_addr()
            .to_ip()
            .expect("an IP address")
            .to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    let auth = request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Authorization"))
                        .map(|h| h.value.as_str().to_string());
                    let url = request.url().to_string();
                    requests.lock().unwrap().push((url.clone(), auth.clone()));
                    let authorized =
                        auth.as_deref() == Some(&format!("Bearer {FAKE_GITHUB_TOKEN}"));
                    let known =
                        url.starts_with("/repos/acme/widget/actions/runs/13000000001/attempts/");
                    let (status, body) = match (authorized, known) {
                        (false, _) => (401, r#"{"message":"Bad credentials"}"#.to_string()),
                        (true, false) => (404, r#"{"message":"Not Found"}"#.to_string()),
                        (true, true) => (
                            200,
                            format!(r#"{{"id":13000000001,"run_started_at":"{run_started_at}"}}"#),
                        ),
                    };
                    let _ = request
                        .respond(tiny_http::Response::from_string(body).with_status_code(status));
                }
            })
        };
        FakeGitHub {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
