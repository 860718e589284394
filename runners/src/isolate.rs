//! Runs crash-prone cases in a child process: the current executable, re-executed
//! with a hidden argument. The multi-threaded harness is never forked.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vdsoconf_suite::checks::call::call_live_symbol;
use vdsoconf_suite::checks::live::overwrite::judge_overwrites;
use vdsoconf_suite::checks::live::{self, badptr, timens};
use vdsoconf_suite::checks::{CheckKind, CheckResult, Source, Target, Unrunnable};
use vdsoconf_suite::live::guard::{self, Overwrite};
use vdsoconf_suite::spec::{ArchSpec, KernelVersion, Provider};

/// The hidden argument that makes any vdsoconf executable run one case (read as
/// JSON from its standard input) and exit.
pub const CASE_FLAG: &str = "--vdsoconf-isolated-case";
/// The largest case a child reads (a spec is a few KiB).
const MAX_CASE_BYTES: u64 = 16 << 20;
const RESULT: &str = "VDSOCONF-RESULT ";
const SYSCALL: &str = "VDSOCONF-SYSCALL ";
const VDSO: &str = "VDSOCONF-VDSO ";
const INNER: &str = "VDSOCONF-TIMENS ";
const BENCH: &str = "VDSOCONF-BENCH ";
const OVERWRITES: &str = "VDSOCONF-OVERWRITES ";
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
}

impl LiveTarget {
    pub fn of(target: &Target) -> Self {
        LiveTarget {
            spec: target.spec.clone(),
            provider: target.provider,
            kernel: target.kernel,
        }
    }

    fn target(&self) -> Result<Target, String> {
        Ok(Target {
            spec: self.spec.clone(),
            provider: self.provider,
            kernel: self.kernel,
            source: Source::Live,
        })
    }
}

/// One isolated case, passed to the child as JSON on its standard input.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Case {
    /// A live check of the plan.
    Live {
        target: LiveTarget,
        check: CheckKind,
        duration_ms: u64,
        progress: bool,
    },
    /// One bad-pointer call: the child reports the syscall's answer, then the vDSO's.
    BadPointer {
        target: LiveTarget,
        symbol: usize,
        case: badptr::PtrCase,
    },
    /// Readings from inside a time namespace (started by a `Live` time-namespace case).
    TimensInside { target: LiveTarget, symbol: usize },
    /// `vdsoconf bench`'s measurement of one symbol.
    Bench { target: LiveTarget, symbol: usize },
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

fn emit(marker: &str, json: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{marker}{json}");
    let _ = out.flush();
}

fn emit_result(result: &CheckResult) {
    emit(
        RESULT,
        serde_json::to_string(result).expect("a CheckResult serializes"),
    );
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
            emit_result(&CheckResult::fail(format!("bad isolated case: {e}")));
            return Some(0);
        }
        Err(e) => {
            emit_result(&CheckResult::fail(format!("isolated case unreadable: {e}")));
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
        let why = &refused;
        if inside_namespace {
            let report = timens::InnerReport {
                unrunnable: Some(why.clone()),
                ..Default::default()
            };
            emit(INNER, serde_json::to_string(&report).expect("serializes"));
        } else {
            emit_result(&CheckResult::unrunnable(why));
        }
    }
    Some(0)
}

