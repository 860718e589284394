//! gettimeofday: seconds and microseconds of CLOCK_REALTIME, and the timezone.

use super::{
    called, observed, pointers_of, ClockSource, KindInfo, LiveKind, Pointers, ReadsClock,
    TimeNamespace,
};
use crate::checks::live::call::{describe_ret, SOME_TIME_AGO};
use crate::checks::live::clocks::{errno_name, ClockCase};
use crate::checks::live::served::{ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{FuzzCall, FuzzShape};
use crate::spec::ClockId;
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{Gettimeofday, PointerCall, Resolved, Returned, Timespec, Timezone};

/// What gettimeofday's judges report.
const SYMPTOMS: &[(&str, &str)] = &[(
    "timezone-differs",
    "gettimeofday's timezone is not the syscall's",
)];

pub const INFO: KindInfo = KindInfo {
    outputs: Gettimeofday::OUTPUTS,
    symptoms: SYMPTOMS,
    reads_clock: ReadsClock::Own,
    reading_unit_ns: 1_000,
    time_namespace: TimeNamespace::AsSyscall,
    fuzz: FuzzShape::Plain,
    ..called::<Gettimeofday>("gettimeofday", &GettimeofdayKind)
};

pub struct GettimeofdayKind;

impl LiveKind for GettimeofdayKind {
    // `c_long` and `time_t` are i32 on 32-bit targets: the widening is not useless there.
    #[allow(clippy::useless_conversion)]
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (r, tv, _tz) = f.handle::<Gettimeofday>()?.call();
        judge_gettimeofday(r, tv.tv_sec.into(), tv.tv_usec.into())
    }

    /// Its arguments are its pointers: a fuzzed call with valid ones is the
    /// cross-check's comparison.
    fn fuzz(&self, f: Resolved, _: &FuzzCall, _: Option<ClockCase>) -> CheckResult {
        self.crosscheck(f)
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
        judge_gettimeofday_against_syscall(before, got, after, nulls)
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

/// `gettimeofday` returned `ret`, `sec`/`usec`.
pub fn judge_gettimeofday(ret: Returned, sec: i64, usec: i64) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    if !(0..1_000_000).contains(&usec) {
        return Err(Problem::new(
            "not-normalized",
            format!("tv_usec {usec} is not normalized"),
        ));
    }
    if sec < SOME_TIME_AGO {
        return Err(Problem::new(
            "implausible-value",
            format!("tv_sec {sec} is before 2001"),
        ));
    }
    Ok(())
}

/// One gettimeofday result: status, seconds, microseconds, timezone.
pub type Gtod = Result<(i64, i64, Timezone), Errno>;

/// gettimeofday: bracketed by syscall readings, the same timezone, and NULL `tv`,
/// NULL `tz` and both NULL accepted (`nulls` gives the status of those three calls).
pub fn judge_gettimeofday_against_syscall(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gettimeofday_judge_fails_on_broken_output() {
        const SEC: i64 = 1_764_000_000;

        assert!(judge_gettimeofday(Ok(0), SEC, 999_999).is_ok());
        assert!(judge_gettimeofday(Ok(0), SEC, 1_000_000).is_err());
        assert!(judge_gettimeofday(Err(1), SEC, 0).is_err());
    }
}
