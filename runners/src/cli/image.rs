//! The commands that read vDSO image files: `symbols`, `check-image`, `diff`,
//! and what they share: reading an image (a kernel image given instead is
//! named as one), choosing its spec and its kernel, and the configuration.

use super::{one_line, read_image_file, Format, InputError};
use crate::target::{load_spec_for, parse_kernel, parse_provider, LoadedSpec};
use clap::Args;
use std::path::{Path, PathBuf};
use vdsoconf_suite::checks::diff::{annotate, diff_images, readable, Judged};
use vdsoconf_suite::checks::findings::{check_image_bytes, Against, Finding, Severity};
use vdsoconf_suite::checks::image::kernel_of;
use vdsoconf_suite::checks::KernelConfig;
use vdsoconf_suite::elf::{binding_name, type_name, FileHeader, VdsoImage};
use vdsoconf_suite::input::{read_text, InputKind};
use vdsoconf_suite::spec::{spec_of, ArchSpec, KernelVersion};

#[derive(Args)]
pub struct CheckImageArgs {
    /// The image (e.g. arch/x86/entry/vdso/vdso64/vdso64.so, arch/arm64/kernel/vdso/vdso.so).
    image: PathBuf,
    /// Architecture spec to check it against (default: the one its ELF header fits).
    #[arg(long)]
    arch: Option<String>,
    /// The spec: a built-in architecture's name, a spec file, or a directory of
    /// ARCH.yaml files (a copy of spec/ being edited).
    #[arg(long, value_name = "ARCH|FILE|DIR")]
    spec: Option<PathBuf>,
    /// The kernel version it was built from: symbols are judged by `since`/`until`
    /// (default: the version note the image carries; without one, `since` is not judged).
    #[arg(long)]
    kernel: Option<String>,
    /// `kernel` (a kernel build) or `qemu` (QEMU user mode's image).
    #[arg(long, default_value = "kernel")]
    provider: String,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The configuration of the build an image came from.
#[derive(Args, Default)]
pub struct ConfigArgs {
    /// The build's configuration (repeatable): its `.config` file, or one option
    /// `CONFIG_FOO=y`, `=m` (built, as far as the vDSO goes) or `=n`. Symbols
    /// that need an option become required or unexpected; with a .config, an
    /// option it does not set is off. A single option must be one some symbol
    /// of the spec depends on.
    #[arg(long, value_name = "FILE|CONFIG_NAME=y|m|n")]
    config: Vec<String>,
}

#[derive(Args)]
pub struct DiffArgs {
    old: PathBuf,
    new: PathBuf,
    /// The spec that says which differences are predicted or explained by the
    /// configuration: a built-in architecture's name, a spec file, or a
    /// directory of ARCH.yaml files (default: the built-in spec the images'
    /// ELF header fits).
    #[arg(long, value_name = "ARCH|FILE|DIR")]
    spec: Option<PathBuf>,
    /// The NEW image's build configuration (repeatable): its `.config`, or
    /// `CONFIG_FOO=y|m|n`. A symbol removed because an option the spec makes
    /// it depend on is off there is a configuration difference, not a break.
    #[arg(long, value_name = "FILE|CONFIG_NAME=y|m|n")]
    config: Vec<String>,
    /// The OLD image's build configuration, likewise.
    #[arg(long, value_name = "FILE|CONFIG_NAME=y|m|n")]
    old_config: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// An image file's bytes and its ELF header, or one line saying why it is not
/// a vDSO image (and to use `extract` when it is a kernel image).
pub fn read_vdso(path: &Path) -> Result<(Vec<u8>, FileHeader), InputError> {
    let data = read_image_file(path)?;
    match vdsoconf_suite::elf::parse_file_header(&data) {
        Ok((header, _)) => Ok((data, header)),
        Err(e) => Err(InputError(format!(
            "{}: {e}{}",
            path.display(),
            kernel_image_hint(&data)
        ))),
    }
}

/// " (it is an x86 bzImage: …)" when `head` starts a kernel image.
pub fn kernel_image_hint(head: &[u8]) -> String {
    #[cfg(feature = "extract")]
    if let Some(kind) = vdsoconf_extract::kernel_image_kind(head) {
        return format!(
            "; it is {kind}, not a vDSO image: `vdsoconf extract FILE` writes the vDSOs in it"
        );
    }
    let _ = head;
    String::new()
}

/// The spec to check an image with `header` against: `--spec`/`--arch`, else
/// the built-in spec its header fits.
fn spec_for(
    arch: Option<&str>,
    spec: Option<&Path>,
    header: &FileHeader,
) -> Result<LoadedSpec, InputError> {
    let fits = spec_of(header, &[]).unwrap_or_else(crate::target::host_arch);
    Ok(load_spec_for(arch, spec, fits)?)
}

/// The configuration `--config` values give: .config files read whole, single
/// options set, in order. A single option no symbol of `spec` depends on is
/// refused (a typo would otherwise change nothing, silently).
pub fn read_config(
    values: &[String],
    spec: &ArchSpec,
    flag: &str,
) -> Result<KernelConfig, InputError> {
    let known: std::collections::BTreeSet<String> = spec
        .symbols
        .iter()
        .flat_map(|s| s.condition().atoms())
        .collect();
    let mut config = KernelConfig::default();
    for value in values {
        let path = Path::new(value);
        if path.exists() {
            let text = read_text(path, InputKind::KernelConfig)?;
            config
                .read_dotconfig(&text, &path.display().to_string())
                .map_err(InputError)?;
        } else if value.contains('=') {
            config
                .set(value)
                .map_err(|e| InputError(format!("{flag} {e}")))?;
            let name = value.split_once('=').map_or(value.as_str(), |(n, _)| n);
            if !known.contains(name) {
                let listed = known.iter().cloned().collect::<Vec<_>>().join(", ");
                return Err(InputError(format!(
                    "{flag} {name}: no symbol of the {} spec depends on it (those that matter: {})",
                    spec.arch,
                    if listed.is_empty() { "none" } else { &listed }
                )));
            }
        } else {
            return Err(InputError(format!(
                "{flag} {value}: no such file, and not an option CONFIG_NAME=y, m or n"
            )));
        }
    }
    Ok(config)
}

/// `kernel`, else the image's version note; and which it was.
fn kernel_for(
    given: Option<&str>,
    image: Option<&VdsoImage<'_>>,
) -> Result<(Option<KernelVersion>, &'static str), InputError> {
    if let Some(k) = given {
        return Ok((Some(parse_kernel(k)?), "--kernel"));
    }
    Ok(match image.and_then(kernel_of) {
        Some(k) => (Some(k), "its version note"),
        None => (None, "unknown: no --kernel and no version note"),
    })
}

/// How `check-image` ran, for its caller (`tree` runs it on each image).
pub struct Checked {
    pub findings: Vec<Finding>,
    pub errors: usize,
}

pub fn check_image(args: CheckImageArgs) -> Result<i32, InputError> {
    let (data, header) = read_vdso(&args.image)?;
    let loaded = spec_for(args.arch.as_deref(), args.spec.as_deref(), &header)?;
    let config = read_config(&args.config.config, &loaded.spec, "--config")?;
    let label = args.image.display().to_string();
    let image = VdsoImage::parse(&data).ok();
    let (kernel, kernel_from) = kernel_for(args.kernel.as_deref(), image.as_ref())?;
    let against = Against {
        spec: &loaded.spec,
        spec_file: loaded.file.as_ref().map(|f| f.display().to_string()),
        provider: parse_provider(&args.provider)?,
        kernel,
        config,
    };
    let checked = check(&against, &data, &label)?;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "image": label,
                "arch": loaded.spec.arch,
                "spec_file": against.spec_file(),
                "provider": against.provider.name(),
                "kernel": kernel.map(|k| k.to_string()),
                "kernel_from": kernel_from,
                "findings": checked.findings,
                "errors": checked.errors,
                "warnings": count(&checked.findings, Severity::Warning),
                "notes": count(&checked.findings, Severity::Note),
            });
            super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        Format::Text => {
            let head = format!(
                "{label}: {} ({}), provider {}, kernel {} ({kernel_from}), spec {}\n",
                loaded.spec.arch,
                loaded.spec.title,
                against.provider.name(),
                kernel
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                against.spec_file()
            );
            super::write_stdout(&(one_line(head.trim_end()) + "\n"))?;
            super::write_stdout(&render_findings(&checked.findings))?;
        }
    }
    Ok(if checked.errors > 0 { 1 } else { 0 })
}

