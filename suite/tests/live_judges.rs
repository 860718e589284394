//! Every live check kind, fed a deliberately broken implementation, fails with a
//! useful message; fed a correct one, it passes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use vdsoconf_suite::checks::live::badptr::{
    cases_for, judge_bad_pointer, must_fault, CallOutcome, PtrArg, PtrCase,
};
use vdsoconf_suite::checks::live::clocks::{ClockCase, Reading};
use vdsoconf_suite::checks::live::consistency::{
    judge_consistency, Interleaved, Source as ConsistencySource,
};
use vdsoconf_suite::checks::live::crosscheck::{self, Answers};
use vdsoconf_suite::checks::live::monotonic::{judge_monotonic, run_monotonic, MonotonicProbe};
use vdsoconf_suite::checks::live::served::{judge_served, Expected, Service, ServiceCase};
use vdsoconf_suite::checks::live::timens::{
    judge_timens, parse_offsets, InnerReading, InnerReport, Judged, Offsets, Phase,
    ResolutionReading, POSITIVE,
};
use vdsoconf_suite::checks::{apply_deviations, plan, CheckResult, Group, Problem, Verdict};
use vdsoconf_suite::kinds::futex::{
    self, judge_futex_unlock, SlowPath, UnlockCall, UnlockCase, FUTEX_WAITERS,
};
use vdsoconf_suite::kinds::getrandom::{self, RandomCase};
use vdsoconf_suite::kinds::riscv::{judge_flush_icache, judge_hwprobe, HWPROBE_UNKNOWN_KEY};
use vdsoconf_suite::kinds::{clock, getcpu, gettimeofday, powerpc, restart, time, trampoline};
use vdsoconf_suite::spec::{builtin, BadPointer, KernelVersion, Provider, SymbolKind};
use vdsoconf_suite::vdso::restart::RestartReading;
use vdsoconf_suite::vdso::signals::SignalReturn;
use vdsoconf_suite::vdso::{HwprobeIo, HwprobePair, LockState, SyscallMap, Timespec, Timezone};

fn fails_with(r: &CheckResult, needle: &str) {
    match &r.verdict {
        Verdict::Fail { message } => {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        v => panic!("expected a failure mentioning {needle:?}, got {v:?}"),
    }
}

const CASES: [ClockCase; 3] = [
    ClockCase {
        id: 1,
        label: "MONOTONIC",
    },
    ClockCase {
        id: 6,
        label: "MONOTONIC_COARSE",
    },
    ClockCase {
        id: 24,
        label: "beyond the last",
    },
];

/// A fake kernel: MONOTONIC advances 100 ns per reading; id 24 is EINVAL.
fn kernel_clock(now: &AtomicI64) -> impl FnMut(i32) -> Reading + '_ {
    move |id| match id {
        24 => Err(libc::EINVAL),
        _ => {
            let t = now.fetch_add(100, Ordering::SeqCst) + 100;
            Ok(Timespec {
                sec: t / 1_000_000_000,
                nsec: t % 1_000_000_000,
            })
        }
    }
}

#[test]
fn gettime_crosscheck_catches_a_clock_behind_the_syscall_and_wrong_errors() {
    let now = AtomicI64::new(5_000_000_000);
    let res = |_| {
        Ok(Timespec {
            sec: 0,
            nsec: 4_000_000,
        })
    };
    // Correct: reads the same clock.
    let mut sys = kernel_clock(&now);
    let r = clock::judge_gettime_against_syscall(
        &CASES,
        &mut |id| {
            let v = kernel_clock(&now)(id);
            (v, true)
        },
        &mut sys,
        &mut { res },
    );
    assert!(r.is_pass(), "{r:?}");
    // Broken: a clock that lags a second behind.
    let mut sys = kernel_clock(&now);
    let r = clock::judge_gettime_against_syscall(
        &CASES[..1],
        &mut |id| {
            (
                kernel_clock(&now)(id).map(|t| Timespec {
                    sec: t.sec - 1,
                    ..t
                }),
                true,
            )
        },
        &mut sys,
        &mut { res },
    );
    fails_with(&r, "outside the syscall readings");
    // Broken: accepts an id the syscall rejects, or rejects with the wrong errno.
    let mut sys = kernel_clock(&now);
    let r = clock::judge_gettime_against_syscall(
        &CASES[2..],
        &mut |_| (Err(libc::EFAULT), true),
        &mut sys,
        &mut { res },
    );
    fails_with(&r, "syscall says EINVAL, vDSO EFAULT");
    // Broken: rejects correctly but scribbles on the timespec first.
    let mut sys = kernel_clock(&now);
    let r = clock::judge_gettime_against_syscall(
        &CASES[2..],
        &mut |_| (Err(libc::EINVAL), false),
        &mut sys,
        &mut { res },
    );
    fails_with(
        &r,
        "rejected with EINVAL as the syscall does, but wrote the timespec",
    );
    // The note lists only ids rejected with the timespec left alone.
    assert!(
        r.notes.iter().all(|n| !n.contains("=EINVAL")),
        "{:?}",
        r.notes
    );
    // Broken: unnormalized nanoseconds.
    let mut sys = kernel_clock(&now);
    let r = clock::judge_gettime_against_syscall(
        &CASES[..1],
        &mut |_| {
            (
                Ok(Timespec {
                    sec: 5,
                    nsec: 1_000_000_000,
                }),
                true,
            )
        },
        &mut sys,
        &mut { res },
    );
    fails_with(&r, "not normalized");
}

#[test]
fn coarse_clocks_may_lag_by_their_resolution_but_no_more() {
    let now = AtomicI64::new(5_000_000_000);
    let coarse = &CASES[1..2];
    let res = |_| {
        Ok(Timespec {
            sec: 0,
            nsec: 4_000_000,
        })
    };
    let mut sys = kernel_clock(&now);
    let lag = |ns: i64| {
        move |id| {
            let t = kernel_clock(&AtomicI64::new(5_000_000_000 - ns))(id).unwrap();
            (Ok(t), true)
        }
    };
    let r =
        clock::judge_gettime_against_syscall(coarse, &mut lag(3_000_000), &mut sys, &mut { res });
    assert!(r.is_pass(), "{r:?}");
    let mut sys = kernel_clock(&now);
    let r =
        clock::judge_gettime_against_syscall(coarse, &mut lag(9_000_000), &mut sys, &mut { res });
    fails_with(&r, "coarse lag");
}

#[test]
fn a_getres_that_lies_fails() {
    let sys = |id: i32| {
        if id == 24 {
            Err(libc::EINVAL)
        } else {
            Ok(Timespec { sec: 0, nsec: 1 })
        }
    };
    let r = clock::judge_getres_against_syscall(
        &CASES,
        &mut { sys },
        &mut |id| sys(id).map(|_| ()),
        &mut { sys },
    );
    assert!(r.is_pass(), "{r:?}");
    let r = clock::judge_getres_against_syscall(
        &CASES,
        &mut |_| Ok(Timespec { sec: 0, nsec: 1000 }),
        &mut |id| sys(id).map(|_| ()),
        &mut { sys },
    );
    fails_with(&r, "syscall 0.000000001, vDSO 0.000001000");
    let r = clock::judge_getres_against_syscall(
        &CASES,
        &mut { sys },
        &mut |_| Err(libc::EFAULT),
        &mut { sys },
    );
    fails_with(&r, "with a NULL res");
}

#[test]
fn a_gettimeofday_that_ignores_tz_or_nulls_fails() {
    let tz = Timezone {
        tz_minuteswest: -60,
        tz_dsttime: 0,
    };
    let at = |us: i64, tz| Ok((1_764_000_000, us, tz));
    let ok = [Ok(()), Ok(()), Ok(())];
    assert!(
        gettimeofday::judge_gettimeofday_against_syscall(at(1, tz), at(2, tz), at(3, tz), ok)
            .is_pass()
    );
    fails_with(
        &gettimeofday::judge_gettimeofday_against_syscall(
            at(1, tz),
            at(2, Timezone::default()),
            at(3, tz),
            ok,
        ),
        "timezone",
    );
    fails_with(
        &gettimeofday::judge_gettimeofday_against_syscall(at(5, tz), at(2, tz), at(6, tz), ok),
        "outside the syscall readings",
    );
    fails_with(
        &gettimeofday::judge_gettimeofday_against_syscall(
            at(1, tz),
            at(2, tz),
            at(3, tz),
            [Ok(()), Err(libc::EFAULT), Ok(())],
        ),
        "NULL tz",
    );
}

#[test]
fn time_judge_catches_disagreement() {
    assert!(time::judge_time_against_syscall(100, 100, 100, 101, 101).is_pass());
    fails_with(
        &time::judge_time_against_syscall(100, 100, 99, 101, 100),
        "stored 99",
    );
    fails_with(
        &time::judge_time_against_syscall(100, 90, 90, 101, 100),
        "outside",
    );
}

#[test]
fn a_getcpu_that_reports_the_wrong_cpu_fails() {
    assert!(getcpu::judge_getcpu_against_syscall(&[
        (0, Ok((0, 0)), Ok((0, 0))),
        (1, Ok((1, 0)), Ok((1, 0)))
    ])
    .is_pass());
    fails_with(
        &getcpu::judge_getcpu_against_syscall(&[(1, Ok((0, 0)), Ok((1, 0)))]),
        "pinned to CPU 1: vDSO says 0",
    );
    fails_with(
        &getcpu::judge_getcpu_against_syscall(&[(1, Ok((1, 1)), Ok((1, 0)))]),
        "node 1",
    );
    assert!(matches!(
        getcpu::judge_getcpu_against_syscall(&[]).verdict,
        Verdict::Skip { .. }
    ));
}

