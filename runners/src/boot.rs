//! `vdsoconf boot`: the live suite inside a real kernel under qemu-system.
//!
//! The host packs a static build of this binary as `/init` into a throwaway
//! initramfs and boots the kernel; `/init` (this same code, [`init_main`]) mounts
//! /proc and /sys, runs the plan against the kernel's vDSO, prints the results
//! between markers on the console and resets the machine, which ends QEMU (it
//! runs with `-no-reboot`). The host reads them back from the serial console,
//! and stops QEMU itself if it is still running a few seconds after them.

use crate::session::Session;
use crate::target::{resolve_target, TargetOptions};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use vdsoconf_reports::RunReport;

/// The hidden subcommand the kernel starts `/init` with (after `--` on its command line).
pub const INIT_COMMAND: &str = "boot-init";
mod clock;
pub use clock::{clock_mode, ClockMode, CLOCK_MODES, KVM_UNAVAILABLE};

const REACHED: &str = "VDSOCONF-BOOT-INIT";
const RESULTS: &str = "VDSOCONF-BOOT-RESULTS ";
const FAILED: &str = "VDSOCONF-BOOT-ERROR ";

/// How to boot one architecture: the qemu-system binary, its machine options and
/// the kernel's console device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub arch: &'static str,
    pub qemu: &'static str,
    pub args: &'static [&'static str],
    pub console: &'static str,
    /// The most CPUs the board boots with (`--smp` is cut to it; the cross-CPU
    /// checks then say they need two).
    pub max_cpus: Option<u32>,
    /// The UEFI firmware the machine needs, as Debian installs it under
    /// `/usr/share` (and the package holding it); `None`: QEMU boots the kernel
    /// itself.
    pub firmware: Option<Firmware>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firmware {
    /// Its path under a `share` directory.
    pub file: &'static str,
    pub package: &'static str,
}

pub const MACHINES: &[Machine] = &[
    // Debian's 6.12 kernel crashes at random under qemu 7.2's TCG whenever the CPU
    // has CMPXCHG16B (qemu64: a NULL dereference at ~1 s; max or Haswell: a double
    // fault in SLUB's this_cpu_cmpxchg128 fast path, in 7 of 10 boots here). Without
    // it SLUB takes its locked path: 8 of 8 boots of the full suite passed. QEMU
    // 10.0 (what the matrix uses) no longer needs this: 8 of 8 boots with
    // CMPXCHG16B passed; it stays for whoever boots with an older system QEMU.
    Machine {
        arch: "x86_64",
        qemu: "qemu-system-x86_64",
        args: &["-cpu", "max,-cx16"],
        console: "ttyS0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "i386",
        qemu: "qemu-system-i386",
        args: &["-cpu", "max"],
        console: "ttyS0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "aarch64",
        qemu: "qemu-system-aarch64",
        args: &["-M", "virt", "-cpu", "max"],
        console: "ttyAMA0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "arm",
        qemu: "qemu-system-arm",
        args: &["-M", "virt"],
        console: "ttyAMA0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "ppc64",
        qemu: "qemu-system-ppc64",
        args: &["-M", "pseries"],
        console: "hvc0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "s390x",
        qemu: "qemu-system-s390x",
        args: &[],
        console: "ttysclp0",
        max_cpus: None,
        firmware: None,
    },
    Machine {
        arch: "riscv64",
        qemu: "qemu-system-riscv64",
        args: &["-M", "virt"],
        console: "ttyS0",
        max_cpus: None,
        firmware: None,
    },
    // Debian's 5kc-malta kernel (bookworm) on the Malta board with its 64-bit CPU:
    // the n64 runner checks the n64 vDSO.
    Machine {
        arch: "mips-n64",
        qemu: "qemu-system-mips64el",
        args: &["-M", "malta", "-cpu", "5KEc", "-vga", "none"],
        console: "ttyS0",
        // The 5KEc has no multithreading: a Malta with two of them prints nothing.
        max_cpus: Some(1),
        firmware: None,
    },
    // Without firmware there are no ACPI tables: the kernel then probes a PS/2
    // controller at an unmapped I/O port and dies before /init (7.2.13), and a
    // panic does not end QEMU. The firmware also loads Debian's EFI zboot image.
    Machine {
        arch: "loongarch64",
        qemu: "qemu-system-loongarch64",
        args: &["-M", "virt", "-cpu", "la464"],
        console: "ttyS0",
        max_cpus: None,
        firmware: Some(Firmware {
            file: "qemu-efi-loongarch64/QEMU_EFI.fd",
            package: "qemu-efi-loongarch64",
        }),
    },
];

