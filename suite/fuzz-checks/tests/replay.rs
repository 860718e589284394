//! Replays every committed corpus and regression input through the functions the fuzz
//! targets call, so a regression shows up in a plain `cargo test` on stable.

use arbitrary::{Arbitrary, Unstructured};
use std::path::{Path, PathBuf};
use vdsoconf_fuzz_checks::{
    differential, extract_scan, lzo, parse_raw, roundtrip, spec_yaml, FuzzImage,
};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(rd) = std::fs::read_dir(fuzz.join(dir).join(target)) {
            files.extend(rd.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

/// Runs `check` on every input of `target`; names the file that fails.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no committed inputs for {target}");
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(
            r.is_ok(),
            "{target}: {} fails (reproduce: cargo +nightly fuzz run {target} {})",
            f.display(),
            f.display()
        );
    }
}

#[test]
fn parse_raw_corpus() {
    replay("parse_raw", parse_raw);
}

#[test]
fn differential_corpus() {
    replay("differential", differential);
}

#[test]
fn extract_scan_corpus() {
    replay("extract_scan", extract_scan);
}

#[test]
fn lzo_corpus() {
    replay("lzo", lzo);
}

#[test]
fn spec_yaml_corpus() {
    replay("spec_yaml", spec_yaml);
}

#[test]
fn roundtrip_corpus() {
    // Decoded exactly as libfuzzer-sys decodes a typed fuzz target's input.
    replay("roundtrip", |data| {
        if let Ok(image) = FuzzImage::arbitrary_take_rest(Unstructured::new(data)) {
            roundtrip(&image);
        }
    });
}
