//! Every compression and container `extract` knows, on streams the real tools
//! wrote (fixtures/regenerate), and hostile variants of them: cut short,
//! corrupted, a decompression bomb, a file of repeated magic bytes.

use std::path::{Path, PathBuf};
use vdsoconf_extract::{extract, extract_bounded, Compression, Found};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap()
}

fn vdso64() -> Vec<u8> {
    read("../suite/fixtures/x86_64/kernel-6.18.so")
}

fn vdso32() -> Vec<u8> {
    read("../suite/fixtures/i386/kernel-6.18.so")
}

const STREAMS: [(&str, Compression); 7] = [
    ("fake-kernel.gz", Compression::Gzip),
    ("fake-kernel.xz", Compression::Xz),
    ("fake-kernel.zst", Compression::Zstd),
    ("fake-kernel.lz4", Compression::Lz4Legacy),
    ("fake-kernel.lzma", Compression::Lzma),
    ("fake-kernel.bz2", Compression::Bzip2),
    ("fake-kernel.lzo", Compression::Lzo),
];

/// `found` is the ELF image at the start of `dump` (a dump is the whole
/// mapping, page-padded; an image ends with its section headers).
fn is_image_of(found: &[u8], dump: &[u8]) -> bool {
    found.len() > 1024 && dump.starts_with(found) && dump[found.len()..].iter().all(|&b| b == 0)
}

/// Both vDSOs of the fake kernel, in order, byte for byte.
fn assert_both(found: &[Found], what: &str) {
    let offsets: Vec<usize> = found.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [0x4000, 0x8000], "{what}: the images found");
    assert!(
        is_image_of(&found[0].data, &vdso64()),
        "{what}: the 64-bit image"
    );
    assert!(
        is_image_of(&found[1].data, &vdso32()),
        "{what}: the 32-bit image"
    );
}

#[test]
fn an_uncompressed_kernel_gives_its_images_where_they_lie() {
    let mut vmlinux = vec![0x5au8; 0xc000];
    vmlinux[0x4000..0x4000 + vdso64().len()].copy_from_slice(&vdso64());
    vmlinux[0x8000..0x8000 + vdso32().len()].copy_from_slice(&vdso32());
    let e = extract(&vmlinux);
    assert_both(&e.found, "vmlinux");
    assert!(e.found.iter().all(|f| f.payload.is_none()));
}

#[test]
fn each_compression_is_found_by_its_magic_and_decompressed() {
    for (file, compression) in STREAMS {
        // As a zImage or s390 image holds it: after code of its own.
        let mut image = b"decompressor code, not a stream: \x1f\x8b\x07 \xfd7zXY".repeat(20);
        let at = image.len();
        image.extend(read(&format!("fixtures/{file}")));
        image.extend([0u8; 64]);
        let e = extract(&image);
        assert!(!e.found.is_empty(), "{file}: {:?}", e.tried);
        assert_both(&e.found, file);
        let payload = e.found[0].payload.as_ref().expect("a payload");
        assert_eq!(
            (payload.compression, payload.offset),
            (compression, at),
            "{file}"
        );
        assert_eq!(payload.found_by, "magic bytes");
    }
}

#[test]
fn a_bzimage_payload_is_taken_from_its_header() {
    for (file, compression) in STREAMS {
        let stream = read(&format!("fixtures/{file}"));
        // setup_sects 3: the protected-mode code starts at 0x800; the payload
        // sits 0x100 into it, behind a decoy stream of another kind.
        let mut image = vec![0u8; 0x900];
        image[0x1f1] = 3;
        image[0x202..0x206].copy_from_slice(b"HdrS");
        image[0x248..0x24c].copy_from_slice(&0x100u32.to_le_bytes());
        image[0x24c..0x250].copy_from_slice(&(stream.len() as u32).to_le_bytes());
        image[0x820..0x826].copy_from_slice(b"\xfd7zXZ\x00");
        image.extend(&stream);
        let e = extract(&image);
        assert_both(&e.found, file);
        let payload = e.found[0].payload.as_ref().unwrap();
        assert_eq!(
            (payload.compression, payload.offset, payload.found_by),
            (compression, 0x900, "bzImage payload"),
            "{file}"
        );
    }
}

