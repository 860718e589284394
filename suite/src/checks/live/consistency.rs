//! Consistency between the time functions (LTP's clock_gettime04, made exact):
//! clock_gettime of REALTIME and REALTIME_COARSE, gettimeofday and time, through
//! the vDSO and the syscall, read interleaved with a MONOTONIC syscall reading
//! after each. REALTIME − MONOTONIC is constant unless the clock is stepped
//! (measured before and after: a step makes the run a skip), so each reading
//! can be placed against the REALTIME of the moment it was taken, without a
//! tolerance that load could exceed.

use super::clocks::{errno_name, ns};
use super::live_kind;
use super::timens::reads_coarse;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem, Verdict};
use crate::kinds::{kind_info, ClockSource, ReadsClock};
use crate::spec::{ArchSpec, ClockId};
use crate::vdso::syscall;

/// The `consistency` group: one check of every REALTIME function together.
pub struct ConsistencyGroup;
pub static GROUP: ConsistencyGroup = ConsistencyGroup;

/// Rounds of readings: each round reads every function once.
const ROUNDS: usize = 1000;

impl CheckGroup for ConsistencyGroup {
    fn about(&self) -> About {
        About {
            group: Group::Consistency,
            name: "consistency",
            what: "every REALTIME reader (clock_gettime fine and coarse, gettimeofday, time; vDSO and syscall) interleaved with MONOTONIC: none reads ahead of REALTIME at its moment, or behind it beyond its unit",
            column: None,
            runs: Runs::IN_CHILD,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        let reads = |k| kind_info(k).reads_clock != ReadsClock::No;
        if spec.symbols.iter().any(|s| reads(s.kind)) {
            add(
                "REALTIME".into(),
                Case::default(),
                "clock_gettime (REALTIME, REALTIME_COARSE), gettimeofday and time, vDSO and syscall, read interleaved: each within its unit of the REALTIME of its moment and not behind an earlier reading".into(),
            );
        }
    }

    fn in_child(&self, _check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let spec = &ctx.target.spec;
        let mut sources: Vec<(Source, ClockSource)> = Vec::new();
        let mut notes = Vec::new();
        let mut add = |source: Source, read: ClockSource| {
            if !sources.iter().any(|(s, _)| s.label == source.label) {
                sources.push((source, read));
            }
        };
        for sym in &spec.symbols {
            let info = kind_info(sym.kind);
            let clocks: &[ClockId] = match info.reads_clock {
                ReadsClock::No => continue,
                ReadsClock::Given => &[ClockId::REALTIME, ClockId(5)],
                ReadsClock::Own => &[ClockId::REALTIME],
            };
            let (kind, f) = match live_kind(sym, spec.error_convention) {
                Ok(found) => found,
                Err(r) => match &r.verdict {
                    Verdict::Skip { reason } => {
                        notes.push(format!("not read: {reason}"));
                        continue;
                    }
                    _ => return r,
                },
            };
            for &clock in clocks {
                let (vdso, sys) = match kind.readers(f, Some(clock)) {
                    Ok(readers) => readers,
                    Err(e) => return CheckResult::fail(e),
                };
                let of = |function: &str| match info.reads_clock {
                    ReadsClock::Given => {
                        format!("{function}({})", clock.name().unwrap_or("clock"))
                    }
                    _ => function.to_string(),
                };
                let source = |label| Source {
                    label,
                    unit_ns: info.reading_unit_ns,
                    coarse: reads_coarse(clock, info.reading_unit_ns),
                };
                add(source(of(&sym.name)), vdso);
                add(source(format!("syscall {}", of(info.name))), sys);
            }
        }
        if !sources.iter().any(|(s, _)| !s.label.starts_with("syscall")) {
            return CheckResult::skip(format!(
                "none of the REALTIME functions is in this vDSO ({})",
                notes.join("; ")
            ));
        }
        let (sources, readers): (Vec<Source>, Vec<ClockSource>) = sources.into_iter().unzip();
        let run = interleave(&readers, ROUNDS);
        judge_consistency(&sources, &run).with_notes(notes)
    }
}

/// One function read: its label, the unit of its readings, whether it reads
/// the tick's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub label: String,
    pub unit_ns: i64,
    pub coarse: bool,
}

/// What one interleaved run read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interleaved {
    /// (source, reading in ns), in the order taken.
    pub readings: Vec<(usize, i128)>,
    /// MONOTONIC by syscall before the first reading and after each one.
    pub monotonic: Vec<i128>,
    /// Bounds of REALTIME − MONOTONIC measured before and after the readings.
    pub offset_before: (i128, i128),
    pub offset_after: (i128, i128),
    /// Calls that failed: source and errno.
    pub errors: Vec<(usize, i32)>,
}

