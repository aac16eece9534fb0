//! Helpers shared by the JUnit integration tests: run the real binary and
//! read its Octane XML back into plain structs.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::Reader;
use quick_xml::events::Event;

/// One `<test_run>` of the output.
#[derive(Debug, Clone)]
pub struct Run {
    pub attributes: BTreeMap<String, String>,
    pub error: Option<RunError>,
}

#[derive(Debug, Clone)]
pub struct RunError {
    pub attributes: BTreeMap<String, String>,
    pub text: String,
}

impl Run {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }

    pub fn name(&self) -> &str {
        self.get("name").expect("every run has a name")
    }

    pub fn status(&self) -> &str {
        self.get("status").expect("every run has a status")
    }

    pub fn duration(&self) -> i64 {
        self.get("duration")
            .expect("every run has a duration")
            .parse()
            .expect("duration is an integer")
    }
}

/// Outcome of one `convert` run.
#[derive(Debug)]
pub struct Converted {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Converted {
    pub fn runs(&self) -> Vec<Run> {
        parse_runs(&self.stdout)
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

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/junit")
        .join(name)
}

/// Runs `octane-report convert ARGS...` with output on stdout.
pub fn convert<I, S>(args: I) -> Converted
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_octane-report"))
        .arg("convert")
        .args(args)
        .output()
        .expect("the binary runs");
    Converted {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Parses an Octane document strictly; panics on malformed XML.
pub fn parse_runs(xml: &str) -> Vec<Run> {
    let mut reader = Reader::from_str(xml);
    let mut runs: Vec<Run> = Vec::new();
    let mut in_error = false;
    loop {
        match reader.read_event().expect("output is well-formed XML") {
            Event::Start(element) | Event::Empty(element) => {
                let name = element.name().as_ref().to_string();
                let mut attributes = BTreeMap::new();
                for attribute in element.attributes() {
                    let attribute = attribute.expect("well-formed attribute");
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("attribute unescapes")
                        .into_owned();
                    attributes.insert(attribute.key.as_ref().to_string(), value);
                }
                match name.as_str() {
                    "test_run" => runs.push(Run {
                        attributes,
                        error: None,
                    }),
                    "error" => {
                        let run = runs.last_mut().expect("error inside a run");
                        run.error = Some(RunError {
                            attributes,
                            text: String::new(),
                        });
                        in_error = true;
                    }
                    _ => {}
                }
            }
            Event::End(element) if element.name().as_ref() == "error" => in_error = false,
            Event::Text(text) if in_error => push_error_text(&mut runs, &text.xml10_content()),
            Event::GeneralRef(reference) if in_error => {
                let name: &str = &reference;
                let resolved = match name {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    _ => reference
                        .resolve_char_ref()
                        .expect("valid reference")
                        .expect("char")
                        .to_string(),
                };
                push_error_text(&mut runs, &resolved);
            }
            Event::Eof => return runs,
            _ => {}
        }
    }
}

fn push_error_text(runs: &mut [Run], text: &str) {
    let error = runs
        .last_mut()
        .and_then(|run| run.error.as_mut())
        .expect("text inside error");
    error.text.push_str(text);
}

/// Finds the run named `name`; panics with the list of names otherwise.
pub fn run_named<'a>(runs: &'a [Run], name: &str) -> &'a Run {
    runs.iter()
        .find(|run| run.name() == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = runs.iter().map(Run::name).collect();
            panic!("no run named {name:?} in {names:?}")
        })
}
