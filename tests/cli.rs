//! The `vdsoconf` command line as users meet it: exit codes, one-line errors, JSON shape.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

fn run_on_live_vdso() -> Result<(), String> {
    let out = vdsoconf(&["run"]);
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    if out.status.code() != Some(0) || !last.contains(" passed, 0 failed, ") {
        return Err(format!("exit {:?}: {stdout}", out.status.code()));
    }
    if !stdout.contains("PASS  x86_64::call::__vdso_clock_gettime@LINUX_2.6")
        && cfg!(target_arch = "x86_64")
    {
        return Err(stdout);
    }
    Ok(())
}

fn run_on_a_fixture_with_the_wrong_provider_fails() -> Result<(), String> {
    let img = fixture("aarch64/qemu-10.0-le.so");
    let ok = vdsoconf(&[
        "run",
        "--arch",
        "aarch64",
        "--provider",
        "qemu",
        "--image",
        &img,
    ]);
    if ok.status.code() != Some(0) {
        return Err(format!("qemu image as qemu: {}", text(&ok.stdout)));
    }
    // Judged as a 6.12 kernel's vDSO, getrandom is missing: exit 1.
    let bad = vdsoconf(&[
        "run", "--arch", "aarch64", "--kernel", "6.12", "--image", &img,
    ]);
    let stdout = text(&bad.stdout);
    if bad.status.code() != Some(1)
        || !stdout.contains("FAIL  aarch64::resolve::__kernel_getrandom@LINUX_2.6.39")
    {
        return Err(format!("exit {:?}: {stdout}", bad.status.code()));
    }
    // QEMU's image is writable and executable: as a kernel's, that is
    // check-image's segment-wx, and run's image::segments fails with it.
    if !stdout.contains("FAIL  aarch64::image::segments") {
        return Err(format!("no image::segments failure: {stdout}"));
    }
    Ok(())
}

