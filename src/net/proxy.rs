//! Proxy selection from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.
//!
//! ureq 3.5.2 reads these variables itself, with gaps. It takes the first of `ALL_PROXY`,
//! `HTTPS_PROXY` and `HTTP_PROXY` whatever the target's scheme, and it reads only the process
//! environment, never `--env-file`. Its `NO_PROXY` matching does not trim spaces, knows no
//! ports or address ranges, and skips the subdomains of a bare domain. This module follows
//! curl's rules instead and hands ureq an explicit proxy, or none.
//!
//! Rules: the scheme of the target picks `https_proxy` or `http_proxy` (lower case first, then
//! upper case), with `all_proxy`/`ALL_PROXY` as the fallback. `no_proxy` (or `NO_PROXY`) lists
//! entries separated by commas or spaces: `*` matches every host, a domain matches itself and
//! its subdomains (a leading `.` or `*.` is ignored), an IP address or CIDR range matches the
//! addresses in it, and an entry may end with `:PORT` to match that port only.

use std::net::IpAddr;

use anyhow::{anyhow, bail};
use url::Url;

use crate::env::Env;

/// A proxy chosen for one target, with its address for log lines (credentials removed).
pub(crate) struct ChosenProxy {
    pub(crate) proxy: ureq::Proxy,
    pub(crate) shown: String,
    pub(crate) variable: String,
}

/// The proxy variables of the environment.
#[derive(Debug, Default)]
pub(crate) struct ProxyEnv {
    https: Option<(String, String)>,
    http: Option<(String, String)>,
    all: Option<(String, String)>,
    no_proxy: Vec<String>,
}

impl ProxyEnv {
    pub(crate) fn from_env(env: &Env) -> ProxyEnv {
        let first = |names: [&str; 2]| {
            names.into_iter().find_map(|name| {
                env.get_trimmed(name)
                    .map(|v| (name.to_string(), v.to_string()))
            })
        };
        let no_proxy = first(["no_proxy", "NO_PROXY"])
            .map(|(_, list)| {
                list.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|entry| !entry.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        ProxyEnv {
            https: first(["https_proxy", "HTTPS_PROXY"]),
            http: first(["http_proxy", "HTTP_PROXY"]),
            all: first(["all_proxy", "ALL_PROXY"]),
            no_proxy,
        }
    }

    /// Returns the proxy for requests to `target`, or `None` for a direct connection. Fails
    /// when the proxy variable contains an invalid or unsupported URL.
    pub(crate) fn proxy_for(&self, target: &Url) -> anyhow::Result<Option<ChosenProxy>> {
        let by_scheme = match target.scheme() {
            "https" => &self.https,
            _ => &self.http,
        };
        let Some((variable, value)) = by_scheme.as_ref().or(self.all.as_ref()) else {
            return Ok(None);
        };
        if self.bypasses(target) {
            return Ok(None);
        }
        let shown = without_credentials(value);
        let scheme = value.split_once("://").map_or("http", |(scheme, _)| scheme);
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            bail!(
                "invalid proxy `{shown}` in {variable}: the `{scheme}` scheme is not supported; \
                 use an http:// or https:// proxy"
            );
        }
        check_proxy_address(value).map_err(|reason| {
            anyhow!(
                "invalid proxy `{shown}` in {variable}: {reason}; expected \
                 http://[USER:PASSWORD@]HOST:PORT"
            )
        })?;
        let proxy = ureq::Proxy::new(value).map_err(|e| {
            anyhow!("invalid proxy `{shown}` in {variable}: {e}; expected http://[USER:PASSWORD@]HOST:PORT")
        })?;
        Ok(Some(ChosenProxy {
            proxy,
            shown,
            variable: variable.clone(),
        }))
    }
}

/// Checks the host and port of a proxy URL, which ureq 3.5.2 accepts unchecked. The reason
/// never contains the URL, because the URL may carry a password.
fn check_proxy_address(value: &str) -> Result<(), String> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| e.to_string())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".to_string());
    }
    if url.port() == Some(0) {
        return Err("port 0 is not a valid port (1 to 65535)".to_string());
    }
    Ok(())
}

