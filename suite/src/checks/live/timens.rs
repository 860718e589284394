//! Time namespaces: a process in a new time namespace with MONOTONIC and BOOTTIME
//! offsets must see them applied by the vDSO exactly as the syscall applies them,
//! and getrandom must still be served there.

use super::clocks::{errno_name, ns};
use super::live_kind;
use super::served::Service;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::{kind_info, TimeNamespace};
use crate::spec::ArchSpec;
use crate::vdso::syscall;
use serde::{Deserialize, Serialize};

/// The `timens` group: the kinds a time namespace changes, read from a process
/// inside a new one.
pub struct TimensGroup;
pub static GROUP: TimensGroup = TimensGroup;

impl CheckGroup for TimensGroup {
    fn about(&self) -> About {
        About {
            group: Group::TimeNamespace,
            name: "timens",
            column: None,
            runs: Runs::InChild {
                soaks: false,
                new_time_namespace: true,
            },
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).time_namespace != TimeNamespace::No {
                add(
                    subject(sym),
                    Case::symbol(i),
                    "time namespace offsets applied as by the syscall; getrandom still served"
                        .into(),
                );
            }
        }
    }

    /// What the inner process reads, through the kind's description.
    fn inside(&self, check: &PlannedCheck, target: &Target) -> InnerReport {
        let found = check
            .case
            .spec_symbol(&target.spec)
            .and_then(|sym| live_kind(sym, target.spec.error_convention));
        match found {
            Ok((kind, f)) => kind.timens_inside(f),
            Err(r) => InnerReport {
                error: Some(format!("{:?}", r.verdict)),
                ..Default::default()
            },
        }
    }

    /// Enters a new time namespace for its children; `ctx.inside` runs
    /// [`Self::inside`] in one.
    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let target = ctx.target;
        let sym = match check.case.spec_symbol(&target.spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
        if let Err(r) = live_kind(sym, target.spec.error_convention) {
            return r;
        }
        let still_served = kind_info(sym.kind).time_namespace == TimeNamespace::StillServed;
        if still_served && !target.spec.providers.get(target.provider).seccomp {
            return CheckResult::skip("seccomp is not available, so a fallback cannot be seen");
        }
        if let Err(skip) = enter_namespace() {
            return skip;
        }
        let (outside, inner) = around(ctx.inside);
        judge_timens(&outside, &inner, still_served)
    }
}

pub const MONOTONIC_OFFSET_S: i64 = 10;
pub const BOOTTIME_OFFSET_S: i64 = 20;
const NS: i128 = 1_000_000_000;

/// The clocks a time namespace offsets, and by which offset (seconds).
pub const OFFSET_CLOCKS: [(i32, &str, i64); 4] = [
    (1, "MONOTONIC", MONOTONIC_OFFSET_S),
    (4, "MONOTONIC_RAW", MONOTONIC_OFFSET_S),
    (6, "MONOTONIC_COARSE", MONOTONIC_OFFSET_S),
    (7, "BOOTTIME", BOOTTIME_OFFSET_S),
];

/// One clock read inside the namespace: syscall, vDSO, syscall (ns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerReading {
    pub clock: i32,
    pub before: i128,
    pub vdso: i128,
    pub after: i128,
}

/// What the process inside the namespace saw.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InnerReport {
    pub readings: Vec<InnerReading>,
    /// getrandom under the fallback trap: `Some(true)` served, `Some(false)` fell back.
    pub getrandom_served: Option<bool>,
    pub error: Option<String>,
    /// Why the machine kept the inner process from reading (it could not be
    /// started, seccomp is missing): the check is skipped, not failed.
    #[serde(default)]
    pub unrunnable: Option<String>,
}

/// Outside readings (syscall, ns) taken just before and after the inner process ran.
pub type Outside = Vec<(i32, i128, i128)>;