fn bad_input_is_one_line_and_exit_2() -> Result<(), String> {
    one_line_error(
        &vdsoconf(&["run", "--arch", "sparc"]),
        "known architectures: aarch64",
    )?;
    one_line_error(&vdsoconf(&["run", "--kernel", "six"]), "--kernel")?;
    one_line_error(
        &vdsoconf(&["symbols", "/nonexistent/vdso.so"]),
        "/nonexistent/vdso.so",
    )?;
    let cargo_toml = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    one_line_error(
        &vdsoconf(&["symbols", &cargo_toml.display().to_string()]),
        "not an ELF image",
    )?;
    let dir = std::env::temp_dir().join(format!("vdsoconf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let image = std::fs::read(fixture("x86_64/qemu-10.0.so")).map_err(|e| e.to_string())?;
    let cut = dir.join("cut.so");
    std::fs::write(&cut, &image[..300]).map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["symbols", &cut.display().to_string()]),
        "cut.so",
    )?;
    let mut corrupt = image.clone();
    corrupt[0x20..0x28].fill(0xff); // e_phoff far outside the file
    let corrupt_path = dir.join("corrupt.so");
    std::fs::write(&corrupt_path, &corrupt).map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["symbols", &corrupt_path.display().to_string()]),
        "program header table",
    )?;
    let bad_spec = dir.join("x86_64.yaml");
    std::fs::write(
        &bad_spec,
        "arch: x86_64\ntitle: t\nelf: {class: 64, colour: red}\n",
    )
    .map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["spec", "validate", &bad_spec.display().to_string()]),
        "x86_64.yaml:3:",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn symbols_json_has_the_documented_shape() -> Result<(), String> {
    let out = vdsoconf(&[
        "symbols",
        &fixture("s390x/qemu-10.0.so"),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let want = serde_json::json!({"soname": "linux-vdso64.so.1", "class": 64, "endian": "big", "machine": 22,
        "hash": {"sysv": true, "gnu": true}});
    for (k, expected) in want.as_object().unwrap() {
        if &v[k] != expected {
            return Err(format!("{k}: {} != {expected}", v[k]));
        }
    }
    let sym = v["symbols"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "__kernel_clock_gettime"))
        .ok_or("no __kernel_clock_gettime")?;
    let keys: Vec<&str> = sym
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    if keys
        != [
            "binding", "hidden", "name", "size", "type", "value", "version",
        ]
        || sym["version"] != "LINUX_2.6.29"
        || sym["binding"] != "GLOBAL"
        || sym["type"] != "FUNC"
        || !sym["value"].is_u64()
    {
        return Err(format!("{sym}"));
    }
    Ok(())
}

fn run_json_lists_each_check_with_its_result() -> Result<(), String> {
    let img = fixture("s390x/qemu-10.0.so");
    let out = vdsoconf(&[
        "run",
        "--arch",
        "s390x",
        "--provider",
        "qemu",
        "--image",
        &img,
        "--format",
        "json",
    ]);
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {}", text(&out.stdout)))?;
    if doc["schema"] != "vdsoconf-results/1" {
        return Err(format!("schema: {}", doc["schema"]));
    }
    let env = &doc["environment"];
    if env["arch"] != "s390x"
        || env["provider"] != "qemu"
        || env["vdso_soname"] != "linux-vdso64.so.1"
    {
        return Err(format!("environment: {env}"));
    }
    let rows = doc["results"].as_array().ok_or("results is not an array")?;
    let row = rows
        .iter()
        .find(|r| r["name"] == "s390x::resolve::__kernel_getcpu@LINUX_2.6.29")
        .ok_or("no resolve row for __kernel_getcpu")?;
    if row["group"] != "resolve"
        || row["result"]["verdict"] != "pass"
        || !row["expectation"].is_string()
    {
        return Err(row.to_string());
    }
    let call = rows
        .iter()
        .find(|r| r["group"] == "call")
        .ok_or("no call row")?;
    if call["result"]["verdict"] != "skip"
        || !call["result"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("image file"))
    {
        return Err(call.to_string());
    }
    if out.status.code() != Some(0) {
        return Err(format!("exit {:?}", out.status.code()));
    }
    Ok(())
}

fn dump_writes_a_readable_image() -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("vdsoconf-dump-{}.so", std::process::id()));
    let p = path.display().to_string();
    let out = vdsoconf(&["dump", "-o", &p]);
    if out.status.code() != Some(0) {
        return Err(text(&out.stderr));
    }
    let listed = vdsoconf(&["symbols", &p]);
    let _ = std::fs::remove_file(&path);
    if listed.status.code() != Some(0) || !text(&listed.stdout).contains("soname linux-") {
        return Err(text(&listed.stdout));
    }
    Ok(())
}

