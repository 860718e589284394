//! One generated call of a vDSO function, as data: printed and read back as
//! text (`clock=AUX0 res=prot-none`), so a finding can be replayed, minimized
//! and turned into a C reproducer. Arguments that name something of the
//! running process (a live thread's CPU clock, a closed fd) stay symbolic here
//! and are made real by the process that makes the call.

use crate::kinds::{KindInfo, TimeNamespace};
use crate::spec::ClockId;
use crate::vdso::arena::PtrArg;
use std::fmt;

/// One call: the arguments of the kind's prototype that the generator varies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzCall {
    /// The clock id, for the clock functions.
    pub clock: Option<ClockArg>,
    /// Each pointer argument of the kind, in the order of its `outputs`.
    pub pointers: Vec<PtrArg>,
    /// getrandom's length, flags and opaque state.
    pub random: Option<RandomArgs>,
    /// getcpu: the CPU to run on, as an index into the CPUs this process may use.
    pub pin: Option<u32>,
    /// Made in a new time namespace with these offsets (valid pointers only).
    pub timens: Option<TimeOffsets>,
}

/// A time namespace's offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOffsets {
    pub monotonic: i64,
    pub boottime: i64,
}

impl FuzzCall {
    /// Whether every pointer is a valid object (the kind's own judge compares
    /// the values with the syscall's); otherwise the bad-pointer judge decides.
    pub fn pointers_valid(&self) -> bool {
        self.pointers.iter().all(|&p| p == PtrArg::Valid)
    }

    /// The call as `key=value` words, in a fixed order (see [`FuzzCall::parse`]).
    pub fn show(&self, info: &KindInfo) -> String {
        let mut words = Vec::new();
        if let Some(c) = &self.clock {
            words.push(format!("clock={c}"));
        }
        if let Some(r) = &self.random {
            words.push(format!("len={}", r.len));
            words.push(format!("flags={:#x}", r.flags));
            words.push(format!("state={}", r.state.name()));
        }
        if let Some(p) = self.pin {
            words.push(format!("pin={p}"));
        }
        if let Some(t) = self.timens {
            words.push(format!("timens={},{}", t.monotonic, t.boottime));
        }
        for (&(name, _), p) in info.outputs.iter().zip(&self.pointers) {
            words.push(format!("{name}={}", p.name()));
        }
        words.join(" ")
    }

    /// Reads the words [`FuzzCall::show`] writes for a function of kind `info`:
    /// any order; a pointer not named is valid; the clock, getrandom's length,
    /// flags and state default to MONOTONIC, 16, 0 and fresh where the kind
    /// takes them; getcpu's pin is absent unless given (its valid call then
    /// runs on the first CPU it may use; a bad-pointer call has none).
    pub fn parse(info: &KindInfo, text: &str) -> Result<FuzzCall, String> {
        let fuzz = info.fuzz;
        let mut call = FuzzCall {
            clock: info
                .takes_clock
                .then_some(ClockArg::Id(ClockId::MONOTONIC.0)),
            pointers: vec![PtrArg::Valid; info.outputs.len()],
            random: (fuzz == FuzzShape::Getrandom).then_some(RandomArgs {
                len: 16,
                flags: 0,
                state: StateCase::Fresh,
            }),
            pin: None,
            timens: None,
        };
        for word in text.split_whitespace() {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("{word:?} is not KEY=VALUE"))?;
            let bad = |what: &str| format!("{key}={value}: {what}");
            match (key, &mut call.random) {
                ("clock", _) if info.takes_clock => call.clock = Some(ClockArg::parse(value)?),
                ("len", Some(r)) => {
                    r.len = value.parse().map_err(|_| bad("not a length"))?;
                }
                ("flags", Some(r)) => r.flags = parse_u32(value).ok_or_else(|| bad("not a u32"))?,
                ("state", Some(r)) => {
                    r.state = StateCase::ALL
                        .into_iter()
                        .find(|s| s.name() == value)
                        .ok_or_else(|| bad(&format!("one of {}", StateCase::names())))?;
                }
                ("timens", _) if info.time_namespace == TimeNamespace::AsSyscall => {
                    let (m, b) = value
                        .split_once(',')
                        .ok_or_else(|| bad("MONOTONIC,BOOTTIME seconds"))?;
                    let secs = |v: &str| {
                        v.parse::<i64>()
                            .map_err(|_| bad("MONOTONIC,BOOTTIME seconds"))
                    };
                    call.timens = Some(TimeOffsets {
                        monotonic: secs(m)?,
                        boottime: secs(b)?,
                    });
                }
                ("pin", _) if fuzz == FuzzShape::Getcpu => {
                    call.pin = Some(value.parse().map_err(|_| bad("not a CPU index"))?);
                }
                _ => {
                    let at = info
                        .outputs
                        .iter()
                        .position(|&(name, _)| name == key)
                        .ok_or_else(|| {
                            format!(
                                "{key:?} is not an argument of a {} (it takes: {})",
                                info.name,
                                Self::keys(info).join(", ")
                            )
                        })?;
                    call.pointers[at] = PtrArg::ALL
                        .into_iter()
                        .find(|p| p.name() == value)
                        .ok_or_else(|| bad(&format!("one of {}", PtrArg::names())))?;
                }
            }
        }
        Ok(call)
    }

    /// The argument names a call of kind `info` takes.
    fn keys(info: &KindInfo) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if info.takes_clock {
            keys.push("clock");
        }
        match info.fuzz {
            FuzzShape::Getrandom => keys.extend(["len", "flags", "state"]),
            FuzzShape::Getcpu => keys.push("pin"),
            _ => {}
        }
        if info.time_namespace == TimeNamespace::AsSyscall {
            keys.push("timens");
        }
        keys.extend(info.outputs.iter().map(|&(name, _)| name));
        keys
    }
}

