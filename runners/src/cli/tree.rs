//! `vdsoconf tree BUILD_DIR`: every vDSO a kernel build produced, checked with
//! the build's own configuration and release, and diffed against a baseline.

use super::image::{check, diff_data, render_changes, render_findings, Diffed};
use super::{one_line, Format, InputError};
use crate::target::load_spec_for;
use crate::tree::{baseline_dir, baseline_history, default_history, open, Baseline, Built};
use clap::Args;
use std::path::{Path, PathBuf};
use vdsoconf_suite::checks::diff::Judged;
use vdsoconf_suite::checks::findings::Against;
use vdsoconf_suite::checks::image::kernel_of;
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::spec::{builtin, builtin_arches, ArchSpec, KernelVersion, Provider};

#[derive(Args)]
pub struct TreeArgs {
    /// The kernel build: the directory `make` ran in, or its O= directory. It
    /// needs a .config; `make prepare` writes include/config/kernel.release.
    dir: PathBuf,
    /// What to diff each image against: an earlier build tree, a directory of
    /// ARCH.so images (`vdsoconf extract -o DIR`), or a kernel image (its vDSOs
    /// are extracted). Default: the newest kernel of each architecture in the
    /// ABI history (--history).
    #[arg(long, value_name = "DIR|KERNEL_IMAGE")]
    against: Option<PathBuf>,
    /// The ABI history directory the default baseline comes from (default: this
    /// repository's history/, when vdsoconf runs from its checkout).
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// The specs: a directory of ARCH.yaml files (a copy of spec/ being
    /// edited), or one spec file or built-in architecture's name to look for
    /// that vDSO alone (default: every built-in spec).
    #[arg(long, value_name = "DIR|FILE|ARCH")]
    spec: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The specs to look for, each with the file messages name.
fn specs(spec: Option<&Path>) -> Result<Vec<(ArchSpec, Option<String>)>, InputError> {
    match spec {
        None => Ok(builtin_arches()
            .filter_map(|a| builtin(a).and_then(Result::ok))
            .map(|s| (s, None))
            .collect()),
        Some(dir) if dir.is_dir() => {
            let mut out = Vec::new();
            for arch in builtin_arches() {
                let file = dir.join(format!("{arch}.yaml"));
                if file.is_file() {
                    let loaded = load_spec_for(Some(arch), Some(dir), arch)?;
                    out.push((loaded.spec, Some(file.display().to_string())));
                }
            }
            if out.is_empty() {
                return Err(InputError(format!(
                    "--spec {}: no ARCH.yaml spec file in it",
                    dir.display()
                )));
            }
            Ok(out)
        }
        Some(one) => {
            let loaded = load_spec_for(None, Some(one), "x86_64")?;
            let file = loaded.file.as_ref().map(|f| f.display().to_string());
            Ok(vec![(loaded.spec, file)])
        }
    }
}

/// The baseline `--against` names, or the history's newest kernels.
fn baseline(args: &TreeArgs, specs: &[ArchSpec]) -> Result<Option<Baseline>, InputError> {
    match &args.against {
        Some(p) if p.is_dir() => Ok(Some(baseline_dir(p, specs).map_err(InputError)?)),
        Some(p) => kernel_image_baseline(p).map(Some),
        None => match args.history.clone().or_else(default_history) {
            Some(dir) => Ok(Some(baseline_history(&dir, specs).map_err(InputError)?)),
            None => Ok(None),
        },
    }
}

#[cfg(feature = "extract")]
fn kernel_image_baseline(path: &Path) -> Result<Baseline, InputError> {
    use vdsoconf_suite::input::{read_input, InputKind};
    let data = read_input(path, InputKind::KernelImage)?;
    let found = vdsoconf_extract::extract(&data).found;
    let headers: Vec<_> = found
        .iter()
        .filter_map(|f| vdsoconf_suite::elf::parse_file_header(&f.data).ok())
        .map(|(h, _)| h)
        .collect();
    let machines: Vec<u16> = headers.iter().map(|h| h.machine).collect();
    let images: Vec<(String, PathBuf, Vec<u8>)> = found
        .into_iter()
        .zip(&headers)
        .filter_map(|(f, h)| {
            vdsoconf_suite::spec::spec_of(h, &machines).map(|arch| {
                (
                    arch.to_string(),
                    PathBuf::from(format!("{}:{arch}.so", path.display())),
                    f.data,
                )
            })
        })
        .collect();
    if images.is_empty() {
        return Err(InputError(format!(
            "--against {}: no vDSO found in it (see `vdsoconf extract`)",
            path.display()
        )));
    }
    Ok(Baseline {
        label: format!("{} (its vDSOs extracted)", path.display()),
        images,
        config: Default::default(),
    })
}

#[cfg(not(feature = "extract"))]
fn kernel_image_baseline(path: &Path) -> Result<Baseline, InputError> {
    Err(InputError(format!(
        "--against {}: this build has no `extract` to read a kernel image; use a default build",
        path.display()
    )))
}

/// One image's check and diff.
struct Looked {
    built: Built,
    kernel: Option<KernelVersion>,
    findings: Vec<vdsoconf_suite::checks::findings::Finding>,
    errors: usize,
    against: Option<PathBuf>,
    diffed: Option<Diffed>,
}

pub fn tree(args: TreeArgs) -> Result<i32, InputError> {
    let specs = specs(args.spec.as_deref())?;
    let plain: Vec<ArchSpec> = specs.iter().map(|(s, _)| s.clone()).collect();
    let tree = open(&args.dir, &plain).map_err(InputError)?;
    if tree.images.is_empty() {
        return Err(InputError(format!(
            "{}: no vDSO image built there (looked where the specs' build_paths say; build them with e.g. `make arch/x86/entry/vdso/` or `make vmlinux`)",
            args.dir.display()
        )));
    }
    let found: Vec<ArchSpec> = plain
        .iter()
        .filter(|s| tree.images.iter().any(|b| b.arch == s.arch))
        .cloned()
        .collect();
    let baseline = baseline(&args, &found)?;
    let mut looked = Vec::new();
    for built in &tree.images {
        let (spec, spec_file) = specs
            .iter()
            .find(|(s, _)| s.arch == built.arch)
            .expect("the tree found it for one of these specs");
        let image_kernel = VdsoImage::parse(&built.data)
            .ok()
            .as_ref()
            .and_then(kernel_of);
        let kernel = tree.kernel().or(image_kernel);
        let against = Against {
            spec,
            spec_file: spec_file.clone(),
            provider: Provider::Kernel,
            kernel,
            config: tree.config.clone(),
        };
        let label = built.path.display().to_string();
        let checked = check(&against, &built.data, &label)?;
        let base = baseline.as_ref().and_then(|b| b.image(&built.arch));
        let diffed = match base {
            Some((path, data)) => {
                let judged = Judged {
                    spec,
                    spec_file: against.spec_file(),
                    old_config: baseline
                        .as_ref()
                        .map(|b| b.config.clone())
                        .unwrap_or_default(),
                    new_config: tree.config.clone(),
                };
                Some(diff_data(
                    (path, data),
                    (&built.path, &built.data),
                    Some(&judged),
                )?)
            }
            None => None,
        };
        looked.push(Looked {
            built: built.clone(),
            kernel,
            findings: checked.findings,
            errors: checked.errors,
            against: base.map(|(p, _)| p.to_path_buf()),
            diffed,
        });
    }
    let errors: usize = looked.iter().map(|l| l.errors).sum();
    let breaking: usize = looked
        .iter()
        .filter_map(|l| l.diffed.as_ref())
        .map(|d| d.breaking)
        .sum();
    let configuration: usize = looked
        .iter()
        .filter_map(|l| l.diffed.as_ref())
        .map(|d| {
            d.changes
                .iter()
                .filter(|c| c.configuration.is_some())
                .count()
        })
        .sum();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "dir": tree.dir.display().to_string(),
                "release": tree.release,
                "kernel": tree.kernel().map(|k| k.to_string()),
                "baseline": baseline.as_ref().map(|b| b.label.clone()),
                "images": looked.iter().map(|l| serde_json::json!({
                    "arch": l.built.arch,
                    "path": l.built.rel,
                    "kernel": l.kernel.map(|k| k.to_string()),
                    "findings": l.findings,
                    "errors": l.errors,
                    "against": l.against.as_ref().map(|p| p.display().to_string()),
                    "changes": l.diffed.as_ref().map(|d| &d.changes),
                    "breaking": l.diffed.as_ref().map(|d| d.breaking),
                })).collect::<Vec<_>>(),
                "errors": errors,
                "breaking": breaking,
                "configuration_differences": configuration,
            });
            super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        Format::Text => {
            let mut out = one_line(&format!(
                "{}: kernel {}, configuration {}",
                tree.dir.display(),
                match (&tree.release, tree.kernel()) {
                    (Some(r), _) => format!("{r} (include/config/kernel.release)"),
                    (None, _) =>
                        "unknown (no include/config/kernel.release: run `make prepare`)".to_string(),
                },
                tree.dir.join(".config").display()
            )) + "\n";
            out.push_str(&one_line(&format!(
                "baseline: {}",
                baseline
                    .as_ref()
                    .map(|b| b.label.clone())
                    .unwrap_or_else(|| "none (pass --against or --history)".into())
            )));
            out.push('\n');
            for l in &looked {
                out.push_str(&format!("\n{} {}\n", l.built.arch, l.built.rel));
                out.push_str(&indent(&render_findings(&l.findings)));
                match (&l.diffed, &l.against) {
                    (Some(d), Some(p)) => {
                        out.push_str(&one_line(&format!("  diff against {}:", p.display())));
                        out.push('\n');
                        out.push_str(&indent(&render_changes(&d.changes)));
                    }
                    _ => out.push_str("  diff: no baseline image of this architecture\n"),
                }
            }
            out.push_str(&format!(
                "\ntree: {} vDSO image(s): {errors} error(s), {breaking} breaking change(s), {configuration} configuration difference(s)\n",
                looked.len()
            ));
            super::write_stdout(&out)?;
        }
    }
    Ok(if errors > 0 || breaking > 0 { 1 } else { 0 })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
