//! Parser tests on synthetic images written by `vdsoconf-synth` (object's ELF writer).

use vdsoconf_suite::elf::{
    elf_hash, gnu_hash, Class, Endian, ErrorKind, HashKind, SymbolVersion, VdsoImage, STB_LOCAL,
    STB_WEAK, STT_NOTYPE,
};
use vdsoconf_synth::{build, BuiltImage, ImageDesc, SymbolDesc, SysvHash};

const NAMES: &[&str] = &[
    "__vdso_clock_gettime",
    "__vdso_gettimeofday",
    "__vdso_time",
    "__vdso_getcpu",
    "__vdso_clock_getres",
    "__vdso_getrandom",
    "clock_gettime",
];

fn lookup_all_tables(img: &VdsoImage<'_>, name: &str, version: Option<&str>) -> Option<u64> {
    let v = version.map(str::as_bytes);
    let sysv = img.lookup_in(HashKind::Sysv, name.as_bytes(), v).unwrap();
    let gnu = img.lookup_in(HashKind::Gnu, name.as_bytes(), v).unwrap();
    let sysv = sysv.map(|s| s.map(|s| s.value));
    let gnu = gnu.map(|s| s.map(|s| s.value));
    if let (Some(a), Some(b)) = (sysv, gnu) {
        assert_eq!(a, b, "SysV and GNU tables disagree on {name}");
    }
    let combined = img.lookup(name.as_bytes(), v).unwrap().map(|s| s.value);
    assert_eq!(combined, gnu.or(sysv).flatten());
    combined
}

/// Every symbol put in is found at its value through every table, and enumeration
/// returns exactly the input.
fn assert_roundtrip(desc: &ImageDesc) -> BuiltImage {
    let built = build(desc);
    let img = VdsoImage::parse(&built.bytes).expect("synthetic image parses");
    assert_eq!(
        img.class(),
        if desc.is_64 {
            Class::Elf64
        } else {
            Class::Elf32
        }
    );
    assert_eq!(
        img.endian(),
        if desc.big_endian {
            Endian::Big
        } else {
            Endian::Little
        }
    );
    assert_eq!(img.machine(), desc.machine);
    assert_eq!(
        img.soname().map(|s| s.to_vec()),
        desc.soname.as_ref().map(|s| s.clone().into_bytes())
    );
    assert_eq!(img.sysv_hash().is_some(), desc.sysv != SysvHash::None);
    assert_eq!(img.gnu_hash().is_some(), desc.gnu);
    assert_eq!(img.symbol_count(), desc.symbols.len() as u64 + 1);
    let listed: Vec<_> = img.symbols().map(|s| s.unwrap()).collect();
    assert_eq!(listed.len(), desc.symbols.len());
    for (k, sym) in listed.iter().enumerate() {
        let want = &desc.symbols[built.order[k]];
        assert_eq!(sym.name, want.name.as_bytes());
        assert_eq!((sym.value, sym.size), (want.value, want.size));
        assert_eq!(
            (sym.binding(), sym.sym_type()),
            (want.binding, want.sym_type)
        );
        if desc.versym && desc.verdef {
            match want.version {
                Some(v) => assert_eq!(
                    sym.version,
                    SymbolVersion::Defined {
                        index: v as u16 + 2,
                        name: desc.versions[v].as_bytes(),
                        hash: vdsoconf_synth::elf_hash(desc.versions[v].as_bytes()),
                        hidden: want.hidden
                    }
                ),
                None => assert_eq!(
                    sym.version,
                    SymbolVersion::Global {
                        hidden: want.hidden
                    }
                ),
            }
        }
    }
    if desc.versym && desc.verdef {
        for want in &desc.symbols {
            let exported = want.defined && want.binding != STB_LOCAL;
            let version = want.version.map(|v| desc.versions[v].as_str());
            if let Some(version) = version {
                let found = lookup_all_tables(&img, &want.name, Some(version));
                assert_eq!(
                    found,
                    exported.then_some(want.value),
                    "{}@{version}",
                    want.name
                );
            }
            // An unversioned lookup binds to some exported, non-hidden symbol of that name.
            let candidates: Vec<u64> = desc
                .symbols
                .iter()
                .filter(|s| s.name == want.name && s.defined && s.binding != STB_LOCAL && !s.hidden)
                .map(|s| s.value)
                .collect();
            match lookup_all_tables(&img, &want.name, None) {
                Some(v) => assert!(candidates.contains(&v), "{}", want.name),
                None => assert!(candidates.is_empty(), "{} not found", want.name),
            }
        }
    }
    built
}

