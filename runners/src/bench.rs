//! `vdsoconf bench`: the cost of each callable vDSO function (and each clock the spec
//! says it serves) against the raw syscall. Each function is measured in an isolated
//! child process of its own, like every live call: one that crashes or hangs is
//! reported as failed, and the others are still measured.

use vdsoconf_reports::bench::BenchRow;
use vdsoconf_suite::checks::live::live_fn;
use vdsoconf_suite::checks::live::served::{current_clocksource, expected_for_clock, Expected};
use vdsoconf_suite::checks::Target;
use vdsoconf_suite::kinds::{kind_info, Measurement};
use vdsoconf_suite::spec::{ClockId, SymbolSpec};
use vdsoconf_suite::vdso::guard;

pub use vdsoconf_suite::kinds::{BATCH, BATCHES};

/// Measures symbol `index` of the target's spec in the live vDSO: no rows when this
/// vDSO lacks it (or this build cannot call it).
pub fn measure(target: &Target, index: usize) -> Result<Vec<BenchRow>, String> {
    let spec = &target.spec;
    let sym = spec
        .symbols
        .get(index)
        .ok_or_else(|| format!("no symbol {index} in the {} spec", spec.arch))?;
    let info = kind_info(sym.kind);
    let Some(kind) = info.live.filter(|_| info.callable) else {
        return Ok(Vec::new());
    };
    let Ok(f) = live_fn(sym, spec.error_convention) else {
        return Ok(Vec::new());
    };
    let mut measured = Vec::new();
    let mut failed = None;
    let clocks: Vec<Option<ClockId>> = if info.takes_clock {
        spec.clocks.served.iter().copied().map(Some).collect()
    } else {
        vec![None]
    };
    kind.pointers(f, &mut |call| {
        for &clock in &clocks {
            match call.measure(clock) {
                Ok(mut m) => {
                    m.label = info.bench_label;
                    measured.push(m);
                }
                Err(e) => failed = Some(e),
            }
        }
    })
    .map_err(|e| format!("{}: {e}", sym.name))?;
    if let Some(e) = failed {
        return Err(format!("{}: {e}", sym.name));
    }
    let overwrites = guard::take_overwrites();
    if !overwrites.is_empty() {
        return Err(guard::describe_all(&overwrites));
    }
    let clocksource = current_clocksource(spec);
    let expect = |m: &Measurement| {
        m.clock.map(|c| {
            let counter = info.reads_clock != vdsoconf_suite::kinds::ReadsClock::No;
            expected_for_clock(
                spec,
                target.provider,
                target.kernel,
                c.0,
                counter,
                &clocksource,
                false,
            )
        })
    };
    Ok(measured.iter().map(|m| row(sym, m, expect(m))).collect())
}

/// The symbols of the target's spec worth a bench child: callable kinds that
/// take pointers (riscv's flush_icache, which takes none, only makes its syscall).
pub fn candidates(target: &Target) -> Vec<usize> {
    (0..target.spec.symbols.len())
        .filter(|&i| {
            let info = kind_info(target.spec.symbols[i].kind);
            info.callable && !info.outputs.is_empty()
        })
        .collect()
}

fn row(sym: &SymbolSpec, m: &Measurement, expected: Option<Expected>) -> BenchRow {
    BenchRow {
        symbol: format!("{}@{}", sym.name, sym.version),
        clock: m.label.map(str::to_string).or_else(|| {
            m.clock.map(|c| {
                c.name()
                    .map(str::to_string)
                    .unwrap_or_else(|| c.0.to_string())
            })
        }),
        expected: expected.map(|e| match e {
            Expected::Served => "served".to_string(),
            Expected::Fallback => "fallback".to_string(),
        }),
        vdso: m.vdso,
        syscall: m.syscall,
    }
}
