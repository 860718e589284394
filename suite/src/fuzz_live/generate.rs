//! The seeded generator: call `index` of a function is made from a stream of
//! its own (the seed, the function's name and the index), so a call is the same
//! whatever else runs, and `--filter` or a crash changes no other call.
//!
//! The first [`STRATIFIED`] calls of a function are laid out rather than drawn
//! in their structured parts: valid pointers, each class of clock id in turn,
//! each getrandom flag combination and state in turn (their values still
//! drawn). So a short run (the matrix's rows under emulation make 16 calls)
//! covers every class, and a kernel bug in one of them shows in every row
//! that has it; the calls after those are drawn by weight.

use super::call::{
    ClockArg, CpuWhich, FdKind, FuzzCall, FuzzShape, RandomArgs, StateCase, TimeOffsets, Whose,
};
use crate::kinds::{KindInfo, TimeNamespace};
use crate::vdso::arena::PtrArg;

/// splitmix64: small, fast, and the same on every build and architecture.
#[derive(Debug, Clone)]
pub struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream of call `index` of the function named `symbol`.
    pub fn for_call(seed: u64, symbol: &str, index: u64) -> Rng {
        // FNV-1a of the name: stable, unlike std's hasher.
        let name = symbol.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Rng(mix(seed ^ mix(name ^ mix(index))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A number in `lo..=hi`.
    pub fn within(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// Call `index` of a function of kind `info` named `symbol`; `None` for a kind
/// that is not fuzzed.
pub fn generate(info: &KindInfo, symbol: &str, seed: u64, index: u64) -> Option<FuzzCall> {
    if info.fuzz == FuzzShape::No {
        return None;
    }
    let mut rng = Rng::for_call(seed, symbol, index);
    let laid_out = (index < STRATIFIED).then_some(index);
    let bad_pointers: Vec<PtrArg> = PtrArg::ALL
        .into_iter()
        .filter(|&p| p != PtrArg::Valid && !(info.scalar_outputs && p == PtrArg::Straddle))
        .collect();
    // Most calls have valid pointers (their values are compared); the rest try
    // every class in every position.
    let all_valid = rng.percent(70) || laid_out.is_some();
    let pointers = info
        .outputs
        .iter()
        .map(|_| {
            if all_valid || rng.percent(40) {
                PtrArg::Valid
            } else {
                rng.pick(&bad_pointers)
            }
        })
        .collect::<Vec<_>>();
    let pointers_valid = pointers.iter().all(|&p| p == PtrArg::Valid);
    let clock = info.takes_clock.then(|| clock(&mut rng, laid_out));
    let mut call = FuzzCall {
        clock,
        random: (info.fuzz == FuzzShape::Getrandom).then(|| {
            if pointers_valid {
                random_args(&mut rng, laid_out)
            } else {
                // A bad buffer is tried as the bad-pointer cases try it: the
                // size of the guarded output, no flags, a fresh state.
                RandomArgs {
                    len: info.outputs.first().map_or(0, |&(_, n)| n),
                    flags: 0,
                    state: StateCase::Fresh,
                }
            }
        }),
        pin: (info.fuzz == FuzzShape::Getcpu && pointers_valid).then(|| rng.below(64) as u32),
        pointers,
        timens: None,
    };
    // Drawn last, so the other arguments' draws are those of a call without.
    let plain_clock = clock.is_none_or(|c| matches!(c, ClockArg::Id(_)));
    if info.time_namespace == TimeNamespace::AsSyscall
        && pointers_valid
        && plain_clock
        && rng.percent(25)
    {
        call.timens = Some(TimeOffsets {
            monotonic: offset(&mut rng),
            boottime: offset(&mut rng),
        });
        // Half of them read a clock the namespace shifts.
        if call.clock.is_some() && rng.percent(50) {
            call.clock = Some(ClockArg::Id(rng.pick(&SHIFTED)));
        }
    }
    Some(call)
}

/// The clocks a time namespace shifts: MONOTONIC, its raw and coarse
/// variants, BOOTTIME and BOOTTIME_ALARM.
const SHIFTED: [i32; 5] = [1, 4, 6, 7, 9];

/// A time namespace offset in seconds: none, a second back (a clock is never
/// set before its start: the kernel refuses offsets that would), or up to
/// about four months ahead.
fn offset(rng: &mut Rng) -> i64 {
    match rng.below(4) {
        0 => 0,
        1 => -1,
        _ => rng.within(1, 10_000_000),
    }
}

/// How many calls of a function are laid out (see the module's comment).
pub const STRATIFIED: u64 = 12;

/// The clock id classes, as [`clock`] draws them by weight: the static ids,
/// the aux ids, CPU-time clocks, fd clocks, small ids, any 32-bit value, the
/// extremes (a value of each class's share of 100).
const CLOCK_CLASSES: [u64; 7] = [0, 30, 45, 70, 75, 85, 95];

/// A clock id, weighted towards the structured parts of `clockid_t`; a laid
/// out call takes the classes in turn.
fn clock(rng: &mut Rng, laid_out: Option<u64>) -> ClockArg {
    let class = match laid_out {
        Some(i) => CLOCK_CLASSES[(i % CLOCK_CLASSES.len() as u64) as usize],
        None => rng.below(100),
    };
    match class {
        0..=29 => ClockArg::Id(rng.within(0, 11) as i32),
        30..=44 => ClockArg::Id(rng.within(16, 23) as i32),
        45..=69 => ClockArg::Cpu {
            of: rng.pick(&Whose::ALL),
            which: rng.pick(&CpuWhich::ALL),
            thread: rng.percent(50),
        },
        70..=74 => ClockArg::Fd(rng.pick(&FdKind::ALL)),
        75..=84 => ClockArg::Id(rng.within(-8, 64) as i32),
        85..=94 => ClockArg::Id(rng.next_u64() as i32),
        _ => ClockArg::Id(rng.pick(&[
            i32::MIN,
            i32::MIN + 1,
            i32::MAX,
            i32::MAX - 1,
            -1 << 3,
            (-1 << 3) | 2,
            1 << 30,
        ])),
    }
}

/// getrandom's length, flags and state: lengths around the buffer sizes that
/// matter (a ChaCha block, a page, the state's batch), every combination of the
/// three flags, and now and then an unknown bit.
fn random_args(rng: &mut Rng, laid_out: Option<u64>) -> RandomArgs {
    let page: i64 = 4096;
    let len = match rng.below(10) {
        0 => 0,
        1..=3 => rng.within(1, 64) as usize,
        4..=5 => rng.within(65, 512) as usize,
        6..=7 => rng.within(513, page) as usize,
        8 => rng.pick(&[page - 1, page, page + 1, 2 * page]) as usize,
        _ => rng.within(page + 2, 3 * page + 7) as usize,
    };
    let flags = match rng.below(10) {
        0..=7 => rng.below(8) as u32,
        8 => rng.below(8) as u32 | 1 << rng.within(3, 31),
        _ => rng.next_u64() as u32,
    };
    match laid_out {
        // Each combination of the three flags, each state (in another order).
        Some(i) => RandomArgs {
            len,
            flags: (i % 8) as u32,
            state: StateCase::ALL[(i * 3 % StateCase::ALL.len() as u64) as usize],
        },
        None => RandomArgs {
            len,
            flags,
            state: rng.pick(&StateCase::ALL),
        },
    }
}
