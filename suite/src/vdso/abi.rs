//! The C ABI of the vDSO functions: argument structs and typed calls.
//!
//! A [`VdsoFn`] is a raw code address that the caller vouches for (it resolved the symbol
//! and knows its kind). Its typed methods pass only guarded output pointers
//! ([`super::guard`]); the `*_at` methods take any address, for the bad-pointer checks,
//! which run in a separate process.

use super::guard::{as_bytes_mut, with_outputs, Plain};
use core::ffi::{c_int, c_long, c_uint, c_void};

/// `struct timespec` of the native ABI (`struct old_timespec32` on 32-bit targets).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NativeTimespec {
    pub tv_sec: NativeTime,
    pub tv_nsec: c_long,
}

/// `time_t` of the kernel's native ABI: 64-bit on x32 although `long` is 32-bit.
#[cfg(all(target_arch = "x86_64", target_pointer_width = "32"))]
pub type NativeTime = i64;
#[cfg(not(all(target_arch = "x86_64", target_pointer_width = "32")))]
pub type NativeTime = c_long;

/// `struct __kernel_timespec`: the time64 ABI, 64-bit fields everywhere.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelTimespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeval {
    pub tv_sec: NativeTime,
    pub tv_usec: c_long,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timezone {
    pub tz_minuteswest: c_int,
    pub tz_dsttime: c_int,
}

/// `struct vgetrandom_opaque_params`, filled by `getrandom(NULL, 0, 0, &p, ~0UL)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VgetrandomOpaqueParams {
    pub size_of_opaque_state: u32,
    pub mmap_prot: u32,
    pub mmap_flags: u32,
    pub reserved: [u32; 13],
}

// SAFETY: `#[repr(C)]` structs of integers, and integers.
unsafe impl Plain for NativeTimespec {}
unsafe impl Plain for KernelTimespec {}
unsafe impl Plain for Timeval {}
unsafe impl Plain for Timezone {}
unsafe impl Plain for VgetrandomOpaqueParams {}
unsafe impl Plain for c_uint {}
unsafe impl Plain for c_long {}
#[cfg(all(target_arch = "x86_64", target_pointer_width = "32"))]
unsafe impl Plain for i64 {}

/// A timespec in whichever ABI, widened for checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl From<NativeTimespec> for Timespec {
    // `c_long` is i32 on 32-bit targets: the widening is not useless there.
    #[allow(clippy::useless_conversion)]
    fn from(t: NativeTimespec) -> Self {
        Timespec {
            sec: t.tv_sec.into(),
            nsec: t.tv_nsec.into(),
        }
    }
}

impl From<KernelTimespec> for Timespec {
    fn from(t: KernelTimespec) -> Self {
        Timespec {
            sec: t.tv_sec,
            nsec: t.tv_nsec,
        }
    }
}

/// The code address of a resolved vDSO function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VdsoFn(usize);

impl VdsoFn {
    /// # Safety
    /// `address` must be the entry point of a live vDSO function whose prototype
    /// matches every method later called on the value.
    #[inline]
    pub unsafe fn new(address: usize) -> Self {
        VdsoFn(address)
    }

    #[inline]
    pub fn address(&self) -> usize {
        self.0
    }

    /// Calls the function with five pointer-sized arguments (a function taking fewer
    /// ignores the rest on every Linux C ABI) and returns its result register, with
    /// errors in the generic convention: a negative errno.
    ///
    /// # Safety
    /// The arguments must be what the function's prototype expects.
    #[inline]
    unsafe fn call(&self, args: [usize; 5]) -> isize {
        // SAFETY: per `new` and this function's contract.
        unsafe { call_convention::call(self.0, args) }
    }