/// A gzip'd kernel (as an `Image.gz`) holding the x86_64 and i386 fixtures:
/// both written, named by their spec; JSON lists them; no vDSO is exit 1 with
/// what was tried; a directory or a missing file is one line and exit 2.
fn extract_names_what_it_writes_and_exits_by_what_it_found() -> Result<(), String> {
    let dir = scratch("extract");
    let kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("extract/fixtures/fake-kernel.gz");
    let kernel = kernel.display().to_string();
    let out_dir = dir.join("out").display().to_string();
    let out = vdsoconf(&["extract", &kernel, "-o", &out_dir]);
    let stdout = text(&out.stdout);
    if out.status.code() != Some(0)
        || !stdout.contains("x86_64.so: linux-vdso.so.1 (64-bit little-endian, machine 62)")
        || !stdout.contains("i386.so: linux-gate.so.1 (32-bit little-endian, machine 3)")
        || !stdout.contains("of the gzip at 0x0 (magic bytes), spec i386")
    {
        return Err(format!(
            "exit {:?}: {stdout}{}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    for spec in ["x86_64", "i386"] {
        let written = format!("{out_dir}/{spec}.so");
        let checked = vdsoconf(&["check-image", &written, "--arch", spec, "--kernel", "6.18"]);
        if checked.status.code() != Some(0) {
            return Err(format!("{written}: {}", text(&checked.stdout)));
        }
    }
    let json = vdsoconf(&["extract", &kernel, "-o", &out_dir, "--format", "json"]);
    let listed: serde_json::Value =
        serde_json::from_slice(&json.stdout).map_err(|e| format!("JSON: {e}"))?;
    let specs: Vec<&str> = listed
        .as_array()
        .ok_or("not a list")?
        .iter()
        .filter_map(|w| w["spec"].as_str())
        .collect();
    if specs != ["x86_64", "i386"] {
        return Err(format!("JSON specs {specs:?}"));
    }
    let nothing = dir.join("not-a-kernel");
    std::fs::write(&nothing, b"plain text, \x1f\x8b\x08 no kernel").map_err(|e| e.to_string())?;
    let none = vdsoconf(&["extract", &nothing.display().to_string(), "-o", &out_dir]);
    let err = text(&none.stderr);
    if none.status.code() != Some(1) || !err.contains("no vDSO found") || err.lines().count() != 1 {
        return Err(format!("no vDSO: exit {:?}, {err:?}", none.status.code()));
    }
    one_line_error(&vdsoconf(&["extract", &out_dir]), "a directory")?;
    one_line_error(
        &vdsoconf(&["extract", "/nonexistent/vmlinuz"]),
        "/nonexistent/vmlinuz",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `history` on the committed history: exit 0, every break explained; on a
/// copy whose manifest puts a 7.2 image before a 6.12 one (a kernel that
/// "removes" symbols): exit 1, the removal named with both kernels.
fn history_finds_unexplained_breaks_and_only_those() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch("history");
    let html = dir.join("history.html").display().to_string();
    let good = vdsoconf(&[
        "history",
        &root.join("history").display().to_string(),
        "--html",
        &html,
    ]);
    let stdout = text(&good.stdout);
    if good.status.code() != Some(0) || !stdout.contains(", 0 unexplained") {
        return Err(format!(
            "history: exit {:?}: {}",
            good.status.code(),
            stdout.lines().last().unwrap_or("")
        ));
    }
    let page = std::fs::read_to_string(&html).map_err(|e| e.to_string())?;
    if !page.contains("<h2>amd64 (cloud-amd64) i386.so (spec i386)</h2>")
        || !page.contains("<h2>amd64 (amd64) x32.so (spec x32)</h2>")
        || !page.contains("__vdso_futex_robust_list32_try_unlock@LINUX_2.6")
    {
        return Err("the HTML page lacks the i386 or the x32 lineage".into());
    }
    // Two x86_64 images, the newer one claiming to be the older kernel.
    let new = "amd64/7.2.13+deb14-cloud-amd64/x86_64.so";
    let old = "amd64/6.12.95+deb12-cloud-amd64/x86_64.so";
    for f in [new, old] {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::copy(root.join("history").join(f), &to).map_err(|e| e.to_string())?;
    }
    let manifest = format!(
        "arch\tsuite\tpackage\tversion\trelease\timage_sha256\tfile\tspec\tsoname\n\
         amd64\tsid\tp\t6.0-1\t7.2.13+deb14-cloud-amd64\t-\t{new}\tx86_64\tlinux-vdso.so.1\n\
         amd64\tbookworm-backports\tp\t6.12.95-1\t6.12.95+deb12-cloud-amd64\t-\t{old}\tx86_64\tlinux-vdso.so.1\n"
    );
    std::fs::write(dir.join("manifest.tsv"), manifest).map_err(|e| e.to_string())?;
    let bad = vdsoconf(&["history", &dir.display().to_string()]);
    let stdout = text(&bad.stdout);
    if bad.status.code() != Some(1)
        || !stdout.contains("break: removed __vdso_futex_robust_list64_try_unlock@LINUX_2.6 between 7.2.13+deb14-cloud-amd64 and 6.12.95+deb12-cloud-amd64: UNEXPLAINED")
    {
        return Err(format!("reordered history: exit {:?}: {stdout}", bad.status.code()));
    }
    std::fs::write(dir.join("manifest.tsv"), "arch\tsuite\n").map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["history", &dir.display().to_string()]),
        "manifest.tsv:1",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// docs/reference.md is what `spec tables` prints: the tables of check groups,
/// kinds and symptoms cannot drift from the code.
fn the_reference_tables_are_current() -> Result<(), String> {
    let out = vdsoconf(&["spec", "tables"]);
    let printed = text(&out.stdout);
    let path = format!("{}/docs/reference.md", env!("CARGO_MANIFEST_DIR"));
    let checked_in = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    if out.status.code() != Some(0) || !printed.contains("| `badptr` |") {
        return Err(format!("spec tables: {}", text(&out.stderr)));
    }
    if printed != checked_in {
        let first = printed
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(printed.lines().count().min(checked_in.lines().count()));
        return Err(format!(
            "docs/reference.md is not what `vdsoconf spec tables` prints (first difference at line {}): \
             run `cargo run -- spec tables > docs/reference.md`",
            first + 1
        ));
    }
    Ok(())
}

/// docs/history.md's table of lineages is what `history --summary` prints for
/// the committed history/.
fn the_history_table_is_current() -> Result<(), String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = vdsoconf(&["history", &format!("{root}/history"), "--summary"]);
    let printed = text(&out.stdout);
    if out.status.code() != Some(0) || !printed.starts_with("| lineage (spec) |") {
        return Err(format!("history --summary: {}", text(&out.stderr)));
    }
    let doc =
        std::fs::read_to_string(format!("{root}/docs/history.md")).map_err(|e| e.to_string())?;
    let block = doc
        .split_once("<!-- history-summary begin")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .and_then(|(_, rest)| rest.split_once("<!-- history-summary end -->"))
        .map(|(block, _)| block)
        .ok_or("docs/history.md has no history-summary block")?;
    if block != printed {
        return Err(
            "docs/history.md's table is not what `vdsoconf history history/ --summary` prints: \
             put the command's output between its markers"
                .into(),
        );
    }
    Ok(())
}

fn spec_commands_work() -> Result<(), String> {
    let list = text(&vdsoconf(&["spec", "list"]).stdout);
    if list.lines().count() < 21 || !list.contains("s390x") {
        return Err(list);
    }
    let show = vdsoconf(&["spec", "show", "riscv64"]);
    if !text(&show.stdout).contains("__vdso_riscv_hwprobe") {
        return Err(text(&show.stdout));
    }
    let validate = vdsoconf(&["spec", "validate"]);
    if validate.status.code() != Some(0) {
        return Err(text(&validate.stderr));
    }
    // The plan: every check of the spec, named as --filter names it, with what
    // the spec expects; a spec file plans as its built-in twin; the same twice.
    let plan = vdsoconf(&["spec", "plan", "x86_64"]);
    let lines = text(&plan.stdout);
    let clock = "x86_64::resolve::__vdso_clock_gettime@LINUX_2.6\t";
    if plan.status.code() != Some(0)
        || lines.lines().count() < 100
        || !lines
            .lines()
            .all(|l| l.starts_with("x86_64::") && l.contains('\t'))
        || !lines.lines().any(|l| l.starts_with(clock))
    {
        return Err(format!("spec plan x86_64: {lines}"));
    }
    let from_file = vdsoconf(&[
        "spec",
        "plan",
        &format!("{}/spec/x86_64.yaml", env!("CARGO_MANIFEST_DIR")),
    ]);
    if from_file.stdout != plan.stdout {
        return Err("spec plan of spec/x86_64.yaml differs from the built-in x86_64".into());
    }
    let all = vdsoconf(&["spec", "plan"]);
    if all.stdout != vdsoconf(&["spec", "plan"]).stdout || !text(&all.stdout).contains("\ns390x::")
    {
        return Err("spec plan of every spec is not one list".into());
    }
    one_line_error(&vdsoconf(&["spec", "plan", "no-such-arch"]), "no-such-arch")?;
    Ok(())
}

fn check_image_and_diff_exit_codes() -> Result<(), String> {
    let kernel = fixture("x86_64/kernel-6.18.so");
    let qemu = fixture("x86_64/qemu-10.0.so");
    let clean = vdsoconf(&[
        "check-image",
        &kernel,
        "--arch",
        "x86_64",
        "--kernel",
        "6.18",
    ]);
    if clean.status.code() != Some(0) || !text(&clean.stdout).contains("0 error(s)") {
        return Err(format!(
            "clean image: {:?} {}",
            clean.status,
            text(&clean.stdout)
        ));
    }
    // QEMU's image judged as a kernel build: its RWX segment is an error.
    let wrong = vdsoconf(&["check-image", &qemu, "--arch", "x86_64", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&wrong.stdout)
        .map_err(|e| format!("{e}: {}", text(&wrong.stdout)))?;
    let wx = doc["findings"]
        .as_array()
        .ok_or("no findings array")?
        .iter()
        .find(|f| f["id"] == "segment-wx")
        .ok_or_else(|| format!("no segment-wx: {doc}"))?;
    if wx["severity"] != "error" || !wx["offset"].is_u64() || wrong.status.code() != Some(1) {
        return Err(format!("{wx} exit {:?}", wrong.status.code()));
    }
    one_line_error(
        &vdsoconf(&[
            "check-image",
            &kernel,
            "--arch",
            "x86_64",
            "--config",
            "VDSO=y",
        ]),
        "CONFIG_",
    )?;
    let cargo_toml = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    one_line_error(
        &vdsoconf(&[
            "check-image",
            &cargo_toml.display().to_string(),
            "--arch",
            "x86_64",
        ]),
        "not an ELF image",
    )?;
    let added = vdsoconf(&["diff", &qemu, &kernel, "--spec", "x86_64"]);
    if added.status.code() != Some(0)
        || !text(&added.stdout).contains("compatible: added __vdso_getrandom@LINUX_2.6")
    {
        return Err(format!(
            "addition: {:?} {}",
            added.status,
            text(&added.stdout)
        ));
    }
    let removed = vdsoconf(&["diff", &kernel, &qemu]);
    if removed.status.code() != Some(1)
        || !text(&removed.stdout).contains("breaking: removed __vdso_getrandom@LINUX_2.6")
    {
        return Err(format!(
            "removal: {:?} {}",
            removed.status,
            text(&removed.stdout)
        ));
    }
    one_line_error(
        &vdsoconf(&["diff", &kernel, &fixture("i386/kernel-6.18.so")]),
        "different architectures",
    )
}

fn run_writes_every_report_format() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("vdsoconf-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let img = fixture("s390x/qemu-10.0.so");
    let args = [
        "run",
        "--arch",
        "s390x",
        "--provider",
        "qemu",
        "--image",
        &img,
    ];
    let out = vdsoconf(&[&args[..], &["--report-dir", &dir.display().to_string()]].concat());
    if out.status.code() != Some(0) {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    for f in [
        "results.json",
        "results.txt",
        "results.ktap",
        "results.junit.xml",
        "report.html",
    ] {
        let body = std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
        if body.is_empty() {
            return Err(format!("{f} is empty"));
        }
    }
    let ktap = std::fs::read_to_string(dir.join("results.ktap")).map_err(|e| e.to_string())?;
    if !ktap.starts_with("KTAP version 1\n") || !ktap.contains("# Totals: pass:") {
        return Err(ktap);
    }
    // --output writes the chosen format to a file; KTAP's exit status is kselftest's:
    // an image file's calls all skip, so a run of only the call group exits 4.
    let file = dir.join("calls.ktap");
    let calls = vdsoconf(
        &[
            &args[..],
            &[
                "--filter",
                "::call::",
                "--format",
                "ktap",
                "--output",
                &file.display().to_string(),
            ],
        ]
        .concat(),
    );
    let body = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    if calls.status.code() != Some(4) || !body.contains("# SKIP") || !calls.stdout.is_empty() {
        return Err(format!("exit {:?}: {body}", calls.status.code()));
    }
    std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
}

/// `vdsoconf ARGS` with its standard output on /dev/full, or closed.
fn with_stdout(args: &str, stdout: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("exec {stdout}; exec \"$0\" {args}",))
        .arg(env!("CARGO_BIN_EXE_vdsoconf"))
        .output()
        .expect("bash runs")
}

fn output_errors_are_one_line_and_exit_2_never_a_panic() -> Result<(), String> {
    for args in [
        "spec list",
        "spec show x86_64",
        "--help",
        "--version",
        "symbols",
    ] {
        let full = with_stdout(args, ">/dev/full");
        one_line_error(&full, "cannot write to standard output")
            .map_err(|e| format!("{args} >/dev/full: {e}"))?;
        let closed = with_stdout(args, ">&-");
        one_line_error(&closed, "standard output is closed")
            .map_err(|e| format!("{args} with stdout closed: {e}"))?;
    }
    // A closed pipe ends it quietly, as for any filter.
    let piped = Command::new("bash")
        .arg("-c")
        .arg("\"$0\" spec show x86_64 | head -c 1 >/dev/null; echo \"${PIPESTATUS[0]}\"")
        .arg(env!("CARGO_BIN_EXE_vdsoconf"))
        .output()
        .expect("bash runs");
    let status = text(&piped.stdout);
    if !text(&piped.stderr).is_empty() || !matches!(status.trim(), "0" | "141") {
        return Err(format!(
            "| head: status {status:?}, stderr {:?}",
            text(&piped.stderr)
        ));
    }
    Ok(())
}

fn a_run_that_checks_nothing_is_not_a_pass() -> Result<(), String> {
    let dir = scratch("nothing-checked");
    let report_dir = dir.join("r");
    let report_dir = report_dir.display().to_string();
    let cases: [&[&str]; 4] = [
        &["run", "--filter", "zzz"],
        &["run", "--filter", "zzz", "--format", "ktap"],
        &["run", "--filter", "zzz", "--format", "json"],
        &["run", "--filter", "zzz", "--report-dir", &report_dir],
    ];
    for args in cases {
        let out = vdsoconf(args);
        let err = text(&out.stderr);
        if out.status.code() != Some(4)
            || !err.contains("nothing was checked")
            || !err.contains("no check was selected")
        {
            return Err(format!(
                "{args:?}: exit {:?}, stderr {err:?}",
                out.status.code()
            ));
        }
    }
    // The page says what the exit status says: not a failure, not a pass.
    let page = std::fs::read_to_string(dir.join("r/report.html")).map_err(|e| e.to_string())?;
    if !page.contains("NOTHING CHECKED") || page.contains("FAIL") || page.contains(">PASS") {
        return Err(format!("report.html does not say NOTHING CHECKED: {page}"));
    }
    // A foreign architecture's live vDSO cannot be checked from here: one line
    // that says how it can be, instead of a run whose every check skips.
    let foreign = if cfg!(target_arch = "aarch64") {
        "x86_64"
    } else {
        "aarch64"
    };
    let out = vdsoconf(&["run", "--arch", foreign]);
    one_line_error(&out, "vdsoconf boot --arch")?;
    one_line_error(&out, "--image FILE")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A kernel developer edits a copy of the spec and passes it with `--spec`: the
/// live checks (in their child processes) and `check-image` judge by the edit,
/// with no rebuild.
fn an_edited_spec_given_with_spec_changes_the_result() -> Result<(), String> {
    let dir = scratch("edited-spec");
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/x86_64.yaml"))
            .map_err(|e| e.to_string())?;
    // MONOTONIC moved from the served clocks to the fallback ones.
    let edited = original
        .replacen(
            "  served: [REALTIME, MONOTONIC, ",
            "  served: [REALTIME, ",
            1,
        )
        .replacen("  fallback: [", "  fallback: [MONOTONIC, ", 1);
    if edited == original {
        return Err("spec/x86_64.yaml no longer has the served line this test edits".into());
    }
    let file = dir.join("x86_64.yaml");
    std::fs::write(&file, &edited).map_err(|e| e.to_string())?;
    let file = file.display().to_string();
    if cfg!(target_arch = "x86_64") {
        let served = "served::__vdso_clock_gettime@";
        let before = vdsoconf(&["run", "--filter", served]);
        let after = vdsoconf(&["run", "--spec", &file, "--filter", served]);
        let after_dir = vdsoconf(&[
            "run",
            "--spec",
            &dir.display().to_string(),
            "--filter",
            served,
        ]);
        if before.status.code() != Some(0) {
            return Err(format!("built-in spec: {}", text(&before.stdout)));
        }
        for out in [&after, &after_dir] {
            if out.status.code() != Some(1)
                || !text(&out.stdout)
                    .contains("MONOTONIC (1): served in user space, the spec says it falls back")
            {
                return Err(format!(
                    "edited spec: exit {:?}\n{}{}",
                    out.status.code(),
                    text(&out.stdout),
                    text(&out.stderr)
                ));
            }
        }
    }
    // check-image takes the architecture from the file.
    let without_time = original
        .replacen("name: __vdso_time", "name: __vdso_timex", 1)
        .replacen("time_t __vdso_time(", "time_t __vdso_timex(", 1);
    let spec_dir = dir.join("no-time");
    std::fs::create_dir_all(&spec_dir).map_err(|e| e.to_string())?;
    std::fs::write(spec_dir.join("x86_64.yaml"), without_time).map_err(|e| e.to_string())?;
    let check = vdsoconf(&[
        "check-image",
        &fixture("x86_64/kernel-6.18.so"),
        "--kernel",
        "6.18",
        "--spec",
        &spec_dir.join("x86_64.yaml").display().to_string(),
    ]);
    if check.status.code() != Some(1)
        || !text(&check.stdout).contains("error[unknown-symbol] __vdso_time@LINUX_2.6")
    {
        return Err(format!(
            "check-image --spec: exit {:?}\n{}{}",
            check.status.code(),
            text(&check.stdout),
            text(&check.stderr)
        ));
    }
    // A spec for another architecture than --arch is refused in one line.
    one_line_error(
        &vdsoconf(&["run", "--arch", "i386", "--spec", &file]),
        "the spec is for x86_64, not --arch i386",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() {
    let tests: &[CliTest] = &[
        (
            "an_edited_spec_given_with_spec_changes_the_result",
            an_edited_spec_given_with_spec_changes_the_result,
        ),
        (
            "a_run_that_checks_nothing_is_not_a_pass",
            a_run_that_checks_nothing_is_not_a_pass,
        ),
        (
            "output_errors_are_one_line_and_exit_2_never_a_panic",
            output_errors_are_one_line_and_exit_2_never_a_panic,
        ),
        (
            "run_writes_every_report_format",
            run_writes_every_report_format,
        ),
        (
            "check_image_and_diff_exit_codes",
            check_image_and_diff_exit_codes,
        ),
        ("run_on_live_vdso", run_on_live_vdso),
        (
            "run_on_a_fixture_with_the_wrong_provider_fails",
            run_on_a_fixture_with_the_wrong_provider_fails,
        ),
        (
            "bad_input_is_one_line_and_exit_2",
            bad_input_is_one_line_and_exit_2,
        ),
        (
            "symbols_json_has_the_documented_shape",
            symbols_json_has_the_documented_shape,
        ),
        (
            "run_json_lists_each_check_with_its_result",
            run_json_lists_each_check_with_its_result,
        ),
        ("dump_writes_a_readable_image", dump_writes_a_readable_image),
        ("spec_commands_work", spec_commands_work),
        (
            "the_reference_tables_are_current",
            the_reference_tables_are_current,
        ),
        ("the_history_table_is_current", the_history_table_is_current),
        (
            "history_finds_unexplained_breaks_and_only_those",
            history_finds_unexplained_breaks_and_only_those,
        ),
        (
            "extract_names_what_it_writes_and_exits_by_what_it_found",
            extract_names_what_it_writes_and_exits_by_what_it_found,
        ),
    ];
    run_tests("cli", tests);
}
