//! i386's `__kernel_vsyscall`: a system call entry, entered with the syscall's
//! registers (only an i386 build can).

use super::LiveKind;
use crate::checks::{from_problems, CheckResult};
use crate::vdso::{Resolved, Vsyscall};

pub struct VsyscallKind;

impl LiveKind for VsyscallKind {
    /// It must behave like `int $0x80`: getpid through it equals the raw syscall,
    /// and an unknown syscall number comes back as -ENOSYS in eax.
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let entry = match f.handle::<Vsyscall>() {
            Ok(e) => e,
            Err(e) => return CheckResult::fail(e),
        };
        let mut problems = Vec::new();
        let via = entry.syscall0(libc::SYS_getpid as i32);
        let direct = crate::vdso::syscall::getpid();
        if via != direct {
            problems.push(format!(
                "getpid: through __kernel_vsyscall {via}, syscall {direct}"
            ));
        }
        let unknown = entry.syscall0(0x7fff);
        if unknown != -libc::ENOSYS {
            problems.push(format!(
                "syscall 0x7fff: through __kernel_vsyscall {unknown}, expected -ENOSYS ({})",
                -libc::ENOSYS
            ));
        }
        from_problems(problems)
    }
}
