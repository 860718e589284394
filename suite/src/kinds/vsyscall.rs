//! i386's `__kernel_vsyscall`: a system call entry, entered with the syscall's
//! registers (only an i386 build can).

use super::{checked, KindInfo, LiveKind};
use crate::checks::{from_problems, CheckResult};
use crate::vdso::syscall::int80_syscall0;
use crate::vdso::{Resolved, Vsyscall};

pub const INFO: KindInfo = KindInfo {
    crosscheck_what: super::VSYSCALL_ENTRY_WHAT,
    ..checked("vsyscall_entry", &VsyscallKind)
};

pub struct VsyscallKind;

/// Calls without arguments whose answer is the same however they are made, and
/// one no kernel defines (-ENOSYS).
const CALLS: [(&str, i32); 6] = [
    ("getpid", libc::SYS_getpid as i32),
    ("getppid", libc::SYS_getppid as i32),
    ("gettid", libc::SYS_gettid as i32),
    ("getuid32", libc::SYS_getuid32 as i32),
    ("getgid32", libc::SYS_getgid32 as i32),
    ("syscall 0x7fff (none)", 0x7fff),
];

impl LiveKind for VsyscallKind {
    /// It must behave like `int $0x80`: each call through it answers what the
    /// same call through the gate does.
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let entry = match f.handle::<Vsyscall>() {
            Ok(e) => e,
            Err(e) => return CheckResult::fail(e),
        };
        let problems = CALLS
            .iter()
            .filter_map(|&(what, nr)| {
                let (via, gate) = (entry.syscall0(nr), int80_syscall0(nr));
                (via != gate).then(|| {
                    format!("{what}: through __kernel_vsyscall {via}, through int $0x80 {gate}")
                })
            })
            .collect();
        from_problems(problems)
    }
}
