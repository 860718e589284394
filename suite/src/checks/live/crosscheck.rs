//! Cross-checks against the raw syscall: each vDSO result must agree with the
//! kernel's own answer around it.

use super::call::UnlockCase;
use super::clocks::{errno_name, is_coarse, ns, show, ClockCase, Reading};
use super::live_kind;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::ArchSpec;
use crate::vdso::restart::RestartReading;
use crate::vdso::signals::SignalReturn;
use crate::vdso::syscall::Errno;
use crate::vdso::{LockState, Returned, SyscallMap, Timespec, Timezone};

/// The `crosscheck` group: every symbol but the signal trampolines, compared with
/// the raw syscall in a child process.
pub struct CrossCheckGroup;
pub static GROUP: CrossCheckGroup = CrossCheckGroup;

impl CheckGroup for CrossCheckGroup {
    fn about(&self) -> About {
        About {
            group: Group::CrossCheck,
            name: "crosscheck",
            column: Some("cross-check"),
            runs: Runs::IN_CHILD,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            let what = kind_info(sym.kind).crosscheck_what;
            add(subject(sym), Case::symbol(i), what.into());
        }
    }

    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let spec = &ctx.target.spec;
        let sym = match check.case.spec_symbol(spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
        match live_kind(sym, spec.error_convention) {
            Ok((kind, f)) => kind.crosscheck(f),
            Err(r) => r,
        }
    }
}

fn normalized(t: &Timespec) -> bool {
    (0..1_000_000_000).contains(&t.nsec)
}

/// clock_gettime for every case: `before <= vdso <= after` for valid ids (coarse clocks
/// may lag by their resolution), the same errno for ids the syscall rejects, and a
/// rejected id must leave the output untouched (`untouched` reports that per id).
pub fn judge_gettime(
    cases: &[ClockCase],
    vdso: &mut dyn FnMut(i32) -> (Reading, bool),
    sys: &mut dyn FnMut(i32) -> Reading,
    sys_res: &mut dyn FnMut(i32) -> Reading,
) -> CheckResult {
    let mut problems = Vec::new();
    let mut rejected = Vec::new();
    for case in cases {
        let before = sys(case.id);
        let (got, untouched) = vdso(case.id);
        let after = sys(case.id);
        let what = case.describe();
        match (&before, &got, &after) {
            (Err(e), Err(v), _) if e == v => {
                if untouched {
                    rejected.push(format!("{}={}", case.id, errno_name(*e)));
                } else {
                    // Both facts in one sentence: the errno was right, the write was not.
                    problems.push(Problem::about(
                        "wrote-on-error",
                        case.label,
                        format!(
                            "{what}: rejected with {} as the syscall does, but wrote the timespec, which the syscall leaves alone",
                            errno_name(*v)
                        ),
                    ));
                }
            }
            (Err(e), other, _) => problems.push(Problem::about(
                "errno-differs",
                case.label,
                format!(
                    "{what}: syscall says {}, vDSO {}",
                    errno_name(*e),
                    show(other)
                ),
            )),
            (Ok(_), Err(v), _) => problems.push(Problem::about(
                "vdso-rejects",
                case.label,
                format!(
                    "{what}: syscall accepts it, vDSO fails with {}",
                    errno_name(*v)
                ),
            )),
            (Ok(b), Ok(v), Ok(a)) => {
                if !normalized(v) {
                    problems.push(Problem::about(
                        "not-normalized",
                        case.label,
                        format!("{what}: tv_nsec {} is not normalized", v.nsec),
                    ));
                    continue;
                }
                let slack = if is_coarse(case.id) {
                    sys_res(case.id).map(ns).unwrap_or(0)
                } else {
                    0
                };
                if ns(*v) < ns(*b) - slack || ns(*v) > ns(*a) {
                    problems.push(Problem::about(
                        "outside-syscall-readings",
                        case.label,
                        format!(
                            "{what}: vDSO {} is outside the syscall readings [{}, {}]{}",
                            show(&got),
                            show(&before),
                            show(&after),
                            if slack > 0 {
                                format!(" (allowing {slack} ns of coarse lag)")
                            } else {
                                String::new()
                            }
                        ),
                    ));
                }
            }
            (Ok(_), Ok(_), Err(e)) => problems.push(Problem::about(
                "syscall-failed",
                case.label,
                format!("{what}: second syscall failed with {}", errno_name(*e)),
            )),
        }
    }
    let note = format!(
        "{} clock ids checked; rejected as the syscall does, the timespec untouched: {}",
        cases.len(),
        rejected.join(" ")
    );
    CheckResult::from_symptoms(problems).with_notes(vec![note])
}

