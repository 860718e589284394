//! SysV (`DT_HASH`) and GNU (`DT_GNU_HASH`) symbol hash tables.

use super::bytes::{mul_add, per_layout, read, Bytes};
use super::error::{ErrorKind, ParseError, Result};
use super::header::Segments;

/// The classic System V ELF hash (also used for `vd_hash` in version definitions).
pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        // The gABI's `if (g) h ^= g >> 24;` without the branch: for g == 0 both
        // steps change nothing.
        let g = h & 0xf000_0000;
        h ^= g >> 24;
        h &= !g;
    }
    h
}

/// The GNU hash (djb2 variant with `h * 33 + c`), eight bytes per step.
///
/// Byte by byte, every step waits for the previous one's multiply. Eight bytes at
/// a time, the chain that carries `h` is one multiply and one add per step
/// (`h * 33^8 + poly`); `poly`,
/// the eight bytes' own weighted sum, does not depend on `h` and is computed
/// alongside, in lanes of one 64-bit word. The lanes never carry into each other:
/// a pair `c0 * 33 + c1` is below 2^16, a quad `pair * 33^2 + pair` below 2^32.
#[inline]
pub fn gnu_hash(name: &[u8]) -> u32 {
    const LOW_BYTES: u64 = 0x00ff_00ff_00ff_00ff;
    const LOW_PAIRS: u64 = 0x0000_ffff_0000_ffff;
    const P2: u64 = 33 * 33;
    const P4: u32 = 33 * 33 * 33 * 33;
    const P8: u32 = P4.wrapping_mul(P4);
    let mut h = 5381u32;
    let mut chunks = name.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Little-endian on every host: the name's first byte is the lowest lane.
        let v = u64::from_le_bytes(word);
        let pairs = (v & LOW_BYTES) * 33 + ((v >> 8) & LOW_BYTES);
        let quads = (pairs & LOW_PAIRS) * P2 + ((pairs >> 16) & LOW_PAIRS);
        let poly = (quads as u32)
            .wrapping_mul(P4)
            .wrapping_add((quads >> 32) as u32);
        h = h.wrapping_mul(P8).wrapping_add(poly);
    }
    chunks
        .remainder()
        .iter()
        .fold(h, |h, &c| h.wrapping_mul(33).wrapping_add(u32::from(c)))
}

/// A SysV hash table: `nbucket`, `nchain`, `bucket[nbucket]`, `chain[nchain]`.
/// Entries are 4 bytes, except on s390x and alpha where they are 8.
#[derive(Debug, Clone, Copy)]
pub struct SysvHashTable<'a> {
    bytes: Bytes<'a>,
    parts: SysvHashParts,
}

/// Where a SysV hash table is and its counts: what the image keeps of it (the
/// table's reads go through the image's bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SysvHashParts {
    offset: u64,
    entry_size: u64,
    nbucket: u64,
    nchain: u64,
}

impl SysvHashParts {
    /// [`SysvHashTable::nchain`].
    pub(crate) fn nchain(&self) -> u64 {
        self.nchain
    }
}

impl<'a> SysvHashTable<'a> {
    #[inline(always)]
    pub fn parse(b: Bytes<'a>, segs: &Segments<'_>, vaddr: u64, entry_size: u64) -> Result<Self> {
        let offset = segs.vaddr_to_offset("DT_HASH", vaddr, 2 * entry_size)?;
        let nbucket = b.uint("DT_HASH nbucket", offset, entry_size)?;
        let nchain = b.uint("DT_HASH nchain", offset + entry_size, entry_size)?;
        let entries = nbucket
            .checked_add(nchain)
            .and_then(|n| n.checked_add(2))
            .ok_or_else(|| ParseError::new("DT_HASH", offset, ErrorKind::Overflow))?;
        let len = mul_add("DT_HASH", offset, entries, entry_size, 0)?;
        // The whole table must be mapped and inside the image.
        segs.vaddr_to_offset("DT_HASH table", vaddr, len)?;
        Ok(SysvHashTable {
            bytes: b,
            parts: SysvHashParts {
                offset,
                entry_size,
                nbucket,
                nchain,
            },
        })
    }

