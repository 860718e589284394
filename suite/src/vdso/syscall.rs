//! Raw system calls through `syscall(2)`, never a libc wrapper (which may itself use
//! the vDSO). On 32-bit targets the time64 calls are used, so results compare with
//! either vDSO ABI.

use super::abi::{KernelTimespec, Timespec, Timeval, Timezone};
use core::ffi::{c_long, c_uint};

/// An errno value.
pub type Errno = i32;

fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `syscall(nr, args…)` with up to five pointer-sized arguments.
///
/// # Safety
/// The kernel checks that each pointer is mapped, not that it points where the
/// caller wants its answer: each valid pointer must point to a writable object as
/// large as the call `nr` writes.
pub(super) unsafe fn raw(nr: c_long, args: &[usize]) -> Result<isize, Errno> {
    let a = |i: usize| args.get(i).copied().unwrap_or(0);
    // SAFETY: per this function's contract; the kernel answers EFAULT for a bad
    // pointer instead of faulting.
    let r = unsafe { libc::syscall(nr, a(0), a(1), a(2), a(3), a(4)) };
    if r == -1 {
        Err(errno())
    } else {
        Ok(r as isize)
    }
}

// 64-bit targets, and x32, whose timespec is 64-bit already.
#[cfg(any(target_pointer_width = "64", target_arch = "x86_64"))]
mod nr {
    pub const CLOCK_GETTIME: libc::c_long = libc::SYS_clock_gettime;
    pub const CLOCK_GETRES: libc::c_long = libc::SYS_clock_getres;
}
// The time64 calls have one number on every 32-bit ABI (Linux 5.1 unified them),
// offset by the ABI's base on MIPS. The libc crate does not define them for all
// targets (i686 among them), so they are written here.
#[cfg(all(target_pointer_width = "32", not(target_arch = "x86_64")))]
mod nr {
    #[cfg(any(target_arch = "mips", target_arch = "mips32r6"))]
    const BASE: libc::c_long = 4000; // o32
    #[cfg(any(target_arch = "mips64", target_arch = "mips64r6"))]
    const BASE: libc::c_long = 6000; // n32 (mips64 with 32-bit pointers)
    #[cfg(not(any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6"
    )))]
    const BASE: libc::c_long = 0;
    pub const CLOCK_GETTIME: libc::c_long = BASE + 403;
    pub const CLOCK_GETRES: libc::c_long = BASE + 406;
}

/// A system call a vDSO function stands in for (its twin): its name, and its
/// number where this ABI has the call (`time` is missing from arm64 and riscv,
/// the riscv calls from everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    pub name: &'static str,
    pub nr: Option<c_long>,
}

const fn twin(name: &'static str, nr: c_long) -> Syscall {
    Syscall { name, nr: Some(nr) }
}

// The twins, one per prototype. The native clock calls are the ABI's own
// (the 32-bit-time ones on 32-bit ABIs, taking `struct old_timespec32`); the
// time64 calls take `struct __kernel_timespec` everywhere (on 64-bit ABIs
// they are the same numbers).
pub const CLOCK_GETTIME: Syscall = twin("clock_gettime", libc::SYS_clock_gettime);
pub const CLOCK_GETRES: Syscall = twin("clock_getres", libc::SYS_clock_getres);
pub const CLOCK_GETTIME64: Syscall = twin("clock_gettime64", nr::CLOCK_GETTIME);
pub const CLOCK_GETRES_TIME64: Syscall = twin("clock_getres_time64", nr::CLOCK_GETRES);
pub const GETTIMEOFDAY: Syscall = twin("gettimeofday", libc::SYS_gettimeofday);
pub const GETCPU: Syscall = twin("getcpu", libc::SYS_getcpu);
pub const GETRANDOM: Syscall = twin("getrandom", libc::SYS_getrandom);
pub const FUTEX: Syscall = twin("futex", libc::SYS_futex);
pub const TIME: Syscall = Syscall {
    name: "time",
    nr: SYS_TIME,
};
pub const RISCV_HWPROBE: Syscall = Syscall {
    name: "riscv_hwprobe",
    nr: SYS_RISCV_HWPROBE,
};
pub const RISCV_FLUSH_ICACHE: Syscall = Syscall {
    name: "riscv_flush_icache",
    nr: SYS_RISCV_FLUSH_ICACHE,
};

/// The clock_gettime syscall the checks compare with (clock_gettime64 on 32-bit ABIs).
pub const CLOCK_GETTIME_NR: c_long = nr::CLOCK_GETTIME;
/// The clock_getres syscall the checks compare with (clock_getres_time64 on 32-bit ABIs).
pub const CLOCK_GETRES_NR: c_long = nr::CLOCK_GETRES;

/// A clock syscall (`nr`) that fills a timespec.
fn read_clock(nr: c_long, clock: i32) -> Result<Timespec, Errno> {
    let mut ts = KernelTimespec::default();
    let ts_at = &mut ts as *mut KernelTimespec as usize;
    // SAFETY: `ts` is a `__kernel_timespec`, what both clock calls write.
    unsafe { raw(nr, &[clock as isize as usize, ts_at]) }?;
    Ok(ts.into())
}

pub fn clock_gettime(clock: i32) -> Result<Timespec, Errno> {
    read_clock(nr::CLOCK_GETTIME, clock)
}

pub fn clock_getres(clock: i32) -> Result<Timespec, Errno> {
    read_clock(nr::CLOCK_GETRES, clock)
}

