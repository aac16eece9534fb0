//! Checks that the packaging files agree with the binary.
//!
//! The list of settings comes from the `SETTINGS:` section of the binary's
//! `--help`. `action.yml` must declare exactly those keys as inputs. Every
//! snippet in the README, in docs/ci-setup.md and in the GitLab template may
//! name only real settings, whether as a GitHub `with:` key, a Drone or
//! Woodpecker `settings:` key, or an `OCTANE_`, `PLUGIN_` or `INPUT_` variable.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_yaml_ng::{Mapping, Value};

/// Documents whose fenced code blocks are install snippets.
const SNIPPET_DOCUMENTS: [&str; 2] = ["README.md", "docs/ci-setup.md"];
const GITLAB_TEMPLATE: &str = "templates/octane-report.gitlab-ci.yml";
const WORKFLOWS: [&str; 2] = [".github/workflows/ci.yml", ".github/workflows/release.yml"];

/// Prefix of the variables that the packaging itself defines (image, version,
/// download URL in the GitLab template). No setting key starts with `report_`,
/// which `settings_leave_packaging_prefix_free` checks.
const PACKAGING_VARIABLE_PREFIX: &str = "OCTANE_REPORT_";

fn read_repo_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn parse_yaml(text: &str, origin: &str) -> Value {
    let mut value: Value = serde_yaml_ng::from_str(text)
        .unwrap_or_else(|e| panic!("{origin}: invalid YAML: {e}\n{text}"));
    value
        .apply_merge()
        .unwrap_or_else(|e| panic!("{origin}: invalid YAML merge key: {e}"));
    value
}

/// Runs `octane-report --help` and returns the keys listed under `SETTINGS:`,
/// one per line indented by two spaces.
fn settings_from_help() -> BTreeSet<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_octane-report"))
        .arg("--help")
        .output()
        .expect("failed to run octane-report --help");
    assert!(
        output.status.success(),
        "octane-report --help failed: {output:?}"
    );
    let help = String::from_utf8(output.stdout).expect("--help output is not UTF-8");
    parse_settings_section(&help)
}

fn parse_settings_section(help: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut lines = help
        .lines()
        .skip_while(|line| line.trim_end() != "SETTINGS:");
    assert!(
        lines.next().is_some(),
        "--help has no SETTINGS: section:\n{help}"
    );
    for line in lines {
        if line.trim().is_empty() && !keys.is_empty() {
            break;
        }
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue;
        }
        let key = rest.split_whitespace().next().unwrap_or_default();
        keys.insert(key.to_string());
    }
    keys
}

/// A fenced code block of a Markdown document.
struct Snippet {
    origin: String,
    language: String,
    text: String,
}

