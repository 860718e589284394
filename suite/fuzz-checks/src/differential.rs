//! `differential`: where the `object` crate reads the same tables we do (its section
//! headers name the dynamic section's tables), both parsers must agree on every symbol
//! and on every (name, version) lookup. `object` reads SysV entries as 4 bytes only:
//! 8-byte tables are a known limit, not a finding.

use object::elf::{FileHeader32, FileHeader64, SHT_DYNSYM};
use object::read::elf::{FileHeader, SectionHeader, Sym, Version};
use object::Endianness;
use vdsoconf_suite::elf::{elf_hash, HashKind, SymbolVersion, VdsoImage};

pub fn differential(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    match data[4] {
        1 => compare::<FileHeader32<Endianness>>(data),
        2 => compare::<FileHeader64<Endianness>>(data),
        _ => {}
    }
}

fn compare<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) {
    let Ok(ours) = VdsoImage::parse(data) else {
        return;
    };
    let Ok(header) = Elf::parse(data) else { return };
    let Ok(endian) = header.endian() else { return };
    let Ok(sections) = header.sections(endian, data) else {
        return;
    };
    let Ok(symbols) = sections.symbols(endian, data, SHT_DYNSYM) else {
        return;
    };
    if symbols.is_empty() {
        return;
    }
    // Same tables? The dynsym section must be where DT_SYMTAB is, with our count,
    // and its string table where DT_STRTAB is.
    let dynsym = sections.iter().find(|s| s.sh_type(endian) == SHT_DYNSYM);
    let same_symtab = dynsym.is_some_and(|s| s.sh_offset(endian).into() == ours.symtab_offset());
    let strtab = sections.section(symbols.string_section()).ok();
    let same_strtab = strtab.is_some_and(|s| {
        (s.sh_offset(endian).into(), s.sh_size(endian).into()) == ours.strtab_range()
    });
    if !same_symtab || !same_strtab || symbols.len() as u64 != ours.symbol_count() {
        return;
    }
    let Ok(Some(versions)) = sections.versions(endian, data) else {
        return;
    };
    // object sizes the versym table by its section header, we by the symbol count
    // (DT_VERSYM has no size): the views agree only if the section covers every symbol.
    let versym_section = sections
        .iter()
        .find(|s| s.sh_type(endian) == object::elf::SHT_GNU_VERSYM);
    let versym_view =
        versym_section.map(|s| (s.sh_offset(endian).into(), s.sh_size(endian).into()));
    if versym_view != ours.versym_offset().map(|o| (o, 2 * ours.symbol_count())) {
        return;
    }
    let verdef_section = sections
        .iter()
        .find(|s| s.sh_type(endian) == object::elf::SHT_GNU_VERDEF);
    if verdef_section.map(|s| s.sh_offset(endian).into()) != ours.version_defs().map(|d| d.offset())
    {
        return;
    }
    // object bounds the definitions by their section, we by DT_VERDEFNUM and the
    // image: compare only where both read the same definitions.
    let same_definitions = ours.version_defs().is_some_and(|defs| {
        defs.iter().all(|def| match def {
            Ok(def) if def.is_base() || def.index < 2 => true,
            Ok(def) => versions
                .version(object::elf::VersionIndex(def.index))
                .ok()
                .flatten()
                .is_some_and(|v| v.name() == def.name && v.hash() == def.hash),
            Err(_) => false,
        })
    });
    if !same_definitions {
        return;
    }
    let strings = symbols.strings();
    for mine in ours.symbols() {
        let Ok(mine) = mine else { return };
        let index = object::read::SymbolIndex(mine.index as usize);
        let Ok(theirs) = symbols.symbol(index) else {
            return;
        };
        assert_eq!(
            theirs.name(endian, strings).ok(),
            Some(mine.name),
            "symbol {} name",
            mine.index
        );
        assert_eq!(theirs.st_value(endian).into(), mine.value);
        assert_eq!(theirs.st_size(endian).into(), mine.size);
        assert_eq!(theirs.st_info(), object::elf::SymbolInfo(mine.info));
    }
    // Lookups, for names that occur once, defined at a well-formed version.
    let gnu = sections
        .gnu_hash(endian, data)
        .ok()
        .flatten()
        // object bounds the tables by their section size, we by the dynamic section:
        // compare only where the section covers the whole table.
        .filter(|(_, i)| {
            sections.section(*i).is_ok_and(|s| {
                ours.gnu_hash().is_some_and(|g| {
                    s.sh_offset(endian).into() == g.offset()
                        && s.sh_size(endian).into() >= g.byte_len()
                })
            })
        })
        // object 0.40 shifts the hash by bloom_shift unchecked: 32 or more panics in
        // builds with debug assertions (ours uses checked_shr). Keep it out.
        .filter(|_| ours.gnu_hash().is_some_and(|g| g.bloom_shift() < 32))
        .map(|(t, _)| t);
    let sysv = sections
        .hash(endian, data)
        .ok()
        .flatten()
        .filter(|_| ours.sysv_hash().is_some_and(|h| h.entry_size() == 4))
        .filter(|(_, i)| {
            sections.section(*i).is_ok_and(|s| {
                ours.sysv_hash().is_some_and(|h| {
                    s.sh_offset(endian).into() == h.offset()
                        && s.sh_size(endian).into() >= h.byte_len()
                })
            })
        })
        .map(|(t, _)| t);
    let all: Vec<_> = ours.symbols().flatten().collect();
    let mut nodes: Vec<&Version<'_>> = Vec::new();
    for i in 2..64u16 {
        match versions.version(object::elf::VersionIndex(i)) {
            Ok(Some(v)) if v.hash() == elf_hash(v.name()) => nodes.push(v),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    for sym in &all {
        let unique = all.iter().filter(|s| s.name == sym.name).count() == 1;
        let well_versioned = matches!(sym.version, SymbolVersion::Defined { .. })
            && nodes.iter().any(|v| Some(v.name()) == sym.version.name());
        if !unique || !well_versioned || !sym.is_exported() {
            continue;
        }
        for want in std::iter::once(None).chain(nodes.iter().map(|v| Some(*v))) {
            let want_name = want.map(|v| v.name());
            // object is asked only where our lookup succeeded.
            let agree = |kind: HashKind, label: &str, theirs: &dyn Fn() -> Option<u64>| {
                if let Ok(Some(mine)) = ours.lookup_in(kind, sym.name, want_name) {
                    assert_eq!(
                        theirs(),
                        mine.map(|s| s.index),
                        "{label} lookup of {:?}",
                        sym.name_lossy()
                    );
                }
            };
            let index =
                |found: Option<(object::read::SymbolIndex, _)>| found.map(|(i, _)| i.0 as u64);
            if let Some(t) = &gnu {
                agree(HashKind::Gnu, "gnu", &|| {
                    index(t.find(
                        endian,
                        sym.name,
                        object::elf::gnu_hash(sym.name),
                        want,
                        &symbols,
                        &versions,
                    ))
                });
            }
            if let Some(t) = &sysv {
                agree(HashKind::Sysv, "sysv", &|| {
                    index(t.find(
                        endian,
                        sym.name,
                        object::elf::hash(sym.name),
                        want,
                        &symbols,
                        &versions,
                    ))
                });
            }
        }
    }
}
