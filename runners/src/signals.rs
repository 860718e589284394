//! SIGINT, SIGTERM and SIGHUP to the main process: stop cleanly. The handler only
//! records the signal; whoever waits on a child (a case, qemu) sees it within a
//! few milliseconds, kills and reaps the child, and the run stops with the results
//! it has. A child of a case dies with its parent (`PR_SET_PDEATHSIG`), so even a
//! main process killed outright leaves no check running.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(sig: libc::c_int) {
    RECEIVED.store(sig, Ordering::SeqCst);
}

/// Makes SIGINT, SIGTERM and SIGHUP stop the run instead of killing the process.
pub fn install() {
    vdsoconf_suite::vdso::process::on_signals(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP], record);
}

/// The stopping signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// The signal's name, for the one line that says the run stopped.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// In a child of a case: die when the process that started it does.
pub fn die_with_parent() {
    vdsoconf_suite::vdso::process::die_with_parent();
}