fn run_case(case: Case) {
    match case {
        Case::SelfTest { action } => emit_result(&self_test(action)),
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
            emit_result(&judge_overwrites(result, &guard::take_overwrites()));
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
            emit(
                BENCH,
                serde_json::to_string(&rows).expect("bench rows serialize"),
            );
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
            emit(INNER, serde_json::to_string(&report).expect("serializes"));
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
                let out = run_child(&case, CASE_TIMEOUT, false);
                match out
                    .line(INNER)
                    .map(serde_json::from_str::<timens::InnerReport>)
                {
                    Some(Ok(r)) => r,
                    Some(Err(e)) => timens::InnerReport {
                        error: Some(format!("unreadable report: {e}")),
                        ..Default::default()
                    },
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
        Err(e) => return emit_result(&CheckResult::fail(e)),
    };
    let sym = &t.spec.symbols[symbol];
    let f = match live::live_fn(sym, t.spec.error_convention) {
        Ok(f) => f,
        Err(r) => return emit_result(&r),
    };
    let mut report = |sys: Option<Result<isize, i32>>| {
        emit(SYSCALL, serde_json::to_string(&sys).expect("serializes"))
    };
    match badptr::run_case(sym.kind, case, f, &mut report) {
        Ok(ret) => {
            emit(VDSO, ret.to_string());
            let overwrites = guard::take_overwrites();
            emit(
                OVERWRITES,
                serde_json::to_string(&overwrites).expect("serializes"),
            );
        }
        Err(e) => emit_result(&CheckResult::fail(e)),
    }
}

/// How a child ended and what it printed.
#[derive(Debug)]
pub struct ChildOutput {
    pub end: ChildEnd,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildEnd {
    /// The child could not be started (or watched): the machine's doing.
    NotStarted(String),
    Exited(i32),
    Signaled(i32),
    TimedOut,
    /// Killed because the main process was told to stop (its result is dropped).
    Interrupted,
}

impl ChildOutput {
    /// The payload of the first line with `marker`.
    pub fn line(&self, marker: &str) -> Option<&str> {
        self.stdout.lines().find_map(|l| l.strip_prefix(marker))
    }

    /// Why the child died for want of memory (Rust aborts when an allocation fails),
    /// if it did: the machine's limit, not the vDSO.
    fn out_of_memory(&self) -> Option<String> {
        if self.end != ChildEnd::Signaled(libc::SIGABRT) {
            return None;
        }
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains("memory allocation of"))?;
        Some(format!("the case ran out of memory ({})", line.trim()))
    }

    fn describe_end(&self) -> String {
        match &self.end {
            ChildEnd::NotStarted(why) => why.clone(),
            &ChildEnd::Signaled(sig) => format!("killed with {}", signal_name(sig)),
            ChildEnd::TimedOut => "hung: killed at the timeout".into(),
            ChildEnd::Interrupted => "stopped: the run was interrupted".into(),
            ChildEnd::Exited(code) => {
                // A panic's message is on the line after "panicked at"; else the last line.
                let lines: Vec<&str> = self.stderr.lines().collect();
                let why = match lines.iter().position(|l| l.contains("panicked at")) {
                    Some(i) => lines[i..(i + 2).min(lines.len())].join(" "),
                    None => lines.last().unwrap_or(&"(empty)").to_string(),
                };
                format!("the case exited with exit status: {code} and no result; stderr: {why}")
            }
        }
    }
}

/// Runs `case` in a child process killed at `timeout`; crashes and hangs become failures.
pub fn run_case_with(case: &Case, timeout: Duration) -> CheckResult {
    let progress = matches!(case, Case::Live { progress: true, .. });
    let out = run_child(case, timeout, progress);
    if let Some(why) = out.out_of_memory() {
        return CheckResult::unrunnable(why);
    }
    match (&out.end, out.line(RESULT)) {
        (ChildEnd::NotStarted(why), _) => CheckResult::unrunnable(why),
        (ChildEnd::Interrupted, _) => CheckResult::skip(out.describe_end()),
        (&ChildEnd::Signaled(sig), _) => CheckResult::fail(format!(
            "the call killed its process with {}",
            signal_name(sig)
        )),
        (ChildEnd::TimedOut, _) => CheckResult::fail(format!(
            "hung: no answer within {} s, killed",
            timeout.as_secs()
        )),
        (_, Some(json)) => serde_json::from_str(json)
            .unwrap_or_else(|e| CheckResult::fail(format!("unreadable case result: {e}"))),
        (ChildEnd::Exited(_), None) => CheckResult::fail(out.describe_end()),
    }
}

/// What the child of a bad-pointer case saw: the syscall's answer, the vDSO call's
/// outcome, and its writes outside the valid arguments' buffers.
pub struct BadPointerRun {
    pub sys: Option<Result<isize, i32>>,
    pub vdso: badptr::CallOutcome,
    pub overwrites: Vec<Overwrite>,
}

/// Runs a bad-pointer case: the outcome of the vDSO call, and the syscall's answer.
pub fn run_bad_pointer(
    target: &Target,
    symbol: usize,
    case: &badptr::PtrCase,
) -> Result<BadPointerRun, CheckResult> {
    let c = Case::BadPointer {
        target: LiveTarget::of(target),
        symbol,
        case: case.clone(),
    };
    let out = run_child(&c, CASE_TIMEOUT, false);
    if let ChildEnd::NotStarted(why) = &out.end {
        return Err(CheckResult::unrunnable(why));
    }
    if let Some(json) = out.line(RESULT) {
        // The child could not get as far as the call (no vDSO, symbol absent, …).
        return Err(serde_json::from_str(json)
            .unwrap_or_else(|e| CheckResult::fail(format!("unreadable case result: {e}"))));
    }
    let sys = match out.line(SYSCALL).map(serde_json::from_str) {
        Some(Ok(s)) => s,
        _ => {
            return Err(CheckResult::fail(format!(
                "no syscall report: {}",
                out.describe_end()
            )))
        }
    };
    if let Some(why) = out.out_of_memory() {
        return Err(CheckResult::unrunnable(why));
    }
    let vdso = match (&out.end, out.line(VDSO)) {
        (ChildEnd::NotStarted(why), _) => return Err(CheckResult::unrunnable(why)),
        (ChildEnd::Interrupted, _) => return Err(CheckResult::skip(out.describe_end())),
        (&ChildEnd::Signaled(sig), _) => badptr::CallOutcome::Signal(sig),
        (ChildEnd::TimedOut, _) => badptr::CallOutcome::Hung,
        (_, Some(v)) => badptr::CallOutcome::Returned(
            v.trim()
                .parse()
                .map_err(|_| CheckResult::fail(format!("bad vDSO report {v:?}")))?,
        ),
        (ChildEnd::Exited(_), None) => return Err(CheckResult::fail(out.describe_end())),
    };
    let overwrites = match out.line(OVERWRITES).map(serde_json::from_str) {
        Some(Ok(o)) => o,
        Some(Err(e)) => return Err(CheckResult::fail(format!("unreadable overwrites: {e}"))),
        None => Vec::new(), // the call did not return
    };
    Ok(BadPointerRun {
        sys,
        vdso,
        overwrites,
    })
}

/// The environment variable naming a command that starts the re-executed child,
/// for a binary run by qemu-user without binfmt_misc: there the emulated program
/// cannot execute its own (foreign) executable directly. Split on whitespace, e.g.
/// `VDSOCONF_CHILD_WRAPPER="qemu-aarch64 -L /usr/aarch64-linux-gnu"`.
pub const CHILD_WRAPPER_ENV: &str = "VDSOCONF_CHILD_WRAPPER";

/// The command that starts `exe` (through the wrapper, if one is set), and the
/// name of the program it executes, for errors.
fn child_command(exe: &std::path::Path) -> (Command, String) {
    let wrapper = std::env::var(CHILD_WRAPPER_ENV).unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(exe);
            (c, format!("{program} (from {CHILD_WRAPPER_ENV})"))
        }
        None => (Command::new(exe), exe.display().to_string()),
    }
}

