//! Checks that need only the image: presence, soname, versions, resolve, inventory.
//! Apart from presence (a fact about the process), each is a view of the findings
//! of the one static engine, `check-image`'s ([`super::findings`]): the same ids,
//! the same messages, the same verdict.

use super::findings::{examine, Against, Examination, Finding, Severity};
use super::group::{About, CheckGroup, ImageContext, Runs};
use super::plan::{describe, Case, Group, PlannedCheck};
use super::result::{CheckResult, Problem};
use crate::elf::{Symbol, SymbolVersion, VdsoImage, SHN_ABS, STT_FUNC, STT_NOTYPE, STT_OBJECT};
use crate::spec::{ArchSpec, ElfSymbolType, KernelVersion, Provider, SymbolSpec, VdsoPresence};

/// The `vdso` group: is there a vDSO, as the provider's spec says?
pub struct PresenceGroup;
pub static PRESENCE: PresenceGroup = PresenceGroup;

impl CheckGroup for PresenceGroup {
    fn about(&self) -> About {
        About {
            group: Group::Vdso,
            name: "vdso",
            what: "a vDSO is mapped exactly when the provider's spec says so",
            column: None,
            runs: Runs::OnImage,
        }
    }

    fn plan(&self, _: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        add(
            "present".into(),
            Case::default(),
            "the provider's `vdso:` setting".into(),
        );
    }

    fn on_image(&self, _: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        match &ctx.present {
            Ok(Some(present)) => check_presence(&ctx.target.spec, ctx.target.provider, *present),
            Ok(None) => CheckResult::pass(),
            Err(r) => r.clone(),
        }
    }
}

/// The `image` group: the soname, the version definitions, and the rest of
/// the static engine's findings, a row per part of the image.
pub struct ImageGroup;
pub static IMAGE: ImageGroup = ImageGroup;

const SONAME: &str = "soname";
const VERSIONS: &str = "versions";

/// The rows of the `image` group after `soname` and `versions`: subject, what
/// it checks, and the findings it shows. With the soname, versions, resolve
/// and inventory rows they show every finding of the engine (a test says so).
const PARTS: &[(&str, &str, &[&str])] = &[
    (
        "header",
        "the ELF header is the architecture's (class, byte order, machine, OS ABI, ET_DYN)",
        &["elf-class", "elf-endian", "elf-machine", "elf-osabi", "elf-type"],
    ),
    (
        "segments",
        "one PT_LOAD holding PT_DYNAMIC, no PT_INTERP, nothing writable and executable (unless the provider's spec says so)",
        &["pt-interp", "pt-load-count", "pt-dynamic-outside-load", "segment-wx"],
    ),
    (
        "dynamic",
        "no DT_NEEDED, no relocations, no text relocations",
        &["dt-needed", "relocations", "textrel"],
    ),
    (
        "symbols",
        "every dynamic symbol readable, defined, versioned, and each function sized and inside the executable segment",
        &[
            "unreadable-symbol",
            "undefined-symbol",
            "unversioned-symbol",
            "function-size",
            "function-outside-exec",
        ],
    ),
    (
        "hash",
        "the hash tables are of the architecture's entry size, not empty, agree on the symbol count, and resolve every export alike",
        &[
            "hash-entry-size",
            "hash-empty",
            "hash-inconsistent",
            "hash-missing-symbol",
            "hash-disagree",
        ],
    ),
    ("notes", "a GNU build-id note", &["no-build-id"]),
];

