//! `vdsoconf fuzz-live` and the `fuzz` checks against a fake vDSO with bugs
//! the conformance checks do not enumerate (tests/fake-vdso/, built here
//! with the host's C compiler; x86_64 only, its functions make x86_64 system
//! calls), and against this machine's own vDSO, where the fuzzer must see the
//! same recorded kernel bugs as the enumerating checks do.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fake vDSO, built once per test process.
fn fake_vdso() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-vdso");
    let out = std::env::temp_dir().join(format!("vdsoconf-fake-vdso-{}.so", std::process::id()));
    if out.is_file() {
        return Ok(out);
    }
    let built = Command::new("cc")
        .args([
            "-O2",
            "-fPIC",
            "-shared",
            "-nostdlib",
            "-fno-stack-protector",
        ])
        .args(["-fno-asynchronous-unwind-tables", "-Wl,--hash-style=both"])
        .arg(format!("-Wl,-T,{}", dir.join("fake-vdso.lds").display()))
        .arg("-Wl,-soname=linux-vdso.so.1")
        .arg("-o")
        .arg(&out)
        .arg(dir.join("fake-vdso.c"))
        .output()
        .map_err(|e| format!("cc (needed to build the fake vDSO): {e}"))?;
    if !built.status.success() {
        return Err(format!("building the fake vDSO: {}", text(&built.stderr)));
    }
    Ok(out)
}

/// Each finding's `simplest:` call, as printed.
fn simplest_calls(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("simplest:"))
        .map(|c| c.trim().to_string())
        .collect()
}

