//! Typed handles: one per prototype, made only from a resolved symbol whose spec
//! kind is the one the prototype belongs to ([`Resolved::handle`]). The safe
//! methods pass guarded output pointers only ([`super::guard`]); the calls with
//! pointers chosen by the caller are `unsafe fn`s of [`PointerCall`], made safe
//! by the bad-pointer arena ([`super::arena`]) and by [`Outputs`].

use super::abi::{
    GetrandomState, KernelTimespec, NativeTime, NativeTimespec, Prototype, Timespec, Timeval,
    Timezone, VdsoFn, VgetrandomOpaqueParams,
};
use super::guard::{as_bytes_mut, with_outputs, GuardedOutput, Plain};
use super::syscall::{self, Errno, Syscall};
use crate::spec::SymbolKind;
use core::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use core::marker::PhantomData;

/// What a vDSO function returned, decoded once: a negative value is an errno (the
/// generic convention; powerpc's CR0.SO is mapped onto it by the call), anything
/// else is the function's value (0, a byte count, seconds).
pub type Returned = Result<i64, Errno>;

fn decode(raw: i64) -> Returned {
    if raw < 0 {
        Err((-raw) as Errno)
    } else {
        Ok(raw)
    }
}

/// The register value a [`Returned`] came from (the child protocol carries it).
pub fn raw_value(r: Returned) -> i64 {
    r.unwrap_or_else(|e| -i64::from(e))
}

/// A function of the live vDSO, resolved by name and version, and the kind its
/// spec gives it: the only way to a typed handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub(super) function: VdsoFn,
    pub(super) kind: SymbolKind,
}

impl Resolved {
    pub fn kind(&self) -> SymbolKind {
        self.kind
    }

    pub fn address(&self) -> usize {
        self.function.address()
    }

    /// The typed handle for this symbol, if `H` is the prototype of its kind.
    pub fn handle<H: Handle>(&self) -> Result<H, String> {
        if H::KINDS.contains(&self.kind) {
            Ok(H::from_fn(self.function))
        } else {
            Err(format!(
                "a {} is not called as {}",
                self.kind.name(),
                core::any::type_name::<H>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("this prototype")
            ))
        }
    }
}

/// A typed handle: a prototype, and the spec kinds whose symbols have it.
pub trait Handle: Sized {
    const KINDS: &'static [SymbolKind];
    /// The system call it stands in for (its fallback, and what the checks
    /// compare it with); `None` for functions that stand in for none
    /// (powerpc's helpers, i386's system call entry).
    const TWIN: Option<Syscall>;
    /// The C prototype, as an `unsafe extern "C" fn` type: the compiler passes
    /// the arguments and reads the result as the ABI says for their types; no
    /// call site widens or narrows a register by hand.
    type Prototype: Prototype;
    /// Wraps a function already vouched for (`VdsoFn::new` is `unsafe`).
    fn from_fn(function: VdsoFn) -> Self;
    fn function(&self) -> VdsoFn;

    /// The function called with `args`.
    ///
    /// # Safety
    /// The arguments must be what the prototype expects: each pointer NULL where
    /// allowed or pointing to an object of the size it writes, or the caller a
    /// throwaway process that may die of it.
    #[inline]
    unsafe fn invoke(
        &self,
        args: <Self::Prototype as Prototype>::Args,
    ) -> <Self::Prototype as Prototype>::Ret {
        // SAFETY: a function of this prototype (per `Resolved::handle`), with
        // arguments per this function's contract.
        unsafe { self.function().call::<Self::Prototype>(args) }
    }
}

/// A prototype whose pointer arguments a caller may choose, and its system call.
/// A handle is a code address and its types: cheap to copy into a loop.
pub trait PointerCall: Clone {
    /// Each pointer argument, in order: its name and the size of what it points to.
    const OUTPUTS: &'static [(&'static str, usize)];

    /// The vDSO call with these pointers (and `clock`, for the clock functions),
    /// returning the raw result register.
    ///
    /// # Safety
    /// Each pointer is NULL where the prototype allows it, points to a writable
    /// object of its [`Self::OUTPUTS`] size, or points where a write faults without
    /// touching anything this process uses (a PROT_NONE, read-only or unmapped page,
    /// the kernel's half): and then the caller is a process that may die of it.
    unsafe fn vdso_at(&self, clock: c_int, pointers: [usize; 2]) -> i64;

    /// The system call the vDSO function stands in for, with the same arguments;
    /// `None` where the architecture has no such call.
    ///
    /// # Safety
    /// The kernel checks every pointer it is given, but a valid one must point to a
    /// writable object of its size: as for [`Self::vdso_at`].
    unsafe fn syscall_at(&self, clock: c_int, pointers: [usize; 2])
        -> Option<Result<isize, Errno>>;
}

/// Guarded outputs made for one prototype and kept for many calls (a benchmark
/// loop): the pointers always fit, so the calls through them are safe.
pub struct Outputs<H> {
    outputs: Vec<GuardedOutput>,
    pointers: [usize; 2],
    prototype: PhantomData<fn() -> H>,
}

