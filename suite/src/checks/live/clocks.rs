//! The clock ids the live checks exercise, and how a vDSO result is decoded.

use crate::spec::ClockId;
use crate::vdso::syscall::{getpid, gettid, Errno};
use crate::vdso::Timespec;

/// A reading: a time, or the errno the call failed with.
pub type Reading = Result<Timespec, Errno>;

/// One clock id to try, with a label for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockCase {
    pub id: i32,
    pub label: &'static str,
}

impl ClockCase {
    pub fn describe(&self) -> String {
        format!("{} ({})", self.label, self.id)
    }
}

/// `MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)` from the kernel's posix-timers.h.
pub fn process_cpu_clock(pid: i32) -> i32 {
    ((!pid) << 3) | 2
}

/// `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`.
pub fn thread_cpu_clock(tid: i32) -> i32 {
    ((!tid) << 3) | 2 | 4
}

/// Clock ids 0-11, the aux clocks 16-23, this process's and thread's CPU clocks,
/// and ids no kernel accepts.
pub fn all_clock_cases() -> Vec<ClockCase> {
    let mut v: Vec<ClockCase> = (0..=11)
        .chain(16..=23)
        .map(|id| ClockCase {
            id,
            label: ClockId(id).name().unwrap_or("unused"),
        })
        .collect();
    v.push(ClockCase {
        id: process_cpu_clock(getpid()),
        label: "this process's CPU clock",
    });
    v.push(ClockCase {
        id: thread_cpu_clock(gettid()),
        label: "this thread's CPU clock",
    });
    for (id, label) in [
        (-1, "invalid"),
        (12, "unused"),
        (13, "unused"),
        (14, "unused"),
        (15, "unused"),
        (24, "beyond the last"),
        (i32::MAX, "INT_MAX"),
        (i32::MIN, "INT_MIN"),
    ] {
        v.push(ClockCase { id, label });
    }
    v
}

/// Coarse clocks: a vDSO reading may lag a syscall reading by up to the resolution.
pub fn is_coarse(id: i32) -> bool {
    matches!(id, 5 | 6)
}

/// Generic vDSO convention: 0, or a negative errno.
pub fn decode(ret: i64) -> Result<(), Errno> {
    if ret < 0 {
        Err((-ret) as Errno)
    } else {
        Ok(())
    }
}

pub fn ns(t: Timespec) -> i128 {
    i128::from(t.sec) * 1_000_000_000 + i128::from(t.nsec)
}

pub fn errno_name(e: Errno) -> String {
    let name = match e {
        libc::EINVAL => "EINVAL",
        libc::EFAULT => "EFAULT",
        libc::ENODEV => "ENODEV",
        libc::ESRCH => "ESRCH",
        libc::EPERM => "EPERM",
        libc::ENOSYS => "ENOSYS",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

pub fn show(r: &Reading) -> String {
    match r {
        Ok(t) => format!("{}.{:09}", t.sec, t.nsec),
        Err(e) => errno_name(*e),
    }
}
