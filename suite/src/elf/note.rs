//! ELF notes (PT_NOTE): the build-id a linker writes with `--build-id`, and the
//! kernel's version that every kernel's vDSO carries.

use super::bytes::Bytes;
use super::error::{ErrorKind, ParseError, Result};
use super::header::Segment;

/// `NT_GNU_BUILD_ID`, owner "GNU".
pub const NT_GNU_BUILD_ID: u32 = 3;

/// The type of the `LINUX_VERSION_CODE` note, owner "Linux" (`include/linux/elfnote.h`
/// users in `arch/*/vdso*/note.S`).
pub const NT_LINUX_VERSION: u32 = 0;

/// One note: its owner (without the NUL), type and descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note<'a> {
    pub offset: u64,
    pub name: &'a [u8],
    pub n_type: u32,
    pub desc: &'a [u8],
}

fn align_up(v: u64, align: u64) -> Result<u64> {
    v.checked_add(align - 1)
        .map(|x| x & !(align - 1))
        .ok_or_else(|| ParseError::new("note", v, ErrorKind::Overflow))
}

/// Iterates the notes of one PT_NOTE segment. Note headers are three 4-byte words in
/// both classes; name and descriptor are padded to the segment's alignment (4, or 8
/// for the 8-aligned notes some 64-bit linkers write).
pub fn notes<'a>(
    b: Bytes<'a>,
    seg: &Segment,
) -> Result<impl Iterator<Item = Result<Note<'a>>> + 'a> {
    b.slice("PT_NOTE", seg.offset, seg.filesz)?;
    let align = if seg.align == 8 { 8 } else { 4 };
    let end = seg.offset + seg.filesz;
    let mut at = seg.offset;
    let mut failed = false;
    Ok(std::iter::from_fn(move || {
        if failed || at + 12 > end {
            return None;
        }
        let note = (|| {
            let namesz = u64::from(b.u32("n_namesz", at)?);
            let descsz = u64::from(b.u32("n_descsz", at + 4)?);
            let n_type = b.u32("n_type", at + 8)?;
            let name_at = at + 12;
            let desc_at = align_up(
                name_at
                    .checked_add(namesz)
                    .ok_or_else(|| ParseError::new("n_namesz", at, ErrorKind::Overflow))?,
                align,
            )?;
            let next = align_up(
                desc_at
                    .checked_add(descsz)
                    .ok_or_else(|| ParseError::new("n_descsz", at, ErrorKind::Overflow))?,
                align,
            )?;
            if desc_at + descsz > end {
                return Err(ParseError::new(
                    "note",
                    at,
                    ErrorKind::Truncated {
                        needed: desc_at + descsz - at,
                        available: end - at,
                    },
                ));
            }
            let name = b.slice("note name", name_at, namesz)?;
            let name = name.strip_suffix(b"\0").unwrap_or(name);
            let desc = b.slice("note descriptor", desc_at, descsz)?;
            let note = Note {
                offset: at,
                name,
                n_type,
                desc,
            };
            Ok((note, next))
        })();
        Some(match note {
            Ok((note, next)) => {
                at = next;
                Ok(note)
            }
            Err(e) => {
                failed = true;
                Err(e)
            }
        })
    }))
}
