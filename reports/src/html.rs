//! A self-contained HTML page (no external resources): the target x check-group table
//! and, when there is one, the bench table with its inline SVG chart.

use crate::bench::{render_svg, BenchReport};
use crate::matrix::{column_results, columns, group_counts, MatrixRow, RowState};
use crate::model::CaseResult;
use std::fmt::Write;
use vdsoconf_suite::checks::Verdict;

/// `s` as HTML or XML text (attribute values included).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}td.name,th.name{text-align:left}td.pass{background:#e4f4e4}td.fail{background:#f8d7d7}\
td.skip{background:#f4f1e0}td.none{color:#999}p.note{color:#555;font-size:90%}\
tr.arch th{text-align:left;background:#e8eef6}summary{cursor:pointer}\
ol.checks{text-align:left;font-size:85%;margin:0.3em 0;padding-left:1.5em;max-width:60em}\
ol.checks li.fail{color:#a00}ol.checks li.skip{color:#665}ol.checks li.xfail{color:#850}ol.checks li.xpass{color:#058}ol.checks small{color:#555}";

pub fn render(title: &str, rows: &[MatrixRow], bench: Option<&BenchReport>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(title)
    );
    h.push_str("<h2>Conformance</h2>\n<table class=\"matrix\"><thead><tr><th class=\"name\">target</th><th class=\"name\">arch</th><th class=\"name\">runner</th>");
    for (name, _) in columns() {
        let _ = write!(h, "<th>{}</th>", esc(name));
    }
    h.push_str("<th class=\"name\">result</th></tr></thead><tbody>\n");
    let width = 4 + columns().len();
    let mut arch_shown: Option<String> = None;
    for row in grouped(rows) {
        let arch = arch_of(row);
        if arch_shown.as_deref() != Some(arch.as_str()) {
            let _ = writeln!(
                h,
                "<tr class=\"arch\"><th colspan=\"{width}\">{}</th></tr>",
                esc(&arch)
            );
            arch_shown = Some(arch);
        }
        let _ =
            write!(
            h,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td>",
            esc(&row.info.target),
            esc(row.report.as_ref().map_or("-", |r| r.environment.arch.as_str())),
            esc(&row.runner())
        );
        for (_, groups) in columns() {
            match &row.report {
                Some(r) => {
                    let c = group_counts(r, &groups);
                    let class = if c.total() == 0 {
                        "none"
                    } else if c.fail > 0 {
                        "fail"
                    } else if c.ran_clean() > 0 {
                        "pass"
                    } else {
                        "skip"
                    };
                    if c.total() == 0 {
                        let _ = write!(h, "<td class=\"{class}\">-</td>");
                    } else {
                        let text = c.cell();
                        let checks: Vec<&CaseResult> = column_results(r, &groups).collect();
                        let _ = write!(
                            h,
                            "<td class=\"{class}\">{}</td>",
                            drill_down(&text, &checks)
                        );
                    }
                }
                None => h.push_str("<td class=\"none\">-</td>"),
            }
        }
        let (class, text) = match row.state() {
            RowState::Pass => ("pass", "PASS".to_string()),
            RowState::NoVdsoAsSpecified(said) => ("pass", format!("PASS ({said})")),
            RowState::Fail(why) => ("fail", format!("FAIL ({why})")),
            RowState::NothingChecked(why) => ("skip", format!("NOTHING CHECKED ({why})")),
            RowState::NotBuilt(why) => ("skip", format!("NOT BUILT ({why})")),
        };
        let failed: Vec<&CaseResult> = row
            .report
            .iter()
            .flat_map(|r| &r.results)
            .filter(|c| matches!(c.result.verdict, Verdict::Fail { .. }))
            .collect();
        let result = if failed.is_empty() {
            esc(&text)
        } else {
            drill_down(&text, &failed)
        };
        let _ = writeln!(h, "<td class=\"name {class}\">{result}</td></tr>");
    }
    h.push_str("</tbody></table>\n<p class=\"note\">cells: passed/failed/skipped checks, then +N xfail (ran and saw only a known bug the spec records) and +N xpass (a recorded bug did not show) where there are any ('-' none planned); each opens the checks behind it, failures first, with their messages</p>\n");
    if let Some(b) = bench {
        h.push_str("<h2>vDSO versus syscall</h2>\n<table class=\"bench\"><thead><tr><th class=\"name\">function</th><th>vDSO median ns</th><th>vDSO min ns</th><th>syscall median ns</th><th>syscall min ns</th><th>speedup</th></tr></thead><tbody>\n");
        for r in &b.rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"name\">{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}x</td></tr>",
                esc(&r.label()),
                r.vdso.median_ns,
                r.vdso.min_ns,
                r.syscall.median_ns,
                r.syscall.min_ns,
                r.speedup()
            );
        }
        for f in &b.failures {
            let _ = writeln!(
                h,
                "<tr class=\"fail\"><td class=\"name\">{}</td><td colspan=\"5\">FAILED: {}</td></tr>",
                esc(&f.symbol),
                esc(&f.reason)
            );
        }
        h.push_str("</tbody></table>\n");
        h.push_str(&render_svg(b));
        let _ = writeln!(
            h,
            "\n<p class=\"note\">{} on {} ({} CPUs, clocksource {}): median and minimum over {} batches of {} calls.</p>",
            esc(&b.environment.arch),
            esc(b.environment.kernel_release.as_deref().unwrap_or("unknown kernel")),
            b.environment.cpus.unwrap_or(0),
            esc(b.environment.clocksource.as_deref().unwrap_or("unknown")),
            b.batches,
            b.batch
        );
    }
    h.push_str("</body></html>\n");
    h
}

