//! Call checks: each vDSO function, called with valid arguments, returns sane values.
//!
//! The judging functions take results, not functions, so tests can feed them a broken
//! implementation's output; [`call_live_symbol`] obtains the results from the real
//! vDSO, through the kind's description ([`crate::kinds::LiveKind::call`]).

use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, ClockId, ErrorConvention, SymbolKind, SymbolSpec};
use crate::vdso::{raw_value, HwprobePair, LockState, Returned, Timespec, VgetrandomOpaqueParams};

/// The `call` group: every symbol called with valid arguments, in a child process.
pub struct CallGroup;
pub static GROUP: CallGroup = CallGroup;

impl CheckGroup for CallGroup {
    fn about(&self) -> About {
        About {
            group: Group::Call,
            name: "call",
            column: Some("call"),
            runs: Runs::IN_CHILD,
        }
    }

    /// Every symbol but those checked by their cross-check alone (which would
    /// only say so here): a kind with no live check at all keeps its row, whose
    /// skip says why.
    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).crosschecked_only {
                continue;
            }
            add(
                subject(sym),
                Case::symbol(i),
                format!("{} returns sane values for valid arguments", sym.prototype),
            );
        }
    }

    /// A kind that is not called with plain arguments, or a build that cannot
    /// call this convention, needs no child to say so.
    fn before_child(&self, check: &PlannedCheck, target: &Target) -> Option<CheckResult> {
        let spec = &target.spec;
        match check.case.spec_symbol(spec) {
            Ok(sym) => call_unsupported(spec.error_convention, sym.kind).map(CheckResult::skip),
            Err(r) => Some(r),
        }
    }

    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let spec = &ctx.target.spec;
        match check.case.spec_symbol(spec) {
            Ok(sym) => call_live_symbol(sym, spec.error_convention),
            Err(r) => r,
        }
    }
}

const NSEC_PER_SEC: i64 = 1_000_000_000;
/// 2001-09-09: any realtime clock that is set reads later than this.
const SOME_TIME_AGO: i64 = 1_000_000_000;

fn describe_ret(ret: Returned) -> String {
    match ret {
        Ok(v) => v.to_string(),
        Err(e) => format!(
            "{} ({})",
            raw_value(ret),
            std::io::Error::from_raw_os_error(e)
        ),
    }
}

/// `clock_gettime(clock)` returned `ret` and `ts`.
pub fn judge_gettime(clock: ClockId, ret: Returned, ts: Timespec) -> Result<(), Problem> {
    let problem = |id: &str, message: String| Err(Problem::about(id, clock, message));
    if ret != Ok(0) {
        return problem(
            "call-returned",
            format!("{clock}: returned {}", describe_ret(ret)),
        );
    }
    if !(0..NSEC_PER_SEC).contains(&ts.nsec) {
        return problem(
            "not-normalized",
            format!("{clock}: tv_nsec {} is not normalized", ts.nsec),
        );
    }
    if ts.sec < 0 {
        return problem(
            "implausible-value",
            format!("{clock}: tv_sec {} is negative", ts.sec),
        );
    }
    if clock == ClockId::REALTIME && ts.sec < SOME_TIME_AGO {
        return problem(
            "implausible-value",
            format!("{clock}: tv_sec {} is before 2001", ts.sec),
        );
    }
    Ok(())
}

/// `clock_getres(clock)` returned `ret` and `res`.
pub fn judge_getres(clock: ClockId, ret: Returned, res: Timespec) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::about(
            "call-returned",
            clock,
            format!("{clock}: returned {}", describe_ret(ret)),
        ));
    }
    let total = res
        .sec
        .saturating_mul(NSEC_PER_SEC)
        .saturating_add(res.nsec);
    if !(0..NSEC_PER_SEC).contains(&res.nsec) || total <= 0 || total > NSEC_PER_SEC {
        return Err(Problem::about(
            "implausible-value",
            clock,
            format!(
                "{clock}: resolution {}.{:09} s is not in (0, 1] s",
                res.sec, res.nsec
            ),
        ));
    }
    Ok(())
}

/// `gettimeofday` returned `ret`, `sec`/`usec`.
pub fn judge_gettimeofday(ret: Returned, sec: i64, usec: i64) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    if !(0..1_000_000).contains(&usec) {
        return Err(Problem::new(
            "not-normalized",
            format!("tv_usec {usec} is not normalized"),
        ));
    }
    if sec < SOME_TIME_AGO {
        return Err(Problem::new(
            "implausible-value",
            format!("tv_sec {sec} is before 2001"),
        ));
    }
    Ok(())
}

