//! The case server: this executable, re-executed once and kept, which forks a
//! child for each case it is handed instead of the runner executing itself anew
//! for every case. Under qemu-user or a TCG kernel an exec is the costly part of
//! a short case (starting qemu, translating the start-up code, reading the spec).
//!
//! The server is single-threaded, so forking it is sound (the harness that asks
//! is multi-threaded and is never forked). It reads one request per line on its
//! standard input and answers each with one line: the [`ChildOutput`] of the
//! case's child, which it watched with the same deadline, process-group ending
//! and grace period as a child started directly. It ends when its standard
//! input does (its parent is gone). A child dies with the server.

use super::spawn::{child_command, own_executable, ChildEnd, ChildOutput, GRACE};
use super::{ChildCase, LiveTarget, Task};
use std::fs::File;
use std::io::{BufRead, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vdsoconf_suite::vdso::forked::{fork_case, readable, wait_child, Ended, Forked};
use vdsoconf_suite::vdso::process::send_signal;

/// The hidden argument that makes any vdsoconf executable a case server.
pub const SERVER_FLAG: &str = "--vdsoconf-case-server";

/// One case for the server: its target when it is not the one the server has
/// (a spec is tens of KiB of JSON, slow to read under emulation), the task,
/// for how long, and where its stderr goes.
#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    target: Option<Arc<LiveTarget>>,
    task: Task,
    timeout_ms: u64,
    inherit_stderr: bool,
}

/// How much longer than a case's own timeout (and the grace period of its
/// ending) the parent waits for the server's answer before it gives up on the
/// server.
const SERVER_SLACK: Duration = Duration::from_secs(30);

// ---- the server's side ----

/// The server's main loop; returns its exit code.
pub fn serve() -> i32 {
    super::child::report_steps();
    let mut lines = std::io::stdin().lock().lines();
    let mut target = None;
    while let Some(Ok(line)) = lines.next() {
        let out = match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                if let Some(new) = &request.target {
                    new.prepare();
                    target = Some(Arc::clone(new));
                }
                run_forked(request, &target)
            }
            Err(e) => ChildOutput::not_started(format!("the case server's request: {e}")),
        };
        let answer = serde_json::to_string(&out).expect("a ChildOutput serializes");
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{answer}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    0
}

/// Forks the case's child and watches it; the child runs the case (for
/// `target`, the last one the server was handed) and exits.
fn run_forked(request: Request, target: &Option<Arc<LiveTarget>>) -> ChildOutput {
    let timeout = Duration::from_millis(request.timeout_ms);
    match fork_case(request.inherit_stderr) {
        Err(e) => ChildOutput::not_started(format!("cannot fork a child for the case: {e}")),
        Ok(Forked::Child) => {
            super::child::run_case_catching(ChildCase {
                target: target.clone(),
                task: request.task,
            });
            std::process::exit(0)
        }
        Ok(Forked::Parent {
            pid,
            stdout,
            stderr,
        }) => watch(pid, stdout, stderr, timeout),
    }
}

/// A pipe of the child's, read as it comes.
struct Output {
    file: Option<File>,
    bytes: Vec<u8>,
}

impl Output {
    fn new(file: Option<File>) -> Self {
        Output {
            file,
            bytes: Vec::new(),
        }
    }

