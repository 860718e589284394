//! The results model every runner fills and every report reads.

use serde::{Deserialize, Serialize};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail {
        message: String,
    },
    /// Not run, or not conclusive; never counted as a pass.
    Skip {
        reason: String,
    },
}

/// A verdict plus notes worth reporting even when it passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    #[serde(flatten)]
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The separate problems a failure was made of (its message joins them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Set on a skip when this machine stopped the check (too few processes, file
    /// descriptors or memory, no `/proc`, a denied syscall): not the vDSO's doing,
    /// and a run with such a skip is an error of the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub environment: bool,
}

impl CheckResult {
    pub fn pass() -> Self {
        CheckResult {
            verdict: Verdict::Pass,
            notes: Vec::new(),
            problems: Vec::new(),
            environment: false,
        }
    }

    pub fn fail(message: impl Into<String>) -> Self {
        CheckResult {
            verdict: Verdict::Fail {
                message: message.into(),
            },
            notes: Vec::new(),
            problems: Vec::new(),
            environment: false,
        }
    }

    pub fn skip(reason: impl Into<String>) -> Self {
        CheckResult {
            verdict: Verdict::Skip {
                reason: reason.into(),
            },
            notes: Vec::new(),
            problems: Vec::new(),
            environment: false,
        }
    }

    /// A check this machine would not let run: a skip that names the cause.
    pub fn unrunnable(cause: impl std::fmt::Display) -> Self {
        let mut r = CheckResult::skip(format!("this environment stopped the check: {cause}"));
        r.environment = true;
        r
    }

    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes.extend(notes);
        self
    }

    pub fn is_pass(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    pub fn is_fail(&self) -> bool {
        matches!(self.verdict, Verdict::Fail { .. })
    }
}

/// A panic payload for a resource the machine would not give deep inside a call
/// (a guarded buffer's mapping): the child that runs the check turns it into
/// [`CheckResult::unrunnable`] instead of a failure.
#[derive(Debug, Clone)]
pub struct Unrunnable(pub String);

/// Turns a list of problems into a verdict: none is a pass.
pub fn from_problems(problems: Vec<String>) -> CheckResult {
    if problems.is_empty() {
        CheckResult::pass()
    } else {
        let mut r = CheckResult::fail(problems.join("; "));
        r.problems = problems;
        r
    }
}
