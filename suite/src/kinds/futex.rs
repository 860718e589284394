//! The robust-futex unlock helpers (`__vdso_futex_robust_list{64,32}_try_unlock`,
//! x86 from Linux 7.x): the uncontended unlock of a robust futex, done in user
//! space so that the kernel can finish it (clear the list's pending slot) if the
//! thread dies between the unlock and the clear. The contract (include/vdso/
//! futex.h and the futex selftests' robust_list.c): if `*lock == tid`, store 0 in
//! the lock and clear `*pop`; otherwise (a waiter set FUTEX_WAITERS, another
//! owner, a free lock) touch nothing, for the caller to take the syscall path.
//! Either way return what `*lock` held.

use super::{pointers_of, LiveKind, Pointers};
use crate::checks::live::call::{judge_futex_unlock, UnlockCall, UnlockCase};
use crate::checks::live::crosscheck::{judge_futex_unlock_syscall, SlowPath};
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::vdso::{syscall, syscall_watch};
use crate::vdso::{FutexTryUnlock, LockState, PendingSlot, Resolved};
use core::marker::PhantomData;

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
        judge_futex_unlock_syscall(&paths)
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
