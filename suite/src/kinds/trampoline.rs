//! Signal trampolines: a handler returns through one. Where the kernel takes
//! `sa_restorer` (x86, s390, arm64) the trampoline is installed as the
//! handler's restorer, so the return goes through exactly this symbol; where
//! it does not (riscv, loongarch, powerpc) the kernel returns every handler
//! through its vDSO trampoline itself, and the handler's entry reads that it
//! was given this trampoline as its return address.

use super::{checked, KindInfo, LiveKind};
use crate::checks::{CheckResult, Problem};
use crate::vdso::signals::SignalReturn;
use crate::vdso::signals::{return_through, TAKES_RESTORER};
use crate::vdso::Resolved;

/// The SA_SIGINFO trampoline (the rt frame), its description.
pub const RT: KindInfo = trampoline("signal_trampoline", &TrampolineKind { rt: true });
/// The trampoline for handlers without SA_SIGINFO (the old frame), its description.
pub const NONRT: KindInfo = trampoline("signal_trampoline_nonrt", &TrampolineKind { rt: false });

const fn trampoline(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        trampoline: true,
        crosscheck_what: "a signal handler returns through it with the interrupted context intact",
        ..checked(name, live)
    }
}

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

/// A signal handler returned through a trampoline: it ran with the signal
/// raised, the raise returned 0, the interrupted code got its signal mask and
/// its values back, and, where the kernel chose the return address itself
/// (`trampoline`), the handler was given this trampoline to return to.
pub fn judge_signal_return(r: &SignalReturn, how: &str, trampoline: Option<usize>) -> CheckResult {
    let mut problems = Vec::new();
    let mut notes = vec![how.to_string()];
    match (trampoline, r.return_address) {
        (Some(want), Some(got)) if got != want => problems.push(Problem::new(
            "return-address",
            format!("the handler was entered with return address 0x{got:x}, not the trampoline at 0x{want:x}"),
        )),
        (Some(want), Some(_)) => notes.push(format!(
            "the handler was entered with its return address at this trampoline (0x{want:x})"
        )),
        (Some(_), None) => notes.push(
            "the return address the kernel gave the handler is not read on this build".to_string(),
        ),
        (None, _) => {}
    }
    if r.handled != libc::SIGUSR1 {
        problems.push(Problem::new(
            "vdso-failed",
            format!(
                "the handler did not run for SIGUSR1 (it saw signal {})",
                r.handled
            ),
        ));
    }
    if r.raised != Ok(0) {
        problems.push(Problem::new(
            "result-differs",
            format!("the interrupted tgkill returned {:?}, not 0", r.raised),
        ));
    }
    if r.mask_after != r.mask_before {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "the signal mask was 0x{:x} before and 0x{:x} after: sigreturn did not restore it",
                r.mask_before, r.mask_after
            ),
        ));
    }
    if r.held.0 != r.held.1 {
        problems.push(Problem::new(
            "result-differs",
            format!(
                "a value held across the signal changed from 0x{:x} to 0x{:x}",
                r.held.0, r.held.1
            ),
        ));
    }
    CheckResult::from_symptoms(problems).with_notes(notes)
}
