//! A single-threaded process forking one child per case (the runners' case
//! server): the fork, the child's pipes, and waiting on it without threads.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::Duration;

/// Which side of [`fork_case`] this is.
pub enum Forked {
    /// The child: its standard input is /dev/null, its output goes to the pipes.
    Child,
    /// The parent, with the child's process id and the read ends of its pipes.
    Parent {
        pid: i32,
        stdout: File,
        /// `None` when the child writes to the parent's standard error.
        stderr: Option<File>,
    },
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signaled(i32),
}

fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2(2) fills the two descriptors, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// Forks this process for one case. The child leads a process group of its own
/// (so that it and whatever it starts can be ended together), receives SIGKILL
/// when this process dies, reads /dev/null, and writes its standard output (and
/// its standard error unless `inherit_stderr`) to pipes the parent reads.
///
/// Only for a single-threaded process (the caller's promise): the child runs
/// on with a copy of everything, locks included.
pub fn fork_case(inherit_stderr: bool) -> io::Result<Forked> {
    let (out_r, out_w) = pipe()?;
    let err = if inherit_stderr { None } else { Some(pipe()?) };
    let null = File::open("/dev/null")?;
    // SAFETY: getpid(2) cannot fail.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork in a single-threaded process (the caller's promise).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: setpgid, prctl, getppid, dup2 and _exit on our own process and
        // on descriptors this function opened.
        unsafe {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // The parent may have died before the line above.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            let moved = libc::dup2(null.as_raw_fd(), 0) == 0
                && libc::dup2(out_w.as_raw_fd(), 1) == 1
                && err
                    .as_ref()
                    .is_none_or(|(_, w)| libc::dup2(w.as_raw_fd(), 2) == 2);
            if !moved {
                libc::_exit(1);
            }
        }
        return Ok(Forked::Child);
    }
    // Also from this side, so the group exists before anyone signals it.
    // SAFETY: setpgid on our own child.
    unsafe { libc::setpgid(pid, pid) };
    Ok(Forked::Parent {
        pid,
        stdout: out_r,
        stderr: err.map(|(r, _)| r),
    })
}

/// Whether child `pid` has ended (reaping it if so); with `block`, waits until
/// it has.
pub fn wait_child(pid: i32, block: bool) -> io::Result<Option<Ended>> {
    let mut status = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: waitpid(2) on our own child, writing one int.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    if r == 0 {
        return Ok(None);
    }
    Ok(Some(if libc::WIFSIGNALED(status) {
        Ended::Signaled(libc::WTERMSIG(status))
    } else {
        Ended::Exited(libc::WEXITSTATUS(status))
    }))
}

/// Waits up to `timeout` until one of `files` can be read (or is at its end);
/// returns which can.
pub fn readable(files: &[&File], timeout: Duration) -> io::Result<Vec<bool>> {
    let mut fds: Vec<libc::pollfd> = files
        .iter()
        .map(|f| libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: poll(2) on our own array of descriptors, of the length we pass.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; files.len()]);
        }
        return Err(e);
    }
    Ok(fds.iter().map(|p| p.revents != 0).collect())
}
