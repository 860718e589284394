//! One description per symbol kind: everything the plan and the checks need to
//! know about a kind (its arguments, which checks apply, why not) and, for a kind
//! with live checks, how each check group takes its readings from a function of
//! that kind ([`LiveKind`]) and the judges specific to it, in the kind's module
//! here. The generic group drivers (and a group's own judges) stay in
//! `checks/live/`. [`kind_info`] is the one place that lists kinds.
//!
//! A new kind: its `SymbolKind` variant (and its place in `SymbolKind::ALL`);
//! its module here, with its description (a [`KindInfo`] const), its
//! [`LiveKind`] readings and its judges (and, if random calls of it can be
//! generated, its `fuzz` shape and [`LiveKind::fuzz`]), and the line of [`kind_info`] that
//! returns the description; if it is called, its typed handle in `crate::vdso`
//! (its `Handle::Prototype` and the system call it stands in for,
//! `Handle::TWIN`: `unsafe` stays in that module). The compiler refuses a
//! `kind_info` without the variant and a handle without its prototype or twin;
//! tests refuse a callable kind whose twin is `None` and an `ALL` missing a
//! variant.

pub mod bench;
pub mod clock;
pub mod futex;
pub mod getcpu;
pub mod getrandom;
pub mod gettimeofday;
pub mod powerpc;
pub mod restart;
pub mod riscv;
pub mod time;
pub mod trampoline;
#[cfg(target_arch = "x86")]
pub mod vsyscall;

pub use bench::{time_calls, Measurement, Timing, BATCH, BATCHES};

use crate::checks::live::badptr::PtrCase;
use crate::checks::live::clocks::{ClockCase, Reading};
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::live::timens::InnerReport;
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{FuzzCall, FuzzShape};
use crate::spec::{ClockId, SymbolKind};
use crate::vdso::arena::call_with_pointers;
use crate::vdso::syscall::{Errno, Syscall};
use crate::vdso::{Handle, PointerCall, Resolved, Returned};

/// How a kind reads a clock, for the monotonicity checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadsClock {
    /// It does not.
    No,
    /// Of the clock id it is given: one check per monotonic and steppable clock.
    Given,
    /// Of its own clock, REALTIME (gettimeofday, time): one check.
    Own,
}

/// What a kind does inside a new time namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeNamespace {
    /// Not checked there.
    No,
    /// Inside (and after leaving) it answers as the syscall does there: its
    /// clocks carry the namespace's offsets, its resolutions do not change.
    AsSyscall,
    /// It is still served in user space (seen under the fallback trap).
    StillServed,
}

/// A way to read one clock, through the vDSO or the syscall.
pub type ClockSource = Box<dyn Fn() -> Reading + Sync>;