impl ProxyEnv {
    /// Tells whether a `NO_PROXY` entry matches the target's host and port.
    fn bypasses(&self, target: &Url) -> bool {
        let Some(host) = target.host_str() else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let port = target.port_or_known_default();
        self.no_proxy
            .iter()
            .any(|entry| entry_matches(entry, &host, port))
    }
}

/// Matches one lower-case `NO_PROXY` entry against a lower-case host without brackets.
fn entry_matches(entry: &str, host: &str, port: Option<u16>) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_port(entry);
    if let Some(entry_port) = entry_port
        && Some(entry_port) != port
    {
        return false;
    }
    if let Ok(address) = host.parse::<IpAddr>() {
        return ip_matches(pattern, address);
    }
    let domain = pattern
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim_end_matches('.');
    !domain.is_empty()
        && (host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.')))
}

/// Splits `host:port`, `[v6]:port` and `[v6]`; a bare IPv6 address keeps all its colons.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        let (address, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (
            address,
            after.strip_prefix(':').and_then(|p| p.parse().ok()),
        );
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Matches an address against an address or a CIDR range.
fn ip_matches(pattern: &str, address: IpAddr) -> bool {
    let (network, bits) = match pattern.split_once('/') {
        Some((network, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (network, Some(bits)),
            Err(_) => return false,
        },
        None => (pattern, None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => prefix_equal(
            u128::from(n.to_bits()) << 96,
            u128::from(a.to_bits()) << 96,
            bits.unwrap_or(32),
            32,
        ),
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            prefix_equal(n.to_bits(), a.to_bits(), bits.unwrap_or(128), 128)
        }
        _ => false,
    }
}

/// Compares the top `bits` of two left-aligned addresses of `width` bits.
fn prefix_equal(network: u128, address: u128, bits: u32, width: u32) -> bool {
    if bits > width {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - bits);
    network & mask == address & mask
}

/// Returns a proxy URL for log lines and errors, with any user name and password replaced.
fn without_credentials(value: &str) -> String {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    match Url::parse(&with_scheme) {
        Ok(mut url) => {
            if !url.username().is_empty() || url.password().is_some() {
                let _ = url.set_username("***");
                let _ = url.set_password(None);
            }
            url.to_string().trim_end_matches('/').to_string()
        }
        // Unparsable: show the part after any `@`, which contains no credentials.
        Err(_) => value.rsplit('@').next().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(pairs: &[(&str, &str)], target: &str) -> Option<String> {
        let proxies = ProxyEnv::from_env(&Env::from_pairs(pairs.iter().copied()));
        proxies
            .proxy_for(&Url::parse(target).unwrap())
            .unwrap()
            .map(|p| format!("{} {}", p.variable, p.shown))
    }

    #[test]
    fn scheme_picks_variable() {
        let env = [
            ("HTTPS_PROXY", "http://secure:3128"),
            ("http_proxy", "http://plain:3128"),
            ("ALL_PROXY", "http://any:3128"),
        ];

        assert_eq!(
            chosen(&env, "https://octane.example.com/"),
            Some("HTTPS_PROXY http://secure:3128".into())
        );
        assert_eq!(
            chosen(&env, "http://octane.example.com/"),
            Some("http_proxy http://plain:3128".into())
        );
        assert_eq!(
            chosen(
                &[("ALL_PROXY", "http://any:3128")],
                "https://o.example.com/"
            ),
            Some("ALL_PROXY http://any:3128".into())
        );
        assert_eq!(chosen(&[], "https://o.example.com/"), None);
    }

    #[test]
    fn lower_case_wins_and_empty_is_unset() {
        let env = [
            ("https_proxy", ""),
            ("HTTPS_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
            ("HTTP_PROXY", "http://upper:2"),
        ];

        assert_eq!(
            chosen(&env, "https://h.example.com/"),
            Some("HTTPS_PROXY http://upper:1".into())
        );
        assert_eq!(
            chosen(&env, "http://h.example.com/"),
            Some("http_proxy http://lower:2".into())
        );
    }

    #[test]
    fn credentials_are_kept_but_not_shown() {
        let proxies = ProxyEnv::from_env(&Env::from_pairs([(
            "HTTPS_PROXY",
            "http://ci%40corp:p%3Ass@proxy.corp:8080",
        )]));

        let chosen = proxies
            .proxy_for(&Url::parse("https://o.example.com/").unwrap())
            .unwrap()
            .unwrap();

        assert_eq!(chosen.proxy.username(), Some("ci@corp"));
        assert_eq!(chosen.proxy.password(), Some("p:ss"));
        assert_eq!(chosen.shown, "http://***@proxy.corp:8080");
    }

    #[test]
    fn no_proxy_entries() {
        let cases = [
            ("*", "https://any.example.com/", true),
            ("example.com", "https://example.com/", true),
            ("example.com", "https://octane.example.com/", true),
            ("example.com", "https://badexample.com/", false),
            (".example.com", "https://octane.example.com/", true),
            ("*.example.com", "https://octane.example.com/", true),
            ("EXAMPLE.com", "https://Octane.Example.COM./", true),
            ("localhost, 127.0.0.1", "http://127.0.0.1:8080/", true),
            ("10.0.0.0/8", "https://10.1.2.3/", true),
            ("10.0.0.0/8", "https://11.1.2.3/", false),
            ("::1", "https://[::1]:8443/", true),
            ("[::1]:8443", "https://[::1]:8443/", true),
            ("fd00::/8", "https://[fd12::1]/", true),
            ("example.com:8443", "https://example.com:8443/", true),
            ("example.com:8443", "https://example.com/", false),
            ("other.org", "https://example.com/", false),
            ("10.0.0.0/99", "https://10.1.2.3/", false),
        ];
        for (list, target, bypassed) in cases {
            let env = [
                ("HTTPS_PROXY", "http://p:1"),
                ("HTTP_PROXY", "http://p:1"),
                ("NO_PROXY", list),
            ];

            let result = chosen(&env, target);

            assert_eq!(result.is_none(), bypassed, "NO_PROXY={list:?} {target}");
        }
    }

    #[test]
    fn unsupported_and_invalid_proxies() {
        let proxies = ProxyEnv::from_env(&Env::from_pairs([(
            "HTTPS_PROXY",
            "socks5://user:secret@p:1080",
        )]));
        let error = proxies
            .proxy_for(&Url::parse("https://o.example.com/").unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("`socks5` scheme is not supported"),
            "{error}"
        );
        assert!(!error.contains("secret"), "{error}");

        let proxies = ProxyEnv::from_env(&Env::from_pairs([("HTTPS_PROXY", "http://[bad")]));
        let error = proxies
            .proxy_for(&Url::parse("https://o.example.com/").unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("invalid proxy"), "{error}");
        assert!(error.contains("HTTPS_PROXY"), "{error}");
    }

    #[test]
    fn bad_proxy_host_or_port_is_invalid() {
        for value in [
            "http://user:pa55word@127.0.0.1:99999",
            "http://127.0.0.1:99999",
            "http://user:pa55word@127.0.0.1:abc",
            "http://user:pa55word@:18300",
            "http://127.0.0.1:0",
        ] {
            let proxies = ProxyEnv::from_env(&Env::from_pairs([("HTTPS_PROXY", value)]));

            let error = proxies
                .proxy_for(&Url::parse("https://o.example.com/").unwrap())
                .err()
                .map(|e| e.to_string());

            let error = error.unwrap_or_else(|| panic!("{value} was accepted"));
            assert!(error.contains("invalid proxy"), "{value}: {error}");
            assert!(error.contains("HTTPS_PROXY"), "{value}: {error}");
            assert!(!error.contains("pa55word"), "{value}: {error}");
        }
    }
}
