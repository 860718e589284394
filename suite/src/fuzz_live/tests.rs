use super::*;
use crate::checks::Verdict;
use crate::kinds::kind_info;
use crate::spec::{builtin, KernelVersion, SymbolKind};

/// The kinds the generator makes calls for.
fn fuzzed_kinds() -> Vec<SymbolKind> {
    SymbolKind::ALL
        .into_iter()
        .filter(|&k| kind_info(k).fuzz != FuzzShape::No)
        .collect()
}

/// The calls per function the `fuzz` checks make by default (the runners'
/// `FUZZ_CALLS`): what the generator must cover within.
const CI_CALLS: u64 = 300;

#[test]
fn every_callable_clock_getrandom_getcpu_gettimeofday_and_time_kind_is_fuzzed() {
    let names: Vec<&str> = fuzzed_kinds().iter().map(|&k| kind_info(k).name).collect();
    for name in [
        "clock_gettime",
        "clock_gettime64",
        "clock_getres",
        "clock_getres_time64",
        "gettimeofday",
        "time",
        "getcpu",
        "getrandom",
    ] {
        assert!(names.contains(&name), "{name} is not fuzzed: {names:?}");
    }
    for k in fuzzed_kinds() {
        assert!(
            kind_info(k).callable && kind_info(k).live.is_some(),
            "{k:?}"
        );
    }
}

#[test]
fn a_call_reads_back_as_it_prints() {
    for kind in fuzzed_kinds() {
        let info = kind_info(kind);
        for index in 0..2000 {
            let call = generate(&info, "f", 7, index).unwrap();
            let shown = call.show(&info);
            assert_eq!(
                FuzzCall::parse(&info, &shown),
                Ok(call),
                "{}: {shown}",
                info.name
            );
        }
    }
}

#[test]
fn the_same_seed_makes_the_same_calls_and_another_seed_others() {
    let info = kind_info(SymbolKind::ClockGettime);
    let calls = |seed| -> Vec<FuzzCall> {
        (0..200)
            .map(|i| generate(&info, "__vdso_clock_gettime", seed, i).unwrap())
            .collect()
    };
    assert_eq!(calls(1), calls(1));
    assert_ne!(calls(1), calls(2));
    // A function's calls do not depend on which others are fuzzed with it.
    let other = generate(&info, "__vdso_clock_gettime64", 1, 5);
    assert_ne!(other, Some(calls(1)[5].clone()));
    // Fixed values: the generator is the same on every build and machine.
    assert_eq!(
        generate(&info, "__vdso_clock_gettime", 1, 0)
            .unwrap()
            .show(&info),
        GOLDEN_FIRST_CALL
    );
}

/// Call 0 of clock_gettime at seed 1: changes only when the generator does
/// (and then every recorded seed's calls change: say so in the changelog).
const GOLDEN_FIRST_CALL: &str = "clock=PROCESS_CPUTIME_ID timens=0,-1 ts=valid";

