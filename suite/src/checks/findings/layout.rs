//! The ELF header, the program headers and the dynamic section of an image.

use super::{Against, Findings, Severity};
use crate::elf::{
    dynamic_entries, Endian, VdsoImage, ET_DYN, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD,
};
use crate::spec::EndianSpec;

const ELFOSABI_SYSV: u8 = 0;
const ELFOSABI_GNU: u8 = 3;
const DT_NEEDED: i64 = 1;
const DT_RELA: i64 = 7;
const DT_REL: i64 = 17;
const DT_TEXTREL: i64 = 22;
const DT_JMPREL: i64 = 23;
const DT_FLAGS: i64 = 30;
const DT_RELR: i64 = 36;
const DF_TEXTREL: u64 = 0x4;

/// The ELF header against the spec. Returns false for an image of another
/// class or machine: one finding names the spec that fits it, and nothing else
/// is worth checking against this one.
pub fn check_header(ctx: &Against<'_>, image: &VdsoImage<'_>, f: &mut Findings) -> bool {
    let spec = &ctx.spec.elf;
    let h = image.header();
    let bits = h.class.bits();
    if bits != spec.class || h.machine != spec.machine {
        let fits = match crate::spec::spec_of(h, &[]) {
            Some(other) => {
                let also: Vec<&str> = crate::spec::specs_fitting(h)
                    .into_iter()
                    .filter(|a| *a != other)
                    .collect();
                format!(
                    "it fits the {other} spec: check it with --arch {other}{}",
                    if also.is_empty() {
                        String::new()
                    } else {
                        format!(" (or {})", also.join(", "))
                    }
                )
            }
            None => "no built-in spec has its class and machine".to_string(),
        };
        let (id, at) = if bits != spec.class {
            ("elf-class", 4)
        } else {
            ("elf-machine", 18)
        };
        f.add(
            id,
            format!(
                "{}; the {} vDSO is ELFCLASS{}, e_machine {} ({}): {fits}",
                crate::spec::describe_header(h),
                ctx.spec.arch,
                spec.class,
                spec.machine,
                spec.machine_name
            ),
        )
        .at(at);
        return false;
    }
    let endian = match h.endian {
        Endian::Little => EndianSpec::Little,
        Endian::Big => EndianSpec::Big,
    };
    if !spec.endian.contains(&endian) {
        f.add(
            "elf-endian",
            format!(
                "{} endian; the spec allows {:?}",
                h.endian.name(),
                spec.endian
            ),
        )
        .at(5);
    }
    if h.os_abi != ELFOSABI_SYSV && h.os_abi != ELFOSABI_GNU {
        f.add(
            "elf-osabi",
            format!("EI_OSABI {}; expected 0 (SYSV) or 3 (GNU/Linux)", h.os_abi),
        )
        .at(7);
    }
    if h.e_type != ET_DYN {
        f.add(
            "elf-type",
            format!("e_type {}; a vDSO is ET_DYN (3)", h.e_type),
        )
        .at(16);
    }
    true
}

pub fn check_segments(ctx: &Against<'_>, image: &VdsoImage<'_>, f: &mut Findings) {
    let rwx_allowed = ctx.spec.providers.get(ctx.provider).writable_executable;
    let mut loads = Vec::new();
    let phdr_at = |i: usize| image.header().phoff + i as u64 * u64::from(image.header().phentsize);
    for (i, seg) in image.segments().iter().enumerate() {
        let Ok(seg) = seg else { continue };
        match seg.p_type {
            PT_INTERP => {
                f.add(
                    "pt-interp",
                    "a PT_INTERP: the vDSO is mapped by the kernel, not loaded by an interpreter",
                )
                .at(phdr_at(i));
            }
            PT_LOAD => loads.push(seg),
            _ => {}
        }
        if seg.flags & PF_W != 0 && seg.flags & PF_X != 0 {
            let finding = f
                .add(
                    "segment-wx",
                    format!(
                        "program header {i} (type {}) is writable and executable",
                        seg.p_type
                    ),
                )
                .at(phdr_at(i));
            if rwx_allowed {
                finding.severity(Severity::Note).message.push_str(&format!(
                    " (expected: the spec says {}'s image is RWX)",
                    ctx.provider.name()
                ));
            }
        }
    }
    if loads.len() != 1 {
        f.add(
            "pt-load-count",
            format!("{} PT_LOAD segments; a vDSO is one mapping", loads.len()),
        )
        .at(image.header().phoff);
    }
    let dynamic = image.dynamic_segment();
    let inside = loads.iter().any(|l| {
        dynamic.offset >= l.offset
            && dynamic.offset.saturating_add(dynamic.filesz) <= l.offset.saturating_add(l.filesz)
    });
    if dynamic.p_type == PT_DYNAMIC && !inside {
        f.add(
            "pt-dynamic-outside-load",
            format!(
                "PT_DYNAMIC (file 0x{:x}+0x{:x}) is not inside a PT_LOAD",
                dynamic.offset, dynamic.filesz
            ),
        )
        .at(dynamic.offset);
    }
}

/// Relocation tables and the tags that give their sizes.
const RELOCATION_TABLES: [(i64, &str, i64); 4] = [
    (DT_REL, "DT_REL", 18),      // DT_RELSZ
    (DT_RELA, "DT_RELA", 8),     // DT_RELASZ
    (DT_JMPREL, "DT_JMPREL", 2), // DT_PLTRELSZ
    (DT_RELR, "DT_RELR", 35),    // DT_RELRSZ
];

pub fn check_dynamic(image: &VdsoImage<'_>, f: &mut Findings) {
    let Ok(entries) = dynamic_entries(image.bytes(), &image.dynamic_segment()) else {
        return; // parsing the image already read it
    };
    let entries: Vec<_> = entries.collect();
    let value = |tag: i64| entries.iter().find(|e| e.tag == tag).map(|e| e.val);
    for entry in &entries {
        match entry.tag {
            DT_NEEDED => {
                f.add(
                    "dt-needed",
                    "DT_NEEDED: the vDSO must not depend on another object",
                )
                .at(entry.offset);
            }
            DT_TEXTREL => {
                f.add("textrel", "DT_TEXTREL").at(entry.offset);
            }
            DT_FLAGS if entry.val & DF_TEXTREL != 0 => {
                f.add("textrel", "DT_FLAGS has DF_TEXTREL").at(entry.offset);
            }
            tag => {
                // Some linkers leave an empty table (size 0) behind: nothing to apply.
                if let Some((_, name, size_tag)) = RELOCATION_TABLES.iter().find(|r| r.0 == tag) {
                    let size = value(*size_tag);
                    if size != Some(0) {
                        f.add(
                            "relocations",
                            format!(
                                "{name} ({} bytes): nothing relocates the vDSO when the kernel maps it",
                                size.map_or("unknown".to_string(), |s| s.to_string())
                            ),
                        )
                        .at(entry.offset);
                    }
                }
            }
        }
    }
}

pub fn check_build_id(image: &VdsoImage<'_>, f: &mut Findings) {
    match image.build_id() {
        Ok(Some(_)) => {}
        Ok(None) => {
            f.add(
                "no-build-id",
                "no GNU build-id note: debuggers and crash tools cannot match the image to its debug info",
            );
        }
        Err(e) => {
            f.add("no-build-id", format!("the notes cannot be read: {e}"))
                .at(e.offset);
        }
    }
}
