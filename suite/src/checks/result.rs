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
    /// Ran, and every problem it saw is a symptom of a deviation the spec records
    /// (kselftest's XFAIL): the known bug, and nothing else.
    Xfail {
        reason: String,
    },
    /// Ran and passed where the spec records a deviation (kselftest's XPASS): the
    /// bug did not show, perhaps fixed.
    Xpass {
        reason: String,
    },
}

impl Verdict {
    /// kselftest's word for it: `PASS`, `FAIL`, `SKIP`, `XFAIL`, `XPASS`.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Skip { .. } => "SKIP",
            Verdict::Xfail { .. } => "XFAIL",
            Verdict::Xpass { .. } => "XPASS",
        }
    }

    /// What a verdict other than a pass says: the failure's message, the skip's
    /// or the expectation's reason.
    pub fn text(&self) -> Option<&str> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail { message } => Some(message),
            Verdict::Skip { reason } | Verdict::Xfail { reason } | Verdict::Xpass { reason } => {
                Some(reason)
            }
        }
    }

    /// Whether the check ran to a verdict on the vDSO that is not a failure
    /// (pass, xfail, xpass): what kselftest counts toward a passing run.
    pub fn ran_clean(&self) -> bool {
        matches!(
            self,
            Verdict::Pass | Verdict::Xfail { .. } | Verdict::Xpass { .. }
        )
    }
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
    /// The symptom of each problem, in the same order: a stable id, `ID` or
    /// `ID:DETAIL` (`result-differs:AUX0`), from [`symptoms`] or the findings'
    /// catalogue. Spec deviations name these, never message text; a problem
    /// with no symptom (`""`) is explained by no deviation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<String>,
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
            symptoms: Vec::new(),
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
            symptoms: Vec::new(),
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
            symptoms: Vec::new(),
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

    /// The same result with `message` for a failure's message (its problems and
    /// symptoms are kept).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        if let Verdict::Fail { message: m } = &mut self.verdict {
            *m = message.into();
        }
        self
    }

    /// Each problem of a failure with its symptom (`""` for none); a failure
    /// made of no separate problems is its message, with no symptom.
    pub fn problems_with_symptoms(&self) -> Vec<(String, String)> {
        match &self.verdict {
            Verdict::Fail { message } if self.problems.is_empty() => {
                vec![(message.clone(), String::new())]
            }
            _ => self
                .problems
                .iter()
                .enumerate()
                .map(|(i, p)| (p.clone(), self.symptoms.get(i).cloned().unwrap_or_default()))
                .collect(),
        }
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

/// Turns a list of problems without symptoms into a verdict: none is a pass.
pub fn from_problems(problems: Vec<String>) -> CheckResult {
    CheckResult::from_symptoms(problems.into_iter().map(|p| Problem::new("", p)).collect())
}

/// One problem of a failure: its symptom (see [`CheckResult::symptoms`]) and what
/// was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub symptom: String,
    pub message: String,
}

impl Problem {
    pub fn new(symptom: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            symptom: symptom.into(),
            message: message.into(),
        }
    }

    /// A problem about one case (a clock, a flag, an output): symptom `ID:DETAIL`.
    pub fn about(id: &str, detail: impl std::fmt::Display, message: impl Into<String>) -> Problem {
        Problem::new(format!("{id}:{detail}"), message)
    }
}

