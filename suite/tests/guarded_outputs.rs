//! Output buffers are guarded: a vDSO function that writes past its outputs is seen
//! doing so, the same way every time, and judged as what it is. The fake functions
//! below are called through the same typed calls as a real vDSO.

use vdsoconf_suite::checks::live::overwrite::judge_overwrites;
use vdsoconf_suite::checks::{apply_deviations, plan, CheckResult, Group, Verdict};
use vdsoconf_suite::kinds::getcpu::judge_getcpu_against_syscall;
use vdsoconf_suite::spec::{builtin, Provider};
use vdsoconf_suite::vdso::guard::{take_overwrites, with_outputs, GuardedOutput, Overwrite};
use vdsoconf_suite::vdso::{ClockGettime, Getcpu, Handle, Outputs, VdsoFn};

/// QEMU's i386 `__vdso_getcpu` (linux-user/i386/vdso.S) issues gettimeofday: a
/// timeval over `cpu` and a timezone over `node`, each 4 bytes wider than they are.
extern "C" fn qemu_like_getcpu(cpu: usize, node: usize, _: usize, _: usize, _: usize) -> isize {
    // SAFETY: the test's own guarded buffers: each output sits in read-write pages with
    // at least `guard::ZONE` bytes after it, so the 8-byte writes stay in them.
    unsafe {
        ((cpu) as *mut [u32; 2]).write_unaligned([1_764_000_000, 123_456]);
        ((node) as *mut [u32; 2]).write_unaligned([0, 0]);
    }
    0
}

/// A getcpu that writes exactly its outputs.
extern "C" fn good_getcpu(cpu: usize, node: usize, _: usize, _: usize, _: usize) -> isize {
    // SAFETY: as above, 4 bytes each.
    unsafe {
        (cpu as *mut u32).write_unaligned(0);
        (node as *mut u32).write_unaligned(0);
    }
    0
}

/// A clock_gettime that writes one byte before its timespec.
extern "C" fn underflowing_gettime(_: usize, ts: usize, _: usize, _: usize, _: usize) -> isize {
    // SAFETY: as above: `guard::ZONE` bytes before the output are in the pages.
    unsafe { ((ts - 1) as *mut u8).write(0) };
    0
}

fn fake<H: Handle>(f: extern "C" fn(usize, usize, usize, usize, usize) -> isize) -> H {
    // SAFETY: a Rust function with the C ABI and the prototype the test calls it as.
    H::from_fn(unsafe { VdsoFn::new(f as usize) })
}

// One test does every live call: the record of overwrites is per process, and the
// tests of this file run on threads of one process.
#[test]
fn writes_outside_an_output_are_seen_and_judged_the_same_every_time() {
    // A correct function leaves nothing to report, nor does a buffer nothing wrote to.
    let (r, cpu, node) = fake::<Getcpu>(good_getcpu).call();
    assert_eq!((r, cpu, node), (Ok(0), 0, 0));
    let mut kept = GuardedOutput::new("t", &[0; 8]).unwrap();
    kept.inspect();
    drop(kept);
    assert_eq!(take_overwrites(), Vec::<Overwrite>::new());

    // QEMU's getcpu: both writes past the end are seen, each time, and nothing else
    // in the process is touched (the run goes on to the next calls).
    for _ in 0..3 {
        let (r, cpu, node) = fake::<Getcpu>(qemu_like_getcpu).call();
        assert_eq!((r, cpu, node), (Ok(0), 1_764_000_000, 0));
        let seen = take_overwrites();
        assert_eq!(
            seen,
            vec![
                Overwrite {
                    output: Some("cpu".into()),
                    size: 4,
                    first: 4,
                    last: 7
                },
                Overwrite {
                    output: Some("node".into()),
                    size: 4,
                    first: 4,
                    last: 7
                },
            ]
        );
        assert!(
            seen[0]
                .describe()
                .contains("past the end of `cpu` (4 bytes)"),
            "{}",
            seen[0].describe()
        );
    }

    // A write before the output.
    let (r, _) = fake::<ClockGettime>(underflowing_gettime).call(1);
    assert_eq!(r, Ok(0));
    let seen = take_overwrites();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].first, seen[0].last), (-1, -1));
    assert!(seen[0].describe().contains("before the start of `ts`"));

    // A write far from the output (beyond the zone inspected per call) is found when
    // the pages are inspected whole.
    with_outputs(&mut [("t", &mut [0u8; 8])], |p| {
        // SAFETY: 1000 bytes past an 8-byte output in the middle of a page of at least
        // 4 KiB of canary: inside the read-write pages.
        unsafe { ((p[0] + 1000) as *mut u8).write(7) };
    });
    let seen = take_overwrites();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].output, None);

    // A buffer kept over many calls (the bench's) is inspected on demand.
    let mut kept = Outputs::<Getcpu>::new().unwrap();
    let getcpu = fake::<Getcpu>(qemu_like_getcpu);
    for _ in 0..100 {
        kept.vdso(&getcpu, 0);
    }
    kept.inspect();
    let seen = take_overwrites();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].output.as_deref(), Some("cpu"));
    assert_eq!(seen[1].output.as_deref(), Some("node"));
    drop(kept); // inspected whole as they are unmapped: nothing more
    assert_eq!(take_overwrites().len(), 0);
    // Outputs never inspected are inspected as they are unmapped.
    let unseen = Outputs::<Getcpu>::new().unwrap();
    unseen.vdso(&getcpu, 0);
    drop(unseen);
    assert_eq!(take_overwrites().len(), 2);
}