fn parse_u32(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Which arguments a kind's fuzzed calls vary, besides its clock id (when it
/// takes one) and its pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuzzShape {
    /// Not fuzzed: no generator for its arguments.
    No,
    /// The clock id (if it takes one) and the pointers.
    Plain,
    /// getcpu: the pointers, and the CPU it runs on.
    Getcpu,
    /// getrandom: the length, the flags, the opaque state, the buffer.
    Getrandom,
}

/// A clock id: a number, or one made from something of the calling process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockArg {
    Id(i32),
    /// `MAKE_PROCESS_CPUCLOCK(pid, which)`, or with `thread`
    /// `MAKE_THREAD_CPUCLOCK(tid, which)`: `(~pid << 3) | thread << 2 | which`.
    Cpu {
        of: Whose,
        which: CpuWhich,
        thread: bool,
    },
    /// `FD_TO_CLOCKID(fd)`: `(~fd << 3) | 3`.
    Fd(FdKind),
}

/// Whose CPU clock: a process or thread id the calling process finds or makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// 0: the caller itself.
    Zero,
    /// getpid().
    Process,
    /// gettid() (the same as getpid() in a single-threaded caller).
    Thread,
    /// getppid(): a live process that is not the caller.
    Parent,
    /// 1.
    Init,
    /// A thread the caller started, alive during the call.
    LiveThread,
    /// A thread the caller started and joined before the call.
    DeadThread,
    /// A child the caller forked and reaped before the call.
    DeadProcess,
}

impl Whose {
    pub const ALL: [Whose; 8] = [
        Whose::Zero,
        Whose::Process,
        Whose::Thread,
        Whose::Parent,
        Whose::Init,
        Whose::LiveThread,
        Whose::DeadThread,
        Whose::DeadProcess,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Whose::Zero => "zero",
            Whose::Process => "self",
            Whose::Thread => "own-thread",
            Whose::Parent => "parent",
            Whose::Init => "init",
            Whose::LiveThread => "live-thread",
            Whose::DeadThread => "dead-thread",
            Whose::DeadProcess => "dead-process",
        }
    }
}

/// The clock of a CPU clock id (`CPUCLOCK_PROF`, `_VIRT`, `_SCHED`, and 3,
/// which no CPU clock has: with the thread bit clear it is an fd clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuWhich {
    Prof = 0,
    Virt = 1,
    Sched = 2,
    Three = 3,
}

impl CpuWhich {
    pub const ALL: [CpuWhich; 4] = [
        CpuWhich::Prof,
        CpuWhich::Virt,
        CpuWhich::Sched,
        CpuWhich::Three,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CpuWhich::Prof => "prof",
            CpuWhich::Virt => "virt",
            CpuWhich::Sched => "sched",
            CpuWhich::Three => "3",
        }
    }
}

/// The fd of an fd clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// An open fd of /dev/null: not a clock.
    NotAClock,
    /// An fd that was opened and closed before the call.
    Closed,
}

impl FdKind {
    pub const ALL: [FdKind; 2] = [FdKind::NotAClock, FdKind::Closed];

    pub fn name(self) -> &'static str {
        match self {
            FdKind::NotAClock => "not-a-clock",
            FdKind::Closed => "closed",
        }
    }
}

impl ClockArg {
    /// The id, given the process or thread id `Whose` stands for and the fd.
    pub fn id(self, pid: i32, fd: i32) -> i32 {
        match self {
            ClockArg::Id(id) => id,
            ClockArg::Cpu { which, thread, .. } => {
                ((!pid) << 3) | (i32::from(thread) << 2) | which as i32
            }
            ClockArg::Fd(_) => ((!fd) << 3) | 3,
        }
    }

