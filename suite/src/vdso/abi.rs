//! The C ABI of the vDSO functions: argument structs and typed calls.
//!
//! A [`VdsoFn`] is a raw code address that the caller vouches for; the typed calls
//! are the handles of [`super::handles`].

use super::guard::Plain;
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

// SAFETY: a `#[repr(C)]` struct of integers.
unsafe impl Plain for NativeTimespec {}
// SAFETY: a `#[repr(C)]` struct of integers.
unsafe impl Plain for KernelTimespec {}
// SAFETY: a `#[repr(C)]` struct of integers.
unsafe impl Plain for Timeval {}
// SAFETY: a `#[repr(C)]` struct of integers.
unsafe impl Plain for Timezone {}
// SAFETY: a `#[repr(C)]` struct of integers.
unsafe impl Plain for VgetrandomOpaqueParams {}
// SAFETY: an integer.
unsafe impl Plain for c_uint {}
// SAFETY: an integer.
unsafe impl Plain for c_long {}
// SAFETY: an integer.
unsafe impl Plain for u64 {}
// SAFETY: an integer.
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

/// The code address of a resolved vDSO function. Called only through the typed
/// handles of [`super::handles`], which tie it to the prototype of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VdsoFn(usize);

impl VdsoFn {
    /// # Safety
    /// `address` must be the entry point of a function whose prototype is the
    /// one of every handle later made from the value.
    #[inline]
    pub unsafe fn new(address: usize) -> Self {
        VdsoFn(address)
    }

    #[inline]
    pub fn address(&self) -> usize {
        self.0
    }

    /// Calls the function as the C prototype `P` (an `unsafe extern "C" fn`
    /// type) with `args`: the compiler passes each argument and reads the result
    /// as the ABI says for its type (an `int` sign-extended where the ABI wants
    /// it, a 64-bit result from two registers on 32-bit ABIs). Errors come in
    /// the generic convention: a negative errno.
    ///
    /// # Safety
    /// `P` must be the function's prototype, and the arguments what it expects.
    #[inline]
    pub(super) unsafe fn call<P: Prototype>(&self, args: P::Args) -> P::Ret {
        // SAFETY: per `new` and this function's contract.
        super::syscall_watch::in_vdso_call(|| unsafe { P::call(self.0, args) })
    }
}

/// A C argument type of a vDSO function.
pub trait Arg: Copy {
    /// The register value the C ABI passes it as, extended to the register's
    /// width as its type says (signed types sign-extended, unsigned ones
    /// zero-extended, as the powerpc ABIs want): for the powerpc call wrapper,
    /// which takes registers. A Rust call of a typed function pointer needs it
    /// not.
    #[cfg_attr(
        not(any(target_arch = "powerpc", target_arch = "powerpc64")),
        allow(dead_code)
    )]
    fn register(self) -> usize;
}

impl Arg for i32 {
    fn register(self) -> usize {
        self as isize as usize
    }
}
impl Arg for u32 {
    fn register(self) -> usize {
        self as usize
    }
}
// `unsigned long` on 64-bit ABIs (one register); on 32-bit ones it is `u32`.
#[cfg(target_pointer_width = "64")]
impl Arg for u64 {
    fn register(self) -> usize {
        self as usize
    }
}
impl Arg for usize {
    fn register(self) -> usize {
        self
    }
}
impl<T> Arg for *mut T {
    fn register(self) -> usize {
        self as usize
    }
}

/// A C prototype: an `unsafe extern "C" fn` type of up to five arguments, with
/// its arguments as a tuple.
pub trait Prototype: Copy {
    type Args: Copy;
    type Ret: Returns;

    /// Calls the function at `address` as this prototype.
    ///
    /// # Safety
    /// `address` is a function of this prototype, and `args` what it expects.
    unsafe fn call(address: usize, args: Self::Args) -> Self::Ret;
}

macro_rules! prototype {
    ($($arg:ident $n:tt),*) => {
        impl<$($arg: Arg,)* R: Returns> Prototype for unsafe extern "C" fn($($arg),*) -> R {
            type Args = ($($arg,)*);
            type Ret = R;

            #[inline]
            #[allow(unused_variables)]
            unsafe fn call(address: usize, args: Self::Args) -> R {
                #[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
                {
                    // SAFETY: a function pointer is an address; the caller
                    // vouches for what is there.
                    let f: Self = unsafe { core::mem::transmute_copy(&address) };
                    // SAFETY: per this function's contract.
                    unsafe { f($(args.$n),*) }
                }
                #[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
                {
                    #[allow(unused_mut)]
                    let mut registers = [0usize; 5];
                    $(registers[$n] = args.$n.register();)*
                    // SAFETY: per this function's contract.
                    unsafe { call_convention::call(address, registers) }
                }
            }
        }
    };
}
prototype!();
prototype!(A 0);
prototype!(A 0, B 1);
prototype!(A 0, B 1, C 2);
prototype!(A 0, B 1, C 2, D 3);
prototype!(A 0, B 1, C 2, D 3, E 4);