/// The findings of `data` checked against `against`; an image that cannot be
/// read at all is an input error naming `label`.
pub fn check(against: &Against<'_>, data: &[u8], label: &str) -> Result<Checked, InputError> {
    let findings =
        check_image_bytes(against, data).map_err(|e| InputError(format!("{label}: {e}")))?;
    Ok(Checked {
        errors: count(&findings, Severity::Error),
        findings,
    })
}

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

/// One line per finding (`error[id] symbol: message (offset 0x…)`), a spec
/// entry to paste under the one that has it, then the totals.
pub fn render_findings(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let mut line = format!("{}[{}] {}", f.severity.name(), f.id, f.text());
        if let Some(o) = f.offset {
            line.push_str(&format!(" (offset 0x{o:x})"));
        }
        out.push_str(&one_line(&line));
        out.push('\n');
        if let Some(entry) = &f.entry {
            for l in entry.lines() {
                out.push_str(&one_line(l));
                out.push('\n');
            }
        }
    }
    out.push_str(&format!(
        "{} error(s), {} warning(s), {} note(s)\n",
        count(findings, Severity::Error),
        count(findings, Severity::Warning),
        count(findings, Severity::Note)
    ));
    out
}

/// What `diff` found, for its caller (`tree` diffs each image).
pub struct Diffed {
    pub changes: Vec<vdsoconf_suite::checks::diff::Change>,
    pub breaking: usize,
}

