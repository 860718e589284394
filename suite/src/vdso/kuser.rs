//! ARM's kuser helpers: code at fixed addresses at the top of the vector
//! page, called as the functions the kernel documents
//! (Documentation/arch/arm/kernel_user_helpers.rst). A kernel without them
//! maps nothing there, and a call or read kills the caller: the callers run
//! each in a child process of their own.

/// Whether this build can call them (a 32-bit ARM process).
pub const CALLABLE: bool = cfg!(target_arch = "arm");

/// The word at `address` (`__kuser_helper_version`).
pub fn read_word(address: u64) -> u32 {
    // SAFETY: the caller runs this in a child that may die; the address is
    // the kuser page's version word, and nothing is written.
    unsafe { std::ptr::read_volatile(address as usize as *const u32) }
}

/// The thread's TLS register (TPIDRURO), which `__kuser_get_tls` returns.
#[cfg(target_arch = "arm")]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reading the user read-only thread ID register has no effect.
    unsafe { std::arch::asm!("mrc p15, 0, {}, c13, c0, 3", out(reg) tp, options(nomem, nostack)) };
    tp
}

/// Elsewhere there is no such register; [`CALLABLE`] keeps this from being asked.
#[cfg(not(target_arch = "arm"))]
pub fn thread_pointer() -> usize {
    0
}

/// `void *__kuser_get_tls(void)` at `address`.
pub fn get_tls(address: u64) -> usize {
    type Helper = extern "C" fn() -> usize;
    // SAFETY: run in a child that may die; the helper reads a register and
    // touches no memory.
    unsafe { std::mem::transmute::<usize, Helper>(address as usize)() }
}

/// `int __kuser_cmpxchg(int oldval, int newval, volatile int *ptr)` at
/// `address`, on `word`.
pub fn cmpxchg(address: u64, old: i32, new: i32, word: &mut i32) -> i32 {
    type Helper = extern "C" fn(i32, i32, *mut i32) -> i32;
    // SAFETY: as above; it writes `word` and nothing else.
    unsafe { std::mem::transmute::<usize, Helper>(address as usize)(old, new, word) }
}

/// `int __kuser_cmpxchg64(const int64_t *oldval, const int64_t *newval,
/// volatile int64_t *ptr)` at `address`, on `word`.
pub fn cmpxchg64(address: u64, old: i64, new: i64, word: &mut i64) -> i32 {
    type Helper = extern "C" fn(*const i64, *const i64, *mut i64) -> i32;
    // SAFETY: as above; it reads `old` and `new` and writes `word` only.
    unsafe { std::mem::transmute::<usize, Helper>(address as usize)(&old, &new, word) }
}

/// `void __kuser_memory_barrier(void)` at `address`.
pub fn memory_barrier(address: u64) {
    type Helper = extern "C" fn();
    // SAFETY: as above; a barrier touches no memory.
    unsafe { std::mem::transmute::<usize, Helper>(address as usize)() }
}
