//! getcpu: the CPU and NUMA node the caller runs on.

use super::{observed, pointers_of, LiveKind, Pointers};
use crate::checks::live::call::{judge_getcpu, judge_getcpu_tcache};
use crate::checks::live::crosscheck::{self, CpuSample};
use crate::checks::live::served::{Expected, ServedContext, ServiceCase};
use crate::checks::live::step::step;
use crate::checks::{CheckResult, Problem};
use crate::vdso::process::{
    allowed_cpus, configured_cpus, page_size, set_allowed_cpus, Access, Pages,
};
use crate::vdso::syscall::{self};
use crate::vdso::{Getcpu, Resolved};

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
        Ok(vec![observed("getcpu", Expected::Served, || f.call().0)])
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Getcpu>(f, use_it)
    }
}
