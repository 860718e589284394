//! Symbol versions: `DT_VERSYM` (one u16 per symbol) and `DT_VERDEF` (version definitions).

use super::bytes::Bytes;
use super::error::{ErrorKind, ParseError, Result};
use super::hash::elf_hash;
use super::header::Segments;

pub const VER_FLG_BASE: u16 = 1;
pub const VERSYM_HIDDEN: u16 = 0x8000;
const VERDEF_SIZE: u64 = 20;
const VERDAUX_SIZE: u64 = 8;

/// One version definition (`Elf_Verdef` plus the name from its first `Elf_Verdaux`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionDef<'a> {
    pub offset: u64,
    pub version: u16,
    pub flags: u16,
    pub index: u16,
    pub aux_count: u16,
    pub hash: u32,
    pub name: &'a [u8],
}

impl VersionDef<'_> {
    pub fn is_base(&self) -> bool {
        self.flags & VER_FLG_BASE != 0
    }

    /// True if `vd_hash` is the ELF hash of the name, as the ABI requires.
    pub fn hash_matches_name(&self) -> bool {
        self.hash == elf_hash(self.name)
    }
}

/// The version definition table, walked through `vd_next` links.
#[derive(Debug, Clone, Copy)]
pub struct VersionDefs<'a> {
    table: Table<'a>,
    by_ndx: IndexCache,
}

/// What the image keeps of the table: where it is, `DT_VERDEFNUM` and the index
/// cache (the bytes and the string table are the image's own).
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionDefsParts {
    offset: u64,
    count: u64,
    by_ndx: IndexCache,
}

/// Where the (last) definition of each small `vd_ndx` is, the ones every vDSO uses:
/// a symbol's version is found without walking the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexCache([CachedDef; INDEX_CACHE]);

/// Every kernel's and QEMU's vDSO defines indexes 1 to 3 at most (i386: LINUX_2.5
/// and LINUX_2.6); higher ones are found by walking the table.
const INDEX_CACHE: usize = 4;

/// Where the definitions and their names are: what a walk of the table needs (kept
/// apart from the index cache so that a walk does not copy the cache).
#[derive(Debug, Clone, Copy)]
struct Table<'a> {
    bytes: Bytes<'a>,
    offset: u64,
    count: u64,
    strtab: u64,
    strsz: u64,
}

/// A definition's offset + 1 (0: none cached, walk), its name's offset and length,
/// its `vd_hash`, whether it is flagged `VER_FLG_BASE`, and whether it can answer a
/// versioned lookup (not the base, `vd_hash` the ELF hash of the name: computed once
/// here instead of at every versioned lookup).
#[derive(Debug, Clone, Copy, Default)]
struct CachedDef {
    at: u32,
    name_at: u32,
    hash: u32,
    name_len: u16,
    base: bool,
    answers_by_name: bool,
}

impl<'a> VersionDefs<'a> {
    #[inline(always)]
    pub fn parse(
        b: Bytes<'a>,
        segs: &Segments<'_>,
        vaddr: u64,
        count: u64,
        strtab: u64,
        strsz: u64,
    ) -> Result<Self> {
        let offset = segs.vaddr_to_offset("DT_VERDEF", vaddr, VERDEF_SIZE)?;
        let table = Table {
            bytes: b,
            offset,
            count,
            strtab,
            strsz,
        };
        // Validate every entry once so later walks cannot fail halfway, and note
        // where each small index is defined (the last definition wins, see `by_index`).
        let mut by_ndx = [CachedDef::default(); INDEX_CACHE];
        let base = b.data.as_ptr() as usize;
        let mut at = offset;
        for _ in 0..count {
            let (def, next) = table.read(at)?;
            let here = at;
            if next != 0 {
                at = table.next_at(here, next)?;
            }
            if let Some(slot) = by_ndx.get_mut(usize::from(def.index)) {
                let name_at = def.name.as_ptr() as usize - base;
                *slot = match (
                    u32::try_from(def.offset + 1),
                    u32::try_from(name_at),
                    u16::try_from(def.name.len()),
                ) {
                    (Ok(at), Ok(name_at), Ok(name_len)) => CachedDef {
                        at,
                        name_at,
                        hash: def.hash,
                        name_len,
                        base: def.is_base(),
                        // Index 1 and any base definition never answer a versioned
                        // lookup: no need to hash them.
                        answers_by_name: def.index >= 2
                            && !def.is_base()
                            && def.hash_matches_name(),
                    },
                    _ => CachedDef::default(),
                };
            }
            if next == 0 {
                break;
            }
        }
        Ok(VersionDefs {
            table,
            by_ndx: IndexCache(by_ndx),
        })
    }

