//! Parse an image and resolve every exported symbol at its version: our parser against
//! the `object` crate on every committed fixture. `cargo bench -p vdsoconf-suite`.
//!
//! Both sides start from the bytes each time (header, tables, version definitions)
//! and look every symbol up through the GNU hash table (SysV where there is none),
//! with its version, the way a libc resolves vDSO functions. That total, and the
//! ratio, are the measure; two more columns say where the time goes: the parse
//! alone, and one lookup on an image parsed once.

use object::elf::{FileHeader32, FileHeader64, SHT_DYNSYM};
use object::read::elf::{FileHeader, Version};
use object::Endianness;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vdsoconf_suite::elf::{elf_hash, gnu_hash, SymbolVersion, VdsoImage};

/// name, version: every exported, versioned symbol of the image.
fn wanted(data: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let image = VdsoImage::parse(data).expect("fixtures parse");
    image
        .symbols()
        .flatten()
        .filter(|s| s.is_exported())
        .filter_map(|s| match s.version {
            SymbolVersion::Defined { name, .. } => Some((s.name.to_vec(), name.to_vec())),
            _ => None,
        })
        .collect()
}

fn ours(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> usize {
    let image = VdsoImage::parse(data).unwrap();
    want.iter()
        .filter(|(n, v)| image.lookup(n, Some(v)).ok().flatten().is_some())
        .count()
}

fn theirs<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    want: &[(Vec<u8>, Vec<u8>)],
) -> Option<usize> {
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let symbols = sections.symbols(endian, data, SHT_DYNSYM).ok()?;
    let versions = sections.versions(endian, data).ok()??;
    let gnu = sections.gnu_hash(endian, data).ok()?.map(|(t, _)| t);
    let sysv = sections.hash(endian, data).ok()?.map(|(t, _)| t);
    let mut found = 0;
    for (name, version) in want {
        let v: Option<&Version<'_>> = (2..64u16)
            .map_while(|i| {
                versions
                    .version(object::elf::VersionIndex(i))
                    .ok()
                    .flatten()
            })
            .find(|v| v.name() == version.as_slice());
        let hit = if let Some(t) = &gnu {
            t.find(endian, name, gnu_hash(name), v, &symbols, &versions)
                .is_some()
        } else {
            sysv.as_ref()?
                .find(endian, name, elf_hash(name), v, &symbols, &versions)
                .is_some()
        };
        found += usize::from(hit);
    }
    Some(found)
}

/// object's side of the parse alone: the tables a lookup needs, no lookup.
fn theirs_parse<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> Option<usize> {
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let symbols = sections.symbols(endian, data, SHT_DYNSYM).ok()?;
    let versions = sections.versions(endian, data).ok()??;
    let gnu = sections.gnu_hash(endian, data).ok()?.map(|(t, _)| t);
    let sysv = sections.hash(endian, data).ok()?.map(|(t, _)| t);
    black_box((&symbols, &versions, &gnu, &sysv));
    Some(symbols.len())
}

fn object_parse(data: &[u8]) -> Option<usize> {
    match data[4] {
        1 => theirs_parse::<FileHeader32<Endianness>>(data),
        _ => theirs_parse::<FileHeader64<Endianness>>(data),
    }
}

/// Nanoseconds per lookup on tables parsed once (what a libc does at start-up):
/// object's side.
fn theirs_per_lookup<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    want: &[(Vec<u8>, Vec<u8>)],
) -> Option<f64> {
    let header = Elf::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let symbols = sections.symbols(endian, data, SHT_DYNSYM).ok()?;
    let versions = sections.versions(endian, data).ok()??;
    let gnu = sections.gnu_hash(endian, data).ok()?.map(|(t, _)| t);
    let sysv = sections.hash(endian, data).ok()?.map(|(t, _)| t);
    let total = time(|| {
        for (name, version) in want {
            let name = black_box(name.as_slice());
            let v: Option<&Version<'_>> = (2..64u16)
                .map_while(|i| {
                    versions
                        .version(object::elf::VersionIndex(i))
                        .ok()
                        .flatten()
                })
                .find(|v| v.name() == version.as_slice());
            let hit = match (&gnu, &sysv) {
                (Some(t), _) => t.find(endian, name, gnu_hash(name), v, &symbols, &versions),
                (None, Some(t)) => t.find(endian, name, elf_hash(name), v, &symbols, &versions),
                (None, None) => None,
            };
            black_box(hit.is_some());
        }
    });
    Some(total / want.len().max(1) as f64)
}

