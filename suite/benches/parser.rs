//! Parse an image and resolve every exported symbol at its version: our parser against
//! the `object` crate on every committed fixture. `cargo bench -p vdsoconf-suite`.
//!
//! Both sides start from the bytes each time (header, tables, version definitions)
//! and look every symbol up through the GNU hash table (SysV where there is none),
//! with its version, the way a libc resolves vDSO functions; each side hashes
//! names with its own functions (object's `object::elf::gnu_hash` and `hash`).
//! That total, and the ratio, are the measure.
//!
//! Each side borrows what it parsed from the `Result` its parse returned, where the
//! parse wrote it. Moving it out first (`?`, `unwrap`) copies it: our image is one
//! 320-byte value, object's tables several smaller ones. The "moved" columns time
//! both sides that way too, the way most callers write it.
//!
//! Two more columns say where the time goes: the parse alone, and one lookup on an
//! image parsed once.

use object::elf::{FileHeader32, FileHeader64, SHT_DYNSYM};
use object::read::elf::{FileHeader, GnuHashTable, HashTable, SymbolTable, Version, VersionTable};
use object::Endianness;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vdsoconf_suite::elf::{SymbolVersion, VdsoImage};

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

/// Parse, then resolve every wanted symbol. The image stays where `parse` wrote it
/// and is borrowed from the `Result` (as object's tables are, see
/// [`object_tables`]); with `MOVED`, it is moved out first (`?`, `unwrap`).
fn ours<const MOVED: bool>(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> usize {
    let count = |image: &VdsoImage<'_>| {
        want.iter()
            .filter(|(n, v)| image.lookup(n, Some(v)).ok().flatten().is_some())
            .count()
    };
    if MOVED {
        let image = VdsoImage::parse(data).unwrap();
        count(&image)
    } else {
        let parsed = VdsoImage::parse(data);
        count(parsed.as_ref().unwrap())
    }
}

/// object's side of the parse: binds `$endian`, and `$symbols`, `$versions`, `$gnu`
/// and `$sysv` as borrows of tables held by locals of the calling function (or
/// returns `None`). A macro, not a struct: returning the tables in a struct moves
/// them. `borrowed` leaves each table where its parse wrote it, inside its
/// `Result`; `moved` moves each out first (`?`), which here costs our side 15–25 ns
/// and object's from nothing to about as much, by fixture. Both sides are timed
/// both ways.
macro_rules! object_tables {
    (borrowed $elf:ty, $data:expr => $endian:ident, $symbols:ident, $versions:ident, $gnu:ident, $sysv:ident) => {
        let header = <$elf>::parse($data).ok()?;
        let $endian = header.endian().ok()?;
        let sections = header.sections($endian, $data);
        let sections = sections.as_ref().ok()?;
        let symbols = sections.symbols($endian, $data, SHT_DYNSYM);
        let $symbols = symbols.as_ref().ok()?;
        let versions = sections.versions($endian, $data);
        let $versions = versions.as_ref().ok()?.as_ref()?;
        let gnu = sections.gnu_hash($endian, $data);
        let $gnu = gnu.as_ref().ok()?.as_ref().map(|(t, _)| t);
        let sysv = sections.hash($endian, $data);
        let $sysv = sysv.as_ref().ok()?.as_ref().map(|(t, _)| t);
    };
    (moved $elf:ty, $data:expr => $endian:ident, $symbols:ident, $versions:ident, $gnu:ident, $sysv:ident) => {
        let header = <$elf>::parse($data).ok()?;
        let $endian = header.endian().ok()?;
        let sections = header.sections($endian, $data).ok()?;
        let symbols = sections.symbols($endian, $data, SHT_DYNSYM).ok()?;
        let $symbols = &symbols;
        let versions = sections.versions($endian, $data).ok()??;
        let $versions = &versions;
        let gnu = sections.gnu_hash($endian, $data).ok()?.map(|(t, _)| t);
        let $gnu = gnu.as_ref();
        let sysv = sections.hash($endian, $data).ok()?.map(|(t, _)| t);
        let $sysv = sysv.as_ref();
    };
}