/// This executable's path. Without `/proc` (a bare container, an early boot),
/// the kernel's own record of the path it was started by (`AT_EXECFN`) serves.
pub fn own_executable() -> Result<std::path::PathBuf, String> {
    if let Ok(exe) = std::env::current_exe() {
        return Ok(exe);
    }
    // SAFETY: getauxval reads the auxiliary vector; AT_EXECFN is a pointer to a
    // NUL-terminated string in the initial stack, alive for the whole process.
    let execfn = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    if execfn.is_null() {
        return Err("cannot find this executable (no /proc/self/exe and no AT_EXECFN)".into());
    }
    // SAFETY: as above; the string is never written to.
    let bytes = unsafe { std::ffi::CStr::from_ptr(execfn) }.to_bytes();
    let path = std::path::PathBuf::from(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes),
    );
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "cannot find this executable (no /proc/self/exe, and {} is not a file)",
            path.display()
        ))
    }
}

/// An anonymous in-memory file holding `json`, positioned at its start: the
/// child's standard input. (A pipe would need a writer while the child runs, and a
/// child that died early would make that writer's process take SIGPIPE.)
fn case_file(json: &str) -> std::io::Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create reads a NUL-terminated name and returns a new
    // descriptor (or -1), which the File below then owns alone.
    let fd = unsafe { libc::memfd_create(c"vdsoconf-case".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(json.as_bytes())?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

/// Starts the current executable as `case`; kills it at `timeout`.
pub fn run_child(case: &Case, timeout: Duration, inherit_stderr: bool) -> ChildOutput {
    let not_started = |why: String| ChildOutput {
        end: ChildEnd::NotStarted(why),
        stdout: String::new(),
        stderr: String::new(),
    };
    let exe = match own_executable() {
        Ok(e) => e,
        Err(e) => return not_started(e),
    };
    let json = serde_json::to_string(case).expect("a Case serializes");
    let (mut command, program) = child_command(&exe);
    if matches!(case, Case::TimensInside { .. }) {
        // std spawns with posix_spawn (clone with CLONE_VM|CLONE_VFORK) unless a
        // pre_exec hook forces fork+exec. Kernels before 6.x refuse CLONE_VM into a
        // new time namespace with EINVAL (seen on Debian's 6.1), so fork here.
        use std::os::unix::process::CommandExt;
        // SAFETY: the hook does nothing, so it is async-signal-safe.
        unsafe {
            command.pre_exec(|| Ok(()));
        }
    }
    let case_input = match case_file(&json) {
        Ok(f) => f,
        Err(e) => return not_started(format!("cannot hand the case to its child: {e}")),
    };
    let mut child = match command
        .arg(CASE_FLAG)
        .stdin(Stdio::from(case_input))
        .stdout(Stdio::piped())
        .stderr(if inherit_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return not_started(format!("cannot start {program}: {e}")),
    };
    // Drain stdout on a thread so a chatty child cannot block on a full pipe. Not
    // in a process that has entered a new time namespace for its children: there,
    // kernels before 6.x refuse to create threads (EINVAL); its one child reports a
    // few lines, well under a pipe's buffer, read after it ends.
    let mut stdout = child.stdout.take().expect("piped");
    let (reader, mut direct_stdout) = if matches!(case, Case::TimensInside { .. }) {
        (None, Some(stdout))
    } else {
        // A small stack: under a tight address-space limit a default one (2 MiB)
        // is what fails first.
        let reader = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                let mut s = String::new();
                let _ = stdout.read_to_string(&mut s);
                s
            });
        match reader {
            Ok(r) => (Some(r), None),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return not_started(format!("cannot start a thread to read the case: {e}"));
            }
        }
    };
    let deadline = Instant::now() + timeout;
    let end = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                use std::os::unix::process::ExitStatusExt;
                break match status.signal() {
                    Some(sig) => ChildEnd::Signaled(sig),
                    None => ChildEnd::Exited(status.code().unwrap_or(-1)),
                };
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break ChildEnd::TimedOut;
            }
            Ok(None) if crate::signals::received().is_some() => {
                let _ = child.kill();
                let _ = child.wait();
                break ChildEnd::Interrupted;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return not_started(format!("waiting for the case: {e}")),
        }
    };
    let mut stderr = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    let stdout = match reader {
        Some(r) => r.join().unwrap_or_default(),
        None => {
            let mut s = String::new();
            if let Some(out) = direct_stdout.as_mut() {
                let _ = out.read_to_string(&mut s);
            }
            s
        }
    };
    ChildOutput {
        end,
        stdout,
        stderr,
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
    let jobs = crate::bench::candidates(target)
        .into_iter()
        .map(|i| {
            let sym = &target.spec.symbols[i];
            let case = Case::Bench {
                target: LiveTarget::of(target),
                symbol: i,
            };
            (format!("{}@{}", sym.name, sym.version), case)
        })
        .collect();
    run_bench_cases(jobs, BENCH_TIMEOUT)
}

