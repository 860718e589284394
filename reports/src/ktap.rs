//! KTAP version 1, as kselftest writes it: one top-level test per check group with
//! its checks as subtests, `# SKIP`, `# XFAIL` and `# XPASS` directives with their
//! reasons, failure details and notes as `# ` diagnostic lines, and the kselftest
//! totals line.

use crate::model::{CaseResult, Counts, Environment, RunReport};
use std::fmt::Write;
use vdsoconf_suite::checks::Verdict;

/// kselftest's exit status for these results: 0 pass, 1 a failure, 4 all skipped.
/// As `ksft_finished()` counts them, an xfail or an xpass is not a failure.
pub fn exit_code(report: &RunReport) -> i32 {
    let c = report.counts();
    if c.fail > 0 {
        1
    } else if c.ran_clean() == 0 {
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

/// KTAP written as the checks finish: the plan (groups and their sizes) is known
/// before the first result, so every line can go out as soon as it is true.
pub struct KtapStream {
    /// Each group of the plan and how many checks it has.
    groups: Vec<(String, usize)>,
    /// The next group to open.
    next: usize,
    /// The open group: its index, results so far and their counts.
    open: Option<(usize, usize, Counts)>,
}

impl KtapStream {
    /// The stream and its opening lines. `checks` is the group of each check that
    /// will be reported, in the order they will be (a group's checks together).
    pub fn start<'g>(
        tool: &str,
        env: &Environment,
        checks: impl IntoIterator<Item = &'g str>,
    ) -> (Self, String) {
        let mut groups: Vec<(String, usize)> = Vec::new();
        for g in checks {
            match groups.last_mut() {
                Some((name, n)) if name == g => *n += 1,
                _ => groups.push((g.to_string(), 1)),
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "KTAP version 1");
        let _ = writeln!(
            out,
            "# vdsoconf: {} provider {} kernel {} ({tool})",
            env.arch,
            env.provider,
            env.kernel_release.as_deref().unwrap_or("unknown"),
        );
        let _ = writeln!(out, "1..{}", groups.len());
        let stream = KtapStream {
            groups,
            next: 0,
            open: None,
        };
        (stream, out)
    }

    /// The lines of one finished check (and of its group's start and end).
    pub fn result(&mut self, r: &CaseResult) -> String {
        let mut out = String::new();
        if self
            .open
            .is_none_or(|(i, _, _)| self.groups[i].0 != r.group)
        {
            out.push_str(&self.close_group());
            let i = (self.next..self.groups.len())
                .find(|&i| self.groups[i].0 == r.group)
                .unwrap_or(self.next);
            if i >= self.groups.len() {
                self.groups.push((r.group.clone(), 1)); // not in the plan given: its own group
            }
            self.next = i + 1;
            self.open = Some((i, 0, Counts::default()));
            let _ = writeln!(out, "  KTAP version 1");
            let _ = writeln!(out, "  # Subtest: {}", r.group);
            let _ = writeln!(out, "  1..{}", self.groups[i].1);
        }
        let Some((i, done, counts)) = self.open.as_mut() else {
            return out;
        };
        *done += 1;
        counts.add(&r.result.verdict);
        let (n, name) = (*done, clean(&r.name));
        for note in &r.result.notes {
            let _ = writeln!(out, "  # note: {}", clean(note));
        }
        let _ = match &r.result.verdict {
            Verdict::Pass => writeln!(out, "  ok {n} {name}"),
            Verdict::Fail { message } => {
                let problems = if r.result.problems.is_empty() {
                    vec![message.clone()]
                } else {
                    r.result.problems.clone()
                };
                for p in problems {
                    let _ = writeln!(out, "  # {}", clean(&p));
                }
                writeln!(out, "  not ok {n} {name}")
            }
            Verdict::Skip { reason } | Verdict::Xfail { reason } | Verdict::Xpass { reason } => {
                let word = r.result.verdict.word();
                writeln!(out, "  ok {n} {name} # {word} {}", clean(reason))
            }
        };
        if n == self.groups[*i].1 {
            out.push_str(&self.close_group());
        }
        out
    }

    /// The result line of the open group, if one is open.
    fn close_group(&mut self) -> String {
        let Some((i, _, c)) = self.open.take() else {
            return String::new();
        };
        let (gi, group) = (i + 1, &self.groups[i].0);
        if c.fail > 0 {
            format!("not ok {gi} {group}\n")
        } else if c.ran_clean() == 0 {
            format!("ok {gi} {group} # SKIP every check skipped\n")
        } else {
            format!("ok {gi} {group}\n")
        }
    }

    /// The closing lines: the totals, and why the run stopped early if it did
    /// (then the open group stays unfinished, as a parser should see it).
    pub fn finish(&mut self, report: &RunReport) -> String {
        let mut out = String::new();
        match &report.interrupted {
            Some(why) => {
                let _ = writeln!(out, "# interrupted: {}", clean(why));
            }
            None => out.push_str(&self.close_group()),
        }
        let c = report.counts();
        let _ = writeln!(
            out,
            "# Totals: pass:{} fail:{} xfail:{} xpass:{} skip:{} error:0",
            c.pass, c.fail, c.xfail, c.xpass, c.skip
        );
        out
    }
}

pub fn render(report: &RunReport) -> String {
    let checks = report.results.iter().map(|r| r.group.as_str());
    let (mut stream, mut out) = KtapStream::start(&report.tool, &report.environment, checks);
    for r in &report.results {
        out.push_str(&stream.result(r));
    }
    out.push_str(&stream.finish(report));
    out
}
