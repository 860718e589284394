//! Known deviations of a provider's vDSO (spec `deviations`): a check that ran and
//! saw only what one explains is XFAIL, naming it; a check that passes where one was
//! expected is XPASS, so the spec entry can be narrowed once kernels are fixed
//! (kselftest's words for both). An intermittent deviation (a race) changes no
//! verdict: when it shows, a pass with a note. A deviation
//! names the symptoms it explains by id (`result-differs:AUX*`), never by the
//! text of a message, so rewording a message cannot break one.

use super::findings::FINDINGS;
use super::plan::PlannedCheck;
use super::result::{symptom_matches, symptoms, CheckResult, Verdict};
use crate::spec::{ArchSpec, DeviationSpec, KernelVersion, Provider};

fn applies(
    d: &DeviationSpec,
    name: &str,
    provider: Provider,
    kernel: Option<KernelVersion>,
) -> bool {
    in_scope(d, provider, kernel) && d.checks.iter().any(|c| names_check(c, name))
}

/// Whether deviation `d` is about `provider`'s vDSO on `kernel`.
fn in_scope(d: &DeviationSpec, provider: Provider, kernel: Option<KernelVersion>) -> bool {
    // Kernel versions bound only the kernel's own vDSO.
    let in_range = match (provider, kernel) {
        (Provider::Kernel, Some(k)) => {
            d.since.is_none_or(|s| k >= s) && d.until.is_none_or(|u| k < u)
        }
        _ => true,
    };
    d.providers.contains(&provider) && in_range
}

