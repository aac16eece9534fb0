//! Errors that Octane returned, with the fields its error JSON carries.

use std::fmt;

use serde::Deserialize;

/// A 4xx or 5xx response from Octane.
#[derive(Debug)]
pub(crate) struct OctaneError {
    /// The failed request, e.g. `POST .../ci_servers`.
    pub(crate) request: String,
    pub(crate) status: u16,
    pub(crate) error_code: Option<String>,
    pub(crate) description: String,
    pub(crate) correlation_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<String>,
    description: Option<String>,
    correlation_id: Option<String>,
    /// Bulk responses list their errors here.
    errors: Option<Vec<ErrorBody>>,
    /// Servlet-level errors carry only a message.
    message: Option<String>,
}

/// Maximum number of characters of a non-JSON body quoted in an error.
const QUOTED_BODY_CHARS: usize = 300;
/// Maximum number of characters of Octane's `description` quoted in an error.
const QUOTED_DESCRIPTION_CHARS: usize = 1000;

impl OctaneError {
    /// Builds the error from a response; `body` is whatever the server sent. `redact` removes
    /// secrets. It runs on the raw body and again on each decoded field before any cut, because
    /// a server may echo a secret JSON-escaped (`\/`, `\u003d`) so that only the decoded text
    /// contains it.
    pub(crate) fn from_response(
        request: String,
        status: u16,
        body: &str,
        redact: &dyn Fn(&str) -> String,
    ) -> OctaneError {
        let body = &redact(body);
        let mut error = OctaneError {
            request,
            status,
            error_code: None,
            description: String::new(),
            correlation_id: None,
        };
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(parsed) => {
                let parsed = match parsed.errors {
                    Some(mut list) if !list.is_empty() && parsed.description.is_none() => {
                        list.swap_remove(0)
                    }
                    _ => parsed,
                };
                error.error_code = parsed.error_code.map(|code| redact(&code));
                error.correlation_id = parsed.correlation_id.map(|id| redact(&id));
                let description = parsed.description.or(parsed.message).unwrap_or_default();
                error.description = shorten(&redact(&description), QUOTED_DESCRIPTION_CHARS);
            }
            Err(_) if looks_like_html(body) => {
                error.description = "Octane is unavailable: the server answered with an HTML page \
                     instead of JSON (maintenance, a proxy or a wrong URL)"
                    .to_string();
            }
            Err(_) if (300..400).contains(&status) => {
                error.description = "the server redirected the request; check that `url` \
                     names the Octane server itself, with https:// and any context path"
                    .to_string();
            }
            Err(_) => {
                // Text that is not valid JSON may still carry JSON escapes.
                let decoded = redact(&unescape_json(body.trim()));
                error.description = shorten(&decoded, QUOTED_BODY_CHARS);
            }
        }
        error
    }

    /// Returns true when the error reports that the entity already exists.
    pub(crate) fn is_conflict(&self) -> bool {
        self.status == 409
            || self
                .error_code
                .as_deref()
                .is_some_and(|code| code.contains("duplicate"))
    }
}

/// Cuts `text` to `max` characters (adding `...` when cut) and puts it on one line.
fn shorten(text: &str, max: usize) -> String {
    let mut shown: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        shown.push_str("...");
    }
    shown.replace(['\r', '\n'], " ")
}

/// Decodes the JSON string escapes `\/`, `\\`, `\"`, `\n`, `\r`, `\t` and `\uXXXX` wherever
/// they occur, and keeps any other backslash as it is.
fn unescape_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('\\') {
        out.push_str(&rest[..index]);
        let after = &rest[index + 1..];
        let mut chars = after.chars();
        let (decoded, used) = match chars.next() {
            Some(c @ ('/' | '\\' | '"')) => (Some(c), 1),
            Some('n') => (Some('\n'), 1),
            Some('r') => (Some('\r'), 1),
            Some('t') => (Some('\t'), 1),
            Some('u') => {
                let code = after
                    .get(1..5)
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                (code, 5)
            }
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn looks_like_html(body: &str) -> bool {
    let start = body
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    start.starts_with("<!doctype") || start.starts_with("<html")
}

impl fmt::Display for OctaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with HTTP {}", self.request, self.status)?;
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        match (&self.error_code, &self.correlation_id) {
            (Some(code), Some(id)) => write!(f, " (error code {code}, correlation id {id})"),
            (Some(code), None) => write!(f, " (error code {code})"),
            (None, Some(id)) => write!(f, " (correlation id {id})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for OctaneError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_secrets(text: &str) -> String {
        text.to_string()
    }

    const SECRET: &str = "S3cret-value/with+chars=";

    fn redact_secret(text: &str) -> String {
        text.replace(SECRET, "***")
    }

    #[test]
    fn escaped_secret_is_redacted_before_cut() {
        let escaped = r"S3cret-value\/with+chars\u003d";
        for pad in [0, 980, 990, 995] {
            let body = format!(
                r#"{{"description":"{} you sent {escaped}"}}"#,
                "x".repeat(pad)
            );

            let error =
                OctaneError::from_response("POST /sign_in".into(), 400, &body, &redact_secret);

            assert!(!error.description.contains("S3cret"), "pad {pad}: {error}");
        }
    }

    #[test]
    fn escaped_secret_in_invalid_json_is_redacted() {
        let body = format!(
            r"{{not json, you sent S3cret-value\/with+chars\u003d{}",
            "y".repeat(400)
        );

        let error = OctaneError::from_response("POST /sign_in".into(), 400, &body, &redact_secret);

        assert!(!error.description.contains("S3cret"), "{error}");
        assert!(error.description.contains("you sent ***"), "{error}");
    }

    #[test]
    fn unescape_json_forms() {
        assert_eq!(unescape_json(r"a\/b\u003dc\\d\qe\u00"), r"a/b=c\d\qe\u00");
    }

    #[test]
    fn quotes_description_and_ids() {
        let body = r#"{"error_code":"platform.duplicate_entity_error","correlation_id":"abc123",
            "description":"A pipeline with this name already exists.","business_error":true}"#;

        let error = OctaneError::from_response("POST /pipelines".into(), 409, body, &no_secrets);

        assert_eq!(
            error.to_string(),
            "POST /pipelines failed with HTTP 409: A pipeline with this name already exists. \
             (error code platform.duplicate_entity_error, correlation id abc123)"
        );
        assert!(error.is_conflict());
    }

    #[test]
    fn bulk_error_takes_first_entry() {
        let body = r#"{"total_count":0,"data":[],"errors":[{"error_code":"x","description":"bad field","index":0}]}"#;

        let error = OctaneError::from_response("POST /ci_servers".into(), 400, body, &no_secrets);

        assert_eq!(error.description, "bad field");
        assert_eq!(error.error_code.as_deref(), Some("x"));
    }

    #[test]
    fn html_page_is_unavailable() {
        let body = "<!DOCTYPE html><html><body><h1>Service Temporarily Unavailable</h1>".repeat(50);

        let error = OctaneError::from_response("PUT /builds".into(), 503, &body, &no_secrets);

        assert!(
            error.to_string().contains("Octane is unavailable"),
            "{error}"
        );
        assert!(!error.to_string().contains("<h1>"), "{error}");
    }

    #[test]
    fn plain_text_is_quoted_short() {
        let body = "x".repeat(5000);

        let error = OctaneError::from_response("GET /x".into(), 500, &body, &no_secrets);

        assert_eq!(error.description.len(), QUOTED_BODY_CHARS + 3);
    }
}