#[test]
fn x86_64_both_tables() {
    let built = assert_roundtrip(&ImageDesc::x86_64_like(NAMES));
    let img = VdsoImage::parse(&built.bytes).unwrap();
    // Table sizes as the writer laid them out (3 buckets, 8 symbols, 2 bloom words).
    assert_eq!(img.sysv_hash().unwrap().byte_len(), (2 + 3 + 8) * 4);
    assert_eq!(
        img.gnu_hash().unwrap().byte_len(),
        16 + 2 * 8 + 3 * 4 + 7 * 4
    );
}

#[test]
fn gnu_only_like_new_arm64() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.machine = 183;
    d.sysv = SysvHash::None;
    d.versions = vec!["LINUX_2.6.39".into()];
    assert_roundtrip(&d);
}

#[test]
fn sysv_only_like_old_arm64() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.gnu = false;
    assert_roundtrip(&d);
}

#[test]
fn s390x_eight_byte_sysv_big_endian() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.machine = 22;
    d.big_endian = true;
    d.sysv = SysvHash::Eight;
    d.section_headers = false;
    let built = assert_roundtrip(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert_eq!(img.sysv_hash().unwrap().entry_size(), 8);
    // Read with 4-byte entries (what object does), the table is wrong.
    let wrong = VdsoImage::parse_with_hash_entry_size(&built.bytes, Some(4));
    let broken = match wrong {
        Err(_) => true,
        Ok(img) => NAMES.iter().any(|n| {
            !matches!(
                img.lookup_in(HashKind::Sysv, n.as_bytes(), Some(b"LINUX_2.6")),
                Ok(Some(Some(_)))
            )
        }),
    };
    assert!(broken, "an 8-byte table must not read correctly as 4-byte");
}

#[test]
fn s390x_eight_byte_sysv_only() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.machine = 22;
    d.big_endian = true;
    d.sysv = SysvHash::Eight;
    d.gnu = false;
    d.section_headers = false;
    assert_roundtrip(&d);
}

#[test]
fn big_endian_32_and_64() {
    for is_64 in [false, true] {
        let mut d = ImageDesc::x86_64_like(NAMES);
        d.machine = 20; // EM_PPC
        d.is_64 = is_64;
        d.big_endian = true;
        d.versions = vec!["LINUX_2.6.15".into()];
        assert_roundtrip(&d);
    }
}

#[test]
fn little_endian_32_with_one_bloom_word() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.machine = 3;
    d.is_64 = false;
    d.bloom_words = 1;
    d.gnu_buckets = 1;
    assert_roundtrip(&d);
}

/// Version indexes past the parser's cache of definitions (0..4) take the lookup's
/// checked path, which must answer exactly as the fast one does for cached ones.
#[test]
fn version_indexes_past_the_definition_cache() {
    let mut d = ImageDesc::x86_64_like(&[]);
    d.versions = (0..12).map(|i| format!("LINUX_{i}.0")).collect();
    d.symbols = (0..12)
        .map(|i| SymbolDesc::func(&format!("__vdso_f{i}"), i, 0x1000 + 0x40 * i as u64))
        .chain((0..12).map(|i| SymbolDesc {
            hidden: true,
            ..SymbolDesc::func(&format!("__vdso_h{i}"), i, 0x2000 + 0x40 * i as u64)
        }))
        .collect();
    assert_roundtrip(&d);
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    for i in [1usize, 6, 7, 11] {
        let v = format!("LINUX_{i}.0");
        let other = format!("LINUX_{}.0", (i + 1) % 12);
        let f = format!("__vdso_f{i}");
        let h = format!("__vdso_h{i}");
        for kind in [HashKind::Gnu, HashKind::Sysv] {
            let at = |n: &str, v: Option<&str>| {
                img.lookup_in(kind, n.as_bytes(), v.map(str::as_bytes))
                    .unwrap()
                    .unwrap()
                    .map(|s| s.value)
            };
            assert_eq!(at(&f, Some(&v)), Some(0x1000 + 0x40 * i as u64), "{f}@{v}");
            assert_eq!(at(&f, Some(&other)), None, "{f}@{other}");
            assert_eq!(at(&f, None), Some(0x1000 + 0x40 * i as u64), "{f}");
            assert_eq!(at(&h, Some(&v)), Some(0x2000 + 0x40 * i as u64), "{h}@{v}");
            assert_eq!(at(&h, None), None, "{h}: hidden");
        }
    }
}

