//! The compressions a kernel build offers (CONFIG_KERNEL_*), each recognised by
//! its magic bytes and decompressed with a well-kept crate, the output bounded.

use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
    /// lz4's legacy frame format, which the kernel's lz4 compression writes.
    Lz4Legacy,
    /// The `.lzma` ("lzma_alone") format.
    Lzma,
    Bzip2,
    /// The lzop format, which the kernel's lzo compression writes.
    Lzo,
}

const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
const ZSTD_MAGIC: &[u8] = b"\x28\xb5\x2f\xfd";
const LZ4_LEGACY_MAGIC: &[u8] = b"\x02\x21\x4c\x18";
const LZOP_MAGIC: &[u8] = b"\x89LZO\x00\r\n\x1a\n";

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Lz4Legacy => "lz4",
            Compression::Lzma => "lzma",
            Compression::Bzip2 => "bzip2",
            Compression::Lzo => "lzo",
        }
    }

    /// The compression of an EFI zboot payload, by the name its header gives.
    pub fn from_zboot_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"gzip" => Compression::Gzip,
            b"xzkern" | b"xz" => Compression::Xz,
            b"zstd" | b"zstd22" => Compression::Zstd,
            b"lz4" => Compression::Lz4Legacy,
            b"lzma" => Compression::Lzma,
            b"bzip2" => Compression::Bzip2,
            b"lzo" => Compression::Lzo,
            _ => return None,
        })
    }

    /// The compression whose stream starts `data`, by its magic bytes.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        let starts = |m: &[u8]| data.starts_with(m);
        if starts(b"\x1f\x8b\x08") {
            Some(Compression::Gzip)
        } else if starts(XZ_MAGIC) {
            Some(Compression::Xz)
        } else if starts(ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else if starts(LZ4_LEGACY_MAGIC) {
            Some(Compression::Lz4Legacy)
        } else if starts(LZOP_MAGIC) {
            Some(Compression::Lzo)
        } else if data.len() >= 10
            && data.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&data[3])
            && &data[4..10] == b"\x31\x41\x59\x26\x53\x59"
        {
            Some(Compression::Bzip2)
        } else if is_lzma_header(data) {
            Some(Compression::Lzma)
        } else {
            None
        }
    }

    /// Every offset in `file` where a stream seems to start, in order: at most
    /// [`MAX_CANDIDATES`] (a file of repeated magic bytes is not searched forever).
    pub fn occurrences(file: &[u8]) -> Vec<(usize, Self)> {
        let mut out = Vec::new();
        for (i, &b) in file.iter().enumerate() {
            // The first bytes of every magic above; anything else is skipped cheaply.
            if !matches!(b, 0x1f | 0xfd | 0x28 | 0x02 | 0x89 | b'B' | 0x5d) {
                continue;
            }
            if let Some(c) = Self::sniff(&file[i..]) {
                out.push((i, c));
                if out.len() == MAX_CANDIDATES {
                    break;
                }
            }
        }
        out
    }
}

/// How many magic-byte candidates one file gets.
pub const MAX_CANDIDATES: usize = 64;

/// The kernel's lzma streams: properties 0x5d (lc=3, lp=0, pb=2), a dictionary
/// of a power of two from 64 KiB to 1 GiB, and an unknown size (all ones): the
/// kernel pipes `lzma` into the image.
fn is_lzma_header(data: &[u8]) -> bool {
    if data.len() < 13 || data[0] != 0x5d {
        return false;
    }
    let dict = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
    dict.is_power_of_two() && (1 << 16..=1 << 30).contains(&dict) && data[5..13] == [0xff; 8]
}

/// What a decompression gave: its output, and the error that ended it early
/// (a damaged or cut stream, the output limit, bytes after an end marker).
pub struct Decoded {
    pub data: Vec<u8>,
    pub error: Option<String>,
}

/// The first stream of `compression` at the start of `data`, decompressed (at
/// most `limit` bytes). Output decoded before an error is kept: the vDSO may
/// lie before the damage, and the parser judges whatever comes out.
pub fn decompress(compression: Compression, data: &[u8], limit: usize) -> Result<Decoded, String> {
    let mut out = Vec::new();
    let r = match compression {
        Compression::Gzip => read_bounded(flate2::read::GzDecoder::new(data), limit, &mut out),
        Compression::Zstd => match ruzstd::decoding::StreamingDecoder::new(data) {
            Ok(d) => read_bounded(d, limit, &mut out),
            Err(e) => Err(e.to_string()),
        },
        Compression::Bzip2 => read_bounded(bzip2::read::BzDecoder::new(data), limit, &mut out),
        Compression::Xz => xz(data, limit, &mut out),
        Compression::Lz4Legacy => lz4_legacy(data, limit, &mut out),
        Compression::Lzo => lzop(data, limit, &mut out),
        Compression::Lzma => lzma(data, limit, &mut out),
    };
    match r {
        Ok(()) if out.len() >= limit => Ok(Decoded {
            data: out,
            error: Some(format!("cut at the {limit}-byte limit")),
        }),
        Ok(()) => Ok(Decoded {
            data: out,
            error: None,
        }),
        Err(e) if out.is_empty() => Err(e),
        Err(e) => Ok(Decoded {
            data: out,
            error: Some(e),
        }),
    }
}

