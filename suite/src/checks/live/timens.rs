//! Time namespaces (LTP's clock_gettime03, and more): a process in a new time
//! namespace with positive MONOTONIC and BOOTTIME offsets, then one with
//! negative offsets, must get from every clock function what the syscall gives
//! there: MONOTONIC, its raw and coarse variants and BOOTTIME shifted; REALTIME,
//! its coarse variant, TAI, gettimeofday and time not; resolutions unchanged.
//! After `setns` to its parent's namespace the offsets are gone, from the vDSO
//! too. getrandom must still be served inside.

use super::clocks::{errno_name, is_coarse, ns, Reading};
use super::live_kind;
use super::served::Service;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::{kind_info, ClockSource, ReadsClock, TimeNamespace};
use crate::spec::{ArchSpec, ClockId};
use crate::vdso::syscall::{self, Errno};
use serde::{Deserialize, Serialize};

/// The `timens` group: the kinds a time namespace changes, read from processes
/// inside new ones.
pub struct TimensGroup;
pub static GROUP: TimensGroup = TimensGroup;

impl CheckGroup for TimensGroup {
    fn about(&self) -> About {
        About {
            group: Group::TimeNamespace,
            name: "timens",
            what: "in new time namespaces with positive and negative offsets, and after setns back: the clocks carry the offsets exactly as the syscall's do, resolutions unchanged",
            column: None,
            runs: Runs::InChild {
                soaks: false,
                new_time_namespace: true,
            },
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            match kind_info(sym.kind).time_namespace {
                TimeNamespace::No => {}
                TimeNamespace::AsSyscall => {
                    add(
                        subject(sym),
                        Case::symbol(i),
                        "in time namespaces with positive and negative offsets it answers as the syscall does there".into(),
                    );
                    add(
                        format!("{}::{SETNS}", subject(sym)),
                        Case {
                            name: Some(SETNS.into()),
                            ..Case::symbol(i)
                        },
                        "after setns from a namespace with offsets to its parent's, it answers unshifted, as the syscall does".into(),
                    );
                }
                TimeNamespace::StillServed => add(
                    subject(sym),
                    Case::symbol(i),
                    "still served in user space inside a time namespace".into(),
                ),
            }
        }
    }

    /// What the inner process reads, through the kind's description: inside
    /// the namespace, then again after joining its parent's namespace.
    fn inside(&self, check: &PlannedCheck, target: &Target) -> InnerReport {
        let found = check
            .case
            .spec_symbol(&target.spec)
            .and_then(|sym| live_kind(sym, target.spec.error_convention));
        let (kind, f) = match found {
            Ok(found) => found,
            Err(r) => {
                return InnerReport {
                    error: Some(format!("{:?}", r.verdict)),
                    ..Default::default()
                }
            }
        };
        let info = kind_info(f.kind());
        let readers = |c: ClockId| kind.readers(f, Some(c));
        let read = || match info.reads_clock {
            ReadsClock::Given => {
                read_inside(&NAMESPACE_CLOCKS, None, info.reading_unit_ns, &readers)
            }
            ReadsClock::Own => read_inside(
                &[ClockId::REALTIME],
                Some(info.name),
                info.reading_unit_ns,
                &readers,
            ),
            ReadsClock::No => kind.timens_inside(f),
        };
        let mut report = read();
        if judged(check, &target.spec) == Judged::AfterLeaving {
            let left = match crate::vdso::process::join_parent_time_namespace() {
                Ok(()) => read(),
                // qemu-user runs its guest with threads of its own.
                Err(e) if e.raw_os_error() == Some(libc::EUSERS) => InnerReport {
                    not_applicable: Some(format!(
                        "setns(CLONE_NEWTIME) needs a single-threaded process, and this one has other threads (qemu-user runs its guest so): {e}"
                    )),
                    ..Default::default()
                },
                Err(e) => InnerReport {
                    unrunnable: Some(format!("setns to the parent's time namespace: {e}")),
                    ..Default::default()
                },
            };
            report.left = Some(Box::new(left));
        }
        report
    }

