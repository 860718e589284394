//! The plan: which checks a spec generates for a target, named for filtering.

use super::live::badptr::{cases_for, PtrCase};
use crate::kinds::{kind_info, ReadsClock, TimeNamespace};
use crate::spec::{ArchSpec, ClockId, KernelVersion, Provider, SymbolKind, SymbolSpec};
use serde::{Deserialize, Serialize};

/// Check groups, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Is there a vDSO at all?
    Vdso,
    /// Soname and version definitions.
    Image,
    /// Each expected symbol is exported at its version.
    Resolve,
    /// Each callable symbol returns sane values for valid arguments.
    Call,
    /// Each function agrees with the raw syscall.
    CrossCheck,
    /// Clocks never go backwards.
    Monotonic,
    /// Bad pointers give EFAULT or SIGSEGV as the spec allows.
    BadPointer,
    /// Calls are served in user space or fall back, as the spec says.
    Served,
    /// Time namespace offsets are applied.
    TimeNamespace,
    /// Signal trampolines are in place.
    Trampoline,
    /// Symbols the image has that the spec does not know.
    Inventory,
}

/// What a check group needs of the machine. A new group declares it here, beside
/// its name and its column, and every runner and report follows.
impl Group {
    /// Every group, in the order they are reported.
    pub const ALL: [Group; 11] = [
        Group::Vdso,
        Group::Image,
        Group::Resolve,
        Group::Call,
        Group::CrossCheck,
        Group::Monotonic,
        Group::BadPointer,
        Group::Served,
        Group::TimeNamespace,
        Group::Trampoline,
        Group::Inventory,
    ];

    /// Whether its checks call the live vDSO (so run in an isolated child, and
    /// cannot run on an image file or a probe's observation); the others read the
    /// image in process.
    pub fn calls_the_vdso(self) -> bool {
        matches!(
            self,
            Group::Call
                | Group::CrossCheck
                | Group::Monotonic
                | Group::BadPointer
                | Group::Served
                | Group::TimeNamespace
        )
    }

    /// The column of the matrix table that counts it; `None`: the catch-all
    /// `other` column.
    pub fn column(self) -> Option<&'static str> {
        Some(match self {
            Group::Resolve => "resolve",
            Group::Call => "call",
            Group::CrossCheck => "cross-check",
            Group::Monotonic => "monotonic",
            Group::BadPointer => "bad-pointer",
            Group::Served => "served/fallback",
            Group::Vdso
            | Group::Image
            | Group::TimeNamespace
            | Group::Trampoline
            | Group::Inventory => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Group::Vdso => "vdso",
            Group::Image => "image",
            Group::Resolve => "resolve",
            Group::Call => "call",
            Group::CrossCheck => "crosscheck",
            Group::Monotonic => "monotonic",
            Group::BadPointer => "badptr",
            Group::Served => "served",
            Group::TimeNamespace => "timens",
            Group::Trampoline => "trampoline",
            Group::Inventory => "inventory",
        }
    }
}

/// What a planned check does (serializable: live checks are sent to a child process).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum CheckKind {
    /// The vDSO is present (or absent) as the provider's spec says.
    Presence,
    Soname,
    Versions,
    /// `name` (the symbol or one of its aliases) resolves at the symbol's version.
    Resolve {
        symbol: usize,
        name: String,
    },
    /// Call `symbol` with valid arguments.
    Call {
        symbol: usize,
    },
    /// Compare `symbol` with the raw syscall.
    CrossCheck {
        symbol: usize,
    },
    /// Read `clock` through `symbol` (gettimeofday: no clock) and never go backwards.
    Monotonic {
        symbol: usize,
        clock: Option<ClockId>,
    },
    /// Call `symbol` with bad pointers.
    BadPointer {
        symbol: usize,
        case: PtrCase,
    },
    /// With fallback syscalls trapped, which calls of `symbol` are served.
    Served {
        symbol: usize,
    },
    /// Call `symbol` inside a time namespace with offsets.
    TimeNamespace {
        symbol: usize,
    },
    /// `symbol` is a signal trampoline in an executable segment.
    Trampoline {
        symbol: usize,
    },
    Inventory,
}

/// One row of the plan: a named check and why it is expected to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCheck {
    pub arch: String,
    pub group: Group,
    /// The part of the name after the group (`__vdso_time@LINUX_2.6`).
    pub subject: String,
    pub kind: CheckKind,
    /// What the spec row says, for reports.
    pub expectation: String,
}

impl PlannedCheck {
    /// `arch::group::subject`, the name to filter on.
    pub fn name(&self) -> String {
        if self.subject.is_empty() {
            format!("{}::{}", self.arch, self.group.name())
        } else {
            format!("{}::{}::{}", self.arch, self.group.name(), self.subject)
        }
    }
}

