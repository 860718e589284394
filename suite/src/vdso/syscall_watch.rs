//! Seeing every system call a vDSO function makes, directly: a seccomp filter on
//! this thread hands each of its syscalls to a listener thread (user notification),
//! which counts the ones made inside a vDSO call and answers a chosen set of them
//! with a chosen errno; every other syscall carries on untouched. "Served" then
//! means "entered the kernel zero times", not "returned success".
//!
//! Once started the watch lasts for the rest of the process, so it runs in a child
//! (the served check's, or a time namespace's inner one), which never forks after.
//! The listener makes only `ioctl`s and touches only atomics: the watched thread
//! may be blocked in a syscall while holding any lock of its own.

// portable-atomic's AtomicI64: 32-bit powerpc and mips have no 64-bit atomics.
use portable_atomic::AtomicI64;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::Duration;

/// What the watched thread's vDSO calls did in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entered {
    /// How many syscalls they made.
    pub count: u32,
    /// The number of the first one.
    pub first: Option<i64>,
    /// Whether any was one of the refused syscalls (and failed with the errno).
    pub refused: bool,
}

/// Set once the filter is in place: from then on [`in_vdso_call`] opens windows.
static WATCHING: AtomicBool = AtomicBool::new(false);
/// True while the watched thread is inside a vDSO function.
static IN_CALL: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU32 = AtomicU32::new(0);
static REFUSED_COUNT: AtomicU32 = AtomicU32::new(0);
const NONE: i64 = i64::MIN;
static FIRST: AtomicI64 = AtomicI64::new(NONE);
/// The listener's file descriptor: `PENDING` until the filter is installed,
/// `ABANDONED` if it could not be.
static LISTENER: AtomicI32 = AtomicI32::new(PENDING);
const PENDING: i32 = -1;
const ABANDONED: i32 = -2;
/// The syscalls answered with `errno` inside a vDSO call, and that errno.
static REFUSE: OnceLock<(Vec<i64>, u16)> = OnceLock::new();

/// Starts watching the calling thread: inside a vDSO call (see [`syscalls_in`])
/// each syscall is counted, and the ones in `refused` fail with `errno` without
/// reaching the kernel. Once per process. `Err` says why the machine refused
/// (no seccomp, no user notification before Linux 5.5, an unknown ABI).
pub fn start(refused: &[i64], errno: u16) -> Result<(), String> {
    let arch = imp::AUDIT_ARCH.ok_or_else(|| {
        format!(
            "no seccomp architecture value is known for {} here",
            std::env::consts::ARCH
        )
    })?;
    imp::kernel_has_continue()?;
    if REFUSE.set((refused.to_vec(), errno)).is_err() {
        return Err("the syscall watch was already started in this process".into());
    }
    // The listener must exist before the filter (a thread inherits its creator's
    // filters) and must not need the watched thread to wake it: it polls for the
    // descriptor, since any syscall of ours after the filter waits for it.
    std::thread::Builder::new()
        .name("syscall-watch".into())
        .stack_size(64 << 10)
        .spawn(listen)
        .map_err(|e| format!("starting the syscall watch's listener: {e}"))?;
    match imp::install(arch) {
        Ok(fd) => {
            LISTENER.store(fd, SeqCst);
            WATCHING.store(true, SeqCst);
            Ok(())
        }
        Err(e) => {
            LISTENER.store(ABANDONED, SeqCst);
            Err(e)
        }
    }
}

/// Runs `f` (which calls vDSO functions) and returns what those calls did in the
/// kernel. Without a started watch nothing is seen.
pub fn syscalls_in<T>(f: impl FnOnce() -> T) -> (T, Entered) {
    COUNT.store(0, SeqCst);
    REFUSED_COUNT.store(0, SeqCst);
    FIRST.store(NONE, SeqCst);
    let value = f();
    let first = FIRST.load(SeqCst);
    let entered = Entered {
        count: COUNT.load(SeqCst),
        first: (first != NONE).then_some(first),
        refused: REFUSED_COUNT.load(SeqCst) > 0,
    };
    (value, entered)
}

/// Marks the span of one raw vDSO call (the typed calls go through it).
#[inline]
pub(super) fn in_vdso_call<T>(call: impl FnOnce() -> T) -> T {
    if !WATCHING.load(SeqCst) {
        return call();
    }
    IN_CALL.store(true, SeqCst);
    let value = call();
    IN_CALL.store(false, SeqCst);
    value
}

fn listen() {
    let fd = loop {
        match LISTENER.load(SeqCst) {
            PENDING => std::thread::sleep(Duration::from_millis(1)),
            ABANDONED => return,
            fd => break fd,
        }
    };
    let Some((refused, errno)) = REFUSE.get() else {
        return;
    };
    let decide = |nr: i64| {
        if !IN_CALL.load(SeqCst) {
            return None;
        }
        COUNT.fetch_add(1, SeqCst);
        let _ = FIRST.compare_exchange(NONE, nr, SeqCst, SeqCst);
        refused.contains(&nr).then(|| {
            REFUSED_COUNT.fetch_add(1, SeqCst);
            *errno
        })
    };
    while imp::answer_one(fd, &decide) {}
}

