//! The calls of the `fuzz` checks and of `vdsoconf fuzz-live`: for each fuzzed
//! function, seeded calls made in children of the case server
//! (`isolate::run_fuzz_calls`: the calls with valid pointers in one child
//! in turn, one with a bad pointer in a child of its own), judged against the syscall and the spec's
//! deviations (`vdsoconf_suite::fuzz_live`); each distinct finding shrunk to the
//! simplest call that still shows it. Calls go round the functions, so a
//! `--duration` run gives each its share.

use crate::isolate::{run_fuzz_calls, run_fuzz_path, FuzzReply, LiveTarget};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdsoconf_suite::checks::{CheckResult, Target, Verdict};
use vdsoconf_suite::fuzz_live::{
    generate, judge, simpler, Finding, FuzzCall, FuzzShape, Judging, Seen, Tally,
};
use vdsoconf_suite::kinds::kind_info;

/// How many calls of each function.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// This many calls of each.
    Calls(u64),
    /// As many as fit in this time (not reproducible call for call).
    For(Duration),
}

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub seed: u64,
    pub budget: Budget,
    /// Only functions whose name contains this text.
    pub filter: Option<String>,
    /// A vDSO-shaped file to call instead of this process's vDSO.
    pub load: Option<PathBuf>,
}

/// Calls of each function per round (a `--duration` run looks at the clock
/// between rounds).
const ROUND: u64 = 100;

/// The most calls shrinking one finding may make.
const SHRINK_CALLS: usize = 96;

/// A whole run.
#[derive(Debug, Default)]
pub struct FuzzRun {
    pub tallies: Vec<Tally>,
    pub findings: Vec<Finding>,
}

/// Makes and judges calls for one target.
struct Caller<'t> {
    live: Arc<LiveTarget>,
    target: &'t Target,
    load: Option<PathBuf>,
}

impl Caller<'_> {
    /// One call, made and judged.
    fn make(&self, symbol: usize, call: &FuzzCall) -> Seen {
        self.make_all(symbol, std::slice::from_ref(call))
            .pop()
            .unwrap_or_else(|| Seen::NotMade("no answer".into()))
    }

    /// `calls` of one function, made and judged, in order: each run of calls
    /// with valid pointers in one child, each call with a bad pointer alone.
    fn make_all(&self, symbol: usize, calls: &[FuzzCall]) -> Vec<Seen> {
        let sym = &self.target.spec.symbols[symbol];
        let info = kind_info(sym.kind);
        let mut seen = Vec::with_capacity(calls.len());
        for run in calls.chunk_by(|a, b| a.pointers_valid() && b.pointers_valid()) {
            let shown: Vec<String> = run.iter().map(|c| c.show(&info)).collect();
            let replies = run_fuzz_calls(&self.live, symbol, &shown, self.load.as_deref());
            seen.extend(
                run.iter()
                    .zip(replies)
                    .map(|(call, reply)| self.judged(symbol, call, reply)),
            );
        }
        seen
    }

    fn judged(&self, symbol: usize, call: &FuzzCall, reply: FuzzReply) -> Seen {
        let answer = match reply {
            FuzzReply::Made(answer) => answer,
            FuzzReply::NotMade(why) => return Seen::of(not_a_failure(why)),
        };
        let judging = Judging {
            spec: &self.target.spec,
            provider: self.target.provider,
            kernel: self.target.kernel,
        };
        // The bad-pointer judge names a clock by its number: ids made of pids
        // and fds (which differ run to run) are named as the caller's own.
        let clock = call.clock.map_or(0, |c| c.id(0, 0));
        Seen::of(judge(
            &judging,
            &self.target.spec.symbols[symbol],
            call,
            clock,
            answer,
        ))
    }

    /// The finding with its call made as simple as it can be while it still
    /// shows the same symptoms (and still no deviation explains them).
    fn shrink(&self, mut f: Finding) -> Finding {
        let mut made = 0;
        'simpler: while made < SHRINK_CALLS {
            for candidate in simpler(&f.shrunk) {
                made += 1;
                if let Seen::Finding(symptoms, result) = self.make(f.symbol, &candidate) {
                    if symptoms == f.symptoms {
                        f.shrunk = candidate;
                        f.result = result;
                        continue 'simpler;
                    }
                }
                if made >= SHRINK_CALLS {
                    break;
                }
            }
            break;
        }
        let info = kind_info(f.kind);
        f.path = Some(run_fuzz_path(
            &self.live,
            f.symbol,
            &f.shrunk.show(&info),
            self.load.as_deref(),
        ));
        f
    }
}

/// A call that could not be made is never a failure of the vDSO: why, as a skip.
fn not_a_failure(why: CheckResult) -> CheckResult {
    match &why.verdict {
        Verdict::Skip { .. } => why,
        Verdict::Fail { message } => CheckResult::unrunnable(message),
        other => CheckResult::unrunnable(format!("{other:?}")),
    }
}

