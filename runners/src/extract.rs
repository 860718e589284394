//! `vdsoconf extract`: the vDSO images of a kernel image file, written one per
//! file and named by the spec each belongs to.

use serde::Serialize;
use std::path::{Path, PathBuf};
use vdsoconf_suite::elf::{Endian, VdsoImage};
use vdsoconf_suite::spec::{builtin, builtin_arches, EndianSpec};

/// One image written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub file: PathBuf,
    pub soname: String,
    /// 32 or 64.
    pub class: u8,
    pub endian: &'static str,
    pub machine: u16,
    /// The built-in spec it is checked against (None: no spec has its class and machine).
    pub spec: Option<String>,
    pub size: usize,
    /// Its offset in the file, or in the decompressed kernel.
    pub offset: usize,
    /// The compressed kernel it was in: "zstd at 0x52cc (bzImage payload)".
    pub payload: Option<String>,
}

/// The built-in spec of an image with this class, byte order and machine, in a
/// kernel that also holds images of `machines`: EM_ARM in an arm64 kernel is
/// its compat vDSO; MIPS tells its ABIs apart by class and the n32 flag.
pub fn spec_of(image: &VdsoImage<'_>, machines: &[u16]) -> Option<String> {
    const EM_MIPS: u16 = 8;
    const EM_ARM: u16 = 40;
    const EM_AARCH64: u16 = 183;
    const EF_MIPS_ABI2: u32 = 0x20;
    let class = image.class().bits();
    let endian = match image.endian() {
        Endian::Little => EndianSpec::Little,
        Endian::Big => EndianSpec::Big,
    };
    let machine = image.machine();
    let candidates: Vec<&str> = builtin_arches()
        .filter(|arch| {
            builtin(arch).and_then(Result::ok).is_some_and(|s| {
                s.elf.class == class && s.elf.machine == machine && s.elf.endian.contains(&endian)
            })
        })
        .collect();
    let pick = |name: &str| {
        candidates
            .iter()
            .find(|a| **a == name)
            .map(|a| a.to_string())
    };
    match (machine, candidates.len()) {
        (_, 0) => None,
        (_, 1) => Some(candidates[0].to_string()),
        (EM_ARM, _) if machines.contains(&EM_AARCH64) => pick("arm64-compat"),
        (EM_ARM, _) => pick("arm"),
        (EM_MIPS, _) if class == 64 => pick("mips-n64"),
        (EM_MIPS, _) if image.header().flags & EF_MIPS_ABI2 != 0 => pick("mips-n32"),
        (EM_MIPS, _) => pick("mips-o32"),
        _ => Some(candidates[0].to_string()),
    }
}

/// Writes each image of `kernel` (read from `path`) into `dir`; an empty list
/// when there is none, with what was tried.
pub fn extract_to(kernel: &[u8], dir: &Path) -> Result<(Vec<Written>, Vec<String>), String> {
    let extraction = vdsoconf_extract::extract(kernel);
    let images: Vec<VdsoImage<'_>> = extraction
        .found
        .iter()
        .map(|f| VdsoImage::parse(&f.data).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let machines: Vec<u16> = images.iter().map(|i| i.machine()).collect();
    if !images.is_empty() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut written: Vec<Written> = Vec::new();
    for (found, image) in extraction.found.iter().zip(&images) {
        let spec = spec_of(image, &machines);
        let stem = spec
            .clone()
            .unwrap_or_else(|| format!("unknown-machine-{}", image.machine()));
        let mut file = dir.join(format!("{stem}.so"));
        let mut n = 2;
        while written.iter().any(|w| w.file == file) {
            file = dir.join(format!("{stem}-{n}.so"));
            n += 1;
        }
        crate::output::write_file(&file, &found.data).map_err(|e| e.0)?;
        written.push(Written {
            file,
            soname: String::from_utf8_lossy(image.soname().unwrap_or_default()).into_owned(),
            class: image.class().bits(),
            endian: image.endian().name(),
            machine: image.machine(),
            spec,
            size: found.data.len(),
            offset: found.offset,
            payload: found.payload.as_ref().map(|p| {
                format!(
                    "{} at 0x{:x} ({})",
                    p.compression.name(),
                    p.offset,
                    p.found_by
                )
            }),
        });
    }
    Ok((written, extraction.tried))
}