    /// What the image keeps of the table.
    #[inline(always)]
    pub(crate) fn parts(&self) -> SysvHashParts {
        self.parts
    }

    /// The table again from what the image kept.
    pub(crate) fn from_parts(bytes: Bytes<'a>, parts: SysvHashParts) -> Self {
        SysvHashTable { bytes, parts }
    }

    pub fn offset(&self) -> u64 {
        self.parts.offset
    }

    pub fn entry_size(&self) -> u64 {
        self.parts.entry_size
    }

    pub fn nbucket(&self) -> u64 {
        self.parts.nbucket
    }

    /// Size of the whole table in bytes.
    pub fn byte_len(&self) -> u64 {
        (2 + self.parts.nbucket + self.parts.nchain) * self.parts.entry_size
    }

    /// `nchain`: by definition the number of symbols in the dynamic symbol table.
    pub fn nchain(&self) -> u64 {
        self.parts.nchain()
    }

    fn entry(&self, what: &'static str, index: u64) -> Result<u64> {
        // In range by construction: callers pass indices < nbucket + nchain + 2.
        let SysvHashParts {
            offset, entry_size, ..
        } = self.parts;
        self.bytes
            .uint(what, offset + index * entry_size, entry_size)
    }

    /// First symbol index of the chain for `hash` (0 terminates).
    pub fn bucket(&self, hash: u32) -> Result<u64> {
        if self.parts.nbucket == 0 {
            return Ok(0);
        }
        self.entry("DT_HASH bucket", 2 + u64::from(hash) % self.parts.nbucket)
    }

    /// The next symbol index after `index` in its chain.
    pub fn chain(&self, index: u64) -> Result<u64> {
        if index >= self.parts.nchain {
            return Err(ParseError::new(
                "DT_HASH chain",
                self.parts.offset,
                ErrorKind::IndexOutOfRange {
                    index,
                    limit: self.parts.nchain,
                },
            ));
        }
        self.entry("DT_HASH chain", 2 + self.parts.nbucket + index)
    }

    /// Calls `visit` for each symbol index in the chain of `name` until it returns `Some`.
    /// Bounded by `nchain` steps, so a cyclic chain cannot loop forever.
    pub fn walk<T>(
        &self,
        name: &[u8],
        mut visit: impl FnMut(u64) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut index = self.bucket(elf_hash(name))?;
        let mut steps = 0;
        while index != 0 {
            if steps > self.parts.nchain {
                return Err(ParseError::new(
                    "DT_HASH chain",
                    self.parts.offset,
                    ErrorKind::Invalid("hash chain has a cycle"),
                ));
            }
            if let Some(found) = visit(index)? {
                return Ok(Some(found));
            }
            index = self.chain(index)?;
            steps += 1;
        }
        Ok(None)
    }
}

/// A GNU hash table: header, bloom filter of class-sized words, 32-bit buckets and chain.
#[derive(Debug, Clone, Copy)]
pub struct GnuHashTable<'a> {
    bytes: Bytes<'a>,
    parts: GnuHashParts<'a>,
}

/// What a lookup reads of a GNU hash table: the header's counts and the bloom words,
/// buckets and chain values (through the last hashed symbol), checked once by
/// `GnuHashTable::parse` so that lookups index them directly. The image keeps this
/// without a second copy of its bytes; offsets are where the slices start in them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GnuHashParts<'a> {
    nbuckets: u32,
    symoffset: u32,
    bloom_size: u32,
    bloom_shift: u32,
    bloom: &'a [u8],
    buckets: &'a [u8],
    chains: &'a [u8],
}

