//! `vdsoconf bench`: the cost of each callable vDSO function (and each clock the spec
//! says it serves) against the raw syscall. Each function is measured in an isolated
//! child process of its own, like every live call: one that crashes or hangs is
//! reported as failed, and the others are still measured.

use std::hint::black_box;
use std::time::Instant;
use vdsoconf_reports::bench::{BenchRow, Timing};
use vdsoconf_suite::checks::live::live_fn;
use vdsoconf_suite::checks::live::served::{current_clocksource, expected_for_clock, Expected};
use vdsoconf_suite::checks::{is_callable, Target};
use vdsoconf_suite::spec::{ClockId, SymbolKind, SymbolSpec};
use vdsoconf_suite::vdso::guard::{self, GuardedOutput};
use vdsoconf_suite::vdso::{syscall, GetrandomState, KernelTimespec, Timeval, Timezone, VdsoFn};

/// Calls per timed batch and timed batches per figure.
pub const BATCH: u32 = 2_000;
pub const BATCHES: u32 = 31;

/// Times `f`: a warm-up, then `BATCHES` batches of `BATCH` calls; the median and the
/// minimum of the per-call averages. The loop is the call and a counter, nothing else.
pub fn time_calls(mut f: impl FnMut()) -> Timing {
    for _ in 0..BATCH * 2 {
        f();
    }
    let mut per_call: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    Timing {
        median_ns: per_call[per_call.len() / 2],
        min_ns: per_call[0],
    }
}

fn row(
    sym: &SymbolSpec,
    clock: Option<(ClockId, Expected)>,
    vdso: Timing,
    syscall: Timing,
) -> BenchRow {
    BenchRow {
        symbol: format!("{}@{}", sym.name, sym.version),
        clock: clock.as_ref().map(|(c, _)| {
            c.name()
                .map(str::to_string)
                .unwrap_or_else(|| c.0.to_string())
        }),
        expected: clock.map(|(_, e)| match e {
            Expected::Served => "served".to_string(),
            Expected::Fallback => "fallback".to_string(),
        }),
        vdso,
        syscall,
    }
}

/// Measures symbol `index` of the target's spec in the live vDSO: no rows when this
/// vDSO lacks it (or this build cannot call it).
pub fn measure(target: &Target, index: usize) -> Result<Vec<BenchRow>, String> {
    let spec = &target.spec;
    let sym = spec
        .symbols
        .get(index)
        .ok_or_else(|| format!("no symbol {index} in the {} spec", spec.arch))?;
    if !is_callable(sym.kind) {
        return Ok(Vec::new());
    }
    let Ok(f) = live_fn(sym, spec.error_convention) else {
        return Ok(Vec::new());
    };
    let rows = measure_symbol(target, sym, f, &current_clocksource(spec))?;
    let overwrites = guard::take_overwrites();
    if !overwrites.is_empty() {
        return Err(guard::describe_all(&overwrites));
    }
    Ok(rows)
}

/// The symbols of the target's spec worth a bench child (callable kinds).
pub fn candidates(target: &Target) -> Vec<usize> {
    (0..target.spec.symbols.len())
        .filter(|&i| is_callable(target.spec.symbols[i].kind))
        .collect()
}

fn measure_symbol(
    target: &Target,
    sym: &SymbolSpec,
    f: VdsoFn,
    clocksource: &vdsoconf_suite::checks::live::served::Clocksource,
) -> Result<Vec<BenchRow>, String> {
    let spec = &target.spec;
    let clocks: Vec<ClockId> = spec.clocks.served.clone();
    let mut rows = Vec::new();
    let expect = |c: ClockId, counter: bool| {
        expected_for_clock(
            spec,
            target.provider,
            target.kernel,
            c.0,
            counter,
            clocksource,
            false,
        )
    };
    match sym.kind {
        SymbolKind::ClockGettime
        | SymbolKind::ClockGettime64
        | SymbolKind::ClockGetres
        | SymbolKind::ClockGetresTime64 => {
            let gettime = matches!(
                sym.kind,
                SymbolKind::ClockGettime | SymbolKind::ClockGettime64
            );
            // One result buffer, as a C caller would reuse; large enough for either
            // timespec ABI, and guarded. Only the call is in the loop.
            let mut guarded = GuardedOutput::new("ts", &[0; size_of::<KernelTimespec>()])?;
            let out = guarded.address();
            for c in clocks {
                let vdso = time_calls(|| {
                    black_box(f.clock_call_at(black_box(c.0), black_box(out)));
                });
                let sys = time_calls(|| {
                    let _ = black_box(if gettime {
                        syscall::clock_gettime_at(black_box(c.0), black_box(out))
                    } else {
                        syscall::clock_getres_at(black_box(c.0), black_box(out))
                    });
                });
                rows.push(row(sym, Some((c, expect(c, gettime))), vdso, sys));
            }
            guarded.inspect();
        }
        SymbolKind::Gettimeofday => {
            let mut tv = GuardedOutput::new("tv", &[0; size_of::<Timeval>()])?;
            let mut tz = GuardedOutput::new("tz", &[0; size_of::<Timezone>()])?;
            let (tv_at, tz_at) = (tv.address(), tz.address());
            let vdso = time_calls(|| {
                black_box(f.gettimeofday_at(black_box(tv_at), black_box(tz_at)));
            });
            tv.inspect();
            tz.inspect();
            let sys = time_calls(|| {
                let _ = black_box(syscall::gettimeofday());
            });
            rows.push(row(sym, None, vdso, sys));
        }
        SymbolKind::Time => {
            let vdso = time_calls(|| {
                black_box(f.time_at(0));
            });
            // Where there is no time syscall, libcs fall back on clock_gettime.
            let sys = time_calls(|| {
                let _ = black_box(
                    syscall::time_at(0).unwrap_or_else(|| syscall::clock_gettime(0).map(|_| 0)),
                );
            });
            rows.push(row(sym, None, vdso, sys));
        }
        SymbolKind::Getcpu => {
            let mut cpu = GuardedOutput::new("cpu", &[0; 4])?;
            let mut node = GuardedOutput::new("node", &[0; 4])?;
            let (cpu_at, node_at) = (cpu.address(), node.address());
            let vdso = time_calls(|| {
                black_box(f.getcpu_at(black_box(cpu_at), black_box(node_at)));
            });
            cpu.inspect();
            node.inspect();
            let sys = time_calls(|| {
                let _ = black_box(syscall::getcpu());
            });
            rows.push(row(sym, None, vdso, sys));
        }
        SymbolKind::Getrandom => {
            let (r, params) = f.getrandom_params();
            if r != 0 {
                return Err(format!("{}: the parameter query returned {r}", sym.name));
            }
            let state = GetrandomState::new(&params)?;
            let mut guarded = GuardedOutput::new("buf", &[0; 16])?;
            let at = guarded.address();
            let vdso = time_calls(|| {
                black_box(f.getrandom_at(black_box(at), 16, 0, &state));
            });
            guarded.inspect();
            let mut buf = [0u8; 16];
            let sys = time_calls(|| {
                let _ = black_box(syscall::getrandom(black_box(&mut buf), 0));
            });
            let mut r = row(sym, None, vdso, sys);
            r.clock = Some("16 bytes".into());
            rows.push(r);
        }
        _ => {}
    }
    Ok(rows)
}
