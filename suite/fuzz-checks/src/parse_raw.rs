//! Arbitrary bytes as an image: parse, enumerate, look everything up, run the static
//! checks. Nothing may panic; every loop is bounded by the input (libFuzzer's timeout
//! catches one that is not).

use std::sync::OnceLock;
use vdsoconf_suite::checks::image::{
    examination, inventory_row, resolve_row, soname_row, versions_row,
};
use vdsoconf_suite::checks::live::trampoline::check_trampoline;
use vdsoconf_suite::elf::{HashKind, VdsoImage};
use vdsoconf_suite::spec::{builtin, ArchSpec, Provider};

/// Specs the static checks run with, parsed once (YAML parsing would dominate each run).
fn specs() -> &'static [ArchSpec] {
    static SPECS: OnceLock<Vec<ArchSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        ["x86_64", "s390x"]
            .iter()
            .map(|a| builtin(a).expect("built in").expect("valid"))
            .collect()
    })
}

const NOT_THERE: [&[u8]; 4] = [b"", b"__vdso_clock_gettime", b"LINUX_2.6", &[b'x'; 300]];

pub fn parse_raw(data: &[u8]) {
    for entry_size in [None, Some(4), Some(8)] {
        let Ok(img) = VdsoImage::parse_with_hash_entry_size(data, entry_size) else {
            continue;
        };
        exercise(&img);
    }
}

fn exercise(img: &VdsoImage<'_>) {
    let _ = img.soname();
    if let Some(defs) = img.version_defs() {
        for d in defs.iter().flatten() {
            let _ = d.hash_matches_name();
        }
    }
    let claimed: Vec<(&[u8], Option<&[u8]>)> = img
        .symbols()
        .flatten()
        .map(|s| (s.name, s.version.name()))
        .collect();
    for &(name, version) in claimed.iter().chain(
        NOT_THERE
            .iter()
            .map(|n| (*n, None))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        for kind in [HashKind::Sysv, HashKind::Gnu] {
            let _ = img.lookup_in(kind, name, version);
            let _ = img.lookup_in(kind, name, None);
        }
        let _ = img.lookup(name, version);
    }
    // The static checks read untrusted images too.
    // One examination per spec (the whole static engine, check-image's), one
    // provider each: both specs and both providers are read, at half the cost.
    for (spec, provider) in specs().iter().zip(Provider::ALL) {
        let seen = examination(spec, provider, None, img);
        let _ = soname_row(&seen);
        let _ = versions_row(&seen);
        let _ = inventory_row(&seen, &spec.arch);
        for sym in &spec.symbols {
            for name in sym.names() {
                let _ = resolve_row(&seen, name, &sym.version);
            }
            let _ = check_trampoline(img, sym);
        }
    }
}