/// lzma-rs insists that the stream end with its input: when bytes follow the
/// end marker (the kernel's size trailer, the rest of an image), the stream is
/// decoded again up to where the first pass stopped reading.
fn lzma(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let decode = |stream: &[u8], out: &mut Vec<u8>| {
        let mut input = stream;
        let mut sink = Bounded { out, limit };
        let r = lzma_rs::lzma_decompress(&mut input, &mut sink).map_err(|e| e.to_string());
        (r, stream.len() - input.len())
    };
    match decode(data, out) {
        (Err(e), read) if read < data.len() => {
            out.clear();
            decode(&data[..read], out).0.map_err(|_| e)
        }
        (r, _) => r,
    }
}

/// Reads `r` to its end, or to `limit` bytes.
fn read_bounded(r: impl Read, limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    r.take(limit as u64)
        .read_to_end(out)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A writer that refuses to grow past `limit`.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.out.len();
        if room == 0 {
            return Err(std::io::Error::other("output limit reached"));
        }
        let n = buf.len().min(room);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn xz(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut decoder = xz4rust::XzDecoder::in_heap();
    let mut chunk = vec![0u8; 1 << 16];
    let mut at = 0;
    loop {
        let r = decoder
            .decode(&data[at..], &mut chunk)
            .map_err(|e| format!("{e:?}"))?;
        at += r.input_consumed();
        let produced = r.output_produced();
        out.extend_from_slice(&chunk[..produced.min(limit - out.len())]);
        match r {
            xz4rust::XzNextBlockResult::EndOfStream(..) => return Ok(()),
            _ if out.len() >= limit => return Err("output limit reached".into()),
            xz4rust::XzNextBlockResult::NeedMoreData(consumed, produced) => {
                if consumed == 0 && produced == 0 {
                    return Err("the stream ends early".into());
                }
            }
        }
    }
}

/// lz4 legacy frames: the magic, then blocks of a 32-bit little-endian length
/// and that many bytes, each decompressing to at most 8 MiB; the frame ends at
/// the input's end or at the next magic (the kernel appends the size after it).
fn lz4_legacy(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    const BLOCK: usize = 8 << 20;
    let mut at = LZ4_LEGACY_MAGIC.len();
    let mut block = vec![0u8; BLOCK];
    while let Some(len) = data.get(at..at + 4) {
        if len == LZ4_LEGACY_MAGIC {
            break;
        }
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        let Some(input) = data
            .get(at + 4..)
            .and_then(|d| d.get(..len))
            .filter(|i| !i.is_empty())
        else {
            // The kernel's size trailer (4 bytes) or padding after the last block.
            break;
        };
        let n = match lz4_flex::block::decompress_into(input, &mut block) {
            Ok(n) => n,
            Err(e) if out.is_empty() => return Err(e.to_string()),
            // The frame has no end marker: what follows its last block is
            // the kernel's size trailer and whatever the image holds next.
            Err(_) => break,
        };
        out.extend_from_slice(&block[..n.min(limit - out.len())]);
        if out.len() >= limit {
            return Err("output limit reached".into());
        }
        at += 4 + len;
    }
    if out.is_empty() {
        return Err("no lz4 block".into());
    }
    Ok(())
}

/// lzop's format (the kernel's lib/decompress_unlzo.c): the magic, a header
/// (version, flags, mode, mtime, a name, a checksum), then blocks of a 32-bit
/// big-endian decompressed length (0 ends), a compressed length, an optional
/// checksum and the data (stored as is when both lengths are equal).
fn lzop(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    const F_ADLER32_D: u32 = 0x1;
    const F_ADLER32_C: u32 = 0x2;
    const F_H_FILTER: u32 = 0x800;
    const F_CRC32_D: u32 = 0x100;
    const F_CRC32_C: u32 = 0x200;
    let short = || "the lzo header ends early".to_string();
    let be16 = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
    };
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let mut at = LZOP_MAGIC.len();
    let version = be16(at).ok_or_else(short)?;
    at += 2 + 2; // version, library version
    if version >= 0x0940 {
        at += 2; // version needed to extract
    }
    at += 1; // method
    if version >= 0x0940 {
        at += 1; // level
    }
    let flags = be32(at).ok_or_else(short)?;
    at += 4;
    if flags & F_H_FILTER != 0 {
        at += 4;
    }
    at += 4 + 4; // mode, mtime (low)
    if version >= 0x0940 {
        at += 4; // mtime (high)
    }
    let name_len = *data.get(at).ok_or_else(short)? as usize;
    at += 1 + name_len + 4; // name, header checksum
    let checksums = |compressed_differs: bool| {
        let d = (flags & (F_ADLER32_D | F_CRC32_D) != 0) as usize;
        let c = (flags & (F_ADLER32_C | F_CRC32_C) != 0) as usize;
        4 * (d + if compressed_differs { c } else { 0 })
    };
    loop {
        let d_len = be32(at).ok_or("a block header ends early")? as usize;
        if d_len == 0 {
            return Ok(());
        }
        let c_len = be32(at + 4).ok_or("a block header ends early")? as usize;
        at += 8 + checksums(c_len < d_len);
        let input = data
            .get(at..)
            .and_then(|d| d.get(..c_len))
            .ok_or("a block ends early")?;
        if out.len() + d_len > limit {
            return Err("output limit reached".into());
        }
        if c_len == d_len {
            out.extend_from_slice(input);
        } else {
            let block = crate::lzo::decompress(input, d_len)?;
            if block.len() != d_len {
                return Err(format!(
                    "an lzo block gave {} bytes, not {d_len}",
                    block.len()
                ));
            }
            out.extend_from_slice(&block);
        }
        at += c_len;
    }
}
