//! The spec model: one [`ArchSpec`] per architecture file in `spec/`.

use super::clock::ClockId;
use super::kernel_version::KernelVersion;
use serde::{Deserialize, Serialize};

/// One architecture's vDSO ABI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchSpec {
    /// The name used on the command line (`--arch`), equal to the file stem.
    pub arch: String,
    /// One line saying which processes see this vDSO.
    pub title: String,
    /// True for an architecture that is gone from the kernel (kept as a record).
    #[serde(default, skip_serializing_if = "is_false")]
    pub historical: bool,
    /// Kernel version that removed the architecture or this vDSO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<KernelVersion>,
    pub elf: ElfSpec,
    pub sonames: Vec<SonameSpec>,
    pub versions: Vec<VersionNodeSpec>,
    pub error_convention: ErrorConvention,
    pub bad_pointer: BadPointer,
    pub clocks: ClockSpec,
    pub providers: ProvidersSpec,
    pub symbols: Vec<SymbolSpec>,
    /// Where a kernel build writes this vDSO, relative to the build's output
    /// directory (`O=`, or the source tree): the stripped image first, then the
    /// linked one, for each source layout (`vdsoconf tree` takes the first that
    /// exists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_paths: Vec<String>,
    /// Where the kernel source says what this vDSO exports (`vdsoconf source`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSpec>,
    /// ARM's kuser helpers: code the kernel maps at a fixed address at the top
    /// of the vector page, an ABI of its own beside the vDSO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kuser_helpers: Option<KuserHelpersSpec>,
    /// parisc's gateway page: fixed entry points user space branches to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_page: Option<GatewayPageSpec>,
    /// x86_64's legacy vsyscall page, an ABI of its own beside the vDSO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsyscall_page: Option<VsyscallPageSpec>,
    /// Known ways real kernels deviate from the ABI, each reported as a kernel bug.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<DeviationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// parisc's gateway page (arch/parisc/kernel/syscall.S): a page the kernel
/// maps at a fixed address whose fixed offsets user space branches to with
/// `ble OFFSET(%sr2, %r0)`; the code there raises its privilege with `gate`.
/// Described, not called: no machine here runs parisc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayPageSpec {
    pub address: u64,
    pub entries: Vec<GatewayEntrySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// One entry point of the gateway page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayEntrySpec {
    pub name: String,
    pub offset: u64,
    /// What it does, in one sentence.
    pub does: String,
}

/// ARM's kuser helpers (Documentation/arch/arm/kernel_user_helpers.rst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KuserHelpersSpec {
    /// `__kuser_helper_version`: a word holding how many 32-byte helper slots
    /// the kernel provides.
    pub version_address: u64,
    pub entries: Vec<KuserEntrySpec>,
    /// Options the page needs (`CONFIG_KUSER_HELPERS`): without them there is
    /// nothing mapped there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// One kuser helper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KuserEntrySpec {
    /// Its name in the documentation (`__kuser_get_tls`).
    pub name: String,
    pub address: u64,
    pub helper: KuserHelper,
    /// The least `__kuser_helper_version` that provides it.
    pub since_version: u32,
}

/// What a kuser helper does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KuserHelper {
    /// `void *__kuser_get_tls(void)`: the thread's TLS pointer (TPIDRURO).
    GetTls,
    /// `int __kuser_cmpxchg(int oldval, int newval, volatile int *ptr)`: 0
    /// when `*ptr` was `oldval` and is now `newval`, else non-zero and `*ptr`
    /// unchanged.
    Cmpxchg,
    /// `void __kuser_memory_barrier(void)`.
    MemoryBarrier,
    /// `int __kuser_cmpxchg64(const int64_t *oldval, const int64_t *newval,
    /// volatile int64_t *ptr)`: as `Cmpxchg`, 64 bits wide.
    Cmpxchg64,
}

/// The linker script of a vDSO in the kernel source, and what its build
/// decides that the script does not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// The script, relative to the source tree, for each source layout: the
    /// first that exists is read (with what it includes).
    pub paths: Vec<String>,
    /// Kernel options without which the kernel has no such vDSO at all
    /// (`CONFIG_COMPAT_VDSO` for arm64's compat one): the condition of every
    /// symbol the script exports is taken together with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_config: Vec<String>,
    /// Macros the build defines for this script (the Makefile's `-D`), each as
    /// the condition under which it is defined: `HAS_VGETTIMEOFDAY:
    /// "CONFIG_GENERIC_TIME_VSYSCALL"`, `COMPAT_VDSO: "1"`, `_MIPS_SIM ==
    /// _MIPS_SIM_ABI64: "0"` (a comparison, as the script writes it).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub defines: std::collections::BTreeMap<String, String>,
    /// Names the script lists that no object of the vDSO defines: the linker
    /// drops them, so no image exports them (parisc's trampolines, whose
    /// objects define `__kernel_sigtramp_rt`, not `…_rt32`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_defined: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A page of fixed-address entries the kernel serves by emulating their
