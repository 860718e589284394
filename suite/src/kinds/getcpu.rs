//! getcpu: the CPU and NUMA node the caller runs on.

use super::{observed, pointers_of, LiveKind, Pointers};
use crate::checks::live::call::judge_getcpu;
use crate::checks::live::crosscheck::{self, CpuSample};
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::vdso::process::{allowed_cpus, configured_cpus, set_allowed_cpus};
use crate::vdso::syscall::{self};
use crate::vdso::{Getcpu, Resolved};

pub struct GetcpuKind;

impl LiveKind for GetcpuKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (r, cpu, node) = f.handle::<Getcpu>()?.call();
        judge_getcpu(r, cpu, node, configured_cpus())
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
            _ => crosscheck::judge_getcpu(&samples),
        }
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Getcpu>().map_err(CheckResult::fail)?;
        ctx.trap()?;
        Ok(vec![observed("getcpu", Expected::Served, f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Getcpu>(f, use_it)
    }
}