#[test]
fn the_ci_count_reaches_every_part_of_the_argument_space() {
    let clock = kind_info(SymbolKind::ClockGettime);
    let calls: Vec<FuzzCall> = (0..CI_CALLS)
        .map(|i| generate(&clock, "__vdso_clock_gettime", 1, i).unwrap())
        .collect();
    let clocks: Vec<ClockArg> = calls.iter().filter_map(|c| c.clock).collect();
    for of in Whose::ALL {
        assert!(
            clocks
                .iter()
                .any(|c| matches!(c, ClockArg::Cpu { of: o, .. } if *o == of)),
            "no CPU clock of {of:?}"
        );
    }
    for which in CpuWhich::ALL {
        assert!(clocks
            .iter()
            .any(|c| matches!(c, ClockArg::Cpu { which: w, .. } if *w == which)));
    }
    for fd in FdKind::ALL {
        assert!(clocks.contains(&ClockArg::Fd(fd)), "no {fd:?} fd clock");
    }
    for id in (0..=11).chain(16..=23) {
        assert!(clocks.contains(&ClockArg::Id(id)), "no clock {id}");
    }
    assert!(clocks
        .iter()
        .any(|c| matches!(c, ClockArg::Id(i) if *i > 23 || *i < 0)));
    for p in PtrArg::ALL {
        assert!(
            calls.iter().any(|c| c.pointers[0] == p),
            "no {p:?} timespec"
        );
    }
    let random = kind_info(SymbolKind::Getrandom);
    let calls: Vec<FuzzCall> = (0..CI_CALLS)
        .map(|i| generate(&random, "__vdso_getrandom", 1, i).unwrap())
        .collect();
    let args: Vec<RandomArgs> = calls
        .iter()
        .filter(|c| c.pointers_valid())
        .filter_map(|c| c.random)
        .collect();
    for state in StateCase::ALL {
        assert!(args.iter().any(|a| a.state == state), "no {state:?} state");
    }
    for flags in 0..8 {
        assert!(
            args.iter().any(|a| a.flags == flags),
            "flags {flags:#x} never tried"
        );
    }
    assert!(args.iter().any(|a| a.flags > 7), "no unknown flag bit");
    assert!(args.iter().any(|a| a.len == 0));
    assert!(args.iter().any(|a| a.len > 4096), "nothing past a page");
    let tz = kind_info(SymbolKind::Gettimeofday);
    let both: Vec<FuzzCall> = (0..CI_CALLS)
        .map(|i| generate(&tz, "__vdso_gettimeofday", 1, i).unwrap())
        .collect();
    for p in PtrArg::ALL {
        for slot in 0..2 {
            assert!(
                both.iter().any(|c| c.pointers[slot] == p),
                "no {p:?} in slot {slot}"
            );
        }
    }
}

/// The matrix's count under emulation.
const EMULATED_CALLS: u64 = 16;

#[test]
fn a_short_run_tries_every_clock_class_and_flag_combination_of_any_function() {
    for name in [
        "__vdso_clock_getres",
        "__kernel_clock_getres",
        "__vdso_getrandom",
        "x",
    ] {
        let getres = kind_info(SymbolKind::ClockGetres);
        let clocks: Vec<ClockArg> = (0..EMULATED_CALLS)
            .filter_map(|i| generate(&getres, name, 9, i).unwrap().clock)
            .collect();
        assert!(
            clocks.iter().any(|c| matches!(c, ClockArg::Id(16..=23))),
            "{name}: no aux clock"
        );
        assert!(clocks.iter().any(|c| matches!(c, ClockArg::Id(0..=11))));
        assert!(clocks.iter().any(|c| matches!(c, ClockArg::Cpu { .. })));
        assert!(clocks.iter().any(|c| matches!(c, ClockArg::Fd(_))));
        let random = kind_info(SymbolKind::Getrandom);
        let flags: Vec<u32> = (0..EMULATED_CALLS)
            .filter_map(|i| generate(&random, name, 9, i).unwrap().random)
            .map(|r| r.flags)
            .collect();
        for f in 0..8 {
            assert!(
                flags.contains(&f),
                "{name}: flags {f:#x} not tried in {EMULATED_CALLS} calls"
            );
        }
    }
}

#[test]
fn parse_names_what_is_wrong() {
    let info = kind_info(SymbolKind::ClockGetres);
    let err = |text: &str| FuzzCall::parse(&info, text).unwrap_err();
    assert!(err("clock").contains("KEY=VALUE"));
    assert!(
        err("len=3").contains("takes: clock, timens, res"),
        "{}",
        err("len=3")
    );
    assert!(err("res=wild").contains("one of valid, null"));
    assert!(err("clock=cpu:nobody:prof").contains("an unknown process"));
    assert!(err("clock=cpu:self").contains("a clock name"));
    let parsed = FuzzCall::parse(&info, "clock=AUX3 res=null").unwrap();
    assert_eq!(parsed.clock, Some(ClockArg::Id(19)));
    assert_eq!(parsed.pointers, vec![PtrArg::Null]);
    // Defaults: MONOTONIC, valid pointers.
    let bare = FuzzCall::parse(&info, "").unwrap();
    assert_eq!(bare.clock, Some(ClockArg::Id(1)));
    let random = kind_info(SymbolKind::Getrandom);
    let r = FuzzCall::parse(&random, "flags=0x6 state=after-fork").unwrap();
    assert_eq!(
        r.random,
        Some(RandomArgs {
            len: 16,
            flags: 6,
            state: StateCase::AfterFork
        })
    );
    assert!(FuzzCall::parse(&random, "flags=six").is_err());
    assert!(
        FuzzCall::parse(&random, "timens=1,2").is_err(),
        "getrandom is not namespaced"
    );
    assert_eq!(
        FuzzCall::parse(&info, "timens=5,-1").unwrap().timens,
        Some(TimeOffsets {
            monotonic: 5,
            boottime: -1
        })
    );
    assert!(err("timens=5").contains("MONOTONIC,BOOTTIME"));
}

