//! Reports are written whole or not at all: a write that fails (a full disk, a
//! file-size limit) leaves the previous report directory and `-o` file as they
//! were, byte for byte, and no scratch files behind.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Every file under `dir` (relative name → contents).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            files.insert(name, std::fs::read(e.path()).unwrap_or_default());
        }
    }
    files
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".vdsoconf-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A run writes `r/` and `out.txt` in `base`; `prepare` then makes the next
/// writes fail; a second run must exit 2 in one line and change nothing.
fn second_write_fails(base: &Path, shell_prefix: &[&str], prepare: &str) -> Result<(), String> {
    let (r, out) = (base.join("r"), base.join("out.txt"));
    let bin = env!("CARGO_BIN_EXE_vdsoconf");
    let args = format!(
        "{bin} run --filter ::resolve::__vdso_time@ --format json --report-dir {} -o {}",
        r.display(),
        out.display()
    );
    let first = Command::new("sh")
        .args(["-c", &args])
        .output()
        .map_err(|e| e.to_string())?;
    if first.status.code() != Some(0) {
        return Err(format!(
            "first run: {:?} {}",
            first.status.code(),
            text(&first.stderr)
        ));
    }
    let (before, out_before) = (
        snapshot(&r),
        std::fs::read(&out).map_err(|e| e.to_string())?,
    );
    // The second run writes more (every image check), so a limit the first run's
    // files fit under cuts it off part-way.
    let second_args = args.replace("--filter ::resolve::__vdso_time@", "--filter ::resolve::");
    let script = format!("{prepare}\nexec {second_args}");
    let mut argv: Vec<&str> = shell_prefix.to_vec();
    argv.extend(["sh", "-c", &script]);
    let second = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| e.to_string())?;
    one_line_error(&second, "")?;
    if snapshot(&r) != before {
        return Err("the report directory changed after a failed write".into());
    }
    if std::fs::read(&out).map_err(|e| e.to_string())? != out_before {
        return Err("the -o file changed after a failed write".into());
    }
    let stray: Vec<String> = leftovers(base).into_iter().chain(leftovers(&r)).collect();
    if !stray.is_empty() {
        return Err(format!("scratch files left behind: {stray:?}"));
    }
    Ok(())
}

/// A small tmpfs, mounted in a user and mount namespace of its own (no root
/// needed), filled up between the two runs.
pub fn a_full_filesystem_keeps_the_previous_reports() -> Result<(), String> {
    let base = scratch("full-disk");
    let mount = Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size=1m none {0} && cd {0} && exec {1} hostile-tmpfs-inner {0}",
            base.display(),
            std::env::current_exe()
                .map_err(|e| e.to_string())?
                .display()
        ))
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if mount.status.code() != Some(0) {
        return Err(format!(
            "inside the tmpfs: exit {:?}\n{}{}",
            mount.status.code(),
            text(&mount.stdout),
            text(&mount.stderr)
        ));
    }
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}

/// The part of [`a_full_filesystem_keeps_the_previous_reports`] that runs in the
/// namespace, on the tmpfs at `base`.
pub fn inside_tmpfs(base: &Path) -> Result<(), String> {
    // Fill every byte left, then run again.
    second_write_fails(
        base,
        &[],
        &format!("cat /dev/zero > {}/filler 2>/dev/null", base.display()),
    )
}

/// `ulimit -f`: a write cut off part-way (EFBIG) must leave no half report.
pub fn a_write_cut_short_keeps_the_previous_reports() -> Result<(), String> {
    let base = scratch("cut-short");
    // 2 KiB (dash counts 512-byte blocks): the first run's files are under 1.5 KiB,
    // the second's results.json near 5 KiB.
    second_write_fails(&base, &[], "ulimit -f 4")?;
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}