/// A problem reads as its message.
impl std::ops::Deref for Problem {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

/// A message with no symptom (what a failed precondition says).
impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::new("", message)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl CheckResult {
    /// Turns a list of problems into a verdict: none is a pass.
    pub fn from_symptoms(problems: Vec<Problem>) -> CheckResult {
        if problems.is_empty() {
            return CheckResult::pass();
        }
        let messages: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        let mut r = CheckResult::fail(messages.join("; "));
        r.problems = messages;
        r.symptoms = problems.into_iter().map(|p| p.symptom).collect();
        r
    }
}

/// Every symptom id a live check may report, and what each means (`DETAIL`,
/// where one follows the id, names the case: a clock, a flag, an output, a
/// CPU): the check groups' own, then each kind's (from its description, in
/// the order of `SymbolKind::ALL`). The image checks' symptoms are the
/// findings' ids ([`super::findings::FINDINGS`]).
pub fn symptoms() -> Vec<(&'static str, &'static str)> {
    let mut all = GROUP_SYMPTOMS.to_vec();
    for kind in crate::spec::SymbolKind::ALL {
        for &symptom in crate::kinds::kind_info(kind).symptoms {
            if !all.contains(&symptom) {
                all.push(symptom);
            }
        }
    }
    all
}

/// The symptoms the check groups report whatever the kind.
const GROUP_SYMPTOMS: &[(&str, &str)] = &[
    (
        "result-differs",
        "the vDSO's result (value or errno) is not the syscall's, for DETAIL",
    ),
    (
        "null-differs",
        "with a NULL output the vDSO's status is not the syscall's, for DETAIL",
    ),
    (
        "errno-differs",
        "the syscall rejects DETAIL and the vDSO answers otherwise",
    ),
    (
        "vdso-rejects",
        "the syscall accepts DETAIL and the vDSO fails",
    ),
    (
        "wrote-on-error",
        "the vDSO rejected DETAIL but wrote its output",
    ),
    (
        "not-normalized",
        "a nanosecond or microsecond field out of range",
    ),
    (
        "outside-syscall-readings",
        "a reading outside the syscall readings taken around it",
    ),
    ("vdso-failed", "the vDSO call failed where it must succeed"),
    (
        "syscall-failed",
        "the syscall the vDSO is compared with failed",
    ),
    (
        "null-rejected",
        "a NULL output the ABI allows (DETAIL) was rejected",
    ),
    (
        "call-returned",
        "a call with valid arguments returned an error or an implausible value",
    ),
    (
        "implausible-value",
        "a value no working clock, CPU or generator gives",
    ),
    (
        "bad-pointer-returned",
        "a bad pointer was answered with this return value (DETAIL) instead of EFAULT or SIGSEGV",
    ),
    (
        "bad-pointer-signal",
        "a bad pointer killed the call with another signal (DETAIL)",
    ),
    (
        "bad-pointer-wrong-fault",
        "EFAULT where the spec says SIGSEGV, or the reverse",
    ),
    ("bad-pointer-hung", "a call with a bad pointer hung"),
    (
        "bad-pointer-rejected-clock",
        "a clock the syscall rejects (DETAIL) was not rejected alike by the vDSO given a bad pointer",
    ),
    (
        "bad-pointer-null",
        "NULL where it is allowed was not accepted, or an invalid clock with NULL was not EINVAL",
    ),
    (
        "wrote-outside-output",
        "the call wrote outside its output buffer DETAIL",
    ),
    (
        "call-crashed",
        "a call with valid arguments killed its process with a signal (DETAIL)",
    ),
    ("call-hung", "a call with valid arguments did not return"),
    (
        "fell-back",
        "DETAIL fell back to the syscall where the spec says it is served",
    ),
    (
        "served-not-fallback",
        "DETAIL was served where the spec says it falls back",
    ),
    (
        "failed-under-trap",
        "DETAIL failed with an errno without entering the kernel",
    ),
    (
        "error-ignored",
        "DETAIL made a fallback syscall, which was refused, and returned something else than its errno",
    ),
    (
        "kernel-entered",
        "DETAIL entered the kernel with a syscall no fallback makes",
    ),
    (
        "timens-offset",
        "a clock inside a time namespace does not carry the namespace's offset (DETAIL)",
    ),
    (
        "timens-left",
        "after setns back to the parent's time namespace a clock still carries an offset (DETAIL), or was not read",
    ),
    (
        "timens-resolution",
        "a resolution inside a time namespace is not the syscall's (DETAIL)",
    ),
    (
        "timens-getrandom",
        "getrandom is not served inside a time namespace",
    ),
    ("went-backwards", "a clock went backwards"),
    (
        "vsyscall-mode",
        "the vsyscall page's mode in /proc/self/maps is not the kernel command line's, or not one the spec allows",
    ),
    (
        "vsyscall-access",
        "a read or call of the vsyscall page faulted where its mode serves it, or succeeded where it must fault (DETAIL: which)",
    ),
    (
        "vsyscall-returned",
        "a vsyscall entry returned another value than it must (DETAIL: which)",
    ),
    (
        "vsyscall-differs",
        "a vsyscall entry stored a value outside the syscall's readings around it (DETAIL: which)",
    ),
    (
        "reading-ahead",
        "a REALTIME function read ahead of REALTIME at the moment it was read (DETAIL: which)",
    ),
    (
        "reading-behind",
        "a fine REALTIME function read behind REALTIME at the moment it was read, beyond its unit (DETAIL: which)",
    ),
    (
        "reading-out-of-order",
        "a REALTIME function read less than an earlier reading it must follow (DETAIL: which)",
    ),
    (
        "return-address",
        "the kernel entered a signal handler with another return address than the vDSO trampoline",
    ),
    (
        "trampoline-outside-exec",
        "a signal trampoline is not inside an executable segment",
    ),
    (
        "kuser-version",
        "arm's __kuser_helper_version is not 1 to the number of slots the page holds",
    ),
    (
        "kuser-helper",
        "a kuser helper did not do what the kernel's documentation says (DETAIL: which helper)",
    ),
];

/// Whether symptom `pattern` of a spec deviation (`ID`, `ID:DETAIL`, or
/// `ID:PREFIX*`) names `symptom`.
pub fn symptom_matches(pattern: &str, symptom: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => symptom.starts_with(prefix),
        None => pattern == symptom,
    }
}

#[cfg(test)]
mod tests {
    use super::symptoms;
    use std::path::Path;

    /// The symptom ids written as literals in `Problem::new("…"` and
    /// `Problem::about("…"` calls under `dir`, with the file each is in.
    fn literal_ids(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                literal_ids(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests may make problems of any id.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for call in ["Problem::new(", "Problem::about("] {
                for (at, _) in text.match_indices(call) {
                    let rest = text[at + call.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue; // an id held in a variable
                    };
                    let id = &rest[..rest.find('"').unwrap()];
                    found.push((id.to_string(), path.display().to_string()));
                }
            }
        }
    }

    /// Every symptom a judge writes as a literal is in the catalogue (the
    /// groups' or its kind's), so a deviation can name it and `spec symptoms`
    /// lists it; an id no judge writes is not.
    #[test]
    fn every_symptom_a_judge_reports_is_catalogued() {
        let mut found = Vec::new();
        literal_ids(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 40, "only {} ids found", found.len());
        let catalogue = symptoms();
        for (id, file) in &found {
            assert!(
                id.is_empty() || catalogue.iter().any(|(c, _)| c == id),
                "{file}: symptom `{id}` is in no catalogue (checks::result or its kind's description)"
            );
        }
        let ids: Vec<&str> = catalogue.iter().map(|(c, _)| *c).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "a symptom id twice");
    }
}