#[test]
fn clock_ids_are_the_kernels_encodings() {
    // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), MAKE_THREAD_CPUCLOCK(tid, 2).
    let sched = |thread| ClockArg::Cpu {
        of: Whose::Process,
        which: CpuWhich::Sched,
        thread,
    };
    assert_eq!(sched(false).id(1234, -1), ((!1234) << 3) | 2);
    assert_eq!(sched(true).id(1234, -1), ((!1234) << 3) | 6);
    assert_eq!(ClockArg::Fd(FdKind::Closed).id(0, 5), ((!5) << 3) | 3);
    assert_eq!(ClockArg::Id(16).label(), "AUX0");
    assert_eq!(ClockArg::Id(40).label(), "beyond the last");
}

#[test]
fn flags_are_labelled_as_the_deviations_name_them() {
    assert_eq!(flags_label(0), "no flags");
    assert_eq!(flags_label(6), "GRND_INSECURE|GRND_RANDOM");
    assert_eq!(flags_label(7), "GRND_INSECURE|GRND_RANDOM|GRND_NONBLOCK");
    assert_eq!(flags_label(0x81), "GRND_NONBLOCK|0x80");
}

#[test]
fn shrinking_ends_in_a_call_with_nothing_simpler() {
    for kind in fuzzed_kinds() {
        let info = kind_info(kind);
        for index in 0..300 {
            let mut call = generate(&info, "f", 3, index).unwrap();
            let mut steps = 0;
            // Always taking the first candidate is the longest way down.
            while let Some(next) = simpler(&call).into_iter().next() {
                assert_ne!(next, call);
                call = next;
                steps += 1;
                assert!(steps < 200, "{}: no end: {}", info.name, call.show(&info));
            }
        }
    }
    // A bad buffer keeps the bad-pointer case's length, flags and state.
    let random = kind_info(SymbolKind::Getrandom);
    let bad = FuzzCall::parse(&random, "buf=prot-none").unwrap();
    assert!(simpler(&bad).iter().all(|c| c.random == bad.random));
}

fn x86_64_judging(spec: &crate::spec::ArchSpec) -> Judging<'_> {
    Judging {
        spec,
        provider: crate::spec::Provider::Kernel,
        kernel: Some(KernelVersion::new(6, 18, 0)),
    }
}

#[test]
fn a_disagreement_is_a_finding_unless_a_deviation_explains_it() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let getres = spec
        .symbols
        .iter()
        .find(|s| s.kind == SymbolKind::ClockGetres)
        .unwrap();
    let j = x86_64_judging(&spec);
    let call = |text| FuzzCall::parse(&kind_info(SymbolKind::ClockGetres), text).unwrap();
    let differs = |label: &str| Answer::Judged {
        result: CheckResult::from_symptoms(vec![Problem::about(
            "result-differs",
            label,
            "syscall EINVAL, vDSO 0.000000001",
        )]),
        overwrites: Vec::new(),
    };
    // The recorded bug: AUX clocks on 6.17 and later.
    let aux = judge(&j, getres, &call("clock=AUX2"), 18, differs("AUX2"));
    assert!(matches!(aux.verdict, Verdict::Xfail { .. }), "{aux:?}");
    // The same symptom for another clock is a finding.
    let other = judge(
        &j,
        getres,
        &call("clock=40"),
        40,
        differs("beyond the last"),
    );
    assert_eq!(symptom_ids(&other), vec!["result-differs".to_string()]);
    assert!(matches!(other.verdict, Verdict::Fail { .. }));
    // A crash with valid arguments.
    let died = judge(
        &j,
        getres,
        &call("clock=1"),
        1,
        Answer::Died(CallOutcome::Signal(libc::SIGSEGV)),
    );
    assert_eq!(symptom_ids(&died), vec!["call-crashed".to_string()]);
    let hung = judge(
        &j,
        getres,
        &call("clock=1"),
        1,
        Answer::Died(CallOutcome::Hung),
    );
    assert_eq!(symptom_ids(&hung), vec!["call-hung".to_string()]);
}

