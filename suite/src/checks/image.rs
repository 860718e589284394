//! Checks that need only the image: presence, soname, versions, resolve, inventory.

use super::expect::{expectation, Expectation};
use super::group::{CheckGroup, ImageContext, Runs};
use super::plan::{describe, Case, Group, PlannedCheck};
use super::result::{from_problems, CheckResult};
use crate::elf::{Symbol, SymbolVersion, VdsoImage, SHN_ABS, STT_FUNC, STT_NOTYPE, STT_OBJECT};
use crate::spec::{ArchSpec, ElfSymbolType, KernelVersion, Provider, SymbolSpec, VdsoPresence};

/// The `vdso` group: is there a vDSO, as the provider's spec says?
pub struct PresenceGroup;
pub static PRESENCE: PresenceGroup = PresenceGroup;

impl CheckGroup for PresenceGroup {
    fn group(&self) -> Group {
        Group::Vdso
    }

    fn name(&self) -> &'static str {
        "vdso"
    }

    fn runs(&self) -> Runs {
        Runs::OnImage
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

/// The `image` group: the soname and the version definitions.
pub struct ImageGroup;
pub static IMAGE: ImageGroup = ImageGroup;

const SONAME: &str = "soname";
const VERSIONS: &str = "versions";

impl CheckGroup for ImageGroup {
    fn group(&self) -> Group {
        Group::Image
    }

    fn name(&self) -> &'static str {
        "image"
    }

    fn runs(&self) -> Runs {
        Runs::OnImage
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
    }

    fn on_image(&self, check: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        let t = ctx.target;
        let image = match ctx.image() {
            Ok(i) => i,
            Err(r) => return r,
        };
        match check.subject.as_str() {
            SONAME => check_soname(&t.spec, t.provider, t.kernel, image),
            VERSIONS => check_versions(&t.spec, image),
            other => CheckResult::fail(format!("no image check {other}")),
        }
    }
}

/// The `resolve` group: each symbol, and each alias, at its version.
pub struct ResolveGroup;
pub static RESOLVE: ResolveGroup = ResolveGroup;

impl CheckGroup for ResolveGroup {
    fn group(&self) -> Group {
        Group::Resolve
    }

    fn name(&self) -> &'static str {
        "resolve"
    }

    fn column(&self) -> Option<&'static str> {
        Some("resolve")
    }

    fn runs(&self) -> Runs {
        Runs::OnImage
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
        let t = ctx.target;
        let image = match ctx.image() {
            Ok(i) => i,
            Err(r) => return r,
        };
        match (check.case.symbol, &check.case.name) {
            (Some(symbol), Some(name)) if symbol < t.spec.symbols.len() => {
                check_resolve(&t.spec, t.provider, t.kernel, image, symbol, name)
            }
            _ => CheckResult::fail("the plan named no symbol of this spec"),
        }
    }
}

/// The `inventory` group: what the image exports beyond the spec.
pub struct InventoryGroup;
pub static INVENTORY: InventoryGroup = InventoryGroup;

impl CheckGroup for InventoryGroup {
    fn group(&self) -> Group {
        Group::Inventory
    }