pub fn diff(args: DiffArgs) -> Result<i32, InputError> {
    let (old_data, old_header) = read_vdso(&args.old)?;
    let (new_data, _) = read_vdso(&args.new)?;
    let loaded = match (&args.spec, spec_of(&old_header, &[])) {
        (None, None) => None,
        _ => Some(spec_for(None, args.spec.as_deref(), &old_header)?),
    };
    let configs = match &loaded {
        Some(l) => Some((
            read_config(&args.old_config, &l.spec, "--old-config")?,
            read_config(&args.config, &l.spec, "--config")?,
        )),
        None if !args.config.is_empty() || !args.old_config.is_empty() => {
            return Err(InputError(
                "--config needs a spec to say which options matter: no built-in spec fits the images, pass --spec".into(),
            ))
        }
        None => None,
    };
    let judged = loaded
        .as_ref()
        .zip(configs)
        .map(|(l, (old_config, new_config))| Judged {
            spec: &l.spec,
            spec_file: l.file_name(),
            old_config,
            new_config,
        });
    let diffed = diff_data(
        (&args.old, &old_data),
        (&args.new, &new_data),
        judged.as_ref(),
    )?;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "old": args.old.display().to_string(),
                "new": args.new.display().to_string(),
                "spec": judged.as_ref().map(|j| j.spec.arch.clone()),
                "changes": diffed.changes,
                "breaking": diffed.breaking,
                "configuration": diffed.changes.iter().filter(|c| c.configuration.is_some()).count(),
                "compatible": diffed.changes.iter().filter(|c| c.class() == "compatible").count(),
            });
            super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        Format::Text => super::write_stdout(&render_changes(&diffed.changes))?,
    }
    Ok(if diffed.breaking > 0 { 1 } else { 0 })
}

/// The changes from the image `old` to `new` (each a path and its bytes),
/// judged by a spec when one is given.
pub fn diff_data(
    old: (&Path, &[u8]),
    new: (&Path, &[u8]),
    judged: Option<&Judged<'_>>,
) -> Result<Diffed, InputError> {
    let (a, b) = (parse_readable(old.0, old.1)?, parse_readable(new.0, new.1)?);
    let mut changes = diff_images(&a, &b)
        .map_err(|e| InputError(format!("{} and {}: {e}", old.0.display(), new.0.display())))?;
    if let Some(j) = judged {
        annotate(&mut changes, j);
    }
    Ok(Diffed {
        breaking: changes.iter().filter(|c| c.breaking).count(),
        changes,
    })
}