    /// Enters a new time namespace for its children with positive offsets,
    /// runs [`Self::inside`] there (`ctx.inside`), then a second one with
    /// negative offsets.
    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let target = ctx.target;
        let sym = match check.case.spec_symbol(&target.spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
        if let Err(r) = live_kind(sym, target.spec.error_convention) {
            return r;
        }
        let judged = judged(check, &target.spec);
        let still_served = judged == Judged::GetrandomServed;
        if still_served && !target.spec.providers.get(target.provider).seccomp {
            return CheckResult::skip("seccomp is not available, so a fallback cannot be seen");
        }
        let own = match own_offsets() {
            Ok(own) => own,
            Err(skip) => return skip,
        };
        let mut phases = Vec::new();
        let mut wanted = vec![POSITIVE];
        if judged == Judged::Offsets {
            wanted.push(negative_offsets());
        }
        for offsets in wanted {
            if let Err(skip) = enter_namespace(own, offsets) {
                return skip;
            }
            let (outside, inner) = around(ctx.inside);
            phases.push(Phase {
                offsets,
                outside,
                inner,
            });
        }
        judge_timens(&phases, judged)
    }
}

/// The subject suffix of the check that leaves a namespace.
const SETNS: &str = "setns";

/// What a check of the group judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// The readings inside namespaces with offsets.
    Offsets,
    /// The readings after setns back to the parent's namespace.
    AfterLeaving,
    /// getrandom still served inside.
    GetrandomServed,
}

fn judged(check: &PlannedCheck, spec: &ArchSpec) -> Judged {
    let kind = check.case.spec_symbol(spec).map(|s| kind_info(s.kind));
    if check.case.name.as_deref() == Some(SETNS) {
        Judged::AfterLeaving
    } else if kind.is_ok_and(|k| k.time_namespace == TimeNamespace::StillServed) {
        Judged::GetrandomServed
    } else {
        Judged::Offsets
    }
}

pub(crate) const NS: i128 = 1_000_000_000;

/// A namespace's offsets of MONOTONIC and BOOTTIME, in nanoseconds, relative to
/// the clocks of the process that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offsets {
    pub monotonic: i128,
    pub boottime: i128,
}

/// The first namespace's offsets: different for the two clocks, so one applied
/// to the other's clock shows.
pub const POSITIVE: Offsets = Offsets {
    monotonic: 10 * NS,
    boottime: 20 * NS,
};

impl Offsets {
    pub const ZERO: Offsets = Offsets {
        monotonic: 0,
        boottime: 0,
    };

    /// The offset `clock` carries in such a namespace (the kernel's
    /// `timens_setup_vdso_clock_data`: the MONOTONIC ones one, the BOOTTIME
    /// ones the other, the rest none).
    pub fn of(self, clock: i32) -> i128 {
        match clock {
            1 | 4 | 6 => self.monotonic,
            7 | 9 => self.boottime,
            _ => 0,
        }
    }

    fn describe(self) -> String {
        let s = |v: i128| format!("{:+} s", v / NS);
        format!(
            "MONOTONIC {}, BOOTTIME {}",
            s(self.monotonic),
            s(self.boottime)
        )
    }
}

/// The clocks read in a namespace and around it: the shifted ones and the ones
/// that must not move.
pub const NAMESPACE_CLOCKS: [ClockId; 7] = [
    ClockId(1),  // MONOTONIC
    ClockId(4),  // MONOTONIC_RAW
    ClockId(6),  // MONOTONIC_COARSE
    ClockId(7),  // BOOTTIME
    ClockId(0),  // REALTIME
    ClockId(5),  // REALTIME_COARSE
    ClockId(11), // TAI
];

/// How far a coarse reading may trail a fine one taken before it.
const COARSE_SLACK: i128 = 10_000_000;

/// One reading inside the namespace: the syscall, the vDSO, the syscall (ns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerReading {
    pub clock: i32,
    /// What was read, for messages (`MONOTONIC`, `gettimeofday`).
    #[serde(default)]
    pub label: String,
    pub before: i128,
    pub vdso: i128,
    pub after: i128,
    /// The unit of the reading: 1 ns, gettimeofday's 1 µs, time's 1 s.
    #[serde(default = "one_ns")]
    pub granularity_ns: i128,
    /// A coarse reading (the tick's time) may trail a fine one taken before it.
    #[serde(default)]
    pub coarse: bool,
}

fn one_ns() -> i128 {
    1
}

