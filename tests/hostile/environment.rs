//! A machine that will not let the checks run (limits, denied syscalls, no
//! `/proc`) is an error of the run, never a failed vDSO check, a panic or an abort.

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

/// Short monotonicity checks: the environment, not the clocks, is under test.
const QUICK: &[&str] = &["run", "--duration", "0.05"];

/// Exit 2, no check reported as FAIL, one line on stderr with `needle`, no panic.
fn stopped_not_failed(out: &Output, needle: &str) -> Result<(), String> {
    let failed: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .map(str::to_string)
        .collect();
    if !failed.is_empty() {
        return Err(format!(
            "the environment was blamed on the vDSO: {failed:?}"
        ));
    }
    one_line_error(out, needle)
}

fn run_with(
    setup: impl Fn() -> std::io::Result<()> + Send + Sync + 'static,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vdsoconf"));
    cmd.args(args);
    // SAFETY: every `setup` below makes only async-signal-safe calls (setrlimit,
    // setuid, prctl) on data prepared before the fork.
    unsafe { cmd.pre_exec(setup) };
    cmd.output().expect("vdsoconf runs")
}

fn limit(resource: libc::__rlimit_resource_t, value: u64) -> impl Fn() -> std::io::Result<()> {
    move || {
        let r = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct.
        if unsafe { libc::setrlimit(resource, &r) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Below the live checks' 32 MiB, yet above what the dynamic loader needs to
/// map the test's (debug, unoptimized: the largest) binary and libc: at 20 MB
/// the loader itself failed, before vdsoconf ran.
pub fn limits_too_small_are_refused_up_front() -> Result<(), String> {
    let out = run_with(limit(libc::RLIMIT_AS, 28_000 << 10), QUICK);
    one_line_error(&out, "ulimit -v is 28000 KiB")?;
    let out = run_with(limit(libc::RLIMIT_NOFILE, 8), QUICK);
    one_line_error(&out, "ulimit -n is 8")?;
    let out = run_with(limit(libc::RLIMIT_NOFILE, 8), &["bench"]);
    one_line_error(&out, "ulimit -n is 8")?;
    Ok(())
}

/// `ulimit -u` binds only an unprivileged user; as root the run drops to a uid of
/// its own (no other process counts against its limit). Needs root: CI has it.
pub fn too_few_processes_is_not_a_vdso_failure() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("    (not run: needs root to give the run a uid of its own; .ci/run runs it)");
        return Ok(());
    }
    // A copy anyone may execute, wherever the clone is.
    let dir = scratch("nproc");
    let bin = dir.join("vdsoconf");
    std::fs::copy(env!("CARGO_BIN_EXE_vdsoconf"), &bin).map_err(|e| e.to_string())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    // A uid no other process has: RLIMIT_NPROC counts every process of the uid,
    // so two runs of this test at once (two CI clones on one machine) sharing
    // one would starve each other. Pids are unique among live processes.
    let uid: u32 = 1_000_000 + std::process::id();
    for processes in [1u64, 2, 3, 4] {
        let mut cmd = Command::new(&bin);
        cmd.args(QUICK).current_dir(&dir);
        let set_limit = limit(libc::RLIMIT_NPROC, processes);
        // SAFETY: setrlimit, setgroups, setgid and setuid are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                set_limit()?;
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(uid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let out = cmd.output().map_err(|e| e.to_string())?;
        stopped_not_failed(&out, "").map_err(|e| format!("ulimit -u {processes}: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A seccomp filter (classic BPF) that makes `syscalls` fail with `errno`.
#[cfg(target_arch = "x86_64")]
fn errno_filter(syscalls: &[i64], errno: u32) -> Vec<libc::sock_filter> {
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let stmt = |code: u16, k: u32| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: 0x15,
        jt,
        jf,
        k,
    };
    let mut p = vec![
        stmt(0x20, 4),
        jeq(AUDIT_ARCH_X86_64, 1, 0),
        stmt(0x06, 0x7fff_0000),
        stmt(0x20, 0),
    ];
    for &nr in syscalls {
        p.push(jeq(nr as u32, 0, 1));
        p.push(stmt(0x06, 0x0005_0000 | errno));
    }
    p.push(stmt(0x06, 0x7fff_0000));
    p
}

#[cfg(target_arch = "x86_64")]
fn run_denying(syscalls: &[i64], errno: i32) -> Output {
    let program = errno_filter(syscalls, errno as u32);
    run_with(
        move || {
            let fprog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: prctl with the documented arguments; `fprog` points at the
            // program, which outlives the call.
            unsafe {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        },
        QUICK,
    )
}

#[cfg(target_arch = "x86_64")]
pub fn denied_syscalls_are_not_vdso_failures() -> Result<(), String> {
    // No CPU affinity: the cross-CPU checks cannot run.
    let out = run_denying(&[libc::SYS_sched_setaffinity], libc::EPERM);
    stopped_not_failed(&out, "could not run on this machine")
        .map_err(|e| format!("affinity: {e}"))?;
    let stdout = text(&out.stdout);
    if !stdout.contains("this environment stopped the check: sched_setaffinity") {
        return Err(format!(
            "affinity: the getcpu cross-check does not say why:\n{stdout}"
        ));
    }
    // No new processes or threads at all: refused before any check.
    let out = run_denying(
        &[
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_fork,
            libc::SYS_vfork,
        ],
        libc::EPERM,
    );
    one_line_error(&out, "cannot run a check in a child process")
        .map_err(|e| format!("clone: {e}"))?;
    // No seccomp (as on a kernel built without it): the served and the
    // time-namespace getrandom checks cannot see a fallback.
    let out = run_denying(&[libc::SYS_seccomp, libc::SYS_prctl], libc::EINVAL);
    stopped_not_failed(&out, "could not run on this machine")
        .map_err(|e| format!("seccomp: {e}"))?;
    let stdout = text(&out.stdout);
    for check in ["::served::", "timens::__vdso_getrandom"] {
        let line = stdout.lines().find(|l| l.contains(check)).unwrap_or("");
        if !line.starts_with("SKIP") || !line.contains("this environment stopped the check") {
            return Err(format!(
                "seccomp: {check} is not an environment skip: {line:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(not(target_arch = "x86_64"))]
pub fn denied_syscalls_are_not_vdso_failures() -> Result<(), String> {
    println!("    (not run: the test's seccomp filter is written for x86_64)");
    Ok(())
}

/// `/proc` hidden under an empty tmpfs, in a mount namespace of the run's own.
pub fn no_proc_is_not_a_vdso_failure() -> Result<(), String> {
    let out = Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            "mount -t tmpfs none /proc && exec \"$0\" \"$@\"",
        ])
        .arg(env!("CARGO_BIN_EXE_vdsoconf"))
        .args(QUICK)
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    match out.status.code() {
        Some(0) if !text(&out.stdout).contains("FAIL") => Ok(()),
        _ => stopped_not_failed(&out, "could not run on this machine"),
    }
}
