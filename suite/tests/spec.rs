//! The spec loader: every built-in spec is valid, bad specs fail with file:line:column.

use vdsoconf_suite::spec::{builtin, builtin_arches, parse_spec, ArchSpec, KernelVersion};

#[test]
fn every_builtin_spec_loads_and_names_its_file() {
    let arches: Vec<_> = builtin_arches().collect();
    for required in [
        "x86_64",
        "i386",
        "x32",
        "aarch64",
        "arm64-compat",
        "arm",
        "ppc32",
        "ppc64",
        "s390x",
        "s390-compat",
        "riscv64",
        "riscv32",
        "mips-o32",
        "mips-n32",
        "mips-n64",
        "loongarch64",
        "csky",
        "sparc64",
        "parisc",
        "parisc64",
        "ia64",
    ] {
        assert!(arches.contains(&required), "no spec for {required}");
    }
    for arch in arches {
        let spec = builtin(arch).unwrap().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.arch, arch);
    }
}

#[test]
fn builtin_specs_survive_a_serialize_parse_round_trip() {
    for arch in builtin_arches() {
        let spec = builtin(arch).unwrap().unwrap();
        let text = serde_saphyr::to_string(&spec).unwrap();
        let again: ArchSpec = parse_spec("roundtrip.yaml", None, &text)
            .unwrap_or_else(|e| panic!("{arch}: {e}\n{text}"));
        assert_eq!(spec, again, "{arch}");
    }
}

fn x86_64_text() -> String {
    vdsoconf_suite::spec::BUILTIN_SPECS
        .iter()
        .find(|(a, _)| *a == "x86_64")
        .unwrap()
        .1
        .to_string()
}

fn error_for(text: &str) -> String {
    parse_spec("spec/x86_64.yaml", Some("x86_64"), text)
        .unwrap_err()
        .to_string()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn unknown_field_is_rejected_with_its_line() {
    let text = x86_64_text().replace("    kind: time\n", "    kind: time\n    colour: blue\n");
    let err = error_for(&text);
    let line = line_of(&text, "colour: blue");
    assert!(
        err.starts_with(&format!("spec/x86_64.yaml:{line}:")),
        "{err}"
    );
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn unknown_version_node_points_at_the_symbol_version() {
    let text = x86_64_text().replacen(
        "    version: LINUX_2.6\n    kind: time",
        "    version: LINUX_9\n    kind: time",
        1,
    );
    let err = error_for(&text);
    let line = line_of(&text, "LINUX_9");
    assert_eq!(err, format!(
        "spec/x86_64.yaml:{line}:14: symbol __vdso_time: version LINUX_9 is not a version node of this spec (known: LINUX_2.6)"
    ));
}

#[test]
fn unquoted_or_uncertain_kernel_versions_are_rejected() {
    let text = x86_64_text().replace("since: \"6.11\"", "since: 6.10");
    let err = error_for(&text);
    assert!(err.contains("must be quoted"), "{err}");
    assert!(
        err.starts_with(&format!(
            "spec/x86_64.yaml:{}:",
            line_of(&text, "since: 6.10")
        )),
        "{err}"
    );
    let text = x86_64_text().replace("since: \"6.11\"", "since: \"6.11?\"");
    assert!(error_for(&text).contains("since_confidence"));
}

#[test]
fn duplicate_symbols_and_bad_clocks_are_rejected() {
    let text = x86_64_text().replace("aliases: [time]", "aliases: [gettimeofday]");
    let err = error_for(&text);
    assert!(
        err.contains("gettimeofday@LINUX_2.6 is defined twice"),
        "{err}"
    );
    let text = x86_64_text().replace(
        "fallback: [PROCESS_CPUTIME_ID",
        "fallback: [REALTIME, PROCESS_CPUTIME_ID",
    );
    assert!(error_for(&text).contains("both served and fallback"));
    let text = x86_64_text().replace("served: [REALTIME,", "served: [REALTIME_SLOW,");
    assert!(error_for(&text).contains("unknown clock"));
}

#[test]
fn arch_must_match_the_file_name() {
    let err = parse_spec("spec/i386.yaml", Some("i386"), &x86_64_text()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("spec/i386.yaml:3:7: arch \"x86_64\""),
        "{err}"
    );
}

#[test]
fn broken_yaml_is_an_error_with_a_location() {
    for text in ["arch: [", "\u{0}", "arch: x86_64\n  bad indent: : :", ""] {
        let err = parse_spec("f.yaml", None, text).unwrap_err();
        assert!(!err.message.is_empty());
    }
}

#[test]
fn s390x_has_eight_byte_hash_entries() {
    let spec = builtin("s390x").unwrap().unwrap();
    assert_eq!(spec.elf.sysv_hash_entry_size, 8);
    let getrandom = spec
        .symbols
        .iter()
        .find(|s| s.name == "__kernel_getrandom")
        .unwrap();
    assert_eq!(getrandom.since, Some(KernelVersion::new(6, 12, 0)));
}

#[test]
fn the_example_in_spec_readme_is_a_valid_spec() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/README.md")).unwrap();
    let start = readme.find("```yaml\n").unwrap() + "```yaml\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let spec =
        parse_spec("spec/README.md", Some("aarch64"), example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.symbols.len(), 2);
    assert!(spec.symbols[0]
        .provider_elf_type
        .contains_key(&vdsoconf_suite::spec::Provider::Qemu));
}
