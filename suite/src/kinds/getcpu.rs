//! getcpu: the CPU and NUMA node the caller runs on.

use super::{called, observed, pointers_of, KindInfo, LiveKind, Pointers};
use crate::checks::live::call::describe_ret;
use crate::checks::live::clocks::{errno_name, ClockCase};
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::live::step::step;
use crate::checks::{CheckResult, Problem};
use crate::fuzz_live::{FuzzCall, FuzzShape};
use crate::vdso::process::{
    allowed_cpus, configured_cpus, page_size, set_allowed_cpus, Access, Pages,
};
use crate::vdso::syscall::{self, Errno};
use crate::vdso::{Getcpu, PointerCall, Resolved, Returned};

/// What getcpu's judges report.
const SYMPTOMS: &[(&str, &str)] = &[
    (
        "cpu-out-of-range",
        "getcpu's CPU is not below the number of configured CPUs",
    ),
    (
        "wrong-cpu",
        "getcpu named another CPU than the one pinned (DETAIL)",
    ),
    (
        "wrong-node",
        "getcpu named another node than the syscall (on CPU DETAIL)",
    ),
];

pub const INFO: KindInfo = KindInfo {
    outputs: Getcpu::OUTPUTS,
    symptoms: SYMPTOMS,
    scalar_outputs: true,
    fuzz: FuzzShape::Getcpu,
    ..called::<Getcpu>("getcpu", &GetcpuKind)
};

pub struct GetcpuKind;

impl LiveKind for GetcpuKind {
    /// A valid call, then the third argument (`tcache`, ignored since
    /// 2.6.24) as NULL, all-ones, a PROT_NONE and a read-only page: nothing
    /// changes (pinned to one CPU, so the CPU cannot).
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let f = f.handle::<Getcpu>()?;
        let (r, cpu, node) = f.call();
        judge_getcpu(r, cpu, node, configured_cpus())?;
        let pages = Pages::new(2).map_err(|e| format!("mmap: {e}"))?;
        pages
            .protect(0, Access::None)
            .and_then(|()| pages.protect(1, Access::Read))
            .map_err(|e| format!("mprotect: {e}"))?;
        let cpus = allowed_cpus();
        let pinned = cpus.first().map(|&c| set_allowed_cpus(&[c]));
        let tcache = |what: &str, at: usize| {
            step(&format!("getcpu with tcache={what}"));
            f.call_with_tcache(at)
        };
        let with_null = tcache("NULL", 0);
        let cases = [
            ("all-ones", tcache("all-ones", usize::MAX)),
            ("a PROT_NONE page", tcache("a PROT_NONE page", pages.base())),
            (
                "a read-only page",
                tcache("a read-only page", pages.base() + page_size()),
            ),
        ];
        let pinned = matches!(pinned, Some(Ok(())));
        if pinned {
            let _ = set_allowed_cpus(&cpus);
        }
        judge_getcpu_tcache(with_null, &cases, pinned)
    }

    /// Pinned to the CPU the call names (an index into the CPUs this process
    /// may run on, taken modulo their number), as the cross-check pins it.
    fn fuzz(&self, f: Resolved, call: &FuzzCall, _: Option<ClockCase>) -> CheckResult {
        let f = match f.handle::<Getcpu>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let cpus = allowed_cpus();
        let Some(&cpu) = cpus.get(call.pin.unwrap_or(0) as usize % cpus.len().max(1)) else {
            return CheckResult::unrunnable("sched_getaffinity named no CPU");
        };
        if let Err(e) = set_allowed_cpus(&[cpu]) {
            return CheckResult::unrunnable(format!("sched_setaffinity refused CPU {cpu}: {e}"));
        }
        let (r, c, n) = f.call();
        let sample = (cpu as u32, r.map(|_| (c, n)), syscall::getcpu());
        let _ = set_allowed_cpus(&cpus);
        judge_getcpu_against_syscall(&[sample])
    }

    /// Pinned to each CPU this process may run on in turn.
    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<Getcpu>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let cpus = allowed_cpus();
        let mut samples: Vec<CpuSample> = Vec::new();
        let mut refused = None;
        for &cpu in &cpus {
            if let Err(e) = set_allowed_cpus(&[cpu]) {
                refused = Some(e);
                continue;
            }
            let (r, c, n) = f.call();
            samples.push((cpu as u32, r.map(|_| (c, n)), syscall::getcpu()));
        }
        let _ = set_allowed_cpus(&cpus);
        match refused {
            Some(e) if samples.is_empty() => CheckResult::unrunnable(format!(
                "sched_setaffinity refused every CPU this process may run on: {e}"
            )),
            _ => judge_getcpu_against_syscall(&samples),
        }
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Getcpu>().map_err(CheckResult::fail)?;
        ctx.trap()?;
        Ok(vec![observed("getcpu", Expected::Served, || f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Getcpu>(f, use_it)
    }
}

/// `getcpu` returned `ret`, `cpu`, `node`; the machine has `cpus` possible CPUs.
pub fn judge_getcpu(ret: Returned, cpu: u32, node: u32, cpus: u32) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    if cpu >= cpus {
        return Err(Problem::new(
            "cpu-out-of-range",
            format!("cpu {cpu} is not below the {cpus} configured CPUs"),
        ));
    }
    // MAX_NUMNODES is at most 1 << 10.
    if node >= 1024 {
        return Err(Problem::about(
            "implausible-value",
            "node",
            format!("node {node} is not a NUMA node number"),
        ));
    }
    Ok(())
}

