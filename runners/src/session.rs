//! Runs the plan's checks against one target: live vDSO, image file, or nothing.

use crate::isolate::{run_case, Case};
use vdsoconf_suite::checks::call::call_unsupported;
use vdsoconf_suite::checks::image::{
    check_inventory, check_presence, check_resolve, check_soname, check_versions,
};
use vdsoconf_suite::checks::{plan, CheckKind, CheckResult, PlannedCheck, Source, Target};
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::live::LiveVdso;

/// Where the bytes under test are.
enum Bytes {
    Live(Option<LiveVdso>),
    File(Vec<u8>),
    Unreadable(String),
    Unavailable(String),
}

/// A target with its image bytes, ready to run checks.
pub struct Session {
    pub target: Target,
    bytes: Bytes,
}

/// A planned check and its result.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub check: PlannedCheck,
    pub result: CheckResult,
}

impl Session {
    /// Opens the target's source. An unreadable image file is an error for the caller
    /// to report (exit 2); a corrupt live vDSO becomes failing checks.
    pub fn open(target: Target) -> Result<Session, String> {
        let bytes = match &target.source {
            Source::Live => match LiveVdso::find() {
                Ok(v) => Bytes::Live(v),
                Err(e) => Bytes::Unreadable(e.to_string()),
            },
            Source::File(path) => {
                let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
                VdsoImage::parse(&data).map_err(|e| format!("{path}: {e}"))?;
                Bytes::File(data)
            }
            Source::Unavailable { reason } => Bytes::Unavailable(reason.clone()),
        };
        Ok(Session { target, bytes })
    }

    pub fn plan(&self) -> Vec<PlannedCheck> {
        plan(&self.target.spec)
    }

    fn image_bytes(&self) -> Result<&[u8], CheckResult> {
        match &self.bytes {
            Bytes::Live(Some(v)) => Ok(v.bytes()),
            Bytes::File(data) => Ok(data),
            Bytes::Live(None) => Err(CheckResult::skip("no vDSO in this process")),
            Bytes::Unreadable(e) => Err(CheckResult::fail(e.clone())),
            Bytes::Unavailable(reason) => Err(CheckResult::skip(reason.clone())),
        }
    }

    /// Runs one check. Never panics on a corrupt image; a call runs in a child process.
    pub fn run(&self, check: &PlannedCheck) -> CheckResult {
        let t = &self.target;
        let (spec, provider, kernel) = (&t.spec, t.provider, t.kernel);
        if let Bytes::Unavailable(reason) = &self.bytes {
            return CheckResult::skip(reason.clone());
        }
        if check.kind == CheckKind::Presence {
            return match &self.bytes {
                Bytes::Live(v) => check_presence(spec, provider, v.is_some()),
                Bytes::File(_) => CheckResult::pass(),
                Bytes::Unreadable(e) => CheckResult::fail(e.clone()),
                Bytes::Unavailable(_) => unreachable!("handled above"),
            };
        }
        let bytes = match self.image_bytes() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let image = match VdsoImage::parse(bytes) {
            Ok(i) => i,
            Err(e) => return CheckResult::fail(format!("corrupt vDSO image: {e}")),
        };
        match &check.kind {
            CheckKind::Presence => unreachable!("handled above"),
            CheckKind::Soname => check_soname(spec, provider, kernel, &image),
            CheckKind::Versions => check_versions(spec, &image),
            CheckKind::Resolve { symbol, name } => {
                check_resolve(spec, provider, kernel, &image, *symbol, name)
            }
            CheckKind::Inventory => check_inventory(spec, provider, kernel, &image),
            CheckKind::Call { symbol } => {
                let sym = &spec.symbols[*symbol];
                if let Some(why) = call_unsupported(spec.error_convention, sym.kind) {
                    return CheckResult::skip(why);
                }
                if matches!(self.bytes, Bytes::File(_)) {
                    return CheckResult::skip(
                        "an image file cannot be called: run the suite on a system (or under qemu) with this vDSO",
                    );
                }
                run_case(&Case::Call {
                    symbol: Box::new(sym.clone()),
                    convention: spec.error_convention,
                })
            }
        }
    }

    /// Runs every check of the plan in order.
    pub fn run_all(&self) -> Vec<Outcome> {
        self.plan()
            .into_iter()
            .map(|check| {
                let result = self.run(&check);
                Outcome { check, result }
            })
            .collect()
    }
}