/// execution (x86_64's vsyscall page: `arch/x86/entry/vsyscall/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsyscallPageSpec {
    /// Its address, the same in every process.
    pub address: u64,
    /// Its entries, each the function of a kind at an offset in the page.
    pub entries: Vec<VsyscallEntrySpec>,
    /// The modes a kernel may run it in: `vsyscall=` on its command line, or
    /// else its configuration's default.
    pub modes: Vec<VsyscallMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// One entry of the vsyscall page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsyscallEntrySpec {
    /// What it does, as the vDSO function of this kind.
    pub kind: SymbolKind,
    /// Its offset from the page's address.
    pub offset: u64,
}

/// How a kernel serves the vsyscall page (`vsyscall=` on its command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VsyscallMode {
    /// Mapped execute-only: calls are emulated, reads fault (`--xp` in maps).
    Xonly,
    /// Mapped readable: calls are emulated, reads succeed (`r-xp` in maps).
    Emulate,
    /// Not mapped: calls and reads fault.
    None,
}

impl VsyscallMode {
    pub const ALL: [VsyscallMode; 3] = [
        VsyscallMode::Xonly,
        VsyscallMode::Emulate,
        VsyscallMode::None,
    ];

    /// Its name on the kernel command line and in spec files.
    pub fn name(self) -> &'static str {
        match self {
            VsyscallMode::Xonly => "xonly",
            VsyscallMode::Emulate => "emulate",
            VsyscallMode::None => "none",
        }
    }

    /// Whether the page is there to call.
    pub fn mapped(self) -> bool {
        self != VsyscallMode::None
    }
}

/// A known kernel deviation: failures of the named checks whose every problem shows one
/// of the symptoms are XFAIL naming the deviation, never passes or skips; a pass of a
/// named check is XPASS (unless `intermittent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviationSpec {
    /// What is wrong, in one sentence.
    pub description: String,
    /// Where it was seen or why it happens (kernel source, image, run).
    pub evidence: String,
    /// Check names it applies to: `GROUP::SUBJECT` prefixes, e.g. `crosscheck::__vdso_clock_getres@LINUX_2.6`,
    /// in which `*` stands for any text (`badptr::__vdso_clock_getres*clock=AUX0`).
    pub checks: Vec<String>,
    /// The symptom ids (`ID`, `ID:DETAIL`, `ID:PREFIX*`) it explains: every problem
    /// of the failure must show one of them.
    pub symptoms: Vec<String>,
    /// A race the check cannot provoke at will: when it shows, its symptoms are a
    /// note on a pass rather than an XFAIL, and a run where it did not show is a
    /// plain pass rather than an XPASS, so the verdict never depends on whether
    /// the race was hit.
    #[serde(default, skip_serializing_if = "is_false")]
    pub intermittent: bool,
    /// Whose vDSO has it (default: the kernel's).
    #[serde(default = "kernel_only", skip_serializing_if = "is_kernel_only")]
    pub providers: Vec<Provider>,
    /// Kernel versions it applies to (for the kernel provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<KernelVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<KernelVersion>,
}

fn is_kernel_only(p: &[Provider]) -> bool {
    p == [Provider::Kernel]
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElfSpec {
    /// 32 or 64.
    pub class: u8,
    /// Byte orders the architecture's vDSO is built for.
    pub endian: Vec<EndianSpec>,
    /// `e_machine`.
    pub machine: u16,
    /// `EM_*` name of `machine`, for people.
    pub machine_name: String,
    /// Entry size of `DT_HASH`: 4, or 8 on s390x.
    pub sysv_hash_entry_size: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndianSpec {
    Little,
    Big,
}

/// A soname, valid for a range of kernels and for some providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SonameSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<KernelVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<KernelVersion>,
    #[serde(default = "kernel_and_qemu")]
    pub providers: Vec<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A version node (besides the base definition named after the soname).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionNodeSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// How a vDSO function reports an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorConvention {
    /// 0 or a negative errno in the return register (the generic vDSO).
    NegativeErrno,
    /// The syscall convention of powerpc: a positive errno in r3 with CR0.SO set.
    PowerpcCr0So,
    /// No callable functions (trampolines only).
    None,
}

/// What a bad pointer passed to a vDSO function must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadPointer {
    /// `-EFAULT`, like the syscall.
    Efault,
    /// The process dies with SIGSEGV.
    Sigsegv,
    /// Either (Documentation/ABI/stable/vdso allows both).
    EfaultOrSigsegv,
    /// Either, or SIGBUS: on MIPS a user access to a kernel-segment or
    /// misaligned address is an address error exception, which the kernel
    /// delivers as SIGBUS (arch/mips/kernel/unaligned.c, do_ade).
    EfaultSigsegvOrSigbus,
}

