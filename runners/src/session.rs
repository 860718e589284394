//! Runs the plan's checks against one target: live vDSO, image file, or nothing.

use crate::isolate::{run_case_with, run_probe, ChildCase, LiveTarget, Task, CASE_TIMEOUT};
use crate::target::{kernel_release, uname_machine};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use vdsoconf_reports::{CaseResult, Environment, RunReport};
use vdsoconf_suite::checks::findings::Examination;
use vdsoconf_suite::checks::live::overwrite::judge_overwrites;
use vdsoconf_suite::checks::{
    apply_deviations, plan, CheckResult, ImageContext, PlannedCheck, Runs, Source, Target,
};
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::input::{read_input, InputKind};
use vdsoconf_suite::vdso::LiveVdso;

/// Where the bytes under test are.
enum Bytes {
    Live(Option<LiveVdso>),
    File(Vec<u8>),
    /// A probe's dump of its vDSO, or `None`: it had none.
    Observed(Option<Vec<u8>>),
    Unreadable(String),
    Unavailable(String),
}

/// How long and how visibly the live checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Total time each monotonicity check reads its clock.
    pub monotonic: Duration,
    /// Show a progress display (soak runs).
    pub progress: bool,
    /// The `fuzz` checks' seed and calls per function.
    pub fuzz_seed: u64,
    pub fuzz_calls: u64,
}

/// The `fuzz` checks' calls per function unless told otherwise (`fuzz-live`
/// makes 300: the checks are a sample every run takes, the command explores).
pub const FUZZ_CALLS: u64 = 100;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            monotonic: Duration::from_secs(1),
            progress: false,
            fuzz_seed: 1,
            fuzz_calls: FUZZ_CALLS,
        }
    }
}

