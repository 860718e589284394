//! Served means "made no system call", seen by the syscall watch the served check
//! starts, not guessed from a return value. Each fake clock_gettime below is called
//! through the same typed call as a real vDSO function, in a child process of this
//! test (the watch lasts for the rest of a process), and judged by the served judge.

use std::process::Command;
use vdsoconf_suite::checks::live::served::{
    install_fallback_trap, judge_served, Expected, Service, ServiceCase,
};
use vdsoconf_suite::checks::{CheckResult, Verdict};
use vdsoconf_suite::vdso::{ClockGettime, Handle, VdsoFn};

const CHILD: &str = "VDSOCONF_SERVED_WATCH_CHILD";

fn write_timespec(ts: usize) {
    // SAFETY: `ts` is the guarded output of a timespec the typed call passes.
    unsafe {
        (ts as *mut libc::timespec).write(libc::timespec {
            tv_sec: 5,
            tv_nsec: 0,
        })
    }
}

/// The clock_gettime syscall, as a vDSO fallback makes it: its return value in the
/// generic convention (a negative errno).
fn clock_gettime_syscall(clock: usize, ts: usize) -> isize {
    // SAFETY: clock_gettime with the caller's (guarded) output.
    let r = unsafe { libc::syscall(libc::SYS_clock_gettime, clock, ts) };
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as isize)
    } else {
        r as isize
    }
}

/// Served: reads its clock without entering the kernel.
extern "C" fn in_user_space(_: usize, ts: usize, _: usize, _: usize, _: usize) -> isize {
    write_timespec(ts);
    0
}

/// A fallback that passes the syscall's answer on.
extern "C" fn honest_fallback(clock: usize, ts: usize, _: usize, _: usize, _: usize) -> isize {
    clock_gettime_syscall(clock, ts)
}

/// A fallback that ignores the syscall's error and returns a plausible time:
/// judged by its return value alone it looks served.
extern "C" fn fallback_ignoring_its_error(
    clock: usize,
    ts: usize,
    _: usize,
    _: usize,
    _: usize,
) -> isize {
    let _ = clock_gettime_syscall(clock, ts);
    write_timespec(ts);
    0
}

/// Served, but it asks the kernel something else on the way (getppid).
extern "C" fn served_with_a_stray_syscall(
    _: usize,
    ts: usize,
    _: usize,
    _: usize,
    _: usize,
) -> isize {
    // SAFETY: getppid takes nothing.
    unsafe { libc::getppid() };
    write_timespec(ts);
    0
}

type Fake = extern "C" fn(usize, usize, usize, usize, usize) -> isize;

const FAKES: [(&str, Fake); 4] = [
    ("in_user_space", in_user_space),
    ("honest_fallback", honest_fallback),
    ("fallback_ignoring_its_error", fallback_ignoring_its_error),
    ("served_with_a_stray_syscall", served_with_a_stray_syscall),
];

fn verdict_line(name: &str, expected: Expected, r: &CheckResult) -> String {
    let v = match &r.verdict {
        Verdict::Pass => "pass".to_string(),
        Verdict::Fail { message } => format!("fail {message}"),
        other => format!("{other:?}"),
    };
    format!("{name} {expected:?}: {v}")
}

/// The child: starts the watch, calls each fake as the spec's "served" and as its
/// "falls back", prints one judged line each.
fn child() {
    if let Err(why) = install_fallback_trap() {
        println!("unrunnable {why}");
        return;
    }
    // Outside a vDSO call a syscall is neither counted nor refused.
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime with a timespec on this stack.
    let outside = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    println!("outside {outside}");
    for (name, fake) in FAKES {
        // SAFETY: a Rust function with the C ABI and clock_gettime's prototype.
        let f = ClockGettime::from_fn(unsafe { VdsoFn::new(fake as usize) });
        for expected in [Expected::Served, Expected::Fallback] {
            let case = ServiceCase {
                what: "MONOTONIC (1)".into(),
                expected: expected.clone(),
                observed: Service::of(|| f.read(libc::CLOCK_MONOTONIC).map(|_| ())),
            };
            println!(
                "{}",
                verdict_line(name, expected, &judge_served(&[case], String::new()))
            );
        }
    }
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let out = Command::new(std::env::current_exe().expect("the test's own path"))
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child: {:?} {stdout}", out.status);
    if let Some(why) = stdout.strip_prefix("unrunnable ") {
        println!("test served_watch ... ignored (this machine cannot watch syscalls: {why})");
        return;
    }
    let lines: Vec<&str> = stdout.lines().collect();
    let want: [(&str, &str); 9] = [
        ("outside 0", ""),
        ("in_user_space Served: pass", ""),
        (
            "in_user_space Fallback: fail",
            "served in user space, the spec says it falls back",
        ),
        (
            "honest_fallback Served: fail",
            "fell back to the syscall, the spec says it is served",
        ),
        ("honest_fallback Fallback: pass", ""),
        (
            "fallback_ignoring_its_error Served: fail",
            "made the clock_gettime syscall, which was refused with",
        ),
        (
            "fallback_ignoring_its_error Fallback: fail",
            "and returned success instead",
        ),
        (
            "served_with_a_stray_syscall Served: fail",
            "entered the kernel with the",
        ),
        (
            "served_with_a_stray_syscall Fallback: fail",
            "which no fallback of a vDSO function makes",
        ),
    ];
    assert_eq!(lines.len(), want.len(), "{stdout}");
    for (line, (start, has)) in lines.iter().zip(want) {
        assert!(
            line.starts_with(start) && line.contains(has),
            "{line:?} is not {start:?} … {has:?}\n{stdout}"
        );
    }
    println!("test served_watch ... ok ({} cases)", want.len());
}
