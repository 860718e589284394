//! Refusing, up front, a machine that cannot run the live checks.

use super::{run_self_case, ChildCase, SelfTestAction, CASE_TIMEOUT};

/// The least address space (`ulimit -v`) a run is started with: twice what a full
/// x86_64 run was measured to need (14 MB).
pub const MIN_ADDRESS_SPACE: u64 = 32 << 20;
/// The fewest file descriptors (`ulimit -n`) a run is started with: a full run
/// was measured to need 10.
pub const MIN_OPEN_FILES: u64 = 16;

/// Refuses, in one line, to start live checks on a machine that cannot run them:
/// limits below what a run needs, or no way to start the isolated child (too few
/// processes, no executable to re-execute, a broken `VDSOCONF_CHILD_WRAPPER`).
pub fn preflight() -> Result<(), String> {
    use vdsoconf_suite::vdso::process::{soft_limit, Limit};
    let limit = |which, name: &str, unit: u64, least: u64, units: &str| {
        match soft_limit(which) {
        Some(cur) if cur < least => Err(format!(
            "ulimit {name} is {}{units}, and the live checks need at least {}{units}: raise it, or check an image with --image",
            cur / unit,
            least / unit
        )),
        _ => Ok(()),
    }
    };
    limit(Limit::AddressSpace, "-v", 1024, MIN_ADDRESS_SPACE, " KiB")?;
    limit(Limit::OpenFiles, "-n", 1, MIN_OPEN_FILES, "")?;
    let case = ChildCase::self_test(SelfTestAction::Pass);
    match run_self_case(&case, CASE_TIMEOUT, false) {
        out if out.result().is_some() => Ok(()),
        out => Err(format!(
            "cannot run a check in a child process, as every live check does: {}",
            out.describe_end()
        )),
    }
}
