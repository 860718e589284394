//! getrandom: random bytes from a per-thread opaque state the caller maps.

use super::{called, observed, KindInfo, LiveKind, Pointers, TimeNamespace};
use crate::checks::live::call::describe_ret;
use crate::checks::live::clocks::{errno_name, ClockCase};
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::live::timens::{self, InnerReport};
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{flags_label, FuzzCall, FuzzShape, RandomArgs, StateCase};
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{
    raw_value, Getrandom, GetrandomState, GetrandomWith, PointerCall, Resolved, Returned,
    VgetrandomOpaqueParams,
};

/// What getrandom's judges report.
const SYMPTOMS: &[(&str, &str)] = &[(
    "outputs-identical",
    "outputs that must differ are identical (DETAIL)",
)];

pub const INFO: KindInfo = KindInfo {
    outputs: GetrandomWith::OUTPUTS,
    symptoms: SYMPTOMS,
    bench_label: Some("16 bytes"),
    null_allowed: false,
    fuzz: FuzzShape::Getrandom,
    time_namespace: TimeNamespace::StillServed,
    ..called::<Getrandom>("getrandom", &GetrandomKind)
};

pub struct GetrandomKind;

/// A flag no kernel knows: the vDSO must fall back, and the syscall say EINVAL.
const UNKNOWN_FLAG: u32 = 0x80;

fn as_length(r: Returned) -> Result<usize, Errno> {
    r.map(|n| n as usize)
}

/// The handle and a state, warmed up: a fresh state (generation 0) seeds its key
/// through the getrandom syscall on first use, which must happen before the
/// syscall is trapped, so the trap sees only real fallbacks.
fn warmed_up(f: Resolved) -> Result<(Getrandom, GetrandomState), String> {
    let f = f.handle::<Getrandom>()?;
    let state = f.state()?;
    let _ = f.fill(&mut [0u8; 1], 0, &state);
    Ok((f, state))
}

/// Threads at once, as the kernel's vdso_test_getrandom runs them.
const THREADS: usize = 256;
/// Fills of 32 bytes per thread.
const FILLS: usize = 4;

/// Up to [`THREADS`] threads at once (as many as the process's limits let
/// start, small stacks), each with a state of its own, making [`FILLS`] fills
/// of 32 bytes: what each fill returned, and its bytes; and how many threads
/// started.
fn from_threads(f: Getrandom) -> (Vec<ThreadFill>, usize) {
    let fill_all = move || {
        let state = match f.state() {
            Ok(s) => s,
            Err(e) => return vec![(Err(e), Vec::new())],
        };
        (0..FILLS)
            .map(|_| {
                let mut buf = [0u8; 32];
                let r = f.fill(&mut buf, 0, &state);
                (r.map_err(|e| format!("errno {e}")), buf.to_vec())
            })
            .collect::<Vec<_>>()
    };
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map_while(|_| {
                std::thread::Builder::new()
                    .stack_size(64 << 10)
                    .spawn_scoped(scope, fill_all)
                    .ok()
            })
            .collect();
        let started = threads.len();
        let fills = threads
            .into_iter()
            .flat_map(|t| {
                t.join()
                    .unwrap_or_else(|_| vec![(Err("the thread panicked".into()), Vec::new())])
            })
            .collect();
        (fills, started)
    })
}