/// Whether a deviation's `checks` entry names check `name`: the entry is a
/// prefix of the name, in which each `*` stands for any text
/// (`badptr::__vdso_clock_getres*clock=AUX0`).
pub fn names_check(entry: &str, name: &str) -> bool {
    let mut parts = entry.split('*');
    let Some(rest) = name.strip_prefix(parts.next().unwrap_or("")) else {
        return false;
    };
    let mut rest = rest;
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `id` is a symptom id: a live check's or a finding's.
fn known_symptom(id: &str) -> bool {
    symptoms().iter().any(|(s, _)| *s == id) || FINDINGS.iter().any(|(f, _, _)| *f == id)
}

/// The first problem with deviation `index` of `spec`, if it has one: no symptom,
/// a symptom that is not `ID`, `ID:DETAIL` or `ID:PREFIX*` with a known `ID`, no
/// check, or a `checks` entry that is the prefix of no check of the spec's plan.
pub fn deviation_problem(spec: &ArchSpec, index: usize) -> Option<String> {
    let d = spec.deviations.get(index)?;
    if d.symptoms.is_empty() {
        return Some(
            "deviation lists no symptoms: name the symptom id of every problem it explains (ID, ID:DETAIL or ID:PREFIX*)".into(),
        );
    }
    for symptom in &d.symptoms {
        if symptom.trim().is_empty() {
            return Some("deviation has an empty symptom: name a symptom id".into());
        }
        let id = symptom.split(':').next().unwrap_or("");
        if !known_symptom(id) {
            return Some(format!(
                "deviation symptom {symptom:?} is not a symptom id (ID, ID:DETAIL or ID:PREFIX*; the ids are listed by `vdsoconf spec symptoms`)"
            ));
        }
    }
    if d.checks.is_empty() {
        return Some("deviation lists no checks".into());
    }
    let names: Vec<String> = super::plan::plan(spec)
        .iter()
        .map(|c| format!("{}::{}", c.group.name(), c.subject))
        .collect();
    d.checks
        .iter()
        .find(|c| c.trim().is_empty() || !names.iter().any(|n| names_check(c, n)))
        .map(|c| {
            format!(
                "deviation check {c:?} names no check of this spec (GROUP::SUBJECT, e.g. {})",
                names.first().map_or("", String::as_str)
            )
        })
}

/// Rewrites `result` of `check` under the spec's known deviations.
pub fn apply_deviations(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    check: &PlannedCheck,
    result: CheckResult,
) -> CheckResult {
    let name = format!("{}::{}", check.group.name(), check.subject);
    apply_deviations_named(spec, provider, kernel, &name, result)
}

/// [`apply_deviations`] for what the check named `name` (`GROUP::SUBJECT`)
/// would have seen.
fn apply_deviations_named(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    name: &str,
    result: CheckResult,
) -> CheckResult {
    let relevant = spec
        .deviations
        .iter()
        .filter(|d| applies(d, name, provider, kernel))
        .collect();
    explain(spec, provider, relevant, result)
}

/// [`apply_deviations`] for a failure of function `symbol` that no check
/// planned (a fuzzed call: another combination of arguments than the checks
/// try): every deviation whose `checks` name a check of that function may
/// explain it, by its symptoms. An entry names the functions whose names it
/// begins, as it names checks (`crosscheck::__vdso_clock_getres` names
/// `__vdso_clock_getres_time64`'s too). A pass stays a pass (one random call
/// need not show a recorded bug).
pub fn apply_deviations_to_function(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    symbol: &str,
    result: CheckResult,
) -> CheckResult {
    if !matches!(result.verdict, Verdict::Fail { .. }) {
        return result;
    }
    let relevant = spec
        .deviations
        .iter()
        .filter(|d| in_scope(d, provider, kernel))
        .filter(|d| {
            d.checks
                .iter()
                .any(|c| checked_function(c).is_some_and(|f| symbol.starts_with(f)))
        })
        .collect();
    explain(spec, provider, relevant, result)
}

/// The function a deviation's `checks` entry names (`crosscheck::NAME`,
/// `badptr::NAME*CASE`, `monotonic::NAME@VERSION::CLOCK`), if it names one.
fn checked_function(entry: &str) -> Option<&str> {
    let (_, rest) = entry.split_once("::")?;
    let end = rest.find(['*', '@', ':']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

/// `result` under the deviations `relevant` to it.
fn explain(
    spec: &ArchSpec,
    provider: Provider,
    relevant: Vec<&DeviationSpec>,
    result: CheckResult,
) -> CheckResult {
    if relevant.is_empty() {
        return result;
    }
    match &result.verdict {
        Verdict::Fail { message } => {
            let problems = result.problems_with_symptoms();
            let explained_by = |(_, symptom): &(String, String)| {
                relevant.iter().copied().find(|d| {
                    !symptom.is_empty() && d.symptoms.iter().any(|s| symptom_matches(s, symptom))
                })
            };
            if !problems.iter().all(|p| explained_by(p).is_some()) {
                return result;
            }
            let mut used: Vec<&DeviationSpec> = problems.iter().filter_map(explained_by).collect();
            used.dedup_by(|a, b| a.description == b.description);
            if used.iter().all(|d| d.intermittent) {
                let mut notes = vec![format!(
                    "the recorded race showed (an intermittent deviation in spec/{}.yaml, so a pass either way): {message}",
                    spec.arch
                )];
                notes.extend(used.iter().map(|d| format!("evidence: {}", d.evidence)));
                notes.extend(result.notes);
                return CheckResult::pass().with_notes(notes);
            }
            let owner = match provider {
                Provider::Kernel => "kernel",
                Provider::Qemu => "QEMU",
            };
            let reason = format!(
                "known {owner} bug (spec/{}.yaml `deviations`), and nothing else: {}",
                spec.arch,
                used.iter()
                    .map(|d| d.description.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let mut notes = vec![format!("observed: {message}")];
            notes.extend(used.iter().map(|d| format!("evidence: {}", d.evidence)));
            notes.extend(result.notes);
            CheckResult {
                verdict: Verdict::Xfail { reason },
                notes,
                problems: result.problems,
                symptoms: result.symptoms,
                environment: false,
            }
        }
        Verdict::Pass => {
            let names: Vec<&str> = relevant
                .iter()
                .filter(|d| !d.intermittent)
                .map(|d| d.description.as_str())
                .collect();
            if names.is_empty() {
                return result;
            }
            let reason = format!(
                "expected deviation not observed (fixed? narrow `until` or `providers` in spec/{}.yaml): {}",
                spec.arch,
                names.join("; ")
            );
            CheckResult {
                verdict: Verdict::Xpass { reason },
                ..result
            }
        }
        Verdict::Skip { .. } | Verdict::Xfail { .. } | Verdict::Xpass { .. } => result,
    }
}