#[test]
fn getrandom_judge_catches_wrong_lengths_errors_and_repeats() {
    let same = |what: &str, v, s| RandomCase {
        what: what.into(),
        vdso: v,
        sys: s,
    };
    assert!(getrandom::judge_getrandom_against_syscall(
        &[
            same("32", Ok(32), Ok(32)),
            same("bad flag", Err(22), Err(22))
        ],
        &[("x", true)]
    )
    .is_pass());
    fails_with(
        &getrandom::judge_getrandom_against_syscall(&[same("1 MiB", Ok(4096), Ok(1 << 20))], &[]),
        "1 MiB: vDSO 4096 bytes",
    );
    fails_with(
        &getrandom::judge_getrandom_against_syscall(&[same("bad flag", Ok(32), Err(22))], &[]),
        "syscall EINVAL",
    );
    fails_with(
        &getrandom::judge_getrandom_against_syscall(&[], &[("parent and child after fork", false)]),
        "identical",
    );
}

fn fake_probe_run(step_back_at: i64) -> CheckResult {
    let now = AtomicI64::new(0);
    let read = || {
        let t = now.fetch_add(1, Ordering::SeqCst);
        // One reading far in the past: a clock that steps back once.
        let t = if t == step_back_at { 0 } else { 1_000_000 + t };
        Ok(Timespec {
            sec: t / 1_000_000_000,
            nsec: t % 1_000_000_000,
        })
    };
    let probe = MonotonicProbe {
        vdso: &read,
        sys: &read,
        cpus: vec![0, 1],
        pin: &|_| true,
        progress: &|_| {},
    };
    let report = run_monotonic(&probe, Duration::from_millis(50));
    judge_monotonic(&report, false, false)
}

#[test]
fn a_clock_that_steps_back_fails_the_monotonic_check() {
    assert!(fake_probe_run(-1).is_pass());
    let r = fake_probe_run(1000);
    fails_with(&r, "went backwards by");
}

/// A backward step says how it was seen, as its symptom's detail: a syscall
/// reading up to a second behind the vDSO reading just before it is told
/// apart (the time() deviation names exactly that), a larger one is not.
#[test]
fn a_backward_step_names_how_it_was_seen() {
    let run = |ahead_ns: i64| {
        let at = |ns: i64| Timespec {
            sec: 1000 + ns / 1_000_000_000,
            nsec: ns % 1_000_000_000,
        };
        let vdso = move || Ok(at(ahead_ns));
        let sys = move || Ok(at(0));
        let probe = MonotonicProbe {
            vdso: &vdso,
            sys: &sys,
            cpus: vec![0],
            pin: &|_| true,
            progress: &|_| {},
        };
        judge_monotonic(
            &run_monotonic(&probe, Duration::from_millis(20)),
            false,
            false,
        )
    };
    let symptoms = |r: &CheckResult| r.symptoms.clone();
    let within = run(999_999_999);
    assert!(
        symptoms(&within).contains(&"went-backwards:syscall-after-vdso-within-1s".to_string()),
        "{within:?}"
    );
    let beyond = run(1_000_000_000 + 1);
    assert!(
        symptoms(&beyond).contains(&"went-backwards:syscall-after-vdso".to_string()),
        "{beyond:?}"
    );
}

#[test]
fn a_stepped_realtime_clock_is_a_skip_not_a_failure() {
    let report = vdsoconf_suite::checks::live::monotonic::MonotonicReport {
        readings: 10,
        worst: Some(vdsoconf_suite::checks::live::monotonic::BackwardStep {
            ns: 5,
            at: "x".into(),
            how: "vdso-after-syscall".into(),
        }),
        errors: vec![],
        refused: vec![],
    };
    assert!(matches!(
        judge_monotonic(&report, true, true).verdict,
        Verdict::Skip { .. }
    ));
    fails_with(&judge_monotonic(&report, true, false), "went backwards");
}

#[test]
fn threads_or_affinity_refused_make_the_monotonic_check_unrunnable_not_failed() {
    use vdsoconf_suite::checks::live::monotonic::MonotonicReport;
    let refused = MonotonicReport {
        readings: 0,
        worst: None,
        errors: vec![],
        refused: vec!["cannot start a thread for CPU 1: Resource temporarily unavailable".into()],
    };
    let r = judge_monotonic(&refused, false, false);
    assert!(r.environment, "{r:?}");
    assert!(
        matches!(&r.verdict, Verdict::Skip { reason } if reason.contains("cannot start a thread for CPU 1")),
        "{r:?}"
    );
    // A clock that went backwards is still a failure, whatever else was refused.
    let both = MonotonicReport {
        worst: Some(vdsoconf_suite::checks::live::monotonic::BackwardStep {
            ns: 5,
            at: "x".into(),
            how: "cross-thread".into(),
        }),
        readings: 10,
        ..refused
    };
    assert!(judge_monotonic(&both, false, false).is_fail());
}

#[test]
fn bad_pointer_judge_accepts_what_the_spec_allows_and_nothing_else() {
    let case = PtrCase {
        args: vec![PtrArg::ProtRead],
        clock: 1,
    };
    let k = SymbolKind::ClockGettime;
    let efault = Some(Err(libc::EFAULT));
    let segv = CallOutcome::Signal(libc::SIGSEGV);
    let ret_efault = CallOutcome::Returned(-i64::from(libc::EFAULT));
    assert!(judge_bad_pointer(k, &case, BadPointer::EfaultOrSigsegv, efault, segv).is_pass());
    assert!(judge_bad_pointer(k, &case, BadPointer::EfaultOrSigsegv, efault, ret_efault).is_pass());
    fails_with(
        &judge_bad_pointer(k, &case, BadPointer::Efault, efault, segv),
        "SIGSEGV; the spec says EFAULT",
    );
    fails_with(
        &judge_bad_pointer(
            k,
            &case,
            BadPointer::EfaultOrSigsegv,
            efault,
            CallOutcome::Signal(libc::SIGBUS),
        ),
        &format!("signal {}", libc::SIGBUS),
    );
    // MIPS: an address error (a kernel-segment or misaligned address) is SIGBUS.
    let bus = CallOutcome::Signal(libc::SIGBUS);
    let mips = BadPointer::EfaultSigsegvOrSigbus;
    assert!(judge_bad_pointer(k, &case, mips, efault, bus).is_pass());
    assert!(judge_bad_pointer(k, &case, mips, efault, segv).is_pass());
    assert!(judge_bad_pointer(k, &case, mips, efault, ret_efault).is_pass());
    fails_with(
        &judge_bad_pointer(k, &case, mips, efault, CallOutcome::Signal(libc::SIGILL)),
        &format!("signal {}", libc::SIGILL),
    );
    fails_with(
        &judge_bad_pointer(k, &case, mips, efault, CallOutcome::Returned(0)),
        "expected EFAULT, SIGSEGV or SIGBUS",
    );
    fails_with(
        &judge_bad_pointer(
            k,
            &case,
            BadPointer::EfaultOrSigsegv,
            efault,
            CallOutcome::Returned(0),
        ),
        "returned 0 for a bad pointer",
    );
    fails_with(
        &judge_bad_pointer(
            k,
            &case,
            BadPointer::EfaultOrSigsegv,
            efault,
            CallOutcome::Hung,
        ),
        "hung",
    );
    // A call that crashes on an allowed NULL fails.
    let null_tz = PtrCase {
        args: vec![PtrArg::Valid, PtrArg::Null],
        clock: 0,
    };
    assert!(!must_fault(SymbolKind::Gettimeofday, &null_tz));
    fails_with(
        &judge_bad_pointer(
            SymbolKind::Gettimeofday,
            &null_tz,
            BadPointer::EfaultOrSigsegv,
            Some(Ok(0)),
            segv,
        ),
        "killed",
    );
    // vdsotest's case: an invalid clock with a NULL timespec is EINVAL, no signal.
    let invalid = PtrCase {
        args: vec![PtrArg::Null],
        clock: -1,
    };
    assert!(judge_bad_pointer(
        k,
        &invalid,
        BadPointer::EfaultOrSigsegv,
        Some(Err(libc::EINVAL)),
        CallOutcome::Returned(-22)
    )
    .is_pass());
    fails_with(
        &judge_bad_pointer(
            k,
            &invalid,
            BadPointer::EfaultOrSigsegv,
            Some(Err(libc::EINVAL)),
            segv,
        ),
        "killed",
    );
}

#[test]
fn bad_pointer_cases_cover_every_combination_for_gettimeofday_and_getcpu() {
    let monotonic = [1];
    assert_eq!(
        cases_for(SymbolKind::Gettimeofday, &monotonic).len(),
        7 * 7 - 4
    );
    assert_eq!(cases_for(SymbolKind::Getcpu, &monotonic).len(), 6 * 6 - 4);
    assert_eq!(cases_for(SymbolKind::ClockGettime, &monotonic).len(), 7);
    assert!(cases_for(SymbolKind::SignalTrampoline, &monotonic).is_empty());
}

/// vdsotest gives every clock every bad pointer: so does the plan, for every
/// clock the vDSO serves (coarse, raw, BOOTTIME, TAI: each its own path), an
/// auxiliary clock and a clock it passes to the syscall. Clock-less kinds are
/// not multiplied.
#[test]
fn bad_pointer_cases_cover_every_served_clock() {
    let spec = vdsoconf_suite::spec::builtin("x86_64").unwrap().unwrap();
    let clocks = vdsoconf_suite::checks::live::badptr::clocks_to_try(&spec);
    assert_eq!(
        clocks[0], 1,
        "MONOTONIC first: its case names stay as they were"
    );
    for want in [0, 4, 5, 6, 7, 11, 16, 2] {
        assert!(
            clocks.contains(&want),
            "clock {want} missing from {clocks:?}"
        );
    }
    let gettime = cases_for(SymbolKind::ClockGettime, &clocks);
    // Six bad pointers per clock, plus the invalid clock with NULL.
    assert_eq!(gettime.len(), 6 * clocks.len() + 1);
    assert!(gettime
        .iter()
        .any(|c| c.clock == 5 && c.args == [PtrArg::Straddle]));
    let names: std::collections::BTreeSet<String> = gettime
        .iter()
        .map(|c| c.label(SymbolKind::ClockGettime))
        .collect();
    assert_eq!(names.len(), gettime.len(), "names are distinct");
    assert!(names.contains("ts=null"), "{names:?}");
    assert!(
        names.contains("ts=kernel,clock=MONOTONIC_COARSE"),
        "{names:?}"
    );
    assert_eq!(
        cases_for(SymbolKind::Gettimeofday, &clocks).len(),
        7 * 7 - 4
    );
}

