//! Served in user space, or fallen back to the syscall: with the fallback syscalls made
//! to fail with a distinctive errno (seccomp), a served call succeeds and a fallback
//! returns that errno.

use super::clocks::errno_name;
use crate::checks::result::{from_problems, CheckResult};
use crate::live::syscall::Errno;
use crate::spec::{ArchSpec, ClockId, KernelVersion, Provider};

/// The errno the seccomp filter answers fallback syscalls with: no real call returns it.
pub const FALLBACK_MARK: Errno = 3999;

/// What a call did under the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Served,
    Fallback,
    /// Failed with another errno (neither served nor a filtered fallback).
    Failed(Errno),
}

impl Service {
    pub fn from_status(status: Result<(), Errno>) -> Service {
        match status {
            Ok(()) => Service::Served,
            Err(FALLBACK_MARK) => Service::Fallback,
            Err(e) => Service::Failed(e),
        }
    }
}

/// What the spec says a call should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Served,
    Fallback,
}

/// One (call, clock) observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCase {
    pub what: String,
    pub expected: Expected,
    pub observed: Service,
}

pub fn judge_served(cases: &[ServiceCase], context: String) -> CheckResult {
    let mut problems = Vec::new();
    let mut served = Vec::new();
    for c in cases {
        match (&c.expected, c.observed) {
            (Expected::Served, Service::Served) => served.push(c.what.clone()),
            (Expected::Fallback, Service::Fallback) => {}
            (Expected::Served, Service::Fallback) => problems.push(format!(
                "{}: fell back to the syscall, the spec says it is served",
                c.what
            )),
            (Expected::Fallback, Service::Served) => problems.push(format!(
                "{}: served in user space, the spec says it falls back",
                c.what
            )),
            (_, Service::Failed(e)) => {
                problems.push(format!("{}: failed with {}", c.what, errno_name(e)))
            }
        }
    }
    from_problems(problems).with_notes(vec![format!("{context}; served: {}", served.join(", "))])
}

/// Whether the clocksource lets the vDSO read the counter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clocksource {
    Capable(String),
    Incapable(String),
    Unknown,
}

pub fn current_clocksource(spec: &ArchSpec) -> Clocksource {
    match std::fs::read_to_string(
        "/sys/devices/system/clocksource/clocksource0/current_clocksource",
    ) {
        Ok(s) => {
            let name = s.trim().to_string();
            if spec.clocks.vdso_clocksources.contains(&name) {
                Clocksource::Capable(name)
            } else {
                Clocksource::Incapable(name)
            }
        }
        Err(_) => Clocksource::Unknown,
    }
}

/// How the spec expects `clock` to be handled by a clock_gettime-like (`needs_counter`)
/// or clock_getres-like function. `aux_enabled` says whether an aux clock is running.
pub fn expected_for_clock(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    clock: i32,
    needs_counter: bool,
    clocksource: &Clocksource,
    aux_enabled: bool,
) -> Expected {
    let served = spec
        .providers
        .get(provider)
        .served_clocks
        .as_ref()
        .unwrap_or(&spec.clocks.served);
    if (16..=23).contains(&clock) {
        let since_ok = match (spec.clocks.aux_served_since, kernel) {
            (Some(since), Some(k)) => k >= since,
            _ => false,
        };
        let counter_ok = !needs_counter || matches!(clocksource, Clocksource::Capable(_));
        return if since_ok && aux_enabled && counter_ok && !served.is_empty() {
            Expected::Served
        } else {
            Expected::Fallback
        };
    }
    if !served.contains(&ClockId(clock)) {
        return Expected::Fallback;
    }
    let coarse = matches!(clock, 5 | 6);
    if needs_counter && !coarse && matches!(clocksource, Clocksource::Incapable(_)) {
        return Expected::Fallback;
    }
    Expected::Served
}

/// Makes every syscall a vDSO function may fall back to fail with [`FALLBACK_MARK`].
/// Only for this (child) process; seccompiler supports x86_64, aarch64 and riscv64.
pub fn install_fallback_trap() -> Result<(), String> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
    use std::collections::BTreeMap;
    let arch = if cfg!(target_arch = "x86_64") && cfg!(target_pointer_width = "64") {
        seccompiler::TargetArch::x86_64
    } else if cfg!(target_arch = "aarch64") {
        seccompiler::TargetArch::aarch64
    } else if cfg!(target_arch = "riscv64") {
        seccompiler::TargetArch::riscv64
    } else {
        return Err("seccompiler builds filters only for x86_64, aarch64 and riscv64".into());
    };
    let mut rules = BTreeMap::new();
    for nr in fallback_syscalls() {
        rules.insert(nr, vec![]);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(FALLBACK_MARK as u32),
        arch,
    )
    .map_err(|e| format!("building the seccomp filter: {e}"))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e| format!("compiling the seccomp filter: {e}"))?;
    seccompiler::apply_filter(&program).map_err(|e| format!("installing the seccomp filter: {e}"))
}

// `c_long` is i32 on 32-bit targets: the widening is not useless there.
#[allow(clippy::unnecessary_cast)]
fn fallback_syscalls() -> Vec<i64> {
    let mut v = vec![
        libc::SYS_clock_gettime as i64,
        libc::SYS_clock_getres as i64,
        libc::SYS_gettimeofday as i64,
        libc::SYS_getcpu as i64,
        libc::SYS_getrandom as i64,
    ];
    v.extend(crate::live::syscall::SYS_TIME.map(|nr| nr as i64));
    v
}
