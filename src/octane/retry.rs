//! Retry policy for requests to Octane: which failures are temporary, and how long to wait.
//!
//! 429, 502, 503 and 504, HTML maintenance pages, connection errors and timeouts are
//! temporary. Every other status is final: 400, 403, 404 and 409 describe the request, and
//! 401 has its own path (one sign-in again). Waits grow exponentially with jitter, a
//! `Retry-After` header replaces the computed wait, and the overall `timeout` deadline always
//! wins.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::env::Env;

/// Attempts per request, the first one included.
const MAX_ATTEMPTS: u32 = 6;
/// First backoff wait; each retry doubles it.
const DEFAULT_BASE: Duration = Duration::from_secs(2);
/// Maximum backoff wait, and maximum `Retry-After` honoured.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Maximum time one request may take; the overall deadline may cut it shorter.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Hidden variable that shortens the first backoff wait, in milliseconds. The test suite sets
/// it to keep fault tests fast; values above the default are ignored, so it can only shorten.
pub(crate) const RETRY_BASE_VAR: &str = "OCTANE_REPORT_RETRY_BASE_MS";
/// Hidden variable that shortens the per-request timeout, in milliseconds, like
/// `OCTANE_REPORT_RETRY_BASE_MS`.
pub(crate) const REQUEST_TIMEOUT_VAR: &str = "OCTANE_REPORT_REQUEST_TIMEOUT_MS";

/// How often and how long to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) base: Duration,
    pub(crate) request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            base: DEFAULT_BASE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl RetryPolicy {
    /// Builds the default policy, shortened by the hidden test variables when they are set.
    pub(crate) fn from_env(env: &Env) -> RetryPolicy {
        let shorter = |name: &str, default: Duration| {
            env.get_trimmed(name)
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
                .filter(|d| *d < default)
                .unwrap_or(default)
        };
        RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            base: shorter(RETRY_BASE_VAR, DEFAULT_BASE),
            request_timeout: shorter(REQUEST_TIMEOUT_VAR, DEFAULT_REQUEST_TIMEOUT)
                .max(Duration::from_millis(1)),
        }
    }

    /// Returns the wait before retry number `retry` (1 for the first retry): half of
    /// `base * 2^(retry-1)` (capped at one minute) plus a random share of the other half.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1 << retry.saturating_sub(1).min(16))
            .min(MAX_WAIT);
        let half = doubled / 2;
        half + half.mul_f64(random_fraction())
    }
}

/// Returns a number in [0, 1) from the standard library's randomly seeded hasher, enough for
/// jitter that keeps parallel jobs from retrying in step.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Returns why a response status is worth retrying, or `None` when it is final.
pub(crate) fn retryable_status(status: u16, body: &str) -> Option<&'static str> {
    match status {
        429 => Some("too many requests"),
        502 => Some("bad gateway"),
        503 => Some("service unavailable"),
        504 => Some("gateway timeout"),
        // A maintenance page ("Service Temporarily Unavailable") is temporary whatever the
        // 5xx status.
        500..=599 if body.contains("Service Temporar") => Some("Octane is unavailable"),
        _ => None,
    }
}

/// Returns why a transport error is worth retrying, or `None` when it is final.
pub(crate) fn retryable_error(error: &ureq::Error) -> Option<&'static str> {
    match error {
        ureq::Error::Timeout(_) => Some("timed out"),
        ureq::Error::ConnectionFailed => Some("connection failed"),
        ureq::Error::HostNotFound => Some("host not found"),
        ureq::Error::Io(_) => Some("connection error"),
        ureq::Error::Protocol(_) => Some("connection closed or invalid response"),
        _ => None,
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date. Returns `None` for anything
/// else, and for a date that is not in the future, which usually means that the server's clock
/// is wrong, so the normal backoff applies instead of retrying at once.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a valid RFC 2822 date.
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    wait.to_std().ok().filter(|wait| !wait.is_zero())
}

/// Caps a `Retry-After` wait at the maximum backoff wait.
pub(crate) fn cap_retry_after(wait: Duration) -> Duration {
    wait.min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter() {
        let policy = RetryPolicy {
            base: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };

        for (retry, full) in [(1, 1000), (2, 2000), (3, 4000), (10, 60_000), (40, 60_000)] {
            let wait = policy.backoff(retry).as_millis();
            assert!(wait >= full / 2, "retry {retry}: {wait} ms");
            assert!(wait <= full, "retry {retry}: {wait} ms");
        }
    }

    #[test]
    fn status_classes() {
        for status in [429, 502, 503, 504] {
            assert!(retryable_status(status, "").is_some(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 500] {
            assert!(retryable_status(status, "{}").is_none(), "{status}");
        }
        let page = "<html><h1>Service Temporarily Unavailable</h1></html>";
        assert!(retryable_status(500, page).is_some());
        assert!(retryable_status(404, page).is_none());
    }

    #[test]
    fn retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2026-03-14T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);

        assert_eq!(
            parse_retry_after("7", now),
            Some(Duration::from_secs(7)),
            "seconds"
        );
        assert_eq!(
            parse_retry_after("Sat, 14 Mar 2026 09:00:30 GMT", now),
            Some(Duration::from_secs(30)),
            "HTTP date"
        );
        assert_eq!(
            parse_retry_after("Sat, 14 Mar 2026 08:00:00 GMT", now),
            None,
            "date in the past"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(cap_retry_after(Duration::from_secs(3600)), MAX_WAIT);
    }

    #[test]
    fn test_variables_only_shorten() {
        let env = Env::from_pairs([(RETRY_BASE_VAR, "5"), (REQUEST_TIMEOUT_VAR, "999999999")]);

        let policy = RetryPolicy::from_env(&env);

        assert_eq!(policy.base, Duration::from_millis(5));
        assert_eq!(policy.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(
            RetryPolicy::from_env(&Env::default()),
            RetryPolicy::default()
        );
    }
}
