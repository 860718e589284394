//! The cross-architecture summary: one row per target of a results directory as the
//! qemu matrix writes it, one column per check group.
//!
//! Layout: `DIR/<target>/target.json` ([`TargetInfo`], written by the matrix script)
//! and, when the target ran, `DIR/<target>/results.json` (a [`RunReport`]).

use crate::model::{Counts, RunReport};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;
use vdsoconf_suite::checks::Group;
use vdsoconf_suite::input::{read_text, InputKind};

/// The columns of the table: a name and the check groups it counts, from each
/// group's [`Group::column`]. The last, `other`, counts every group no column
/// before it names (one added without a column, or one a newer vdsoconf wrote), so
/// no result can drop out of the table.
pub fn columns() -> Vec<(&'static str, Vec<Group>)> {
    let mut columns: Vec<(&'static str, Vec<Group>)> = Vec::new();
    for g in Group::ALL {
        let Some(name) = g.column() else { continue };
        match columns.iter_mut().find(|(n, _)| *n == name) {
            Some((_, groups)) => groups.push(g),
            None => columns.push((name, vec![g])),
        }
    }
    columns.push(("other", Vec::new()));
    columns
}

/// What the matrix script knows about one target, whether or not it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub target: String,
    /// How it ran: `native` or the qemu binary.
    pub runner: String,
    /// The compiler it was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<String>,
    /// Set when the target could not be built (no toolchain, build error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_built: Option<String>,
    /// Set when only the C probe ran (why the suite itself could not be built): the
    /// presence and image checks of its observation are in the report, no calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_only: Option<String>,
    /// Set when the target was built with a toolchain other than the first choice:
    /// why the ones before it could not be had when it was first fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain_fallback: Option<String>,
    /// Set when the target should have run but could not (a build error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The runner's exit status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// Seconds the row spent getting its toolchain or kernel (the cache's lock
    /// included), building its runner, and running it (a kernel row: the boot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_s: Option<f64>,
}

/// One row: a target and its report, if it produced one.
#[derive(Debug, Clone)]
pub struct MatrixRow {
    pub info: TargetInfo,
    pub report: Option<RunReport>,
    /// Why there is no report although the target was built.
    pub missing: Option<String>,
}

impl MatrixRow {
    /// The runner, and for a kernel's vDSO the clocksource it ran on: which way
    /// the vDSO read its counter (or that it could not) is part of what the row
    /// checked. A qemu-user row's vDSO is QEMU's, whatever the host's clock.
    pub fn runner(&self) -> String {
        match &self.report {
            Some(r) if r.environment.provider == "kernel" => match &r.environment.clocksource {
                Some(cs) => format!("{}, clocksource {cs}", self.info.runner),
                None => self.info.runner.clone(),
            },
            _ => self.info.runner.clone(),
        }
    }
}

/// The verdict of a whole row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    Pass,
    /// The provider gives no vDSO and the spec says so: nothing else can be
    /// checked. What the vDSO check noted (the spec's reason, as it says it).
    NoVdsoAsSpecified(String),
    Fail(String),
    /// The run executed no check, or every check skipped (its runner exits 4).
    NothingChecked(String),
    NotBuilt(String),
}

impl MatrixRow {
    pub fn state(&self) -> RowState {
        if let Some(why) = &self.info.not_built {
            return RowState::NotBuilt(why.clone());
        }
        if let Some(error) = &self.info.error {
            return RowState::Fail(error.clone());
        }
        let Some(report) = &self.report else {
            return RowState::Fail(
                self.missing
                    .clone()
                    .unwrap_or_else(|| "no results".to_string()),
            );
        };
        let counts = report.counts();
        if counts.fail > 0 {
            return RowState::Fail(format!("{} failed", counts.fail));
        }
        if let Some(why) = &report.interrupted {
            return RowState::Fail(format!("interrupted: {why}"));
        }
        if counts.ran_clean() == 0 {
            let why = report
                .results
                .iter()
                .find_map(|r| match &r.result.verdict {
                    vdsoconf_suite::checks::Verdict::Skip { reason } => {
                        Some(format!("all {} skipped: {reason}", counts.skip))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| "no check was selected".to_string());
            return RowState::NothingChecked(why);
        }
        if self.info.exit.is_some_and(|e| e != 0) {
            return RowState::Fail(format!(
                "the runner exited with status {}",
                self.info.exit.unwrap_or_default()
            ));
        }
        let vdso = report.group_counts(Group::Vdso.name());
        if report.environment.vdso_present == Some(false) && vdso.pass > 0 {
            let said = column_results(report, &[Group::Vdso])
                .find_map(|r| r.result.notes.first().cloned())
                .unwrap_or_else(|| "no vDSO, as the spec says".to_string());
            return RowState::NoVdsoAsSpecified(said);
        }
        RowState::Pass
    }
}

/// The rows of a results directory: the matrix's targets, or the single run a
/// `vdsoconf run --report-dir` wrote there.
pub fn read_results(dir: &Path) -> Result<Vec<MatrixRow>, String> {
    let single = dir.join("results.json");
    if !single.is_file() {
        return read_dir(dir);
    }
    let text = read_text(&single, InputKind::Report).map_err(|e| e.to_string())?;
    let report = RunReport::from_json(&text).map_err(|e| format!("{}: {e}", single.display()))?;
    Ok(vec![single_row(report)])
}

/// The one row of a single run's report (what `vdsoconf run --report-dir` shows).
pub fn single_row(report: RunReport) -> MatrixRow {
    let failed = report.counts().fail > 0;
    MatrixRow {
        info: TargetInfo {
            target: report.environment.build_target.clone(),
            runner: "native".to_string(),
            toolchain: None,
            toolchain_fallback: None,
            not_built: None,
            probe_only: None,
            error: None,
            exit: Some(i32::from(failed)),
            fetch_s: None,
            build_s: None,
            run_s: None,
        },
        report: Some(report),
        missing: None,
    }
}

/// Reads every target directory of `dir`, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<MatrixRow>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut rows = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue; // the matrix's own scratch (builds made only for a kernel row)
        }
        let info_path = entry.path().join("target.json");
        if !info_path.is_file() {
            continue;
        }
        let text = read_text(&info_path, InputKind::Report).map_err(|e| e.to_string())?;
        let info: TargetInfo =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", info_path.display()))?;
        let results = entry.path().join("results.json");
        let (report, missing) = match read_text(&results, InputKind::Report) {
            Ok(t) => match RunReport::from_json(&t) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("{}: {e}", results.display()))),
            },
            // A results.json that exists and cannot be read is not a missing one.
            Err(e) if results.symlink_metadata().is_ok() => (None, Some(e.to_string())),
            Err(_) if info.not_built.is_some() || info.error.is_some() => (None, None),
            Err(_) => (
                None,
                Some(format!(
                    "no results.json (runner exit status {}; see {})",
                    info.exit.map_or("unknown".to_string(), |e| e.to_string()),
                    entry.path().join("output.txt").display()
                )),
            ),
        };
        rows.push(MatrixRow {
            info,
            report,
            missing,
        });
    }
    if rows.is_empty() {
        return Err(format!(
            "{}: no target results (expected <target>/target.json)",
            dir.display()
        ));
    }
    rows.sort_by(|a, b| a.info.target.cmp(&b.info.target));
    Ok(rows)
}

