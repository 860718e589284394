//! Embeds every `spec/*.yaml` of the checkout into the library.
use std::{env, fs, path::PathBuf};

fn main() {
    let spec_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../spec");
    println!("cargo:rerun-if-changed={}", spec_dir.display());
    let mut entries: Vec<(String, PathBuf)> = fs::read_dir(&spec_dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let mut out = String::from("/// `(arch, YAML text)` for every spec file, sorted by arch.\npub static BUILTIN_SPECS: &[(&str, &str)] = &[\n");
    for (arch, path) in &entries {
        let path = path.canonicalize().unwrap();
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({arch:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        PathBuf::from(env::var("OUT_DIR").unwrap()).join("builtin_specs.rs"),
        out,
    )
    .unwrap();
}
