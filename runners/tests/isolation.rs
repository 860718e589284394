//! The isolation of crash-prone cases: a crash, a hang or a silent exit in the child
//! becomes a failed check in the parent, never a crash of the runner.

use std::time::{Duration, Instant};
use vdsoconf_runners::isolate::{child_main_if_requested, run_case_with, Case, SelfTestAction};
use vdsoconf_suite::checks::Verdict;

fn run(action: SelfTestAction, timeout: Duration) -> Verdict {
    run_case_with(&Case::SelfTest { action }, timeout).verdict
}

fn expect_fail(action: SelfTestAction, needle: &str) -> Result<(), String> {
    match run(action, Duration::from_secs(2)) {
        Verdict::Fail { message } if message.contains(needle) => Ok(()),
        other => Err(format!(
            "{action:?}: expected a failure mentioning {needle:?}, got {other:?}"
        )),
    }
}

fn main() {
    if let Some(code) = child_main_if_requested() {
        std::process::exit(code);
    }
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut check = |name: &str, r: Result<(), String>| match r {
        Ok(()) => {
            println!("test {name} ... ok");
            passed += 1;
        }
        Err(e) => {
            println!("test {name} ... FAILED: {e}");
            failures.push(name.to_string());
        }
    };
    check(
        "passing_case_passes",
        match run(SelfTestAction::Pass, Duration::from_secs(5)) {
            Verdict::Pass => Ok(()),
            v => Err(format!("{v:?}")),
        },
    );
    check(
        "segfault_is_reported_with_the_signal",
        expect_fail(SelfTestAction::Segfault, "SIGSEGV (11)"),
    );
    check(
        "silent_exit_is_reported",
        expect_fail(SelfTestAction::ExitSilently, "exit status: 3"),
    );
    let start = Instant::now();
    let hang = expect_fail(SelfTestAction::Hang, "no answer within 2 s");
    let waited = start.elapsed();
    check(
        "hang_is_killed_at_the_timeout",
        hang.and_then(|()| {
            (waited < Duration::from_secs(10))
                .then_some(())
                .ok_or(format!("took {waited:?}"))
        }),
    );
    println!("\n{passed} passed, {} failed", failures.len());
    std::process::exit(if failures.is_empty() { 0 } else { 1 });
}
