//! CI outputs: GitHub step outputs (`GITHUB_OUTPUT`) and the job summary (`GITHUB_STEP_SUMMARY`).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::env::Env;

/// The GitHub file commands this step may write; empty outside GitHub Actions.
#[derive(Debug, Default)]
pub(crate) struct GitHubFiles {
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
}

impl GitHubFiles {
    pub(crate) fn from_env(env: &Env) -> GitHubFiles {
        GitHubFiles {
            output: env.get_trimmed("GITHUB_OUTPUT").map(PathBuf::from),
            summary: env.get_trimmed("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        }
    }

    /// Appends `name=value` pairs to `GITHUB_OUTPUT`. A value with a line break uses the
    /// heredoc form with a delimiter that the value does not contain.
    pub(crate) fn set_outputs(&self, pairs: &[(&str, String)]) -> anyhow::Result<()> {
        let Some(path) = &self.output else {
            return Ok(());
        };
        let mut text = String::new();
        for (name, value) in pairs {
            if value.contains(['\n', '\r']) {
                let delimiter = delimiter_for(value);
                text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
            } else {
                text.push_str(&format!("{name}={value}\n"));
            }
        }
        append(path, &text).context("cannot write step outputs to GITHUB_OUTPUT")
    }

    /// Appends Markdown to the job summary.
    pub(crate) fn add_summary(&self, markdown: &str) -> anyhow::Result<()> {
        let Some(path) = &self.summary else {
            return Ok(());
        };
        append(path, markdown).context("cannot write the job summary to GITHUB_STEP_SUMMARY")
    }
}

fn append(path: &PathBuf, text: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open `{}`", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn delimiter_for(value: &str) -> String {
    let mut n = 0u32;
    loop {
        let delimiter = format!("OCTANE_REPORT_EOF_{n}");
        if !value.contains(&delimiter) {
            return delimiter;
        }
        n += 1;
    }
}

/// Escapes text for a Markdown table cell: table and link syntax, emphasis, code and HTML
/// are shown as typed, and line breaks become spaces.
pub(crate) fn markdown_cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => escaped.push(' '),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\\' | '|' | '[' | ']' | '(' | ')' | '*' | '_' | '`' | '!' | '#' => {
                escaped.push('\\');
                escaped.push(c);
            }
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_single_and_multiline() {
        let dir = std::env::temp_dir().join(format!("octane-report-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("output");
        let env = Env::from_pairs([("GITHUB_OUTPUT", path.to_str().unwrap())]);
        let files = GitHubFiles::from_env(&env);

        files
            .set_outputs(&[
                ("build_id", "42-1".to_string()),
                ("note", "a\nOCTANE_REPORT_EOF_0".to_string()),
            ])
            .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "build_id=42-1\nnote<<OCTANE_REPORT_EOF_1\na\nOCTANE_REPORT_EOF_0\nOCTANE_REPORT_EOF_1\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn markdown_cell_escapes_table_syntax() {
        assert_eq!(markdown_cell("a|b\nc<d"), "a\\|b c&lt;d");
        assert_eq!(
            markdown_cell("[x](javascript:1)"),
            "\\[x\\]\\(javascript:1\\)"
        );
    }
}
