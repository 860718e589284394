//! A check group is one module behind [`CheckGroup`]: what it plans for a spec,
//! how its checks must run, and the checks themselves (probe and judge). The
//! [`REGISTRY`] lists them in report order; the plan, `vdsoconf run`, the harness,
//! `boot` and the reports go through it and name no group themselves.

use super::findings::Examination;
use super::live::timens::InnerReport;
use super::plan::{Case, Group, PlannedCheck, Target};
use super::result::CheckResult;
use crate::elf::VdsoImage;
use crate::spec::ArchSpec;
use crate::vdso::syscall::Errno;
use std::sync::OnceLock;
use std::time::Duration;

/// How a group's checks must run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// In process, reading the image: the live mapping, an image file or a probe's
    /// dump. Runs everywhere the image can be read.
    OnImage,
    /// In a child process that calls the live vDSO (a broken vDSO may crash or hang
    /// it). Needs the live vDSO of the spec's architecture.
    InChild {
        /// It reads for the configured soak time: its time limit grows by that,
        /// and it may show progress.
        soaks: bool,
        /// It starts a process of its own in a new time namespace
        /// ([`CheckGroup::inside`]): needs CAP_SYS_ADMIN (root or a user
        /// namespace) and a kernel with time namespaces, else it is skipped.
        new_time_namespace: bool,
    },
    /// In a child process that may die of its one call: the child reports through
    /// [`CheckGroup::probe`] (the syscall's answer before the call) and the parent
    /// judges with [`CheckGroup::judge_probe`], since the child may not live to.
    InChildThatMayDie,
    /// Many calls, each in a child process of its own that may die of it,
    /// judged one by one by the parent (the `fuzz` group: the runner makes
    /// the calls, [`crate::fuzz_live`] judges them).
    CallsInChildren,
}

/// How the call of a [`Runs::InChildThatMayDie`] check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Returned this value (0/negative errno, or `time`'s seconds).
    Returned(i64),
    /// Killed by this signal.
    Signal(i32),
    /// Did not return within the timeout.
    Hung,
}

/// What an on-image check reads.
pub struct ImageContext<'a> {
    pub target: &'a Target,
    /// Whether the process under test has a vDSO (`None`: an image file was
    /// given); `Err`: the live vDSO could not be read.
    pub present: Result<Option<bool>, CheckResult>,
    /// The image, or the result of a check that needs one when there is none.
    pub image: Result<VdsoImage<'a>, CheckResult>,
    /// What the static engine makes of the image, made by the first row that asks
    /// and kept by the caller for the others.
    pub examined: &'a OnceLock<Examination>,
}

impl ImageContext<'_> {
    /// The image, or the result of a check that needs one.
    pub fn image(&self) -> Result<&VdsoImage<'_>, CheckResult> {
        self.image.as_ref().map_err(Clone::clone)
    }

    /// The static engine's examination of the image for the target.
    pub fn examination(&self) -> Result<&Examination, CheckResult> {
        let image = self.image()?;
        let t = self.target;
        Ok(self
            .examined
            .get_or_init(|| super::image::examination_of(t, image)))
    }
}

/// What a check in a child process is given.
pub struct LiveContext<'a> {
    pub target: &'a Target,
    /// How long a soaking check reads.
    pub soak: Duration,
    /// Called now and then with the readings so far (a progress display).
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Runs [`CheckGroup::inside`] for this check in a new process.
    pub inside: &'a dyn Fn() -> InnerReport,
}

/// What a group is: its key, its names, how its checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct About {
    pub group: Group,
    /// Its name in check names (`ARCH::GROUP::SUBJECT`) and reports.
    pub name: &'static str,
    /// What its checks check, in a sentence (the documentation's table).
    pub what: &'static str,
    /// The matrix column that counts it; `None`: the catch-all `other` column.
    pub column: Option<&'static str>,
    pub runs: Runs,
}