/// A C return type of a vDSO function: `void`, an integer or a pointer's address.
pub trait Returns: Copy {
    /// The value from powerpc's r3 and r4 (the low word of a 64-bit value on
    /// 32-bit powerpc), for the call wrapper that reads CR0.SO: a Rust call of
    /// a typed function pointer narrows without it.
    #[cfg_attr(
        not(any(target_arch = "powerpc", target_arch = "powerpc64")),
        allow(dead_code)
    )]
    fn from_r3_r4(r3: usize, r4: usize) -> Self;
}

impl Returns for () {
    fn from_r3_r4(_: usize, _: usize) -> Self {}
}
impl Returns for i32 {
    fn from_r3_r4(r3: usize, _: usize) -> Self {
        r3 as i32
    }
}
impl Returns for u32 {
    fn from_r3_r4(r3: usize, _: usize) -> Self {
        r3 as u32
    }
}
impl Returns for isize {
    fn from_r3_r4(r3: usize, _: usize) -> Self {
        r3 as isize
    }
}
impl Returns for usize {
    fn from_r3_r4(r3: usize, _: usize) -> Self {
        r3
    }
}
impl Returns for u64 {
    fn from_r3_r4(r3: usize, r4: usize) -> Self {
        if cfg!(target_pointer_width = "32") {
            ((r3 as u32 as u64) << 32) | (r4 as u32 as u64)
        } else {
            r3 as u64
        }
    }
}
impl Returns for i64 {
    fn from_r3_r4(r3: usize, r4: usize) -> Self {
        u64::from_r3_r4(r3, r4) as i64
    }
}

