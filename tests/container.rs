//! Runs the images in Podman the way each CI runs them, against the fake Octane
//! on 127.0.0.1.
//!
//! These tests need Podman and the images that scripts/build-local-images.sh
//! builds, so they run only with OCTANE_REPORT_CONTAINER_CHECK=1 and pass
//! otherwise (.ci/packaging-checks.sh sets it). The containers use the host's
//! network only to reach the fake, and a file server, on loopback.
//!
//! OCTANE_REPORT_IMAGE and OCTANE_REPORT_GITLAB_IMAGE override the image names,
//! and OCTANE_REPORT_STATIC_BINARY the binary that the GitLab after_script
//! downloads (default: the x86_64 musl release build). Podman reads its
//! settings from CONTAINERS_CONF as usual.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::*;

const ACTION_IMAGE: &str = "localhost/octane-report:check";
const GITLAB_IMAGE: &str = "localhost/octane-report:check-gitlab";

/// Container paths of the GitHub file commands. The runner names the files
/// `set_output_<uuid>` and so on inside /github/file_commands.
const OUTPUT_FILE: &str = "set_output_6b1f0c2e";
const STATE_FILE: &str = "save_state_6b1f0c2e";
const SUMMARY_FILE: &str = "step_summary_6b1f0c2e";

fn container_check_enabled(test: &str) -> bool {
    let enabled = std::env::var("OCTANE_REPORT_CONTAINER_CHECK").as_deref() == Ok("1");
    if !enabled {
        println!(
            "{test}: skipped, set OCTANE_REPORT_CONTAINER_CHECK=1 to run the images in Podman"
        );
    }
    enabled
}

fn image(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_string())
}

/// A `podman run` of one image. Variables go into Podman's own environment and
/// reach the container as `-e NAME`, the way GitHub's runner passes them, so
/// secrets stay off the command line.
struct Container {
    command: Command,
    image: String,
}

impl Container {
    fn new(image: &str) -> Container {
        let mut command = Command::new("podman");
        command.args(["run", "--rm", "--network", "host", "--pull", "never"]);
        command.stdin(Stdio::null());
        Container {
            command,
            image: image.to_string(),
        }
    }

    fn env(&mut self, name: &str, value: &str) -> &mut Container {
        self.command.env(name, value);
        self.command.args(["--env", name]);
        self
    }

    fn envs(&mut self, pairs: &[(String, String)]) -> &mut Container {
        for (name, value) in pairs {
            self.env(name, value);
        }
        self
    }

    fn mount(&mut self, host: &Path, container: &str) -> &mut Container {
        self.command
            .args(["--volume", &format!("{}:{container}:rw", host.display())]);
        self
    }

    fn option(&mut self, name: &str, value: &str) -> &mut Container {
        self.command.args([name, value]);
        self
    }

    /// Runs the image with `command` as its arguments, after the options given so far.
    fn run(&mut self, command: &[&str]) -> Run {
        self.command.arg(&self.image).args(command);
        let output = self.command.output().expect("failed to run podman");
        let run = Run::from_output(output);
        println!(
            "podman run {}: exit {}\n{}",
            self.image, run.code, run.stderr
        );
        run
    }
}

