//! The child's side of one fuzzed call: what its symbolic arguments stand for
//! made real (a live or dead thread, a reaped child, an fd), then the call made
//! through the vDSO and the syscall. Runs in a throwaway single-threaded child:
//! the call may kill it, and it may fork (before it starts a thread).

use super::call::{ClockArg, FdKind, FuzzCall, RandomArgs, StateCase, TimeOffsets, Whose};
use crate::checks::live::badptr::{run_case, PtrCase};
use crate::checks::live::clocks::ClockCase;
use crate::checks::live::served::{install_fallback_trap, Service};
use crate::checks::live::timens;
use crate::checks::CallOutcome;
use crate::checks::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::vdso::process::in_new_time_namespace;
use crate::vdso::process::{fork_exchange, thread_exists};
use crate::vdso::syscall::{getpid, gettid, Errno};
use crate::vdso::Getrandom;
use crate::vdso::Resolved;
use std::fs::File;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// What the child found.
#[derive(Debug)]
pub enum Executed {
    /// Valid pointers: the kind's judge compared the answers (in the child, so
    /// that it could read the syscall before and after).
    Judged(CheckResult),
    /// A bad pointer: the vDSO's raw return value; the syscall's answer went to
    /// `report` before the call.
    Returned(i64),
}

/// Makes `call` of `f` (see [`Executed`]).
pub fn execute(
    f: Resolved,
    call: &FuzzCall,
    report: &mut dyn FnMut(Option<Result<isize, Errno>>),
) -> Result<Executed, CheckResult> {
    let info = kind_info(f.kind());
    let live = info
        .live
        .ok_or_else(|| CheckResult::skip(format!("a {} is not called", info.name)))?;
    let world = call.clock.map(World::make).transpose()?;
    let clock = call.clock.zip(world.as_ref()).map(|(c, w)| ClockCase {
        id: c.id(w.pid, w.fd),
        label: c.label(),
    });
    if let Some(offsets) = call.timens {
        if !call.pointers_valid() || world.as_ref().is_some_and(|w| w.pid != 0 || w.fd != -1) {
            return Err(CheckResult::fail(
                "a call in a time namespace takes valid pointers and a plain clock id",
            ));
        }
        return in_time_namespace(offsets, || live.fuzz(f, call, clock)).map(Executed::Judged);
    }
    let executed = if call.pointers_valid() {
        let judged = live.fuzz(f, call, clock);
        Executed::Judged(match (call.clock, clock) {
            (Some(arg @ (ClockArg::Cpu { .. } | ClockArg::Fd(_))), Some(case)) => {
                named_symbolically(judged, case.id, arg)
            }
            _ => judged,
        })
    } else {
        let case = PtrCase {
            args: call.pointers.clone(),
            clock: clock.map_or(0, |c| c.id),
        };
        Executed::Returned(run_case(f, &case, report).map_err(CheckResult::fail)?)
    };
    drop(world);
    Ok(executed)
}

/// Which path `call` of `f` takes (valid pointers, outside a time namespace):
/// the call made through the vDSO alone under the served group's fallback
/// trap, which sees every system call it makes. The trap (a seccomp filter
/// and its listener thread) stays for the rest of this process: only a child
/// of its own may ask.
pub fn observe_path(f: Resolved, call: &FuzzCall) -> Result<Service, CheckResult> {
    if !call.pointers_valid() || call.timens.is_some() {
        return Err(CheckResult::skip(
            "the path is watched for calls with valid pointers outside a time namespace",
        ));
    }
    let info = kind_info(f.kind());
    let live = info
        .live
        .ok_or_else(|| CheckResult::skip(format!("a {} is not called", info.name)))?;
    let world = call.clock.map(World::make).transpose()?;
    let clock = call
        .clock
        .zip(world.as_ref())
        .map_or(0, |(c, w)| c.id(w.pid, w.fd));
    let trap = || install_fallback_trap().map_err(CheckResult::unrunnable);
    let observed = match (call.random, f.handle::<Getrandom>()) {
        (Some(args), Ok(g)) => getrandom_path(g, args, &trap)?,
        _ => {
            let mut observed = Err(CheckResult::fail("the kind gave no function to call"));
            live.pointers(f, &mut |p| {
                observed = trap().map(|()| {
                    Service::of(|| p.vdso_once(clock).map_err(|_| libc::EINVAL)?.map(|_| ()))
                });
            })
            .map_err(CheckResult::fail)?;
            observed?
        }
    };
    drop(world);
    Ok(observed)
}

/// getrandom's path for `args`: its state made as the call's (the warm-up
/// that seeds it done before the trap), then the call under it.
fn getrandom_path(
    f: Getrandom,
    args: RandomArgs,
    trap: &dyn Fn() -> Result<(), CheckResult>,
) -> Result<Service, CheckResult> {
    let mut state = f.state().map_err(CheckResult::fail)?;
    let _ = f.fill(&mut [0u8; 1], 0, &state);
    if args.state == StateCase::Zeroed {
        state.zero();
    }
    let mut buf = vec![0u8; args.len];
    let (offset, len) = match args.state {
        StateCase::Misaligned => (1, state.len()),
        StateCase::Short => (0, state.len() - 1),
        StateCase::Long => (0, state.len() + 1),
        _ => (0, state.len()),
    };
    trap()?;
    Ok(Service::of(|| {
        f.fill_at(&mut buf, args.flags, &state, offset, len)
            .unwrap_or(Err(libc::EINVAL))
            .map(|_| ())
    }))
}

