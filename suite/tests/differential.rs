//! Differential test: every committed fixture read by our parser and by the `object`
//! crate gives the same symbols and the same (name, version) lookup answers.
//!
//! Known limit of `object`: it reads SysV hash entries as 4 bytes, so on s390x (8-byte
//! entries) only its GNU hash table is compared.

use object::elf::{FileHeader32, FileHeader64, SHT_DYNAMIC, SHT_DYNSYM, SHT_GNU_VERSYM};
use object::read::elf::{FileHeader, SectionHeader, Sym, Version};
use object::Endianness;
use std::path::{Path, PathBuf};
use vdsoconf_suite::elf::{elf_hash, HashKind, SymbolVersion, VdsoImage, EM_S390};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|arch| {
            std::fs::read_dir(arch.unwrap().path())
                .into_iter()
                .flatten()
        })
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "so"))
        .collect();
    out.sort();
    assert!(out.len() >= 15, "fixtures missing: {out:?}");
    out
}

/// Compares one image; returns how many lookups were compared.
fn compare<Elf: FileHeader<Endian = Endianness>>(path: &Path, data: &[u8]) -> usize {
    let ours = VdsoImage::parse(data).unwrap();
    let header = Elf::parse(data).unwrap();
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, data).unwrap();
    let symbols = sections.symbols(endian, data, SHT_DYNSYM).unwrap();
    let versions = sections
        .versions(endian, data)
        .unwrap()
        .expect("fixture has versions");
    let strings = symbols.strings();

    // Where the tables are: our offsets (derived from what the image keeps) against
    // the section headers.
    let section = |sh_type: object::elf::SectionType| {
        sections
            .iter()
            .find(|s| s.sh_type(endian) == sh_type)
            .map(|s| (s.sh_offset(endian).into(), s.sh_size(endian).into()))
    };
    let label = path.display();
    let (dynsym_at, dynsym_size) = section(SHT_DYNSYM).expect("fixture has .dynsym");
    assert_eq!(ours.symtab_offset(), dynsym_at, "{label}");
    assert_eq!(ours.symbol_count() * ours.syment(), dynsym_size, "{label}");
    let dynstr = symbols.string_section();
    let dynstr = sections.section(dynstr).unwrap();
    let dynstr = (
        dynstr.sh_offset(endian).into(),
        dynstr.sh_size(endian).into(),
    );
    assert_eq!(ours.strtab_range(), dynstr, "{label}");
    assert_eq!(
        ours.versym_offset(),
        section(SHT_GNU_VERSYM).map(|(at, _)| at),
        "{label}"
    );
    let dynamic = ours.dynamic_segment();
    assert_eq!(
        Some((dynamic.offset, dynamic.filesz)),
        section(SHT_DYNAMIC),
        "{label}"
    );

    // Enumeration: same table, entry by entry.
    assert_eq!(
        symbols.len() as u64,
        ours.symbol_count(),
        "{}",
        path.display()
    );
    for mine in ours.symbols() {
        let mine = mine.unwrap();
        let index = object::read::SymbolIndex(mine.index as usize);
        let theirs = symbols.symbol(index).unwrap();
        assert_eq!(
            theirs.name(endian, strings).unwrap(),
            mine.name,
            "{}",
            path.display()
        );
        assert_eq!(theirs.st_value(endian).into(), mine.value);
        assert_eq!(theirs.st_size(endian).into(), mine.size);
        assert_eq!(theirs.st_info(), object::elf::SymbolInfo(mine.info));
        let vi = versions.version_index(endian, index);
        assert_eq!(vi.is_hidden(), mine.version.hidden());
        let their_name = versions.version(vi.index()).unwrap().map(Version::name);
        assert_eq!(their_name, mine.version.name(), "{}", path.display());
    }

    // Lookups: every exported name at every version node, and unversioned.
    let mut nodes: Vec<&Version<'_>> = Vec::new();
    for i in 2..=u16::MAX {
        match versions.version(object::elf::VersionIndex(i)) {
            Ok(Some(v)) => nodes.push(v),
            _ => break,
        }
    }
    let sysv_ok = !(ours.machine() == EM_S390 && ours.class().bits() == 64);
    let gnu = sections.gnu_hash(endian, data).unwrap().map(|(t, _)| t);
    let sysv = if sysv_ok {
        sections.hash(endian, data).unwrap().map(|(t, _)| t)
    } else {
        None
    };
    let mut compared = 0;
    let exported: Vec<_> = ours
        .symbols()
        .map(Result::unwrap)
        .filter(|s| s.is_exported() && !matches!(s.version, SymbolVersion::Local))
        .collect();
    for sym in &exported {
        let requests: Vec<Option<&Version<'_>>> = std::iter::once(None)
            .chain(nodes.iter().map(|v| Some(*v)))
            .collect();
        for want in requests {
            let want_name = want.map(|v| v.name());
            if let Some(v) = want {
                assert_eq!(v.hash(), elf_hash(v.name()));
            }
            let mut agree =
                |kind: HashKind, label: &str, theirs: Option<(object::read::SymbolIndex, _)>| {
                    let mine = ours.lookup_in(kind, sym.name, want_name).unwrap().unwrap();
                    assert_eq!(
                        theirs.map(|(i, _)| i.0 as u64),
                        mine.map(|s| s.index),
                        "{label} {}@{:?} in {}",
                        sym.name_lossy(),
                        want_name.map(String::from_utf8_lossy),
                        path.display()
                    );
                    compared += 1;
                };
            if let Some(t) = &gnu {
                agree(
                    HashKind::Gnu,
                    "gnu",
                    t.find(
                        endian,
                        sym.name,
                        object::elf::gnu_hash(sym.name),
                        want,
                        &symbols,
                        &versions,
                    ),
                );
            }
            if let Some(t) = &sysv {
                agree(
                    HashKind::Sysv,
                    "sysv",
                    t.find(
                        endian,
                        sym.name,
                        object::elf::hash(sym.name),
                        want,
                        &symbols,
                        &versions,
                    ),
                );
            }
        }
    }
    compared
}

#[test]
fn our_parser_agrees_with_object_on_every_fixture() {
    let mut total = 0;
    for path in fixtures() {
        let data = std::fs::read(&path).unwrap();
        total += match data[4] {
            1 => compare::<FileHeader32<Endianness>>(&path, &data),
            _ => compare::<FileHeader64<Endianness>>(&path, &data),
        };
    }
    assert!(total > 500, "only {total} lookups compared");
}

#[test]
fn object_misreads_the_s390x_sysv_table_and_we_do_not() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/s390x/qemu-10.0.so");
    let data = std::fs::read(path).unwrap();
    let ours = VdsoImage::parse(&data).unwrap();
    assert_eq!(ours.sysv_hash().unwrap().entry_size(), 8);
    let header = FileHeader64::<Endianness>::parse(&*data).unwrap();
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, &*data).unwrap();
    let symbols = sections.symbols(endian, &*data, SHT_DYNSYM).unwrap();
    let versions = sections.versions(endian, &*data).unwrap().unwrap();
    let theirs_table = sections.hash(endian, &*data).ok().flatten().map(|(t, _)| t);
    let name = b"__kernel_clock_gettime";
    let theirs = theirs_table.and_then(|t| {
        t.find(
            endian,
            name,
            object::elf::hash(name),
            None,
            &symbols,
            &versions,
        )
    });
    let mine = ours.lookup_in(HashKind::Sysv, name, None).unwrap().unwrap();
    assert!(mine.is_some());
    assert!(
        theirs.is_none(),
        "object now reads 8-byte SysV entries: drop the s390x exception"
    );
}
