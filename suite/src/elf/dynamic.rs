//! The dynamic section, read through PT_DYNAMIC (section headers are not needed).

use super::bytes::{Bytes, Class, Endian};
use super::error::{ErrorKind, ParseError, Result};
use super::header::Segment;

pub const DT_NULL: i64 = 0;
pub const DT_NEEDED: i64 = 1;
pub const DT_HASH: i64 = 4;
pub const DT_STRTAB: i64 = 5;
pub const DT_SYMTAB: i64 = 6;
pub const DT_RELA: i64 = 7;
pub const DT_STRSZ: i64 = 10;
pub const DT_SYMENT: i64 = 11;
pub const DT_SONAME: i64 = 14;
pub const DT_REL: i64 = 17;
pub const DT_TEXTREL: i64 = 22;
pub const DT_JMPREL: i64 = 23;
pub const DT_RELR: i64 = 36;
pub const DT_GNU_HASH: i64 = 0x6fff_fef5;
pub const DT_VERSYM: i64 = 0x6fff_fff0;
pub const DT_VERDEF: i64 = 0x6fff_fffc;
pub const DT_VERDEFNUM: i64 = 0x6fff_fffd;

/// The dynamic tags a vDSO reader uses, as raw (unrelocated) values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DynamicInfo {
    pub strtab: Option<u64>,
    pub strsz: Option<u64>,
    pub symtab: Option<u64>,
    pub syment: Option<u64>,
    pub hash: Option<u64>,
    pub gnu_hash: Option<u64>,
    pub versym: Option<u64>,
    pub verdef: Option<u64>,
    pub verdefnum: Option<u64>,
    /// Offset of the soname in the string table.
    pub soname: Option<u64>,
    /// Number of DT_NEEDED entries.
    pub needed: u32,
    /// True if any relocation table (DT_REL, DT_RELA, DT_JMPREL, DT_RELR) or DT_TEXTREL is present.
    pub has_relocations: bool,
}

pub fn dyn_size(class: Class) -> u64 {
    match class {
        Class::Elf32 => 8,
        Class::Elf64 => 16,
    }
}

/// One `(d_tag, d_val)` entry with the file offset it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamicEntry {
    pub offset: u64,
    pub tag: i64,
    pub val: u64,
}

/// Iterates the entries of PT_DYNAMIC up to DT_NULL or the segment's end.
pub fn entries<'a>(
    b: Bytes<'a>,
    dynamic: &Segment,
) -> Result<impl Iterator<Item = DynamicEntry> + 'a> {
    let size = dyn_size(b.class);
    // The table must lie inside the image; we never read past its file size. One
    // bounds check here, then each entry is read from the checked slice.
    let table = b.slice("PT_DYNAMIC", dynamic.offset, dynamic.filesz)?;
    let start = dynamic.offset;
    let mut done = false;
    Ok(table
        .chunks_exact(size as usize)
        .zip(0u64..)
        .map_while(move |(e, i)| {
            if done {
                return None;
            }
            let (tag, val) = match b.class {
                Class::Elf32 => (
                    i64::from(b.field::<4>(e, 0) as u32 as i32),
                    b.field::<4>(e, 4),
                ),
                Class::Elf64 => (b.field::<8>(e, 0) as i64, b.field::<8>(e, 8)),
            };
            done = tag == DT_NULL;
            Some(DynamicEntry {
                offset: start + i * size,
                tag,
                val,
            })
        }))
}

impl DynamicInfo {
    #[inline(always)]
    pub fn parse(b: Bytes<'_>, dynamic: &Segment) -> Result<Self> {
        // One bounds check for the table; the entries are read from the checked slice
        // by a loop made for this class and byte order (no per-field switch).
        let table = b.slice("PT_DYNAMIC", dynamic.offset, dynamic.filesz)?;
        let s32 = |v: u32| i64::from(v as i32);
        match (b.class, b.endian) {
            (Class::Elf32, Endian::Little) => Self::scan::<4>(
                table,
                dynamic,
                |w| s32(u32::from_le_bytes(w)),
                |w| u32::from_le_bytes(w).into(),
            ),
            (Class::Elf32, Endian::Big) => Self::scan::<4>(
                table,
                dynamic,
                |w| s32(u32::from_be_bytes(w)),
                |w| u32::from_be_bytes(w).into(),
            ),
            (Class::Elf64, Endian::Little) => {
                Self::scan::<8>(table, dynamic, i64::from_le_bytes, u64::from_le_bytes)
            }
            (Class::Elf64, Endian::Big) => {
                Self::scan::<8>(table, dynamic, i64::from_be_bytes, u64::from_be_bytes)
            }
        }
    }

    /// The entries of `table` (`d_tag`, `d_val`, `W` bytes each) up to DT_NULL.
    #[inline(always)]
    fn scan<const W: usize>(
        table: &[u8],
        dynamic: &Segment,
        tag_of: impl Fn([u8; W]) -> i64,
        val_of: impl Fn([u8; W]) -> u64,
    ) -> Result<Self> {
        let mut info = DynamicInfo::default();
        for (i, e) in (0u64..).zip(table.chunks_exact(2 * W)) {
            let (t, v) = e.split_at(W);
            let (Ok(t), Ok(v)) = (<[u8; W]>::try_from(t), <[u8; W]>::try_from(v)) else {
                continue; // cannot happen: every chunk is 2 * W bytes
            };
            let (tag, val) = (tag_of(t), val_of(v));
            let slot = match tag {
                DT_NULL => return Ok(info),
                DT_NEEDED => {
                    info.needed += 1;
                    continue;
                }
                DT_REL | DT_RELA | DT_JMPREL | DT_RELR | DT_TEXTREL => {
                    info.has_relocations = true;
                    continue;
                }
                DT_STRTAB => &mut info.strtab,
                DT_STRSZ => &mut info.strsz,
                DT_SYMTAB => &mut info.symtab,
                DT_SYMENT => &mut info.syment,
                DT_HASH => &mut info.hash,
                DT_GNU_HASH => &mut info.gnu_hash,
                DT_VERSYM => &mut info.versym,
                DT_VERDEF => &mut info.verdef,
                DT_VERDEFNUM => &mut info.verdefnum,
                DT_SONAME => &mut info.soname,
                _ => continue,
            };
            if slot.is_some() {
                return Err(ParseError::new(
                    "dynamic entry",
                    dynamic.offset + i * 2 * W as u64,
                    ErrorKind::Invalid("duplicate dynamic tag"),
                ));
            }
            *slot = Some(val);
        }
        Err(ParseError::new(
            "PT_DYNAMIC",
            dynamic.offset,
            ErrorKind::Invalid("dynamic section has no DT_NULL terminator"),
        ))
    }
}
