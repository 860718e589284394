//! riscv's own vDSO functions: `__vdso_riscv_hwprobe` (the hardware's features,
//! answered from the data page for all CPUs or a homogeneous set, else by the
//! riscv_hwprobe syscall) and `__vdso_flush_icache` (the riscv_flush_icache
//! syscall on SMP kernels). Compared with their syscalls on riscv builds.

use super::{called, pointers_of, riscv_only, KindInfo, LiveKind, Pointers};
use crate::checks::live::call::describe_ret;
use crate::checks::live::crosscheck::{judge_same_answers, Answers};
use crate::checks::live::served::{Expected, ServedContext, Service, ServiceCase};
use crate::checks::{CheckResult, Problem};
use crate::vdso::process::allowed_cpus;
use crate::vdso::{FlushIcache, Hwprobe, HwprobeIo, HwprobePair, PointerCall, Resolved, Returned};

/// `RISCV_HWPROBE_MAX_KEY` of Linux 7.2; keys past it must come back as -1.
const MAX_KEY_7_2: i64 = 16;
const WHICH_CPUS: u32 = 1;
const KEY_IMA_EXT_0: i64 = 4;

pub const HWPROBE: KindInfo = riscv_only(KindInfo {
    outputs: Hwprobe::OUTPUTS,
    null_allowed: false,
    bench_label: Some("every key, all CPUs"),
    ..called::<Hwprobe>("hwprobe", &HwprobeKind)
});

pub struct HwprobeKind;

fn pairs(keys: impl IntoIterator<Item = i64>) -> Vec<HwprobePair> {
    keys.into_iter()
        .map(|key| HwprobePair { key, value: 0 })
        .collect()
}

/// Every key 7.2 knows, three past it, a negative one and a huge one.
fn every_key() -> Vec<HwprobePair> {
    pairs((0..=MAX_KEY_7_2 + 3).chain([-5, HWPROBE_UNKNOWN_KEY]))
}

/// A CPU set of 8 bytes (`cpusetsize` 8) holding `cpus`.
fn cpu_set(cpus: &[usize]) -> Vec<u8> {
    let mut set = vec![0u8; 8];
    for &c in cpus.iter().filter(|&&c| c < 64) {
        set[c / 8] |= 1 << (c % 8);
    }
    set
}

/// The requests compared with the syscall: all CPUs, each CPU alone, the
/// which-CPUs mode with matching and mismatching values and with an empty set,
/// and flags the kernel does not define.
fn requests(all_cpus_answer: &[HwprobePair]) -> Vec<(String, HwprobeIo)> {
    let online = allowed_cpus();
    let io = |pairs, cpus, flags| HwprobeIo { pairs, cpus, flags };
    let mut v = vec![("every key, all CPUs".to_string(), io(every_key(), None, 0))];
    for &cpu in online.iter().filter(|&&c| c < 64) {
        v.push((
            format!("every key, CPU {cpu} alone"),
            io(every_key(), Some(cpu_set(&[cpu])), 0),
        ));
    }
    let known = all_cpus_answer.iter().filter(|p| p.key >= 0);
    for p in known {
        v.push((
            format!("which CPUs have key {} = 0x{:x}", p.key, p.value),
            io(vec![*p], Some(cpu_set(&online)), WHICH_CPUS),
        ));
    }
    if let Some(ext) = all_cpus_answer.iter().find(|p| p.key == KEY_IMA_EXT_0) {
        let other = HwprobePair {
            value: ext.value ^ 1,
            ..*ext
        };
        v.push((
            format!("which CPUs have key 4 = 0x{:x} (none)", other.value),
            io(vec![other], Some(cpu_set(&online)), WHICH_CPUS),
        ));
    }
    v.push((
        "which CPUs, an empty set".into(),
        io(pairs([0]), Some(vec![0; 8]), WHICH_CPUS),
    ));
    v.push(("flags 2 (undefined)".into(), io(pairs([0]), None, 2)));
    v
}

impl LiveKind for HwprobeKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let mut io = HwprobeIo {
            pairs: every_key(),
            cpus: None,
            flags: 0,
        };
        let r = f.handle::<Hwprobe>()?.probe(&mut io);
        judge_hwprobe(r, &io.pairs)
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<Hwprobe>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let mut all = HwprobeIo {
            pairs: every_key(),
            cpus: None,
            flags: 0,
        };
        if f.syscall(&mut all).is_none() {
            return CheckResult::skip("no riscv_hwprobe syscall on this build");
        }
        let cases: Vec<Answers<HwprobeIo>> = requests(&all.pairs)
            .into_iter()
            .map(|(what, io)| {
                let (mut via_vdso, mut via_syscall) = (io.clone(), io);
                let vdso = f.probe(&mut via_vdso);
                let sys = f.syscall(&mut via_syscall).expect("a riscv build");
                Answers {
                    what,
                    vdso: (vdso, via_vdso),
                    sys: (sys, via_syscall),
                }
            })
            .collect();
        judge_same_answers(&cases)
    }

    /// All CPUs with no flags is answered from the data page; the other requests
    /// are the syscall's.
    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<Hwprobe>().map_err(CheckResult::fail)?;
        let mut cases = [
            (
                "all CPUs",
                HwprobeIo {
                    pairs: every_key(),
                    cpus: None,
                    flags: 0,
                },
                Expected::Served,
            ),
            (
                "which CPUs, an empty set",
                HwprobeIo {
                    pairs: pairs([0]),
                    cpus: Some(vec![0; 8]),
                    flags: WHICH_CPUS,
                },
                Expected::Fallback,
            ),
            (
                "flags 2",
                HwprobeIo {
                    pairs: pairs([0]),
                    cpus: None,
                    flags: 2,
                },
                Expected::Fallback,
            ),
        ];
        ctx.trap()?;
        Ok(cases
            .iter_mut()
            .map(|(what, io, expected)| ServiceCase {
                what: what.to_string(),
                expected: expected.clone(),
                observed: Service::of(|| f.probe(io).map(|_| ())),
            })
            .collect())
    }

    fn pointers(&self, f: Resolved, use_it: &mut dyn FnMut(&dyn Pointers)) -> Result<(), String> {
        pointers_of::<Hwprobe>(f, use_it)
    }
}