impl<H: PointerCall> Outputs<H> {
    pub fn new() -> Result<Self, String> {
        let outputs = H::OUTPUTS
            .iter()
            .map(|&(name, size)| GuardedOutput::new(name, &vec![0; size]))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pointers = [0; 2];
        for (p, o) in pointers.iter_mut().zip(&outputs) {
            *p = o.address();
        }
        Ok(Outputs {
            outputs,
            pointers,
            prototype: PhantomData,
        })
    }

    /// `f` called through the vDSO with these outputs.
    #[inline]
    pub fn vdso(&self, f: &H, clock: c_int) -> i64 {
        // SAFETY: each pointer is a guarded output of the size `H::OUTPUTS` names.
        unsafe { f.vdso_at(clock, self.pointers) }
    }

    /// `f`'s system call with these outputs.
    #[inline]
    pub fn syscall(&self, f: &H, clock: c_int) -> Option<Result<isize, Errno>> {
        // SAFETY: as for `vdso`.
        unsafe { f.syscall_at(clock, self.pointers) }
    }

    /// Records what the calls wrote outside the outputs, and restores them.
    pub fn inspect(&mut self) {
        self.outputs.iter_mut().for_each(GuardedOutput::inspect);
        for (p, o) in self.pointers.iter_mut().zip(&self.outputs) {
            *p = o.address();
        }
    }
}

/// A timespec ABI: the native `struct timespec` or the time64 `__kernel_timespec`.
pub trait TimespecAbi: Plain + Default + PartialEq + Into<Timespec> {
    /// Whether it is `__kernel_timespec`, the time64 calls' (64-bit fields on
    /// every ABI).
    const TIME64: bool;
    /// A value with every field set to `fill` (as wide as the field holds).
    fn filled(fill: i64) -> Self;
}

impl TimespecAbi for NativeTimespec {
    const TIME64: bool = false;
    fn filled(fill: i64) -> Self {
        NativeTimespec {
            tv_sec: fill as NativeTime,
            tv_nsec: fill as c_long,
        }
    }
}

impl TimespecAbi for KernelTimespec {
    const TIME64: bool = true;
    fn filled(fill: i64) -> Self {
        KernelTimespec {
            tv_sec: fill,
            tv_nsec: fill,
        }
    }
}

/// Which clock call: the name of its output argument, and its kind and system
/// call in each timespec ABI.
pub trait ClockOp {
    const OUTPUT: &'static str;
    const NATIVE: (SymbolKind, Syscall);
    const TIME64: (SymbolKind, Syscall);
}
#[derive(Debug, Clone, Copy)]
pub enum Gettime {}
#[derive(Debug, Clone, Copy)]
pub enum Getres {}
impl ClockOp for Gettime {
    const OUTPUT: &'static str = "ts";
    const NATIVE: (SymbolKind, Syscall) = (SymbolKind::ClockGettime, syscall::CLOCK_GETTIME);
    const TIME64: (SymbolKind, Syscall) = (SymbolKind::ClockGettime64, syscall::CLOCK_GETTIME64);
}
impl ClockOp for Getres {
    const OUTPUT: &'static str = "res";
    const NATIVE: (SymbolKind, Syscall) = (SymbolKind::ClockGetres, syscall::CLOCK_GETRES);
    const TIME64: (SymbolKind, Syscall) =
        (SymbolKind::ClockGetresTime64, syscall::CLOCK_GETRES_TIME64);
}

/// `int fn(clockid_t, T *)`: clock_gettime or clock_getres (`O`) with the
/// timespec ABI `T`.
pub struct Clock<T, O> {
    function: VdsoFn,
    abi: PhantomData<fn() -> (T, O)>,
}

impl<T, O> Clone for Clock<T, O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, O> Copy for Clock<T, O> {}

/// `int clock_gettime(clockid_t, struct timespec *)`.
pub type ClockGettime = Clock<NativeTimespec, Gettime>;
/// `int clock_gettime64(clockid_t, struct __kernel_timespec *)`.
pub type ClockGettime64 = Clock<KernelTimespec, Gettime>;
/// `int clock_getres(clockid_t, struct timespec *)`.
pub type ClockGetres = Clock<NativeTimespec, Getres>;
/// `int clock_getres_time64(clockid_t, struct __kernel_timespec *)`.
pub type ClockGetresTime64 = Clock<KernelTimespec, Getres>;

/// The handle of a newtype `$handle(VdsoFn)` for symbols of kind `$kind`.
macro_rules! function_handle {
    ($handle:ident, $kind:ident, $twin:expr, $prototype:ty) => {
        impl Handle for $handle {
            const KINDS: &'static [SymbolKind] = &[SymbolKind::$kind];
            const TWIN: Option<Syscall> = $twin;
            type Prototype = $prototype;
            fn from_fn(function: VdsoFn) -> Self {
                $handle(function)
            }
            fn function(&self) -> VdsoFn {
                self.0
            }
        }
    };
}