/// getcpu's third argument (`tcache`) is ignored: with each `(what, reading)`
/// the call returns what it returns with NULL and, when the caller was
/// `pinned` to one CPU (else the CPU may change between calls), the same CPU
/// and node.
pub fn judge_getcpu_tcache(
    with_null: (Returned, u32, u32),
    cases: &[(&str, (Returned, u32, u32))],
    pinned: bool,
) -> Result<(), Problem> {
    for (what, reading) in cases {
        let differs = if pinned {
            *reading != with_null
        } else {
            reading.0 != with_null.0
        };
        if differs {
            return Err(Problem::about(
                "result-differs",
                "tcache",
                format!(
                    "with tcache {what} it returned {} with cpu {} node {}; with NULL {} with cpu {} node {} (tcache is to be ignored)",
                    describe_ret(reading.0),
                    reading.1,
                    reading.2,
                    describe_ret(with_null.0),
                    with_null.1,
                    with_null.2
                ),
            ));
        }
    }
    Ok(())
}

/// One CPU's getcpu comparison: (pinned cpu, vDSO (cpu, node), syscall (cpu, node)).
pub type CpuSample = (u32, Result<(u32, u32), Errno>, Result<(u32, u32), Errno>);

/// getcpu pinned to each allowed CPU: the vDSO names that CPU and the syscall's node.
pub fn judge_getcpu_against_syscall(samples: &[CpuSample]) -> CheckResult {
    let mut problems = Vec::new();
    for (pinned, vdso, sys) in samples {
        match (vdso, sys) {
            (Ok((vc, vn)), Ok((sc, sn))) => {
                if vc != pinned || sc != pinned {
                    problems.push(Problem::about(
                        "wrong-cpu",
                        pinned,
                        format!("pinned to CPU {pinned}: vDSO says {vc}, syscall {sc}"),
                    ));
                }
                if vn != sn {
                    problems.push(Problem::about(
                        "wrong-node",
                        pinned,
                        format!("CPU {pinned}: vDSO node {vn}, syscall node {sn}"),
                    ));
                }
            }
            (Err(e), _) => problems.push(Problem::about(
                "vdso-failed",
                pinned,
                format!("CPU {pinned}: vDSO failed with {}", errno_name(*e)),
            )),
            (_, Err(e)) => problems.push(Problem::about(
                "syscall-failed",
                pinned,
                format!("CPU {pinned}: syscall failed with {}", errno_name(*e)),
            )),
        }
    }
    if samples.is_empty() {
        return CheckResult::skip("no CPU in the affinity mask could be pinned");
    }
    CheckResult::from_symptoms(problems)
        .with_notes(vec![format!("{} CPUs pinned and compared", samples.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getcpu_judge_fails_on_broken_output() {
        assert!(judge_getcpu(Ok(0), 1, 0, 2).is_ok());
        assert!(judge_getcpu(Ok(0), 2, 0, 2).unwrap_err().contains("cpu 2"));
        assert!(judge_getcpu(Ok(0), 0, u32::MAX, 2).is_err());
        assert!(judge_getcpu(Err(14), 0, 0, 2).is_err());
    }
}