    /// What the image keeps of the table.
    #[inline(always)]
    pub(crate) fn parts(&self) -> VersionDefsParts {
        VersionDefsParts {
            offset: self.table.offset,
            count: self.table.count,
            by_ndx: self.by_ndx,
        }
    }

    /// The table again from what the image kept and the image's string table.
    pub(crate) fn from_parts(
        b: Bytes<'a>,
        strtab: u64,
        strsz: u64,
        parts: VersionDefsParts,
    ) -> Self {
        VersionDefs {
            table: Table {
                bytes: b,
                offset: parts.offset,
                count: parts.count,
                strtab,
                strsz,
            },
            by_ndx: parts.by_ndx,
        }
    }

    pub fn offset(&self) -> u64 {
        self.table.offset
    }

    /// `DT_VERDEFNUM`.
    pub fn count(&self) -> u64 {
        self.table.count
    }

    /// Every definition in table order, at most `DT_VERDEFNUM` of them.
    pub fn iter(&self) -> impl Iterator<Item = Result<VersionDef<'a>>> + 'a {
        self.table.iter()
    }

    /// The version a `DT_VERSYM` index ≥ 2 names, and whether it can answer a lookup
    /// by name, for an index the cache holds (every index a real vDSO uses); `None`
    /// means: ask [`Self::symbol_version`], which walks the table.
    #[inline(always)]
    pub fn cached(&self, index: u16, hidden: bool) -> Option<(SymbolVersion<'a>, bool)> {
        self.by_ndx.version(self.table.bytes.data, index, hidden)
    }

    /// The version a `DT_VERSYM` index ≥ 2 names: its definition (the last one with
    /// that `vd_ndx`), or [`SymbolVersion::Undefined`] if the table has none.
    pub fn symbol_version(&self, index: u16, hidden: bool) -> Result<SymbolVersion<'a>> {
        if let Some((version, _)) = self.cached(index, hidden) {
            return Ok(version);
        }
        Ok(match self.by_index(index)? {
            Some(d) => SymbolVersion::named(index, d.name, d.hash, d.is_base(), hidden),
            None => SymbolVersion::Undefined { index, hidden },
        })
    }

    /// The definition with `vd_ndx == index`. Should a malformed table define an index
    /// twice, the last one wins, as in glibc's loader, which fills its version array in
    /// table order (`image::versions` reports the duplicate).
    pub fn by_index(&self, index: u16) -> Result<Option<VersionDef<'a>>> {
        if let Some(c) = self.by_ndx.get(index) {
            return self
                .table
                .read(u64::from(c.at) - 1)
                .map(|(def, _)| Some(def));
        }
        let mut found = None;
        for def in self.iter() {
            let def = def?;
            if def.index == index {
                found = Some(def);
            }
        }
        Ok(found)
    }
}

impl IndexCache {
    /// The cached definition of `index`, if any.
    #[inline(always)]
    fn get(&self, index: u16) -> Option<&CachedDef> {
        self.0.get(usize::from(index)).filter(|c| c.at != 0)
    }

    /// [`VersionDefs::cached`], with the names read from `data`, the image's bytes.
    #[inline(always)]
    pub(crate) fn version<'a>(
        &self,
        data: &'a [u8],
        index: u16,
        hidden: bool,
    ) -> Option<(SymbolVersion<'a>, bool)> {
        let c = self.get(index)?;
        let start = c.name_at as usize;
        let name = data.get(start..start + usize::from(c.name_len))?;
        Some((
            SymbolVersion::named(index, name, c.hash, c.base, hidden),
            c.answers_by_name,
        ))
    }
}

impl VersionDefsParts {
    /// The index cache, for lookups.
    #[inline(always)]
    pub(crate) fn cache(&self) -> &IndexCache {
        &self.by_ndx
    }
}

