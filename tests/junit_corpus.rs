//! Conformance of the converter on a corpus of real JUnit reports.
//!
//! The corpus folder is named by the `OCTANE_REPORT_CORPUS` environment
//! variable and must contain `junit/*.xml`. Without the variable the test
//! prints that it was skipped and passes. The expected counts below are the
//! `<testcase>` elements of each file (error or failure → Failed, else
//! skipped → Skipped, else Passed), not the counters the producers wrote.

mod junit_common;

use std::path::{Path, PathBuf};

use junit_common::{Run, convert, run_named};

/// How a corpus file must convert.
enum Expected {
    /// Passed, failed and skipped runs, and the summed duration in milliseconds.
    Runs {
        passed: usize,
        failed: usize,
        skipped: usize,
        duration_ms: i64,
    },
    /// A per-file error whose reason contains this text.
    Error(&'static str),
}

use Expected::{Error, Runs};

const fn runs(passed: usize, failed: usize, skipped: usize, duration_ms: i64) -> Expected {
    Runs {
        passed,
        failed,
        skipped,
        duration_ms,
    }
}

/// Expected outcome per file. `suite-level-error-no-testcase.xml` has no
/// `<testcase>`; its suite-level `<error>` gives one failed run.
/// `time-negative-duplicate-name.xml` has a negative time, reported as 0.
const EXPECTED: &[(&str, Expected)] = &[
    ("bazel-cdata-in-system-out.xml", runs(0, 1, 0, 0)),
    ("bom-xunit-net-counts-mismatch.xml", runs(2, 0, 0, 458)),
    ("dotnet-junit-testlogger-bom.xml", runs(32, 14, 6, 871)),
    ("empty-file.xml", Error("empty file")),
    ("empty-testsuites-scientific-time.xml", runs(0, 0, 0, 0)),
    ("go-junit-report-subtests.xml", runs(6, 4, 1, 0)),
    (
        "gotestsum-testmain-empty-classname.xml",
        runs(42, 13, 5, 60),
    ),
    ("gtest-style-status-disabled.xml", runs(11, 20, 0, 0)),
    ("jest-junit-empty-classname.xml", runs(2, 0, 0, 295)),
    ("mocha-junit-reporter-root-suite.xml", runs(1, 0, 0, 2)),
    ("multiple-failures-cdata.xml", runs(1, 2, 1, 50)),
    ("multiple-results-one-testcase.xml", runs(1, 2, 1, 1158)),
    ("nextest-failure-with-output.xml", runs(2, 1, 0, 2663)),
    ("no-attributes.xml", runs(1, 2, 1, 0)),
    ("not-xml.xml", Error("not an XML report")),
    ("phpunit-phpt-failure.xml", runs(10, 2, 0, 140)),
    ("pytest-counts-without-testcases.xml", runs(0, 0, 0, 0)),
    ("pytest-xunit1-failure-skip.xml", runs(3, 1, 1, 21_908)),
    ("python-unittest-error-xfail.xml", runs(4, 2, 2, 1)),
    ("root-testsuite-nested-suites.xml", runs(5, 0, 0, 4807)),
    ("suite-level-error-no-testcase.xml", runs(0, 1, 0, 0)),
    ("surefire-failure-skipped-properties.xml", runs(4, 1, 2, 20)),
    (
        "surefire-flaky-pass-multiple-flakyfailure.xml",
        runs(1, 0, 0, 1),
    ),
    ("surefire-rerun-failure-always-fails.xml", runs(0, 1, 0, 1)),
    ("surefire-truncated-cdata.xml", Error("CDATA not closed")),
    (
        "testng-junitreport-retry-duplicates.xml",
        runs(0, 1, 1, 116),
    ),
    // Its times are nanoseconds written as seconds (years each), so every one is over the
    // 100-day bound and reported as 0 ms with a warning.
    ("time-nanoseconds-no-declaration.xml", runs(3, 0, 0, 0)),
    ("time-negative-duplicate-name.xml", runs(2, 0, 0, 100_000)),
    (
        "time-thousands-separator-nested.xml",
        runs(8, 0, 0, 101_000),
    ),
    ("timestamps-various-formats.xml", runs(12, 0, 0, 287_780)),
    ("unicode-non-bmp.xml", runs(1, 4, 2, 8610)),
    ("xml-entities-in-names.xml", runs(0, 2, 2, 0)),
];

fn corpus_junit_folder() -> Option<PathBuf> {
    let folder = std::env::var_os("OCTANE_REPORT_CORPUS")?;
    Some(Path::new(&folder).join("junit"))
}

fn convert_one(folder: &Path, name: &str) -> junit_common::Converted {
    convert([folder.join(name)])
}

#[test]
fn corpus_counts_and_errors() {
    let Some(folder) = corpus_junit_folder() else {
        eprintln!("skipped: set OCTANE_REPORT_CORPUS to the corpus folder to run this test");
        return;
    };
    let mut present: Vec<String> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()))
        .map(|entry| {
            entry
                .expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".xml"))
        .collect();
    present.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        present, listed,
        "every corpus file needs an expected outcome"
    );

    for (name, expected) in EXPECTED {
        let output = convert_one(&folder, name);
        match expected {
            Runs {
                passed,
                failed,
                skipped,
                duration_ms,
            } => {
                assert_eq!(output.code, 0, "{name}: {}", output.stderr);
                let runs = output.runs();
                let count = |status: &str| runs.iter().filter(|run| run.status() == status).count();
                assert_eq!(count("Passed"), *passed, "{name}: passed");
                assert_eq!(count("Failed"), *failed, "{name}: failed");
                assert_eq!(count("Skipped"), *skipped, "{name}: skipped");
                // Each run is rounded on its own, so the sum may drift by 1 ms per run.
                let total: i64 = runs.iter().map(Run::duration).sum();
                let drift = (total - duration_ms).abs();
                assert!(
                    drift <= runs.len() as i64,
                    "{name}: duration {total} ms, expected {duration_ms} ms"
                );
                assert!(
                    runs.iter()
                        .all(|run| run.error.is_some() == (run.status() == "Failed")),
                    "{name}"
                );
            }
            Error(reason) => {
                assert_eq!(output.code, 1, "{name}: {}", output.stderr);
                assert!(output.runs().is_empty(), "{name}: no run from a bad file");
                assert!(output.stderr.contains(name), "{name}: {}", output.stderr);
                assert!(output.stderr.contains(reason), "{name}: {}", output.stderr);
            }
        }
    }
}

