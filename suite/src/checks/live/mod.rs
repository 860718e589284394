//! Live checks: each runs in a child process against this process's vDSO and the raw
//! syscalls. The judging functions take readings, not functions, so tests can feed
//! them a broken implementation.

pub mod badptr;
pub mod call;
pub mod clocks;
pub mod crosscheck;
pub mod monotonic;
pub mod overwrite;
pub mod served;
pub mod special;
pub mod timens;

use self::clocks::{all_clock_cases, decode, ClockCase, Reading};
use self::crosscheck::{CpuSample, RandomCase};
use self::served::{
    current_clocksource, expected_for_clock, Clocksource, Expected, Service, ServiceCase,
};
use crate::checks::result::CheckResult;
use crate::checks::Target;
use crate::spec::{ClockId, ErrorConvention, SymbolKind, SymbolSpec};
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{GetrandomState, KernelTimespec, LiveVdso, NativeTimespec, Timespec, VdsoFn};
use std::time::Duration;

/// Resolves `sym` in this process's vDSO, or says why a live check cannot run.
pub fn live_fn(sym: &SymbolSpec, convention: ErrorConvention) -> Result<VdsoFn, CheckResult> {
    if let Some(why) = crate::checks::live::call::convention_unsupported(convention) {
        return Err(CheckResult::skip(why));
    }
    let vdso = match LiveVdso::find() {
        Ok(Some(v)) => v,
        Ok(None) => return Err(CheckResult::skip("no vDSO in this process")),
        Err(e) => return Err(CheckResult::fail(e.to_string())),
    };
    match vdso.function(sym.name.as_bytes(), sym.version.as_bytes()) {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(CheckResult::skip(format!(
            "{}@{} is not in this vDSO (its resolve check says whether it should be)",
            sym.name, sym.version
        ))),
        Err(e) => Err(CheckResult::fail(format!("live vDSO: {e}"))),
    }
}

/// A clock function as a reader (`time64`: the `__kernel_timespec` ABI).
fn clock_reader(f: VdsoFn, kind: SymbolKind) -> impl Fn(i32) -> Reading {
    move |clock| {
        let (ret, ts): (i32, Timespec) = match kind {
            SymbolKind::ClockGettime64 => {
                let (r, t) = f.clock_gettime64(clock);
                (r, t.into())
            }
            SymbolKind::ClockGetresTime64 => {
                let (r, t) = f.clock_getres_time64(clock);
                (r, t.into())
            }
            SymbolKind::ClockGetres => {
                let (r, t) = f.clock_getres(clock);
                (r, t.into())
            }
            _ => {
                let (r, t) = f.clock_gettime(clock);
                (r, t.into())
            }
        };
        decode(ret.into()).map(|()| ts)
    }
}

/// `clock_gettime(clock, ts)` with `ts` filled with a canary: the reading, and whether
/// the canary survived (it must, when the call fails).
fn gettime_with_canary(f: VdsoFn, kind: SymbolKind, clock: i32) -> (Reading, bool) {
    const CANARY: i64 = 0x5a5a_5a5a_5a5a_5a5a;
    if kind == SymbolKind::ClockGettime64 {
        let canary = KernelTimespec {
            tv_sec: CANARY,
            tv_nsec: CANARY,
        };
        let (r, ts) = f.clock_call_with(clock, canary);
        (decode(r.into()).map(|()| ts.into()), ts == canary)
    } else {
        let canary = NativeTimespec {
            tv_sec: CANARY as _,
            tv_nsec: CANARY as _,
        };
        let (r, ts) = f.clock_call_with(clock, canary);
        (decode(r.into()).map(|()| ts.into()), ts == canary)
    }
}

pub use crate::vdso::process::allowed_cpus;

/// Moves the calling thread to `cpu`.
pub fn pin(cpu: usize) -> bool {
    crate::vdso::process::set_allowed_cpus(&[cpu]).is_ok()
}

fn restore_affinity(cpus: &[usize]) {
    let _ = crate::vdso::process::set_allowed_cpus(cpus);
}

