//! KTAP version 1, as kselftest writes it: one top-level test per check group with
//! its checks as subtests, `# SKIP reason` directives, failure details and notes as
//! `# ` diagnostic lines, and the kselftest totals line.

use crate::model::{CaseResult, Counts, RunReport};
use std::fmt::Write;
use vdsoconf_suite::checks::Verdict;

/// kselftest's exit status for these results: 0 pass, 1 a failure, 4 all skipped.
pub fn exit_code(report: &RunReport) -> i32 {
    let c = report.counts();
    if c.fail > 0 {
        1
    } else if c.pass == 0 {
        4 // every check skipped, or none ran
    } else {
        0
    }
}

/// The check groups in plan order, each with its results.
pub fn groups(report: &RunReport) -> Vec<(&str, Vec<&CaseResult>)> {
    let mut groups: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for r in &report.results {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, rs)) => rs.push(r),
            None => groups.push((r.group.as_str(), vec![r])),
        }
    }
    groups
}

/// Text that may follow `ok N ` or `# `: one line, no `#` (which would start a directive).
fn clean(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('#', "no.")
}

pub fn render(report: &RunReport) -> String {
    let env = &report.environment;
    let mut out = String::new();
    let groups = groups(report);
    let _ = writeln!(out, "KTAP version 1");
    let _ = writeln!(
        out,
        "# vdsoconf: {} provider {} kernel {} ({})",
        env.arch,
        env.provider,
        env.kernel_release.as_deref().unwrap_or("unknown"),
        report.tool
    );
    let _ = writeln!(out, "1..{}", groups.len());
    for (gi, (group, results)) in groups.iter().enumerate() {
        let _ = writeln!(out, "  KTAP version 1");
        let _ = writeln!(out, "  # Subtest: {group}");
        let _ = writeln!(out, "  1..{}", results.len());
        let mut counts = Counts::default();
        for (i, r) in results.iter().enumerate() {
            counts.add(&r.result.verdict);
            let name = clean(&r.name);
            for note in &r.result.notes {
                let _ = writeln!(out, "  # note: {}", clean(note));
            }
            let _ = match &r.result.verdict {
                Verdict::Pass => writeln!(out, "  ok {} {name}", i + 1),
                Verdict::Fail { message } => {
                    let problems = if r.result.problems.is_empty() {
                        vec![message.clone()]
                    } else {
                        r.result.problems.clone()
                    };
                    for p in problems {
                        let _ = writeln!(out, "  # {}", clean(&p));
                    }
                    writeln!(out, "  not ok {} {name}", i + 1)
                }
                Verdict::Skip { reason } => {
                    writeln!(out, "  ok {} {name} # SKIP {}", i + 1, clean(reason))
                }
            };
        }
        let _ = if counts.fail > 0 {
            writeln!(out, "not ok {} {group}", gi + 1)
        } else if counts.pass == 0 {
            writeln!(out, "ok {} {group} # SKIP every check skipped", gi + 1)
        } else {
            writeln!(out, "ok {} {group}", gi + 1)
        };
    }
    let c = report.counts();
    let _ = writeln!(
        out,
        "# Totals: pass:{} fail:{} xfail:0 xpass:0 skip:{} error:0",
        c.pass, c.fail, c.skip
    );
    out
}