/// A resolution read inside: the vDSO's and the syscall's (ns), or their errno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionReading {
    pub clock: i32,
    pub vdso: Result<i128, Errno>,
    pub syscall: Result<i128, Errno>,
}

/// What the process inside the namespace saw.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InnerReport {
    pub readings: Vec<InnerReading>,
    #[serde(default)]
    pub resolutions: Vec<ResolutionReading>,
    /// The same readings after joining the parent's namespace again.
    #[serde(default)]
    pub left: Option<Box<InnerReport>>,
    /// getrandom under the fallback trap: `Some(true)` served, `Some(false)` fell back.
    pub getrandom_served: Option<bool>,
    pub error: Option<String>,
    /// Why the machine kept the inner process from reading (it could not be
    /// started, seccomp is missing): the check is skipped, not failed.
    #[serde(default)]
    pub unrunnable: Option<String>,
    /// Why this kind of process cannot do what the check needs (setns in a
    /// multi-threaded one): the check is skipped, and the run is not in error.
    #[serde(default)]
    pub not_applicable: Option<String>,
}

/// Outside readings (syscall, ns) of [`NAMESPACE_CLOCKS`] taken just before and
/// after the inner process ran: clock, before, after.
pub type Outside = Vec<(i32, i128, i128)>;

/// One namespace: its offsets, the readings around its inner process, and
/// what that process saw.
#[derive(Debug, Clone)]
pub struct Phase {
    pub offsets: Offsets,
    pub outside: Outside,
    pub inner: InnerReport,
}

/// Judges every namespace's inner report against the outer readings, as
/// `judged` says.
pub fn judge_timens(phases: &[Phase], judged: Judged) -> CheckResult {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for phase in phases {
        let inner = &phase.inner;
        if let Some(why) = &inner.unrunnable {
            return CheckResult::unrunnable(format!("inside the namespace: {why}"));
        }
        if let Some(e) = &inner.error {
            return CheckResult::fail(format!("inside the namespace: {e}"));
        }
        let offsets = phase.offsets.describe();
        let (report, offset, symptom, context) = match judged {
            Judged::GetrandomServed => continue,
            Judged::Offsets => (
                inner,
                phase.offsets,
                "timens-offset",
                format!("in a namespace with {offsets}"),
            ),
            Judged::AfterLeaving => {
                let Some(left) = inner.left.as_deref() else {
                    problems.push(Problem::new(
                        "timens-left",
                        "the inner process did not read again after leaving the namespace",
                    ));
                    continue;
                };
                if let Some(why) = &left.not_applicable {
                    return CheckResult::skip(why);
                }
                if let Some(why) = &left.unrunnable {
                    return CheckResult::unrunnable(format!("leaving the namespace: {why}"));
                }
                if let Some(e) = &left.error {
                    return CheckResult::fail(format!("after leaving the namespace: {e}"));
                }
                (
                    left,
                    Offsets::ZERO,
                    "timens-left",
                    format!("after setns from a namespace with {offsets}"),
                )
            }
        };
        judge_readings(
            report,
            offset,
            &phase.outside,
            symptom,
            &context,
            &mut problems,
        );
        let read = match (&report.readings[..], report.resolutions.len()) {
            ([], n) => format!("{n} resolutions"),
            ([one], _) => one.label.clone(),
            (all, _) => format!("{} clocks", all.len()),
        };
        notes.push(format!("{read} as the syscall's {context}"));
    }
    if judged == Judged::GetrandomServed {
        match phases.first().and_then(|p| p.inner.getrandom_served) {
            Some(true) => {}
            Some(false) => problems.push(Problem::new(
                "timens-getrandom",
                "getrandom fell back to the syscall inside the time namespace",
            )),
            None => problems.push(Problem::new(
                "timens-getrandom",
                "getrandom was not tried inside the namespace",
            )),
        }
    }
    CheckResult::from_symptoms(problems).with_notes(notes)
}

