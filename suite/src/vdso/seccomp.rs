//! A seccomp filter that makes a set of syscalls fail with a chosen errno, for this
//! process only (the served check runs it in a child).
//!
//! seccompiler builds the filter where it knows the architecture (x86_64, aarch64,
//! riscv64). Elsewhere a filter of the same shape is written out here: it is a few
//! instructions, and the kernel's verifier checks it on installation.

/// Installs the filter: `syscalls` fail with `errno`, everything else is allowed.
pub fn install_errno_filter(syscalls: &[i64], errno: u16) -> Result<(), String> {
    imp::install(syscalls, errno)
}

#[cfg(any(
    all(target_arch = "x86_64", target_pointer_width = "64"),
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
mod imp {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    use std::collections::BTreeMap;

    pub fn install(syscalls: &[i64], errno: u16) -> Result<(), String> {
        let arch = if cfg!(target_arch = "x86_64") {
            TargetArch::x86_64
        } else if cfg!(target_arch = "aarch64") {
            TargetArch::aarch64
        } else {
            TargetArch::riscv64
        };
        let rules = syscalls
            .iter()
            .map(|&nr| (nr, vec![]))
            .collect::<BTreeMap<_, _>>();
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno.into()),
            arch,
        )
        .map_err(|e| format!("building the seccomp filter: {e}"))?;
        let program: BpfProgram = filter
            .try_into()
            .map_err(|e| format!("compiling the seccomp filter: {e}"))?;
        seccompiler::apply_filter(&program)
            .map_err(|e| format!("installing the seccomp filter: {e}"))
    }
}

#[cfg(not(any(
    all(target_arch = "x86_64", target_pointer_width = "64"),
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
mod imp {
    use libc::{sock_filter, sock_fprog};

    // Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    const RET_KILL_PROCESS: u32 = 0x8000_0000;
    // Offsets in struct seccomp_data.
    const NR_OFFSET: u32 = 0;
    const ARCH_OFFSET: u32 = 4;

    /// AUDIT_ARCH_* of the ABI this binary was built for (linux/audit.h).
    const AUDIT_ARCH: Option<u32> = if cfg!(target_arch = "x86") {
        Some(0x4000_0003)
    } else if cfg!(target_arch = "x86_64") {
        Some(0xc000_003e) // x32: x86_64's, with the x32 bit in the number
    } else if cfg!(all(target_arch = "arm", target_endian = "little")) {
        Some(0x4000_0028)
    } else if cfg!(all(target_arch = "arm", target_endian = "big")) {
        Some(0x0000_0028)
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
        Some(0xc000_0015)
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "big")) {
        Some(0x8000_0015)
    } else if cfg!(target_arch = "powerpc") {
        Some(0x0000_0014)
    } else if cfg!(target_arch = "s390x") {
        Some(0x8000_0016)
    } else if cfg!(target_arch = "loongarch64") {
        Some(0xc000_0102)
    } else if cfg!(target_arch = "riscv32") {
        Some(0x4000_00f3)
    } else {
        None
    };

    fn stmt(code: u16, k: u32) -> sock_filter {
        sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jeq(k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter {
            code: JEQ_K,
            jt,
            jf,
            k,
        }
    }

    pub fn install(syscalls: &[i64], errno: u16) -> Result<(), String> {
        let arch = AUDIT_ARCH.ok_or_else(|| {
            format!(
                "no seccomp architecture value is known for {} here",
                std::env::consts::ARCH
            )
        })?;
        // A syscall made with another ABI's numbers (int 0x80 from x86_64) would be
        // misread: such a process is killed rather than let through unchecked.
        let mut program = vec![
            stmt(LD_W_ABS, ARCH_OFFSET),
            jeq(arch, 1, 0),
            stmt(RET_K, RET_KILL_PROCESS),
            stmt(LD_W_ABS, NR_OFFSET),
        ];
        for &nr in syscalls {
            let nr = u32::try_from(nr).map_err(|_| format!("syscall number {nr} out of range"))?;
            program.push(jeq(nr, 0, 1));
            program.push(stmt(RET_K, RET_ERRNO | u32::from(errno)));
        }
        program.push(stmt(RET_K, RET_ALLOW));
        let fprog = sock_fprog {
            len: u16::try_from(program.len()).map_err(|_| "seccomp filter too long")?,
            filter: program.as_mut_ptr(),
        };
        // SAFETY: prctl with the documented arguments; `fprog` points at `program`,
        // which outlives the call (the kernel copies the filter).
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(format!(
                    "PR_SET_NO_NEW_PRIVS: {}",
                    std::io::Error::last_os_error()
                ));
            }
            if libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &fprog as *const sock_fprog,
            ) != 0
            {
                return Err(format!(
                    "installing the seccomp filter: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        Ok(())
    }
}
