//! EFAULT vs SIGSEGV: every pointer-taking function, given bad pointers, must do what
//! the raw syscall does (EFAULT) or what the spec allows instead (SIGSEGV). Each case
//! runs in its own process; the child reports the syscall's answer before it risks
//! the vDSO call.

use super::clocks::errno_name;
use crate::checks::group::{About, CheckGroup, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, BadPointer, SymbolKind};
use crate::vdso::syscall::Errno;
use serde::{Deserialize, Serialize};

pub use crate::vdso::arena::PtrArg;

/// The `badptr` group: each pointer-taking function with each bad pointer, one
/// child process per case (the call may kill it).
pub struct BadPointerGroup;
pub static GROUP: BadPointerGroup = BadPointerGroup;

impl CheckGroup for BadPointerGroup {
    fn about(&self) -> About {
        About {
            group: Group::BadPointer,
            name: "badptr",
            column: Some("bad-pointer"),
            runs: Runs::InChildThatMayDie,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            for case in cases_for(sym.kind) {
                add(
                    format!("{}::{}", subject(sym), case.label(sym.kind)),
                    Case {
                        pointers: Some(case),
                        ..Case::symbol(i)
                    },
                    format!("bad pointers: {:?} (spec)", spec.bad_pointer),
                );
            }
        }
    }

    fn probe(
        &self,
        check: &PlannedCheck,
        target: &Target,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, CheckResult> {
        let spec = &target.spec;
        let sym = check.case.spec_symbol(spec)?;
        let case = check
            .case
            .pointers
            .as_ref()
            .ok_or_else(|| CheckResult::fail("not a bad-pointer case"))?;
        let (_, f) = super::live_kind(sym, spec.error_convention)?;
        run_case(f, case, report).map_err(CheckResult::fail)
    }

    fn judge_probe(
        &self,
        check: &PlannedCheck,
        spec: &ArchSpec,
        sys: Option<Result<isize, Errno>>,
        call: CallOutcome,
    ) -> CheckResult {
        match (check.case.spec_symbol(spec), &check.case.pointers) {
            (Ok(sym), Some(case)) => judge_bad_pointer(sym.kind, case, spec.bad_pointer, sys, call),
            (Err(r), _) => r,
            (_, None) => CheckResult::fail("not a bad-pointer case"),
        }
    }
}

/// One bad-pointer case of a function: its pointer arguments and the clock id (for
/// clock functions; -1 is vdsotest's "invalid clock with NULL must be EINVAL").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtrCase {
    pub args: Vec<PtrArg>,
    #[serde(default)]
    pub clock: i32,
}

impl PtrCase {
    pub fn label(&self, kind: SymbolKind) -> String {
        let args: Vec<String> = arg_names(kind)
            .zip(&self.args)
            .map(|(n, a)| format!("{n}={}", a.name()))
            .collect();
        let mut label = args.join(",");
        if self.clock != 1 && kind_info(kind).takes_clock {
            label.push_str(&format!(",clock={}", self.clock));
        }
        label
    }
}

/// The names of a kind's pointer arguments, in order.
fn arg_names(kind: SymbolKind) -> impl Iterator<Item = &'static str> {
    kind_info(kind).outputs.iter().map(|&(name, _)| name)
}

