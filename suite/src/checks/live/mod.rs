//! Live checks: each runs in a child process against this process's vDSO and the raw
//! syscalls. The drivers here resolve the symbol and ask its kind's description
//! ([`crate::kinds`]) for the readings. The judging functions take readings, not
//! functions, so tests can feed them a broken implementation: a group's own
//! judge in its module here, a judge specific to one kind in that kind's module.

pub mod badptr;
pub mod call;
pub mod clocks;
pub mod consistency;
pub mod crosscheck;
pub mod fuzz;
pub mod kuser;
pub mod monotonic;
pub mod overwrite;
pub mod served;
pub mod step;
pub mod timens;
pub mod trampoline;
pub mod vsyscall;

use crate::checks::result::CheckResult;
use crate::kinds::{kind_info, LiveKind};
use crate::spec::{ErrorConvention, SymbolSpec};
use crate::vdso::{LiveVdso, Resolved};

/// Resolves `sym` in this process's vDSO, or says why a live check cannot run.
pub fn live_fn(sym: &SymbolSpec, convention: ErrorConvention) -> Result<Resolved, CheckResult> {
    if let Some(why) = call::convention_unsupported(convention) {
        return Err(CheckResult::skip(why));
    }
    let vdso = match LiveVdso::find() {
        Ok(Some(v)) => v,
        Ok(None) => return Err(CheckResult::skip("no vDSO in this process")),
        Err(e) => return Err(CheckResult::fail(e.to_string())),
    };
    match vdso.resolve(sym) {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(CheckResult::skip(format!(
            "{}@{} is not in this vDSO (its resolve check says whether it should be)",
            sym.name, sym.version
        ))),
        Err(e) => Err(CheckResult::fail(format!("live vDSO: {e}"))),
    }
}

/// The live checks of `sym`'s kind, and the function resolved: or the check's
/// result when there are none (its description says why) or it is not here.
pub fn live_kind(
    sym: &SymbolSpec,
    convention: ErrorConvention,
) -> Result<(&'static dyn LiveKind, Resolved), CheckResult> {
    let info = kind_info(sym.kind);
    let Some(kind) = info.live else {
        return Err(CheckResult::skip(info.no_live_check.unwrap_or(
            "no live check for this kind: see its trampoline check",
        )));
    };
    Ok((kind, live_fn(sym, convention)?))
}

pub use crate::vdso::process::allowed_cpus;

/// Moves the calling thread to `cpu`.
pub fn pin(cpu: usize) -> bool {
    crate::vdso::process::set_allowed_cpus(&[cpu]).is_ok()
}

pub fn restore_affinity(cpus: &[usize]) {
    let _ = crate::vdso::process::set_allowed_cpus(cpus);
}
