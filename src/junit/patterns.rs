//! Expansion of the `test_results` glob patterns into report files.
//!
//! Patterns are separated by commas or newlines and are relative to the
//! workspace unless absolute. Syntax is that of the `glob` crate: `*`, `?`,
//! `[...]` and `**` for any number of folders. Only regular files count;
//! a pattern that matches no file is returned by name so the caller can
//! report it.

use std::path::Path;

use anyhow::{Context, bail};

use super::Expansion;

/// Expands `patterns` against `base`; files come back sorted and without
/// duplicates.
pub(crate) fn expand_patterns(patterns: &str, base: &Path) -> anyhow::Result<Expansion> {
    let mut files = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in patterns
        .split([',', '\n'])
        .map(str::trim)
        .filter(|pattern| !pattern.is_empty())
    {
        let full = absolute_pattern(pattern, base)?;
        let entries = glob::glob(&full)
            .with_context(|| format!("invalid test results pattern `{pattern}`"))?;
        let before = files.len();
        // Unreadable folders are skipped like non-matching ones.
        files.extend(entries.filter_map(Result::ok).filter(|path| path.is_file()));
        if files.len() == before {
            unmatched.push(pattern.to_string());
        }
    }
    files.sort();
    files.dedup();
    Ok(Expansion { files, unmatched })
}

/// Joins a relative pattern to `base`, escaping glob characters in `base`.
fn absolute_pattern(pattern: &str, base: &Path) -> anyhow::Result<String> {
    if Path::new(pattern).is_absolute() {
        return Ok(pattern.to_string());
    }
    let Some(base) = base.to_str() else {
        bail!(
            "workspace path `{}` is not valid UTF-8, so patterns cannot be joined to it",
            base.display()
        );
    };
    let escaped = glob::Pattern::escape(base.trim_end_matches('/'));
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    Ok(format!("{escaped}/{pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("patterns[1]")
            .tempdir()
            .expect("temp dir");
        for file in [
            "a/TEST-one.xml",
            "a/b/TEST-two.xml",
            "c/report.xml",
            "c/notes.txt",
        ] {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
            fs::write(&path, "<testsuite/>").expect("write file");
        }
        fs::create_dir_all(dir.path().join("dir.xml")).expect("create folder");
        dir
    }

    #[test]
    fn comma_and_newline_separated() {
        let dir = workspace();
        let expansion = expand_patterns("a/**/*.xml, c/*.xml\n\n missing/*.xml", dir.path())
            .expect("valid patterns");
        let names: Vec<_> = expansion
            .files
            .iter()
            .map(|file| file.strip_prefix(dir.path()).expect("inside base"))
            .collect();
        assert_eq!(
            names,
            [
                Path::new("a/TEST-one.xml"),
                Path::new("a/b/TEST-two.xml"),
                Path::new("c/report.xml")
            ]
        );
        assert_eq!(expansion.unmatched, ["missing/*.xml"]);
    }

    #[test]
    fn duplicates_removed_and_folders_skipped() {
        let dir = workspace();
        let expansion =
            expand_patterns("./c/report.xml,c/*.xml,*.xml", dir.path()).expect("valid patterns");
        assert_eq!(expansion.files, [dir.path().join("c/report.xml")]);
        assert_eq!(expansion.unmatched, ["*.xml"]);
    }

    #[test]
    fn absolute_pattern_kept() {
        let dir = workspace();
        let escaped = glob::Pattern::escape(dir.path().to_str().expect("UTF-8 temp path"));
        let absolute = format!("{escaped}/c/*.xml");
        let expansion =
            expand_patterns(&absolute, Path::new("/nonexistent")).expect("valid pattern");
        assert_eq!(expansion.files.len(), 1);
    }

    #[test]
    fn invalid_pattern_named() {
        let error = expand_patterns("a/[.xml", Path::new("/tmp")).expect_err("pattern is invalid");
        assert!(error.to_string().contains("`a/[.xml`"), "{error}");
    }
}