impl BadPointer {
    /// Whether the process dying of `sig` is what the spec allows.
    pub fn allows_signal(self, sig: i32) -> bool {
        match self {
            BadPointer::Sigsegv | BadPointer::EfaultOrSigsegv => sig == libc::SIGSEGV,
            BadPointer::EfaultSigsegvOrSigbus => {
                sig == libc::SIGSEGV || sig == crate::vdso::syscall::SIGBUS
            }
            BadPointer::Efault => false,
        }
    }
}

/// Which clock ids the vDSO serves in user space and which fall back to the syscall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// Served in user space (with a vDSO-capable clocksource for the high-res ones).
    pub served: Vec<ClockId>,
    /// Always passed to the syscall.
    pub fallback: Vec<ClockId>,
    /// Clocks that never go backwards.
    pub monotonic: Vec<ClockId>,
    /// Clocks that never go backwards unless they are stepped (settimeofday, NTP).
    pub steppable: Vec<ClockId>,
    /// Clocksources with a vDSO mode: with any other, high-res clocks fall back.
    pub vdso_clocksources: Vec<String>,
    /// Auxiliary clocks served when enabled, from this kernel on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_served_since: Option<KernelVersion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The Linux kernel's own vDSO.
    Kernel,
    /// QEMU user mode's replacement vDSO (QEMU 8.1 and later).
    Qemu,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Kernel => "kernel",
            Provider::Qemu => "qemu",
        }
    }

    pub const ALL: [Provider; 2] = [Provider::Kernel, Provider::Qemu];
}

fn kernel_only() -> Vec<Provider> {
    vec![Provider::Kernel]
}

fn kernel_and_qemu() -> Vec<Provider> {
    vec![Provider::Kernel, Provider::Qemu]
}

/// What each provider gives this architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersSpec {
    pub kernel: ProviderSpec,
    pub qemu: ProviderSpec,
}

impl ProvidersSpec {
    pub fn get(&self, p: Provider) -> &ProviderSpec {
        match p {
            Provider::Kernel => &self.kernel,
            Provider::Qemu => &self.qemu,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VdsoPresence {
    /// Every process gets a vDSO (unless booted with `vdso=0`).
    Present,
    /// Never a vDSO (e.g. qemu-user for mips and sparc).
    Absent,
    /// Depends on configuration or build (e.g. mips without a capable toolchain).
    Optional,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    pub vdso: VdsoPresence,
    /// The provider's PT_LOAD is writable and executable (QEMU's images are RWX).
    #[serde(default, skip_serializing_if = "is_false")]
    pub writable_executable: bool,
    /// Overrides `clocks.served` (QEMU makes plain syscalls: nothing is served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_clocks: Option<Vec<ClockId>>,
    /// Whether seccomp filters apply (not emulated by qemu-user).
    #[serde(default = "yes")]
    pub seccomp: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn yes() -> bool {
    true
}

/// What a symbol is, which decides how it is called and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    ClockGettime,
    ClockGettime64,
    ClockGetres,
    ClockGetresTime64,
    Gettimeofday,
    Time,
    Getcpu,
    Getrandom,
    /// A signal return trampoline for SA_SIGINFO handlers, the rt frame
    /// (`__kernel_rt_sigreturn`, `__kernel_sigtramp_rt64`, …).
    SignalTrampoline,
    /// A signal return trampoline for handlers without SA_SIGINFO, the old frame
    /// (i386's and s390's `__kernel_sigreturn`, ppc32's `__kernel_sigtramp32`).
    SignalTrampolineNonrt,
    /// i386's `__kernel_vsyscall` system call entry.
    VsyscallEntry,
    /// ia64's gate-page system call entries.
    SyscallGate,
    /// s390's `__kernel_restart_syscall`.
    RestartSyscall,
    /// riscv's `__vdso_flush_icache`.
    FlushIcache,
    /// powerpc's `__kernel_sync_dicache`.
    SyncDicache,
    /// powerpc's `__kernel_get_tbfreq`.
    GetTbfreq,
    /// powerpc's `__kernel_get_syscall_map`.
    GetSyscallMap,
    /// riscv's `__vdso_riscv_hwprobe`.
    Hwprobe,
    /// powerpc's `__kernel_datapage_offset` (up to 5.10): the offset of the
    /// vDSO's data page from the function itself.
    DatapageOffset,
    /// x86's `__vdso_sgx_enter_enclave`.
    SgxEnterEnclave,
    /// `__vdso_futex_robust_list64_try_unlock`: a robust futex's uncontended
    /// unlock, clearing a 64-bit list_op_pending slot.
    FutexRobustList64TryUnlock,
    /// `__vdso_futex_robust_list32_try_unlock`: the same with a 32-bit slot.
    FutexRobustList32TryUnlock,
}

impl SymbolKind {
    /// Every kind, in declaration order (a test holds it complete).
    pub const ALL: [SymbolKind; 22] = {
        use SymbolKind as K;
        [
            K::ClockGettime,
            K::ClockGettime64,
            K::ClockGetres,
            K::ClockGetresTime64,
            K::Gettimeofday,
            K::Time,
            K::Getcpu,
            K::Getrandom,
            K::SignalTrampoline,
            K::SignalTrampolineNonrt,
            K::VsyscallEntry,
            K::SyscallGate,
            K::RestartSyscall,
            K::FlushIcache,
            K::SyncDicache,
            K::GetTbfreq,
            K::GetSyscallMap,
            K::Hwprobe,
            K::DatapageOffset,
            K::SgxEnterEnclave,
            K::FutexRobustList64TryUnlock,
            K::FutexRobustList32TryUnlock,
        ]
    };

    /// Its name in spec files (from its description in [`crate::kinds`]).
    pub fn name(self) -> &'static str {
        crate::kinds::kind_info(self).name
    }
}

/// How sure the spec is about a `since` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Checked against the kernel tree or a real image.
    #[default]
    High,
    /// A best estimate; a mismatch may be the spec's fault.
    Low,
}

/// ELF symbol type the symbol must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElfSymbolType {
    #[default]
    Func,
    Notype,
    Object,
}