/// Runs each labelled case as a bench child killed at `timeout`; a case that
/// ends without its rows is a failure of that label.
pub fn run_bench_cases(jobs: Vec<(String, Case)>, timeout: Duration) -> BenchRun {
    let mut run = BenchRun::default();
    for (symbol, case) in jobs {
        let out = run_child(&case, timeout, true);
        if out.end == ChildEnd::Interrupted {
            run.interrupted = true;
            break;
        }
        let reason = match (&out.end, out.line(BENCH)) {
            (ChildEnd::Exited(_), Some(json)) => {
                match serde_json::from_str::<Result<Vec<_>, String>>(json) {
                    Ok(Ok(rows)) => {
                        run.rows.extend(rows);
                        continue;
                    }
                    Ok(Err(e)) => e,
                    Err(e) => format!("unreadable bench report: {e}"),
                }
            }
            (ChildEnd::TimedOut, _) => {
                format!("hung: no answer within {} s, killed", timeout.as_secs())
            }
            (ChildEnd::Signaled(sig), _) => {
                format!("the call killed its process with {}", signal_name(*sig))
            }
            _ => out.describe_end(),
        };
        run.failures
            .push(vdsoconf_reports::bench::BenchFailure { symbol, reason });
    }
    run
}

/// The least address space (`ulimit -v`) a run is started with: twice what a full
/// x86_64 run was measured to need (14 MB).
pub const MIN_ADDRESS_SPACE: u64 = 32 << 20;
/// The fewest file descriptors (`ulimit -n`) a run is started with: a full run
/// was measured to need 10.
pub const MIN_OPEN_FILES: u64 = 16;

