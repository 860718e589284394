//! The live vDSO of this process, as a byte slice.
//!
//! This is the only place that builds a slice from a raw address: the rest of the
//! parser works on `&[u8]` with every read bounds-checked.

use crate::elf::{ParseError, VdsoImage, PT_LOAD};

/// AT_SYSINFO_EHDR, the auxv entry holding the vDSO's base address.
pub const AT_SYSINFO_EHDR: libc::c_ulong = 33;
const PAGE: usize = 4096;
/// No vDSO is anywhere near this big; a larger claim means a corrupt header.
const MAX_VDSO_LEN: usize = 64 * PAGE;

/// The vDSO mapped into this process.
#[derive(Debug, Clone, Copy)]
pub struct LiveVdso {
    base: usize,
    bytes: &'static [u8],
}

/// Why the live vDSO could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveError {
    /// The image's headers are corrupt.
    Parse(ParseError),
    /// The headers claim a size that cannot be right.
    BadLength { claimed: u64, why: &'static str },
}

impl std::fmt::Display for LiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveError::Parse(e) => write!(f, "live vDSO: {e}"),
            LiveError::BadLength { claimed, why } => {
                write!(f, "live vDSO: PT_LOAD claims {claimed} bytes: {why}")
            }
        }
    }
}

impl std::error::Error for LiveError {}

/// Each mapping of this process: its range, whether it is readable, its name.
fn mappings() -> Option<Vec<(usize, usize, bool, String)>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some(
        maps.lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let (lo, hi) = fields.next()?.split_once('-')?;
                let readable = fields.next()?.starts_with('r');
                Some((
                    usize::from_str_radix(lo, 16).ok()?,
                    usize::from_str_radix(hi, 16).ok()?,
                    readable,
                    fields.nth(3).unwrap_or("").to_string(),
                ))
            })
            .collect(),
    )
}

/// The `[vdso]` range from /proc/self/maps, if procfs is mounted.
pub fn maps_range() -> Option<(usize, usize)> {
    mappings()?
        .into_iter()
        .find(|m| m.3 == "[vdso]")
        .map(|(lo, hi, _, _)| (lo, hi))
}

/// The readable mapping of this process (its range and name) that holds
/// `address`, from /proc/self/maps.
pub fn readable_mapping_at(address: usize) -> Option<(usize, usize, String)> {
    mappings()?
        .into_iter()
        .find(|&(lo, hi, readable, _)| readable && (lo..hi).contains(&address))
        .map(|(lo, hi, _, name)| (lo, hi, name))
}

impl LiveVdso {
    /// The vDSO named by AT_SYSINFO_EHDR, or `None` if this process has none.
    pub fn find() -> Result<Option<LiveVdso>, LiveError> {
        // SAFETY: getauxval has no preconditions.
        let base = unsafe { libc::getauxval(AT_SYSINFO_EHDR) } as usize;
        if base == 0 {
            return Ok(None);
        }
        let len = match maps_range() {
            Some((lo, hi)) if lo == base && hi > lo => hi - lo,
            _ => Self::length_from_headers(base)?,
        };
        // SAFETY: `base..base + len` is the vDSO mapping: either the `[vdso]` line of
        // /proc/self/maps, or (without procfs) the extent of its PT_LOAD file image,
        // which the kernel maps whole and never unmaps. It is read-only for our purposes.
        let bytes = unsafe { std::slice::from_raw_parts(base as *const u8, len) };
        Ok(Some(LiveVdso { base, bytes }))
    }

