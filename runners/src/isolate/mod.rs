//! Runs crash-prone cases in a child process: a child forked by a case server
//! (the current executable, re-executed once with a hidden argument, see
//! [`server`]), or for the inner process of a time namespace the current
//! executable re-executed with a hidden argument and handed the case (spec
//! included) as JSON on its standard input. The multi-threaded harness is never
//! forked.

mod child;
mod preflight;
mod protocol;
mod server;
mod spawn;

pub use child::child_main_if_requested;
pub use preflight::{preflight, MIN_ADDRESS_SPACE, MIN_OPEN_FILES};
pub use protocol::Reply;
pub use spawn::{
    own_executable, run_until, signal_name, ChildEnd, ChildOutput, Spawn, AFTER_COMPLETE,
    CHILD_WRAPPER_ENV,
};

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use vdsoconf_suite::checks::{
    plan, CallOutcome, CheckResult, PlannedCheck, Source, Target, Verdict,
};
use vdsoconf_suite::fuzz_live::Answer;
use vdsoconf_suite::spec::{ArchSpec, KernelVersion, Provider};
use vdsoconf_suite::vdso::guard::Overwrite;

/// The hidden argument that makes any vdsoconf executable run one case (read as
/// JSON from its standard input) and exit.
pub const CASE_FLAG: &str = "--vdsoconf-isolated-case";
/// How long one live case may take before it is killed and reported as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The spec, provider and kernel a live case runs for. The spec travels with the
/// case, so a child (and a booted kernel's `/init`) checks against exactly the spec
/// its parent was given (`--spec`), not the copy compiled into the binary.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LiveTarget {
    pub spec: ArchSpec,
    pub provider: Provider,
    pub kernel: Option<KernelVersion>,
    /// The target and its plan, made once: a case server makes them before it
    /// forks, so that no case's child plans the spec again.
    #[serde(skip)]
    prepared: OnceLock<Prepared>,
}

#[derive(Debug, Clone)]
struct Prepared {
    target: Target,
    plan: HashMap<String, PlannedCheck>,
}

impl LiveTarget {
    pub fn of(target: &Target) -> Self {
        LiveTarget {
            spec: target.spec.clone(),
            provider: target.provider,
            kernel: target.kernel,
            prepared: OnceLock::new(),
        }
    }

    fn prepared(&self) -> &Prepared {
        self.prepared.get_or_init(|| {
            let target = Target {
                spec: self.spec.clone(),
                provider: self.provider,
                kernel: self.kernel,
                source: Source::Live,
                spec_file: None,
            };
            let plan = plan(&target.spec)
                .into_iter()
                .map(|c| (c.name(), c))
                .collect();
            Prepared { target, plan }
        })
    }

    /// Makes the target and its plan now (see `prepared`).
    pub(crate) fn prepare(&self) {
        self.prepared();
    }

    fn target(&self) -> &Target {
        &self.prepared().target
    }

    /// The target, and the check of its plan named `name`.
    fn check(&self, name: &str) -> Result<(&Target, &PlannedCheck), CheckResult> {
        let prepared = self.prepared();
        match prepared.plan.get(name) {
            Some(check) => Ok((&prepared.target, check)),
            None => Err(CheckResult::fail(format!(
                "no check {name} in the {} spec's plan",
                self.spec.arch
            ))),
        }
    }
}

/// One isolated case: what the child does, and the target it does it for (a
/// self-test has none). The target travels apart from the task so that a case
/// server is handed it once, not with every case (see [`server`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChildCase {
    pub target: Option<Arc<LiveTarget>>,
    pub task: Task,
}

/// What an isolated case does.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Task {
    /// A live check of the plan, by name (the child plans the same spec).
    Live {
        check: String,
        duration_ms: u64,
        progress: bool,
    },
    /// A check whose call may kill the child: it reports the syscall's answer,
    /// then the call's.
    Probe { check: String },
    /// The inner process of a check that starts one in a new time namespace.
    Inside { check: String },
    /// `vdsoconf bench`'s measurement of one symbol.
    Bench { symbol: usize },
    /// Fuzzed calls of spec symbol `symbol` (`vdsoconf fuzz-live`, the `fuzz`
    /// checks), each as `FuzzCall::show` writes it, in the live vDSO or in the
    /// vDSO-shaped file `load`, one after the other. Calls with valid pointers
    /// answer a result each, in order (a child that dies has answered the
    /// calls before the one that killed it); a call with a bad pointer comes
    /// alone and answers as a probe: the syscall's answer, then the call's.
    Fuzz {
        symbol: usize,
        calls: Vec<String>,
        load: Option<std::path::PathBuf>,
    },
    /// Which path one fuzzed call takes through the vDSO, watched by the
    /// fallback trap (which stays for the child's life: a child of its own).
    FuzzPath {
        symbol: usize,
        call: String,
        load: Option<std::path::PathBuf>,
    },
    /// Exercises the isolation itself (used by its tests).
    SelfTest { action: SelfTestAction },
}