/// clock_getres: exactly the syscall's value or errno for every id, and a NULL `res`
/// gives the same status.
pub fn judge_getres(
    cases: &[ClockCase],
    vdso: &mut dyn FnMut(i32) -> Reading,
    vdso_null: &mut dyn FnMut(i32) -> Result<(), Errno>,
    sys: &mut dyn FnMut(i32) -> Reading,
) -> CheckResult {
    let mut problems = Vec::new();
    for case in cases {
        let (s, v) = (sys(case.id), vdso(case.id));
        if s != v {
            problems.push(Problem::about(
                "result-differs",
                case.label,
                format!(
                    "{}: syscall {}, vDSO {}",
                    case.describe(),
                    show(&s),
                    show(&v)
                ),
            ));
        }
        let null = vdso_null(case.id);
        if null != s.map(|_| ()) {
            problems.push(Problem::about(
                "null-differs",
                case.label,
                format!(
                    "{}: with a NULL res the vDSO gives {}, the syscall {}",
                    case.describe(),
                    null.map_or_else(errno_name, |()| "0".into()),
                    show(&s)
                ),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
}

/// One gettimeofday result: status, seconds, microseconds, timezone.
pub type Gtod = Result<(i64, i64, Timezone), Errno>;

/// gettimeofday: bracketed by syscall readings, the same timezone, and NULL `tv`,
/// NULL `tz` and both NULL accepted (`nulls` gives the status of those three calls).
pub fn judge_gettimeofday(
    before: Gtod,
    got: Gtod,
    after: Gtod,
    nulls: [Result<(), Errno>; 3],
) -> CheckResult {
    let mut problems = Vec::new();
    match (before, got, after) {
        (Ok(b), Ok(v), Ok(a)) => {
            let us = |t: &(i64, i64, Timezone)| i128::from(t.0) * 1_000_000 + i128::from(t.1);
            if !(0..1_000_000).contains(&v.1) {
                problems.push(Problem::new(
                    "not-normalized",
                    format!("tv_usec {} is not normalized", v.1),
                ));
            } else if us(&v) < us(&b) || us(&v) > us(&a) {
                problems.push(Problem::new(
                    "outside-syscall-readings",
                    format!(
                        "vDSO {}.{:06} outside the syscall readings [{}.{:06}, {}.{:06}]",
                        v.0, v.1, b.0, b.1, a.0, a.1
                    ),
                ));
            }
            if v.2 != b.2 {
                problems.push(Problem::new(
                    "timezone-differs",
                    format!("timezone {:?} differs from the syscall's {:?}", v.2, b.2),
                ));
            }
        }
        (_, Err(e), _) => problems.push(Problem::new(
            "vdso-failed",
            format!("vDSO failed with {}", errno_name(e)),
        )),
        (Err(e), _, _) | (_, _, Err(e)) => problems.push(Problem::new(
            "syscall-failed",
            format!("the syscall failed with {}", errno_name(e)),
        )),
    }
    for (r, (what, detail)) in nulls.iter().zip([
        ("NULL tv", "tv"),
        ("NULL tz", "tz"),
        ("NULL tv and tz", "both"),
    ]) {
        if let Err(e) = r {
            problems.push(Problem::about(
                "null-rejected",
                detail,
                format!("{what}: failed with {}", errno_name(*e)),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
}

/// time: `time(&t)` returns what it stores, within the syscall readings around it
/// (seconds: the one-second edge is the bracket), and `time(NULL)` works.
pub fn judge_time(
    before: i64,
    returned: i64,
    stored: i64,
    after: i64,
    null_returned: i64,
) -> CheckResult {
    let mut problems = Vec::new();
    if returned != stored {
        problems.push(Problem::new(
            "returned-not-stored",
            format!("returned {returned} but stored {stored}"),
        ));
    }
    if returned < before || returned > after {
        problems.push(Problem::new(
            "outside-syscall-readings",
            format!("{returned} is outside the syscall readings [{before}, {after}]"),
        ));
    }
    if null_returned < before || null_returned > after + 1 {
        problems.push(Problem::about(
            "outside-syscall-readings",
            "NULL",
            format!("time(NULL) returned {null_returned}, outside [{before}, {after}]"),
        ));
    }
    CheckResult::from_symptoms(problems)
}

/// One CPU's getcpu comparison: (pinned cpu, vDSO (cpu, node), syscall (cpu, node)).
pub type CpuSample = (u32, Result<(u32, u32), Errno>, Result<(u32, u32), Errno>);

/// getcpu pinned to each allowed CPU: the vDSO names that CPU and the syscall's node.
pub fn judge_getcpu(samples: &[CpuSample]) -> CheckResult {
    let mut problems = Vec::new();
    for (pinned, vdso, sys) in samples {
        match (vdso, sys) {
            (Ok((vc, vn)), Ok((sc, sn))) => {
                if vc != pinned || sc != pinned {
                    problems.push(Problem::about(
                        "wrong-cpu",
                        pinned,
                        format!("pinned to CPU {pinned}: vDSO says {vc}, syscall {sc}"),
                    ));
                }
                if vn != sn {
                    problems.push(Problem::about(
                        "wrong-node",
                        pinned,
                        format!("CPU {pinned}: vDSO node {vn}, syscall node {sn}"),
                    ));
                }
            }
            (Err(e), _) => problems.push(Problem::about(
                "vdso-failed",
                pinned,
                format!("CPU {pinned}: vDSO failed with {}", errno_name(*e)),
            )),
            (_, Err(e)) => problems.push(Problem::about(
                "syscall-failed",
                pinned,
                format!("CPU {pinned}: syscall failed with {}", errno_name(*e)),
            )),
        }
    }
    if samples.is_empty() {
        return CheckResult::skip("no CPU in the affinity mask could be pinned");
    }
    CheckResult::from_symptoms(problems)
        .with_notes(vec![format!("{} CPUs pinned and compared", samples.len())])
}

/// One request made of the vDSO and of the syscall, and what each answered: its
/// return value and what it left in its arguments (`T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers<T> {
    pub what: String,
    pub vdso: (Returned, T),
    pub sys: (Result<isize, Errno>, T),
}

/// A function whose every answer is the syscall's: the same value or errno, and
/// the same arguments left behind.
pub fn judge_same_answers<T: PartialEq + std::fmt::Debug>(cases: &[Answers<T>]) -> CheckResult {
    let mut problems = Vec::new();
    for c in cases {
        let (vdso, sys) = (c.vdso.0, c.sys.0.map(|v| v as i64));
        if vdso != sys {
            let show = |r: Result<i64, Errno>| r.map_or_else(errno_name, |v| v.to_string());
            problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!("{}: vDSO {}, syscall {}", c.what, show(vdso), show(sys)),
            ));
        } else if c.vdso.1 != c.sys.1 {
            problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!(
                    "{}: the vDSO left {:?}, the syscall {:?}",
                    c.what, c.vdso.1, c.sys.1
                ),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
        .with_notes(vec![format!("{} requests compared", cases.len())])
}

/// A robust futex unlocked both ways from the same start: the vDSO's fast path
/// (and, where it left the lock, the syscall after it, as a caller goes on), and
/// the futex syscall's robust unlock alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowPath {
    pub case: UnlockCase,
    pub start: LockState,
    /// What the fast path left.
    pub fast: LockState,
    /// The syscall on what the fast path left, when it left the lock held.
    pub slow: Option<(Result<isize, Errno>, LockState)>,
    /// The syscall alone.
    pub syscall: Result<isize, Errno>,
    pub syscall_after: LockState,
}

/// Both ways end unlocked with the pending slot cleared; the syscall wakes nobody
/// (no thread waits). A kernel whose futex() has no FUTEX_ROBUST_UNLOCK (ENOSYS)
/// has nothing to compare with.
pub fn judge_futex_unlock_syscall(paths: &[SlowPath]) -> CheckResult {
    const DONE: LockState = LockState {
        lock: 0,
        pending: 0,
    };
    if paths.iter().any(|p| p.syscall == Err(libc::ENOSYS)) {
        return CheckResult::skip(
            "this kernel's futex() has no FUTEX_ROBUST_UNLOCK (ENOSYS): nothing to compare with",
        );
    }
    let mut problems = Vec::new();
    for p in paths {
        let case = p.case.name();
        let both = [("the syscall alone", p.syscall, p.syscall_after)]
            .into_iter()
            .chain(
                p.slow
                    .map(|(r, after)| ("the fast path, then the syscall", r, after)),
            );
        for (how, r, after) in both {
            match r {
                Ok(0) => {}
                Ok(n) => problems.push(Problem::about(
                    "implausible-value",
                    case,
                    format!("{case} lock, {how}: the syscall woke {n} waiters; none wait"),
                )),
                Err(e) => problems.push(Problem::about(
                    "syscall-failed",
                    case,
                    format!(
                        "{case} lock, {how}: the syscall failed with {}",
                        errno_name(e)
                    ),
                )),
            }
            if r.is_ok() && after != DONE {
                problems.push(Problem::about(
                    "result-differs",
                    case,
                    format!(
                        "{case} lock, {how}: left lock 0x{:x} and pending 0x{:x}, not both cleared",
                        after.lock, after.pending
                    ),
                ));
            }
        }
        if p.case == UnlockCase::Owned && p.fast != p.syscall_after {
            problems.push(Problem::about(
                "result-differs",
                case,
                format!(
                    "owned lock: the fast path left lock 0x{:x} and pending 0x{:x}, the syscall 0x{:x} and 0x{:x}",
                    p.fast.lock, p.fast.pending, p.syscall_after.lock, p.syscall_after.pending
                ),
            ));
        }
        if p.case != UnlockCase::Owned && p.fast.lock != p.start.lock {
            problems.push(Problem::about(
                "result-differs",
                case,
                format!(
                    "{case} lock: the fast path changed the lock word 0x{:x} to 0x{:x}: the waiters would never be woken",
                    p.start.lock, p.fast.lock
                ),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
}

/// get_tbfreq: a plausible frequency (1 MHz to 10 GHz), the one /proc/cpuinfo
/// gives as `timebase` (`None`: no such line to compare with).
pub fn judge_tbfreq(vdso: u64, cpuinfo: Option<u64>) -> CheckResult {
    if !(1_000_000..=10_000_000_000).contains(&vdso) {
        return CheckResult::from_symptoms(vec![Problem::new(
            "implausible-value",
            format!("a timebase of {vdso} Hz"),
        )]);
    }
    match cpuinfo {
        Some(tb) if tb == vdso => CheckResult::pass()
            .with_notes(vec![format!("timebase {vdso} Hz, as /proc/cpuinfo says")]),
        Some(tb) => CheckResult::from_symptoms(vec![Problem::new(
            "result-differs",
            format!("the vDSO says {vdso} Hz, /proc/cpuinfo's timebase {tb} Hz"),
        )]),
        None => CheckResult::skip(format!(
            "the vDSO says {vdso} Hz; /proc/cpuinfo has no timebase line to compare with"
        )),
    }
}

/// get_syscall_map: a map in a readable mapping, a plausible count, the bits of
/// calls this process just made set, and the bits of calls that answered ENOSYS
/// (`unimplemented`: number, whether it did) clear.
pub fn judge_syscall_map(
    map: &SyscallMap,
    implemented: &[usize],
    unimplemented: &[(usize, bool)],
) -> CheckResult {
    let mut problems = Vec::new();
    if !(300..4096).contains(&map.count) {
        problems.push(Problem::about(
            "implausible-value",
            "count",
            format!(
                "syscall_count {} (NR_syscalls is in the hundreds)",
                map.count
            ),
        ));
    }
    if let Err(e) = &map.mapping {
        problems.push(Problem::about(
            "implausible-value",
            "map",
            format!("the map: {e}"),
        ));
        return CheckResult::from_symptoms(problems);
    }
    let bit = |n: usize| map.implemented.get(n).copied();
    for &n in implemented {
        if bit(n) != Some(true) {
            problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n}, which this process makes, is not marked implemented"),
            ));
        }
    }
    for &(n, enosys) in unimplemented {
        match (bit(n), enosys) {
            (Some(false), true) => {}
            (Some(true), true) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n} is marked implemented but answers ENOSYS"),
            )),
            (_, false) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n}, unimplemented on every powerpc kernel, did not answer ENOSYS"),
            )),
            (None, true) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n} lies beyond the map's {} calls", map.count),
            )),
        }
    }
    CheckResult::from_symptoms(problems).with_notes(vec![format!(
        "{} of {} calls marked implemented; the map is in {}",
        map.implemented.iter().filter(|&&b| b).count(),
        map.count,
        map.mapping.as_deref().unwrap_or("?")
    )])
}

