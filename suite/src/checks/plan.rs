//! The plan: which checks a spec generates for a target, named for filtering.

use super::group::{group_of, CheckGroup, Runs, REGISTRY};
use super::live::badptr::PtrCase;
use super::result::CheckResult;
use crate::spec::{ArchSpec, ClockId, KernelVersion, Provider, SymbolSpec};

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
    /// The REALTIME functions agree when read interleaved.
    Consistency,
    /// Bad pointers give EFAULT or SIGSEGV as the spec allows.
    BadPointer,
    /// Calls are served in user space or fall back, as the spec says.
    Served,
    /// Time namespace offsets are applied.
    TimeNamespace,
    /// Signal trampolines are in place.
    Trampoline,
    /// x86_64's vsyscall page is served as its mode says.
    Vsyscall,
    /// ARM's kuser helpers do what their documentation says.
    Kuser,
    /// Seeded calls of each function agree with its syscall.
    Fuzz,
    /// Symbols the image has that the spec does not know.
    Inventory,
}

/// What each group is and needs is declared by its own module
/// ([`super::group::REGISTRY`]); these read it.
impl Group {
    /// Every group, in the order they are reported.
    pub const ALL: [Group; 15] = [
        Group::Vdso,
        Group::Image,
        Group::Resolve,
        Group::Call,
        Group::CrossCheck,
        Group::Monotonic,
        Group::Consistency,
        Group::BadPointer,
        Group::Served,
        Group::TimeNamespace,
        Group::Trampoline,
        Group::Vsyscall,
        Group::Kuser,
        Group::Fuzz,
        Group::Inventory,
    ];

    /// Whether its checks call the live vDSO (so run in an isolated child, and
    /// cannot run on an image file or a probe's observation); the others read the
    /// image in process.
    pub fn calls_the_vdso(self) -> bool {
        group_of(self).runs() != Runs::OnImage
    }

    /// The column of the matrix table that counts it; `None`: the catch-all
    /// `other` column.
    pub fn column(self) -> Option<&'static str> {
        group_of(self).column()
    }

    pub fn name(self) -> &'static str {
        group_of(self).name()
    }
}

/// What one check is about, beyond its group; each group's module reads what it
/// planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// The spec symbol (an index into `symbols`).
    pub symbol: Option<usize>,
    /// The name looked up: the symbol's own or an alias.
    pub name: Option<String>,
    /// The clock read (monotonic checks).
    pub clock: Option<ClockId>,
    /// The pointer arguments (bad-pointer checks).
    pub pointers: Option<PtrCase>,
}

impl Case {
    pub fn symbol(symbol: usize) -> Case {
        Case {
            symbol: Some(symbol),
            ..Case::default()
        }
    }

    /// The spec symbol of a check about one.
    pub fn spec_symbol<'s>(&self, spec: &'s ArchSpec) -> Result<&'s SymbolSpec, CheckResult> {
        self.symbol
            .and_then(|i| spec.symbols.get(i))
            .ok_or_else(|| CheckResult::fail("the plan named no symbol of this spec"))
    }
}

/// One row of the plan: a named check and why it is expected to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCheck {
    pub arch: String,
    pub group: Group,
    /// The part of the name after the group (`__vdso_time@LINUX_2.6`).
    pub subject: String,
    pub case: Case,
    /// What the spec row says, for reports.
    pub expectation: String,
}

impl PlannedCheck {
    /// The module of its group.
    pub fn group(&self) -> &'static dyn CheckGroup {
        group_of(self.group)
    }

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
    /// The spec file `--spec` named (`None`: the built-in spec).
    pub spec_file: Option<String>,
}

/// A spec symbol, described for an expectation.
pub(crate) fn describe(sym: &SymbolSpec) -> String {
    let mut s = format!("{}@{} ({})", sym.name, sym.version, sym.kind.name());
    if let Some(v) = sym.since {
        s.push_str(&format!(", since {v}"));
    }
    if !sym.config.is_empty() {
        s.push_str(&format!(", needs {}", sym.condition()));
    }
    s
}

/// `name@version` of a spec symbol: the subject of its checks.
pub(crate) fn subject(sym: &SymbolSpec) -> String {
    format!("{}@{}", sym.name, sym.version)
}

/// Every check the spec generates, group by group in report order.
pub fn plan(spec: &ArchSpec) -> Vec<PlannedCheck> {
    let mut checks = Vec::new();
    for module in REGISTRY {
        module.plan(spec, &mut |subject, case, expectation| {
            checks.push(PlannedCheck {
                arch: spec.arch.clone(),
                group: module.group(),
                subject,
                case,
                expectation,
            })
        });
    }
    checks
}