impl ChildCase {
    /// `task` for `target`.
    pub fn of(target: &Arc<LiveTarget>, task: Task) -> ChildCase {
        ChildCase {
            target: Some(Arc::clone(target)),
            task,
        }
    }

    /// A self-test of the isolation.
    pub fn self_test(action: SelfTestAction) -> ChildCase {
        ChildCase {
            target: None,
            task: Task::SelfTest { action },
        }
    }
}

/// What a self-test case does in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestAction {
    Pass,
    Segfault,
    /// Announces a step, then dies of SIGSEGV: the failure names the step.
    SegfaultInStep,
    Hang,
    /// Starts a process (`sleep`), names its pid as a step, then hangs; with
    /// `ignore_term`, deaf to SIGTERM (only SIGKILL ends it).
    HangWithChild {
        ignore_term: bool,
    },
    ExitSilently,
}

/// Runs `case` in a child of this executable, killed at `timeout`: forked by a
/// case server, except the inner process of a time namespace, which must be a
/// new child of the process that entered it.
pub fn run_self_case(case: &ChildCase, timeout: Duration, inherit_stderr: bool) -> ChildOutput {
    if !matches!(case.task, Task::Inside { .. }) {
        return server::run_case(case, timeout, inherit_stderr);
    }
    let json = serde_json::to_string(case).expect("a ChildCase serializes");
    let how = Spawn {
        stdin: Stdio::null(),
        inherit_stderr,
        // Kernels before 6.x refuse threads and CLONE_VM into a new time namespace.
        threads: false,
        fork: true,
        complete: None,
    };
    spawn::run_self(&[CASE_FLAG], &json, how, timeout)
}

/// Runs `case` in a child process killed at `timeout`; crashes and hangs become failures.
pub fn run_case_with(case: &ChildCase, timeout: Duration) -> CheckResult {
    let progress = matches!(case.task, Task::Live { progress: true, .. });
    let out = run_self_case(case, timeout, progress);
    if let Some(why) = out.out_of_memory() {
        return CheckResult::unrunnable(why);
    }
    if let Some(why) = out.crashed_or_hung(timeout) {
        return CheckResult::fail(match out.last_step() {
            Some(step) => format!("{why} (in: {step})"),
            None => why,
        });
    }
    match (&out.end, out.result()) {
        (ChildEnd::NotStarted(why), _) => CheckResult::unrunnable(why),
        (ChildEnd::Interrupted, _) => CheckResult::skip(out.describe_end()),
        (_, Some(result)) => result,
        (_, None) => CheckResult::fail(out.describe_end()),
    }
}

/// What the child of a probe saw: the syscall's answer, the vDSO call's outcome,
/// and its writes outside the valid arguments' buffers.
pub struct ProbeRun {
    pub sys: Option<Result<isize, i32>>,
    pub vdso: CallOutcome,
    pub overwrites: Vec<Overwrite>,
}

/// Runs a check whose call may kill its child ([`Runs::InChildThatMayDie`]): the
/// outcome of the vDSO call, and the syscall's answer.
///
/// [`Runs::InChildThatMayDie`]: vdsoconf_suite::checks::Runs::InChildThatMayDie
pub fn run_probe(target: &Arc<LiveTarget>, check: &PlannedCheck) -> Result<ProbeRun, CheckResult> {
    let c = ChildCase::of(
        target,
        Task::Probe {
            check: check.name(),
        },
    );
    let out = run_self_case(&c, CASE_TIMEOUT, false);
    if let ChildEnd::NotStarted(why) = &out.end {
        return Err(CheckResult::unrunnable(why));
    }
    if let Some(result) = out.result() {
        // The child could not get as far as the call (no vDSO, symbol absent, …).
        return Err(result);
    }
    let Some(sys) = syscall_reply(&out) else {
        return Err(CheckResult::fail(format!(
            "no syscall report: {}",
            out.describe_end()
        )));
    };
    if let Some(why) = out.out_of_memory() {
        return Err(CheckResult::unrunnable(why));
    }
    if let ChildEnd::Interrupted = out.end {
        return Err(CheckResult::skip(out.describe_end()));
    }
    let Some((vdso, overwrites)) = vdso_outcome(&out) else {
        return Err(CheckResult::fail(out.describe_end()));
    };
    Ok(ProbeRun {
        sys,
        vdso,
        overwrites,
    })
}

/// The syscall's answer a probe's child reported, if it got as far as that.
fn syscall_reply(out: &ChildOutput) -> Option<Option<Result<isize, i32>>> {
    out.reply(|r| match r {
        Reply::Syscall(s) => Some(s),
        _ => None,
    })
}

