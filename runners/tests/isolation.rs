//! The isolation of crash-prone cases: a crash, a hang or a silent exit in the child
//! becomes a failed check in the parent, never a crash of the runner.

use std::time::{Duration, Instant};
use vdsoconf_runners::isolate::{
    child_main_if_requested, run_case_with, ChildCase, SelfTestAction,
};
use vdsoconf_suite::checks::Verdict;

fn run(action: SelfTestAction, timeout: Duration) -> Verdict {
    run_case_with(&ChildCase::self_test(action), timeout).verdict
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
        "a_crash_names_the_step_it_happened_in",
        expect_fail(
            SelfTestAction::SegfaultInStep,
            "SIGSEGV (11) (in: the self-test's crashing call)",
        ),
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
    check(
        "bench_reports_each_function_and_fails_the_one_that_crashed_or_hung",
        bench_survives_broken_functions(),
    );
    check(
        "a_hung_child_ends_with_its_whole_process_group",
        a_hung_child_ends_with_its_whole_process_group(),
    );
    check(
        "a_hung_case_ends_with_everything_it_started",
        a_hung_case_ends_with_everything_it_started(),
    );
    println!("\n{passed} passed, {} failed", failures.len());
    std::process::exit(if failures.is_empty() { 0 } else { 1 });
}

/// A bench whose functions crash, hang or vanish still reports the one it could
/// measure, and names each of the others with how it failed, within the timeout.
fn bench_survives_broken_functions() -> Result<(), String> {
    use vdsoconf_runners::isolate::run_bench_cases;
    use vdsoconf_runners::target::{resolve_target, TargetOptions};
    let target = resolve_target(&TargetOptions::default()).map_err(|e| e.0)?;
    let Some(clock) = target
        .spec
        .symbols
        .iter()
        .position(|s| s.name.ends_with("clock_gettime"))
    else {
        return Err(format!("no clock_gettime in the {} spec", target.spec.arch));
    };
    let live = std::sync::Arc::new(vdsoconf_runners::isolate::LiveTarget::of(&target));
    let live = ChildCase::of(
        &live,
        vdsoconf_runners::isolate::Task::Bench { symbol: clock },
    );
    let broken = ChildCase::self_test;
    let jobs = vec![
        ("crashes".to_string(), broken(SelfTestAction::Segfault)),
        ("clock_gettime".to_string(), live),
        ("hangs".to_string(), broken(SelfTestAction::Hang)),
        ("exits".to_string(), broken(SelfTestAction::ExitSilently)),
    ];
    let start = Instant::now();
    let run = run_bench_cases(jobs, Duration::from_secs(3));
    if start.elapsed() > Duration::from_secs(20) {
        return Err(format!("took {:?}", start.elapsed()));
    }
    if run.rows.is_empty() || !run.rows.iter().all(|r| r.symbol.contains("clock_gettime")) {
        return Err(format!(
            "the working function was not measured: {:?}",
            run.rows
        ));
    }
    let reason = |label: &str| {
        run.failures
            .iter()
            .find(|f| f.symbol == label)
            .map(|f| f.reason.clone())
            .unwrap_or_default()
    };
    for (label, needle) in [
        ("crashes", "SIGSEGV"),
        ("hangs", "no answer within 3 s"),
        ("exits", "exit status: 3"),
    ] {
        if !reason(label).contains(needle) {
            return Err(format!("{label}: {:?}", run.failures));
        }
    }
    if run.failures.len() != 3 {
        return Err(format!("failures: {:?}", run.failures));
    }
    Ok(())
}

/// Whether process `pid` is gone, or a zombie waiting for init to reap it;
/// waits up to two seconds for it to become so.
fn gone_soon(pid: &str) -> bool {
    let gone = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        stat.map_or(true, |s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
    };
    for _ in 0..100 {
        if gone() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A case (a child forked by the case server) that hangs is ended at its
/// timeout with what it started: SIGTERM, or SIGKILL after the grace period
/// when it ignores SIGTERM; and the server goes on to the next case.
fn a_hung_case_ends_with_everything_it_started() -> Result<(), String> {
    use vdsoconf_runners::isolate::{run_self_case, ChildEnd};
    for (ignore_term, signal) in [(false, libc::SIGTERM), (true, libc::SIGKILL)] {
        let case = ChildCase::self_test(SelfTestAction::HangWithChild { ignore_term });
        let out = run_self_case(&case, Duration::from_secs(1), false);
        if out.end != ChildEnd::TimedOut || out.ended_by != Some(signal) {
            return Err(format!(
                "ignore_term {ignore_term}: {:?}, ended by {:?}",
                out.end, out.ended_by
            ));
        }
        let step = out.last_step().unwrap_or_default();
        let Some(pid) = step.strip_prefix("started ") else {
            return Err(format!("no pid among its steps: {:?}", out.stdout));
        };
        if !gone_soon(pid) {
            return Err(format!("its child {pid} outlived the case"));
        }
        match run(SelfTestAction::Pass, Duration::from_secs(5)) {
            Verdict::Pass => {}
            v => return Err(format!("the case after it: {v:?}")),
        }
    }
    Ok(())
}

/// A child that hangs is ended with everything it started (its process group):
/// SIGTERM first; one that ignores SIGTERM gets SIGKILL after the grace period.
fn a_hung_child_ends_with_its_whole_process_group() -> Result<(), String> {
    use std::process::{Command, Stdio};
    use vdsoconf_runners::isolate::{run_until, ChildEnd, Spawn};
    let how = || Spawn {
        stdin: Stdio::null(),
        inherit_stderr: false,
        threads: true,
        fork: false,
        complete: None,
    };
    for (script, signal) in [
        ("sleep 600 & echo $!; exec sleep 600", libc::SIGTERM),
        ("trap '' TERM; sleep 600 & echo $!; wait", libc::SIGKILL),
    ] {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let out = run_until(cmd, "sh", how(), Duration::from_secs(1));
        if out.end != ChildEnd::TimedOut || out.ended_by != Some(signal) {
            return Err(format!(
                "{script}: {:?}, ended by {:?}",
                out.end, out.ended_by
            ));
        }
        let grandchild = out.stdout.lines().next().unwrap_or("");
        // Its grandchild, in the same group, has ended too.
        if grandchild.is_empty() || !gone_soon(grandchild) {
            return Err(format!(
                "{script}: the grandchild {grandchild:?} outlived its group's end"
            ));
        }
    }
    Ok(())
}
