//! Which built-in spec an image belongs to, from its ELF header alone: what
//! `extract` names images by, and what a check of an image against another
//! architecture's spec points to instead.

use super::{builtin_arches, builtin_ref, EndianSpec};
use crate::elf::{Endian, FileHeader};

const EM_MIPS: u16 = 8;
const EM_ARM: u16 = 40;
const EM_AARCH64: u16 = 183;
const EF_MIPS_ABI2: u32 = 0x20;

/// Every built-in spec whose ELF class, byte order and machine `header` has.
pub fn specs_fitting(header: &FileHeader) -> Vec<&'static str> {
    let endian = match header.endian {
        Endian::Little => EndianSpec::Little,
        Endian::Big => EndianSpec::Big,
    };
    builtin_arches()
        .filter(|arch| {
            builtin_ref(arch)
                .and_then(|r| r.as_ref().ok())
                .is_some_and(|s| {
                    s.elf.class == header.class.bits()
                        && s.elf.machine == header.machine
                        && s.elf.endian.contains(&endian)
                })
        })
        .collect()
}

/// The one built-in spec of an image with `header`, built beside images of
/// `siblings` (the machines of a kernel's other vDSOs, or of a build's):
/// EM_ARM beside an arm64 image is arm64's compat vDSO; MIPS tells its ABIs
/// apart by class and the n32 flag. `None`: no spec has its class and machine.
pub fn spec_of(header: &FileHeader, siblings: &[u16]) -> Option<&'static str> {
    let candidates = specs_fitting(header);
    let pick = |name: &str| candidates.iter().copied().find(|a| *a == name);
    match (header.machine, candidates.len()) {
        (_, 0) => None,
        (_, 1) => Some(candidates[0]),
        (EM_ARM, _) if siblings.contains(&EM_AARCH64) => pick("arm64-compat"),
        (EM_ARM, _) => pick("arm"),
        (EM_MIPS, _) if header.class.bits() == 64 => pick("mips-n64"),
        (EM_MIPS, _) if header.flags & EF_MIPS_ABI2 != 0 => pick("mips-n32"),
        (EM_MIPS, _) => pick("mips-o32"),
        _ => Some(candidates[0]),
    }
}

/// An image's class, byte order and machine in words: "ELFCLASS32
/// little-endian, e_machine 3".
pub fn describe(header: &FileHeader) -> String {
    format!(
        "ELFCLASS{} {}-endian, e_machine {}",
        header.class.bits(),
        header.endian.name(),
        header.machine
    )
}
