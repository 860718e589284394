//! time: seconds of CLOCK_REALTIME, returned and stored.

use super::{observed, pointers_of, ClockSource, LiveKind, Pointers};
use crate::checks::live::call::judge_time;
use crate::checks::live::crosscheck;
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::spec::ClockId;
use crate::vdso::syscall;
use crate::vdso::{raw_value, Resolved, Time, Timespec};

pub struct TimeKind;

impl LiveKind for TimeKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (r, stored) = f.handle::<Time>()?.call();
        judge_time(raw_value(r), stored)
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<Time>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let (Ok(before), (ret, stored), Ok(after)) =
            (syscall::time_seconds(), f.call(), syscall::time_seconds())
        else {
            return CheckResult::fail("the time syscall failed");
        };
        crate::checks::live::step::step("time with t=NULL");
        crosscheck::judge_time(before, raw_value(ret), stored, after, raw_value(f.null()))
    }

    fn readers(
        &self,
        f: Resolved,
        _: Option<ClockId>,
    ) -> Result<(ClockSource, ClockSource), String> {
        let f = f.handle::<Time>()?;
        let seconds = |sec: i64| Timespec { sec, nsec: 0 };
        Ok((
            Box::new(move || f.call().0.map(seconds)),
            Box::new(move || syscall::time_seconds().map(seconds)),
        ))
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Time>().map_err(CheckResult::fail)?;
        ctx.trap()?;
        Ok(vec![observed("time", Expected::Served, || f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Time>(f, use_it)
    }
}
