//! Monotonicity: readings never go backwards, on one thread (vDSO and syscall
//! alternating, as vdsotest's verify mode), across threads (a reading taken after
//! another thread published its reading is not smaller), and across CPU migrations.

use super::clocks::{ns, show, Reading};
use super::{allowed_cpus, clocks, live_kind, pin, restore_affinity};
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::{kind_info, ReadsClock};
use crate::spec::ArchSpec;
use crate::vdso::syscall;
// portable-atomic's: 32-bit powerpc and mips have no 64-bit atomics in std.
use portable_atomic::{AtomicI64, AtomicU64};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The `monotonic` group: each clock a kind reads, read for the soak time on
/// every CPU and thread, in a child process.
pub struct MonotonicGroup;
pub static GROUP: MonotonicGroup = MonotonicGroup;

impl CheckGroup for MonotonicGroup {
    fn about(&self) -> About {
        About {
            group: Group::Monotonic,
            name: "monotonic",
            what: "per-CPU threads alternate vDSO and syscall readings of a clock, with a cross-thread ordering check and a migrating thread: no reading goes backwards",
            column: Some("monotonic"),
            runs: Runs::InChild {
                soaks: true,
                new_time_namespace: false,
            },
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            match kind_info(sym.kind).reads_clock {
                ReadsClock::Given => {
                    for &clock in spec.clocks.monotonic.iter().chain(&spec.clocks.steppable) {
                        let steppable = spec.clocks.steppable.contains(&clock);
                        add(
                            format!("{}::{}", subject(sym), clock.name().unwrap_or("clock")),
                            Case {
                                clock: Some(clock),
                                ..Case::symbol(i)
                            },
                            format!(
                                "{clock} never goes backwards{}",
                                if steppable { " unless stepped" } else { "" }
                            ),
                        );
                    }
                }
                ReadsClock::Own => add(
                    subject(sym),
                    Case::symbol(i),
                    format!("{} never goes backwards unless stepped", sym.kind.name()),
                ),
                ReadsClock::No => {}
            }
        }
    }

    /// Monotonicity of one clock (or gettimeofday's own when the case has none),
    /// read for the soak time.
    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let (target, clock, duration, progress) =
            (ctx.target, check.case.clock, ctx.soak, ctx.progress);
        let sym = match check.case.spec_symbol(&target.spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
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
        let probe = MonotonicProbe {
            vdso: &*vdso,
            sys: &*sys,
            cpus: cpus.clone(),
            pin: &pin,
            progress,
        };
        let report = run_monotonic(&probe, duration);
        restore_affinity(&cpus);
        // REALTIME was stepped if its distance from MONOTONIC changed by more than a millisecond.
        let stepped = (offset() - offset_before).abs() > 1_000_000;
        judge_monotonic(&report, steppable, stepped)
    }
}

/// The largest backward step seen and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackwardStep {
    pub ns: i128,
    pub at: String,
    /// How it was seen, as the failure's symptom detail: `syscall-after-vdso`
    /// (a syscall reading behind the vDSO reading just before it on one CPU;
    /// `…-within-1s` when by at most a second), `vdso-after-syscall`,
    /// `cross-thread`, `migration`.
    pub how: String,
}

/// What one monotonicity run saw.
#[derive(Debug, Default)]
pub struct MonotonicReport {
    pub readings: u64,
    pub worst: Option<BackwardStep>,
    pub errors: Vec<String>,
    /// What the machine refused (threads, CPU affinity): the run is not conclusive.
    pub refused: Vec<String>,
}

/// How to read the clock and how to move between CPUs.
pub struct MonotonicProbe<'a> {
    pub vdso: &'a (dyn Fn() -> Reading + Sync),
    pub sys: &'a (dyn Fn() -> Reading + Sync),
    /// CPUs to run on; `pin(cpu)` moves the calling thread there.
    pub cpus: Vec<usize>,
    pub pin: &'a (dyn Fn(usize) -> bool + Sync),
    /// Called now and then with the readings so far (progress display).
    pub progress: &'a (dyn Fn(u64) + Sync),
}

fn record(worst: &Mutex<Option<BackwardStep>>, step: i128, at: String, how: String) {
    let mut w = worst.lock().unwrap_or_else(|p| p.into_inner());
    if w.as_ref().is_none_or(|w| step > w.ns) {
        *w = Some(BackwardStep { ns: step, at, how });
    }
}

