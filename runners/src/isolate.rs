//! Runs crash-prone cases in a child process: the current executable, re-executed
//! with a hidden argument. The multi-threaded harness is never forked.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vdsoconf_suite::checks::{call::call_live_symbol, CheckResult};
use vdsoconf_suite::spec::{ErrorConvention, SymbolSpec};

/// The hidden argument that makes any vdsoconf executable run one case and exit.
pub const CASE_FLAG: &str = "--vdsoconf-isolated-case";
const RESULT_MARKER: &str = "VDSOCONF-RESULT ";
/// How long one live case may take before it is killed and reported as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// One isolated case, passed to the child as JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "case", rename_all = "snake_case")]
pub enum Case {
    /// Call a symbol with valid arguments.
    Call {
        symbol: Box<SymbolSpec>,
        convention: ErrorConvention,
    },
    /// Exercises the isolation itself (used by its tests).
    SelfTest { action: SelfTestAction },
}

/// What a self-test case does in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestAction {
    Pass,
    Segfault,
    Hang,
    ExitSilently,
}

fn self_test(action: SelfTestAction) -> CheckResult {
    match action {
        SelfTestAction::Pass => CheckResult::pass(),
        SelfTestAction::Segfault => {
            // std's handler returns from a raised (not faulted) SIGSEGV; a real fault
            // re-executes and dies. Restore the default so the raise behaves the same.
            // SAFETY: deliberately dying of SIGSEGV in this throwaway child.
            unsafe {
                libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                libc::raise(libc::SIGSEGV);
            }
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
    let result = match args.next().map(|json| serde_json::from_str::<Case>(&json)) {
        Some(Ok(Case::Call { symbol, convention })) => call_live_symbol(&symbol, convention),
        Some(Ok(Case::SelfTest { action })) => self_test(action),
        Some(Err(e)) => CheckResult::fail(format!("bad isolated case: {e}")),
        None => CheckResult::fail("isolated case missing"),
    };
    let json = serde_json::to_string(&result).expect("a CheckResult serializes");
    println!("{RESULT_MARKER}{json}");
    Some(0)
}

/// Runs `case` in a child process with a timeout; crashes and hangs become failures.
pub fn run_case(case: &Case) -> CheckResult {
    run_case_with(case, CASE_TIMEOUT)
}

/// [`run_case`] with another timeout.
pub fn run_case_with(case: &Case, timeout: Duration) -> CheckResult {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            return CheckResult::fail(format!(
                "cannot find own executable to isolate the case: {e}"
            ))
        }
    };
    let json = serde_json::to_string(case).expect("a Case serializes");
    let mut child = match Command::new(&exe)
        .arg(CASE_FLAG)
        .arg(json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return CheckResult::fail(format!("cannot start {}: {e}", exe.display())),
    };
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return CheckResult::fail(format!(
                    "hung: no answer within {} s, killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return CheckResult::fail(format!("waiting for the case: {e}")),
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        return CheckResult::fail(format!(
            "the call killed its process with {}",
            signal_name(sig)
        ));
    }
    match out.lines().find_map(|l| l.strip_prefix(RESULT_MARKER)) {
        Some(json) => serde_json::from_str(json)
            .unwrap_or_else(|e| CheckResult::fail(format!("unreadable case result: {e}"))),
        None => CheckResult::fail(format!(
            "the case exited with {status} and no result; stderr: {}",
            err.lines().last().unwrap_or("(empty)")
        )),
    }
}

pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSYS => "SIGSYS",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {sig}"),
    };
    format!("{name} ({sig})")
}
