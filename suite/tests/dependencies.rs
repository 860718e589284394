//! Every dependency a workspace crate declares is used by its code: named as a
//! path (`name::`), in a `use`, or as `extern crate` somewhere in the crate's
//! Rust files. The check `cargo machete` makes, without installing it, with its
//! way of saying a dependency is there for another reason: the names in
//! `[package.metadata.cargo-machete] ignored = [...]`, each of which must be a
//! declared dependency that the code does not use.

use std::path::{Path, PathBuf};

/// The workspace's crates (the root package and `[workspace] members`).
const CRATES: [&str; 7] = [
    ".",
    "suite",
    "suite/synth",
    "runners",
    "reports",
    "extract",
    "suite/fuzz-checks",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Another crate of the workspace, or build output, is not this one's.
            if !path.join("Cargo.toml").exists() && !path.ends_with("target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names under each `[…dependencies]` table of a manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line.ends_with("dependencies]") && !line.starts_with("[workspace");
            continue;
        }
        if !in_deps || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let name = key.trim().trim_end_matches(".workspace").trim();
            names.push(name.to_string());
        }
    }
    names
}

/// The names of `ignored = [...]` (one line) under `[package.metadata.cargo-machete]`.
fn ignored(manifest: &str) -> Vec<String> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.cargo-machete]";
            continue;
        }
        if let Some(list) = line.strip_prefix("ignored").map(str::trim_start) {
            if in_table {
                let list = list.trim_start_matches('=').trim();
                let list = list.trim_start_matches('[').trim_end_matches(']');
                return list
                    .split(',')
                    .map(|n| n.trim().trim_matches('"').to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
            }
        }
    }
    Vec::new()
}

fn used(ident: &str, sources: &[String]) -> bool {
    let forms = [
        format!("{ident}::"),
        format!("use {ident}"),
        format!("extern crate {ident}"),
    ];
    sources
        .iter()
        .any(|text| forms.iter().any(|form| text.contains(form.as_str())))
}

#[test]
fn every_declared_dependency_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen = 0;
    for krate in CRATES {
        let dir = root.join(krate);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let mut files = Vec::new();
        for part in ["src", "tests", "benches", "examples"] {
            rust_files(&dir.join(part), &mut files);
        }
        if dir.join("build.rs").exists() {
            files.push(dir.join("build.rs"));
        }
        let sources: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let declared = dependencies(&manifest);
        let ignored = ignored(&manifest);
        for name in &ignored {
            assert!(
                declared.contains(name) && !used(&name.replace('-', "_"), &sources),
                "{krate}/Cargo.toml's cargo-machete `ignored` names `{name}`, which is not \
                 an unused dependency of it: take it off the list"
            );
        }
        for name in declared.iter().filter(|n| !ignored.contains(n)) {
            seen += 1;
            assert!(
                used(&name.replace('-', "_"), &sources),
                "{krate}/Cargo.toml declares `{name}`, which none of its code uses: remove it"
            );
        }
    }
    assert!(seen > 30, "only {seen} dependencies found");
}

#[test]
fn the_check_sees_an_unused_dependency() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\nused-crate = \"1\"\n\
                    unused = { version = \"1\" }\n[dev-dependencies]\nlibc.workspace = true\n";
    let names = dependencies(manifest);
    assert_eq!(names, ["used-crate", "unused", "libc"]);
    let sources = vec!["use used_crate::Thing;\nfn f() { libc::getpid(); }".to_string()];
    assert!(used("used_crate", &sources) && used("libc", &sources));
    assert!(!used("unused", &sources));
    assert!(ignored(manifest).is_empty());
    let exempt = format!(
        "{manifest}[package.metadata.cargo-machete]\n# why\nignored = [\"unused\", \"b\"]\n"
    );
    assert_eq!(ignored(&exempt), ["unused", "b"]);
    // `ignored` of another table is not the exemption.
    assert!(ignored("[package.metadata.other]\nignored = [\"unused\"]\n").is_empty());
}