/// Where the image under test comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// This process's own vDSO.
    Live,
    /// An image file: static checks only.
    File(String),
    /// What a probe process of the architecture saw (for targets the suite cannot be
    /// built for): the vDSO image it dumped to this file, or `None` for no vDSO.
    /// The presence and static checks run; calls cannot.
    Observed { image: Option<String> },
    /// Neither: this process cannot see that architecture's vDSO.
    Unavailable { reason: String },
}

/// What the checks run against.
#[derive(Debug, Clone)]
pub struct Target {
    pub spec: ArchSpec,
    pub provider: Provider,
    /// `None` when unknown (an image file without `--kernel`).
    pub kernel: Option<KernelVersion>,
    pub source: Source,
}

/// Symbol kinds with a call check.
pub fn is_callable(kind: SymbolKind) -> bool {
    kind_info(kind).callable
}

fn describe(sym: &SymbolSpec) -> String {
    let mut s = format!("{}@{} ({})", sym.name, sym.version, sym.kind.name());
    if let Some(v) = sym.since {
        s.push_str(&format!(", since {v}"));
    }
    if !sym.config.is_empty() {
        s.push_str(&format!(", needs {}", sym.config.join(" and ")));
    }
    s
}

/// Every check the spec generates, in report order.
pub fn plan(spec: &ArchSpec) -> Vec<PlannedCheck> {
    let arch = spec.arch.clone();
    let row = |group, subject: String, kind, expectation: String| PlannedCheck {
        arch: arch.clone(),
        group,
        subject,
        kind,
        expectation,
    };
    let mut checks = vec![
        row(
            Group::Vdso,
            "present".into(),
            CheckKind::Presence,
            "the provider's `vdso:` setting".into(),
        ),
        row(
            Group::Image,
            "soname".into(),
            CheckKind::Soname,
            format!(
                "DT_SONAME is one of {}",
                spec.sonames
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        row(
            Group::Image,
            "versions".into(),
            CheckKind::Versions,
            format!(
                "version definitions are the base plus {}",
                spec.versions
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    ];
    for (i, sym) in spec.symbols.iter().enumerate() {
        for name in sym.names() {
            let what = if name == sym.name {
                describe(sym)
            } else {
                format!("alias of {}", describe(sym))
            };
            checks.push(row(
                Group::Resolve,
                format!("{name}@{}", sym.version),
                CheckKind::Resolve {
                    symbol: i,
                    name: name.to_string(),
                },
                what,
            ));
        }
    }
    for (i, sym) in spec.symbols.iter().enumerate() {
        checks.push(row(
            Group::Call,
            format!("{}@{}", sym.name, sym.version),
            CheckKind::Call { symbol: i },
            format!("{} returns sane values for valid arguments", sym.prototype),
        ));
    }
    for (i, sym) in spec.symbols.iter().enumerate() {
        let subject = format!("{}@{}", sym.name, sym.version);
        let info = kind_info(sym.kind);
        if !info.trampoline {
            checks.push(row(
                Group::CrossCheck,
                subject.clone(),
                CheckKind::CrossCheck { symbol: i },
                "agrees with the raw syscall for every input".into(),
            ));
        }
        match info.reads_clock {
            ReadsClock::Given => {
                for &clock in spec.clocks.monotonic.iter().chain(&spec.clocks.steppable) {
                    let steppable = spec.clocks.steppable.contains(&clock);
                    checks.push(row(
                        Group::Monotonic,
                        format!("{subject}::{}", clock.name().unwrap_or("clock")),
                        CheckKind::Monotonic {
                            symbol: i,
                            clock: Some(clock),
                        },
                        format!(
                            "{clock} never goes backwards{}",
                            if steppable { " unless stepped" } else { "" }
                        ),
                    ));
                }
            }
            ReadsClock::Own => checks.push(row(
                Group::Monotonic,
                subject.clone(),
                CheckKind::Monotonic {
                    symbol: i,
                    clock: None,
                },
                "gettimeofday never goes backwards unless stepped".into(),
            )),
            ReadsClock::No => {}
        }
        for case in cases_for(sym.kind) {
            checks.push(row(
                Group::BadPointer,
                format!("{subject}::{}", case.label(sym.kind)),
                CheckKind::BadPointer { symbol: i, case },
                format!("bad pointers: {:?} (spec)", spec.bad_pointer),
            ));
        }
        if is_callable(sym.kind) {
            checks.push(row(
                Group::Served,
                subject.clone(),
                CheckKind::Served { symbol: i },
                "served in user space or fallen back as clocks.served says".into(),
            ));
        }
        if info.time_namespace != TimeNamespace::No {
            checks.push(row(
                Group::TimeNamespace,
                subject.clone(),
                CheckKind::TimeNamespace { symbol: i },
                "time namespace offsets applied as by the syscall; getrandom still served".into(),
            ));
        }
        if info.trampoline {
            checks.push(row(
                Group::Trampoline,
                subject,
                CheckKind::Trampoline { symbol: i },
                "inside an executable segment".into(),
            ));
        }
    }
    checks.push(row(
        Group::Inventory,
        String::new(),
        CheckKind::Inventory,
        "every exported symbol is in the spec".into(),
    ));
    checks
}
