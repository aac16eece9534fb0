//! Log lines on stderr, one per step, with secrets removed.
//!
//! On GitHub Actions, warnings and errors are written as workflow commands (`::warning::`,
//! `::error::`), which the runner shows as annotations. The runner reads workflow commands from
//! stderr as well as stdout.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

/// Writes the tool's messages. Clones share one list of secrets, so a value that a session
/// learns (a cookie) is redacted from every later message, summary and spool entry.
#[derive(Clone, Default)]
pub(crate) struct Log {
    github: bool,
    secrets: Arc<Mutex<Vec<String>>>,
}

impl Log {
    pub(crate) fn new(github: bool) -> Log {
        Log {
            github,
            secrets: Arc::default(),
        }
    }

    fn secrets(&self) -> MutexGuard<'_, Vec<String>> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a value that must never be printed. Short values are ignored: replacing them would
    /// garble ordinary words. Returns true when the value was new.
    pub(crate) fn add_secret(&self, secret: &str) -> bool {
        let mut secrets = self.secrets();
        if secret.len() < 4 || secrets.iter().any(|s| s == secret) {
            return false;
        }
        secrets.push(secret.to_string());
        // Longer secrets first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        true
    }

    /// Adds a value received at run time, such as a session cookie, and on GitHub Actions
    /// also prints `::add-mask::` so the runner masks it.
    pub(crate) fn add_received_secret(&self, secret: &str) {
        if self.add_secret(secret) && self.github {
            println!("::add-mask::{}", escape_command(secret));
        }
    }

    /// Replaces every known secret in `text` with `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in self.secrets().iter() {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    pub(crate) fn info(&self, message: &str) {
        self.write(&format!("octane-report: {}", self.redact(message)));
    }

    pub(crate) fn warn(&self, message: &str) {
        let message = self.redact(message);
        if self.github {
            self.write(&format!(
                "::warning title=octane-report::{}",
                escape_command(&message)
            ));
        } else {
            self.write(&format!("octane-report: warning: {message}"));
        }
    }

    pub(crate) fn error(&self, message: &str) {
        let message = self.redact(message);
        if self.github {
            self.write(&format!(
                "::error title=octane-report::{}",
                escape_command(&message)
            ));
        } else {
            self.write(&format!("octane-report: error: {message}"));
        }
    }

    fn write(&self, line: &str) {
        // One line per message: a newline inside a message (say, from a server's text) must not
        // start a line that the runner could read as a workflow command.
        let line = clean_line(line);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// Puts a message on one line without terminal control characters. Line breaks become spaces,
/// and other control characters (such as the ESC of a colour code in an id) become `?`. The
/// runner also reads the older `##[command]` form anywhere in a line, so that marker is broken
/// up.
fn clean_line(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '\r' | '\n' => ' ',
            '\t' => '\t',
            c if c.is_control() => '?',
            c => c,
        })
        .collect::<String>()
        .replace("##[", "# #[")
}

/// Escapes a workflow command's message as the GitHub runner expects.
pub(crate) fn escape_command(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_secrets() {
        let log = Log::new(false);
        let clone = log.clone();

        clone.add_secret("cookieValue12345XYZ");

        assert_eq!(log.redact("c=cookieValue12345XYZ"), "c=***");
    }

    #[test]
    fn redact_replaces_every_secret() {
        let log = Log::new(false);
        log.add_secret("s3cr3t-value");
        log.add_secret("ab");

        assert_eq!(
            log.redact("a s3cr3t-value and s3cr3t-value ab"),
            "a *** and *** ab"
        );
    }

    #[test]
    fn old_command_form_is_broken_up() {
        assert_eq!(
            clean_line("octane-report: id ##[error]x"),
            "octane-report: id # #[error]x"
        );
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(
            clean_line("b1\n::error::INJECTED\x1b[31mRED\x1b[0m\u{9b}2J\tend"),
            "b1 ::error::INJECTED?[31mRED?[0m?2J\tend"
        );
    }

    #[test]
    fn command_escaping() {
        assert_eq!(escape_command("50% done\r\nnext"), "50%25 done%0D%0Anext");
    }
}