/// `time(&stored)` returned `ret`.
pub fn judge_time(ret: i64, stored: i64) -> Result<(), Problem> {
    if ret != stored {
        return Err(Problem::new(
            "returned-not-stored",
            format!("returned {ret} but stored {stored}"),
        ));
    }
    if ret < SOME_TIME_AGO {
        return Err(Problem::new(
            "implausible-value",
            format!("returned {ret}, before 2001"),
        ));
    }
    Ok(())
}

/// `getcpu` returned `ret`, `cpu`, `node`; the machine has `cpus` possible CPUs.
pub fn judge_getcpu(ret: Returned, cpu: u32, node: u32, cpus: u32) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    if cpu >= cpus {
        return Err(Problem::new(
            "cpu-out-of-range",
            format!("cpu {cpu} is not below the {cpus} configured CPUs"),
        ));
    }
    // MAX_NUMNODES is at most 1 << 10.
    if node >= 1024 {
        return Err(Problem::about(
            "implausible-value",
            "node",
            format!("node {node} is not a NUMA node number"),
        ));
    }
    Ok(())
}

/// One fill of a getrandom stress thread: what it returned (or why no call
/// was made), and the bytes.
pub type ThreadFill = (Result<i64, String>, Vec<u8>);

/// getrandom from many threads at once, each with its own state: every fill
/// returned its length and no two fills (of any threads) gave the same bytes;
/// a repeat means a state shared by accident or a key not reseeded.
pub fn judge_getrandom_threads(fills: &[ThreadFill]) -> Result<(), Problem> {
    if fills.len() < 8 {
        return Err(Problem::about(
            "call-returned",
            "threads",
            format!(
                "the thread stress made only {} fills: fewer than two threads started",
                fills.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (r, bytes)) in fills.iter().enumerate() {
        match r {
            Ok(n) if *n as usize == bytes.len() && !bytes.is_empty() => {}
            Ok(n) => {
                return Err(Problem::about(
                    "call-returned",
                    "threads",
                    format!(
                        "fill {i} of the thread stress returned {n} for {} bytes",
                        bytes.len()
                    ),
                ))
            }
            Err(e) => {
                return Err(Problem::about(
                    "call-returned",
                    "threads",
                    format!("fill {i} of the thread stress: {e}"),
                ))
            }
        }
        if !seen.insert(bytes.as_slice()) {
            return Err(Problem::about(
                "outputs-identical",
                "threads",
                format!(
                    "fill {i} repeated the bytes of an earlier fill among {} (of threads with states of their own)",
                    fills.len()
                ),
            ));
        }
    }
    Ok(())
}

/// getcpu's third argument (`tcache`) is ignored: with each `(what, reading)`
/// the call returns what it returns with NULL and, when the caller was
/// `pinned` to one CPU (else the CPU may change between calls), the same CPU
/// and node.
pub fn judge_getcpu_tcache(
    with_null: (Returned, u32, u32),
    cases: &[(&str, (Returned, u32, u32))],
    pinned: bool,
) -> Result<(), Problem> {
    for (what, reading) in cases {
        let differs = if pinned {
            *reading != with_null
        } else {
            reading.0 != with_null.0
        };
        if differs {
            return Err(Problem::about(
                "result-differs",
                "tcache",
                format!(
                    "with tcache {what} it returned {} with cpu {} node {}; with NULL {} with cpu {} node {} (tcache is to be ignored)",
                    describe_ret(reading.0),
                    reading.1,
                    reading.2,
                    describe_ret(with_null.0),
                    with_null.1,
                    with_null.2
                ),
            ));
        }
    }
    Ok(())
}

/// A key no kernel defines: hwprobe must answer it with key -1 and value 0.
pub const HWPROBE_UNKNOWN_KEY: i64 = 1 << 40;
const HWPROBE_KEY_BASE_BEHAVIOR: i64 = 3;
const HWPROBE_BASE_BEHAVIOR_IMA: u64 = 1;
/// The keys of hwprobe's first kernel (6.4): every kernel with the function knows them.
const HWPROBE_FIRST_KEYS: core::ops::RangeInclusive<i64> = 0..=5;

/// hwprobe for all CPUs: success, every first-kernel key known, the base
/// behaviour the IMA one (every Linux riscv user space runs on it), an unknown
/// key answered as unknown.
pub fn judge_hwprobe(ret: Returned, pairs: &[HwprobePair]) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    let known = |key| pairs.iter().any(|p| p.key == key);
    if let Some(key) = HWPROBE_FIRST_KEYS.clone().find(|&k| !known(k)) {
        return Err(Problem::about(
            "implausible-value",
            "key",
            format!("key {key}, known since hwprobe began (6.4), came back unknown"),
        ));
    }
    let base = pairs
        .iter()
        .find(|p| p.key == HWPROBE_KEY_BASE_BEHAVIOR)
        .map_or(0, |p| p.value);
    if base & HWPROBE_BASE_BEHAVIOR_IMA == 0 {
        return Err(Problem::about(
            "implausible-value",
            "base-behavior",
            format!("RISCV_HWPROBE_KEY_BASE_BEHAVIOR is 0x{base:x}: the IMA bit is not set"),
        ));
    }
    match pairs.last() {
        Some(HwprobePair { key: -1, value: 0 }) => Ok(()),
        last => Err(Problem::about(
            "implausible-value",
            "unknown-key",
            format!(
                "key 1<<40, which no kernel defines, came back as {last:?}, not key -1 and value 0"
            ),
        )),
    }
}

/// flush_icache of a range with flags 0 succeeds.
pub fn judge_flush_icache(ret: Returned) -> Result<(), Problem> {
    match ret {
        Ok(0) => Ok(()),
        _ => Err(Problem::new(
            "call-returned",
            format!("flags 0 returned {}", describe_ret(ret)),
        )),
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

/// The parameter query and two 64-byte fills of getrandom.
pub fn judge_getrandom(
    params_ret: Returned,
    params: &VgetrandomOpaqueParams,
    fills: [(Returned, &[u8]); 2],
) -> Result<(), Problem> {
    if params_ret != Ok(0) {
        return Err(Problem::about(
            "call-returned",
            "params",
            format!("parameter query returned {}", describe_ret(params_ret)),
        ));
    }
    if params.size_of_opaque_state == 0 || params.size_of_opaque_state > 4096 {
        return Err(Problem::about(
            "implausible-value",
            "size_of_opaque_state",
            format!(
                "size_of_opaque_state {} is not in 1..=4096",
                params.size_of_opaque_state
            ),
        ));
    }
    for (ret, buf) in fills {
        if ret != Ok(buf.len() as i64) {
            return Err(Problem::new(
                "call-returned",
                format!(
                    "a {}-byte request returned {}",
                    buf.len(),
                    describe_ret(ret)
                ),
            ));
        }
    }
    if fills[0].1.iter().all(|&b| b == 0) {
        return Err(Problem::about(
            "implausible-value",
            "zeros",
            "the output is all zeros",
        ));
    }
    if fills[0].1 == fills[1].1 {
        return Err(Problem::about(
            "outputs-identical",
            "successive calls",
            "two successive calls returned the same bytes",
        ));
    }
    Ok(())
}

/// Why a symbol cannot be called from this process, if it cannot.
pub fn call_unsupported(convention: ErrorConvention, kind: SymbolKind) -> Option<String> {
    let info = kind_info(kind);
    if !info.callable {
        return Some(match info.no_live_check {
            Some(why) => why.to_string(),
            None => format!("a {} is not called with plain arguments", kind.name()),
        });
    }
    convention_unsupported(convention)
}

/// Why this build cannot call functions of `convention`, if it cannot.
pub fn convention_unsupported(convention: ErrorConvention) -> Option<String> {
    if crate::vdso::calls_supported(convention) {
        return None;
    }
    Some(match convention {
        ErrorConvention::PowerpcCr0So => format!(
            "powerpc returns errors in CR0.SO: the call wrapper that reads it exists for powerpc \
             builds only (32-bit, ELFv1, ELFv2), and this is a {} build",
            std::env::consts::ARCH
        ),
        _ => "the spec says this vDSO has no callable functions".into(),
    })
}

/// Resolves `sym` in this process's vDSO and calls it.
/// Meant to run in a child process: a broken vDSO may crash it.
pub fn call_live_symbol(sym: &SymbolSpec, convention: ErrorConvention) -> CheckResult {
    if let Some(why) = call_unsupported(convention, sym.kind) {
        return CheckResult::skip(why);
    }
    let (kind, f) = match super::live_kind(sym, convention) {
        Ok(k) => k,
        Err(r) => return r,
    };
    CheckResult::from_symptoms(kind.call(f).err().into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timespec = Timespec {
        sec: 1_764_000_000,
        nsec: 5,
    };

    #[test]
    fn gettime_rejects_errors_unnormalized_and_implausible_values() {
        assert!(judge_gettime(ClockId::REALTIME, Ok(0), NOW).is_ok());
        assert!(judge_gettime(ClockId::REALTIME, Err(22), NOW)
            .unwrap_err()
            .contains("-22"));
        let bad_nsec = Timespec {
            nsec: NSEC_PER_SEC,
            ..NOW
        };
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), bad_nsec)
            .unwrap_err()
            .contains("normalized"));
        let epoch = Timespec { sec: 3, nsec: 0 };
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), epoch).is_ok());
        assert!(judge_gettime(ClockId::REALTIME, Ok(0), epoch)
            .unwrap_err()
            .contains("before 2001"));
        assert!(judge_gettime(ClockId::MONOTONIC, Ok(0), Timespec { sec: -1, nsec: 0 }).is_err());
    }

    #[test]
    fn getres_must_be_positive_and_at_most_a_second() {
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 0, nsec: 1 }).is_ok());
        assert!(judge_getres(
            ClockId::MONOTONIC,
            Ok(0),
            Timespec {
                sec: 0,
                nsec: 4_000_000
            }
        )
        .is_ok());
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 0, nsec: 0 }).is_err());
        assert!(judge_getres(ClockId::MONOTONIC, Ok(0), Timespec { sec: 2, nsec: 0 }).is_err());
        assert!(judge_getres(ClockId::MONOTONIC, Err(14), Timespec { sec: 0, nsec: 1 }).is_err());
    }

    #[test]
    fn gettimeofday_time_and_getcpu_judges_fail_on_broken_output() {
        assert!(judge_gettimeofday(Ok(0), NOW.sec, 999_999).is_ok());
        assert!(judge_gettimeofday(Ok(0), NOW.sec, 1_000_000).is_err());
        assert!(judge_gettimeofday(Err(1), NOW.sec, 0).is_err());
        assert!(judge_time(NOW.sec, NOW.sec).is_ok());
        assert!(judge_time(NOW.sec, 0).unwrap_err().contains("stored 0"));
        assert!(judge_time(12, 12).is_err());
        assert!(judge_getcpu(Ok(0), 1, 0, 2).is_ok());
        assert!(judge_getcpu(Ok(0), 2, 0, 2).unwrap_err().contains("cpu 2"));
        assert!(judge_getcpu(Ok(0), 0, u32::MAX, 2).is_err());
        assert!(judge_getcpu(Err(14), 0, 0, 2).is_err());
    }

    #[test]
    fn getrandom_judge_fails_on_bad_params_short_reads_and_repeats() {
        let params = VgetrandomOpaqueParams {
            size_of_opaque_state: 256,
            ..Default::default()
        };
        let (a, b) = ([1u8; 8], [2u8; 8]);
        assert!(judge_getrandom(Ok(0), &params, [(Ok(8), &a), (Ok(8), &b)]).is_ok());
        assert!(judge_getrandom(Err(22), &params, [(Ok(8), &a), (Ok(8), &b)]).is_err());
        let none = VgetrandomOpaqueParams::default();
        assert!(judge_getrandom(Ok(0), &none, [(Ok(8), &a), (Ok(8), &b)])
            .unwrap_err()
            .contains("size_of_opaque_state"));
        assert!(judge_getrandom(Ok(0), &params, [(Ok(4), &a), (Ok(8), &b)]).is_err());
        assert!(judge_getrandom(Ok(0), &params, [(Ok(8), &a), (Ok(8), &a)])
            .unwrap_err()
            .contains("same bytes"));
        let zeros = [0u8; 8];
        assert!(
            judge_getrandom(Ok(0), &params, [(Ok(8), &zeros), (Ok(8), &b)])
                .unwrap_err()
                .contains("zeros")
        );
    }

    // Only a powerpc build has the CR0.SO call wrapper.
    #[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
    #[test]
    fn powerpc_calls_are_skipped_with_the_reason_elsewhere() {
        let why =
            call_unsupported(ErrorConvention::PowerpcCr0So, SymbolKind::ClockGettime).unwrap();
        assert!(
            why.contains("CR0.SO") && why.contains("powerpc builds only"),
            "{why}"
        );
        assert!(call_unsupported(ErrorConvention::NegativeErrno, SymbolKind::Time).is_none());
        assert!(
            call_unsupported(ErrorConvention::NegativeErrno, SymbolKind::SignalTrampoline)
                .is_some()
        );
    }
}
