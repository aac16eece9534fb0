//! A signed-in Octane session: cookies, the one sign-in again on 401, retries of temporary
//! failures, timeouts and error bodies.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use chrono::Utc;
use serde_json::json;
use ureq::http::{Method, Request, header};

use super::error::OctaneError;
use super::retry::{
    RetryPolicy, cap_retry_after, parse_retry_after, retryable_error, retryable_status,
};
use crate::files::{self, Links};
use crate::log::Log;
use crate::net::describe_tls_failure;
use crate::settings::Secret;
use crate::target::Target;

/// Largest response body read; Octane's JSON responses here are a few kilobytes.
const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

pub(crate) const USER_AGENT: &str = concat!("octane-report/", env!("CARGO_PKG_VERSION"));

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
    /// The `Retry-After` header, as a wait from now.
    pub(crate) retry_after: Option<Duration>,
}

/// Session cookies, replaced whenever a response sets new values.
#[derive(Default)]
struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Applies the `Set-Cookie` headers and returns every cookie value they carried, so the
    /// caller can keep those values out of messages.
    fn update(&mut self, headers: &ureq::http::HeaderMap) -> Vec<String> {
        let mut received = Vec::new();
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim().trim_matches('"'));
            received.push(value.to_string());
            let expired = parts.any(|attribute| {
                let attribute = attribute.trim().to_ascii_lowercase();
                attribute == "max-age=0" || attribute.starts_with("max-age=-")
            });
            self.cookies.retain(|(n, _)| n != name);
            if !expired && !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        received
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
    /// The `timeout` setting, for messages.
    timeout: Duration,
    deadline: Instant,
    policy: RetryPolicy,
    log: Log,
}

impl Session {
    /// Starts a session whose requests must all end within `timeout` from now.
    pub(crate) fn new(
        agent: ureq::Agent,
        target: &Target,
        client_id: &str,
        client_secret: &Secret,
        timeout: Duration,
        policy: RetryPolicy,
        log: &Log,
    ) -> Session {
        log.add_secret(client_secret.expose());
        Session {
            agent,
            base: target.base.clone(),
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
            cookies: CookieJar::default(),
            timeout,
            deadline: Instant::now() + timeout,
            policy,
            log: log.clone(),
        }
    }

    /// Signs in with the API access key. Old cookies are dropped first: a sign-in that carries
    /// a still-valid session cookie may be refused.
    pub(crate) fn sign_in(&mut self) -> anyhow::Result<()> {
        self.cookies = CookieJar::default();
        let url = format!("{}/authentication/sign_in", self.base);
        let body =
            json!({"client_id": self.client_id, "client_secret": self.client_secret.expose()});
        let reply = self.send_retrying(Method::POST, &url, &Body::Json(&body))?;
        match reply.status {
            200..=299 => Ok(()),
            401 | 403 => Err(anyhow!(self.error(&Method::POST, &url, &reply)))
                .context("sign-in rejected: check `client_id` and `client_secret`, and that the API key has the CI/CD Integration role in this workspace"),
            _ => Err(anyhow!(self.error(&Method::POST, &url, &reply))).context("sign-in failed"),
        }
    }