impl LiveKind for GetrandomKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let f = f.handle::<Getrandom>()?;
        let (r, params) = f.params();
        if r != Ok(0) {
            return judge_getrandom(r, &params, [(Ok(0), &[]), (Ok(0), &[])]);
        }
        let state = GetrandomState::new(&params)?;
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        let ra = f.fill(&mut a, 0, &state);
        let rb = f.fill(&mut b, 0, &state);
        judge_getrandom(Ok(0), &params, [(ra, &a), (rb, &b)])
    }

    fn fuzz(&self, f: Resolved, call: &FuzzCall, _: Option<ClockCase>) -> CheckResult {
        let Some(args) = call.random else {
            return CheckResult::fail("a getrandom call without its length, flags and state");
        };
        match f.handle::<Getrandom>().and_then(|f| fuzzed(f, args)) {
            Ok(problems) => CheckResult::from_symptoms(problems),
            Err(e) => CheckResult::fail(e),
        }
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<Getrandom>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let (r, params) = f.params();
        if r != Ok(0) {
            return CheckResult::fail(format!(
                "the parameter query (NULL, 0, 0, &params, ~0UL) returned {}",
                raw_value(r)
            ));
        }
        let state = match GetrandomState::new(&params) {
            Ok(s) => s,
            Err(e) => return CheckResult::fail(e),
        };
        let mut cases = Vec::new();
        for len in [1usize, 32, 256, 4096, 1 << 20] {
            let mut a = vec![0u8; len];
            let mut b = vec![0u8; len];
            cases.push(RandomCase {
                what: format!("{len} bytes"),
                vdso: as_length(f.fill(&mut a, 0, &state)),
                sys: syscall::getrandom(&mut b, 0),
            });
        }
        for (flags, what) in [
            (0x1, "GRND_NONBLOCK"),
            (0x2, "GRND_RANDOM"),
            (0x4, "GRND_INSECURE"),
            (0x6, "GRND_INSECURE|GRND_RANDOM"),
            (UNKNOWN_FLAG, "an unknown flag"),
        ] {
            let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
            cases.push(RandomCase {
                what: what.into(),
                vdso: as_length(f.fill(&mut a, flags, &state)),
                sys: syscall::getrandom(&mut b, flags),
            });
        }
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        cases.push(RandomCase {
            what: "a wrong opaque_len (must fall back)".into(),
            vdso: as_length(f.fill_with_len(&mut a, 0, &state, state.len() + 1)),
            sys: syscall::getrandom(&mut b, 0),
        });
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        let _ = f.fill(&mut x, 0, &state);
        let _ = f.fill(&mut y, 0, &state);
        let forked = match after_fork(f, &state) {
            Ok(differs) => differs,
            Err(r) => return r,
        };
        let mut problems = problems_against_syscall(
            &cases,
            &[
                ("two successive calls", x != y),
                ("parent and child after fork", forked),
            ],
        );
        let (fills, started) = from_threads(f);
        let stress = if started < 2 {
            let why = format!(
                "the {THREADS}-thread stress could start {started} thread(s) (RLIMIT_NPROC or memory)"
            );
            if problems.is_empty() {
                return CheckResult::unrunnable(why);
            }
            why
        } else {
            if let Err(p) = judge_getrandom_threads(&fills) {
                problems.push(p);
            }
            format!(
                "{started} threads at once, each with its own state, made {} fills of 32 bytes",
                fills.len()
            )
        };
        CheckResult::from_symptoms(problems).with_notes(vec![stress])
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let (f, state) = warmed_up(f).map_err(CheckResult::fail)?;
        ctx.trap()?;
        let mut buf = [0u8; 32];
        Ok(vec![
            observed("getrandom", Expected::Served, || {
                f.fill(&mut buf, 0, &state)
            }),
            observed(
                "getrandom with a wrong opaque_len",
                Expected::Fallback,
                || f.fill_with_len(&mut buf, 0, &state, state.len() + 1),
            ),
            observed("getrandom with an unknown flag", Expected::Fallback, || {
                f.fill(&mut buf, UNKNOWN_FLAG, &state)
            }),
        ])
    }

    /// Still served inside the namespace (seen under the fallback trap).
    fn timens_inside(&self, f: Resolved) -> InnerReport {
        let (f, state) = match warmed_up(f) {
            Ok(w) => w,
            Err(e) => return timens::getrandom_inside(Err(e)),
        };
        if let Err(e) = crate::checks::live::served::install_fallback_trap() {
            return InnerReport {
                unrunnable: Some(e),
                ..Default::default()
            };
        }
        let service = Service::of(|| f.fill(&mut [0u8; 32], 0, &state).map(|_| ()));
        timens::getrandom_inside(Ok(service))
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        let f = f.handle::<Getrandom>()?;
        let state = f.state()?;
        use_it(&f.with_state(&state));
        Ok(())
    }
}

/// How many bytes of two outputs are compared, when they must differ: fewer
/// than this may repeat by chance.
const DISTINCT_FROM: usize = 16;