impl<'a> Table<'a> {
    #[inline(always)]
    fn read(&self, at: u64) -> Result<(VersionDef<'a>, u32)> {
        let b = &self.bytes;
        let e = b.slice("Elf_Verdef", at, VERDEF_SIZE)?;
        let version = b.field::<2>(e, 0) as u16;
        let flags = b.field::<2>(e, 2) as u16;
        let index = b.field::<2>(e, 4) as u16;
        let aux_count = b.field::<2>(e, 6) as u16;
        let hash = b.field::<4>(e, 8) as u32;
        let aux = b.field::<4>(e, 12) as u32;
        let next = b.field::<4>(e, 16) as u32;
        if version != 1 {
            return Err(ParseError::new(
                "vd_version",
                at,
                ErrorKind::Invalid("unknown version definition revision"),
            ));
        }
        if aux_count == 0 {
            return Err(ParseError::new(
                "vd_cnt",
                at + 6,
                ErrorKind::Invalid("version definition has no name (vd_cnt is 0)"),
            ));
        }
        let aux_at = at
            .checked_add(aux.into())
            .ok_or_else(|| ParseError::new("vd_aux", at + 12, ErrorKind::Overflow))?;
        let aux_entry = b.slice("Elf_Verdaux", aux_at, VERDAUX_SIZE)?;
        let name_off = b.field::<4>(aux_entry, 0) as u32;
        if u64::from(name_off) >= self.strsz {
            return Err(ParseError::new(
                "vda_name",
                aux_at,
                ErrorKind::IndexOutOfRange {
                    index: name_off.into(),
                    limit: self.strsz,
                },
            ));
        }
        let name = b.c_str(
            "version name",
            self.strtab + u64::from(name_off),
            self.strtab + self.strsz,
        )?;
        Ok((
            VersionDef {
                offset: at,
                version,
                flags,
                index,
                aux_count,
                hash,
                name,
            },
            next,
        ))
    }

    /// Where the definition after the one at `here` is (`vd_next` is relative).
    fn next_at(&self, here: u64, next: u32) -> Result<u64> {
        here.checked_add(next.into())
            .ok_or_else(|| ParseError::new("vd_next", here + 16, ErrorKind::Overflow))
    }

    /// Every definition in table order, at most `DT_VERDEFNUM` of them.
    pub fn iter(&self) -> impl Iterator<Item = Result<VersionDef<'a>>> + 'a {
        let defs = *self;
        let mut at = Some(self.offset);
        (0..self.count).map_while(move |_| {
            let here = at?;
            Some(defs.read(here).and_then(|(def, next)| {
                at = match next {
                    0 => None,
                    n => Some(Table::next_at(&defs, here, n)?),
                };
                Ok(def)
            }))
        })
    }
}

/// The version of one symbol, as its `DT_VERSYM` entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolVersion<'a> {
    /// The image has no `DT_VERSYM`: versions cannot be checked.
    Unversioned,
    /// Index 0: local, not available for binding.
    Local,
    /// Index 1: the global base definition (no version of its own).
    Global { hidden: bool },
    /// Index ≥ 2 naming a definition (`hash` is its `vd_hash`).
    Defined {
        index: u16,
        name: &'a [u8],
        hash: u32,
        hidden: bool,
    },
    /// Index ≥ 2 naming a definition flagged `VER_FLG_BASE`: the file's own version
    /// (its soname), like index 1. glibc's loader and the kernel's `parse_vdso.c` never
    /// match it to a versioned lookup, and neither do we.
    Base {
        index: u16,
        name: &'a [u8],
        hidden: bool,
    },
    /// Index ≥ 2 with no matching definition (or no `DT_VERDEF` at all).
    Undefined { index: u16, hidden: bool },
}

impl<'a> SymbolVersion<'a> {
    /// The version of a symbol whose index names a definition.
    #[inline(always)]
    fn named(index: u16, name: &'a [u8], hash: u32, base: bool, hidden: bool) -> Self {
        if base {
            SymbolVersion::Base {
                index,
                name,
                hidden,
            }
        } else {
            SymbolVersion::Defined {
                index,
                name,
                hash,
                hidden,
            }
        }
    }

    pub fn name(&self) -> Option<&'a [u8]> {
        match *self {
            SymbolVersion::Defined { name, .. } => Some(name),
            _ => None,
        }
    }

    pub fn hidden(&self) -> bool {
        match *self {
            SymbolVersion::Global { hidden }
            | SymbolVersion::Defined { hidden, .. }
            | SymbolVersion::Base { hidden, .. }
            | SymbolVersion::Undefined { hidden, .. } => hidden,
            SymbolVersion::Unversioned | SymbolVersion::Local => false,
        }
    }
}
