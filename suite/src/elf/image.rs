//! A validated vDSO image: header, segments, dynamic section, symbols, hashes, versions.

use super::bytes::{mul_add, Bytes, Class, Endian};
use super::dynamic::DynamicInfo;
use super::error::{ErrorKind, ParseError, Result};
use super::hash::{elf_hash, GnuHashTable, SysvHashTable};
use super::header::{parse_file_header, FileHeader, Segment, Segments, PT_DYNAMIC, PT_LOAD};
use super::symbol::Symbol;
use super::version::{SymbolVersion, VersionDefs, VERSYM_HIDDEN};

pub const EM_S390: u16 = 22;
pub const EM_ALPHA: u16 = 0x9026;

/// Which hash table a lookup goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Sysv,
    Gnu,
}

/// SysV hash entry size used by an ELF machine: 8 bytes on 64-bit s390 and alpha, else 4.
pub fn sysv_hash_entry_size(class: Class, machine: u16) -> u64 {
    match (class, machine) {
        (Class::Elf64, EM_S390) | (Class::Elf64, EM_ALPHA) => 8,
        _ => 4,
    }
}

/// A parsed, bounds-checked vDSO image over a byte slice. Lookups do not allocate.
#[derive(Debug, Clone, Copy)]
pub struct VdsoImage<'a> {
    bytes: Bytes<'a>,
    header: FileHeader,
    segments: Segments<'a>,
    load: Segment,
    dynamic_segment: Segment,
    dynamic: DynamicInfo,
    strtab: u64,
    strsz: u64,
    symtab: u64,
    syment: u64,
    symbol_count: u64,
    sysv: Option<SysvHashTable<'a>>,
    gnu: Option<GnuHashTable<'a>>,
    versym: Option<u64>,
    verdefs: Option<VersionDefs<'a>>,
    soname: Option<&'a [u8]>,
}

fn need(tag: Option<u64>, name: &'static str, dynamic: &Segment) -> Result<u64> {
    tag.ok_or(ParseError::new(
        "PT_DYNAMIC",
        dynamic.offset,
        ErrorKind::MissingTag(name),
    ))
}