/// Builds the variables GitHub's runner gives a Docker action's container. Every
/// input of action.yml arrives as `INPUT_<KEY>`, and inputs that the workflow
/// leaves unset arrive empty or with their default.
fn github_action_env(fake: &FakeOctane) -> Vec<(String, String)> {
    let mut env = vars(&[
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("HOME", "/github/home"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        // A closed port on loopback: the token is empty, so the API is never
        // called, and if it were, nothing would leave the machine.
        ("GITHUB_API_URL", "http://127.0.0.1:9"),
        ("GITHUB_REPOSITORY", "acme/widget"),
        ("GITHUB_REPOSITORY_OWNER", "acme"),
        ("GITHUB_RUN_ID", "13000000001"),
        ("GITHUB_RUN_NUMBER", "318"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        ("GITHUB_WORKFLOW", "CI"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/widget/.github/workflows/ci.yml@refs/heads/main",
        ),
        ("GITHUB_WORKSPACE", "/github/workspace"),
        (
            "GITHUB_OUTPUT",
            &format!("/github/file_commands/{OUTPUT_FILE}"),
        ),
        (
            "GITHUB_STATE",
            &format!("/github/file_commands/{STATE_FILE}"),
        ),
        (
            "GITHUB_STEP_SUMMARY",
            &format!("/github/file_commands/{SUMMARY_FILE}"),
        ),
    ]);
    for input in action_inputs() {
        let value = match input.as_str() {
            "url" => fake.browser_url(),
            "client_id" => FAKE_CLIENT_ID.to_string(),
            "client_secret" => FAKE_CLIENT_SECRET.to_string(),
            "result" => "success".to_string(),
            _ => String::new(),
        };
        env.push((format!("INPUT_{}", input.to_uppercase()), value));
    }
    env
}

fn action_inputs() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("read action.yml");
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("parse action.yml");
    let inputs = action["inputs"]
        .as_mapping()
        .expect("action.yml has inputs");
    let names: Vec<String> = inputs
        .keys()
        .map(|key| key.as_str().expect("input names are strings").to_string())
        .collect();
    assert!(names.len() >= 20, "too few inputs in action.yml: {names:?}");
    names
}

/// Parses `name=value` lines of a GitHub file command.
fn parse_file_command(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Runs the pre-entrypoint stage: a fresh container of the action image whose
/// entrypoint is the record-start symlink. Returns the recorded start.
fn run_pre_entrypoint(fake: &FakeOctane, file_commands: &TempDir, workspace: &TempDir) -> i64 {
    let before = chrono::Utc::now().timestamp_millis();
    let run = Container::new(&image("OCTANE_REPORT_IMAGE", ACTION_IMAGE))
        .envs(&github_action_env(fake))
        .mount(workspace.path(), "/github/workspace")
        .mount(file_commands.path(), "/github/file_commands")
        .option("--workdir", "/github/workspace")
        .option("--entrypoint", "/usr/local/bin/octane-report-record-start")
        .run(&[]);
    let after = chrono::Utc::now().timestamp_millis();
    assert_eq!(run.code, 0, "pre-entrypoint failed:\n{}", run.stderr);

    let state = parse_file_command(&read(&file_commands.file(STATE_FILE)));
    let started_at: i64 = state
        .get("started_at")
        .unwrap_or_else(|| panic!("GITHUB_STATE has no started_at: {state:?}"))
        .parse()
        .expect("started_at is epoch milliseconds");
    assert!(
        (before..=after).contains(&started_at),
        "started_at {started_at} is outside the run, {before}..={after}"
    );
    started_at
}

/// Checks that the fake holds exactly one CI server (with `instance_id`), one pipeline and one
/// build with the given ci id, result and start time, and that it saw no invalid request.
fn assert_one_build(
    fake: &FakeOctane,
    instance_id: &str,
    build_ci_id: &str,
    result: &str,
    start_time: i64,
) {
    assert_eq!(fake.violations(), Vec::<String>::new());
    let servers = fake.servers();
    assert_eq!(servers.len(), 1, "CI servers: {servers:?}");
    assert_eq!(servers[0].instance_id, instance_id);
    assert_eq!(fake.pipelines().len(), 1);
    let builds = fake.builds();
    assert_eq!(builds.len(), 1, "builds: {builds:?}");
    assert_eq!(builds[0].build_ci_id, build_ci_id);
    assert_eq!(builds[0].result, result);
    assert_eq!(builds[0].start_time, start_time);
}

#[test]
fn pre_entrypoint_records_start() {
    if !container_check_enabled("pre_entrypoint_records_start") {
        return;
    }
    let fake = FakeOctane::start();
    let file_commands = TempDir::new("container-pre");
    let workspace = TempDir::new("container-pre-workspace");

    run_pre_entrypoint(&fake, &file_commands, &workspace);

    assert!(
        fake.state().requests.is_empty(),
        "the pre-entrypoint must not call Octane"
    );
    let files: Vec<_> = std::fs::read_dir(file_commands.path())
        .expect("list the file commands")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(files, [STATE_FILE], "the pre-entrypoint wrote other files");
}

#[test]
fn action_image_reports_build() {
    if !container_check_enabled("action_image_reports_build") {
        return;
    }
    let fake = FakeOctane::start();
    let file_commands = TempDir::new("container-action");
    let workspace = TempDir::new("container-action-workspace");
    let home = TempDir::new("container-action-home");
    let started_at = run_pre_entrypoint(&fake, &file_commands, &workspace);

    // The runner hands the state saved by the pre stage to the main stage.
    let run = Container::new(&image("OCTANE_REPORT_IMAGE", ACTION_IMAGE))
        .envs(&github_action_env(&fake))
        .env("STATE_started_at", &started_at.to_string())
        .mount(workspace.path(), "/github/workspace")
        .mount(file_commands.path(), "/github/file_commands")
        .mount(home.path(), "/github/home")
        .option("--workdir", "/github/workspace")
        .run(&[]);

    assert_eq!(run.code, 0, "the action failed:\n{}", run.stderr);
    assert_eq!(fake.violations(), Vec::<String>::new());
    let servers = fake.servers();
    assert_eq!(servers.len(), 1, "CI servers: {servers:?}");
    assert_eq!(servers[0].instance_id, "github:github.com/acme");
    let pipelines = fake.pipelines();
    assert_eq!(pipelines.len(), 1, "pipelines: {pipelines:?}");
    assert_eq!(
        pipelines[0].root_job_ci_id,
        "acme/widget/.github/workflows/ci.yml"
    );
    let builds = fake.builds();
    assert_eq!(builds.len(), 1, "builds: {builds:?}");
    assert_eq!(builds[0].reports, 1);
    assert_eq!(builds[0].build_ci_id, "13000000001-1");
    assert_eq!(builds[0].result, "success");
    assert_eq!(builds[0].start_time, started_at);

    let outputs = parse_file_command(&read(&file_commands.file(OUTPUT_FILE)));
    assert_eq!(outputs.get("server_id"), Some(&servers[0].id));
    assert_eq!(outputs.get("pipeline_id"), Some(&pipelines[0].id));
    assert_eq!(
        outputs.get("build_id").map(String::as_str),
        Some("13000000001-1")
    );
    let pipeline_url = outputs.get("pipeline_url").expect("pipeline_url output");
    assert!(
        pipeline_url.starts_with(&fake.base_url()),
        "pipeline_url: {pipeline_url}"
    );
    let summary = read(&file_commands.file(SUMMARY_FILE));
    assert!(summary.contains("Octane"), "step summary: {summary:?}");
    let files = [
        file_commands.file(OUTPUT_FILE),
        file_commands.file(STATE_FILE),
        file_commands.file(SUMMARY_FILE),
    ];
    let paths: Vec<&Path> = files.iter().map(|path| path.as_path()).collect();
    assert_no_secret(&run, &paths, &[FAKE_CLIENT_SECRET]);
}

#[test]
fn action_outputs_are_declared() {
    if !container_check_enabled("action_outputs_are_declared") {
        return;
    }
    let fake = FakeOctane::start();
    let file_commands = TempDir::new("container-outputs");
    let workspace = TempDir::new("container-outputs-workspace");

    let run = Container::new(&image("OCTANE_REPORT_IMAGE", ACTION_IMAGE))
        .envs(&github_action_env(&fake))
        .mount(workspace.path(), "/github/workspace")
        .mount(file_commands.path(), "/github/file_commands")
        .option("--workdir", "/github/workspace")
        .run(&[]);

    assert_eq!(run.code, 0, "the action failed:\n{}", run.stderr);
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("read action.yml");
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("parse action.yml");
    let outputs = parse_file_command(&read(&file_commands.file(OUTPUT_FILE)));
    assert!(!outputs.is_empty(), "the action wrote no outputs");
    for name in outputs.keys() {
        assert!(
            action["outputs"].get(name.as_str()).is_some(),
            "output {name} is not declared in action.yml"
        );
    }
}

#[test]
fn plugin_image_reports_drone_build() {
    if !container_check_enabled("plugin_image_reports_drone_build") {
        return;
    }
    let fake = FakeOctane::start();
    let workspace = TempDir::new("container-drone");
    let env = vars(&[
        ("CI", "true"),
        ("DRONE", "true"),
        ("DRONE_SYSTEM_PROTO", "https"),
        ("DRONE_SYSTEM_HOST", "drone.example.com"),
        ("DRONE_REPO", "acme/widget"),
        ("DRONE_BUILD_NUMBER", "318"),
        ("DRONE_BUILD_STATUS", "failure"),
        ("DRONE_BUILD_STARTED", "1773479980"),
        ("DRONE_STAGE_NAME", "default"),
        ("DRONE_WORKSPACE", "/drone/src"),
        ("PLUGIN_URL", &fake.browser_url()),
        ("PLUGIN_CLIENT_ID", FAKE_CLIENT_ID),
        ("PLUGIN_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("PLUGIN_FAIL_ON_ERROR", "true"),
    ]);

    // Drone starts a plugin with its entrypoint and no arguments, in the workspace.
    let run = Container::new(&image("OCTANE_REPORT_IMAGE", ACTION_IMAGE))
        .envs(&env)
        .mount(workspace.path(), "/drone/src")
        .option("--workdir", "/drone/src")
        .run(&[]);

    assert_eq!(run.code, 0, "the plugin failed:\n{}", run.stderr);
    assert_one_build(
        &fake,
        "drone:drone.example.com",
        "318",
        "failure",
        1_773_479_980_000,
    );
    assert_no_secret(&run, &[], &[FAKE_CLIENT_SECRET]);
}

#[test]
fn plugin_image_reports_woodpecker_build() {
    if !container_check_enabled("plugin_image_reports_woodpecker_build") {
        return;
    }
    let fake = FakeOctane::start();
    let workspace = TempDir::new("container-woodpecker");
    // Woodpecker 3.15+ with the Drone copies it gives plugin steps, whose
    // DRONE_BUILD_STATUS is always success.
    let env = vars(&[
        ("CI", "woodpecker"),
        ("CI_SYSTEM_NAME", "woodpecker"),
        ("CI_SYSTEM_URL", "https://ci.example.org"),
        ("CI_SYSTEM_HOST", "ci.example.org"),
        ("CI_REPO", "acme/widget"),
        ("CI_PIPELINE_NUMBER", "318"),
        ("CI_PIPELINE_STARTED", "1773479980"),
        ("CI_PIPELINE_STATUS", "failure"),
        ("CI_WORKFLOW_NAME", "test"),
        ("CI_WORKSPACE", "/woodpecker/src"),
        ("DRONE_BUILD_NUMBER", "318"),
        ("DRONE_BUILD_STATUS", "success"),
        ("DRONE_REPO", "acme/widget"),
        ("PLUGIN_URL", &fake.browser_url()),
        ("PLUGIN_CLIENT_ID", FAKE_CLIENT_ID),
        ("PLUGIN_CLIENT_SECRET", FAKE_CLIENT_SECRET),
    ]);

    let run = Container::new(&image("OCTANE_REPORT_IMAGE", ACTION_IMAGE))
        .envs(&env)
        .mount(workspace.path(), "/woodpecker/src")
        .option("--workdir", "/woodpecker/src")
        .run(&[]);

    assert_eq!(run.code, 0, "the plugin failed:\n{}", run.stderr);
    assert_one_build(
        &fake,
        "woodpecker:ci.example.org",
        "318",
        "failure",
        1_773_479_980_000,
    );
    assert_no_secret(&run, &[], &[FAKE_CLIENT_SECRET]);
}

#[test]
fn gitlab_image_runs_job_script() {
    if !container_check_enabled("gitlab_image_runs_job_script") {
        return;
    }
    let fake = FakeOctane::start();
    let project = TempDir::new("container-gitlab");
    let env = vars(&[
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_SERVER_URL", "https://gitlab.example.com"),
        ("CI_SERVER_HOST", "gitlab.example.com"),
        ("CI_PROJECT_PATH", "acme/platform/widget"),
        ("CI_PROJECT_DIR", "/builds/acme/platform/widget"),
        ("CI_PIPELINE_ID", "912345"),
        ("CI_PIPELINE_IID", "318"),
        ("CI_PIPELINE_CREATED_AT", "2026-03-14T10:18:05+01:00"),
        ("CI_JOB_STATUS", "failed"),
        ("OCTANE_URL", &fake.browser_url()),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
    ]);
    // GitLab's Docker executor keeps the image's entrypoint and hands the job
    // script to its shell. In an after_script, CI_JOB_STATUS is the result.
    let script = "set -eu\n\
                  cd \"$CI_PROJECT_DIR\"\n\
                  command -v grep > /dev/null\n\
                  octane-report --version\n\
                  octane-report\n";

    let run = Container::new(&image("OCTANE_REPORT_GITLAB_IMAGE", GITLAB_IMAGE))
        .envs(&env)
        .mount(project.path(), "/builds/acme/platform/widget")
        .run(&["sh", "-c", script]);

    assert_eq!(run.code, 0, "the job script failed:\n{}", run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("octane-report {}", env!("CARGO_PKG_VERSION"))),
        "stdout: {}",
        run.stdout
    );
    assert_one_build(
        &fake,
        "gitlab:gitlab.example.com",
        "912345",
        "failure",
        1_773_479_885_000,
    );
    assert_no_secret(&run, &[], &[FAKE_CLIENT_SECRET]);
}

/// Serves `files` (name, content) over HTTP on 127.0.0.1 until dropped, like
/// the release downloads that the GitLab template's after_script fetches.
struct FileServer {
    address: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind the file server");
        let address = server
            .server_addr()
            .to_ip()
            .expect("an IP address")
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    let name = request.url().trim_start_matches('/').to_string();
                    let response = match files.iter().find(|(file, _)| *file == name) {
                        Some((_, content)) => tiny_http::Response::from_data(content.clone()),
                        None => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
                    };
                    let _ = request.respond(response);
                }
            })
        };
        FileServer {
            address,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the after_script of `.octane-report-after-script` from the GitLab template.
fn gitlab_after_script() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/octane-report.gitlab-ci.yml");
    let text = std::fs::read_to_string(path).expect("read the GitLab template");
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("parse the template");
    let lines = template[".octane-report-after-script"]["after_script"]
        .as_sequence()
        .expect("after_script is a list");
    lines
        .iter()
        .map(|line| line.as_str().expect("after_script lines are strings"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the template's after_script in the GitLab image, downloading the
/// binary and SHA256SUMS from `server`. The job was canceled.
fn run_gitlab_after_script(fake: &FakeOctane, server: &FileServer) -> Run {
    let version = env!("CARGO_PKG_VERSION");
    let env = vars(&[
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_SERVER_URL", "https://gitlab.example.com"),
        ("CI_SERVER_HOST", "gitlab.example.com"),
        ("CI_PROJECT_PATH", "acme/widget"),
        ("CI_PIPELINE_ID", "912346"),
        ("CI_PIPELINE_IID", "319"),
        ("CI_PIPELINE_CREATED_AT", "2026-03-14T09:19:40Z"),
        ("CI_JOB_STATUS", "canceled"),
        ("OCTANE_REPORT_VERSION", version),
        ("OCTANE_REPORT_DOWNLOAD_URL", &server.url()),
        ("OCTANE_URL", &fake.browser_url()),
        ("OCTANE_CLIENT_ID", FAKE_CLIENT_ID),
        ("OCTANE_CLIENT_SECRET", FAKE_CLIENT_SECRET),
    ]);
    Container::new(&image("OCTANE_REPORT_GITLAB_IMAGE", GITLAB_IMAGE))
        .envs(&env)
        .run(&["sh", "-c", &gitlab_after_script()])
}

fn static_binary() -> Vec<u8> {
    let default = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/x86_64-unknown-linux-musl/release/octane-report");
    let path = std::env::var_os("OCTANE_REPORT_STATIC_BINARY").map_or(default, Into::into);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the static binary {}: {e}; build it with scripts/build-static.sh",
            path.display()
        )
    })
}