/// What the checks know about one symbol kind.
#[derive(Clone, Copy)]
pub struct KindInfo {
    /// Its name in spec files.
    pub name: &'static str,
    /// Called with plain arguments by the call, served, bad-pointer and bench checks.
    pub callable: bool,
    /// The system call it stands in for: what the cross-check and bad-pointer
    /// groups compare it with, and what the served group's trap refuses. Every
    /// callable kind has one (its handle's [`Handle::TWIN`]).
    pub twin: Option<Syscall>,
    /// How its live checks take their readings, on builds that can call it.
    pub live: Option<&'static dyn LiveKind>,
    /// Why its live calls are not checked here, when they are not.
    pub no_live_check: Option<&'static str>,
    /// The pointer arguments it writes through, in order: name and object size.
    pub outputs: &'static [(&'static str, usize)],
    /// Whether NULL is allowed for those pointers (and means "don't store").
    pub null_allowed: bool,
    /// Whether its outputs are scalars (`time_t`, getcpu's `unsigned`): a
    /// straddling one would be misaligned, so there is no straddle case.
    pub scalar_outputs: bool,
    /// Whether its first argument is a clock id.
    pub takes_clock: bool,
    /// Whether success returns a positive value (time's seconds) rather than 0 or a count.
    pub returns_seconds: bool,
    /// What its bench figure measures, when not a clock (getrandom: "16 bytes").
    pub bench_label: Option<&'static str>,
    pub reads_clock: ReadsClock,
    /// The unit of its readings: 1 ns, gettimeofday's 1 µs, time's 1 s.
    pub reading_unit_ns: i64,
    pub time_namespace: TimeNamespace,
    /// A signal trampoline: its placement is checked (the `trampoline` group).
    pub trampoline: bool,
    /// Checked by its cross-check alone, never called with plain arguments (a
    /// trampoline, powerpc's helpers, i386's vsyscall entry, s390's restart
    /// entry): the call group plans nothing for it. The same on every build.
    pub crosschecked_only: bool,
    /// What its cross-check shows (the plan's description of it).
    pub crosscheck_what: &'static str,
    /// The symptom ids only its judges report, and what each means (the
    /// groups' own are in `checks::result`; `vdsoconf spec symptoms` lists both).
    pub symptoms: &'static [(&'static str, &'static str)],
    /// Which arguments `vdsoconf fuzz-live` varies ([`LiveKind::fuzz`] judges
    /// the calls whose pointers are valid, the bad-pointer judge the others).
    pub fuzz: FuzzShape,
}

/// How each live check group takes its readings from a function of one kind.
/// A group the description does not plan for a kind is never asked.
pub trait LiveKind: Sync {
    /// Calls with valid arguments, judged (the `call` group).
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        Err(format!("no call check for a {}", f.kind().name()).into())
    }

    /// Compared with the raw syscall (the `crosscheck` group).
    fn crosscheck(&self, f: Resolved) -> CheckResult;

    /// Readers of `clock` (its own clock for `None`) through the vDSO and the
    /// syscall (the `monotonic` group).
    fn readers(
        &self,
        f: Resolved,
        _clock: Option<ClockId>,
    ) -> Result<(ClockSource, ClockSource), String> {
        Err(format!("a {} reads no clock", f.kind().name()))
    }

    /// Served-or-fallback observations (the `served` group); calls `ctx.trap()`
    /// once anything that must run before the fallback trap has.
    fn served(&self, f: Resolved, _ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        Err(CheckResult::skip(format!(
            "no served/fallback check for a {}",
            f.kind().name()
        )))
    }

    /// What it reads inside a new time namespace (the `timens` group), for a
    /// kind that reads no clock (clock readers are read through [`Self::readers`]).
    fn timens_inside(&self, f: Resolved) -> InnerReport {
        InnerReport {
            error: Some(format!(
                "a {} is not read in a time namespace",
                f.kind().name()
            )),
            ..Default::default()
        }
    }

    /// One fuzzed call with valid pointers (`vdsoconf fuzz-live`), made through
    /// the vDSO and the syscall and judged as the cross-check judges them;
    /// `clock` is the call's clock id, made real by the caller.
    fn fuzz(&self, f: Resolved, _call: &FuzzCall, _clock: Option<ClockCase>) -> CheckResult {
        CheckResult::skip(format!("a {} is not fuzzed", f.kind().name()))
    }

    /// Its function as the pointer-taking call the bad-pointer and bench groups
    /// make, handed to `use_it` (with whatever it needs, getrandom's state).
    fn pointers(&self, f: Resolved, _use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        Err(format!("a {} takes no pointers", f.kind().name()))
    }
}