#[test]
fn any_deviation_of_the_function_may_explain_a_call_by_its_symptoms() {
    // QEMU's i386 getcpu writes a timeval over cpu and node; the deviation
    // names the checks that saw it (cpu valid), the fuzzer met it with a
    // misaligned cpu and a bad node.
    let spec = builtin("i386").unwrap().unwrap();
    let getcpu = spec
        .symbols
        .iter()
        .find(|s| s.kind == SymbolKind::Getcpu)
        .unwrap();
    let call = FuzzCall::parse(
        &kind_info(SymbolKind::Getcpu),
        "cpu=misaligned node=prot-none",
    )
    .unwrap();
    let wrote = Answer::Probed {
        sys: Some(Err(libc::EFAULT)),
        vdso: CallOutcome::Signal(libc::SIGSEGV),
        overwrites: vec![crate::vdso::guard::Overwrite {
            output: Some("cpu".into()),
            size: 5,
            first: 5,
            last: 8,
        }],
    };
    let judging = |provider| Judging {
        spec: &spec,
        provider,
        kernel: Some(KernelVersion::new(6, 18, 0)),
    };
    let qemu = judge(
        &judging(crate::spec::Provider::Qemu),
        getcpu,
        &call,
        0,
        wrote.clone(),
    );
    assert!(matches!(qemu.verdict, Verdict::Xfail { .. }), "{qemu:?}");
    // The kernel's vDSO has no such deviation.
    let kernel = judge(
        &judging(crate::spec::Provider::Kernel),
        getcpu,
        &call,
        0,
        wrote,
    );
    assert_eq!(
        symptom_ids(&kernel),
        vec!["wrote-outside-output".to_string()]
    );
}

#[test]
fn a_deviation_names_the_functions_its_checks_name_by_prefix() {
    // The aux-clock deviation names crosscheck::__vdso_clock_getres, which the
    // checks of __vdso_clock_getres_time64 answer to as well.
    let spec = builtin("i386").unwrap().unwrap();
    let time64 = spec
        .symbols
        .iter()
        .find(|s| s.kind == SymbolKind::ClockGetresTime64)
        .unwrap();
    let call = FuzzCall::parse(&kind_info(SymbolKind::ClockGetresTime64), "clock=AUX0").unwrap();
    let differs = Answer::Judged {
        result: CheckResult::from_symptoms(vec![Problem::about(
            "result-differs",
            "AUX0",
            "differs",
        )]),
        overwrites: Vec::new(),
    };
    let j = x86_64_judging(&spec);
    let r = judge(&j, time64, &call, 16, differs);
    assert!(matches!(r.verdict, Verdict::Xfail { .. }), "{r:?}");
}

