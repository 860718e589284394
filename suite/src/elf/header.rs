//! The ELF file header and program headers.

use super::bytes::{mul_add, Bytes, Class, Endian};
use super::error::{ErrorKind, ParseError, Result};

pub const ET_DYN: u16 = 3;
pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

/// The fields of the ELF header that a vDSO reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    pub class: Class,
    pub endian: Endian,
    pub os_abi: u8,
    pub e_type: u16,
    pub machine: u16,
    pub flags: u32,
    pub phoff: u64,
    pub phentsize: u16,
    pub phnum: u16,
    pub shoff: u64,
    pub shnum: u16,
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

impl Segment {
    /// File offset of `[vaddr, vaddr + len)` if it lies inside this segment's file image.
    pub fn file_offset_of(&self, vaddr: u64, len: u64) -> Option<u64> {
        let rel = vaddr.checked_sub(self.vaddr)?;
        let end = rel.checked_add(len)?;
        if end <= self.filesz {
            self.offset.checked_add(rel)
        } else {
            None
        }
    }
}

/// Reads the ELF identification and header, returning a reader with the image's
/// class and endianness.
#[inline(always)]
pub fn parse_file_header(data: &[u8]) -> Result<(FileHeader, Bytes<'_>)> {
    let probe = Bytes {
        data,
        endian: Endian::Little,
        class: Class::Elf32,
    };
    let ident = probe.slice("ELF identification", 0, 16)?;
    if &ident[..4] != b"\x7fELF" {
        return Err(ParseError::new("ELF magic", 0, ErrorKind::BadMagic));
    }
    let class = match ident[4] {
        1 => Class::Elf32,
        2 => Class::Elf64,
        c => return Err(ParseError::new("EI_CLASS", 4, ErrorKind::BadClass(c))),
    };
    let endian = match ident[5] {
        1 => Endian::Little,
        2 => Endian::Big,
        d => return Err(ParseError::new("EI_DATA", 5, ErrorKind::BadEndian(d))),
    };
    let b = Bytes {
        data,
        endian,
        class,
    };
    // The whole header (52 or 64 bytes) checked once, then its fields read from it.
    let size = match class {
        Class::Elf32 => 52,
        Class::Elf64 => 64,
    };
    let h = b.slice("ELF header", 0, size)?;
    let (phoff, shoff, flags, tail) = match class {
        Class::Elf32 => (
            b.field::<4>(h, 28),
            b.field::<4>(h, 32),
            b.field::<4>(h, 36),
            40,
        ),
        Class::Elf64 => (
            b.field::<8>(h, 32),
            b.field::<8>(h, 40),
            b.field::<4>(h, 48),
            52,
        ),
    };
    let header = FileHeader {
        class,
        endian,
        os_abi: ident[7],
        e_type: b.field::<2>(h, 16) as u16,
        machine: b.field::<2>(h, 18) as u16,
        flags: flags as u32,
        phoff,
        phentsize: b.field::<2>(h, tail + 2) as u16,
        phnum: b.field::<2>(h, tail + 4) as u16,
        shoff,
        shnum: b.field::<2>(h, tail + 8) as u16,
    };
    let expected = phdr_size(class);
    if header.phnum != 0 && u64::from(header.phentsize) != expected {
        return Err(ParseError::new(
            "e_phentsize",
            tail as u64 + 2,
            ErrorKind::BadEntrySize {
                expected,
                found: header.phentsize.into(),
            },
        ));
    }
    if header.phnum == 0xffff {
        return Err(ParseError::new(
            "e_phnum",
            tail as u64 + 4,
            ErrorKind::Invalid("PN_XNUM program header count is not supported in a vDSO"),
        ));
    }
    // The whole program header table must be inside the image.
    b.slice(
        "program header table",
        phoff,
        mul_add(
            "program header table",
            phoff,
            expected,
            header.phnum.into(),
            0,
        )?,
    )?;
    Ok((header, b))
}

pub fn phdr_size(class: Class) -> u64 {
    match class {
        Class::Elf32 => 32,
        Class::Elf64 => 56,
    }
}

/// The program headers, read on demand (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct Segments<'a> {
    bytes: Bytes<'a>,
    phoff: u64,
    phnum: u16,
    /// The first PT_LOAD, where a vDSO's every table is: translations try it first.
    first_load: Option<Segment>,
}

