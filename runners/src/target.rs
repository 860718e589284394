//! Choosing what to check: architecture, provider, kernel and image source.

use vdsoconf_suite::spec::{builtin, builtin_arches, ArchSpec, KernelVersion, Provider};

/// The spec name of the architecture this binary was built for, refined at run time
/// where one binary can meet two vDSOs (32-bit ARM on an arm64 kernel).
pub fn host_arch() -> &'static str {
    let compiled = compiled_arch();
    if compiled == "arm" && uname_machine().as_deref() == Some("aarch64") {
        return "arm64-compat";
    }
    compiled
}

fn compiled_arch() -> &'static str {
    if cfg!(all(target_arch = "x86_64", target_pointer_width = "32")) {
        "x32"
    } else if cfg!(target_arch = "x86_64") {
        "x86_64"
    } else if cfg!(target_arch = "x86") {
        "i386"
    } else if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else if cfg!(target_arch = "arm") {
        "arm"
    } else if cfg!(target_arch = "powerpc64") {
        "ppc64"
    } else if cfg!(target_arch = "powerpc") {
        "ppc32"
    } else if cfg!(target_arch = "s390x") {
        "s390x"
    } else if cfg!(target_arch = "riscv64") {
        "riscv64"
    } else if cfg!(target_arch = "riscv32") {
        "riscv32"
    } else if cfg!(all(target_arch = "mips64", target_pointer_width = "32")) {
        "mips-n32"
    } else if cfg!(target_arch = "mips64") {
        "mips-n64"
    } else if cfg!(target_arch = "mips") {
        "mips-o32"
    } else if cfg!(target_arch = "loongarch64") {
        "loongarch64"
    } else if cfg!(target_arch = "csky") {
        "csky"
    } else if cfg!(target_arch = "sparc64") {
        "sparc64"
    } else {
        "unknown"
    }
}

pub fn uname_machine() -> Option<String> {
    vdsoconf_suite::vdso::process::uname().map(|(machine, _)| machine)
}

/// `uname -r`.
pub fn kernel_release() -> Option<String> {
    vdsoconf_suite::vdso::process::uname().map(|(_, release)| release)
}