impl<T: TimespecAbi, O: ClockOp> Handle for Clock<T, O> {
    const KINDS: &'static [SymbolKind] = &[Self::OP.0];
    const TWIN: Option<Syscall> = Some(Self::OP.1);
    type Prototype = unsafe extern "C" fn(c_int, *mut T) -> c_int;
    fn from_fn(function: VdsoFn) -> Self {
        Clock {
            function,
            abi: PhantomData,
        }
    }
    fn function(&self) -> VdsoFn {
        self.function
    }
}

impl<T: TimespecAbi, O: ClockOp> Clock<T, O> {
    /// Its kind and system call: `O` in the ABI of `T`.
    const OP: (SymbolKind, Syscall) = if T::TIME64 { O::TIME64 } else { O::NATIVE };
}

/// `H`'s twin with `args`, where this ABI has it.
///
/// # Safety
/// As for [`syscall::raw`] with the twin's number.
unsafe fn twin<H: Handle>(args: &[usize]) -> Option<Result<isize, Errno>> {
    let nr = H::TWIN.and_then(|s| s.nr)?;
    // SAFETY: per this function's contract.
    Some(unsafe { syscall::raw(nr, args) })
}

impl<T: TimespecAbi, O: ClockOp> PointerCall for Clock<T, O> {
    const OUTPUTS: &'static [(&'static str, usize)] = &[(O::OUTPUT, size_of::<T>())];

    #[inline]
    unsafe fn vdso_at(&self, clock: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a clock function (per `Handle`); the pointer per this fn's contract.
        i64::from(unsafe { self.invoke((clock, p[0] as *mut T)) })
    }

    #[inline]
    unsafe fn syscall_at(&self, clock: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Self>(&[clock as isize as usize, p[0]]) }
    }
}

impl<T: TimespecAbi, O: ClockOp> Clock<T, O> {
    /// The call with its output guarded and starting as `initial`.
    pub fn call_with(&self, clock: c_int, initial: T) -> (Returned, T) {
        let mut ts = initial;
        let r = with_outputs(&mut [(O::OUTPUT, as_bytes_mut(&mut ts))], |p| {
            // SAFETY: `p[0]` is a guarded output of `size_of::<T>()` bytes.
            unsafe { self.vdso_at(clock, [p[0], 0]) }
        });
        (decode(r), ts)
    }

    pub fn call(&self, clock: c_int) -> (Returned, Timespec) {
        let (r, ts) = self.call_with(clock, T::default());
        (r, ts.into())
    }

    /// The timespec, or the errno.
    pub fn read(&self, clock: c_int) -> Result<Timespec, Errno> {
        let (r, ts) = self.call(clock);
        r.map(|_| ts)
    }
}

impl<T: TimespecAbi> Clock<T, Getres> {
    /// `clock_getres(clock, NULL)`: allowed, and must validate `clock`.
    pub fn null(&self, clock: c_int) -> Returned {
        // SAFETY: NULL is allowed for clock_getres's output.
        decode(unsafe { self.vdso_at(clock, [0, 0]) })
    }
}

/// `int gettimeofday(struct timeval *, struct timezone *)`.
#[derive(Debug, Clone, Copy)]
pub struct Gettimeofday(VdsoFn);

function_handle!(
    Gettimeofday,
    Gettimeofday,
    Some(syscall::GETTIMEOFDAY),
    unsafe extern "C" fn(*mut Timeval, *mut Timezone) -> c_int
);

impl PointerCall for Gettimeofday {
    const OUTPUTS: &'static [(&'static str, usize)] =
        &[("tv", size_of::<Timeval>()), ("tz", size_of::<Timezone>())];

    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a gettimeofday (per `Handle`); the pointers per this fn's contract.
        i64::from(unsafe { self.invoke((p[0] as *mut _, p[1] as *mut _)) })
    }

    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Self>(&p) }
    }
}

impl Gettimeofday {
    pub fn call(&self) -> (Returned, Timeval, Timezone) {
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        let r = with_outputs(
            &mut [("tv", as_bytes_mut(&mut tv)), ("tz", as_bytes_mut(&mut tz))],
            // SAFETY: guarded outputs of the sizes of `OUTPUTS`.
            |p| unsafe { self.vdso_at(0, [p[0], p[1]]) },
        );
        (decode(r), tv, tz)
    }

    /// The call with NULL for the arguments asked (both allowed); the others guarded.
    pub fn call_null(&self, null_tv: bool, null_tz: bool) -> Returned {
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        let r = match (null_tv, null_tz) {
            (false, false) => return self.call().0,
            // SAFETY: NULL is allowed for both.
            (true, true) => unsafe { self.vdso_at(0, [0, 0]) },
            (true, false) => with_outputs(&mut [("tz", as_bytes_mut(&mut tz))], |p| {
                // SAFETY: NULL is allowed for tv; tz is guarded.
                unsafe { self.vdso_at(0, [0, p[0]]) }
            }),
            (false, true) => with_outputs(&mut [("tv", as_bytes_mut(&mut tv))], |p| {
                // SAFETY: NULL is allowed for tz; tv is guarded.
                unsafe { self.vdso_at(0, [p[0], 0]) }
            }),
        };
        decode(r)
    }
}