/// Cross-checks one symbol against the raw syscall.
pub fn run_crosscheck(sym: &SymbolSpec, convention: ErrorConvention) -> CheckResult {
    if let Some(why) = special::special_skip(sym.kind) {
        return CheckResult::skip(why);
    }
    let f = match live_fn(sym, convention) {
        Ok(f) => f,
        Err(r) => return r,
    };
    #[cfg(target_arch = "x86")]
    if sym.kind == SymbolKind::VsyscallEntry {
        return special::crosscheck_vsyscall(f.address());
    }
    let cases = all_clock_cases();
    match sym.kind {
        SymbolKind::ClockGettime | SymbolKind::ClockGettime64 => crosscheck::judge_gettime(
            &cases,
            &mut |c| gettime_with_canary(f, sym.kind, c),
            &mut syscall::clock_gettime,
            &mut syscall::clock_getres,
        ),
        SymbolKind::ClockGetres | SymbolKind::ClockGetresTime64 => {
            let read = clock_reader(f, sym.kind);
            crosscheck::judge_getres(
                &cases,
                &mut |c| read(c),
                &mut |c| decode(f.clock_call_at(c, 0).into()),
                &mut syscall::clock_getres,
            )
        }
        SymbolKind::Gettimeofday => {
            let before = syscall::gettimeofday();
            let (r, tv, tz) = f.gettimeofday();
            let after = syscall::gettimeofday();
            #[allow(clippy::useless_conversion)] // c_long is i32 on 32-bit targets
            let got = decode(r.into()).map(|()| (i64::from(tv.tv_sec), i64::from(tv.tv_usec), tz));
            let nulls = [
                decode(f.gettimeofday_null(true, false).into()),
                decode(f.gettimeofday_null(false, true).into()),
                decode(f.gettimeofday_null(true, true).into()),
            ];
            crosscheck::judge_gettimeofday(before, got, after, nulls)
        }
        SymbolKind::Time => {
            let sys_seconds = || match syscall::time_at(0) {
                Some(r) => r.map(|v| v as i64),
                None => syscall::coarse_seconds(),
            };
            let (Ok(before), (ret, stored), Ok(after)) = (sys_seconds(), f.time(), sys_seconds())
            else {
                return CheckResult::fail("the time syscall failed");
            };
            #[allow(clippy::useless_conversion)] // time_t is i32 on 32-bit targets
            crosscheck::judge_time(
                before,
                ret.into(),
                stored.into(),
                after,
                f.time_at(0).into(),
            )
        }
        SymbolKind::Getcpu => {
            let cpus = allowed_cpus();
            let mut samples: Vec<CpuSample> = Vec::new();
            let mut refused = None;
            for &cpu in &cpus {
                if !pin(cpu) {
                    refused = Some(std::io::Error::last_os_error());
                    continue;
                }
                let (r, c, n) = f.getcpu();
                let vdso = decode(r.into()).map(|()| (c, n));
                samples.push((cpu as u32, vdso, syscall::getcpu()));
            }
            restore_affinity(&cpus);
            match refused {
                Some(e) if samples.is_empty() => CheckResult::unrunnable(format!(
                    "sched_setaffinity refused every CPU this process may run on: {e}"
                )),
                _ => crosscheck::judge_getcpu(&samples),
            }
        }
        SymbolKind::Getrandom => crosscheck_getrandom(f),
        other => CheckResult::skip(format!("no cross-check for kind {}", other.name())),
    }
}