/// sync_dicache: code written to a page, synced through the vDSO and run does
/// what it says (returns `want`).
pub fn judge_sync_dicache(ran: isize, want: isize) -> CheckResult {
    if ran == want {
        CheckResult::pass()
    } else {
        CheckResult::from_symptoms(vec![Problem::new(
            "result-differs",
            format!("the written code, synced and run, returned {ran}, not {want}"),
        )])
    }
}

/// A signal handler returned through a trampoline: it ran with the signal
/// raised, the raise returned 0, the interrupted code got its signal mask and
/// its values back, and, where the kernel chose the return address itself
/// (`trampoline`), the handler was given this trampoline to return to.
pub fn judge_signal_return(r: &SignalReturn, how: &str, trampoline: Option<usize>) -> CheckResult {
    let mut problems = Vec::new();
    let mut notes = vec![how.to_string()];
    match (trampoline, r.return_address) {
        (Some(want), Some(got)) if got != want => problems.push(Problem::new(
            "return-address",
            format!("the handler was entered with return address 0x{got:x}, not the trampoline at 0x{want:x}"),
        )),
        (Some(want), Some(_)) => notes.push(format!(
            "the handler was entered with its return address at this trampoline (0x{want:x})"
        )),
        (Some(_), None) => notes.push(
            "the return address the kernel gave the handler is not read on this build".to_string(),
        ),
        (None, _) => {}
    }
    if r.handled != libc::SIGUSR1 {
        problems.push(Problem::new(
            "vdso-failed",
            format!(
                "the handler did not run for SIGUSR1 (it saw signal {})",
                r.handled
            ),
        ));
    }
    if r.raised != Ok(0) {
        problems.push(Problem::new(
            "result-differs",
            format!("the interrupted tgkill returned {:?}, not 0", r.raised),
        ));
    }
    if r.mask_after != r.mask_before {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "the signal mask was 0x{:x} before and 0x{:x} after: sigreturn did not restore it",
                r.mask_before, r.mask_after
            ),
        ));
    }
    if r.held.0 != r.held.1 {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "a value held across the signal changed from 0x{:x} to 0x{:x}",
                r.held.0, r.held.1
            ),
        ));
    }
    CheckResult::from_symptoms(problems).with_notes(notes)
}

