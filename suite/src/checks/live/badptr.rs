//! EFAULT vs SIGSEGV: every pointer-taking function, given bad pointers, must do what
//! the raw syscall does (EFAULT) or what the spec allows instead (SIGSEGV). Each case
//! runs in its own process; the child reports the syscall's answer before it risks
//! the vDSO call.

use super::clocks::errno_name;
use crate::checks::kinds::kind_info;
use crate::checks::result::CheckResult;
use crate::spec::{BadPointer, SymbolKind};
use crate::vdso::guard::GuardedOutput;
use crate::vdso::process::{page_size, Access, Pages};
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{GetrandomState, VdsoFn};
use serde::{Deserialize, Serialize};

/// One pointer argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PtrArg {
    Valid,
    Null,
    /// `UINTPTR_MAX`.
    AllOnes,
    /// A PROT_NONE page.
    ProtNone,
    /// A read-only page (the call must write).
    ProtRead,
    /// An object whose last bytes lie in an unmapped page.
    Straddle,
    /// An address in the kernel's half (or top) of the address space.
    Kernel,
}

impl PtrArg {
    pub const BAD: [PtrArg; 6] = [
        PtrArg::Null,
        PtrArg::AllOnes,
        PtrArg::ProtNone,
        PtrArg::ProtRead,
        PtrArg::Straddle,
        PtrArg::Kernel,
    ];
    pub fn name(self) -> &'static str {
        match self {
            PtrArg::Valid => "valid",
            PtrArg::Null => "null",
            PtrArg::AllOnes => "all-ones",
            PtrArg::ProtNone => "prot-none",
            PtrArg::ProtRead => "prot-read",
            PtrArg::Straddle => "straddle",
            PtrArg::Kernel => "kernel",
        }
    }
}

/// One bad-pointer case of a function: its pointer arguments and the clock id (for
/// clock functions; -1 is vdsotest's "invalid clock with NULL must be EINVAL").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtrCase {
    pub args: Vec<PtrArg>,
    #[serde(default)]
    pub clock: i32,
}

impl PtrCase {
    pub fn label(&self, kind: SymbolKind) -> String {
        let args: Vec<String> = arg_names(kind)
            .iter()
            .zip(&self.args)
            .map(|(n, a)| format!("{n}={}", a.name()))
            .collect();
        let mut label = args.join(",");
        if self.clock != 1 && kind_info(kind).takes_clock {
            label.push_str(&format!(",clock={}", self.clock));
        }
        label
    }
}

/// The names of a kind's pointer arguments, in order.
fn arg_names(kind: SymbolKind) -> &'static [&'static str] {
    kind_info(kind).outputs
}

