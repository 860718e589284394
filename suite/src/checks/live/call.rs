//! Call checks: each vDSO function, called with valid arguments, returns sane values.
//!
//! [`call_live_symbol`] calls the real vDSO through the kind's description
//! ([`crate::kinds::LiveKind::call`]); each kind's judge lives in its module
//! under `crate::kinds`, and takes results, not functions, so tests can feed it
//! a broken implementation's output.

use crate::checks::group::{About, CheckGroup, LiveContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck, Target};
use crate::checks::result::CheckResult;
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, ErrorConvention, SymbolKind, SymbolSpec};
use crate::vdso::{raw_value, Returned};

/// The `call` group: every symbol called with valid arguments, in a child process.
pub struct CallGroup;
pub static GROUP: CallGroup = CallGroup;

impl CheckGroup for CallGroup {
    fn about(&self) -> About {
        About {
            group: Group::Call,
            name: "call",
            what: "each function, called with valid arguments, returns sane values (the kind's own judge)",
            column: Some("call"),
            runs: Runs::IN_CHILD,
        }
    }

    /// Every symbol but those checked by their cross-check alone (which would
    /// only say so here): a kind with no live check at all keeps its row, whose
    /// skip says why.
    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).crosschecked_only {
                continue;
            }
            add(
                subject(sym),
                Case::symbol(i),
                format!("{} returns sane values for valid arguments", sym.prototype),
            );
        }
    }

    /// A kind that is not called with plain arguments, or a build that cannot
    /// call this convention, needs no child to say so.
    fn before_child(&self, check: &PlannedCheck, target: &Target) -> Option<CheckResult> {
        let spec = &target.spec;
        match check.case.spec_symbol(spec) {
            Ok(sym) => call_unsupported(spec.error_convention, sym.kind).map(CheckResult::skip),
            Err(r) => Some(r),
        }
    }

    fn in_child(&self, check: &PlannedCheck, ctx: &LiveContext) -> CheckResult {
        let spec = &ctx.target.spec;
        match check.case.spec_symbol(spec) {
            Ok(sym) => call_live_symbol(sym, spec.error_convention),
            Err(r) => r,
        }
    }
}

pub(crate) const NSEC_PER_SEC: i64 = 1_000_000_000;
/// 2001-09-09: any realtime clock that is set reads later than this.
pub(crate) const SOME_TIME_AGO: i64 = 1_000_000_000;

pub(crate) fn describe_ret(ret: Returned) -> String {
    match ret {
        Ok(v) => v.to_string(),
        Err(e) => format!(
            "{} ({})",
            raw_value(ret),
            std::io::Error::from_raw_os_error(e)
        ),
    }
}

/// Why a symbol cannot be called from this process, if it cannot.
pub fn call_unsupported(convention: ErrorConvention, kind: SymbolKind) -> Option<String> {
    let info = kind_info(kind);
    if !info.callable {
        return Some(match info.no_live_check {
            Some(why) => why.to_string(),
            None => format!("a {} is not called with plain arguments", kind.name()),
        });
    }
    convention_unsupported(convention)
}

/// Why this build cannot call functions of `convention`, if it cannot.
pub fn convention_unsupported(convention: ErrorConvention) -> Option<String> {
    if crate::vdso::calls_supported(convention) {
        return None;
    }
    Some(match convention {
        ErrorConvention::PowerpcCr0So => format!(
            "powerpc returns errors in CR0.SO: the call wrapper that reads it exists for powerpc \
             builds only (32-bit, ELFv1, ELFv2), and this is a {} build",
            std::env::consts::ARCH
        ),
        _ => "the spec says this vDSO has no callable functions".into(),
    })
}

/// Resolves `sym` in this process's vDSO and calls it.
/// Meant to run in a child process: a broken vDSO may crash it.
pub fn call_live_symbol(sym: &SymbolSpec, convention: ErrorConvention) -> CheckResult {
    if let Some(why) = call_unsupported(convention, sym.kind) {
        return CheckResult::skip(why);
    }
    let (kind, f) = match super::live_kind(sym, convention) {
        Ok(k) => k,
        Err(r) => return r,
    };
    CheckResult::from_symptoms(kind.call(f).err().into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only a powerpc build has the CR0.SO call wrapper.
    #[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
    #[test]
    fn powerpc_calls_are_skipped_with_the_reason_elsewhere() {
        let why =
            call_unsupported(ErrorConvention::PowerpcCr0So, SymbolKind::ClockGettime).unwrap();
        assert!(
            why.contains("CR0.SO") && why.contains("powerpc builds only"),
            "{why}"
        );
        assert!(call_unsupported(ErrorConvention::NegativeErrno, SymbolKind::Time).is_none());
        assert!(
            call_unsupported(ErrorConvention::NegativeErrno, SymbolKind::SignalTrampoline)
                .is_some()
        );
    }
}
