//! vDSO images lying in a buffer: each `\x7fELF` that starts a shared object
//! with a soname which the suite's parser reads whole.

use vdsoconf_suite::elf::{parse_file_header, Class, Segments, VdsoImage, ET_DYN};

/// A vDSO image inside a larger buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded<'a> {
    pub offset: usize,
    pub data: &'a [u8],
}

/// Every vDSO image in `buf`, in order, each once (a kernel may hold the same
/// bytes twice).
pub fn vdso_images(buf: &[u8]) -> Vec<Embedded<'_>> {
    let mut found: Vec<Embedded<'_>> = Vec::new();
    let mut at = 0;
    while let Some(i) = buf[at..].windows(4).position(|w| w == b"\x7fELF") {
        let offset = at + i;
        if let Some(data) = vdso_at(&buf[offset..]) {
            if !found.iter().any(|f| f.data == data) {
                found.push(Embedded { offset, data });
            }
            at = offset + data.len();
        } else {
            at = offset + 1;
        }
    }
    found
}

/// The vDSO image starting at `buf[0]`, cut to its own length, if one is there.
fn vdso_at(buf: &[u8]) -> Option<&[u8]> {
    let (header, bytes) = parse_file_header(buf).ok()?;
    if header.e_type != ET_DYN {
        return None;
    }
    let section_header_size: u64 = match header.class {
        Class::Elf32 => 40,
        Class::Elf64 => 64,
    };
    let sections_end = match header.shoff {
        0 => 0,
        off => off.checked_add(u64::from(header.shnum).checked_mul(section_header_size)?)?,
    };
    let segments = Segments::new(bytes, &header);
    let mut end = sections_end;
    for i in 0..header.phnum {
        let s = segments.get(i).ok()?;
        end = end.max(s.offset.checked_add(s.filesz)?);
    }
    let len = usize::try_from(end).ok()?;
    let data = buf.get(..len)?;
    let image = VdsoImage::parse(data).ok()?;
    image.soname()?;
    // Every symbol must read: a half-overwritten image is no evidence.
    let whole = image.symbols().all(|s| s.is_ok());
    whole.then_some(data)
}
