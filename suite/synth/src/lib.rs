//! Builds synthetic vDSO-like ELF images for tests and fuzzers.
//!
//! The images are written with `object::write::elf::Writer`, independently of
//! vdsoconf's parser, so the two check each other. Only the 8-byte SysV hash
//! entries of s390x/alpha are written by hand (object writes 4-byte entries).
#![deny(unsafe_code)]

use object::elf;
use object::write::elf::{FileHeader, ProgramHeader, Sym, Verdef, Writer};
use object::write::StringId;
use object::Endianness;

/// Which SysV hash table to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysvHash {
    None,
    /// 4-byte entries, as on every arch but s390x and alpha.
    Four,
    /// 8-byte entries, as on s390x.
    Eight,
}

/// One symbol of the synthetic image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolDesc {
    pub name: String,
    /// Index into [`ImageDesc::versions`]; `None` gives versym 1 (global base).
    pub version: Option<usize>,
    pub hidden: bool,
    pub binding: u8,
    pub sym_type: u8,
    pub defined: bool,
    pub value: u64,
    pub size: u64,
}

impl SymbolDesc {
    /// A defined global function in version node `version`.
    pub fn func(name: &str, version: usize, value: u64) -> Self {
        SymbolDesc {
            name: name.to_string(),
            version: Some(version),
            hidden: false,
            binding: elf::STB_GLOBAL.0,
            sym_type: elf::STT_FUNC.0,
            defined: true,
            value,
            size: 16,
        }
    }
}

/// A whole synthetic image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDesc {
    pub is_64: bool,
    pub big_endian: bool,
    pub machine: u16,
    pub soname: Option<String>,
    /// Version nodes after the base definition (vd_ndx 2, 3, …).
    pub versions: Vec<String>,
    pub symbols: Vec<SymbolDesc>,
    pub sysv: SysvHash,
    pub gnu: bool,
    /// 64-bit bloom words are used iff `is_64`; this picks how many.
    pub bloom_words: u32,
    pub gnu_buckets: u32,
    pub sysv_buckets: u32,
    /// Emit DT_VERSYM (and DT_VERDEF when `verdef` is true).
    pub versym: bool,
    pub verdef: bool,
    pub section_headers: bool,
    /// Link-time address of the image's first byte (0 for modern vDSOs).
    pub base_vaddr: u64,
    /// ELF header `e_type` and `EI_OSABI` (ET_DYN and SYSV for a vDSO).
    pub e_type: u16,
    pub os_abi: u8,
    /// The PT_LOAD's flags (R|X for a vDSO).
    pub load_flags: u32,
    /// More program headers of these types after PT_LOAD and PT_DYNAMIC, each over
    /// the text area (a PT_INTERP, a second PT_LOAD, …): for counterexamples.
    pub extra_segments: Vec<u32>,
    /// More dynamic entries before DT_SONAME (DT_NEEDED, DT_REL, DT_TEXTREL, …).
    pub extra_dynamic: Vec<(i64, u64)>,
    /// A GNU build-id note at the start of the text area, with its PT_NOTE.
    pub build_id: Option<Vec<u8>>,
    /// A `Linux` version note (`LINUX_VERSION_CODE`) before it, as kernels write.
    pub linux_version: Option<u32>,
    /// The base version definition's name (default: the soname, as linkers write it).
    pub base_version_name: Option<String>,
}

impl ImageDesc {
    /// A little-endian x86_64-like image with both hash tables and one version node.
    pub fn x86_64_like(symbols: &[&str]) -> Self {
        ImageDesc {
            is_64: true,
            big_endian: false,
            machine: elf::EM_X86_64.0,
            soname: Some("linux-vdso.so.1".into()),
            versions: vec!["LINUX_2.6".into()],
            symbols: symbols
                .iter()
                .enumerate()
                .map(|(i, n)| SymbolDesc::func(n, 0, 0x20 * i as u64))
                .collect(),
            sysv: SysvHash::Four,
            gnu: true,
            bloom_words: 2,
            gnu_buckets: 3,
            sysv_buckets: 3,
            versym: true,
            verdef: true,
            section_headers: true,
            base_vaddr: 0,
            e_type: elf::ET_DYN.0,
            os_abi: elf::ELFOSABI_SYSV.0,
            load_flags: (elf::PF_R | elf::PF_X).0,
            extra_segments: Vec::new(),
            extra_dynamic: Vec::new(),
            build_id: Some((1..=20).collect()),
            linux_version: None,
            base_version_name: None,
        }
    }
}

