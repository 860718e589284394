//! Errors as values: every malformed input names what is wrong and where.

use core::fmt;

/// What went wrong while reading an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The structure needs `needed` bytes but only `available` remain.
    Truncated { needed: u64, available: u64 },
    /// Not an ELF file (`\x7fELF` missing).
    BadMagic,
    /// `EI_CLASS` is neither ELFCLASS32 nor ELFCLASS64.
    BadClass(u8),
    /// `EI_DATA` is neither ELFDATA2LSB nor ELFDATA2MSB.
    BadEndian(u8),
    /// A table entry size disagrees with the ELF class.
    BadEntrySize { expected: u64, found: u64 },
    /// An arithmetic step on an offset or count overflowed.
    Overflow,
    /// A virtual address range lies outside every PT_LOAD's file image.
    AddressNotMapped { vaddr: u64, len: u64 },
    /// A required dynamic tag is absent.
    MissingTag(&'static str),
    /// A table index points outside its table.
    IndexOutOfRange { index: u64, limit: u64 },
    /// Anything else, with a short reason.
    Invalid(&'static str),
}

/// A parse error: what was being read (`what`), its file offset and why it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub what: &'static str,
    pub offset: u64,
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, offset: u64, kind: ErrorKind) -> Self {
        ParseError { what, offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} available")
            }
            ErrorKind::BadMagic => f.write_str("not an ELF image (bad magic)"),
            ErrorKind::BadClass(c) => write!(f, "unknown ELF class {c}"),
            ErrorKind::BadEndian(d) => write!(f, "unknown ELF data encoding {d}"),
            ErrorKind::BadEntrySize { expected, found } => {
                write!(f, "entry size {found}, expected {expected}")
            }
            ErrorKind::Overflow => f.write_str("offset or size overflows"),
            ErrorKind::AddressNotMapped { vaddr, len } => write!(
                f,
                "address range 0x{vaddr:x}+{len} is not inside any PT_LOAD file image"
            ),
            ErrorKind::MissingTag(tag) => write!(f, "missing {tag}"),
            ErrorKind::IndexOutOfRange { index, limit } => {
                write!(f, "index {index} out of range (limit {limit})")
            }
            ErrorKind::Invalid(why) => f.write_str(why),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset 0x{:x}: {}",
            self.what, self.offset, self.kind
        )
    }
}

impl std::error::Error for ParseError {}

/// For `?` on a borrowed result (`parsed.as_ref()?`), which leaves a parsed image
/// where the parse wrote it instead of copying it out.
impl From<&ParseError> for ParseError {
    fn from(error: &ParseError) -> Self {
        *error
    }
}

pub type Result<T> = core::result::Result<T, ParseError>;
