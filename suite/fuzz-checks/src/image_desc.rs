//! `roundtrip`: an arbitrary vDSO description, written by the test ELF writer, must read
//! back exactly, through every hash table present, with both tables agreeing.

use arbitrary::{Arbitrary, Unstructured};
use vdsoconf_suite::elf::{Class, Endian, ErrorKind, HashKind, SymbolVersion, VdsoImage};
use vdsoconf_synth::{build, ImageDesc, SymbolDesc, SysvHash};

/// A short symbol or version name: `[A-Za-z0-9_.]{1,24}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(pub String);

impl<'a> Arbitrary<'a> for Name {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
        let len = u.int_in_range(1..=24)?;
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            s.push(ALPHABET[u.choose_index(ALPHABET.len())?] as char);
        }
        Ok(Name(s))
    }
}

#[derive(Debug, Clone, Arbitrary)]
pub struct FuzzSymbol {
    pub name: Name,
    /// Index into the version list (modulo its length), or the base version.
    pub version: Option<u8>,
    pub hidden: bool,
    /// 0 global, 1 weak, 2 local.
    pub binding: u8,
    /// 0 notype, 1 object, 2 func, 3 ifunc.
    pub sym_type: u8,
    pub defined: bool,
    pub value: u16,
    pub size: u16,
}

/// A whole synthetic vDSO.
#[derive(Debug, Clone, Arbitrary)]
pub struct FuzzImage {
    pub is_64: bool,
    pub big_endian: bool,
    pub machine: u16,
    pub soname: Option<Name>,
    pub versions: Vec<Name>,
    pub symbols: Vec<FuzzSymbol>,
    /// 0 none, 1 four-byte entries, 2 eight-byte entries.
    pub sysv: u8,
    pub gnu: bool,
    pub bloom_log2: u8,
    pub gnu_buckets: u8,
    pub sysv_buckets: u8,
    pub versioned: bool,
    pub section_headers: bool,
    pub absolute: bool,
}

impl FuzzImage {
    /// The description the writer takes, with names made unique and sizes bounded.
    pub fn to_desc(&self) -> ImageDesc {
        let soname = self.soname.as_ref().map(|n| n.0.clone());
        let mut versions: Vec<String> = Vec::new();
        for v in self.versions.iter().take(8) {
            if !versions.contains(&v.0) && Some(&v.0) != soname.as_ref() && v.0 != "base" {
                versions.push(v.0.clone());
            }
        }
        let mut symbols: Vec<SymbolDesc> = Vec::new();
        for s in self.symbols.iter().take(64) {
            if symbols.iter().any(|d| d.name == s.name.0) {
                continue;
            }
            let version = match (s.version, versions.len()) {
                (Some(v), n) if n > 0 => Some(usize::from(v) % n),
                _ => None,
            };
            symbols.push(SymbolDesc {
                name: s.name.0.clone(),
                version,
                hidden: s.hidden,
                binding: [1, 2, 0][usize::from(s.binding % 3)],
                sym_type: [0, 1, 2, 10][usize::from(s.sym_type % 4)],
                defined: s.defined,
                value: u64::from(s.value),
                size: u64::from(s.size),
            });
        }
        ImageDesc {
            is_64: self.is_64,
            big_endian: self.big_endian,
            machine: self.machine,
            soname,
            versions,
            symbols,
            sysv: [SysvHash::None, SysvHash::Four, SysvHash::Eight][usize::from(self.sysv % 3)],
            gnu: self.gnu,
            bloom_words: 1 << (self.bloom_log2 % 4),
            gnu_buckets: u32::from(self.gnu_buckets % 17) + 1,
            sysv_buckets: u32::from(self.sysv_buckets % 17) + 1,
            versym: self.versioned,
            verdef: self.versioned,
            section_headers: self.section_headers,
            // Old x86-64 kernels linked the vDSO at 0xffffffffff700000; a 32-bit image
            // gets a high address that still leaves room for itself.
            base_vaddr: match (self.absolute, self.is_64) {
                (false, _) => 0,
                (true, true) => 0xffff_ffff_ff70_0000,
                (true, false) => 0xc000_0000,
            },
            ..ImageDesc::x86_64_like(&[])
        }
    }
}