impl ImageDesc {
    /// The x86_64 vDSO of kernel 6.18: the `__vdso_` functions and their weak
    /// unprefixed aliases, at LINUX_2.6 (a clean image for the spec's checks).
    pub fn x86_64_kernel_6_18() -> Self {
        let names: Vec<String> = [
            "clock_gettime",
            "gettimeofday",
            "time",
            "getcpu",
            "clock_getres",
            "getrandom",
        ]
        .iter()
        .map(|n| format!("__vdso_{n}"))
        .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut d = ImageDesc::x86_64_like(&refs);
        let aliases: Vec<SymbolDesc> = d
            .symbols
            .iter()
            .map(|s| SymbolDesc {
                name: s.name.trim_start_matches("__vdso_").into(),
                binding: elf::STB_WEAK.0,
                ..s.clone()
            })
            .collect();
        d.symbols.extend(aliases);
        d
    }
}

/// An ELF note of `owner` and `n_type` with `desc` as its descriptor.
fn note(big_endian: bool, owner: &[u8], n_type: u32, desc: &[u8]) -> Vec<u8> {
    let word = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut note = Vec::new();
    note.extend_from_slice(&word(owner.len() as u32 + 1));
    note.extend_from_slice(&word(desc.len() as u32));
    note.extend_from_slice(&word(n_type));
    note.extend_from_slice(owner);
    note.push(0);
    while !note.len().is_multiple_of(4) {
        note.push(0);
    }
    note.extend_from_slice(desc);
    while !note.len().is_multiple_of(4) {
        note.push(0);
    }
    note
}

/// Where the writer put things, for tests that corrupt a table on purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub dynsym: u64,
    pub dynstr: u64,
    pub hash: Option<u64>,
    pub gnu_hash: Option<u64>,
    pub versym: Option<u64>,
    pub verdef: Option<u64>,
    pub dynamic: u64,
    pub text: u64,
}

/// The written image, with the symbol order the hash tables imposed.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub bytes: Vec<u8>,
    /// `order[i]` is the index in `ImageDesc::symbols` of dynamic symbol `i + 1`.
    pub order: Vec<usize>,
    pub layout: Layout,
}

pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        h ^= g >> 24;
        h &= !g;
    }
    h
}

pub fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

const TEXT_LEN: u64 = 0x100;