/// Pointer-taking kinds with a bad-pointer case list.
///
/// A straddling object stays naturally aligned (a misaligned one could earn SIGBUS for
/// the wrong reason), so scalars (`time_t`, getcpu's `unsigned`) have no straddle case.
pub fn cases_for(kind: SymbolKind) -> Vec<PtrCase> {
    let info = kind_info(kind);
    if !info.callable {
        return Vec::new();
    }
    let usable = move |a: &&PtrArg| !(info.scalar_outputs && **a == PtrArg::Straddle);
    // A clock-taking kind is called with MONOTONIC, the others' first argument is
    // their pointer (0 is a placeholder).
    let clock = if info.takes_clock { 1 } else { 0 };
    match info.outputs.len() {
        1 => {
            let mut v: Vec<PtrCase> = PtrArg::BAD
                .iter()
                .filter(usable)
                .map(|&a| PtrCase {
                    args: vec![a],
                    clock,
                })
                .collect();
            if info.takes_clock && !info.null_allowed {
                // An invalid clock with a NULL pointer: EINVAL comes first.
                v.push(PtrCase {
                    args: vec![PtrArg::Null],
                    clock: -1,
                });
            }
            v
        }
        2 => {
            let mut v = Vec::new();
            let all = || {
                std::iter::once(&PtrArg::Valid)
                    .chain(PtrArg::BAD.iter())
                    .filter(usable)
            };
            for &a in all() {
                for &b in all() {
                    let fine = |p| p == PtrArg::Valid || (p == PtrArg::Null && info.null_allowed);
                    let both_fine = fine(a) && fine(b);
                    if !both_fine {
                        v.push(PtrCase {
                            args: vec![a, b],
                            clock,
                        });
                    }
                }
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Whether NULL is allowed (and means "don't store"): for every pointer except
/// clock_gettime's timespec and getrandom's buffer.
fn null_allowed(kind: SymbolKind) -> bool {
    kind_info(kind).null_allowed
}

/// Must this case fault (EFAULT from the syscall)?
pub fn must_fault(kind: SymbolKind, case: &PtrCase) -> bool {
    if case.clock == -1 {
        return false; // the invalid clock is rejected first: EINVAL
    }
    case.args.iter().any(|a| match a {
        PtrArg::Valid => false,
        PtrArg::Null => !null_allowed(kind),
        _ => true,
    })
}

pub use crate::checks::group::CallOutcome;

/// A failure with one problem of symptom `symptom`.
fn failed(symptom: &str, message: String) -> CheckResult {
    CheckResult::from_symptoms(vec![Problem::new(symptom, message)])
}

/// Judges a case from the syscall's answer (`None`: no such syscall here) and the vDSO's.
pub fn judge_bad_pointer(
    kind: SymbolKind,
    case: &PtrCase,
    expect: BadPointer,
    sys: Option<Result<isize, Errno>>,
    vdso: CallOutcome,
) -> CheckResult {
    let fault = must_fault(kind, case);
    let mut notes = Vec::new();
    match sys {
        Some(Err(libc::EFAULT)) if fault => {}
        Some(Err(libc::EINVAL)) if case.clock == -1 => {}
        Some(Ok(_)) if !fault && case.clock != -1 => {}
        Some(other) => notes.push(format!(
            "the syscall answered {} where {} was expected",
            other.map_or_else(errno_name, |v| v.to_string()),
            if fault { "EFAULT" } else { "success" }
        )),
        None => notes.push("no syscall of this kind on this architecture to compare with".into()),
    }
    let verdict = match (vdso, fault) {
        (CallOutcome::Hung, _) => failed("bad-pointer-hung", "the vDSO call hung".into()),
        (CallOutcome::Signal(sig), true) if sig == libc::SIGSEGV => match expect {
            BadPointer::Sigsegv | BadPointer::EfaultOrSigsegv => CheckResult::pass(),
            BadPointer::Efault => failed(
                "bad-pointer-wrong-fault",
                "killed by SIGSEGV; the spec says EFAULT".into(),
            ),
        },
        (CallOutcome::Signal(sig), _) => failed(
            &format!("bad-pointer-signal:{sig}"),
            format!("killed by signal {sig}"),
        ),
        (CallOutcome::Returned(r), true) if r == -i64::from(libc::EFAULT) => match expect {
            BadPointer::Efault | BadPointer::EfaultOrSigsegv => CheckResult::pass(),
            BadPointer::Sigsegv => failed(
                "bad-pointer-wrong-fault",
                "returned EFAULT; the spec says SIGSEGV".into(),
            ),
        },
        (CallOutcome::Returned(r), true) => failed(
            &format!("bad-pointer-returned:{r}"),
            format!(
                "returned {r} for a bad pointer; expected EFAULT{}",
                if expect == BadPointer::Efault {
                    ""
                } else {
                    " or SIGSEGV"
                }
            ),
        ),
        (CallOutcome::Returned(r), false) if case.clock == -1 => {
            if r == -i64::from(libc::EINVAL) {
                CheckResult::pass()
            } else {
                failed(
                    "bad-pointer-null",
                    format!("an invalid clock with a NULL timespec returned {r}, not EINVAL"),
                )
            }
        }
        (CallOutcome::Returned(r), false) => {
            let ok = if kind_info(kind).returns_seconds {
                r > 0
            } else {
                r >= 0
            };
            if ok {
                CheckResult::pass()
            } else {
                failed(
                    "bad-pointer-null",
                    format!("returned {r}, but NULL is allowed here and must succeed"),
                )
            }
        }
    };
    verdict.with_notes(notes)
}

/// Child side: one case of `kind`'s function `f`. The syscall's answer is passed
/// to `report` before the vDSO is called, because the vDSO call may kill this
/// process. Returns the vDSO's raw return value.
pub fn run_case(
    f: crate::vdso::Resolved,
    case: &PtrCase,
    report: &mut dyn FnMut(Option<Result<isize, Errno>>),
) -> Result<i64, String> {
    let info = kind_info(f.kind());
    let kind = info
        .live
        .ok_or_else(|| format!("no bad-pointer cases for a {}", info.name))?;
    let mut returned = Err("the kind gave no function to call".to_string());
    kind.pointers(f, &mut |call| returned = call.bad_pointer(case, report))?;
    returned
}
