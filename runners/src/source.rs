//! The kernel source as `vdsoconf source` reads it: its version (the top
//! Makefile), and for a spec, its vDSO's linker script with what it includes.

use std::path::{Path, PathBuf};
use vdsoconf_suite::input::{read_text, InputKind};
use vdsoconf_suite::source::{read, Script};
use vdsoconf_suite::spec::{ArchSpec, Cond, KernelVersion};

/// How deep `#include`s are followed: the scripts' own headers define what
/// they need within two or three levels.
const INCLUDE_DEPTH: usize = 4;

/// The kernel version of the source tree `src`, from its top Makefile's
/// `VERSION`, `PATCHLEVEL` and `SUBLEVEL`.
pub fn kernel_version(src: &Path) -> Result<KernelVersion, String> {
    let makefile = src.join("Makefile");
    let text = read_text(&makefile, InputKind::Spec)
        .map_err(|e| format!("{}: not a kernel source tree ({e})", src.display()))?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim().parse::<u32>().ok())?
        })
    };
    match (field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")) {
        (Some(v), Some(p), Some(s)) => Ok(KernelVersion::new(v, p, s)),
        _ => Err(format!(
            "{}: not a kernel source tree (its Makefile has no VERSION, PATCHLEVEL and SUBLEVEL)",
            src.display()
        )),
    }
}

/// The script `spec` names in `src` (the first of its source paths that
/// exists), or `None` when the source has none of them.
pub fn script_of(src: &Path, spec: &ArchSpec) -> Option<(String, PathBuf)> {
    spec.source.as_ref()?.paths.iter().find_map(|rel| {
        let p = src.join(rel);
        p.is_file().then(|| (rel.clone(), p))
    })
}

/// The script at `rel` in `src` and every file it includes that the tree
/// has (generated headers are not there: their macros are the spec's source
/// `defines`), in reading order.
pub fn read_scripts(src: &Path, rel: &str) -> Result<Vec<Script>, String> {
    let srcarch = rel
        .strip_prefix("arch/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let include_path: Vec<PathBuf> = [
        format!("arch/{srcarch}/include"),
        format!("arch/{srcarch}/include/uapi"),
        "include".into(),
        "include/uapi".into(),
    ]
    .iter()
    .map(|d| src.join(d))
    .collect();
    let mut out = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut queue = vec![(src.join(rel), rel.to_string(), Cond::True, 0)];
    while let Some((path, label, cond, depth)) = queue.pop() {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let text = read_text(&path, InputKind::Spec).map_err(|e| e.to_string())?;
        let script = read(&text, &label, &cond);
        if depth < INCLUDE_DEPTH {
            // Pushed in reverse so they are read in order.
            for (target, under) in script.includes.iter().rev() {
                let found = if let Some(q) =
                    target.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
                {
                    path.parent().map(|d| d.join(q)).filter(|p| p.is_file())
                } else if let Some(a) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
                    include_path.iter().map(|d| d.join(a)).find(|p| p.is_file())
                } else {
                    None
                };
                if let Some(p) = found {
                    let shown = p
                        .strip_prefix(src)
                        .map(|r| r.display().to_string())
                        .unwrap_or_else(|_| p.display().to_string());
                    queue.push((p, shown, under.clone(), depth + 1));
                }
            }
        }
        out.push(script);
    }
    Ok(out)
}
