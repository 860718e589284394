//! A call that writes outside its output buffer fails its check, whatever else it did:
//! the writes are seen by the guarded buffers of [`crate::vdso::guard`] and judged
//! here, from the record, so tests can feed it writes no real vDSO made.

use crate::checks::result::{CheckResult, Problem, Verdict};
use crate::vdso::guard::Overwrite;

/// `result` of a check whose calls wrote `overwrites` outside their outputs: a failure
/// naming each write, with the check's own problems after them.
pub fn judge_overwrites(result: CheckResult, overwrites: &[Overwrite]) -> CheckResult {
    if overwrites.is_empty() {
        return result;
    }
    let mut problems: Vec<Problem> = overwrites
        .iter()
        .map(|o| {
            let output = o.output.as_deref().unwrap_or("(a guarded page)");
            Problem::about("wrote-outside-output", output, o.describe())
        })
        .collect();
    let mut notes = Vec::new();
    match &result.verdict {
        Verdict::Fail { .. } | Verdict::Xfail { .. } => problems.extend(
            result
                .problems_with_symptoms()
                .into_iter()
                .map(|(message, symptom)| Problem::new(symptom, message)),
        ),
        Verdict::Skip { reason } => notes.push(format!("the check itself was skipped: {reason}")),
        Verdict::Pass | Verdict::Xpass { .. } => {}
    }
    notes.extend(result.notes);
    CheckResult::from_symptoms(problems).with_notes(notes)
}
