//! Differential fuzzing of the live vDSO (`vdsoconf fuzz-live`): seeded calls
//! of each function ([`generate`]), each made through the vDSO and its system
//! call in a throwaway child ([`execute`]), judged by the judges the checks use
//! (the kind's cross-check judge for valid pointers, the bad-pointer judge for
//! the others), with the spec's deviations recognised by their symptom ids
//! ([`judge`]). A disagreement no deviation explains is a finding: shrunk by
//! [`simpler`] and written as a C program by [`reproducer`].

mod call;
pub mod execute;
pub mod generate;
pub mod reproducer;
mod tally;

pub use call::{
    flags_label, ClockArg, CpuWhich, FdKind, FuzzCall, FuzzShape, RandomArgs, StateCase,
    TimeOffsets, Whose,
};
pub use generate::{generate, Rng};
pub use tally::{Finding, Seen, Tally};

use crate::checks::deviation::apply_deviations_to_function;
use crate::checks::live::badptr::{judge_bad_pointer, PtrCase};
use crate::checks::live::overwrite::judge_overwrites;
use crate::checks::{CallOutcome, CheckResult, Problem};
use crate::spec::{ArchSpec, KernelVersion, Provider, SymbolSpec};
use crate::vdso::arena::PtrArg;
use crate::vdso::guard::Overwrite;
use crate::vdso::syscall::Errno;

/// What the child of one call said, and how it ended.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Valid pointers: the kind's judge ran in the child.
    Judged {
        result: CheckResult,
        overwrites: Vec<Overwrite>,
    },
    /// Valid pointers, and the child died or hung before its judge answered.
    Died(CallOutcome),
    /// A bad pointer: the syscall's answer and how the vDSO call ended.
    Probed {
        sys: Option<Result<isize, Errno>>,
        vdso: CallOutcome,
        overwrites: Vec<Overwrite>,
    },
}

/// The spec, provider and kernel a call is judged against.
pub struct Judging<'a> {
    pub spec: &'a ArchSpec,
    pub provider: Provider,
    pub kernel: Option<KernelVersion>,
}

/// The verdict on `call` of `sym` from its child's `answer`, with the spec's
/// deviations applied: a failure that the deviations recorded for the
/// function explain in full, by their symptoms, is XFAIL naming them (a call
/// is another combination of arguments than the checks a deviation names
/// try: any of the function's deviations may explain it).
pub fn judge(
    j: &Judging,
    sym: &SymbolSpec,
    call: &FuzzCall,
    clock: i32,
    answer: Answer,
) -> CheckResult {
    let result = match answer {
        Answer::Judged { result, overwrites } => judge_overwrites(result, &overwrites),
        Answer::Died(how) => died(how),
        Answer::Probed {
            sys,
            vdso,
            overwrites,
        } => {
            let case = PtrCase {
                args: call.pointers.clone(),
                clock,
            };
            let judged = if answered_alike(sys, vdso) {
                CheckResult::pass()
            } else {
                judge_bad_pointer(sym.kind, &case, j.spec.bad_pointer, sys, vdso)
            };
            judge_overwrites(judged, &overwrites)
        }
    };
    apply_deviations_to_function(j.spec, j.provider, j.kernel, &sym.name, result)
}

/// Whether the vDSO returned just what the system call did: no disagreement,
/// whatever the bad-pointer check demands of a vDSO (a partial count for a
/// buffer whose end is unmapped, where the check wants EFAULT or a fault).
fn answered_alike(sys: Option<Result<isize, Errno>>, vdso: CallOutcome) -> bool {
    match (sys, vdso) {
        (Some(Ok(s)), CallOutcome::Returned(v)) => s as i64 == v,
        (Some(Err(e)), CallOutcome::Returned(v)) => v == -i64::from(e),
        _ => false,
    }
}

/// A call with valid arguments that killed its process or never returned.
pub(crate) fn died(how: CallOutcome) -> CheckResult {
    let problem = match how {
        CallOutcome::Signal(sig) => Problem::about(
            "call-crashed",
            signal_name(sig),
            format!("the call killed its process with {}", signal_name(sig)),
        ),
        CallOutcome::Hung => Problem::new("call-hung", "the call did not return"),
        CallOutcome::Returned(r) => Problem::new(
            "call-returned",
            format!("the child ended without its judge's answer after the call returned {r}"),
        ),
    };
    CheckResult::from_symptoms(vec![problem])
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGFPE => "SIGFPE".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGSYS => "SIGSYS".into(),
        libc::SIGTRAP => "SIGTRAP".into(),
        other => format!("signal {other}"),
    }
}