impl<'a> Segments<'a> {
    #[inline(always)]
    pub fn new(bytes: Bytes<'a>, header: &FileHeader) -> Self {
        let mut segs = Segments {
            bytes,
            phoff: header.phoff,
            phnum: header.phnum,
            first_load: None,
        };
        segs.first_load = segs.find(PT_LOAD).ok().flatten().map(|(_, s)| s);
        segs
    }

    /// The first PT_LOAD, found when the table was read.
    pub fn first_load(&self) -> Option<Segment> {
        self.first_load
    }

    pub fn len(&self) -> usize {
        self.phnum.into()
    }

    pub fn is_empty(&self) -> bool {
        self.phnum == 0
    }

    /// Program header `i`: one bounds check for the entry, then plain field reads.
    #[inline(always)]
    pub fn get(&self, i: u16) -> Result<Segment> {
        let b = &self.bytes;
        let size = phdr_size(b.class);
        let e = b.slice("program header", self.phoff + u64::from(i) * size, size)?;
        Ok(match b.class {
            Class::Elf32 => Segment {
                p_type: b.field::<4>(e, 0) as u32,
                offset: b.field::<4>(e, 4),
                vaddr: b.field::<4>(e, 8),
                filesz: b.field::<4>(e, 16),
                memsz: b.field::<4>(e, 20),
                flags: b.field::<4>(e, 24) as u32,
                align: b.field::<4>(e, 28),
            },
            Class::Elf64 => Segment {
                p_type: b.field::<4>(e, 0) as u32,
                flags: b.field::<4>(e, 4) as u32,
                offset: b.field::<8>(e, 8),
                vaddr: b.field::<8>(e, 16),
                filesz: b.field::<8>(e, 32),
                memsz: b.field::<8>(e, 40),
                align: b.field::<8>(e, 48),
            },
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Result<Segment>> + 'a {
        let s = *self;
        (0..self.phnum).map(move |i| s.get(i))
    }

    /// The first segment of type `p_type`, with its index. Only `p_type` is read
    /// from the others: decoding each whole header and moving it through a `Result`
    /// cost the parse more than the rest of the header scan.
    #[inline(always)]
    pub fn find(&self, p_type: u32) -> Result<Option<(u16, Segment)>> {
        let size = phdr_size(self.bytes.class);
        for i in 0..self.phnum {
            let at = self.phoff + u64::from(i) * size;
            // The whole entry must be there, as `get` requires.
            let entry = self.bytes.slice("program header", at, size)?;
            if self.bytes.field::<4>(entry, 0) as u32 == p_type {
                return self.get(i).map(|s| Some((i, s)));
            }
        }
        Ok(None)
    }

    /// Translates a virtual address range to a file offset through the PT_LOAD segments.
    #[inline(always)]
    pub fn vaddr_to_offset(&self, what: &'static str, vaddr: u64, len: u64) -> Result<u64> {
        // The first PT_LOAD, where a vDSO's every table is, is also the scan's first
        // candidate: same answer, sooner. Tried here in line (a parse translates
        // eight addresses); the scan and the error are out of line.
        let first = self.first_load.as_ref().and_then(|seg| {
            seg.file_offset_of(vaddr, len)
                .filter(|off| off.checked_add(len).is_some_and(|e| e <= self.bytes.len()))
        });
        match first {
            Some(off) => Ok(off),
            None => self.vaddr_to_offset_scan(what, vaddr, len),
        }
    }

    /// [`Self::vaddr_to_offset`] through every PT_LOAD, in table order.
    #[inline(never)]
    fn vaddr_to_offset_scan(&self, what: &'static str, vaddr: u64, len: u64) -> Result<u64> {
        for seg in self.iter() {
            let seg = seg?;
            if seg.p_type == PT_LOAD {
                if let Some(off) = seg.file_offset_of(vaddr, len) {
                    if off.checked_add(len).is_some_and(|e| e <= self.bytes.len()) {
                        return Ok(off);
                    }
                }
            }
        }
        Err(ParseError::new(
            what,
            vaddr,
            ErrorKind::AddressNotMapped { vaddr, len },
        ))
    }
}
