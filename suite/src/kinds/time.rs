//! time: seconds of CLOCK_REALTIME, returned and stored.

use super::{
    called, observed, pointers_of, ClockSource, KindInfo, LiveKind, Pointers, ReadsClock,
    TimeNamespace,
};
use crate::checks::live::call::SOME_TIME_AGO;
use crate::checks::live::clocks::ClockCase;
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{FuzzCall, FuzzShape};
use crate::spec::ClockId;
use crate::vdso::syscall;
use crate::vdso::{raw_value, PointerCall, Resolved, Time, Timespec};

/// What time's judges report.
const SYMPTOMS: &[(&str, &str)] = &[(
    "returned-not-stored",
    "time() returned another value than it stored",
)];

pub const INFO: KindInfo = KindInfo {
    outputs: Time::OUTPUTS,
    symptoms: SYMPTOMS,
    scalar_outputs: true,
    returns_seconds: true,
    reads_clock: ReadsClock::Own,
    reading_unit_ns: 1_000_000_000,
    time_namespace: TimeNamespace::AsSyscall,
    fuzz: FuzzShape::Plain,
    ..called::<Time>("time", &TimeKind)
};

pub struct TimeKind;

impl LiveKind for TimeKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (r, stored) = f.handle::<Time>()?.call();
        judge_time(raw_value(r), stored)
    }

    /// Its arguments are its pointers: a fuzzed call with valid ones is the
    /// cross-check's comparison.
    fn fuzz(&self, f: Resolved, _: &FuzzCall, _: Option<ClockCase>) -> CheckResult {
        self.crosscheck(f)
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
        judge_time_against_syscall(before, raw_value(ret), stored, after, raw_value(f.null()))
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

/// `time(&stored)` returned `ret`.
pub fn judge_time(ret: i64, stored: i64) -> Result<(), Problem> {
    if ret != stored {
        return Err(Problem::new(
            "returned-not-stored",
            format!("returned {ret} but stored {stored}"),
        ));
    }
    if ret < SOME_TIME_AGO {
        return Err(Problem::new(
            "implausible-value",
            format!("returned {ret}, before 2001"),
        ));
    }
    Ok(())
}

/// time: `time(&t)` returns what it stores, within the syscall readings around it
/// (seconds: the one-second edge is the bracket), and `time(NULL)` works.
pub fn judge_time_against_syscall(
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
        // A second ahead is the recorded timekeeping race (x86's specs);
        // anything else is not.
        let message = format!("{returned} is outside the syscall readings [{before}, {after}]");
        problems.push(if returned == after + 1 {
            Problem::about("outside-syscall-readings", "a second ahead", message)
        } else {
            Problem::new("outside-syscall-readings", message)
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_judge_fails_on_broken_output() {
        const SEC: i64 = 1_764_000_000;

        assert!(judge_time(SEC, SEC).is_ok());
        assert!(judge_time(SEC, 0).unwrap_err().contains("stored 0"));
        assert!(judge_time(12, 12).is_err());
    }

    #[test]
    fn a_second_ahead_of_the_syscall_is_named_as_the_recorded_race() {
        let ahead = judge_time_against_syscall(10, 12, 12, 11, 11);
        assert_eq!(
            ahead.symptoms,
            vec!["outside-syscall-readings:a second ahead".to_string()]
        );
        let further = judge_time_against_syscall(10, 13, 13, 11, 11);
        assert_eq!(
            further.symptoms,
            vec!["outside-syscall-readings".to_string()]
        );
        let behind = judge_time_against_syscall(10, 9, 9, 11, 11);
        assert_eq!(
            behind.symptoms,
            vec!["outside-syscall-readings".to_string()]
        );
    }
}