/// The readings of one process (inside a namespace with `offsets`, or after
/// leaving it with none): each within the syscall readings it took around it,
/// and equal to the outside clock plus the offset; each resolution the
/// syscall's.
fn judge_readings(
    report: &InnerReport,
    offsets: Offsets,
    outside: &Outside,
    offset_symptom: &str,
    context: &str,
    problems: &mut Vec<Problem>,
) {
    if report.readings.is_empty() && report.resolutions.is_empty() {
        problems.push(Problem::new(
            "vdso-failed",
            format!("no readings {context}"),
        ));
    }
    for r in &report.readings {
        let label = &r.label;
        let slack = if r.coarse { COARSE_SLACK } else { 0 };
        let floor = |v: i128| v.div_euclid(r.granularity_ns) * r.granularity_ns;
        if r.vdso < r.before - slack || r.vdso > r.after {
            problems.push(Problem::about(
                "outside-syscall-readings",
                label,
                format!(
                    "{label} {context}: vDSO {} ns outside the syscall readings around it [{}, {}]",
                    r.vdso, r.before, r.after
                ),
            ));
        }
        let Some((_, lo, hi)) = outside.iter().find(|o| o.0 == r.clock) else {
            continue;
        };
        let off = offsets.of(r.clock);
        if r.vdso < floor(lo + off - slack) || r.vdso > hi + off {
            problems.push(Problem::about(
                offset_symptom,
                label,
                format!(
                    "{label} {context}: vDSO {} ns is not the outside clock {:+} s (outside: [{lo}, {hi}])",
                    r.vdso,
                    off / NS
                ),
            ));
        }
    }
    for r in &report.resolutions {
        if r.vdso != r.syscall {
            let name = ClockId(r.clock).name().unwrap_or("clock");
            let show = |v: &Result<i128, Errno>| match v {
                Ok(ns) => format!("{ns} ns"),
                Err(e) => errno_name(*e),
            };
            problems.push(Problem::about(
                "timens-resolution",
                name,
                format!(
                    "{name}'s resolution {context}: vDSO {}, syscall {}",
                    show(&r.vdso),
                    show(&r.syscall)
                ),
            ));
        }
    }
}

/// The offsets of this process's namespace, from `/proc/self/timens_offsets`
/// (they are those of its children's until it unshares): an offset written
/// for a child is relative to them. `Err` is the skip: no time namespaces.
pub(crate) fn own_offsets() -> Result<Offsets, CheckResult> {
    let text = std::fs::read_to_string("/proc/self/timens_offsets").map_err(|e| {
        CheckResult::skip(match e.kind() {
            std::io::ErrorKind::NotFound => {
                "this kernel has no time namespaces (no /proc/self/timens_offsets)".into()
            }
            _ => format!("reading /proc/self/timens_offsets: {e}"),
        })
    })?;
    parse_offsets(&text).map_err(|e| CheckResult::fail(format!("/proc/self/timens_offsets: {e}")))
}

/// Parses `/proc/PID/timens_offsets`: `monotonic SECS NSECS` and `boottime …`
/// lines (kernels before 5.8 print the clock ids 1 and 7).
pub fn parse_offsets(text: &str) -> Result<Offsets, String> {
    let mut offsets = Offsets::ZERO;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [clock, secs, nsecs] = fields[..] else {
            return Err(format!("unexpected line {line:?}"));
        };
        let value = |f: &str| {
            f.parse::<i128>()
                .map_err(|_| format!("bad number in {line:?}"))
        };
        let total = value(secs)? * NS + value(nsecs)?;
        match clock {
            "monotonic" | "1" => offsets.monotonic = total,
            "boottime" | "7" => offsets.boottime = total,
            _ => return Err(format!("unknown clock in {line:?}")),
        }
    }
    Ok(offsets)
}

/// Negative offsets as large as the kernel allows with a second to spare (a
/// clock in a namespace may not start below zero): the clock inside starts
/// near 1 s. Waits first if this machine has been up for less than 2 s.
fn negative_offsets() -> Offsets {
    let read = |c: i32| syscall::clock_gettime(c).map(ns).unwrap_or(0);
    let up = read(1).min(read(7));
    if up < 2 * NS {
        std::thread::sleep(std::time::Duration::from_nanos((2 * NS - up) as u64));
    }
    let whole_seconds_but_one = |c: i32| -(read(c) / NS - 1) * NS;
    Offsets {
        monotonic: whole_seconds_but_one(1),
        boottime: whole_seconds_but_one(7),
    }
}