    fn name(&self) -> &'static str {
        "inventory"
    }

    fn runs(&self) -> Runs {
        Runs::OnImage
    }

    fn plan(&self, _: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        add(
            String::new(),
            Case::default(),
            "every exported symbol is in the spec".into(),
        );
    }

    fn on_image(&self, _: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        let t = ctx.target;
        match ctx.image() {
            Ok(image) => check_inventory(&t.spec, t.provider, t.kernel, image),
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

/// DT_SONAME is one the spec allows, and the base version definition carries it.
pub fn check_soname(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
) -> CheckResult {
    let Some(soname) = image.soname() else {
        return CheckResult::fail("no DT_SONAME");
    };
    let soname = String::from_utf8_lossy(soname);
    let allowed: Vec<&str> = spec
        .sonames
        .iter()
        .filter(|s| s.providers.contains(&provider) && in_range(s.since, s.until, kernel))
        .map(|s| s.name.as_str())
        .collect();
    let mut problems = Vec::new();
    if !allowed.contains(&soname.as_ref()) {
        problems.push(format!(
            "DT_SONAME is {soname:?}, the spec allows {} for {}",
            allowed.join(" or "),
            provider.name()
        ));
    }
    if let Some(defs) = image.version_defs() {
        match defs.iter().filter_map(Result::ok).find(|d| d.is_base()) {
            Some(base) if base.name != soname.as_bytes() => problems.push(format!(
                "the base version definition is named {:?}, not the soname",
                String::from_utf8_lossy(base.name)
            )),
            Some(_) => {}
            None => problems.push("no base version definition (VER_FLG_BASE)".into()),
        }
    }
    from_problems(problems)
}

/// Every version definition is known to the spec and well-formed.
pub fn check_versions(spec: &ArchSpec, image: &VdsoImage<'_>) -> CheckResult {
    let Some(defs) = image.version_defs() else {
        return CheckResult::fail("no DT_VERDEF: symbol versions cannot be checked");
    };
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for def in defs.iter() {
        let def = match def {
            Ok(d) => d,
            Err(e) => return CheckResult::fail(e.to_string()),
        };
        let name = String::from_utf8_lossy(def.name).into_owned();
        if !def.hash_matches_name() {
            problems.push(format!(
                "{name}: vd_hash 0x{:x} is not the ELF hash of the name",
                def.hash
            ));
        }
        if seen.contains(&def.index) {
            problems.push(format!("{name}: index {} is used twice", def.index));
        }
        seen.push(def.index);
        if !def.is_base() && !spec.versions.iter().any(|v| v.name == name) {
            problems.push(format!(
                "unknown version node {name}: add it to `versions` in spec/{}.yaml",
                spec.arch
            ));
        }
    }
    from_problems(problems)
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

/// `name` resolves at the symbol's version (with the right type, and aliases at the same place).
pub fn check_resolve(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
    symbol: usize,
    name: &str,
) -> CheckResult {
    let sym = &spec.symbols[symbol];
    let expect = expectation(sym, provider, kernel);
    let found = match image.lookup(name.as_bytes(), Some(sym.version.as_bytes())) {
        Ok(f) => f,
        Err(e) => return CheckResult::fail(e.to_string()),
    };
    let Some(found) = found else {
        // Say where it is instead, if it is anywhere.
        let elsewhere: Vec<String> = image
            .symbols()
            .filter_map(Result::ok)
            .filter(|s| s.name == name.as_bytes() && s.is_exported())
            .map(|s| version_label(&s.version))
            .collect();
        if !elsewhere.is_empty() {
            return CheckResult::fail(format!(
                "{name} is exported at {} instead of {}",
                elsewhere.join(", "),
                sym.version
            ));
        }
        return match expect {
            Expectation::Required => {
                let hint = if sym.since_confidence == crate::spec::Confidence::Low {
                    " (the spec's `since` is a low-confidence estimate: if this kernel is right, fix the spec)"
                } else {
                    ""
                };
                CheckResult::fail(format!("{name}@{} is missing{hint}", sym.version))
            }
            Expectation::NotExpected(why) | Expectation::Conditional(why) => {
                CheckResult::skip(format!("absent: {why}"))
            }
        };
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    if let Err(e) = type_ok(sym, provider, kernel, found.sym_type()) {
        problems.push(e);
    }
    if found.version.hidden() {
        notes.push(format!(
            "{name}@{} is a hidden (non-default) version",
            sym.version
        ));
    }
    if let Expectation::NotExpected(why) = &expect {
        notes.push(format!("present although the spec says: {why}"));
    }
    if name != sym.name {
        match image.lookup(sym.name.as_bytes(), Some(sym.version.as_bytes())) {
            Ok(Some(primary)) if (primary.value, primary.size) != (found.value, found.size) => {
                problems.push(format!(
                    "alias at 0x{:x} (size {}) but {} is at 0x{:x} (size {})",
                    found.value, found.size, sym.name, primary.value, primary.size
                ))
            }
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
    from_problems(problems).with_notes(notes)
}

/// Is this the `OBJECT ABS` symbol a linker emits for a version node name?
pub(crate) fn is_version_node_symbol(sym: &Symbol<'_>, image: &VdsoImage<'_>) -> bool {
    sym.sym_type() == STT_OBJECT
        && sym.shndx == SHN_ABS
        && image
            .version_defs()
            .is_some_and(|d| d.iter().filter_map(Result::ok).any(|v| v.name == sym.name))
}

/// Exported symbols the spec does not know fail; known ones outside their range are notes.
pub fn check_inventory(
    spec: &ArchSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    image: &VdsoImage<'_>,
) -> CheckResult {
    let mut unknown = Vec::new();
    let mut notes = Vec::new();
    let mut nameless = 0;
    for sym in image.symbols() {
        let sym = match sym {
            Ok(s) => s,
            Err(e) => return CheckResult::fail(e.to_string()),
        };
        if !sym.is_exported() || is_version_node_symbol(&sym, image) {
            continue;
        }
        if sym.name.is_empty() {
            nameless += 1;
            continue;
        }
        let name = sym.name_lossy();
        let version = version_label(&sym.version);
        let same_name: Vec<&SymbolSpec> = spec
            .symbols
            .iter()
            .filter(|s| s.names().any(|n| n == name))
            .collect();
        match same_name.iter().find(|s| s.version == version) {
            Some(known) => match expectation(known, provider, kernel) {
                Expectation::NotExpected(why) => {
                    notes.push(format!("{name}@{version} is present although {why}"))
                }
                Expectation::Required | Expectation::Conditional(_) => {}
            },
            None if same_name.is_empty() => unknown.push(format!("{name}@{version}")),
            None => unknown.push(format!(
                "{name}@{version} (the spec has it at {})",
                same_name
                    .iter()
                    .map(|s| s.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    if nameless > 0 {
        notes.push(format!(
            "{nameless} exported symbol(s) with an empty name (ARM kernels hide unusable time functions this way)"
        ));
    }
    let result = if unknown.is_empty() {
        CheckResult::pass()
    } else {
        CheckResult::fail(format!(
            "not in spec/{}.yaml: {} (add each to `symbols` with its kind and since)",
            spec.arch,
            unknown.join(", ")
        ))
    };
    result.with_notes(notes)
}