/// `gettimeofday` as seconds, microseconds and the timezone.
pub fn gettimeofday() -> Result<(i64, i64, Timezone), Errno> {
    let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
    let at = [
        &mut tv as *mut Timeval as usize,
        &mut tz as *mut Timezone as usize,
    ];
    // SAFETY: a timeval and a timezone, what the call writes.
    unsafe { raw(libc::SYS_gettimeofday, &at) }?;
    #[allow(clippy::useless_conversion)] // c_long is i32 on 32-bit targets
    Ok((tv.tv_sec.into(), tv.tv_usec.into(), tz))
}

/// The `time` syscall, on the ABIs that have one (arm64, riscv, s390x, mips n64 and
/// others do not; those that do are the ones the libc crate defines it for).
/// The one place that says so: the fallback trap and the cross-checks both use it.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "sparc"
))]
pub const SYS_TIME: Option<c_long> = Some(libc::SYS_time);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "sparc"
)))]
pub const SYS_TIME: Option<c_long> = None;

/// SIGBUS of the ABI this binary runs as: 10 on every mips ABI
/// (arch/mips/include/uapi/asm/signal.h), where the libc crate (0.2.191) gives
/// glibc's mips64 targets the generic 7 (its mips signal numbers are chosen for
/// `target_arch = "mips"` only). The one place that says so: the bad-pointer
/// judge and the names of signals both use it.
pub const SIGBUS: i32 = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
    10
} else {
    libc::SIGBUS
};

/// System call `nr`, which takes no arguments and touches no memory, through
/// `int $0x80`: the entry `__kernel_vsyscall` stands in for (libc's `syscall()`
/// itself goes through the vDSO's entry on i386).
#[cfg(target_arch = "x86")]
pub fn int80_syscall0(nr: i32) -> i32 {
    let ret: i32;
    // SAFETY: the kernel's system call gate; the calls made through it here take
    // no arguments and write no memory.
    unsafe {
        core::arch::asm!("int 0x80", inlateout("eax") nr => ret, options(nostack));
    }
    ret
}

/// Calls no 64-bit powerpc kernel implements: `sys_ni_syscall` in its table
/// since 2.6 (break, stty, gtty, ftime, prof, lock, mpx, ulimit, profil).
pub const POWERPC_UNIMPLEMENTED: [usize; 9] = [17, 31, 32, 35, 44, 53, 56, 58, 98];

/// On a powerpc64 build, each of [`POWERPC_UNIMPLEMENTED`] made with zero
/// arguments, and whether it answered ENOSYS; nothing on other builds.
pub fn powerpc_unimplemented_answers() -> Vec<(usize, bool)> {
    if !cfg!(target_arch = "powerpc64") {
        return Vec::new();
    }
    POWERPC_UNIMPLEMENTED
        .iter()
        .map(|&nr| {
            // SAFETY: no powerpc64 kernel implements these calls: they do nothing
            // but fail (and were one implemented after all, with zero arguments,
            // in the throwaway child process that makes them).
            let answer = unsafe { raw(nr as c_long, &[]) };
            (nr, answer == Err(libc::ENOSYS))
        })
        .collect()
}

/// riscv's own calls (`__NR_arch_specific_syscall` + 14 and + 15, the same on
/// riscv32 and riscv64), where the build is riscv's.
#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
mod riscv_nr {
    pub const HWPROBE: Option<libc::c_long> = Some(258);
    pub const FLUSH_ICACHE: Option<libc::c_long> = Some(259);
}
#[cfg(not(any(target_arch = "riscv64", target_arch = "riscv32")))]
mod riscv_nr {
    pub const HWPROBE: Option<libc::c_long> = None;
    pub const FLUSH_ICACHE: Option<libc::c_long> = None;
}
pub const SYS_RISCV_HWPROBE: Option<c_long> = riscv_nr::HWPROBE;
pub const SYS_RISCV_FLUSH_ICACHE: Option<c_long> = riscv_nr::FLUSH_ICACHE;

/// `time(NULL)`, where the architecture has the syscall.
pub fn time() -> Option<Result<isize, Errno>> {
    // SAFETY: NULL: nothing is stored.
    SYS_TIME.map(|nr| unsafe { raw(nr, &[0]) })
}

/// `time(NULL)` by syscall, or where there is none (arm64, riscv) the seconds
/// of CLOCK_REALTIME_COARSE, which is what it returns.
pub fn time_seconds() -> Result<i64, Errno> {
    match time() {
        Some(r) => r.map(|v| v as i64),
        None => coarse_seconds(),
    }
}

/// Seconds of CLOCK_REALTIME_COARSE, what `time()` returns (available everywhere).
pub fn coarse_seconds() -> Result<i64, Errno> {
    clock_gettime(5).map(|t| t.sec)
}

pub fn getcpu() -> Result<(c_uint, c_uint), Errno> {
    let (mut cpu, mut node): (c_uint, c_uint) = (0, 0);
    let at = [
        &mut cpu as *mut c_uint as usize,
        &mut node as *mut c_uint as usize,
        0,
    ];
    // SAFETY: two `unsigned`s, what the call writes.
    unsafe { raw(libc::SYS_getcpu, &at) }?;
    Ok((cpu, node))
}

pub fn getrandom(buf: &mut [u8], flags: c_uint) -> Result<usize, Errno> {
    let at = [buf.as_mut_ptr() as usize, buf.len(), flags as usize];
    // SAFETY: `buf` holds the `len` bytes the call may write.
    unsafe { raw(libc::SYS_getrandom, &at) }.map(|n| n as usize)
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { raw(libc::SYS_getpid, &[]) }.unwrap_or(-1) as i32
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { raw(libc::SYS_gettid, &[]) }.unwrap_or(-1) as i32
}