fn crosscheck_getrandom(f: VdsoFn) -> CheckResult {
    let (r, params) = f.getrandom_params();
    if r != 0 {
        return CheckResult::fail(format!(
            "the parameter query (NULL, 0, 0, &params, ~0UL) returned {r}"
        ));
    }
    let state = match GetrandomState::new(&params) {
        Ok(s) => s,
        Err(e) => return CheckResult::fail(e),
    };
    let vdso_len = |r: isize| {
        if r < 0 {
            Err((-r) as Errno)
        } else {
            Ok(r as usize)
        }
    };
    let mut cases = Vec::new();
    for len in [1usize, 32, 256, 4096, 1 << 20] {
        let mut a = vec![0u8; len];
        let mut b = vec![0u8; len];
        cases.push(RandomCase {
            what: format!("{len} bytes"),
            vdso: vdso_len(f.getrandom(&mut a, 0, &state)),
            sys: syscall::getrandom(&mut b, 0),
        });
    }
    for (flags, what) in [
        (0x1, "GRND_NONBLOCK"),
        (0x2, "GRND_RANDOM"),
        (0x4, "GRND_INSECURE"),
        (0x6, "GRND_INSECURE|GRND_RANDOM"),
        (0x80, "an unknown flag"),
    ] {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        cases.push(RandomCase {
            what: what.into(),
            vdso: vdso_len(f.getrandom(&mut a, flags, &state)),
            sys: syscall::getrandom(&mut b, flags),
        });
    }
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    cases.push(RandomCase {
        what: "a wrong opaque_len (must fall back)".into(),
        vdso: vdso_len(f.getrandom_with_len(
            &mut a,
            0,
            &state,
            params.size_of_opaque_state as usize + 1,
        )),
        sys: syscall::getrandom(&mut b, 0),
    });
    let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
    f.getrandom(&mut x, 0, &state);
    f.getrandom(&mut y, 0, &state);
    let after_fork = getrandom_after_fork(f, &state);
    let forked = match &after_fork {
        Ok(differs) => *differs,
        Err(r) => return r.clone(),
    };
    crosscheck::judge_getrandom(
        &cases,
        &[
            ("two successive calls", x != y),
            ("parent and child after fork", forked),
        ],
    )
}

/// A fresh state (generation 0) seeds its key through the getrandom syscall on first
/// use; do that before the syscall is trapped, so the trap sees only real fallbacks.
fn warm_up(f: VdsoFn, state: &GetrandomState) {
    let mut seed = [0u8; 1];
    f.getrandom(&mut seed, 0, state);
}

/// Forks (this is a single-threaded child process): the child's output from the copied
/// state must differ from the parent's next output.
/// `Err` is the check's result: unrunnable when the machine refused the fork.
fn getrandom_after_fork(f: VdsoFn, state: &GetrandomState) -> Result<bool, CheckResult> {
    let forked = crate::vdso::process::fork_exchange(
        || {
            let mut out = [0u8; 32];
            f.getrandom(&mut out, 0, state);
            out
        },
        || {
            let mut mine = [0u8; 32];
            f.getrandom(&mut mine, 0, state);
            mine
        },
    );
    match forked {
        Err(e) => Err(CheckResult::unrunnable(format!("fork: {e}"))),
        Ok((_, None)) => Err(CheckResult::fail(
            "the forked child did not report its output",
        )),
        Ok((mine, Some(theirs))) => Ok(mine != theirs),
    }
}

/// A way to read one clock.
type ClockSource = Box<dyn Fn() -> Reading + Sync>;