mod imp {
    use libc::{seccomp_notif, seccomp_notif_resp, sock_filter, sock_fprog};

    // Classic BPF opcodes (linux/filter.h).
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
                             // Offsets in struct seccomp_data.
    const ARCH_OFFSET: u32 = 4;

    /// AUDIT_ARCH_* of the ABI this binary was built for (linux/audit.h).
    pub const AUDIT_ARCH: Option<u32> = if cfg!(target_arch = "x86") {
        Some(0x4000_0003)
    } else if cfg!(target_arch = "x86_64") {
        Some(0xc000_003e) // x32 too: its syscall numbers carry the x32 bit
    } else if cfg!(target_arch = "aarch64") {
        Some(0xc000_00b7)
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
    } else if cfg!(target_arch = "riscv64") {
        Some(0xc000_00f3)
    } else if cfg!(target_arch = "riscv32") {
        Some(0x4000_00f3)
    } else if cfg!(all(
        target_arch = "mips64",
        target_endian = "little",
        target_pointer_width = "64"
    )) {
        Some(0xc000_0008) // AUDIT_ARCH_MIPSEL64
    } else if cfg!(all(
        target_arch = "mips64",
        target_endian = "little",
        target_pointer_width = "32"
    )) {
        Some(0xe000_0008) // AUDIT_ARCH_MIPSEL64N32
    } else if cfg!(all(target_arch = "mips", target_endian = "little")) {
        Some(0x4000_0008) // AUDIT_ARCH_MIPSEL
    } else if cfg!(target_arch = "loongarch64") {
        Some(0xc000_0102)
    } else {
        None
    };

    /// User notification is Linux 5.0, letting a notified syscall carry on 5.5.
    pub fn kernel_has_continue() -> Result<(), String> {
        // SAFETY: uname fills the zeroed struct it is given.
        let release = unsafe {
            let mut u: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut u) != 0 {
                return Err(format!("uname: {}", std::io::Error::last_os_error()));
            }
            std::ffi::CStr::from_ptr(u.release.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        let mut parts = release
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if version >= (5, 5) {
            Ok(())
        } else {
            Err(format!(
                "seeing syscalls needs seccomp user notification that lets a call continue (Linux 5.5); this kernel is {release}"
            ))
        }
    }

    /// Installs the filter on this thread (not its siblings) and returns the
    /// listener's descriptor. A syscall made with another ABI's numbers (int 0x80
    /// from x86_64) would be misread: such a process is killed instead.
    pub fn install(arch: u32) -> Result<i32, String> {
        let mut program = [
            sock_filter {
                code: LD_W_ABS,
                jt: 0,
                jf: 0,
                k: ARCH_OFFSET,
            },
            sock_filter {
                code: JEQ_K,
                jt: 1,
                jf: 0,
                k: arch,
            },
            sock_filter {
                code: RET_K,
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_KILL_PROCESS,
            },
            sock_filter {
                code: RET_K,
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_USER_NOTIF,
            },
        ];
        let fprog = sock_fprog {
            len: program.len() as u16,
            filter: program.as_mut_ptr(),
        };
        // SAFETY: prctl and seccomp with their documented arguments; `fprog` points
        // at `program`, which outlives the call (the kernel copies the filter).
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(format!(
                    "PR_SET_NO_NEW_PRIVS: {}",
                    std::io::Error::last_os_error()
                ));
            }
            let fd = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                &fprog as *const sock_fprog,
            );
            if fd < 0 {
                return Err(format!(
                    "installing the seccomp filter with a listener: {}",
                    std::io::Error::last_os_error()
                ));
            }
            Ok(fd as i32)
        }
    }

    /// Receives one notification, asks `decide` (given its syscall number) for an
    /// errno to fail it with, else lets it carry on. `false` once the listener is
    /// gone (the process is exiting).
    pub fn answer_one(fd: i32, decide: &dyn Fn(i64) -> Option<u16>) -> bool {
        // SAFETY: the kernel wants a zeroed seccomp_notif to fill, and a response
        // naming that notification; both live on this stack for the calls.
        unsafe {
            let mut notif: seccomp_notif = std::mem::zeroed();
            while libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV as _, &mut notif) != 0 {
                match std::io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => notif = std::mem::zeroed(),
                    _ => return false,
                }
            }
            let nr = i64::from(notif.data.nr);
            let mut resp: seccomp_notif_resp = std::mem::zeroed();
            resp.id = notif.id;
            match decide(nr) {
                Some(errno) => resp.error = -i32::from(errno),
                None => resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            }
            // ENOENT: the caller was interrupted meanwhile; nothing to answer.
            libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND as _, &mut resp);
            true
        }
    }
}
