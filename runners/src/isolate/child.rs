//! The child side of an isolated case: read the case from standard input, run
//! it, reply (see [`super::protocol`]).

use super::protocol::{send, Reply};
use super::{
    run_self_case, ChildCase, ChildEnd, LiveTarget, SelfTestAction, Task, CASE_FLAG, CASE_TIMEOUT,
};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use vdsoconf_suite::checks::live::overwrite::judge_overwrites;
use vdsoconf_suite::checks::live::timens;
use vdsoconf_suite::checks::{CheckResult, LiveContext, PlannedCheck, Target, Unrunnable};
use vdsoconf_suite::vdso::guard;

/// The largest case a child reads (a spec is a few KiB).
const MAX_CASE_BYTES: u64 = 16 << 20;

fn reply_result(result: CheckResult) {
    send(&Reply::Result(result));
}

fn self_test(action: SelfTestAction) -> CheckResult {
    match action {
        SelfTestAction::Pass => CheckResult::pass(),
        SelfTestAction::SegfaultInStep => {
            vdsoconf_suite::checks::live::step::step("the self-test's crashing call");
            vdsoconf_suite::vdso::process::die_of_sigsegv();
            CheckResult::fail("survived SIGSEGV")
        }
        SelfTestAction::Segfault => {
            vdsoconf_suite::vdso::process::die_of_sigsegv();
            CheckResult::fail("SIGSEGV did not end the process")
        }
        SelfTestAction::Hang => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
        SelfTestAction::HangWithChild { ignore_term } => {
            use vdsoconf_suite::vdso::process::{set_signal, Disposition};
            if ignore_term {
                set_signal(libc::SIGTERM, Disposition::Ignore);
            }
            match std::process::Command::new("sleep").arg("600").spawn() {
                Ok(c) => vdsoconf_suite::checks::live::step::step(&format!("started {}", c.id())),
                Err(e) => return CheckResult::fail(format!("cannot start sleep: {e}")),
            }
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        SelfTestAction::ExitSilently => std::process::exit(3),
    }
}

/// If the process was started as an isolated case (or as a case server), runs
/// it and returns the exit code.
pub fn child_main_if_requested() -> Option<i32> {
    match std::env::args().nth(1).as_deref() {
        Some(CASE_FLAG) => {}
        Some(super::server::SERVER_FLAG) => return Some(super::server::serve()),
        _ => return None,
    }
    crate::signals::die_with_parent();
    report_steps();
    let mut json = String::new();
    let read = std::io::stdin()
        .lock()
        .take(MAX_CASE_BYTES)
        .read_to_string(&mut json);
    let case = match read.map(|_| serde_json::from_str::<ChildCase>(&json)) {
        Ok(Ok(case)) => case,
        Ok(Err(e)) => {
            reply_result(CheckResult::fail(format!("bad isolated case: {e}")));
            return Some(0);
        }
        Err(e) => {
            reply_result(CheckResult::fail(format!("isolated case unreadable: {e}")));
            return Some(0);
        }
    };
    run_case_catching(case);
    Some(0)
}

/// Makes every step a case announces a reply (the last one names where it died).
pub(super) fn report_steps() {
    vdsoconf_suite::checks::live::step::report_to(|what| send(&Reply::Step(what.to_string())));
}

/// Runs `case`, replying on standard output; a refused resource (ours, or std's
/// failure to start a thread) is a reply saying so, any other panic a crash.
pub(super) fn run_case_catching(case: ChildCase) {
    let inside_namespace = matches!(case.task, Task::Inside { .. });
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(case)));
    if let Err(payload) = ran {
        // Only a refused resource is caught (ours, or std's failure to start a
        // thread); any other panic stays a crash to report.
        let refused = match (
            payload.downcast_ref::<Unrunnable>(),
            payload.downcast_ref::<String>(),
        ) {
            (Some(Unrunnable(why)), _) => why.clone(),
            (None, Some(message)) if message.starts_with("failed to spawn thread") => {
                message.clone()
            }
            _ => std::panic::resume_unwind(payload),
        };
        if inside_namespace {
            send(&Reply::Inner(timens::InnerReport {
                unrunnable: Some(refused),
                ..Default::default()
            }));
        } else {
            reply_result(CheckResult::unrunnable(refused));
        }
    }
}

fn run_case(case: ChildCase) {
    let ChildCase { target, task } = case;
    let target = match (target, &task) {
        (Some(target), _) => target,
        (None, &Task::SelfTest { action }) => return reply_result(self_test(action)),
        (None, _) => return reply_result(CheckResult::fail("an isolated case without its target")),
    };
    match task {
        Task::SelfTest { action } => reply_result(self_test(action)),
        Task::Live {
            check,
            duration_ms,
            progress,
        } => {
            let result = match target.check(&check) {
                Ok((t, check)) => run_live(
                    t,
                    &target,
                    check,
                    Duration::from_millis(duration_ms),
                    progress,
                ),
                Err(r) => r,
            };
            reply_result(judge_overwrites(result, &guard::take_overwrites()));
        }
        Task::Probe { check } => probe_child(&target, &check),
        Task::Fuzz {
            symbol,
            calls,
            load,
        } => fuzz_child(&target, symbol, &calls, load.as_deref()),
        Task::FuzzPath { symbol, call, load } => {
            fuzz_path_child(&target, symbol, &call, load.as_deref())
        }
        Task::Bench { symbol } => {
            let rows = crate::bench::measure(target.target(), symbol);
            send(&Reply::Bench(rows));
        }
        Task::Inside { check } => {
            let mut report = match target.check(&check) {
                Ok((t, check)) => check.group().inside(check, t),
                Err(r) => timens::InnerReport {
                    error: Some(format!("{:?}", r.verdict)),
                    ..Default::default()
                },
            };
            let overwrites = guard::take_overwrites();
            if !overwrites.is_empty() {
                report.error = Some(guard::describe_all(&overwrites));
            }
            send(&Reply::Inner(report));
        }
    }
}