/// Writes `desc` as an ELF shared object with one RX PT_LOAD and a PT_DYNAMIC.
pub fn build(desc: &ImageDesc) -> BuiltImage {
    let endian = if desc.big_endian {
        Endianness::Big
    } else {
        Endianness::Little
    };
    let gnu_buckets = desc.gnu_buckets.max(1);
    let sysv_buckets = desc.sysv_buckets.max(1);
    // GNU hash needs the hashed symbols sorted by bucket; undefined ones stay unhashed first.
    let mut order: Vec<usize> = (0..desc.symbols.len()).collect();
    order.sort_by_key(|&i| {
        let s = &desc.symbols[i];
        (s.defined, gnu_hash(s.name.as_bytes()) % gnu_buckets)
    });
    let unhashed = desc.symbols.iter().filter(|s| !s.defined).count() as u32;
    let symoffset = 1 + unhashed;
    let nsyms = desc.symbols.len() as u32 + 1;

    let mut out = Vec::new();
    let mut w = Writer::new(endian, desc.is_64, &mut out);
    w.reserve_file_header();
    let word = |v: u32| {
        if desc.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let notes: Vec<u8> = desc
        .linux_version
        .map(|v| note(desc.big_endian, b"Linux", 0, &word(v)))
        .into_iter()
        .chain(
            desc.build_id
                .as_ref()
                .map(|id| note(desc.big_endian, b"GNU", 3, id)),
        )
        .flatten()
        .collect();
    let note = (!notes.is_empty()).then_some(notes);
    assert!(
        note.as_ref().is_none_or(|n| n.len() as u64 <= TEXT_LEN),
        "build-id too long"
    );
    let phnum = 2 + desc.extra_segments.len() as u32 + u32::from(note.is_some());
    w.reserve_program_headers(phnum);

    let soname_id = desc
        .soname
        .as_ref()
        .map(|s| w.add_dynamic_string(s.as_bytes()));
    let base_name = desc
        .base_version_name
        .as_deref()
        .or(desc.soname.as_deref())
        .unwrap_or("base");
    let base_name_id = w.add_dynamic_string(base_name.as_bytes());
    let version_ids: Vec<StringId> = desc
        .versions
        .iter()
        .map(|v| w.add_dynamic_string(v.as_bytes()))
        .collect();
    let name_ids: Vec<StringId> = desc
        .symbols
        .iter()
        .map(|s| w.add_dynamic_string(s.name.as_bytes()))
        .collect();

    // Section indexes (only used for section headers and st_shndx of defined symbols).
    let text_name = Some(w.add_section_name(b".text"));
    // object's two-phase writer needs the section headers; `section_headers: false`
    // erases them from the file header afterwards.
    let text_index = {
        w.reserve_null_section_index();
        let t = w.reserve_section_index();
        w.reserve_dynsym_section_index();
        w.reserve_dynstr_section_index();
        if desc.sysv == SysvHash::Four {
            w.reserve_hash_section_index();
        }
        if desc.gnu {
            w.reserve_gnu_hash_section_index();
        }
        if desc.versym {
            w.reserve_gnu_versym_section_index();
        }
        if desc.verdef {
            w.reserve_gnu_verdef_section_index();
        }
        w.reserve_dynamic_section_index();
        w.reserve_shstrtab_section_index();
        t.0 as u16
    };

    w.reserve_null_dynamic_symbol_index();
    for _ in &desc.symbols {
        w.reserve_dynamic_symbol_index();
    }
    let dynsym = w.reserve_dynsym();
    let dynstr = w.reserve_dynstr().expect("dynstr");
    let hash = match desc.sysv {
        SysvHash::None => None,
        SysvHash::Four => Some(w.reserve_hash(sysv_buckets, nsyms)),
        SysvHash::Eight => Some(w.reserve(u64::from(2 + sysv_buckets + nsyms) * 8, 8)),
    };
    let gnu_hash_off = desc
        .gnu
        .then(|| w.reserve_gnu_hash(desc.bloom_words.max(1), gnu_buckets, nsyms - symoffset));
    let versym = desc.versym.then(|| w.reserve_gnu_versym());
    let verdef_count = 1 + desc.versions.len() as u16;
    let verdef = desc
        .verdef
        .then(|| w.reserve_gnu_verdef(verdef_count, verdef_count as usize));
    let mut dyn_count = 6; // STRTAB STRSZ SYMTAB SYMENT NULL + slack for SONAME
    dyn_count += usize::from(hash.is_some()) + usize::from(gnu_hash_off.is_some());
    dyn_count += usize::from(versym.is_some()) + 2 * usize::from(verdef.is_some());
    dyn_count += desc.extra_dynamic.len();
    let dynamic = w.reserve_dynamic(dyn_count);
    let text = w.reserve(TEXT_LEN, 16);
    w.reserve_shstrtab().expect("shstrtab");
    w.reserve_section_headers();
    let file_len = w.reserved_len();
    let va = |off: u64| desc.base_vaddr + off;

    w.write_file_header(&FileHeader {
        os_abi: elf::OsAbi(desc.os_abi),
        abi_version: 0,
        e_type: elf::FileType(desc.e_type),
        e_machine: elf::Machine(desc.machine),
        e_entry: 0,
        e_flags: elf::FileFlags(0),
    })
    .expect("file header");
    w.write_align_program_headers();
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_LOAD,
        p_flags: elf::ProgramFlags(desc.load_flags),
        p_offset: 0,
        p_vaddr: va(0),
        p_paddr: va(0),
        p_filesz: file_len,
        p_memsz: file_len,
        p_align: 0x1000,
    });
    let dyn_size = if desc.is_64 { 16 } else { 8 };
    w.write_program_header(&ProgramHeader {
        p_type: elf::PT_DYNAMIC,
        p_flags: elf::PF_R,
        p_offset: dynamic,
        p_vaddr: va(dynamic),
        p_paddr: va(dynamic),
        p_filesz: dyn_count as u64 * dyn_size,
        p_memsz: dyn_count as u64 * dyn_size,
        p_align: dyn_size,
    });
    for &p_type in &desc.extra_segments {
        w.write_program_header(&ProgramHeader {
            p_type: elf::ProgramType(p_type),
            p_flags: elf::PF_R,
            p_offset: text,
            p_vaddr: va(text),
            p_paddr: va(text),
            p_filesz: TEXT_LEN,
            p_memsz: TEXT_LEN,
            p_align: 16,
        });
    }
    if let Some(n) = &note {
        w.write_program_header(&ProgramHeader {
            p_type: elf::PT_NOTE,
            p_flags: elf::PF_R,
            p_offset: text,
            p_vaddr: va(text),
            p_paddr: va(text),
            p_filesz: n.len() as u64,
            p_memsz: n.len() as u64,
            p_align: 4,
        });
    }

    w.write_null_dynamic_symbol();
    for &i in &order {
        let s = &desc.symbols[i];
        w.write_dynamic_symbol(&Sym {
            st_name: w.dynamic_string_offset(Some(name_ids[i])),
            section: None,
            st_info: elf::SymbolInfo::new(elf::SymbolBind(s.binding), elf::SymbolType(s.sym_type)),
            st_other: elf::SymbolOther(0),
            st_shndx: elf::SymbolSection(if s.defined { text_index } else { 0 }),
            st_value: s.value,
            st_size: s.size,
        });
    }
    w.write_dynstr();
    let sorted_name = |sym_index: u32| desc.symbols[order[sym_index as usize - 1]].name.as_bytes();
    match desc.sysv {
        SysvHash::None => {}
        SysvHash::Four => {
            w.write_hash(sysv_buckets, nsyms, |i| {
                (i != 0).then(|| elf_hash(sorted_name(i)))
            });
        }
        SysvHash::Eight => {
            let bytes = sysv_hash_eight(desc.big_endian, sysv_buckets, nsyms, |i| {
                elf_hash(sorted_name(i))
            });
            w.pad_until(hash.unwrap());
            w.write(&bytes);
        }
    }
    if desc.gnu {
        w.write_gnu_hash(
            symoffset,
            if desc.is_64 { 6 } else { 5 },
            desc.bloom_words.max(1),
            gnu_buckets,
            nsyms - symoffset,
            |i| gnu_hash(sorted_name(i + symoffset)),
        );
    }
    if desc.versym {
        w.write_null_gnu_versym();
        for &i in &order {
            let s = &desc.symbols[i];
            let index = s.version.map_or(1, |v| v as u16 + 2);
            let hidden = if s.hidden { 0x8000 } else { 0 };
            w.write_gnu_versym(elf::VersymIndex(index | hidden));
        }
    }
    if desc.verdef {
        w.write_align_gnu_verdef();
        w.write_gnu_verdef(&Verdef {
            version: elf::VER_DEF_CURRENT,
            flags: elf::VER_FLG_BASE,
            index: elf::VersionIndex(1),
            aux_count: 1,
            name: w.dynamic_string_offset(Some(base_name_id)),
            hash: elf_hash(base_name.as_bytes()),
        });
        for (k, id) in version_ids.iter().enumerate() {
            w.write_gnu_verdef(&Verdef {
                version: elf::VER_DEF_CURRENT,
                flags: elf::VersionFlags(0),
                index: elf::VersionIndex(k as u16 + 2),
                aux_count: 1,
                name: w.dynamic_string_offset(Some(*id)),
                hash: elf_hash(desc.versions[k].as_bytes()),
            });
        }
    }
    w.write_align_dynamic();
    w.write_dynamic(elf::DT_STRTAB, va(dynstr)).unwrap();
    w.write_dynamic(elf::DT_STRSZ, w.dynstr_len().into())
        .unwrap();
    w.write_dynamic(elf::DT_SYMTAB, va(dynsym)).unwrap();
    w.write_dynamic(elf::DT_SYMENT, if desc.is_64 { 24 } else { 16 })
        .unwrap();
    if let Some(h) = hash {
        w.write_dynamic(elf::DT_HASH, va(h)).unwrap();
    }
    if let Some(h) = gnu_hash_off {
        w.write_dynamic(elf::DT_GNU_HASH, va(h)).unwrap();
    }
    if let Some(v) = versym {
        w.write_dynamic(elf::DT_VERSYM, va(v)).unwrap();
    }
    if let Some(v) = verdef {
        w.write_dynamic(elf::DT_VERDEF, va(v)).unwrap();
        w.write_dynamic(elf::DT_VERDEFNUM, verdef_count.into())
            .unwrap();
    }
    for &(tag, val) in &desc.extra_dynamic {
        w.write_dynamic(elf::DynamicTag(tag), val).unwrap();
    }
    match soname_id {
        Some(id) => w.write_dynamic_string(elf::DT_SONAME, id).unwrap(),
        None => w.write_dynamic(elf::DT_NULL, 0).unwrap(),
    }
    w.write_dynamic(elf::DT_NULL, 0).unwrap();
    w.pad_until(text);
    let mut text_bytes = [0u8; TEXT_LEN as usize];
    if let Some(n) = &note {
        text_bytes[..n.len()].copy_from_slice(n);
    }
    w.write(&text_bytes);
    {
        w.write_shstrtab();
        w.write_null_section_header();
        w.write_section_header(&object::write::elf::SectionHeader {
            sh_name: w.section_name_offset(text_name),
            sh_type: elf::SHT_PROGBITS,
            sh_flags: elf::SHF_ALLOC | elf::SHF_EXECINSTR,
            sh_addr: va(text),
            sh_offset: text,
            sh_size: TEXT_LEN,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 16,
            sh_entsize: 0,
        });
        w.write_dynsym_section_header(va(dynsym), 1);
        w.write_dynstr_section_header(va(dynstr));
        if desc.sysv == SysvHash::Four {
            w.write_hash_section_header(va(hash.unwrap()));
        }
        if desc.gnu {
            w.write_gnu_hash_section_header(va(gnu_hash_off.unwrap()));
        }
        if desc.versym {
            w.write_gnu_versym_section_header(va(versym.unwrap()));
        }
        if desc.verdef {
            w.write_gnu_verdef_section_header(va(verdef.unwrap()));
        }
        w.write_dynamic_section_header(va(dynamic));
        w.write_shstrtab_section_header();
    }
    assert_eq!(w.reserved_len(), w.len(), "writer layout mismatch");
    if !desc.section_headers {
        let (shoff, shoff_len, shnum) = if desc.is_64 { (40, 8, 60) } else { (32, 4, 48) };
        out[shoff..shoff + shoff_len].fill(0);
        out[shnum..shnum + 4].fill(0); // e_shnum and e_shstrndx
    }
    BuiltImage {
        bytes: out,
        order,
        layout: Layout {
            dynsym,
            dynstr,
            hash,
            gnu_hash: gnu_hash_off,
            versym,
            verdef,
            dynamic,
            text,
        },
    }
}

/// A SysV hash table with 8-byte entries (s390x/alpha), which object cannot write.
fn sysv_hash_eight(
    big_endian: bool,
    nbucket: u32,
    nchain: u32,
    hash: impl Fn(u32) -> u32,
) -> Vec<u8> {
    let mut buckets = vec![0u64; nbucket as usize];
    let mut chains = vec![0u64; nchain as usize];
    for i in (1..nchain).rev() {
        let b = (hash(i) % nbucket) as usize;
        chains[i as usize] = buckets[b];
        buckets[b] = i.into();
    }
    let put = |v: u64| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    for v in [u64::from(nbucket), u64::from(nchain)]
        .into_iter()
        .chain(buckets)
        .chain(chains)
    {
        out.extend_from_slice(&put(v));
    }
    out
}
