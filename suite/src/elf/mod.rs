//! A zero-allocation reader for vDSO images (ELF shared objects) over any byte slice.
//!
//! Everything is read through PT_LOAD/PT_DYNAMIC; section headers are never needed.
//! Every offset and count is checked: malformed input is a [`ParseError`], never a panic.

mod bytes;
mod dynamic;
mod error;
mod hash;
mod header;
mod image;
mod note;
mod symbol;
mod version;

pub use bytes::{Bytes, Class, Endian};
pub use dynamic::{dyn_size, entries as dynamic_entries, DynamicEntry, DynamicInfo};
pub use error::{ErrorKind, ParseError, Result};
pub use hash::{elf_hash, gnu_hash, GnuHashTable, SysvHashTable};
pub use header::{
    parse_file_header, FileHeader, Segment, Segments, ET_DYN, PF_R, PF_W, PF_X, PT_DYNAMIC,
    PT_INTERP, PT_LOAD, PT_NOTE,
};
pub use image::{sysv_hash_entry_size, HashKind, VdsoImage, EM_ALPHA, EM_S390};
pub use note::{notes, Note, NT_GNU_BUILD_ID, NT_LINUX_VERSION};
pub use symbol::{
    binding_name, type_name, Symbol, SHN_ABS, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC,
    STT_NOTYPE, STT_OBJECT,
};
pub use version::{SymbolVersion, VersionDef, VersionDefs, VERSYM_HIDDEN, VER_FLG_BASE};
