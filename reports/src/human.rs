//! The plain-text report: one line per check, then the totals.

use crate::model::RunReport;
use std::fmt::Write;
use vdsoconf_suite::checks::Verdict;

pub fn render(report: &RunReport) -> String {
    let env = &report.environment;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "vdsoconf: {}, provider {}, kernel {}, source {}",
        env.arch,
        env.provider,
        env.kernel.as_deref().unwrap_or("unknown"),
        env.source
    );
    for r in &report.results {
        let _ = match &r.result.verdict {
            Verdict::Pass => writeln!(out, "PASS  {}", r.name),
            Verdict::Fail { message } => writeln!(out, "FAIL  {}: {message}", r.name),
            Verdict::Skip { reason } => writeln!(out, "SKIP  {}: {reason}", r.name),
        };
        for note in &r.result.notes {
            let _ = writeln!(out, "      note: {note}");
        }
    }
    let c = report.counts();
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        c.pass, c.fail, c.skip
    );
    out
}