/// A check of a group that runs in a child ([`Runs::InChild`]), with its soak
/// time, a progress display if asked for, and a way to start its inner process.
///
/// [`Runs::InChild`]: vdsoconf_suite::checks::Runs::InChild
fn run_live(
    t: &Target,
    lt: &LiveTarget,
    check: &PlannedCheck,
    soak: Duration,
    progress: bool,
) -> CheckResult {
    let bar = progress.then(|| crate::progress::soak_bar(soak));
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.set_message(format!("{n} readings"));
        }
    };
    let inside = || {
        let case = ChildCase {
            target: Some(Arc::new(lt.clone())),
            task: Task::Inside {
                check: check.name(),
            },
        };
        let out = run_self_case(&case, CASE_TIMEOUT, false);
        let inner = out.reply(|r| match r {
            Reply::Inner(report) => Some(report),
            _ => None,
        });
        match inner {
            Some(report) => report,
            None if matches!(out.end, ChildEnd::NotStarted(_)) => timens::InnerReport {
                unrunnable: Some(out.describe_end()),
                ..Default::default()
            },
            None => timens::InnerReport {
                error: Some(out.describe_end()),
                ..Default::default()
            },
        }
    };
    let ctx = LiveContext {
        target: t,
        soak,
        progress: &tick,
        inside: &inside,
    };
    let result = check.group().in_child(check, &ctx);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

/// The child of fuzzed calls: a result per call (valid pointers, or why the
/// call could not be made), or for a call with a bad pointer the syscall's
/// answer and then the call's.
fn fuzz_child(lt: &LiveTarget, symbol: usize, calls: &[String], load: Option<&std::path::Path>) {
    use vdsoconf_suite::fuzz_live::execute::{execute, Executed};
    let (f, info) = match fuzzed_function(lt, symbol, load) {
        Ok(found) => found,
        // One result per call, as the parent counts them.
        Err(r) => return calls.iter().for_each(|_| reply_result(r.clone())),
    };
    for text in calls {
        let call = match vdsoconf_suite::fuzz_live::FuzzCall::parse(&info, text) {
            Ok(c) => c,
            Err(e) => {
                reply_result(CheckResult::fail(e));
                continue;
            }
        };
        let mut report = |sys: Option<Result<isize, i32>>| send(&Reply::Syscall(sys));
        match execute(f, &call, &mut report) {
            Ok(Executed::Judged(result)) => {
                reply_result(judge_overwrites(result, &guard::take_overwrites()))
            }
            Ok(Executed::Returned(ret)) => send(&Reply::Vdso {
                ret,
                overwrites: guard::take_overwrites(),
            }),
            Err(r) => reply_result(r),
        }
    }
}

/// The child that watches which path one fuzzed call takes.
fn fuzz_path_child(lt: &LiveTarget, symbol: usize, call: &str, load: Option<&std::path::Path>) {
    use vdsoconf_suite::fuzz_live::{describe_path, execute::observe_path, FuzzCall};
    let (f, info) = match fuzzed_function(lt, symbol, load) {
        Ok(found) => found,
        Err(r) => return reply_result(r),
    };
    match FuzzCall::parse(&info, call)
        .map_err(CheckResult::fail)
        .and_then(|call| observe_path(f, &call))
    {
        Ok(service) => send(&Reply::Path(describe_path(&service))),
        Err(r) => reply_result(r),
    }
}

/// Spec symbol `symbol`, resolved in this process's vDSO or in the
/// vDSO-shaped file `load`, and its kind's description.
fn fuzzed_function(
    lt: &LiveTarget,
    symbol: usize,
    load: Option<&std::path::Path>,
) -> Result<
    (
        vdsoconf_suite::vdso::Resolved,
        vdsoconf_suite::kinds::KindInfo,
    ),
    CheckResult,
> {
    let spec = &lt.target().spec;
    let sym = spec
        .symbols
        .get(symbol)
        .ok_or_else(|| CheckResult::fail(format!("no symbol {symbol} in the spec")))?;
    let info = vdsoconf_suite::kinds::kind_info(sym.kind);
    let f = match load {
        None => vdsoconf_suite::checks::live::live_fn(sym, spec.error_convention)?,
        Some(path) => {
            let vdso =
                vdsoconf_suite::vdso::LiveVdso::load(path).map_err(CheckResult::unrunnable)?;
            match vdso.resolve(sym) {
                Ok(Some(f)) => f,
                Ok(None) => {
                    return Err(CheckResult::skip(format!(
                        "{}@{} is not in {}",
                        sym.name,
                        sym.version,
                        path.display()
                    )))
                }
                Err(e) => return Err(CheckResult::fail(format!("{}: {e}", path.display()))),
            }
        }
    };
    Ok((f, info))
}

/// The child of a check that may die of its call: the syscall's answer is sent
/// before the call.
fn probe_child(lt: &LiveTarget, name: &str) {
    let (t, check) = match lt.check(name) {
        Ok(found) => found,
        Err(r) => return reply_result(r),
    };
    let mut report = |sys: Option<Result<isize, i32>>| send(&Reply::Syscall(sys));
    match check.group().probe(check, t, &mut report) {
        Ok(ret) => send(&Reply::Vdso {
            ret,
            overwrites: guard::take_overwrites(),
        }),
        Err(r) => reply_result(r),
    }
}