/// s390's restart: a relative clock_nanosleep interrupted by a stop of the
/// whole process returned 0 after its whole interval. The kernel resumes such
/// a call only through the vDSO's `__kernel_restart_syscall`; without it the
/// call would end early (EINTR, or -ERESTART_RESTARTBLOCK leaking out) or
/// crash on the trap word after the restart.
pub fn judge_restart(r: &RestartReading) -> CheckResult {
    if r.stopped_ms * 2 < r.continue_after_ms {
        return CheckResult::unrunnable(format!(
            "the process was not stopped while the thread slept (the stopping thread was held {} ms; SIGCONT was due after {} ms)",
            r.stopped_ms, r.continue_after_ms
        ));
    }
    let mut problems = Vec::new();
    if r.returned != Ok(0) {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "the sleep interrupted by the stop returned {:?}, not 0: the kernel's restart did not finish it",
                r.returned
            ),
        ));
    }
    if r.elapsed_ms < r.asked_ms {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "the sleep returned after {} ms, before the {} ms it asked for",
                r.elapsed_ms, r.asked_ms
            ),
        ));
    }
    CheckResult::from_symptoms(problems).with_notes(vec![format!(
        "a {} ms clock_nanosleep, the process stopped by SIGSTOP for {} ms while it slept and continued by a timer's SIGCONT: the kernel resumed it at this symbol, and it returned {:?} after {} ms",
        r.asked_ms, r.stopped_ms, r.returned, r.elapsed_ms
    )])
}

