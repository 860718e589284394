//! The plain-text report: one line per check, then the totals. Written a line at a
//! time as the checks finish ([`header`], [`result`], [`footer`]), or whole.

use crate::model::{CaseResult, Environment, RunReport};
use std::fmt::Write;

/// The first line: what is checked.
pub fn header(env: &Environment) -> String {
    format!(
        "vdsoconf: {}, provider {}, kernel {}, source {}\n",
        env.arch,
        env.provider,
        env.kernel.as_deref().unwrap_or("unknown"),
        env.source
    )
}

/// One check's line and its notes.
pub fn result(r: &CaseResult) -> String {
    let verdict = &r.result.verdict;
    let mut out = match verdict.text() {
        None => format!("{:<5} {}\n", verdict.word(), r.name),
        Some(text) => format!("{:<5} {}: {text}\n", verdict.word(), r.name),
    };
    for note in &r.result.notes {
        let _ = writeln!(out, "      note: {note}");
    }
    out
}

/// The totals, and why the run stopped early if it did.
pub fn footer(report: &RunReport) -> String {
    let c = report.counts();
    let mut out = format!("{}\n", c.sentence());
    if let Some(why) = &report.interrupted {
        let _ = writeln!(out, "INTERRUPTED: {why}");
    }
    out
}

pub fn render(report: &RunReport) -> String {
    let mut out = header(&report.environment);
    for r in &report.results {
        out.push_str(&result(r));
    }
    out.push_str(&footer(report));
    out
}
