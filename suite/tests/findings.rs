//! `check-image` findings: every committed fixture passes its spec, and every finding
//! id is produced by a synthetic counterexample built for it (one image per id).

use std::collections::BTreeSet;
use std::path::Path;
use vdsoconf_suite::checks::diff::{diff_images, ChangeKind};
use vdsoconf_suite::checks::findings::{check_image_bytes, Against, Finding, Severity, FINDINGS};
use vdsoconf_suite::checks::KernelConfig;
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::spec::{builtin, KernelVersion, Provider};
use vdsoconf_synth::{build, ImageDesc, SymbolDesc, SysvHash};

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PF_RWX: u32 = 7;

/// The x86_64 symbol set of kernel 6.18, with its aliases: a clean image.
fn good_desc() -> ImageDesc {
    ImageDesc::x86_64_kernel_6_18()
}

fn findings_for(
    arch: &str,
    provider: Provider,
    kernel: Option<&str>,
    bytes: &[u8],
) -> Vec<Finding> {
    let spec = builtin(arch).unwrap().unwrap();
    let ctx = Against::new(
        &spec,
        provider,
        kernel.map(|k| KernelVersion::from_release(k).unwrap()),
    );
    check_image_bytes(&ctx, bytes).unwrap()
}

fn x86(desc: &ImageDesc) -> Vec<Finding> {
    findings_for("x86_64", Provider::Kernel, Some("6.18"), &build(desc).bytes)
}

fn ids(f: &[Finding]) -> BTreeSet<&'static str> {
    f.iter().map(|f| f.id).collect()
}

fn assert_finds(f: &[Finding], id: &str) {
    assert!(f.iter().any(|x| x.id == id), "expected {id}, got {f:#?}");
}

fn with(mut d: ImageDesc, change: impl FnOnce(&mut ImageDesc)) -> ImageDesc {
    change(&mut d);
    d
}

fn symbol(d: &mut ImageDesc, name: &str) -> usize {
    d.symbols.iter().position(|s| s.name == name).unwrap()
}

#[test]
fn the_clean_synthetic_image_has_no_findings() {
    let f = x86(&good_desc());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn every_fixture_passes_its_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for arch_dir in std::fs::read_dir(&root).unwrap() {
        let arch_dir = arch_dir.unwrap().path();
        if !arch_dir.is_dir() {
            continue;
        }
        let arch = arch_dir.file_name().unwrap().to_str().unwrap().to_string();
        for file in std::fs::read_dir(&arch_dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "so") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let mut parts = stem.split('-');
            let provider = match parts.next().unwrap() {
                "kernel" => Provider::Kernel,
                _ => Provider::Qemu,
            };
            let version = parts.next().unwrap();
            let kernel = (provider == Provider::Kernel).then_some(version);
            let f = findings_for(&arch, provider, kernel, &std::fs::read(&path).unwrap());
            let errors: Vec<&Finding> =
                f.iter().filter(|x| x.severity == Severity::Error).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 16, "only {checked} fixtures");
}

