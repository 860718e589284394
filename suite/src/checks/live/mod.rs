//! Live checks: each runs in a child process against this process's vDSO and the raw
//! syscalls. The drivers here resolve the symbol and ask its kind's description
//! ([`crate::kinds`]) for the readings; the judging functions (one module per group)
//! take readings, not functions, so tests can feed them a broken implementation.

pub mod badptr;
pub mod call;
pub mod clocks;
pub mod crosscheck;
pub mod monotonic;
pub mod overwrite;
pub mod served;
pub mod special;
pub mod timens;

use self::served::{current_clocksource, expected_for_clock, Clocksource, ServedContext};
use crate::checks::result::CheckResult;
use crate::checks::Target;
use crate::kinds::{kind_info, LiveKind, TimeNamespace};
use crate::spec::{ClockId, ErrorConvention, SymbolSpec};
use crate::vdso::{syscall, LiveVdso, Resolved};
use std::time::Duration;

/// Resolves `sym` in this process's vDSO, or says why a live check cannot run.
pub fn live_fn(sym: &SymbolSpec, convention: ErrorConvention) -> Result<Resolved, CheckResult> {
    if let Some(why) = call::convention_unsupported(convention) {
        return Err(CheckResult::skip(why));
    }
    let vdso = match LiveVdso::find() {
        Ok(Some(v)) => v,
        Ok(None) => return Err(CheckResult::skip("no vDSO in this process")),
        Err(e) => return Err(CheckResult::fail(e.to_string())),
    };
    match vdso.resolve(sym) {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(CheckResult::skip(format!(
            "{}@{} is not in this vDSO (its resolve check says whether it should be)",
            sym.name, sym.version
        ))),
        Err(e) => Err(CheckResult::fail(format!("live vDSO: {e}"))),
    }
}

/// The live checks of `sym`'s kind, and the function resolved: or the check's
/// result when there are none (its description says why) or it is not here.
fn live_kind(
    sym: &SymbolSpec,
    convention: ErrorConvention,
) -> Result<(&'static dyn LiveKind, Resolved), CheckResult> {
    let info = kind_info(sym.kind);
    let Some(kind) = info.live else {
        return Err(CheckResult::skip(info.no_live_check.unwrap_or(
            "no live check for this kind: see its trampoline check",
        )));
    };
    Ok((kind, live_fn(sym, convention)?))
}

pub use crate::vdso::process::allowed_cpus;

/// Moves the calling thread to `cpu`.
pub fn pin(cpu: usize) -> bool {
    crate::vdso::process::set_allowed_cpus(&[cpu]).is_ok()
}

fn restore_affinity(cpus: &[usize]) {
    let _ = crate::vdso::process::set_allowed_cpus(cpus);
}

/// Cross-checks one symbol against the raw syscall.
pub fn run_crosscheck(sym: &SymbolSpec, convention: ErrorConvention) -> CheckResult {
    match live_kind(sym, convention) {
        Ok((kind, f)) => kind.crosscheck(f),
        Err(r) => r,
    }
}

/// Monotonicity of one clock (or gettimeofday's own when `clock` is `None`).
pub fn run_monotonic(
    target: &Target,
    sym: &SymbolSpec,
    clock: Option<ClockId>,
    duration: Duration,
    progress: &(dyn Fn(u64) + Sync),
) -> CheckResult {
    let (kind, f) = match live_kind(sym, target.spec.error_convention) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let (vdso, sys) = match kind.readers(f, clock) {
        Ok(readers) => readers,
        Err(e) => return CheckResult::fail(e),
    };
    let cpus = allowed_cpus();
    let steppable = clock.is_none_or(|c| target.spec.clocks.steppable.contains(&c));
    let offset = || {
        let r = syscall::clock_gettime(0).map(clocks::ns).unwrap_or(0);
        let m = syscall::clock_gettime(1).map(clocks::ns).unwrap_or(0);
        r - m
    };
    let offset_before = offset();
    let probe = monotonic::MonotonicProbe {
        vdso: &*vdso,
        sys: &*sys,
        cpus: cpus.clone(),
        pin: &pin,
        progress,
    };
    let report = monotonic::run_monotonic(&probe, duration);
    restore_affinity(&cpus);
    // REALTIME was stepped if its distance from MONOTONIC changed by more than a millisecond.
    let stepped = (offset() - offset_before).abs() > 1_000_000;
    monotonic::judge_monotonic(&report, steppable, stepped)
}

/// The served/fallback check of one symbol (installs a seccomp filter: child only).
pub fn run_served(target: &Target, sym: &SymbolSpec) -> CheckResult {
    if !target.spec.providers.get(target.provider).seccomp {
        return CheckResult::skip(format!(
            "seccomp is not available under {} (not emulated)",
            target.provider.name()
        ));
    }
    let (kind, f) = match live_kind(sym, target.spec.error_convention) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let clocksource = current_clocksource(&target.spec);
    // Which aux clocks run: ask the syscall before it is trapped.
    let aux_enabled: Vec<i32> = (16..=23)
        .filter(|&c| syscall::clock_gettime(c).is_ok())
        .collect();
    let expect = |clock: i32, needs_counter: bool| {
        expected_for_clock(
            &target.spec,
            target.provider,
            target.kernel,
            clock,
            needs_counter,
            &clocksource,
            aux_enabled.contains(&clock),
        )
    };
    let cases = match kind.served(f, &ServedContext { expect: &expect }) {
        Ok(cases) => cases,
        Err(r) => return r,
    };
    let source = match &clocksource {
        Clocksource::Capable(n) => format!("clocksource {n} (vDSO-capable)"),
        Clocksource::Incapable(n) => {
            format!("clocksource {n} (no vDSO mode: high-res clocks fall back)")
        }
        Clocksource::Unknown => "clocksource unknown (no sysfs)".into(),
    };
    served::judge_served(&cases, source)
}

/// Inside a time namespace: what the inner process reports for `sym`.
pub fn timens_inside(target: &Target, sym: &SymbolSpec) -> timens::InnerReport {
    match live_kind(sym, target.spec.error_convention) {
        Ok((kind, f)) => kind.timens_inside(f),
        Err(r) => timens::InnerReport {
            error: Some(format!("{:?}", r.verdict)),
            ..Default::default()
        },
    }
}

/// The time-namespace check of `sym`; `inside` runs [`timens_inside`] in a new process.
pub fn run_timens(
    target: &Target,
    sym: &SymbolSpec,
    inside: &dyn Fn() -> timens::InnerReport,
) -> CheckResult {
    if let Err(r) = live_kind(sym, target.spec.error_convention) {
        return r;
    }
    let still_served = kind_info(sym.kind).time_namespace == TimeNamespace::StillServed;
    if still_served && !target.spec.providers.get(target.provider).seccomp {
        return CheckResult::skip("seccomp is not available, so a fallback cannot be seen");
    }
    if let Err(skip) = timens::enter_namespace() {
        return skip;
    }
    let (outside, inner) = timens::around(inside);
    timens::judge_timens(&outside, &inner, still_served)
}