/// A bad command-line choice; the message is shown as is and the tool exits 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The built-in spec for `arch`, or an error listing the known ones.
pub fn load_arch(arch: &str) -> Result<ArchSpec, UsageError> {
    match builtin(arch) {
        Some(Ok(spec)) => Ok(spec),
        Some(Err(e)) => Err(UsageError(e.to_string())),
        None => Err(UsageError(format!(
            "unknown --arch {arch:?}; known architectures: {}",
            builtin_arches().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The spec file `--spec PATH` names for `arch`: PATH itself, or `PATH/ARCH.yaml`
/// when PATH is a directory.
pub fn spec_file(arch: &str, path: &std::path::Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join(format!("{arch}.yaml"))
    } else {
        path.to_path_buf()
    }
}

/// The live target `opts` names, or why it cannot be checked from this process
/// (another architecture, a historical one): a one-line error, not a run whose
/// every check quietly skips.
pub fn resolve_live_target(
    opts: &TargetOptions,
) -> Result<vdsoconf_suite::checks::Target, UsageError> {
    let target = resolve_target(opts)?;
    if let vdsoconf_suite::checks::Source::Unavailable { reason } = &target.source {
        return Err(UsageError(format!("--arch {}: {reason}", target.spec.arch)));
    }
    Ok(target)
}

/// The spec to check against: from `--spec` (a built-in architecture's name, a
/// spec file, or a directory of `ARCH.yaml` files such as a kernel tree's copy
/// of `spec/`) or built in. With a file, `arch` (if given) must be the file's.
pub fn load_spec(
    arch: Option<&str>,
    spec: Option<&std::path::Path>,
) -> Result<ArchSpec, UsageError> {
    load_spec_for(arch, spec, host_arch()).map(|l| l.spec)
}

/// A spec and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: ArchSpec,
    /// The file it was read from (`None`: built in).
    pub file: Option<std::path::PathBuf>,
}

impl LoadedSpec {
    /// The file to edit, as messages name it.
    pub fn file_name(&self) -> String {
        match &self.file {
            Some(f) => f.display().to_string(),
            None => format!("spec/{}.yaml", self.spec.arch),
        }
    }
}

/// [`load_spec`], with `default_arch` standing for `--arch` when it is not
/// given (the architecture an image's header names, or this binary's), and
/// saying where the spec came from. `--spec ARCH` is that built-in spec
/// unless a file or directory of that name exists.
pub fn load_spec_for(
    arch: Option<&str>,
    spec: Option<&std::path::Path>,
    default_arch: &str,
) -> Result<LoadedSpec, UsageError> {
    let Some(path) = spec else {
        return Ok(LoadedSpec {
            spec: load_arch(arch.unwrap_or(default_arch))?,
            file: None,
        });
    };
    let loaded = if path.symlink_metadata().is_err() && builtin(&path.to_string_lossy()).is_some() {
        LoadedSpec {
            spec: load_arch(&path.to_string_lossy())?,
            file: None,
        }
    } else if path.symlink_metadata().is_err() {
        return Err(UsageError(format!(
            "--spec {}: no such file or directory, and not a built-in architecture ({})",
            path.display(),
            builtin_arches().collect::<Vec<_>>().join(", ")
        )));
    } else {
        let file = spec_file(arch.unwrap_or(default_arch), path);
        let spec = vdsoconf_suite::spec::load_file(&file).map_err(|e| UsageError(e.to_string()))?;
        LoadedSpec {
            spec,
            file: Some(file),
        }
    };
    match arch {
        Some(a) if a != loaded.spec.arch => Err(UsageError(format!(
            "{}: the spec is for {}, not --arch {a}",
            loaded.file_name(),
            loaded.spec.arch
        ))),
        _ => Ok(loaded),
    }
}

pub fn parse_provider(s: &str) -> Result<Provider, UsageError> {
    Provider::ALL
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| {
            UsageError(format!(
                "unknown --provider {s:?}; known providers: kernel, qemu"
            ))
        })
}

pub fn parse_kernel(s: &str) -> Result<KernelVersion, UsageError> {
    KernelVersion::from_release(s)
        .filter(|_| s.starts_with(|c: char| c.is_ascii_digit()))
        .ok_or_else(|| {
            UsageError(format!(
                "--kernel {s:?} is not a kernel version such as 6.12"
            ))
        })
}

/// What to check: the options `run`, `bench`, `vdsoconf boot`'s `/init` and the
/// conformance harness (`cargo test -- --arch …`) share, parsed by one clap
/// struct everywhere.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetOptions {
    /// Architecture spec to check (default: the one this binary runs as).
    #[arg(long)]
    pub arch: Option<String>,
    /// Whose vDSO: `kernel` (default) or `qemu` (QEMU user mode's own).
    #[arg(long)]
    pub provider: Option<String>,
    /// Kernel version to judge `since`/`until` against (default: uname -r for the
    /// live vDSO; for an image, the kernel version note it carries).
    #[arg(long, value_name = "X.Y")]
    pub kernel: Option<String>,
    /// Check an image file instead of the live vDSO (calls are skipped).
    #[arg(long, value_name = "FILE", conflicts_with = "observed")]
    pub image: Option<std::path::PathBuf>,
    /// Check against this spec instead of the built-in one: a spec file, a
    /// directory of ARCH.yaml files (a copy of the repository's spec/ being
    /// edited), or a built-in architecture's name. Live checks in their child
    /// processes use it too; no rebuild is needed.
    #[arg(long, value_name = "ARCH|FILE|DIR")]
    pub spec: Option<std::path::PathBuf>,
    /// What a probe process of --arch saw, for a target the suite cannot be built
    /// for (runners/qemu/vdso-probe.c): `absent`, or the file it dumped its vDSO to.
    /// The presence and image checks run; calls are skipped.
    #[arg(long, value_name = "absent|FILE", requires = "arch")]
    pub observed: Option<String>,
}

/// `--duration`: `90`, `90s`, `5m`, `2h` (seconds by default), from 10 ms to a week.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, UsageError> {
    parse_duration_of("--duration", s)
}

/// The least time a monotonicity check can usefully read its clocks (each of its
/// threads starts and takes readings in it).
pub const MIN_DURATION: std::time::Duration = std::time::Duration::from_millis(10);