    /// `int fn(clockid_t, T *)`: clock_gettime and clock_getres with either timespec
    /// ABI, the output guarded and starting as `initial`.
    #[inline]
    pub fn clock_call_with<T: Plain>(&self, clock: c_int, initial: T) -> (c_int, T) {
        let mut ts = initial;
        let r = with_outputs(&mut [("ts", as_bytes_mut(&mut ts))], |p| {
            self.clock_call_at(clock, p[0])
        });
        (r, ts)
    }

    /// `int clock_gettime(clockid_t, struct timespec *)` (native time_t).
    #[inline]
    pub fn clock_gettime(&self, clock: c_int) -> (c_int, NativeTimespec) {
        self.clock_call_with(clock, NativeTimespec::default())
    }

    /// `int clock_gettime64(clockid_t, struct __kernel_timespec *)`.
    #[inline]
    pub fn clock_gettime64(&self, clock: c_int) -> (c_int, KernelTimespec) {
        self.clock_call_with(clock, KernelTimespec::default())
    }

    /// `int clock_getres(clockid_t, struct timespec *)` (native time_t).
    #[inline]
    pub fn clock_getres(&self, clock: c_int) -> (c_int, NativeTimespec) {
        self.clock_call_with(clock, NativeTimespec::default())
    }

    /// `int clock_getres_time64(clockid_t, struct __kernel_timespec *)`.
    #[inline]
    pub fn clock_getres_time64(&self, clock: c_int) -> (c_int, KernelTimespec) {
        self.clock_call_with(clock, KernelTimespec::default())
    }

    /// `int gettimeofday(struct timeval *, struct timezone *)`.
    #[inline]
    pub fn gettimeofday(&self) -> (c_int, Timeval, Timezone) {
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        let r = with_outputs(
            &mut [("tv", as_bytes_mut(&mut tv)), ("tz", as_bytes_mut(&mut tz))],
            |p| self.gettimeofday_at(p[0], p[1]),
        );
        (r, tv, tz)
    }

    /// `gettimeofday` with NULL for the arguments asked (the others guarded).
    #[inline]
    pub fn gettimeofday_null(&self, null_tv: bool, null_tz: bool) -> c_int {
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        match (null_tv, null_tz) {
            (true, true) => self.gettimeofday_at(0, 0),
            (true, false) => with_outputs(&mut [("tz", as_bytes_mut(&mut tz))], |p| {
                self.gettimeofday_at(0, p[0])
            }),
            (false, true) => with_outputs(&mut [("tv", as_bytes_mut(&mut tv))], |p| {
                self.gettimeofday_at(p[0], 0)
            }),
            (false, false) => self.gettimeofday().0,
        }
    }

    /// `time_t time(time_t *)`: returns the result and what was stored.
    #[inline]
    pub fn time(&self) -> (NativeTime, NativeTime) {
        let mut stored: NativeTime = 0;
        let r = with_outputs(&mut [("t", as_bytes_mut(&mut stored))], |p| {
            self.time_at(p[0])
        });
        (r, stored)
    }

    /// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`.
    #[inline]
    pub fn getcpu(&self) -> (c_int, c_uint, c_uint) {
        let (mut cpu, mut node) = (c_uint::MAX, c_uint::MAX);
        let r = with_outputs(
            &mut [
                ("cpu", as_bytes_mut(&mut cpu)),
                ("node", as_bytes_mut(&mut node)),
            ],
            |p| self.getcpu_at(p[0], p[1]),
        );
        (r, cpu, node)
    }

    /// `getrandom(NULL, 0, 0, &params, ~0UL)`: the opaque-state parameters.
    #[inline]
    pub fn getrandom_params(&self) -> (isize, VgetrandomOpaqueParams) {
        let mut params = VgetrandomOpaqueParams::default();
        let r = with_outputs(&mut [("params", as_bytes_mut(&mut params))], |p| {
            // SAFETY: per `new`, a getrandom; this is the documented parameter query,
            // with a guarded `params`.
            unsafe { self.call([0, 0, 0, p[0], usize::MAX]) }
        });
        (r, params)
    }