/// The rows by architecture (the spec each ran against), and within one the
/// qemu-user and native rows before the kernels booted for it.
fn grouped(rows: &[MatrixRow]) -> Vec<&MatrixRow> {
    let mut sorted: Vec<&MatrixRow> = rows.iter().collect();
    sorted.sort_by_key(|r| {
        let booted = r.info.runner.starts_with("qemu-system");
        (arch_of(r), booted, r.info.target.clone())
    });
    sorted
}

/// A row's architecture: its report's, else the part of its name before the
/// first `-` (a row that never ran).
fn arch_of(row: &MatrixRow) -> String {
    match &row.report {
        Some(r) => r.environment.arch.clone(),
        None => row.info.target.split('-').next().unwrap_or("").to_string(),
    }
}

/// `label` opening (plain `<details>`, no script) the list of `checks`:
/// failures, then xpasses, xfails, skips and passes, each with its message or
/// reason and, for a failure or an xfail, its notes (what was observed).
fn drill_down(label: &str, checks: &[&CaseResult]) -> String {
    let rank = |c: &&&CaseResult| match c.result.verdict {
        Verdict::Fail { .. } => 0,
        Verdict::Xpass { .. } => 1,
        Verdict::Xfail { .. } => 2,
        Verdict::Skip { .. } => 3,
        Verdict::Pass => 4,
    };
    let mut ordered: Vec<&&CaseResult> = checks.iter().collect();
    ordered.sort_by_key(rank);
    let mut h = format!(
        "<details><summary>{}</summary><ol class=\"checks\">",
        esc(label)
    );
    for c in ordered {
        let verdict = &c.result.verdict;
        let class = match verdict {
            Verdict::Fail { .. } => "fail",
            Verdict::Skip { .. } => "skip",
            Verdict::Xfail { .. } => "xfail",
            Verdict::Xpass { .. } => "xpass",
            Verdict::Pass => "pass",
        };
        let what = match verdict.text() {
            Some(text) => format!("{}: {text}", verdict.word()),
            None => verdict.word().to_string(),
        };
        let _ = write!(
            h,
            "<li class=\"{class}\"><code>{}</code> {}",
            esc(&c.name),
            esc(&what)
        );
        if matches!(class, "fail" | "xfail") {
            for note in &c.result.notes {
                let _ = write!(h, "<br><small>note: {}</small>", esc(note));
            }
        }
        h.push_str("</li>");
    }
    h.push_str("</ol></details>");
    h
}
