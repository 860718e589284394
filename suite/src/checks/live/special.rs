//! Symbols that are not called with plain arguments: signal trampolines get a static
//! check; the others get the check that fits their kind, or a documented skip.

use crate::checks::result::{from_problems, CheckResult};
use crate::elf::{VdsoImage, PF_X, PT_LOAD};
use crate::spec::{SymbolKind, SymbolSpec};

/// A trampoline must lie, whole, inside an executable PT_LOAD.
pub fn check_trampoline(image: &VdsoImage<'_>, sym: &SymbolSpec) -> CheckResult {
    let found = match image.lookup(sym.name.as_bytes(), Some(sym.version.as_bytes())) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return CheckResult::skip(format!(
                "{}@{} is not in this image (its resolve check says whether it should be)",
                sym.name, sym.version
            ))
        }
        Err(e) => return CheckResult::fail(e.to_string()),
    };
    let len = found.size.max(1);
    let inside_exec = image.segments().iter().filter_map(Result::ok).any(|seg| {
        seg.p_type == PT_LOAD
            && seg.flags & PF_X != 0
            && seg.file_offset_of(found.value, len).is_some()
    });
    let mut problems = Vec::new();
    if !inside_exec {
        problems.push(format!(
            "0x{:x}+{len} is not inside an executable PT_LOAD",
            found.value
        ));
    }
    from_problems(problems).with_notes(vec![execution_note()])
}

fn execution_note() -> String {
    "only the placement is checked: returning from a signal handler through this trampoline \
     (SA_RESTORER) is not exercised yet"
        .into()
}

/// Why a kind without a plain-arguments call has no live check here, or `None` if it has one.
pub fn special_skip(kind: SymbolKind) -> Option<String> {
    crate::checks::kinds::kind_info(kind)
        .no_live_check
        .map(str::to_string)
}

/// `__kernel_vsyscall` must behave like `int $0x80`: getpid through it equals the
/// raw syscall, and an unknown syscall number comes back as -ENOSYS in eax.
#[cfg(target_arch = "x86")]
pub fn crosscheck_vsyscall(entry: usize) -> CheckResult {
    let mut problems = Vec::new();
    let via = crate::vdso::vsyscall0(entry, libc::SYS_getpid as i32);
    let direct = crate::vdso::syscall::getpid();
    if via != direct {
        problems.push(format!(
            "getpid: through __kernel_vsyscall {via}, syscall {direct}"
        ));
    }
    let unknown = crate::vdso::vsyscall0(entry, 0x7fff);
    if unknown != -libc::ENOSYS {
        problems.push(format!(
            "syscall 0x7fff: through __kernel_vsyscall {unknown}, expected -ENOSYS ({})",
            -libc::ENOSYS
        ));
    }
    from_problems(problems)
}
