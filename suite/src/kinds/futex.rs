//! The robust-futex unlock helpers (`__vdso_futex_robust_list{64,32}_try_unlock`,
//! x86 from Linux 7.x): the uncontended unlock of a robust futex, done in user
//! space so that the kernel can finish it (clear the list's pending slot) if the
//! thread dies between the unlock and the clear. The contract (include/vdso/
//! futex.h and the futex selftests' robust_list.c): if `*lock == tid`, store 0 in
//! the lock and clear `*pop`; otherwise (a waiter set FUTEX_WAITERS, another
//! owner, a free lock) touch nothing, for the caller to take the syscall path.
//! Either way return what `*lock` held.

use super::{called, pointers_of, KindInfo, LiveKind, Pointers};
use crate::checks::live::clocks::errno_name;
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::vdso::syscall::Errno;
use crate::vdso::{syscall, syscall_watch};
use crate::vdso::{FutexTryUnlock, LockState, PendingSlot, PointerCall, Resolved};
use core::marker::PhantomData;

/// `futex_robust_list64_try_unlock` (a 64-bit pending slot), its description.
pub const LIST64: KindInfo =
    try_unlock::<u64>("futex_robust_list64_try_unlock", &FutexKind::<u64>::NEW);
/// `futex_robust_list32_try_unlock` (a compat, 32-bit slot), its description.
pub const LIST32: KindInfo =
    try_unlock::<u32>("futex_robust_list32_try_unlock", &FutexKind::<u32>::NEW);

const fn try_unlock<P: PendingSlot>(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        outputs: <FutexTryUnlock<P> as PointerCall>::OUTPUTS,
        null_allowed: false,
        scalar_outputs: true,
        bench_label: Some("uncontended unlock"),
        symptoms: SYMPTOMS,
        ..called::<FutexTryUnlock<P>>(name, live)
    }
}

/// What the try-unlock judges report.
const SYMPTOMS: &[(&str, &str)] = &[
    (
        "unlock-returned",
        "a robust-futex try-unlock returned another value than the lock word held (DETAIL: the lock's case)",
    ),
    (
        "unlock-left",
        "a robust-futex try-unlock left the lock word or the pending slot otherwise than its contract says (DETAIL: the lock's case)",
    ),
];

pub struct FutexKind<P>(PhantomData<fn() -> P>);

impl<P> FutexKind<P> {
    pub const NEW: Self = FutexKind(PhantomData);
}

/// The lock word of `case` for thread `tid`, with the pending slot a locker leaves.
fn before<P: PendingSlot>(case: UnlockCase, tid: u32) -> LockState {
    LockState {
        lock: case.lock_word(tid),
        pending: P::PENDING.into(),
    }
}

fn calls<P: PendingSlot>(f: &FutexTryUnlock<P>, tid: u32) -> Vec<UnlockCall> {
    UnlockCase::ALL
        .iter()
        .map(|&case| {
            let before = before::<P>(case, tid);
            let (returned, after) = f.try_unlock(before, tid);
            UnlockCall {
                case,
                tid,
                before,
                returned,
                after,
            }
        })
        .collect()
}

fn tid() -> u32 {
    syscall::gettid() as u32
}

impl<P: PendingSlot> LiveKind for FutexKind<P> {
    /// Every case of the contract, from this thread.
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let f = f.handle::<FutexTryUnlock<P>>()?;
        judge_futex_unlock(&calls(&f, tid()))
    }

    /// The vDSO's fast path, then the futex syscall's robust unlock on what it
    /// left (where it left the lock for the syscall), against the syscall alone.
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<FutexTryUnlock<P>>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let tid = tid();
        let paths: Vec<SlowPath> = [UnlockCase::Owned, UnlockCase::Contended]
            .into_iter()
            .map(|case| {
                let start = before::<P>(case, tid);
                let (_, fast) = f.try_unlock(start, tid);
                let slow = (fast.lock != 0).then(|| f.syscall_unlock(fast));
                let (syscall, syscall_after) = f.syscall_unlock(start);
                SlowPath {
                    case,
                    start,
                    fast,
                    slow,
                    syscall,
                    syscall_after,
                }
            })
            .collect();
        judge_futex_unlock_against_syscall(&paths)
    }

    /// Unlocking an owned lock never enters the kernel.
    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<FutexTryUnlock<P>>().map_err(CheckResult::fail)?;
        let tid = tid();
        ctx.trap()?;
        let (_, entered) =
            syscall_watch::syscalls_in(|| f.try_unlock(before::<P>(UnlockCase::Owned, tid), tid));
        // Whether it unlocked is the call and cross-check groups' to judge; here
        // only whether it entered the kernel, and with what.
        let observed = match entered.first {
            None => Service::Served,
            Some(_) if entered.refused => Service::Fallback,
            Some(first) => Service::Entered {
                first,
                refused: false,
                status: Ok(()),
            },
        };
        Ok(vec![ServiceCase {
            what: "the owned lock's unlock".into(),
            expected: Expected::Served,
            observed,
        }])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<FutexTryUnlock<P>>(f, use_it)
    }
}

/// The states a robust futex's lock word can be in when its owner unlocks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockCase {
    /// Held by the caller, nobody waiting: the helper unlocks it.
    Owned,
    /// Held by the caller with FUTEX_WAITERS set: left for the syscall.
    Contended,
    /// Held by another thread: left alone.
    OtherOwner,
    /// Not held: left alone.
    Free,
}