/// A clock the kernel rejects before it looks at the pointer (an auxiliary clock
/// not enabled): the vDSO must reject it the same way, not fault or return 0.
#[test]
fn bad_pointer_judge_wants_a_rejected_clock_rejected_alike() {
    let k = SymbolKind::ClockGettime;
    let aux = PtrCase {
        args: vec![PtrArg::ProtNone],
        clock: 16,
    };
    let enodev = Some(Err(libc::ENODEV));
    let expect = BadPointer::EfaultOrSigsegv;
    let rejected = CallOutcome::Returned(-i64::from(libc::ENODEV));
    assert!(judge_bad_pointer(k, &aux, expect, enodev, rejected).is_pass());
    fails_with(
        &judge_bad_pointer(k, &aux, expect, enodev, CallOutcome::Returned(0)),
        "rejects AUX0 with ENODEV; the vDSO returned 0",
    );
    fails_with(
        &judge_bad_pointer(k, &aux, expect, enodev, CallOutcome::Signal(libc::SIGSEGV)),
        "killed by signal 11",
    );
    // An enabled clock: the pointer decides, as for MONOTONIC.
    let efault = Some(Err(libc::EFAULT));
    fails_with(
        &judge_bad_pointer(k, &aux, expect, efault, CallOutcome::Returned(0)),
        "returned 0 for a bad pointer",
    );
}

#[test]
fn a_served_call_that_should_have_fallen_back_fails() {
    let case = |expected, observed| ServiceCase {
        what: "CLOCK_PROCESS_CPUTIME_ID (2)".into(),
        expected,
        observed,
    };
    let fell_back = judge_served(&[case(Expected::Fallback, Service::Fallback)], "ctx".into());
    assert!(fell_back.is_pass());
    assert_eq!(
        fell_back.notes,
        ["ctx; served without entering the kernel: none; fell back, passing the refused syscall's errno on: 1 case(s)"]
    );
    // With no case that falls back, the note says nothing of falling back.
    let served = judge_served(&[case(Expected::Served, Service::Served)], "ctx".into());
    assert_eq!(
        served.notes,
        ["ctx; served without entering the kernel: CLOCK_PROCESS_CPUTIME_ID (2)"]
    );
    fails_with(
        &judge_served(&[case(Expected::Fallback, Service::Served)], "ctx".into()),
        "served in user space, the spec says it falls back",
    );
    fails_with(
        &judge_served(&[case(Expected::Served, Service::Fallback)], "ctx".into()),
        "fell back",
    );
    fails_with(
        &judge_served(&[case(Expected::Served, Service::Failed(22))], "ctx".into()),
        "EINVAL",
    );
}

/// What the syscall watch saw decides, not the return value: a fallback that makes
/// the refused syscall and returns success anyway is not served.
#[test]
// `c_long` is i32 on 32-bit targets: the widening is not useless there.
#[allow(clippy::unnecessary_cast)]
fn a_fallback_that_ignores_its_error_is_not_served() {
    use vdsoconf_suite::checks::live::served::FALLBACK_MARK;
    use vdsoconf_suite::vdso::syscall_watch::Entered;
    let nr = libc::SYS_clock_gettime as i64;
    let refused = Entered {
        count: 1,
        first: Some(nr),
        refused: true,
    };
    assert_eq!(
        Service::from_call(Ok(()), Entered::default()),
        Service::Served
    );
    assert_eq!(
        Service::from_call(Err(FALLBACK_MARK), refused),
        Service::Fallback
    );
    let ignored = Service::from_call(Ok(()), refused);
    assert_eq!(
        ignored,
        Service::Entered {
            first: nr,
            refused: true,
            status: Ok(())
        }
    );
    let case = |expected, observed| ServiceCase {
        what: "MONOTONIC (1)".into(),
        expected,
        observed,
    };
    for expected in [Expected::Served, Expected::Fallback] {
        let r = judge_served(&[case(expected, ignored)], "ctx".into());
        fails_with(&r, "made the clock_gettime syscall, which was refused with");
        assert_eq!(r.symptoms, vec!["error-ignored:MONOTONIC (1)".to_string()]);
    }
    // Replacing the syscall's errno with another is no better.
    fails_with(
        &judge_served(
            &[case(
                Expected::Fallback,
                Service::from_call(Err(libc::EINVAL), refused),
            )],
            "ctx".into(),
        ),
        "and returned EINVAL instead",
    );
    // A syscall no fallback makes, even on a call that returns success.
    let stray = Service::from_call(
        Ok(()),
        Entered {
            count: 1,
            first: Some(libc::SYS_getppid as i64),
            refused: false,
        },
    );
    let r = judge_served(&[case(Expected::Served, stray)], "ctx".into());
    fails_with(&r, "entered the kernel with the number");
    assert_eq!(r.symptoms, vec!["kernel-entered:MONOTONIC (1)".to_string()]);
}

/// A namespace's readings: `clock` read by the vDSO at `vdso`, bracketed by
/// syscall readings 1 ns either side; and again after leaving at `left`.
fn timens_phase(offsets: Offsets, clock: i32, vdso: i128, left: i128) -> Phase {
    let s = 1_000_000_000i128;
    let reading = |v: i128| InnerReport {
        readings: vec![InnerReading {
            clock,
            label: "clock".into(),
            before: v - 1,
            vdso: v,
            after: v + 1,
            granularity_ns: 1,
            coarse: false,
        }],
        ..Default::default()
    };
    let mut inner = reading(vdso);
    inner.left = Some(Box::new(reading(left)));
    Phase {
        offsets,
        outside: vec![(clock, 100 * s, 101 * s)],
        inner,
    }
}

#[test]
fn a_time_namespace_offset_that_is_not_applied_fails() {
    let s = 1_000_000_000i128;
    let negative = Offsets {
        monotonic: -90 * s,
        boottime: -95 * s,
    };
    let inside = Judged::Offsets;
    // MONOTONIC outside at 100 s: +10 s inside, -90 s in the second namespace,
    // unshifted after leaving either.
    let good = [
        timens_phase(POSITIVE, 1, 110 * s + 5, 100 * s + 7),
        timens_phase(negative, 1, 10 * s + 5, 100 * s + 7),
    ];
    assert!(judge_timens(&good, inside).is_pass());
    assert!(judge_timens(&good[..1], Judged::AfterLeaving).is_pass());
    // The positive offset ignored.
    fails_with(
        &judge_timens(
            &[timens_phase(POSITIVE, 1, 100 * s + 5, 100 * s + 7)],
            inside,
        ),
        "not the outside clock +10 s",
    );
    // The negative one taken as positive.
    fails_with(
        &judge_timens(
            &[timens_phase(negative, 1, 190 * s + 5, 100 * s + 7)],
            inside,
        ),
        "not the outside clock -90 s",
    );
    // BOOTTIME given MONOTONIC's offset.
    fails_with(
        &judge_timens(
            &[timens_phase(negative, 7, 10 * s + 5, 100 * s + 7)],
            inside,
        ),
        "not the outside clock -95 s",
    );
    // REALTIME shifted.
    let r = judge_timens(
        &[timens_phase(POSITIVE, 0, 110 * s + 5, 100 * s + 7)],
        inside,
    );
    fails_with(&r, "not the outside clock +0 s");
    // Still shifted after setns to the parent's namespace.
    let still = [timens_phase(POSITIVE, 1, 110 * s + 5, 110 * s + 7)];
    assert!(judge_timens(&still, inside).is_pass());
    let r = judge_timens(&still, Judged::AfterLeaving);
    fails_with(&r, "after setns");
    assert!(
        r.symptoms.iter().any(|x| x.starts_with("timens-left")),
        "{r:?}"
    );
    // Leaving not tried at all.
    let mut unleft = timens_phase(POSITIVE, 1, 110 * s + 5, 0);
    unleft.inner.left = None;
    fails_with(
        &judge_timens(&[unleft.clone()], Judged::AfterLeaving),
        "did not read again",
    );
    // A process that may not leave (qemu-user's threads): a skip, never a pass.
    unleft.inner.left = Some(Box::new(InnerReport {
        not_applicable: Some("setns needs a single-threaded process".into()),
        ..Default::default()
    }));
    let r = judge_timens(&[unleft], Judged::AfterLeaving);
    assert!(
        matches!(&r.verdict, Verdict::Skip { .. }) && !r.environment,
        "{r:?}"
    );
    // The vDSO disagreeing with the syscall inside.
    let mut skewed = timens_phase(POSITIVE, 1, 110 * s + 5, 100 * s + 7);
    skewed.inner.readings[0].before = 111 * s;
    fails_with(
        &judge_timens(&[skewed], inside),
        "outside the syscall readings around it",
    );
    fails_with(
        &judge_timens(
            &[Phase {
                offsets: POSITIVE,
                outside: vec![],
                inner: InnerReport {
                    getrandom_served: Some(false),
                    ..Default::default()
                },
            }],
            Judged::GetrandomServed,
        ),
        "fell back",
    );
}

