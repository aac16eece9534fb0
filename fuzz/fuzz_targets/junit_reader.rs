//! Feeds arbitrary bytes to the JUnit reader and checks the Octane output.
//!
//! Every input must give either a file error or a document that is
//! well-formed XML whose `test_run` names are 1 to 255 UTF-16 units long.
//! Any panic, or a reader error on our own output, is a finding.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use quick_xml::Reader;
use quick_xml::events::Event;

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(&path, data).expect("temp file is writable");
    let opts = junit::ConvertOptions {
        build: Some(junit::BuildRef { server_id: "s".into(), job_id: "j".into(), build_id: "b".into() }),
        default_started_ms: 0,
        external_report_url: Some("https://ci.example.com/1".into()),
    };
    let mut output = Vec::new();
    let conversion = junit::write_document(&[path], &opts, &mut output).expect("writing to memory");
    let counts = conversion.counts;
    let runs = check_document(&output);
    assert_eq!(runs, counts.passed + counts.failed + counts.skipped);
    if !conversion.file_errors.is_empty() {
        assert_eq!(runs, 0, "a bad file must add no run");
    }
});

/// The input file of this fuzzing process, in the temp folder.
fn input_path() -> PathBuf {
    std::env::temp_dir().join(format!("octane-report-fuzz-{}.xml", std::process::id()))
}

/// Parses the output strictly and returns the number of `test_run` elements.
fn check_document(output: &[u8]) -> u64 {
    let text = std::str::from_utf8(output).expect("output is UTF-8");
    let mut reader = Reader::from_str(text);
    let mut runs = 0;
    loop {
        match reader.read_event().expect("output is well-formed XML") {
            Event::Start(element) | Event::Empty(element) if element.name().as_ref() == "test_run" => {
                runs += 1;
                let name = element
                    .try_get_attribute("name")
                    .expect("attributes are well-formed")
                    .expect("every test_run has a name");
                let value = name.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("name unescapes");
                let units = value.encode_utf16().count();
                assert!((1..=255).contains(&units), "name of {units} UTF-16 units");
            }
            Event::Eof => return runs,
            _ => {}
        }
    }
}
