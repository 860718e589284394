//! The bad-pointer arena: the addresses a bad-pointer case passes, and the one
//! place a function is called with pointers the caller chose.

use super::guard::GuardedOutput;
use super::handles::PointerCall;
use super::process::{page_size, Access, Pages};
use super::syscall::Errno;
use serde::{Deserialize, Serialize};

/// One pointer argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PtrArg {
    Valid,
    Null,
    /// `UINTPTR_MAX`.
    AllOnes,
    /// A PROT_NONE page.
    ProtNone,
    /// A read-only page (the call must write).
    ProtRead,
    /// An object whose last bytes lie in an unmapped page.
    Straddle,
    /// An address in the kernel's half (or top) of the address space.
    Kernel,
    /// A writable object one byte past an aligned address (not a fault: the
    /// syscall stores through it; fuzzed calls only, no bad-pointer case).
    Misaligned,
}

impl PtrArg {
    /// Every class, valid first and misaligned last, the bad ones between.
    pub const ALL: [PtrArg; 8] = [
        PtrArg::Valid,
        PtrArg::Null,
        PtrArg::AllOnes,
        PtrArg::ProtNone,
        PtrArg::ProtRead,
        PtrArg::Straddle,
        PtrArg::Kernel,
        PtrArg::Misaligned,
    ];
    /// The bad pointers, the cases of the bad-pointer group: every class but
    /// the first and the last of `ALL`.
    pub const BAD: &'static [PtrArg] = Self::ALL.split_at(7).0.split_at(1).1;

    /// The classes' names, for messages.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// Whether a syscall given it must fault (EFAULT): every class but a valid
    /// or misaligned object and, where the prototype allows it, NULL.
    pub fn faults(self, null_allowed: bool) -> bool {
        match self {
            PtrArg::Valid | PtrArg::Misaligned => false,
            PtrArg::Null => !null_allowed,
            _ => true,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PtrArg::Valid => "valid",
            PtrArg::Null => "null",
            PtrArg::AllOnes => "all-ones",
            PtrArg::ProtNone => "prot-none",
            PtrArg::ProtRead => "prot-read",
            PtrArg::Straddle => "straddle",
            PtrArg::Kernel => "kernel",
            PtrArg::Misaligned => "misaligned",
        }
    }
}

/// Calls `f`'s system call, then `f`, with the pointers `args` (absent ones valid)
/// in an arena made for `F`. The system call's answer goes to `report` first,
/// because the vDSO call may kill this process; then the vDSO's raw return value
/// comes back, and writes past the valid buffers are recorded.
pub fn call_with_pointers<F: PointerCall>(
    f: &F,
    clock: i32,
    args: &[PtrArg],
    report: &mut dyn FnMut(Option<Result<isize, Errno>>),
) -> Result<i64, String> {
    let mut arena = Arena::new(F::OUTPUTS)?;
    let arg = |i: usize| args.get(i).copied().unwrap_or(PtrArg::Valid);
    let pointers = [arena.address(arg(0), 0), arena.address(arg(1), 1)];
    // SAFETY: every pointer is the arena's, made for `F::OUTPUTS`: a guarded buffer
    // of the size it gives, NULL, or an address where a write faults: unmapped,
    // PROT_NONE, read-only, the kernel's, a straddling object whose first half
    // is in a page holding nothing else, or one byte into a guarded buffer one
    // byte longer than the object.
    report(unsafe { f.syscall_at(clock, pointers) });
    // SAFETY: as above; the caller is a throwaway child process (a fault is the
    // answer the check looks for).
    let returned = unsafe { f.vdso_at(clock, pointers) };
    arena.valid.iter_mut().for_each(GuardedOutput::inspect);
    arena.misaligned.iter_mut().for_each(GuardedOutput::inspect);
    Ok(returned)
}

/// Three pages (read-write, PROT_NONE, read-only) that hold nothing else, and a
/// guarded buffer for each pointer argument of one prototype.
struct Arena {
    pages: Pages,
    page: usize,
    sizes: [usize; 2],
    /// Where a valid argument points: a write past it is reported.
    valid: Vec<GuardedOutput>,
    /// One byte longer than each valid one: a misaligned argument points one
    /// byte into it.
    misaligned: Vec<GuardedOutput>,
}

impl Arena {
    /// An arena for the pointer arguments `outputs` (name, object size).
    fn new(outputs: &[(&'static str, usize)]) -> Result<Arena, String> {
        let guarded = |extra: usize| {
            outputs
                .iter()
                .map(|&(name, n)| GuardedOutput::new(name, &vec![0; n + extra]))
                .collect::<Result<Vec<_>, _>>()
        };
        let (valid, misaligned) = (guarded(0)?, guarded(1)?);
        let mut sizes = [0; 2];
        for (s, &(_, n)) in sizes.iter_mut().zip(outputs) {
            *s = n;
        }
        let pages = Pages::new(3).map_err(|e| format!("mmap: {e}"))?;
        pages
            .protect(1, Access::None)
            .and_then(|()| pages.protect(2, Access::Read))
            .map_err(|e| format!("mprotect: {e}"))?;
        Ok(Arena {
            pages,
            page: page_size(),
            sizes,
            valid,
            misaligned,
        })
    }

    /// The address for `arg` in position `slot` (a straddling object's second half
    /// is in the PROT_NONE page).
    fn address(&self, arg: PtrArg, slot: usize) -> usize {
        let base = self.pages.base();
        match arg {
            PtrArg::Valid => self.valid.get(slot).map_or(0, GuardedOutput::address),
            PtrArg::Misaligned => self.misaligned.get(slot).map_or(0, |o| o.address() + 1),
            PtrArg::Null => 0,
            PtrArg::AllOnes => usize::MAX,
            PtrArg::ProtNone => base + self.page,
            PtrArg::ProtRead => base + 2 * self.page,
            PtrArg::Straddle => base + self.page - self.sizes[slot] / 2,
            PtrArg::Kernel => {
                if cfg!(target_pointer_width = "64") {
                    0xffff_ff80_0000_0000u64 as usize
                } else {
                    0xffff_f000
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PtrArg;

    #[test]
    fn the_bad_pointers_are_the_classes_a_syscall_faults_on() {
        let faulting: Vec<PtrArg> = PtrArg::ALL
            .into_iter()
            .filter(|p| p.faults(false))
            .collect();
        assert_eq!(PtrArg::BAD, faulting.as_slice());
    }
}