/// `time_t time(time_t *)`.
#[derive(Debug, Clone, Copy)]
pub struct Time(VdsoFn);

function_handle!(
    Time,
    Time,
    Some(syscall::TIME),
    unsafe extern "C" fn(*mut NativeTime) -> NativeTime
);

impl PointerCall for Time {
    const OUTPUTS: &'static [(&'static str, usize)] = &[("t", size_of::<NativeTime>())];

    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a time (per `Handle`); the pointer per this fn's contract.
        let r = unsafe { self.invoke((p[0] as *mut NativeTime,)) };
        #[allow(clippy::useless_conversion)] // time_t is i32 on 32-bit targets
        i64::from(r)
    }

    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Self>(&[p[0]]) }
    }
}

impl Time {
    /// What it returned and what it stored.
    pub fn call(&self) -> (Returned, i64) {
        let mut stored: NativeTime = 0;
        let r = with_outputs(&mut [("t", as_bytes_mut(&mut stored))], |p| {
            // SAFETY: a guarded `time_t`.
            unsafe { self.vdso_at(0, [p[0], 0]) }
        });
        #[allow(clippy::useless_conversion)] // time_t is i32 on 32-bit targets
        (decode(r), stored.into())
    }

    /// `time(NULL)`.
    pub fn null(&self) -> Returned {
        // SAFETY: NULL is allowed.
        decode(unsafe { self.vdso_at(0, [0, 0]) })
    }
}

/// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`.
#[derive(Debug, Clone, Copy)]
pub struct Getcpu(VdsoFn);

function_handle!(
    Getcpu,
    Getcpu,
    Some(syscall::GETCPU),
    unsafe extern "C" fn(*mut c_uint, *mut c_uint, *mut c_void) -> c_int
);

impl PointerCall for Getcpu {
    const OUTPUTS: &'static [(&'static str, usize)] =
        &[("cpu", size_of::<c_uint>()), ("node", size_of::<c_uint>())];

    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a getcpu (per `Handle`); the pointers per this fn's contract.
        i64::from(unsafe { self.invoke((p[0] as *mut _, p[1] as *mut _, core::ptr::null_mut())) })
    }

    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Self>(&[p[0], p[1], 0]) }
    }
}

impl Getcpu {
    /// What it returned, and the CPU and node it stored.
    pub fn call(&self) -> (Returned, u32, u32) {
        let (mut cpu, mut node) = (c_uint::MAX, c_uint::MAX);
        let r = with_outputs(
            &mut [
                ("cpu", as_bytes_mut(&mut cpu)),
                ("node", as_bytes_mut(&mut node)),
            ],
            // SAFETY: guarded outputs of the sizes of `OUTPUTS`.
            |p| unsafe { self.vdso_at(0, [p[0], p[1]]) },
        );
        (decode(r), cpu, node)
    }

    /// [`Getcpu::call`] with `tcache` as the third argument, which kernels
    /// have ignored since 2.6.24 (any address: NULL, unmapped, PROT_NONE).
    pub fn call_with_tcache(&self, tcache: usize) -> (Returned, u32, u32) {
        let (mut cpu, mut node) = (c_uint::MAX, c_uint::MAX);
        let r = with_outputs(
            &mut [
                ("cpu", as_bytes_mut(&mut cpu)),
                ("node", as_bytes_mut(&mut node)),
            ],
            |p| {
                // SAFETY: guarded outputs of the sizes of `OUTPUTS`; `tcache` must
                // be ignored, and a vDSO that touches it faults in the throwaway
                // child the call check runs in (the failure it looks for).
                let r =
                    unsafe { self.invoke((p[0] as *mut _, p[1] as *mut _, tcache as *mut c_void)) };
                i64::from(r)
            },
        );
        (decode(r), cpu, node)
    }
}

/// `ssize_t getrandom(void *buf, size_t len, unsigned flags, void *state, size_t state_len)`.
#[derive(Debug, Clone, Copy)]
pub struct Getrandom(VdsoFn);

function_handle!(
    Getrandom,
    Getrandom,
    Some(syscall::GETRANDOM),
    unsafe extern "C" fn(*mut c_void, usize, c_uint, *mut c_void, usize) -> isize
);

impl Getrandom {
    /// `getrandom(NULL, 0, 0, &params, ~0UL)`: the opaque-state parameters.
    pub fn params(&self) -> (Returned, VgetrandomOpaqueParams) {
        let mut params = VgetrandomOpaqueParams::default();
        let r = with_outputs(&mut [("params", as_bytes_mut(&mut params))], |p| {
            // SAFETY: a getrandom; the documented parameter query, `params` guarded.
            unsafe { self.invoke((core::ptr::null_mut(), 0, 0, p[0] as *mut c_void, usize::MAX)) }
        });
        (decode(r as i64), params)
    }