/// How the vDSO call of a probe's child ended: the child's crash or hang (even
/// after its reply: the call may have broken what the child did next), else
/// what it returned and wrote outside its outputs; `None` when the child ended
/// otherwise without saying.
fn vdso_outcome(out: &ChildOutput) -> Option<(CallOutcome, Vec<Overwrite>)> {
    match out.end {
        ChildEnd::Signaled(sig) => Some((CallOutcome::Signal(sig), Vec::new())),
        ChildEnd::TimedOut => Some((CallOutcome::Hung, Vec::new())),
        _ => out.reply(|r| match r {
            Reply::Vdso { ret, overwrites } => Some((CallOutcome::Returned(ret), overwrites)),
            _ => None,
        }),
    }
}

/// What the child of one fuzzed call said.
pub enum FuzzReply {
    /// The call was made: what to judge.
    Made(Answer),
    /// It was not (the symbol is not in this vDSO, the child could not start,
    /// the call could not be set up): why.
    NotMade(CheckResult),
}

/// How long a batch of `calls` fuzzed calls may take: a case's time, and a
/// little more per call (a call under TCG takes milliseconds).
fn fuzz_timeout(calls: usize) -> Duration {
    CASE_TIMEOUT + Duration::from_millis(50) * calls as u32
}

/// Makes `calls` of spec symbol `symbol` (in the vDSO-shaped file `load`,
/// if given) in children killed at [`fuzz_timeout`]: one reply per call, in
/// order. Calls with valid pointers go to one child in turn; one that kills
/// it or hangs is answered so, and the calls after it go to a new child. A
/// call with a bad pointer gets a child of its own (it comes alone).
pub fn run_fuzz_calls(
    target: &Arc<LiveTarget>,
    symbol: usize,
    calls: &[String],
    load: Option<&std::path::Path>,
) -> Vec<FuzzReply> {
    let mut replies = Vec::with_capacity(calls.len());
    while replies.len() < calls.len() {
        let rest = &calls[replies.len()..];
        let case = ChildCase::of(
            target,
            Task::Fuzz {
                symbol,
                calls: rest.to_vec(),
                load: load.map(std::path::Path::to_path_buf),
            },
        );
        let out = run_self_case(&case, fuzz_timeout(rest.len()), false);
        let not_started = match &out.end {
            ChildEnd::NotStarted(why) => Some(why.clone()),
            _ => out.out_of_memory(),
        };
        if let Some(why) = not_started {
            replies.extend(
                rest.iter()
                    .map(|_| FuzzReply::NotMade(CheckResult::unrunnable(&why))),
            );
            break;
        }
        let ended = match out.end {
            ChildEnd::Signaled(sig) => Some(CallOutcome::Signal(sig)),
            ChildEnd::TimedOut => Some(CallOutcome::Hung),
            _ => None,
        };
        // A call with a bad pointer is a probe, alone in its child.
        if let Some(sys) = syscall_reply(&out) {
            replies.push(match vdso_outcome(&out) {
                Some((vdso, overwrites)) => FuzzReply::Made(Answer::Probed {
                    sys,
                    vdso,
                    overwrites,
                }),
                None => FuzzReply::NotMade(CheckResult::fail(out.describe_end())),
            });
            continue;
        }
        let results: Vec<CheckResult> = out
            .replies()
            .into_iter()
            .filter_map(|r| match r {
                Reply::Result(r) => Some(r),
                _ => None,
            })
            .collect();
        let answered = results.len();
        replies.extend(results.into_iter().take(rest.len()).map(judged));
        if answered >= rest.len() {
            break;
        }
        // The child ended before it answered every call: the next one ended it.
        replies.push(match ended {
            Some(how) => FuzzReply::Made(Answer::Died(how)),
            None => FuzzReply::NotMade(CheckResult::fail(match out.last_step() {
                Some(step) => format!("{} (in: {step})", out.describe_end()),
                None => out.describe_end(),
            })),
        });
    }
    replies
}

/// Which path `call` of spec symbol `symbol` takes through the vDSO (or
/// the vDSO-shaped file `load`), in words: served, fell back, or why it was
/// not watched (the trap needs Linux 5.5 and no qemu-user).
pub fn run_fuzz_path(
    target: &Arc<LiveTarget>,
    symbol: usize,
    call: &str,
    load: Option<&std::path::Path>,
) -> String {
    let case = ChildCase::of(
        target,
        Task::FuzzPath {
            symbol,
            call: call.to_string(),
            load: load.map(std::path::Path::to_path_buf),
        },
    );
    let out = run_self_case(&case, CASE_TIMEOUT, false);
    if let Some(path) = out.reply(|r| match r {
        Reply::Path(p) => Some(p),
        _ => None,
    }) {
        return path;
    }
    match out.result().map(|r| r.verdict) {
        Some(Verdict::Skip { reason }) => format!("path not watched: {reason}"),
        Some(other) => format!("path not watched: {other:?}"),
        None => format!(
            "path not watched: {}",
            out.crashed_or_hung(CASE_TIMEOUT)
                .unwrap_or_else(|| out.describe_end())
        ),
    }
}

