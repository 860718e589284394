//! Signal trampolines: a handler returns through one. Where the kernel takes
//! `sa_restorer` (x86, s390, arm64) the trampoline is installed as the
//! handler's restorer, so the return goes through exactly this symbol; where
//! it does not (riscv, loongarch, powerpc) the kernel returns every handler
//! through its vDSO trampoline itself, and the handler's entry reads that it
//! was given this trampoline as its return address.

use super::LiveKind;
use crate::checks::live::crosscheck::judge_signal_return;
use crate::checks::CheckResult;
use crate::vdso::signals::{return_through, TAKES_RESTORER};
use crate::vdso::Resolved;

pub struct TrampolineKind {
    /// For SA_SIGINFO handlers (the rt frame), or the old frame.
    pub rt: bool,
}

impl LiveKind for TrampolineKind {
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let how = if TAKES_RESTORER {
            format!(
                "the handler's sa_restorer was this trampoline (0x{:x}); {}",
                f.address(),
                if self.rt {
                    "SA_SIGINFO, the rt frame"
                } else {
                    "no SA_SIGINFO, the old frame"
                }
            )
        } else {
            "this architecture's kernel returns every handler through its vDSO trampoline itself (no SA_RESTORER)".to_string()
        };
        let chosen_by_kernel = (!TAKES_RESTORER).then(|| f.address());
        match return_through(f.address(), self.rt) {
            Ok(r) => judge_signal_return(&r, &how, chosen_by_kernel),
            Err(e) => CheckResult::unrunnable(e),
        }
    }
}
