//! powerpc's helper functions: `__kernel_get_tbfreq` (the timebase frequency),
//! `__kernel_get_syscall_map` (which system calls the kernel implements) and
//! `__kernel_sync_dicache` (make stored instructions visible to fetches). None
//! stands in for a system call: each is checked against what the kernel says
//! elsewhere (/proc/cpuinfo, the calls themselves) or by running what it makes
//! possible (code written, synced and executed). Called through the CR0.SO call
//! wrapper, so on powerpc builds only.

use super::{checked, KindInfo, LiveKind};
use crate::checks::{CheckResult, Problem};
use crate::vdso::{GetSyscallMap, GetTbfreq, Resolved, SyncDicache, SyscallMap};

pub const GET_TBFREQ: KindInfo = KindInfo {
    crosscheck_what: "returns the timebase frequency /proc/cpuinfo gives",
    ..checked("get_tbfreq", &GetTbfreqKind)
};
pub const GET_SYSCALL_MAP: KindInfo = KindInfo {
    crosscheck_what:
        "its map marks the calls the kernel implements and leaves clear those it does not",
    ..checked("get_syscall_map", &GetSyscallMapKind)
};
pub const SYNC_DICACHE: KindInfo = KindInfo {
    crosscheck_what: "code written to a page and synced through it runs",
    ..checked("sync_dicache", &SyncDicacheKind)
};

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

/// get_tbfreq: a plausible frequency (1 MHz to 10 GHz), the one /proc/cpuinfo
/// gives as `timebase` (`None`: no such line to compare with).
pub fn judge_tbfreq(vdso: u64, cpuinfo: Option<u64>) -> CheckResult {
    if !(1_000_000..=10_000_000_000).contains(&vdso) {
        return CheckResult::from_symptoms(vec![Problem::new(
            "implausible-value",
            format!("a timebase of {vdso} Hz"),
        )]);
    }
    match cpuinfo {
        Some(tb) if tb == vdso => CheckResult::pass()
            .with_notes(vec![format!("timebase {vdso} Hz, as /proc/cpuinfo says")]),
        Some(tb) => CheckResult::from_symptoms(vec![Problem::new(
            "result-differs",
            format!("the vDSO says {vdso} Hz, /proc/cpuinfo's timebase {tb} Hz"),
        )]),
        None => CheckResult::skip(format!(
            "the vDSO says {vdso} Hz; /proc/cpuinfo has no timebase line to compare with"
        )),
    }
}

/// get_syscall_map: a map in a readable mapping, a plausible count, the bits of
/// calls this process just made set, and the bits of calls that answered ENOSYS
/// (`unimplemented`: number, whether it did) clear.
pub fn judge_syscall_map(
    map: &SyscallMap,
    implemented: &[usize],
    unimplemented: &[(usize, bool)],
) -> CheckResult {
    let mut problems = Vec::new();
    if !(300..4096).contains(&map.count) {
        problems.push(Problem::about(
            "implausible-value",
            "count",
            format!(
                "syscall_count {} (NR_syscalls is in the hundreds)",
                map.count
            ),
        ));
    }
    if let Err(e) = &map.mapping {
        problems.push(Problem::about(
            "implausible-value",
            "map",
            format!("the map: {e}"),
        ));
        return CheckResult::from_symptoms(problems);
    }
    let bit = |n: usize| map.implemented.get(n).copied();
    for &n in implemented {
        if bit(n) != Some(true) {
            problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n}, which this process makes, is not marked implemented"),
            ));
        }
    }
    for &(n, enosys) in unimplemented {
        match (bit(n), enosys) {
            (Some(false), true) => {}
            (Some(true), true) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n} is marked implemented but answers ENOSYS"),
            )),
            (_, false) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n}, unimplemented on every powerpc kernel, did not answer ENOSYS"),
            )),
            (None, true) => problems.push(Problem::about(
                "result-differs",
                n,
                format!("call {n} lies beyond the map's {} calls", map.count),
            )),
        }
    }
    CheckResult::from_symptoms(problems).with_notes(vec![format!(
        "{} of {} calls marked implemented; the map is in {}",
        map.implemented.iter().filter(|&&b| b).count(),
        map.count,
        map.mapping.as_deref().unwrap_or("?")
    )])
}

/// sync_dicache: code written to a page, synced through the vDSO and run does
/// what it says (returns `want`).
pub fn judge_sync_dicache(ran: isize, want: isize) -> CheckResult {
    if ran == want {
        CheckResult::pass()
    } else {
        CheckResult::from_symptoms(vec![Problem::new(
            "result-differs",
            format!("the written code, synced and run, returned {ran}, not {want}"),
        )])
    }
}
