//! `vdsoconf boot --clock MODE`: which counter an x86 kernel's vDSO reads. The
//! vDSO reads the TSC itself, KVM's pvclock page, or Hyper-V's reference TSC
//! page, and falls back to the system call on a clocksource with none (hpet): each
//! is its own path through `vdso_read_cycles`, so each is booted on purpose.

/// One way to boot the clock: what the kernel's command line asks for, and what
/// QEMU must give the guest for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockMode {
    pub name: &'static str,
    /// The clocksource the kernel must then run on (checked after the boot).
    pub clocksource: &'static str,
    pub kernel_args: &'static [&'static str],
    /// Needs `-accel kvm` (pvclock and the Hyper-V page exist only under a
    /// hypervisor).
    pub kvm: bool,
    /// The `-cpu` model then (after the machine's own, which it replaces).
    pub cpu: Option<&'static str>,
    pub help: &'static str,
}

pub const CLOCK_MODES: &[ClockMode] = &[
    ClockMode {
        name: "tsc",
        clocksource: "tsc",
        // Under TCG the watchdog would find the TSC unstable against hpet and
        // switch away from it mid-run.
        kernel_args: &["clocksource=tsc", "tsc=reliable"],
        kvm: false,
        cpu: None,
        help: "the vDSO reads the TSC (vclock mode TSC)",
    },
    ClockMode {
        name: "hpet",
        clocksource: "hpet",
        kernel_args: &["clocksource=hpet"],
        kvm: false,
        cpu: None,
        help: "no vDSO counter: the high-resolution clocks fall back to the syscall",
    },
    ClockMode {
        name: "kvm-clock",
        clocksource: "kvm-clock",
        kernel_args: &["clocksource=kvm-clock"],
        kvm: true,
        cpu: Some("host"),
        help: "KVM's pvclock page (vclock mode PVCLOCK); needs a working /dev/kvm",
    },
    ClockMode {
        name: "hyperv",
        clocksource: "hyperv_clocksource_tsc_page",
        kernel_args: &["clocksource=hyperv_clocksource_tsc_page"],
        kvm: true,
        // hv-time gives the reference TSC page; hv-frequencies and hv-vpindex
        // are what Linux needs to take the Hyper-V clocksource.
        cpu: Some("host,hv-relaxed,hv-vpindex,hv-time,hv-frequencies"),
        help: "Hyper-V's reference TSC page (vclock mode HVCLOCK), QEMU's hv-time under KVM; needs a working /dev/kvm",
    },
];

/// The mode called `name`, for a machine of `machine`'s architecture.
pub fn clock_mode(name: &str, machine: &str) -> Result<&'static ClockMode, String> {
    if !matches!(machine, "x86_64" | "i386") {
        return Err(format!(
            "--clock chooses among x86's vDSO counters; {machine} has one way to read its clock"
        ));
    }
    CLOCK_MODES.iter().find(|m| m.name == name).ok_or_else(|| {
        format!(
            "--clock: no mode '{name}'; the modes: {}",
            CLOCK_MODES
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Whether a boot in `mode` ran on the clocksource it asked for (`ran`: what the
/// suite inside read from sysfs): a row on another one would check another path.
pub fn ran_as_asked(mode: &ClockMode, ran: Option<&str>) -> Result<(), String> {
    let ran = ran.unwrap_or("unknown");
    if ran == mode.clocksource {
        Ok(())
    } else {
        Err(format!(
            "--clock {} asked for clocksource {}, but the kernel ran on {ran}: \
             its checks would not take the path the row is for",
            mode.name, mode.clocksource
        ))
    }
}

/// Why KVM cannot run a guest here, if it cannot even be opened: every KVM boot
/// checks this first, so a machine without it says so instead of failing later.
pub fn kvm_unusable() -> Option<String> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        Ok(_) => None,
        Err(e) => Some(format!("/dev/kvm: {e}")),
    }
}

/// The prefix of the error of a boot that KVM could not run: the matrix shows
/// such a row as not built, never as a pass or a failure of the kernel's.
pub const KVM_UNAVAILABLE: &str = "KVM cannot run a guest here";

/// What qemu prints when KVM stops the guest; the machine is then paused for good.
const KVM_STOPPED: [&str; 2] = ["KVM internal error", "emulation failure"];

/// Whether qemu's output says KVM stopped the guest.
pub fn kvm_stopped(output: &[u8]) -> bool {
    let text = String::from_utf8_lossy(output);
    KVM_STOPPED.iter().any(|m| text.contains(m))
}

/// Whether the console of a boot that never reached `/init` shows QEMU or KVM
/// refusing the guest: QEMU stopped before the kernel printed anything (what it
/// said on stderr is the reason), or KVM stopped the guest (an internal error,
/// an emulation failure).
pub fn kvm_refused(console: &str) -> Option<String> {
    let (guest, qemu) = console.split_once("[qemu stderr]").unwrap_or((console, ""));
    let qemu_first = qemu.lines().map(str::trim).find(|l| !l.is_empty());
    if guest.trim().is_empty() {
        return qemu_first.map(str::to_string);
    }
    console
        .lines()
        .find(|l| KVM_STOPPED.iter().any(|m| l.contains(m)))
        .map(|l| {
            l.trim()
                .trim_start_matches("[qemu stderr]")
                .trim()
                .to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_x86_only_and_named() {
        assert_eq!(clock_mode("tsc", "x86_64").unwrap().clocksource, "tsc");
        assert!(clock_mode("hyperv", "i386").unwrap().kvm);
        let e = clock_mode("tsc", "aarch64").unwrap_err();
        assert!(e.contains("aarch64"), "{e}");
        let e = clock_mode("pit", "x86_64").unwrap_err();
        assert!(e.contains("tsc, hpet, kvm-clock, hyperv"), "{e}");
    }

    #[test]
    fn a_kernel_on_another_clocksource_is_refused() {
        let tsc = clock_mode("tsc", "x86_64").unwrap();
        assert!(ran_as_asked(tsc, Some("tsc")).is_ok());
        let e = ran_as_asked(tsc, Some("hpet")).unwrap_err();
        assert!(
            e.contains("asked for clocksource tsc") && e.contains("ran on hpet"),
            "{e}"
        );
        assert!(ran_as_asked(tsc, None).unwrap_err().contains("unknown"));
    }

    #[test]
    fn a_refusing_kvm_is_recognised_from_qemus_words() {
        // What this project's machines print (QEMU 10.0.2 with -accel kvm).
        let console = "\n[qemu stderr] qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069\nqemu-system-x86_64: target/i386/kvm/kvm.c:3849: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.";
        let why = kvm_refused(console).unwrap();
        assert!(
            why.starts_with("qemu-system-x86_64: error: failed to set MSR"),
            "{why}"
        );
        let hyperv =
            "\n[qemu stderr] qemu-system-x86_64: kernel doesn't allow setting HyperV VP_INDEX";
        assert_eq!(
            kvm_refused(hyperv).unwrap(),
            "qemu-system-x86_64: kernel doesn't allow setting HyperV VP_INDEX"
        );
        let stopped = "Linux version 7.2.13\n[qemu stderr] KVM internal error. Suberror: 1\nemulation failure";
        assert_eq!(
            kvm_refused(stopped).unwrap(),
            "KVM internal error. Suberror: 1"
        );
        // The kernel's own failure is the kernel's.
        assert!(kvm_refused("Linux version 7.2.13\nKernel panic - not syncing").is_none());
    }
}
