//! How a kind is measured for `vdsoconf bench`: one loop per figure, the call and
//! a counter, nothing else.

use crate::spec::ClockId;
use crate::vdso::{syscall, Outputs, PointerCall};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// Calls per timed batch and timed batches per figure. Many short batches: a
/// burst of the machine's other work (a tick, a neighbour's job) then spoils a
/// few batches and never the median; a figure of few batches fell inside one.
pub const BATCH: u32 = 2_000;
pub const BATCHES: u32 = 301;

/// Nanoseconds per call: the median and the minimum of the batches' averages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub median_ns: f64,
    pub min_ns: f64,
}

/// Times `f`: a warm-up, then `BATCHES` batches of `BATCH` calls. What each call
/// returns is folded into one value the compiler must keep, made opaque once a
/// batch: an opaque use per call would make it reload every captured value
/// from memory around each call (a C loop keeps them in registers).
pub fn time_calls(mut f: impl FnMut() -> i64) -> Timing {
    let mut kept = 0i64;
    for _ in 0..BATCH * 2 {
        kept ^= f();
    }
    // Plain loops, no closure over `f`: its captures never escape to memory.
    let mut per_call = [0f64; BATCHES as usize];
    for slot in &mut per_call {
        let start = Instant::now();
        for _ in 0..BATCH {
            kept ^= f();
        }
        *slot = start.elapsed().as_nanos() as f64 / f64::from(BATCH);
        kept = black_box(kept);
    }
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
    // Copies made opaque once, outside the loops: the compiler may assume
    // nothing of them, and keeps them in registers across the calls, as a C
    // loop keeps its function pointer and clock id.
    let (f, id) = black_box((f.clone(), clock.map_or(0, |c| c.0)));
    let (calls, g) = (&outputs, f.clone());
    let vdso = time_calls(move || calls.vdso(&f, id));
    let syscall = time_calls(move || {
        let answer = calls.syscall(&g, id);
        let answer = answer.unwrap_or_else(|| syscall::clock_gettime(0).map(|_| 0));
        answer.map_or(-1, |r| r as i64)
    });
    outputs.inspect();
    Ok(Measurement {
        clock,
        label: None,
        vdso,
        syscall,
    })
}
