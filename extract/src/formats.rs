//! Where a kernel image file keeps its compressed kernel: the payload an x86
//! bzImage or an EFI zboot header points at, then every stream whose magic
//! bytes appear (armhf zImage, s390x, Image.gz and whatever else wraps one).

use crate::decompress::Compression;
use crate::Payload;

fn u32_le(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// x86's boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202;
/// the protected-mode kernel starts after (setup_sects + 1) sectors (0 means
/// 4), and `payload_offset` (0x248, protocol 2.08+) is relative to it.
fn bzimage(file: &[u8]) -> Option<usize> {
    if file.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let setup_sects = match *file.get(0x1f1)? {
        0 => 4,
        n => usize::from(n),
    };
    let payload = u32_le(file, 0x248)? as usize;
    (setup_sects + 1).checked_mul(512)?.checked_add(payload)
}

/// EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): "MZ", then "zimg"
/// at 4, the payload's offset at 8 and its size at 12, the compression's name
/// at 0x18.
fn zboot(file: &[u8]) -> Option<(usize, Compression)> {
    if file.get(0..2)? != b"MZ" || file.get(4..8)? != b"zimg" {
        return None;
    }
    let offset = u32_le(file, 8)? as usize;
    let name = file.get(0x18..0x20)?;
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    Some((offset, Compression::from_zboot_name(name)?))
}

/// The compressed payloads to try, in order, each offset once.
pub fn payloads(file: &[u8]) -> Vec<Payload> {
    let mut out: Vec<Payload> = Vec::new();
    let mut add = |p: Payload| {
        if p.offset < file.len() && !out.iter().any(|q| q.offset == p.offset) {
            out.push(p);
        }
    };
    if let Some(offset) = bzimage(file) {
        if let Some(compression) = file.get(offset..).and_then(Compression::sniff) {
            add(Payload {
                compression,
                offset,
                found_by: "bzImage payload",
            });
        }
    }
    if let Some((offset, compression)) = zboot(file) {
        add(Payload {
            compression,
            offset,
            found_by: "EFI zboot payload",
        });
    }
    for (offset, compression) in Compression::occurrences(file) {
        add(Payload {
            compression,
            offset,
            found_by: "magic bytes",
        });
    }
    out
}

/// What kind of kernel image a file starting with `head` is, if it looks like
/// one: for telling someone who gave it where a vDSO image was expected to
/// use `vdsoconf extract`. Headers only; nothing is decompressed.
pub fn kernel_image_kind(head: &[u8]) -> Option<&'static str> {
    const ARM_ZIMAGE_MAGIC: u32 = 0x016f_2818;
    const ET_EXEC: u8 = 2;
    if head.get(0x202..0x206) == Some(b"HdrS") {
        return Some("an x86 bzImage");
    }
    if zboot(head).is_some() {
        return Some("an EFI zboot kernel image");
    }
    match head.get(0x38..0x3c) {
        Some(b"ARM\x64") => return Some("an arm64 Image"),
        Some(b"RSC\x05") => return Some("a RISC-V Image"),
        _ => {}
    }
    if u32_le(head, 0x24) == Some(ARM_ZIMAGE_MAGIC) {
        return Some("an ARM zImage");
    }
    if head.starts_with(b"\x7fELF") {
        // e_type's low byte is at 16 (little-endian) or 17 (big-endian).
        let e_type = if head.get(5) == Some(&2) {
            head.get(17)
        } else {
            head.get(16)
        };
        return (e_type == Some(&ET_EXEC)).then_some("an ELF executable (a vmlinux?)");
    }
    if head.starts_with(b"MZ") {
        return Some("a PE/EFI image (a kernel?)");
    }
    Compression::sniff(head).map(|_| "a compressed file (a compressed kernel?)")
}