    /// The parameters and a state mapped as they say.
    pub fn state(&self) -> Result<GetrandomState, String> {
        match self.params() {
            (Ok(0), params) => GetrandomState::new(&params),
            (r, _) => Err(format!("the parameter query returned {}", raw_value(r))),
        }
    }

    /// Fills `buf` (through a guarded copy) with `state`.
    pub fn fill(&self, buf: &mut [u8], flags: c_uint, state: &GetrandomState) -> Returned {
        self.fill_with_len(buf, flags, state, state.len())
    }

    /// As [`Self::fill`] with any `state_len` (a wrong one must fall back).
    pub fn fill_with_len(
        &self,
        buf: &mut [u8],
        flags: c_uint,
        state: &GetrandomState,
        state_len: usize,
    ) -> Returned {
        self.fill_at(buf, flags, state, 0, state_len)
            .unwrap_or(Err(libc::EINVAL))
    }

    /// As [`Self::fill_with_len`] with the state `offset` bytes into its
    /// mapping (1: misaligned); `None` when the state would not fit in it.
    pub fn fill_at(
        &self,
        buf: &mut [u8],
        flags: c_uint,
        state: &GetrandomState,
        offset: usize,
        state_len: usize,
    ) -> Option<Returned> {
        if offset + state.len().max(state_len) > 4096 {
            return None;
        }
        let at = state.address() + offset;
        let len = buf.len();
        let r = with_outputs(&mut [("buf", buf)], |p| {
            // SAFETY: the guarded buffer holds `len` bytes; the state is a live
            // mapping (a page) of the protection the vDSO asked for, and from
            // `offset` holds the state's size (checked above) and anything it
            // reads before it compares `state_len` with its own size.
            unsafe {
                self.invoke((
                    p[0] as *mut c_void,
                    len,
                    flags,
                    at as *mut c_void,
                    state_len,
                ))
            }
        });
        Some(decode(r as i64))
    }

    /// This function with `state`, as a [`PointerCall`] filling 16 bytes.
    pub fn with_state<'a>(&self, state: &'a GetrandomState) -> GetrandomWith<'a> {
        GetrandomWith { f: *self, state }
    }
}

/// A getrandom with its state: the buffer is the pointer a caller chooses.
#[derive(Clone, Copy)]
pub struct GetrandomWith<'a> {
    f: Getrandom,
    state: &'a GetrandomState,
}

impl PointerCall for GetrandomWith<'_> {
    const OUTPUTS: &'static [(&'static str, usize)] = &[("buf", 16)];

    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        let state = (self.state.address(), self.state.len());
        // SAFETY: a getrandom with a valid state; the buffer per this fn's contract.
        unsafe {
            self.f
                .invoke((p[0] as *mut c_void, 16, 0, state.0 as *mut c_void, state.1))
                as i64
        }
    }

    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Getrandom>(&[p[0], 16, 0]) }
    }
}

/// The robust list's `list_op_pending` slot a try-unlock clears: a 64-bit
/// pointer (`u64`) or a compat one (`u32`).
pub trait PendingSlot: Plain + Copy + Default + Eq + Into<u64> + core::fmt::Debug {
    /// The spec kind of the function that takes this slot.
    const KIND: SymbolKind;
    /// The futex syscall's flag for this slot's width.
    const LIST_FLAG: c_int;
    /// What a locker leaves in the slot before it unlocks: its lock's list entry.
    const PENDING: Self;
    /// `value` cut to the slot's width.
    fn truncated(value: u64) -> Self;
}

impl PendingSlot for u64 {
    const KIND: SymbolKind = SymbolKind::FutexRobustList64TryUnlock;
    const LIST_FLAG: c_int = 0;
    const PENDING: u64 = 0x0000_7f5e_c0de_1238;
    fn truncated(value: u64) -> Self {
        value
    }
}

impl PendingSlot for u32 {
    const KIND: SymbolKind = SymbolKind::FutexRobustList32TryUnlock;
    const LIST_FLAG: c_int = FUTEX_ROBUST_LIST32;
    const PENDING: u32 = 0xc0de_1238;
    fn truncated(value: u64) -> Self {
        value as u32
    }
}

const FUTEX_WAKE: c_int = 1;
const FUTEX_PRIVATE_FLAG: c_int = 128;
const FUTEX_ROBUST_UNLOCK: c_int = 512;
const FUTEX_ROBUST_LIST32: c_int = 1024;

/// `__u32 try_unlock(__u32 *lock, __u32 tid, P *pop)`: if `*lock == tid`, stores
/// 0 in it and clears `*pop`; returns what `*lock` held (include/vdso/futex.h).
pub struct FutexTryUnlock<P> {
    function: VdsoFn,
    slot: PhantomData<fn() -> P>,
}