fn object_per_lookup(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> Option<f64> {
    match data[4] {
        1 => theirs_per_lookup::<FileHeader32<Endianness>>(data, want),
        _ => theirs_per_lookup::<FileHeader64<Endianness>>(data, want),
    }
}

/// Our side of [`object_per_lookup`].
fn ours_per_lookup(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> f64 {
    let image = VdsoImage::parse(data).unwrap();
    let total = time(|| {
        for (name, version) in want {
            let found = image.lookup(black_box(name), Some(version));
            black_box(matches!(found, Ok(Some(_))));
        }
    });
    total / want.len().max(1) as f64
}

fn object_lookup(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> Option<usize> {
    match data[4] {
        1 => theirs::<FileHeader32<Endianness>>(data, want),
        _ => theirs::<FileHeader64<Endianness>>(data, want),
    }
}

/// Nanoseconds per run of `f`: the median of 21 samples of enough runs for ~5 ms.
fn time(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut calibrate = 0u64;
    while start.elapsed().as_millis() < 5 {
        f();
        calibrate += 1;
    }
    let n = calibrate.max(1);
    let mut samples: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if dir.path().is_dir() {
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "so") {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects fixtures.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!(
        "{:<32} {:>6} {:>12} {:>12} {:>8}   {:>10} {:>10}   {:>11} {:>10}",
        "fixture (parse + resolve all)",
        "syms",
        "ours ns",
        "object ns",
        "object/ours",
        "parse: ours",
        "object",
        "lookup: ours",
        "object"
    );
    let mut slower = Vec::new();
    for path in fixtures() {
        let label = path
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
            .unwrap()
            .display()
            .to_string();
        if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let want = wanted(&data);
        let mine = ours(&data, &want);
        assert_eq!(
            mine,
            want.len(),
            "{label}: we resolve every exported symbol"
        );
        let t_ours = time(|| {
            black_box(ours(black_box(&data), &want));
        });
        match object_lookup(&data, &want) {
            Some(n) if n == want.len() => {
                let t_obj = time(|| {
                    black_box(object_lookup(black_box(&data), &want));
                });
                let ratio = t_obj / t_ours;
                if ratio < 1.0 {
                    slower.push(label.clone());
                }
                // The parse alone, for where the time goes (not part of the ratio).
                let p_ours = time(|| {
                    black_box(&VdsoImage::parse(black_box(&data)));
                });
                let p_obj = time(|| {
                    black_box(object_parse(black_box(&data)));
                });
                // One lookup on an image parsed once, as a libc resolves its vDSO.
                let l_ours = ours_per_lookup(&data, &want);
                let l_obj = object_per_lookup(&data, &want).unwrap_or(f64::NAN);
                println!(
                    "{label:<32} {:>6} {t_ours:>12.0} {t_obj:>12.0} {ratio:>7.2}x   {p_ours:>10.0} {p_obj:>10.0}   {l_ours:>11.1} {l_obj:>10.1}",
                    want.len()
                );
            }
            other => println!(
                "{label:<32} {:>6} {t_ours:>12.0} {:>12} {:>8}",
                want.len(),
                "-",
                format!(
                    "({} found)",
                    other.map_or("cannot read".into(), |n| n.to_string())
                )
            ),
        }
    }
    if slower.is_empty() {
        println!("faster than object on every fixture it can read");
    } else {
        println!("SLOWER than object on: {}", slower.join(", "));
    }
}
