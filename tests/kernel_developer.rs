//! The kernel developer's commands on a real build tree (tests/data: the files
//! of Debian's linux-source-7.3 built with x86_64_defconfig, from
//! tests/data/regenerate): `vdsoconf tree`, a diff that knows the build's
//! configuration, check-image's kernel version and spec entries, and the
//! messages for inputs that are not what the command wants.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn build_tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/build-7.3-defconfig")
}

fn history(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("history/amd64/7.3.4+deb13-cloud-amd64")
        .join(rel)
        .display()
        .to_string()
}

fn vdso64() -> String {
    build_tree()
        .join("arch/x86/entry/vdso/vdso64/vdso64.so")
        .display()
        .to_string()
}

fn expect(out: &std::process::Output, code: i32, needles: &[&str]) -> Result<(), String> {
    let stdout = text(&out.stdout);
    if out.status.code() != Some(code) {
        return Err(format!(
            "exit {:?}, not {code}\n{stdout}{}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    for n in needles {
        if !stdout.contains(n) {
            return Err(format!("no {n:?} in\n{stdout}"));
        }
    }
    Ok(())
}

/// A defconfig build (CONFIG_X86_SGX off) against Debian's 7.3.4 image: the
/// missing SGX entry is a configuration difference, every image is clean.
fn tree_of_a_defconfig_build_is_clean() -> Result<(), String> {
    let dir = build_tree().display().to_string();
    expect(
        &vdsoconf(&["tree", &dir]),
        0,
        &[
            "kernel 7.3.4 (include/config/kernel.release)",
            "x86_64 arch/x86/entry/vdso/vdso64/vdso64.so",
            "i386 arch/x86/entry/vdso/vdso32/vdso32.so",
            "configuration: removed __vdso_sgx_enter_enclave@LINUX_2.6",
            "(configuration: CONFIG_X86_SGX=n in the new build)",
            "tree: 2 vDSO image(s): 0 error(s), 0 breaking change(s), 1 configuration difference(s)",
        ],
    )?;
    // JSON: the same, as data.
    let json = vdsoconf(&["tree", &dir, "--format", "json"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&json.stdout).map_err(|e| format!("{e}: {}", text(&json.stdout)))?;
    if doc["kernel"] != "7.3.4" || doc["images"].as_array().map(Vec::len) != Some(2) {
        return Err(format!("{doc:#}"));
    }
    // Against the build itself (a build tree as --against): nothing changed.
    expect(
        &vdsoconf(&["tree", &dir, "--against", &dir]),
        0,
        &["0 breaking, 0 compatible, 0 configuration difference(s)"],
    )
}

/// tinyconfig with the boot fragment (runners/kconfig) builds the x32 vDSO
/// too, with the robust-futex helpers (CONFIG_COMPAT on): the spec of each of
/// the three has them, so the tree is clean.
fn tree_of_a_tinyconfig_build_with_x32_is_clean() -> Result<(), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/build-7.3-tinyconfig-boot")
        .display()
        .to_string();
    expect(
        &vdsoconf(&["tree", &dir]),
        0,
        &[
            "x32 arch/x86/entry/vdso/vdso64/vdsox32.so\n  0 error(s)",
            "x86_64 arch/x86/entry/vdso/vdso64/vdso64.so\n  0 error(s)",
            "i386 arch/x86/entry/vdso/vdso32/vdso32.so\n  0 error(s)",
            "tree: 3 vDSO image(s): 0 error(s), 0 breaking change(s)",
        ],
    )
}

/// `diff` needs the new build's configuration to tell a configuration
/// difference from a break, and says which option to compare without it.
fn diff_knows_the_configuration() -> Result<(), String> {
    let old = history("x86_64.so");
    let new = vdso64();
    expect(
        &vdsoconf(&["diff", &old, &new]),
        1,
        &[
            "breaking: removed __vdso_sgx_enter_enclave@LINUX_2.6",
            "CONFIG_X86_SGX",
            "--config",
        ],
    )?;
    let config = build_tree().join(".config").display().to_string();
    expect(
        &vdsoconf(&["diff", &old, &new, "--config", &config]),
        0,
        &["0 breaking, 0 compatible, 1 configuration difference(s)"],
    )?;
    expect(
        &vdsoconf(&["diff", &old, &new, "--config", "CONFIG_X86_SGX=n"]),
        0,
        &["configuration: removed __vdso_sgx_enter_enclave@LINUX_2.6"],
    )?;
    expect(
        &vdsoconf(&["diff", &old, &new, "--config", "CONFIG_X86_SGX=y"]),
        1,
        &["not predicted: the new build has CONFIG_X86_SGX"],
    )
}

/// The version note gives the kernel; the spec file used is named; an
/// image of another architecture is one finding naming its spec.
fn check_image_reads_the_kernel_and_names_its_spec() -> Result<(), String> {
    expect(
        &vdsoconf(&["check-image", &vdso64()]),
        0,
        &[
            "kernel 7.3.4 (its version note), spec spec/x86_64.yaml",
            "0 error(s)",
        ],
    )?;
    let vdso32 = build_tree()
        .join("arch/x86/entry/vdso/vdso32/vdso32.so")
        .display()
        .to_string();
    let wrong = vdsoconf(&["check-image", &vdso32, "--arch", "x86_64"]);
    expect(&wrong, 1, &["check it with --arch i386", "1 error(s)"])?;
    if text(&wrong.stdout).lines().count() != 3 {
        return Err(format!("more than one finding:\n{}", text(&wrong.stdout)));
    }
    // --spec takes an architecture's name as well as a file or directory.
    expect(
        &vdsoconf(&["check-image", &vdso32, "--spec", "i386"]),
        0,
        &["i386 (", "0 error(s)"],
    )
}

/// A spec without __vdso_getcpu: the finding names the file given and prints
/// the entry to paste.
fn an_unknown_symbol_prints_its_entry() -> Result<(), String> {
    let dir = scratch("entry");
    let spec =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/x86_64.yaml"))
            .map_err(|e| e.to_string())?;
    let start = spec
        .find("  - name: __vdso_getcpu\n")
        .ok_or("no __vdso_getcpu entry")?;
    let end = start + spec[start + 3..].find("  - name:").ok_or("no next entry")? + 3;
    let file = dir.join("x86_64.yaml");
    std::fs::write(&file, format!("{}{}", &spec[..start], &spec[end..]))
        .map_err(|e| e.to_string())?;
    let file = file.display().to_string();
    let out = vdsoconf(&["check-image", &vdso64(), "--spec", &file]);
    expect(
        &out,
        1,
        &[
            &format!("error[unknown-symbol] __vdso_getcpu@LINUX_2.6: not in the spec: add it to `symbols` in {file}"),
            "  - name: __vdso_getcpu\n    version: LINUX_2.6\n    kind: getcpu  # from its name: check it\n",
            "    prototype: \"int __vdso_getcpu(",
            "    since: \"7.3\"",
        ],
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A kernel image where a vDSO image is wanted points at `extract`; a tree
/// that is not one, one with no vDSO, and a .config with garbage are each
/// one line and exit 2.
fn wrong_inputs_are_named() -> Result<(), String> {
    let dir = scratch("inputs");
    let mut bz = vec![0u8; 0x1000];
    bz[0x202..0x206].copy_from_slice(b"HdrS");
    let small = dir.join("bzImage");
    std::fs::write(&small, &bz).map_err(|e| e.to_string())?;
    let mut big = bz.clone();
    big.resize(5 << 20, 0);
    let large = dir.join("vmlinuz");
    std::fs::write(&large, &big).map_err(|e| e.to_string())?;
    for file in [&small, &large] {
        let f = file.display().to_string();
        for cmd in ["check-image", "symbols"] {
            one_line_error(&vdsoconf(&[cmd, &f]), "vdsoconf extract")?;
        }
    }
    one_line_error(
        &vdsoconf(&["tree", &dir.display().to_string()]),
        "not a kernel build tree",
    )?;
    std::fs::write(dir.join(".config"), "CONFIG_X86_64=y\n").map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["tree", &dir.display().to_string()]),
        "no vDSO image built there",
    )?;
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("arch/x86/entry/vdso/vdso64")).map_err(|e| e.to_string())?;
    std::fs::copy(vdso64(), tree.join("arch/x86/entry/vdso/vdso64/vdso64.so"))
        .map_err(|e| e.to_string())?;
    std::fs::write(
        tree.join(".config"),
        "CONFIG_X86_64=y\nthis is not kconfig\n",
    )
    .map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["tree", &tree.display().to_string()]),
        ".config:2: not a line of a kernel .config",
    )?;
    one_line_error(
        &vdsoconf(&["check-image", &vdso64(), "--config", "CONFIG_NOPE"]),
        "no such file, and not an option",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `symbols` keeps its columns under long names, and shows the kernel.
fn symbols_columns_line_up() -> Result<(), String> {
    let out = vdsoconf(&["symbols", &vdso64()]);
    let stdout = text(&out.stdout);
    if !stdout.lines().next().unwrap_or("").contains("kernel 7.3.4") {
        return Err(stdout);
    }
    let columns: Vec<usize> = stdout
        .lines()
        .skip(1)
        .map(|l| l.find(" GLOBAL ").or_else(|| l.find(" WEAK ")).unwrap_or(0))
        .collect();
    if columns.is_empty() || columns.iter().any(|&c| c != columns[0] || c == 0) {
        return Err(format!("binding columns at {columns:?}:\n{stdout}"));
    }
    Ok(())
}

/// `boot` with a stand-in for qemu: one that prints the results and runs on
/// (a kernel that cannot reset the machine) is stopped soon after, and says
/// so; one that dies before /init gives a report of several lines.
fn a_boot_ends_with_its_results_and_a_failure_reads_well() -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("boot");
    let results = r#"{"schema":"vdsoconf-results/1","tool":"vdsoconf 0.1.0","environment":{"arch":"x86_64","provider":"kernel","build_target":"x86_64-unknown-linux-gnu","machine":"x86_64","kernel_release":"7.3.4","kernel":"7.3.4","source":"live","vdso_present":true,"vdso_soname":"linux-vdso.so.1","clocksource":"tsc","cpus":2},"results":[{"name":"x86_64::vdso::present","group":"vdso","expectation":"a vDSO","result":{"verdict":"pass"},"duration_us":1}]}"#;
    let script = |name: &str, body: &str| -> Result<String, String> {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        Ok(path.display().to_string())
    };
    let runs_on = script(
        "qemu-halts",
        &format!("echo '[ 1.0] Run /init'\necho 'VDSOCONF-BOOT-RESULTS {results}'\necho 'reboot: System halted'\nexec sleep 600"),
    )?;
    let dies = script(
        "qemu-panics",
        "echo '[ 0.9] Freeing unused kernel memory'\necho '[ 1.0] Kernel panic - not syncing: No working init found.'\nexit 0",
    )?;
    // A static "binary" for /init: it is never run by these stand-ins.
    let binary = fixture("x86_64/kernel-6.18.so");
    let kernel = vdso64();
    let boot = |qemu: &str| {
        vdsoconf(&[
            "boot",
            "--arch",
            "x86_64",
            "--kernel",
            &kernel,
            "--binary",
            &binary,
            "--qemu",
            qemu,
            "--timeout",
            "10m",
        ])
    };
    let out = boot(&runs_on);
    expect(&out, 0, &["PASS  x86_64::vdso::present"])?;
    if !text(&out.stderr).contains("stopped it") {
        return Err(format!("not said: {}", text(&out.stderr)));
    }
    let out = boot(&dies);
    let err = text(&out.stderr);
    if out.status.code() != Some(2)
        || err.lines().count() < 3
        || !err.starts_with("vdsoconf: the kernel panicked before /init reported")
        || err.contains("\\n")
    {
        return Err(format!("exit {:?}, stderr:\n{err}", out.status.code()));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `source` on a small tree: a script that agrees with the spec is clean; one
/// that exports a name the spec lacks and drops one it has, under another
/// condition, gives each disagreement; bad trees are one line, exit 2.
fn source_compares_linker_scripts_with_the_spec() -> Result<(), String> {
    let dir = scratch("source");
    let write = |rel: &str, text: &str| -> Result<(), String> {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(p, text).map_err(|e| e.to_string())
    };
    write(
        "Makefile",
        "VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION =\n",
    )?;
    let script = |extra: &str, sgx: &str| {
        format!(
            "/* x86_64 */\n#define BUILD_VDSO64\nVERSION {{\n\tLINUX_2.6 {{\n\tglobal:\n\t\tclock_gettime;\n\t\t__vdso_clock_gettime;\n\t\tgettimeofday;\n\t\t__vdso_gettimeofday;\n\t\tgetcpu;\n\t\t__vdso_getcpu;\n\t\ttime;\n\t\t__vdso_time;\n\t\tclock_getres;\n\t\t__vdso_clock_getres;\n{sgx}\t\tgetrandom;\n\t\t__vdso_getrandom;\n#ifdef CONFIG_FUTEX_ROBUST_UNLOCK\n\t\t__vdso_futex_robust_list64_try_unlock;\n#ifdef CONFIG_COMPAT\n\t\t__vdso_futex_robust_list32_try_unlock;\n#endif\n#endif\n{extra}\tlocal: *;\n\t}};\n}}\n"
        )
    };
    let rel = "arch/x86/entry/vdso/vdso64/vdso64.lds.S";
    write(
        rel,
        &script(
            "",
            "#ifdef CONFIG_X86_SGX\n\t\t__vdso_sgx_enter_enclave;\n#endif\n",
        ),
    )?;
    let src = dir.display().to_string();
    expect(
        &vdsoconf(&["source", &src, "--spec", "x86_64"]),
        0,
        &[
            "kernel 7.3.4",
            "x86_64 arch/x86/entry/vdso/vdso64/vdso64.lds.S",
            "needs CONFIG_COMPAT && CONFIG_FUTEX_ROBUST_UNLOCK",
            "0 disagreement(s)",
        ],
    )?;
    write(
        rel,
        &script(
            "#if defined(CONFIG_NEW) || !defined(CONFIG_OLD)\n\t\t__vdso_new;\n#endif\n",
            "#ifdef CONFIG_X86_SGX_NEW\n\t\t__vdso_sgx_enter_enclave;\n#endif\n",
        ),
    )?;
    expect(
        &vdsoconf(&["source", &src, "--spec", "x86_64"]),
        1,
        &[
            "error[unknown-symbol] __vdso_new@LINUX_2.6: arch/x86/entry/vdso/vdso64/vdso64.lds.S:",
            "needs CONFIG_NEW || !CONFIG_OLD",
            "error[config] __vdso_sgx_enter_enclave@LINUX_2.6",
            "the source builds it with CONFIG_X86_SGX_NEW; the spec says CONFIG_X86_SGX",
            "2 disagreement(s)",
        ],
    )?;
    let json = vdsoconf(&["source", &src, "--spec", "x86_64", "--format", "json"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&json.stdout).map_err(|e| format!("{e}: {}", text(&json.stdout)))?;
    if doc["disagreements"] != 2 || doc["images"][0]["exports"].as_array().map(Vec::len) != Some(16)
    {
        return Err(format!("{doc:#}"));
    }
    let empty = scratch("source-empty");
    one_line_error(
        &vdsoconf(&["source", &empty.display().to_string()]),
        "not a kernel source tree",
    )?;
    one_line_error(
        &vdsoconf(&["source", "/nonexistent/linux"]),
        "not a kernel source tree",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
    Ok(())
}

fn main() {
    let tests: &[CliTest] = &[
        (
            "tree_of_a_defconfig_build_is_clean",
            tree_of_a_defconfig_build_is_clean,
        ),
        (
            "tree_of_a_tinyconfig_build_with_x32_is_clean",
            tree_of_a_tinyconfig_build_with_x32_is_clean,
        ),
        ("diff_knows_the_configuration", diff_knows_the_configuration),
        (
            "check_image_reads_the_kernel_and_names_its_spec",
            check_image_reads_the_kernel_and_names_its_spec,
        ),
        (
            "an_unknown_symbol_prints_its_entry",
            an_unknown_symbol_prints_its_entry,
        ),
        ("wrong_inputs_are_named", wrong_inputs_are_named),
        ("symbols_columns_line_up", symbols_columns_line_up),
        (
            "a_boot_ends_with_its_results_and_a_failure_reads_well",
            a_boot_ends_with_its_results_and_a_failure_reads_well,
        ),
        (
            "source_compares_linker_scripts_with_the_spec",
            source_compares_linker_scripts_with_the_spec,
        ),
    ];
    run_tests("kernel_developer", tests);
}
