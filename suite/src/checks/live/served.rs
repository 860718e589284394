//! Served in user space, or fallen back to the syscall, seen directly: every syscall
//! a vDSO function makes is counted (a seccomp listener, [`syscall_watch`]), and the
//! fallback syscalls fail with a distinctive errno. A served call enters the kernel
//! zero times; a fallback enters it and passes the refused syscall's errno on.
//!
//! [`syscall_watch`]: crate::vdso::syscall_watch

use super::clocks::{all_clock_cases, errno_name, Reading};
use super::live_kind;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, ClockId, KernelVersion, Provider, SymbolKind};
use crate::vdso::syscall;
use crate::vdso::syscall::Errno;
use crate::vdso::syscall_watch::{self, Entered};

/// The `served` group: each callable symbol, with the fallback syscalls trapped,
/// in a child process.
pub struct ServedGroup;
pub static GROUP: ServedGroup = ServedGroup;

impl CheckGroup for ServedGroup {
    fn about(&self) -> About {
        About {
            group: Group::Served,
            name: "served",
            what: "a seccomp listener sees every syscall a call makes: each (function, clock) is served in user space or falls back as `clocks.served` and the clocksource say, passing the refused fallback's errno on",
            column: Some("served/fallback"),
            runs: Runs::IN_CHILD,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).callable {
                add(
                    subject(sym),
                    Case::symbol(i),
                    "served in user space or fallen back as clocks.served says".into(),
                );
            }
        }
    }

    /// Installs a seccomp filter: in a child only.
    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let target = ctx.target;
        let sym = match check.case.spec_symbol(&target.spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
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
        let mut cases = match kind.served(f, &ServedContext { expect: &expect }) {
            Ok(cases) => cases,
            Err(r) => return r,
        };
        if sym.syscall_only {
            falls_back_always(&mut cases);
        }
        let source = match &clocksource {
            Clocksource::Capable(n) => format!("clocksource {n} (vDSO-capable)"),
            Clocksource::Incapable(n) => {
                format!("clocksource {n} (no vDSO mode: high-res clocks fall back)")
            }
            Clocksource::Unknown => "clocksource unknown (no sysfs)".into(),
        };
        judge_served(&cases, source)
    }
}

/// The errno the seccomp filter answers fallback syscalls with: no real call returns it.
pub const FALLBACK_MARK: Errno = 3999;

/// What a call did under the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Returned success without entering the kernel.
    Served,
    /// Made a fallback syscall and returned its errno.
    Fallback,
    /// Entered the kernel (`first`: the first syscall's number) but did not return
    /// the refused syscall's errno: it ignored or replaced the syscall's answer, or
    /// made a syscall no fallback makes.
    Entered {
        first: i64,
        refused: bool,
        status: Result<(), Errno>,
    },
    /// Failed with an errno without entering the kernel.
    Failed(Errno),
}

impl Service {
    /// What a call that returned `status`, having done `entered` in the kernel, did.
    pub fn from_call(status: Result<(), Errno>, entered: Entered) -> Service {
        match (entered.first, status) {
            (None, Ok(())) => Service::Served,
            (None, Err(e)) => Service::Failed(e),
            (Some(_), Err(FALLBACK_MARK)) if entered.refused => Service::Fallback,
            (Some(first), status) => Service::Entered {
                first,
                refused: entered.refused,
                status,
            },
        }
    }

    /// Runs `call` (vDSO calls, under the watch [`ServedContext::trap`] started)
    /// and says what it did.
    pub fn of(call: impl FnOnce() -> Result<(), Errno>) -> Service {
        let (status, entered) = syscall_watch::syscalls_in(call);
        Service::from_call(status, entered)
    }
}

/// What the spec says a call should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Served,
    Fallback,
}

/// What a kind's observations are judged against, and the trap it sets.
pub struct ServedContext<'a> {
    /// What the spec expects of clock `id` for a call that reads the clocksource's
    /// counter (`true`: clock_gettime, gettimeofday) or does not (clock_getres).
    pub expect: &'a dyn Fn(i32, bool) -> Expected,
}

