//! What the checks and the runners ask of the operating system besides the vDSO
//! and the syscalls it is compared with: each a safe function over a few libc
//! calls, so that `unsafe` stays in this module tree (`#![deny(unsafe_code)]`
//! everywhere else).

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

fn c_path(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The size of a memory page.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// The CPUs the system is configured with (online or not), at least 1.
pub fn configured_cpus() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    if n > 0 {
        n as u32
    } else {
        1
    }
}

// ---- signals and process lifetime ----

/// What a signal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Default,
    Ignore,
}

/// Sets `sig`'s disposition (before any thread starts).
pub fn set_signal(sig: i32, disposition: Disposition) {
    let d = match disposition {
        Disposition::Default => libc::SIG_DFL,
        Disposition::Ignore => libc::SIG_IGN,
    };
    // SAFETY: signal(2) with a standard disposition changes only this process.
    unsafe { libc::signal(sig, d) };
}

/// Makes each of `sigs` call `handler`, which must only do async-signal-safe work
/// (store to an atomic). Interrupted system calls are restarted.
pub fn on_signals(sigs: &[i32], handler: extern "C" fn(libc::c_int)) {
    for &sig in sigs {
        // SAFETY: a zeroed sigaction with the given handler and an empty mask.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Sends `sig` to process `pid`.
pub fn send_signal(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) reads two integers.
    check(unsafe { libc::kill(pid, sig) })
}

/// Whether thread `tid` of this process still exists (`tgkill` with signal
/// 0): a joined thread's id stays in use until the kernel has released it,
/// a moment after the join returns.
pub fn thread_exists(tid: i32) -> bool {
    // SAFETY: tgkill takes three integers; signal 0 only checks.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Dies of SIGSEGV as a real fault would (std's handler returns from a raised one,
/// so the default disposition is restored first). For the isolation's self-test.
pub fn die_of_sigsegv() {
    set_signal(libc::SIGSEGV, Disposition::Default);
    // SAFETY: raise(2) in a process that means to die of it.
    unsafe { libc::raise(libc::SIGSEGV) };
}

/// Makes this process receive SIGKILL when the thread that started it ends.
pub fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) changes only this process's own setting.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
}

/// Whether descriptor 1 was open when the process started, recorded before Rust's
/// runtime puts /dev/null on a closed one (which would make a closed stdout drop a
/// run's results without a word).
static STDOUT_OPEN_AT_START: AtomicBool = AtomicBool::new(true);

extern "C" fn record_stdout_at_start() {
    // SAFETY: F_GETFD on descriptor 1 reads its flags and changes nothing.
    let open = unsafe { libc::fcntl(1, libc::F_GETFD) } != -1;
    STDOUT_OPEN_AT_START.store(open, Ordering::Relaxed);
}

// Runs before `main`, and so before the runtime's own start-up.
#[used]
#[link_section = ".init_array"]
static RECORD_STDOUT_AT_START: extern "C" fn() = record_stdout_at_start;

/// Whether standard output was open when this process started.
pub fn stdout_was_open_at_start() -> bool {
    STDOUT_OPEN_AT_START.load(Ordering::Relaxed)
}

// ---- identity, limits, executable ----

/// `uname -m` and `uname -r`.
pub fn uname() -> Option<(String, String)> {
    // SAFETY: uname fills a zeroed struct of the right type.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let field = |f: &[libc::c_char]| -> Option<String> {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8(bytes).ok()
    };
    Some((field(&u.machine)?, field(&u.release)?))
}

/// A resource limit the live checks need enough of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `ulimit -v`, in bytes.
    AddressSpace,
    /// `ulimit -n`.
    OpenFiles,
}