#[test]
fn a_check_that_passed_fails_when_its_calls_wrote_outside_their_outputs() {
    let write = Overwrite {
        output: Some("ts".into()),
        size: 16,
        first: 16,
        last: 23,
    };
    let r = judge_overwrites(CheckResult::pass(), std::slice::from_ref(&write));
    assert!(r.is_fail());
    assert_eq!(r.problems, vec![write.describe()]);
    // The check's own problems are kept beside the writes.
    let failed = vdsoconf_suite::checks::from_problems(vec!["a".into(), "b".into()]);
    let r = judge_overwrites(failed, std::slice::from_ref(&write));
    assert_eq!(r.problems.len(), 3);
    // No writes: the result is unchanged.
    assert_eq!(
        judge_overwrites(CheckResult::pass(), &[]),
        CheckResult::pass()
    );
    let skipped = judge_overwrites(CheckResult::skip("why"), &[write]);
    assert!(skipped.is_fail());
    assert!(skipped.notes.iter().any(|n| n.contains("why")));
}

/// What QEMU's i386 getcpu leaves: the judged readings of the cross-check and the
/// writes past `cpu` and `node`.
fn qemu_getcpu_result() -> CheckResult {
    let samples = [
        (0, Ok((1_764_000_000, 0)), Ok((0, 0))),
        (1, Ok((1_764_000_000, 0)), Ok((1, 0))),
    ];
    let writes = ["cpu", "node"].map(|name| Overwrite {
        output: Some(name.into()),
        size: 4,
        first: 4,
        last: 7,
    });
    judge_overwrites(judge_getcpu_against_syscall(&samples), &writes)
}

#[test]
fn the_i386_qemu_getcpu_overwrite_is_reported_as_the_recorded_qemu_deviation() {
    let spec = builtin("i386").unwrap().unwrap();
    for group in ["call", "crosscheck", "badptr"] {
        let check = plan(&spec)
            .into_iter()
            .find(|c| {
                c.group.name() == group
                    && c.subject.starts_with("__vdso_getcpu")
                    && c.group != Group::Resolve
            })
            .unwrap_or_else(|| panic!("no {group} check of __vdso_getcpu"));
        let r = apply_deviations(&spec, Provider::Qemu, None, &check, qemu_getcpu_result());
        match &r.verdict {
            Verdict::Xfail { reason } => assert!(
                reason.contains("known QEMU bug")
                    && reason.contains("writes a timeval over the cpu and node results"),
                "{group}: {reason}"
            ),
            v => panic!("{group}: expected the QEMU deviation, got {v:?}"),
        }
        // The same writes by the kernel's own vDSO are a failure.
        let k = apply_deviations(&spec, Provider::Kernel, None, &check, qemu_getcpu_result());
        assert!(k.is_fail(), "{group}: {k:?}");
    }
}
