//! What became of one function's calls, and the `fuzz` check's verdict on it.

use super::FuzzCall;
use crate::checks::{CheckResult, Problem, Verdict};
use crate::spec::SymbolKind;
use std::collections::BTreeMap;

/// How the judge saw one call.
#[derive(Debug, Clone)]
pub enum Seen {
    Agreed,
    /// A disagreement the spec's deviations explain: their descriptions.
    Deviation(String),
    /// A disagreement they do not: its symptom ids, and the verdict.
    Finding(Vec<String>, CheckResult),
    /// The function is not here (not in this vDSO, no vDSO, an ABI this build
    /// cannot call).
    Absent(String),
    /// This call could not be made (a resource refused, a state that does not fit).
    NotMade(String),
}

impl Seen {
    /// How the judge sees `result`, the verdict on one call.
    pub fn of(result: CheckResult) -> Seen {
        match &result.verdict {
            Verdict::Pass | Verdict::Xpass { .. } => Seen::Agreed,
            Verdict::Xfail { reason } => Seen::Deviation(
                reason
                    .split_once(": ")
                    .map_or(reason.as_str(), |(_, d)| d)
                    .to_string(),
            ),
            Verdict::Fail { .. } => Seen::Finding(super::symptom_ids(&result), result),
            Verdict::Skip { reason } if result.environment => Seen::NotMade(reason.clone()),
            Verdict::Skip { reason } => Seen::Absent(reason.clone()),
        }
    }
}

/// What became of the calls of one function.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// `NAME@VERSION`.
    pub subject: String,
    pub calls: u64,
    pub agreed: u64,
    /// Calls whose disagreement a deviation of the spec explains, per deviation.
    pub deviations: BTreeMap<String, u64>,
    /// Calls that showed a finding.
    pub disagreed: u64,
    /// Calls that could not be made, per reason.
    pub not_made: BTreeMap<String, u64>,
    /// Why the function was not fuzzed at all.
    pub skipped: Option<String>,
}

/// A disagreement the spec does not record: its first call, the simplest call
/// found that shows the same symptoms, and how many calls showed them.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The spec symbol (an index into `symbols`).
    pub symbol: usize,
    pub kind: SymbolKind,
    pub subject: String,
    pub symptoms: Vec<String>,
    pub first_index: u64,
    pub first: FuzzCall,
    pub shrunk: FuzzCall,
    /// The verdict on the shrunk call.
    pub result: CheckResult,
    pub count: u64,
    /// Which path the shrunk call took through the vDSO (served, fell back),
    /// or why that was not watched.
    pub path: Option<String>,
}

impl Tally {
    /// Counts one call seen as `seen` (of call `index` `call`), adding a
    /// finding to `findings` or counting it there; `false` when the function
    /// turned out not to be here (nothing more to call).
    pub fn count(
        &mut self,
        seen: Seen,
        at: (usize, SymbolKind, u64, &FuzzCall),
        findings: &mut Vec<Finding>,
    ) -> bool {
        self.calls += 1;
        match seen {
            Seen::Agreed => self.agreed += 1,
            Seen::Deviation(d) => *self.deviations.entry(d).or_default() += 1,
            Seen::NotMade(why) => *self.not_made.entry(why).or_default() += 1,
            Seen::Absent(why) => {
                self.calls -= 1;
                self.skipped = Some(why);
                return false;
            }
            Seen::Finding(symptoms, result) => {
                self.disagreed += 1;
                let (symbol, kind, index, call) = at;
                match findings
                    .iter_mut()
                    .find(|f| f.symbol == symbol && f.symptoms == symptoms)
                {
                    Some(f) => f.count += 1,
                    None => findings.push(Finding {
                        symbol,
                        kind,
                        subject: self.subject.clone(),
                        symptoms,
                        first_index: index,
                        first: call.clone(),
                        shrunk: call.clone(),
                        result,
                        count: 1,
                        path: None,
                    }),
                }
            }
        }
        true
    }

    /// The `fuzz` check's verdict: FAIL naming each finding (its simplest
    /// call and symptoms: a deviation can name them), XFAIL when every
    /// disagreement is a recorded deviation, a skip when nothing was called,
    /// else a pass; the counts in the notes.
    pub fn verdict(&self, seed: u64, findings: &[Finding]) -> CheckResult {
        if let Some(why) = &self.skipped {
            return CheckResult::skip(why.clone());
        }
        if self.calls == 0 || self.calls == self.not_made.values().sum::<u64>() {
            let why = self.not_made.keys().next().cloned();
            return CheckResult::unrunnable(why.unwrap_or_else(|| "no call was made".into()));
        }
        let mut notes = vec![format!(
            "seed {seed}: {} calls, {} agree with the syscall, {} show a recorded deviation, {} a finding",
            self.calls,
            self.agreed,
            self.deviations.values().sum::<u64>(),
            self.disagreed
        )];
        notes.extend(
            self.deviations
                .iter()
                .map(|(d, n)| format!("{n} calls: {d}")),
        );
        notes.extend(
            self.not_made
                .iter()
                .map(|(w, n)| format!("{n} calls not made: {w}")),
        );
        if !findings.is_empty() {
            let problems = findings
                .iter()
                .flat_map(|f| {
                    let call = format!(
                        "{} {}",
                        f.subject,
                        f.shrunk.show(&crate::kinds::kind_info(f.kind))
                    );
                    f.result
                        .problems_with_symptoms()
                        .into_iter()
                        .map(move |(message, symptom)| {
                            Problem::new(
                                symptom,
                                format!(
                                    "{message} (simplest call: {call}; {} calls showed it{})",
                                    f.count,
                                    f.path.as_ref().map_or(String::new(), |p| format!("; {p}"))
                                ),
                            )
                        })
                })
                .collect();
            return CheckResult::from_symptoms(problems).with_notes(notes);
        }
        if !self.deviations.is_empty() {
            let reason = format!(
                "every disagreement is a recorded deviation: {}",
                self.deviations
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            return CheckResult {
                verdict: Verdict::Xfail { reason },
                notes,
                ..CheckResult::pass()
            };
        }
        CheckResult::pass().with_notes(notes)
    }
}