fn sha256_line(name: &str, content: &[u8]) -> Vec<u8> {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), content).expect("hash");
    let output = child.wait_with_output().expect("sha256sum output");
    let digest = String::from_utf8(output.stdout).expect("UTF-8");
    let digest = digest.split_whitespace().next().expect("a digest");
    format!("{digest}  {name}\n").into_bytes()
}

#[test]
fn gitlab_after_script_reports_job() {
    if !container_check_enabled("gitlab_after_script_reports_job") {
        return;
    }
    let fake = FakeOctane::start();
    let binary = static_binary();
    let name = format!(
        "octane-report-{}-x86_64-unknown-linux-musl",
        env!("CARGO_PKG_VERSION")
    );
    let sums = sha256_line(&name, &binary);
    let server = FileServer::start(vec![(name, binary), ("SHA256SUMS".to_string(), sums)]);

    let run = run_gitlab_after_script(&fake, &server);

    assert_eq!(run.code, 0, "the after_script failed:\n{}", run.stderr);
    assert_eq!(fake.violations(), Vec::<String>::new());
    let builds = fake.builds();
    assert_eq!(builds.len(), 1, "builds: {builds:?}");
    assert_eq!(builds[0].build_ci_id, "912346");
    assert_eq!(builds[0].result, "aborted");
    assert_no_secret(&run, &[], &[FAKE_CLIENT_SECRET]);
}

#[test]
fn gitlab_after_script_rejects_bad_checksum() {
    if !container_check_enabled("gitlab_after_script_rejects_bad_checksum") {
        return;
    }
    let fake = FakeOctane::start();
    let binary = static_binary();
    let name = format!(
        "octane-report-{}-x86_64-unknown-linux-musl",
        env!("CARGO_PKG_VERSION")
    );
    let sums = sha256_line(&name, b"some other file");
    let server = FileServer::start(vec![(name, binary), ("SHA256SUMS".to_string(), sums)]);

    let run = run_gitlab_after_script(&fake, &server);

    assert_ne!(
        run.code, 0,
        "a binary with the wrong checksum ran:\n{}",
        run.stderr
    );
    assert!(
        fake.state().requests.is_empty(),
        "the binary ran and called Octane"
    );
}
