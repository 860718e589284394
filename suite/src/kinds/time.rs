//! time: seconds of CLOCK_REALTIME, returned and stored.

use super::{observed, pointers_of, LiveKind, Pointers};
use crate::checks::live::call::judge_time;
use crate::checks::live::crosscheck;
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::vdso::syscall::{self};
use crate::vdso::{raw_value, Resolved, Time};

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
        let sys_seconds = || match syscall::time() {
            Some(r) => r.map(|v| v as i64),
            None => syscall::coarse_seconds(),
        };
        let (Ok(before), (ret, stored), Ok(after)) = (sys_seconds(), f.call(), sys_seconds())
        else {
            return CheckResult::fail("the time syscall failed");
        };
        crosscheck::judge_time(before, raw_value(ret), stored, after, raw_value(f.null()))
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Time>().map_err(CheckResult::fail)?;
        ctx.trap()?;
        Ok(vec![observed("time", Expected::Served, f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Time>(f, use_it)
    }
}
