//! Bounds-checked, endian-aware reads from a byte slice.

use super::error::{ErrorKind, ParseError, Result};

/// ELF file class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Elf32,
    Elf64,
}

impl Class {
    /// Size in bytes of an address-sized field (`ElfN_Addr`, `ElfN_Off`, …).
    pub fn word_size(self) -> u64 {
        match self {
            Class::Elf32 => 4,
            Class::Elf64 => 8,
        }
    }

    pub fn bits(self) -> u8 {
        match self {
            Class::Elf32 => 32,
            Class::Elf64 => 64,
        }
    }
}

/// ELF data encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "little",
            Endian::Big => "big",
        }
    }
}

/// A byte slice with the image's endianness and class. All reads are checked.
#[derive(Debug, Clone, Copy)]
pub struct Bytes<'a> {
    pub data: &'a [u8],
    pub endian: Endian,
    pub class: Class,
}

impl<'a> Bytes<'a> {
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Where `part`, a slice of these bytes, starts in them.
    pub fn offset_of(&self, part: &[u8]) -> u64 {
        (part.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize) as u64
    }

    /// `len` bytes at `offset`, or a `Truncated` error naming `what`.
    pub fn slice(&self, what: &'static str, offset: u64, len: u64) -> Result<&'a [u8]> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| ParseError::new(what, offset, ErrorKind::Overflow))?;
        if end > self.len() {
            return Err(ParseError::new(
                what,
                offset,
                ErrorKind::Truncated {
                    needed: len,
                    available: self.len().saturating_sub(offset),
                },
            ));
        }
        // Both bounds are <= data.len(), which fits in usize.
        Ok(&self.data[offset as usize..end as usize])
    }

    fn array<const N: usize>(&self, what: &'static str, offset: u64) -> Result<[u8; N]> {
        let s = self.slice(what, offset, N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub fn u8(&self, what: &'static str, offset: u64) -> Result<u8> {
        Ok(self.array::<1>(what, offset)?[0])
    }

    pub fn u16(&self, what: &'static str, offset: u64) -> Result<u16> {
        let b = self.array(what, offset)?;
        Ok(match self.endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    pub fn u32(&self, what: &'static str, offset: u64) -> Result<u32> {
        let b = self.array(what, offset)?;
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    pub fn u64(&self, what: &'static str, offset: u64) -> Result<u64> {
        let b = self.array(what, offset)?;
        Ok(match self.endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }

    /// Field `N` bytes at `at` of a record already read whole with [`Self::slice`]
    /// (0 past its end, which the caller's record size rules out).
    #[inline]
    pub fn field<const N: usize>(&self, record: &[u8], at: usize) -> u64 {
        match self.endian {
            Endian::Little => read::<false, N>(record, at),
            Endian::Big => read::<true, N>(record, at),
        }
        .unwrap_or(0)
    }

    /// An address-sized field: 4 bytes in ELF32, 8 in ELF64.
    pub fn word(&self, what: &'static str, offset: u64) -> Result<u64> {
        match self.class {
            Class::Elf32 => self.u32(what, offset).map(u64::from),
            Class::Elf64 => self.u64(what, offset),
        }
    }

    /// An unsigned field of `size` bytes (4 or 8), as in SysV hash tables.
    pub fn uint(&self, what: &'static str, offset: u64, size: u64) -> Result<u64> {
        if size == 8 {
            self.u64(what, offset)
        } else {
            self.u32(what, offset).map(u64::from)
        }
    }

    /// The NUL-terminated string starting at `offset`, which must end before `limit`.
    /// In line: a parse reads three (the soname and the version names), and the
    /// call returned each through memory.
    #[inline(always)]
    pub fn c_str(&self, what: &'static str, offset: u64, limit: u64) -> Result<&'a [u8]> {
        let limit = limit.min(self.len());
        if offset >= limit {
            return Err(ParseError::new(
                what,
                offset,
                ErrorKind::IndexOutOfRange {
                    index: offset,
                    limit,
                },
            ));
        }
        let s = &self.data[offset as usize..limit as usize];
        match find_nul(s) {
            Some(n) => Ok(&s[..n]),
            None => Err(ParseError::new(
                what,
                offset,
                ErrorKind::Invalid("string is not NUL-terminated inside its table"),
            )),
        }
    }
}

/// Evaluates `$body` with the constants `BIG` (big-endian) and `WIDE` (ELF64) set
/// for `$bytes`' byte order and class: the one dispatch from a runtime layout to
/// code built for it (the parse and the lookups, whose reads are then plain loads).
macro_rules! per_layout {
    ($bytes:expr, $body:expr) => {
        match ($bytes.endian, $bytes.class) {
            ($crate::elf::Endian::Little, $crate::elf::Class::Elf32) => {
                const BIG: bool = false;
                const WIDE: bool = false;
                $body
            }
            ($crate::elf::Endian::Little, $crate::elf::Class::Elf64) => {
                const BIG: bool = false;
                const WIDE: bool = true;
                $body
            }
            ($crate::elf::Endian::Big, $crate::elf::Class::Elf32) => {
                const BIG: bool = true;
                const WIDE: bool = false;
                $body
            }
            ($crate::elf::Endian::Big, $crate::elf::Class::Elf64) => {
                const BIG: bool = true;
                const WIDE: bool = true;
                $body
            }
        }
    };
}
pub(crate) use per_layout;

/// The index of the first NUL byte of `s`, eight bytes at a time: names in a vDSO
/// are 8 to 25 bytes, where this beats both a byte loop and `memchr`'s call.
#[inline]
pub(crate) fn find_nul(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // Nonzero exactly when some byte of `v` is zero; the lowest flagged byte is
        // the first zero (bytes above it may be flagged falsely, never below).
        let zero = v.wrapping_sub(ONES) & !v & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| at + i)
}

/// Whether `a == b`, compared a word at a time in line. Symbol and version names
/// are 4 to 30 bytes: a call to `bcmp` for each (the lookup makes two) cost more
/// than the comparison, and the registers it clobbers were spilled around it.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // The last word overlaps the one before it when `n` is not a multiple of the
    // word size: compared twice, those bytes still decide correctly.
    if n >= 8 {
        let word = |s: &[u8], at: usize| read::<false, 8>(s, at);
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        let word = |s: &[u8], at: usize| read::<false, 4>(s, at);
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// The `N`-byte unsigned field at `at` of `s` (`None` past its end), for a byte order
/// fixed at compile time (see [`per_layout`]).
#[inline(always)]
pub(crate) fn read<const BIG: bool, const N: usize>(s: &[u8], at: usize) -> Option<u64> {
    // As an array, the copies below have a length known at compile time: one load.
    let src: &[u8; N] = s.get(at..at.checked_add(N)?)?.try_into().ok()?;
    let mut b = [0u8; 8];
    Some(if BIG {
        b[8 - N..].copy_from_slice(src);
        u64::from_be_bytes(b)
    } else {
        b[..N].copy_from_slice(src);
        u64::from_le_bytes(b)
    })
}

/// `a * b + c` with overflow reported against `what` at `offset`.
pub fn mul_add(what: &'static str, offset: u64, a: u64, b: u64, c: u64) -> Result<u64> {
    a.checked_mul(b)
        .and_then(|x| x.checked_add(c))
        .ok_or_else(|| ParseError::new(what, offset, ErrorKind::Overflow))
}

#[cfg(test)]
mod tests {
    use super::{find_nul, same_bytes};

    /// Every length to 40, equal or differing in exactly one byte at every place,
    /// and lengths that differ.
    #[test]
    fn same_bytes_agrees_with_slice_equality() {
        for len in 0..40 {
            let a: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "len {len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "len {len}, differs at {at}");
            }
            let mut longer = a.clone();
            longer.push(0);
            assert!(!same_bytes(&a, &longer), "len {len} against {}", len + 1);
        }
    }

    /// Every length to 40, a NUL at every place or none, among bytes that trip
    /// word-at-a-time searches (0x01 and 0x80 borrow, 0xff does not).
    #[test]
    fn find_nul_agrees_with_a_byte_scan() {
        for fill in [0x01u8, 0x80, 0xff, b'a', 0x81] {
            for len in 0..40 {
                for nul in (0..len).map(Some).chain([None]) {
                    let mut s = vec![fill; len];
                    if let Some(at) = nul {
                        s[at] = 0;
                        // A second NUL after the first must not be the answer.
                        if at + 3 < len {
                            s[at + 3] = 0;
                        }
                    }
                    let expected = s.iter().position(|&b| b == 0);
                    assert_eq!(
                        find_nul(&s),
                        expected,
                        "fill {fill:#x} len {len} nul {nul:?}"
                    );
                }
            }
        }
    }
}
