//! The environment the tool reads: process variables, optionally overlaid by a dotenv file.
//!
//! `Env::from_process` is the only place that reads the process environment. Everything else
//! takes an `Env`, so tests build one from pairs instead of changing the process environment.

use std::collections::{BTreeMap, BTreeSet};
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

    /// Reads a dotenv file; its variables replace those of the same name.
    pub(crate) fn overlay_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read env file `{}`", path.display()))?
            .len();
        if size > MAX_ENV_FILE_BYTES {
            bail!(
                "env file `{}` is {size} bytes, more than the {MAX_ENV_FILE_BYTES}-byte limit",
                path.display()
            );
        }
        let entries = dotenvy::from_path_iter(path)
            .with_context(|| format!("cannot read env file `{}`", path.display()))?;
        for entry in entries {
            let (name, value) =
                entry.with_context(|| format!("invalid line in env file `{}`", path.display()))?;
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
