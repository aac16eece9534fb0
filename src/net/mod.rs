//! The HTTP client setup shared by every request: proxy, trusted CAs, timeouts, user agent.

mod proxy;
mod tls;

use std::time::Duration;

use anyhow::Context;
use ureq::tls::{RootCerts, TlsConfig};
use url::Url;

pub(crate) use tls::describe_failure as describe_tls_failure;

use crate::env::Env;
use crate::log::Log;
use crate::octane::USER_AGENT;
use crate::settings::Settings;
use proxy::ProxyEnv;

/// Proxy variables and trusted CAs, read once per run.
pub(crate) struct Network {
    proxies: ProxyEnv,
    roots: RootCerts,
}

impl Network {
    /// Reads the proxy variables, `ca_file` and `SSL_CERT_FILE`. Fails on an invalid
    /// `ca_file`.
    pub(crate) fn from_env(env: &Env, settings: &Settings, log: &Log) -> anyhow::Result<Network> {
        let roots = tls::root_certs(
            settings.ca_file.as_deref(),
            env.get_trimmed("SSL_CERT_FILE"),
            log,
        )?;
        Ok(Network {
            proxies: ProxyEnv::from_env(env),
            roots,
        })
    }

    /// Builds an HTTP agent for requests to `url`, through the proxy that the proxy variables
    /// choose for it. Redirects are not followed: a redirect to a sign-in page must not
    /// receive the session cookie.
    pub(crate) fn agent_for(&self, url: &str, log: &Log) -> anyhow::Result<ureq::Agent> {
        let parsed = Url::parse(url).with_context(|| format!("invalid URL `{url}`"))?;
        let proxy = self.proxies.proxy_for(&parsed)?;
        if let Some(chosen) = &proxy {
            log.info(&format!(
                "connecting to {} through the proxy {} (from {})",
                parsed.host_str().unwrap_or_default(),
                chosen.shown,
                chosen.variable
            ));
        }
        let tls = TlsConfig::builder().root_certs(self.roots.clone()).build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(USER_AGENT)
            .timeout_connect(Some(Duration::from_secs(15)))
            .proxy(proxy.map(|chosen| chosen.proxy))
            .tls_config(tls)
            .build()
            .new_agent();
        Ok(agent)
    }
}