impl<'a> VdsoImage<'a> {
    /// Parses an image, choosing the SysV hash entry size from `e_machine`.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        Self::parse_with_hash_entry_size(data, None)
    }

    /// Parses an image; `sysv_entry_size` overrides the machine's SysV hash entry size.
    pub fn parse_with_hash_entry_size(
        data: &'a [u8],
        sysv_entry_size: Option<u64>,
    ) -> Result<Self> {
        let (header, b) = parse_file_header(data)?;
        let segments = Segments::new(b, &header);
        let load = segments.find(PT_LOAD)?.ok_or(ParseError::new(
            "program headers",
            header.phoff,
            ErrorKind::Invalid("no PT_LOAD segment"),
        ))?;
        let dynamic_segment = segments.find(PT_DYNAMIC)?.ok_or(ParseError::new(
            "program headers",
            header.phoff,
            ErrorKind::Invalid("no PT_DYNAMIC segment"),
        ))?;
        let dynamic = DynamicInfo::parse(b, &dynamic_segment)?;

        let strsz = need(dynamic.strsz, "DT_STRSZ", &dynamic_segment)?;
        let strtab = segments.vaddr_to_offset(
            "DT_STRTAB",
            need(dynamic.strtab, "DT_STRTAB", &dynamic_segment)?,
            strsz,
        )?;
        let syment_expected = match header.class {
            Class::Elf32 => 16,
            Class::Elf64 => 24,
        };
        let syment = dynamic.syment.unwrap_or(syment_expected);
        if syment != syment_expected {
            return Err(ParseError::new(
                "DT_SYMENT",
                dynamic_segment.offset,
                ErrorKind::BadEntrySize {
                    expected: syment_expected,
                    found: syment,
                },
            ));
        }
        let entry_size =
            sysv_entry_size.unwrap_or_else(|| sysv_hash_entry_size(header.class, header.machine));
        let sysv = dynamic
            .hash
            .map(|v| SysvHashTable::parse(b, &segments, v, entry_size))
            .transpose()?;
        let gnu = dynamic
            .gnu_hash
            .map(|v| GnuHashTable::parse(b, &segments, v))
            .transpose()?;
        let symbol_count = match (&sysv, &gnu) {
            (Some(s), _) => s.nchain(),
            (None, Some(g)) => g.symbol_count(),
            (None, None) => {
                return Err(ParseError::new(
                    "PT_DYNAMIC",
                    dynamic_segment.offset,
                    ErrorKind::MissingTag("DT_HASH or DT_GNU_HASH"),
                ))
            }
        };
        let symtab_vaddr = need(dynamic.symtab, "DT_SYMTAB", &dynamic_segment)?;
        let symtab_len = mul_add("DT_SYMTAB", symtab_vaddr, symbol_count, syment, 0)?;
        let symtab = segments.vaddr_to_offset("DT_SYMTAB", symtab_vaddr, symtab_len)?;
        let versym = dynamic
            .versym
            .map(|v| {
                let len = mul_add("DT_VERSYM", v, symbol_count, 2, 0)?;
                segments.vaddr_to_offset("DT_VERSYM", v, len)
            })
            .transpose()?;
        let verdefs = dynamic
            .verdef
            .map(|v| {
                let count = need(dynamic.verdefnum, "DT_VERDEFNUM", &dynamic_segment)?;
                VersionDefs::parse(b, &segments, v, count, strtab, strsz)
            })
            .transpose()?;
        let soname = dynamic
            .soname
            .map(|off| {
                if off >= strsz {
                    return Err(ParseError::new(
                        "DT_SONAME",
                        dynamic_segment.offset,
                        ErrorKind::IndexOutOfRange {
                            index: off,
                            limit: strsz,
                        },
                    ));
                }
                b.c_str("DT_SONAME", strtab + off, strtab + strsz)
            })
            .transpose()?;
        Ok(VdsoImage {
            bytes: b,
            header,
            segments,
            load,
            dynamic_segment,
            dynamic,
            strtab,
            strsz,
            symtab,
            syment,
            symbol_count,
            sysv,
            gnu,
            versym,
            verdefs,
            soname,
        })
    }

    /// The image's bytes with its class and byte order, for the table readers.
    pub fn bytes(&self) -> Bytes<'a> {
        self.bytes
    }

    pub fn data(&self) -> &'a [u8] {
        self.bytes.data
    }
    pub fn header(&self) -> &FileHeader {
        &self.header
    }
    pub fn class(&self) -> Class {
        self.header.class
    }
    pub fn endian(&self) -> Endian {
        self.header.endian
    }
    pub fn machine(&self) -> u16 {
        self.header.machine
    }
    pub fn segments(&self) -> &Segments<'a> {
        &self.segments
    }
    /// The first PT_LOAD: its `p_vaddr - p_offset` is the image's link-time bias.
    pub fn load_segment(&self) -> &Segment {
        &self.load
    }
    pub fn dynamic_segment(&self) -> &Segment {
        &self.dynamic_segment
    }
    pub fn dynamic(&self) -> &DynamicInfo {
        &self.dynamic
    }
    /// The GNU build-id (`NT_GNU_BUILD_ID` in any PT_NOTE), if the image has one.
    pub fn build_id(&self) -> Result<Option<&'a [u8]>> {
        for seg in self.segments.iter() {
            let seg = seg?;
            if seg.p_type != super::header::PT_NOTE {
                continue;
            }
            for note in super::note::notes(self.bytes, &seg)? {
                let note = note?;
                if note.name == b"GNU" && note.n_type == super::note::NT_GNU_BUILD_ID {
                    return Ok(Some(note.desc));
                }
            }
        }
        Ok(None)
    }

    pub fn soname(&self) -> Option<&'a [u8]> {
        self.soname
    }
    pub fn sysv_hash(&self) -> Option<&SysvHashTable<'a>> {
        self.sysv.as_ref()
    }
    pub fn gnu_hash(&self) -> Option<&GnuHashTable<'a>> {
        self.gnu.as_ref()
    }
    pub fn version_defs(&self) -> Option<&VersionDefs<'a>> {
        self.verdefs.as_ref()
    }
    /// Versions can be checked only with both DT_VERSYM and DT_VERDEF.
    pub fn has_versions(&self) -> bool {
        self.versym.is_some() && self.verdefs.is_some()
    }
    /// File offset of the dynamic symbol table.
    pub fn symtab_offset(&self) -> u64 {
        self.symtab
    }
    /// File offset and size of the dynamic string table.
    pub fn strtab_range(&self) -> (u64, u64) {
        (self.strtab, self.strsz)
    }
    /// File offset of DT_VERSYM, if present.
    pub fn versym_offset(&self) -> Option<u64> {
        self.versym
    }
    /// Number of entries in the dynamic symbol table, including the null symbol.
    /// The size of one symbol table entry.
    pub fn syment(&self) -> u64 {
        self.syment
    }

    pub fn symbol_count(&self) -> u64 {
        self.symbol_count
    }

    /// File offset (equivalently, offset from the mapping's base) of a virtual address.
    pub fn vaddr_to_offset(&self, vaddr: u64) -> Result<u64> {
        self.segments.vaddr_to_offset("address", vaddr, 0)
    }

    /// The fields of symbol table entry `index` (st_name, st_value, st_size, st_info,
    /// st_other, st_shndx): one bounds check for the whole entry, then plain reads.
    #[inline]
    fn raw_entry(&self, index: u64) -> Result<(u32, u64, u64, u8, u8, u16)> {
        let b = &self.bytes;
        let e = b.slice(
            "dynamic symbol",
            self.symtab + index * self.syment,
            self.syment,
        )?;
        Ok(match b.class {
            Class::Elf32 => (
                b.field::<4>(e, 0) as u32,
                b.field::<4>(e, 4),
                b.field::<4>(e, 8),
                b.field::<1>(e, 12) as u8,
                b.field::<1>(e, 13) as u8,
                b.field::<2>(e, 14) as u16,
            ),
            Class::Elf64 => (
                b.field::<4>(e, 0) as u32,
                b.field::<8>(e, 8),
                b.field::<8>(e, 16),
                b.field::<1>(e, 4) as u8,
                b.field::<1>(e, 5) as u8,
                b.field::<2>(e, 6) as u16,
            ),
        })
    }

    /// The symbol at `index` in the dynamic symbol table.
    pub fn symbol(&self, index: u64) -> Result<Symbol<'a>> {
        if index >= self.symbol_count {
            return Err(ParseError::new(
                "dynamic symbol",
                self.symtab,
                ErrorKind::IndexOutOfRange {
                    index,
                    limit: self.symbol_count,
                },
            ));
        }
        let b = &self.bytes;
        let at = self.symtab + index * self.syment;
        let (name_off, value, size, info, other, shndx) = self.raw_entry(index)?;
        if u64::from(name_off) >= self.strsz {
            return Err(ParseError::new(
                "st_name",
                at,
                ErrorKind::IndexOutOfRange {
                    index: name_off.into(),
                    limit: self.strsz,
                },
            ));
        }
        let name = b.c_str(
            "symbol name",
            self.strtab + u64::from(name_off),
            self.strtab + self.strsz,
        )?;
        Ok(Symbol {
            index,
            name,
            value,
            size,
            info,
            other,
            shndx,
            version: self.version_of(index)?,
        })
    }

    /// The raw `DT_VERSYM` entry of a symbol, if the image has one.
    pub fn versym(&self, index: u64) -> Result<Option<u16>> {
        self.versym
            .map(|off| self.bytes.u16("DT_VERSYM entry", off + index * 2))
            .transpose()
    }

    fn version_of(&self, index: u64) -> Result<SymbolVersion<'a>> {
        let Some(raw) = self.versym(index)? else {
            return Ok(SymbolVersion::Unversioned);
        };
        let hidden = raw & VERSYM_HIDDEN != 0;
        let ndx = raw & !VERSYM_HIDDEN;
        Ok(match ndx {
            0 => SymbolVersion::Local,
            1 => SymbolVersion::Global { hidden },
            _ => match self
                .verdefs
                .as_ref()
                .map(|d| d.name_and_hash(ndx))
                .transpose()?
                .flatten()
            {
                Some((name, hash)) => SymbolVersion::Defined {
                    index: ndx,
                    name,
                    hash,
                    hidden,
                },
                None => SymbolVersion::Undefined { index: ndx, hidden },
            },
        })
    }

    /// Every dynamic symbol after the null entry, in table order.
    pub fn symbols(&self) -> impl Iterator<Item = Result<Symbol<'a>>> + '_ {
        (1..self.symbol_count).map(move |i| self.symbol(i))
    }

    /// Whether the symbol at `index` answers a lookup of `name` at `version`, reading
    /// only the fields that decide it.
    ///
    /// `version: None` is an unversioned lookup (as `dlsym`): it binds only to a default,
    /// non-hidden version. `Some(v)` needs the definition's name to be `v` and its
    /// `vd_hash` to be `elf_hash(v)`; hidden (non-default) versions match when named.
    fn answers(&self, index: u64, name: &[u8], version: Option<(&[u8], u32)>) -> Result<bool> {
        if index >= self.symbol_count {
            self.symbol(index)?; // reports the bad index
        }
        if !self.name_is(index, name) {
            return Ok(false);
        }
        let (_, _, _, info, _, shndx) = self.raw_entry(index)?;
        let binding = info >> 4;
        if shndx == super::symbol::SHN_UNDEF
            || !matches!(binding, super::symbol::STB_GLOBAL | super::symbol::STB_WEAK)
        {
            return Ok(false);
        }
        let version_matches = match (version, self.version_of(index)?) {
            (_, SymbolVersion::Local) => false,
            (None, v) => !v.hidden(),
            (Some((want, want_hash)), SymbolVersion::Defined { name, hash, .. }) => {
                name == want && hash == want_hash
            }
            (Some(_), _) => false,
        };
        Ok(version_matches)
    }

    /// Whether the symbol at `index` is named `name`: the hash chains' candidates are
    /// compared in place, before the symbol is read whole.
    fn name_is(&self, index: u64, name: &[u8]) -> bool {
        let b = &self.bytes;
        let at = self.symtab + index * self.syment;
        let Ok(off) = b.u32("st_name", at) else {
            return true; // let `symbol` report the error
        };
        let start = self.strtab + u64::from(off);
        let end = start.saturating_add(name.len() as u64);
        match (
            b.slice("symbol name", start, name.len() as u64),
            b.u8("symbol name", end),
        ) {
            (Ok(s), Ok(nul)) => nul == 0 && s == name && end < self.strtab + self.strsz,
            // Unreadable: `symbol` will say why.
            _ => true,
        }
    }

    /// Looks `name@version` up through the GNU hash table if present, else the SysV one.
    pub fn lookup(&self, name: &[u8], version: Option<&[u8]>) -> Result<Option<Symbol<'a>>> {
        let kind = if self.gnu.is_some() {
            HashKind::Gnu
        } else {
            HashKind::Sysv
        };
        self.lookup_in(kind, name, version)
            .map(|found| found.flatten())
    }

    /// Looks `name@version` up through one hash table; `Ok(None)` if the image lacks it.
    pub fn lookup_in(
        &self,
        kind: HashKind,
        name: &[u8],
        version: Option<&[u8]>,
    ) -> Result<Option<Option<Symbol<'a>>>> {
        if version.is_some() && !self.has_versions() {
            return Err(ParseError::new(
                "PT_DYNAMIC",
                self.dynamic_segment.offset,
                ErrorKind::MissingTag("DT_VERSYM/DT_VERDEF (symbol versions cannot be checked)"),
            ));
        }
        let version = version.map(|v| (v, elf_hash(v)));
        // The chains yield indexes; only the symbol that answers is read whole.
        let visit = |index: u64| -> Result<Option<u64>> {
            Ok(self.answers(index, name, version)?.then_some(index))
        };
        let found = match kind {
            HashKind::Sysv => self.sysv.as_ref().map(|t| t.walk(name, visit)),
            HashKind::Gnu => self.gnu.as_ref().map(|t| t.walk(name, visit)),
        };
        match found {
            None => Ok(None),
            Some(Ok(None)) => Ok(Some(None)),
            Some(Ok(Some(index))) => self.symbol(index).map(|s| Some(Some(s))),
            Some(Err(e)) => Err(e),
        }
    }
}
