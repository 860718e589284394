//! Where a matrix run's time goes: per row, the seconds spent fetching its
//! toolchain or kernel, building its runner and running it (`target.json`), the
//! part of the run its checks took, group by group (the results' durations), and
//! what is left, the cost of getting the checks running (a qemu-user exec, a
//! kernel's boot); above the rows, what every row shared (`setup.json`).

use crate::matrix::{column_results, columns, MatrixRow};
use serde::Deserialize;
use std::fmt::Write;
use std::path::Path;
use vdsoconf_suite::input::{read_text, InputKind};

/// What the matrix script did once for every row (`DIR/setup.json`), in seconds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Setup {
    #[serde(default)]
    pub host_build_s: f64,
    #[serde(default)]
    pub qemu_user_s: f64,
    #[serde(default)]
    pub cross_gcc_s: f64,
    #[serde(default)]
    pub qemu_system_s: f64,
    #[serde(default)]
    pub bench_s: f64,
    /// The whole matrix run, rows run side by side included.
    #[serde(default)]
    pub total_s: Option<f64>,
}

/// `DIR/setup.json`, if the matrix wrote one.
pub fn read_setup(dir: &Path) -> Result<Option<Setup>, String> {
    let path = dir.join("setup.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = read_text(&path, InputKind::Report).map_err(|e| e.to_string())?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn seconds(s: f64) -> String {
    format!("{s:.0}")
}

fn or_dash(s: Option<f64>) -> String {
    s.map_or("-".to_string(), seconds)
}

/// The timings table: one row per target, the sums below, the shared setup above.
pub fn render(rows: &[MatrixRow], setup: Option<&Setup>) -> String {
    let mut out = String::new();
    if let Some(s) = setup {
        let _ = write!(
            out,
            "shared: host build {:.0} s, qemu-user {:.0} s, cross C compilers {:.0} s, qemu-system {:.0} s, bench {:.0} s",
            s.host_build_s, s.qemu_user_s, s.cross_gcc_s, s.qemu_system_s, s.bench_s
        );
        if let Some(t) = s.total_s {
            let _ = write!(out, "; the matrix took {t:.0} s in all, rows side by side");
        }
        out.push('\n');
    }
    let cols = columns();
    let mut header: Vec<String> = ["target", "fetch", "build", "run", "checks", "rest"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(cols.iter().map(|(name, _)| name.to_string()));
    let mut table = vec![header];
    let width = table[0].len();
    let mut sums = vec![0.0f64; width - 1];
    for row in rows {
        let info = &row.info;
        let groups: Vec<f64> = cols
            .iter()
            .map(|(_, g)| {
                row.report.as_ref().map_or(0.0, |r| {
                    column_results(r, g).map(|c| c.duration_us).sum::<u64>() as f64 / 1e6
                })
            })
            .collect();
        let checks = row.report.as_ref().map(|_| groups.iter().sum::<f64>());
        // Running minus checking: the runner's start, qemu's, a kernel's boot.
        let rest = match (info.run_s, checks) {
            (Some(run), Some(c)) => Some((run - c).max(0.0)),
            _ => None,
        };
        let mut line = vec![
            info.target.clone(),
            or_dash(info.fetch_s),
            or_dash(info.build_s),
            or_dash(info.run_s),
            or_dash(checks),
            or_dash(rest),
        ];
        line.extend(groups.iter().map(|&s| seconds(s)));
        let numbers = [info.fetch_s, info.build_s, info.run_s, checks, rest]
            .into_iter()
            .map(|s| s.unwrap_or(0.0))
            .chain(groups.iter().copied());
        for (sum, n) in sums.iter_mut().zip(numbers) {
            *sum += n;
        }
        table.push(line);
    }
    let mut total = vec!["(sum)".to_string()];
    total.extend(sums.iter().map(|&s| seconds(s)));
    table.push(total);
    use crate::table::Align;
    let align = |i| if i == 0 { Align::Left } else { Align::Right };
    out.push_str(&crate::table::render(&table, align, false));
    let _ = writeln!(
        out,
        "seconds: fetch (toolchain or kernel, waiting for the cache included), build (the runner), run (the runner, or the kernel's boot with the checks inside), checks (their durations), rest (run minus checks: starting qemu, booting the kernel); then the checks' seconds per column; '-' not measured"
    );
    out
}
