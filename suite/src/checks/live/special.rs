//! Symbols that are not called with plain arguments: signal trampolines get a static
//! check; the others get the check that fits their kind, or a documented skip.

use crate::checks::result::{from_problems, CheckResult};
use crate::elf::{VdsoImage, PF_X, PT_LOAD};
use crate::spec::{SymbolKind, SymbolSpec};

/// A trampoline must lie, whole, inside an executable PT_LOAD.
pub fn check_trampoline(image: &VdsoImage<'_>, sym: &SymbolSpec) -> CheckResult {
    let found = match image.lookup(sym.name.as_bytes(), Some(sym.version.as_bytes())) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return CheckResult::skip(format!(
                "{}@{} is not in this image (its resolve check says whether it should be)",
                sym.name, sym.version
            ))
        }
        Err(e) => return CheckResult::fail(e.to_string()),
    };
    let len = found.size.max(1);
    let inside_exec = image.segments().iter().filter_map(Result::ok).any(|seg| {
        seg.p_type == PT_LOAD
            && seg.flags & PF_X != 0
            && seg.file_offset_of(found.value, len).is_some()
    });
    let mut problems = Vec::new();
    if !inside_exec {
        problems.push(format!(
            "0x{:x}+{len} is not inside an executable PT_LOAD",
            found.value
        ));
    }
    from_problems(problems).with_notes(vec![execution_note()])
}

fn execution_note() -> String {
    "only the placement is checked: returning from a signal handler through this trampoline \
     (SA_RESTORER) is not exercised yet"
        .into()
}

/// Why a kind without a plain-arguments call has no live check here, or `None` if it has one.
pub fn special_skip(kind: SymbolKind) -> Option<String> {
    let why = match kind {
        SymbolKind::VsyscallEntry if cfg!(target_arch = "x86") => return None,
        SymbolKind::VsyscallEntry => "__kernel_vsyscall is entered with i386 registers: only a 32-bit x86 build (the i686 runner) can call it",
        SymbolKind::SyscallGate => "ia64 is a historical record: no kernel runs it",
        SymbolKind::RestartSyscall => "the kernel enters it on the signal-restart path; a call from user space would restart whatever the kernel last recorded, so it cannot be checked safely",
        SymbolKind::FlushIcache => "needs a riscv build to call (compared with the riscv_flush_icache syscall)",
        SymbolKind::SyncDicache | SymbolKind::GetTbfreq | SymbolKind::GetSyscallMap => {
            "powerpc helpers need the CR0.SO call wrapper of a powerpc build"
        }
        SymbolKind::Hwprobe => "needs a riscv build to compare with the riscv_hwprobe syscall",
        SymbolKind::SgxEnterEnclave => "entering an enclave needs an SGX enclave; user space cannot check it without one",
        SymbolKind::FutexRobustUnlock => "no check for the robust-futex unlock helpers yet",
        SymbolKind::SignalTrampoline => "signal trampolines get the trampoline check",
        _ => return None,
    };
    Some(why.into())
}

/// Issues syscall `nr` (no arguments) through `__kernel_vsyscall` at `entry`, the way
/// i386 libcs do: number in eax, result in eax.
#[cfg(target_arch = "x86")]
fn vsyscall0(entry: usize, nr: i32) -> i32 {
    let ret: i32;
    // SAFETY: `entry` is the live vDSO's __kernel_vsyscall, which behaves like
    // `int $0x80`; the syscalls issued here take no arguments and touch no memory.
    unsafe {
        core::arch::asm!(
            "call {entry}",
            entry = in(reg) entry,
            inlateout("eax") nr => ret,
            clobber_abi("C"),
        );
    }
    ret
}

/// `__kernel_vsyscall` must behave like `int $0x80`: getpid through it equals the
/// raw syscall, and an unknown syscall number comes back as -ENOSYS in eax.
#[cfg(target_arch = "x86")]
pub fn crosscheck_vsyscall(entry: usize) -> CheckResult {
    let mut problems = Vec::new();
    let via = vsyscall0(entry, libc::SYS_getpid as i32);
    // SAFETY: getpid has no arguments and cannot fail.
    let direct = unsafe { libc::syscall(libc::SYS_getpid) } as i32;
    if via != direct {
        problems.push(format!(
            "getpid: through __kernel_vsyscall {via}, syscall {direct}"
        ));
    }
    let unknown = vsyscall0(entry, 0x7fff);
    if unknown != -libc::ENOSYS {
        problems.push(format!(
            "syscall 0x7fff: through __kernel_vsyscall {unknown}, expected -ENOSYS ({})",
            -libc::ENOSYS
        ));
    }
    from_problems(problems)
}
