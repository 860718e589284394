//! powerpc's helper functions: `__kernel_get_tbfreq` (the timebase frequency),
//! `__kernel_get_syscall_map` (which system calls the kernel implements) and
//! `__kernel_sync_dicache` (make stored instructions visible to fetches). None
//! stands in for a system call: each is checked against what the kernel says
//! elsewhere (/proc/cpuinfo, the calls themselves) or by running what it makes
//! possible (code written, synced and executed). Called through the CR0.SO call
//! wrapper, so on powerpc builds only.

use super::LiveKind;
use crate::checks::live::crosscheck::{judge_sync_dicache, judge_syscall_map, judge_tbfreq};
use crate::checks::CheckResult;
use crate::vdso::{GetSyscallMap, GetTbfreq, Resolved, SyncDicache};

pub struct GetTbfreqKind;

/// The `timebase` line of /proc/cpuinfo: the kernel's `ppc_tb_freq`.
fn cpuinfo_timebase() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim() == "timebase").then(|| value.trim().parse().ok())?
    })
}

impl LiveKind for GetTbfreqKind {
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        match f.handle::<GetTbfreq>() {
            Ok(f) => judge_tbfreq(f.call(), cpuinfo_timebase()),
            Err(e) => CheckResult::fail(e),
        }
    }
}

pub struct GetSyscallMapKind;

impl LiveKind for GetSyscallMapKind {
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<GetSyscallMap>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let implemented = [
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_clock_gettime,
            libc::SYS_clock_getres,
            libc::SYS_gettimeofday,
            libc::SYS_getcpu,
            libc::SYS_getrandom,
            libc::SYS_futex,
        ]
        .map(|n| n as usize);
        // Calls no powerpc kernel implements: their bits must be clear.
        let unimplemented = crate::vdso::syscall::powerpc_unimplemented_answers();
        judge_syscall_map(&f.call(), &implemented, &unimplemented)
    }
}

pub struct SyncDicacheKind;

/// `li r3, 42; blr`: returns 42.
const RETURN_42: [u32; 2] = [0x3860_002a, 0x4e80_0020];

impl LiveKind for SyncDicacheKind {
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<SyncDicache>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        match f.run_written_code(&RETURN_42) {
            Ok(ran) => judge_sync_dicache(ran, 42),
            Err(e) => CheckResult::unrunnable(e),
        }
    }
}
