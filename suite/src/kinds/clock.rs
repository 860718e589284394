//! clock_gettime and clock_getres, in the native and the time64 timespec ABI.

use super::{
    called, pointers_of, ClockSource, KindInfo, LiveKind, Pointers, ReadsClock, TimeNamespace,
};
use crate::checks::live::call::{describe_ret, NSEC_PER_SEC, SOME_TIME_AGO};
use crate::checks::live::clocks::{
    all_clock_cases, errno_name, is_coarse, ns, show, ClockCase, Reading,
};
use crate::checks::live::served::{served_clock_cases, ServedContext, ServiceCase};
use crate::checks::live::timens::{self, InnerReport};
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{FuzzCall, FuzzShape};
use crate::spec::ClockId;
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{
    Clock, ClockOp, Getres, Gettime, Handle, KernelTimespec, NativeTimespec, PointerCall, Resolved,
    Returned, Timespec, TimespecAbi,
};
use core::marker::PhantomData;

/// The clocks the call check reads.
const CALLED: [ClockId; 2] = [ClockId::REALTIME, ClockId::MONOTONIC];

/// `clock_gettime` (the native timespec), its description.
pub const GETTIME: KindInfo =
    gettime::<NativeTimespec>("clock_gettime", &GettimeKind::<NativeTimespec>::NEW);
/// `clock_gettime64` (`__kernel_timespec`), its description.
pub const GETTIME64: KindInfo =
    gettime::<KernelTimespec>("clock_gettime64", &GettimeKind::<KernelTimespec>::NEW);
/// `clock_getres` (the native timespec), its description.
pub const GETRES: KindInfo =
    getres::<NativeTimespec>("clock_getres", &GetresKind::<NativeTimespec>::NEW);
/// `clock_getres_time64` (`__kernel_timespec`), its description.
pub const GETRES_TIME64: KindInfo =
    getres::<KernelTimespec>("clock_getres_time64", &GetresKind::<KernelTimespec>::NEW);

const fn gettime<T: TimespecAbi>(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        outputs: <Clock<T, Gettime> as PointerCall>::OUTPUTS,
        null_allowed: false,
        takes_clock: true,
        reads_clock: ReadsClock::Given,
        time_namespace: TimeNamespace::AsSyscall,
        fuzz: FuzzShape::Plain,
        ..called::<Clock<T, Gettime>>(name, live)
    }
}

const fn getres<T: TimespecAbi>(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        outputs: <Clock<T, Getres> as PointerCall>::OUTPUTS,
        takes_clock: true,
        time_namespace: TimeNamespace::AsSyscall,
        fuzz: FuzzShape::Plain,
        ..called::<Clock<T, Getres>>(name, live)
    }
}

/// clock_gettime with the timespec ABI `T`.
pub struct GettimeKind<T>(PhantomData<fn() -> T>);
/// clock_getres with the timespec ABI `T`.
pub struct GetresKind<T>(PhantomData<fn() -> T>);

impl<T> GettimeKind<T> {
    pub const NEW: Self = GettimeKind(PhantomData);
}
impl<T> GetresKind<T> {
    pub const NEW: Self = GetresKind(PhantomData);
}

/// `clock_gettime(clock, ts)` with `ts` filled with a canary: the reading, and
/// whether the canary survived (it must, when the call fails).
fn gettime_with_canary<T: TimespecAbi>(f: &Clock<T, Gettime>, clock: i32) -> (Reading, bool) {
    let canary = T::filled(0x5a5a_5a5a_5a5a_5a5a);
    let (r, ts) = f.call_with(clock, canary);
    (r.map(|_| ts.into()), ts == canary)
}

/// What a clock call's judge is given: the clock, the return, the timespec.
type ClockJudge = fn(ClockId, Returned, Timespec) -> Result<(), Problem>;

