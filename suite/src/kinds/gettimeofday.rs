//! gettimeofday: seconds and microseconds of CLOCK_REALTIME, and the timezone.

use super::{observed, pointers_of, ClockSource, LiveKind, Pointers};
use crate::checks::live::call::judge_gettimeofday;
use crate::checks::live::crosscheck;
use crate::checks::live::served::{ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::spec::ClockId;
use crate::vdso::syscall::{self};
use crate::vdso::{Gettimeofday, Resolved, Timespec};

pub struct GettimeofdayKind;

impl LiveKind for GettimeofdayKind {
    // `c_long` and `time_t` are i32 on 32-bit targets: the widening is not useless there.
    #[allow(clippy::useless_conversion)]
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (r, tv, _tz) = f.handle::<Gettimeofday>()?.call();
        judge_gettimeofday(r, tv.tv_sec.into(), tv.tv_usec.into())
    }

    #[allow(clippy::useless_conversion)]
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<Gettimeofday>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let before = syscall::gettimeofday();
        let (r, tv, tz) = f.call();
        let after = syscall::gettimeofday();
        let got = r.map(|_| (i64::from(tv.tv_sec), i64::from(tv.tv_usec), tz));
        let null = |tv: bool, tz: bool| {
            let show = |null: bool| if null { "NULL" } else { "valid" };
            crate::checks::live::step::step(&format!(
                "gettimeofday with tv={}, tz={}",
                show(tv),
                show(tz)
            ));
            f.call_null(tv, tz).map(|_| ())
        };
        let nulls = [null(true, false), null(false, true), null(true, true)];
        crosscheck::judge_gettimeofday(before, got, after, nulls)
    }

    fn readers(
        &self,
        f: Resolved,
        _: Option<ClockId>,
    ) -> Result<(ClockSource, ClockSource), String> {
        let f = f.handle::<Gettimeofday>()?;
        Ok((
            Box::new(move || {
                let (r, tv, _) = f.call();
                #[allow(clippy::useless_conversion)]
                r.map(|_| Timespec {
                    sec: tv.tv_sec.into(),
                    nsec: i64::from(tv.tv_usec) * 1000,
                })
            }),
            Box::new(|| {
                syscall::gettimeofday().map(|(s, us, _)| Timespec {
                    sec: s,
                    nsec: us * 1000,
                })
            }),
        ))
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Gettimeofday>().map_err(CheckResult::fail)?;
        ctx.trap()?;
        let expected = (ctx.expect)(ClockId::REALTIME.0, true);
        Ok(vec![observed("gettimeofday", expected, || f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Gettimeofday>(f, use_it)
    }
}
