//! Arbitrary bytes as a kernel image, and as an LZO1X block: `vdsoconf extract`
//! reads untrusted kernel images through its container scanners, seven
//! decompressors and an LZO1X decoder of its own. Nothing may panic, every
//! output is bounded, and what it reports lies where it says.

use vdsoconf_extract::{extract_bounded, lzo1x_decompress, vdso_images};
use vdsoconf_suite::elf::VdsoImage;

/// Each decompression is cut here: the inputs are small, and a bomb must stop.
const LIMIT: usize = 1 << 20;

/// The container scanners and the decompressors: every image found parses as
/// the vDSO it was taken for, and an image found in the file as it is lies
/// where the scan says.
pub fn extract_scan(data: &[u8]) {
    for found in vdso_images(data) {
        let end = found.offset.checked_add(found.data.len());
        assert!(
            end.is_some_and(|end| end <= data.len())
                && data[found.offset..][..found.data.len()] == *found.data,
            "an embedded image at 0x{:x} is not the file's bytes there",
            found.offset
        );
    }
    let extraction = extract_bounded(data, LIMIT);
    for found in &extraction.found {
        assert!(
            VdsoImage::parse(&found.data).is_ok(),
            "extract kept an image at 0x{:x} its own parser refuses",
            found.offset
        );
        match &found.payload {
            None => assert!(found.offset + found.data.len() <= data.len()),
            Some(payload) => {
                assert!(payload.offset < data.len(), "a payload past the file's end");
                assert!(
                    found.offset + found.data.len() <= LIMIT,
                    "past the decompression limit"
                );
            }
        }
    }
}

/// The LZO1X decoder: on any bytes it returns at most the limit and never
/// panics; on a block another implementation compressed from these bytes it
/// gives them back exactly.
pub fn lzo(data: &[u8]) {
    if let Ok(out) = lzo1x_decompress(data, 4096) {
        assert!(
            out.len() <= 4096,
            "{} bytes past a limit of 4096",
            out.len()
        );
    }
    // lzokay writes nothing at all for nothing, where a block needs its end
    // marker: only non-empty inputs make a block.
    if data.is_empty() {
        return;
    }
    let Ok(block) = lzokay_native::compress(data) else {
        return;
    };
    match lzo1x_decompress(&block, data.len()) {
        Ok(out) => assert!(
            out == data,
            "a block of {} bytes (compressed from {}) decoded to other bytes",
            block.len(),
            data.len()
        ),
        Err(e) => panic!(
            "a valid block of {} bytes (compressed from {}) was refused: {e}",
            block.len(),
            data.len()
        ),
    }
}