/// A getrandom request and what the vDSO and the syscall made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomCase {
    pub what: String,
    pub vdso: Result<usize, Errno>,
    pub sys: Result<usize, Errno>,
}

/// getrandom: each request behaves like the syscall (same length or same errno), and
/// outputs that must differ do.
pub fn judge_getrandom(cases: &[RandomCase], distinct: &[(&str, bool)]) -> CheckResult {
    CheckResult::from_symptoms(getrandom_problems(cases, distinct))
}

/// The problems [`judge_getrandom`] reports.
pub fn getrandom_problems(cases: &[RandomCase], distinct: &[(&str, bool)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for c in cases {
        match (&c.vdso, &c.sys) {
            (Ok(v), Ok(s)) if v == s => {}
            (Err(v), Err(s)) if v == s => {}
            (v, s) => problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!(
                    "{}: vDSO {}, syscall {}",
                    c.what,
                    v.map_or_else(errno_name, |n| format!("{n} bytes")),
                    s.map_or_else(errno_name, |n| format!("{n} bytes"))
                ),
            )),
        }
    }
    for (what, differ) in distinct {
        if !differ {
            problems.push(Problem::about(
                "outputs-identical",
                what,
                format!("{what}: the outputs are identical"),
            ));
        }
    }
    problems
}