/// Calls the code at `address` as `extern "C" fn() -> long`.
///
/// # Safety
/// `address` starts a complete function of the C ABI, taking nothing and
/// returning a `long`, in executable memory.
pub(super) unsafe fn call_code(address: usize) -> isize {
    // SAFETY: per this function's contract.
    unsafe { call_convention::call_code(address) }
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
#[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
mod call_convention {
    pub const CR0_SO_WRAPPER: bool = false;

    /// Code at `address` as `extern "C" fn() -> long`.
    #[inline]
    pub unsafe fn call_code(address: usize) -> isize {
        // SAFETY: per the caller's contract.
        let f: unsafe extern "C" fn() -> isize = unsafe { core::mem::transmute(address) };
        // SAFETY: as above.
        unsafe { f() }
    }
}

/// powerpc: the vDSO returns a positive errno in r3 and flags the error in
/// CR0.SO, like the system call. Rust cannot read CR0 after a call, so an
/// assembly wrapper (one per ABI, in `powerpc_call`) makes the call and stores
/// the flag and r4 (the low word of a 64-bit result on 32-bit powerpc).
#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
mod call_convention {
    pub const CR0_SO_WRAPPER: bool = true;

    extern "C" {
        /// Calls `f(a0..a4)`; `out[0]` = CR0.SO (0 or 1), `out[1]` = r4.
        fn vdsoconf_ppc_call(
            f: usize,
            a0: usize,
            a1: usize,
            a2: usize,
            a3: usize,
            a4: usize,
            out: *mut [usize; 2],
        ) -> isize;
    }

    #[inline]
    unsafe fn raw(address: usize, a: [usize; 5]) -> (isize, [usize; 2]) {
        let mut out = [0usize; 2];
        // SAFETY: the caller guarantees `address` is a function taking these
        // arguments; `out` is a valid out-pointer.
        let r = unsafe { vdsoconf_ppc_call(address, a[0], a[1], a[2], a[3], a[4], &mut out) };
        (r, out)
    }

    #[inline]
    pub unsafe fn call<R: super::Returns>(address: usize, a: [usize; 5]) -> R {
        // SAFETY: per this function's contract.
        let (r, [so, r4]) = unsafe { raw(address, a) };
        if so != 0 {
            // A positive errno in r3 (an int): the generic convention negates it.
            R::from_r3_r4(-((r as core::ffi::c_int) as isize) as usize, r4)
        } else {
            R::from_r3_r4(r as usize, r4)
        }
    }

    /// Code at `address` as `extern "C" fn() -> long`, through the wrapper (a
    /// plain Rust call would need a function descriptor on ELFv1); its CR0 is
    /// not looked at.
    #[inline]
    pub unsafe fn call_code(address: usize) -> isize {
        // SAFETY: per this function's contract.
        unsafe { raw(address, [0; 5]) }.0
    }

    // ELFv2 (powerpc64le): r3 = function, r4..r8 = its arguments, r9 = `out`; r12
    // holds the entry address at a global entry; the TOC (r2) is saved in its slot
    // at 24(r1) and restored; the frame keeps r9 at 32(r1).
    #[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
    core::arch::global_asm!(
        ".text",
        ".globl vdsoconf_ppc_call",
        ".type vdsoconf_ppc_call, @function",
        "vdsoconf_ppc_call:",
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
        "std 4, 8(9)",
        "addi 1, 1, 48",
        "ld 0, 16(1)",
        "mtlr 0",
        "blr",
        ".size vdsoconf_ppc_call, . - vdsoconf_ppc_call",
    );

    // ELFv1 (big-endian powerpc64): the symbol is a function descriptor in .opd
    // whose code is `.L.vdsoconf_ppc_call`; the vDSO's symbols are code addresses
    // (it has no descriptors), branched to through CTR. A frame of 128 bytes: the
    // 48-byte header (TOC saved at 40), the 64-byte parameter save area a callee
    // may use, r9 kept at 112.
    #[cfg(all(target_arch = "powerpc64", target_endian = "big"))]
    core::arch::global_asm!(
        ".section .opd, \"aw\"",
        ".p2align 3",
        ".globl vdsoconf_ppc_call",
        "vdsoconf_ppc_call:",
        ".quad .L.vdsoconf_ppc_call, .TOC.@tocbase, 0",
        ".text",
        ".type vdsoconf_ppc_call, @function",
        ".L.vdsoconf_ppc_call:",
        "mflr 0",
        "std 0, 16(1)",
        "stdu 1, -128(1)",
        "std 2, 40(1)",
        "std 9, 112(1)",
        "mtctr 3",
        "mr 3, 4",
        "mr 4, 5",
        "mr 5, 6",
        "mr 6, 7",
        "mr 7, 8",
        "bctrl",
        "ld 2, 40(1)",
        "ld 9, 112(1)",
        "mfcr 10",
        "rlwinm 10, 10, 4, 31, 31",
        "std 10, 0(9)",
        "std 4, 8(9)",
        "addi 1, 1, 128",
        "ld 0, 16(1)",
        "mtlr 0",
        "blr",
        ".size vdsoconf_ppc_call, . - .L.vdsoconf_ppc_call",
    );

    // SysV (32-bit powerpc): r3 = function, r4..r8 = its arguments, r9 = `out`;
    // no TOC. A 32-byte frame: back chain at 0, the callee's LR slot at 4, r9
    // kept at 8.
    #[cfg(target_arch = "powerpc")]
    core::arch::global_asm!(
        ".text",
        ".globl vdsoconf_ppc_call",
        ".type vdsoconf_ppc_call, @function",
        "vdsoconf_ppc_call:",
        "mflr 0",
        "stw 0, 4(1)",
        "stwu 1, -32(1)",
        "stw 9, 8(1)",
        "mtctr 3",
        "mr 3, 4",
        "mr 4, 5",
        "mr 5, 6",
        "mr 6, 7",
        "mr 7, 8",
        "bctrl",
        "lwz 9, 8(1)",
        "mfcr 10",
        "rlwinm 10, 10, 4, 31, 31",
        "stw 10, 0(9)",
        "stw 4, 4(9)",
        "addi 1, 1, 32",
        "lwz 0, 4(1)",
        "mtlr 0",
        "blr",
        ".size vdsoconf_ppc_call, . - vdsoconf_ppc_call",
    );
}

/// One opaque getrandom state, mapped as `vgetrandom_opaque_params` says.
#[derive(Debug)]
pub struct GetrandomState {
    ptr: *mut c_void,
    len: usize,
    map_len: usize,
}

impl GetrandomState {
    /// The state's address, for the call.
    pub fn address(&self) -> usize {
        self.ptr as usize
    }

    /// `state_len` of the call: `size_of_opaque_state`.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

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

impl GetrandomState {
    /// Zeroes the state, as the kernel may drop its pages (a dropped page
    /// reads as zeros, and the vDSO must then reseed).
    pub fn zero(&mut self) {
        // SAFETY: `ptr` is our own read-write mapping of `map_len` bytes.
        unsafe { core::ptr::write_bytes(self.ptr.cast::<u8>(), 0, self.map_len) };
    }
}

// SAFETY: only the vDSO reads or writes the state's memory while it is shared
// (Rust code passes its address, and `zero` takes it exclusively); the vDSO
// marks a state in use and falls back to the syscall for a second user.
unsafe impl Sync for GetrandomState {}

impl Drop for GetrandomState {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from mmap with `map_len` bytes and is unmapped once.
        unsafe { libc::munmap(self.ptr, self.map_len) };
    }
}
