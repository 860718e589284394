//! The child side of an isolated case: read the case from standard input, run
//! it, reply (see [`super::protocol`]).

use super::protocol::{send, Reply};
use super::{run_self_case, Case, ChildEnd, LiveTarget, SelfTestAction, CASE_FLAG, CASE_TIMEOUT};
use std::io::Read;
use std::time::Duration;
use vdsoconf_suite::checks::live::call::call_live_symbol;
use vdsoconf_suite::checks::live::overwrite::judge_overwrites;
use vdsoconf_suite::checks::live::{self, badptr, timens};
use vdsoconf_suite::checks::{CheckKind, CheckResult, Target, Unrunnable};
use vdsoconf_suite::vdso::guard;

/// The largest case a child reads (a spec is a few KiB).
const MAX_CASE_BYTES: u64 = 16 << 20;

fn reply_result(result: CheckResult) {
    send(&Reply::Result(result));
}

fn self_test(action: SelfTestAction) -> CheckResult {
    match action {
        SelfTestAction::Pass => CheckResult::pass(),
        SelfTestAction::Segfault => {
            vdsoconf_suite::vdso::process::die_of_sigsegv();
            CheckResult::fail("SIGSEGV did not end the process")
        }
        SelfTestAction::Hang => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
        SelfTestAction::ExitSilently => std::process::exit(3),
    }
}

/// If the process was started as an isolated case, runs it and returns the exit code.
pub fn child_main_if_requested() -> Option<i32> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(CASE_FLAG) {
        return None;
    }
    crate::signals::die_with_parent();
    let mut json = String::new();
    let read = std::io::stdin()
        .lock()
        .take(MAX_CASE_BYTES)
        .read_to_string(&mut json);
    let case = match read.map(|_| serde_json::from_str::<Case>(&json)) {
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
    let inside_namespace = matches!(case, Case::TimensInside { .. });
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
    Some(0)
}

fn run_case(case: Case) {
    match case {
        Case::SelfTest { action } => reply_result(self_test(action)),
        Case::Live {
            target,
            check,
            duration_ms,
            progress,
        } => {
            let result = match target.target() {
                Ok(t) => run_live(
                    &t,
                    &target,
                    &check,
                    Duration::from_millis(duration_ms),
                    progress,
                ),
                Err(e) => CheckResult::fail(e),
            };
            reply_result(judge_overwrites(result, &guard::take_overwrites()));
        }
        Case::BadPointer {
            target,
            symbol,
            case,
        } => bad_pointer_child(&target, symbol, &case),
        Case::Bench { target, symbol } => {
            let rows = target
                .target()
                .and_then(|t| crate::bench::measure(&t, symbol));
            send(&Reply::Bench(rows));
        }
        Case::TimensInside { target, symbol } => {
            let mut report = match target.target() {
                Ok(t) => live::timens_inside(&t, &t.spec.symbols[symbol]),
                Err(e) => timens::InnerReport {
                    error: Some(e),
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

fn run_live(
    t: &Target,
    lt: &LiveTarget,
    check: &CheckKind,
    duration: Duration,
    progress: bool,
) -> CheckResult {
    let sym = |i: usize| &t.spec.symbols[i];
    match check {
        CheckKind::Call { symbol } => call_live_symbol(sym(*symbol), t.spec.error_convention),
        CheckKind::CrossCheck { symbol } => {
            live::run_crosscheck(sym(*symbol), t.spec.error_convention)
        }
        CheckKind::Served { symbol } => live::run_served(t, sym(*symbol)),
        CheckKind::Monotonic { symbol, clock } => {
            let bar = progress.then(|| crate::progress::soak_bar(duration));
            let tick = |n: u64| {
                if let Some(b) = &bar {
                    b.set_message(format!("{n} readings"));
                }
            };
            let r = live::run_monotonic(t, sym(*symbol), *clock, duration, &tick);
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r
        }
        CheckKind::TimeNamespace { symbol } => {
            let inside = || {
                let case = Case::TimensInside {
                    target: lt.clone(),
                    symbol: *symbol,
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
            live::run_timens(t, sym(*symbol), &inside)
        }
        other => CheckResult::fail(format!("not a live check: {other:?}")),
    }
}

fn bad_pointer_child(lt: &LiveTarget, symbol: usize, case: &badptr::PtrCase) {
    let t = match lt.target() {
        Ok(t) => t,
        Err(e) => return reply_result(CheckResult::fail(e)),
    };
    let sym = &t.spec.symbols[symbol];
    let f = match live::live_fn(sym, t.spec.error_convention) {
        Ok(f) => f,
        Err(r) => return reply_result(r),
    };
    let mut report = |sys: Option<Result<isize, i32>>| send(&Reply::Syscall(sys));
    match badptr::run_case(f, case, &mut report) {
        Ok(ret) => send(&Reply::Vdso {
            ret,
            overwrites: guard::take_overwrites(),
        }),
        Err(e) => reply_result(CheckResult::fail(e)),
    }
}