pub fn machine(arch: &str) -> Result<&'static Machine, String> {
    MACHINES.iter().find(|m| m.arch == arch).ok_or_else(|| {
        format!(
            "no qemu-system machine is known for {arch}; bootable: {}",
            MACHINES
                .iter()
                .map(|m| m.arch)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The `share` directory beside the `bin` directory holding `qemu` (found in
/// PATH when it is a bare name).
fn share_beside(qemu: &Path) -> Option<PathBuf> {
    find_in_path(qemu).and_then(|q| {
        q.parent()
            .and_then(Path::parent)
            .map(|prefix| prefix.join("share"))
    })
}

/// Where QEMU must look for its firmware and option ROMs: Debian's QEMU looks
/// only in /usr/share/qemu, so one unpacked elsewhere (the matrix's) is told
/// its own `share/qemu` with `-L`.
fn data_dir_beside(qemu: &Path) -> Option<PathBuf> {
    share_beside(qemu)
        .map(|share| share.join("qemu"))
        .filter(|dir| dir.is_dir() && dir != Path::new("/usr/share/qemu"))
}

/// The firmware file to boot `m` with: `given`, or the first of its Debian path
/// under the `share` directory beside `qemu`'s `bin` and under `/usr/share`.
pub fn firmware_for(
    m: &Machine,
    qemu: &Path,
    given: Option<&Path>,
) -> Result<Option<PathBuf>, String> {
    let Some(fw) = m.firmware else {
        return match given {
            Some(p) => Err(format!(
                "--firmware {}: the {} machine boots without firmware",
                p.display(),
                m.arch
            )),
            None => Ok(None),
        };
    };
    if let Some(p) = given {
        return match p.metadata() {
            Ok(md) if md.is_file() => Ok(Some(p.to_path_buf())),
            Ok(_) => Err(format!("--firmware {}: not a regular file", p.display())),
            Err(e) => Err(format!("--firmware {}: {e}", p.display())),
        };
    }
    let mut candidates: Vec<PathBuf> = share_beside(qemu)
        .into_iter()
        .chain([PathBuf::from("/usr/share")])
        .map(|share| share.join(fw.file))
        .collect();
    candidates.dedup();
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| Some(p.clone()))
        .ok_or_else(|| {
            format!(
                "the {} machine needs UEFI firmware: none at {} (Debian package {}), or pass --firmware",
                m.arch,
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                fw.package
            )
        })
}

/// `program` as the shell would find it: itself if it names a directory, else
/// the first executable of that name in PATH.
fn find_in_path(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return Some(program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// What `vdsoconf boot` was asked to do.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// The spec the binary inside checks.
    pub arch: String,
    /// The kernel's architecture: the machine it boots on.
    pub machine: String,
    pub kernel: PathBuf,
    /// A static build of vdsoconf for `arch` (default: this executable, if static).
    pub binary: Option<PathBuf>,
    /// The qemu-system executable (default: the machine's, from PATH).
    pub qemu: Option<PathBuf>,
    /// The firmware for a machine that needs one (default: its Debian path, beside
    /// the qemu executable's own `share` directory first).
    pub firmware: Option<PathBuf>,
    pub smp: u32,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// Extra arguments for the suite inside (e.g. `--duration 2s`).
    pub suite_args: Vec<String>,
    /// Parameters for the kernel (`vsyscall=none`), before the suite's.
    pub kernel_args: Vec<String>,
    /// x86: the counter the vDSO must read (its clocksource, and KVM for some).
    pub clock: Option<&'static ClockMode>,
    /// A spec file to check against inside instead of the built-in one: its name
    /// (`ARCH.yaml`) and text, put in the initramfs as `/spec/ARCH.yaml`.
    pub spec: Option<(String, Vec<u8>)>,
}

/// A newc cpio archive of `/init` (the binary), the directories it mounts on, the
/// device nodes it uses and `spec`'s file (`spec/ARCH.yaml`, name and text) if
/// given, as the kernel unpacks it into its rootfs.
pub fn initramfs(init: &[u8], spec: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ino = 1;
    let mut entry = |out: &mut Vec<u8>, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]| {
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0, 0, 1, 0, data.len(), 0, 0, rdev.0, rdev.1, name.len() + 1, 0
        );
        ino += 1;
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    };
    entry(&mut out, "dev", 0o040755, (0, 0), &[]);
    entry(&mut out, "dev/console", 0o020600, (5, 1), &[]);
    // The isolated cases run with stdin from /dev/null.
    entry(&mut out, "dev/null", 0o020666, (1, 3), &[]);
    entry(&mut out, "dev/urandom", 0o020666, (1, 9), &[]);
    entry(&mut out, "proc", 0o040755, (0, 0), &[]);
    entry(&mut out, "sys", 0o040755, (0, 0), &[]);
    entry(&mut out, "init", 0o100755, (0, 0), init);
    if let Some((name, text)) = spec {
        entry(&mut out, "spec", 0o040755, (0, 0), &[]);
        entry(&mut out, &format!("spec/{name}"), 0o100644, (0, 0), text);
    }
    entry(&mut out, "TRAILER!!!", 0, (0, 0), &[]);
    out
}

/// Whether `binary` can run as `/init` with nothing around it: no PT_INTERP.
fn is_static(binary: &[u8]) -> bool {
    vdsoconf_suite::elf::parse_file_header(binary).is_ok_and(|(header, b)| {
        let segs = vdsoconf_suite::elf::Segments::new(b, &header);
        segs.find(vdsoconf_suite::elf::PT_INTERP)
            .ok()
            .flatten()
            .is_none()
    })
}

/// Boots the kernel and returns the suite's report from inside it.
pub fn boot(opts: &BootOptions) -> Result<RunReport, String> {
    let m = machine(&opts.machine)?;
    let qemu = opts.qemu.clone().unwrap_or_else(|| PathBuf::from(m.qemu));
    let firmware = firmware_for(m, &qemu, opts.firmware.as_deref())?;
    let binary_path = match &opts.binary {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?,
    };
    let binary = vdsoconf_suite::input::read_input(
        &binary_path,
        vdsoconf_suite::input::InputKind::Executable,
    )
    .map_err(|e| e.to_string())?;
    if !is_static(&binary) {
        return Err(format!(
            "{} is dynamically linked and cannot be /init: pass --binary with a static build for {} \
             (RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release --target …; runners/qemu/matrix builds them)",
            binary_path.display(),
            opts.arch
        ));
    }
    match opts.kernel.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(format!(
                "{}: not a regular file (a kernel image is read by qemu from a file)",
                opts.kernel.display()
            ))
        }
        Err(e) => return Err(format!("{}: {e}", opts.kernel.display())),
    }
    let dir = std::env::temp_dir().join(format!("vdsoconf-boot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let initrd = dir.join("initramfs.cpio");
    let spec = opts
        .spec
        .as_ref()
        .map(|(name, text)| (name.as_str(), text.as_slice()));
    std::fs::write(&initrd, initramfs(&binary, spec))
        .map_err(|e| format!("{}: {e}", initrd.display()))?;
    let mut kernel_args: Vec<String> = Vec::new();
    if let Some(mode) = opts.clock {
        if mode.kvm {
            if let Some(why) = clock::kvm_unusable() {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("{KVM_UNAVAILABLE}: {why}"));
            }
        }
        kernel_args.extend(mode.kernel_args.iter().map(|a| a.to_string()));
    }
    kernel_args.extend(opts.kernel_args.iter().cloned());
    let append = kernel_command_line(m.console, &kernel_args, &opts.suite_args);
    let mut cmd = Command::new(&qemu);
    cmd.args(m.args);
    if let Some(mode) = opts.clock {
        if mode.kvm {
            cmd.args(["-accel", "kvm"]);
        }
        // After the machine's own -cpu: QEMU takes the last.
        if let Some(cpu) = mode.cpu {
            cmd.args(["-cpu", cpu]);
        }
    }
    if let Some(dir) = data_dir_beside(&qemu) {
        cmd.arg("-L").arg(dir);
    }
    if let Some(path) = &firmware {
        cmd.arg("-bios").arg(path);
    }
    cmd.args([
        "-m",
        &opts.memory_mb.to_string(),
        "-smp",
        &m.max_cpus
            .map_or(opts.smp, |max| opts.smp.min(max))
            .to_string(),
    ])
    // No network: the suite needs none, and a default NIC wants an option ROM.
    .args([
        "-nographic",
        "-no-reboot",
        "-monitor",
        "none",
        "-nic",
        "none",
    ])
    .arg("-kernel")
    .arg(&opts.kernel)
    .arg("-initrd")
    .arg(&initrd)
    .args(["-append", &append])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let console =
        run_with_timeout(cmd, opts.timeout).map_err(|e| format!("{}: {e}", qemu.display()));
    let _ = std::fs::remove_dir_all(&dir);
    let (console, ended) = console?;
    if let (Ended::Interrupted, Some(sig)) = (ended, crate::signals::received()) {
        return Err(format!(
            "interrupted by {}: qemu was stopped before the suite reported",
            crate::signals::name(sig)
        ));
    }
    if std::env::var_os("VDSOCONF_BOOT_DEBUG").is_some() {
        eprintln!("{console}");
    }
    if ended == Ended::Stopped && reported(console.as_bytes()) {
        eprintln!(
            "vdsoconf: boot: qemu was still running {} s after the results arrived (the kernel did not reset the machine): stopped it",
            crate::isolate::AFTER_COMPLETE.as_secs()
        );
    }
    let report = read_console(&console, ended, opts.timeout);
    match (opts.clock, report) {
        (Some(mode), Err(why)) if mode.kvm && !console.contains(REACHED) => {
            match clock::kvm_refused(&console) {
                Some(line) => Err(format!("{KVM_UNAVAILABLE}: {line}")),
                None => Err(why),
            }
        }
        (Some(mode), Ok(report)) => {
            clock::ran_as_asked(mode, report.environment.clocksource.as_deref()).map(|()| report)
        }
        (_, report) => report,
    }
}

/// How the qemu process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited,
    TimedOut,
    /// Killed because vdsoconf was told to stop.
    Interrupted,
    /// Killed because it ran on after `/init` had reported (the kernel could
    /// not reset the machine).
    Stopped,
}

