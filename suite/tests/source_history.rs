//! The spec held to the kernel source: history/source/ records what each
//! vDSO's linker script exports in Debian's linux-source packages (5.10 to
//! 7.3, history/source/fetch). Every kernel there must agree with the spec on
//! which symbols exist, at which version node (`since`, `until`); the newest
//! also on the options each needs (`config` describes the current source).

use std::path::Path;
use vdsoconf_suite::source::{compare, Exported};
use vdsoconf_suite::spec::{builtin, Cond, KernelVersion};

struct Facts {
    file: String,
    kernel: KernelVersion,
    images: Vec<(String, Vec<Exported>)>,
}

fn facts() -> Vec<Facts> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history/source");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("history/source") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kernel: KernelVersion = doc["kernel"].as_str().unwrap().parse().unwrap();
        let images = doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| !i["script"].is_null())
            .map(|i| {
                let exports = i["exports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let config = e["config"].as_str().unwrap().to_string();
                        Exported {
                            name: e["name"].as_str().unwrap().into(),
                            version: e["version"].as_str().unwrap().into(),
                            cond: Cond::parse(&config).unwrap_or(Cond::Opaque(config.clone())),
                            config,
                            at: e["at"].as_str().unwrap().into(),
                        }
                    })
                    .collect();
                (i["arch"].as_str().unwrap().to_string(), exports)
            })
            .collect();
        out.push(Facts {
            file: path.file_name().unwrap().to_string_lossy().into_owned(),
            kernel,
            images,
        });
    }
    out.sort_by_key(|f| f.kernel);
    out
}

#[test]
fn the_spec_agrees_with_every_kernel_source_of_the_history() {
    let all = facts();
    assert!(all.len() >= 5, "history/source holds {} kernels", all.len());
    let newest = all.last().unwrap().kernel;
    let mut problems = Vec::new();
    for f in &all {
        for (arch, exports) in &f.images {
            let spec = builtin(arch).unwrap().unwrap();
            for d in compare(&spec, exports, f.kernel) {
                if d.id == "config" && f.kernel != newest {
                    continue;
                }
                problems.push(format!(
                    "{} {arch}: [{}] {}: {}",
                    f.file, d.id, d.symbol, d.message
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The facts are of real scripts: every vDSO the spec describes with a
/// `source` is found in the newest kernel, with exports.
#[test]
fn the_newest_source_has_a_script_for_every_current_vdso() {
    let all = facts();
    let newest = all.last().unwrap();
    for arch in vdsoconf_suite::spec::builtin_arches() {
        let spec = builtin(arch).unwrap().unwrap();
        if spec.source.is_none() || spec.removed_in.is_some() {
            continue;
        }
        let found = newest.images.iter().find(|(a, _)| a == arch);
        assert!(
            found.is_some_and(|(_, e)| !e.is_empty()),
            "{arch}: no script in {}",
            newest.file
        );
    }
}