/// Pointer-taking kinds with a bad-pointer case list.
///
/// A straddling object stays naturally aligned (a misaligned one could earn SIGBUS for
/// the wrong reason), so scalars (`time_t`, getcpu's `unsigned`) have no straddle case.
pub fn cases_for(kind: SymbolKind) -> Vec<PtrCase> {
    let info = kind_info(kind);
    if !info.callable {
        return Vec::new();
    }
    let usable = move |a: &&PtrArg| !(info.scalar_outputs && **a == PtrArg::Straddle);
    // A clock-taking kind is called with MONOTONIC, the others' first argument is
    // their pointer (0 is a placeholder).
    let clock = if info.takes_clock { 1 } else { 0 };
    match info.outputs.len() {
        1 => {
            let mut v: Vec<PtrCase> = PtrArg::BAD
                .iter()
                .filter(usable)
                .map(|&a| PtrCase {
                    args: vec![a],
                    clock,
                })
                .collect();
            if info.takes_clock && !info.null_allowed {
                // An invalid clock with a NULL pointer: EINVAL comes first.
                v.push(PtrCase {
                    args: vec![PtrArg::Null],
                    clock: -1,
                });
            }
            v
        }
        2 => {
            let mut v = Vec::new();
            let all = || {
                std::iter::once(&PtrArg::Valid)
                    .chain(PtrArg::BAD.iter())
                    .filter(usable)
            };
            for &a in all() {
                for &b in all() {
                    let both_fine = matches!(a, PtrArg::Valid | PtrArg::Null)
                        && matches!(b, PtrArg::Valid | PtrArg::Null);
                    if !both_fine {
                        v.push(PtrCase {
                            args: vec![a, b],
                            clock,
                        });
                    }
                }
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Whether NULL is allowed (and means "don't store"): for every pointer except
/// clock_gettime's timespec and getrandom's buffer.
fn null_allowed(kind: SymbolKind) -> bool {
    kind_info(kind).null_allowed
}

/// Must this case fault (EFAULT from the syscall)?
pub fn must_fault(kind: SymbolKind, case: &PtrCase) -> bool {
    if case.clock == -1 {
        return false; // the invalid clock is rejected first: EINVAL
    }
    case.args.iter().any(|a| match a {
        PtrArg::Valid => false,
        PtrArg::Null => !null_allowed(kind),
        _ => true,
    })
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Returned this value (0/negative errno, or `time`'s seconds).
    Returned(i64),
    /// Killed by this signal.
    Signal(i32),
    /// Did not return within the timeout.
    Hung,
}

/// Judges a case from the syscall's answer (`None`: no such syscall here) and the vDSO's.
pub fn judge_bad_pointer(
    kind: SymbolKind,
    case: &PtrCase,
    expect: BadPointer,
    sys: Option<Result<isize, Errno>>,
    vdso: CallOutcome,
) -> CheckResult {
    let fault = must_fault(kind, case);
    let mut notes = Vec::new();
    match sys {
        Some(Err(libc::EFAULT)) if fault => {}
        Some(Err(libc::EINVAL)) if case.clock == -1 => {}
        Some(Ok(_)) if !fault && case.clock != -1 => {}
        Some(other) => notes.push(format!(
            "the syscall answered {} where {} was expected",
            other.map_or_else(errno_name, |v| v.to_string()),
            if fault { "EFAULT" } else { "success" }
        )),
        None => notes.push("no syscall of this kind on this architecture to compare with".into()),
    }
    let verdict = match (vdso, fault) {
        (CallOutcome::Hung, _) => CheckResult::fail("the vDSO call hung"),
        (CallOutcome::Signal(sig), true) if sig == libc::SIGSEGV => match expect {
            BadPointer::Sigsegv | BadPointer::EfaultOrSigsegv => CheckResult::pass(),
            BadPointer::Efault => CheckResult::fail("killed by SIGSEGV; the spec says EFAULT"),
        },
        (CallOutcome::Signal(sig), _) => CheckResult::fail(format!("killed by signal {sig}")),
        (CallOutcome::Returned(r), true) if r == -i64::from(libc::EFAULT) => match expect {
            BadPointer::Efault | BadPointer::EfaultOrSigsegv => CheckResult::pass(),
            BadPointer::Sigsegv => CheckResult::fail("returned EFAULT; the spec says SIGSEGV"),
        },
        (CallOutcome::Returned(r), true) => CheckResult::fail(format!(
            "returned {r} for a bad pointer; expected EFAULT{}",
            if expect == BadPointer::Efault {
                ""
            } else {
                " or SIGSEGV"
            }
        )),
        (CallOutcome::Returned(r), false) if case.clock == -1 => {
            if r == -i64::from(libc::EINVAL) {
                CheckResult::pass()
            } else {
                CheckResult::fail(format!(
                    "an invalid clock with a NULL timespec returned {r}, not EINVAL"
                ))
            }
        }
        (CallOutcome::Returned(r), false) => {
            let ok = if kind == SymbolKind::Time {
                r > 0
            } else {
                r >= 0
            };
            if ok {
                CheckResult::pass()
            } else {
                CheckResult::fail(format!(
                    "returned {r}, but NULL is allowed here and must succeed"
                ))
            }
        }
    };
    verdict.with_notes(notes)
}

/// Three pages (read-write, PROT_NONE, read-only) and a guarded buffer for each of a
/// kind's pointer arguments: addresses for each argument case.
pub struct Arena {
    base: usize,
    page: usize,
    /// Where a valid argument points: a write past it is reported.
    valid: Vec<GuardedOutput>,
}

impl Arena {
    pub fn new(kind: SymbolKind) -> Result<Arena, String> {
        let valid = arg_names(kind)
            .iter()
            .zip(sizes(kind))
            .map(|(name, n)| GuardedOutput::new(name, &vec![0; n]))
            .collect::<Result<Vec<_>, _>>()?;
        let pages = Pages::new(3).map_err(|e| format!("mmap: {e}"))?;
        pages
            .protect(1, Access::None)
            .and_then(|()| pages.protect(2, Access::Read))
            .map_err(|e| format!("mprotect: {e}"))?;
        let (base, page) = (pages.base(), page_size());
        Ok(Arena { base, page, valid })
    }

    /// Records what the call wrote outside the valid arguments' buffers.
    pub fn inspect_valid(&mut self) {
        self.valid.iter_mut().for_each(GuardedOutput::inspect);
    }

    /// The address for `arg`, for an object of `size` bytes (its second half unmapped when
    /// straddling); `slot` is the argument's position.
    pub fn addr(&self, arg: PtrArg, size: usize, slot: usize) -> usize {
        match arg {
            PtrArg::Valid => self.valid[slot].address(),
            PtrArg::Null => 0,
            PtrArg::AllOnes => usize::MAX,
            PtrArg::ProtNone => self.base + self.page,
            PtrArg::ProtRead => self.base + 2 * self.page,
            PtrArg::Straddle => self.base + self.page - size / 2,
            PtrArg::Kernel => {
                if cfg!(target_pointer_width = "64") {
                    0xffff_ff80_0000_0000u64 as usize
                } else {
                    0xffff_f000
                }
            }
        }
    }
}

fn sizes(kind: SymbolKind) -> [usize; 2] {
    let long = core::mem::size_of::<core::ffi::c_long>();
    match kind {
        SymbolKind::ClockGettime64 | SymbolKind::ClockGetresTime64 => [16, 0],
        SymbolKind::ClockGettime | SymbolKind::ClockGetres => {
            [core::mem::size_of::<crate::vdso::NativeTimespec>(), 0]
        }
        SymbolKind::Gettimeofday => [2 * long, 8],
        SymbolKind::Getcpu => [4, 4],
        SymbolKind::Time => [core::mem::size_of::<crate::vdso::NativeTime>(), 0],
        _ => [16, 0],
    }
}

/// Child side: the syscall's answer is passed to `report` before the vDSO is called,
/// because the vDSO call may kill this process. Returns the vDSO's return value.
pub fn run_case(
    kind: SymbolKind,
    case: &PtrCase,
    f: VdsoFn,
    report: &mut dyn FnMut(Option<Result<isize, Errno>>),
) -> Result<i64, String> {
    let mut arena = Arena::new(kind)?;
    let size = sizes(kind);
    let a = |i: usize| {
        arena.addr(
            case.args.get(i).copied().unwrap_or(PtrArg::Valid),
            size[i],
            i,
        )
    };
    let state = if kind == SymbolKind::Getrandom {
        let (r, params) = f.getrandom_params();
        if r != 0 {
            return Err(format!("getrandom parameter query returned {r}"));
        }
        Some(GetrandomState::new(&params)?)
    } else {
        None
    };
    let sys = match kind {
        SymbolKind::ClockGettime | SymbolKind::ClockGettime64 => {
            Some(syscall::clock_gettime_at(case.clock, a(0)))
        }
        SymbolKind::ClockGetres | SymbolKind::ClockGetresTime64 => {
            Some(syscall::clock_getres_at(case.clock, a(0)))
        }
        SymbolKind::Gettimeofday => Some(syscall::gettimeofday_at(a(0), a(1))),
        SymbolKind::Getcpu => Some(syscall::getcpu_at(a(0), a(1))),
        SymbolKind::Time => syscall::time_at(a(0)),
        SymbolKind::Getrandom => Some(syscall::getrandom_at(a(0), 16, 0)),
        other => return Err(format!("no bad-pointer cases for {}", other.name())),
    };
    report(sys);
    let returned = match kind {
        SymbolKind::ClockGettime
        | SymbolKind::ClockGettime64
        | SymbolKind::ClockGetres
        | SymbolKind::ClockGetresTime64 => f.clock_call_at(case.clock, a(0)).into(),
        SymbolKind::Gettimeofday => f.gettimeofday_at(a(0), a(1)).into(),
        SymbolKind::Getcpu => f.getcpu_at(a(0), a(1)).into(),
        #[allow(clippy::useless_conversion)] // time_t is i32 on 32-bit targets
        SymbolKind::Time => f.time_at(a(0)).into(),
        SymbolKind::Getrandom => {
            f.getrandom_at(a(0), 16, 0, state.as_ref().expect("made above")) as i64
        }
        _ => unreachable!("rejected above"),
    };
    arena.inspect_valid();
    Ok(returned)
}