impl<'a> GnuHashTable<'a> {
    #[inline(always)]
    pub fn parse(b: Bytes<'a>, segs: &Segments<'_>, vaddr: u64) -> Result<Self> {
        let offset = segs.vaddr_to_offset("DT_GNU_HASH", vaddr, 16)?;
        let nbuckets = b.u32("DT_GNU_HASH nbuckets", offset)?;
        let symoffset = b.u32("DT_GNU_HASH symoffset", offset + 4)?;
        let bloom_size = b.u32("DT_GNU_HASH bloom_size", offset + 8)?;
        let bloom_shift = b.u32("DT_GNU_HASH bloom_shift", offset + 12)?;
        if bloom_size == 0 {
            return Err(ParseError::new(
                "DT_GNU_HASH bloom_size",
                offset + 8,
                ErrorKind::Invalid("bloom filter has no words"),
            ));
        }
        let word = b.class.word_size();
        let bloom_len = mul_add("DT_GNU_HASH bloom", offset, bloom_size.into(), word, 0)?;
        let buckets_offset = offset + 16 + bloom_len;
        let header_len = mul_add("DT_GNU_HASH", offset, nbuckets.into(), 4, 16 + bloom_len)?;
        segs.vaddr_to_offset("DT_GNU_HASH buckets", vaddr, header_len)?;
        let chain_offset = offset + header_len;
        let bloom = b.slice("DT_GNU_HASH bloom", offset + 16, bloom_len)?;
        let buckets = b.slice(
            "DT_GNU_HASH buckets",
            buckets_offset,
            u64::from(nbuckets) * 4,
        )?;
        // Find the symbol count: the end of the chain that starts at the highest bucket.
        let mut symbol_count = u64::from(symoffset);
        let mut highest = 0u32;
        for (i, bucket) in (0u64..).zip(buckets.chunks_exact(4)) {
            let start = b.field::<4>(bucket, 0) as u32;
            if start != 0 && start < symoffset {
                return Err(ParseError::new(
                    "DT_GNU_HASH bucket",
                    buckets_offset + i * 4,
                    ErrorKind::Invalid("bucket points below symoffset"),
                ));
            }
            highest = highest.max(start);
        }
        if highest != 0 {
            // The last chain runs to the first value with the end bit set, at the
            // image's end at the latest. (`highest >= symoffset`: checked above.)
            let first = mul_add(
                "DT_GNU_HASH chain",
                chain_offset,
                u64::from(highest - symoffset),
                4,
                chain_offset,
            )?;
            let rest = usize::try_from(first)
                .ok()
                .and_then(|f| b.data.get(f..))
                .unwrap_or(&[]);
            let end = rest
                .chunks_exact(4)
                .position(|v| b.field::<4>(v, 0) & 1 != 0);
            match end {
                Some(i) => symbol_count = u64::from(highest) + i as u64 + 1,
                None => {
                    let at = first + (rest.len() / 4 * 4) as u64;
                    return Err(b
                        .u32("DT_GNU_HASH chain", at)
                        .err()
                        .unwrap_or(ParseError::new(
                            "DT_GNU_HASH chain",
                            at,
                            ErrorKind::Invalid("the last hash chain never ends"),
                        )));
                }
            }
        }
        let hashed = symbol_count.saturating_sub(u64::from(symoffset));
        let chains = b.slice("DT_GNU_HASH chains", chain_offset, hashed * 4)?;
        Ok(GnuHashTable {
            bytes: b,
            parts: GnuHashParts {
                nbuckets,
                symoffset,
                bloom_size,
                bloom_shift,
                bloom,
                buckets,
                chains,
            },
        })
    }