/// Runs the three sub-checks for `duration` in total.
pub fn run_monotonic(probe: &MonotonicProbe<'_>, duration: Duration) -> MonotonicReport {
    let readings = AtomicU64::new(0);
    let worst = Mutex::new(None);
    let errors = Mutex::new(Vec::new());
    let refused = Mutex::new(Vec::new());
    // Cross-thread: the latest reading any thread has published, in ns.
    let published = AtomicI64::new(i64::MIN);
    let threaded_until = Instant::now() + duration.mul_f64(0.8);
    let per_cpu = |cpu: usize| {
        if !(probe.pin)(cpu) {
            refused.lock().unwrap().push(format!(
                "cannot pin a thread to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            ));
            return;
        }
        let mut prev: Option<(i128, &str)> = None;
        let mut n = 0u64;
        while Instant::now() < threaded_until {
            for (source, read) in [("vDSO", probe.vdso), ("syscall", probe.sys)] {
                let seen_before = published.load(Ordering::SeqCst);
                let t = match read() {
                    Ok(t) => ns(t),
                    Err(e) => {
                        errors.lock().unwrap().push(format!(
                            "{source} read failed on CPU {cpu}: {}",
                            show(&Err(e))
                        ));
                        return;
                    }
                };
                if let Some((p, psource)) = prev {
                    if t < p {
                        let how = match (psource, source) {
                            ("vDSO", "syscall") if p - t <= 1_000_000_000 => {
                                "syscall-after-vdso-within-1s"
                            }
                            ("vDSO", "syscall") => "syscall-after-vdso",
                            _ => "vdso-after-syscall",
                        };
                        record(
                            &worst,
                            p - t,
                            format!("CPU {cpu}: {source} read {} ns after {psource}", t - p),
                            how.into(),
                        );
                    }
                }
                let t64 = t.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
                if t64 < seen_before {
                    record(
                        &worst,
                        i128::from(seen_before) - t,
                        format!(
                            "CPU {cpu}: {source} read behind another thread's published reading"
                        ),
                        "cross-thread".into(),
                    );
                }
                published.fetch_max(t64, Ordering::SeqCst);
                prev = Some((t, source));
                n += 1;
            }
            if n.is_multiple_of(65536) {
                (probe.progress)(readings.load(Ordering::Relaxed) + n);
            }
        }
        readings.fetch_add(n, Ordering::Relaxed);
    };
    // One thread per CPU, each reading until `threaded_until`.
    std::thread::scope(|s| {
        for &cpu in &probe.cpus {
            let per_cpu = &per_cpu;
            if let Err(e) = std::thread::Builder::new().spawn_scoped(s, move || per_cpu(cpu)) {
                refused
                    .lock()
                    .unwrap()
                    .push(format!("cannot start a thread for CPU {cpu}: {e}"));
            }
        }
    });
    // Migration: one thread hops CPU to CPU between readings.
    let migrate_until = Instant::now() + duration.mul_f64(0.2);
    let mut prev: Option<i128> = None;
    let mut hops = 0usize;
    while Instant::now() < migrate_until && !probe.cpus.is_empty() {
        let cpu = probe.cpus[hops % probe.cpus.len()];
        hops += 1;
        (probe.pin)(cpu);
        match (probe.vdso)() {
            Ok(t) => {
                let t = ns(t);
                if let Some(p) = prev {
                    if t < p {
                        record(
                            &worst,
                            p - t,
                            format!("after migrating to CPU {cpu}"),
                            "migration".into(),
                        );
                    }
                }
                prev = Some(t);
                readings.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                errors.lock().unwrap().push(format!(
                    "vDSO read failed after migrating: {}",
                    show(&Err(e))
                ));
                break;
            }
        }
    }
    MonotonicReport {
        readings: readings.into_inner(),
        worst: worst.into_inner().unwrap_or_else(|p| p.into_inner()),
        errors: errors.into_inner().unwrap_or_else(|p| p.into_inner()),
        refused: refused.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// Turns a report into a result. A steppable clock (REALTIME) that went backwards while
/// it was being stepped is a skip, not a failure.
pub fn judge_monotonic(report: &MonotonicReport, steppable: bool, stepped: bool) -> CheckResult {
    let summary = format!(
        "{} readings; largest backward step: {}",
        report.readings,
        report
            .worst
            .as_ref()
            .map_or("none".into(), |w| format!("{} ns ({})", w.ns, w.at))
    );
    if !report.errors.is_empty() {
        return CheckResult::fail(report.errors.join("; ")).with_notes(vec![summary]);
    }
    // What the machine refused makes a clean run inconclusive, never a backward
    // step that was seen anyway.
    if !report.refused.is_empty() && report.worst.is_none() {
        return CheckResult::unrunnable(report.refused.join("; ")).with_notes(vec![summary]);
    }
    if report.readings == 0 {
        return CheckResult::fail("no readings were taken");
    }
    match &report.worst {
        None => CheckResult::pass().with_notes(vec![summary]),
        Some(_) if steppable && stepped => CheckResult::skip(format!(
            "the clock was stepped during the run, so backward steps are expected: {summary}"
        )),
        Some(w) => CheckResult::from_symptoms(vec![Problem::about(
            "went-backwards",
            &w.how,
            format!("went backwards by {} ns {}; {summary}", w.ns, w.at),
        )]),
    }
}