/// The call check of a clock function: REALTIME and MONOTONIC, judged.
fn call_clocks<T: TimespecAbi, O: ClockOp>(f: Resolved, judge: ClockJudge) -> Result<(), Problem>
where
    Clock<T, O>: Handle,
{
    let f = f.handle::<Clock<T, O>>()?;
    CALLED.iter().try_for_each(|&c| {
        let (r, ts) = f.call(c.0);
        judge(c, r, ts)
    })
}

/// The served cases of a clock function: every clock id, under the trap.
fn served_clocks<T: TimespecAbi, O: ClockOp>(
    f: Resolved,
    ctx: &ServedContext,
    needs_counter: bool,
) -> Result<Vec<ServiceCase>, CheckResult>
where
    Clock<T, O>: Handle,
{
    let f = f.handle::<Clock<T, O>>().map_err(CheckResult::fail)?;
    ctx.trap()?;
    Ok(served_clock_cases(ctx, needs_counter, &|c| f.read(c)))
}

impl<T: TimespecAbi + 'static> LiveKind for GettimeKind<T>
where
    Clock<T, Gettime>: Handle,
{
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        call_clocks::<T, Gettime>(f, judge_gettime)
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        gettime_against_syscall::<T>(f, &all_clock_cases())
    }

    fn fuzz(&self, f: Resolved, _: &FuzzCall, clock: Option<ClockCase>) -> CheckResult {
        gettime_against_syscall::<T>(f, &Vec::from_iter(clock))
    }

    fn readers(
        &self,
        f: Resolved,
        clock: Option<ClockId>,
    ) -> Result<(ClockSource, ClockSource), String> {
        let f = f.handle::<Clock<T, Gettime>>()?;
        let c = clock.ok_or("no clock given")?.0;
        Ok((
            Box::new(move || f.read(c)),
            Box::new(move || syscall::clock_gettime(c)),
        ))
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        served_clocks::<T, Gettime>(f, ctx, true)
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Clock<T, Gettime>>(f, use_it)
    }
}

impl<T: TimespecAbi> LiveKind for GetresKind<T>
where
    Clock<T, Getres>: Handle,
{
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        call_clocks::<T, Getres>(f, judge_getres)
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        getres_against_syscall::<T>(f, &all_clock_cases())
    }

    fn fuzz(&self, f: Resolved, _: &FuzzCall, clock: Option<ClockCase>) -> CheckResult {
        getres_against_syscall::<T>(f, &Vec::from_iter(clock))
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        served_clocks::<T, Getres>(f, ctx, false)
    }

    fn timens_inside(&self, f: Resolved) -> InnerReport {
        match f.handle::<Clock<T, Getres>>() {
            Ok(f) => timens::resolutions_inside(timens::Readers {
                vdso: &|c| f.read(c),
                syscall: &syscall::clock_getres,
            }),
            Err(e) => InnerReport {
                error: Some(e),
                ..Default::default()
            },
        }
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Clock<T, Getres>>(f, use_it)
    }
}

/// clock_gettime of each of `cases` through `f` and the syscall, judged.
fn gettime_against_syscall<T: TimespecAbi>(f: Resolved, cases: &[ClockCase]) -> CheckResult
where
    Clock<T, Gettime>: Handle,
{
    let f = match f.handle::<Clock<T, Gettime>>() {
        Ok(f) => f,
        Err(e) => return CheckResult::fail(e),
    };
    judge_gettime_against_syscall(
        cases,
        &mut |c| gettime_with_canary(&f, c),
        &mut syscall::clock_gettime,
        &mut syscall::clock_getres,
    )
}

/// clock_getres of each of `cases` through `f` (also with a NULL `res`) and
/// the syscall, judged.
fn getres_against_syscall<T: TimespecAbi>(f: Resolved, cases: &[ClockCase]) -> CheckResult
where
    Clock<T, Getres>: Handle,
{
    let f = match f.handle::<Clock<T, Getres>>() {
        Ok(f) => f,
        Err(e) => return CheckResult::fail(e),
    };
    judge_getres_against_syscall(
        cases,
        &mut |c| f.read(c),
        &mut |c| {
            crate::checks::live::step::step(&format!("clock_getres of clock {c} with res=NULL"));
            f.null(c).map(|_| ())
        },
        &mut syscall::clock_getres,
    )
}