/// One fuzzed getrandom (`args`) through the vDSO and the syscall: the
/// problems the cross-check's judge sees, the flags naming the case.
fn fuzzed(f: Getrandom, args: RandomArgs) -> Result<Vec<Problem>, String> {
    let RandomArgs { len, flags, state } = args;
    let mut st = f.state()?;
    if matches!(
        state,
        StateCase::Reused | StateCase::Zeroed | StateCase::AfterFork
    ) {
        f.fill(&mut [0u8; 1], 0, &st)
            .map_err(|e| format!("the warm-up fill failed with {}", errno_name(e)))?;
    }
    if state == StateCase::Zeroed {
        st.zero();
    }
    let mut out = vec![0u8; len];
    let mut distinct = Vec::new();
    let vdso = match state {
        StateCase::Misaligned => f
            .fill_at(&mut out, flags, &st, 1, st.len())
            .ok_or("the state fills its page: no room to misalign it")?,
        StateCase::Short => f.fill_with_len(&mut out, flags, &st, st.len() - 1),
        StateCase::Long => f.fill_with_len(&mut out, flags, &st, st.len() + 1),
        StateCase::SharedThreads => {
            let mut other = vec![0u8; len];
            let (mine, theirs) = std::thread::scope(|scope| {
                let thread = scope.spawn(|| f.fill(&mut other, flags, &st));
                let mine = f.fill(&mut out, flags, &st);
                (mine, thread.join().unwrap_or(Err(libc::EINTR)))
            });
            if mine != theirs {
                return Ok(vec![Problem::about(
                    "result-differs",
                    flags_label(flags),
                    format!(
                        "two threads sharing one state: {} and {}",
                        describe_ret(mine),
                        describe_ret(theirs)
                    ),
                )]);
            }
            // Their outputs may be the same: lib/vdso/getrandom.c says "it is not
            // safe to call this function concurrently with the same
            // @opaque_state" (its in_use flag guards signal handlers, not other
            // CPUs), so two threads that overlap can both use one key and
            // position. What must hold is what each returns.
            mine
        }
        StateCase::AfterFork => {
            let fill = || {
                let mut buf = vec![0u8; len];
                let r = raw_value(f.fill(&mut buf, flags, &st));
                let mut report = [0u8; 8 + DISTINCT_FROM];
                report[..8].copy_from_slice(&r.to_ne_bytes());
                let n = len.min(DISTINCT_FROM);
                report[8..8 + n].copy_from_slice(&buf[..n]);
                report
            };
            let (mine, theirs) = crate::vdso::process::fork_exchange(fill, fill)
                .map_err(|e| format!("fork: {e}"))?;
            let theirs = theirs.ok_or("the forked child did not report its output")?;
            let ret = |r: &[u8; 8 + DISTINCT_FROM]| {
                let mut v = [0u8; 8];
                v.copy_from_slice(&r[..8]);
                i64::from_ne_bytes(v)
            };
            if len >= DISTINCT_FROM && ret(&theirs) == len as i64 {
                distinct.push(("parent and child after fork", mine[8..] != theirs[8..]));
            }
            if ret(&mine) != ret(&theirs) {
                return Ok(vec![Problem::about(
                    "result-differs",
                    flags_label(flags),
                    format!(
                        "after fork the parent's call returned {} and the child's {}",
                        ret(&mine),
                        ret(&theirs)
                    ),
                )]);
            }
            if ret(&theirs) < 0 {
                Err((-ret(&theirs)) as Errno)
            } else {
                Ok(ret(&theirs))
            }
        }
        StateCase::Fresh | StateCase::Reused | StateCase::Zeroed => f.fill(&mut out, flags, &st),
    };
    let mut sys_out = vec![0u8; len];
    let case = RandomCase {
        what: flags_label(flags),
        vdso: as_length(vdso),
        sys: syscall::getrandom(&mut sys_out, flags),
    };
    Ok(problems_against_syscall(&[case], &distinct))
}

/// Forks (this is a single-threaded child process): the child's output from the
/// copied state must differ from the parent's next output.
/// `Err` is the check's result: unrunnable when the machine refused the fork.
fn after_fork(f: Getrandom, state: &GetrandomState) -> Result<bool, CheckResult> {
    let forked = crate::vdso::process::fork_exchange(
        || {
            let mut out = [0u8; 32];
            let _ = f.fill(&mut out, 0, state);
            out
        },
        || {
            let mut mine = [0u8; 32];
            let _ = f.fill(&mut mine, 0, state);
            mine
        },
    );
    match forked {
        Err(e) => Err(CheckResult::unrunnable(format!("fork: {e}"))),
        Ok((_, None)) => Err(CheckResult::fail(
            "the forked child did not report its output",
        )),
        Ok((mine, Some(theirs))) => Ok(mine != theirs),
    }
}

/// One fill of a getrandom stress thread: what it returned (or why no call
/// was made), and the bytes.
pub type ThreadFill = (Result<i64, String>, Vec<u8>);

