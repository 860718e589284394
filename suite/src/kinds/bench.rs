//! How a kind is measured for `vdsoconf bench`: one loop per figure, the call and
//! a counter, nothing else.

use crate::spec::ClockId;
use crate::vdso::{syscall, Outputs, PointerCall};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// Calls per timed batch and timed batches per figure.
pub const BATCH: u32 = 2_000;
pub const BATCHES: u32 = 31;

/// Nanoseconds per call: the median and the minimum of the batches' averages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub median_ns: f64,
    pub min_ns: f64,
}

/// Times `f`: a warm-up, then `BATCHES` batches of `BATCH` calls.
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

/// One figure: a function (with a clock, or a label saying what was asked of it)
/// through the vDSO and through its syscall.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub clock: Option<ClockId>,
    pub label: Option<&'static str>,
    pub vdso: Timing,
    pub syscall: Timing,
}

/// Measures `f` (with `clock`, for the clock functions) and its syscall, writing
/// into one set of guarded outputs, as a C caller reuses its buffers. Where the
/// architecture lacks the syscall (time), libcs use clock_gettime: so does this.
pub fn measure<F: PointerCall>(f: &F, clock: Option<ClockId>) -> Result<Measurement, String> {
    let mut outputs = Outputs::<F>::new()?;
    let id = clock.map_or(0, |c| c.0);
    let vdso = time_calls(|| {
        black_box(outputs.vdso(black_box(f), black_box(id)));
    });
    let syscall = time_calls(|| {
        let answer = outputs.syscall(black_box(f), black_box(id));
        black_box(
            answer
                .unwrap_or_else(|| syscall::clock_gettime(0).map(|_| 0))
                .ok(),
        );
    });
    outputs.inspect();
    Ok(Measurement {
        clock,
        label: None,
        vdso,
        syscall,
    })
}
