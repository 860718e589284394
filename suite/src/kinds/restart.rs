//! s390's `__kernel_restart_syscall`: never called by user space, entered by
//! the kernel to finish a call interrupted by a stop. Its check stops the
//! process while a thread sleeps and sees the sleep finish its interval.

use super::LiveKind;
use crate::checks::CheckResult;
use crate::vdso::Resolved;

pub struct RestartSyscallKind;

impl LiveKind for RestartSyscallKind {
    /// The kernel chooses the symbol (VDSO_SYMBOL(restart_syscall)), so the
    /// check drives the kernel there rather than calling `_f`.
    fn crosscheck(&self, _f: Resolved) -> CheckResult {
        #[cfg(target_arch = "s390x")]
        return match crate::vdso::restart::stopped_sleep() {
            Ok(r) => crate::checks::live::crosscheck::judge_restart(&r),
            Err(e) => CheckResult::unrunnable(e),
        };
        #[cfg(not(target_arch = "s390x"))]
        CheckResult::unrunnable("only an s390x build is restarted through it")
    }
}
