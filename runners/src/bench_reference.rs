//! The bench's yardstick: the same vDSO `clock_gettime` called from the tightest C
//! loop (`runners/bench/bare-loop.c`, built in as source), compiled with the
//! machine's C compiler and run right after the rows are measured, so each report
//! says how close `vdsoconf bench` comes to a bare loop in the same run. Where no
//! C compiler is, or it cannot build or run the loop, the report says why.

use std::path::Path;
use std::process::Command;
use vdsoconf_reports::bench::{BareLoop, BareLoopRow, Timing};

const SOURCE: &str = include_str!("../bench/bare-loop.c");

/// Builds and runs the bare C loop in `scratch` (a directory of its own).
pub fn measure(scratch: &Path) -> BareLoop {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    match build_and_run(&cc, scratch) {
        Ok((compiler, output)) => match parse(&output) {
            Ok(rows) => BareLoop {
                compiler: Some(compiler),
                rows,
                missing: None,
            },
            Err(e) => missing(format!("the bare C loop's output: {e}")),
        },
        Err(e) => missing(e),
    }
}

fn missing(why: String) -> BareLoop {
    BareLoop {
        compiler: None,
        rows: Vec::new(),
        missing: Some(why),
    }
}

fn build_and_run(cc: &str, scratch: &Path) -> Result<(String, String), String> {
    let version = Command::new(cc)
        .arg("--version")
        .output()
        .map_err(|e| format!("no C compiler ({cc}: {e}); set CC to measure the bare C loop"))?;
    let compiler = String::from_utf8_lossy(&version.stdout)
        .lines()
        .next()
        .unwrap_or(cc)
        .to_string();
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let source = scratch.join("bare-loop.c");
    let binary = scratch.join("bare-loop");
    std::fs::write(&source, SOURCE).map_err(|e| format!("{}: {e}", source.display()))?;
    let built = Command::new(cc)
        .args(["-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .arg("-ldl")
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "{cc} could not build the bare C loop: {}",
            String::from_utf8_lossy(&built.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    let ran = Command::new(&binary)
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    if !ran.status.success() {
        return Err(format!(
            "the bare C loop failed: {}",
            String::from_utf8_lossy(&ran.stderr).trim()
        ));
    }
    Ok((compiler, String::from_utf8_lossy(&ran.stdout).into_owned()))
}

/// `MONOTONIC          median   21.7 ns  min   21.7 ns`, one line per clock.
pub fn parse(output: &str) -> Result<Vec<BareLoopRow>, String> {
    let rows = output
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let number = |at: usize| words.get(at).and_then(|w| w.parse::<f64>().ok());
            match (
                words.first(),
                words.get(1),
                number(2),
                words.get(4),
                number(5),
            ) {
                (Some(clock), Some(&"median"), Some(median_ns), Some(&"min"), Some(min_ns)) => {
                    Ok(BareLoopRow {
                        clock: clock.to_string(),
                        timing: Timing { median_ns, min_ns },
                    })
                }
                _ => Err(format!("not a timing line: {line:?}")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Err("no timing line".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loops_lines_are_read_and_anything_else_refused() {
        let rows = parse(
            "REALTIME           median   21.7 ns  min   21.5 ns\nMONOTONIC          median   22.0 ns  min   21.9 ns\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].clock, "MONOTONIC");
        assert_eq!(
            (rows[1].timing.median_ns, rows[1].timing.min_ns),
            (22.0, 21.9)
        );
        assert!(parse("").is_err());
        assert!(parse("MONOTONIC median fast ns min 1 ns").is_err());
        assert!(parse("bare-loop: no linux-vdso.so.1").is_err());
    }

    /// The yardstick measures as the bench does: the same batch size and count,
    /// or the ratio compares two different statistics.
    #[test]
    fn the_bare_loop_batches_as_the_bench_does() {
        let defined = |name: &str| {
            SOURCE
                .lines()
                .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        assert_eq!(defined("BATCH"), Some(crate::bench::BATCH));
        assert_eq!(defined("BATCHES"), Some(crate::bench::BATCHES));
    }

    /// Without a C compiler the report says so, and names the variable to set.
    #[test]
    fn no_compiler_is_said_not_hidden() {
        let scratch =
            std::env::temp_dir().join(format!("vdsoconf-bare-none-{}", std::process::id()));
        let r = build_and_run("/nonexistent/cc", &scratch);
        assert!(
            matches!(&r, Err(e) if e.contains("no C compiler") && e.contains("CC")),
            "{r:?}"
        );
        let _ = std::fs::remove_dir_all(&scratch);
    }

    /// Where `cc` exists (every machine CI runs on), the loop is built, run and
    /// read: one row per clock of bare-loop.c.
    #[test]
    fn the_bare_loop_is_measured_where_there_is_a_c_compiler() {
        if Command::new("cc").arg("--version").output().is_err() {
            eprintln!("no cc on this machine: only the missing case can be checked");
            return;
        }
        let scratch = std::env::temp_dir().join(format!("vdsoconf-bare-cc-{}", std::process::id()));
        let r = build_and_run("cc", &scratch).and_then(|(_, out)| parse(&out));
        let _ = std::fs::remove_dir_all(&scratch);
        let rows = r.unwrap();
        let clocks: Vec<&str> = rows.iter().map(|r| r.clock.as_str()).collect();
        assert_eq!(clocks, ["REALTIME", "MONOTONIC", "MONOTONIC_COARSE"]);
        assert!(rows
            .iter()
            .all(|r| r.timing.median_ns > 0.0 && r.timing.min_ns <= r.timing.median_ns));
    }
}