/// Whether object resolves `name@version`, through the GNU table (SysV without one).
#[inline]
fn object_finds<Elf: FileHeader<Endian = Endianness>>(
    endian: Endianness,
    symbols: &SymbolTable<'_, Elf>,
    versions: &VersionTable<'_, Elf>,
    gnu: Option<&GnuHashTable<'_, Elf>>,
    sysv: Option<&HashTable<'_, Elf>>,
    (name, version): (&[u8], &[u8]),
) -> bool {
    let v: Option<&Version<'_>> = (2..64u16)
        .map_while(|i| {
            versions
                .version(object::elf::VersionIndex(i))
                .ok()
                .flatten()
        })
        .find(|v| v.name() == version);
    match (gnu, sysv) {
        (Some(t), _) => t.find(
            endian,
            name,
            object::elf::gnu_hash(name),
            v,
            symbols,
            versions,
        ),
        (None, Some(t)) => t.find(endian, name, object::elf::hash(name), v, symbols, versions),
        (None, None) => None,
    }
    .is_some()
}

/// object's side of [`ours`].
fn theirs<Elf: FileHeader<Endian = Endianness>, const MOVED: bool>(
    data: &[u8],
    want: &[(Vec<u8>, Vec<u8>)],
) -> Option<usize> {
    macro_rules! count {
        ($hold:ident) => {{
            object_tables!($hold Elf, data => endian, symbols, versions, gnu, sysv);
            let finds =
                |(n, v): &&(Vec<u8>, Vec<u8>)| object_finds(endian, symbols, versions, gnu, sysv, (n, v));
            Some(want.iter().filter(finds).count())
        }};
    }
    if MOVED {
        count!(moved)
    } else {
        count!(borrowed)
    }
}

/// object's side of the parse alone: the tables a lookup needs, no lookup.
fn theirs_parse<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> Option<usize> {
    object_tables!(borrowed Elf, data => endian, symbols, versions, gnu, sysv);
    black_box((endian, symbols, versions, gnu, sysv));
    Some(symbols.len())
}

fn object_parse(data: &[u8]) -> Option<usize> {
    match data[4] {
        1 => theirs_parse::<FileHeader32<Endianness>>(data),
        _ => theirs_parse::<FileHeader64<Endianness>>(data),
    }
}

/// Nanoseconds per lookup on tables parsed once (what a libc does at start-up):
/// `(ours, object's)`, timed in alternation like every pair here.
fn theirs_per_lookup<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    want: &[(Vec<u8>, Vec<u8>)],
    ours: impl FnMut(),
) -> Option<(f64, f64)> {
    object_tables!(borrowed Elf, data => endian, symbols, versions, gnu, sysv);
    let (t_ours, t_obj) = time_pair(ours, || {
        for (name, version) in want {
            let query = (black_box(name.as_slice()), version.as_slice());
            black_box(object_finds(endian, symbols, versions, gnu, sysv, query));
        }
    });
    let n = want.len().max(1) as f64;
    Some((t_ours / n, t_obj / n))
}