#[test]
fn hidden_versions_only_match_when_named() {
    let mut d = ImageDesc::x86_64_like(&[]);
    d.versions = vec!["LINUX_2.5".into(), "LINUX_2.6".into()];
    d.symbols = vec![
        SymbolDesc {
            hidden: true,
            ..SymbolDesc::func("__vdso_time", 0, 0x1000)
        },
        SymbolDesc::func("__vdso_time", 1, 0x1040),
        SymbolDesc {
            hidden: true,
            ..SymbolDesc::func("__vdso_getcpu", 0, 0x1080)
        },
    ];
    assert_roundtrip(&d);
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let at = |n: &str, v: Option<&str>| {
        img.lookup(n.as_bytes(), v.map(str::as_bytes))
            .unwrap()
            .map(|s| s.value)
    };
    assert_eq!(at("__vdso_time", Some("LINUX_2.5")), Some(0x1000));
    assert_eq!(at("__vdso_time", Some("LINUX_2.6")), Some(0x1040));
    assert_eq!(
        at("__vdso_time", None),
        Some(0x1040),
        "default version wins"
    );
    assert_eq!(at("__vdso_getcpu", None), None, "hidden only");
    assert_eq!(at("__vdso_getcpu", Some("LINUX_2.6")), None, "wrong node");
}

#[test]
fn weak_local_undefined_and_notype() {
    let mut d = ImageDesc::x86_64_like(&["__vdso_clock_gettime"]);
    d.symbols.push(SymbolDesc {
        binding: STB_WEAK,
        ..SymbolDesc::func("clock_gettime", 0, 0x1000)
    });
    d.symbols.push(SymbolDesc {
        binding: STB_LOCAL,
        ..SymbolDesc::func("local_fn", 0, 0x1010)
    });
    d.symbols.push(SymbolDesc {
        defined: false,
        ..SymbolDesc::func("undef_fn", 0, 0)
    });
    d.symbols.push(SymbolDesc {
        sym_type: STT_NOTYPE,
        ..SymbolDesc::func("__kernel_rt_sigreturn", 0, 0x1020)
    });
    assert_roundtrip(&d);
}

#[test]
fn versions_need_verdef() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.verdef = false;
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert!(!img.has_versions());
    let err = img.lookup(b"__vdso_time", Some(b"LINUX_2.6")).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::MissingTag(t) if t.contains("DT_VERDEF")),
        "{err}"
    );
    // Unversioned lookups still work, and symbols report their unresolved index.
    assert!(img.lookup(b"__vdso_time", None).unwrap().is_some());
    let sym = img.symbols().next().unwrap().unwrap();
    assert_eq!(
        sym.version,
        SymbolVersion::Undefined {
            index: 2,
            hidden: false
        }
    );
}

#[test]
fn no_versym_is_unversioned() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.verdef = false;
    d.versym = false;
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert_eq!(
        img.symbols().next().unwrap().unwrap().version,
        SymbolVersion::Unversioned
    );
    assert!(img.lookup(b"__vdso_getcpu", None).unwrap().is_some());
}

#[test]
fn absolute_link_address_like_old_x86_64() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.base_vaddr = 0xffff_ffff_ff70_0000;
    let built = build(&d);
    for s in &mut d.symbols {
        s.value += d.base_vaddr + built.layout.text;
    }
    let built = assert_roundtrip(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let sym = img
        .lookup(b"__vdso_time", Some(b"LINUX_2.6"))
        .unwrap()
        .unwrap();
    assert_eq!(
        img.vaddr_to_offset(sym.value).unwrap(),
        sym.value - d.base_vaddr
    );
    assert_eq!(img.load_segment().vaddr, d.base_vaddr);
}

#[test]
fn verdef_hash_must_match() {
    let d = ImageDesc::x86_64_like(NAMES);
    let mut built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let def = img.version_defs().unwrap().by_index(2).unwrap().unwrap();
    assert!(def.hash_matches_name());
    assert_eq!(def.hash, elf_hash(b"LINUX_2.6"));
    let at = def.offset as usize + 8;
    built.bytes[at..at + 4].copy_from_slice(&0xdead_beefu32.to_le_bytes());
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert!(img
        .lookup(b"__vdso_time", Some(b"LINUX_2.6"))
        .unwrap()
        .is_none());
}