/// Whether a result of group `group` belongs to the column that counts
/// `groups` (an empty list: the catch-all, every group no other column names).
fn in_column(groups: &[Group], group: &str) -> bool {
    if groups.is_empty() {
        !Group::ALL
            .iter()
            .any(|n| n.name() == group && n.column().is_some())
    } else {
        groups.iter().any(|g| g.name() == group)
    }
}

/// The results the column that counts `groups` shows.
pub fn column_results<'r>(
    report: &'r RunReport,
    groups: &'r [Group],
) -> impl Iterator<Item = &'r crate::model::CaseResult> {
    report
        .results
        .iter()
        .filter(|r| in_column(groups, &r.group))
}

/// The counts of the column that counts `groups` (an empty list: the catch-all,
/// every group no other column names).
pub fn group_counts(report: &RunReport, groups: &[Group]) -> Counts {
    let mut c = Counts::default();
    for r in column_results(report, groups) {
        c.add(&r.result.verdict);
    }
    c
}

/// The table as text: cells are the counts of each verdict ([`Counts::cell`]).
pub fn render_text(rows: &[MatrixRow]) -> String {
    let mut header = vec![
        "target".to_string(),
        "arch".to_string(),
        "runner".to_string(),
    ];
    header.extend(columns().iter().map(|(name, _)| name.to_string()));
    header.push("result".to_string());
    let mut table = vec![header];
    for row in rows {
        let mut line = vec![row.info.target.clone()];
        match &row.report {
            Some(r) => {
                line.push(r.environment.arch.clone());
                line.push(row.runner());
                line.extend(columns().iter().map(|(_, g)| group_counts(r, g).cell()));
            }
            None => {
                line.push("-".to_string());
                line.push(row.info.runner.clone());
                line.extend(columns().iter().map(|_| "-".to_string()));
            }
        }
        line.push(match row.state() {
            RowState::Pass => "PASS".to_string(),
            RowState::NoVdsoAsSpecified(said) => format!("PASS ({said})"),
            RowState::Fail(why) => format!("FAIL ({why})"),
            RowState::NothingChecked(why) => format!("NOTHING CHECKED ({why})"),
            RowState::NotBuilt(why) => format!("NOT BUILT ({why})"),
        });
        table.push(line);
    }
    let mut out = crate::table::render(&table, |_| crate::table::Align::Left, true);
    let _ = writeln!(
        out,
        "cells: passed/failed/skipped checks, then +N xfail (ran and saw only a known bug the spec records) and +N xpass (a recorded bug did not show) where there are any; '-' none planned"
    );
    out.push_str(&footer(rows));
    out
}

/// Below the table, loud, each with why: the rows not built, built with a
/// fallback toolchain, or checked by the C probe only.
fn footer(rows: &[MatrixRow]) -> String {
    let listed = |why: &dyn Fn(&TargetInfo) -> Option<String>| -> Vec<(String, String)> {
        rows.iter()
            .filter_map(|r| why(&r.info).map(|w| (r.info.target.clone(), w)))
            .collect()
    };
    let lists = [
        (
            "NOT BUILT, each with its reason (a toolchain, a kernel or KVM that could not be had)",
            listed(&|i| i.not_built.clone()),
        ),
        (
            "built with a FALLBACK toolchain (the first choice could not be had when it was first fetched; delete its cache to try again)",
            listed(&|i| {
                i.toolchain_fallback.as_ref().map(|why| {
                    format!("{}: {why}", i.toolchain.as_deref().unwrap_or("unknown"))
                })
            }),
        ),
        (
            "checked by the C probe only (presence and image checks; no calls)",
            listed(&|i| i.probe_only.clone()),
        ),
    ];
    let mut out = String::new();
    for (what, items) in lists.iter().filter(|(_, items)| !items.is_empty()) {
        let _ = writeln!(out, "!!! {} target(s) {what}:", items.len());
        for (target, why) in items {
            let _ = writeln!(out, "!!!   {target}: {why}");
        }
    }
    out
}