impl<P> Clone for FutexTryUnlock<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for FutexTryUnlock<P> {}

impl<P: PendingSlot> Handle for FutexTryUnlock<P> {
    const KINDS: &'static [SymbolKind] = &[P::KIND];
    const TWIN: Option<Syscall> = Some(syscall::FUTEX);
    type Prototype = unsafe extern "C" fn(*mut u32, u32, *mut P) -> u32;
    fn from_fn(function: VdsoFn) -> Self {
        FutexTryUnlock {
            function,
            slot: PhantomData,
        }
    }
    fn function(&self) -> VdsoFn {
        self.function
    }
}

/// A lock word and a pending slot, as a call left them (or before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    pub lock: u32,
    pub pending: u64,
}

impl<P: PendingSlot> PointerCall for FutexTryUnlock<P> {
    const OUTPUTS: &'static [(&'static str, usize)] =
        &[("lock", size_of::<u32>()), ("pending", size_of::<P>())];

    /// With tid 0, so that a lock word of 0 (what a valid pointer's buffer holds)
    /// counts as owned: the call then also stores through `pending`.
    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a try-unlock taking this slot (per `Handle`); the pointers per
        // this fn's contract.
        i64::from(unsafe { self.invoke((p[0] as *mut u32, 0, p[1] as *mut P)) })
    }

    /// The futex syscall's robust unlock of the same lock and slot: it stores 0
    /// in the lock whatever it held, clears the slot and wakes up to one waiter.
    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        let op = FUTEX_WAKE | FUTEX_PRIVATE_FLAG | FUTEX_ROBUST_UNLOCK | P::LIST_FLAG;
        // SAFETY: per this fn's contract (FUTEX_WAKE ignores the timeout and val3).
        unsafe { twin::<Self>(&[p[0], op as usize, 1, 0, p[1]]) }
    }
}

impl<P: PendingSlot> FutexTryUnlock<P> {
    /// One call by thread `tid` on a guarded lock word and slot starting as
    /// `before`: what it returned and what it left.
    pub fn try_unlock(&self, before: LockState, tid: u32) -> (u32, LockState) {
        let (mut lock, mut pending) = (before.lock, P::truncated(before.pending));
        let r = with_outputs(
            &mut [
                ("lock", as_bytes_mut(&mut lock)),
                ("pending", as_bytes_mut(&mut pending)),
            ],
            // SAFETY: a try-unlock taking this slot; both outputs guarded.
            |p| unsafe { self.invoke((p[0] as *mut u32, tid, p[1] as *mut P)) },
        );
        let after = LockState {
            lock,
            pending: pending.into(),
        };
        (r, after)
    }

    /// The futex syscall's robust unlock (`FUTEX_UNLOCK_WAKE_LIST64/32`) on a
    /// guarded lock word and slot starting as `before`.
    pub fn syscall_unlock(&self, before: LockState) -> (Result<isize, Errno>, LockState) {
        let (mut lock, mut pending) = (before.lock, P::truncated(before.pending));
        let r = with_outputs(
            &mut [
                ("lock", as_bytes_mut(&mut lock)),
                ("pending", as_bytes_mut(&mut pending)),
            ],
            // SAFETY: both outputs guarded, of the sizes of `OUTPUTS`.
            |p| unsafe { self.syscall_at(0, [p[0], p[1]]) },
        );
        let after = LockState {
            lock,
            pending: pending.into(),
        };
        (r.expect("the futex syscall exists everywhere"), after)
    }
}

/// One `struct riscv_hwprobe`: a key and its value (the key comes back -1 when
/// the kernel does not know it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwprobePair {
    pub key: i64,
    pub value: u64,
}

const PAIR_SIZE: usize = 16;

/// What a hwprobe call was given and left: the pairs and the CPU set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwprobeIo {
    pub pairs: Vec<HwprobePair>,
    /// `None`: cpusetsize 0 and NULL (all online CPUs).
    pub cpus: Option<Vec<u8>>,
    pub flags: u32,
}

impl HwprobeIo {
    fn pair_bytes(&self) -> Vec<u8> {
        self.pairs
            .iter()
            .flat_map(|p| p.key.to_ne_bytes().into_iter().chain(p.value.to_ne_bytes()))
            .collect()
    }

    fn set_pairs(&mut self, bytes: &[u8]) {
        let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
        self.pairs = bytes
            .chunks_exact(PAIR_SIZE)
            .map(|c| HwprobePair {
                key: word(&c[..8]) as i64,
                value: word(&c[8..]),
            })
            .collect();
    }