/// getrandom from many threads at once, each with its own state: every fill
/// returned its length and no two fills (of any threads) gave the same bytes;
/// a repeat means a state shared by accident or a key not reseeded.
pub fn judge_getrandom_threads(fills: &[ThreadFill]) -> Result<(), Problem> {
    if fills.len() < 8 {
        return Err(Problem::about(
            "call-returned",
            "threads",
            format!(
                "the thread stress made only {} fills: fewer than two threads started",
                fills.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (r, bytes)) in fills.iter().enumerate() {
        match r {
            Ok(n) if *n as usize == bytes.len() && !bytes.is_empty() => {}
            Ok(n) => {
                return Err(Problem::about(
                    "call-returned",
                    "threads",
                    format!(
                        "fill {i} of the thread stress returned {n} for {} bytes",
                        bytes.len()
                    ),
                ))
            }
            Err(e) => {
                return Err(Problem::about(
                    "call-returned",
                    "threads",
                    format!("fill {i} of the thread stress: {e}"),
                ))
            }
        }
        if !seen.insert(bytes.as_slice()) {
            return Err(Problem::about(
                "outputs-identical",
                "threads",
                format!(
                    "fill {i} repeated the bytes of an earlier fill among {} (of threads with states of their own)",
                    fills.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The parameter query and two 64-byte fills of getrandom.
pub fn judge_getrandom(
    params_ret: Returned,
    params: &VgetrandomOpaqueParams,
    fills: [(Returned, &[u8]); 2],
) -> Result<(), Problem> {
    if params_ret != Ok(0) {
        return Err(Problem::about(
            "call-returned",
            "params",
            format!("parameter query returned {}", describe_ret(params_ret)),
        ));
    }
    if params.size_of_opaque_state == 0 || params.size_of_opaque_state > 4096 {
        return Err(Problem::about(
            "implausible-value",
            "size_of_opaque_state",
            format!(
                "size_of_opaque_state {} is not in 1..=4096",
                params.size_of_opaque_state
            ),
        ));
    }
    for (ret, buf) in fills {
        if ret != Ok(buf.len() as i64) {
            return Err(Problem::new(
                "call-returned",
                format!(
                    "a {}-byte request returned {}",
                    buf.len(),
                    describe_ret(ret)
                ),
            ));
        }
    }
    if fills[0].1.iter().all(|&b| b == 0) {
        return Err(Problem::about(
            "implausible-value",
            "zeros",
            "the output is all zeros",
        ));
    }
    if fills[0].1 == fills[1].1 {
        return Err(Problem::about(
            "outputs-identical",
            "successive calls",
            "two successive calls returned the same bytes",
        ));
    }
    Ok(())
}

/// A getrandom request and what the vDSO and the syscall made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomCase {
    pub what: String,
    pub vdso: Result<usize, Errno>,
    pub sys: Result<usize, Errno>,
}

/// getrandom: each request behaves like the syscall (same length or same errno), and
/// outputs that must differ do.
pub fn judge_getrandom_against_syscall(
    cases: &[RandomCase],
    distinct: &[(&str, bool)],
) -> CheckResult {
    CheckResult::from_symptoms(problems_against_syscall(cases, distinct))
}

/// The problems [`judge_getrandom`] reports.
pub fn problems_against_syscall(cases: &[RandomCase], distinct: &[(&str, bool)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for c in cases {
        match (&c.vdso, &c.sys) {
            (Ok(v), Ok(s)) if v == s => {}
            (Err(v), Err(s)) if v == s => {}
            (v, s) => problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!(
                    "{}: vDSO {}, syscall {}",
                    c.what,
                    v.map_or_else(errno_name, |n| format!("{n} bytes")),
                    s.map_or_else(errno_name, |n| format!("{n} bytes"))
                ),
            )),
        }
    }
    for (what, differ) in distinct {
        if !differ {
            problems.push(Problem::about(
                "outputs-identical",
                what,
                format!("{what}: the outputs are identical"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrandom_judge_fails_on_bad_params_short_reads_and_repeats() {
        let params = VgetrandomOpaqueParams {
            size_of_opaque_state: 256,
            ..Default::default()
        };
        let (a, b) = ([1u8; 8], [2u8; 8]);
        assert!(judge_getrandom(Ok(0), &params, [(Ok(8), &a), (Ok(8), &b)]).is_ok());
        assert!(judge_getrandom(Err(22), &params, [(Ok(8), &a), (Ok(8), &b)]).is_err());
        let none = VgetrandomOpaqueParams::default();
        assert!(judge_getrandom(Ok(0), &none, [(Ok(8), &a), (Ok(8), &b)])
            .unwrap_err()
            .contains("size_of_opaque_state"));
        assert!(judge_getrandom(Ok(0), &params, [(Ok(4), &a), (Ok(8), &b)]).is_err());
        assert!(judge_getrandom(Ok(0), &params, [(Ok(8), &a), (Ok(8), &a)])
            .unwrap_err()
            .contains("same bytes"));
        let zeros = [0u8; 8];
        assert!(
            judge_getrandom(Ok(0), &params, [(Ok(8), &zeros), (Ok(8), &b)])
                .unwrap_err()
                .contains("zeros")
        );
    }
}