#[test]
fn corpus_package_class_split() {
    let Some(folder) = corpus_junit_folder() else {
        eprintln!("skipped: set OCTANE_REPORT_CORPUS to the corpus folder to run this test");
        return;
    };
    let expected = [
        (
            "nextest-failure-with-output.xml",
            "oxidized_navigation",
            "parry3d",
        ),
        ("go-junit-report-subtests.xml", "package", "subtests"),
        (
            "surefire-failure-skipped-properties.xml",
            "com.example.test_octane_github_actions",
            "BooleanCalculatorTest",
        ),
    ];
    for (name, package, class) in expected {
        let runs = convert_one(&folder, name).runs();
        assert!(!runs.is_empty(), "{name}");
        for run in &runs {
            assert_eq!(run.get("package"), Some(package), "{name}: {}", run.name());
            assert_eq!(run.get("class"), Some(class), "{name}: {}", run.name());
        }
    }
    let jest = convert_one(&folder, "jest-junit-empty-classname.xml").runs();
    assert!(
        jest.iter()
            .all(|run| run.get("package").is_none() && run.get("class").is_none())
    );
}

#[test]
fn corpus_error_text_and_names() {
    let Some(folder) = corpus_junit_folder() else {
        eprintln!("skipped: set OCTANE_REPORT_CORPUS to the corpus folder to run this test");
        return;
    };
    let entities = convert_one(&folder, "xml-entities-in-names.xml").runs();
    run_named(&entities, "Test with \"quotes\" in the test name");
    run_named(&entities, "Test with & in the test name");
    let apostrophes = entities
        .iter()
        .filter_map(|run| run.error.as_ref())
        .find(|error| {
            error
                .attributes
                .get("message")
                .is_some_and(|message| message.contains("'apostrophes'"))
        });
    assert!(
        apostrophes.is_some(),
        "message with apostrophes: {entities:?}"
    );

    let multiple = convert_one(&folder, "multiple-failures-cdata.xml").runs();
    let first = multiple
        .iter()
        .filter_map(|run| run.error.as_ref())
        .find(|error| {
            error.attributes.get("message").map(String::as_str) == Some("First assertion failed")
        })
        .expect("case with three failures");
    assert_eq!(first.attributes["type"], "AssertionError");
    assert!(
        first.text.contains("Third"),
        "all bodies in the stack trace: {}",
        first.text
    );

    let suite_error = convert_one(&folder, "suite-level-error-no-testcase.xml").runs();
    let error = suite_error[0]
        .error
        .as_ref()
        .expect("suite-level error run");
    assert_eq!(error.attributes["type"], "java.lang.NoClassDefFoundError");
    assert!(
        error.text.contains("ClassNotFoundException"),
        "{}",
        error.text
    );
}
