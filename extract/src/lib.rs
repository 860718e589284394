//! The vDSO images embedded in a kernel image file, whatever its form: a plain
//! `vmlinux` or arm64/riscv `Image` (the vDSO lies in it as it is), an x86
//! bzImage or an EFI zboot image (a header says where the compressed kernel
//! is), or any other image holding a compressed kernel (armhf zImage, s390x,
//! a gzip'd `Image.gz`), found by its compression format's magic bytes.
//!
//! Every candidate is validated with the suite's ELF parser: an ET_DYN object
//! with a soname that parses whole is a vDSO. Input is untrusted: every header
//! field and every length is checked, each decompression is bounded in output,
//! and nothing here panics on bad bytes.

#![deny(unsafe_code)]

mod decompress;
mod formats;
mod lzo;
mod scan;

pub use decompress::Compression;
pub use formats::kernel_image_kind;
/// The LZO1X block decoder (what lzop payloads are made of), for the fuzz
/// targets and their differential against another implementation.
pub use lzo::decompress as lzo1x_decompress;
pub use scan::{vdso_images, Embedded};

/// Decompressed output is cut here: kernels are tens of megabytes, a
/// decompression bomb is not.
pub const MAX_DECOMPRESSED: usize = 512 << 20;

/// Where a compressed kernel was found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub compression: Compression,
    /// Its offset in the file.
    pub offset: usize,
    /// How it was found: "bzImage payload", "EFI zboot payload", "magic bytes".
    pub found_by: &'static str,
}

/// One vDSO image found in a kernel image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The image's bytes.
    pub data: Vec<u8>,
    /// Its offset in the file, or in the decompressed payload.
    pub offset: usize,
    /// The compressed kernel it was in (None: in the file as it is).
    pub payload: Option<Payload>,
}

/// What a search found, and what it tried when it found nothing.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub found: Vec<Found>,
    /// The compressed payloads tried and why each gave no vDSO.
    pub tried: Vec<String>,
}

/// Every vDSO image in `file`: those lying in it uncompressed, else those of the
/// first compressed payload that holds any (payloads the headers point at
/// first, then any stream whose magic bytes appear, in file order).
pub fn extract(file: &[u8]) -> Extraction {
    extract_bounded(file, MAX_DECOMPRESSED)
}

/// [`extract`] with each decompression cut at `max_decompressed` bytes.
pub fn extract_bounded(file: &[u8], max_decompressed: usize) -> Extraction {
    let mut extraction = Extraction::default();
    let direct = vdso_images(file);
    if !direct.is_empty() {
        extraction.found = direct
            .into_iter()
            .map(|e| Found {
                data: e.data.to_vec(),
                offset: e.offset,
                payload: None,
            })
            .collect();
        return extraction;
    }
    for payload in formats::payloads(file) {
        let what = format!(
            "{} at 0x{:x} ({})",
            payload.compression.name(),
            payload.offset,
            payload.found_by
        );
        match decompress::decompress(
            payload.compression,
            &file[payload.offset..],
            max_decompressed,
        ) {
            Ok(decoded) => {
                let kernel = decoded.data;
                let images = vdso_images(&kernel);
                if images.is_empty() {
                    extraction.tried.push(format!(
                        "{what}: {} bytes decompressed{}, no vDSO in them",
                        kernel.len(),
                        decoded
                            .error
                            .map(|e| format!(" (then: {e})"))
                            .unwrap_or_default()
                    ));
                    continue;
                }
                extraction.found = images
                    .into_iter()
                    .map(|e| Found {
                        data: e.data.to_vec(),
                        offset: e.offset,
                        payload: Some(payload.clone()),
                    })
                    .collect();
                return extraction;
            }
            Err(e) => extraction.tried.push(format!("{what}: {e}")),
        }
    }
    extraction
}