    /// Reads what is there; at its end the pipe is closed.
    fn read_some(&mut self) {
        let mut chunk = [0u8; 4096];
        if let Some(f) = &mut self.file {
            match f.read(&mut chunk) {
                Ok(n @ 1..) => self.bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                _ => self.file = None,
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Waits for the child `pid` until it has ended and closed its output, or until
/// `timeout`, when its process group is ended (SIGTERM, then SIGKILL after
/// [`GRACE`]).
fn watch(pid: i32, stdout: File, stderr: Option<File>, timeout: Duration) -> ChildOutput {
    let deadline = Instant::now() + timeout;
    let mut outputs = [Output::new(Some(stdout)), Output::new(stderr)];
    let mut ended: Option<Ended> = None;
    let mut ended_by = None;
    let mut nap = Duration::from_millis(1);
    let end = loop {
        if ended.is_none() {
            match wait_child(pid, false) {
                Ok(e) => ended = e,
                Err(e) => return ChildOutput::not_started(format!("waiting for the case: {e}")),
            }
        }
        let open: Vec<usize> = (0..2).filter(|&i| outputs[i].file.is_some()).collect();
        if let (Some(e), true) = (ended, open.is_empty()) {
            break end_of(e);
        }
        let now = Instant::now();
        if now >= deadline {
            let (e, by) = end_group(pid, ended);
            ended_by = Some(by);
            break match ended {
                Some(_) => end_of(e),
                None => ChildEnd::TimedOut,
            };
        }
        let wait = (deadline - now).min(Duration::from_millis(50));
        if open.is_empty() {
            // Output closed, the process not yet reaped.
            std::thread::sleep(nap.min(wait));
            nap = (nap * 2).min(Duration::from_millis(50));
            continue;
        }
        let files: Vec<&File> = open
            .iter()
            .filter_map(|&i| outputs[i].file.as_ref())
            .collect();
        let ready = match readable(&files, wait) {
            Ok(r) => r,
            Err(e) => return ChildOutput::not_started(format!("watching the case: {e}")),
        };
        for (&i, ready) in open.iter().zip(ready) {
            if ready {
                outputs[i].read_some();
            }
        }
    };
    // After its group was ended, what the child wrote before.
    let until = Instant::now() + GRACE;
    while outputs.iter().any(|o| o.file.is_some()) && Instant::now() < until {
        for o in &mut outputs {
            if let Some(f) = &o.file {
                if matches!(
                    readable(&[f], Duration::from_millis(50)).as_deref(),
                    Ok([true])
                ) {
                    o.read_some();
                }
            }
        }
    }
    ChildOutput {
        end,
        stdout: outputs[0].text(),
        stderr: outputs[1].text(),
        ended_by,
    }
}

fn end_of(e: Ended) -> ChildEnd {
    match e {
        Ended::Exited(code) => ChildEnd::Exited(code),
        Ended::Signaled(sig) => ChildEnd::Signaled(sig),
    }
}

/// Ends the group the child leads: SIGTERM, up to [`GRACE`] for the child to
/// end, then SIGKILL to whatever is left. Returns how the child ended (as
/// `ended` if it already had) and the signal that ended the group.
fn end_group(pid: i32, ended: Option<Ended>) -> (Ended, i32) {
    let _ = send_signal(-pid, libc::SIGTERM);
    let until = Instant::now() + GRACE;
    let mut now_ended = ended;
    let mut by = libc::SIGKILL;
    while now_ended.is_none() && Instant::now() < until {
        if let Ok(Some(e)) = wait_child(pid, false) {
            now_ended = Some(e);
            by = libc::SIGTERM;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = send_signal(-pid, libc::SIGKILL);
    if ended.is_some() {
        by = libc::SIGTERM;
    }
    let e = match now_ended {
        Some(e) => e,
        None => match wait_child(pid, true) {
            Ok(Some(e)) => e,
            _ => Ended::Signaled(libc::SIGKILL),
        },
    };
    (e, by)
}

// ---- the parent's side ----

/// A running server: its process, the pipe of requests, and its answers as
/// lines read on a thread.
struct Server {
    process: Child,
    requests: ChildStdin,
    answers: Receiver<String>,
    /// The target it was last handed (kept, so that the pointer stays its own).
    has: Option<Arc<LiveTarget>>,
}

/// Servers not in use; a thread of the harness takes one (or starts one) for
/// each case, so cases run side by side as before.
static IDLE: Mutex<Vec<Server>> = Mutex::new(Vec::new());

impl Server {
    fn start() -> Result<Server, String> {
        let exe = own_executable()?;
        let (mut command, program) = child_command(&exe);
        command.arg(SERVER_FLAG);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut process = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {program} as a case server: {e}"))?;
        let (requests, stdout) = match (process.stdin.take(), process.stdout.take()) {
            (Some(i), Some(o)) => (i, o),
            _ => return Err("the case server has no pipes".into()),
        };
        let (send, answers) = std::sync::mpsc::channel();
        let reader = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = reader {
            let _ = process.kill();
            let _ = process.wait();
            return Err(format!(
                "cannot start a thread to read the case server: {e}"
            ));
        }
        Ok(Server {
            process,
            requests,
            answers,
            has: None,
        })
    }

    /// Hands the server `request` and waits for its answer. `Err` when the
    /// server itself failed (it is then of no further use).
    fn run(
        &mut self,
        case: &ChildCase,
        timeout: Duration,
        inherit_stderr: bool,
    ) -> Result<ChildOutput, String> {
        let known = match (&self.has, &case.target) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let request = Request {
            target: if known { None } else { case.target.clone() },
            task: case.task.clone(),
            timeout_ms: timeout.as_millis() as u64,
            inherit_stderr,
        };
        let line = serde_json::to_string(&request).expect("a Request serializes");
        writeln!(self.requests, "{line}")
            .and_then(|_| self.requests.flush())
            .map_err(|e| format!("cannot hand the case to the case server: {e}"))?;
        if case.target.is_some() {
            self.has = case.target.clone();
        }
        let give_up = Instant::now() + timeout + 2 * GRACE + SERVER_SLACK;
        loop {
            match self.answers.recv_timeout(Duration::from_millis(20)) {
                Ok(answer) => {
                    return serde_json::from_str(&answer)
                        .map_err(|e| format!("unreadable answer from the case server: {e}"))
                }
                Err(RecvTimeoutError::Timeout) if crate::signals::received().is_some() => {
                    return Ok(ChildOutput {
                        end: ChildEnd::Interrupted,
                        ..ChildOutput::not_started(String::new())
                    });
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() >= give_up => {
                    return Err(format!(
                        "the case server gave no answer within {} s",
                        (timeout + 2 * GRACE + SERVER_SLACK).as_secs()
                    ));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.process.try_wait().ok().flatten();
                    return Err(match status {
                        Some(s) => format!("the case server ended ({s}) before answering"),
                        None => "the case server closed its output before answering".into(),
                    });
                }
            }
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    /// Ends the server's group (a case it was running dies with it).
    fn drop(&mut self) {
        let _ = send_signal(-(self.process.id() as i32), libc::SIGKILL);
        let _ = self.process.wait();
    }
}

/// Runs `case` in a child forked by a case server (an idle one, or one started
/// for it), killed at `timeout`.
pub fn run_case(case: &ChildCase, timeout: Duration, inherit_stderr: bool) -> ChildOutput {
    let idle = || {
        let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(mut s) = idle.pop() {
            if s.alive() {
                return Some(s);
            }
        }
        None
    };
    let mut server = match idle().map(Ok).unwrap_or_else(Server::start) {
        Ok(s) => s,
        Err(why) => return ChildOutput::not_started(why),
    };
    match server.run(case, timeout, inherit_stderr) {
        Ok(out) => {
            if out.end != ChildEnd::Interrupted {
                IDLE.lock().unwrap_or_else(|p| p.into_inner()).push(server);
            }
            out
        }
        Err(why) => ChildOutput::not_started(why),
    }
}
