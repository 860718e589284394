//! A validated vDSO image: header, segments, dynamic section, symbols, hashes, versions.

use super::bytes::{mul_add, per_layout, read, same_bytes, Bytes, Class, Endian};
use super::dynamic::DynamicInfo;
use super::error::{ErrorKind, ParseError, Result};
use super::hash::{gnu_hash, GnuHashParts, GnuHashTable, SysvHashParts, SysvHashTable};
use super::header::{parse_file_header, FileHeader, Segment, Segments, PT_DYNAMIC};
use super::symbol::{SymEntry, Symbol};
use super::version::{SymbolVersion, VersionDefs, VersionDefsParts, VERSYM_HIDDEN};

pub const EM_S390: u16 = 22;
pub const EM_ALPHA: u16 = 0x9026;

/// What an accessor answers for a program header `parse` has already read (never
/// used: the image would not have parsed).
const NO_SEGMENT: Segment = Segment {
    p_type: 0,
    flags: 0,
    offset: 0,
    vaddr: 0,
    filesz: 0,
    memsz: 0,
    align: 0,
};

/// The size of one symbol table entry in a class.
fn symbol_entry_size(class: Class) -> u64 {
    match class {
        Class::Elf32 => 16,
        Class::Elf64 => 24,
    }
}

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
///
/// It keeps only what lookups read and what cannot be found again cheaply: the
/// program headers, PT_DYNAMIC and the tables' offsets are read or derived again
/// when asked for. A parse returns the image by value.
///
/// Moving the image out of the `Result` copies it (`suite/benches/README.md` says what
/// that costs). Where a parse is on a hot path, keep the `Result` and borrow the
/// image from it:
///
/// ```
/// # use vdsoconf_suite::elf::{ParseError, VdsoImage};
/// fn has_clock_gettime(bytes: &[u8]) -> Result<bool, ParseError> {
///     let parsed = VdsoImage::parse(bytes);
///     let image = parsed.as_ref()?; // `&VdsoImage`: nothing copied
///     Ok(image.lookup(b"__vdso_clock_gettime", Some(b"LINUX_2.6"))?.is_some())
/// }
/// # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/x86_64/qemu-10.0.so")).unwrap();
/// # assert!(has_clock_gettime(&bytes).unwrap());
/// # assert!(has_clock_gettime(b"\x7fELF").is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct VdsoImage<'a> {
    bytes: Bytes<'a>,
    header: FileHeader,
    /// Which program header is PT_DYNAMIC.
    dynamic_index: u16,
    /// The symbol table (`symbol_count` entries), the string table (DT_STRSZ bytes)
    /// and DT_VERSYM (`symbol_count` entries), bounds-checked once here so that
    /// lookups index them without further checks. Their file offsets are where
    /// they start in `bytes`.
    symbol_entries: &'a [u8],
    strings: &'a [u8],
    versym_entries: Option<&'a [u8]>,
    /// The hash tables and version definitions, without their own copies of `bytes`
    /// (each table type is the parts kept here plus the image's bytes): a smaller
    /// image is a cheaper parse, enough to decide the closest fixture of the parser
    /// benchmark (`suite/benches/README.md`).
    sysv: Option<SysvHashParts>,
    gnu: Option<GnuHashParts<'a>>,
    verdefs: Option<VersionDefsParts>,
    soname: Option<&'a [u8]>,
}

fn need(tag: Option<u64>, name: &'static str, dynamic: &Segment) -> Result<u64> {
    tag.ok_or_else(|| ParseError::new("PT_DYNAMIC", dynamic.offset, ErrorKind::MissingTag(name)))
}