    /// What the judges call it: its name (AUX0), or what it is. A deviation
    /// names the clocks it explains by these labels.
    pub fn label(self) -> &'static str {
        match self {
            ClockArg::Id(id) => ClockId(id).name().unwrap_or(match id {
                12..=15 => "unused",
                i32::MIN..=-1 => "negative",
                _ => "beyond the last",
            }),
            ClockArg::Cpu { thread: false, .. } => "a process CPU clock",
            ClockArg::Cpu { thread: true, .. } => "a thread CPU clock",
            ClockArg::Fd(_) => "an fd clock",
        }
    }

    fn parse(text: &str) -> Result<ClockArg, String> {
        if let Some(id) = ClockId::from_name(text) {
            return Ok(ClockArg::Id(id.0));
        }
        if let Ok(id) = text.parse::<i32>() {
            return Ok(ClockArg::Id(id));
        }
        let bad = |what: &str| format!("clock={text}: {what}");
        let mut parts = text.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(kind @ ("cpu" | "thread-cpu")), Some(of), Some(which), None) => {
                Ok(ClockArg::Cpu {
                    of: Whose::ALL
                        .into_iter()
                        .find(|w| w.name() == of)
                        .ok_or_else(|| bad("an unknown process or thread"))?,
                    which: CpuWhich::ALL
                        .into_iter()
                        .find(|w| w.name() == which)
                        .ok_or_else(|| bad("not prof, virt, sched or 3"))?,
                    thread: kind == "thread-cpu",
                })
            }
            (Some("fd"), Some(fd), None, None) => Ok(ClockArg::Fd(
                FdKind::ALL
                    .into_iter()
                    .find(|f| f.name() == fd)
                    .ok_or_else(|| bad("not not-a-clock or closed"))?,
            )),
            _ => Err(bad(
                "a clock name, a number, cpu:WHOSE:WHICH, thread-cpu:WHOSE:WHICH or fd:KIND",
            )),
        }
    }
}

impl fmt::Display for ClockArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClockArg::Id(id) => match ClockId(id).name() {
                Some(name) => f.write_str(name),
                None => write!(f, "{id}"),
            },
            ClockArg::Cpu { of, which, thread } => write!(
                f,
                "{}:{}:{}",
                if thread { "thread-cpu" } else { "cpu" },
                of.name(),
                which.name()
            ),
            ClockArg::Fd(kind) => write!(f, "fd:{}", kind.name()),
        }
    }
}

/// getrandom's arguments besides its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomArgs {
    pub len: usize,
    pub flags: u32,
    pub state: StateCase,
}

/// The opaque state a getrandom call is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateCase {
    /// Just allocated (generation 0: the first call seeds it).
    Fresh,
    /// Used by a call before.
    Reused,
    /// Used, then zeroed (as the kernel may drop its pages).
    Zeroed,
    /// One byte past the start of an allocated state (still within its page).
    Misaligned,
    /// `opaque_len` one byte short of the state's size (must fall back).
    Short,
    /// `opaque_len` one byte too long (must fall back).
    Long,
    /// Used by another thread at the same time: a use the kernel calls unsafe
    /// (one state per thread), so only what each call returns is judged.
    SharedThreads,
    /// Used, then the caller forks and the child uses the copy.
    AfterFork,
}

impl StateCase {
    pub const ALL: [StateCase; 8] = [
        StateCase::Fresh,
        StateCase::Reused,
        StateCase::Zeroed,
        StateCase::Misaligned,
        StateCase::Short,
        StateCase::Long,
        StateCase::SharedThreads,
        StateCase::AfterFork,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StateCase::Fresh => "fresh",
            StateCase::Reused => "reused",
            StateCase::Zeroed => "zeroed",
            StateCase::Misaligned => "misaligned",
            StateCase::Short => "short",
            StateCase::Long => "long",
            StateCase::SharedThreads => "shared-threads",
            StateCase::AfterFork => "after-fork",
        }
    }

    fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// getrandom's flags as the judges name them: the known bits in a fixed
/// order (INSECURE, RANDOM, NONBLOCK), then any other bits in hex; "no flags"
/// for 0. A deviation names the flags it explains by this label.
pub fn flags_label(flags: u32) -> String {
    const KNOWN: [(u32, &str); 3] = [
        (0x4, "GRND_INSECURE"),
        (0x2, "GRND_RANDOM"),
        (0x1, "GRND_NONBLOCK"),
    ];
    let mut parts: Vec<String> = KNOWN
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| name.to_string())
        .collect();
    let other = flags & !0x7;
    if other != 0 {
        parts.push(format!("{other:#x}"));
    }
    if parts.is_empty() {
        "no flags".into()
    } else {
        parts.join("|")
    }
}
