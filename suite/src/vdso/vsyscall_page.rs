//! x86_64's legacy vsyscall page: its fixed-address entries called as the
//! functions they stand for, and a plain read of it. A page that is not
//! mapped (or not readable) kills the caller with SIGSEGV: the callers run
//! each in a child process of its own.

use super::Timeval;
use std::ffi::{c_long, c_uint, c_void};

/// Whether this build can call the page (an x86_64 process).
pub const CALLABLE: bool = cfg!(target_arch = "x86_64");

/// `long gettimeofday(struct timeval *, struct timezone *)` at `entry`, with
/// no timezone: what it returned and the time it stored (seconds, µs).
pub fn gettimeofday(entry: u64) -> (i64, i64, i64) {
    let mut tv = Timeval::default();
    type Entry = extern "C" fn(*mut Timeval, *mut c_void) -> c_long;
    // SAFETY: the caller runs this in a child that may die; the page's
    // gettimeofday writes one timeval and takes NULL for the timezone.
    let r = unsafe {
        std::mem::transmute::<usize, Entry>(entry as usize)(&mut tv, std::ptr::null_mut())
    };
    #[allow(clippy::useless_conversion)]
    (r.into(), tv.tv_sec.into(), tv.tv_usec.into())
}

/// `time_t time(time_t *)` at `entry`: what it returned and what it stored.
pub fn time(entry: u64) -> (i64, i64) {
    let mut stored: c_long = 0;
    type Entry = extern "C" fn(*mut c_long) -> c_long;
    // SAFETY: as above; it writes one time_t.
    let r = unsafe { std::mem::transmute::<usize, Entry>(entry as usize)(&mut stored) };
    #[allow(clippy::useless_conversion)]
    (r.into(), stored.into())
}

/// `long getcpu(unsigned *cpu, unsigned *node, void *tcache)` at `entry`:
/// what it returned, the CPU and the node.
pub fn getcpu(entry: u64) -> (i64, u32, u32) {
    let (mut cpu, mut node): (c_uint, c_uint) = (c_uint::MAX, c_uint::MAX);
    type Entry = extern "C" fn(*mut c_uint, *mut c_uint, *mut c_void) -> c_long;
    // SAFETY: as above; it writes two unsigned ints and ignores tcache.
    let r = unsafe {
        std::mem::transmute::<usize, Entry>(entry as usize)(
            &mut cpu,
            &mut node,
            std::ptr::null_mut(),
        )
    };
    #[allow(clippy::useless_conversion)]
    (r.into(), cpu, node)
}

/// Reads the first byte of the page at `address`.
pub fn read_first_byte(address: u64) -> u8 {
    // SAFETY: the caller runs this in a child that may die; the address is
    // the page's, readable only in `emulate` mode, and nothing is written.
    unsafe { std::ptr::read_volatile(address as usize as *const u8) }
}
