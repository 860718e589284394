//! The matrix summary read from a results directory as runners/qemu/matrix writes it.

use std::path::Path;
use vdsoconf_reports::matrix::{read_dir, render_text, RowState};
use vdsoconf_reports::{CaseResult, Environment, RunReport};
use vdsoconf_suite::checks::CheckResult;

fn env(arch: &str, vdso_present: bool) -> Environment {
    Environment {
        arch: arch.into(),
        provider: "qemu".into(),
        build_target: "test".into(),
        machine: None,
        kernel_release: None,
        kernel: None,
        source: "live".into(),
        vdso_present: Some(vdso_present),
        vdso_soname: None,
        vdso_build_id: None,
        clocksource: None,
        cpus: Some(2),
    }
}

fn case(group: &str, result: CheckResult) -> CaseResult {
    CaseResult {
        name: format!("a::{group}::x"),
        group: group.into(),
        expectation: "e".into(),
        result,
        duration_us: 0,
    }
}

fn write_target(dir: &Path, name: &str, info: &str, report: Option<&RunReport>) {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("target.json"), info).unwrap();
    if let Some(r) = report {
        std::fs::write(d.join("results.json"), r.to_json()).unwrap();
    }
}

#[test]
fn rows_cells_and_verdicts() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-matrix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let passing = RunReport::new(
        env("aarch64", true),
        vec![
            case("resolve", CheckResult::pass()),
            case("resolve", CheckResult::skip("absent")),
            case("call", CheckResult::pass()),
        ],
    );
    let failing = RunReport::new(
        env("arm", true),
        vec![case("badptr", CheckResult::fail("returned 0"))],
    );
    let no_vdso = RunReport::new(
        env("mips-n64", false),
        vec![
            case(
                "vdso",
                CheckResult::pass().with_notes(vec![
                    "no vDSO, as the spec says for qemu (qemu-user gives MIPS guests no vDSO)"
                        .into(),
                ]),
            ),
            case("resolve", CheckResult::skip("no vDSO")),
        ],
    );
    write_target(
        &dir,
        "aarch64",
        r#"{"target":"aarch64","runner":"qemu-aarch64","exit":0}"#,
        Some(&passing),
    );
    write_target(
        &dir,
        "armv7",
        r#"{"target":"armv7","runner":"qemu-arm","exit":1}"#,
        Some(&failing),
    );
    write_target(
        &dir,
        "mips64el",
        r#"{"target":"mips64el","runner":"qemu-mips64el","exit":0}"#,
        Some(&no_vdso),
    );
    write_target(
        &dir,
        "sparc64",
        r#"{"target":"sparc64","runner":"qemu-sparc64","not_built":"no std"}"#,
        None,
    );
    write_target(
        &dir,
        "s390x",
        r#"{"target":"s390x","runner":"qemu-s390x","error":"build failed: error[E0432]"}"#,
        None,
    );
    write_target(
        &dir,
        "crashed",
        r#"{"target":"crashed","runner":"native","exit":139}"#,
        None,
    );
    std::fs::create_dir_all(dir.join("not-a-target")).unwrap();

    let rows = read_dir(&dir).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.info.target.as_str()).collect();
    assert_eq!(
        names,
        ["aarch64", "armv7", "crashed", "mips64el", "s390x", "sparc64"]
    );
    let states: Vec<RowState> = rows.iter().map(|r| r.state()).collect();
    assert_eq!(states[0], RowState::Pass);
    assert!(matches!(&states[1], RowState::Fail(w) if w == "1 failed"));
    assert!(
        matches!(&states[2], RowState::Fail(w) if w.contains("no results.json") && w.contains("139"))
    );
    assert!(
        matches!(&states[3], RowState::NoVdsoAsSpecified(said) if said.contains("qemu-user gives MIPS guests no vDSO")),
        "{:?}",
        states[3]
    );
    assert!(matches!(&states[4], RowState::Fail(w) if w.starts_with("build failed")));
    assert_eq!(states[5], RowState::NotBuilt("no std".into()));

    let text = render_text(&rows);
    let aarch64 = text.lines().find(|l| l.starts_with("aarch64")).unwrap();
    // resolve: 1 passed, 0 failed, 1 skipped; call: 1/0/0; groups with no checks: '-'.
    assert!(
        aarch64.contains("1/0/1") && aarch64.contains("1/0/0"),
        "{aarch64}"
    );
    assert!(aarch64.trim_end().ends_with("PASS"), "{aarch64}");
    assert!(text.contains("NOT BUILT (no std)"), "{text}");
    // And again below the table, where a reader of a long log looks.
    assert!(
        text.contains("!!! 1 target(s) NOT BUILT, each with its reason")
            && text.contains("!!!   sparc64: no std\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "PASS (no vDSO, as the spec says for qemu (qemu-user gives MIPS guests no vDSO))"
        ),
        "{text}"
    );
    let header = text.lines().next().unwrap();
    for col in [
        "resolve",
        "call",
        "cross-check",
        "monotonic",
        "bad-pointer",
        "served/fallback",
    ] {
        assert!(header.contains(col), "{header}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_directory_is_an_error() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-matrix-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(read_dir(&dir).unwrap_err().contains("no target results"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reports_round_trip_and_other_schemas_are_refused() {
    let r = RunReport::new(
        env("x86_64", true),
        vec![case("call", CheckResult::skip("why"))],
    );
    assert_eq!(RunReport::from_json(&r.to_json()).unwrap(), r);
    let other = r
        .to_json()
        .replace("vdsoconf-results/1", "vdsoconf-results/9");
    assert!(RunReport::from_json(&other)
        .unwrap_err()
        .contains("vdsoconf-results/9"));
    assert!(RunReport::from_json("[]")
        .unwrap_err()
        .contains("not a vdsoconf report"));
}

#[test]
fn a_row_built_with_a_fallback_toolchain_says_so_below_the_table() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-fallback-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let report = RunReport::new(env("i386", true), vec![case("call", CheckResult::pass())]);
    write_target(
        &dir,
        "i686",
        r#"{"target": "i686", "runner": "native", "toolchain": "rustc 1.97.1 (debian-sid)",
            "toolchain_fallback": "debian-web: libstd-rust-web-dev:i386 (trixie): Hash Sum mismatch", "exit": 0}"#,
        Some(&report),
    );
    write_target(
        &dir,
        "aarch64",
        r#"{"target": "aarch64", "runner": "qemu-aarch64", "toolchain": "rustc 1.96.0 (debian-web)", "exit": 0}"#,
        Some(&report),
    );
    write_target(
        &dir,
        "sparc64",
        r#"{"target": "sparc64", "runner": "qemu-sparc64 (C probe)", "probe_only": "no std for sparc64", "exit": 0}"#,
        Some(&report),
    );
    let text = render_text(&read_dir(&dir).unwrap());
    assert!(
        text.contains("!!! 1 target(s) checked by the C probe only")
            && text.contains("!!!   sparc64: no std for sparc64\n"),
        "{text}"
    );
    assert!(
        text.contains("!!! 1 target(s) built with a FALLBACK toolchain")
            && text.contains("!!!   i686: rustc 1.97.1 (debian-sid): debian-web: libstd-rust-web-dev:i386 (trixie): Hash Sum mismatch\n"),
        "{text}"
    );
    assert!(!text.contains("!!!   aarch64"), "{text}");
    assert!(!text.contains("NOT BUILT,"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_result_lands_in_one_column_even_of_a_group_no_column_names() {
    use vdsoconf_reports::matrix::{columns, group_counts};
    let groups = [
        "vdso",
        "image",
        "resolve",
        "call",
        "crosscheck",
        "monotonic",
        "badptr",
        "served",
        "timens",
        "trampoline",
        "inventory",
        "a-group-added-later",
    ];
    let report = RunReport::new(
        env("x86_64", true),
        groups
            .iter()
            .map(|g| case(g, CheckResult::pass()))
            .collect(),
    );
    let per_column: Vec<usize> = columns()
        .iter()
        .map(|(_, g)| group_counts(&report, g).pass)
        .collect();
    assert_eq!(
        per_column.iter().sum::<usize>(),
        groups.len(),
        "{per_column:?}"
    );
    // The catch-all holds the groups no column names, the new one included.
    assert_eq!(per_column.last(), Some(&6), "{per_column:?}");
}

/// The page groups rows by architecture, the qemu-user row before the kernels
/// booted for it, and every cell opens the checks behind its counts: a failed
/// row's result opens its failing check, with the message and notes.
#[test]
fn the_page_opens_each_cell_on_its_checks() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-drill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let named = |name: &str, group: &str, result: CheckResult| CaseResult {
        name: name.into(),
        ..case(group, result)
    };
    let user = RunReport::new(
        env("aarch64", true),
        vec![named("aarch64::call::f", "call", CheckResult::pass())],
    );
    let mut failing = CheckResult::fail("returned 0 for a bad pointer");
    failing.notes = vec!["the syscall answered EFAULT".into()];
    let kernel = RunReport::new(
        env("aarch64", true),
        vec![
            named("aarch64::call::f", "call", CheckResult::pass()),
            named("aarch64::badptr::f::ts=null", "badptr", failing),
            named(
                "aarch64::badptr::f::ts=kernel",
                "badptr",
                CheckResult::skip("absent <here>"),
            ),
        ],
    );
    let x86 = RunReport::new(
        env("x86_64", true),
        vec![named("x86_64::call::g", "call", CheckResult::pass())],
    );
    write_target(
        &dir,
        "aarch64-kernel-7.2",
        r#"{"target":"aarch64-kernel-7.2","runner":"qemu-system (Image)","exit":1}"#,
        Some(&kernel),
    );
    write_target(
        &dir,
        "aarch64",
        r#"{"target":"aarch64","runner":"qemu-aarch64","exit":0}"#,
        Some(&user),
    );
    write_target(
        &dir,
        "x86_64",
        r#"{"target":"x86_64","runner":"native","exit":0}"#,
        Some(&x86),
    );
    write_target(
        &dir,
        "armv7",
        r#"{"target":"armv7","runner":"qemu-arm","not_built":"no std"}"#,
        None,
    );
    let rows = read_dir(&dir).unwrap();
    let page = vdsoconf_reports::html::render("t", &rows, None);
    std::fs::remove_dir_all(&dir).unwrap();

    let pos = |s: &str| {
        page.find(s)
            .unwrap_or_else(|| panic!("{s} not in the page"))
    };
    assert!(pos(">aarch64</th>") < pos("<td class=\"name\">aarch64</td>"));
    assert!(
        pos("<td class=\"name\">aarch64</td>") < pos("<td class=\"name\">aarch64-kernel-7.2</td>")
    );
    assert!(pos("<td class=\"name\">aarch64-kernel-7.2</td>") < pos(">armv7</th>"));
    assert!(pos(">armv7</th>") < pos(">x86_64</th>"));
    // Every non-empty cell is a <details>: 1 call cell per row with a report,
    // the kernel row's bad-pointer cell and its FAIL result.
    assert_eq!(page.matches("<details>").count(), 3 + 1 + 1, "{page}");
    let result = &page[pos("<summary>FAIL (1 failed)</summary>")..];
    let result = &result[..result.find("</details>").unwrap()];
    assert!(
        result.contains(
            "<code>aarch64::badptr::f::ts=null</code> FAIL: returned 0 for a bad pointer"
        ),
        "{result}"
    );
    assert!(
        result.contains("note: the syscall answered EFAULT"),
        "{result}"
    );
    assert!(
        !result.contains("ts=kernel"),
        "only the failures open from the result: {result}"
    );
    let cell = &page[pos("<summary>0/1/1</summary>")..];
    let cell = &cell[..cell.find("</details>").unwrap()];
    assert!(
        cell.find("ts=null").unwrap() < cell.find("ts=kernel").unwrap(),
        "failures first"
    );
    assert!(
        cell.contains("SKIP: absent &lt;here&gt;"),
        "escaped: {cell}"
    );
}

/// A row whose checks saw only known bugs passes; its cells and page say how
/// many were XFAIL and XPASS, and each opens on them with the reason.
#[test]
fn xfail_and_xpass_are_counted_in_the_cells_and_shown_on_the_page() {
    use vdsoconf_suite::checks::Verdict;
    let dir = std::env::temp_dir().join(format!("vdsoconf-xfail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let expected = |verdict: Verdict| CheckResult {
        verdict,
        ..CheckResult::pass()
    };
    let known = RunReport::new(
        env("x86_64", true),
        vec![
            case("crosscheck", CheckResult::pass()),
            case(
                "crosscheck",
                expected(Verdict::Xfail {
                    reason: "known kernel bug <aux>".into(),
                }),
            ),
            case(
                "crosscheck",
                expected(Verdict::Xpass {
                    reason: "expected deviation not observed".into(),
                }),
            ),
        ],
    );
    let only_xfail = RunReport::new(
        env("i386", true),
        vec![case(
            "crosscheck",
            expected(Verdict::Xfail {
                reason: "known kernel bug".into(),
            }),
        )],
    );
    let info = |t: &str| format!(r#"{{"target":"{t}","runner":"native","exit":0}}"#);
    write_target(&dir, "x86_64", &info("x86_64"), Some(&known));
    write_target(&dir, "i686", &info("i686"), Some(&only_xfail));
    let rows = read_dir(&dir).unwrap();
    let page = vdsoconf_reports::html::render("t", &rows, None);
    std::fs::remove_dir_all(&dir).unwrap();
    for row in &rows {
        assert_eq!(row.state(), RowState::Pass, "{}", row.info.target);
    }
    let text = render_text(&rows);
    assert!(text.contains("1/0/0 +1 xfail +1 xpass"), "{text}");
    assert!(text.contains("0/0/0 +1 xfail"), "{text}");
    assert!(
        text.contains("+N xfail (ran and saw only a known bug"),
        "{text}"
    );
    // The cell is a pass (green), and opens xpass, then xfail, then the pass.
    let cell = "<td class=\"pass\"><details><summary>1/0/0 +1 xfail +1 xpass</summary>";
    let at = page.find(cell).expect("the x86_64 cell");
    let x86 = &page[at..at + page[at..].find("</td>").unwrap()];
    let pos = |s: &str| x86.find(s).unwrap_or_else(|| panic!("{s} not in {x86}"));
    assert!(pos("<li class=\"xpass\">") < pos("<li class=\"xfail\">"));
    assert!(pos("<li class=\"xfail\">") < pos("<li class=\"pass\">"));
    assert!(page.contains("XFAIL: known kernel bug &lt;aux&gt;"));
    assert!(page.contains("XPASS: expected deviation not observed"));
}

/// `summary --timings`: each row's fetch, build and run seconds from
/// target.json, its checks' seconds from the results (per column), the rest of
/// the run, the sums, and the shared setup from setup.json.
#[test]
fn timings_say_where_each_rows_seconds_went() {
    use vdsoconf_reports::timings::{read_setup, render};
    let dir = std::env::temp_dir().join(format!("vdsoconf-timings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let timed = |group: &str, seconds: u64| CaseResult {
        duration_us: seconds * 1_000_000,
        ..case(group, CheckResult::pass())
    };
    let kernel = RunReport::new(
        env("aarch64", true),
        vec![timed("monotonic", 9), timed("badptr", 20), timed("call", 1)],
    );
    let user = RunReport::new(env("aarch64", true), vec![timed("badptr", 4)]);
    write_target(
        &dir,
        "aarch64-kernel-7.2",
        r#"{"target":"aarch64-kernel-7.2","runner":"qemu-system","exit":0,"fetch_s":3,"run_s":75}"#,
        Some(&kernel),
    );
    write_target(
        &dir,
        "aarch64",
        r#"{"target":"aarch64","runner":"qemu-aarch64","exit":0,"fetch_s":1,"build_s":120,"run_s":6}"#,
        Some(&user),
    );
    std::fs::write(
        dir.join("setup.json"),
        r#"{"host_build_s": 40, "qemu_user_s": 2, "cross_gcc_s": 0, "qemu_system_s": 5, "bench_s": 7, "total_s": 900}"#,
    )
    .unwrap();
    let rows = read_dir(&dir).unwrap();
    let setup = read_setup(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = render(&rows, setup.as_ref());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("shared: host build 40 s, qemu-user 2 s"),
        "{text}"
    );
    assert!(lines[0].ends_with("the matrix took 900 s in all, rows side by side"));
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    let row = |name: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(name)).unwrap();
        l.split_whitespace().map(str::to_string).collect()
    };
    let cell = |r: &[String], col: &str| r[header.iter().position(|h| *h == col).unwrap()].clone();
    let k = row("aarch64-kernel-7.2");
    assert_eq!(
        [
            "fetch",
            "build",
            "run",
            "checks",
            "rest",
            "monotonic",
            "bad-pointer",
            "call"
        ]
        .map(|c| cell(&k, c)),
        ["3", "-", "75", "30", "45", "9", "20", "1"]
    );
    let sum = row("(sum)");
    assert_eq!(
        ["fetch", "build", "run", "checks", "rest", "bad-pointer"].map(|c| cell(&sum, c)),
        ["4", "120", "81", "34", "47", "24"]
    );
    // Without setup.json (an older run), no shared line.
    assert!(render(&rows, None).starts_with("target "));
}

#[test]
fn a_kernel_row_names_the_clocksource_its_vdso_read_and_a_qemu_row_does_not() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-matrix-cs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut kernel = env("x86_64", true);
    kernel.provider = "kernel".into();
    kernel.clocksource = Some("hpet".into());
    let mut qemu = env("ppc32", true);
    // The host's, seen through qemu-user: nothing to do with QEMU's vDSO.
    qemu.clocksource = Some("tsc".into());
    for (name, runner, e) in [
        (
            "x86_64-kernel-6.12-hpet",
            "qemu-system (vmlinuz-6.12)",
            kernel,
        ),
        ("powerpc", "qemu-ppc", qemu),
    ] {
        let r = RunReport::new(e, vec![case("call", CheckResult::pass())]);
        write_target(
            &dir,
            name,
            &format!(r#"{{"target":"{name}","runner":"{runner}","exit":0}}"#),
            Some(&r),
        );
    }
    let rows = read_dir(&dir).unwrap();
    let text = render_text(&rows);
    assert!(
        text.contains("qemu-system (vmlinuz-6.12), clocksource hpet"),
        "{text}"
    );
    let ppc = text.lines().find(|l| l.starts_with("powerpc")).unwrap();
    assert!(!ppc.contains("clocksource"), "{ppc}");
    let html = vdsoconf_reports::html::render("matrix", &rows, None);
    assert!(html.contains("clocksource hpet"));
    std::fs::remove_dir_all(&dir).unwrap();
}