/// Reads REALTIME − MONOTONIC: lower and upper bound (MONOTONIC read around
/// REALTIME).
fn realtime_offset() -> (i128, i128) {
    let read = |c: i32| syscall::clock_gettime(c).map(ns).unwrap_or(0);
    let before = read(1);
    let realtime = read(0);
    let after = read(1);
    (realtime - after, realtime - before)
}

/// Reads each of `readers` in turn, `rounds` times, with a MONOTONIC reading
/// after each; each round starts one reader further on, so every function
/// follows every other.
pub fn interleave(readers: &[ClockSource], rounds: usize) -> Interleaved {
    let monotonic = || syscall::clock_gettime(1).map(ns).unwrap_or(0);
    let mut run = Interleaved {
        offset_before: realtime_offset(),
        ..Default::default()
    };
    run.monotonic.push(monotonic());
    let n = readers.len();
    for round in 0..rounds {
        for i in 0..n {
            let source = (round + i) % n;
            match readers[source]() {
                Ok(t) => {
                    run.readings.push((source, ns(t)));
                    run.monotonic.push(monotonic());
                }
                Err(e) => run.errors.push((source, e)),
            }
        }
        if run.errors.len() > n {
            break;
        }
    }
    run.offset_after = realtime_offset();
    run
}

/// Judges a run: each reading of a fine source lies within its unit of the
/// REALTIME of its moment (MONOTONIC around it plus the constant offset); a
/// coarse one (the tick's time) is not ahead of it; none is behind an earlier
/// reading it must follow (a fine one follows every earlier reading, a coarse
/// one every earlier coarse one).
pub fn judge_consistency(sources: &[Source], run: &Interleaved) -> CheckResult {
    let mut problems: Vec<Problem> = Vec::new();
    let mut add = |p: Problem| {
        if !problems.iter().any(|q| q.symptom == p.symptom) {
            problems.push(p);
        }
    };
    for &(source, errno) in &run.errors {
        let label = &sources[source].label;
        add(Problem::about(
            "vdso-failed",
            label,
            format!("{label} failed with {}", errno_name(errno)),
        ));
    }
    let (before, after) = (run.offset_before, run.offset_after);
    let (d_lo, d_hi) = (before.0.max(after.0), before.1.min(after.1));
    if d_lo > d_hi {
        return CheckResult::skip(format!(
            "REALTIME was stepped during the run (REALTIME − MONOTONIC was in [{}, {}] ns before, [{}, {}] after): readings cannot be placed",
            before.0, before.1, after.0, after.1
        ));
    }
    if run.readings.is_empty() || run.monotonic.len() != run.readings.len() + 1 {
        add(Problem::new("vdso-failed", "no readings were taken"));
        return CheckResult::from_symptoms(problems);
    }
    // The latest reading so far, and the latest coarse one: (value, source).
    let mut latest: Option<(i128, usize)> = None;
    let mut latest_coarse: Option<(i128, usize)> = None;
    for (k, &(source, v)) in run.readings.iter().enumerate() {
        let s = &sources[source];
        let unit = i128::from(s.unit_ns);
        let floor = |x: i128| x.div_euclid(unit) * unit;
        let (lo, hi) = (run.monotonic[k] + d_lo, run.monotonic[k + 1] + d_hi);
        let label = &s.label;
        if v > hi {
            add(Problem::about(
                "reading-ahead",
                label,
                format!(
                    "{label} read {v} ns, {} ns ahead of REALTIME when it was taken (reading {k})",
                    v - hi
                ),
            ));
        }
        if !s.coarse && v < floor(lo) {
            add(Problem::about(
                "reading-behind",
                label,
                format!(
                    "{label} read {v} ns, {} ns behind REALTIME when it was taken (reading {k})",
                    floor(lo) - v
                ),
            ));
        }
        let follows = if s.coarse { latest_coarse } else { latest };
        if let Some((prev, prev_source)) = follows {
            if v < floor(prev) {
                add(Problem::about(
                    "reading-out-of-order",
                    label,
                    format!(
                        "{label} read {v} ns after {} had read {prev} ns (reading {k})",
                        sources[prev_source].label
                    ),
                ));
            }
        }
        if latest.is_none_or(|(l, _)| v > l) {
            latest = Some((v, source));
        }
        if s.coarse && latest_coarse.is_none_or(|(l, _)| v > l) {
            latest_coarse = Some((v, source));
        }
    }
    let span = run.monotonic[run.monotonic.len() - 1] - run.monotonic[0];
    let labels: Vec<&str> = sources.iter().map(|s| s.label.as_str()).collect();
    CheckResult::from_symptoms(problems).with_notes(vec![format!(
        "{} readings of {} functions over {} ms: {}",
        run.readings.len(),
        sources.len(),
        span / 1_000_000,
        labels.join(", ")
    )])
}
