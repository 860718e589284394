//! `vdsoconf extract`: the vDSO images of a kernel image file, written one per
//! file and named by the spec each belongs to.

use serde::Serialize;
use std::path::{Path, PathBuf};
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::spec::spec_of;

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
        let spec = spec_of(image.header(), &machines).map(str::to_string);
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