    /// `call(pairs, pair_count, cpusetsize, cpus, flags)` on guarded copies of the
    /// pairs and the set; what it left is read back into `self`.
    fn run<R>(&mut self, call: impl FnOnce([usize; 5]) -> R) -> R {
        let mut pairs = self.pair_bytes();
        let count = self.pairs.len();
        let flags = self.flags as usize;
        let r = match &mut self.cpus {
            Some(cpus) => {
                let size = cpus.len();
                with_outputs(&mut [("pairs", &mut pairs), ("cpus", cpus)], |p| {
                    call([p[0], count, size, p[1], flags])
                })
            }
            None => with_outputs(&mut [("pairs", &mut pairs)], |p| {
                call([p[0], count, 0, 0, flags])
            }),
        };
        self.set_pairs(&pairs);
        r
    }
}

/// `int __vdso_riscv_hwprobe(struct riscv_hwprobe *pairs, size_t pair_count,
/// size_t cpusetsize, cpu_set_t *cpus, unsigned int flags)`.
#[derive(Debug, Clone, Copy)]
pub struct Hwprobe(VdsoFn);

function_handle!(
    Hwprobe,
    Hwprobe,
    Some(syscall::RISCV_HWPROBE),
    unsafe extern "C" fn(*mut c_void, usize, usize, *mut c_void, c_uint) -> c_int
);

impl Hwprobe {
    /// The vDSO's answer to `io`, which is updated with what it left.
    pub fn probe(&self, io: &mut HwprobeIo) -> Returned {
        // SAFETY: a hwprobe (per `Handle`); the pairs and the set are guarded
        // copies of the sizes passed.
        decode(i64::from(io.run(|a| unsafe {
            self.invoke((
                a[0] as *mut c_void,
                a[1],
                a[2],
                a[3] as *mut c_void,
                a[4] as c_uint,
            ))
        })))
    }

    /// The riscv_hwprobe syscall's answer to `io` (`None`: not a riscv build).
    pub fn syscall(&self, io: &mut HwprobeIo) -> Option<Result<isize, Errno>> {
        Self::TWIN.and_then(|s| s.nr)?;
        let mut answer = None;
        io.run(|a| {
            // SAFETY: as for `probe`.
            answer = unsafe { twin::<Self>(&a) };
        });
        answer
    }
}

impl PointerCall for Hwprobe {
    const OUTPUTS: &'static [(&'static str, usize)] = &[("pairs", PAIR_SIZE)];

    /// One pair (key 0 where the buffer is valid) for all CPUs (`cpusetsize` 0 and
    /// NULL): the request every kernel answers from the data page, or from the
    /// syscall without looking at a CPU set (an empty set is EINVAL before the
    /// pairs are read).
    #[inline]
    unsafe fn vdso_at(&self, _: c_int, p: [usize; 2]) -> i64 {
        // SAFETY: a hwprobe (per `Handle`); the pointer per this fn's contract.
        i64::from(unsafe { self.invoke((p[0] as *mut c_void, 1, 0, core::ptr::null_mut(), 0)) })
    }

    #[inline]
    unsafe fn syscall_at(&self, _: c_int, p: [usize; 2]) -> Option<Result<isize, Errno>> {
        // SAFETY: per this fn's contract.
        unsafe { twin::<Self>(&[p[0], 1, 0, 0, 0]) }
    }
}

/// `int __vdso_flush_icache(void *start, void *end, unsigned long flags)`: makes
/// this thread's (or every thread's) instruction fetches see earlier stores. It
/// reads and writes no memory of the caller's.
#[derive(Debug, Clone, Copy)]
pub struct FlushIcache(VdsoFn);

function_handle!(
    FlushIcache,
    FlushIcache,
    Some(syscall::RISCV_FLUSH_ICACHE),
    unsafe extern "C" fn(*mut c_void, *mut c_void, c_ulong) -> c_int
);

impl FlushIcache {
    pub fn call(&self, start: usize, end: usize, flags: usize) -> Returned {
        // SAFETY: a flush_icache (per `Handle`); it takes addresses, not pointers
        // it dereferences.
        decode(i64::from(unsafe {
            self.invoke((start as *mut c_void, end as *mut c_void, flags as c_ulong))
        }))
    }

    /// The riscv_flush_icache syscall (`None`: not a riscv build).
    pub fn syscall(&self, start: usize, end: usize, flags: usize) -> Option<Result<isize, Errno>> {
        // SAFETY: the kernel dereferences none of these.
        unsafe { twin::<Self>(&[start, end, flags]) }
    }
}

/// powerpc's `unsigned long long __kernel_get_tbfreq(void)`: the timebase
/// frequency in Hz.
#[derive(Debug, Clone, Copy)]
pub struct GetTbfreq(VdsoFn);

function_handle!(GetTbfreq, GetTbfreq, None, unsafe extern "C" fn() -> u64);

impl GetTbfreq {
    pub fn call(&self) -> u64 {
        // SAFETY: a get_tbfreq (per `Handle`): no arguments, nothing written.
        unsafe { self.invoke(()) }
    }
}