impl CheckGroup for ImageGroup {
    fn about(&self) -> About {
        About {
            group: Group::Image,
            name: "image",
            what: "the image's soname, version nodes, ELF header, segments, dynamic section, symbol table, hash tables and notes: every finding of `check-image`, a row per part",
            column: None,
            runs: Runs::OnImage,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        let list = |names: Vec<&str>| names.join(", ");
        add(
            SONAME.into(),
            Case::default(),
            format!(
                "DT_SONAME is one of {}",
                list(spec.sonames.iter().map(|s| s.name.as_str()).collect())
            ),
        );
        add(
            VERSIONS.into(),
            Case::default(),
            format!(
                "version definitions are the base plus {}",
                list(spec.versions.iter().map(|v| v.name.as_str()).collect())
            ),
        );
        for (subject, what, _) in PARTS {
            add((*subject).into(), Case::default(), (*what).into());
        }
    }

    fn on_image(&self, check: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        let seen = match ctx.examination() {
            Ok(seen) => seen,
            Err(r) => return r,
        };
        match check.subject.as_str() {
            SONAME => soname_row(seen),
            VERSIONS => versions_row(seen),
            other => match PARTS.iter().find(|(subject, _, _)| *subject == other) {
                Some((_, _, ids)) => view(with_ids(&seen.findings, ids)),
                None => CheckResult::fail(format!("no image check {other}")),
            },
        }
    }
}

/// The `resolve` group: each symbol, and each alias, at its version.
pub struct ResolveGroup;
pub static RESOLVE: ResolveGroup = ResolveGroup;

impl CheckGroup for ResolveGroup {
    fn about(&self) -> About {
        About {
            group: Group::Resolve,
            name: "resolve",
            what: "each spec symbol and alias is exported at its version with the right ELF type; aliases share the address",
            column: Some("resolve"),
            runs: Runs::OnImage,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            for name in sym.names() {
                let what = if name == sym.name {
                    describe(sym)
                } else {
                    format!("alias of {}", describe(sym))
                };
                let case = Case {
                    name: Some(name.to_string()),
                    ..Case::symbol(i)
                };
                add(format!("{name}@{}", sym.version), case, what);
            }
        }
    }

    fn on_image(&self, check: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        let seen = match ctx.examination() {
            Ok(seen) => seen,
            Err(r) => return r,
        };
        match (check.case.spec_symbol(&ctx.target.spec), &check.case.name) {
            (Ok(sym), Some(name)) => resolve_row(seen, name, &sym.version),
            (Err(r), _) => r,
            (_, None) => CheckResult::fail("the plan named no symbol name"),
        }
    }
}

/// The `inventory` group: what the image exports beyond the spec.
pub struct InventoryGroup;
pub static INVENTORY: InventoryGroup = InventoryGroup;

impl CheckGroup for InventoryGroup {
    fn about(&self) -> About {
        About {
            group: Group::Inventory,
            name: "inventory",
            what: "the image exports nothing the spec does not know",
            column: None,
            runs: Runs::OnImage,
        }
    }

    fn plan(&self, _: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        add(
            String::new(),
            Case::default(),
            "every exported symbol is in the spec".into(),
        );
    }