/// Monotonicity of one clock (or gettimeofday when `clock` is `None`).
pub fn run_monotonic(
    target: &Target,
    sym: &SymbolSpec,
    clock: Option<ClockId>,
    duration: Duration,
    progress: &(dyn Fn(u64) + Sync),
) -> CheckResult {
    let f = match live_fn(sym, target.spec.error_convention) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let cpus = allowed_cpus();
    let (vdso, sys): (ClockSource, ClockSource) = match (sym.kind, clock) {
        (SymbolKind::Gettimeofday, _) => (
            Box::new(move || {
                let (r, tv, _) = f.gettimeofday();
                #[allow(clippy::useless_conversion)]
                decode(r.into()).map(|()| Timespec {
                    sec: tv.tv_sec.into(),
                    nsec: i64::from(tv.tv_usec) * 1000,
                })
            }),
            Box::new(|| {
                syscall::gettimeofday().map(|(s, us, _)| Timespec {
                    sec: s,
                    nsec: us * 1000,
                })
            }),
        ),
        (kind, Some(c)) => {
            let read = clock_reader(f, kind);
            (
                Box::new(move || read(c.0)),
                Box::new(move || syscall::clock_gettime(c.0)),
            )
        }
        (_, None) => return CheckResult::fail("no clock given"),
    };
    let steppable = clock.is_none_or(|c| target.spec.clocks.steppable.contains(&c));
    let offset = || {
        let r = syscall::clock_gettime(0).map(clocks::ns).unwrap_or(0);
        let m = syscall::clock_gettime(1).map(clocks::ns).unwrap_or(0);
        r - m
    };
    let offset_before = offset();
    let probe = monotonic::MonotonicProbe {
        vdso: &*vdso,
        sys: &*sys,
        cpus: cpus.clone(),
        pin: &pin,
        progress,
    };
    let report = monotonic::run_monotonic(&probe, duration);
    restore_affinity(&cpus);
    // REALTIME was stepped if its distance from MONOTONIC changed by more than a millisecond.
    let stepped = (offset() - offset_before).abs() > 1_000_000;
    monotonic::judge_monotonic(&report, steppable, stepped)
}

/// The served/fallback check of one symbol (installs a seccomp filter: child only).
pub fn run_served(target: &Target, sym: &SymbolSpec) -> CheckResult {
    if !target.spec.providers.get(target.provider).seccomp {
        return CheckResult::skip(format!(
            "seccomp is not available under {} (not emulated)",
            target.provider.name()
        ));
    }
    if let Some(why) = special::special_skip(sym.kind) {
        return CheckResult::skip(why);
    }
    let f = match live_fn(sym, target.spec.error_convention) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let clocksource = current_clocksource(&target.spec);
    // Which aux clocks run: ask the syscall before it is trapped.
    let aux_enabled: Vec<i32> = (16..=23)
        .filter(|&c| syscall::clock_gettime(c).is_ok())
        .collect();
    // getrandom needs its state before the trap (the parameter query is served anyway).
    let random = if sym.kind == SymbolKind::Getrandom {
        let (r, params) = f.getrandom_params();
        if r != 0 {
            return CheckResult::fail(format!("getrandom parameter query returned {r}"));
        }
        match GetrandomState::new(&params) {
            Ok(s) => {
                warm_up(f, &s);
                Some((s, params))
            }
            Err(e) => return CheckResult::fail(e),
        }
    } else {
        None
    };
    if let Err(e) = served::install_fallback_trap() {
        return CheckResult::unrunnable(e);
    }
    let status = |ret: i64| Service::from_status(decode(ret));
    let mut cases = Vec::new();
    let clock_cases: Vec<ClockCase> = all_clock_cases()
        .into_iter()
        .filter(|c| (0..=23).contains(&c.id) || c.id < -1)
        .collect();
    match sym.kind {
        SymbolKind::ClockGettime
        | SymbolKind::ClockGettime64
        | SymbolKind::ClockGetres
        | SymbolKind::ClockGetresTime64 => {
            let needs_counter = matches!(
                sym.kind,
                SymbolKind::ClockGettime | SymbolKind::ClockGettime64
            );
            let read = clock_reader(f, sym.kind);
            for c in &clock_cases {
                let expected = expected_for_clock(
                    &target.spec,
                    target.provider,
                    target.kernel,
                    c.id,
                    needs_counter,
                    &clocksource,
                    aux_enabled.contains(&c.id),
                );
                cases.push(ServiceCase {
                    what: c.describe(),
                    expected,
                    observed: Service::from_status(read(c.id).map(|_| ())),
                });
            }
        }
        SymbolKind::Gettimeofday => {
            let expected = expected_for_clock(
                &target.spec,
                target.provider,
                target.kernel,
                0,
                true,
                &clocksource,
                false,
            );
            cases.push(ServiceCase {
                what: "gettimeofday".into(),
                expected,
                observed: status(f.gettimeofday().0.into()),
            });
        }
        SymbolKind::Time => {
            let (t, _) = f.time();
            #[allow(clippy::useless_conversion)]
            let t: i64 = t.into();
            let observed = if t > 0 {
                Service::Served
            } else {
                Service::from_status(decode(t))
            };
            cases.push(ServiceCase {
                what: "time".into(),
                expected: Expected::Served,
                observed,
            });
        }
        SymbolKind::Getcpu => {
            cases.push(ServiceCase {
                what: "getcpu".into(),
                expected: Expected::Served,
                observed: status(f.getcpu().0.into()),
            });
        }
        SymbolKind::Getrandom => {
            let (state, params) = random.expect("made above");
            let mut buf = [0u8; 32];
            let as_status =
                |r: isize| Service::from_status(if r < 0 { Err((-r) as Errno) } else { Ok(()) });
            cases.push(ServiceCase {
                what: "getrandom".into(),
                expected: Expected::Served,
                observed: as_status(f.getrandom(&mut buf, 0, &state)),
            });
            cases.push(ServiceCase {
                what: "getrandom with a wrong opaque_len".into(),
                expected: Expected::Fallback,
                observed: as_status(f.getrandom_with_len(
                    &mut buf,
                    0,
                    &state,
                    params.size_of_opaque_state as usize + 1,
                )),
            });
            cases.push(ServiceCase {
                what: "getrandom with an unknown flag".into(),
                expected: Expected::Fallback,
                observed: as_status(f.getrandom(&mut buf, 0x80, &state)),
            });
        }
        other => {
            return CheckResult::skip(format!(
                "no served/fallback check for kind {}",
                other.name()
            ))
        }
    }
    let source = match &clocksource {
        Clocksource::Capable(n) => format!("clocksource {n} (vDSO-capable)"),
        Clocksource::Incapable(n) => {
            format!("clocksource {n} (no vDSO mode: high-res clocks fall back)")
        }
        Clocksource::Unknown => "clocksource unknown (no sysfs)".into(),
    };
    served::judge_served(&cases, source)
}