/// Enters a new time namespace for children of this process and sets its
/// offsets, relative to this process's clocks (whose own namespace has `own`).
/// `Err` is the skip: no namespaces here, or no `/proc` to set their offsets in.
pub fn enter_namespace(own: Offsets, offsets: Offsets) -> Result<(), CheckResult> {
    if let Err(e) = crate::vdso::process::unshare_time_namespace() {
        return Err(CheckResult::skip(match e.raw_os_error() {
            Some(libc::EPERM) => {
                "unshare(CLONE_NEWTIME) needs CAP_SYS_ADMIN (root or a user namespace)".into()
            }
            Some(libc::EINVAL) => "this kernel has no time namespaces (CONFIG_TIME_NS)".into(),
            _ => format!("unshare(CLONE_NEWTIME): {e}"),
        }));
    }
    let line = |name: &str, v: i128| format!("{name} {} {}\n", v.div_euclid(NS), v.rem_euclid(NS));
    let text = line("monotonic", own.monotonic + offsets.monotonic)
        + &line("boottime", own.boottime + offsets.boottime);
    std::fs::write("/proc/self/timens_offsets", text)
        .map_err(|e| CheckResult::unrunnable(format!("writing /proc/self/timens_offsets: {e}")))
}

/// Outside readings around `inner`, which runs a process in the namespace.
pub fn around(inner: impl FnOnce() -> InnerReport) -> (Outside, InnerReport) {
    let read = |c: ClockId| syscall::clock_gettime(c.0).map(ns).unwrap_or(0);
    let before: Vec<i128> = NAMESPACE_CLOCKS.iter().map(|&c| read(c)).collect();
    let report = inner();
    let outside = NAMESPACE_CLOCKS
        .iter()
        .zip(before)
        .map(|(&c, b)| (c.0, b, read(c)))
        .collect();
    (outside, report)
}

/// A clock function's vDSO and syscall readers of one clock.
pub type ClockReaders<'a> = &'a dyn Fn(ClockId) -> Result<(ClockSource, ClockSource), String>;

/// Inside: brackets the vDSO's reading of each of `clocks` between the
/// syscall's; `label` names a reading when it is not a clock's own
/// (gettimeofday), `unit_ns` is its unit.
pub fn read_inside(
    clocks: &[ClockId],
    label: Option<&str>,
    unit_ns: i64,
    readers: ClockReaders,
) -> InnerReport {
    let mut report = InnerReport::default();
    for &clock in clocks {
        let name = label.or(clock.name()).unwrap_or("clock").to_string();
        let (vdso, syscall) = match readers(clock) {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(e);
                break;
            }
        };
        let before = syscall();
        let got = vdso();
        let after = syscall();
        match (before, got, after) {
            (Ok(b), Ok(v), Ok(a)) => report.readings.push(InnerReading {
                clock: clock.0,
                label: name,
                before: ns(b),
                vdso: ns(v),
                after: ns(a),
                granularity_ns: i128::from(unit_ns),
                coarse: reads_coarse(clock, unit_ns),
            }),
            (_, Err(e), _) => {
                report.error = Some(format!("{name}: vDSO failed with {}", errno_name(e)));
                break;
            }
            _ => {
                report.error = Some(format!("{name}: the syscall failed"));
                break;
            }
        }
    }
    report
}

/// Whether a reading of `clock` in units of `unit_ns` is the tick's time
/// (a coarse clock, or time()'s whole seconds of REALTIME_COARSE).
pub fn reads_coarse(clock: ClockId, unit_ns: i64) -> bool {
    is_coarse(clock.0) || i128::from(unit_ns) >= NS
}

/// A function of a clock id through the vDSO and through the syscall.
pub struct Readers<'a> {
    pub vdso: &'a dyn Fn(i32) -> Reading,
    pub syscall: &'a dyn Fn(i32) -> Reading,
}

/// Inside: each clock's resolution from the vDSO and the syscall.
pub fn resolutions_inside(read: Readers) -> InnerReport {
    let resolutions = NAMESPACE_CLOCKS
        .iter()
        .map(|&c| ResolutionReading {
            clock: c.0,
            vdso: (read.vdso)(c.0).map(ns),
            syscall: (read.syscall)(c.0).map(ns),
        })
        .collect();
    InnerReport {
        resolutions,
        ..Default::default()
    }
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
