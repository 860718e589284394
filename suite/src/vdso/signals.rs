//! A signal handler returned through a vDSO signal trampoline: the handler is
//! installed with the raw rt_sigaction (libc's sigaction would put its own
//! restorer in the way), SIGUSR1 is sent to this thread, and what the
//! interrupted code sees afterwards is recorded for the trampoline check.

use super::syscall::{self, Errno};
use core::ffi::{c_int, c_ulong, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

/// Whether the kernel returns a handler through `sa_restorer` when SA_RESTORER
/// is set (x86, s390, arm64); elsewhere it always uses the vDSO's trampoline.
pub const TAKES_RESTORER: bool = cfg!(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "s390x",
    target_arch = "aarch64",
    target_arch = "arm"
));

const SA_RESTORER: c_ulong = 0x0400_0000;

/// The kernel's `struct sigaction` for rt_sigaction: asm-generic's without
/// SA_RESTORER (riscv, loongarch) has no restorer field.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: c_ulong,
    #[cfg(not(any(
        target_arch = "riscv64",
        target_arch = "riscv32",
        target_arch = "loongarch64"
    )))]
    restorer: usize,
    mask: u64,
}

impl KernelSigaction {
    fn new(handler: usize, flags: c_ulong, _restorer: usize) -> Self {
        KernelSigaction {
            handler,
            flags,
            #[cfg(not(any(
                target_arch = "riscv64",
                target_arch = "riscv32",
                target_arch = "loongarch64"
            )))]
            restorer: _restorer,
            mask: 0,
        }
    }
}

static HANDLED: AtomicI32 = AtomicI32::new(0);

extern "C" fn handler(sig: c_int, _info: *mut c_void, _context: *mut c_void) {
    HANDLED.store(sig, Ordering::SeqCst);
}

/// What the interrupted code saw after the handler returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalReturn {
    /// The signal the handler was given (0: it never ran).
    pub handled: c_int,
    /// What the tgkill that raised it returned.
    pub raised: Result<isize, Errno>,
    /// The signal mask before and after (the trampoline's sigreturn restores it).
    pub mask_before: u64,
    pub mask_after: u64,
    /// A value held across the signal, as it was before and after.
    pub held: (u64, u64),
}

fn sigmask() -> Result<u64, Errno> {
    let mut mask = 0u64;
    // SAFETY: reads this thread's mask into one 8-byte sigset, which it writes.
    unsafe {
        syscall::raw(
            libc::SYS_rt_sigprocmask,
            &[0, 0, &mut mask as *mut u64 as usize, 8],
        )
    }?;
    Ok(mask)
}

/// Installs the handler for SIGUSR1 (with SA_SIGINFO when `rt`, and with
/// SA_RESTORER and `restorer` where the kernel takes one), raises it in this
/// thread, and puts the old action back.
pub fn return_through(restorer: usize, rt: bool) -> Result<SignalReturn, String> {
    let mut flags: c_ulong = if rt { libc::SA_SIGINFO as c_ulong } else { 0 };
    if TAKES_RESTORER {
        flags |= SA_RESTORER;
    }
    let new = KernelSigaction::new(handler as *const () as usize, flags, restorer);
    let mut old = KernelSigaction::new(0, 0, 0);
    let size = core::mem::size_of::<u64>();
    let sigaction = |act: usize, oldact: usize| {
        // SAFETY: the kernel's struct sigaction for this architecture, read from
        // `act` and written to `oldact` (both ours, or NULL); an 8-byte sigset.
        unsafe {
            syscall::raw(
                libc::SYS_rt_sigaction,
                &[libc::SIGUSR1 as usize, act, oldact, size],
            )
        }
    };
    sigaction(
        &new as *const KernelSigaction as usize,
        &mut old as *mut KernelSigaction as usize,
    )
    .map_err(|e| format!("rt_sigaction: errno {e}"))?;
    HANDLED.store(0, Ordering::SeqCst);
    let held = std::hint::black_box(0x5eed_c0de_0123_4567u64);
    let mask_before = sigmask().map_err(|e| format!("rt_sigprocmask: errno {e}"))?;
    let (pid, tid) = (syscall::getpid(), syscall::gettid());
    // SAFETY: tgkill takes no pointers.
    let raised = unsafe {
        syscall::raw(
            libc::SYS_tgkill,
            &[pid as usize, tid as usize, libc::SIGUSR1 as usize],
        )
    };
    let held_after = std::hint::black_box(held);
    let mask_after = sigmask().map_err(|e| format!("rt_sigprocmask: errno {e}"))?;
    sigaction(&old as *const KernelSigaction as usize, 0)
        .map_err(|e| format!("rt_sigaction (restoring): errno {e}"))?;
    Ok(SignalReturn {
        handled: HANDLED.load(Ordering::SeqCst),
        raised,
        mask_before,
        mask_after,
        held: (held, held_after),
    })
}
