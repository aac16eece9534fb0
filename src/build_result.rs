//! Build results as Octane names them, and the CI words that map to them.

use std::fmt;

/// The `result` of a build report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BuildResult {
    Success,
    Failure,
    Unstable,
    Aborted,
}

/// Accepted words, for error messages.
pub(crate) const RESULT_WORDS: &str = "success, succeeded, passed, failure, failed, error, errored, \
     killed, timedout, timed_out, cancelled, canceled, aborted, unstable";

impl BuildResult {
    /// Maps a CI's result word, in any case. Returns `None` for an unknown word.
    pub(crate) fn from_word(word: &str) -> Option<BuildResult> {
        let result = match word.trim().to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "passed" => BuildResult::Success,
            "failure" | "failed" | "error" | "errored" | "killed" | "timedout" | "timed_out" => {
                BuildResult::Failure
            }
            "cancelled" | "canceled" | "aborted" => BuildResult::Aborted,
            "unstable" => BuildResult::Unstable,
            _ => return None,
        };
        Some(result)
    }

    /// Returns the word Octane expects.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BuildResult::Success => "success",
            BuildResult::Failure => "failure",
            BuildResult::Unstable => "unstable",
            BuildResult::Aborted => "aborted",
        }
    }
}

impl fmt::Display for BuildResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_words_map_to_results() {
        let cases = [
            ("success", BuildResult::Success),
            ("Succeeded", BuildResult::Success),
            ("passed", BuildResult::Success),
            ("failure", BuildResult::Failure),
            ("FAILED", BuildResult::Failure),
            ("error", BuildResult::Failure),
            ("errored", BuildResult::Failure),
            ("killed", BuildResult::Failure),
            ("timedout", BuildResult::Failure),
            ("timed_out", BuildResult::Failure),
            ("cancelled", BuildResult::Aborted),
            ("canceled", BuildResult::Aborted),
            ("aborted", BuildResult::Aborted),
            ("unstable", BuildResult::Unstable),
            (" success ", BuildResult::Success),
        ];
        for (word, expected) in cases {
            assert_eq!(BuildResult::from_word(word), Some(expected), "{word}");
        }
    }

    #[test]
    fn unknown_words_are_rejected() {
        for word in ["running", "", "ok", "skipped", "unavailable"] {
            assert_eq!(BuildResult::from_word(word), None, "{word}");
        }
    }
}
