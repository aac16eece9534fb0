//! Expansion of the `test_results` glob patterns into report files.
//!
//! Patterns are separated by commas or newlines and are relative to the
//! workspace unless absolute. Syntax is that of the `glob` crate: `*`, `?`,
//! `[...]` and `**` for any number of folders. Only regular files count;
//! a pattern that matches no file is returned by name so the caller can
//! report it.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use glob::{MatchOptions, Pattern};
use walkdir::WalkDir;

use super::Expansion;

/// Maximum number of folder entries one pattern may visit. A pattern such as `/**` would
/// otherwise walk the whole file system.
const MAX_VISITED: usize = 200_000;

/// `*` and `?` stop at `/`; only `**` crosses folders.
const MATCH_OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// Expands `patterns` against `base`; files come back sorted and without duplicates, also when
/// two paths name the same file. Symbolic links to files count; links to folders are not
/// followed, so a link loop cannot repeat or hang the walk.
pub fn expand_patterns(patterns: &str, base: &Path) -> anyhow::Result<Expansion> {
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    let mut unmatched = Vec::new();
    for pattern in patterns
        .split([',', '\n'])
        .map(str::trim)
        .filter(|pattern| !pattern.is_empty())
    {
        let full = absolute_pattern(pattern, base)?;
        let matcher = Pattern::new(&full)
            .with_context(|| format!("invalid test results pattern `{pattern}`"))?;
        let mut matched = false;
        for path in walk_matches(&full, &matcher, pattern)? {
            matched = true;
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.insert(key) {
                files.push(path);
            }
        }
        if !matched {
            unmatched.push(pattern.to_string());
        }
    }
    files.sort();
    Ok(Expansion { files, unmatched })
}

/// Walks from the pattern's literal folder prefix and returns the regular files that match.
fn walk_matches(full: &str, matcher: &Pattern, pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let (root, rest) = split_literal_prefix(full);
    if rest.is_empty() {
        // No wildcard: the pattern names one file.
        let path = PathBuf::from(full);
        return Ok(if path.is_file() {
            vec![path]
        } else {
            Vec::new()
        });
    }
    let max_depth = if rest.iter().any(|c| c.contains("**")) {
        usize::MAX
    } else {
        rest.len()
    };
    let mut found = Vec::new();
    let mut visited = 0usize;
    // Unreadable folders are skipped like non-matching ones.
    for entry in WalkDir::new(&root)
        .follow_links(false)
        .max_depth(max_depth)
        .into_iter()
        .flatten()
    {
        visited += 1;
        if visited > MAX_VISITED {
            bail!(
                "test results pattern `{pattern}` visits more than {MAX_VISITED} files and \
                 folders; make it narrower"
            );
        }
        let path = entry.path();
        if path
            .to_str()
            .is_some_and(|p| matcher.matches_with(p, MATCH_OPTIONS))
            && path.is_file()
        {
            found.push(path.to_path_buf());
        }
    }
    Ok(found)
}

/// Splits an absolute pattern into the folder before the first wildcard component and the
/// remaining components.
fn split_literal_prefix(full: &str) -> (PathBuf, Vec<String>) {
    let mut root = PathBuf::from("/");
    let mut components = Path::new(full)
        .components()
        .filter(|c| !matches!(c, Component::RootDir));
    let mut rest = Vec::new();
    for component in components.by_ref() {
        let text = component.as_os_str().to_string_lossy().into_owned();
        if text.contains(['*', '?', '[']) {
            rest.push(text);
            break;
        }
        root.push(unescape(&text));
    }
    rest.extend(components.map(|c| c.as_os_str().to_string_lossy().into_owned()));
    (root, rest)
}

/// Undoes `Pattern::escape` on a literal component (`[*]` back to `*`).
fn unescape(text: &str) -> String {
    text.replace("[[]", "[")
        .replace("[]]", "]")
        .replace("[*]", "*")
        .replace("[?]", "?")
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
    let escaped = Pattern::escape(base.trim_end_matches('/'));
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
    fn symlink_loop_is_not_followed() {
        let dir = workspace();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("c/report.xml"), dir.path().join("link.xml"))
            .expect("symlink");

        let expansion = expand_patterns("**/*.xml", dir.path()).expect("valid pattern");

        assert_eq!(expansion.files.len(), 3, "{:?}", expansion.files);
        assert!(
            expansion
                .files
                .iter()
                .all(|f| !f.to_string_lossy().contains("loop"))
        );
    }

    #[test]
    fn star_stays_in_one_folder() {
        let dir = workspace();

        let expansion = expand_patterns("a/*.xml", dir.path()).expect("valid pattern");

        assert_eq!(expansion.files, [dir.path().join("a/TEST-one.xml")]);
    }

    #[test]
    fn invalid_pattern_named() {
        let error = expand_patterns("a/[.xml", Path::new("/tmp")).expect_err("pattern is invalid");
        assert!(error.to_string().contains("`a/[.xml`"), "{error}");
    }
}
