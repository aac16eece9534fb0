//! Each JUnit trap from the project's design, reproduced in a small fixture
//! and checked through the real `convert` subcommand.

mod junit_common;

use junit_common::{convert, fixture, run_named};

#[test]
fn nested_suites_all_found() {
    let output = convert([fixture("nested-suites.xml")]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let runs = output.runs();
    let names: Vec<&str> = runs.iter().map(|run| run.name()).collect();
    assert_eq!(names, ["top_level", "deep", "middle_case"]);
    assert!(runs.iter().all(|run| run.status() == "Passed"));
    assert_eq!(run_named(&runs, "deep").duration(), 1250);
    assert_eq!(run_named(&runs, "top_level").duration(), 500);
    assert_eq!(run_named(&runs, "middle_case").duration(), 0);
}

#[test]
fn status_precedence_and_errors() {
    let runs = convert([fixture("status-precedence.xml")]).runs();

    let all_three = run_named(&runs, "all_three");
    assert_eq!(all_three.status(), "Failed");
    let error = all_three.error.as_ref().expect("failed run has an error");
    assert_eq!(error.attributes["type"], "IOError");
    assert_eq!(error.attributes["message"], "first error");
    assert_eq!(
        error.text,
        "failure body\n\nerror body one\n\nerror body two"
    );

    let two_failures = run_named(&runs, "two_failures");
    let error = two_failures
        .error
        .as_ref()
        .expect("failed run has an error");
    assert_eq!(error.attributes["type"], "A");
    assert_eq!(error.attributes["message"], "first body line");
    assert!(error.text.contains("second body"));

    let flaky = run_named(&runs, "flaky_only");
    assert_eq!(flaky.status(), "Passed");
    assert!(flaky.error.is_none());

    let rerun = run_named(&runs, "rerun_with_failure");
    assert_eq!(rerun.status(), "Failed");
    let error = rerun.error.as_ref().expect("failed run has an error");
    assert_eq!(error.attributes["message"], "always");
    assert_eq!(error.text, "attempt 1\n\nattempt 2");

    let rerun_only = run_named(&runs, "rerun_only");
    assert_eq!(rerun_only.status(), "Failed");
    assert_eq!(
        rerun_only.error.as_ref().expect("error").attributes["type"],
        "Late"
    );

    assert_eq!(run_named(&runs, "skipped_only").status(), "Skipped");
    assert!(run_named(&runs, "skipped_only").error.is_none());
    assert_eq!(run_named(&runs, "passed").status(), "Passed");
}

#[test]
fn time_forms_in_milliseconds() {
    let output = convert([fixture("times.xml")]);
    let runs = output.runs();
    let expected = [
        ("missing", 0),
        ("empty", 0),
        ("rounded", 13),
        ("thousands", 1_024_500),
        ("exponent", 2),
        ("big_exponent", 1_639_839),
        ("clock", 62_500),
        ("negative", 0),
        ("garbage", 0),
        ("too_large", 0),
        ("hundred_days", 8_640_000_000),
    ];
    for (name, millis) in expected {
        assert_eq!(run_named(&runs, name).duration(), millis, "time of {name}");
    }
    output.assert_stderr_contains("1 negative times reported as 0 ms");
    output.assert_stderr_contains("1 unreadable times reported as 0 ms");
    output.assert_stderr_contains("1 times over 100 days reported as 0 ms");
}

#[test]
fn classname_split_and_name_limits() {
    let output = convert([fixture("classnames.xml")]);
    let runs = output.runs();
    let split = |name: &str| {
        let run = run_named(&runs, name);
        (
            run.get("package").unwrap_or(""),
            run.get("class").unwrap_or(""),
        )
    };
    assert_eq!(split("dotted"), ("com.example", "CalcTest"));
    assert_eq!(split("go"), ("github.com/org/repo", "pkg"));
    assert_eq!(split("rust"), ("my_crate::module", "tests"));
    assert_eq!(split("jest"), ("", "Calculator adds two.numbers"));
    assert_eq!(split("bare"), ("", "Lonely"));
    assert_eq!(split("empty"), ("", ""));

    let long = runs
        .iter()
        .find(|run| run.name().starts_with("nnn"))
        .expect("long name kept");
    assert_eq!(long.name().chars().count(), 255);
    assert_eq!(long.get("class").expect("class").chars().count(), 255);
    let emoji = runs
        .iter()
        .find(|run| run.name().starts_with('\u{1F600}'))
        .expect("emoji name kept");
    assert_eq!(emoji.name().encode_utf16().count(), 254);

    let unnamed: Vec<_> = runs.iter().filter(|run| run.name() == "[noName]").collect();
    assert_eq!(unnamed.len(), 2);
    assert_eq!(runs.len(), 10);
    output.assert_stderr_contains("cut 3 names");
    output.assert_stderr_contains("2 test cases without a name");
}

#[test]
fn control_characters_dropped_and_warned() {
    let output = convert([fixture("control-chars.xml")]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let runs = output.runs();
    let run = run_named(&runs, "ansi[0m");
    let error = run.error.as_ref().expect("failed run has an error");
    assert_eq!(error.attributes["message"], "colour [31mred[0m");
    assert_eq!(error.text, "lineone   done");
    output.assert_stderr_contains("dropped 7 control characters");
}

#[test]
fn timestamps_inherited_downwards() {
    let runs = convert([fixture("timestamps.xml")]).runs();
    let started = |name: &str| {
        run_named(&runs, name)
            .get("started")
            .expect("started")
            .to_string()
    };
    // 2024-03-01T11:00:01.5Z, 2024-03-01T12:00:00Z and 2024-02-01T08:00:00Z.
    assert_eq!(started("own_stamp"), "1709290801500");
    assert_eq!(started("suite_stamp"), "1709294400000");
    assert_eq!(started("bad_stamp"), "1709294400000");
    assert_eq!(started("inherits_root"), "1706774400000");
}

#[test]
fn missing_timestamp_uses_build_start() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    let runs = convert([fixture("no-timestamp.xml")]).runs();
    let started: i64 = runs[0]
        .get("started")
        .expect("started")
        .parse()
        .expect("integer");
    assert!(started >= before, "started {started} before {before}");
}

#[test]
fn suite_level_error_becomes_run() {
    let runs = convert([fixture("suite-error.xml")]).runs();
    assert_eq!(runs.len(), 2);
    let broken = run_named(&runs, "com.example.BrokenInit");
    assert_eq!(broken.status(), "Failed");
    assert_eq!(broken.get("package"), Some("com.example"));
    assert_eq!(broken.get("class"), Some("BrokenInit"));
    assert_eq!(broken.duration(), 250);
    let error = broken.error.as_ref().expect("failed run has an error");
    assert_eq!(error.attributes["type"], "java.lang.NoClassDefFoundError");
    assert!(error.text.contains("BrokenInit.<clinit>"), "{}", error.text);
    assert_eq!(run_named(&runs, "works").status(), "Passed");
}

#[test]
fn entities_resolved_and_escaped() {
    let output = convert([fixture("entities.xml")]);
    let runs = output.runs();
    assert_eq!(runs[0].name(), "a <b> & \"c\" 'd' \u{e9}\u{1F600}");
    let error = runs[0].error.as_ref().expect("error");
    assert_eq!(error.attributes["message"], "x < y");
    assert_eq!(error.text, "body & <tags> <raw> &  end");
}

#[test]
fn bad_files_reported_others_kept() {
    let names = [
        "truncated.xml",
        "empty.xml",
        "not-xml.xml",
        "unsupported-root.xml",
        "nested-suites.xml",
    ];
    let output = convert(names.map(fixture));
    assert_eq!(output.code, 0, "one file converted: {}", output.stderr);
    assert_eq!(
        output.runs().len(),
        3,
        "only nested-suites.xml contributes runs"
    );
    let expected = [
        ("truncated.xml", "CDATA not closed"),
        ("empty.xml", "empty file"),
        ("not-xml.xml", "not an XML report"),
        (
            "unsupported-root.xml",
            "unsupported root element <failsafe-summary>",
        ),
    ];
    for (file, reason) in expected {
        let line = output
            .stderr
            .lines()
            .find(|line| line.contains(file))
            .unwrap_or_else(|| panic!("no line for {file} in {}", output.stderr));
        assert!(line.starts_with("octane-report: warning: "), "{line}");
        assert!(line.contains(reason), "{line}");
    }
}

#[test]
fn only_bad_files_exit_1() {
    let output = convert([fixture("empty.xml"), fixture("not-xml.xml")]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(output.runs().is_empty());
}

#[test]
fn unmatched_pattern_reported() {
    let pattern = format!("{}/nothing-*.xml", fixture("").display());
    let output = convert([pattern.as_str()]);
    assert_eq!(output.code, 1);
    output.assert_stderr_contains("matched no file");

    let with_match = convert([pattern.clone(), fixture("times.xml").display().to_string()]);
    assert_eq!(with_match.code, 0, "{}", with_match.stderr);
    with_match.assert_stderr_contains("matched no file");
}

#[test]
fn payloads_split_by_run_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("big.xml");
    let mut xml = String::from("<testsuite name=\"big\">\n");
    for index in 0..12_000 {
        xml.push_str(&format!(
            "<testcase name=\"t{index}\" classname=\"p.C\" time=\"0.001\"/>\n"
        ));
    }
    xml.push_str("</testsuite>\n");
    std::fs::write(&report, xml).expect("write report");
    let out = dir.path().join("payloads");

    let output = convert([
        std::ffi::OsStr::new("--payload-dir"),
        out.as_os_str(),
        report.as_os_str(),
    ]);

    assert_eq!(output.code, 0, "{}", output.stderr);
    let payloads: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(payloads.len(), 3, "5,000 runs per payload");
    let mut total = 0;
    for payload in payloads {
        let text = std::fs::read_to_string(payload).expect("payload readable");
        assert!(text.starts_with("<?xml"), "{payload}");
        total += junit_common::parse_runs(&text).len();
    }
    assert_eq!(total, 12_000);
}
