//! time: seconds of CLOCK_REALTIME, returned and stored.

use super::bench::{measure, Measurement};
use super::LiveKind;
use crate::checks::live::badptr::PtrCase;
use crate::checks::live::call::judge_time;
use crate::checks::live::crosscheck;
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::spec::ClockId;
use crate::vdso::arena::call_with_pointers;
use crate::vdso::syscall::{self, Errno};
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
        Ok(vec![ServiceCase {
            what: "time".into(),
            expected: Expected::Served,
            observed: Service::from_status(f.call().0.map(|_| ())),
        }])
    }

    fn bad_pointer(
        &self,
        f: Resolved,
        case: &PtrCase,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, String> {
        call_with_pointers(&f.handle::<Time>()?, case.clock, &case.args, report)
    }

    fn bench(&self, f: Resolved, _: &[ClockId]) -> Result<Vec<Measurement>, String> {
        Ok(vec![measure(&f.handle::<Time>()?, None)?])
    }
}
