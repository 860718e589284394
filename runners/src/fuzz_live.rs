//! The calls of the `fuzz` checks and of `vdsoconf fuzz-live`: for each fuzzed
//! function, seeded calls made in children of the case server
//! (`isolate::run_fuzz_call`), judged against the syscall and the spec's
//! deviations (`vdsoconf_suite::fuzz_live`); each distinct finding shrunk to the
//! simplest call that still shows it. Calls go round the functions, so a
//! `--duration` run gives each its share.

use crate::isolate::{run_fuzz_call, FuzzReply, LiveTarget};
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
        let sym = &self.target.spec.symbols[symbol];
        let info = kind_info(sym.kind);
        let answer =
            match run_fuzz_call(&self.live, symbol, &call.show(&info), self.load.as_deref()) {
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
        Seen::of(judge(&judging, sym, call, clock, answer))
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
    let mut index = 0u64;
    while !active.is_empty() {
        match budget {
            Budget::Calls(n) if index >= n => break,
            Budget::For(d) if started.elapsed() >= d => break,
            _ => {}
        }
        active.retain(|&t| {
            let symbol = symbols[t];
            let sym = &spec.symbols[symbol];
            let info = kind_info(sym.kind);
            let Some(call) = generate(&info, &sym.name, seed, index) else {
                return false;
            };
            let seen = caller.make(symbol, &call);
            let tally = &mut run.tallies[t];
            let more = tally.count(seen, (symbol, sym.kind, index, &call), &mut run.findings);
            if !more {
                done(tally);
            }
            more
        });
        index += 1;
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

/// One call given in full (`--replay`): how the judge saw it.
pub fn replay(target: &Target, opts: &FuzzOptions, symbol: usize, call: &FuzzCall) -> Seen {
    let caller = Caller {
        live: Arc::new(LiveTarget::of(target)),
        target,
        load: opts.load.clone(),
    };
    caller.make(symbol, call)
}
