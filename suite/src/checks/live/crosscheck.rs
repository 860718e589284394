//! Cross-checks against the raw syscall: each vDSO result must agree with the
//! kernel's own answer around it. The driver asks the kind for its readings and
//! its verdict ([`crate::kinds::LiveKind::crosscheck`]); each kind's judge lives
//! in its module (`judge_*_against_syscall`). Here is the judge several kinds
//! share: the same answers to the same requests.

use super::clocks::errno_name;
use super::live_kind;
use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem};
use crate::kinds::kind_info;
use crate::spec::ArchSpec;
use crate::vdso::syscall::Errno;
use crate::vdso::Returned;

/// The `crosscheck` group: every symbol but the signal trampolines, compared with
/// the raw syscall in a child process.
pub struct CrossCheckGroup;
pub static GROUP: CrossCheckGroup = CrossCheckGroup;

impl CheckGroup for CrossCheckGroup {
    fn about(&self) -> About {
        About {
            group: Group::CrossCheck,
            name: "crosscheck",
            what: "each function agrees with its system call (`syscall(2)`, never a libc wrapper) for every input the kind knows: valid and rejected clock ids, NULL outputs, flags, sizes, CPUs; functions that stand in for no call against what the kernel says elsewhere",
            column: Some("cross-check"),
            runs: Runs::IN_CHILD,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            let what = kind_info(sym.kind).crosscheck_what;
            add(subject(sym), Case::symbol(i), what.into());
        }
    }

    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let spec = &ctx.target.spec;
        let sym = match check.case.spec_symbol(spec) {
            Ok(s) => s,
            Err(r) => return r,
        };
        match live_kind(sym, spec.error_convention) {
            Ok((kind, f)) => kind.crosscheck(f),
            Err(r) => r,
        }
    }
}

/// One request made of the vDSO and of the syscall, and what each answered: its
/// return value and what it left in its arguments (`T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers<T> {
    pub what: String,
    pub vdso: (Returned, T),
    pub sys: (Result<isize, Errno>, T),
}

/// A function whose every answer is the syscall's: the same value or errno, and
/// the same arguments left behind.
pub fn judge_same_answers<T: PartialEq + std::fmt::Debug>(cases: &[Answers<T>]) -> CheckResult {
    let mut problems = Vec::new();
    for c in cases {
        let (vdso, sys) = (c.vdso.0, c.sys.0.map(|v| v as i64));
        if vdso != sys {
            let show = |r: Result<i64, Errno>| r.map_or_else(errno_name, |v| v.to_string());
            problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!("{}: vDSO {}, syscall {}", c.what, show(vdso), show(sys)),
            ));
        } else if c.vdso.1 != c.sys.1 {
            problems.push(Problem::about(
                "result-differs",
                &c.what,
                format!(
                    "{}: the vDSO left {:?}, the syscall {:?}",
                    c.what, c.vdso.1, c.sys.1
                ),
            ));
        }
    }
    CheckResult::from_symptoms(problems)
        .with_notes(vec![format!("{} requests compared", cases.len())])
}