/// A function the spec says only makes the syscall (`syscall_only`, riscv's
/// getcpu) falls back in every case, whatever its kind would expect.
pub fn falls_back_always(cases: &mut [ServiceCase]) {
    for c in cases {
        c.expected = Expected::Fallback;
    }
}

impl ServedContext<'_> {
    /// Starts the syscall watch: from here on a vDSO call's syscalls are counted and
    /// a fallback fails with [`FALLBACK_MARK`]. `Err` is the check's result: the
    /// machine refused the filter.
    pub fn trap(&self) -> Result<(), CheckResult> {
        install_fallback_trap().map_err(CheckResult::unrunnable)
    }
}

/// Each valid and invalid clock id read through `read`, with what the spec expects.
pub fn served_clock_cases(
    ctx: &ServedContext,
    needs_counter: bool,
    read: &dyn Fn(i32) -> Reading,
) -> Vec<ServiceCase> {
    all_clock_cases()
        .into_iter()
        .filter(|c| (0..=23).contains(&c.id) || c.id < -1)
        .map(|c| ServiceCase {
            what: c.describe(),
            expected: (ctx.expect)(c.id, needs_counter),
            observed: Service::of(|| read(c.id).map(|_| ())),
        })
        .collect()
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
    let mut fell_back = 0;
    for c in cases {
        match (&c.expected, c.observed) {
            (Expected::Served, Service::Served) => served.push(c.what.clone()),
            (Expected::Fallback, Service::Fallback) => fell_back += 1,
            (Expected::Served, Service::Fallback) => problems.push(Problem::about(
                "fell-back",
                &c.what,
                format!(
                    "{}: fell back to the syscall, the spec says it is served",
                    c.what
                ),
            )),
            (Expected::Fallback, Service::Served) => problems.push(Problem::about(
                "served-not-fallback",
                &c.what,
                format!(
                    "{}: served in user space, the spec says it falls back",
                    c.what
                ),
            )),
            (_, Service::Failed(e)) => problems.push(Problem::about(
                "failed-under-trap",
                &c.what,
                format!(
                    "{}: failed with {} without entering the kernel",
                    c.what,
                    errno_name(e)
                ),
            )),
            (_, Service::Entered {
                first,
                refused: true,
                status,
            }) => problems.push(Problem::about(
                "error-ignored",
                &c.what,
                format!(
                    "{}: made the {} syscall, which was refused with {}, and returned {} instead: a fallback must pass the syscall's answer on",
                    c.what,
                    syscall_name(first),
                    errno_name(FALLBACK_MARK),
                    match status {
                        Ok(()) => "success".to_string(),
                        Err(e) => errno_name(e),
                    }
                ),
            )),
            (_, Service::Entered { first, .. }) => problems.push(Problem::about(
                "kernel-entered",
                &c.what,
                format!(
                    "{}: entered the kernel with the {} syscall, which no fallback of a vDSO function makes",
                    c.what,
                    syscall_name(first)
                ),
            )),
        }
    }
    let served = if served.is_empty() {
        "none".to_string()
    } else {
        served.join(", ")
    };
    // A function with no case that falls back (time, getcpu) says nothing of it.
    let fallbacks = match fell_back {
        0 => String::new(),
        n => format!("; fell back, passing the refused syscall's errno on: {n} case(s)"),
    };
    CheckResult::from_symptoms(problems).with_notes(vec![format!(
        "{context}; served without entering the kernel: {served}{fallbacks}"
    )])
}

/// Whether the clocksource lets the vDSO read the counter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clocksource {
    Capable(String),
    Incapable(String),
    Unknown,
}

/// The name of the kernel's current clocksource (`tsc`, `arch_sys_counter`), if
/// sysfs says.
pub fn clocksource_name() -> Option<String> {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .ok()
        .map(|s| s.trim().to_string())
}

