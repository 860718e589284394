//! What the command-line test programs share: running the built `vdsoconf`, the
//! one-line error rule, and a small test runner (they are `harness = false`, so
//! that `cargo test -- --arch ARCH` reaches them without libtest refusing it).

#![allow(dead_code)] // each test program uses its own part

use std::path::Path;
use std::process::{Command, Output};

pub fn vdsoconf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vdsoconf"))
        .args(args)
        .output()
        .expect("vdsoconf runs")
}

pub fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("suite/fixtures")
        .join(rel)
        .display()
        .to_string()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Bad input: exit 2, exactly one line on stderr naming `needle`, nothing panicked.
pub fn one_line_error(out: &Output, needle: &str) -> Result<(), String> {
    let err = text(&out.stderr);
    if out.status.code() != Some(2) {
        return Err(format!("exit {:?}, stderr {err:?}", out.status.code()));
    }
    if err.lines().count() != 1 || !err.contains(needle) || err.contains("panicked") {
        return Err(format!("stderr is not one line naming {needle:?}: {err:?}"));
    }
    Ok(())
}

/// A scratch directory of this test process, removed and made afresh.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vdsoconf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

pub type CliTest = (&'static str, fn() -> Result<(), String>);

/// Runs the `tests` whose `program::name` contains a positional argument (all
/// without one); options (the conformance harness's `--arch`) are ignored.
pub fn run_tests(program: &str, tests: &[CliTest]) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    const TAKES_VALUE: &[&str] = &[
        "--arch",
        "--provider",
        "--kernel",
        "--image",
        "--test-threads",
        "--format",
        "--color",
        "--logfile",
        "--skip",
    ];
    let filters: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            !a.starts_with('-') && (*i == 0 || !TAKES_VALUE.contains(&args[i - 1].as_str()))
        })
        .map(|(_, a)| a)
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        let full = format!("{program}::{name}");
        if !filters.is_empty() && !filters.iter().any(|f| full.contains(f.as_str())) {
            continue;
        }
        match test() {
            Ok(()) => {
                passed += 1;
                println!("test {full} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("test {full} ... FAILED\n    {e}");
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