/// Calls the functions `symbols` of `target` (spec indices) round by round
/// until the budget is spent; `done` hears of each function's tally once it
/// is final. Each finding is shrunk.
fn fuzz_symbols(
    caller: &Caller,
    symbols: &[usize],
    seed: u64,
    budget: Budget,
    done: &mut dyn FnMut(&Tally),
) -> FuzzRun {
    let spec = &caller.target.spec;
    let mut run = FuzzRun {
        tallies: symbols
            .iter()
            .map(|&i| Tally {
                subject: format!("{}@{}", spec.symbols[i].name, spec.symbols[i].version),
                ..Tally::default()
            })
            .collect(),
        findings: Vec::new(),
    };
    let mut active: Vec<usize> = (0..symbols.len()).collect();
    let started = Instant::now();
    let mut next = 0u64;
    while !active.is_empty() {
        let round = match budget {
            Budget::Calls(n) => n.saturating_sub(next).min(ROUND),
            Budget::For(d) if started.elapsed() < d => ROUND,
            Budget::For(_) => 0,
        };
        if round == 0 {
            break;
        }
        active.retain(|&t| {
            let symbol = symbols[t];
            let sym = &spec.symbols[symbol];
            let info = kind_info(sym.kind);
            let calls: Vec<FuzzCall> = (next..next + round)
                .filter_map(|i| generate(&info, &sym.name, seed, i))
                .collect();
            let seen = caller.make_all(symbol, &calls);
            let tally = &mut run.tallies[t];
            for ((call, seen), index) in calls.iter().zip(seen).zip(next..) {
                if !tally.count(seen, (symbol, sym.kind, index, call), &mut run.findings) {
                    done(tally);
                    return false;
                }
            }
            !calls.is_empty()
        });
        next += round;
    }
    for &t in &active {
        done(&run.tallies[t]);
    }
    run.findings = std::mem::take(&mut run.findings)
        .into_iter()
        .map(|f| caller.shrink(f))
        .collect();
    run
}

/// `vdsoconf fuzz-live`: every callable function `opts` selects; those with
/// no generator get a tally saying so.
pub fn fuzz(target: &Target, opts: &FuzzOptions, done: &mut dyn FnMut(&Tally)) -> FuzzRun {
    let caller = Caller {
        live: Arc::new(LiveTarget::of(target)),
        target,
        load: opts.load.clone(),
    };
    let mut unfuzzed = Vec::new();
    let mut symbols = Vec::new();
    for (i, sym) in target.spec.symbols.iter().enumerate() {
        let info = kind_info(sym.kind);
        if !info.callable
            || opts
                .filter
                .as_ref()
                .is_some_and(|f| !sym.name.contains(f.as_str()))
        {
            continue;
        }
        if info.fuzz == FuzzShape::No {
            let tally = Tally {
                subject: format!("{}@{}", sym.name, sym.version),
                skipped: Some(format!("no generator for a {}'s arguments", info.name)),
                ..Tally::default()
            };
            done(&tally);
            unfuzzed.push(tally);
        } else {
            symbols.push(i);
        }
    }
    let mut run = fuzz_symbols(&caller, &symbols, opts.seed, opts.budget, done);
    run.tallies.extend(unfuzzed);
    run
}

/// The `fuzz` check of spec symbol `symbol`: `calls` seeded calls, judged.
pub fn fuzz_check(
    live: &Arc<LiveTarget>,
    target: &Target,
    symbol: usize,
    seed: u64,
    calls: u64,
) -> CheckResult {
    if calls == 0 {
        return CheckResult::skip("no fuzzed calls were asked for (--fuzz-calls 0)");
    }
    let caller = Caller {
        live: Arc::clone(live),
        target,
        load: None,
    };
    let run = fuzz_symbols(&caller, &[symbol], seed, Budget::Calls(calls), &mut |_| {});
    run.tallies[0].verdict(seed, &run.findings)
}

/// Which path `call` takes through the vDSO, in words (see `run_fuzz_path`).
pub fn path(target: &Target, opts: &FuzzOptions, symbol: usize, call: &FuzzCall) -> String {
    let info = kind_info(target.spec.symbols[symbol].kind);
    let live = Arc::new(LiveTarget::of(target));
    run_fuzz_path(&live, symbol, &call.show(&info), opts.load.as_deref())
}

/// One call given in full (`--replay`): how the judge saw it.
pub fn replay(target: &Target, opts: &FuzzOptions, symbol: usize, call: &FuzzCall) -> Seen {
    let caller = Caller {
        live: Arc::new(LiveTarget::of(target)),
        target,
        load: opts.load.clone(),
    };
    caller.make(symbol, call)
}