/// `data` parsed, every symbol readable (a diff of what could be read would
/// call the rest removed).
fn parse_readable<'a>(path: &Path, data: &'a [u8]) -> Result<VdsoImage<'a>, InputError> {
    let image =
        VdsoImage::parse(data).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    readable(&image).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    Ok(image)
}

/// One line per change (`breaking: removed NAME@VERSION [what the spec says]
/// (configuration: …)`), then the totals.
pub fn render_changes(changes: &[vdsoconf_suite::checks::diff::Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let what = match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!(" ({o} -> {n})"),
            _ => String::new(),
        };
        let spec = c
            .spec
            .as_ref()
            .map(|s| format!("  [{s}]"))
            .unwrap_or_default();
        let config = c
            .configuration
            .as_ref()
            .map(|s| format!("  (configuration: {s})"))
            .unwrap_or_default();
        out.push_str(&one_line(&format!(
            "{}: {} {}{what}{spec}{config}",
            c.class(),
            c.kind.name(),
            c.subject
        )));
        out.push('\n');
    }
    let of = |class: &str| changes.iter().filter(|c| c.class() == class).count();
    out.push_str(&format!(
        "{} breaking, {} compatible, {} configuration difference(s)\n",
        of("breaking"),
        of("compatible"),
        of("configuration")
    ));
    out
}

/// `vdsoconf symbols [IMAGE]`.
pub fn symbols(image: Option<PathBuf>, format: Format) -> Result<i32, InputError> {
    let (label, data) = match &image {
        Some(p) => (p.display().to_string(), read_vdso(p)?.0),
        None => (
            "live vDSO".to_string(),
            super::live_vdso()?.bytes().to_vec(),
        ),
    };
    let img = VdsoImage::parse(&data)
        .map_err(|e| InputError(format!("{label}: {e}{}", kernel_image_hint(&data))))?;
    let mut rows = Vec::new();
    for sym in img.symbols() {
        let sym = sym.map_err(|e| InputError(format!("{label}: {e}")))?;
        rows.push(serde_json::json!({
            "name": sym.name_lossy(),
            "version": sym.version.name().map(|v| String::from_utf8_lossy(v).into_owned()),
            "hidden": sym.version.hidden(),
            "binding": binding_name(sym.binding()),
            "type": type_name(sym.sym_type()),
            "value": sym.value,
            "size": sym.size,
        }));
    }
    let soname = img
        .soname()
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let kernel = kernel_of(&img).map(|k| k.to_string());
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "soname": soname,
                "class": img.class().bits(),
                "endian": img.endian().name(),
                "machine": img.machine(),
                "kernel": kernel,
                "hash": {"sysv": img.sysv_hash().is_some(), "gnu": img.gnu_hash().is_some()},
                "symbols": rows,
            });
            super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        }
        Format::Text => {
            let hash: Vec<&str> = [
                img.sysv_hash().map(|_| "sysv"),
                img.gnu_hash().map(|_| "gnu"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let mut out = one_line(&format!(
                "{label}: soname {}, ELF{} {}-endian, e_machine {}, hash: {}, kernel {}",
                soname.as_deref().unwrap_or("(none)"),
                img.class().bits(),
                img.endian().name(),
                img.machine(),
                if hash.is_empty() {
                    "none".to_string()
                } else {
                    hash.join(" ")
                },
                kernel.as_deref().unwrap_or("unknown (no version note)")
            )) + "\n";
            let names: Vec<String> = rows
                .iter()
                .map(|r| {
                    let version = match (r["version"].as_str(), r["hidden"].as_bool()) {
                        (Some(v), Some(true)) => format!("@{v}"),
                        (Some(v), _) => format!("@@{v}"),
                        (None, _) => String::new(),
                    };
                    one_line(&format!("{}{version}", r["name"].as_str().unwrap_or("")))
                })
                .collect();
            let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            for (r, name) in rows.iter().zip(&names) {
                out.push_str(&format!(
                    "  {name:<width$} {:<7} {:<7} 0x{:08x} {:>5}\n",
                    r["binding"].as_str().unwrap_or(""),
                    r["type"].as_str().unwrap_or(""),
                    r["value"].as_u64().unwrap_or(0),
                    r["size"].as_u64().unwrap_or(0)
                ));
            }
            super::write_stdout(&out)?;
        }
    }
    Ok(0)
}