    /// `getrandom(buf, len, flags, state, state_len)` with a state from [`GetrandomState`].
    #[inline]
    pub fn getrandom(&self, buf: &mut [u8], flags: c_uint, state: &GetrandomState) -> isize {
        self.getrandom_with_len(buf, flags, state, state.len)
    }

    /// `int fn(clockid_t, ptr)` with any pointer: clock_gettime/getres in either ABI.
    #[inline]
    pub fn clock_call_at(&self, clock: c_int, ptr: usize) -> c_int {
        // SAFETY: per `new`, a clock function; a bad `ptr` is the point of the caller's
        // check, which runs in a throwaway child process.
        unsafe { self.call([clock as isize as usize, ptr, 0, 0, 0]) as c_int }
    }

    /// `gettimeofday(tv, tz)` with any pointers.
    #[inline]
    pub fn gettimeofday_at(&self, tv: usize, tz: usize) -> c_int {
        // SAFETY: as for `clock_call_at`.
        unsafe { self.call([tv, tz, 0, 0, 0]) as c_int }
    }

    /// `getcpu(cpu, node, NULL)` with any pointers.
    #[inline]
    pub fn getcpu_at(&self, cpu: usize, node: usize) -> c_int {
        // SAFETY: as for `clock_call_at`.
        unsafe { self.call([cpu, node, 0, 0, 0]) as c_int }
    }

    /// `time(t)` with any pointer.
    #[inline]
    pub fn time_at(&self, t: usize) -> NativeTime {
        // SAFETY: as for `clock_call_at`.
        unsafe { self.call([t, 0, 0, 0, 0]) as NativeTime }
    }

    /// `getrandom(buf, len, flags, state, state_len)` with any buffer pointer.
    #[inline]
    pub fn getrandom_at(
        &self,
        buf: usize,
        len: usize,
        flags: c_uint,
        state: &GetrandomState,
    ) -> isize {
        // SAFETY: as for `clock_call_at`; the state is valid.
        unsafe { self.call([buf, len, flags as usize, state.ptr as usize, state.len]) }
    }

    /// `getrandom` with an arbitrary state length (to check the fallback on a wrong
    /// one); `buf` is written through a guarded copy.
    #[inline]
    pub fn getrandom_with_len(
        &self,
        buf: &mut [u8],
        flags: c_uint,
        state: &GetrandomState,
        state_len: usize,
    ) -> isize {
        let len = buf.len();
        with_outputs(&mut [("buf", buf)], |p| {
            // SAFETY: per `new`; the guarded buffer holds `len` bytes; the state is a
            // live mapping (a page) of the protection the vDSO asked for, larger than
            // anything it reads before it compares `state_len` with its own size and
            // falls back.
            unsafe { self.call([p[0], len, flags as usize, state.ptr as usize, state_len]) }
        })
    }
}

/// Whether calls on this build report errors as a negative errno, as every checked
/// caller expects: natively, or through the wrapper of [`call_convention`].
pub fn calls_supported(convention: crate::spec::ErrorConvention) -> bool {
    use crate::spec::ErrorConvention;
    match convention {
        ErrorConvention::NegativeErrno => true,
        ErrorConvention::PowerpcCr0So => call_convention::CR0_SO_WRAPPER,
        _ => false,
    }
}

/// The generic convention: the function returns a negative errno itself.
#[cfg(not(all(target_arch = "powerpc64", target_endian = "little")))]
mod call_convention {
    pub const CR0_SO_WRAPPER: bool = false;

    #[inline]
    pub unsafe fn call(address: usize, a: [usize; 5]) -> isize {
        // SAFETY: the caller guarantees `address` is a function taking these arguments.
        let f: unsafe extern "C" fn(usize, usize, usize, usize, usize) -> isize =
            unsafe { core::mem::transmute(address) };
        unsafe { f(a[0], a[1], a[2], a[3], a[4]) }
    }
}

