//! The results of one run, as written to `results.json` (schema `vdsoconf-results/1`).
//!
//! Fields are only ever added within a schema version; a reader should ignore
//! fields it does not know.

use serde::{Deserialize, Serialize};
use vdsoconf_suite::checks::{CheckResult, Verdict};

/// `vdsoconf <version>`, as every report names its writer.
pub fn tool_name() -> String {
    format!("vdsoconf {}", env!("CARGO_PKG_VERSION"))
}

/// The schema identifier written into every report.
pub const SCHEMA: &str = "vdsoconf-results/1";

/// One run of the suite against one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// `vdsoconf <version>`.
    pub tool: String,
    pub environment: Environment,
    /// In plan order.
    pub results: Vec<CaseResult>,
    /// Set when the run was stopped (a signal) before every selected check ran:
    /// `results` holds the ones that finished, and says so here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
}

/// Where the run happened and what it was judged against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// The spec's architecture name (`x86_64`, `i386`, `mips-n64`, …).
    pub arch: String,
    /// `kernel` or `qemu`.
    pub provider: String,
    /// The Rust target the runner was built for (`i686-unknown-linux-gnu`).
    pub build_target: String,
    /// `uname -m` as the process sees it (qemu-user reports the guest's).
    pub machine: Option<String>,
    /// `uname -r`.
    pub kernel_release: Option<String>,
    /// The kernel version `since`/`until` were judged against.
    pub kernel: Option<String>,
    /// `live` or the image file checked.
    pub source: String,
    /// Whether the process has a vDSO (`null` for an image file).
    pub vdso_present: Option<bool>,
    pub vdso_soname: Option<String>,
    /// The vDSO's GNU build-id, in hex.
    #[serde(default)]
    pub vdso_build_id: Option<String>,
    pub clocksource: Option<String>,
    pub cpus: Option<usize>,
}

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// `arch::group::subject`, unique within a run.
    pub name: String,
    pub group: String,
    /// What the check expects, and why, in words.
    pub expectation: String,
    pub result: CheckResult,
    /// How long the check took, child process included.
    #[serde(default)]
    pub duration_us: u64,
}

/// How many checks had each verdict. `xfail` and `xpass` were added within
/// schema 1 (absent in older reports: zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    #[serde(default)]
    pub xfail: usize,
    #[serde(default)]
    pub xpass: usize,
}

impl Counts {
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail { .. } => self.fail += 1,
            Verdict::Skip { .. } => self.skip += 1,
            Verdict::Xfail { .. } => self.xfail += 1,
            Verdict::Xpass { .. } => self.xpass += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.skip + self.xfail + self.xpass
    }

    /// Checks that ran to a verdict other than a failure (pass, xfail, xpass):
    /// none means nothing was checked.
    pub fn ran_clean(&self) -> usize {
        self.pass + self.xfail + self.xpass
    }

    /// `passed/failed/skipped`, then `+N xfail` and `+N xpass` where there are
    /// any; `-` for none.
    pub fn cell(&self) -> String {
        if self.total() == 0 {
            return "-".to_string();
        }
        let mut text = format!("{}/{}/{}", self.pass, self.fail, self.skip);
        if self.xfail > 0 {
            text.push_str(&format!(" +{} xfail", self.xfail));
        }
        if self.xpass > 0 {
            text.push_str(&format!(" +{} xpass", self.xpass));
        }
        text
    }

    /// The totals line of the plain-text report.
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "{} passed, {} failed, {} skipped",
            self.pass, self.fail, self.skip
        );
        if self.xfail > 0 || self.xpass > 0 {
            text.push_str(&format!(
                ", {} xfail (only a known bug), {} xpass (a known bug not seen)",
                self.xfail, self.xpass
            ));
        }
        text
    }
}

impl RunReport {
    pub fn new(environment: Environment, results: Vec<CaseResult>) -> Self {
        RunReport {
            schema: SCHEMA.to_string(),
            tool: tool_name(),
            environment,
            results,
            interrupted: None,
        }
    }

    /// Reads a report, refusing other schemas by name.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => serde_json::from_value(value).map_err(|e| e.to_string()),
            Some(other) => Err(format!("schema {other:?} is not {SCHEMA:?}")),
            None => Err(format!("not a vdsoconf report (no \"schema\": {SCHEMA:?})")),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes")
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.results {
            c.add(&r.result.verdict);
        }
        c
    }

    /// Counts of the results in `group`.
    pub fn group_counts(&self, group: &str) -> Counts {
        let mut c = Counts::default();
        for r in self.results.iter().filter(|r| r.group == group) {
            c.add(&r.result.verdict);
        }
        c
    }
}