/// Whether the console shows `/init`'s whole report: a results or error line,
/// ended.
pub fn reported(console: &[u8]) -> bool {
    let text = String::from_utf8_lossy(console);
    [RESULTS, FAILED].iter().any(|marker| {
        text.find(marker)
            .is_some_and(|at| text[at..].contains('\n'))
    })
}

/// Whether qemu's output shows the boot is over: `/init`'s whole report, or KVM
/// having stopped the guest (qemu then waits with its machine paused until it
/// is killed: the boot's whole timeout, on a machine whose KVM cannot run it).
pub fn finished(output: &[u8]) -> bool {
    reported(output) || clock::kvm_stopped(output)
}

fn run_with_timeout(cmd: Command, timeout: Duration) -> Result<(String, Ended), String> {
    use crate::isolate::{run_until, ChildEnd, Spawn};
    let how = Spawn {
        stdin: Stdio::null(),
        inherit_stderr: false,
        threads: true,
        fork: false,
        complete: Some(finished),
    };
    let out = run_until(cmd, "qemu", how, timeout);
    let ended = match out.end {
        ChildEnd::NotStarted(why) => return Err(why),
        ChildEnd::Exited(_) | ChildEnd::Signaled(_) => Ended::Exited,
        ChildEnd::TimedOut => Ended::TimedOut,
        ChildEnd::Interrupted => Ended::Interrupted,
        ChildEnd::Stopped => Ended::Stopped,
    };
    let mut console = out.stdout.replace('\r', "");
    if !out.stderr.trim().is_empty() {
        console.push_str("\n[qemu stderr] ");
        console.push_str(out.stderr.trim());
    }
    Ok((console, ended))
}