/// One exported, versioned vDSO symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSpec {
    pub name: String,
    pub version: String,
    pub kind: SymbolKind,
    /// The C prototype, with the symbol's own name.
    pub prototype: String,
    /// Other names exported for the same code (x86_64's unprefixed weak aliases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// First kernel that exports it. Absent: since the vDSO itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<KernelVersion>,
    #[serde(default, skip_serializing_if = "is_high")]
    pub since_confidence: Confidence,
    /// First kernel that no longer exports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<KernelVersion>,
    /// The kernel options it needs, all of them: each an option
    /// (`CONFIG_X86_SGX`) or a condition over options as the linker script
    /// writes it (`CONFIG_PPC64 || !CONFIG_SMP`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Providers that export it.
    #[serde(default = "kernel_only")]
    pub providers: Vec<Provider>,
    /// Expected ELF symbol type.
    #[serde(default, skip_serializing_if = "is_func")]
    pub elf_type: ElfSymbolType,
    /// Providers that export it with another ELF type (QEMU's ppc64 functions are NOTYPE).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub provider_elf_type: std::collections::BTreeMap<Provider, ElfSymbolType>,
    /// Kernels before this one exported the symbol as STT_NOTYPE (powerpc before 6.12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notype_before: Option<KernelVersion>,
    /// The function only makes the system call itself (riscv's getcpu): present
    /// and callable, but never served in user space.
    #[serde(default, skip_serializing_if = "is_false")]
    pub syscall_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn is_high(c: &Confidence) -> bool {
    *c == Confidence::High
}

fn is_func(t: &ElfSymbolType) -> bool {
    *t == ElfSymbolType::Func
}

impl SymbolSpec {
    /// Its `config` as one condition (entries the loader refused are opaque).
    pub fn condition(&self) -> super::Cond {
        super::Cond::all(
            self.config
                .iter()
                .map(|c| super::Cond::parse(c).unwrap_or_else(|_| super::Cond::Opaque(c.clone()))),
        )
    }

    /// The symbol's own name followed by its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        core::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod kind_list_tests {
    use super::SymbolKind;
    use serde::de::{value::Error, Error as _, Visitor};
    use std::cell::Cell;

    /// A deserializer that records the variant names an enum's derived
    /// `Deserialize` offers it, and refuses everything.
    struct Variants(Cell<&'static [&'static str]>);

    impl<'de> serde::Deserializer<'de> for &Variants {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not an enum"))
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            self.0.set(variants);
            Err(Error::custom("recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map struct identifier ignored_any
        }
    }

    /// `ALL` holds every variant, in order: serde's derive knows them all.
    #[test]
    fn all_holds_every_kind() {
        let variants = Variants(Cell::new(&[]));
        assert!(<SymbolKind as serde::Deserialize>::deserialize(&variants).is_err());
        let all: Vec<String> = SymbolKind::ALL
            .iter()
            .map(|k| serde_saphyr::to_string(k).unwrap().trim().to_string())
            .collect();
        assert_eq!(all, variants.0.get(), "SymbolKind::ALL against the enum");
    }
}