/// A definition flagged `VER_FLG_BASE` is the file's own version even at index 2:
/// glibc's loader and the kernel's `parse_vdso.c` never match it by name, but an
/// unversioned lookup (as `dlsym`) still binds to the symbol.
#[test]
fn a_base_flagged_definition_never_answers_a_versioned_lookup() {
    let mut built = build(&ImageDesc::x86_64_like(NAMES));
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let def = img.version_defs().unwrap().by_index(2).unwrap().unwrap();
    assert!(!def.is_base() && def.hash_matches_name());
    let at = def.offset as usize + 2;
    built.bytes[at..at + 2].copy_from_slice(&1u16.to_le_bytes());
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert!(img
        .version_defs()
        .unwrap()
        .by_index(2)
        .unwrap()
        .unwrap()
        .is_base());
    let base = |v: &SymbolVersion<'_>| {
        matches!(
            v,
            SymbolVersion::Base {
                index: 2,
                name: b"LINUX_2.6",
                hidden: false
            }
        )
    };
    for kind in [HashKind::Gnu, HashKind::Sysv] {
        let at = |v: Option<&[u8]>| img.lookup_in(kind, b"__vdso_time", v).unwrap().unwrap();
        assert_eq!(at(Some(b"LINUX_2.6")), None, "{kind:?}: named lookup");
        let found = at(None).expect("unversioned lookup");
        assert!(base(&found.version), "{kind:?}: {:?}", found.version);
    }
    // The symbol listing (the checked path) reads the same version.
    let listed = img
        .symbols()
        .map(Result::unwrap)
        .find(|s| s.name == b"__vdso_time")
        .unwrap();
    assert!(base(&listed.version), "{:?}", listed.version);
}

#[test]
fn hash_functions_match_published_values() {
    // Values from the ELF gABI and glibc's dl-hash tests.
    assert_eq!(elf_hash(b""), 0);
    assert_eq!(elf_hash(b"printf"), 0x077905a6);
    assert_eq!(elf_hash(b"LINUX_2.6"), 0x3ae75f6);
    assert_eq!(gnu_hash(b""), 5381);
    assert_eq!(gnu_hash(b"printf"), 0x156b2bb8);
}

/// Our hashes (the GNU one eight bytes per step) against `object`'s byte-at-a-time
/// ones: every length to 70, so every split into 8-byte steps and a tail, with bytes
/// that would carry between lanes if a lane were too narrow (0xff, 0x80).
#[test]
fn hash_functions_agree_with_object_at_every_length() {
    let mut next = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..70 {
        let ramp: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let random: Vec<u8> = (0..len)
            .map(|_| {
                next ^= next << 13;
                next ^= next >> 7;
                next ^= next << 17;
                next as u8
            })
            .collect();
        for name in [vec![0xff; len], vec![0x80; len], ramp, random] {
            assert_eq!(gnu_hash(&name), object::elf::gnu_hash(&name), "{name:x?}");
            assert_eq!(elf_hash(&name), object::elf::hash(&name), "{name:x?}");
        }
    }
}

#[test]
fn truncation_at_every_length_is_an_error_not_a_panic() {
    for d in [ImageDesc::x86_64_like(NAMES), {
        let mut d = ImageDesc::x86_64_like(NAMES);
        d.is_64 = false;
        d.big_endian = true;
        d
    }] {
        let built = build(&d);
        for len in 0..built.bytes.len() {
            let cut = &built.bytes[..len];
            if let Ok(img) = VdsoImage::parse(cut) {
                // Only the text and the (unread) section headers may be cut off.
                assert!(
                    len > built.layout.dynamic as usize,
                    "parsed an image cut at {len}"
                );
                for s in img.symbols() {
                    s.unwrap();
                }
            }
        }
    }
}

#[test]
fn truncated_tables_name_the_table() {
    let d = ImageDesc::x86_64_like(NAMES);
    let built = build(&d);
    let cut = &built.bytes[..built.layout.dynstr as usize + 4];
    let err = VdsoImage::parse(cut).unwrap_err();
    assert!(err.to_string().contains("PT_DYNAMIC"), "{err}");
    let err = VdsoImage::parse(&built.bytes[..40]).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Truncated { .. }), "{err}");
}