fn per_lookup(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> Option<(f64, f64)> {
    let image = VdsoImage::parse(data).ok()?;
    let ours = || {
        for (name, version) in want {
            let found = image.lookup(black_box(name), Some(version));
            black_box(matches!(found, Ok(Some(_))));
        }
    };
    match data[4] {
        1 => theirs_per_lookup::<FileHeader32<Endianness>>(data, want, ours),
        _ => theirs_per_lookup::<FileHeader64<Endianness>>(data, want, ours),
    }
}

fn object_lookup<const MOVED: bool>(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> Option<usize> {
    match data[4] {
        1 => theirs::<FileHeader32<Endianness>, MOVED>(data, want),
        _ => theirs::<FileHeader64<Endianness>, MOVED>(data, want),
    }
}

/// Nanoseconds per parse + resolve-all, `(ours, object's)`, each side holding what
/// it parsed the same way (`MOVED`, see [`object_tables`]).
fn totals<const MOVED: bool>(data: &[u8], want: &[(Vec<u8>, Vec<u8>)]) -> (f64, f64) {
    time_pair(
        || {
            black_box(ours::<MOVED>(black_box(data), want));
        },
        || {
            black_box(object_lookup::<MOVED>(black_box(data), want));
        },
    )
}

/// Within this of 1.0 a ratio is noise (runs here move by a few percent).
const EVEN: f64 = 0.03;

/// The fixtures where we are slower than object, or even with it.
#[derive(Default)]
struct Verdict {
    slower: Vec<String>,
    even: Vec<String>,
}

impl Verdict {
    fn add(&mut self, label: &str, ratio: f64) {
        if ratio < 1.0 - EVEN {
            self.slower.push(label.to_owned());
        } else if ratio <= 1.0 + EVEN {
            self.even.push(label.to_owned());
        }
    }

    fn print(&self, how: &str) {
        let even = format!(
            "even (within {:.0}%) on: {}",
            EVEN * 100.0,
            self.even.join(", ")
        );
        match (self.slower.is_empty(), self.even.is_empty()) {
            (true, true) => println!("{how}: faster than object on every fixture it can read"),
            (true, false) => {
                println!("{how}: faster than object on every other fixture it can read; {even}")
            }
            (false, true) => println!("{how}: SLOWER than object on: {}", self.slower.join(", ")),
            (false, false) => println!(
                "{how}: SLOWER than object on: {}; {even}",
                self.slower.join(", ")
            ),
        }
    }
}

/// Nanoseconds per run of `f` (where object has nothing to pair it with).
fn time(f: impl FnMut()) -> f64 {
    time_pair(f, || {}).0
}

/// Nanoseconds per run of `f` and of `g`, timed in alternation (a batch of one,
/// then of the other, 21 times), so that a drift in clock speed or load during the
/// run falls on both sides alike. Each side's figure is its fastest batch:
/// interference on a shared machine only ever adds time, and medians here were
/// once thrown by a stall that doubled half the batches of one fixture.
fn time_pair(mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    let runs_in_5ms = |h: &mut dyn FnMut()| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_millis() < 5 {
            h();
            n += 1;
        }
        n.max(1)
    };
    let (nf, ng) = (runs_in_5ms(&mut f), runs_in_5ms(&mut g));
    let batch = |h: &mut dyn FnMut(), n: u64| {
        let t = Instant::now();
        for _ in 0..n {
            h();
        }
        t.elapsed().as_nanos() as f64 / n as f64
    };
    let (mut sf, mut sg) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        sf.push(batch(&mut f, nf));
        sg.push(batch(&mut g, ng));
    }
    let fastest = |v: Vec<f64>| v.into_iter().fold(f64::INFINITY, f64::min);
    (fastest(sf), fastest(sg))
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
        "{:<28} {:>4} {:>9} {:>9} {:>7}   {:>12} {:>7} {:>7}   {:>11} {:>7}   {:>12} {:>7}",
        "fixture (parse + resolve)",
        "syms",
        "ours ns",
        "object",
        "obj/ours",
        "moved: ours",
        "object",
        "ratio",
        "parse: ours",
        "object",
        "lookup: ours",
        "object"
    );
    let (mut borrowed, mut moved) = (Verdict::default(), Verdict::default());
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
        for mine in [ours::<false>(&data, &want), ours::<true>(&data, &want)] {
            assert_eq!(
                mine,
                want.len(),
                "{label}: we resolve every exported symbol"
            );
        }
        match object_lookup::<false>(&data, &want) {
            Some(n) if n == want.len() => {
                let (t_ours, t_obj) = totals::<false>(&data, &want);
                let ratio = t_obj / t_ours;
                borrowed.add(&label, ratio);
                let (m_ours, m_obj) = totals::<true>(&data, &want);
                let m_ratio = m_obj / m_ours;
                moved.add(&label, m_ratio);
                // The parse alone, for where the time goes (not part of the ratio).
                let (p_ours, p_obj) = time_pair(
                    || {
                        black_box(&VdsoImage::parse(black_box(&data)));
                    },
                    || {
                        black_box(object_parse(black_box(&data)));
                    },
                );
                // One lookup on an image parsed once, as a libc resolves its vDSO.
                let (l_ours, l_obj) = per_lookup(&data, &want).unwrap_or((f64::NAN, f64::NAN));
                println!(
                    "{label:<28} {:>4} {t_ours:>9.0} {t_obj:>9.0} {ratio:>7.2}x   {m_ours:>12.0} {m_obj:>7.0} {m_ratio:>6.2}x   {p_ours:>11.0} {p_obj:>7.0}   {l_ours:>12.1} {l_obj:>7.1}",
                    want.len()
                );
            }
            other => println!(
                "{label:<28} {:>4} {:>9.0} {:>9} {:>8}",
                want.len(),
                time(|| {
                    black_box(ours::<false>(black_box(&data), &want));
                }),
                "-",
                format!(
                    "({} found)",
                    other.map_or("cannot read".into(), |n| n.to_string())
                )
            ),
        }
    }
    borrowed.print("parsed state borrowed in place (the measure)");
    moved.print("parsed state moved out of its Result (`?`)");
}
