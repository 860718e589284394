//! s390's `__kernel_restart_syscall`: never called by user space, entered by
//! the kernel to finish a call interrupted by a stop. Its check stops the
//! process while a thread sleeps and sees the sleep finish its interval.

use super::{checked, s390x_only, KindInfo, LiveKind};
use crate::checks::{CheckResult, Problem};
use crate::vdso::restart::RestartReading;
use crate::vdso::Resolved;

// Called directly it makes restart_syscall and then executes the trap word
// after it, by design (arch/s390/kernel/vdso/vdso_user_wrapper.S).
pub const INFO: KindInfo = s390x_only(KindInfo {
    crosscheck_what: "a sleep interrupted by a stop of the process is finished through it",
    ..checked("restart_syscall", &RestartSyscallKind)
});

pub struct RestartSyscallKind;

impl LiveKind for RestartSyscallKind {
    /// The kernel chooses the symbol (VDSO_SYMBOL(restart_syscall)), so the
    /// check drives the kernel there rather than calling `_f`.
    fn crosscheck(&self, _f: Resolved) -> CheckResult {
        #[cfg(target_arch = "s390x")]
        return match crate::vdso::restart::stopped_sleep() {
            Ok(r) => judge_restart(&r),
            Err(e) => CheckResult::unrunnable(e),
        };
        #[cfg(not(target_arch = "s390x"))]
        CheckResult::unrunnable("only an s390x build is restarted through it")
    }
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
