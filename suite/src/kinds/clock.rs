//! clock_gettime and clock_getres, in the native and the time64 timespec ABI.

use super::{pointers_of, ClockSource, LiveKind, Pointers};
use crate::checks::live::call::{judge_getres, judge_gettime};
use crate::checks::live::clocks::{all_clock_cases, Reading};
use crate::checks::live::crosscheck;
use crate::checks::live::served::{served_clock_cases, ServedContext, ServiceCase};
use crate::checks::live::timens::{self, InnerReport};
use crate::checks::{CheckResult, Problem};
use crate::spec::ClockId;
use crate::vdso::syscall::{self};
use crate::vdso::{
    Clock, ClockOp, Getres, Gettime, Handle, Resolved, Returned, Timespec, TimespecAbi,
};
use core::marker::PhantomData;

/// The clocks the call check reads.
const CALLED: [ClockId; 2] = [ClockId::REALTIME, ClockId::MONOTONIC];

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
        let f = match f.handle::<Clock<T, Gettime>>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        crosscheck::judge_gettime(
            &all_clock_cases(),
            &mut |c| gettime_with_canary(&f, c),
            &mut syscall::clock_gettime,
            &mut syscall::clock_getres,
        )
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
        let f = match f.handle::<Clock<T, Getres>>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        crosscheck::judge_getres(
            &all_clock_cases(),
            &mut |c| f.read(c),
            &mut |c| {
                crate::checks::live::step::step(&format!(
                    "clock_getres of clock {c} with res=NULL"
                ));
                f.null(c).map(|_| ())
            },
            &mut syscall::clock_getres,
        )
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