fn exported(s: &SymbolDesc) -> bool {
    s.defined && s.binding != 0
}

/// Builds `image` and checks the parser returns exactly what was put in.
pub fn roundtrip(image: &FuzzImage) {
    let desc = image.to_desc();
    let built = build(&desc);
    let entry = if desc.sysv == SysvHash::Eight { 8 } else { 4 };
    let parsed = VdsoImage::parse_with_hash_entry_size(&built.bytes, Some(entry));
    if desc.sysv == SysvHash::None && !desc.gnu {
        let err = parsed.expect_err("an image without hash tables cannot be read");
        assert!(matches!(err.kind, ErrorKind::MissingTag(_)), "{err}");
        return;
    }
    let img =
        parsed.unwrap_or_else(|e| panic!("a well-formed image failed to parse: {e}\n{desc:?}"));
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
        img.soname().map(<[u8]>::to_vec),
        desc.soname.as_ref().map(|s| s.as_bytes().to_vec())
    );
    assert_eq!(
        img.symbol_count(),
        desc.symbols.len() as u64 + 1,
        "{desc:?}"
    );
    // Enumeration returns every symbol, in the writer's order, with its version.
    for (k, sym) in img.symbols().enumerate() {
        let sym = sym.unwrap_or_else(|e| panic!("symbol {k}: {e}"));
        let want = &desc.symbols[built.order[k]];
        assert_eq!(sym.name, want.name.as_bytes());
        assert_eq!((sym.value, sym.size), (want.value, want.size));
        assert_eq!(
            (sym.binding(), sym.sym_type(), sym.is_defined()),
            (want.binding, want.sym_type, want.defined)
        );
        let expected_version = match (desc.versym, want.version) {
            (false, _) => SymbolVersion::Unversioned,
            (true, None) => SymbolVersion::Global {
                hidden: want.hidden,
            },
            (true, Some(v)) => SymbolVersion::Defined {
                index: v as u16 + 2,
                name: desc.versions[v].as_bytes(),
                hash: vdsoconf_synth::elf_hash(desc.versions[v].as_bytes()),
                hidden: want.hidden,
            },
        };
        assert_eq!(sym.version, expected_version);
    }
    let tables: Vec<HashKind> = [
        (desc.sysv != SysvHash::None, HashKind::Sysv),
        (desc.gnu, HashKind::Gnu),
    ]
    .into_iter()
    .filter_map(|(present, k)| present.then_some(k))
    .collect();
    for want in &desc.symbols {
        let name = want.name.as_bytes();
        let mut answers = Vec::new();
        for &kind in &tables {
            let unversioned = img
                .lookup_in(kind, name, None)
                .expect("lookup")
                .expect("table present");
            let expect_found = exported(want) && !(desc.versym && want.hidden);
            assert_eq!(
                unversioned.map(|s| s.value),
                expect_found.then_some(want.value),
                "{kind:?} {}",
                want.name
            );
            if desc.versym {
                for (i, v) in desc.versions.iter().enumerate() {
                    let found = img
                        .lookup_in(kind, name, Some(v.as_bytes()))
                        .expect("lookup")
                        .expect("table");
                    let expect = exported(want) && want.version == Some(i);
                    assert_eq!(
                        found.map(|s| s.value),
                        expect.then_some(want.value),
                        "{kind:?} {}@{v}",
                        want.name
                    );
                }
            } else if let Some(v) = desc.versions.first() {
                assert!(
                    img.lookup_in(kind, name, Some(v.as_bytes())).is_err(),
                    "versions without DT_VERSYM"
                );
            }
            answers.push(unversioned.map(|s| s.index));
        }
        answers.dedup();
        assert!(
            answers.len() <= 1,
            "SysV and GNU tables disagree on {}",
            want.name
        );
    }
    for &kind in &tables {
        let absent = img
            .lookup_in(kind, b"__not_in_any_image__", None)
            .expect("lookup")
            .expect("table");
        assert!(absent.is_none());
    }
}