/// A target with its image bytes, ready to run checks.
pub struct Session {
    pub target: Target,
    pub options: RunOptions,
    bytes: Bytes,
    /// The static engine's examination of the image, for every on-image row.
    examined: OnceLock<Examination>,
    /// The target as its isolated cases carry it (made once: a case server is
    /// handed it with the first case only).
    live: OnceLock<Arc<LiveTarget>>,
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
                let data =
                    read_input(Path::new(path), InputKind::VdsoImage).map_err(|e| e.to_string())?;
                VdsoImage::parse(&data).map_err(|e| format!("{path}: {e}"))?;
                Bytes::File(data)
            }
            Source::Observed { image: None } => Bytes::Observed(None),
            Source::Observed { image: Some(path) } => {
                let data =
                    read_input(Path::new(path), InputKind::VdsoImage).map_err(|e| e.to_string())?;
                VdsoImage::parse(&data).map_err(|e| format!("{path}: {e}"))?;
                Bytes::Observed(Some(data))
            }
            Source::Unavailable { reason } => Bytes::Unavailable(reason.clone()),
        };
        Ok(Session {
            target,
            options: RunOptions::default(),
            bytes,
            examined: OnceLock::new(),
            live: OnceLock::new(),
        })
    }

    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    pub fn plan(&self) -> Vec<PlannedCheck> {
        plan(&self.target.spec)
    }

    /// Where this run happens, for the report.
    pub fn environment(&self) -> Environment {
        let t = &self.target;
        let (vdso_present, image) = match &self.bytes {
            Bytes::Live(v) => (Some(v.is_some()), v.as_ref().map(|v| v.bytes())),
            Bytes::File(data) => (None, Some(data.as_slice())),
            Bytes::Observed(image) => (Some(image.is_some()), image.as_deref()),
            Bytes::Unreadable(_) => (Some(true), None),
            Bytes::Unavailable(_) => (None, None),
        };
        let parsed = image.and_then(|b| VdsoImage::parse(b).ok());
        let vdso_soname = parsed
            .as_ref()
            .and_then(|i| i.soname())
            .map(|s| String::from_utf8_lossy(s).into_owned());
        let vdso_build_id = parsed
            .as_ref()
            .and_then(|i| i.build_id().ok().flatten())
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect());
        Environment {
            arch: t.spec.arch.clone(),
            provider: t.provider.name().to_string(),
            build_target: env!("VDSOCONF_BUILD_TARGET").to_string(),
            machine: uname_machine(),
            kernel_release: kernel_release(),
            kernel: t.kernel.map(|k| k.to_string()),
            source: match &t.source {
                Source::Live => "live".to_string(),
                Source::File(path) => path.clone(),
                Source::Observed { image: Some(path) } => format!("probe dump {path}"),
                Source::Observed { image: None } => "probe: no vDSO".to_string(),
                Source::Unavailable { reason } => format!("unavailable: {reason}"),
            },
            vdso_present,
            vdso_soname,
            vdso_build_id,
            clocksource: vdsoconf_suite::checks::live::served::clocksource_name(),
            cpus: std::thread::available_parallelism().ok().map(|n| n.get()),
        }
    }

    /// Runs every planned check that `keep` selects and collects the report.
    pub fn report(&self, keep: impl Fn(&PlannedCheck) -> bool) -> RunReport {
        self.report_streaming(keep, &mut |_| true)
    }

    /// The checks `keep` selects, group by group in [`Group`]'s report order, each
    /// group's in plan order, so a report can be written group by group as the
    /// checks finish.
    ///
    /// [`Group`]: vdsoconf_suite::checks::Group
    pub fn selected(&self, keep: impl Fn(&PlannedCheck) -> bool) -> Vec<PlannedCheck> {
        let mut checks: Vec<PlannedCheck> = self.plan().into_iter().filter(|c| keep(c)).collect();
        checks.sort_by_key(|c| c.group); // stable: plan order within a group
        checks
    }

    /// [`Session::report`], handing each result to `on_result` as it finishes; it
    /// returns false to stop the run. A stopping signal also stops it: the check it
    /// interrupted is dropped, and the report says what happened.
    pub fn report_streaming(
        &self,
        keep: impl Fn(&PlannedCheck) -> bool,
        on_result: &mut dyn FnMut(&CaseResult) -> bool,
    ) -> RunReport {
        let selected = self.selected(keep);
        let total = selected.len();
        let mut results = Vec::with_capacity(total);
        let mut interrupted = None;
        for check in selected {
            let start = std::time::Instant::now();
            let result = self.run(&check);
            if let Some(sig) = crate::signals::received() {
                interrupted = Some(format!(
                    "stopped by {} after {} of {total} checks",
                    crate::signals::name(sig),
                    results.len()
                ));
                break;
            }
            let case = CaseResult {
                name: check.name(),
                group: check.group.name().to_string(),
                expectation: check.expectation.clone(),
                result,
                duration_us: start.elapsed().as_micros() as u64,
            };
            let go_on = on_result(&case);
            results.push(case);
            if !go_on {
                interrupted = Some(format!(
                    "stopped after {} of {total} checks: the results could not be written",
                    results.len()
                ));
                break;
            }
        }
        let mut report = RunReport::new(self.environment(), results);
        report.interrupted = interrupted;
        report
    }

    fn image_bytes(&self) -> Result<&[u8], CheckResult> {
        match &self.bytes {
            Bytes::Live(Some(v)) => Ok(v.bytes()),
            Bytes::File(data) | Bytes::Observed(Some(data)) => Ok(data),
            Bytes::Live(None) => Err(CheckResult::skip("no vDSO in this process")),
            Bytes::Observed(None) => Err(CheckResult::skip("the probe process had no vDSO")),
            Bytes::Unreadable(e) => Err(CheckResult::fail(e.clone())),
            Bytes::Unavailable(reason) => Err(CheckResult::skip(reason.clone())),
        }
    }

    /// What an on-image check reads: whether there is a vDSO, and its image.
    fn image_context(&self) -> ImageContext<'_> {
        let present = match &self.bytes {
            Bytes::Live(v) => Ok(Some(v.is_some())),
            Bytes::Observed(image) => Ok(Some(image.is_some())),
            Bytes::File(_) => Ok(None),
            Bytes::Unreadable(e) => Err(CheckResult::fail(e.clone())),
            Bytes::Unavailable(reason) => Err(CheckResult::skip(reason.clone())),
        };
        let image = self.image_bytes().and_then(|bytes| {
            VdsoImage::parse(bytes)
                .map_err(|e| CheckResult::fail(format!("corrupt vDSO image: {e}")))
        });
        ImageContext {
            target: &self.target,
            present,
            image,
            examined: &self.examined,
        }
    }

    /// Runs one check, with the spec's known kernel deviations applied. Never panics on
    /// a corrupt image; calls run in child processes.
    pub fn run(&self, check: &PlannedCheck) -> CheckResult {
        let result = self.run_unfiltered(check);
        apply_deviations(
            &self.target.spec,
            self.target.provider,
            self.target.kernel,
            check,
            result,
        )
    }

    /// Runs `check` the way its group says it must run.
    fn run_unfiltered(&self, check: &PlannedCheck) -> CheckResult {
        if let Bytes::Unavailable(reason) = &self.bytes {
            return CheckResult::skip(reason.clone());
        }
        let group = check.group();
        let ctx = self.image_context();
        let runs = group.runs();
        if runs == Runs::OnImage {
            return group.on_image(check, &ctx);
        }
        // A call needs the live vDSO whose image the static checks read.
        if let Err(r) = ctx.image {
            return r;
        }
        match &self.bytes {
            Bytes::File(_) => return CheckResult::skip(
                "an image file cannot be called: run the suite on a system (or under qemu) with this vDSO",
            ),
            Bytes::Observed(_) => return CheckResult::skip(
                "only a probe ran on this target (the suite could not be built for it): calls need the suite itself",
            ),
            _ => {}
        }
        if let Some(known) = group.before_child(check, &self.target) {
            return known;
        }
        match runs {
            Runs::CallsInChildren => match check.case.symbol {
                Some(symbol) => crate::fuzz_live::fuzz_check(
                    self.live(),
                    &self.target,
                    symbol,
                    self.options.fuzz_seed,
                    self.options.fuzz_calls,
                ),
                None => CheckResult::fail("the plan named no symbol of this spec"),
            },
            Runs::InChildThatMayDie => match run_probe(self.live(), check) {
                Ok(run) => judge_overwrites(
                    group.judge_probe(check, &self.target.spec, run.sys, run.vdso),
                    &run.overwrites,
                ),
                Err(r) => r,
            },
            _ => self.run_in_child(check, runs),
        }
    }

    fn live(&self) -> &Arc<LiveTarget> {
        self.live
            .get_or_init(|| Arc::new(LiveTarget::of(&self.target)))
    }

    /// Runs a live check of the plan in a child process, with a timeout that fits it.
    fn run_in_child(&self, check: &PlannedCheck, runs: Runs) -> CheckResult {
        let (soaks, nested) = match runs {
            Runs::InChild {
                soaks,
                new_time_namespace,
            } => (soaks, new_time_namespace),
            _ => (false, false),
        };
        let timeout = if soaks {
            self.options.monotonic + CASE_TIMEOUT
        } else if nested {
            3 * CASE_TIMEOUT
        } else {
            CASE_TIMEOUT
        };
        let case = ChildCase::of(
            self.live(),
            Task::Live {
                check: check.name(),
                duration_ms: self.options.monotonic.as_millis() as u64,
                progress: self.options.progress && soaks,
            },
        );
        run_case_with(&case, timeout)
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