/// The soft limit, or `None` when it is unlimited (or cannot be read).
pub fn soft_limit(limit: Limit) -> Option<u64> {
    let resource = match limit {
        Limit::AddressSpace => libc::RLIMIT_AS,
        Limit::OpenFiles => libc::RLIMIT_NOFILE,
    };
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct it is given.
    if unsafe { libc::getrlimit(resource, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    #[allow(clippy::useless_conversion)] // rlim_t is u32 on some 32-bit targets
    Some(u64::from(r.rlim_cur))
}

/// The path this process was executed by, from the kernel's auxiliary vector
/// (`AT_EXECFN`): what is left to find the executable without `/proc`.
pub fn exec_path() -> Option<PathBuf> {
    // SAFETY: getauxval reads the auxiliary vector.
    let execfn = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    if execfn.is_null() {
        return None;
    }
    // SAFETY: AT_EXECFN points at a NUL-terminated string in the initial stack,
    // alive and unchanged for the whole process.
    let bytes = unsafe { CStr::from_ptr(execfn) }.to_bytes();
    Some(PathBuf::from(OsStr::from_bytes(bytes)))
}

// ---- files and processes ----

/// An anonymous in-memory file holding `bytes`, positioned at its start.
pub fn memory_file(bytes: &[u8]) -> io::Result<std::fs::File> {
    use std::io::{Seek, SeekFrom, Write};
    // SAFETY: memfd_create reads a NUL-terminated name and returns a new
    // descriptor (or -1).
    let fd = unsafe { libc::memfd_create(c"vdsoconf".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

/// Makes `command` start with fork+exec rather than posix_spawn (clone with
/// CLONE_VM|CLONE_VFORK), which kernels before 6.x refuse into a new time
/// namespace.
pub fn fork_before_exec(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook does nothing, so it is async-signal-safe.
    unsafe {
        command.pre_exec(|| Ok(()));
    }
}

/// Exchanges two paths in one step (`renameat2(RENAME_EXCHANGE)`).
pub fn exchange_paths(a: &Path, b: &Path) -> io::Result<()> {
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: renameat2 reads two NUL-terminated paths that outlive the call.
    check(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    })
}

/// Mounts a pseudo filesystem (`proc`, `sysfs`) on `dir`.
pub fn mount_pseudo(fstype: &str, dir: &Path) -> io::Result<()> {
    let c = |s: &str| CString::new(s).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e));
    let (src, dir, fstype) = (c(fstype)?, c_path(dir)?, c(fstype)?);
    // SAFETY: mount(2) with valid C strings and no data.
    check(unsafe {
        libc::mount(
            src.as_ptr(),
            dir.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    })
}

/// Syncs and resets the machine (for `/init` in a throwaway VM that QEMU runs
/// with `-no-reboot`, so a reset ends it). A reset needs no driver: a power-off
/// request on a kernel without a power-off method (x86 without ACPI) halts
/// instead, and QEMU would run on.
pub fn restart_machine() {
    // SAFETY: sync(2) and reboot(2) with the documented restart command.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_AUTOBOOT);
    }
}

/// Forks: the child runs `child` and reports its bytes through a pipe, the
/// parent runs `parent` meanwhile; returns the parent's bytes and the child's
/// (`None` if it reported nothing). For a single-threaded process only.
pub fn fork_exchange<const N: usize>(
    child: impl FnOnce() -> [u8; N],
    parent: impl FnOnce() -> [u8; N],
) -> io::Result<([u8; N], Option<[u8; N]>)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe(2) fills the two descriptors.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    let close = || {
        // SAFETY: closing the two descriptors pipe() made, once.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    };
    // SAFETY: fork in a single-threaded process (the caller's promise); the child
    // only calls `child`, write(2) and _exit(2).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = io::Error::last_os_error();
        close();
        return Err(e);
    }
    if pid == 0 {
        let out = child();
        // SAFETY: writing our own buffer to the pipe, then leaving at once.
        unsafe {
            libc::write(fds[1], out.as_ptr().cast(), N);
            libc::_exit(0);
        }
    }
    let mine = parent();
    let mut theirs = [0u8; N];
    // SAFETY: reading into our own buffer of N bytes; waiting for our child.
    let n = unsafe { libc::read(fds[0], theirs.as_mut_ptr().cast(), N) };
    // SAFETY: as above.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    close();
    Ok((mine, (n == N as isize).then_some(theirs)))
}

/// Enters a new time namespace for this process's future children.
pub fn unshare_time_namespace() -> io::Result<()> {
    // SAFETY: unshare affects only this process.
    check(unsafe { libc::unshare(libc::CLONE_NEWTIME) })
}

/// Runs `inside` in a grandchild of this (single-threaded) process, in a new
/// time namespace that the child between sets up with `enter` (it unshares
/// and writes the offsets; this process stays in its own namespace, and so do
/// its later children). What `inside` returns comes back with how the
/// grandchild ended: `Err` is `enter`'s refusal or a fork that failed.
pub fn in_new_time_namespace(
    enter: impl FnOnce() -> Result<(), String>,
    inside: impl FnOnce() -> Vec<u8>,
) -> Result<(Vec<u8>, Option<i32>), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe(2) fills the two descriptors.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) }).map_err(|e| format!("pipe: {e}"))?;
    let [read_end, write_end] = fds;
    let send = |tag: u8, bytes: &[u8]| {
        let mut all = vec![tag];
        all.extend_from_slice(bytes);
        let mut at = 0;
        while at < all.len() {
            // SAFETY: writing our own buffer's remaining bytes to our pipe.
            let n = unsafe { libc::write(write_end, all[at..].as_ptr().cast(), all.len() - at) };
            if n <= 0 {
                break;
            }
            at += n as usize;
        }
    };
    // SAFETY: fork in a single-threaded process (the caller's promise); the
    // child runs `enter`, forks once more and waits, then leaves with _exit.
    let between = unsafe { libc::fork() };
    if between < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: closing the pipe's descriptors, once.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return Err(format!("fork: {e}"));
    }
    if between == 0 {
        if let Err(why) = enter() {
            send(b'E', why.as_bytes());
            // SAFETY: leaving the child at once.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: this child is single-threaded too (forked from one).
        let inner = unsafe { libc::fork() };
        if inner == 0 {
            send(b'R', &inside());
            // SAFETY: leaving the grandchild at once.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child, then leaving with how it ended.
        unsafe {
            if inner < 0 || libc::waitpid(inner, &mut status, 0) != inner {
                libc::_exit(125);
            }
            libc::_exit(if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                libc::WEXITSTATUS(status)
            });
        }
    }
    // SAFETY: the parent keeps only the read end.
    unsafe { libc::close(write_end) };
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reading into our own buffer from our pipe.
        let n = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        got.extend_from_slice(&buf[..n as usize]);
    }
    let mut status = 0;
    // SAFETY: closing our descriptor; waiting for our own child.
    unsafe {
        libc::close(read_end);
        libc::waitpid(between, &mut status, 0);
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    match got.split_first() {
        Some((b'E', why)) => Err(String::from_utf8_lossy(why).into_owned()),
        Some((b'R', bytes)) => Ok((bytes.to_vec(), code)),
        _ => Ok((Vec::new(), code)),
    }
}

