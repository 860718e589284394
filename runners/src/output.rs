//! Writing reports so that a reader sees a whole one or none.
//!
//! A file is written to a temporary name beside its target, flushed to disk and
//! renamed over it: a full disk or a killed process leaves the earlier file as it
//! was. A report directory is staged as a whole beside the old one (the old one's
//! other files hard-linked in, so a log still being appended to stays the same
//! file), then the two are swapped in one `renameat2(RENAME_EXCHANGE)`: a reader
//! of the directory sees every file of one run, never a mix of two.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A report that could not be written: `path: reason`.
#[derive(Debug)]
pub struct WriteError(pub String);

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn failed(path: &Path, e: impl std::fmt::Display) -> WriteError {
    WriteError(format!("{}: {e}", path.display()))
}

/// `dir/.name.vdsoconf-PID`: a scratch name beside `path` that no other run uses.
fn scratch_beside(path: &Path, what: &str) -> Result<PathBuf, WriteError> {
    let name = path
        .file_name()
        .ok_or_else(|| failed(path, "not a file name"))?
        .to_string_lossy();
    let scratch = format!(".{name}.vdsoconf-{what}-{}", std::process::id());
    Ok(match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(scratch),
        _ => PathBuf::from(scratch),
    })
}

/// Writes `contents` to `path` whole or not at all. A path that is not a regular
/// file (`/dev/stdout`, a FIFO, `/dev/null`) is written in place: it cannot be
/// replaced, and must not be. A symbolic link's target is what is replaced.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let real = std::fs::canonicalize(path).ok();
    let path = real.as_deref().unwrap_or(path);
    if path.metadata().is_ok_and(|m| !m.is_file()) {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(contents).and_then(|()| f.flush()));
        return written.map_err(|e| failed(path, e));
    }
    let temp = scratch_beside(path, "new")?;
    let written = (|| {
        let mut f = std::fs::File::create(&temp)?;
        f.write_all(contents)?;
        f.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(failed(path, e));
    }
    Ok(())
}

/// Replaces the files named in `files` inside `dir` as one change: afterwards
/// `dir` holds them and whatever else it held before; until then, it is as it was.
pub fn replace_in_dir(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), WriteError> {
    // `.` and `out/..` have no name to stage a sibling by; their real path has.
    let real = dir.canonicalize().ok();
    let dir = real.as_deref().unwrap_or(dir);
    let staged = scratch_beside(dir, "staged")?;
    let result = stage(dir, &staged, files).and_then(|()| swap_in(&staged, dir));
    let _ = std::fs::remove_dir_all(&staged);
    result
}

fn stage(dir: &Path, staged: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), WriteError> {
    let _ = std::fs::remove_dir_all(staged); // a crashed run's leftovers of this pid
    std::fs::create_dir_all(staged).map_err(|e| failed(staged, e))?;
    if dir.is_dir() {
        carry_over(dir, staged, &|name| files.iter().any(|(f, _)| *f == name))?;
    } else if dir.exists() {
        return Err(failed(dir, "exists and is not a directory"));
    }
    for (name, contents) in files {
        let path = staged.join(name);
        let written = std::fs::File::create(&path).and_then(|mut f| {
            f.write_all(contents)?;
            f.sync_all()
        });
        // Name the file where the user will look for it, not the scratch copy.
        written.map_err(|e| failed(&dir.join(name), e))?;
    }
    Ok(())
}

/// Links (or, across devices, copies) every entry of `from` that `replaced` does
/// not name into `to`.
fn carry_over(from: &Path, to: &Path, replaced: &dyn Fn(&str) -> bool) -> Result<(), WriteError> {
    let entries = std::fs::read_dir(from).map_err(|e| failed(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| failed(from, e))?;
        let name = entry.file_name();
        if replaced(&name.to_string_lossy()) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let ft = entry.file_type().map_err(|e| failed(&src, e))?;
        if ft.is_dir() {
            std::fs::create_dir(&dst).map_err(|e| failed(&dst, e))?;
            carry_over(&src, &dst, &|_| false)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| failed(&src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| failed(&dst, e))?;
        } else if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(|e| failed(&src, e))?;
        }
    }
    Ok(())
}

/// Puts `staged` in the place of `dir`; `staged` then holds the old contents.
fn swap_in(staged: &Path, dir: &Path) -> Result<(), WriteError> {
    if !dir.exists() {
        return std::fs::rename(staged, dir).map_err(|e| failed(dir, e));
    }
    let Err(e) = vdsoconf_suite::vdso::process::exchange_paths(staged, dir) else {
        return Ok(());
    };
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(failed(dir, e));
    }
    // A filesystem (or qemu-user) without RENAME_EXCHANGE: move the old one aside
    // first. A reader may then briefly find no directory, but never a mixed one.
    let aside = scratch_beside(dir, "old")?;
    std::fs::rename(dir, &aside).map_err(|e| failed(dir, e))?;
    if let Err(e) = std::fs::rename(staged, dir) {
        let _ = std::fs::rename(&aside, dir);
        return Err(failed(dir, e));
    }
    std::fs::rename(&aside, staged).map_err(|e| failed(dir, e))
}