/// The default run (the `fuzz` checks' count, seed 1) finds each of the four
/// bugs, each shrunk to a call that shows just it, and nothing else.
fn the_fake_vdsos_bugs_are_found_and_shrunk() -> Result<(), String> {
    let fake = fake_vdso()?;
    let out_dir = scratch("fuzz-fake");
    let run = |dir: &Path| {
        vdsoconf(&[
            "fuzz-live",
            "--load-vdso",
            &fake.display().to_string(),
            "--out",
            &dir.display().to_string(),
        ])
    };
    let out = run(&out_dir);
    let stdout = text(&out.stdout);
    if out.status.code() != Some(1) {
        return Err(format!(
            "exit {:?} (1: findings): {stdout}{}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    let calls = simplest_calls(&stdout);
    let has = |what: &str, pred: &dyn Fn(&str) -> bool| {
        if calls.iter().any(|c| pred(c)) {
            Ok(())
        } else {
            Err(format!(
                "bug not found: {what}; findings: {calls:#?}\n{stdout}"
            ))
        }
    };
    has("another thread's CPU clock rejected", &|c| {
        c.starts_with("__vdso_clock_gettime@LINUX_2.6 clock=thread-cpu:live-thread:")
    })?;
    has("clock ids 40-47 answered by clock_getres", &|c| {
        c.starts_with("__vdso_clock_getres@LINUX_2.6 clock=4")
            && c.split_whitespace()
                .nth(1)
                .and_then(|a| a.strip_prefix("clock="))
                .and_then(|n| n.parse::<i32>().ok())
                .is_some_and(|n| (40..=47).contains(&n))
    })?;
    // A CPU clock id of type 3 without the thread bit is an fd clock too (of
    // the fd numbered as the pid: one not open here).
    let closed_fd = |c: &str| {
        c.starts_with("__vdso_clock_getres@LINUX_2.6 clock=fd:closed ")
            || (c.starts_with("__vdso_clock_getres@LINUX_2.6 clock=cpu:") && c.contains(":3 "))
    };
    has("a closed fd's clock crashes clock_getres", &|c| {
        closed_fd(c) && c.ends_with(" res=valid")
    })?;
    has(
        "getrandom one byte short for 257-511 bytes with GRND_NONBLOCK",
        &|c| c.starts_with("__vdso_getrandom@LINUX_2.6 len=257 flags=0x1 "),
    )?;
    // Where this machine allows time namespaces (the calls that need one are
    // otherwise counted as not made, saying why).
    let namespaces = !stdout.contains("CAP_SYS_ADMIN") && !stdout.contains("no time namespaces");
    if namespaces {
        has("BOOTTIME read from MONOTONIC, in a time namespace", &|c| {
            c.starts_with("__vdso_clock_gettime@LINUX_2.6 clock=BOOTTIME timens=")
        })?;
    }
    // Which path each took: the fake serves ids 40-47 itself, and makes its
    // system call for getrandom.
    let path_after = |simplest: &str| {
        let at = stdout.find(simplest)?;
        stdout[at..]
            .lines()
            .find_map(|l| l.trim().strip_prefix("path:"))
            .map(str::trim)
    };
    let served = path_after("__vdso_clock_getres@LINUX_2.6 clock=4");
    let fell_back = path_after("__vdso_getrandom@LINUX_2.6 len=257 flags=0x1 ");
    if !served.is_some_and(|p| p.starts_with("served in user space"))
        || !fell_back.is_some_and(|p| p.starts_with("fell back"))
    {
        return Err(format!("paths: {served:?}, {fell_back:?}\n{stdout}"));
    }
    if !stdout.contains("[call-crashed]")
        || !stdout.contains("the call killed its process with SIGSEGV")
    {
        return Err(format!("the crash is not reported as one: {stdout}"));
    }
    // Nothing the fake does right is reported: every finding is one of its
    // bugs (the crash is seen with a valid and with a NULL timespec; BOOTTIME
    // read from MONOTONIC shows in a time namespace, or on a machine that slept).
    let known = |c: &str| {
        c.starts_with("__vdso_clock_gettime@LINUX_2.6 clock=thread-cpu:live-thread:")
            || c.starts_with("__vdso_clock_gettime@LINUX_2.6 clock=BOOTTIME ")
            || c.starts_with("__vdso_clock_getres@LINUX_2.6 clock=4")
            || closed_fd(c)
            || c.starts_with("__vdso_getrandom@LINUX_2.6 len=257 flags=0x1 ")
    };
    if let Some(other) = calls.iter().find(|c| !known(c)) {
        return Err(format!(
            "a finding the fake's bugs do not explain: {other}\n{stdout}"
        ));
    }
    // The same seed and count print the same, call for call (what a call
    // observed holds readings of clocks, which move on).
    let again = run(&scratch("fuzz-fake-again"));
    let calls_only = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("observed:"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    if calls_only(&text(&again.stdout).replace("fuzz-fake-again", "fuzz-fake"))
        != calls_only(&stdout)
    {
        return Err(format!(
            "a second run printed otherwise:\n{stdout}\n---\n{}",
            text(&again.stdout)
        ));
    }
    Ok(())
}

/// `--replay` of a printed call makes that call and finds the same bug; the
/// reproducer, compiled, disagrees too (exit 1) against the fake and agrees
/// (exit 0) on a call the fake gets right.
fn a_finding_replays_and_its_reproducer_disagrees() -> Result<(), String> {
    let fake = fake_vdso()?.display().to_string();
    let dir = scratch("fuzz-replay");
    let replay = |call: &str| {
        vdsoconf(&[
            "fuzz-live",
            "--load-vdso",
            &fake,
            "--out",
            &dir.display().to_string(),
            "--replay",
            call,
        ])
    };
    let bug = replay("__vdso_getrandom len=300 flags=0x1 state=reused buf=valid");
    let said = text(&bug.stdout);
    if bug.status.code() != Some(1) || !said.contains("FINDING [result-differs]") {
        return Err(format!(
            "exit {:?}: {said}{}",
            bug.status.code(),
            text(&bug.stderr)
        ));
    }
    let fine = replay("__vdso_getrandom len=300 flags=0x0 state=reused buf=valid");
    if fine.status.code() != Some(0) || !text(&fine.stdout).contains("agrees with the system call")
    {
        return Err(format!(
            "exit {:?}: {}",
            fine.status.code(),
            text(&fine.stdout)
        ));
    }
    let source = dir.join("finding-1-__vdso_getrandom.c");
    let binary = dir.join("repro");
    let cc = Command::new("cc")
        .args(["-O0", "-w", "-o"])
        .arg(&binary)
        .arg(&source)
        .arg("-lpthread")
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !cc.status.success() {
        return Err(format!(
            "the reproducer does not compile: {}",
            text(&cc.stderr)
        ));
    }
    let repro = Command::new(&binary)
        .arg(&fake)
        .output()
        .map_err(|e| e.to_string())?;
    let shown = text(&repro.stdout);
    if repro.status.code() != Some(1)
        || !shown.contains("syscall getrandom: 300")
        || !shown.contains("vDSO __vdso_getrandom: 299")
    {
        return Err(format!(
            "reproducer: exit {:?}: {shown}",
            repro.status.code()
        ));
    }
    Ok(())
}

/// Bad calls and options are one-line errors (exit 2).
fn bad_replays_and_options_are_one_line_errors() -> Result<(), String> {
    one_line_error(
        &vdsoconf(&["fuzz-live", "--replay", "__vdso_nothing clock=1"]),
        "no symbol __vdso_nothing",
    )?;
    one_line_error(
        &vdsoconf(&[
            "fuzz-live",
            "--replay",
            "__vdso_clock_gettime clock=cpu:nobody:prof",
        ]),
        "an unknown process",
    )?;
    one_line_error(
        &vdsoconf(&["fuzz-live", "--load-vdso", "/nonexistent.so"]),
        "/nonexistent.so",
    )?;
    let not_elf = scratch("fuzz-not-elf").join("not-elf.so");
    std::fs::write(&not_elf, "not an ELF file\n").map_err(|e| e.to_string())?;
    one_line_error(
        &vdsoconf(&["fuzz-live", "--load-vdso", &not_elf.display().to_string()]),
        "not an ELF image",
    )?;
    one_line_error(
        &vdsoconf(&["fuzz-live", "--image", "/bin/sh"]),
        "cannot be called",
    )?;
    Ok(())
}

/// On this machine the fuzzer sees, by itself, each recorded kernel bug the
/// enumerating cross-checks see (XFAIL there: the aux-clock clock_getres and
/// the getrandom flags bugs on the kernels that have them), and finds nothing
/// the spec does not record.
fn on_this_machine_the_fuzzer_sees_the_recorded_bugs_the_checks_see() -> Result<(), String> {
    let checks = vdsoconf(&["run", "--filter", "crosscheck::", "--fuzz-calls", "0"]);
    let fuzz = vdsoconf(&["run", "--filter", "fuzz::"]);
    let (checks, fuzz_out) = (text(&checks.stdout), text(&fuzz.stdout));
    if fuzz.status.code() != Some(0) {
        return Err(format!("the fuzz checks failed here: {fuzz_out}"));
    }
    for line in checks.lines().filter(|l| l.starts_with("XFAIL ")) {
        // XFAIL ARCH::crosscheck::SYMBOL: known kernel bug ...: DESCRIPTION
        let name = line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .trim_end_matches(':');
        let fuzzed = name.replace("::crosscheck::", "::fuzz::");
        let described = line.rsplit(": ").next().unwrap_or("");
        let seen = fuzz_out
            .lines()
            .any(|l| l.starts_with(&format!("XFAIL {fuzzed}:")) && l.contains(described));
        if !seen {
            return Err(format!(
                "{name} shows a recorded bug ({described}); {fuzzed} did not:\n{fuzz_out}"
            ));
        }
    }
    Ok(())
}

fn main() {
    let mut tests: Vec<CliTest> = vec![
        (
            "bad_replays_and_options_are_one_line_errors",
            bad_replays_and_options_are_one_line_errors,
        ),
        (
            "on_this_machine_the_fuzzer_sees_the_recorded_bugs_the_checks_see",
            on_this_machine_the_fuzzer_sees_the_recorded_bugs_the_checks_see,
        ),
    ];
    if cfg!(target_arch = "x86_64") {
        tests.push((
            "the_fake_vdsos_bugs_are_found_and_shrunk",
            the_fake_vdsos_bugs_are_found_and_shrunk,
        ));
        tests.push((
            "a_finding_replays_and_its_reproducer_disagrees",
            a_finding_replays_and_its_reproducer_disagrees,
        ));
    }
    run_tests("fuzz_live", &tests);
}