/// A function called with pointers its caller chooses: the bad-pointer cases,
/// and the bench's guarded outputs.
pub trait Pointers {
    /// One bad-pointer case: the syscall's answer goes to `report` before the
    /// vDSO's raw return value comes back.
    fn bad_pointer(
        &self,
        case: &PtrCase,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, String>;

    /// Its cost against its syscall's, with `clock` for the clock functions.
    fn measure(&self, clock: Option<ClockId>) -> Result<Measurement, String>;

    /// One call through the vDSO alone, with valid (guarded) outputs and
    /// `clock` for the clock functions: what the fuzzer watches under the
    /// fallback trap to see which path a call took.
    fn vdso_once(&self, clock: i32) -> Result<Returned, String>;
}

impl<H: PointerCall> Pointers for H {
    fn bad_pointer(
        &self,
        case: &PtrCase,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, String> {
        call_with_pointers(self, case.clock, &case.args, report)
    }

    fn measure(&self, clock: Option<ClockId>) -> Result<Measurement, String> {
        bench::measure(self, clock)
    }

    fn vdso_once(&self, clock: i32) -> Result<Returned, String> {
        let raw = crate::vdso::Outputs::<H>::new()?.vdso(self, clock);
        Ok(if raw < 0 {
            Err((-raw) as Errno)
        } else {
            Ok(raw)
        })
    }
}

/// [`LiveKind::pointers`] of a function whose handle `H` takes the pointers itself.
fn pointers_of<H: Handle + PointerCall>(
    f: Resolved,
    use_it: &mut dyn FnMut(&dyn Pointers),
) -> Result<(), String> {
    use_it(&f.handle::<H>()?);
    Ok(())
}

/// What the syscall watch saw of `call`.
fn observed(what: &str, expected: Expected, call: impl FnOnce() -> Returned) -> ServiceCase {
    ServiceCase {
        what: what.into(),
        expected,
        observed: Service::of(|| call().map(|_| ())),
    }
}

/// The description of a kind that is neither called nor checked: the base of
/// every other.
const NOT_CALLED: KindInfo = KindInfo {
    name: "",
    callable: false,
    twin: None,
    live: None,
    no_live_check: None,
    outputs: &[],
    null_allowed: true,
    scalar_outputs: false,
    takes_clock: false,
    returns_seconds: false,
    bench_label: None,
    reads_clock: ReadsClock::No,
    reading_unit_ns: 1,
    time_namespace: TimeNamespace::No,
    trampoline: false,
    crosschecked_only: false,
    crosscheck_what: "agrees with the raw syscall for every input",
    symptoms: &[],
    fuzz: FuzzShape::No,
};

/// A kind called with plain arguments through the handle `H`.
pub const fn called<H: Handle>(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        name,
        callable: true,
        twin: H::TWIN,
        live: Some(live),
        ..NOT_CALLED
    }
}

pub const fn skipped(name: &'static str, why: &'static str) -> KindInfo {
    KindInfo {
        name,
        no_live_check: Some(why),
        ..NOT_CALLED
    }
}

/// The description of `kind`: the kind's module's, or (for a kind with no
/// live checks at all) why not.
pub fn kind_info(kind: SymbolKind) -> KindInfo {
    use SymbolKind as K;
    match kind {
        K::ClockGettime => clock::GETTIME,
        K::ClockGettime64 => clock::GETTIME64,
        K::ClockGetres => clock::GETRES,
        K::ClockGetresTime64 => clock::GETRES_TIME64,
        K::Gettimeofday => gettimeofday::INFO,
        K::Time => time::INFO,
        K::Getcpu => getcpu::INFO,
        K::Getrandom => getrandom::INFO,
        K::SignalTrampoline => trampoline::RT,
        K::SignalTrampolineNonrt => trampoline::NONRT,
        #[cfg(target_arch = "x86")]
        K::VsyscallEntry => vsyscall::INFO,
        #[cfg(not(target_arch = "x86"))]
        K::VsyscallEntry => KindInfo {
            crosschecked_only: true,
            crosscheck_what: VSYSCALL_ENTRY_WHAT,
            ..skipped(
                "vsyscall_entry",
                "__kernel_vsyscall is entered with i386 registers: only a 32-bit x86 build (the i686 runner) can call it",
            )
        },
        K::SyscallGate => skipped("syscall_gate", "ia64 is a historical record: no kernel runs it"),
        K::DatapageOffset => skipped(
            "datapage_offset",
            "powerpc's vDSO exported it up to 5.10 only; no kernel since has it to call",
        ),
        K::RestartSyscall => restart::INFO,
        K::FlushIcache => riscv::FLUSH_ICACHE,
        K::SyncDicache => powerpc::SYNC_DICACHE,
        K::GetTbfreq => powerpc::GET_TBFREQ,
        K::GetSyscallMap => powerpc::GET_SYSCALL_MAP,
        K::Hwprobe => riscv::HWPROBE,
        K::SgxEnterEnclave => skipped(
            "sgx_enter_enclave",
            "entering an enclave needs an SGX enclave; user space cannot check it without one",
        ),
        K::FutexRobustList64TryUnlock => futex::LIST64,
        K::FutexRobustList32TryUnlock => futex::LIST32,
    }
}

/// What a system call entry's cross-check shows (i386's, and SuperH's), on every
/// build (the plan is the same everywhere; only an i386 build has `vsyscall.rs`).
const VSYSCALL_ENTRY_WHAT: &str =
    "each call through it answers what the same call made with the trap instruction does (`int $0x80` on i386)";

/// A kind that stands in for no system call: checked by its cross-check alone
/// (against what the kernel says elsewhere), not called by the generic groups.
pub const fn checked(name: &'static str, live: &'static dyn LiveKind) -> KindInfo {
    KindInfo {
        name,
        live: Some(live),
        crosschecked_only: true,
        ..NOT_CALLED
    }
}

/// s390's restart entry is entered by an s390 kernel only; the description is
/// the same on every build.
pub const fn s390x_only(info: KindInfo) -> KindInfo {
    if cfg!(target_arch = "s390x") {
        info
    } else {
        KindInfo {
            live: None,
            no_live_check: Some("the kernel enters it when it restarts a call interrupted by a stop (-ERESTART_RESTARTBLOCK, no handler): only an s390x build is stopped and restarted through it"),
            ..info
        }
    }
}

/// riscv's own functions are called on riscv builds only; the description (and
/// so the plan, and every check's name) is the same on every build.
pub const fn riscv_only(info: KindInfo) -> KindInfo {
    if cfg!(any(target_arch = "riscv64", target_arch = "riscv32")) {
        info
    } else {
        KindInfo {
            live: None,
            no_live_check: Some("needs a riscv build to call and compare with its riscv syscall"),
            ..info
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind is described consistently: its name is the one spec files
    /// use; a callable kind has a syscall twin, outputs to guard, live checks and
    /// no reason to skip; any other kind says why its calls are not checked (or
    /// is i386's vsyscall entry on an i386 build).
    #[test]
    fn every_kind_is_described_consistently() {
        for kind in SymbolKind::ALL {
            let info = kind_info(kind);
            let yaml = serde_saphyr::to_string(&kind).unwrap();
            assert_eq!(yaml.trim(), info.name, "the description's name");
            if info.callable {
                assert!(
                    info.twin.is_some(),
                    "{}: callable but stands in for no system call: the served \
                         group's trap would never see it fall back",
                    info.name
                );
                // flush_icache takes addresses but writes nothing of the caller's.
                assert!(
                    !info.outputs.is_empty() || kind == SymbolKind::FlushIcache,
                    "{}: no outputs",
                    info.name
                );
                // Live checks, or (riscv's on other builds) why this build has none.
                assert!(
                    info.live.is_some() != info.no_live_check.is_some(),
                    "{}: live checks or a reason, exactly one",
                    info.name
                );
            } else {
                // Checked its own way (powerpc's helpers, i386's vsyscall
                // entry on i686 builds), or why not.
                assert!(
                    info.no_live_check.is_some() != info.live.is_some(),
                    "{}: neither callable, nor checked otherwise, nor a reason why not",
                    info.name
                );
                assert!(info.outputs.is_empty() && info.time_namespace == TimeNamespace::No);
            }
            assert!(!info.takes_clock || info.callable);
            assert!(!(info.crosschecked_only && info.callable), "{}", info.name);
            assert!(info.reads_clock == ReadsClock::No || info.callable);
        }
    }
}