pub const FUTEX_WAITERS: u32 = 0x8000_0000;

const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

impl UnlockCase {
    pub const ALL: [UnlockCase; 4] = [
        UnlockCase::Owned,
        UnlockCase::Contended,
        UnlockCase::OtherOwner,
        UnlockCase::Free,
    ];

    /// The lock word in this case, for the caller `tid`.
    pub fn lock_word(self, tid: u32) -> u32 {
        match self {
            UnlockCase::Owned => tid,
            UnlockCase::Contended => tid | FUTEX_WAITERS,
            UnlockCase::OtherOwner => (tid % FUTEX_TID_MASK) + 1,
            UnlockCase::Free => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UnlockCase::Owned => "owned",
            UnlockCase::Contended => "contended",
            UnlockCase::OtherOwner => "other-owner",
            UnlockCase::Free => "free",
        }
    }
}

/// One robust-futex try-unlock: the lock word and pending slot before and after,
/// the caller's tid and what the call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockCall {
    pub case: UnlockCase,
    pub tid: u32,
    pub before: LockState,
    pub returned: u32,
    pub after: LockState,
}

/// The try-unlock contract: it returns what the lock word held; it unlocks (0)
/// and clears the pending slot exactly when the caller owned the lock, and
/// touches neither otherwise.
pub fn judge_futex_unlock(calls: &[UnlockCall]) -> Result<(), Problem> {
    for c in calls {
        let case = c.case.name();
        if c.returned != c.before.lock {
            return Err(Problem::about(
                "unlock-returned",
                case,
                format!(
                    "{case} lock (0x{:x}, tid {}): returned 0x{:x}, not the lock word",
                    c.before.lock, c.tid, c.returned
                ),
            ));
        }
        let want = if c.before.lock == c.tid {
            LockState {
                lock: 0,
                pending: 0,
            }
        } else {
            c.before
        };
        if c.after != want {
            return Err(Problem::about(
                "unlock-left",
                case,
                format!(
                    "{case} lock (0x{:x}, tid {}): left lock 0x{:x} and pending 0x{:x}, expected 0x{:x} and 0x{:x}",
                    c.before.lock, c.tid, c.after.lock, c.after.pending, want.lock, want.pending
                ),
            ));
        }
    }
    Ok(())
}

/// A robust futex unlocked both ways from the same start: the vDSO's fast path
/// (and, where it left the lock, the syscall after it, as a caller goes on), and
/// the futex syscall's robust unlock alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowPath {
    pub case: UnlockCase,
    pub start: LockState,
    /// What the fast path left.
    pub fast: LockState,
    /// The syscall on what the fast path left, when it left the lock held.
    pub slow: Option<(Result<isize, Errno>, LockState)>,
    /// The syscall alone.
    pub syscall: Result<isize, Errno>,
    pub syscall_after: LockState,
}

/// Both ways end unlocked with the pending slot cleared; the syscall wakes nobody
/// (no thread waits). A kernel whose futex() has no FUTEX_ROBUST_UNLOCK (ENOSYS)
/// has nothing to compare with.
pub fn judge_futex_unlock_against_syscall(paths: &[SlowPath]) -> CheckResult {
    const DONE: LockState = LockState {
        lock: 0,
        pending: 0,
    };
    if paths.iter().any(|p| p.syscall == Err(libc::ENOSYS)) {
        return CheckResult::skip(
            "this kernel's futex() has no FUTEX_ROBUST_UNLOCK (ENOSYS): nothing to compare with",
        );
    }
    let mut problems = Vec::new();
    for p in paths {
        let case = p.case.name();
        let both = [("the syscall alone", p.syscall, p.syscall_after)]
            .into_iter()
            .chain(
                p.slow
                    .map(|(r, after)| ("the fast path, then the syscall", r, after)),
            );
        for (how, r, after) in both {
            match r {
                Ok(0) => {}
                Ok(n) => problems.push(Problem::about(
                    "implausible-value",
                    case,
                    format!("{case} lock, {how}: the syscall woke {n} waiters; none wait"),
                )),
                Err(e) => problems.push(Problem::about(
                    "syscall-failed",
                    case,
                    format!(
                        "{case} lock, {how}: the syscall failed with {}",
                        errno_name(e)
                    ),
                )),
            }
            if r.is_ok() && after != DONE {
                problems.push(Problem::about(
                    "result-differs",
                    case,
                    format!(
                        "{case} lock, {how}: left lock 0x{:x} and pending 0x{:x}, not both cleared",
                        after.lock, after.pending
                    ),
                ));
            }
        }
        if p.case == UnlockCase::Owned && p.fast != p.syscall_after {
            problems.push(Problem::about(
                "result-differs",
                case,
                format!(
                    "owned lock: the fast path left lock 0x{:x} and pending 0x{:x}, the syscall 0x{:x} and 0x{:x}",
                    p.fast.lock, p.fast.pending, p.syscall_after.lock, p.syscall_after.pending
                ),
            ));
        }
        if p.case != UnlockCase::Owned && p.fast.lock != p.start.lock {
            problems.push(Problem::about(
                "result-differs",
                case,
                format!(
                    "{case} lock: the fast path changed the lock word 0x{:x} to 0x{:x}: the waiters would never be woken",
                    p.start.lock, p.fast.lock
                ),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
}
