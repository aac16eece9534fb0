//! A signed-in Octane session: cookies, the one re-login on 401, timeouts and error bodies.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::json;
use ureq::http::{Method, Request, header};

use super::error::OctaneError;
use crate::settings::Secret;
use crate::target::Target;

/// Longest time one request may take; the overall deadline may cut it shorter.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest response body read; Octane's JSON answers here are a few kilobytes.
const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

pub(crate) const USER_AGENT: &str = concat!("octane-report/", env!("CARGO_PKG_VERSION"));

/// Builds the HTTP agent shared by every request. Redirects are not followed: a redirect to a
/// sign-in page must not receive the session cookie.
pub(crate) fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(USER_AGENT)
        .timeout_connect(Some(Duration::from_secs(15)))
        .build()
        .new_agent()
}

/// A request body.
pub(crate) enum Body<'a> {
    Empty,
    Json(&'a serde_json::Value),
    /// An XML document read from a file, so large payloads never sit in memory.
    XmlFile(&'a Path),
}

/// Status and body of a response.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
}

/// Session cookies, replaced whenever a response sets new values.
#[derive(Default)]
struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    fn update(&mut self, headers: &ureq::http::HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim().trim_matches('"'));
            let expired = parts.any(|attribute| {
                let attribute = attribute.trim().to_ascii_lowercase();
                attribute == "max-age=0" || attribute.starts_with("max-age=-")
            });
            self.cookies.retain(|(n, _)| n != name);
            if !expired && !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        Some(pairs.join("; "))
    }
}

/// A session with one Octane server, for one invocation.
pub(crate) struct Session {
    agent: ureq::Agent,
    base: String,
    client_id: String,
    client_secret: Secret,
    cookies: CookieJar,
    deadline: Instant,
}

impl Session {
    pub(crate) fn new(
        agent: ureq::Agent,
        target: &Target,
        client_id: &str,
        client_secret: &Secret,
        timeout: Duration,
    ) -> Session {
        Session {
            agent,
            base: target.base.clone(),
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
            cookies: CookieJar::default(),
            deadline: Instant::now() + timeout,
        }
    }

    /// Signs in with the API access key. Old cookies are dropped first: a sign-in that carries
    /// a still-valid session cookie may be refused.
    pub(crate) fn sign_in(&mut self) -> anyhow::Result<()> {
        self.cookies = CookieJar::default();
        let url = format!("{}/authentication/sign_in", self.base);
        let body =
            json!({"client_id": self.client_id, "client_secret": self.client_secret.expose()});
        let reply = self.send_once(Method::POST, &url, &Body::Json(&body))?;
        match reply.status {
            200..=299 => Ok(()),
            401 | 403 => Err(anyhow!(self.error(&Method::POST, &url, &reply)))
                .context("sign-in rejected: check `client_id` and `client_secret`, and that the API key has the CI/CD Integration role in this workspace"),
            _ => Err(anyhow!(self.error(&Method::POST, &url, &reply))).context("sign-in failed"),
        }
    }

    /// Sends a request; on 401 signs in again once and repeats the request once.
    pub(crate) fn send(&mut self, method: Method, url: &str, body: &Body) -> anyhow::Result<Reply> {
        let reply = self.send_once(method.clone(), url, body)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        self.sign_in()
            .context("the session expired and signing in again failed")?;
        self.send_once(method, url, body)
    }

    /// Sends a request and fails on any status outside 2xx, quoting Octane's error.
    pub(crate) fn send_ok(
        &mut self,
        method: Method,
        url: &str,
        body: &Body,
    ) -> anyhow::Result<Reply> {
        let reply = self.send(method.clone(), url, body)?;
        if (200..300).contains(&reply.status) {
            Ok(reply)
        } else {
            Err(self.error(&method, url, &reply).into())
        }
    }

    /// Builds the error for a failed response.
    pub(crate) fn error(&self, method: &Method, url: &str, reply: &Reply) -> OctaneError {
        OctaneError::from_response(
            format!("{method} {}", self.short_url(url)),
            reply.status,
            &reply.body,
        )
    }

    /// Signs out; a failure only matters for the server's session count, so it is returned
    /// for logging and never fails the run.
    pub(crate) fn sign_out(&mut self) -> anyhow::Result<()> {
        let url = format!("{}/authentication/sign_out", self.base);
        let reply = self.send_once(Method::POST, &url, &Body::Empty)?;
        // Some servers answer a sign-out with a redirect.
        if (200..400).contains(&reply.status) {
            Ok(())
        } else {
            Err(self.error(&Method::POST, &url, &reply).into())
        }
    }

    /// The URL without the server part, for messages.
    fn short_url(&self, url: &str) -> String {
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        path.split('?').next().unwrap_or(path).to_string()
    }

    fn send_once(&mut self, method: Method, url: &str, body: &Body) -> anyhow::Result<Reply> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            bail!(
                "{method} {} not sent: the `timeout` deadline has passed",
                self.short_url(url)
            );
        }
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::ACCEPT, "application/json")
            .header("HPECLIENTTYPE", "HPE_CI_CLIENT");
        if let Some(cookie) = self.cookies.header() {
            builder = builder.header(header::COOKIE, cookie);
        }
        let timeout = Some(remaining.min(REQUEST_TIMEOUT));
        let short_url = self.short_url(url);
        let what = || format!("{method} {short_url} failed");

        let response = match body {
            Body::Empty => {
                let request = builder.body(()).context("invalid request")?;
                self.run(request, timeout)
            }
            Body::Json(value) => {
                let bytes = serde_json::to_vec(value).context("cannot encode JSON body")?;
                let request = builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(bytes)
                    .context("invalid request")?;
                self.run(request, timeout)
            }
            Body::XmlFile(path) => {
                let file = File::open(path)
                    .with_context(|| format!("cannot read payload `{}`", path.display()))?;
                let request = builder
                    .header(header::CONTENT_TYPE, "application/xml")
                    .body(file)
                    .context("invalid request")?;
                self.run(request, timeout)
            }
        };
        let mut response = response.with_context(what)?;

        self.cookies.update(response.headers());
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .with_context(what)?;
        Ok(Reply { status, body })
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: Request<S>,
        timeout: Option<Duration>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(timeout)
            .build();
        self.agent.run(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> ureq::http::HeaderMap {
        let mut map = ureq::http::HeaderMap::new();
        for value in values {
            map.append(header::SET_COOKIE, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cookie_jar_follows_rotation() {
        let mut jar = CookieJar::default();

        jar.update(&headers(&[
            "LWSSO_COOKIE_KEY=first; Path=/; HttpOnly",
            "OCTANE_USER=ci; Path=/",
        ]));
        assert_eq!(
            jar.header().as_deref(),
            Some("LWSSO_COOKIE_KEY=first; OCTANE_USER=ci")
        );

        jar.update(&headers(&["LWSSO_COOKIE_KEY=second; Path=/"]));
        assert_eq!(
            jar.header().as_deref(),
            Some("OCTANE_USER=ci; LWSSO_COOKIE_KEY=second")
        );
    }

    #[test]
    fn cookie_jar_drops_expired() {
        let mut jar = CookieJar::default();
        jar.update(&headers(&["A=1", "B=2"]));

        jar.update(&headers(&["A=; Max-Age=0", "B=2; Max-Age=0"]));

        assert_eq!(jar.header(), None);
    }
}
