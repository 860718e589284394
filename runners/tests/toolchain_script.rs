//! runners/qemu/toolchain.sh refuses a standard library built by another compiler,
//! naming both versions (checked with a fake compiler and fake rlibs).

use std::path::Path;
use std::process::Command;

const VERSION: &str = "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)";
const TRIPLE: &str = "i686-unknown-linux-gnu";

fn setup(name: &str, rlib_versions: &[&str]) -> std::path::PathBuf {
    let cache = std::env::temp_dir().join(format!("vdsoconf-tc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let tc = cache.join("toolchains/fake");
    let sysroot = tc.join("root/usr");
    let lib = sysroot.join(format!("lib/rustlib/{TRIPLE}/lib"));
    std::fs::create_dir_all(&lib).unwrap();
    let rustc = tc.join("rustc");
    std::fs::write(
        &rustc,
        format!(
            "#!/bin/sh\ncase $1 in --version) echo '{VERSION}';; --print) echo '{}';; esac\n",
            sysroot.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&rustc)
        .status()
        .unwrap();
    for (i, v) in rlib_versions.iter().enumerate() {
        // rlib metadata carries the compiler's version string among binary data.
        let mut bytes = b"!<arch>\n\x00\x01rust\x00\x00\x00\x0a".to_vec();
        bytes.extend_from_slice(v.as_bytes());
        bytes.extend_from_slice(b"\x00\x02\x03");
        std::fs::write(lib.join(format!("libcrate{i}-0123.rlib")), bytes).unwrap();
    }
    cache
}

fn verify(cache: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source runners/lib/private-apt.sh && source runners/qemu/toolchain.sh && toolchain_verify fake {TRIPLE}"
        ))
        .current_dir(&root)
        .env("VDSOCONF_CACHE", cache)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn matching_rlibs_are_accepted() {
    let cache = setup("ok", &[VERSION, VERSION]);
    let (ok, err) = verify(&cache);
    assert!(ok, "{err}");
    std::fs::remove_dir_all(cache).unwrap();
}

#[test]
fn a_mismatched_rlib_is_refused_naming_both_versions() {
    let other = "rustc 1.97.1 (8bab26f4f 2026-07-14) (built from a source tarball)";
    let cache = setup("mismatch", &[VERSION, other]);
    let (ok, err) = verify(&cache);
    assert!(!ok);
    assert!(
        err.contains(VERSION) && err.contains(other) && err.contains("libcrate1"),
        "{err}"
    );
    std::fs::remove_dir_all(cache).unwrap();
}

#[test]
fn no_rlibs_is_refused() {
    let cache = setup("empty", &[]);
    let (ok, err) = verify(&cache);
    assert!(!ok && err.contains("no rlibs"), "{err}");
    std::fs::remove_dir_all(cache).unwrap();
}

/// Runs `script` in bash at the repository's root with the runner libraries sourced.
fn bash(script: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!(
            "source runners/lib/cache.sh && source runners/lib/private-apt.sh && {script}"
        ))
        .current_dir(&root)
        .env_remove("VDSOCONF_CACHE")
        .env_remove("XDG_CACHE_HOME");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cache_is_outside_the_clone_unless_vdsoconf_cache_says_otherwise() {
    let (ok, out, err) = bash("vdsoconf_cache_dir", &[("HOME", "/home/someone")]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "/home/someone/.cache/vdsoconf");
    let (_, out, _) = bash(
        "vdsoconf_cache_dir",
        &[("HOME", "/home/someone"), ("XDG_CACHE_HOME", "/xdg")],
    );
    assert_eq!(out.trim(), "/xdg/vdsoconf");
    let (_, out, _) = bash(
        "vdsoconf_cache_dir",
        &[("HOME", "/home/someone"), ("VDSOCONF_CACHE", "/elsewhere")],
    );
    assert_eq!(out.trim(), "/elsewhere");
}

#[test]
fn a_cached_package_is_used_only_while_it_matches_its_recorded_sha256() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-sums-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs).unwrap();
    std::fs::write(debs.join("good_1_amd64.deb"), b"the package as fetched").unwrap();
    std::fs::write(debs.join("unrecorded_1_amd64.deb"), b"never checked").unwrap();
    // sha256 of "the package as fetched"
    let sum = Command::new("sha256sum")
        .arg(debs.join("good_1_amd64.deb"))
        .output()
        .unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout);
    let sum = sum.split_whitespace().next().unwrap();
    std::fs::write(
        debs.join("SHA256SUMS"),
        format!("{sum}  good_1_amd64.deb\n"),
    )
    .unwrap();
    let verify = format!("private_apt_verify {}", dir.display());

    // The recorded package passes; the unrecorded one is deleted and reported.
    let (ok, _, err) = bash(&verify, &[]);
    assert!(!ok);
    assert!(err.contains("unrecorded_1_amd64.deb"), "{err}");
    assert!(debs.join("good_1_amd64.deb").exists());
    assert!(!debs.join("unrecorded_1_amd64.deb").exists());
    let (ok, _, err) = bash(&verify, &[]);
    assert!(ok, "{err}");

    // A changed byte: deleted, so the next use fetches it again.
    std::fs::write(debs.join("good_1_amd64.deb"), b"the package as fetcheD").unwrap();
    let (ok, _, err) = bash(&verify, &[]);
    assert!(!ok && err.contains("good_1_amd64.deb"), "{err}");
    assert!(!debs.join("good_1_amd64.deb").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// toolchain_for_target with each toolchain's std step replaced: the first two
/// fail with `first` and `second`, the last (the std built from source) works.
/// Prints the chosen toolchain, then what toolchain_fallback says of it.
fn choose_with(first: &str, second: &str) -> (String, String) {
    let cache = std::env::temp_dir().join(format!(
        "vdsoconf-tc-choose-{}-{}",
        std::process::id(),
        first.len() + second.len()
    ));
    let _ = std::fs::remove_dir_all(&cache);
    let script = format!(
        "source runners/qemu/toolchain.sh && \
         _tc_std() {{ case $1 in debian-web) echo '{first}' >&2; return 1;; \
         debian-sid) echo '{second}' >&2; return 1;; *) mkdir -p \"$(toolchain_cache)/$1\"; return 0;; esac; }} && \
         tc=$(toolchain_for_target powerpc-unknown-linux-gnu powerpc) && echo \"$tc\" && toolchain_fallback \"$tc\" powerpc-unknown-linux-gnu"
    );
    let (ok, out, err) = bash(&script, &[("VDSOCONF_CACHE", cache.to_str().unwrap())]);
    assert!(ok, "{err}");
    let _ = std::fs::remove_dir_all(&cache);
    let mut lines = out.lines();
    (
        lines.next().unwrap_or_default().to_string(),
        lines.collect::<Vec<_>>().join("\n"),
    )
}

#[test]
fn a_std_built_from_source_is_a_fallback_only_when_the_mirror_failed() {
    let (tc, fallback) = choose_with(
        "libstd-rust-web-dev:powerpc (trixie): Unable to locate package libstd-rust-web-dev:powerpc",
        "libstd-rust-dev:powerpc (sid): Unable to locate package libstd-rust-dev:powerpc",
    );
    assert_eq!(tc, "debian-web-src");
    assert_eq!(
        fallback, "",
        "no Debian std for the architecture: the planned way"
    );
    let (tc, fallback) = choose_with(
        "libstd-rust-web-dev:powerpc (trixie): Hash Sum mismatch",
        "libstd-rust-dev:powerpc (sid): Unable to locate package libstd-rust-dev:powerpc",
    );
    assert_eq!(tc, "debian-web-src");
    assert!(fallback.contains("Hash Sum mismatch"), "{fallback}");
}

/// The matrix's fetch lane and its rows ask for the same downloads: each runs
/// once, whoever asks first, and the others get its answer, a failure included
/// (not tried again).
#[test]
fn a_download_runs_once_per_run_and_its_failure_is_every_callers_answer() {
    let dir = std::env::temp_dir().join(format!("vdsoconf-once-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    // Three callers at once, the fetch slow enough for them to overlap; it
    // counts its runs, prints, complains and fails.
    let script = format!(
        r#"fetch() {{ echo run >>{d}/runs; sleep 0.3; echo "image-$1"; echo "mirror: 503 for $1" >&2; return 3; }}
        for i in 1 2 3; do
            (fetched_once {d}/answers kernel-a {d}/lock fetch a >{d}/out$i 2>{d}/err$i; echo $? >{d}/status$i) &
        done
        wait
        fetched_once {d}/answers kernel-b {d}/lock fetch b >{d}/outb 2>/dev/null
        echo $? >{d}/statusb"#
    );
    let (ok, _, err) = bash(&script, &[]);
    assert!(ok, "{err}");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let runs = read("runs");
    // a once for all three callers, b once more: two runs in all.
    assert_eq!(runs.lines().count(), 2, "runs: {runs:?}");
    for i in 1..=3 {
        assert_eq!(read(&format!("out{i}")), "image-a\n", "caller {i}");
        assert_eq!(
            read(&format!("err{i}")),
            "mirror: 503 for a\n",
            "caller {i}"
        );
        assert_eq!(read(&format!("status{i}")).trim(), "3", "caller {i}");
    }
    assert_eq!(read("outb"), "image-b\n");
    assert_eq!(read("statusb").trim(), "3");
    let _ = std::fs::remove_dir_all(&dir);
}
