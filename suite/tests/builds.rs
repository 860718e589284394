//! The spec held to real builds: history/builds/ holds the vDSOs of Debian's
//! linux-source-7.3 built for every architecture Debian cross-compiles, with
//! its defconfig and with each option the spec names turned off
//! (history/builds/build). Each image must pass the static checks against
//! its spec for that kernel and exactly that configuration: every symbol the
//! configuration builds present, none it leaves out.

use std::collections::BTreeSet;
use std::path::Path;
use vdsoconf_suite::checks::findings::{check_image_bytes, Against, Severity};
use vdsoconf_suite::checks::KernelConfig;
use vdsoconf_suite::spec::{builtin, KernelVersion, Provider};

#[test]
fn every_built_image_passes_its_spec_for_its_configuration() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let manifest = std::fs::read_to_string(dir.join("builds/manifest.tsv")).unwrap();
    let mut checked = BTreeSet::new();
    let mut problems = Vec::new();
    for line in manifest.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [build, file, arch, kernel, on] = f[..] else {
            panic!("manifest line {line:?}");
        };
        let spec = builtin(arch).unwrap().unwrap();
        // Every option the spec's conditions name: on if the build has it.
        let on: BTreeSet<&str> = on.split(',').filter(|o| *o != "-").collect();
        let named: BTreeSet<String> = spec
            .symbols
            .iter()
            .flat_map(|s| s.condition().atoms())
            .collect();
        let mut config = KernelConfig::default();
        for o in &named {
            let value = if on.contains(o.as_str()) { "y" } else { "n" };
            config.set(&format!("{o}={value}")).unwrap();
        }
        let kernel: KernelVersion = kernel.parse().unwrap();
        let ctx = Against {
            config,
            ..Against::new(&spec, Provider::Kernel, Some(kernel))
        };
        let data = std::fs::read(dir.join(file)).unwrap();
        for finding in check_image_bytes(&ctx, &data).unwrap() {
            if finding.severity != Severity::Note {
                problems.push(format!("{build} {arch}: {} {}", finding.id, finding.text()));
            }
        }
        checked.insert(arch.to_string());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every architecture with a linker script in the newest source was built,
    // but those Debian cannot cross-compile (the manifest says which).
    for arch in vdsoconf_suite::spec::builtin_arches() {
        let spec = builtin(arch).unwrap().unwrap();
        if spec.source.is_none()
            || spec.removed_in.is_some()
            || ["csky", "parisc64"].contains(&arch)
        {
            continue;
        }
        assert!(checked.contains(arch), "{arch}: no build in history/builds");
    }
}