    fn on_image(&self, _: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        match ctx.examination() {
            Ok(seen) => inventory_row(seen, &ctx.target.spec.arch),
            Err(r) => r,
        }
    }
}

/// The vDSO is there exactly when the provider's spec says it is.
pub fn check_presence(spec: &ArchSpec, provider: Provider, present: bool) -> CheckResult {
    let p = spec.providers.get(provider);
    let why = p
        .notes
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    match (p.vdso, present) {
        (VdsoPresence::Present | VdsoPresence::Optional, true) => CheckResult::pass(),
        (VdsoPresence::Present, false) => CheckResult::fail(format!(
            "no vDSO: AT_SYSINFO_EHDR is absent, but {} always maps one for {} (booted with vdso=0?)",
            provider.name(),
            spec.arch
        )),
        (VdsoPresence::Absent, false) => CheckResult::pass().with_notes(vec![format!(
            "no vDSO, as the spec says for {}{why}",
            provider.name()
        )]),
        (VdsoPresence::Absent, true) => CheckResult::fail(format!(
            "a vDSO is mapped, but spec/{}.yaml says {} gives none: update providers.{}.vdso",
            spec.arch,
            provider.name(),
            provider.name()
        )),
        (VdsoPresence::Optional, false) => {
            CheckResult::skip(format!("no vDSO; it is optional for {}{why}", provider.name()))
        }
    }
}

pub(crate) fn in_range(
    since: Option<KernelVersion>,
    until: Option<KernelVersion>,
    k: Option<KernelVersion>,
) -> bool {
    match k {
        None => true,
        Some(k) => since.is_none_or(|s| k >= s) && until.is_none_or(|u| k < u),
    }
}

pub(crate) fn type_ok(
    sym: &SymbolSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    found: u8,
) -> Result<(), String> {
    let declared = sym
        .provider_elf_type
        .get(&provider)
        .copied()
        .unwrap_or(sym.elf_type);
    let wanted = match declared {
        ElfSymbolType::Func => STT_FUNC,
        ElfSymbolType::Notype => STT_NOTYPE,
        ElfSymbolType::Object => STT_OBJECT,
    };
    let old_notype = match (sym.notype_before, kernel) {
        _ if provider != Provider::Kernel => false,
        (Some(v), Some(k)) => k < v,
        (Some(_), None) => found == STT_NOTYPE,
        (None, _) => false,
    };
    if found == wanted || (old_notype && found == STT_NOTYPE) {
        Ok(())
    } else {
        Err(format!(
            "ELF type is {}, the spec says {}",
            crate::elf::type_name(found),
            crate::elf::type_name(if old_notype { STT_NOTYPE } else { wanted })
        ))
    }
}

pub(crate) fn version_label(v: &SymbolVersion<'_>) -> String {
    match v {
        SymbolVersion::Defined { name, .. } => String::from_utf8_lossy(name).into_owned(),
        SymbolVersion::Unversioned => "(unversioned)".into(),
        SymbolVersion::Local => "(local)".into(),
        SymbolVersion::Global { .. } => "(base)".into(),
        SymbolVersion::Base { name, .. } => {
            format!("(base definition {})", String::from_utf8_lossy(name))
        }
        SymbolVersion::Undefined { index, .. } => format!("(undefined version index {index})"),
    }
}

/// Is this the `OBJECT ABS` symbol a linker emits for a version node name?
pub(crate) fn is_version_node_symbol(sym: &Symbol<'_>, image: &VdsoImage<'_>) -> bool {
    sym.sym_type() == STT_OBJECT
        && sym.shndx == SHN_ABS
        && image
            .version_defs()
            .is_some_and(|d| d.iter().filter_map(Result::ok).any(|v| v.name == sym.name))
}

/// What the one static engine (`check-image`'s) makes of `image` as `run` checks
/// it: the spec's provider and kernel, no kernel config known. The rows below
/// are views of it; a caller with several rows to show examines once.
pub fn examination(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
) -> Examination {
    examine(&Against::new(spec, provider, kernel), image)
}

/// The kernel an image was built for, from the version note every kernel's
/// vDSO carries (QEMU's have none).
pub fn kernel_of(image: &VdsoImage<'_>) -> Option<KernelVersion> {
    image
        .linux_version_code()
        .ok()
        .flatten()
        .map(KernelVersion::from_version_code)
}

/// [`examination`] of the target's image, naming the spec file it was given.
pub fn examination_of(target: &super::Target, image: &VdsoImage<'_>) -> Examination {
    let mut against = Against::new(&target.spec, target.provider, target.kernel);
    against.spec_file.clone_from(&target.spec_file);
    examine(&against, image)
}

/// A row of `run` as a view of findings: the errors fail it (each a problem, its
/// id the symptom), the rest are notes.
fn view<'f>(picked: impl Iterator<Item = &'f Finding>) -> CheckResult {
    let (errors, rest): (Vec<&Finding>, Vec<&Finding>) =
        picked.partition(|f| f.severity == Severity::Error);
    let problems = errors
        .iter()
        .map(|f| Problem::new(f.id, f.text()))
        .collect();
    CheckResult::from_symptoms(problems).with_notes(rest.iter().map(|f| f.text()).collect())
}

/// The findings each image row shows.
const SONAME_FINDINGS: &[&str] = &["soname", "base-version-name"];
const VERSION_FINDINGS: &[&str] = &[
    "no-version-definitions",
    "unknown-version",
    "version-hash",
    "version-index",
];
const RESOLVE_FINDINGS: &[&str] = &[
    "lookup-error",
    "missing-symbol",
    "wrong-version",
    "symbol-type",
    "alias-mismatch",
    "hidden-version",
    "symbol-not-expected",
    "symbol-before-since",
];
const INVENTORY_FINDINGS: &[&str] = &[
    "unknown-symbol",
    "symbol-not-expected",
    "symbol-before-since",
    "nameless-symbols",
];