/// Refuses, in one line, to start live checks on a machine that cannot run them:
/// limits below what a run needs, or no way to start the isolated child (too few
/// processes, no executable to re-execute, a broken `VDSOCONF_CHILD_WRAPPER`).
pub fn preflight() -> Result<(), String> {
    let limit = |resource, name: &str, unit: u64, least: u64, units: &str| {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct it is given.
        if unsafe { libc::getrlimit(resource, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
            return Ok(());
        }
        #[allow(clippy::useless_conversion)] // rlim_t is u32 on some 32-bit targets
        let cur = u64::from(r.rlim_cur);
        if cur < least {
            return Err(format!(
                "ulimit {name} is {}{units}, and the live checks need at least {}{units}: raise it, or check an image with --image",
                cur / unit,
                least / unit
            ));
        }
        Ok(())
    };
    limit(libc::RLIMIT_AS, "-v", 1024, MIN_ADDRESS_SPACE, " KiB")?;
    limit(libc::RLIMIT_NOFILE, "-n", 1, MIN_OPEN_FILES, "")?;
    let case = Case::SelfTest {
        action: SelfTestAction::Pass,
    };
    match run_child(&case, CASE_TIMEOUT, false) {
        out if out.line(RESULT).is_some() => Ok(()),
        out => Err(format!(
            "cannot run a check in a child process, as every live check does: {}",
            out.describe_end()
        )),
    }
}
