//! `vdsoconf diff`'s judgement: aliases that move, bindings loaders treat
//! alike, and removals a kernel configuration explains.

use vdsoconf_suite::checks::diff::{annotate, diff_images, Change, ChangeKind, Judged};
use vdsoconf_suite::checks::KernelConfig;
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::spec::builtin;
use vdsoconf_synth::{build, ImageDesc};

fn image_with(change: impl FnOnce(&mut ImageDesc)) -> Vec<u8> {
    let mut d = ImageDesc::x86_64_kernel_6_18();
    change(&mut d);
    build(&d).bytes
}

fn value_of(d: &ImageDesc, name: &str) -> u64 {
    d.symbols.iter().find(|s| s.name == name).unwrap().value
}

fn set_value(d: &mut ImageDesc, name: &str, value: u64) {
    d.symbols.iter_mut().find(|s| s.name == name).unwrap().value = value;
}

fn diff(old: &[u8], new: &[u8]) -> Vec<Change> {
    diff_images(
        &VdsoImage::parse(old).unwrap(),
        &VdsoImage::parse(new).unwrap(),
    )
    .unwrap()
}

#[test]
fn an_alias_moved_to_another_function_is_a_break() {
    let old = image_with(|_| {});
    // clock_getres now points at clock_gettime's code.
    let new = image_with(|d| {
        let to = value_of(d, "__vdso_clock_gettime");
        set_value(d, "clock_getres", to);
    });
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!(c.kind, ChangeKind::AliasMoved);
    assert!(c.breaking);
    assert_eq!(c.subject, "clock_getres@LINUX_2.6");
    assert_eq!(
        c.old.as_deref(),
        Some("the function of __vdso_clock_getres@LINUX_2.6")
    );
    assert!(
        c.new
            .as_deref()
            .unwrap()
            .contains("__vdso_clock_gettime@LINUX_2.6"),
        "{c:#?}"
    );
    // The spec names it an alias of __vdso_clock_getres.
    let spec = builtin("x86_64").unwrap().unwrap();
    let mut judged = changes.clone();
    annotate(&mut judged, &Judged::by(&spec));
    assert_eq!(
        judged[0].spec.as_deref(),
        Some("the spec has it as an alias of __vdso_clock_getres")
    );
}

#[test]
fn an_alias_split_off_its_function_is_a_break_and_moved_code_is_not() {
    let old = image_with(|_| {});
    // Everything moved by the same amount: no change at all.
    let shifted = image_with(|d| d.symbols.iter_mut().for_each(|s| s.value += 0x400));
    assert!(diff(&old, &shifted).is_empty());
    // gettimeofday is now a function of its own.
    let split = image_with(|d| set_value(d, "gettimeofday", 0x800));
    let changes = diff(&old, &split);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].kind, ChangeKind::AliasMoved);
    assert_eq!(changes[0].new.as_deref(), Some("a function of its own"));
}

#[test]
fn a_removal_the_new_configuration_explains_is_not_a_break() {
    let spec = builtin("x86_64").unwrap().unwrap();
    // Kernels built with CONFIG_X86_SGX export the enclave entry.
    let with_sgx = |d: &mut ImageDesc| {
        let mut sgx = d.symbols[0].clone();
        sgx.name = "__vdso_sgx_enter_enclave".into();
        sgx.value = 0x700;
        d.symbols.push(sgx);
    };
    let old = image_with(with_sgx);
    let new = image_with(|_| {});
    let option = &spec
        .symbols
        .iter()
        .find(|s| s.name == "__vdso_sgx_enter_enclave")
        .unwrap()
        .config[0];
    let judge = |new_config: KernelConfig| {
        let mut changes = diff(&old, &new);
        annotate(
            &mut changes,
            &Judged {
                new_config,
                ..Judged::by(&spec)
            },
        );
        changes
    };
    // Unknown configuration: a break, saying which option to compare.
    let unknown = judge(KernelConfig::default());
    assert!(unknown
        .iter()
        .all(|c| c.breaking && c.configuration.is_none()));
    assert!(
        unknown[0]
            .spec
            .as_deref()
            .unwrap()
            .contains(option.as_str()),
        "{unknown:#?}"
    );
    // Off in the new build: a configuration difference, not a break.
    let mut off = KernelConfig::default();
    off.set(&format!("{option}=n")).unwrap();
    let explained = judge(off);
    assert_eq!(explained.len(), 1, "{explained:#?}");
    for c in &explained {
        assert!(!c.breaking, "{c:#?}");
        assert_eq!(c.class(), "configuration");
        assert_eq!(
            c.configuration.as_deref(),
            Some(format!("{option}=n in the new build").as_str())
        );
    }
    // A whole .config that leaves the option out says the same.
    let mut whole = KernelConfig::default();
    whole
        .read_dotconfig("CONFIG_X86_64=y\n", "new/.config")
        .unwrap();
    assert!(judge(whole).iter().all(|c| !c.breaking));
    // On in the new build: the removal is a real break.
    let mut on = KernelConfig::default();
    on.set(&format!("{option}=y")).unwrap();
    let broken = judge(on);
    assert!(broken
        .iter()
        .all(|c| c.breaking && c.configuration.is_none()));
}