/// A fuzzed call's result from its child: a judged call, or why it was not made.
fn judged(result: CheckResult) -> FuzzReply {
    match result.verdict {
        Verdict::Pass => FuzzReply::Made(Answer::Judged {
            result,
            overwrites: Vec::new(),
        }),
        Verdict::Fail { .. } if !result.problems.is_empty() => FuzzReply::Made(Answer::Judged {
            result,
            overwrites: Vec::new(),
        }),
        _ => FuzzReply::NotMade(result),
    }
}

/// What the bench children measured, and the functions that failed.
#[derive(Debug, Default)]
pub struct BenchRun {
    pub rows: Vec<vdsoconf_reports::bench::BenchRow>,
    pub failures: Vec<vdsoconf_reports::bench::BenchFailure>,
    /// Set when a stopping signal ended the bench early.
    pub interrupted: bool,
}

/// How long one function's measurement may take before it is killed as hung.
pub const BENCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Measures each callable function of the target in a child of its own.
pub fn run_bench(target: &Target) -> BenchRun {
    let live = Arc::new(LiveTarget::of(target));
    let jobs = crate::bench::candidates(target)
        .into_iter()
        .map(|i| {
            let sym = &target.spec.symbols[i];
            let case = ChildCase::of(&live, Task::Bench { symbol: i });
            (format!("{}@{}", sym.name, sym.version), case)
        })
        .collect();
    run_bench_cases(jobs, BENCH_TIMEOUT)
}

/// Runs each labelled case as a bench child killed at `timeout`; a case that
/// ends without its rows is a failure of that label.
pub fn run_bench_cases(jobs: Vec<(String, ChildCase)>, timeout: Duration) -> BenchRun {
    let mut run = BenchRun::default();
    for (symbol, case) in jobs {
        let out = run_self_case(&case, timeout, true);
        if out.end == ChildEnd::Interrupted {
            run.interrupted = true;
            break;
        }
        let rows = out.reply(|r| match r {
            Reply::Bench(rows) => Some(rows),
            _ => None,
        });
        let reason = match (&out.end, rows) {
            (ChildEnd::Exited(_), Some(Ok(rows))) => {
                run.rows.extend(rows);
                continue;
            }
            (ChildEnd::Exited(_), Some(Err(e))) => e,
            _ => out
                .crashed_or_hung(timeout)
                .unwrap_or_else(|| out.describe_end()),
        };
        run.failures
            .push(vdsoconf_reports::bench::BenchFailure { symbol, reason });
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_child(end: ChildEnd, replies: &[Reply]) -> ChildOutput {
        let stdout = replies
            .iter()
            .map(|r| format!("VDSOCONF-REPLY {}\n", serde_json::to_string(r).unwrap()))
            .collect();
        ChildOutput {
            end,
            stdout,
            stderr: String::new(),
            ended_by: None,
        }
    }

    #[test]
    fn a_probe_child_that_dies_after_its_reply_died_of_its_call() {
        let said = [
            Reply::Syscall(Some(Err(libc::EFAULT))),
            Reply::Vdso {
                ret: 0,
                overwrites: Vec::new(),
            },
        ];
        let out = probe_child(ChildEnd::Signaled(libc::SIGSEGV), &said);
        assert_eq!(syscall_reply(&out), Some(Some(Err(libc::EFAULT))));
        let (how, _) = vdso_outcome(&out).unwrap();
        assert_eq!(how, CallOutcome::Signal(libc::SIGSEGV));
        let (how, _) = vdso_outcome(&probe_child(ChildEnd::TimedOut, &said)).unwrap();
        assert_eq!(how, CallOutcome::Hung);
        let (how, _) = vdso_outcome(&probe_child(ChildEnd::Exited(0), &said)).unwrap();
        assert_eq!(how, CallOutcome::Returned(0));
    }

    #[test]
    fn a_probe_child_that_exits_without_its_call_said_nothing_of_it() {
        let out = probe_child(ChildEnd::Exited(1), &[Reply::Syscall(None)]);
        assert_eq!(syscall_reply(&out), Some(None));
        assert!(vdso_outcome(&out).is_none());
        assert!(syscall_reply(&probe_child(ChildEnd::Exited(1), &[])).is_none());
    }
}
