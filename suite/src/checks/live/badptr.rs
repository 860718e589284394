//! EFAULT vs SIGSEGV: every pointer-taking function, given bad pointers, must do what
//! the raw syscall does (EFAULT) or what the spec allows instead (SIGSEGV). Each case
//! runs in its own process; the child reports the syscall's answer before it risks
//! the vDSO call.

use super::clocks::errno_name;
use crate::checks::group::{About, CheckGroup, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, BadPointer, ClockId, SymbolKind};
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
            what: "NULL, all-ones, PROT_NONE, read-only, page-straddling and kernel pointers, every combination, each in its own process: the vDSO does what the spec's `bad_pointer` allows where the syscall says EFAULT",
            column: Some("bad-pointer"),
            runs: Runs::InChildThatMayDie,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        let clocks = clocks_to_try(spec);
        for (i, sym) in spec.symbols.iter().enumerate() {
            for case in cases_for(sym.kind, &clocks) {
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

    /// A provider that serves no clock in user space (QEMU's vDSO makes the
    /// syscall for every clock) has one path for all clocks: its MONOTONIC cases
    /// cover it, and the other clocks' are skips saying so.
    fn before_child(&self, check: &PlannedCheck, target: &Target) -> Option<CheckResult> {
        let case = check.case.pointers.as_ref()?;
        let served = target
            .spec
            .providers
            .get(target.provider)
            .served_clocks
            .as_ref()?;
        let other_clock = case.clock != ClockId::MONOTONIC.0 && case.clock != -1;
        let sym = check.case.spec_symbol(&target.spec).ok()?;
        (served.is_empty() && other_clock && kind_info(sym.kind).takes_clock).then(|| {
            CheckResult::skip(format!(
                "the {} provider serves no clock in user space (its functions make the syscall): one path for every clock, which the MONOTONIC cases check",
                target.provider.name()
            ))
        })
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
        if self.clock != ClockId::MONOTONIC.0 && kind_info(kind).takes_clock {
            let clock = ClockId(self.clock);
            match clock.name() {
                Some(name) => label.push_str(&format!(",clock={name}")),
                None => label.push_str(&format!(",clock={}", self.clock)),
            }
        }
        label
    }
}

/// The names of a kind's pointer arguments, in order.
fn arg_names(kind: SymbolKind) -> impl Iterator<Item = &'static str> {
    kind_info(kind).outputs.iter().map(|&(name, _)| name)
}

/// The clocks a clock function is given bad pointers with: every clock the
/// vDSO serves (the coarse, raw and high-resolution ones take different paths),
/// the first auxiliary clock where the spec serves them, and one clock it passes
/// to the syscall (its fallback must hand the pointer on as it was). MONOTONIC
/// comes first.
pub fn clocks_to_try(spec: &ArchSpec) -> Vec<i32> {
    let mut clocks = vec![ClockId::MONOTONIC.0];
    let aux = spec.clocks.aux_served_since.map(|_| ClockId(16));
    let served = spec.clocks.served.iter().copied().chain(aux);
    for clock in served.chain(spec.clocks.fallback.first().copied()) {
        if !clocks.contains(&clock.0) {
            clocks.push(clock.0);
        }
    }
    clocks
}

/// Pointer-taking kinds with a bad-pointer case list; a clock-taking kind has
/// each case with each of `clocks` (see [`clocks_to_try`]).
///
/// A straddling object stays naturally aligned (a misaligned one could earn SIGBUS for
/// the wrong reason), so scalars (`time_t`, getcpu's `unsigned`) have no straddle case.
pub fn cases_for(kind: SymbolKind, clocks: &[i32]) -> Vec<PtrCase> {
    let info = kind_info(kind);
    if !info.callable {
        return Vec::new();
    }
    let usable = move |a: &&PtrArg| !(info.scalar_outputs && **a == PtrArg::Straddle);
    // The other kinds' first argument is their pointer (0 is a placeholder).
    let clocks = if info.takes_clock { clocks } else { &[0] };
    match info.outputs.len() {
        1 => {
            let mut v: Vec<PtrCase> = clocks
                .iter()
                .flat_map(|&clock| {
                    PtrArg::BAD.iter().filter(usable).map(move |&a| PtrCase {
                        args: vec![a],
                        clock,
                    })
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
            for &clock in clocks {
                for &a in all() {
                    for &b in all() {
                        let fine =
                            |p| p == PtrArg::Valid || (p == PtrArg::Null && info.null_allowed);
                        if !(fine(a) && fine(b)) {
                            v.push(PtrCase {
                                args: vec![a, b],
                                clock,
                            });
                        }
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
    case.args.iter().any(|a| a.faults(null_allowed(kind)))
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
    if let Some(judged) = judge_rejected_clock(kind, case, sys, vdso) {
        return judged;
    }
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
        (CallOutcome::Signal(sig), true) if expect.allows_signal(sig) => CheckResult::pass(),
        (CallOutcome::Signal(sig), true) if sig == libc::SIGSEGV => failed(
            "bad-pointer-wrong-fault",
            "killed by SIGSEGV; the spec says EFAULT".into(),
        ),
        (CallOutcome::Signal(sig), _) => failed(
            &format!("bad-pointer-signal:{sig}"),
            format!("killed by signal {sig}"),
        ),
        (CallOutcome::Returned(r), true) if r == -i64::from(libc::EFAULT) => match expect {
            BadPointer::Efault
            | BadPointer::EfaultOrSigsegv
            | BadPointer::EfaultSigsegvOrSigbus => CheckResult::pass(),
            BadPointer::Sigsegv => failed(
                "bad-pointer-wrong-fault",
                "returned EFAULT; the spec says SIGSEGV".into(),
            ),
        },
        (CallOutcome::Returned(r), true) => failed(
            &format!("bad-pointer-returned:{r}"),
            format!(
                "returned {r} for a bad pointer; expected EFAULT{}",
                match expect {
                    BadPointer::Efault => "",
                    BadPointer::EfaultSigsegvOrSigbus => ", SIGSEGV or SIGBUS",
                    BadPointer::Sigsegv | BadPointer::EfaultOrSigsegv => " or SIGSEGV",
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

/// A clock this kernel rejects before it looks at the pointer (an auxiliary
/// clock not enabled, one the kernel predates): the vDSO must reject it with the
/// syscall's errno and touch nothing. `None` when the syscall accepted the clock.
fn judge_rejected_clock(
    kind: SymbolKind,
    case: &PtrCase,
    sys: Option<Result<isize, Errno>>,
    vdso: CallOutcome,
) -> Option<CheckResult> {
    let Some(Err(errno)) = sys else { return None };
    if !kind_info(kind).takes_clock || case.clock == -1 || errno == libc::EFAULT {
        return None;
    }
    let clock = ClockId(case.clock);
    let label = clock.name().map_or(case.clock.to_string(), str::to_string);
    Some(match vdso {
        CallOutcome::Returned(r) if r == -i64::from(errno) => {
            CheckResult::pass().with_notes(vec![format!(
                "this kernel rejects {label} ({}) before the pointer: so did the vDSO",
                errno_name(errno)
            )])
        }
        other => failed(
            &format!("bad-pointer-rejected-clock:{label}"),
            format!(
                "the syscall rejects {label} with {}; the vDSO {}",
                errno_name(errno),
                match other {
                    CallOutcome::Returned(r) => format!("returned {r}"),
                    CallOutcome::Signal(s) => format!("was killed by signal {s}"),
                    CallOutcome::Hung => "hung".into(),
                }
            ),
        ),
    })
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