fn last_lines(console: &str, n: usize) -> String {
    let lines: Vec<&str> = console.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n  | ")
}

/// Finds the results in the console output, or says at which stage the boot failed.
pub fn read_console(console: &str, ended: Ended, timeout: Duration) -> Result<RunReport, String> {
    if let Some(json) = console
        .lines()
        .find_map(|l| l.split_once(RESULTS).map(|(_, j)| j))
    {
        return RunReport::from_json(json.trim())
            .map_err(|e| format!("garbled results on the console: {e}"));
    }
    if let Some(why) = console
        .lines()
        .find_map(|l| l.split_once(FAILED).map(|(_, w)| w))
    {
        return Err(format!(
            "/init ran but the suite could not start: {}",
            why.trim()
        ));
    }
    let stage = if console.contains(REACHED) {
        "/init started but printed no results"
    } else if console.contains("Kernel panic") {
        "the kernel panicked before /init reported"
    } else if console.trim().is_empty() {
        "no console output at all (wrong console device, or the kernel did not start)"
    } else {
        "the kernel never reached /init"
    };
    let how = match ended {
        Ended::TimedOut => format!(" (killed after {} s)", timeout.as_secs()),
        Ended::Exited | Ended::Interrupted | Ended::Stopped => String::new(),
    };
    // What init said before dying, and the panic line itself, beat a stack trace.
    let said: Vec<&str> = console
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('['))
        .collect();
    let panic = console.lines().find(|l| l.contains("Kernel panic"));
    let mut detail = String::new();
    if !said.is_empty() {
        detail.push_str(&format!(
            "\n  /init printed:\n  | {}",
            said[said.len().saturating_sub(8)..].join("\n  | ")
        ));
    }
    if let Some(p) = panic {
        detail.push_str(&format!("\n  {}", p.trim()));
    }
    Err(format!(
        "{stage}{how}{detail}\n  last console lines:\n  | {}",
        last_lines(console, 12)
    ))
}

