//! The environment the tool reads: process variables, optionally overlaid by a dotenv file.
//!
//! `Env::from_process` is the only place that reads the process environment. Everything else
//! takes an `Env`, so tests build one from pairs instead of changing the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};

/// Largest `--env-file` accepted. Real dotenv files are a few kilobytes.
const MAX_ENV_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A snapshot of environment variables.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    vars: BTreeMap<String, String>,
    /// Names whose values were not valid UTF-8; reading one of them as a setting is an error.
    non_utf8: BTreeSet<String>,
}

impl Env {
    /// Reads every variable of the current process.
    pub(crate) fn from_process() -> Env {
        let mut env = Env::default();
        for (name, value) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            match value.into_string() {
                Ok(value) => {
                    env.vars.insert(name, value);
                }
                Err(_) => {
                    env.non_utf8.insert(name);
                }
            }
        }
        env
    }

    /// Builds an environment from name and value pairs.
    #[cfg(test)]
    pub(crate) fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Env {
            vars,
            non_utf8: BTreeSet::new(),
        }
    }

    /// Reads a dotenv file; its variables replace those of the same name. Values are taken
    /// literally: `$NAME` is not expanded, so a secret containing `$` arrives unchanged.
    pub(crate) fn overlay_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let shown = path.display();
        let metadata =
            std::fs::metadata(path).with_context(|| format!("cannot read env file `{shown}`"))?;
        // A pipe or a device has no size to check and may never end.
        if !metadata.is_file() {
            bail!("env file `{shown}` is not a regular file");
        }
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|file| file.take(MAX_ENV_FILE_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read env file `{shown}`"))?;
        if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
            bail!("env file `{shown}` is larger than the {MAX_ENV_FILE_BYTES}-byte limit");
        }
        let Ok(text) = String::from_utf8(bytes) else {
            bail!("env file `{shown}` is not valid UTF-8");
        };
        for (name, value) in
            parse_dotenv(&text).with_context(|| format!("invalid env file `{shown}`"))?
        {
            self.non_utf8.remove(&name);
            self.vars.insert(name, value);
        }
        Ok(())
    }

    /// Sets one variable.
    #[cfg(test)]
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
    }

    /// Returns the value of `name`, or `None` when it is unset or empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Returns the trimmed value of `name`, or `None` when it is unset or blank.
    pub(crate) fn get_trimmed(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Tells whether `name` is set to a value that is not valid UTF-8.
    pub(crate) fn is_non_utf8(&self, name: &str) -> bool {
        self.non_utf8.contains(name)
    }
}

/// Parses dotenv text: `NAME=value` lines, an optional `export ` prefix, `#` comments, values
/// in single quotes (literal), double quotes (with `\\n`, `\\"` and `\\\\` escapes, and line
/// breaks) or bare (up to a ` #` comment). Errors give the line number, never the line, which
/// may contain a secret.
fn parse_dotenv(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((name, rest)) = line.split_once('=') else {
            bail!("line {number}: expected NAME=value");
        };
        let name = name.trim_end();
        let valid_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_name {
            bail!("line {number}: invalid variable name");
        }
        let rest = rest.trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('\'') {
            match quoted.split_once('\'') {
                Some((value, _)) => value.to_string(),
                None => bail!("line {number}: missing closing single quote"),
            }
        } else if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut current = quoted.to_string();
            while !unescape_until_quote(&current, &mut value) {
                match lines.next() {
                    Some((_, next)) => {
                        value.push('\n');
                        current = next.to_string();
                    }
                    None => bail!("line {number}: missing closing double quote"),
                }
            }
            value
        } else {
            let end = rest.find(" #").unwrap_or(rest.len());
            rest[..end].trim_end().to_string()
        };
        pairs.push((name.to_string(), value));
    }
    Ok(pairs)
}

/// Appends `text` to `value` up to an unescaped `"`, resolving escapes. Returns false when the
/// line ends before the closing quote.
fn unescape_until_quote(text: &str, value: &mut String) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return true,
            '\\' => match chars.next() {
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                Some('t') => value.push('\t'),
                Some(other) => value.push(other),
                None => value.push('\\'),
            },
            other => value.push(other),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_value_is_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")]);

        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
        assert_eq!(env.get("C"), None);
    }

    #[test]
    fn env_file_overrides_process_values() {
        let dir = std::env::temp_dir().join(format!("octane-report-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ci.env");
        std::fs::write(&path, "# comment\nA=from-file\nexport B=\"quoted value\"\n").unwrap();
        let mut env = Env::from_pairs([("A", "from-process"), ("C", "kept")]);

        env.overlay_file(&path).unwrap();

        assert_eq!(env.get("A"), Some("from-file"));
        assert_eq!(env.get("B"), Some("quoted value"));
        assert_eq!(env.get("C"), Some("kept"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dotenv_forms() {
        let text = "A=plain # comment\nexport B='single $X \\n'\nC=\"double \\\"q\\\" \\n end\"\n\
                    D=\"two\nlines\"\nE=\nF=a$b#c\n  # indented comment\n";

        let pairs = parse_dotenv(text).unwrap();

        assert_eq!(
            pairs,
            [
                ("A".to_string(), "plain".to_string()),
                ("B".to_string(), "single $X \\n".to_string()),
                ("C".to_string(), "double \"q\" \n end".to_string()),
                ("D".to_string(), "two\nlines".to_string()),
                ("E".to_string(), String::new()),
                ("F".to_string(), "a$b#c".to_string()),
            ]
        );
    }

    #[test]
    fn dotenv_errors_name_line_not_content() {
        for (text, expected) in [
            ("A=1\nSECRET value-hunter2\n", "line 2"),
            ("1A=x\n", "line 1"),
            ("A='open\n", "line 1"),
            ("A=\"open\n", "line 1"),
        ] {
            let message = format!("{:#}", parse_dotenv(text).unwrap_err());
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn env_file_must_be_regular() {
        let mut env = Env::default();

        let message = format!(
            "{:#}",
            env.overlay_file(Path::new("/dev/zero")).unwrap_err()
        );

        assert!(message.contains("not a regular file"), "{message}");
    }

    #[test]
    fn missing_env_file_names_path() {
        let mut env = Env::default();

        let err = env
            .overlay_file(Path::new("/nonexistent/ci.env"))
            .unwrap_err();

        assert!(
            format!("{err:#}").contains("/nonexistent/ci.env"),
            "{err:#}"
        );
    }
}