/// powerpc64 (ELFv2): the vDSO returns a positive errno in r3 and flags the error
/// in CR0.SO, like the system call. Rust cannot read CR0 after a call, so an
/// assembly wrapper makes the call and stores the flag.
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
mod call_convention {
    pub const CR0_SO_WRAPPER: bool = true;

    // r3 = function, r4..r8 = its arguments, r9 = where to store CR0.SO (0 or 1).
    // ELFv2: r12 holds the entry address at a global entry; the TOC (r2) is saved
    // in its slot at 24(r1) and restored; the frame keeps r9 at 32(r1).
    core::arch::global_asm!(
        ".text",
        ".globl vdsoconf_ppc64_call",
        ".type vdsoconf_ppc64_call, @function",
        "vdsoconf_ppc64_call:",
        "mflr 0",
        "std 0, 16(1)",
        "stdu 1, -48(1)",
        "std 2, 24(1)",
        "std 9, 32(1)",
        "mtctr 3",
        "mr 12, 3",
        "mr 3, 4",
        "mr 4, 5",
        "mr 5, 6",
        "mr 6, 7",
        "mr 7, 8",
        "bctrl",
        "ld 2, 24(1)",
        "ld 9, 32(1)",
        "mfcr 10",
        "rlwinm 10, 10, 4, 31, 31",
        "std 10, 0(9)",
        "addi 1, 1, 48",
        "ld 0, 16(1)",
        "mtlr 0",
        "blr",
        ".size vdsoconf_ppc64_call, . - vdsoconf_ppc64_call",
    );

    extern "C" {
        fn vdsoconf_ppc64_call(
            f: usize,
            a0: usize,
            a1: usize,
            a2: usize,
            a3: usize,
            a4: usize,
            so: *mut u64,
        ) -> isize;
    }

    #[inline]
    pub unsafe fn call(address: usize, a: [usize; 5]) -> isize {
        let mut so = 0u64;
        // SAFETY: the caller guarantees `address` is a function taking these
        // arguments; `so` is a valid out-pointer.
        let r = unsafe { vdsoconf_ppc64_call(address, a[0], a[1], a[2], a[3], a[4], &mut so) };
        if so != 0 {
            // A positive errno in r3 (an int): the generic convention negates it.
            -((r as core::ffi::c_int) as isize)
        } else {
            r
        }
    }
}

/// One opaque getrandom state, mapped as `vgetrandom_opaque_params` says.
#[derive(Debug)]
pub struct GetrandomState {
    ptr: *mut c_void,
    len: usize,
    map_len: usize,
}

impl GetrandomState {
    pub fn new(params: &VgetrandomOpaqueParams) -> Result<Self, String> {
        let len = params.size_of_opaque_state as usize;
        if len == 0 || len > 4096 {
            return Err(format!("size_of_opaque_state {len} is not in 1..=4096"));
        }
        // SAFETY: an anonymous mapping with the vDSO's own prot/flags; checked below.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                4096,
                params.mmap_prot as c_int,
                params.mmap_flags as c_int,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!(
                "mmap(prot=0x{:x}, flags=0x{:x}) failed: {}",
                params.mmap_prot,
                params.mmap_flags,
                std::io::Error::last_os_error()
            ));
        }
        Ok(GetrandomState {
            ptr,
            len,
            map_len: 4096,
        })
    }
}

impl Drop for GetrandomState {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from mmap with `map_len` bytes and is unmapped once.
        unsafe { libc::munmap(self.ptr, self.map_len) };
    }
}

/// Issues syscall `nr` (no arguments) through `__kernel_vsyscall` at `entry`, the
/// way i386 libcs do: number in eax, result in eax. `entry` must be the live
/// vDSO's `__kernel_vsyscall` (the caller resolved it there).
#[cfg(target_arch = "x86")]
pub fn vsyscall0(entry: usize, nr: i32) -> i32 {
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