fn markdown_snippets(document: &str) -> Vec<Snippet> {
    let markdown = read_repo_file(document);
    let mut snippets = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((index + 1, info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => {
                let (start, language, text) = open.take().unwrap();
                snippets.push(Snippet {
                    origin: format!("{document}:{start}"),
                    language,
                    text,
                });
            }
            (Some((_, _, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{document}: a code block is not closed");
    snippets
}

fn all_snippets() -> Vec<Snippet> {
    let mut snippets: Vec<Snippet> = SNIPPET_DOCUMENTS
        .iter()
        .flat_map(|document| markdown_snippets(document))
        .collect();
    snippets.push(Snippet {
        origin: GITLAB_TEMPLATE.to_string(),
        language: "yaml".to_string(),
        text: read_repo_file(GITLAB_TEMPLATE),
    });
    snippets
}

fn is_yaml(snippet: &Snippet) -> bool {
    snippet.language == "yaml" || snippet.language == "yml"
}

/// Converts a settings key as a CI spells it (`CLIENT-ID`, `client.id`) to the
/// snake_case key.
fn normalize_key(key: &str) -> String {
    key.to_ascii_lowercase().replace(['-', '.'], "_")
}

/// Setting keys named in a snippet, each with where it was found.
#[derive(Default)]
struct NamedSettings {
    variables: Vec<(String, String)>,
    action_inputs: Vec<(String, String)>,
    plugin_settings: Vec<(String, String)>,
}

impl NamedSettings {
    fn all(&self) -> impl Iterator<Item = &(String, String)> {
        self.variables
            .iter()
            .chain(&self.action_inputs)
            .chain(&self.plugin_settings)
    }
}

/// Collects the keys of `OCTANE_<KEY>`, `PLUGIN_<KEY>` and `INPUT_<KEY>`
/// variables named anywhere in the text.
fn collect_variables(text: &str, origin: &str, named: &mut NamedSettings) {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    for prefix in ["OCTANE_", "PLUGIN_", "INPUT_"] {
        for (start, _) in text.match_indices(prefix) {
            let preceded_by_name = text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if preceded_by_name || text[start..].starts_with(PACKAGING_VARIABLE_PREFIX) {
                continue;
            }
            let rest = &text[start + prefix.len()..];
            let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
            let key = rest[..end].trim_end_matches('-');
            // `OCTANE_<KEY>` in prose names no setting.
            if key.is_empty() {
                continue;
            }
            named
                .variables
                .push((normalize_key(key), format!("{origin}: {prefix}{key}")));
        }
    }
}

/// Collects `with:` keys of steps that use the octane-report action and
/// `settings:` keys of Drone and Woodpecker plugin steps.
fn collect_yaml_keys(value: &Value, origin: &str, named: &mut NamedSettings) {
    match value {
        Value::Mapping(mapping) => {
            let uses_action = mapping
                .get("uses")
                .and_then(Value::as_str)
                .is_some_and(|uses| uses.contains("octane-report"));
            if uses_action {
                for key in mapping_keys(mapping.get("with"), origin) {
                    named
                        .action_inputs
                        .push((normalize_key(&key), format!("{origin}: with.{key}")));
                }
            }
            if let Some(settings) = mapping.get("settings") {
                for key in mapping_keys(Some(settings), origin) {
                    named
                        .plugin_settings
                        .push((normalize_key(&key), format!("{origin}: settings.{key}")));
                }
            }
            for child in mapping.values() {
                collect_yaml_keys(child, origin, named);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                collect_yaml_keys(item, origin, named);
            }
        }
        _ => {}
    }
}

fn mapping_keys(value: Option<&Value>, origin: &str) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let mapping: &Mapping = value
        .as_mapping()
        .unwrap_or_else(|| panic!("{origin}: `with` or `settings` is not a mapping: {value:?}"));
    mapping
        .keys()
        .map(|key| {
            key.as_str()
                .unwrap_or_else(|| panic!("{origin}: key {key:?} is not a string"))
                .to_string()
        })
        .collect()
}

fn named_settings(snippets: &[Snippet]) -> NamedSettings {
    let mut named = NamedSettings::default();
    for snippet in snippets {
        collect_variables(&snippet.text, &snippet.origin, &mut named);
        if is_yaml(snippet) {
            collect_yaml_keys(
                &parse_yaml(&snippet.text, &snippet.origin),
                &snippet.origin,
                &mut named,
            );
        }
    }
    named
}

fn unknown_settings(named: &NamedSettings, settings: &BTreeSet<String>) -> Vec<String> {
    named
        .all()
        .filter(|(key, _)| !settings.contains(key))
        .map(|(_, place)| place.clone())
        .collect()
}

fn action() -> Value {
    parse_yaml(&read_repo_file("action.yml"), "action.yml")
}

fn action_mapping_keys(section: &str) -> BTreeSet<String> {
    mapping_keys(action().get(section), "action.yml")
        .into_iter()
        .collect()
}

#[test]
fn help_lists_settings() {
    let settings = settings_from_help();
    assert!(
        settings.len() >= 20,
        "too few settings parsed from --help: {settings:?}"
    );
    for key in ["url", "client_id", "client_secret", "result", "spool_dir"] {
        assert!(
            settings.contains(key),
            "--help does not list {key}: {settings:?}"
        );
    }
    for key in &settings {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "setting key {key:?} is not snake_case"
        );
    }
}

#[test]
fn settings_leave_packaging_prefix_free() {
    let reserved = normalize_key(PACKAGING_VARIABLE_PREFIX.trim_start_matches("OCTANE_"));
    let clashing: Vec<String> = settings_from_help()
        .into_iter()
        .filter(|key| key.starts_with(&reserved))
        .collect();
    assert!(
        clashing.is_empty(),
        "settings clash with {PACKAGING_VARIABLE_PREFIX}*: {clashing:?}"
    );
}

#[test]
fn action_inputs_are_settings() {
    let settings = settings_from_help();
    let inputs = action_mapping_keys("inputs");
    let not_settings: Vec<&String> = inputs.difference(&settings).collect();
    assert!(
        not_settings.is_empty(),
        "action.yml inputs that are not settings: {not_settings:?}"
    );
}

#[test]
fn action_inputs_cover_settings() {
    let settings = settings_from_help();
    let inputs = action_mapping_keys("inputs");
    let missing: Vec<&String> = settings.difference(&inputs).collect();
    assert!(
        missing.is_empty(),
        "settings missing from action.yml inputs: {missing:?}"
    );
}

#[test]
fn action_input_defaults() {
    let action = action();
    let default_of = |input: &str| {
        action["inputs"][input]["default"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(default_of("result").as_deref(), Some("${{ job.status }}"));
    assert_eq!(
        default_of("github_token").as_deref(),
        Some("${{ github.token }}")
    );
    for input in action_mapping_keys("inputs") {
        assert!(
            action["inputs"][input.as_str()]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "action.yml input {input} has no description"
        );
    }
}

#[test]
fn action_declares_outputs() {
    let expected: BTreeSet<String> = [
        "server_id",
        "pipeline_id",
        "build_id",
        "pipeline_url",
        "tests_passed",
        "tests_failed",
        "tests_skipped",
        "spool_dir",
    ]
    .map(String::from)
    .into();
    assert_eq!(action_mapping_keys("outputs"), expected);
}

#[test]
fn action_runs_docker_image() {
    let action = action();
    let runs = &action["runs"];
    assert_eq!(runs["using"].as_str(), Some("docker"));
    let image = runs["image"].as_str().expect("runs.image is missing");
    assert!(
        image == "Dockerfile" || image.starts_with("docker://ghcr.io/"),
        "runs.image is neither the Dockerfile nor a GHCR image: {image}"
    );
    let pre_entrypoint = runs["pre-entrypoint"]
        .as_str()
        .expect("runs.pre-entrypoint is missing");
    assert_eq!(pre_entrypoint, "/usr/local/bin/octane-report-record-start");
}

#[test]
fn dockerfile_links_record_start() {
    let dockerfile = read_repo_file("Dockerfile");
    assert!(
        dockerfile.contains("ln -s octane-report /out/bin/octane-report-record-start"),
        "the source build does not create the record-start symlink"
    );
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/octane-report\"]"));
}

#[test]
fn yaml_files_parse() {
    for file in [GITLAB_TEMPLATE, "action.yml"].into_iter().chain(WORKFLOWS) {
        parse_yaml(&read_repo_file(file), file);
    }
}

#[test]
fn yaml_snippets_parse() {
    let snippets = all_snippets();
    let yaml_count = snippets.iter().filter(|snippet| is_yaml(snippet)).count();
    assert!(yaml_count >= 8, "only {yaml_count} YAML snippets found");
    for snippet in snippets.iter().filter(|snippet| is_yaml(snippet)) {
        parse_yaml(&snippet.text, &snippet.origin);
    }
}

#[test]
fn snippets_name_only_settings() {
    let settings = settings_from_help();
    let named = named_settings(&all_snippets());
    // The checks below would pass on nothing if the extraction broke.
    assert!(
        named.variables.len() >= 5,
        "too few OCTANE_ variables found"
    );
    assert!(
        named.action_inputs.len() >= 3,
        "too few action `with:` keys found"
    );
    assert!(
        named.plugin_settings.len() >= 10,
        "too few plugin `settings:` keys found"
    );
    let unknown = unknown_settings(&named, &settings);
    assert!(
        unknown.is_empty(),
        "snippets name settings that do not exist: {unknown:#?}"
    );
}

#[test]
fn misspelled_setting_is_reported() {
    let settings = settings_from_help();
    let snippet = Snippet {
        origin: "example".to_string(),
        language: "yaml".to_string(),
        text: "steps:\n  - uses: OWNER/octane-report@v1\n    with:\n      client_secrets: x\n  \
               - image: ghcr.io/OWNER/octane-report:1\n    settings:\n      fail-on-errors: true\n  \
               - run: OCTANE_DRYRUN=1 octane-report\n"
            .to_string(),
    };
    let unknown = unknown_settings(&named_settings(&[snippet]), &settings);
    assert_eq!(
        unknown,
        [
            "example: OCTANE_DRYRUN",
            "example: with.client_secrets",
            "example: settings.fail-on-errors"
        ]
    );
}

#[test]
fn gitlab_template_reports_in_post_stage() {
    let template = parse_yaml(&read_repo_file(GITLAB_TEMPLATE), GITLAB_TEMPLATE);
    assert_eq!(template[".octane-report"]["stage"].as_str(), Some(".post"));
    for (job, when, result) in [
        ("octane-report-success", "on_success", "success"),
        ("octane-report-failure", "on_failure", "failure"),
    ] {
        assert_eq!(
            template[job]["extends"].as_str(),
            Some(".octane-report"),
            "{job}: extends"
        );
        assert_eq!(
            template[job]["variables"]["OCTANE_RESULT"].as_str(),
            Some(result),
            "{job}: result"
        );
        let rules = template[job]["rules"].as_sequence().expect("rules");
        assert_eq!(
            rules.last().and_then(|rule| rule["when"].as_str()),
            Some(when),
            "{job}: when"
        );
    }
    let after_script = &template[".octane-report-after-script"]["after_script"];
    assert!(
        after_script
            .as_sequence()
            .is_some_and(|lines| !lines.is_empty())
    );
}

#[test]
fn snippets_pin_crate_version() {
    let version = env!("CARGO_PKG_VERSION");
    let markers = [
        "octane-report:",
        "octane-report@v",
        "releases/download/v",
        "octane-report/v",
        "version=",
        "OCTANE_REPORT_VERSION: \"",
    ];
    let mut pinned = 0;
    for snippet in all_snippets() {
        for marker in markers {
            for (start, _) in snippet.text.match_indices(marker) {
                let rest = &snippet.text[start + marker.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit() && c != '.')
                    .unwrap_or(rest.len());
                let found = rest[..end].trim_end_matches('.');
                if found.is_empty() {
                    continue;
                }
                pinned += 1;
                assert_eq!(
                    found, version,
                    "{}: {marker}{found} is not the crate version",
                    snippet.origin
                );
            }
        }
    }
    assert!(pinned >= 10, "only {pinned} pinned versions found");
}