#[test]
fn an_efi_zboot_payload_is_taken_from_its_header() {
    for (file, name) in [
        ("fake-kernel.gz", "gzip"),
        ("fake-kernel.zst", "zstd22"),
        ("fake-kernel.xz", "xzkern"),
        ("fake-kernel.lz4", "lz4"),
        ("fake-kernel.lzma", "lzma"),
        ("fake-kernel.bz2", "bzip2"),
        ("fake-kernel.lzo", "lzo"),
    ] {
        let stream = read(&format!("fixtures/{file}"));
        let mut image = vec![0u8; 0x1000];
        image[0..2].copy_from_slice(b"MZ");
        image[4..8].copy_from_slice(b"zimg");
        image[8..12].copy_from_slice(&0x1000u32.to_le_bytes());
        image[12..16].copy_from_slice(&(stream.len() as u32).to_le_bytes());
        image[0x18..0x18 + name.len()].copy_from_slice(name.as_bytes());
        image.extend(&stream);
        let e = extract(&image);
        assert_both(&e.found, name);
        let payload = e.found[0].payload.as_ref().unwrap();
        assert_eq!(
            (payload.offset, payload.found_by),
            (0x1000, "EFI zboot payload")
        );
    }
}

#[test]
fn a_file_without_a_vdso_says_what_it_tried() {
    let e = extract(b"just some bytes \x1f\x8b\x08 that look like gzip once");
    assert!(e.found.is_empty());
    assert_eq!(e.tried.len(), 1, "{:?}", e.tried);
    assert!(
        e.tried[0].starts_with("gzip at 0x10 (magic bytes): "),
        "{:?}",
        e.tried
    );
    assert!(extract(b"").found.is_empty());
    assert!(extract(b"\x7fELF").found.is_empty());
}

#[test]
fn cut_and_corrupted_kernels_give_errors_not_panics() {
    for (file, _) in STREAMS {
        let stream = read(&format!("fixtures/{file}"));
        // Cut at every 97th byte: never a panic; a cut past the vDSOs may
        // still give them, a cut before them must not give a wrong one.
        for cut in (0..stream.len()).step_by(97) {
            for f in extract(&stream[..cut]).found {
                assert!(
                    is_image_of(&f.data, &vdso64()) || is_image_of(&f.data, &vdso32()),
                    "{file} cut at {cut}"
                );
            }
        }
        // One byte flipped at a time, in 64 places.
        for i in 0..64 {
            let mut bad = stream.clone();
            let at = (i * 7919) % bad.len();
            bad[at] ^= 0x55;
            for f in extract(&bad).found {
                // Whatever decodes must still be a whole image the parser reads.
                assert!(
                    vdsoconf_suite::elf::VdsoImage::parse(&f.data).is_ok(),
                    "{file}@{at}"
                );
            }
        }
    }
}

#[test]
fn a_decompression_bomb_is_cut_at_the_limit() {
    // 16 MiB of zeros in a few KiB of gzip, against a 1 MiB limit (the real
    // limit, MAX_DECOMPRESSED, is the same code with 512 MiB).
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; 16 << 20]).unwrap();
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let e = extract_bounded(&bomb, 1 << 20);
    assert!(e.found.is_empty());
    assert_eq!(e.tried.len(), 1, "{:?}", e.tried);
    assert!(
        e.tried[0]
            .contains("1048576 bytes decompressed (then: cut at the 1048576-byte limit), no vDSO"),
        "{:?}",
        e.tried
    );
    // The vDSO in front of a bomb's zeros is still found.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vdso64()).unwrap();
    enc.write_all(&vec![0u8; 16 << 20]).unwrap();
    let e = extract_bounded(&enc.finish().unwrap(), 1 << 20);
    assert_eq!(e.found.len(), 1, "{:?}", e.tried);
    assert!(is_image_of(&e.found[0].data, &vdso64()));
}

#[test]
fn a_file_of_repeated_magic_bytes_is_searched_a_bounded_number_of_times() {
    let many = b"\x1f\x8b\x08\x00".repeat(100_000);
    let e = extract(&many);
    assert!(e.found.is_empty());
    assert_eq!(e.tried.len(), 64, "at most 64 candidates are tried");
}