/// A duration given to option `flag` (named in the error): seconds by default, or
/// a number with ms, s, m or h; at least [`MIN_DURATION`], at most a week.
pub fn parse_duration_of(flag: &str, s: &str) -> Result<std::time::Duration, UsageError> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(UsageError(format!(
                "{flag} {s:?}: use seconds, or a number with ms, s, m or h"
            )))
        }
    };
    match num.parse::<f64>() {
        Ok(n) if n > 0.0 && n * scale <= 7.0 * 86400.0 => {
            let d = std::time::Duration::from_secs_f64(n * scale);
            if d < MIN_DURATION {
                return Err(UsageError(format!(
                    "{flag} {s:?} is shorter than {} ms, the least that is accepted",
                    MIN_DURATION.as_millis()
                )));
            }
            Ok(d)
        }
        _ => Err(UsageError(format!(
            "{flag} {s:?} is not a positive duration of at most a week"
        ))),
    }
}

/// The kernel the vDSO image in `path` was built for (its version note), if
/// the file can be read and has one.
pub fn kernel_of_file(path: &std::path::Path) -> Option<KernelVersion> {
    let data = vdsoconf_suite::input::read_input(path, vdsoconf_suite::input::InputKind::VdsoImage)
        .ok()?;
    let image = vdsoconf_suite::elf::VdsoImage::parse(&data).ok()?;
    vdsoconf_suite::checks::image::kernel_of(&image)
}

/// Turns options into a target, with defaults: this binary's arch, the kernel provider,
/// the running kernel's version, and the live vDSO.
pub fn resolve_target(opts: &TargetOptions) -> Result<vdsoconf_suite::checks::Target, UsageError> {
    use vdsoconf_suite::checks::{Source, Target};
    let host = host_arch();
    let loaded = load_spec_for(opts.arch.as_deref(), opts.spec.as_deref(), host)?;
    let spec_file = loaded.file.as_ref().map(|f| f.display().to_string());
    let spec = loaded.spec;
    let arch = spec.arch.as_str();
    let provider = opts
        .provider
        .as_deref()
        .map(parse_provider)
        .transpose()?
        .unwrap_or(Provider::Kernel);
    let source = if let Some(image) = &opts.image {
        Source::File(image.display().to_string())
    } else if let Some(seen) = &opts.observed {
        Source::Observed {
            image: (seen != "absent").then(|| seen.clone()),
        }
    } else if spec.historical {
        Source::Unavailable {
            reason: format!(
                "{arch} is a historical record (removed in {}): no system runs it; check an image with --image",
                spec.removed_in.map(|v| v.to_string()).unwrap_or_else(|| "an old kernel".into())
            ),
        }
    } else if arch == host {
        Source::Live
    } else {
        Source::Unavailable {
            reason: format!(
                "this is a {host} process and the {arch} vDSO is mapped only into {arch} processes: \
                 run a vdsoconf built for {arch} (under qemu-user: runners/qemu/matrix), boot a kernel \
                 with `vdsoconf boot --arch {arch} --kernel IMAGE`, or check an image with --image FILE"
            ),
        }
    };
    let kernel = match &opts.kernel {
        Some(k) => Some(parse_kernel(k)?),
        None if source == Source::Live => {
            kernel_release().and_then(|r| KernelVersion::from_release(&r))
        }
        // An image names the kernel it was built for; one that cannot be read
        // is reported by the checks.
        None => match &source {
            Source::File(path) | Source::Observed { image: Some(path) } => {
                kernel_of_file(std::path::Path::new(path))
            }
            _ => None,
        },
    };
    Ok(Target {
        spec,
        provider,
        kernel,
        source,
        spec_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        for bad in ["", "0", "-1", "5d", "abc", "9999h", "0.0001", "0.009"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("0.01").unwrap(), Duration::from_millis(10));
        // The least the help names, as it names it, and what the matrix gives rows
        // under emulation.
        assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("9ms").is_err());
        assert!(parse_duration("ms").is_err());
        let e = parse_duration_of("--timeout", "10x").unwrap_err().0;
        assert!(e.starts_with("--timeout \"10x\""), "{e}");
    }
}