pub const FLUSH_ICACHE: KindInfo =
    riscv_only(called::<FlushIcache>("flush_icache", &FlushIcacheKind));

pub struct FlushIcacheKind;

/// (what, flags): the flags the kernel defines (0: all threads, 1: this one)
/// and two it rejects.
const FLUSH_FLAGS: [(&str, usize); 4] = [
    ("flags 0 (every thread)", 0),
    ("flags 1 (SYS_RISCV_FLUSH_ICACHE_LOCAL)", 1),
    ("flags 2 (undefined)", 2),
    ("flags all ones", usize::MAX),
];

/// A code-sized range of this process's memory to flush.
fn some_range() -> (usize, usize) {
    let start = some_range as *const () as usize;
    (start, start + 4096)
}

impl LiveKind for FlushIcacheKind {
    fn call(&self, f: Resolved) -> Result<(), Problem> {
        let (start, end) = some_range();
        judge_flush_icache(f.handle::<FlushIcache>()?.call(start, end, 0))
    }

    fn crosscheck(&self, f: Resolved) -> CheckResult {
        let f = match f.handle::<FlushIcache>() {
            Ok(f) => f,
            Err(e) => return CheckResult::fail(e),
        };
        let (start, end) = some_range();
        let mut cases = Vec::new();
        for (what, flags) in FLUSH_FLAGS {
            let Some(sys) = f.syscall(start, end, flags) else {
                return CheckResult::skip("no riscv_flush_icache syscall on this build");
            };
            cases.push(Answers {
                what: what.to_string(),
                vdso: (f.call(start, end, flags), ()),
                sys: (sys, ()),
            });
        }
        judge_same_answers(&cases)
    }

    fn served(&self, f: Resolved, ctx: &ServedContext) -> Result<Vec<ServiceCase>, CheckResult> {
        let f = f.handle::<FlushIcache>().map_err(CheckResult::fail)?;
        let (start, end) = some_range();
        ctx.trap()?;
        Ok(vec![ServiceCase {
            what: "flags 0".into(),
            expected: Expected::Served,
            observed: Service::of(|| f.call(start, end, 0).map(|_| ())),
        }])
    }
}

/// A key no kernel defines: hwprobe must answer it with key -1 and value 0.
pub const HWPROBE_UNKNOWN_KEY: i64 = 1 << 40;

const HWPROBE_KEY_BASE_BEHAVIOR: i64 = 3;

const HWPROBE_BASE_BEHAVIOR_IMA: u64 = 1;

/// The keys of hwprobe's first kernel (6.4): every kernel with the function knows them.
const HWPROBE_FIRST_KEYS: core::ops::RangeInclusive<i64> = 0..=5;

/// hwprobe for all CPUs: success, every first-kernel key known, the base
/// behaviour the IMA one (every Linux riscv user space runs on it), an unknown
/// key answered as unknown.
pub fn judge_hwprobe(ret: Returned, pairs: &[HwprobePair]) -> Result<(), Problem> {
    if ret != Ok(0) {
        return Err(Problem::new(
            "call-returned",
            format!("returned {}", describe_ret(ret)),
        ));
    }
    let known = |key| pairs.iter().any(|p| p.key == key);
    if let Some(key) = HWPROBE_FIRST_KEYS.clone().find(|&k| !known(k)) {
        return Err(Problem::about(
            "implausible-value",
            "key",
            format!("key {key}, known since hwprobe began (6.4), came back unknown"),
        ));
    }
    let base = pairs
        .iter()
        .find(|p| p.key == HWPROBE_KEY_BASE_BEHAVIOR)
        .map_or(0, |p| p.value);
    if base & HWPROBE_BASE_BEHAVIOR_IMA == 0 {
        return Err(Problem::about(
            "implausible-value",
            "base-behavior",
            format!("RISCV_HWPROBE_KEY_BASE_BEHAVIOR is 0x{base:x}: the IMA bit is not set"),
        ));
    }
    match pairs.last() {
        Some(HwprobePair { key: -1, value: 0 }) => Ok(()),
        last => Err(Problem::about(
            "implausible-value",
            "unknown-key",
            format!(
                "key 1<<40, which no kernel defines, came back as {last:?}, not key -1 and value 0"
            ),
        )),
    }
}

/// flush_icache of a range with flags 0 succeeds.
pub fn judge_flush_icache(ret: Returned) -> Result<(), Problem> {
    match ret {
        Ok(0) => Ok(()),
        _ => Err(Problem::new(
            "call-returned",
            format!("flags 0 returned {}", describe_ret(ret)),
        )),
    }
}
