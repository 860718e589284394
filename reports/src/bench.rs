//! vDSO versus syscall cost (`vdsoconf bench`): the model, the table and an SVG chart.

use crate::model::Environment;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The schema identifier of a bench report.
pub const BENCH_SCHEMA: &str = "vdsoconf-bench/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema: String,
    pub environment: Environment,
    /// Calls per timed batch and batches per figure (after a warm-up).
    pub batch: u32,
    pub batches: u32,
    pub rows: Vec<BenchRow>,
    /// The functions that could not be measured: each crashed, hung or wrote
    /// outside its output, in a child of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<BenchFailure>,
    /// The same clock_gettime from a bare C loop in the same run: the yardstick
    /// for this bench's own overhead (absent in reports from before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare_loop: Option<BareLoop>,
}

/// `runners/bench/bare-loop.c`, built with the machine's C compiler and run after
/// the rows: vDSO clock_gettime per clock, same batches and statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BareLoop {
    /// The compiler's first `--version` line.
    pub compiler: Option<String>,
    pub rows: Vec<BareLoopRow>,
    /// Why it was not measured (no C compiler, a build that failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BareLoopRow {
    /// `MONOTONIC`.
    pub clock: String,
    pub timing: Timing,
}

impl BenchReport {
    /// Each clock the bare loop measured, with this bench's clock_gettime figure
    /// for it: (clock, bare C median, vdsoconf median, vdsoconf / bare C).
    pub fn against_bare_loop(&self) -> Vec<(String, f64, f64, f64)> {
        let Some(bare) = &self.bare_loop else {
            return Vec::new();
        };
        bare.rows
            .iter()
            .filter_map(|b| {
                let ours = self.rows.iter().find(|r| {
                    r.symbol.contains("clock_gettime")
                        && !r.symbol.contains("time64")
                        && r.clock.as_deref() == Some(b.clock.as_str())
                })?;
                let (c, v) = (b.timing.median_ns, ours.vdso.median_ns);
                Some((b.clock.clone(), c, v, v / c.max(f64::MIN_POSITIVE)))
            })
            .collect()
    }
}

/// A function whose measurement failed, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchFailure {
    /// `__vdso_clock_gettime@LINUX_2.6`.
    pub symbol: String,
    pub reason: String,
}

/// One function (and clock): nanoseconds per call through the vDSO and the syscall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// `__vdso_clock_gettime@LINUX_2.6`.
    pub symbol: String,
    /// The clock id's name, for the clock functions.
    pub clock: Option<String>,
    /// `served` or `fallback`, as the spec expects for this clock.
    pub expected: Option<String>,
    pub vdso: Timing,
    pub syscall: Timing,
}

pub use vdsoconf_suite::kinds::Timing;

impl BenchRow {
    pub fn label(&self) -> String {
        match &self.clock {
            Some(c) => format!("{} {c}", self.symbol),
            None => self.symbol.clone(),
        }
    }

    /// How many times cheaper the vDSO is (syscall median / vDSO median).
    pub fn speedup(&self) -> f64 {
        self.syscall.median_ns / self.vdso.median_ns.max(f64::MIN_POSITIVE)
    }
}

pub fn render_text(report: &BenchReport) -> String {
    let mut out = String::new();
    let width = report
        .rows
        .iter()
        .map(|r| r.label().len())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:<width$}  {:>9} {:>9}  {:>9} {:>9}  {:>8}",
        "function", "vDSO med", "vDSO min", "sys med", "sys min", "speedup"
    );
    for r in &report.rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9.1} {:>9.1}  {:>9.1} {:>9.1}  {:>7.1}x{}",
            r.label(),
            r.vdso.median_ns,
            r.vdso.min_ns,
            r.syscall.median_ns,
            r.syscall.min_ns,
            r.speedup(),
            r.expected
                .as_deref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "ns per call: median and minimum over {} batches of {} calls, after a warm-up",
        report.batches, report.batch
    );
    match &report.bare_loop {
        Some(BareLoop {
            missing: Some(why), ..
        }) => {
            let _ = writeln!(out, "bare C loop: not measured: {why}");
        }
        Some(bare) => {
            let _ = writeln!(
                out,
                "bare C loop (runners/bench/bare-loop.c, {}), medians in ns:",
                bare.compiler.as_deref().unwrap_or("a C compiler")
            );
            for (clock, c, v, ratio) in report.against_bare_loop() {
                let _ = writeln!(
                    out,
                    "  {clock:<18} bare C {c:>6.1}  vdsoconf {v:>6.1}  {ratio:.3}x"
                );
            }
        }
        None => {}
    }
    for f in &report.failures {
        let _ = writeln!(out, "FAILED  {}: {}", f.symbol, f.reason);
    }
    out
}

/// A horizontal bar chart (log scale) of the medians, vDSO beside syscall.
pub fn render_svg(report: &BenchReport) -> String {
    let rows = &report.rows;
    let (label_w, bar_w, row_h) = (370.0, 420.0, 26.0);
    let height = 40.0 + row_h * rows.len() as f64;
    let max = rows
        .iter()
        .map(|r| r.syscall.median_ns.max(r.vdso.median_ns))
        .fold(1.0, f64::max);
    // log10 scale from 1 ns to the slowest call, so 20 ns and 2 µs both show.
    let scale = |ns: f64| bar_w * (ns.max(1.0).log10() / max.log10().max(1.0));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bench-chart" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="12">"#,
        w = label_w + bar_w + 90.0
    );
    let _ = write!(
        s,
        r##"<text x="0" y="14" font-weight="bold">ns per call (median, log scale)</text><rect x="{x}" y="4" width="10" height="10" fill="#2b7bb9"/><text x="{x2}" y="14">vDSO</text><rect x="{x3}" y="4" width="10" height="10" fill="#d9822b"/><text x="{x4}" y="14">syscall</text>"##,
        x = label_w,
        x2 = label_w + 14.0,
        x3 = label_w + 60.0,
        x4 = label_w + 74.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 30.0 + row_h * i as f64;
        let _ = write!(
            s,
            r##"<g class="bench-row"><text x="0" y="{ty}">{label}</text><rect x="{label_w}" y="{y}" width="{vw:.1}" height="10" fill="#2b7bb9"><title>vDSO {vm:.1} ns</title></rect><text x="{vx:.1}" y="{vt}" font-size="10">{vm:.1}</text><rect x="{label_w}" y="{y2}" width="{sw:.1}" height="10" fill="#d9822b"><title>syscall {sm:.1} ns</title></rect><text x="{sx:.1}" y="{st}" font-size="10">{sm:.1}</text></g>"##,
            ty = y + 14.0,
            label = crate::html::esc(&r.label()),
            vw = scale(r.vdso.median_ns),
            vm = r.vdso.median_ns,
            vx = label_w + scale(r.vdso.median_ns) + 4.0,
            vt = y + 9.0,
            y2 = y + 11.0,
            sw = scale(r.syscall.median_ns),
            sm = r.syscall.median_ns,
            sx = label_w + scale(r.syscall.median_ns) + 4.0,
            st = y + 20.0,
        );
    }
    s.push_str("</svg>");
    s
}
