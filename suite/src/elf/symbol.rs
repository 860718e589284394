//! Dynamic symbols (`Elf32_Sym` / `Elf64_Sym`).

use super::version::SymbolVersion;

pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STB_WEAK: u8 = 2;
pub const STT_NOTYPE: u8 = 0;
pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;
pub const SHN_UNDEF: u16 = 0;
pub const SHN_ABS: u16 = 0xfff1;

/// One dynamic symbol with its resolved version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub index: u64,
    pub name: &'a [u8],
    pub value: u64,
    pub size: u64,
    pub info: u8,
    pub other: u8,
    pub shndx: u16,
    pub version: SymbolVersion<'a>,
}

impl Symbol<'_> {
    pub fn binding(&self) -> u8 {
        self.info >> 4
    }

    pub fn sym_type(&self) -> u8 {
        self.info & 0xf
    }

    pub fn is_defined(&self) -> bool {
        self.shndx != SHN_UNDEF
    }

    /// Visible to a dynamic lookup: defined, with GLOBAL or WEAK binding.
    pub fn is_exported(&self) -> bool {
        self.is_defined() && matches!(self.binding(), STB_GLOBAL | STB_WEAK)
    }

    pub fn name_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.name)
    }
}

/// `STB_*` as readelf spells it.
pub fn binding_name(binding: u8) -> &'static str {
    match binding {
        STB_LOCAL => "LOCAL",
        STB_GLOBAL => "GLOBAL",
        STB_WEAK => "WEAK",
        10 => "GNU_UNIQUE",
        11..=12 => "OS",
        13..=15 => "PROC",
        _ => "UNKNOWN",
    }
}

/// `STT_*` as readelf spells it.
pub fn type_name(sym_type: u8) -> &'static str {
    match sym_type {
        STT_NOTYPE => "NOTYPE",
        STT_OBJECT => "OBJECT",
        STT_FUNC => "FUNC",
        3 => "SECTION",
        4 => "FILE",
        5 => "COMMON",
        6 => "TLS",
        10 => "GNU_IFUNC",
        11..=12 => "OS",
        13..=15 => "PROC",
        _ => "UNKNOWN",
    }
}

/// One `Elf32_Sym` or `Elf64_Sym` as it is on disk (the field order differs
/// between the classes), decoded for one byte order (`BIG`) and class (`WIDE`:
/// ELF64).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SymEntry {
    pub name: u32,
    pub value: u64,
    pub size: u64,
    pub info: u8,
    pub other: u8,
    pub shndx: u16,
}

impl SymEntry {
    /// Entry `index` of `table`; `None` past its end.
    #[inline(always)]
    pub(crate) fn read<const BIG: bool, const WIDE: bool>(
        table: &[u8],
        index: u64,
    ) -> Option<SymEntry> {
        use super::bytes::read;
        let size = if WIDE { 24 } else { 16 };
        let at = usize::try_from(index).ok()?.checked_mul(size)?;
        let e = table.get(at..at.checked_add(size)?)?;
        Some(if WIDE {
            SymEntry {
                name: read::<BIG, 4>(e, 0)? as u32,
                info: *e.get(4)?,
                other: *e.get(5)?,
                shndx: read::<BIG, 2>(e, 6)? as u16,
                value: read::<BIG, 8>(e, 8)?,
                size: read::<BIG, 8>(e, 16)?,
            }
        } else {
            SymEntry {
                name: read::<BIG, 4>(e, 0)? as u32,
                value: read::<BIG, 4>(e, 4)?,
                size: read::<BIG, 4>(e, 8)?,
                info: *e.get(12)?,
                other: *e.get(13)?,
                shndx: read::<BIG, 2>(e, 14)? as u16,
            }
        })
    }
}
