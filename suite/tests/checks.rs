//! Each image check fails on a deliberately wrong image, with a useful message.

use vdsoconf_suite::checks::image::{
    check_inventory, check_presence, check_resolve, check_soname, check_versions,
};
use vdsoconf_suite::checks::{CheckResult, Verdict};
use vdsoconf_suite::elf::{VdsoImage, STT_NOTYPE};
use vdsoconf_suite::spec::{builtin, ArchSpec, KernelVersion, Provider};
use vdsoconf_synth::{build, ImageDesc, SymbolDesc};

const K618: Option<KernelVersion> = Some(KernelVersion::new(6, 18, 0));

fn x86_64() -> ArchSpec {
    builtin("x86_64").unwrap().unwrap()
}

/// A synthetic image with the x86_64 symbol set of kernel 6.18.
fn good_desc() -> ImageDesc {
    ImageDesc::x86_64_kernel_6_18()
}

fn failed(r: &CheckResult, needle: &str) {
    match &r.verdict {
        Verdict::Fail { message } => {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        v => panic!("expected a failure mentioning {needle:?}, got {v:?}"),
    }
}

fn resolve_all(spec: &ArchSpec, img: &VdsoImage<'_>) -> Vec<(String, CheckResult)> {
    let mut out = Vec::new();
    for (i, s) in spec.symbols.iter().enumerate() {
        for n in s.names() {
            out.push((
                n.to_string(),
                check_resolve(spec, Provider::Kernel, K618, img, i, n),
            ));
        }
    }
    out
}

#[test]
fn a_conforming_image_passes() {
    let spec = x86_64();
    let built = build(&good_desc());
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert!(check_soname(&spec, Provider::Kernel, K618, &img).is_pass());
    assert!(check_versions(&spec, &img).is_pass());
    assert!(check_inventory(&spec, Provider::Kernel, K618, &img).is_pass());
    for (name, r) in resolve_all(&spec, &img) {
        assert!(!r.is_fail(), "{name}: {r:?}");
    }
}

#[test]
fn missing_symbol_fails_but_an_excused_one_is_skipped() {
    let spec = x86_64();
    let mut d = good_desc();
    d.symbols
        .retain(|s| s.name != "__vdso_getcpu" && !s.name.contains("getrandom"));
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let results = resolve_all(&spec, &img);
    let get = |n: &str| &results.iter().find(|(name, _)| name == n).unwrap().1;
    failed(get("__vdso_getcpu"), "__vdso_getcpu@LINUX_2.6: missing");
    // The SGX entry needs CONFIG_X86_SGX: absent is a skip with that reason.
    match &get("__vdso_sgx_enter_enclave").verdict {
        Verdict::Skip { reason } => assert!(reason.contains("CONFIG_X86_SGX"), "{reason}"),
        v => panic!("{v:?}"),
    }
    // On 6.1 it is not expected at all.
    let r = check_resolve(
        &spec,
        Provider::Kernel,
        Some(KernelVersion::new(6, 1, 0)),
        &img,
        5,
        "__vdso_getrandom",
    );
    assert!(
        matches!(r.verdict, Verdict::Skip { ref reason } if reason.contains("6.11")),
        "{r:?}"
    );
}

#[test]
fn moved_version_wrong_type_and_split_alias_fail() {
    let spec = x86_64();
    let mut d = good_desc();
    d.versions.push("LINUX_9".into());
    for s in &mut d.symbols {
        match s.name.as_str() {
            "__vdso_time" => s.version = Some(1),
            "__vdso_getcpu" => s.sym_type = STT_NOTYPE,
            "clock_getres" => s.value += 8,
            _ => {}
        }
    }
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let results = resolve_all(&spec, &img);
    let get = |n: &str| &results.iter().find(|(name, _)| name == n).unwrap().1;
    failed(
        get("__vdso_time"),
        "exported at LINUX_9 instead of LINUX_2.6",
    );
    failed(
        get("__vdso_getcpu"),
        "ELF type is NOTYPE, the spec says FUNC",
    );
    failed(get("clock_getres"), "alias at");
    failed(
        &check_versions(&spec, &img),
        "LINUX_9: unknown version node",
    );
}

#[test]
fn unknown_symbols_fail_the_inventory_and_early_ones_are_notes() {
    let spec = x86_64();
    let mut d = good_desc();
    d.symbols
        .push(SymbolDesc::func("__vdso_brand_new", 0, 0x40));
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    failed(
        &check_inventory(&spec, Provider::Kernel, K618, &img),
        "__vdso_brand_new@LINUX_2.6",
    );
    // getrandom on a 6.10 kernel: known, present early: a note, not a failure.
    let built = build(&good_desc());
    let img = VdsoImage::parse(&built.bytes).unwrap();
    let r = check_inventory(
        &spec,
        Provider::Kernel,
        Some(KernelVersion::new(6, 10, 0)),
        &img,
    );
    assert!(r.is_pass(), "{r:?}");
    assert!(
        r.notes.iter().any(
            |n| n.contains("__vdso_getrandom@LINUX_2.6: present although first in kernel 6.11")
        ),
        "{:?}",
        r.notes
    );
}

#[test]
fn wrong_soname_and_missing_verdef_fail() {
    let spec = x86_64();
    let mut d = good_desc();
    d.soname = Some("linux-gate.so.1".into());
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    failed(
        &check_soname(&spec, Provider::Kernel, K618, &img),
        "\"linux-gate.so.1\"",
    );
    let mut d = good_desc();
    d.verdef = false;
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    failed(&check_versions(&spec, &img), "no DT_VERDEF");
    let r = check_resolve(
        &spec,
        Provider::Kernel,
        K618,
        &img,
        0,
        "__vdso_clock_gettime",
    );
    failed(&r, "DT_VERDEF");
}

#[test]
fn presence_follows_the_provider_spec() {
    let mips = builtin("mips-o32").unwrap().unwrap();
    let r = check_presence(&mips, Provider::Qemu, false);
    assert!(r.is_pass() && r.notes[0].contains("no vDSO"), "{r:?}");
    failed(
        &check_presence(&mips, Provider::Qemu, true),
        "says qemu gives none",
    );
    failed(
        &check_presence(&x86_64(), Provider::Kernel, false),
        "AT_SYSINFO_EHDR is absent",
    );
    let arm = builtin("arm").unwrap().unwrap();
    assert!(matches!(
        check_presence(&arm, Provider::Kernel, false).verdict,
        Verdict::Skip { .. }
    ));
}

#[test]
fn a_trampoline_outside_the_executable_segment_fails() {
    use vdsoconf_suite::checks::live::trampoline::check_trampoline;
    let spec = builtin("aarch64").unwrap().unwrap();
    let tramp = spec
        .symbols
        .iter()
        .find(|s| s.name == "__kernel_rt_sigreturn")
        .unwrap();
    let mut d = ImageDesc::x86_64_like(&[]);
    d.machine = 183;
    d.versions = vec!["LINUX_2.6.39".into()];
    d.symbols = vec![SymbolDesc {
        sym_type: STT_NOTYPE,
        ..SymbolDesc::func("__kernel_rt_sigreturn", 0, 0x20)
    }];
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    assert!(check_trampoline(&img, tramp).is_pass());
    d.symbols[0].value = 0x10_0000; // far beyond the only PT_LOAD
    let built = build(&d);
    let img = VdsoImage::parse(&built.bytes).unwrap();
    failed(
        &check_trampoline(&img, tramp),
        "is not inside an executable PT_LOAD",
    );
}

/// `Group::ALL` lists every group a plan can hold (the reports and the matrix
/// columns iterate it).
#[test]
fn every_planned_group_is_in_group_all() {
    use vdsoconf_suite::checks::{plan, Group};
    use vdsoconf_suite::spec::{builtin, builtin_arches};
    for arch in builtin_arches() {
        for check in plan(&builtin(arch).unwrap().unwrap()) {
            assert!(
                Group::ALL.contains(&check.group),
                "{arch}: {:?}",
                check.group
            );
        }
    }
}
