//! A sleep interrupted by a stop and finished by the kernel's restart: on s390
//! the kernel resumes a call that returned -ERESTART_RESTARTBLOCK (and met a
//! signal with no handler) at the vDSO's `__kernel_restart_syscall`, whose
//! `restart_syscall` carries the call on and returns to where it was made.
//!
//! One thread sleeps in clock_nanosleep; the other stops the whole process
//! with SIGSTOP once it is asleep, and a POSIX timer sends SIGCONT. Nothing
//! but the restart can make the sleep return 0 after its whole interval.

use super::syscall::Errno;

/// What the sleeping thread and the stopping thread saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartReading {
    /// The relative interval the sleep asked for, in milliseconds.
    pub asked_ms: u64,
    /// How long the stopping thread was held by the stop (the timer's SIGCONT
    /// ends it), in milliseconds.
    pub stopped_ms: u64,
    /// The timer's delay: a stop shorter than half of it did not happen.
    pub continue_after_ms: u64,
    /// What clock_nanosleep returned to its caller.
    pub returned: Result<isize, Errno>,
    /// How long the sleep took, from the call to its return, in milliseconds.
    pub elapsed_ms: u64,
}

#[cfg(target_arch = "s390x")]
pub use imp::stopped_sleep;

#[cfg(target_arch = "s390x")]
mod imp {
    use super::super::syscall::{self, raw, Errno};
    use super::RestartReading;
    use core::ffi::c_long;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    const ASKED_MS: u64 = 1000;
    const CONTINUE_AFTER_MS: u64 = 300;

    /// The kernel's `struct sigevent` (64 bytes) for SIGEV_SIGNAL.
    #[repr(C)]
    struct SigEvent {
        value: usize,
        signo: i32,
        notify: i32,
        pad: [i32; 12],
    }

    fn now_ns() -> Result<i128, String> {
        let t = syscall::clock_gettime(libc::CLOCK_MONOTONIC)
            .map_err(|e| format!("clock_gettime: errno {e}"))?;
        Ok(t.sec as i128 * 1_000_000_000 + t.nsec as i128)
    }

    fn ms(ns: i128) -> u64 {
        (ns.max(0) / 1_000_000) as u64
    }

    /// Whether thread `tid` of this process is asleep (state S).
    fn asleep(tid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .ok()
            .and_then(|s| {
                let after_name = s.rsplit_once(')')?.1;
                after_name
                    .split_whitespace()
                    .next()
                    .map(|state| state == "S")
            })
            .unwrap_or(false)
    }

    fn call(nr: c_long, args: &[usize]) -> Result<isize, Errno> {
        // SAFETY: the timer calls below pass pointers to objects of the sizes
        // the kernel reads and writes (a sigevent, a timer id, an itimerspec);
        // kill takes none.
        unsafe { raw(nr, args) }
    }

    pub fn stopped_sleep() -> Result<RestartReading, String> {
        let tid = Arc::new(AtomicI32::new(0));
        let sleeper_tid = tid.clone();
        let sleeper =
            std::thread::spawn(move || -> Result<(Result<isize, Errno>, i128), String> {
                let interval = libc::timespec {
                    tv_sec: (ASKED_MS / 1000) as i64,
                    tv_nsec: ((ASKED_MS % 1000) * 1_000_000) as i64,
                };
                let start = now_ns()?;
                sleeper_tid.store(syscall::gettid(), Ordering::SeqCst);
                // SAFETY: a relative clock_nanosleep reads one timespec and writes
                // none when its remainder pointer is NULL.
                let returned = unsafe {
                    raw(
                        libc::SYS_clock_nanosleep,
                        &[
                            libc::CLOCK_MONOTONIC as usize,
                            0,
                            &interval as *const libc::timespec as usize,
                            0,
                        ],
                    )
                };
                Ok((returned, now_ns()? - start))
            });

        // Wait (boundedly) for the sleeper to be asleep in its call.
        let mut waited = Duration::ZERO;
        while tid.load(Ordering::SeqCst) == 0 || !asleep(tid.load(Ordering::SeqCst)) {
            if waited > Duration::from_secs(5) || sleeper.is_finished() {
                let _ = sleeper.join();
                return Err("the sleeping thread was not seen asleep in clock_nanosleep".into());
            }
            std::thread::sleep(Duration::from_millis(5));
            waited += Duration::from_millis(5);
        }

        let event = SigEvent {
            value: 0,
            signo: libc::SIGCONT,
            notify: libc::SIGEV_SIGNAL,
            pad: [0; 12],
        };
        let mut timer: i32 = 0;
        call(
            libc::SYS_timer_create,
            &[
                libc::CLOCK_MONOTONIC as usize,
                &event as *const SigEvent as usize,
                &mut timer as *mut i32 as usize,
            ],
        )
        .map_err(|e| format!("timer_create: errno {e}"))?;
        let when = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: 0,
                tv_nsec: (CONTINUE_AFTER_MS * 1_000_000) as i64,
            },
        };
        let stop = || -> Result<i128, String> {
            call(
                libc::SYS_timer_settime,
                &[
                    timer as usize,
                    0,
                    &when as *const libc::itimerspec as usize,
                    0,
                ],
            )
            .map_err(|e| format!("timer_settime: errno {e}"))?;
            let before = now_ns()?;
            call(
                libc::SYS_kill,
                &[syscall::getpid() as usize, libc::SIGSTOP as usize],
            )
            .map_err(|e| format!("kill(SIGSTOP): errno {e}"))?;
            Ok(now_ns()? - before)
        };
        let stopped = stop();
        let _ = call(libc::SYS_timer_delete, &[timer as usize]);
        let (returned, elapsed) = sleeper
            .join()
            .map_err(|_| "the sleeping thread panicked".to_string())??;
        Ok(RestartReading {
            asked_ms: ASKED_MS,
            stopped_ms: ms(stopped?),
            continue_after_ms: CONTINUE_AFTER_MS,
            returned,
            elapsed_ms: ms(elapsed),
        })
    }
}
