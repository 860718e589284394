//! Plain-text tables: each column as wide as its widest cell, two spaces apart.

use std::fmt::Write;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// `rows` as lines of text, column `i` aligned as `align(i)` says. With
/// `free_last`, a row's last cell is written as it is, neither padded nor
/// counted in its column's width (a verdict with its reason).
pub fn render(rows: &[Vec<String>], align: impl Fn(usize) -> Align, free_last: bool) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter(|r| i < r.len() && !(free_last && i + 1 == r.len()))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let w = widths[i];
            let _ = match (free_last && i + 1 == row.len(), align(i)) {
                (true, _) => write!(line, "{cell}"),
                (false, Align::Left) => write!(line, "{cell:<w$}  "),
                (false, Align::Right) => write!(line, "{cell:>w$}  "),
            };
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
