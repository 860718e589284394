//! Reading a file the user named: never blocking, never unbounded.
//!
//! A FIFO, a device, a socket or a directory is refused by its type before a byte
//! is read (opening is non-blocking, so a FIFO with no writer cannot hang the
//! tool); a regular file larger than its kind allows is refused by its size, and
//! one that grows while it is read is cut off at the limit and refused.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a file is expected to hold; each kind has its own size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A vDSO image (`vdso64.so`, a dump): real ones are 4–300 KiB, debug info included.
    VdsoImage,
    /// A spec file (`spec/<arch>.yaml`): the largest built-in one is about 5 KiB.
    Spec,
    /// A report written by vdsoconf (`results.json`, `bench.json`, `target.json`).
    Report,
    /// An executable to copy into an initramfs (`boot --binary`).
    Executable,
    /// A kernel image (`vmlinuz`, `Image`, a `vmlinux`, with debug info or not).
    KernelImage,
    /// A kernel build's `.config`: about 300 KiB with every option listed.
    KernelConfig,
}

impl InputKind {
    /// The largest file of this kind that is read.
    pub const fn limit(self) -> u64 {
        match self {
            InputKind::VdsoImage => 4 << 20,
            InputKind::Spec => 4 << 20,
            InputKind::Report => 64 << 20,
            InputKind::Executable => 512 << 20,
            InputKind::KernelImage => 1 << 30,
            InputKind::KernelConfig => 16 << 20,
        }
    }

    fn what(self) -> &'static str {
        match self {
            InputKind::VdsoImage => "a vDSO image",
            InputKind::Spec => "a spec file",
            InputKind::Report => "a report",
            InputKind::Executable => "an executable",
            InputKind::KernelImage => "a kernel image",
            InputKind::KernelConfig => "a kernel .config",
        }
    }
}

/// A file that was not read, and why; shown as `path: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for InputError {}

/// Reads all of `path`, a regular file of at most `kind.limit()` bytes.
pub fn read_input(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let error = |reason: String| InputError {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| error(e.to_string()))?;
    let meta = file.metadata().map_err(|e| error(e.to_string()))?;
    let ft = meta.file_type();
    let not_regular = if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_socket() {
        Some("a socket")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else {
        None
    };
    if let Some(what) = not_regular {
        return Err(error(format!(
            "is {what}, not a regular file ({} is read only from a regular file)",
            kind.what()
        )));
    }
    let limit = kind.limit();
    let too_big = || {
        error(format!(
            "larger than {} MiB, too large for {}",
            limit >> 20,
            kind.what()
        ))
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| error(e.to_string()))?;
    if data.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(data)
}

/// [`read_input`] for text: invalid UTF-8 is an error that says where.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let data = read_input(path, kind)?;
    String::from_utf8(data).map_err(|e| InputError {
        path: path.display().to_string(),
        reason: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}