    /// Sends a request, retrying temporary failures; on 401 signs in again once and repeats
    /// the request once.
    pub(crate) fn send(&mut self, method: Method, url: &str, body: &Body) -> anyhow::Result<Reply> {
        let reply = self.send_retrying(method.clone(), url, body)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        self.sign_in()
            .context("the session expired and signing in again failed")?;
        self.send_retrying(method, url, body)
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

    /// Builds the error for a failed response, with every known secret and cookie value
    /// removed.
    pub(crate) fn error(&self, method: &Method, url: &str, reply: &Reply) -> OctaneError {
        OctaneError::from_response(
            format!("{method} {}", self.short_url(url)),
            reply.status,
            &reply.body,
            &|text| self.log.redact(text),
        )
    }

    /// Moves the deadline earlier, to `deadline`, when that is sooner. Replay uses it to
    /// apply one `timeout` to all its entries.
    pub(crate) fn limit_deadline(&mut self, deadline: Instant) {
        self.deadline = self.deadline.min(deadline);
    }

    /// Returns the time left before the `timeout` deadline.
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Signs out, once and without retries. A failure only matters for the server's session
    /// count, so it is returned for logging and never fails the run.
    pub(crate) fn sign_out(&mut self) -> anyhow::Result<()> {
        let url = format!("{}/authentication/sign_out", self.base);
        let reply = self
            .send_attempt(Method::POST, &url, &Body::Empty)?
            .map_err(|e| self.transport_error(&Method::POST, &url, e))?;
        // Some servers respond to a sign-out with a redirect.
        if (200..400).contains(&reply.status) {
            Ok(())
        } else {
            Err(self.error(&Method::POST, &url, &reply).into())
        }
    }

    /// Returns the URL without the server part and the query, for messages.
    fn short_url(&self, url: &str) -> String {
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        path.split('?').next().unwrap_or(path).to_string()
    }

    /// Sends a request until it gets a final response, the attempts run out or the deadline
    /// leaves no time for the next wait. A temporary status after the last attempt is returned
    /// as a reply, so the caller quotes it like any other error status.
    fn send_retrying(&mut self, method: Method, url: &str, body: &Body) -> anyhow::Result<Reply> {
        let mut attempt = 1;
        loop {
            let result = self.send_attempt(method.clone(), url, body)?;
            let Some((reason, retry_after)) = retry_reason(&result) else {
                return result.map_err(|error| self.transport_error(&method, url, error));
            };
            let what = format!("{method} {}", self.short_url(url));
            let wait = match retry_after {
                Some(wait) => cap_retry_after(wait),
                None => self.policy.backoff(attempt),
            };
            let retries = self.policy.max_attempts - 1;
            let give_up = if attempt > retries {
                Some(format!(
                    "{what}: {reason}; giving up after {attempt} attempts"
                ))
            } else if Instant::now() + wait >= self.deadline {
                Some(format!(
                    "{what}: {reason}; no retry, because the `timeout` of {} s ends before a wait of {}",
                    self.timeout.as_secs(),
                    seconds(wait)
                ))
            } else {
                None
            };
            if let Some(message) = give_up {
                self.log.info(&message);
                return match result {
                    Ok(reply) => Ok(reply),
                    Err(error) => Err(self.transport_error(&method, url, error))
                        .context(format!("gave up after {attempt} attempt(s)")),
                };
            }
            let source = if retry_after.is_some() {
                " (Retry-After)"
            } else {
                ""
            };
            self.log.info(&format!(
                "{what}: {reason}; retry {attempt} of {retries} in {}{source}",
                seconds(wait)
            ));
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// Builds the error for a request that got no response, naming the `timeout` setting when
    /// the deadline cut the request short and the CA settings when TLS failed.
    fn transport_error(&self, method: &Method, url: &str, error: ureq::Error) -> anyhow::Error {
        let what = format!("{method} {} failed", self.short_url(url));
        if let Some(tls) = describe_tls_failure(&error) {
            return anyhow!("{what}: {tls}");
        }
        let deadline_passed = Instant::now() >= self.deadline;
        if matches!(error, ureq::Error::Timeout(_)) && deadline_passed {
            return anyhow!(error).context(format!(
                "{what}: the `timeout` of {} s for the whole delivery ran out",
                self.timeout.as_secs()
            ));
        }
        anyhow!(error).context(what)
    }

    /// Sends one request. The outer error is a local failure, such as a passed deadline or an
    /// unreadable payload file. The inner error comes from the network or the response stream.
    fn send_attempt(
        &mut self,
        method: Method,
        url: &str,
        body: &Body,
    ) -> anyhow::Result<Result<Reply, ureq::Error>> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            bail!(
                "{method} {} not sent: the `timeout` of {} s for the whole delivery ran out",
                self.short_url(url),
                self.timeout.as_secs()
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
        let timeout = Some(remaining.min(self.policy.request_timeout));

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
                let file = files::open_regular(path, Links::Reject)
                    .with_context(|| format!("cannot read payload `{}`", path.display()))?;
                let request = builder
                    .header(header::CONTENT_TYPE, "application/xml")
                    .body(file)
                    .context("invalid request")?;
                self.run(request, timeout)
            }
        };
        let mut response = match response {
            Ok(response) => response,
            Err(error) => return Ok(Err(error)),
        };

        for value in self.cookies.update(response.headers()) {
            self.log.add_received_secret(&value);
        }
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string();
        Ok(body.map(|body| Reply {
            status,
            body,
            retry_after,
        }))
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

/// Returns why an attempt is worth repeating and the wait the server asked for, or `None`
/// when its result is final.
fn retry_reason(result: &Result<Reply, ureq::Error>) -> Option<(String, Option<Duration>)> {
    match result {
        Ok(reply) => retryable_status(reply.status, &reply.body).map(|reason| {
            (
                format!("HTTP {} ({reason})", reply.status),
                reply.retry_after,
            )
        }),
        // A certificate problem does not go away by itself.
        Err(error) if describe_tls_failure(error).is_some() => None,
        Err(error) => retryable_error(error).map(|reason| (format!("{reason}: {error}"), None)),
    }
}

/// Formats a wait for log lines: `1.3 s`, or `250 ms` below one second.
fn seconds(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else {
        format!("{:.1} s", wait.as_secs_f64())
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
