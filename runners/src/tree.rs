//! A kernel build tree as `vdsoconf tree` reads it: its configuration, its
//! release, and the vDSO images it built, found where each spec's
//! `build_paths` say a build writes them; and the images to compare them with.

use std::path::{Path, PathBuf};
use vdsoconf_suite::checks::KernelConfig;
use vdsoconf_suite::elf::parse_file_header;
use vdsoconf_suite::input::{read_input, read_text, InputKind};
use vdsoconf_suite::spec::{specs_fitting, ArchSpec, KernelVersion};

/// One vDSO image a build wrote.
#[derive(Debug, Clone)]
pub struct Built {
    /// The spec it is checked against.
    pub arch: String,
    /// Its path relative to the build directory (as the spec lists it).
    pub rel: String,
    pub path: PathBuf,
    pub data: Vec<u8>,
}

/// What a build directory holds.
#[derive(Debug, Clone)]
pub struct BuildTree {
    pub dir: PathBuf,
    /// `include/config/kernel.release`, if `make prepare` wrote it.
    pub release: Option<String>,
    pub config: KernelConfig,
    pub images: Vec<Built>,
}

impl BuildTree {
    /// The kernel version the release names.
    pub fn kernel(&self) -> Option<KernelVersion> {
        self.release
            .as_deref()
            .and_then(KernelVersion::from_release)
    }
}

/// Whether `dir` looks like a kernel build's output directory (`O=`, or a
/// source tree built in place): it has a `.config`.
pub fn is_build_tree(dir: &Path) -> bool {
    dir.join(".config").is_file()
}

/// Reads the build in `dir` for the vDSOs of `specs`: its `.config` (whole:
/// an option it leaves out is off), its release, and for each spec the first
/// of its `build_paths` that exists and whose ELF header fits the spec.
pub fn open(dir: &Path, specs: &[ArchSpec]) -> Result<BuildTree, String> {
    match dir.metadata() {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{}: not a directory", dir.display())),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    }
    if !is_build_tree(dir) {
        return Err(format!(
            "{}: not a kernel build tree (no .config): give the directory `make` built in, or its O= directory",
            dir.display()
        ));
    }
    let config_file = dir.join(".config");
    let text = read_text(&config_file, InputKind::KernelConfig).map_err(|e| e.to_string())?;
    let mut config = KernelConfig::default();
    config.read_dotconfig(&text, &config_file.display().to_string())?;
    let release_file = dir.join("include/config/kernel.release");
    let release = match release_file.metadata() {
        Ok(_) => Some(
            read_text(&release_file, InputKind::Report)
                .map_err(|e| e.to_string())?
                .trim()
                .to_string(),
        ),
        Err(_) => None,
    };
    let mut images = Vec::new();
    for spec in specs {
        if let Some(built) = find_image(dir, spec)? {
            images.push(built);
        }
    }
    Ok(BuildTree {
        dir: dir.to_path_buf(),
        release,
        config,
        images,
    })
}

/// The first of `spec`'s build paths under `dir` holding an image of its
/// class and machine (riscv's `vdso/vdso.so` is riscv64's on a 64-bit build
/// and riscv32's on a 32-bit one).
fn find_image(dir: &Path, spec: &ArchSpec) -> Result<Option<Built>, String> {
    for rel in &spec.build_paths {
        let path = dir.join(rel);
        if !path.is_file() {
            continue;
        }
        let data = read_input(&path, InputKind::VdsoImage).map_err(|e| e.to_string())?;
        let fits = parse_file_header(&data)
            .is_ok_and(|(h, _)| specs_fitting(&h).contains(&spec.arch.as_str()));
        if fits {
            return Ok(Some(Built {
                arch: spec.arch.clone(),
                rel: rel.clone(),
                path,
                data,
            }));
        }
    }
    Ok(None)
}

/// The images a baseline offers, each with the spec it belongs to and what is
/// known of its build's configuration.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// What it is, for people: "history/amd64/7.3.4+deb13-cloud-amd64 (Debian
    /// 7.3.4-1~bpo13+1)", "the build in ../old", "vmlinuz-7.2 (extracted)".
    pub label: String,
    pub images: Vec<(String, PathBuf, Vec<u8>)>,
    pub config: KernelConfig,
}

impl Baseline {
    /// The image of spec `arch`, if it has one.
    pub fn image(&self, arch: &str) -> Option<(&Path, &[u8])> {
        self.images
            .iter()
            .find(|(a, _, _)| a == arch)
            .map(|(_, p, d)| (p.as_path(), d.as_slice()))
    }
}

/// A directory of earlier images: another build tree, or a directory of
/// `ARCH.so` files as `vdsoconf extract` writes them.
pub fn baseline_dir(dir: &Path, specs: &[ArchSpec]) -> Result<Baseline, String> {
    if is_build_tree(dir) {
        let tree = open(dir, specs)?;
        return Ok(Baseline {
            label: format!("the build in {}", dir.display()),
            images: tree
                .images
                .into_iter()
                .map(|b| (b.arch, b.path, b.data))
                .collect(),
            config: tree.config,
        });
    }
    let mut images = Vec::new();
    for spec in specs {
        let path = dir.join(format!("{}.so", spec.arch));
        if path.is_file() {
            let data = read_input(&path, InputKind::VdsoImage).map_err(|e| e.to_string())?;
            images.push((spec.arch.clone(), path, data));
        }
    }
    if images.is_empty() {
        return Err(format!(
            "--against {}: neither a kernel build tree (no .config) nor a directory of ARCH.so images (as `vdsoconf extract -o DIR` writes)",
            dir.display()
        ));
    }
    Ok(Baseline {
        label: dir.display().to_string(),
        images,
        config: KernelConfig::default(),
    })
}

/// The newest image of each spec in a history directory (`history/fetch`
/// writes one: `manifest.tsv` and the images it lists), by Debian version.
pub fn baseline_history(dir: &Path, specs: &[ArchSpec]) -> Result<Baseline, String> {
    let rows = crate::history::manifest(dir)?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for spec in specs {
        let newest = rows
            .iter()
            .filter(|r| r.spec == spec.arch)
            .max_by_key(|r| crate::history::version_key(&r.version));
        if let Some(row) = newest {
            let path = dir.join(&row.file);
            let data = read_input(&path, InputKind::VdsoImage).map_err(|e| e.to_string())?;
            labels.push(format!(
                "{} ({} {})",
                path.display(),
                row.suite,
                row.version
            ));
            images.push((spec.arch.clone(), path, data));
        }
    }
    Ok(Baseline {
        label: if labels.is_empty() {
            format!("{} (no image of these architectures)", dir.display())
        } else {
            labels.join(", ")
        },
        images,
        config: KernelConfig::default(),
    })
}

/// This repository's `history/` directory, if the binary runs where it was
/// built (`cargo run`): the default baseline of `vdsoconf tree`.
pub fn default_history() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    dir.join("manifest.tsv")
        .is_file()
        .then(|| dir.canonicalize().unwrap_or(dir))
}