/// Judges the inner report against the outer readings.
pub fn judge_timens(outside: &Outside, inner: &InnerReport, want_getrandom: bool) -> CheckResult {
    if let Some(why) = &inner.unrunnable {
        return CheckResult::unrunnable(format!("inside the namespace: {why}"));
    }
    if let Some(e) = &inner.error {
        return CheckResult::fail(format!("inside the namespace: {e}"));
    }
    let mut problems = Vec::new();
    for r in &inner.readings {
        let Some((_, label, offset)) = OFFSET_CLOCKS.iter().find(|c| c.0 == r.clock) else {
            continue;
        };
        let coarse_slack = if r.clock == 6 { 10_000_000 } else { 0 };
        if r.vdso < r.before - coarse_slack || r.vdso > r.after {
            problems.push(Problem::about(
                "outside-syscall-readings",
                label,
                format!(
                    "{label}: vDSO {} ns outside the namespace's syscall readings [{}, {}]",
                    r.vdso, r.before, r.after
                ),
            ));
        }
        if let Some((_, lo, hi)) = outside.iter().find(|o| o.0 == r.clock) {
            let off = i128::from(*offset) * NS;
            if r.vdso < lo + off - coarse_slack || r.vdso > hi + off {
                problems.push(Problem::about(
                    "timens-offset",
                    label,
                    format!(
                        "{label}: vDSO {} ns is not the outside clock plus {offset} s (outside: [{lo}, {hi}])",
                        r.vdso
                    ),
                ));
            }
        }
    }
    if inner.readings.is_empty() && !want_getrandom {
        problems.push(Problem::new(
            "vdso-failed",
            "no readings from inside the namespace",
        ));
    }
    match (want_getrandom, inner.getrandom_served) {
        (true, Some(false)) => problems.push(Problem::new(
            "timens-getrandom",
            "getrandom fell back to the syscall inside the time namespace",
        )),
        (true, None) => problems.push(Problem::new(
            "timens-getrandom",
            "getrandom was not tried inside the namespace",
        )),
        _ => {}
    }
    CheckResult::from_symptoms(problems)
}

/// Enters a new time namespace for children of this process and sets the offsets.
/// `Err` is the skip: no namespaces here, or no `/proc` to set their offsets in.
pub fn enter_namespace() -> Result<(), CheckResult> {
    if let Err(e) = crate::vdso::process::unshare_time_namespace() {
        return Err(CheckResult::skip(match e.raw_os_error() {
            Some(libc::EPERM) => {
                "unshare(CLONE_NEWTIME) needs CAP_SYS_ADMIN (root or a user namespace)".into()
            }
            Some(libc::EINVAL) => "this kernel has no time namespaces (CONFIG_TIME_NS)".into(),
            _ => format!("unshare(CLONE_NEWTIME): {e}"),
        }));
    }
    let offsets = format!("monotonic {MONOTONIC_OFFSET_S} 0\nboottime {BOOTTIME_OFFSET_S} 0\n");
    std::fs::write("/proc/self/timens_offsets", offsets)
        .map_err(|e| CheckResult::unrunnable(format!("writing /proc/self/timens_offsets: {e}")))
}

/// Outside readings around `inner`, which runs a process in the namespace.
pub fn around(inner: impl FnOnce() -> InnerReport) -> (Outside, InnerReport) {
    let read = |c: i32| syscall::clock_gettime(c).map(ns).unwrap_or(0);
    let before: Vec<i128> = OFFSET_CLOCKS.iter().map(|c| read(c.0)).collect();
    let report = inner();
    let outside = OFFSET_CLOCKS
        .iter()
        .zip(before)
        .map(|(c, b)| (c.0, b, read(c.0)))
        .collect();
    (outside, report)
}

/// Inside: brackets each offset clock between syscall readings.
pub fn read_inside(vdso: &dyn Fn(i32) -> Result<crate::vdso::Timespec, i32>) -> InnerReport {
    let mut report = InnerReport::default();
    for (clock, label, _) in OFFSET_CLOCKS {
        let before = syscall::clock_gettime(clock);
        let got = vdso(clock);
        let after = syscall::clock_gettime(clock);
        match (before, got, after) {
            (Ok(b), Ok(v), Ok(a)) => report.readings.push(InnerReading {
                clock,
                before: ns(b),
                vdso: ns(v),
                after: ns(a),
            }),
            (_, Err(e), _) => {
                report.error = Some(format!("{label}: vDSO failed with {}", errno_name(e)));
                break;
            }
            _ => {
                report.error = Some(format!("{label}: the syscall failed"));
                break;
            }
        }
    }
    report
}

/// Inside: getrandom with its fallback syscall trapped.
pub fn getrandom_inside(served: Result<Service, String>) -> InnerReport {
    match served {
        Ok(s) => InnerReport {
            getrandom_served: Some(s == Service::Served),
            ..Default::default()
        },
        Err(e) => InnerReport {
            error: Some(e),
            ..Default::default()
        },
    }
}
