//! The C ABI of the vDSO functions: argument structs and typed calls.
//!
//! A [`VdsoFn`] is a raw code address that the caller vouches for (it resolved the symbol
//! and knows its kind). Its methods pass only valid pointers; the bad-pointer checks
//! run in a separate process.

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
    /// matches every method later called on the value, using the generic
    /// (negative errno) error convention.
    pub unsafe fn new(address: usize) -> Self {
        VdsoFn(address)
    }

    pub fn address(&self) -> usize {
        self.0
    }

    /// `int fn(clockid_t, T *)`: clock_gettime and clock_getres with either timespec ABI.
    fn clock_call<T: Default>(&self, clock: c_int) -> (c_int, T) {
        let mut ts = T::default();
        // SAFETY: per `new`, this is a clock function taking a `T` out-pointer; `ts` is valid.
        let f: unsafe extern "C" fn(c_int, *mut T) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        (unsafe { f(clock, &mut ts) }, ts)
    }

    /// `int clock_gettime(clockid_t, struct timespec *)` (native time_t).
    pub fn clock_gettime(&self, clock: c_int) -> (c_int, NativeTimespec) {
        self.clock_call(clock)
    }

    /// `int clock_gettime64(clockid_t, struct __kernel_timespec *)`.
    pub fn clock_gettime64(&self, clock: c_int) -> (c_int, KernelTimespec) {
        self.clock_call(clock)
    }

    /// `int clock_getres(clockid_t, struct timespec *)` (native time_t).
    pub fn clock_getres(&self, clock: c_int) -> (c_int, NativeTimespec) {
        self.clock_call(clock)
    }

    /// `int clock_getres_time64(clockid_t, struct __kernel_timespec *)`.
    pub fn clock_getres_time64(&self, clock: c_int) -> (c_int, KernelTimespec) {
        self.clock_call(clock)
    }

    /// `int gettimeofday(struct timeval *, struct timezone *)`.
    pub fn gettimeofday(&self) -> (c_int, Timeval, Timezone) {
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        // SAFETY: per `new`; both are valid out-pointers.
        let f: unsafe extern "C" fn(*mut Timeval, *mut Timezone) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        (unsafe { f(&mut tv, &mut tz) }, tv, tz)
    }

    /// `time_t time(time_t *)`: returns the result and what was stored.
    pub fn time(&self) -> (NativeTime, NativeTime) {
        let mut stored: NativeTime = 0;
        // SAFETY: per `new`; `stored` is a valid out-pointer.
        let f: unsafe extern "C" fn(*mut NativeTime) -> NativeTime =
            unsafe { core::mem::transmute(self.0) };
        (unsafe { f(&mut stored) }, stored)
    }

    /// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`.
    pub fn getcpu(&self) -> (c_int, c_uint, c_uint) {
        let (mut cpu, mut node) = (c_uint::MAX, c_uint::MAX);
        // SAFETY: per `new`; `cpu` and `node` are valid, tcache may be NULL.
        let f: unsafe extern "C" fn(*mut c_uint, *mut c_uint, *mut c_void) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        (
            unsafe { f(&mut cpu, &mut node, core::ptr::null_mut()) },
            cpu,
            node,
        )
    }

    /// `getrandom(NULL, 0, 0, &params, ~0UL)`: the opaque-state parameters.
    pub fn getrandom_params(&self) -> (isize, VgetrandomOpaqueParams) {
        let mut params = VgetrandomOpaqueParams::default();
        let f = self.getrandom_fn();
        // SAFETY: per `new`; this is the documented parameter query.
        let r = unsafe {
            f(
                core::ptr::null_mut(),
                0,
                0,
                (&mut params as *mut VgetrandomOpaqueParams).cast(),
                usize::MAX,
            )
        };
        (r, params)
    }

    /// `getrandom(buf, len, flags, state, state_len)` with a state from [`GetrandomState`].
    pub fn getrandom(&self, buf: &mut [u8], flags: c_uint, state: &GetrandomState) -> isize {
        self.getrandom_with_len(buf, flags, state, state.len)
    }

    /// `int fn(clockid_t, ptr)` with any pointer: clock_gettime/getres in either ABI.
    pub fn clock_call_at(&self, clock: c_int, ptr: usize) -> c_int {
        // SAFETY: per `new`, a clock function; a bad `ptr` is the point of the caller's
        // check, which runs in a throwaway child process.
        let f: unsafe extern "C" fn(c_int, usize) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        unsafe { f(clock, ptr) }
    }

    /// `gettimeofday(tv, tz)` with any pointers.
    pub fn gettimeofday_at(&self, tv: usize, tz: usize) -> c_int {
        // SAFETY: as for `clock_call_at`.
        let f: unsafe extern "C" fn(usize, usize) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        unsafe { f(tv, tz) }
    }

    /// `getcpu(cpu, node, NULL)` with any pointers.
    pub fn getcpu_at(&self, cpu: usize, node: usize) -> c_int {
        // SAFETY: as for `clock_call_at`.
        let f: unsafe extern "C" fn(usize, usize, usize) -> c_int =
            unsafe { core::mem::transmute(self.0) };
        unsafe { f(cpu, node, 0) }
    }

    /// `time(t)` with any pointer.
    pub fn time_at(&self, t: usize) -> NativeTime {
        // SAFETY: as for `clock_call_at`.
        let f: unsafe extern "C" fn(usize) -> NativeTime = unsafe { core::mem::transmute(self.0) };
        unsafe { f(t) }
    }

    /// `getrandom(buf, len, flags, state, state_len)` with any buffer pointer.
    pub fn getrandom_at(
        &self,
        buf: usize,
        len: usize,
        flags: c_uint,
        state: &GetrandomState,
    ) -> isize {
        let f = self.getrandom_fn();
        // SAFETY: as for `clock_call_at`; the state is valid.
        unsafe { f(buf as *mut c_void, len, flags, state.ptr, state.len) }
    }

    /// `getrandom` with an arbitrary state length (to check the fallback on a wrong one).
    pub fn getrandom_with_len(
        &self,
        buf: &mut [u8],
        flags: c_uint,
        state: &GetrandomState,
        state_len: usize,
    ) -> isize {
        let f = self.getrandom_fn();
        // SAFETY: per `new`; `buf` is valid for `buf.len()` bytes; the state is a live
        // mapping (a page) of the protection the vDSO asked for, larger than anything it
        // reads before it compares `state_len` with its own size and falls back.
        unsafe {
            f(
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags,
                state.ptr,
                state_len,
            )
        }
    }

    fn getrandom_fn(
        &self,
    ) -> unsafe extern "C" fn(*mut c_void, usize, c_uint, *mut c_void, usize) -> isize {
        // SAFETY: per `new`, this is a getrandom.
        unsafe { core::mem::transmute(self.0) }
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