impl Runs {
    /// In a child, neither soaking nor in a new namespace.
    pub const IN_CHILD: Runs = Runs::InChild {
        soaks: false,
        new_time_namespace: false,
    };
}

/// One check group.
pub trait CheckGroup: Sync {
    fn about(&self) -> About;

    fn group(&self) -> Group {
        self.about().group
    }

    fn name(&self) -> &'static str {
        self.about().name
    }

    fn column(&self) -> Option<&'static str> {
        self.about().column
    }

    fn runs(&self) -> Runs {
        self.about().runs
    }

    /// Its checks for `spec`: `add(subject, case, expectation)` for each, in order.
    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String));

    /// One of its checks on the image ([`Runs::OnImage`]).
    fn on_image(&self, _check: &PlannedCheck, _ctx: &ImageContext) -> CheckResult {
        CheckResult::fail(format!("{} checks do not run on an image", self.name()))
    }

    /// Before a child is started: the result, when one is known without it (this
    /// build cannot make the call at all).
    fn before_child(&self, _check: &PlannedCheck, _target: &Target) -> Option<CheckResult> {
        None
    }

    /// One of its checks, in a child process ([`Runs::InChild`]).
    fn in_child(&self, _check: &PlannedCheck, _ctx: &LiveContext) -> CheckResult {
        CheckResult::fail(format!("{} checks do not run in a child", self.name()))
    }

    /// Inside a new time namespace: what the inner process reads.
    fn inside(&self, _check: &PlannedCheck, _target: &Target) -> InnerReport {
        InnerReport {
            error: Some(format!("{} checks start no inner process", self.name())),
            ..Default::default()
        }
    }

    /// Child side of [`Runs::InChildThatMayDie`]: the syscall's answer goes to
    /// `report` before the call, whose raw return value comes back; `Err` is the
    /// check's result when it could not get as far as the call.
    fn probe(
        &self,
        _check: &PlannedCheck,
        _target: &Target,
        _report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, CheckResult> {
        Err(CheckResult::fail(format!(
            "{} checks have no probe",
            self.name()
        )))
    }

    /// Parent side of [`Runs::InChildThatMayDie`]: the verdict on what the child
    /// reported (`sys`) and how its call ended.
    fn judge_probe(
        &self,
        _check: &PlannedCheck,
        _spec: &ArchSpec,
        _sys: Option<Result<isize, Errno>>,
        _call: CallOutcome,
    ) -> CheckResult {
        CheckResult::fail(format!("{} checks have no probe", self.name()))
    }
}

/// Every check group, in report order.
pub static REGISTRY: [&dyn CheckGroup; 15] = [
    &super::image::PRESENCE,
    &super::image::IMAGE,
    &super::image::RESOLVE,
    &super::live::call::GROUP,
    &super::live::crosscheck::GROUP,
    &super::live::monotonic::GROUP,
    &super::live::consistency::GROUP,
    &super::live::badptr::GROUP,
    &super::live::served::GROUP,
    &super::live::timens::GROUP,
    &super::live::trampoline::GROUP,
    &super::live::vsyscall::GROUP,
    &super::live::kuser::GROUP,
    &super::live::fuzz::GROUP,
    &super::image::INVENTORY,
];

/// The module of `group`.
pub fn group_of(group: Group) -> &'static dyn CheckGroup {
    REGISTRY[group as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry lists every group once, in the order of [`Group::ALL`], so
    /// [`group_of`] finds each group's own module; names are distinct.
    #[test]
    fn the_registry_is_the_groups_in_report_order() {
        assert_eq!(REGISTRY.len(), Group::ALL.len());
        for (g, module) in Group::ALL.iter().zip(REGISTRY.iter()) {
            assert_eq!(module.group(), *g);
            assert_eq!(group_of(*g).name(), module.name());
        }
        let mut names: Vec<&str> = REGISTRY.iter().map(|g| g.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
    }
}