#[test]
fn corrupt_headers_are_typed_errors() {
    let built = build(&ImageDesc::x86_64_like(NAMES));
    let mut b = built.bytes.clone();
    b[0] = b'X';
    assert_eq!(VdsoImage::parse(&b).unwrap_err().kind, ErrorKind::BadMagic);
    let mut b = built.bytes.clone();
    b[4] = 7;
    assert_eq!(
        VdsoImage::parse(&b).unwrap_err().kind,
        ErrorKind::BadClass(7)
    );
    let mut b = built.bytes.clone();
    b[5] = 9;
    assert_eq!(
        VdsoImage::parse(&b).unwrap_err().kind,
        ErrorKind::BadEndian(9)
    );
}

#[test]
fn cyclic_sysv_chain_terminates() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.gnu = false;
    d.sysv_buckets = 1;
    let mut built = build(&d);
    let hash = built.layout.hash.unwrap() as usize;
    let nsyms = NAMES.len() + 1;
    // chain[k] = k for every symbol: every chain loops on itself.
    for k in 1..nsyms {
        let at = hash + 4 * (2 + 1 + k);
        built.bytes[at..at + 4].copy_from_slice(&(k as u32).to_le_bytes());
    }
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let r = img.lookup(b"no_such_symbol", None);
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn gnu_bucket_below_symoffset_is_rejected() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.sysv = SysvHash::None;
    let mut built = build(&d);
    let g = built.layout.gnu_hash.unwrap() as usize;
    // symoffset := 5, while bucket 0 still starts at 1.
    built.bytes[g + 4..g + 8].copy_from_slice(&5u32.to_le_bytes());
    let err = VdsoImage::parse(&built.bytes).unwrap_err();
    assert!(err.to_string().contains("symoffset"), "{err}");
}

#[test]
fn image_without_hash_tables_is_rejected() {
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.sysv = SysvHash::None;
    d.gnu = false;
    let built = build(&d);
    let err = VdsoImage::parse(&built.bytes).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::MissingTag(_)), "{err}");
}

#[test]
fn object_crate_reads_the_synthetic_images_the_same_way() {
    use object::read::elf::{ElfFile64, FileHeader as _};
    let built = build(&ImageDesc::x86_64_like(NAMES));
    let file = ElfFile64::<object::Endianness>::parse(&*built.bytes).unwrap();
    let endian = file.endian();
    let sections = file.elf_header().sections(endian, &*built.bytes).unwrap();
    let symbols = sections
        .symbols(endian, &*built.bytes, object::elf::SHT_DYNSYM)
        .unwrap();
    let versions = sections.versions(endian, &*built.bytes).unwrap().unwrap();
    let (gnu, _) = sections.gnu_hash(endian, &*built.bytes).unwrap().unwrap();
    let ours = VdsoImage::parse(&built.bytes).unwrap();
    for name in NAMES {
        let v = versions
            .version(object::elf::VersionIndex(2))
            .unwrap()
            .unwrap();
        assert_eq!(v.name(), b"LINUX_2.6");
        let theirs = gnu.find(
            endian,
            name.as_bytes(),
            gnu_hash(name.as_bytes()),
            Some(v),
            &symbols,
            &versions,
        );
        let mine = ours.lookup(name.as_bytes(), Some(b"LINUX_2.6")).unwrap();
        assert_eq!(
            theirs.map(|(i, _)| i.0 as u64),
            mine.map(|s| s.index),
            "{name}"
        );
    }
}

#[test]
fn a_bloom_shift_of_32_or_more_does_not_panic() {
    // object 0.40 panics here in debug builds (unchecked `hash >> bloom_shift`).
    let mut d = ImageDesc::x86_64_like(NAMES);
    d.sysv = SysvHash::None;
    let mut built = build(&d);
    let g = built.layout.gnu_hash.unwrap() as usize;
    for shift in [32u32, 40, u32::MAX] {
        built.bytes[g + 12..g + 16].copy_from_slice(&shift.to_le_bytes());
        let img = VdsoImage::parse(&built.bytes).unwrap();
        for name in NAMES {
            let _ = img.lookup(name.as_bytes(), Some(b"LINUX_2.6")).unwrap();
        }
    }
}
