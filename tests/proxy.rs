//! Delivery through a real HTTP proxy: tinyproxy on 127.0.0.1 with basic authentication.
//!
//! Runs only when `OCTANE_REPORT_PROXY_TEST=1`, because it needs the `tinyproxy` binary
//! (Debian package `tinyproxy`); `.ci/reliability-checks.sh` installs it and runs this test.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tls_front::TlsFront;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);
const PROXY_USER: &str = "ci-proxy";
const PROXY_PASSWORD: &str = "Px7-proxy-password";

/// tinyproxy, started on a free loopback port with a configuration written for the test.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl Tinyproxy {
    fn start() -> Tinyproxy {
        let dir = TempDir::new("tinyproxy");
        let port = free_port();
        let log = dir.file("tinyproxy.log");
        let config = dir.file("tinyproxy.conf");
        // No ConnectPort lines, so CONNECT reaches any port of the loopback fakes.
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nLogLevel Connect\n\
                 LogFile \"{}\"\nBasicAuth {PROXY_USER} {PROXY_PASSWORD}\n",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy (apt-get install -y tinyproxy)");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "tinyproxy did not listen on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn url(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// Returns tinyproxy's log so far.
    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

fn enabled() -> bool {
    if std::env::var("OCTANE_REPORT_PROXY_TEST").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("skipped: set OCTANE_REPORT_PROXY_TEST=1 to run the tinyproxy tests");
    false
}

fn plain_env(url: &str) -> Vec<(String, String)> {
    vars(&[
        ("OCTANE_URL", url),
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
fn delivery_through_tinyproxy() {
    if !enabled() {
        return;
    }
    let proxy = Tinyproxy::start();
    let fake = FakeOctane::start();
    let dir = TempDir::new("proxied");
    let fake_port = fake.address().rsplit(':').next().unwrap().to_string();

    // Upper-case variable, credentials in the URL.
    let mut env = plain_env(&fake.browser_url());
    env.extend(vars(&[
        ("HTTP_PROXY", &proxy.url(PROXY_USER, PROXY_PASSWORD)),
        ("OCTANE_SPOOL_DIR", dir.path().to_str().unwrap()),
    ]));
    let proxied = run_bounded(&env, &[], LIMIT);

    assert_eq!(proxied.code, 0, "{}", proxied.stderr);
    assert_eq!(fake.builds().len(), 1);
    assert!(
        proxied.stderr.contains(&format!(
            "through the proxy http://***@127.0.0.1:{} (from HTTP_PROXY)",
            proxy.port
        )),
        "{}",
        proxied.stderr
    );
    let log = proxy.log_text();
    let connects = log
        .matches(&format!("CONNECT 127.0.0.1:{fake_port}"))
        .count();
    assert!(connects >= 1, "tinyproxy log:\n{log}");
    assert_no_secret(&proxied, &[], &[PROXY_PASSWORD, FAKE_CLIENT_SECRET]);

    // Lower-case variables: no_proxy names the fake, so the proxy is bypassed.
    let mut env = plain_env(&fake.browser_url());
    env.extend(vars(&[
        ("http_proxy", &proxy.url(PROXY_USER, PROXY_PASSWORD)),
        ("no_proxy", "localhost, 127.0.0.1"),
    ]));
    let direct = run_bounded(&env, &[], LIMIT);

    assert_eq!(direct.code, 0, "{}", direct.stderr);
    assert!(
        !direct.stderr.contains("through the proxy"),
        "{}",
        direct.stderr
    );
    let log_after = proxy.log_text();
    assert_eq!(
        log_after
            .matches(&format!("CONNECT 127.0.0.1:{fake_port}"))
            .count(),
        connects,
        "tinyproxy log:\n{log_after}"
    );
    assert_eq!(fake.builds()[0].reports, 2);

    // A wrong password: tinyproxy 1.11 rejects the CONNECT (with 401, not 407), which is final.
    let mut env = plain_env(&fake.browser_url());
    env.extend(vars(&[
        ("ALL_PROXY", &proxy.url(PROXY_USER, "wrong-password-value")),
        ("OCTANE_SPOOL_DIR", dir.path().to_str().unwrap()),
    ]));
    let rejected = run_bounded(&env, &[], LIMIT);

    assert_eq!(rejected.code, 2, "{}", rejected.stderr);
    rejected.assert_stderr_contains("CONNECT proxy failed");
    assert!(!rejected.stderr.contains("; retry "), "{}", rejected.stderr);
    assert!(
        !rejected.stderr.contains("wrong-password-value"),
        "{}",
        rejected.stderr
    );
    assert_eq!(spool_entries(dir.path()).len(), 1);
}

#[test]
fn https_through_tinyproxy_with_private_ca() {
    if !enabled() {
        return;
    }
    let proxy = Tinyproxy::start();
    let fake = FakeOctane::start();
    let front = TlsFront::start(fake.address());
    let dir = TempDir::new("proxiedtls");
    let ca = dir.file("ca.pem");
    std::fs::write(&ca, &front.ca_pem).unwrap();
    let mut env = plain_env(&front.browser_url("127.0.0.1"));
    env.extend(vars(&[
        ("https_proxy", &proxy.url(PROXY_USER, PROXY_PASSWORD)),
        // A plain-HTTP proxy for other hosts must not be used for an https:// URL.
        ("HTTP_PROXY", "http://127.0.0.1:9"),
        ("OCTANE_CA_FILE", ca.to_str().unwrap()),
    ]));

    let result = run_bounded(&env, &[], LIMIT);

    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.builds().len(), 1);
    result.assert_stderr_contains("(from https_proxy)");
    let port = front.browser_url("127.0.0.1");
    let port = port.split(':').nth(2).unwrap().split('/').next().unwrap();
    let log = proxy.log_text();
    assert!(
        log.contains(&format!("CONNECT 127.0.0.1:{port}")),
        "tinyproxy log:\n{log}"
    );
}
