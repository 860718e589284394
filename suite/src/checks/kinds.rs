//! One description per symbol kind: what the plan and the checks need to know
//! about a kind's arguments and which checks apply to it. A new kind is its spec
//! entry, its description here, and (if callable) its call in `crate::vdso` and
//! its judges; the `match` in [`kind_info`] is the one place that lists kinds.

use crate::spec::SymbolKind;

/// How a kind reads a clock, for the monotonicity checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadsClock {
    /// It does not.
    No,
    /// Of the clock id it is given: one check per monotonic and steppable clock.
    Given,
    /// Of its own clock (gettimeofday): one check.
    Own,
}

/// What the checks know about one symbol kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// Called with plain arguments by the call, served, bad-pointer and bench checks.
    pub callable: bool,
    /// Why its live calls are not checked here, when they are not.
    pub no_live_check: Option<&'static str>,
    /// The pointer arguments it writes through, in order.
    pub outputs: &'static [&'static str],
    /// Whether NULL is allowed for those pointers (and means "don't store").
    pub null_allowed: bool,
    /// Whether its outputs are scalars (`time_t`, getcpu's `unsigned`): a
    /// straddling one would be misaligned, so there is no straddle case.
    pub scalar_outputs: bool,
    /// Whether its first argument is a clock id.
    pub takes_clock: bool,
    pub reads_clock: ReadsClock,
    /// Read from inside a time namespace (offsets applied; getrandom still served).
    pub time_namespace: bool,
    /// A signal trampoline: a placement check instead of a cross-check.
    pub trampoline: bool,
}

const NOT_CALLED: KindInfo = KindInfo {
    callable: false,
    no_live_check: None,
    outputs: &[],
    null_allowed: true,
    scalar_outputs: false,
    takes_clock: false,
    reads_clock: ReadsClock::No,
    time_namespace: false,
    trampoline: false,
};

const CALLED: KindInfo = KindInfo {
    callable: true,
    ..NOT_CALLED
};

const fn skipped(why: &'static str) -> KindInfo {
    KindInfo {
        no_live_check: Some(why),
        ..NOT_CALLED
    }
}

const CLOCK_GETTIME: KindInfo = KindInfo {
    outputs: &["ts"],
    null_allowed: false,
    takes_clock: true,
    reads_clock: ReadsClock::Given,
    time_namespace: true,
    ..CALLED
};

const CLOCK_GETRES: KindInfo = KindInfo {
    outputs: &["res"],
    takes_clock: true,
    ..CALLED
};

/// The description of `kind`.
pub fn kind_info(kind: SymbolKind) -> KindInfo {
    match kind {
        SymbolKind::ClockGettime | SymbolKind::ClockGettime64 => CLOCK_GETTIME,
        SymbolKind::ClockGetres | SymbolKind::ClockGetresTime64 => CLOCK_GETRES,
        SymbolKind::Gettimeofday => KindInfo {
            outputs: &["tv", "tz"],
            reads_clock: ReadsClock::Own,
            ..CALLED
        },
        SymbolKind::Time => KindInfo {
            outputs: &["t"],
            scalar_outputs: true,
            ..CALLED
        },
        SymbolKind::Getcpu => KindInfo {
            outputs: &["cpu", "node"],
            scalar_outputs: true,
            ..CALLED
        },
        SymbolKind::Getrandom => KindInfo {
            outputs: &["buf"],
            null_allowed: false,
            time_namespace: true,
            ..CALLED
        },
        SymbolKind::SignalTrampoline => KindInfo {
            trampoline: true,
            ..skipped("signal trampolines get the trampoline check")
        },
        SymbolKind::VsyscallEntry if cfg!(target_arch = "x86") => NOT_CALLED,
        SymbolKind::VsyscallEntry => skipped(
            "__kernel_vsyscall is entered with i386 registers: only a 32-bit x86 build (the i686 runner) can call it",
        ),
        SymbolKind::SyscallGate => skipped("ia64 is a historical record: no kernel runs it"),
        SymbolKind::RestartSyscall => skipped(
            "the kernel enters it on the signal-restart path; a call from user space would restart whatever the kernel last recorded, so it cannot be checked safely",
        ),
        SymbolKind::FlushIcache => {
            skipped("needs a riscv build to call (compared with the riscv_flush_icache syscall)")
        }
        SymbolKind::SyncDicache | SymbolKind::GetTbfreq | SymbolKind::GetSyscallMap => {
            skipped("powerpc helpers need the CR0.SO call wrapper of a powerpc build")
        }
        SymbolKind::Hwprobe => {
            skipped("needs a riscv build to compare with the riscv_hwprobe syscall")
        }
        SymbolKind::SgxEnterEnclave => skipped(
            "entering an enclave needs an SGX enclave; user space cannot check it without one",
        ),
        SymbolKind::FutexRobustUnlock => {
            skipped("no check for the robust-futex unlock helpers yet")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{builtin, builtin_arches};

    /// Every kind a built-in spec names is described consistently: a callable kind
    /// has outputs to guard and no reason to skip; any other kind says why its
    /// calls are not checked (or is i386's vsyscall entry on an i386 build).
    #[test]
    fn every_kind_in_the_specs_is_described_consistently() {
        let mut seen = 0;
        for arch in builtin_arches() {
            for sym in builtin(arch).unwrap().unwrap().symbols {
                let info = kind_info(sym.kind);
                seen += 1;
                if info.callable {
                    assert!(!info.outputs.is_empty(), "{}: no outputs", sym.kind.name());
                    assert!(info.no_live_check.is_none(), "{}", sym.kind.name());
                } else {
                    assert!(
                        info.no_live_check.is_some() || cfg!(target_arch = "x86"),
                        "{}: neither callable nor a reason why not",
                        sym.kind.name()
                    );
                    assert!(info.outputs.is_empty() && !info.time_namespace);
                }
                assert!(!info.takes_clock || info.callable);
            }
        }
        assert!(seen > 100, "only {seen} symbols in the built-in specs");
    }
}
