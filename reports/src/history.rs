//! The ABI history (`vdsoconf history`) as text and as a self-contained HTML
//! page: per lineage, a symbol × kernel table, then its breaks.

use crate::html::esc;
use std::fmt::Write;
use vdsoconf_suite::checks::history::{Break, Cell, Lineage};

/// One cell: `F` a global function, `f` a weak one, `N`/`n` NOTYPE, `O`/`o`
/// an object, `.` absent.
fn mark(cell: &Cell) -> &'static str {
    match cell {
        Cell::Absent => ".",
        Cell::Present { binding, sym_type } => {
            let weak = binding == "WEAK";
            match (sym_type.as_str(), weak) {
                ("FUNC", false) => "F",
                ("FUNC", true) => "f",
                ("NOTYPE", false) => "N",
                ("NOTYPE", true) => "n",
                ("OBJECT", false) => "O",
                ("OBJECT", true) => "o",
                _ => "?",
            }
        }
    }
}

fn break_line(b: &Break) -> String {
    let c = &b.change;
    format!(
        "{} {} between {} and {}{}: {}",
        c.kind.name(),
        c.subject,
        b.from,
        b.to,
        match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!(" ({o} -> {n})"),
            _ => String::new(),
        },
        b.explained.as_deref().unwrap_or("UNEXPLAINED")
    )
}

pub const LEGEND: &str = "F function, f weak function, N/n NOTYPE, O/o object, . absent";

pub fn render_text(lineages: &[Lineage]) -> String {
    let mut out = String::new();
    for l in lineages {
        let _ = writeln!(
            out,
            "== {} {} (spec {}): {} kernels",
            l.arch,
            l.image,
            l.spec,
            l.kernels.len()
        );
        let width = l.symbols.iter().map(|s| s.subject.len()).max().unwrap_or(6);
        let cols: Vec<&str> = l.kernels.iter().map(|k| k.label.as_str()).collect();
        let _ = write!(out, "{:width$}", "symbol");
        for c in &cols {
            let _ = write!(out, "  {c:>8}");
        }
        out.push('\n');
        for row in &l.symbols {
            let _ = write!(out, "{:width$}", row.subject);
            for cell in &row.cells {
                let _ = write!(out, "  {:>8}", mark(cell));
            }
            out.push('\n');
        }
        for b in &l.breaks {
            let _ = writeln!(out, "break: {}", break_line(b));
        }
        out.push('\n');
    }
    out
}

/// One Markdown row per lineage: its kernels (how many, first … last), the
/// symbols that arrived within them (absent from the first kernel, present
/// in a later one: each with the first kernel that has it) and its breaks.
pub fn render_summary_markdown(lineages: &[Lineage]) -> String {
    let mut out = String::from(
        "| lineage (spec) | kernels | arrived within the history | breaks |\n|---|---|---|---|\n",
    );
    for l in lineages {
        let kernels = match (l.kernels.first(), l.kernels.last()) {
            (Some(first), Some(last)) if l.kernels.len() > 1 => {
                format!("{}: {} … {}", l.kernels.len(), first.label, last.label)
            }
            (Some(only), _) => format!("1: {}", only.label),
            _ => "0".into(),
        };
        let mut arrived: Vec<String> = l
            .symbols
            .iter()
            .filter(|row| matches!(row.cells.first(), Some(Cell::Absent)))
            .filter_map(|row| {
                let at = row.cells.iter().position(|c| !matches!(c, Cell::Absent))?;
                let name = row.subject.split('@').next().unwrap_or(&row.subject);
                Some(format!("`{name}` {}", l.kernels[at].label))
            })
            .collect();
        arrived.sort();
        arrived.dedup();
        let unexplained = l.unexplained().count();
        let breaks = match (l.breaks.len(), unexplained) {
            (0, _) => "none".to_string(),
            (n, 0) => format!("{n}, explained by the spec"),
            (n, u) => format!("{n}, **{u} unexplained**"),
        };
        let _ = writeln!(
            out,
            "| {} {} ({}) | {kernels} | {} | {breaks} |",
            l.arch,
            l.image,
            l.spec,
            if arrived.is_empty() {
                "-".to_string()
            } else {
                arrived.join(", ")
            }
        );
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:center}\
th{background:#f3f3f3}td.name{text-align:left;font-family:monospace}td.present{background:#e4f4e4}\
td.absent{color:#999}li.unexplained{color:#a00}p.note{color:#555;font-size:90%}";

pub fn render_html(title: &str, lineages: &[Lineage]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p class=\"note\">{}</p>\n",
        esc(LEGEND),
        t = esc(title)
    );
    for l in lineages {
        let _ = write!(
            h,
            "<h2>{} {} (spec {})</h2>\n<table><thead><tr><th>symbol</th>",
            esc(&l.arch),
            esc(&l.image),
            esc(&l.spec)
        );
        for k in &l.kernels {
            let _ = write!(
                h,
                "<th title=\"{} ({})\">{}</th>",
                esc(&k.release),
                esc(&k.source),
                esc(&k.label)
            );
        }
        h.push_str("</tr></thead><tbody>\n");
        for row in &l.symbols {
            let _ = write!(h, "<tr><td class=\"name\">{}</td>", esc(&row.subject));
            for cell in &row.cells {
                let class = if matches!(cell, Cell::Absent) {
                    "absent"
                } else {
                    "present"
                };
                let _ = write!(h, "<td class=\"{class}\">{}</td>", mark(cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n");
        if !l.breaks.is_empty() {
            h.push_str("<ul>\n");
            for b in &l.breaks {
                let class = if b.explained.is_some() {
                    "explained"
                } else {
                    "unexplained"
                };
                let _ = writeln!(h, "<li class=\"{class}\">{}</li>", esc(&break_line(b)));
            }
            h.push_str("</ul>\n");
        }
    }
    h.push_str("</body></html>\n");
    h
}
