//! `vdsoconf boot` pieces that do not need a kernel: the initramfs and the reading of
//! the console (each failure stage named). Booting real kernels is the qemu
//! matrix's job (runners/qemu/kernels).

use std::time::Duration;
use vdsoconf_runners::boot::{
    firmware_for, initramfs, kernel_command_line, machine, read_console, Ended,
};

/// (name, mode, rdev major, minor, data) of each newc entry.
fn entries(cpio: &[u8]) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let field = |h: &[u8], i: usize| {
        u32::from_str_radix(std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap()
    };
    let pad = |n: usize| n.div_ceil(4) * 4;
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let h = &cpio[at..at + 110];
        assert_eq!(&h[..6], b"070701");
        let (mode, size, rmaj, rmin, namesize) = (
            field(h, 1),
            field(h, 6),
            field(h, 9),
            field(h, 10),
            field(h, 11),
        );
        let name_at = at + 110;
        let name =
            String::from_utf8(cpio[name_at..name_at + namesize as usize - 1].to_vec()).unwrap();
        let data_at = pad(name_at + namesize as usize);
        let data = cpio[data_at..data_at + size as usize].to_vec();
        at = pad(data_at + size as usize);
        if name == "TRAILER!!!" {
            assert_eq!(at, cpio.len(), "nothing after the trailer");
            return out;
        }
        out.push((name, mode, rmaj, rmin, data));
    }
}

