//! Refusing, up front, a machine that cannot run the live checks.

use super::{run_self_case, Case, SelfTestAction, CASE_TIMEOUT};

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
    let limit = |resource, name: &str, unit: u64, least: u64, units: &str| {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct it is given.
        if unsafe { libc::getrlimit(resource, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
            return Ok(());
        }
        #[allow(clippy::useless_conversion)] // rlim_t is u32 on some 32-bit targets
        let cur = u64::from(r.rlim_cur);
        if cur < least {
            return Err(format!(
                "ulimit {name} is {}{units}, and the live checks need at least {}{units}: raise it, or check an image with --image",
                cur / unit,
                least / unit
            ));
        }
        Ok(())
    };
    limit(libc::RLIMIT_AS, "-v", 1024, MIN_ADDRESS_SPACE, " KiB")?;
    limit(libc::RLIMIT_NOFILE, "-n", 1, MIN_OPEN_FILES, "")?;
    let case = Case::SelfTest {
        action: SelfTestAction::Pass,
    };
    match run_self_case(&case, CASE_TIMEOUT, false) {
        out if out.result().is_some() => Ok(()),
        out => Err(format!(
            "cannot run a check in a child process, as every live check does: {}",
            out.describe_end()
        )),
    }
}
