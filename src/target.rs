//! The Octane address: server URL, shared space and workspace.
//!
//! Users paste either the server URL (`https://host[/context]`) or the browser URL
//! `https://host[/context]/ui/?p=SHARED_SPACE/WORKSPACE`. Both keep the context path.

use anyhow::{Context, bail};
use url::Url;

use crate::settings::invalid;

/// The Octane server and workspace that receive the reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Server URL with any context path and no trailing slash, e.g. `https://host/octane`.
    pub(crate) base: String,
    pub(crate) shared_space: String,
    pub(crate) workspace: String,
    /// True for `http://`: allowed for local and on-premises servers, with a warning.
    pub(crate) plain_http: bool,
}

impl Target {
    /// `{base}/api/shared_spaces/{shared_space}/workspaces/{workspace}`.
    pub(crate) fn api(&self) -> String {
        format!(
            "{}/api/shared_spaces/{}/workspaces/{}",
            self.base, self.shared_space, self.workspace
        )
    }

    /// Host (and port) of the server, for log lines.
    pub(crate) fn host(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

const URL_FORMS: &str =
    "https://HOST[/CONTEXT] or the browser URL https://HOST[/CONTEXT]/ui/?p=SHARED_SPACE/WORKSPACE";

/// Parses the `url` setting and fills the ids from it unless `shared_space` or `workspace` is set.
pub(crate) fn parse_target(
    url: &str,
    shared_space: Option<&str>,
    workspace: Option<&str>,
) -> anyhow::Result<Target> {
    let parsed = match Url::parse(url.trim()) {
        Ok(parsed) => parsed,
        // A value with `@` may carry a password, so it is not echoed.
        Err(e) if url.contains('@') => bail!("invalid `url`: {e}; expected {URL_FORMS}"),
        Err(e) => return Err(invalid("url", url, URL_FORMS, &e.to_string())),
    };
    let plain_http = match parsed.scheme() {
        "https" => false,
        "http" => true,
        other => {
            return Err(invalid(
                "url",
                url,
                URL_FORMS,
                &format!("unsupported scheme `{other}`"),
            ));
        }
    };
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url", url, URL_FORMS, "no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // The value is not echoed because it contains credentials.
        bail!(
            "invalid `url`: it contains a user name or password; remove them and set \
             `client_id` and `client_secret` instead"
        );
    }

    let path = parsed.path();
    let (context, from_query) = match find_ui_segment(path) {
        Some(index) => {
            let ids = parsed
                .query_pairs()
                .find(|(k, _)| k == "p")
                .map(|(_, v)| v.into_owned());
            if let Some(ids) = &ids
                && !ids.contains('/')
                && ids.contains([':', ',', ';'])
            {
                return Err(invalid(
                    "url",
                    url,
                    URL_FORMS,
                    "`p=` must be SHARED_SPACE/WORKSPACE, with a slash",
                ));
            }
            let Some(ids) = ids else {
                return Err(invalid(
                    "url",
                    url,
                    URL_FORMS,
                    "the browser URL has no `p=` parameter",
                ));
            };
            (&path[..index], Some(ids))
        }
        None => (path, None),
    };

    let mut base = format!(
        "{}://{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default()
    );
    if let Some(port) = parsed.port() {
        base.push_str(&format!(":{port}"));
    }
    base.push_str(context.trim_end_matches('/'));

    let (query_space, query_workspace) = match &from_query {
        Some(ids) => {
            let mut parts = ids.splitn(2, '/');
            let space = parts.next().map(str::trim).filter(|s| !s.is_empty());
            let ws = parts
                .next()
                .map(|s| s.trim().trim_end_matches('/'))
                .filter(|s| !s.is_empty());
            (space, ws)
        }
        None => (None, None),
    };
    let shared_space = shared_space.or(query_space).context(
        "missing `shared_space`: set it, or use the browser URL \
         https://HOST/ui/?p=SHARED_SPACE/WORKSPACE as `url`",
    )?;
    let workspace = workspace.or(query_workspace).context(
        "missing `workspace`: set it, or use the browser URL \
         https://HOST/ui/?p=SHARED_SPACE/WORKSPACE as `url`",
    )?;
    check_id("shared_space", shared_space)?;
    check_id("workspace", workspace)?;

    Ok(Target {
        base,
        shared_space: shared_space.to_string(),
        workspace: workspace.to_string(),
        plain_http,
    })
}

/// Returns the byte offset of the first `/ui` path segment.
fn find_ui_segment(path: &str) -> Option<usize> {
    let mut offset: usize = 0;
    for segment in path.split('/') {
        if segment == "ui" {
            return Some(offset.saturating_sub(1));
        }
        offset += segment.len() + 1;
    }
    None
}

pub(crate) fn check_id(key: &str, value: &str) -> anyhow::Result<()> {
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(key, value, "digits, e.g. 1001", "not a number"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_url_keeps_context_path() {
        let target = parse_target(
            "https://octane.example.com:8443/qa/ui/?p=1001/1002#/dashboard",
            None,
            None,
        )
        .unwrap();

        assert_eq!(target.base, "https://octane.example.com:8443/qa");
        assert_eq!(target.shared_space, "1001");
        assert_eq!(target.workspace, "1002");
        assert!(!target.plain_http);
        assert_eq!(
            target.api(),
            "https://octane.example.com:8443/qa/api/shared_spaces/1001/workspaces/1002"
        );
    }

    #[test]
    fn browser_url_without_trailing_slash() {
        let target = parse_target("https://host/ui?p=7/8", None, None).unwrap();

        assert_eq!(target.base, "https://host");
        assert_eq!(
            (target.shared_space.as_str(), target.workspace.as_str()),
            ("7", "8")
        );
    }

    #[test]
    fn server_url_with_ids_from_settings() {
        let target = parse_target("http://127.0.0.1:9000/", Some("1001"), Some("1002")).unwrap();

        assert_eq!(target.base, "http://127.0.0.1:9000");
        assert!(target.plain_http);
        assert_eq!(target.host(), "127.0.0.1:9000");
    }

    #[test]
    fn settings_override_ids_from_url() {
        let target = parse_target("https://host/ui/?p=1/2", Some("3"), None).unwrap();

        assert_eq!(
            (target.shared_space.as_str(), target.workspace.as_str()),
            ("3", "2")
        );
    }

    #[test]
    fn workspace_missing_is_error() {
        let err = parse_target("https://host/ui/?p=1001", None, None).unwrap_err();

        assert!(
            format!("{err:#}").contains("missing `workspace`"),
            "{err:#}"
        );
    }

    #[test]
    fn rejected_urls_name_setting() {
        for url in [
            "ftp://host/",
            "not a url",
            "https://",
            "https://host/ui/?q=1",
            "https://host/ui/?p=1001:1002",
        ] {
            let err = parse_target(url, None, None).unwrap_err();
            let message = format!("{err:#}");
            assert!(message.contains("invalid `url`"), "{url}: {message}");
        }
    }

    #[test]
    fn credentials_in_url_are_not_echoed() {
        let err = parse_target("https://me:hunter2@host/ui/?p=1/2", None, None).unwrap_err();

        let message = format!("{err:#}");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("client_secret"), "{message}");
    }

    #[test]
    fn unparsable_url_with_password_not_echoed() {
        let err = parse_target("https://me:hunter2@host:99999/ui/?p=1/2", None, None).unwrap_err();

        let message = format!("{err:#}");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("invalid `url`"), "{message}");
    }

    #[test]
    fn non_numeric_workspace_is_error() {
        let err = parse_target("https://host/ui/?p=1001/abc", None, None).unwrap_err();

        assert!(
            format!("{err:#}").contains("invalid `workspace` value `abc`"),
            "{err:#}"
        );
    }
}