/// time() is whole seconds of the coarse clock: a reading truncated to its
/// second passes, one a second behind fails; a resolution that changes inside
/// the namespace fails.
#[test]
fn time_namespace_readings_keep_their_unit_and_resolutions_stay() {
    let s = 1_000_000_000i128;
    let mut phase = timens_phase(Offsets::ZERO, 0, 100 * s, 100 * s);
    for r in [
        &mut phase.inner.readings[0],
        &mut phase.inner.left.as_mut().unwrap().readings[0],
    ] {
        *r = InnerReading {
            before: 100 * s,
            after: 100 * s,
            granularity_ns: s,
            coarse: true,
            ..r.clone()
        };
    }
    phase.outside = vec![(0, 100 * s + 400_000_000, 100 * s + 600_000_000)];
    assert!(judge_timens(std::slice::from_ref(&phase), Judged::Offsets).is_pass());
    assert!(judge_timens(std::slice::from_ref(&phase), Judged::AfterLeaving).is_pass());
    let mut behind = phase.clone();
    behind.inner.readings[0].vdso = 99 * s;
    behind.inner.readings[0].before = 99 * s;
    fails_with(
        &judge_timens(&[behind], Judged::Offsets),
        "is not the outside clock",
    );
    let mut res = phase.clone();
    res.inner.resolutions = vec![ResolutionReading {
        clock: 1,
        vdso: Ok(4_000_000),
        syscall: Ok(1),
    }];
    fails_with(
        &judge_timens(&[res], Judged::Offsets),
        "MONOTONIC's resolution in a namespace with MONOTONIC +0 s, BOOTTIME +0 s: vDSO 4000000 ns, syscall 1 ns",
    );
}

#[test]
fn timens_offsets_parse_as_both_kernels_print_them() {
    let s = 1_000_000_000i128;
    let named =
        parse_offsets("monotonic           -5         0\nboottime            10 500000000\n");
    assert_eq!(
        named,
        Ok(Offsets {
            monotonic: -5 * s,
            boottime: 10 * s + 500_000_000
        })
    );
    assert_eq!(parse_offsets("1 0 0\n7 0 0\n"), Ok(Offsets::ZERO));
    assert!(parse_offsets("realtime 1 0\n").is_err());
    assert!(parse_offsets("monotonic x 0\n").is_err());
}

#[test]
fn deviations_turn_only_fully_explained_failures_into_xfail_and_passes_into_xpass() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let check = plan(&spec)
        .into_iter()
        .find(|c| c.group == Group::CrossCheck && c.subject.starts_with("__vdso_getrandom"))
        .unwrap();
    let k = Some(KernelVersion::new(6, 18, 0));
    // The failures come from the judge, with their symptoms.
    let insecure_random = RandomCase {
        what: "GRND_INSECURE|GRND_RANDOM".into(),
        vdso: Ok(32),
        sys: Err(libc::EINVAL),
    };
    let explained =
        getrandom::judge_getrandom_against_syscall(std::slice::from_ref(&insecure_random), &[]);
    let r = apply_deviations(&spec, Provider::Kernel, k, &check, explained.clone());
    assert!(
        matches!(&r.verdict, Verdict::Xfail { reason } if reason.contains("known kernel bug")
            && reason.contains("GRND_INSECURE|GRND_RANDOM")),
        "{r:?}"
    );
    assert!(r.notes.iter().any(|n| n.starts_with("observed: ")));
    assert!(r.notes.iter().any(|n| n.starts_with("evidence:")));
    // What was seen stays with it, for JSON readers.
    assert_eq!(r.symptoms, explained.symptoms);
    // The same bug with GRND_NONBLOCK as well (flags named INSECURE, RANDOM,
    // NONBLOCK in that order), and not another flag combination.
    for (flags, xfail) in [
        ("GRND_INSECURE|GRND_RANDOM|GRND_NONBLOCK", true),
        ("GRND_INSECURE", false),
        ("GRND_RANDOM|0x80", false),
    ] {
        let case = RandomCase {
            what: flags.into(),
            ..insecure_random.clone()
        };
        let judged = getrandom::judge_getrandom_against_syscall(&[case], &[]);
        let r = apply_deviations(&spec, Provider::Kernel, k, &check, judged);
        assert_eq!(
            matches!(r.verdict, Verdict::Xfail { .. }),
            xfail,
            "{flags}: {r:?}"
        );
    }
    let short = RandomCase {
        what: "32 bytes".into(),
        vdso: Ok(16),
        sys: Ok(32),
    };
    let mixed = getrandom::judge_getrandom_against_syscall(&[insecure_random, short], &[]);
    assert!(apply_deviations(&spec, Provider::Kernel, k, &check, mixed).is_fail());
    // Deviations name symptoms, not message text: the same words without the
    // symptom explain nothing.
    let text_only = vdsoconf_suite::checks::from_problems(vec![
        "GRND_INSECURE|GRND_RANDOM: vDSO 32 bytes, syscall EINVAL".into(),
    ]);
    assert!(apply_deviations(&spec, Provider::Kernel, k, &check, text_only).is_fail());
    // A kernel deviation says nothing about QEMU's vDSO.
    assert!(apply_deviations(&spec, Provider::Qemu, k, &check, explained.clone()).is_fail());
    // Before the deviation's first kernel it is an ordinary failure.
    assert!(apply_deviations(
        &spec,
        Provider::Kernel,
        Some(KernelVersion::new(6, 10, 0)),
        &check,
        explained
    )
    .is_fail());
    let passed = apply_deviations(&spec, Provider::Kernel, k, &check, CheckResult::pass());
    assert!(
        matches!(&passed.verdict, Verdict::Xpass { reason } if reason.contains("not observed")),
        "{passed:?}"
    );
    // Before its first kernel, a pass is a pass.
    let early = Some(KernelVersion::new(6, 10, 0));
    let plain = apply_deviations(&spec, Provider::Kernel, early, &check, CheckResult::pass());
    assert!(plain.is_pass(), "{plain:?}");
    // A skip stays a skip: a check that did not run saw no bug.
    let skipped = CheckResult::skip("not here");
    let r = apply_deviations(&spec, Provider::Kernel, k, &check, skipped.clone());
    assert_eq!(r, skipped);
}

/// An intermittent deviation (a race the check cannot provoke) changes no
/// verdict: seen, a pass with the observation and evidence as notes; not seen,
/// a plain pass, never an XPASS. Anything else still fails.
#[test]
fn an_intermittent_deviation_is_a_pass_either_way() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let race = spec
        .deviations
        .iter()
        .find(|d| d.checks.iter().any(|c| c == "monotonic::__vdso_time"))
        .expect("the time() race is recorded");
    assert!(race.intermittent);
    let check = plan(&spec)
        .into_iter()
        .find(|c| c.group == Group::Monotonic && c.subject.starts_with("__vdso_time"))
        .unwrap();
    let k = Some(KernelVersion::new(7, 2, 0));
    let seen = CheckResult::from_symptoms(vec![Problem::new(
        "went-backwards:syscall-after-vdso-within-1s",
        "CPU 1: syscall read -1000000000 ns after vDSO",
    )]);
    let r = apply_deviations(&spec, Provider::Kernel, k, &check, seen);
    assert!(r.is_pass(), "{r:?}");
    assert!(r.notes[0].contains("the recorded race showed") && r.notes[0].contains("-1000000000"));
    assert!(r.notes.iter().any(|n| n.starts_with("evidence:")));
    let quiet = apply_deviations(&spec, Provider::Kernel, k, &check, CheckResult::pass());
    assert_eq!(quiet, CheckResult::pass());
    let other = CheckResult::from_symptoms(vec![
        Problem::new("went-backwards:syscall-after-vdso-within-1s", "a second"),
        Problem::new("went-backwards:vdso-after-syscall", "something else"),
    ]);
    assert!(apply_deviations(&spec, Provider::Kernel, k, &check, other).is_fail());
    // The same symptom under a deviation that is not intermittent is an XFAIL.
    let mut steady = spec.clone();
    for d in &mut steady.deviations {
        d.intermittent = false;
    }
    let seen_again = CheckResult::from_symptoms(vec![Problem::new(
        "went-backwards:syscall-after-vdso-within-1s",
        "CPU 1: syscall read -1000000000 ns after vDSO",
    )]);
    let r = apply_deviations(&steady, Provider::Kernel, k, &check, seen_again);
    assert!(matches!(r.verdict, Verdict::Xfail { .. }), "{r:?}");
}

/// A deviation's `checks` entry is a name prefix in which `*` stands for any
/// text: the auxiliary-clock deviation names the AUX bad-pointer cases of
/// clock_getres and no others.
#[test]
fn deviation_check_entries_are_prefixes_with_wildcards() {
    use vdsoconf_suite::checks::names_check;
    let entry = "badptr::__vdso_clock_getres*clock=AUX";
    assert!(names_check(
        entry,
        "badptr::__vdso_clock_getres@LINUX_2.6::res=null,clock=AUX0"
    ));
    // The time64 twin too (the arm 7.2 row found it left out).
    assert!(names_check(
        entry,
        "badptr::__vdso_clock_getres_time64@LINUX_2.6::res=kernel,clock=AUX0"
    ));
    assert!(!names_check(
        entry,
        "badptr::__vdso_clock_getres@LINUX_2.6::res=null,clock=TAI"
    ));
    assert!(!names_check(
        entry,
        "badptr::__vdso_clock_getres@LINUX_2.6::res=null"
    ));
    assert!(!names_check(
        entry,
        "badptr::__vdso_clock_gettime@LINUX_2.6::ts=null,clock=AUX0"
    ));
    assert!(names_check(
        "crosscheck::__vdso_time",
        "crosscheck::__vdso_time@LINUX_2.6"
    ));
    assert!(!names_check(
        "crosscheck::__vdso_time",
        "call::__vdso_time@LINUX_2.6"
    ));
    // Every built-in spec's deviations still name checks of its plan.
    for arch in vdsoconf_suite::spec::builtin_arches() {
        let spec = builtin(arch).unwrap().unwrap();
        for i in 0..spec.deviations.len() {
            assert_eq!(
                vdsoconf_suite::checks::deviation_problem(&spec, i),
                None,
                "{arch}"
            );
        }
    }
}