fn with_ids<'f>(all: &'f [Finding], ids: &'f [&str]) -> impl Iterator<Item = &'f Finding> {
    all.iter().filter(move |f| ids.contains(&f.id))
}

/// `image::soname`: DT_SONAME is one the spec allows, and the base version
/// definition carries it.
pub fn soname_row(seen: &Examination) -> CheckResult {
    view(with_ids(&seen.findings, SONAME_FINDINGS))
}

/// `image::versions`: every version definition is known to the spec and well-formed.
pub fn versions_row(seen: &Examination) -> CheckResult {
    view(with_ids(&seen.findings, VERSION_FINDINGS))
}

/// `resolve::NAME@VERSION`: the name resolves at the symbol's version (with the
/// right type, and aliases at the same place); a symbol the kernel, config or
/// provider need not have is a skip when absent.
pub fn resolve_row(seen: &Examination, name: &str, version: &str) -> CheckResult {
    let at = format!("{name}@{version}");
    let about = |f: &&Finding| f.symbol.as_deref() == Some(at.as_str());
    let result = view(with_ids(&seen.findings, RESOLVE_FINDINGS).filter(about));
    match seen.absent.iter().find(|a| a.symbol == at) {
        Some(absent) if !result.is_fail() => CheckResult::skip(format!("absent: {}", absent.why)),
        _ => result,
    }
}

/// `inventory`: exported symbols the spec does not know fail; known ones outside
/// their range are notes.
pub fn inventory_row(seen: &Examination, arch: &str) -> CheckResult {
    let unknown: Vec<&Finding> = with_ids(&seen.findings, &["unknown-symbol"]).collect();
    let notes: Vec<String> = with_ids(&seen.findings, INVENTORY_FINDINGS)
        .filter(|f| f.severity != Severity::Error)
        .map(Finding::text)
        .collect();
    if unknown.is_empty() {
        return CheckResult::pass().with_notes(notes);
    }
    let names: Vec<&str> = unknown.iter().filter_map(|f| f.symbol.as_deref()).collect();
    let problems = unknown
        .iter()
        .map(|f| Problem::new(f.id, f.text()))
        .collect();
    CheckResult::from_symptoms(problems)
        .with_message(format!(
            "not in the {arch} spec: {} (add each to `symbols` with its kind and since; `vdsoconf check-image` prints the entries)",
            names.join(", ")
        ))
        .with_notes(notes)
}

/// [`soname_row`] of `image`, examined for this one row.
pub fn check_soname(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
) -> CheckResult {
    soname_row(&examination(spec, provider, kernel, image))
}

/// [`versions_row`] of `image`, examined for this one row.
pub fn check_versions(spec: &ArchSpec, image: &VdsoImage<'_>) -> CheckResult {
    versions_row(&examination(spec, Provider::Kernel, None, image))
}

/// [`resolve_row`] of `name` (spec symbol `symbol` or one of its aliases) in
/// `image`, examined for this one row.
pub fn check_resolve(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
    symbol: usize,
    name: &str,
) -> CheckResult {
    let seen = examination(spec, provider, kernel, image);
    resolve_row(&seen, name, &spec.symbols[symbol].version)
}

/// [`inventory_row`] of `image`, examined for this one row.
pub fn check_inventory(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
) -> CheckResult {
    inventory_row(&examination(spec, provider, kernel, image), &spec.arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run --image` shows every finding `check-image` can make: each id is
    /// in some row's list.
    #[test]
    fn every_finding_has_a_row() {
        let shown: Vec<&str> = SONAME_FINDINGS
            .iter()
            .chain(VERSION_FINDINGS)
            .chain(RESOLVE_FINDINGS)
            .chain(INVENTORY_FINDINGS)
            .chain(PARTS.iter().flat_map(|(_, _, ids)| ids.iter()))
            .copied()
            .collect();
        for (id, _, _) in super::super::findings::FINDINGS {
            assert!(shown.contains(id), "finding {id} lands in no row of run");
        }
    }
}