impl<'a> VdsoImage<'a> {
    /// Parses an image, choosing the SysV hash entry size from `e_machine`.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        Self::parse_with_hash_entry_size(data, None)
    }

    /// Parses an image; `sysv_entry_size` overrides the machine's SysV hash entry size.
    pub fn parse_with_hash_entry_size(
        data: &'a [u8],
        sysv_entry_size: Option<u64>,
    ) -> Result<Self> {
        let (header, b) = parse_file_header(data)?;
        per_layout!(
            b,
            Self::parse_as::<BIG, WIDE>(header, data, sysv_entry_size)
        )
    }

    /// The parse after the file header, built for one byte order and class: with
    /// both known at compile time, each field read is a load without a match on the
    /// byte order, and each entry size a constant (splitting a table into entries
    /// would take a division).
    #[inline(never)]
    fn parse_as<const BIG: bool, const WIDE: bool>(
        header: FileHeader,
        data: &'a [u8],
        sysv_entry_size: Option<u64>,
    ) -> Result<Self> {
        let b = Bytes {
            data,
            endian: if BIG { Endian::Big } else { Endian::Little },
            class: if WIDE { Class::Elf64 } else { Class::Elf32 },
        };
        let segments = Segments::new(b, &header);
        if segments.first_load().is_none() {
            return Err(ParseError::new(
                "program headers",
                header.phoff,
                ErrorKind::Invalid("no PT_LOAD segment"),
            ));
        }
        let (dynamic_index, dynamic_segment) = segments.find(PT_DYNAMIC)?.ok_or_else(|| {
            ParseError::new(
                "program headers",
                header.phoff,
                ErrorKind::Invalid("no PT_DYNAMIC segment"),
            )
        })?;
        let dynamic = DynamicInfo::parse(b, &dynamic_segment)?;

        let strsz = need(dynamic.strsz, "DT_STRSZ", &dynamic_segment)?;
        let strtab = segments.vaddr_to_offset(
            "DT_STRTAB",
            need(dynamic.strtab, "DT_STRTAB", &dynamic_segment)?,
            strsz,
        )?;
        let syment_expected = symbol_entry_size(header.class);
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
        // Explicit matches rather than `map(..).transpose()?`: the tables are built
        // where they are kept instead of being moved through `Option<Result<_>>`.
        let sysv = match dynamic.hash {
            Some(v) => Some(SysvHashTable::parse(b, &segments, v, entry_size)?.parts()),
            None => None,
        };
        let gnu = match dynamic.gnu_hash {
            Some(v) => Some(GnuHashTable::parse(b, &segments, v)?.parts()),
            None => None,
        };
        let symbol_count = match (sysv, gnu) {
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
        let versym = match dynamic.versym {
            Some(v) => {
                let len = mul_add("DT_VERSYM", v, symbol_count, 2, 0)?;
                Some(segments.vaddr_to_offset("DT_VERSYM", v, len)?)
            }
            None => None,
        };
        let verdefs = match dynamic.verdef {
            Some(v) => {
                let count = need(dynamic.verdefnum, "DT_VERDEFNUM", &dynamic_segment)?;
                Some(VersionDefs::parse(b, &segments, v, count, strtab, strsz)?.parts())
            }
            None => None,
        };
        let symbol_entries = b.slice("DT_SYMTAB", symtab, symtab_len)?;
        let strings = b.slice("DT_STRTAB", strtab, strsz)?;
        let versym_entries = match versym {
            Some(off) => Some(b.slice("DT_VERSYM", off, symbol_count * 2)?),
            None => None,
        };
        let soname = match dynamic.soname {
            Some(off) if off >= strsz => {
                return Err(ParseError::new(
                    "DT_SONAME",
                    dynamic_segment.offset,
                    ErrorKind::IndexOutOfRange {
                        index: off,
                        limit: strsz,
                    },
                ))
            }
            Some(off) => Some(b.c_str("DT_SONAME", strtab + off, strtab + strsz)?),
            None => None,
        };
        Ok(VdsoImage {
            bytes: b,
            header,
            dynamic_index,
            symbol_entries,
            strings,
            versym_entries,
            sysv,
            gnu,
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
    /// The program headers (read again from the image: it does not keep them).
    pub fn segments(&self) -> Segments<'a> {
        Segments::new(self.bytes, &self.header)
    }
    /// The first PT_LOAD: its `p_vaddr - p_offset` is the image's link-time bias.
    pub fn load_segment(&self) -> Segment {
        // `parse` rejects an image without one, so the fallback is never taken.
        self.segments().first_load().unwrap_or(NO_SEGMENT)
    }
    /// PT_DYNAMIC's program header.
    pub fn dynamic_segment(&self) -> Segment {
        // Read once already by `parse`, which would have failed if it could not be.
        self.segments()
            .get(self.dynamic_index)
            .unwrap_or(NO_SEGMENT)
    }
    /// The dynamic tags a reader uses, read again from PT_DYNAMIC (the image keeps
    /// only what its tables need).
    pub fn dynamic(&self) -> Result<DynamicInfo> {
        DynamicInfo::parse(self.bytes, &self.dynamic_segment())
    }
    /// The descriptor of the first note with this owner and type in any PT_NOTE.
    fn note(&self, owner: &[u8], n_type: u32) -> Result<Option<&'a [u8]>> {
        for seg in self.segments().iter() {
            let seg = seg?;
            if seg.p_type != super::header::PT_NOTE {
                continue;
            }
            for note in super::note::notes(self.bytes, &seg)? {
                let note = note?;
                if note.name == owner && note.n_type == n_type {
                    return Ok(Some(note.desc));
                }
            }
        }
        Ok(None)
    }

    /// The GNU build-id (`NT_GNU_BUILD_ID` in any PT_NOTE), if the image has one.
    pub fn build_id(&self) -> Result<Option<&'a [u8]>> {
        self.note(b"GNU", super::note::NT_GNU_BUILD_ID)
    }

    /// `LINUX_VERSION_CODE` of the kernel the image was built with: the 4-byte
    /// note a kernel's vDSO carries (owner "Linux", type 0, from
    /// `ELFNOTE32("Linux", 0, LINUX_VERSION_CODE)`), if it has one; `None` also
    /// for a descriptor of another size.
    pub fn linux_version_code(&self) -> Result<Option<u32>> {
        Ok(self
            .note(b"Linux", super::note::NT_LINUX_VERSION)?
            .and_then(|d| <[u8; 4]>::try_from(d).ok())
            .map(|d| match self.endian() {
                Endian::Little => u32::from_le_bytes(d),
                Endian::Big => u32::from_be_bytes(d),
            }))
    }

    pub fn soname(&self) -> Option<&'a [u8]> {
        self.soname
    }
    pub fn sysv_hash(&self) -> Option<SysvHashTable<'a>> {
        self.sysv.map(|p| SysvHashTable::from_parts(self.bytes, p))
    }
    pub fn gnu_hash(&self) -> Option<GnuHashTable<'a>> {
        self.gnu.map(|p| GnuHashTable::from_parts(self.bytes, p))
    }
    pub fn version_defs(&self) -> Option<VersionDefs<'a>> {
        let (strtab, strsz) = self.strtab_range();
        self.verdefs
            .map(|p| VersionDefs::from_parts(self.bytes, strtab, strsz, p))
    }
    /// Versions can be checked only with both DT_VERSYM and DT_VERDEF.
    pub fn has_versions(&self) -> bool {
        self.versym_entries.is_some() && self.verdefs.is_some()
    }
    /// File offset of the dynamic symbol table.
    pub fn symtab_offset(&self) -> u64 {
        self.bytes.offset_of(self.symbol_entries)
    }
    /// File offset and size of the dynamic string table.
    pub fn strtab_range(&self) -> (u64, u64) {
        (
            self.bytes.offset_of(self.strings),
            self.strings.len() as u64,
        )
    }
    /// File offset of DT_VERSYM, if present.
    pub fn versym_offset(&self) -> Option<u64> {
        self.versym_entries.map(|v| self.bytes.offset_of(v))
    }
    /// The size of one symbol table entry (`parse` checked DT_SYMENT against it).
    pub fn syment(&self) -> u64 {
        symbol_entry_size(self.header.class)
    }

    /// Number of entries in the dynamic symbol table, including the null symbol.
    pub fn symbol_count(&self) -> u64 {
        self.symbol_entries.len() as u64 / self.syment()
    }

    /// File offset (equivalently, offset from the mapping's base) of a virtual address.
    pub fn vaddr_to_offset(&self, vaddr: u64) -> Result<u64> {
        self.segments().vaddr_to_offset("address", vaddr, 0)
    }

    /// Entry `index` of the symbol table checked at parse time; `None` past its end.
    #[inline(always)]
    fn entry_as<const BIG: bool, const WIDE: bool>(&self, index: u64) -> Option<SymEntry> {
        SymEntry::read::<BIG, WIDE>(self.symbol_entries, index)
    }

    /// The error for a symbol index past the table.
    #[cold]
    fn no_entry(&self, index: u64) -> ParseError {
        ParseError::new(
            "dynamic symbol",
            self.symtab_offset(),
            ErrorKind::IndexOutOfRange {
                index,
                limit: self.symbol_count(),
            },
        )
    }

    /// The name at `st_name` of symbol `index`, up to its NUL inside the string table.
    fn symbol_name(&self, name_off: u32, index: u64) -> Result<&'a [u8]> {
        let (strtab, strsz) = self.strtab_range();
        if u64::from(name_off) >= strsz {
            return Err(ParseError::new(
                "st_name",
                self.symtab_offset() + index * self.syment(),
                ErrorKind::IndexOutOfRange {
                    index: name_off.into(),
                    limit: strsz,
                },
            ));
        }
        self.bytes
            .c_str("symbol name", strtab + u64::from(name_off), strtab + strsz)
    }

    /// The symbol at `index` in the dynamic symbol table.
    #[inline]
    pub fn symbol(&self, index: u64) -> Result<Symbol<'a>> {
        per_layout!(self.bytes, self.symbol_as::<BIG, WIDE>(index, None))
    }

    /// [`Self::symbol`] for one byte order (`BIG`) and class (`WIDE`: ELF64);
    /// `known`: its name, when a lookup has just compared it in place.
    #[inline(always)]
    fn symbol_as<const BIG: bool, const WIDE: bool>(
        &self,
        index: u64,
        known: Option<&[u8]>,
    ) -> Result<Symbol<'a>> {
        let e = self
            .entry_as::<BIG, WIDE>(index)
            .ok_or_else(|| self.no_entry(index))?;
        let start = e.name as usize;
        let name = match known.and_then(|n| self.strings.get(start..start + n.len())) {
            Some(name) => name,
            None => self.symbol_name(e.name, index)?,
        };
        Ok(Symbol {
            index,
            name,
            value: e.value,
            size: e.size,
            info: e.info,
            other: e.other,
            shndx: e.shndx,
            version: self.version_as::<BIG, WIDE>(index)?.0,
        })
    }

    /// The raw `DT_VERSYM` entry of a symbol, if the image has one.
    #[inline]
    pub fn versym(&self, index: u64) -> Result<Option<u16>> {
        per_layout!(self.bytes, self.versym_as::<BIG, WIDE>(index))
    }

    #[inline(always)]
    fn versym_as<const BIG: bool, const WIDE: bool>(&self, index: u64) -> Result<Option<u16>> {
        let Some(entries) = self.versym_entries else {
            return Ok(None);
        };
        let raw = usize::try_from(index)
            .ok()
            .and_then(|i| read::<BIG, 2>(entries, i.checked_mul(2)?));
        match raw {
            Some(raw) => Ok(Some(raw as u16)),
            None => Err(self.no_versym(index)),
        }
    }

    #[cold]
    fn no_versym(&self, index: u64) -> ParseError {
        ParseError::new(
            "DT_VERSYM entry",
            self.versym_offset().unwrap_or(0),
            ErrorKind::IndexOutOfRange {
                index,
                limit: self.symbol_count(),
            },
        )
    }

    /// The version of symbol `index`, and whether it can answer a lookup by name
    /// (its definition's `vd_hash` is the hash of its name).
    #[inline(always)]
    fn version_as<const BIG: bool, const WIDE: bool>(
        &self,
        index: u64,
    ) -> Result<(SymbolVersion<'a>, bool)> {
        let Some(raw) = self.versym_as::<BIG, WIDE>(index)? else {
            return Ok((SymbolVersion::Unversioned, false));
        };
        let hidden = raw & VERSYM_HIDDEN != 0;
        let ndx = raw & !VERSYM_HIDDEN;
        Ok(match ndx {
            0 => (SymbolVersion::Local, false),
            1 => (SymbolVersion::Global { hidden }, false),
            _ => match &self.verdefs {
                None => (SymbolVersion::Undefined { index: ndx, hidden }, false),
                Some(d) => match d.cache().version(self.bytes.data, ndx, hidden) {
                    Some(cached) => cached,
                    None => self.uncached_version(ndx, hidden)?,
                },
            },
        })
    }

    /// A version index the cache does not hold: found by walking the definitions.
    #[cold]
    fn uncached_version(&self, ndx: u16, hidden: bool) -> Result<(SymbolVersion<'a>, bool)> {
        let Some(defs) = self.version_defs() else {
            return Ok((SymbolVersion::Undefined { index: ndx, hidden }, false));
        };
        let version = defs.symbol_version(ndx, hidden)?;
        let by_name = match version {
            SymbolVersion::Defined { name, hash, .. } => super::hash::elf_hash(name) == hash,
            _ => false,
        };
        Ok((version, by_name))
    }

    /// Every dynamic symbol after the null entry, in table order.
    pub fn symbols(&self) -> impl Iterator<Item = Result<Symbol<'a>>> + '_ {
        (1..self.symbol_count()).map(move |i| self.symbol(i))
    }

    /// Whether the symbol at `index` answers a lookup of `name` at `version`: its
    /// name (compared in place), binding and section, then its version.
    #[inline(always)]
    fn answers_as<const BIG: bool, const WIDE: bool>(
        &self,
        index: u64,
        name: &[u8],
        version: Option<&[u8]>,
    ) -> Result<bool> {
        let e = self
            .entry_as::<BIG, WIDE>(index)
            .ok_or_else(|| self.no_entry(index))?;
        let start = e.name as usize;
        let same_name = match self.strings.get(start..).and_then(|s| s.get(..=name.len())) {
            Some(here) => same_bytes(&here[..name.len()], name) && here[name.len()] == 0,
            // Too close to the table's end to hold `name`: read what is there
            // (or the error that it cannot be read).
            None => self.symbol_name(e.name, index)? == name,
        };
        if !same_name || !binds(e.info, e.shndx) {
            return Ok(false);
        }
        let (found, by_name) = self.version_as::<BIG, WIDE>(index)?;
        Ok(version_answers(version, &found, || by_name))
    }

    /// Looks `name@version` up through the GNU hash table if present, else the SysV one.
    #[inline]
    pub fn lookup(&self, name: &[u8], version: Option<&[u8]>) -> Result<Option<Symbol<'a>>> {
        let kind = if self.gnu.is_some() {
            HashKind::Gnu
        } else {
            HashKind::Sysv
        };
        per_layout!(self.bytes, {
            match self.find_as::<BIG, WIDE>(kind, name, version)? {
                Some(index) => self.symbol_as::<BIG, WIDE>(index, Some(name)).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Looks `name@version` up through one hash table; `Ok(None)` if the image lacks it.
    #[inline]
    pub fn lookup_in(
        &self,
        kind: HashKind,
        name: &[u8],
        version: Option<&[u8]>,
    ) -> Result<Option<Option<Symbol<'a>>>> {
        let present = match kind {
            HashKind::Sysv => self.sysv.is_some(),
            HashKind::Gnu => self.gnu.is_some(),
        };
        let found = per_layout!(self.bytes, self.find_as::<BIG, WIDE>(kind, name, version))?;
        match found {
            Some(index) => self.symbol(index).map(|s| Some(Some(s))),
            None if present => Ok(Some(None)),
            None => Ok(None),
        }
    }

    /// The index of the symbol that answers `name@version` through one hash table
    /// (`None` also if the image lacks the table). The index, not the symbol,
    /// travels back: the caller builds the symbol where it returns it.
    #[inline(always)]
    fn find_as<const BIG: bool, const WIDE: bool>(
        &self,
        kind: HashKind,
        name: &[u8],
        version: Option<&[u8]>,
    ) -> Result<Option<u64>> {
        if version.is_some() && !self.has_versions() {
            return Err(ParseError::new(
                "PT_DYNAMIC",
                self.dynamic_segment().offset,
                ErrorKind::MissingTag("DT_VERSYM/DT_VERDEF (symbol versions cannot be checked)"),
            ));
        }
        let visit = |index: u64| {
            Ok(self
                .answers_as::<BIG, WIDE>(index, name, version)?
                .then_some(index))
        };
        let found = match kind {
            HashKind::Sysv => self.sysv_hash().map(|t| t.walk(name, visit)),
            HashKind::Gnu => self
                .gnu_hash()
                .map(|t| t.walk_as::<BIG, WIDE, _>(gnu_hash(name), visit)),
        };
        Ok(found.transpose()?.flatten())
    }
}

/// Whether a symbol with this `st_info` and `st_shndx` can answer a lookup: defined,
/// global or weak.
fn binds(info: u8, shndx: u16) -> bool {
    shndx != super::symbol::SHN_UNDEF
        && matches!(
            info >> 4,
            super::symbol::STB_GLOBAL | super::symbol::STB_WEAK
        )
}

/// Whether a symbol's version answers a lookup at `want`. `None` is an unversioned
/// lookup (as `dlsym`): it binds only to a default, non-hidden version. `Some(v)`
/// needs the definition's name to be `v` and its `vd_hash` to be `elf_hash(v)`
/// (`hash_ok`); hidden (non-default) versions match when named. The base version
/// (index 1, or a definition flagged `VER_FLG_BASE`) never answers a named lookup.
#[inline(always)]
fn version_answers(
    want: Option<&[u8]>,
    found: &SymbolVersion<'_>,
    hash_ok: impl FnOnce() -> bool,
) -> bool {
    match (want, found) {
        (_, SymbolVersion::Local) => false,
        (None, v) => !v.hidden(),
        (Some(want), SymbolVersion::Defined { name, .. }) => same_bytes(name, want) && hash_ok(),
        (Some(_), _) => false,
    }
}