/// powerpc's `void *__kernel_get_syscall_map(unsigned int *syscall_count)`: a
/// bitmap of the system calls the kernel implements, bit `0x80000000 >> (n &
/// 31)` of 32-bit word `n >> 5` for call `n`.
#[derive(Debug, Clone, Copy)]
pub struct GetSyscallMap(VdsoFn);

function_handle!(
    GetSyscallMap,
    GetSyscallMap,
    None,
    unsafe extern "C" fn(*mut c_uint) -> usize
);

/// What get_syscall_map answered: the map's address, the count it stored, and
/// the map's bits when they lie in one readable mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallMap {
    pub address: usize,
    pub count: u32,
    /// Where the map is: the mapping's name, or why it could not be read.
    pub mapping: Result<String, String>,
    /// Whether call `n` is implemented, for `n` below `count`.
    pub implemented: Vec<bool>,
}

impl GetSyscallMap {
    pub fn call(&self) -> SyscallMap {
        let mut count: c_uint = 0;
        let address = with_outputs(&mut [("syscall_count", as_bytes_mut(&mut count))], |p| {
            // SAFETY: a get_syscall_map (per `Handle`); its one output is guarded.
            unsafe { self.invoke((p[0] as *mut c_uint,)) }
        });
        let words = (count as usize).div_ceil(32);
        let end = address.checked_add(words * 4);
        let mapping = match (super::mapping::readable_mapping_at(address), end) {
            (Some((_, hi, name)), Some(end)) if end <= hi => Ok(name),
            (Some((lo, hi, name)), _) => Err(format!(
                "{words} words at 0x{address:x} run past the end of {name} (0x{lo:x}-0x{hi:x})"
            )),
            (None, _) => Err(format!(
                "0x{address:x} is in no readable mapping of this process"
            )),
        };
        let implemented = if mapping.is_ok() {
            (0..count as usize)
                .map(|n| {
                    // SAFETY: the word lies in the readable mapping found above,
                    // which the kernel never unmaps.
                    let word = unsafe { ((address + (n >> 5) * 4) as *const u32).read() };
                    word & (0x8000_0000 >> (n & 31)) != 0
                })
                .collect()
        } else {
            Vec::new()
        };
        SyscallMap {
            address,
            count,
            mapping,
            implemented,
        }
    }
}

/// powerpc's `void __kernel_sync_dicache(unsigned long start, unsigned long
/// end)`: makes instruction fetches from `[start, end)` see earlier stores.
#[derive(Debug, Clone, Copy)]
pub struct SyncDicache(VdsoFn);

function_handle!(
    SyncDicache,
    SyncDicache,
    None,
    unsafe extern "C" fn(c_ulong, c_ulong)
);

impl SyncDicache {
    /// Writes `code` (instructions, native byte order) into a fresh page, makes
    /// it executable, syncs the range through the vDSO (a `void` function: there
    /// is no status to read) and calls it as an `extern "C" fn() -> long`: what
    /// the code returned.
    pub fn run_written_code(&self, code: &[u32]) -> Result<isize, String> {
        use super::process::{Access, Pages};
        let pages = Pages::new(1).map_err(|e| format!("mmap: {e}"))?;
        let base = pages.base();
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_ne_bytes()).collect();
        if bytes.len() > super::process::page_size() {
            return Err("the code does not fit in a page".into());
        }
        // SAFETY: `base` is a fresh read-write page of ours, larger than `bytes`.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), base as *mut u8, bytes.len()) };
        pages
            .protect(0, Access::ReadExec)
            .map_err(|e| format!("mprotect: {e}"))?;
        // SAFETY: a sync_dicache (per `Handle`) of a range of our own page.
        unsafe { self.invoke((base as c_ulong, (base + bytes.len()) as c_ulong)) };
        // SAFETY: the page now holds `code`, a complete function of the C ABI
        // that the caller wrote for this machine (called as `call_code` says).
        Ok(unsafe { super::abi::call_code(base) })
    }
}

/// i386's `__kernel_vsyscall`: a system call entry (number in eax, result in eax).
#[cfg(target_arch = "x86")]
#[derive(Debug, Clone, Copy)]
pub struct Vsyscall(VdsoFn);

#[cfg(target_arch = "x86")]
// Entered with i386 system call registers, not called as a C function:
// `syscall0` makes its own call.
// Entered with i386 system call registers (`syscall0`), never called as this.
function_handle!(Vsyscall, VsyscallEntry, None, unsafe extern "C" fn());

#[cfg(target_arch = "x86")]
impl Vsyscall {
    /// Issues syscall `nr`, which takes no arguments and touches no memory, the
    /// way i386 libcs do.
    pub fn syscall0(&self, nr: i32) -> i32 {
        let ret: i32;
        // SAFETY: a __kernel_vsyscall (per `Handle`), which behaves like
        // `int $0x80`; the syscalls issued here take no arguments.
        unsafe {
            core::arch::asm!(
                "call {entry}",
                entry = in(reg) self.0.address(),
                inlateout("eax") nr => ret,
                clobber_abi("C"),
            );
        }
        ret
    }
}
