//! Starting a child and waiting for it with a deadline: the one spawn loop of
//! the runners, used for the isolated cases and for `vdsoconf boot`'s qemu.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a child ended and what it printed.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ChildOutput {
    pub end: ChildEnd,
    pub stdout: String,
    pub stderr: String,
    /// The signal that ended its process group when it had to be stopped
    /// (SIGTERM, or SIGKILL when it outlived the grace period).
    pub ended_by: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChildEnd {
    /// The child could not be started (or watched): the machine's doing.
    NotStarted(String),
    Exited(i32),
    Signaled(i32),
    TimedOut,
    /// Killed because the main process was told to stop (its result is dropped).
    Interrupted,
    /// Killed because it ran on after its output was complete (see
    /// [`Spawn::complete`]).
    Stopped,
}

impl ChildOutput {
    /// A child that could not be started (or watched), and why.
    pub fn not_started(why: String) -> Self {
        ChildOutput {
            end: ChildEnd::NotStarted(why),
            stdout: String::new(),
            stderr: String::new(),
            ended_by: None,
        }
    }

    /// Why the child died for want of memory (Rust aborts when an allocation fails),
    /// if it did: the machine's limit, not the vDSO.
    pub(super) fn out_of_memory(&self) -> Option<String> {
        if self.end != ChildEnd::Signaled(libc::SIGABRT) {
            return None;
        }
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains("memory allocation of"))?;
        Some(format!("the case ran out of memory ({})", line.trim()))
    }

    /// How the child failed by itself: killed by a signal, or hung until `timeout`.
    pub fn crashed_or_hung(&self, timeout: Duration) -> Option<String> {
        match self.end {
            ChildEnd::Signaled(sig) => Some(format!(
                "the call killed its process with {}",
                signal_name(sig)
            )),
            ChildEnd::TimedOut => Some(format!(
                "hung: no answer within {} s, its process group ended with {}",
                timeout.as_secs(),
                signal_name(self.ended_by.unwrap_or(libc::SIGKILL))
            )),
            _ => None,
        }
    }

    pub fn describe_end(&self) -> String {
        match &self.end {
            ChildEnd::NotStarted(why) => why.clone(),
            &ChildEnd::Signaled(sig) => format!("killed with {}", signal_name(sig)),
            ChildEnd::TimedOut => format!(
                "hung: its process group ended at the timeout with {}",
                signal_name(self.ended_by.unwrap_or(libc::SIGKILL))
            ),
            ChildEnd::Interrupted => "stopped: the run was interrupted".into(),
            ChildEnd::Stopped => "stopped: it ran on after its output was complete".into(),
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

/// The environment variable naming a command that starts the re-executed child,
/// for a binary run by qemu-user without binfmt_misc: there the emulated program
/// cannot execute its own (foreign) executable directly. Split on whitespace, e.g.
/// `VDSOCONF_CHILD_WRAPPER="qemu-aarch64 -L /usr/aarch64-linux-gnu"`.
pub const CHILD_WRAPPER_ENV: &str = "VDSOCONF_CHILD_WRAPPER";

/// The command that starts `exe` (through the wrapper, if one is set), and the
/// name of the program it executes, for errors.
pub(super) fn child_command(exe: &std::path::Path) -> (Command, String) {
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
    let Some(path) = vdsoconf_suite::vdso::process::exec_path() else {
        return Err("cannot find this executable (no /proc/self/exe and no AT_EXECFN)".into());
    };
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
fn input_file(json: &str) -> std::io::Result<std::fs::File> {
    vdsoconf_suite::vdso::process::memory_file(json.as_bytes())
}

/// How to run a child: its standard input, where its stderr goes, and whether
/// its output may be read on threads.
pub struct Spawn {
    pub stdin: Stdio,
    pub inherit_stderr: bool,
    /// False in a process that entered a new time namespace for its children:
    /// kernels before 6.x refuse it threads (EINVAL). Its one child says little,
    /// well under a pipe's buffer, read after it ends.
    pub threads: bool,
    /// Force fork+exec instead of posix_spawn (clone with CLONE_VM|CLONE_VFORK):
    /// kernels before 6.x refuse CLONE_VM into a new time namespace (EINVAL, seen
    /// on Debian's 6.1).
    pub fork: bool,
    /// Whether the output so far is all there will be worth reading (a booted
    /// machine's results on standard output; QEMU saying on standard error that
    /// KVM stopped its guest): tested on each stream alone; a child still
    /// running [`AFTER_COMPLETE`] later is killed and ends
    /// [`ChildEnd::Stopped`]. Needs `threads`.
    pub complete: Option<fn(&[u8]) -> bool>,
}

/// What a pipe's reader watches for: the output's test of completeness, and the
/// flag it raises.
type Watch = (fn(&[u8]) -> bool, Arc<AtomicBool>);

/// How long a stopped child's process group has between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Ends `child` and every process of its group (it leads one: see
/// [`run_until`]): SIGTERM, up to [`GRACE`] for it to exit, then SIGKILL to
/// whatever of the group is left; reaps it. Returns the signal that ended it.
fn end_group(child: &mut std::process::Child) -> i32 {
    use vdsoconf_suite::vdso::process::send_signal;
    let group = -(child.id() as i32);
    let _ = send_signal(group, libc::SIGTERM);
    let until = Instant::now() + GRACE;
    let mut ended_by = libc::SIGKILL;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            ended_by = libc::SIGTERM;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Whatever else of the group ignored SIGTERM, or the child itself.
    let _ = send_signal(group, libc::SIGKILL);
    let _ = child.wait();
    ended_by
}

/// How long a child may run on once its output is complete: a machine whose
/// `/init` reset it is gone well within a second under TCG.
pub const AFTER_COMPLETE: Duration = Duration::from_secs(5);

/// Runs `command` (named `program` in errors) and waits for it: killed at
/// `timeout`, or as soon as the main process is told to stop; a child that
/// cannot be started (or watched) is the machine's doing.
pub fn run_until(
    mut command: Command,
    program: &str,
    how: Spawn,
    timeout: Duration,
) -> ChildOutput {
    let not_started = ChildOutput::not_started;
    // The child leads a process group of its own, so that whatever it starts
    // (qemu's helpers, a case's forks) ends with it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if how.fork {
        vdsoconf_suite::vdso::process::fork_before_exec(&mut command);
    }
    let mut child = match command
        .stdin(how.stdin)
        .stdout(Stdio::piped())
        .stderr(if how.inherit_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return not_started(format!("cannot start {program}: {e}")),
    };
    // Drain the pipes on threads so a chatty child cannot block on a full one.
    // A small stack: under a tight address-space limit a default one (2 MiB) is
    // what fails first.
    let complete = Arc::new(AtomicBool::new(false));
    let drain = |pipe: Option<Box<dyn Read + Send>>,
                 watch: Option<Watch>|
     -> Result<Option<std::thread::JoinHandle<Vec<u8>>>, String> {
        match pipe {
            Some(mut p) if how.threads => std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || {
                    let mut v = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n @ 1..) = p.read(&mut chunk) {
                        v.extend_from_slice(&chunk[..n]);
                        if let Some((done, flag)) = &watch {
                            if !flag.load(Ordering::Relaxed) && done(&v) {
                                flag.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    v
                })
                .map(Some)
                .map_err(|e| format!("cannot start a thread to read the child: {e}")),
            _ => Ok(None),
        }
    };
    let mut stdout_pipe = child
        .stdout
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let mut stderr_pipe = child
        .stderr
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let (out_reader, err_reader) = if how.threads {
        let watch = how.complete.map(|done| (done, Arc::clone(&complete)));
        match (
            drain(stdout_pipe.take(), watch.clone()),
            drain(stderr_pipe.take(), watch),
        ) {
            (Ok(o), Ok(e)) => (o, e),
            (Err(why), _) | (_, Err(why)) => {
                let _ = child.kill();
                let _ = child.wait();
                return not_started(why);
            }
        }
    } else {
        (None, None)
    };
    let deadline = Instant::now() + timeout;
    let mut completed_at: Option<Instant> = None;
    let mut ended_by = None;
    // Short cases end in milliseconds, a boot takes minutes: poll often at first.
    let mut nap = Duration::from_millis(1);
    let end = loop {
        if completed_at.is_none() && complete.load(Ordering::Relaxed) {
            completed_at = Some(Instant::now());
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                use std::os::unix::process::ExitStatusExt;
                break match status.signal() {
                    Some(sig) => ChildEnd::Signaled(sig),
                    None => ChildEnd::Exited(status.code().unwrap_or(-1)),
                };
            }
            Ok(None) if Instant::now() >= deadline => {
                ended_by = Some(end_group(&mut child));
                break ChildEnd::TimedOut;
            }
            Ok(None) if crate::signals::received().is_some() => {
                ended_by = Some(end_group(&mut child));
                break ChildEnd::Interrupted;
            }
            Ok(None) if completed_at.is_some_and(|t| t.elapsed() >= AFTER_COMPLETE) => {
                ended_by = Some(end_group(&mut child));
                break ChildEnd::Stopped;
            }
            Ok(None) => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(50));
            }
            Err(e) => return not_started(format!("waiting for {program}: {e}")),
        }
    };
    let collect = |reader: Option<std::thread::JoinHandle<Vec<u8>>>,
                   pipe: Option<Box<dyn Read + Send>>| {
        let bytes = match (reader, pipe) {
            (Some(r), _) => r.join().unwrap_or_default(),
            (None, Some(mut p)) => {
                let mut v = Vec::new();
                let _ = p.read_to_end(&mut v);
                v
            }
            (None, None) => Vec::new(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    };
    ChildOutput {
        end,
        stdout: collect(out_reader, stdout_pipe),
        stderr: collect(err_reader, stderr_pipe),
        ended_by,
    }
}

/// Starts this executable (through the wrapper, if set) with `args`, `input` as
/// its standard input; see [`run_until`].
pub fn run_self(args: &[&str], input: &str, mut how: Spawn, timeout: Duration) -> ChildOutput {
    let not_started = ChildOutput::not_started;
    let exe = match own_executable() {
        Ok(e) => e,
        Err(e) => return not_started(e),
    };
    match input_file(input) {
        Ok(f) => how.stdin = Stdio::from(f),
        Err(e) => return not_started(format!("cannot hand the case to its child: {e}")),
    }
    let (mut command, program) = child_command(&exe);
    command.args(args);
    run_until(command, &program, how, timeout)
}

pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        vdsoconf_suite::vdso::syscall::SIGBUS => "SIGBUS",
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