/// The kernel's command line: its console, `kernel_args`, then (after `--`)
/// what `/init` is told.
pub fn kernel_command_line(console: &str, kernel_args: &[String], suite_args: &[String]) -> String {
    let mut line = format!("console={console} panic=-1 quiet");
    for a in kernel_args {
        line.push(' ');
        line.push_str(a);
    }
    line.push_str(&format!(" -- {INIT_COMMAND}"));
    for a in suite_args {
        line.push(' ');
        line.push_str(a);
    }
    line
}

/// `/init` inside the guest: mount what the checks read, run the plan, print the
/// results between markers, reset the machine. Never returns.
pub fn init_main(args: &[String]) -> ! {
    println!("{REACHED}");
    mount_pseudo_filesystems();
    if std::env::var_os("VDSOCONF_BOOT_DEBUG").is_some() || args.iter().any(|a| a == "--debug") {
        println!(
            "exe={:?} root={:?} init={:?}",
            std::env::current_exe(),
            std::fs::read_dir("/").map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>()),
            std::fs::metadata("/init").map(|m| m.len())
        );
        println!(
            "spawn={:?}",
            std::process::Command::new("/init")
                .arg("--version")
                .status()
        );
    }
    match init_run(args) {
        Ok(report) => println!(
            "{RESULTS}{}",
            serde_json::to_string(&report).expect("a report serializes")
        ),
        Err(e) => println!("{FAILED}{}", e.replace('\n', " ")),
    }
    restart()
}

/// What `/init` is told on the kernel command line (after `--`).
#[derive(clap::Parser, Debug)]
#[command(name = "init")]
struct InitArgs {
    #[command(flatten)]
    target: TargetOptions,
    #[arg(long)]
    duration: Option<String>,
    #[arg(long)]
    filter: Option<String>,
    #[arg(long, default_value_t = crate::session::FUZZ_CALLS)]
    fuzz_calls: u64,
    #[arg(long, default_value_t = 1)]
    fuzz_seed: u64,
    #[arg(long)]
    debug: bool,
}

fn init_run(args: &[String]) -> Result<RunReport, String> {
    use clap::Parser;
    // UEFI firmware that loads the kernel itself (loongarch64's) appends
    // `initrd=initrd` to the command line, after the arguments meant for /init.
    let args = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("initrd="));
    let parsed = InitArgs::try_parse_from(std::iter::once("init").chain(args))
        .map_err(|e| e.to_string().replace('\n', " "))?;
    let (opts, duration, filter) = (parsed.target, parsed.duration, parsed.filter);
    let target = resolve_target(&opts).map_err(|e| e.0)?;
    let defaults = crate::session::RunOptions::default();
    let session = Session::open(target)?.with_options(crate::session::RunOptions {
        monotonic: match duration {
            Some(d) => crate::target::parse_duration(&d).map_err(|e| e.0)?,
            None => defaults.monotonic,
        },
        progress: false,
        fuzz_calls: parsed.fuzz_calls,
        fuzz_seed: parsed.fuzz_seed,
    });
    Ok(session.report(|c| {
        filter
            .as_ref()
            .is_none_or(|f| c.name().contains(f.as_str()))
    }))
}

fn mount_pseudo_filesystems() {
    use vdsoconf_suite::vdso::process::mount_pseudo;
    for (fstype, dir) in [("proc", "/proc"), ("sysfs", "/sys")] {
        let _ = std::fs::create_dir_all(dir);
        let _ = mount_pseudo(fstype, std::path::Path::new(dir));
    }
}

fn restart() -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // As PID 1 in a throwaway VM this is the intended end.
    vdsoconf_suite::vdso::process::restart_machine();
    std::process::exit(0)
}

/// Whether this process is `/init` started by the kernel for `vdsoconf boot`.
pub fn is_init(args: &[String]) -> bool {
    args.get(1).is_some_and(|a| a == INIT_COMMAND) && std::process::id() == 1
}