#[test]
fn the_x86_64_plan_has_every_live_group() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let names: Vec<String> = plan(&spec).iter().map(|c| c.name()).collect();
    for want in [
        "x86_64::crosscheck::__vdso_clock_gettime@LINUX_2.6",
        "x86_64::monotonic::__vdso_clock_gettime@LINUX_2.6::MONOTONIC_RAW",
        "x86_64::monotonic::__vdso_gettimeofday@LINUX_2.6",
        "x86_64::badptr::__vdso_gettimeofday@LINUX_2.6::tv=prot-read,tz=null",
        "x86_64::badptr::__vdso_clock_gettime@LINUX_2.6::ts=null,clock=-1",
        "x86_64::served::__vdso_getrandom@LINUX_2.6",
        "x86_64::timens::__vdso_clock_gettime@LINUX_2.6",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not planned");
    }
}

/// A try-unlock written to the contract, and ways to get it wrong.
#[derive(Clone, Copy, PartialEq)]
enum Unlocker {
    Correct,
    /// Ignores FUTEX_WAITERS: unlocks a contended lock, so nobody wakes the waiters.
    UnlocksContended,
    /// Unlocks but leaves the pending slot for the kernel to find.
    KeepsPending,
    /// Returns 0 (success) instead of the lock word.
    ReturnsZero,
}

fn try_unlock(how: Unlocker, before: LockState, tid: u32) -> (u32, LockState) {
    let owned = match how {
        Unlocker::UnlocksContended => before.lock & !FUTEX_WAITERS == tid,
        _ => before.lock == tid,
    };
    let after = match (owned, how) {
        (true, Unlocker::KeepsPending) => LockState { lock: 0, ..before },
        (true, _) => LockState {
            lock: 0,
            pending: 0,
        },
        (false, _) => before,
    };
    let returned = if how == Unlocker::ReturnsZero {
        0
    } else {
        before.lock
    };
    (returned, after)
}

fn unlock_calls(how: Unlocker) -> Vec<UnlockCall> {
    let tid = 4242;
    UnlockCase::ALL
        .iter()
        .map(|&case| {
            let before = LockState {
                lock: case.lock_word(tid),
                pending: 0x7f00_1238,
            };
            let (returned, after) = try_unlock(how, before, tid);
            UnlockCall {
                case,
                tid,
                before,
                returned,
                after,
            }
        })
        .collect()
}

#[test]
fn a_try_unlock_that_breaks_the_robust_futex_contract_fails_its_call_check() {
    assert!(judge_futex_unlock(&unlock_calls(Unlocker::Correct)).is_ok());
    let contended = judge_futex_unlock(&unlock_calls(Unlocker::UnlocksContended)).unwrap_err();
    assert_eq!(contended.symptom, "unlock-left:contended", "{contended:?}");
    let pending = judge_futex_unlock(&unlock_calls(Unlocker::KeepsPending)).unwrap_err();
    assert_eq!(pending.symptom, "unlock-left:owned", "{pending:?}");
    assert!(pending.contains("pending 0x7f001238"), "{pending:?}");
    let zero = judge_futex_unlock(&unlock_calls(Unlocker::ReturnsZero)).unwrap_err();
    assert_eq!(zero.symptom, "unlock-returned:owned", "{zero:?}");
}

/// The futex syscall's robust unlock as the kernel does it: unlock whatever the
/// word held, clear the slot, wake nobody.
fn syscall_unlock(works: bool) -> (Result<isize, i32>, LockState) {
    if works {
        (
            Ok(0),
            LockState {
                lock: 0,
                pending: 0,
            },
        )
    } else {
        (
            Err(libc::ENOSYS),
            LockState {
                lock: 9,
                pending: 9,
            },
        )
    }
}

fn slow_paths(how: Unlocker, syscall_works: bool) -> Vec<SlowPath> {
    let tid = 77;
    [UnlockCase::Owned, UnlockCase::Contended]
        .into_iter()
        .map(|case| {
            let start = LockState {
                lock: case.lock_word(tid),
                pending: 0x1238,
            };
            let (_, fast) = try_unlock(how, start, tid);
            let (syscall, syscall_after) = syscall_unlock(syscall_works);
            SlowPath {
                case,
                start,
                fast,
                slow: (fast.lock != 0).then(|| syscall_unlock(syscall_works)),
                syscall,
                syscall_after,
            }
        })
        .collect()
}

#[test]
fn a_try_unlock_that_disagrees_with_the_futex_syscall_fails_its_cross_check() {
    let ok = futex::judge_futex_unlock_against_syscall(&slow_paths(Unlocker::Correct, true));
    assert_eq!(ok.verdict, Verdict::Pass);
    let waiters =
        futex::judge_futex_unlock_against_syscall(&slow_paths(Unlocker::UnlocksContended, true));
    fails_with(&waiters, "the waiters would never be woken");
    assert_eq!(waiters.symptoms, ["result-differs:contended"]);
    let pending =
        futex::judge_futex_unlock_against_syscall(&slow_paths(Unlocker::KeepsPending, true));
    fails_with(
        &pending,
        "owned lock: the fast path left lock 0x0 and pending 0x1238",
    );
    // A kernel without FUTEX_ROBUST_UNLOCK has nothing to compare with: a skip that says so.
    let old = futex::judge_futex_unlock_against_syscall(&slow_paths(Unlocker::Correct, false));
    assert!(matches!(&old.verdict, Verdict::Skip { reason } if reason.contains("ENOSYS")));
}

#[test]
fn a_syscall_unlock_that_leaves_the_lock_or_wakes_someone_fails() {
    let mut paths = slow_paths(Unlocker::Correct, true);
    paths[0].syscall = Ok(1);
    paths[1].slow = Some((
        Ok(0),
        LockState {
            lock: 77 | FUTEX_WAITERS,
            pending: 0,
        },
    ));
    let r = futex::judge_futex_unlock_against_syscall(&paths);
    fails_with(&r, "woke 1 waiters");
    assert!(
        r.symptoms.contains(&"result-differs:contended".to_string()),
        "{:?}",
        r.symptoms
    );
}

#[test]
fn bad_pointer_cases_of_the_futex_helpers_must_all_fault() {
    for kind in [
        SymbolKind::FutexRobustList64TryUnlock,
        SymbolKind::FutexRobustList32TryUnlock,
    ] {
        let cases = cases_for(kind, &[1]);
        // Two pointers, each valid, NULL (not allowed here) or one of four other
        // bad kinds (no straddle: a lock word is a scalar), minus the all-valid one.
        assert_eq!(cases.len(), 6 * 6 - 1, "{kind:?}");
        assert!(cases.iter().all(|c| must_fault(kind, c)), "{kind:?}");
        // The helper cannot return EFAULT: dying of SIGSEGV is its answer, and
        // returning (what a helper that never stores would do) fails.
        let case = &cases[0];
        let sigsegv = judge_bad_pointer(
            kind,
            case,
            BadPointer::EfaultOrSigsegv,
            Some(Err(libc::EFAULT)),
            CallOutcome::Signal(libc::SIGSEGV),
        );
        assert_eq!(sigsegv.verdict, Verdict::Pass);
        let returned = judge_bad_pointer(
            kind,
            case,
            BadPointer::EfaultOrSigsegv,
            Some(Err(libc::EFAULT)),
            CallOutcome::Returned(0),
        );
        assert_eq!(returned.symptoms, ["bad-pointer-returned:0"]);
    }
}

fn hwprobe_answer(
    base_behavior: u64,
    unknown: HwprobePair,
    missing_key: Option<i64>,
) -> Vec<HwprobePair> {
    let mut v: Vec<HwprobePair> = (0..=16)
        .filter(|&k| Some(k) != missing_key)
        .map(|key| HwprobePair {
            key,
            value: if key == 3 { base_behavior } else { 0x42 },
        })
        .collect();
    v.push(unknown);
    v
}

#[test]
fn a_hwprobe_that_forgets_keys_or_the_base_behaviour_fails_its_call_check() {
    let unknown = HwprobePair { key: -1, value: 0 };
    assert!(judge_hwprobe(Ok(0), &hwprobe_answer(1, unknown, None)).is_ok());
    let failed = judge_hwprobe(Err(libc::EINVAL), &hwprobe_answer(1, unknown, None)).unwrap_err();
    assert_eq!(failed.symptom, "call-returned");
    let forgot = judge_hwprobe(Ok(0), &hwprobe_answer(1, unknown, Some(4))).unwrap_err();
    assert!(forgot.contains("key 4"), "{forgot:?}");
    let no_ima = judge_hwprobe(Ok(0), &hwprobe_answer(0, unknown, None)).unwrap_err();
    assert_eq!(no_ima.symptom, "implausible-value:base-behavior");
    let echoed = HwprobePair {
        key: HWPROBE_UNKNOWN_KEY,
        value: 0,
    };
    let kept = judge_hwprobe(Ok(0), &hwprobe_answer(1, echoed, None)).unwrap_err();
    assert_eq!(kept.symptom, "implausible-value:unknown-key");
    assert!(judge_flush_icache(Ok(0)).is_ok());
    assert_eq!(
        judge_flush_icache(Err(libc::EINVAL)).unwrap_err().symptom,
        "call-returned"
    );
}

#[test]
fn a_function_that_answers_otherwise_than_its_syscall_fails_the_same_answers_judge() {
    let io = |cpus: u8| HwprobeIo {
        pairs: vec![HwprobePair { key: 4, value: 7 }],
        cpus: Some(vec![cpus, 0, 0, 0, 0, 0, 0, 0]),
        flags: 1,
    };
    let same = Answers {
        what: "which CPUs".into(),
        vdso: (Ok(0), io(3)),
        sys: (Ok(0), io(3)),
    };
    assert_eq!(
        crosscheck::judge_same_answers(std::slice::from_ref(&same)).verdict,
        Verdict::Pass
    );
    // A fast path that ignores the CPU set it was given.
    let ignores_set = Answers {
        vdso: (Ok(0), io(3)),
        sys: (Ok(0), io(1)),
        ..same.clone()
    };
    let r = crosscheck::judge_same_answers(&[ignores_set]);
    fails_with(&r, "which CPUs: the vDSO left");
    assert_eq!(r.symptoms, ["result-differs:which CPUs"]);
    // A flush that accepts flags the syscall rejects.
    let lax = Answers {
        what: "flags 2 (undefined)".to_string(),
        vdso: (Ok(0), ()),
        sys: (Err(libc::EINVAL), ()),
    };
    fails_with(
        &crosscheck::judge_same_answers(&[lax]),
        "flags 2 (undefined): vDSO 0, syscall EINVAL",
    );
}