/// `judged` run in a grandchild in a new time namespace with `offsets` (added
/// to this namespace's own), its verdict carried back as JSON; a grandchild
/// that dies is a crash of the call. `Err`: the machine allows no time
/// namespace here (no CAP_SYS_ADMIN, no CONFIG_TIME_NS), a call not made.
fn in_time_namespace(
    offsets: TimeOffsets,
    judged: impl FnOnce() -> CheckResult,
) -> Result<CheckResult, CheckResult> {
    let refused = |r: CheckResult| match r.verdict {
        crate::checks::Verdict::Skip { reason } => reason,
        other => format!("{other:?}"),
    };
    let own = timens::own_offsets().map_err(|r| CheckResult::unrunnable(refused(r)))?;
    let wanted = timens::Offsets {
        monotonic: i128::from(offsets.monotonic) * timens::NS,
        boottime: i128::from(offsets.boottime) * timens::NS,
    };
    let enter = || timens::enter_namespace(own, wanted).map_err(refused);
    let inside = || serde_json::to_vec(&judged()).unwrap_or_default();
    let (bytes, code) = in_new_time_namespace(enter, inside).map_err(CheckResult::unrunnable)?;
    match (serde_json::from_slice::<CheckResult>(&bytes), code) {
        (Ok(result), _) => Ok(result),
        (Err(_), Some(code)) if code > 128 => Ok(super::died(CallOutcome::Signal(code - 128))),
        (Err(e), code) => Ok(CheckResult::fail(format!(
            "the call in the time namespace answered nothing readable ({e}; exit {code:?})"
        ))),
    }
}

/// `result` with the number of a clock made of a pid, tid or fd (which
/// differs run to run) shown as what it is made of, so that the same call
/// is reported the same way every time.
fn named_symbolically(result: CheckResult, id: i32, arg: ClockArg) -> CheckResult {
    if !matches!(result.verdict, crate::checks::Verdict::Fail { .. }) {
        return result;
    }
    let (number, name) = (format!("({id})"), format!("({arg})"));
    let problems = result
        .problems_with_symptoms()
        .into_iter()
        .map(|(message, symptom)| Problem::new(symptom, message.replace(&number, &name)))
        .collect();
    CheckResult::from_symptoms(problems).with_notes(result.notes)
}

/// The process, thread or fd a clock id is made of, kept until the call is made.
struct World {
    pid: i32,
    fd: i32,
    _file: Option<File>,
    /// A thread alive until this is dropped.
    live: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl World {
    fn make(clock: ClockArg) -> Result<World, CheckResult> {
        let mut world = World {
            pid: 0,
            fd: -1,
            _file: None,
            live: None,
        };
        match clock {
            ClockArg::Id(_) => {}
            ClockArg::Cpu { of, .. } => world.pid = world.whose(of)?,
            ClockArg::Fd(kind) => {
                let file = File::open("/dev/null")
                    .map_err(|e| CheckResult::unrunnable(format!("open /dev/null: {e}")))?;
                world.fd = std::os::fd::AsRawFd::as_raw_fd(&file);
                if kind == FdKind::NotAClock {
                    world._file = Some(file);
                }
            }
        }
        Ok(world)
    }

    fn whose(&mut self, of: Whose) -> Result<i32, CheckResult> {
        let refused =
            |what: &str, e: std::io::Error| CheckResult::unrunnable(format!("{what}: {e}"));
        Ok(match of {
            Whose::Zero => 0,
            Whose::Process => getpid(),
            Whose::Thread => gettid(),
            Whose::Parent => std::os::unix::process::parent_id() as i32,
            Whose::Init => 1,
            Whose::DeadProcess => {
                // Forked while this process has one thread: the child says its
                // pid and exits; it is reaped before the call.
                let (_, child) = fork_exchange(|| getpid().to_ne_bytes(), || [0; 4])
                    .map_err(|e| refused("fork", e))?;
                child.map_or(-1, i32::from_ne_bytes)
            }
            Whose::DeadThread => {
                let tid = std::thread::Builder::new()
                    .spawn(gettid)
                    .map_err(|e| refused("start a thread", e))?
                    .join()
                    .unwrap_or(-1);
                // The join returns before the kernel has released the id; until
                // then the syscall still finds the thread, and the answer
                // would depend on when it is asked.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while thread_exists(tid) {
                    if std::time::Instant::now() > deadline {
                        return Err(CheckResult::unrunnable(format!(
                            "thread {tid} was joined but still exists after 5 s"
                        )));
                    }
                    std::thread::yield_now();
                }
                tid
            }
            Whose::LiveThread => {
                let (tid_tx, tid_rx) = mpsc::channel();
                let (stop_tx, stop_rx) = mpsc::channel::<()>();
                let thread = std::thread::Builder::new()
                    .spawn(move || {
                        let _ = tid_tx.send(gettid());
                        let _ = stop_rx.recv();
                    })
                    .map_err(|e| refused("start a thread", e))?;
                let tid = tid_rx.recv().unwrap_or(-1);
                self.live = Some((stop_tx, thread));
                tid
            }
        })
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.live.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}
