//! Every committed fixture image passes the static checks of its spec.
//! Fixture paths are `suite/fixtures/<arch>/<provider>-<version>[-variant].so`.

use std::path::{Path, PathBuf};
use vdsoconf_runners::session::Session;
use vdsoconf_runners::target::{resolve_target, TargetOptions};
use vdsoconf_suite::checks::findings::{check_image_bytes, Against, Severity};
use vdsoconf_suite::checks::history::Cell;
use vdsoconf_suite::checks::{expectation, Expectation, Group, Verdict};
use vdsoconf_suite::spec::Provider;

pub fn fixtures() -> Vec<(PathBuf, String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suite/fixtures");
    let mut out = Vec::new();
    for arch in std::fs::read_dir(&dir).unwrap() {
        let arch = arch.unwrap().path();
        if !arch.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&arch).unwrap() {
            let f = f.unwrap().path();
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            let (provider, rest) = stem.split_once('-').unwrap();
            let version = rest.split('-').next().unwrap().to_string();
            out.push((
                f.clone(),
                arch.file_name().unwrap().to_str().unwrap().to_string(),
                provider.to_string(),
                version,
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn there_are_fixtures_for_this_machine_and_each_qemu_guest() {
    let all = fixtures();
    for (arch, provider) in [
        ("x86_64", "kernel"),
        ("i386", "kernel"),
        ("x86_64", "qemu"),
        ("i386", "qemu"),
        ("aarch64", "qemu"),
        ("arm", "qemu"),
        ("ppc32", "qemu"),
        ("ppc64", "qemu"),
        ("riscv32", "qemu"),
        ("riscv64", "qemu"),
        ("s390x", "qemu"),
        ("loongarch64", "qemu"),
        ("parisc", "qemu"),
    ] {
        assert!(
            all.iter().any(|(_, a, p, _)| a == arch && p == provider),
            "no {provider} fixture for {arch}"
        );
    }
}

/// What fails (or is skipped though required) when `path` is checked as the
/// `provider`'s image of `arch` for `kernel`.
fn nonconformance(path: &Path, arch: &str, provider: &str, kernel: Option<String>) -> Vec<String> {
    let mut failures = Vec::new();
    let target = resolve_target(&TargetOptions {
        arch: Some(arch.to_string()),
        provider: Some(provider.to_string()),
        kernel,
        image: Some(path.to_path_buf()),
        observed: None,
        ..Default::default()
    })
    .unwrap();
    let session = Session::open(target).unwrap();
    for outcome in session.run_all() {
        let name = format!("{} [{}]", outcome.check.name(), path.display());
        let check = &outcome.check;
        match (check.group, check.case.symbol, &outcome.result.verdict) {
            (_, _, Verdict::Fail { message }) => failures.push(format!("{name}: {message}")),
            // A symbol the spec requires must resolve, not be skipped.
            (Group::Resolve, Some(symbol), Verdict::Skip { reason }) => {
                let t = &session.target;
                let sym = &t.spec.symbols[symbol];
                if expectation(sym, t.provider, t.kernel) == Expectation::Required {
                    failures.push(format!("{name}: required but skipped: {reason}"));
                }
            }
            (Group::Call, _, Verdict::Pass) => {
                failures.push(format!("{name}: a file cannot be called"))
            }
            _ => {}
        }
    }
    failures
}

#[test]
fn every_fixture_conforms_to_its_spec() {
    let mut failures = Vec::new();
    for (path, arch, provider, version) in fixtures() {
        let kernel = (provider == "kernel").then(|| version.clone());
        failures.extend(nonconformance(&path, &arch, &provider, kernel));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The history's images (history/manifest.tsv, written by history/fetch from
/// Debian's kernels): each passes check-image's checks against its spec for
/// its own kernel version, so no `since`/`until` of the spec contradicts them.
#[test]
fn every_history_image_conforms_to_its_spec_for_its_kernel() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let mut rows = 0;
    let mut failures = Vec::new();
    for row in vdsoconf_runners::history::manifest(&dir).unwrap() {
        let (file, spec) = (row.file.as_str(), row.spec.as_str());
        let kernel = vdsoconf_runners::history::series(&row.release)
            .unwrap()
            .to_string();
        failures.extend(nonconformance(
            &dir.join(file),
            spec,
            "kernel",
            Some(kernel.clone()),
        ));
        // check-image only notes a symbol present before its `since`; in the
        // history that is a contradiction of the spec.
        let spec = vdsoconf_suite::spec::builtin(spec).unwrap().unwrap();
        let ctx = Against::new(&spec, Provider::Kernel, Some(kernel.parse().unwrap()));
        let data = std::fs::read(dir.join(file)).unwrap();
        for f in check_image_bytes(&ctx, &data).unwrap() {
            if f.severity != Severity::Note || f.id == "symbol-before-since" {
                failures.push(format!("{file}: {}: {}", f.id, f.message));
            }
        }
        rows += 1;
    }
    assert!(rows >= 20, "only {rows} history images");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Where the history shows a symbol arrive (absent from one kernel of a
/// lineage, present from a later one on), the spec's `since` says so: set, and
/// after the last kernel without it, at or before the first kernel with it.
#[test]
fn the_spec_pins_every_introduction_the_history_shows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let lineages = vdsoconf_runners::history::lineages(&dir).unwrap();
    let mut failures = Vec::new();
    let mut introductions = 0;
    for l in &lineages {
        let spec = vdsoconf_suite::spec::builtin(&l.spec).unwrap().unwrap();
        for row in &l.symbols {
            let present = |i: usize| !matches!(row.cells[i], Cell::Absent);
            let Some(first) = (0..row.cells.len()).find(|&i| present(i)) else {
                continue;
            };
            let (name, _) = row.subject.split_once('@').unwrap();
            let Some(sym) = spec.symbols.iter().find(|s| s.names().any(|n| n == name)) else {
                failures.push(format!(
                    "{}/{}: {} is not in the spec",
                    l.arch, l.image, row.subject
                ));
                continue;
            };
            if first == 0 {
                // Before the oldest image: only a `since` later than it is
                // wrong (check-image's symbol-before-since, above).
                continue;
            }
            introductions += 1;
            let (last_without, first_with) =
                (l.kernels[first - 1].version, l.kernels[first].version);
            match sym.since {
                Some(k) if last_without < k && k <= first_with => {}
                other => failures.push(format!(
                    "{}/{}: {} is absent from {} and present from {}: spec `since` is {other:?}",
                    l.arch,
                    l.image,
                    row.subject,
                    l.kernels[first - 1].release,
                    l.kernels[first].release
                )),
            }
        }
    }
    assert!(
        introductions >= 5,
        "only {introductions} introductions seen"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_wrong_spec_fails_on_a_fixture() {
    // The QEMU x86_64 image has no getrandom; claiming QEMU provides it must fail.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suite/fixtures/x86_64/qemu-10.0.so");
    let mut target = resolve_target(&TargetOptions {
        arch: Some("x86_64".into()),
        provider: Some("qemu".into()),
        kernel: None,
        image: Some(path),
        observed: None,
        ..Default::default()
    })
    .unwrap();
    let getrandom = target
        .spec
        .symbols
        .iter_mut()
        .find(|s| s.name == "__vdso_getrandom")
        .unwrap();
    getrandom
        .providers
        .push(vdsoconf_suite::spec::Provider::Qemu);
    getrandom.config.clear();
    target.spec.symbols.retain(|s| s.name != "__vdso_time");
    let session = Session::open(target).unwrap();
    let failed: Vec<String> = session
        .run_all()
        .into_iter()
        .filter(|o| o.result.is_fail())
        .map(|o| o.check.name())
        .collect();
    assert!(
        failed.contains(&"x86_64::resolve::__vdso_getrandom@LINUX_2.6".to_string()),
        "{failed:?}"
    );
    assert!(
        failed.contains(&"x86_64::inventory".to_string()),
        "{failed:?}"
    );
}