/// `clock_gettime(clock)` returned `ret` and `ts`.
pub fn judge_gettime(clock: ClockId, ret: Returned, ts: Timespec) -> Result<(), Problem> {
    let problem = |id: &str, message: String| Err(Problem::about(id, clock, message));
    if ret != Ok(0) {
        return problem(
            "call-returned",
            format!("{clock}: returned {}", describe_ret(ret)),
        );
    }
    if !(0..NSEC_PER_SEC).contains(&ts.nsec) {
        return problem(
            "not-normalized",
            format!("{clock}: tv_nsec {} is not normalized", ts.nsec),
        );
    }
    if ts.sec < 0 {
        return problem(
            "implausible-value",
            format!("{clock}: tv_sec {} is negative", ts.sec),
        );
    }
    if clock == ClockId::REALTIME && ts.sec < SOME_TIME_AGO {
        return problem(
            "implausible-value",
            format!("{clock}: tv_sec {} is before 2001", ts.sec),
        );
    }
    Ok(())
}

/// `clock_getres(clock)` returned `ret` and `res`.
pub fn judge_getres(clock: ClockId, ret: Returned, res: Timespec) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::about(
            "call-returned",
            clock,
            format!("{clock}: returned {}", describe_ret(ret)),
        ));
    }
    let total = res
        .sec
        .saturating_mul(NSEC_PER_SEC)
        .saturating_add(res.nsec);
    if !(0..NSEC_PER_SEC).contains(&res.nsec) || total <= 0 || total > NSEC_PER_SEC {
        return Err(Problem::about(
            "implausible-value",
            clock,
            format!(
                "{clock}: resolution {}.{:09} s is not in (0, 1] s",
                res.sec, res.nsec
            ),
        ));
    }
    Ok(())
}

/// clock_gettime for every case: `before <= vdso <= after` for valid ids (coarse clocks
/// may lag by their resolution), the same errno for ids the syscall rejects, and a
/// rejected id must leave the output untouched (`untouched` reports that per id).
pub fn judge_gettime_against_syscall(
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
pub fn judge_getres_against_syscall(
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

fn normalized(t: &Timespec) -> bool {
    (0..1_000_000_000).contains(&t.nsec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::live::call::NSEC_PER_SEC;

    const NOW: Timespec = Timespec {
        sec: 1_764_000_000,
        nsec: 5,
    };

    #[test]
    fn gettime_rejects_errors_unnormalized_and_implausible_values() {
        assert!(judge_gettime(ClockId::REALTIME, Ok(0), NOW).is_ok());
        assert!(judge_gettime(ClockId::REALTIME, Err(22), NOW)
            .unwrap_err()
            .contains("-22"));
        let bad_nsec = Timespec {
            nsec: NSEC_PER_SEC,
            ..NOW
        };
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), bad_nsec)
            .unwrap_err()
            .contains("normalized"));
        let epoch = Timespec { sec: 3, nsec: 0 };
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), epoch).is_ok());
        assert!(judge_gettime(ClockId::REALTIME, Ok(0), epoch)
            .unwrap_err()
            .contains("before 2001"));
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), Timespec { sec: -1, nsec: 0 }).is_err());
    }

    #[test]
    fn getres_must_be_positive_and_at_most_a_second() {
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 0, nsec: 1 }).is_ok());
        assert!(judge_getres(
            ClockId::MONOTONIC,
            Ok(0),
            Timespec {
                sec: 0,
                nsec: 4_000_000
            }
        )
        .is_ok());
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 0, nsec: 0 }).is_err());
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 2, nsec: 0 }).is_err());
        assert!(judge_getres(ClockId::MONOTONIC, Err(14), Timespec { sec: 0, nsec: 1 }).is_err());
    }
}