#[test]
fn the_initramfs_holds_init_and_its_device_nodes() {
    let init = b"\x7fELF pretend binary".to_vec();
    let spec = b"arch: x86_64\n".to_vec();
    let e = entries(&initramfs(&init, Some(("x86_64.yaml", &spec))));
    let find = |n: &str| {
        e.iter()
            .find(|x| x.0 == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    let i = find("init");
    assert_eq!((i.1, &i.4), (0o100755, &init));
    let console = find("dev/console");
    assert_eq!(
        (console.1 & 0o170000, console.2, console.3),
        (0o020000, 5, 1)
    );
    let null = find("dev/null");
    assert_eq!((null.2, null.3), (1, 3));
    assert_eq!(find("proc").1 & 0o170000, 0o040000);
    assert_eq!(find("sys").1 & 0o170000, 0o040000);
    // The spec given with --spec, where /init is told to read it.
    assert_eq!(find("spec").1 & 0o170000, 0o040000);
    assert_eq!(find("spec/x86_64.yaml").4, spec);
}

#[test]
fn the_console_says_where_a_boot_failed() {
    let t = Duration::from_secs(60);
    let panic = "[    1.0] Run /init as init process\nerror: unrecognized subcommand\n[    1.2] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000200\n";
    let e = read_console(panic, Ended::Exited, t).unwrap_err();
    assert!(
        e.starts_with("the kernel panicked before /init reported"),
        "{e}"
    );
    assert!(
        e.contains("error: unrecognized subcommand") && e.contains("Attempted to kill init"),
        "{e}"
    );
    let hung = "[    0.1] Booting Linux\n[    0.2] Freeing unused memory\n";
    let e = read_console(hung, Ended::TimedOut, t).unwrap_err();
    assert!(
        e.starts_with("the kernel never reached /init (killed after 60 s)"),
        "{e}"
    );
    assert!(e.contains("Freeing unused memory"));
    let silent = read_console("", Ended::Exited, t).unwrap_err();
    assert!(silent.contains("no console output"), "{silent}");
    let started = read_console("VDSOCONF-BOOT-INIT\nsomething\n", Ended::TimedOut, t).unwrap_err();
    assert!(
        started.starts_with("/init started but printed no results"),
        "{started}"
    );
    let refused = read_console(
        "VDSOCONF-BOOT-INIT\nVDSOCONF-BOOT-ERROR no spec for sparc\n",
        Ended::Exited,
        t,
    )
    .unwrap_err();
    assert!(refused.contains("no spec for sparc"), "{refused}");
    let garbled = read_console(
        "VDSOCONF-BOOT-RESULTS {\"schema\": \"vdsoconf-res",
        Ended::Exited,
        t,
    )
    .unwrap_err();
    assert!(garbled.contains("garbled"), "{garbled}");
}

#[test]
fn results_are_read_back_from_the_console_between_kernel_noise() {
    let report = vdsoconf_reports::RunReport::from_json(
        r#"{"schema":"vdsoconf-results/1","tool":"vdsoconf 0.1.0","environment":{"arch":"aarch64","provider":"kernel","build_target":"aarch64-unknown-linux-gnu","machine":"aarch64","kernel_release":"6.12.0","kernel":"6.12","source":"live","vdso_present":true,"vdso_soname":"linux-vdso.so.1","clocksource":"arch_sys_counter","cpus":2},"results":[]}"#,
    )
    .unwrap();
    let line = serde_json::to_string(&report).unwrap();
    let console = format!("[    0.5] random: crng init done\nVDSOCONF-BOOT-INIT\nVDSOCONF-BOOT-RESULTS {line}\n[    9.1] reboot: Power down\n");
    assert_eq!(
        read_console(&console, Ended::Exited, Duration::from_secs(1)).unwrap(),
        report
    );
}

#[test]
fn unknown_machines_are_named() {
    assert!(machine("aarch64").is_ok());
    let e = machine("sparc64").unwrap_err();
    assert!(
        e.contains("sparc64") && e.contains("x86_64") && e.contains("s390x"),
        "{e}"
    );
}

#[test]
fn loongarch64_needs_firmware_found_beside_qemu_or_given_and_others_refuse_it() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-fw-{}", std::process::id()));
    let bin = dir.join("usr/bin");
    let fw_dir = dir.join("usr/share/qemu-efi-loongarch64");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&fw_dir).unwrap();
    let qemu = bin.join("qemu-system-loongarch64");
    std::fs::write(&qemu, b"").unwrap();
    let la = machine("loongarch64").unwrap();
    // None beside this qemu (and, on this machine, none in /usr/share either).
    if !std::path::Path::new("/usr/share/qemu-efi-loongarch64/QEMU_EFI.fd").exists() {
        let e = firmware_for(la, &qemu, None).unwrap_err();
        assert!(
            e.contains("qemu-efi-loongarch64") && e.contains("--firmware"),
            "{e}"
        );
    }
    std::fs::write(fw_dir.join("QEMU_EFI.fd"), b"firmware").unwrap();
    assert_eq!(
        firmware_for(la, &qemu, None).unwrap(),
        Some(fw_dir.join("QEMU_EFI.fd"))
    );
    let given = dir.join("mine.fd");
    std::fs::write(&given, b"").unwrap();
    assert_eq!(
        firmware_for(la, &qemu, Some(&given)).unwrap(),
        Some(given.clone())
    );
    assert!(firmware_for(la, &qemu, Some(&dir))
        .unwrap_err()
        .contains("not a regular file"));
    let x86 = machine("x86_64").unwrap();
    assert_eq!(firmware_for(x86, &qemu, None).unwrap(), None);
    assert!(firmware_for(x86, &qemu, Some(&given))
        .unwrap_err()
        .contains("boots without firmware"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Kernel parameters go before `--`, where the kernel reads them; the suite's
/// arguments after it, where /init gets them.
#[test]
fn kernel_parameters_come_before_the_arguments_of_init() {
    let line = kernel_command_line(
        "ttyS0",
        &["vsyscall=none".to_string()],
        &["--filter".to_string(), "::vsyscall::".to_string()],
    );
    assert_eq!(
        line,
        "console=ttyS0 panic=-1 quiet vsyscall=none -- boot-init --filter ::vsyscall::"
    );
}

/// The console is complete once a results (or error) line has ended, or once
/// qemu said KVM stopped its guest; a qemu still running then is stopped, and
/// said to have been.
#[test]
fn a_machine_still_running_after_its_results_is_stopped() {
    use std::process::{Command, Stdio};
    use vdsoconf_runners::boot::{finished, reported};
    use vdsoconf_runners::isolate::{run_until, ChildEnd, Spawn};
    assert!(!reported(b"[ 1.0] booting\nVDSOCONF-BOOT-RESULTS {\"sch"));
    assert!(reported(
        b"VDSOCONF-BOOT-RESULTS {}\n[ 9.0] reboot: System halted\n"
    ));
    assert!(reported(b"VDSOCONF-BOOT-ERROR no spec\n"));
    let how = |complete| Spawn {
        stdin: Stdio::null(),
        inherit_stderr: false,
        threads: true,
        fork: false,
        complete,
    };
    // A fake qemu: SCRIPT in sh, then asleep until killed.
    let fake_qemu = |script: &str| {
        let mut c = Command::new("sh");
        c.args(["-c", &format!("{script}; exec sleep 600")]);
        c
    };
    let halted = fake_qemu("echo 'VDSOCONF-BOOT-RESULTS {}'; echo 'System halted'");
    let out = run_until(
        halted,
        "qemu",
        how(Some(reported)),
        Duration::from_secs(120),
    );
    assert_eq!(out.end, ChildEnd::Stopped);
    assert!(out.stdout.contains("VDSOCONF-BOOT-RESULTS {}"), "{out:?}");
    // Without the whole line it is not complete: the deadline ends it.
    let cut = fake_qemu("printf 'VDSOCONF-BOOT-RESULTS {'");
    let out = run_until(cut, "qemu", how(Some(reported)), Duration::from_secs(1));
    assert_eq!(out.end, ChildEnd::TimedOut);
    // Standard error is watched too: what QEMU says when KVM stopped its guest
    // (it then waits, paused, until killed).
    let paused =
        fake_qemu("echo 'KVM internal error. Suberror: 1' >&2; echo 'emulation failure' >&2");
    let out = run_until(
        paused,
        "qemu",
        how(Some(finished)),
        Duration::from_secs(120),
    );
    assert_eq!(out.end, ChildEnd::Stopped);
    assert!(out.stderr.contains("emulation failure"), "{out:?}");
}
