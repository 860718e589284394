//! Files that are not what they claim: special files, huge files, and the small
//! mistakes a user makes on the command line or in a spec.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs vdsoconf with `args`, killed if it has not ended after `limit`.
pub fn vdsoconf_within(args: &[&str], limit: Duration) -> Result<std::process::Output, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vdsoconf"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{args:?} still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

/// Command-line words of `line` (the paths here have no spaces).
fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

pub fn special_files_are_refused_by_type() -> Result<(), String> {
    let dir = scratch("special");
    let fifo = dir.join("x86_64.yaml");
    let c = std::ffi::CString::new(path(&fifo)).map_err(|e| e.to_string())?;
    // SAFETY: mkfifo reads a NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(format!("mkfifo: {}", std::io::Error::last_os_error()));
    }
    let quick = Duration::from_secs(10);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["symbols".into(), "/dev/zero".into()],
            "is a character device",
        ),
        (
            vec!["spec".into(), "validate".into(), path(&fifo)],
            "is a FIFO",
        ),
        (vec!["symbols".into(), path(&fifo)], "is a FIFO"),
        (
            vec![
                "check-image".into(),
                "--arch".into(),
                "x86_64".into(),
                path(&dir),
            ],
            "is a directory",
        ),
        (
            vec![
                "diff".into(),
                fixture("x86_64/kernel-6.18.so"),
                "/dev/zero".into(),
            ],
            "/dev/zero: is a character device",
        ),
        (
            vec!["run".into(), "--image".into(), "/dev/urandom".into()],
            "is a character device",
        ),
        (vec!["summary".into(), "/dev/null".into()], "/dev/null"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = vdsoconf_within(&args, quick)?;
        one_line_error(&out, needle).map_err(|e| format!("{args:?}: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub fn oversized_inputs_are_refused_by_size() -> Result<(), String> {
    let dir = scratch("oversized");
    // Sparse: they take no disk, and a tool that read them whole would take
    // gigabytes of memory and many seconds.
    let sparse = |name: &str, len: u64| -> Result<String, String> {
        let p = dir.join(name);
        let f = std::fs::File::create(&p).map_err(|e| e.to_string())?;
        f.set_len(len).map_err(|e| e.to_string())?;
        Ok(path(&p))
    };
    let image = sparse("huge.so", 5 << 30)?;
    let spec_dir = dir.join("spec");
    std::fs::create_dir_all(&spec_dir).map_err(|e| e.to_string())?;
    let spec = {
        let p = spec_dir.join("x86_64.yaml");
        std::fs::File::create(&p)
            .and_then(|f| f.set_len(64 << 20))
            .map_err(|e| e.to_string())?;
        path(&p)
    };
    let results = dir.join("results");
    std::fs::create_dir_all(results.join("row")).map_err(|e| e.to_string())?;
    std::fs::write(
        results.join("row/target.json"),
        br#"{"target":"t","runner":"native"}"#,
    )
    .map_err(|e| e.to_string())?;
    std::fs::File::create(results.join("row/results.json"))
        .and_then(|f| f.set_len(1 << 30))
        .map_err(|e| e.to_string())?;
    let quick = Duration::from_secs(10);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["symbols".into(), image.clone()],
            "too large for a vDSO image",
        ),
        (
            vec![
                "diff".into(),
                fixture("x86_64/kernel-6.18.so"),
                image.clone(),
            ],
            "huge.so: larger than 4 MiB",
        ),
        (
            vec![
                "check-image".into(),
                "--arch".into(),
                "x86_64".into(),
                image,
            ],
            "too large",
        ),
        (
            vec!["spec".into(), "validate".into(), spec],
            "too large for a spec file",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let out = vdsoconf_within(&args, quick)?;
        one_line_error(&out, needle).map_err(|e| format!("{args:?}: {e}"))?;
        if start.elapsed() > Duration::from_secs(5) {
            return Err(format!("{args:?} took {:?} to refuse", start.elapsed()));
        }
    }
    // A summary shows a row it cannot read as failed, saying why.
    summary_row_says(&path(&results), "too large for a report")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `summary DIR` fails (exit 1) with the row's problem in the table, at once.
fn summary_row_says(dir: &str, needle: &str) -> Result<(), String> {
    let out = vdsoconf_within(&["summary", dir], Duration::from_secs(5))?;
    let table = text(&out.stdout);
    if out.status.code() != Some(1) || !table.contains(needle) || table.contains("no results.json")
    {
        return Err(format!(
            "summary {dir}: exit {:?}, table:\n{table}{}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    Ok(())
}

pub fn small_mistakes_get_precise_errors() -> Result<(), String> {
    let dir = scratch("mistakes");
    let write = |name: &str, text: &[u8]| -> Result<String, String> {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&p, text).map_err(|e| e.to_string())?;
        Ok(path(&p))
    };
    let kernel = fixture("x86_64/kernel-6.18.so");
    let spec =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/x86_64.yaml"))
            .map_err(|e| e.to_string())?;
    // A symbol name of a megabyte, and one with a NUL, are shown cut and escaped.
    let long = write(
        "long/x86_64.yaml",
        spec.replacen(
            "name: __vdso_time",
            &format!("name: __vdso_time{}", "A".repeat(1 << 20)),
            1,
        )
        .as_bytes(),
    )?;
    let nul = write(
        "nul/x86_64.yaml",
        spec.replacen("name: __vdso_time", "name: \"__vdso_\\0time\"", 1)
            .as_bytes(),
    )?;
    let dup = write("dup/x86_64.yaml", b"arch: x86_64\narch: x86_64\n")?;
    let empty_symptom = write(
        "symptom/x86_64.yaml",
        spec.replacen("deviations:\n", "deviations:\n  - description: d\n    evidence: e\n    checks: [\"call::__vdso_time\"]\n    symptoms: [\"\"]\n", 1).as_bytes(),
    )?;
    let no_such_check = write(
        "check/x86_64.yaml",
        spec.replacen("deviations:\n", "deviations:\n  - description: d\n    evidence: e\n    checks: [\"call::__vdso_no_such_function\"]\n    symptoms: [\"call-returned\"]\n", 1).as_bytes(),
    )?;
    let bad_utf8_results = dir.join("utf8/row");
    std::fs::create_dir_all(&bad_utf8_results).map_err(|e| e.to_string())?;
    std::fs::write(
        bad_utf8_results.join("target.json"),
        br#"{"target":"x86_64-unknown-linux-gnu","runner":"native"}"#,
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        bad_utf8_results.join("results.json"),
        b"{\"schema\": \"\xff\xfe\"}",
    )
    .map_err(|e| e.to_string())?;
    let bench_dir = dir.join("bench");
    std::fs::create_dir_all(bench_dir.join("row")).map_err(|e| e.to_string())?;
    std::fs::write(
        bench_dir.join("row/target.json"),
        br#"{"target":"t","runner":"native","error":"x"}"#,
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(bench_dir.join("bench.json"), b"{ not json").map_err(|e| e.to_string())?;
    let dir_s = path(&dir);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "boot".into(),
                "--arch".into(),
                "x86_64".into(),
                "--kernel".into(),
                kernel.clone(),
                "--timeout".into(),
                "10x".into(),
            ],
            "--timeout \"10x\"",
        ),
        (
            words(&format!(
                "boot --arch i386 --machine sparc --kernel {kernel}"
            )),
            "no qemu-system machine is known for sparc",
        ),
        (
            words(&format!(
                "boot --arch x86_64 --kernel {kernel} --firmware {kernel}"
            )),
            "the x86_64 machine boots without firmware",
        ),
        (
            vec!["run".into(), "--duration".into(), "0.0001".into()],
            "shorter than 10 ms",
        ),
        (
            words(&format!(
                "check-image {kernel} --arch x86_64 --config CONFIG_NO_SUCH_THING=y"
            )),
            "no symbol of the x86_64 spec depends on it",
        ),
        (
            words(&format!(
                "check-image {kernel} --arch x86_64 --config CONFIG_X86_SGX=q"
            )),
            "must be y, m or n",
        ),
        (
            vec![
                "summary".into(),
                path(&bench_dir),
                "--html".into(),
                path(&dir.join("page.html")),
            ],
            "bench.json: not a bench report",
        ),
        (
            vec!["spec".into(), "validate".into(), long],
            "more characters]",
        ),
        (
            vec!["spec".into(), "validate".into(), nul],
            "__vdso_\\u{0}time",
        ),
        (
            vec!["spec".into(), "validate".into(), dup.clone()],
            "duplicate mapping key: arch",
        ),
        (
            vec!["spec".into(), "validate".into(), empty_symptom],
            "empty symptom",
        ),
        (
            vec!["spec".into(), "validate".into(), no_such_check],
            "names no check of this spec",
        ),
        (
            vec!["diff".into(), kernel.clone(), fixture("s390x/qemu-10.0.so")],
            "kernel-6.18.so and ",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = vdsoconf_within(&args, Duration::from_secs(20))?;
        one_line_error(&out, needle).map_err(|e| format!("{args:?}: {e}"))?;
        let err = text(&out.stderr);
        if err.len() > 600 || err.contains("Options") {
            return Err(format!(
                "{args:?}: stderr too long or leaks library advice: {}",
                &err[..err.len().min(600)]
            ));
        }
    }
    summary_row_says(&path(&dir.join("utf8")), "not UTF-8")?;
    // A missing wrapper program is named as such, not blamed on vdsoconf.
    let out = Command::new(env!("CARGO_BIN_EXE_vdsoconf"))
        .args(["run", "--filter", "call::"])
        .env("VDSOCONF_CHILD_WRAPPER", "/no/such/qemu-wrapper -L /x")
        .output()
        .map_err(|e| e.to_string())?;
    one_line_error(
        &out,
        "cannot start /no/such/qemu-wrapper (from VDSOCONF_CHILD_WRAPPER)",
    )?;
    // `spec validate` names every bad file, not the first alone.
    let ok = write("ok/x86_64.yaml", spec.as_bytes())?;
    let out = vdsoconf(&["spec", "validate", &dup, &ok, &dir_s]);
    let err = text(&out.stderr);
    if out.status.code() != Some(2)
        || !err.contains("dup/x86_64.yaml")
        || !err.contains("is a directory")
        || !text(&out.stdout).contains("ok  ")
        || !err.contains("2 of 3")
    {
        return Err(format!(
            "spec validate of three files: exit {:?}, stdout {:?}, stderr {err:?}",
            out.status.code(),
            text(&out.stdout)
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Mutants of real images whose symbols cannot all be read, and ones with empty
/// hash tables: `symbols` refuses them, so `check-image` must report an error
/// and `diff` refuse them (the library test covers every fixture; this is the
/// command line).
pub fn check_image_and_diff_refuse_what_symbols_refuses() -> Result<(), String> {
    let dir = scratch("mutants");
    let good = fixture("arm/qemu-10.0-le.so");
    let data = std::fs::read(&good).map_err(|e| e.to_string())?;
    // st_name of dynamic symbol 1 (ELF32: the table's offset is in DT_SYMTAB;
    // found here by the suite's own test helper would be circular, so by bytes:
    // the fixture's symbol table starts at the first 16-byte entry after the
    // null one whose name offset is 1).
    let symtab = symtab_offset_elf32_le(&data).ok_or("no DT_SYMTAB in the fixture")?;
    let mut bad_name = data.clone();
    bad_name[symtab + 16..symtab + 20].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let bad_name_path = dir.join("bad-name.so");
    std::fs::write(&bad_name_path, &bad_name).map_err(|e| e.to_string())?;
    let bad = path(&bad_name_path);
    let symbols = vdsoconf(&["symbols", &bad]);
    one_line_error(&symbols, "bad-name.so")?;
    let check = vdsoconf(&["check-image", "--arch", "arm", "--provider", "qemu", &bad]);
    if check.status.code() != Some(1) || !text(&check.stdout).contains("error[unreadable-symbol]") {
        return Err(format!(
            "check-image of a bad symbol name: exit {:?}\n{}",
            check.status.code(),
            text(&check.stdout)
        ));
    }
    one_line_error(&vdsoconf(&["diff", &good, &bad]), "bad-name.so")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// DT_SYMTAB's value, as a file offset (the vDSO is linked at 0), of a 32-bit
/// little-endian image.
fn symtab_offset_elf32_le(d: &[u8]) -> Option<usize> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(d.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(d.get(o..o + 4)?.try_into().ok()?));
    let (phoff, phnum) = (u32_at(0x1c)? as usize, u16_at(0x2c)? as usize);
    let dynamic = (0..phnum)
        .map(|i| phoff + i * 32)
        .find(|&ph| u32_at(ph) == Some(2))?;
    let (off, size) = (
        u32_at(dynamic + 4)? as usize,
        u32_at(dynamic + 16)? as usize,
    );
    (off..off + size)
        .step_by(8)
        .find(|&e| u32_at(e) == Some(6))
        .and_then(|e| u32_at(e + 4))
        .map(|v| v as usize)
}