/// Moves this (single-threaded) process into its parent's time namespace, as
/// `setns(2)` on `/proc/PPID/ns/time`: its clocks, the vDSO's included, lose
/// the offsets of the namespace it was started in.
pub fn join_parent_time_namespace() -> io::Result<()> {
    // SAFETY: getppid has no arguments and cannot fail.
    let parent = unsafe { libc::getppid() };
    let ns = std::fs::File::open(format!("/proc/{parent}/ns/time"))?;
    // SAFETY: the descriptor is open for the call; setns changes only this process.
    check(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWTIME) })
}

// ---- CPUs ----

/// The affinity mask of this thread, as CPU numbers.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0
    {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads the set within its size.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Restricts the calling thread to `cpus`.
pub fn set_allowed_cpus(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays within it (CPU numbers
    // come from allowed_cpus); sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        check(libc::sched_setaffinity(
            0,
            std::mem::size_of::<libc::cpu_set_t>(),
            &set,
        ))
    }
}

// ---- memory ----

/// Pages of a private anonymous mapping of their own, readable and writable
/// until [`Pages::protect`] says otherwise. Never unmapped: the bad-pointer cases
/// point into them until the process ends.
#[derive(Debug)]
pub struct Pages {
    base: usize,
    count: usize,
}

/// Access allowed to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    Read,
    /// Read and execute (code this process wrote).
    ReadExec,
}

impl Pages {
    pub fn new(count: usize) -> io::Result<Pages> {
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                count * page_size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Pages {
            base: base as usize,
            count,
        })
    }

    /// The address of the first page.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Changes the access of page `index` (nothing of ours is in these pages).
    pub fn protect(&self, index: usize, access: Access) -> io::Result<()> {
        if index >= self.count {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no such page"));
        }
        let prot = match access {
            Access::None => libc::PROT_NONE,
            Access::Read => libc::PROT_READ,
            Access::ReadExec => libc::PROT_READ | libc::PROT_EXEC,
        };
        let page = self.base + index * page_size();
        // SAFETY: mprotect of one whole page of this mapping, which this process
        // made and in which no Rust object lives.
        check(unsafe { libc::mprotect(page as *mut libc::c_void, page_size(), prot) })
    }
}