#[test]
fn a_bad_pointer_is_judged_by_the_bad_pointer_judge_unless_both_answered_alike() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let gettime = spec
        .symbols
        .iter()
        .find(|s| s.kind == SymbolKind::ClockGettime)
        .unwrap();
    let j = x86_64_judging(&spec);
    let call =
        FuzzCall::parse(&kind_info(SymbolKind::ClockGettime), "clock=1 ts=prot-read").unwrap();
    let probed = |sys, vdso| Answer::Probed {
        sys,
        vdso,
        overwrites: Vec::new(),
    };
    let efault = Some(Err(libc::EFAULT));
    // SIGSEGV where the syscall says EFAULT: what the spec allows.
    let segv = judge(
        &j,
        gettime,
        &call,
        1,
        probed(efault, CallOutcome::Signal(libc::SIGSEGV)),
    );
    assert_eq!(segv.verdict, Verdict::Pass);
    // Success through a read-only pointer: a finding.
    let ok = judge(
        &j,
        gettime,
        &call,
        1,
        probed(efault, CallOutcome::Returned(0)),
    );
    assert_eq!(symptom_ids(&ok), vec!["bad-pointer-returned".to_string()]);
    // Just what the syscall answered (a partial count): no disagreement.
    let partial = judge(
        &j,
        gettime,
        &call,
        1,
        probed(Some(Ok(8)), CallOutcome::Returned(8)),
    );
    assert_eq!(partial.verdict, Verdict::Pass);
    let sigbus = judge(
        &j,
        gettime,
        &call,
        1,
        probed(efault, CallOutcome::Signal(libc::SIGBUS)),
    );
    assert!(matches!(sigbus.verdict, Verdict::Fail { .. }));
}

#[test]
fn the_fuzz_verdict_fails_on_findings_xfails_on_deviations_only_and_skips_when_nothing_ran() {
    let call = FuzzCall::parse(&kind_info(SymbolKind::ClockGetres), "clock=40").unwrap();
    let finding =
        CheckResult::from_symptoms(vec![Problem::about("result-differs", "x", "differs")]);
    let mut findings = Vec::new();
    let mut tally = Tally {
        subject: "__vdso_clock_getres@LINUX_2.6".into(),
        ..Tally::default()
    };
    let at = (4, SymbolKind::ClockGetres, 0, &call);
    assert!(tally.count(Seen::Agreed, at, &mut findings));
    assert_eq!(tally.verdict(1, &findings).verdict, Verdict::Pass);
    tally.count(Seen::Deviation("the aux bug".into()), at, &mut findings);
    let xfail = tally.verdict(1, &findings);
    assert!(matches!(&xfail.verdict, Verdict::Xfail { reason } if reason.contains("the aux bug")));
    tally.count(Seen::of(finding.clone()), at, &mut findings);
    tally.count(Seen::of(finding), at, &mut findings);
    assert_eq!(findings.len(), 1, "one finding per symptom set");
    assert_eq!(findings[0].count, 2);
    let failed = tally.verdict(1, &findings);
    assert_eq!(symptom_ids(&failed), vec!["result-differs".to_string()]);
    assert!(
        format!("{failed:?}").contains("clock=40"),
        "names the simplest call"
    );
    let mut absent = Tally::default();
    assert!(!absent.count(Seen::Absent("not in this vDSO".into()), at, &mut findings));
    assert!(matches!(
        absent.verdict(1, &[]).verdict,
        Verdict::Skip { .. }
    ));
    let mut refused = Tally::default();
    refused.count(Seen::NotMade("no threads".into()), at, &mut findings);
    let r = refused.verdict(1, &[]);
    assert!(matches!(r.verdict, Verdict::Skip { .. }) && r.environment);
}

#[test]
fn the_reproducer_declares_the_spec_prototype() {
    let spec = builtin("x86_64").unwrap().unwrap();
    let sym = spec
        .symbols
        .iter()
        .find(|s| s.kind == SymbolKind::Getrandom)
        .unwrap();
    let info = kind_info(sym.kind);
    let call = FuzzCall::parse(&info, "len=300 flags=0x7 state=zeroed").unwrap();
    let c = reproducer::c_source(sym, &info, &call, None);
    assert!(c.contains(
        "typedef ssize_t (*fn_t)(void *buf, size_t len, unsigned int flags, void *opaque_state, size_t opaque_len);"
    ));
    assert!(
        c.contains("syscall(SYS_getrandom, arg(\"valid\", 300, 0), 300, 0x7)"),
        "{c}"
    );
    assert!(c.contains("memset(state, 0, 4096)"));
}
