//! Figures for a whole run: wall time and peak memory of a dry run and of a full run against the
//! loopback fake Octane. Ignored by default because it measures rather than checks; run it with
//! `cargo test --release --test bench_run -- --ignored --nocapture`.

mod common;

use std::process::Command;
use std::time::Instant;

use common::*;

const RUNS: usize = 15;

/// Runs the binary under `/usr/bin/time -v` and returns wall milliseconds and peak RSS in KiB.
fn measure(env: &[(String, String)], args: &[&str]) -> (f64, u64) {
    let mut command = Command::new("/usr/bin/time");
    command.env_clear().arg("-v").arg(BINARY).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = command
        .output()
        .expect("run /usr/bin/time (Debian package `time`)");
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rss = stderr
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|value| value.parse().ok())
        .expect("peak RSS in the output of /usr/bin/time -v");
    (wall, rss)
}

fn report(label: &str, samples: &mut [(f64, u64)]) {
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median_wall = samples[samples.len() / 2].0;
    let mut rss: Vec<u64> = samples.iter().map(|s| s.1).collect();
    rss.sort_unstable();
    println!(
        "{label}: median wall {median_wall:.1} ms, median peak RSS {} KiB, max peak RSS {} KiB ({} runs)",
        rss[rss.len() / 2],
        rss[rss.len() - 1],
        samples.len()
    );
}

#[test]
#[ignore = "prints figures; run with --ignored --nocapture"]
fn dry_and_full_run_figures() {
    let fake = FakeOctane::start();
    let dir = TempDir::new("bench");
    let env = github_env(&fake, dir.path(), "1");

    let mut dry: Vec<(f64, u64)> = (0..RUNS).map(|_| measure(&env, &["--dry-run"])).collect();
    let mut full: Vec<(f64, u64)> = (0..RUNS).map(|_| measure(&env, &[])).collect();

    report("dry run", &mut dry);
    report("full run against the loopback fake", &mut full);
    assert_eq!(fake.builds().len(), 1);
    assert_eq!(fake.builds()[0].reports as usize, RUNS);
}