/// What the fallback trap saw of a call, as a finding says it.
pub fn describe_path(service: &crate::checks::live::served::Service) -> String {
    use crate::checks::live::clocks::errno_name;
    use crate::checks::live::served::{syscall_name, Service};
    match *service {
        Service::Served => "served in user space: the vDSO made no system call".into(),
        Service::Fallback => {
            "fell back: the vDSO made its system call and passed its answer on".into()
        }
        Service::Entered { first, status, .. } => format!(
            "entered the kernel with {} and returned {}",
            syscall_name(first),
            status.map_or_else(errno_name, |()| "success".into())
        ),
        Service::Failed(e) => format!("failed with {} without entering the kernel", errno_name(e)),
    }
}

/// The symptom ids of a failed result (without their details), sorted: what
/// makes two findings the same finding, and what a shrunk call must keep.
pub fn symptom_ids(result: &CheckResult) -> Vec<String> {
    let mut ids: Vec<String> = result
        .problems_with_symptoms()
        .into_iter()
        .map(|(_, s)| s.split(':').next().unwrap_or("").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Calls one step simpler than `call`, simplest first: each pointer made valid,
/// the clock id made a smaller or plainer one, getrandom's length shortened,
/// a flag bit cleared, the state made fresh, the CPU index made 0. Shrinking
/// keeps the first one that still shows the same symptoms, until none does.
pub fn simpler(call: &FuzzCall) -> Vec<FuzzCall> {
    let mut out = Vec::new();
    let mut with = |change: &dyn Fn(&mut FuzzCall)| {
        let mut c = call.clone();
        change(&mut c);
        if c != *call && !out.contains(&c) {
            out.push(c);
        }
    };
    for (i, &p) in call.pointers.iter().enumerate() {
        if p != PtrArg::Valid {
            with(&|c| c.pointers[i] = PtrArg::Valid);
            if p != PtrArg::Null {
                with(&|c| c.pointers[i] = PtrArg::Null);
            }
        }
    }
    if let Some(clock) = call.clock {
        for plainer in simpler_clocks(clock) {
            with(&|c| c.clock = Some(plainer));
        }
    }
    // A bad buffer is tried with the bad-pointer cases' length, flags and state.
    if let Some(r) = call.random.filter(|_| call.pointers_valid()) {
        // 0, then ever smaller steps down: a length range is found in a few rounds.
        let steps = std::iter::successors(Some(r.len), |&d| (d > 1).then_some(d / 2));
        for len in steps.map(|d| r.len - d) {
            with(&|c| c.random = Some(RandomArgs { len, ..r }));
        }
        for bit in 0..32 {
            if r.flags & (1 << bit) != 0 {
                with(&|c| {
                    c.random = Some(RandomArgs {
                        flags: r.flags & !(1 << bit),
                        ..r
                    })
                });
            }
        }
        with(&|c| {
            c.random = Some(RandomArgs {
                state: StateCase::Fresh,
                ..r
            })
        });
    }
    if call.pin.is_some_and(|p| p != 0) {
        with(&|c| c.pin = Some(0));
    }
    if call.timens.is_some() {
        with(&|c| c.timens = None);
    }
    out
}

fn simpler_clocks(clock: ClockArg) -> Vec<ClockArg> {
    match clock {
        ClockArg::Id(id) => {
            let mut ids = vec![0, 1, id / 2, id - id.signum()];
            if id < 0 {
                ids.insert(0, -1);
            }
            ids.into_iter()
                .filter(|&i| i.unsigned_abs() < id.unsigned_abs())
                .map(ClockArg::Id)
                .collect()
        }
        ClockArg::Cpu { of, which, thread } => {
            let mut v = Vec::new();
            if of != Whose::Zero {
                v.push(ClockArg::Cpu {
                    of: Whose::Zero,
                    which,
                    thread,
                });
            }
            if which != CpuWhich::Prof {
                v.push(ClockArg::Cpu {
                    of,
                    which: CpuWhich::Prof,
                    thread,
                });
            }
            if thread {
                v.push(ClockArg::Cpu {
                    of,
                    which,
                    thread: false,
                });
            }
            v
        }
        ClockArg::Fd(FdKind::NotAClock) => vec![ClockArg::Fd(FdKind::Closed)],
        ClockArg::Fd(FdKind::Closed) => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
