//! ARM's kuser helpers (Documentation/arch/arm/kernel_user_helpers.rst): the
//! version word says how many helpers the kernel provides; each helper it
//! provides does what the documentation says (`__kuser_get_tls` returns the
//! thread register, the compare-and-exchanges succeed and fail as documented,
//! the barrier returns). Each check runs in a child that may die: a kernel
//! without the page kills whoever reads it.

use crate::checks::group::{About, CallOutcome, CheckGroup, Runs};
use crate::checks::plan::{Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::spec::{ArchSpec, KuserEntrySpec, KuserHelper, KuserHelpersSpec};
use crate::vdso::kuser;
use crate::vdso::syscall::Errno;

/// The `kuser` group: the version word, and a call of each helper.
pub struct KuserGroup;
pub static GROUP: KuserGroup = KuserGroup;

const VERSION: &str = "version";

/// The most 32-byte helper slots the page's top can hold below its version
/// word (the page is 4 KiB).
const MOST_SLOTS: u32 = 127;

impl CheckGroup for KuserGroup {
    fn about(&self) -> About {
        About {
            group: Group::Kuser,
            name: "kuser",
            what: "arm's kuser helpers page (`kuser_helpers` in the spec): the version word says how many helpers there are, and each does what the kernel's documentation says (`get_tls`, the compare-and-exchanges, the barrier), each in a child that may die",
            column: None,
            runs: Runs::InChildThatMayDie,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        let Some(page) = &spec.kuser_helpers else {
            return;
        };
        add(
            VERSION.into(),
            Case::default(),
            format!(
                "__kuser_helper_version at {:#x} says how many helpers there are (1 to {MOST_SLOTS})",
                page.version_address
            ),
        );
        for e in &page.entries {
            add(
                e.name.clone(),
                Case {
                    name: Some(e.name.clone()),
                    ..Case::default()
                },
                format!(
                    "{} at {:#x} (from version {}) does what the documentation says",
                    e.name, e.address, e.since_version
                ),
            );
        }
    }

    fn probe(
        &self,
        check: &PlannedCheck,
        target: &Target,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, CheckResult> {
        let page = page_of(&target.spec)?;
        if !kuser::CALLABLE {
            return Err(CheckResult::skip(
                "only a 32-bit ARM build of the runner can call the kuser helpers",
            ));
        }
        // A kernel without the page kills the process here: the parent sees
        // the signal before any report, and says so.
        let version = kuser::read_word(page.version_address);
        report(Some(Ok(version as isize)));
        let Some(name) = &check.case.name else {
            return Ok(i64::from(version));
        };
        let entry = page
            .entries
            .iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| CheckResult::fail(format!("no helper {name} in the spec")))?;
        if version < entry.since_version {
            return Err(CheckResult::skip(format!(
                "this kernel's helpers are version {version}, and {name} arrived in {}",
                entry.since_version
            )));
        }
        let verdict = judge_helper(entry, &call(entry));
        if verdict.is_pass() {
            Ok(0)
        } else {
            Err(verdict)
        }
    }

    fn judge_probe(
        &self,
        check: &PlannedCheck,
        spec: &ArchSpec,
        sys: Option<Result<isize, Errno>>,
        call: CallOutcome,
    ) -> CheckResult {
        let page = match page_of(spec) {
            Ok(page) => page,
            Err(r) => return r,
        };
        let Some(Ok(version)) = sys else {
            // Died reading the version word: there is no page.
            return match call {
                CallOutcome::Signal(sig) => CheckResult::skip(format!(
                    "no kuser helper page at {:#x} (reading it raised signal {sig}): the kernel was built without {}",
                    page.version_address,
                    if page.config.is_empty() {
                        "it".to_string()
                    } else {
                        page.config.join(" and ")
                    }
                )),
                other => CheckResult::fail(format!(
                    "the child said nothing of the version word ({other:?})"
                )),
            };
        };
        match (&check.case.name, call) {
            (None, CallOutcome::Returned(_)) => judge_version(version as u32),
            (Some(_), CallOutcome::Returned(_)) => CheckResult::pass(),
            (Some(name), CallOutcome::Signal(sig)) => CheckResult::fail(format!(
                "calling {name} killed the process with signal {sig} (the page is there: version {version})"
            )),
            (Some(name), CallOutcome::Hung) => {
                CheckResult::fail(format!("calling {name} never returned"))
            }
            (_, other) => CheckResult::fail(format!("unexpected end of the check: {other:?}")),
        }
    }
}

fn page_of(spec: &ArchSpec) -> Result<&KuserHelpersSpec, CheckResult> {
    spec.kuser_helpers
        .as_ref()
        .ok_or_else(|| CheckResult::fail("the spec has no kuser helpers"))
}

/// What calling one helper gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperReading {
    /// `__kuser_get_tls`'s answer and the thread register read directly.
    GetTls { returned: usize, register: usize },
    /// A compare-and-exchange from `start` to `new` (which must succeed: 0,
    /// the word now `new`), then from `start` again (which must fail:
    /// non-zero, the word still `new`): each call's return and the word after.
    Cmpxchg {
        start: i64,
        new: i64,
        swapped: (i32, i64),
        refused: (i32, i64),
    },
    /// The barrier returned.
    Returned,
}

/// Calls `entry`'s helper (in the child).
fn call(entry: &KuserEntrySpec) -> HelperReading {
    match entry.helper {
        KuserHelper::GetTls => HelperReading::GetTls {
            returned: kuser::get_tls(entry.address),
            register: kuser::thread_pointer(),
        },
        KuserHelper::MemoryBarrier => {
            kuser::memory_barrier(entry.address);
            HelperReading::Returned
        }
        KuserHelper::Cmpxchg => {
            let (start, new) = (0x1234_5678i32, -0x2345_6789i32);
            let mut word = start;
            let first = kuser::cmpxchg(entry.address, start, new, &mut word);
            let after_first = i64::from(word);
            let second = kuser::cmpxchg(entry.address, start, 7, &mut word);
            HelperReading::Cmpxchg {
                start: start.into(),
                new: new.into(),
                swapped: (first, after_first),
                refused: (second, i64::from(word)),
            }
        }
        KuserHelper::Cmpxchg64 => {
            // Values that differ in both halves, so a 32-bit exchange shows.
            let (start, new) = (0x0123_4567_89ab_cdefi64, -0x0fed_cba9_8765_4321i64);
            let mut word = start;
            let first = kuser::cmpxchg64(entry.address, start, new, &mut word);
            let after_first = word;
            let second = kuser::cmpxchg64(entry.address, start, 7, &mut word);
            HelperReading::Cmpxchg {
                start,
                new,
                swapped: (first, after_first),
                refused: (second, word),
            }
        }
    }
}

/// The version word: at least one helper, no more than fit the page.
pub fn judge_version(version: u32) -> CheckResult {
    if (1..=MOST_SLOTS).contains(&version) {
        CheckResult::pass().with_notes(vec![format!("{version} helper slots")])
    } else {
        CheckResult::from_symptoms(vec![Problem::new(
            "kuser-version",
            format!("__kuser_helper_version is {version}, not 1 to {MOST_SLOTS}"),
        )])
    }
}

/// One helper's reading against what the documentation says it does.
pub fn judge_helper(entry: &KuserEntrySpec, reading: &HelperReading) -> CheckResult {
    let fail = |detail: &str, message: String| {
        CheckResult::from_symptoms(vec![Problem::about("kuser-helper", detail, message)])
    };
    match (entry.helper, reading) {
        (KuserHelper::GetTls, HelperReading::GetTls { returned, register }) => {
            if returned == register {
                CheckResult::pass()
                    .with_notes(vec![format!("returned the thread register, {returned:#x}")])
            } else {
                fail(
                    "get_tls",
                    format!(
                        "returned {returned:#x}; the thread register (TPIDRURO) is {register:#x}"
                    ),
                )
            }
        }
        (KuserHelper::MemoryBarrier, HelperReading::Returned) => CheckResult::pass(),
        (
            KuserHelper::Cmpxchg | KuserHelper::Cmpxchg64,
            HelperReading::Cmpxchg {
                start,
                new,
                swapped,
                refused,
            },
        ) => {
            let mut problems = Vec::new();
            if *swapped != (0, *new) {
                problems.push(format!(
                    "exchanging {start:#x} for {new:#x} on a word holding {start:#x} returned {} and left {:#x} (expected 0 and {new:#x})",
                    swapped.0, swapped.1
                ));
            }
            if refused.0 == 0 || refused.1 != *new {
                problems.push(format!(
                    "exchanging {start:#x} on a word holding {new:#x} returned {} and left {:#x} (expected non-zero and {new:#x} unchanged)",
                    refused.0, refused.1
                ));
            }
            if problems.is_empty() {
                CheckResult::pass()
            } else {
                fail("cmpxchg", problems.join("; "))
            }
        }
        (helper, other) => fail(
            "reading",
            format!("{helper:?} gave a reading of another helper: {other:?}"),
        ),
    }
}