/// Inside a time namespace: what the inner process reports for `sym`.
pub fn timens_inside(target: &Target, sym: &SymbolSpec) -> timens::InnerReport {
    let f = match live_fn(sym, target.spec.error_convention) {
        Ok(f) => f,
        Err(r) => {
            return timens::InnerReport {
                error: Some(format!("{:?}", r.verdict)),
                ..Default::default()
            }
        }
    };
    if sym.kind == SymbolKind::Getrandom {
        let (r, params) = f.getrandom_params();
        if r != 0 {
            return timens::getrandom_inside(Err(format!(
                "getrandom parameter query returned {r}"
            )));
        }
        let state = match GetrandomState::new(&params) {
            Ok(s) => s,
            Err(e) => return timens::getrandom_inside(Err(e)),
        };
        warm_up(f, &state);
        if let Err(e) = served::install_fallback_trap() {
            return timens::InnerReport {
                unrunnable: Some(e),
                ..Default::default()
            };
        }
        let mut buf = [0u8; 32];
        let r = f.getrandom(&mut buf, 0, &state);
        let status = if r < 0 { Err((-r) as Errno) } else { Ok(()) };
        return timens::getrandom_inside(Ok(Service::from_status(status)));
    }
    let read = clock_reader(f, sym.kind);
    timens::read_inside(&read)
}

/// The time-namespace check of `sym`; `inside` runs [`timens_inside`] in a new process.
pub fn run_timens(
    target: &Target,
    sym: &SymbolSpec,
    inside: &dyn Fn() -> timens::InnerReport,
) -> CheckResult {
    if let Err(r) = live_fn(sym, target.spec.error_convention) {
        return r;
    }
    if sym.kind == SymbolKind::Getrandom && !target.spec.providers.get(target.provider).seccomp {
        return CheckResult::skip("seccomp is not available, so a fallback cannot be seen");
    }
    if let Err(skip) = timens::enter_namespace() {
        return skip;
    }
    let (outside, inner) = timens::around(inside);
    timens::judge_timens(&outside, &inner, sym.kind == SymbolKind::Getrandom)
}
