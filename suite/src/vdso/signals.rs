//! A signal handler returned through a vDSO signal trampoline: the handler is
//! installed with the raw rt_sigaction (libc's sigaction would put its own
//! restorer in the way), SIGUSR1 is sent to this thread, and what the
//! interrupted code sees afterwards is recorded for the trampoline check.
//! Where the kernel chooses the trampoline itself, the handler's entry also
//! records the return address the kernel gave it.

use super::syscall::{self, Errno};
use core::ffi::{c_int, c_ulong, c_void};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

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
/// The return-address register as the handler's entry found it.
static ENTRY_RETURN_ADDRESS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn handler(sig: c_int, _info: *mut c_void, _context: *mut c_void) {
    HANDLED.store(sig, Ordering::SeqCst);
}

/// Whether this build's handler entry reads the return address the kernel set
/// (the architectures whose kernel picks the vDSO trampoline itself: the
/// return-address register holds it when the handler starts, and only code
/// that runs before any prologue can read that register).
pub const READS_RETURN_ADDRESS: bool = cfg!(any(
    target_arch = "riscv64",
    target_arch = "loongarch64",
    all(target_arch = "powerpc64", target_endian = "little")
));

/// riscv: the kernel sets `ra` to `__vdso_rt_sigreturn`.
#[cfg(target_arch = "riscv64")]
// SAFETY: stores `ra` into an AtomicUsize (t0 is caller-saved) and tail-calls
// the handler with the arguments and `ra` untouched.
#[unsafe(naked)]
extern "C" fn recording_handler(_sig: c_int, _info: *mut c_void, _context: *mut c_void) {
    core::arch::naked_asm!(
        "lla t0, {slot}",
        "sd ra, 0(t0)",
        "tail {handler}",
        slot = sym ENTRY_RETURN_ADDRESS,
        handler = sym handler,
    )
}

/// loongarch: the kernel sets `$ra` to `__vdso_rt_sigreturn`.
#[cfg(target_arch = "loongarch64")]
// SAFETY: stores `$ra` into an AtomicUsize ($t0 is caller-saved) and jumps to
// the handler with the arguments and `$ra` untouched.
#[unsafe(naked)]
extern "C" fn recording_handler(_sig: c_int, _info: *mut c_void, _context: *mut c_void) {
    core::arch::naked_asm!(
        "la.local $t0, {slot}",
        "st.d $ra, $t0, 0",
        "b {handler}",
        slot = sym ENTRY_RETURN_ADDRESS,
        handler = sym handler,
    )
}

/// powerpc64 (ELFv2): the kernel enters `__kernel_start_sigtramp_rt64`, whose
/// `bctrl` calls the handler, so LR is `__kernel_sigtramp_rt64`.
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
// SAFETY: saves LR in r0, finds this code's address with the bcl idiom, puts
// LR back, stores it into an AtomicUsize and enters the handler at its
// global entry with r12 = its address (ELFv2); r0, r11, r12 and CTR are
// caller-saved, the arguments r3-r5 untouched.
#[unsafe(naked)]
extern "C" fn recording_handler(_sig: c_int, _info: *mut c_void, _context: *mut c_void) {
    core::arch::naked_asm!(
        "mflr 0",
        "bcl 20, 31, 1f",
        "1: mflr 11",
        "mtlr 0",
        "addis 12, 11, ({handler} - 1b)@ha",
        "addi 12, 12, ({handler} - 1b)@l",
        "addis 11, 11, ({slot} - 1b)@ha",
        "addi 11, 11, ({slot} - 1b)@l",
        "std 0, 0(11)",
        "mtctr 12",
        "bctr",
        slot = sym ENTRY_RETURN_ADDRESS,
        handler = sym handler,
    )
}

#[cfg(not(any(
    target_arch = "riscv64",
    target_arch = "loongarch64",
    all(target_arch = "powerpc64", target_endian = "little")
)))]
use self::handler as recording_handler;

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
    /// Where the handler would return to, as its entry found it (None where
    /// this build does not read it: see `READS_RETURN_ADDRESS`).
    pub return_address: Option<usize>,
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
    let new = KernelSigaction::new(recording_handler as *const () as usize, flags, restorer);
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
    ENTRY_RETURN_ADDRESS.store(0, Ordering::SeqCst);
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
        return_address: READS_RETURN_ADDRESS.then(|| ENTRY_RETURN_ADDRESS.load(Ordering::SeqCst)),
    })
}
