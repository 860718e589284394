//! `vdsoconf source LINUX_SRC`: what each vDSO's linker script in a kernel
//! source tree exports, under which options, against the spec.

use super::{one_line, Format, InputError};
use crate::source::{kernel_version, read_scripts, script_of};
use clap::Args;
use std::path::{Path, PathBuf};
use vdsoconf_suite::source::{compare, resolve, Disagreement, Exported};
use vdsoconf_suite::spec::{builtin, builtin_arches, ArchSpec};

#[derive(Args)]
pub struct SourceArgs {
    /// The kernel source tree (a `linux-source-X.Y` unpacked, or a git tree).
    src: PathBuf,
    /// The specs: a directory of ARCH.yaml files, or one spec file or built-in
    /// architecture's name (default: every built-in spec with a `source`).
    #[arg(long, value_name = "DIR|FILE|ARCH")]
    spec: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// One vDSO's script, its exports and how they disagree with the spec.
#[derive(serde::Serialize)]
struct Image {
    arch: String,
    script: Option<String>,
    exports: Vec<Exported>,
    disagreements: Vec<Disagreement>,
}

fn specs(spec: Option<&Path>) -> Result<Vec<ArchSpec>, InputError> {
    let all: Vec<ArchSpec> = match spec {
        None => builtin_arches()
            .filter_map(|a| builtin(a).and_then(Result::ok))
            .collect(),
        Some(dir) if dir.is_dir() => builtin_arches()
            .filter(|a| dir.join(format!("{a}.yaml")).is_file())
            .map(|a| crate::target::load_spec_for(Some(a), Some(dir), a).map(|l| l.spec))
            .collect::<Result<_, _>>()?,
        Some(one) => vec![crate::target::load_spec_for(None, Some(one), "x86_64")?.spec],
    };
    Ok(all.into_iter().filter(|s| s.source.is_some()).collect())
}

pub fn source(args: SourceArgs) -> Result<i32, InputError> {
    let version = kernel_version(&args.src).map_err(InputError)?;
    let specs = specs(args.spec.as_deref())?;
    if specs.is_empty() {
        return Err(InputError(
            "no spec names a linker script (`source:`): nothing to compare".into(),
        ));
    }
    let mut images = Vec::new();
    for spec in &specs {
        let source = spec.source.as_ref().expect("filtered");
        let Some((rel, _)) = script_of(&args.src, spec) else {
            images.push(Image {
                arch: spec.arch.clone(),
                script: None,
                exports: Vec::new(),
                disagreements: Vec::new(),
            });
            continue;
        };
        let scripts = read_scripts(&args.src, &rel).map_err(InputError)?;
        let exports = resolve(&scripts, &source.defines);
        let disagreements = compare(spec, &exports, version);
        images.push(Image {
            arch: spec.arch.clone(),
            script: Some(rel),
            exports,
            disagreements,
        });
    }
    let total: usize = images.iter().map(|i| i.disagreements.len()).sum();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "source": args.src.display().to_string(),
                "kernel": version.to_string(),
                "images": images,
                "disagreements": total,
            });
            super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        Format::Text => {
            let mut out = one_line(&format!("{}: kernel {version}", args.src.display())) + "\n";
            for image in &images {
                let Some(script) = &image.script else {
                    out.push_str(&format!(
                        "\n{}: no linker script of it in this source\n",
                        image.arch
                    ));
                    continue;
                };
                out.push_str(&format!("\n{} {script}\n", image.arch));
                let width = image
                    .exports
                    .iter()
                    .map(|e| e.name.len() + e.version.len() + 1)
                    .max()
                    .unwrap_or(0);
                for e in &image.exports {
                    let label = format!("{}@{}", e.name, e.version);
                    let needs = if e.config == "1" {
                        String::new()
                    } else {
                        format!("  needs {}", e.config)
                    };
                    out.push_str(&one_line(&format!("  {label:<width$}  {}{needs}", e.at)));
                    out.push('\n');
                }
                for d in &image.disagreements {
                    out.push_str(&one_line(&format!(
                        "  error[{}] {}: {}",
                        d.id, d.symbol, d.message
                    )));
                    out.push('\n');
                }
            }
            out.push_str(&format!(
                "\nsource: {} vDSO script(s) of {version}, {total} disagreement(s) with the spec\n",
                images.iter().filter(|i| i.script.is_some()).count()
            ));
            super::write_stdout(&out)?;
        }
    }
    Ok(if total > 0 { 1 } else { 0 })
}