/// One counterexample per finding id: (id, the findings of an image made to have it).
fn counterexamples() -> Vec<(&'static str, Vec<Finding>)> {
    let g = good_desc;
    let mut out: Vec<(&'static str, Vec<Finding>)> = vec![
        ("elf-class", x86(&with(g(), |d| d.is_64 = false))),
        ("elf-endian", x86(&with(g(), |d| d.big_endian = true))),
        ("elf-machine", x86(&with(g(), |d| d.machine = 3))),
        ("elf-osabi", x86(&with(g(), |d| d.os_abi = 9))),
        ("elf-type", x86(&with(g(), |d| d.e_type = 2))),
        (
            "pt-interp",
            x86(&with(g(), |d| d.extra_segments = vec![PT_INTERP])),
        ),
        (
            "pt-load-count",
            x86(&with(g(), |d| d.extra_segments = vec![PT_LOAD])),
        ),
        ("segment-wx", x86(&with(g(), |d| d.load_flags = PF_RWX))),
        (
            "dt-needed",
            x86(&with(g(), |d| d.extra_dynamic = vec![(1, 1)])),
        ),
        (
            "relocations",
            x86(&with(g(), |d| d.extra_dynamic = vec![(7, 0), (8, 24)])),
        ),
        (
            "textrel",
            x86(&with(g(), |d| d.extra_dynamic = vec![(30, 4)])),
        ),
        (
            "undefined-symbol",
            x86(&with(g(), |d| {
                let mut u = SymbolDesc::func("memcpy", 0, 0);
                u.defined = false;
                d.symbols.push(u);
            })),
        ),
        (
            "no-version-definitions",
            x86(&with(g(), |d| {
                d.versym = false;
                d.verdef = false;
            })),
        ),
        (
            "unversioned-symbol",
            x86(&with(g(), |d| {
                let i = symbol(d, "__vdso_time");
                d.symbols[i].version = None;
            })),
        ),
        (
            "unknown-version",
            x86(&with(g(), |d| d.versions.push("LINUX_9.9".into()))),
        ),
        (
            "base-version-name",
            x86(&with(g(), |d| {
                d.base_version_name = Some("linux-vdso.so.2".into())
            })),
        ),
        (
            "soname",
            x86(&with(g(), |d| d.soname = Some("linux-gate.so.1".into()))),
        ),
        (
            "hash-disagree",
            // Two definitions of one name@version: SysV chains start at the highest
            // index, GNU buckets at the lowest, so the tables answer differently.
            x86(&with(g(), |d| {
                let dup = SymbolDesc::func("__vdso_time", 0, 0x40);
                d.symbols.push(dup);
                d.gnu_buckets = 1;
                d.sysv_buckets = 1;
            })),
        ),
        (
            "hash-entry-size",
            // s390x wants 8-byte DT_HASH entries; this one has 4-byte entries.
            findings_for(
                "s390x",
                Provider::Qemu,
                None,
                &build(&with(
                    ImageDesc::x86_64_like(&["__kernel_gettimeofday"]),
                    |d| {
                        d.machine = 22;
                        d.big_endian = true;
                        d.soname = Some("linux-vdso64.so.1".into());
                        d.versions = vec!["LINUX_2.6.29".into()];
                        d.sysv = SysvHash::Four;
                        d.gnu = false;
                    },
                ))
                .bytes,
            ),
        ),
        (
            "symbol-type",
            x86(&with(g(), |d| {
                let i = symbol(d, "__vdso_time");
                d.symbols[i].sym_type = 1;
            })),
        ),
        (
            "function-size",
            x86(&with(g(), |d| {
                let i = symbol(d, "__vdso_time");
                d.symbols[i].size = 0;
                let j = symbol(d, "time");
                d.symbols[j].size = 0;
            })),
        ),
        (
            "function-outside-exec",
            x86(&with(g(), |d| {
                let i = symbol(d, "__vdso_time");
                d.symbols[i].value = 0x10_0000;
                let j = symbol(d, "time");
                d.symbols[j].value = 0x10_0000;
            })),
        ),
        (
            "alias-mismatch",
            x86(&with(g(), |d| {
                let i = symbol(d, "time");
                d.symbols[i].value += 4;
            })),
        ),
        (
            "missing-symbol",
            x86(&with(g(), |d| {
                d.symbols
                    .retain(|s| !s.name.ends_with("time") || s.name.contains("clock"))
            })),
        ),
        (
            "wrong-version",
            x86(&with(g(), |d| {
                d.versions.push("LINUX_2.5".into());
                let i = symbol(d, "__vdso_getcpu");
                d.symbols[i].version = Some(1);
            })),
        ),
        (
            "unknown-symbol",
            x86(&with(g(), |d| {
                d.symbols
                    .push(SymbolDesc::func("__vdso_frobnicate", 0, 0x60))
            })),
        ),
        (
            "symbol-before-since",
            // getrandom is in the vDSO since 6.11.
            findings_for("x86_64", Provider::Kernel, Some("6.10"), &build(&g()).bytes),
        ),
        (
            "symbol-not-expected",
            // QEMU's x86_64 vDSO has no getrandom.
            findings_for("x86_64", Provider::Qemu, None, &build(&g()).bytes),
        ),
        ("no-build-id", x86(&with(g(), |d| d.build_id = None))),
    ];
    // PT_DYNAMIC outside the PT_LOAD: end the PT_LOAD's file image where it starts.
    let built = build(&g());
    let mut bytes = built.bytes.clone();
    let phdr = 64; // e_phoff of the writer's 64-bit images; PT_LOAD comes first
    bytes[phdr + 32..phdr + 40].copy_from_slice(&built.layout.dynamic.to_le_bytes());
    out.push((
        "pt-dynamic-outside-load",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    // A GNU table whose buckets are all empty resolves nothing.
    let mut bytes = built.bytes.clone();
    let gnu = built.layout.gnu_hash.unwrap() as usize;
    let bloom_words = 2;
    let buckets_at = gnu + 16 + 8 * bloom_words;
    for b in 0..3 {
        bytes[buckets_at + 4 * b..buckets_at + 4 * b + 4].fill(0);
    }
    out.push((
        "hash-missing-symbol",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    // A version definition whose vd_hash is not its name's, and one that repeats
    // another's index (Elf_Verdef: vd_ndx at +4, vd_hash at +8, vd_next at +16).
    let verdef = built.layout.verdef.unwrap() as usize;
    let mut bytes = built.bytes.clone();
    bytes[verdef + 8] ^= 0xff;
    out.push((
        "version-hash",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    let mut bytes = built.bytes.clone();
    let next = u32::from_le_bytes(bytes[verdef + 16..verdef + 20].try_into().unwrap()) as usize;
    bytes[verdef + next + 4..verdef + next + 6].copy_from_slice(&1u16.to_le_bytes());
    out.push((
        "version-index",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    out.push((
        "hidden-version",
        x86(&with(g(), |d| {
            let i = symbol(d, "__vdso_time");
            d.symbols[i].hidden = true;
        })),
    ));
    out.push((
        "nameless-symbols",
        x86(&with(g(), |d| {
            d.symbols.push(SymbolDesc::func("", 0, 0x40))
        })),
    ));
    // The checks of what the parser reads lazily, on the synthetic image.
    let clean = build(&good_desc()).bytes;
    let image = VdsoImage::parse(&clean).unwrap();
    let be = false;
    let mut bytes = clean.clone();
    put_u32(
        &mut bytes,
        image.symtab_offset() + image.syment(),
        0x7fff_fff0,
        be,
    );
    out.push((
        "unreadable-symbol",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    // The same entry, reached by the lookup of the spec symbol it is: a lookup
    // error, not a missing symbol.
    out.push((
        "lookup-error",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    let sysv = image.sysv_hash().unwrap();
    let mut bytes = clean.clone();
    put_u32(&mut bytes, sysv.offset() + sysv.entry_size(), 0, be);
    out.push((
        "hash-empty",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    let mut bytes = clean.clone();
    put_u32(
        &mut bytes,
        sysv.offset() + sysv.entry_size(),
        sysv.nchain() as u32 - 1,
        be,
    );
    out.push((
        "hash-inconsistent",
        findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes),
    ));
    out
}

#[test]
fn each_finding_id_has_a_counterexample_that_produces_it() {
    let cases = counterexamples();
    for (id, findings) in &cases {
        assert_finds(findings, id);
    }
    let covered: BTreeSet<&str> = cases.iter().map(|(id, _)| *id).collect();
    let catalogue: BTreeSet<&str> = FINDINGS.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(
        covered, catalogue,
        "every catalogued id needs a counterexample here"
    );
}

#[test]
fn severities_follow_the_catalogue_and_the_provider() {
    let cases = counterexamples();
    let find = |id: &str| &cases.iter().find(|(i, _)| *i == id).unwrap().1;
    let sev = |id: &str| find(id).iter().find(|f| f.id == id).unwrap().severity;
    assert_eq!(sev("missing-symbol"), Severity::Error);
    assert_eq!(sev("symbol-before-since"), Severity::Note);
    assert_eq!(sev("no-build-id"), Severity::Warning);
    // An RWX segment is an error for a kernel image, a note for QEMU's (spec: RWX).
    let rwx = build(&with(good_desc(), |d| d.load_flags = PF_RWX)).bytes;
    let qemu = findings_for("x86_64", Provider::Qemu, None, &rwx);
    let wx = qemu.iter().find(|f| f.id == "segment-wx").unwrap();
    assert_eq!(wx.severity, Severity::Note);
    assert_eq!(sev("segment-wx"), Severity::Error);
    // Findings point at what they are about.
    let needed = find("dt-needed")
        .iter()
        .find(|f| f.id == "dt-needed")
        .unwrap();
    assert!(needed.offset.is_some());
    let unknown = find("unknown-symbol")
        .iter()
        .find(|f| f.id == "unknown-symbol")
        .unwrap();
    assert_eq!(
        unknown.symbol.as_deref(),
        Some("__vdso_frobnicate@LINUX_2.6")
    );
    assert!(unknown.message.contains("spec/x86_64.yaml"));
}

#[test]
fn an_empty_relocation_table_is_not_a_finding() {
    let f = x86(&with(good_desc(), |d| {
        d.extra_dynamic = vec![(7, 0), (8, 0)]
    }));
    assert!(!ids(&f).contains("relocations"), "{f:#?}");
}

#[test]
fn config_options_make_symbols_required_or_unexpected() {
    let spec = builtin("x86_64").unwrap().unwrap();
    // The SGX enclave entry needs CONFIG_X86_SGX; 6.18's synthetic image lacks it.
    let without = build(&good_desc()).bytes;
    let with_it = build(&with(good_desc(), |d| {
        let mut sgx = d.symbols[0].clone();
        sgx.name = "__vdso_sgx_enter_enclave".into();
        sgx.value = 0x700;
        d.symbols.push(sgx);
    }))
    .bytes;
    let ctx = |config: &[&str]| {
        let mut c = KernelConfig::default();
        for o in config {
            c.set(o).unwrap();
        }
        Against {
            config: c,
            ..Against::new(&spec, Provider::Kernel, Some(KernelVersion::new(6, 18, 0)))
        }
    };
    let sgx_config = spec
        .symbols
        .iter()
        .find(|s| s.name == "__vdso_sgx_enter_enclave")
        .unwrap()
        .config
        .clone();
    assert!(!sgx_config.is_empty());
    let on: Vec<String> = sgx_config.iter().map(|c| format!("{c}=y")).collect();
    let on: Vec<&str> = on.iter().map(String::as_str).collect();
    // Unknown config: it may be absent.
    assert!(check_image_bytes(&ctx(&[]), &without).unwrap().is_empty());
    // Its option on: it is required.
    assert_finds(
        &check_image_bytes(&ctx(&on), &without).unwrap(),
        "missing-symbol",
    );
    // Its option off: present is unexpected.
    let off = format!("{}=n", sgx_config[0]);
    assert_finds(
        &check_image_bytes(&ctx(&[&off]), &with_it).unwrap(),
        "symbol-not-expected",
    );
    // A condition over options (ppc32's getcpu: CONFIG_PPC64 || !CONFIG_SMP)
    // is evaluated whole.
    let ppc32 = builtin("ppc32").unwrap().unwrap();
    let getcpu = ppc32
        .symbols
        .iter()
        .find(|s| s.name == "__kernel_getcpu")
        .unwrap();
    let expect = |opts: &[&str]| {
        let mut c = KernelConfig::default();
        opts.iter().for_each(|o| c.set(o).unwrap());
        vdsoconf_suite::checks::expectation_with_config(getcpu, Provider::Kernel, None, &c)
    };
    use vdsoconf_suite::checks::Expectation;
    assert!(matches!(
        expect(&["CONFIG_PPC64=n", "CONFIG_SMP=y"]),
        Expectation::NotExpected(_)
    ));
    assert!(matches!(
        expect(&["CONFIG_PPC64=n", "CONFIG_SMP=n"]),
        Expectation::Conditional(_) | Expectation::Required
    ));
    assert!(matches!(
        expect(&["CONFIG_SMP=y"]),
        Expectation::Conditional(_)
    ));
    assert!(KernelConfig::default().set("FOO=y").is_err());
    assert!(KernelConfig::default().set("CONFIG_FOO=maybe").is_err());
}

#[test]
fn diff_calls_an_addition_compatible_and_a_removal_breaking() {
    let old = build(&with(good_desc(), |d| {
        d.symbols.retain(|s| !s.name.contains("getrandom"))
    }))
    .bytes;
    let new = build(&good_desc()).bytes;
    let (a, b) = (
        VdsoImage::parse(&old).unwrap(),
        VdsoImage::parse(&new).unwrap(),
    );
    let added = diff_images(&a, &b).unwrap();
    assert!(
        !added.is_empty()
            && added
                .iter()
                .all(|c| c.kind == ChangeKind::Added && !c.breaking),
        "{added:#?}"
    );
    let removed = diff_images(&b, &a).unwrap();
    assert!(
        removed
            .iter()
            .all(|c| c.kind == ChangeKind::Removed && c.breaking),
        "{removed:#?}"
    );
    // A version move, a type change and a soname change break; so does a
    // binding no loader looks up (it is gone from the exports).
    let moved = build(&with(good_desc(), |d| {
        d.versions.push("LINUX_2.7".into());
        let i = symbol(d, "__vdso_time");
        d.symbols[i].version = Some(1);
        let j = symbol(d, "__vdso_getcpu");
        d.symbols[j].sym_type = 1;
        let k = symbol(d, "__vdso_gettimeofday");
        d.symbols[k].binding = 10; // STB_GNU_UNIQUE: no vDSO loader looks it up
        d.soname = Some("linux-vdso.so.2".into());
    }))
    .bytes;
    let c = VdsoImage::parse(&moved).unwrap();
    let kinds: BTreeSet<String> = diff_images(&b, &c)
        .unwrap()
        .iter()
        .filter(|c| c.breaking)
        .map(|c| format!("{:?} {}", c.kind, c.subject))
        .collect();
    for k in [
        "VersionMoved __vdso_time@LINUX_2.6",
        "TypeChanged __vdso_getcpu@LINUX_2.6",
        "Removed __vdso_gettimeofday@LINUX_2.6",
        "SonameChanged DT_SONAME",
    ] {
        assert!(kinds.contains(k), "{kinds:?}");
    }
    // GLOBAL to WEAK: every vDSO loader finds both, so nothing breaks.
    let weak = build(&with(good_desc(), |d| {
        let k = symbol(d, "__vdso_gettimeofday");
        d.symbols[k].binding = 2;
    }))
    .bytes;
    let changes = diff_images(&b, &VdsoImage::parse(&weak).unwrap()).unwrap();
    assert!(
        changes.len() == 1 && changes[0].kind == ChangeKind::BindingChanged && !changes[0].breaking,
        "{changes:#?}"
    );
    // Different architectures are refused.
    let i386 =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/i386/kernel-6.18.so"))
            .unwrap();
    assert!(diff_images(&b, &VdsoImage::parse(&i386).unwrap()).is_err());
}

/// A version definition flagged `VER_FLG_BASE` besides the real base: its name is
/// not the soname, and the symbols at it are exported without a version node (no
/// versioned lookup finds them, as in glibc and the kernel's `parse_vdso.c`).
#[test]
fn a_second_base_definition_is_reported() {
    let mut bytes = build(&good_desc()).bytes;
    let image = VdsoImage::parse(&bytes).unwrap();
    let def = image.version_defs().unwrap().by_index(2).unwrap().unwrap();
    assert_eq!(def.name, b"LINUX_2.6");
    let at = def.offset as usize + 2;
    bytes[at..at + 2].copy_from_slice(&1u16.to_le_bytes());
    let f = findings_for("x86_64", Provider::Kernel, Some("6.18"), &bytes);
    assert_finds(&f, "base-version-name");
    let unversioned: Vec<_> = f.iter().filter(|x| x.id == "unversioned-symbol").collect();
    assert!(
        unversioned
            .iter()
            .any(|x| x.text().contains("__vdso_clock_gettime")),
        "{f:#?}"
    );
}

/// Writes `value` as a u32 of `image`'s byte order at `offset`.
fn put_u32(bytes: &mut [u8], offset: u64, value: u32, big_endian: bool) {
    put(bytes, offset, 4, value.into(), big_endian);
}

/// Writes `value` as a `width`-byte unsigned integer at `offset`.
fn put(bytes: &mut [u8], offset: u64, width: u64, value: u64, big_endian: bool) {
    let (o, w) = (offset as usize, width as usize);
    let v = if big_endian {
        value.to_be_bytes()[8 - w..].to_vec()
    } else {
        value.to_le_bytes()[..w].to_vec()
    };
    bytes[o..o + w].copy_from_slice(&v);
}

/// Mutants of `data`: symbol `index`'s name offset out of range; the SysV
/// table's nchain 0; the GNU table's nbuckets 0; the SysV table one symbol short.
fn mutants(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let image = VdsoImage::parse(data).unwrap();
    let be = image.endian().name() == "big";
    let mut out = Vec::new();
    for index in 1..image.symbol_count() {
        let mut m = data.to_vec();
        put_u32(
            &mut m,
            image.symtab_offset() + index * image.syment(),
            0x7fff_fff0,
            be,
        );
        out.push((format!("symbol {index} named out of range"), m));
    }
    if let Some(t) = image.sysv_hash() {
        let (nchain_at, width) = (t.offset() + t.entry_size(), t.entry_size());
        let mut m = data.to_vec();
        put(&mut m, nchain_at, width, 0, be);
        out.push(("DT_HASH nchain 0".into(), m));
        if image.gnu_hash().is_some() {
            let mut m = data.to_vec();
            put(&mut m, nchain_at, width, t.nchain() - 1, be);
            out.push(("DT_HASH one symbol short of DT_GNU_HASH".into(), m));
        }
    }
    if let Some(t) = image.gnu_hash() {
        let mut m = data.to_vec();
        put_u32(&mut m, t.offset(), 0, be);
        out.push(("DT_GNU_HASH nbuckets 0".into(), m));
    }
    out
}

/// Every fixture, with the spec of its directory (and arm's also as arm64-compat).
fn fixtures_with_arch() -> Vec<(String, std::path::PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for arch_dir in std::fs::read_dir(&root).unwrap().flatten() {
        let arch = arch_dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(arch_dir.path()) else {
            continue;
        };
        for f in files.flatten() {
            if f.path().extension().is_some_and(|e| e == "so") {
                out.push((arch.clone(), f.path()));
                if arch == "arm" {
                    out.push(("arm64-compat".into(), f.path()));
                }
            }
        }
    }
    out
}

/// What `vdsoconf symbols` refuses, and empty or inconsistent hash tables, are
/// errors of `check-image` (or images it cannot read at all), and `diff` refuses
/// them: on every fixture, for every symbol.
#[test]
fn check_image_and_diff_refuse_every_mutant_symbols_refuses() {
    let mut tried = 0;
    for (arch, path) in fixtures_with_arch() {
        let data = std::fs::read(&path).unwrap();
        let original = VdsoImage::parse(&data).unwrap();
        for (what, m) in mutants(&data) {
            let Ok(image) = VdsoImage::parse(&m) else {
                continue; // unreadable as a whole: every command refuses it
            };
            tried += 1;
            let symbols_refuses = image.symbols().any(|s| s.is_err());
            let findings = findings_for(&arch, Provider::Qemu, None, &m);
            let new_errors: Vec<&Finding> = findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.id,
                        "unreadable-symbol" | "hash-empty" | "hash-inconsistent"
                    )
                })
                .collect();
            assert!(
                !new_errors.is_empty() && new_errors.iter().all(|f| f.severity == Severity::Error),
                "{} as {arch}, {what}: symbols refuses it: {symbols_refuses}; findings {findings:#?}",
                path.display()
            );
            assert!(
                diff_images(&original, &image).is_err(),
                "{} as {arch}, {what}: diff accepted it",
                path.display()
            );
        }
    }
    assert!(tried > 100, "only {tried} mutants could be parsed");
}

/// An image of another architecture stops at the header: one finding, naming
/// the spec that fits it.
#[test]
fn an_image_of_another_architecture_is_one_finding_naming_its_spec() {
    let i386 =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/i386/kernel-6.18.so"))
            .unwrap();
    let f = findings_for("x86_64", Provider::Kernel, Some("6.18"), &i386);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].id, "elf-class");
    assert!(f[0].message.contains("--arch i386"), "{f:#?}");
    let aarch64 = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/aarch64/qemu-10.0-le.so"),
    )
    .unwrap();
    let f = findings_for("x86_64", Provider::Kernel, None, &aarch64);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].id, "elf-machine");
    assert!(f[0].message.contains("--arch aarch64"), "{f:#?}");
}

/// No finding's message repeats the symbol it is about (`X: X is missing`):
/// the symbol is shown once, before it.
#[test]
fn messages_do_not_repeat_their_symbol() {
    let g = good_desc;
    let images = [
        with(g(), |d| d.symbols.retain(|s| s.name != "__vdso_time")),
        with(g(), |d| {
            let i = symbol(d, "__vdso_getcpu");
            d.symbols[i].size = 0;
            let j = symbol(d, "getcpu");
            d.symbols[j].value = 0x7000;
        }),
        with(g(), |d| {
            d.symbols
                .push(SymbolDesc::func("__vdso_clock_getres_time64", 0, 0x300))
        }),
    ];
    let mut seen = 0;
    for desc in &images {
        for f in x86(desc) {
            if let Some(s) = &f.symbol {
                let name = s.split('@').next().unwrap();
                assert!(!f.message.contains(s.as_str()), "{f:#?}");
                assert!(!f.message.starts_with(name), "{f:#?}");
                assert!(f.text().starts_with(s.as_str()), "{f:#?}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "{seen}");
}

/// The kernel version note every kernel's vDSO carries is read, in both byte
/// orders, and QEMU's images have none.
#[test]
fn the_kernel_version_comes_from_the_image() {
    use vdsoconf_suite::checks::image::kernel_of;
    for big_endian in [false, true] {
        let bytes = build(&with(good_desc(), |d| {
            d.big_endian = big_endian;
            d.linux_version = Some((7 << 16) | (3 << 8) | 4);
        }))
        .bytes;
        let image = VdsoImage::parse(&bytes).unwrap();
        assert_eq!(kernel_of(&image), Some(KernelVersion::new(7, 3, 4)));
        assert!(
            image.build_id().unwrap().is_some(),
            "the build-id is still found"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let kernel = std::fs::read(root.join("x86_64/kernel-6.18.so")).unwrap();
    let found = kernel_of(&VdsoImage::parse(&kernel).unwrap()).unwrap();
    assert_eq!((found.major, found.minor), (6, 18), "{found}");
    let qemu = std::fs::read(root.join("x86_64/qemu-10.0.so")).unwrap();
    assert_eq!(kernel_of(&VdsoImage::parse(&qemu).unwrap()), None);
}

/// The entry of an unknown symbol is ready to paste: its kind comes from its
/// name, its `since` from the kernel, and pasted into the spec it makes the
/// finding go away; an unknown kind is a placeholder the spec loader refuses;
/// an alias of a spec symbol is an alias line. Findings name the spec file
/// they were checked against.
#[test]
fn an_unknown_symbol_comes_with_its_spec_entry() {
    use vdsoconf_suite::spec::parse_spec;
    let spec_text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/x86_64.yaml"))
            .unwrap();
    let spec = parse_spec("my/x86_64.yaml", Some("x86_64"), &spec_text).unwrap();
    let check = |spec: &vdsoconf_suite::spec::ArchSpec, desc: &ImageDesc| {
        let ctx = Against {
            spec_file: Some("my/x86_64.yaml".into()),
            ..Against::new(spec, Provider::Kernel, Some(KernelVersion::new(7, 3, 0)))
        };
        check_image_bytes(&ctx, &build(desc).bytes).unwrap()
    };
    let new_symbol = with(good_desc(), |d| {
        d.symbols
            .push(SymbolDesc::func("__vdso_clock_getres_time64", 0, 0x300))
    });
    let f = check(&spec, &new_symbol);
    let unknown = f.iter().find(|f| f.id == "unknown-symbol").expect("found");
    assert!(unknown.message.contains("my/x86_64.yaml"), "{unknown:#?}");
    let entry = unknown.entry.as_deref().expect("an entry");
    assert!(entry.contains("kind: clock_getres_time64"), "{entry}");
    assert!(entry.contains("since: \"7.3\""), "{entry}");
    assert!(
        entry.contains("prototype: \"int __vdso_clock_getres_time64("),
        "{entry}"
    );
    // Pasted at the end of `symbols:`, it loads and answers the finding.
    let at = spec_text.find("\nvsyscall_page:").unwrap();
    let edited = format!("{}\n{entry}{}", &spec_text[..at], &spec_text[at..]);
    let fixed = parse_spec("my/x86_64.yaml", Some("x86_64"), &edited)
        .unwrap_or_else(|e| panic!("{e}\n{edited}"));
    let again = check(&fixed, &new_symbol);
    assert!(!ids(&again).contains("unknown-symbol"), "{again:#?}");
    // A name that says nothing: the placeholder, which the loader refuses.
    let odd = with(good_desc(), |d| {
        d.symbols
            .push(SymbolDesc::func("__vdso_frobnicate", 0, 0x300))
    });
    let f = check(&spec, &odd);
    let entry = f.iter().find_map(|f| f.entry.clone()).expect("an entry");
    assert!(entry.contains("FILL_IN"), "{entry}");
    let pasted = format!("{}\n{entry}{}", &spec_text[..at], &spec_text[at..]);
    let refused = parse_spec("my/x86_64.yaml", Some("x86_64"), &pasted)
        .unwrap_err()
        .to_string();
    assert!(refused.starts_with("my/x86_64.yaml:"), "{refused}");
    // An alias of a known function: add it to that entry's aliases.
    let alias = with(good_desc(), |d| {
        let i = symbol(d, "__vdso_time");
        let mut a = d.symbols[i].clone();
        a.name = "vdso_time".into();
        d.symbols.push(a);
    });
    let f = check(&spec, &alias);
    let entry = f.iter().find_map(|f| f.entry.clone()).expect("an entry");
    assert!(entry.contains("aliases: [time, vdso_time]"), "{entry}");
}

/// SPARC's STT_REGISTER entries (undefined, declaring %g2/%g3) import
/// nothing: not an undefined symbol on sparc64, and still one elsewhere.
#[test]
fn sparc_register_symbols_are_not_imports() {
    let register = |d: &mut ImageDesc| {
        let mut r = SymbolDesc::func("", 0, 2);
        r.defined = false;
        r.sym_type = 13;
        r.version = None;
        r.size = 0;
        d.symbols.insert(0, r);
    };
    let on_x86 = x86(&with(good_desc(), register));
    assert_finds(&on_x86, "undefined-symbol");
    let sparc = with(good_desc(), |d| {
        register(d);
        d.machine = 43;
        d.big_endian = true;
    });
    let f = findings_for("sparc64", Provider::Kernel, None, &build(&sparc).bytes);
    assert!(!ids(&f).contains("undefined-symbol"), "{f:#?}");
}