    /// What the image keeps of the table.
    #[inline(always)]
    pub(crate) fn parts(&self) -> GnuHashParts<'a> {
        self.parts
    }

    /// The table again from what the image kept.
    pub(crate) fn from_parts(bytes: Bytes<'a>, parts: GnuHashParts<'a>) -> Self {
        GnuHashTable { bytes, parts }
    }

    pub fn offset(&self) -> u64 {
        // The bloom filter follows the 16-byte header.
        self.bytes.offset_of(self.parts.bloom) - 16
    }

    pub fn nbuckets(&self) -> u32 {
        self.parts.nbuckets
    }

    pub fn symoffset(&self) -> u32 {
        self.parts.symoffset
    }

    pub fn bloom_size(&self) -> u32 {
        self.parts.bloom_size
    }

    pub fn bloom_shift(&self) -> u32 {
        self.parts.bloom_shift
    }

    /// Where the chain values start: right after the buckets.
    fn chain_offset(&self) -> u64 {
        self.bytes.offset_of(self.parts.buckets) + self.parts.buckets.len() as u64
    }

    /// Size of the table in bytes, through the chain entry of the last hashed symbol.
    pub fn byte_len(&self) -> u64 {
        self.chain_offset() - self.offset() + self.parts.chains.len() as u64
    }

    /// Number of dynamic symbols implied by the table (including the unhashed ones).
    pub fn symbol_count(&self) -> u64 {
        self.parts.symbol_count()
    }

    /// Calls `visit` for each candidate symbol index whose hash matches `name`'s,
    /// until it returns `Some`. The walk reads only what `parse` checked: the
    /// bloom words, the buckets, and the chains through their last end bit.
    #[inline]
    pub fn walk<T>(
        &self,
        name: &[u8],
        mut visit: impl FnMut(u64) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let hash = gnu_hash(name);
        per_layout!(self.bytes, self.walk_as::<BIG, WIDE, T>(hash, &mut visit))
    }

    /// [`Self::walk`] of a name whose hash is `hash`, for one byte order (`BIG`)
    /// and class (`WIDE`: ELF64).
    #[inline(always)]
    pub(crate) fn walk_as<const BIG: bool, const WIDE: bool, T>(
        &self,
        hash: u32,
        mut visit: impl FnMut(u64) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let p = &self.parts;
        if p.nbuckets == 0 || !p.bloom_allows_as::<BIG, WIDE>(hash) {
            return Ok(None);
        }
        let bucket = (hash % p.nbuckets) as usize * 4;
        let start =
            read::<BIG, 4>(p.buckets, bucket).ok_or_else(|| self.unchecked("bucket"))? as u32;
        if start == 0 {
            return Ok(None);
        }
        // `parse` checked that every bucket is 0 or at least `symoffset`, and that
        // the chain values run to an end bit: like the dynamic loader, follow the
        // chain to its end bit.
        let mut rel = start
            .checked_sub(p.symoffset)
            .ok_or_else(|| self.unchecked("bucket"))? as usize;
        loop {
            let value =
                read::<BIG, 4>(p.chains, rel * 4).ok_or_else(|| self.unchecked("chain"))? as u32;
            if value | 1 == hash | 1 {
                if let Some(found) = visit(u64::from(p.symoffset) + rel as u64)? {
                    return Ok(Some(found));
                }
            }
            if value & 1 != 0 {
                return Ok(None);
            }
            rel += 1;
        }
    }

    /// A read outside what `parse` checked, which its checks rule out: an error all
    /// the same, never a panic.
    #[cold]
    fn unchecked(&self, what: &'static str) -> ParseError {
        ParseError::new(
            "DT_GNU_HASH",
            self.offset(),
            ErrorKind::Invalid(match what {
                "bucket" => "a bucket outside the checked table",
                _ => "a chain outside the checked table",
            }),
        )
    }
}

impl GnuHashParts<'_> {
    /// [`GnuHashTable::symbol_count`]: the hashed symbols end where the checked
    /// chain values do.
    pub(crate) fn symbol_count(&self) -> u64 {
        u64::from(self.symoffset) + self.chains.len() as u64 / 4
    }

    /// Whether the bloom filter lets `hash` through, for one byte order (`BIG`) and
    /// word size (`WIDE`: 64 bits).
    #[inline(always)]
    fn bloom_allows_as<const BIG: bool, const WIDE: bool>(&self, hash: u32) -> bool {
        let (word_bits, log2) = if WIDE { (64, 6) } else { (32, 5) };
        // Linkers make the filter a power of two words: a mask, not a division.
        let word_index = hash >> log2;
        let index = if self.bloom_size.is_power_of_two() {
            word_index & (self.bloom_size - 1)
        } else {
            word_index % self.bloom_size
        } as usize;
        // The filter holds `bloom_size` words (checked at parse): a word outside it
        // cannot be; read as "may contain", the walk then decides.
        let word = if WIDE {
            read::<BIG, 8>(self.bloom, index * 8)
        } else {
            read::<BIG, 4>(self.bloom, index * 4)
        };
        let Some(word) = word else { return true };
        let bit1 = hash & (word_bits - 1);
        // A shift of the word size or more is undefined in C; treat it as shifting to zero.
        let bit2 = hash.checked_shr(self.bloom_shift).unwrap_or(0) & (word_bits - 1);
        let mask = (1u64 << bit1) | (1u64 << bit2);
        word & mask == mask
    }
}