#[test]
fn powerpc_helpers_that_lie_fail_their_cross_checks() {
    // get_tbfreq: the timebase /proc/cpuinfo gives, and a plausible one.
    assert_eq!(
        powerpc::judge_tbfreq(512_000_000, Some(512_000_000)).verdict,
        Verdict::Pass
    );
    fails_with(
        &powerpc::judge_tbfreq(500_000_000, Some(512_000_000)),
        "/proc/cpuinfo's timebase 512000000",
    );
    fails_with(
        &powerpc::judge_tbfreq(0, Some(512_000_000)),
        "a timebase of 0 Hz",
    );
    assert!(matches!(
        powerpc::judge_tbfreq(512_000_000, None).verdict,
        Verdict::Skip { .. }
    ));

    // get_syscall_map: bits of calls made set, of unimplemented ones clear.
    let map = |bits: &[usize], mapping: Result<String, String>| SyscallMap {
        address: 0x7fff_0000,
        count: 460,
        mapping,
        implemented: (0..460).map(|n| bits.contains(&n)).collect(),
    };
    let good = map(&[20, 207, 246], Ok("[vvar]".into()));
    let r = powerpc::judge_syscall_map(&good, &[20, 207, 246], &[(17, true), (31, true)]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    let missing = map(&[20, 207], Ok("[vvar]".into()));
    fails_with(
        &powerpc::judge_syscall_map(&missing, &[20, 207, 246], &[]),
        "call 246, which this process makes, is not marked implemented",
    );
    let too_many = map(&[17, 20], Ok("[vvar]".into()));
    fails_with(
        &powerpc::judge_syscall_map(&too_many, &[20], &[(17, true)]),
        "call 17 is marked implemented but answers ENOSYS",
    );
    let nowhere = map(
        &[],
        Err("0x10 is in no readable mapping of this process".into()),
    );
    fails_with(
        &powerpc::judge_syscall_map(&nowhere, &[20], &[]),
        "no readable mapping",
    );

    // sync_dicache: code written, synced and run does what it says.
    assert_eq!(powerpc::judge_sync_dicache(42, 42).verdict, Verdict::Pass);
    fails_with(&powerpc::judge_sync_dicache(0, 42), "returned 0, not 42");
}

#[test]
fn a_trampoline_that_loses_the_signal_mask_or_the_context_fails() {
    let good = SignalReturn {
        handled: libc::SIGUSR1,
        raised: Ok(0),
        mask_before: 0,
        mask_after: 0,
        held: (7, 7),
        return_address: None,
    };
    assert_eq!(
        trampoline::judge_signal_return(&good, "how", None).verdict,
        Verdict::Pass
    );
    // A sigreturn that never restores the mask the handler ran under.
    let mask = SignalReturn {
        mask_after: 1 << (libc::SIGUSR1 - 1),
        ..good.clone()
    };
    fails_with(
        &trampoline::judge_signal_return(&mask, "how", None),
        "sigreturn did not restore it",
    );
    // A trampoline that returns into a clobbered context.
    let clobbered = SignalReturn {
        raised: Ok(-14),
        held: (7, 0),
        ..good.clone()
    };
    let r = trampoline::judge_signal_return(&clobbered, "how", None);
    fails_with(&r, "the interrupted tgkill returned");
    assert_eq!(r.symptoms, ["result-differs", "result-differs"]);
    let never = SignalReturn {
        handled: 0,
        ..good.clone()
    };
    fails_with(
        &trampoline::judge_signal_return(&never, "how", None),
        "the handler did not run",
    );

    // Where the kernel picks the trampoline, the handler must be given it as
    // its return address: a kernel returning through its own stack copy, or
    // through another vDSO address, fails.
    let returned_to = |address| SignalReturn {
        return_address: Some(address),
        ..good.clone()
    };
    let right = trampoline::judge_signal_return(&returned_to(0x7000), "how", Some(0x7000));
    assert_eq!(right.verdict, Verdict::Pass, "{right:?}");
    assert!(
        right
            .notes
            .iter()
            .any(|n| n.contains("return address at this trampoline")),
        "{right:?}"
    );
    let elsewhere = trampoline::judge_signal_return(&returned_to(0x7ffe_1000), "how", Some(0x7000));
    fails_with(
        &elsewhere,
        "return address 0x7ffe1000, not the trampoline at 0x7000",
    );
    assert_eq!(elsewhere.symptoms, ["return-address"]);
    // A build that cannot read it says so instead of passing it silently.
    let unread = trampoline::judge_signal_return(&good, "how", Some(0x7000));
    assert!(
        unread
            .notes
            .iter()
            .any(|n| n.contains("not read on this build")),
        "{unread:?}"
    );
}

#[test]
fn a_restart_entry_that_does_not_finish_the_interrupted_sleep_fails() {
    let good = RestartReading {
        asked_ms: 1000,
        stopped_ms: 301,
        continue_after_ms: 300,
        returned: Ok(0),
        elapsed_ms: 1002,
    };
    let r = restart::judge_restart(&good);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    // The trap word after a restart that returns: the sleep ends with what
    // restart_syscall leaked (-ERESTART_RESTARTBLOCK) or EINTR, early.
    let leaked = RestartReading {
        returned: Ok(-516),
        elapsed_ms: 300,
        ..good.clone()
    };
    let r = restart::judge_restart(&leaked);
    fails_with(&r, "returned Ok(-516), not 0");
    assert_eq!(r.symptoms, ["result-differs", "result-differs"]);
    let interrupted = RestartReading {
        returned: Err(libc::EINTR),
        ..good.clone()
    };
    fails_with(
        &restart::judge_restart(&interrupted),
        "the kernel's restart did not finish it",
    );
    // A restart that returns 0 at once, the rest of the interval lost.
    fails_with(
        &restart::judge_restart(&RestartReading {
            elapsed_ms: 301,
            ..good.clone()
        }),
        "after 301 ms, before the 1000 ms it asked for",
    );
    // A process that was never stopped proves nothing: not a pass.
    let unstopped = restart::judge_restart(&RestartReading {
        stopped_ms: 0,
        ..good
    });
    assert!(
        matches!(unstopped.verdict, Verdict::Skip { .. }),
        "{unstopped:?}"
    );
}

#[test]
fn a_getcpu_that_reads_its_third_argument_fails() {
    use vdsoconf_suite::kinds::getcpu::judge_getcpu_tcache;
    let with_null = (Ok(0), 1, 0);
    let same = [("all-ones", with_null), ("a PROT_NONE page", with_null)];
    assert!(judge_getcpu_tcache(with_null, &same, true).is_ok());
    // A vDSO that treats tcache as a cache and answers from it, or fails on it.
    let cached = [("a read-only page", (Ok(0), 0, 0))];
    let p = judge_getcpu_tcache(with_null, &cached, true).unwrap_err();
    assert!(
        p.message
            .contains("with tcache a read-only page it returned 0 with cpu 0"),
        "{p:?}"
    );
    assert_eq!(p.symptom, "result-differs:tcache");
    let efault = [("all-ones", (Err(libc::EFAULT), u32::MAX, u32::MAX))];
    assert!(judge_getcpu_tcache(with_null, &efault, true).is_err());
    // Unpinned, another CPU is no failure; another return value still is.
    assert!(judge_getcpu_tcache(with_null, &cached, false).is_ok());
    assert!(judge_getcpu_tcache(with_null, &efault, false).is_err());
}

#[test]
fn getrandom_threads_that_share_a_state_or_fail_are_caught() {
    use vdsoconf_suite::kinds::getrandom::{judge_getrandom_threads, ThreadFill};
    let fill = |b: u8| (Ok(32), vec![b; 32]);
    let good: Vec<ThreadFill> = (0..=255).map(fill).collect();
    assert!(judge_getrandom_threads(&good).is_ok());
    // Two threads that share a state by accident give the same bytes.
    let mut shared = good.clone();
    shared[200] = fill(17);
    let p = judge_getrandom_threads(&shared).unwrap_err();
    assert_eq!(p.symptom, "outputs-identical:threads");
    assert!(p.message.contains("fill 200 repeated"), "{p:?}");
    // A short fill, or a thread that could not map its state.
    let mut short = good.clone();
    short[3] = (Ok(16), vec![1; 32]);
    assert_eq!(
        judge_getrandom_threads(&short).unwrap_err().symptom,
        "call-returned:threads"
    );
    let mut unmapped = good.clone();
    unmapped[9] = (Err("mmap: ENOMEM".into()), Vec::new());
    // No threads (or one) prove nothing.
    assert!(judge_getrandom_threads(&good[..4]).is_err());
    assert!(judge_getrandom_threads(&unmapped)
        .unwrap_err()
        .message
        .contains("mmap: ENOMEM"));
}

/// An interleaved run of four REALTIME functions over a simulated clock:
/// REALTIME is MONOTONIC + 1000 s, the tick is 4 ms, each call takes 300 ns.
/// `skew(source, true_realtime)` is what a function returns.
fn interleaved_run(skew: &dyn Fn(usize, i128) -> i128) -> (Vec<ConsistencySource>, Interleaved) {
    let s = 1_000_000_000i128;
    let source = |label: &str, unit_ns: i64, coarse: bool| ConsistencySource {
        label: label.into(),
        unit_ns,
        coarse,
    };
    let sources = vec![
        source("clock_gettime(REALTIME)", 1, false),
        source("clock_gettime(REALTIME_COARSE)", 1, true),
        source("gettimeofday", 1_000, false),
        source("time", 1_000_000_000, true),
    ];
    let offset = 1000 * s;
    let mut mono = 5 * s + 999_000_000; // crosses a second boundary
    let mut run = Interleaved {
        offset_before: (offset - 50, offset + 50),
        offset_after: (offset - 60, offset + 40),
        ..Default::default()
    };
    run.monotonic.push(mono);
    for k in 0..4000usize {
        let source = k % 4;
        mono += 150;
        let now = mono + offset;
        let tick = now - now % 4_000_000;
        let exact = match source {
            0 => now,
            1 => tick,
            2 => now - now % 1_000,
            _ => tick - tick % s,
        };
        run.readings.push((source, skew(source, exact)));
        mono += 150;
        run.monotonic.push(mono);
    }
    (sources, run)
}

#[test]
fn the_realtime_functions_judge_fails_a_reading_ahead_behind_or_out_of_order() {
    let s = 1_000_000_000i128;
    let (sources, good) = interleaved_run(&|_, v| v);
    let r = judge_consistency(&sources, &good);
    assert!(r.is_pass(), "{r:?}");
    assert!(
        r.notes[0].starts_with("4000 readings of 4 functions"),
        "{r:?}"
    );
    // gettimeofday a second ahead.
    let (_, ahead) = interleaved_run(&|src, v| if src == 2 { v + s } else { v });
    let r = judge_consistency(&sources, &ahead);
    fails_with(&r, "gettimeofday read");
    assert!(
        r.symptoms
            .contains(&"reading-ahead:gettimeofday".to_string()),
        "{r:?}"
    );
    // The vDSO's REALTIME 5 µs behind (a stale clock).
    let (_, behind) = interleaved_run(&|src, v| if src == 0 { v - 5_000 } else { v });
    let r = judge_consistency(&sources, &behind);
    assert!(
        r.symptoms
            .contains(&"reading-behind:clock_gettime(REALTIME)".to_string()),
        "{r:?}"
    );
    // time() a second behind the coarse clock it reads: out of order, though
    // never ahead (LTP's fixed window would not place it).
    let (_, late) = interleaved_run(&|src, v| if src == 3 { v - s } else { v });
    let r = judge_consistency(&sources, &late);
    assert!(
        r.symptoms
            .contains(&"reading-out-of-order:time".to_string()),
        "{r:?}"
    );
    // A coarse clock may trail a fine reading by its tick: that passes.
    // A coarse clock a tick behind another coarse reading does not.
    let (_, stale) = interleaved_run(&|src, v| if src == 1 { v - 4_000_000 } else { v });
    let r = judge_consistency(&sources, &stale);
    assert!(
        r.symptoms
            .contains(&"reading-out-of-order:clock_gettime(REALTIME_COARSE)".to_string()),
        "{r:?}"
    );
    // A step of REALTIME during the run: no verdict either way.
    let (_, mut stepped) = interleaved_run(&|_, v| v);
    stepped.offset_after = (1001 * s, 1001 * s + 10);
    let r = judge_consistency(&sources, &stepped);
    assert!(
        matches!(&r.verdict, Verdict::Skip { reason } if reason.contains("stepped")),
        "{r:?}"
    );
    // Failed calls and no readings fail.
    let (_, mut failed) = interleaved_run(&|_, v| v);
    failed.errors.push((2, libc::EINVAL));
    fails_with(
        &judge_consistency(&sources, &failed),
        "gettimeofday failed with EINVAL",
    );
    fails_with(
        &judge_consistency(&sources, &Interleaved::default()),
        "no readings",
    );
}

#[test]
fn the_vsyscall_page_mode_is_read_from_maps_and_the_command_line() {
    use vdsoconf_suite::checks::live::vsyscall::{MapsShows, PageSeen};
    use vdsoconf_suite::spec::VsyscallMode;
    let at = 0xffff_ffff_ff60_0000;
    let line = |perms: &str| {
        format!("7ffd1000-7ffd3000 r-xp 00000000 00:00 0  [vdso]\nffffffffff600000-ffffffffff601000 {perms} 00000000 00:00 0                  [vsyscall]\n")
    };
    let xonly = PageSeen::parse(&line("--xp"), "console=ttyS0 quiet", at);
    assert_eq!(xonly.maps, MapsShows::ExecuteOnly);
    assert_eq!(xonly.cmdline, None);
    assert_eq!(xonly.mode(), Some(VsyscallMode::Xonly));
    let emulate = PageSeen::parse(&line("r-xp"), "vsyscall=none vsyscall=emulate -- x", at);
    assert_eq!(emulate.mode(), Some(VsyscallMode::Emulate));
    assert_eq!(
        emulate.cmdline,
        Some(Ok(VsyscallMode::Emulate)),
        "the last one wins"
    );
    let none = PageSeen::parse("", "quiet -- vsyscall=emulate", at);
    assert_eq!(none.mode(), Some(VsyscallMode::None));
    assert_eq!(none.cmdline, None, "after `--` the words are init's");
    assert_eq!(PageSeen::parse(&line("rwxp"), "", at).mode(), None);
    assert_eq!(PageSeen::parse(&line("--xp"), "", at + 4096).mode(), None);
    assert_eq!(
        PageSeen::parse("", "vsyscall=native", at).cmdline,
        Some(Err(()))
    );
    for seen in [
        xonly,
        emulate,
        none,
        PageSeen::parse("", "vsyscall=bogus", at),
    ] {
        assert_eq!(PageSeen::decode(seen.encode()), seen);
    }
}

#[test]
fn the_vsyscall_judge_fails_a_page_served_against_its_mode() {
    use vdsoconf_suite::checks::live::vsyscall::{judge_vsyscall, PageSeen};
    let spec = builtin("x86_64").unwrap().unwrap();
    let page = spec
        .vsyscall_page
        .as_ref()
        .expect("x86_64 has a vsyscall page");
    let at = page.address;
    let maps =
        |perms: &str| format!("ffffffffff600000-ffffffffff601000 {perms} 0 00:00 0 [vsyscall]\n");
    let xonly = PageSeen::parse(&maps("--xp"), "", at);
    let emulate = PageSeen::parse(&maps("r-xp"), "vsyscall=emulate", at);
    let none = PageSeen::parse("", "vsyscall=none", at);
    let segv = CallOutcome::Signal(libc::SIGSEGV);
    let ok = CallOutcome::Returned(0);
    // What each mode must do.
    assert!(judge_vsyscall(page, &xonly, None, segv).is_pass());
    assert!(judge_vsyscall(page, &xonly, Some("time"), ok).is_pass());
    assert!(judge_vsyscall(page, &emulate, None, CallOutcome::Returned(0x48)).is_pass());
    assert!(judge_vsyscall(page, &none, Some("gettimeofday"), segv).is_pass());
    assert!(judge_vsyscall(page, &none, None, segv).is_pass());
    // A readable execute-only page, a call served with no page, a fault where
    // emulate serves reads.
    fails_with(
        &judge_vsyscall(page, &xonly, None, ok),
        "reading the page returned 0 in mode xonly",
    );
    fails_with(
        &judge_vsyscall(page, &none, Some("getcpu"), ok),
        "it must fault",
    );
    fails_with(
        &judge_vsyscall(page, &emulate, None, segv),
        "it must succeed",
    );
    fails_with(
        &judge_vsyscall(
            page,
            &xonly,
            Some("time"),
            CallOutcome::Signal(libc::SIGBUS),
        ),
        "killed by signal 7",
    );
    // The command line asked for another mode than the page shows.
    let ignored = PageSeen::parse(&maps("--xp"), "vsyscall=none", at);
    fails_with(
        &judge_vsyscall(page, &ignored, Some("time"), ok),
        "asks for vsyscall=none, /proc/self/maps shows xonly",
    );
    // A mode the spec does not allow.
    let mut strict = page.clone();
    strict.modes.retain(|m| m.mapped());
    fails_with(
        &judge_vsyscall(&strict, &none, None, segv),
        "not one of the spec's",
    );
    fails_with(
        &judge_vsyscall(page, &PageSeen::parse(&maps("rwxp"), "", at), None, segv),
        "other permissions",
    );
}

#[test]
fn the_vsyscall_entry_judge_compares_with_the_syscall() {
    use vdsoconf_suite::checks::live::vsyscall::{judge_vsyscall_entry, EntryReading};
    let good = EntryReading {
        returned: 1_700_000_000,
        expected_return: 1_700_000_000,
        stored: vec![1_700_000_000],
        before: vec![1_700_000_000],
        after: vec![1_700_000_001],
        error: None,
    };
    assert!(judge_vsyscall_entry("time", &good).is_pass());
    let wrong_return = EntryReading {
        returned: 0,
        ..good.clone()
    };
    fails_with(
        &judge_vsyscall_entry("time", &wrong_return),
        "time returned 0, not 1700000000",
    );
    let stale = EntryReading {
        stored: vec![1_699_999_000],
        ..good.clone()
    };
    fails_with(&judge_vsyscall_entry("time", &stale), "the syscall read");
    let other_cpu = EntryReading {
        returned: 0,
        expected_return: 0,
        stored: vec![1, 0],
        before: vec![0, 0],
        after: vec![0, 0],
        error: None,
    };
    fails_with(
        &judge_vsyscall_entry("getcpu", &other_cpu),
        "getcpu stored [1, 0]",
    );
    let unpinned = EntryReading {
        error: Some("could not pin".into()),
        ..good
    };
    let r = judge_vsyscall_entry("getcpu", &unpinned);
    assert!(
        matches!(r.verdict, Verdict::Skip { .. }) && r.environment,
        "{r:?}"
    );
}

/// QEMU's vDSO makes the syscall for every clock: its bad-pointer cases of
/// clocks other than MONOTONIC are skips saying so (never passes), the
/// kernel's all run.
#[test]
fn bad_pointer_clocks_of_a_provider_that_serves_none_are_skips() {
    use vdsoconf_suite::checks::{group_of, Source, Target};
    let spec = builtin("aarch64").unwrap().unwrap();
    let target = |provider| Target {
        spec: spec.clone(),
        provider,
        kernel: None,
        source: Source::Live,
        spec_file: None,
    };
    let checks = plan(&spec);
    let find = |suffix: &str| {
        checks
            .iter()
            .find(|c| {
                c.group == Group::BadPointer
                    && c.subject.ends_with(suffix)
                    && c.subject.contains("clock_gettime")
            })
            .unwrap_or_else(|| panic!("no case {suffix}"))
    };
    let coarse = find("ts=prot-none,clock=REALTIME_COARSE");
    let monotonic = find("ts=prot-none");
    let badptr = group_of(Group::BadPointer);
    let skipped = badptr
        .before_child(coarse, &target(Provider::Qemu))
        .expect("a skip");
    assert!(
        matches!(&skipped.verdict, Verdict::Skip { reason } if reason.contains("serves no clock in user space")),
        "{skipped:?}"
    );
    assert!(badptr
        .before_child(monotonic, &target(Provider::Qemu))
        .is_none());
    assert!(badptr
        .before_child(coarse, &target(Provider::Kernel))
        .is_none());
}

/// The kuser judges: a version word out of range, a get_tls that is not the
/// thread register, and compare-and-exchanges that do not succeed or fail as
/// documented each fail; the documented answers pass.
#[test]
fn kuser_judges_catch_helpers_that_do_not_do_what_is_documented() {
    use vdsoconf_suite::checks::live::kuser::{judge_helper, judge_version, HelperReading};
    use vdsoconf_suite::spec::KuserHelper;
    let spec = builtin("arm").unwrap().unwrap();
    let page = spec.kuser_helpers.as_ref().expect("arm has kuser helpers");
    let entry = |h: KuserHelper| page.entries.iter().find(|e| e.helper == h).unwrap();
    assert!(judge_version(5).is_pass());
    for bad in [0, 128, u32::MAX] {
        fails_with(&judge_version(bad), "__kuser_helper_version is");
    }
    let tls = entry(KuserHelper::GetTls);
    assert!(judge_helper(
        tls,
        &HelperReading::GetTls {
            returned: 0x1000,
            register: 0x1000
        }
    )
    .is_pass());
    fails_with(
        &judge_helper(
            tls,
            &HelperReading::GetTls {
                returned: 0,
                register: 0x1000,
            },
        ),
        "thread register",
    );
    let good = HelperReading::Cmpxchg {
        start: 1,
        new: 2,
        swapped: (0, 2),
        refused: (1, 2),
    };
    for h in [KuserHelper::Cmpxchg, KuserHelper::Cmpxchg64] {
        assert!(judge_helper(entry(h), &good).is_pass());
        // Did not swap; swapped but said it failed; "failed" but wrote.
        for bad in [
            HelperReading::Cmpxchg {
                start: 1,
                new: 2,
                swapped: (0, 1),
                refused: (1, 1),
            },
            HelperReading::Cmpxchg {
                start: 1,
                new: 2,
                swapped: (1, 2),
                refused: (1, 2),
            },
            HelperReading::Cmpxchg {
                start: 1,
                new: 2,
                swapped: (0, 2),
                refused: (1, 7),
            },
            HelperReading::Cmpxchg {
                start: 1,
                new: 2,
                swapped: (0, 2),
                refused: (0, 2),
            },
        ] {
            fails_with(&judge_helper(entry(h), &bad), "exchanging");
        }
    }
    assert!(judge_helper(entry(KuserHelper::MemoryBarrier), &HelperReading::Returned).is_pass());
    fails_with(
        &judge_helper(entry(KuserHelper::MemoryBarrier), &good),
        "reading of another helper",
    );
}

/// QEMU's clock_getres bad-pointer deviation names only the cases it shows in:
/// with `res=NULL` (allowed, and QEMU answers 0 as it should) a pass stays a
/// pass, as every qemu-user row of the matrix saw; with a bad pointer, a pass
/// would be the bug gone (XPASS). Likewise i386's getcpu timeval write, only
/// with a valid `cpu`.
#[test]
fn qemu_deviations_name_only_the_cases_they_show_in() {
    let mut seen = 0;
    for arch in vdsoconf_suite::spec::builtin_arches() {
        let spec = builtin(arch).unwrap().unwrap();
        if !spec
            .deviations
            .iter()
            .any(|d| d.description.starts_with("QEMU's clock_getres() returns 0"))
        {
            continue;
        }
        seen += 1;
        for check in plan(&spec).into_iter().filter(|c| {
            c.group == Group::BadPointer
                && c.subject.contains("clock_getres")
                && !c.subject.contains("clock=")
        }) {
            let r = apply_deviations(&spec, Provider::Qemu, None, &check, CheckResult::pass());
            let null = check.subject.ends_with("::res=null");
            assert_eq!(r.is_pass(), null, "{arch}: {}: {r:?}", check.subject);
            if !null {
                assert!(
                    matches!(r.verdict, Verdict::Xpass { .. }),
                    "{arch}: {}",
                    check.subject
                );
            }
        }
    }
    assert!(
        seen >= 8,
        "the deviation is recorded for every qemu-user architecture ({seen})"
    );
    let i386 = builtin("i386").unwrap().unwrap();
    for check in plan(&i386)
        .into_iter()
        .filter(|c| c.group == Group::BadPointer && c.subject.starts_with("__vdso_getcpu"))
    {
        let r = apply_deviations(&i386, Provider::Qemu, None, &check, CheckResult::pass());
        let valid_cpu = check.subject.contains("::cpu=valid");
        assert_eq!(r.is_pass(), !valid_cpu, "{}: {r:?}", check.subject);
    }
}

/// What this turn's new kernel rows showed, replayed through their judges
/// against the specs that record it: on bookworm's 5kc-malta kernel a pointer
/// to the kernel segment or an all-ones (misaligned) one kills the caller with
/// SIGBUS, MIPS's address error (the n64 and o32 rows); on Debian's generic 7.2
/// kernel the x32 vDSO's clock_getres writes through a bad pointer for an
/// auxiliary clock the syscall rejects with EINVAL (the x32 row), a known bug.
#[test]
fn the_mips_and_x32_rows_findings_are_what_their_specs_say() {
    let bus = CallOutcome::Signal(libc::SIGBUS);
    let efault = Some(Err(libc::EFAULT));
    for arch in ["mips-n64", "mips-o32"] {
        let spec = builtin(arch).unwrap().unwrap();
        for arg in [PtrArg::AllOnes, PtrArg::Kernel] {
            let case = PtrCase {
                args: vec![arg],
                clock: 1,
            };
            let r = judge_bad_pointer(
                SymbolKind::ClockGettime,
                &case,
                spec.bad_pointer,
                efault,
                bus,
            );
            assert!(r.is_pass(), "{arch} {arg:?}: {r:?}");
        }
    }
    // Elsewhere SIGBUS is no answer to a bad pointer.
    let x86_64 = builtin("x86_64").unwrap().unwrap();
    let case = PtrCase {
        args: vec![PtrArg::Kernel],
        clock: 1,
    };
    assert!(judge_bad_pointer(
        SymbolKind::ClockGettime,
        &case,
        x86_64.bad_pointer,
        efault,
        bus
    )
    .is_fail());

    let x32 = builtin("x32").unwrap().unwrap();
    let check = plan(&x32)
        .into_iter()
        .find(|c| {
            c.group == Group::BadPointer
                && c.subject == "__vdso_clock_getres@LINUX_2.6::res=kernel,clock=AUX0"
        })
        .expect("x32 plans the AUX0 bad-pointer case of clock_getres");
    let aux = PtrCase {
        args: vec![PtrArg::Kernel],
        clock: 16,
    };
    let seen = judge_bad_pointer(
        SymbolKind::ClockGetres,
        &aux,
        x32.bad_pointer,
        Some(Err(libc::EINVAL)),
        CallOutcome::Signal(libc::SIGSEGV),
    );
    assert!(seen.is_fail(), "{seen:?}");
    let r = apply_deviations(
        &x32,
        Provider::Kernel,
        Some(KernelVersion::new(7, 2, 13)),
        &check,
        seen,
    );
    assert!(matches!(r.verdict, Verdict::Xfail { .. }), "{r:?}");
}

/// The time() timekeeping race (kernel/time/timekeeping.c: the vDSO's data is
/// updated before tk_core.timekeeper, and both read the seconds without a
/// seqcount) is recorded for x86's three vDSOs' cross-checks too, as
/// intermittent: a reading exactly one second ahead of the syscall after it
/// passes with a note naming it; two seconds ahead still fails.
#[test]
fn time_one_second_ahead_is_the_recorded_race_in_the_crosscheck_too() {
    for arch in ["x86_64", "i386", "x32"] {
        let spec = builtin(arch).unwrap().unwrap();
        let check = plan(&spec)
            .into_iter()
            .find(|c| c.group == Group::CrossCheck && c.subject.starts_with("__vdso_time@"))
            .unwrap();
        let k = Some(KernelVersion::new(7, 2, 0));
        let ahead = time::judge_time_against_syscall(10, 12, 12, 11, 11);
        let r = apply_deviations(&spec, Provider::Kernel, k, &check, ahead);
        assert_eq!(r.verdict, Verdict::Pass, "{arch}: {r:?}");
        assert!(
            r.notes.iter().any(|n| n.contains("recorded race")),
            "{arch}: {r:?}"
        );
        let further = time::judge_time_against_syscall(10, 13, 13, 11, 11);
        let r = apply_deviations(&spec, Provider::Kernel, k, &check, further);
        assert!(matches!(r.verdict, Verdict::Fail { .. }), "{arch}: {r:?}");
    }
}