    /// A vDSO-shaped file (one loadable segment whose file image starts at
    /// offset 0, no relocations, functions that make their system calls
    /// themselves and read no data page) mapped whole and executable in this
    /// process, as the kernel maps its vDSO, and never unmapped: what
    /// `fuzz-live --load-vdso` calls, the tests' fake vDSOs with known bugs.
    /// Only a throwaway process loads one (its code runs unchecked).
    pub fn load(path: &std::path::Path) -> Result<LiveVdso, String> {
        let file = Self::loadable(path)?;
        let len = file.len().div_ceil(PAGE) * PAGE;
        // SAFETY: a new private anonymous mapping; nothing else refers to it.
        let at = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if at == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: `at` is `len` >= `file.len()` writable bytes of our own; the
        // copy is made executable (and read-only) before anything calls it.
        unsafe {
            core::ptr::copy_nonoverlapping(file.as_ptr(), at.cast::<u8>(), file.len());
            if libc::mprotect(at, len, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                return Err(format!("mprotect: {}", std::io::Error::last_os_error()));
            }
        }
        let base = at as usize;
        // SAFETY: the mapping made above, never unmapped, read-only from here.
        let bytes = unsafe { std::slice::from_raw_parts(base as *const u8, file.len()) };
        Ok(LiveVdso { base, bytes })
    }

    /// Whether [`LiveVdso::load`] would take `path`: a file of a vDSO's size
    /// whose headers parse as a vDSO's (its symbols are looked up when called).
    pub fn check_loadable(path: &std::path::Path) -> Result<(), String> {
        Self::loadable(path).map(drop)
    }

    fn loadable(path: &std::path::Path) -> Result<Vec<u8>, String> {
        let file = crate::input::read_input(path, crate::input::InputKind::VdsoImage)
            .map_err(|e| e.to_string())?;
        if file.is_empty() || file.len() > MAX_VDSO_LEN {
            return Err(format!(
                "{}: {} bytes is no vDSO's size",
                path.display(),
                file.len()
            ));
        }
        VdsoImage::parse(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(file)
    }

    /// Without procfs: read the headers from the first page (always mapped) and take the
    /// end of the furthest PT_LOAD file image, rounded up to a page.
    fn length_from_headers(base: usize) -> Result<usize, LiveError> {
        // SAFETY: the vDSO is at least one page, mapped readable at AT_SYSINFO_EHDR.
        let first_page = unsafe { std::slice::from_raw_parts(base as *const u8, PAGE) };
        let (header, bytes) =
            crate::elf::parse_file_header(first_page).map_err(LiveError::Parse)?;
        let segments = crate::elf::Segments::new(bytes, &header);
        let mut end = PAGE as u64;
        for seg in segments.iter() {
            let seg = seg.map_err(LiveError::Parse)?;
            if seg.p_type == PT_LOAD {
                let seg_end = seg
                    .offset
                    .checked_add(seg.filesz)
                    .ok_or(LiveError::BadLength {
                        claimed: u64::MAX,
                        why: "offset + size overflows",
                    })?;
                end = end.max(seg_end);
            }
        }
        let len = (end as usize).div_ceil(PAGE) * PAGE;
        if len > MAX_VDSO_LEN {
            return Err(LiveError::BadLength {
                claimed: end,
                why: "larger than any vDSO",
            });
        }
        Ok(len)
    }

    pub fn base(&self) -> usize {
        self.base
    }

    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    pub fn image(&self) -> Result<VdsoImage<'static>, ParseError> {
        VdsoImage::parse(self.bytes)
    }

    /// The function `sym` names in this vDSO, for the handle of its kind;
    /// `None` when the vDSO does not export it.
    pub fn resolve(
        &self,
        sym: &crate::spec::SymbolSpec,
    ) -> Result<Option<crate::vdso::Resolved>, ParseError> {
        let image = self.image()?;
        let Some(found) = image.lookup(sym.name.as_bytes(), Some(sym.version.as_bytes()))? else {
            return Ok(None);
        };
        let address = self.address_of(&image, found.value)?;
        // SAFETY: the entry point of a symbol this process's own vDSO exports
        // (or the vDSO-shaped file `load` mapped, in a throwaway process),
        // resolved through its own hash tables; `Resolved` hands it out only as the
        // handle of the prototype its spec kind names.
        let function = unsafe { crate::vdso::VdsoFn::new(address) };
        Ok(Some(crate::vdso::Resolved {
            function,
            kind: sym.kind,
        }))
    }

    /// Run-time address of a symbol value (translated through PT_LOAD, never assumed relative).
    pub fn address_of(&self, image: &VdsoImage<'_>, st_value: u64) -> Result<usize, ParseError> {
        let offset = image.vaddr_to_offset(st_value)?;
        Ok(self.base + offset as usize)
    }
}