pub fn current_clocksource(spec: &ArchSpec) -> Clocksource {
    match clocksource_name() {
        Some(name) if spec.clocks.vdso_clocksources.contains(&name) => Clocksource::Capable(name),
        Some(name) => Clocksource::Incapable(name),
        None => Clocksource::Unknown,
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

/// Starts the syscall watch: inside a vDSO call every syscall is counted, and the
/// ones a vDSO function may fall back to fail with [`FALLBACK_MARK`]. For the rest of
/// this (child) process.
pub fn install_fallback_trap() -> Result<(), String> {
    syscall_watch::start(&fallback_syscalls(), FALLBACK_MARK as u16)
}

/// A syscall's name for a message: the fallbacks' by name, any other by number.
pub fn syscall_name(nr: i64) -> String {
    fallback_names()
        .into_iter()
        .find(|&(n, _)| n == nr)
        .map_or_else(|| format!("number {nr}"), |(_, name)| name.to_string())
}

fn fallback_syscalls() -> Vec<i64> {
    let mut v: Vec<i64> = fallback_names().into_iter().map(|(nr, _)| nr).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Every syscall a vDSO function may fall back to, with its name: the twins of
/// every kind, in the order of [`SymbolKind::ALL`] (on 64-bit ABIs the native
/// and time64 clock calls share numbers, and the native names come first).
// `c_long` is i32 on 32-bit targets: the widening is not useless there.
#[allow(clippy::unnecessary_cast)]
fn fallback_names() -> Vec<(i64, &'static str)> {
    let mut v: Vec<(i64, &'static str)> = SymbolKind::ALL
        .iter()
        .filter_map(|&kind| kind_info(kind).twin)
        .filter_map(|twin| Some((twin.nr? as i64, twin.name)))
        .collect();
    // x32's vDSO is the 64-bit one's code (arch/x86/entry/vdso/Makefile makes its
    // objects with objcopy from the 64-bit ones), so it falls back to the 64-bit
    // calls, numbered without the x32 bit; they take the same structures there.
    if cfg!(all(target_arch = "x86_64", target_pointer_width = "32")) {
        const X32_SYSCALL_BIT: i64 = 0x4000_0000;
        let plain: Vec<_> = v
            .iter()
            .map(|&(nr, name)| (nr & !X32_SYSCALL_BIT, name))
            .collect();
        v.extend(plain);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trap refuses the twin of every callable kind this ABI has: a kind
    /// whose fallback went untrapped would be judged served when it is not.
    // `c_long` is i32 on 32-bit targets: the widening is not useless there.
    #[allow(clippy::unnecessary_cast)]
    #[test]
    fn the_trap_refuses_every_callable_kinds_twin() {
        let trapped = fallback_syscalls();
        let mut seen = 0;
        for kind in SymbolKind::ALL {
            let info = kind_info(kind);
            if !info.callable {
                continue;
            }
            let twin = info
                .twin
                .unwrap_or_else(|| panic!("{}: no twin", info.name));
            if let Some(nr) = twin.nr {
                assert!(trapped.contains(&(nr as i64)), "{}", twin.name);
                assert_ne!(syscall_name(nr as i64), format!("number {nr}"));
                seen += 1;
            }
        }
        assert!(seen >= 6, "only {seen} twins on this ABI");
    }

    /// A function the spec says only makes the syscall (riscv's getcpu) must fall
    /// back: falling back passes, being served fails.
    #[test]
    fn a_syscall_only_function_is_expected_to_fall_back() {
        let case = |observed| {
            let mut cases = [ServiceCase {
                what: "getcpu".into(),
                expected: Expected::Served,
                observed,
            }];
            falls_back_always(&mut cases);
            cases
        };
        assert!(judge_served(&case(Service::Fallback), String::new()).is_pass());
        let served = judge_served(&case(Service::Served), String::new());
        assert_eq!(
            served.symptoms,
            vec!["served-not-fallback:getcpu".to_string()]
        );
    }
}
