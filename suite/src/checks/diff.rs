//! The ABI difference between two images of one architecture (`vdsoconf diff`):
//! what a program linked against the old vDSO would find changed in the new one.

use crate::checks::image::{is_version_node_symbol, version_label};
use crate::checks::KernelConfig;
use crate::elf::{binding_name, type_name, VdsoImage, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_NOTYPE};
use crate::spec::ArchSpec;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    VersionMoved,
    BindingChanged,
    TypeChanged,
    SonameChanged,
    /// A name that was the same function as others (an alias) is now another
    /// function, or one of its own.
    AliasMoved,
}

impl ChangeKind {
    /// Whether a caller of the old image can break: everything but an addition
    /// (and a binding change between GLOBAL and WEAK: see [`Change::breaking`]).
    pub fn breaking(self) -> bool {
        self != ChangeKind::Added
    }

    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::VersionMoved => "version moved",
            ChangeKind::BindingChanged => "binding changed",
            ChangeKind::TypeChanged => "type changed",
            ChangeKind::SonameChanged => "soname changed",
            ChangeKind::AliasMoved => "alias moved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub breaking: bool,
    /// `name@version` (the old one for removals and moves), or the soname.
    pub subject: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// What the spec says about it, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// The configuration that explains it, when the builds' configurations do
    /// (a symbol whose option is off in the new build): then it is a
    /// configuration difference, not a break.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
}

impl Change {
    /// How it is shown: "breaking", "compatible" or "configuration".
    pub fn class(&self) -> &'static str {
        match (&self.configuration, self.breaking) {
            (Some(_), _) => "configuration",
            (None, true) => "breaking",
            (None, false) => "compatible",
        }
    }
}

/// Whether every symbol of `image` can be read from tables a loader can use: a
/// diff of what could be read would report unread symbols as removed.
pub fn readable(image: &VdsoImage<'_>) -> Result<(), String> {
    use crate::checks::findings::{hash_table_problems, unreadable_symbols};
    if let Some(e) = unreadable_symbols(image).first() {
        return Err(e.to_string());
    }
    if let Some((_, offset, message)) = hash_table_problems(image).first() {
        return Err(format!("{message} (offset 0x{offset:x})"));
    }
    Ok(())
}

/// Exported interface symbols: name -> version -> (binding, type).
pub(crate) type Exports = BTreeMap<String, BTreeMap<String, (u8, u8)>>;

pub(crate) fn exports(image: &VdsoImage<'_>) -> Exports {
    let mut map = Exports::new();
    for s in image.symbols().filter_map(Result::ok) {
        if !s.is_exported() || s.name.is_empty() || is_version_node_symbol(&s, image) {
            continue;
        }
        map.entry(s.name_lossy().into_owned())
            .or_default()
            .insert(version_label(&s.version), (s.binding(), s.sym_type()));
    }
    map
}

fn change(kind: ChangeKind, subject: String, old: Option<String>, new: Option<String>) -> Change {
    Change {
        kind,
        breaking: kind.breaking(),
        subject,
        old,
        new,
        spec: None,
        configuration: None,
    }
}

/// Loaders find a vDSO symbol whether it is GLOBAL or WEAK (glibc's
/// `dl_vdso_vsym`, musl's `__vdsosym` and the kernel's `parse_vdso.c` accept
/// both, and nothing interposes on a vDSO), so a change between the two breaks
/// no caller; any other binding is not looked up.
fn binding_breaks(old: u8, new: u8) -> bool {
    let found = |b| b == STB_GLOBAL || b == STB_WEAK;
    !(found(old) && found(new))
}

/// The changes from `old` to `new`; an error when they are not the same architecture.
pub fn diff_images(old: &VdsoImage<'_>, new: &VdsoImage<'_>) -> Result<Vec<Change>, String> {
    for (which, image) in [("old", old), ("new", new)] {
        readable(image).map_err(|e| format!("the {which} image: {e}"))?;
    }
    if (old.class(), old.machine(), old.endian()) != (new.class(), new.machine(), new.endian()) {
        return Err(format!(
            "the images are of different architectures (e_machine {} {}-bit {} vs {} {}-bit {})",
            old.machine(),
            old.class().bits(),
            old.endian().name(),
            new.machine(),
            new.class().bits(),
            new.endian().name()
        ));
    }
    let mut changes = Vec::new();
    let soname = |i: &VdsoImage<'_>| i.soname().map(|s| String::from_utf8_lossy(s).into_owned());
    if soname(old) != soname(new) {
        changes.push(change(
            ChangeKind::SonameChanged,
            "DT_SONAME".into(),
            soname(old),
            soname(new),
        ));
    }
    let (before, after) = (exports(old), exports(new));
    let empty = BTreeMap::new();
    for (name, old_versions) in &before {
        let new_versions = after.get(name).unwrap_or(&empty);
        let gone: Vec<&String> = old_versions
            .keys()
            .filter(|v| !new_versions.contains_key(*v))
            .collect();
        let arrived: Vec<&String> = new_versions
            .keys()
            .filter(|v| !old_versions.contains_key(*v))
            .collect();
        for v in &gone {
            let subject = format!("{name}@{v}");
            if arrived.is_empty() {
                changes.push(change(
                    ChangeKind::Removed,
                    subject,
                    Some((*v).clone()),
                    None,
                ));
            } else {
                let to = arrived
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                changes.push(change(
                    ChangeKind::VersionMoved,
                    subject,
                    Some((*v).clone()),
                    Some(to),
                ));
            }
        }
        if gone.is_empty() {
            for v in &arrived {
                changes.push(change(
                    ChangeKind::Added,
                    format!("{name}@{v}"),
                    None,
                    Some((*v).clone()),
                ));
            }
        }
        for (v, &(ob, ot)) in old_versions {
            let Some(&(nb, nt)) = new_versions.get(v) else {
                continue;
            };
            let subject = format!("{name}@{v}");
            if ob != nb {
                let mut c = change(
                    ChangeKind::BindingChanged,
                    subject.clone(),
                    Some(binding_name(ob).into()),
                    Some(binding_name(nb).into()),
                );
                c.breaking = binding_breaks(ob, nb);
                changes.push(c);
            }
            if ot != nt {
                changes.push(change(
                    ChangeKind::TypeChanged,
                    subject,
                    Some(type_name(ot).into()),
                    Some(type_name(nt).into()),
                ));
            }
        }
    }
    for (name, new_versions) in &after {
        if !before.contains_key(name) {
            for v in new_versions.keys() {
                changes.push(change(
                    ChangeKind::Added,
                    format!("{name}@{v}"),
                    None,
                    Some(v.clone()),
                ));
            }
        }
    }
    changes.extend(alias_moves(&functions(old), &functions(new)));
    Ok(changes)
}

/// Exported functions (FUNC, or NOTYPE as trampolines are): `name@version`
/// -> address.
fn functions(image: &VdsoImage<'_>) -> BTreeMap<String, u64> {
    image
        .symbols()
        .filter_map(Result::ok)
        .filter(|s| {
            s.is_exported()
                && !s.name.is_empty()
                && matches!(s.sym_type(), STT_FUNC | STT_NOTYPE)
                && !is_version_node_symbol(s, image)
        })
        .map(|s| {
            (
                format!("{}@{}", s.name_lossy(), version_label(&s.version)),
                s.value,
            )
        })
        .collect()
}

/// Names that were one function (aliases) in `old` and are another in `new`.
/// Only names both images export count. Each function of `new` continues the
/// function of `old` most of its names were (the lowest address on a tie); a
/// name from another one has moved. A function of `old` whose remaining names
/// now lie apart keeps its largest part; the others have moved off it.
fn alias_moves(old: &BTreeMap<String, u64>, new: &BTreeMap<String, u64>) -> Vec<Change> {
    let common: Vec<&String> = old.keys().filter(|k| new.contains_key(*k)).collect();
    let group = |map: &BTreeMap<String, u64>| {
        let mut g: BTreeMap<u64, BTreeSet<&String>> = BTreeMap::new();
        for name in &common {
            g.entry(map[*name]).or_default().insert(name);
        }
        g
    };
    let (old_groups, new_groups) = (group(old), group(new));
    let mut moved: BTreeSet<&String> = BTreeSet::new();
    for names in new_groups.values() {
        let mut from: BTreeMap<u64, usize> = BTreeMap::new();
        for n in names {
            *from.entry(old[*n]).or_default() += 1;
        }
        let most = from.values().copied().max().unwrap_or(0);
        let origin = from.iter().find(|(_, &c)| c == most).map(|(a, _)| *a);
        moved.extend(names.iter().filter(|n| Some(old[**n]) != origin));
    }
    for names in old_groups.values() {
        let mut parts: BTreeMap<u64, Vec<&String>> = BTreeMap::new();
        for n in names.iter().filter(|n| !moved.contains(*n)) {
            parts.entry(new[*n]).or_default().push(n);
        }
        let largest = parts.values().map(Vec::len).max().unwrap_or(0);
        let kept = parts
            .iter()
            .find(|(_, p)| p.len() == largest)
            .map(|(a, _)| *a);
        for (address, part) in &parts {
            if Some(*address) != kept {
                moved.extend(part.iter().copied());
            }
        }
    }
    let peers = |map: &BTreeMap<String, u64>, name: &String| {
        let others: Vec<&str> = common
            .iter()
            .filter(|o| *o != &name && map[**o] == map[name])
            .map(|o| o.as_str())
            .collect();
        if others.is_empty() {
            "a function of its own".to_string()
        } else {
            format!("the function of {}", others.join(", "))
        }
    };
    moved
        .into_iter()
        .map(|name| {
            change(
                ChangeKind::AliasMoved,
                name.clone(),
                Some(peers(old, name)),
                Some(peers(new, name)),
            )
        })
        .collect()
}

/// What a diff's changes are judged by: the spec, and what is known of the
/// two builds' configurations.
#[derive(Debug, Clone)]
pub struct Judged<'s> {
    pub spec: &'s ArchSpec,
    /// The spec file as messages name it (`spec/ARCH.yaml` when built in).
    pub spec_file: String,
    pub old_config: KernelConfig,
    pub new_config: KernelConfig,
}

impl<'s> Judged<'s> {
    /// The built-in spec, nothing known of either build's configuration.
    pub fn by(spec: &'s ArchSpec) -> Self {
        Judged {
            spec,
            spec_file: format!("spec/{}.yaml", spec.arch),
            old_config: KernelConfig::default(),
            new_config: KernelConfig::default(),
        }
    }
}

/// Says, for each change, whether the spec predicts it, and makes a removal
/// (or an addition) that a configuration option the spec names explains a
/// configuration difference: a symbol whose option is off in the new build is
/// not a break.
pub fn annotate(changes: &mut [Change], judged: &Judged<'_>) {
    let spec = judged.spec;
    for c in changes.iter_mut() {
        let Some((name, version)) = c.subject.split_once('@') else {
            if c.kind == ChangeKind::SonameChanged {
                let known = |s: &Option<String>| {
                    s.as_ref()
                        .is_some_and(|n| spec.sonames.iter().any(|k| &k.name == n))
                };
                c.spec = Some(if known(&c.new) {
                    "the spec lists the new soname".into()
                } else {
                    format!("the new soname is not in {}", judged.spec_file)
                });
            }
            continue;
        };
        let entry = spec.symbols.iter().find(|s| s.names().any(|n| n == name));
        c.spec = Some(match (c.kind, entry) {
            (_, None) => format!("{name} is not in {}: add it", judged.spec_file),
            (ChangeKind::Added, Some(s)) if s.version == version => {
                if let Some(off) = unmet(s, &judged.old_config) {
                    c.configuration = Some(format!("{off} in the old build"));
                }
                match s.since {
                    Some(k) => format!("predicted: the spec has it since {k}"),
                    None => "the spec lists it (first kernel unknown)".into(),
                }
            }
            (ChangeKind::Added, Some(s)) => {
                format!("the spec has it at {}, not {version}", s.version)
            }
            (ChangeKind::Removed, Some(s)) => match (s.until, s.config.is_empty()) {
                (Some(k), _) => format!("predicted: the spec says it was removed in {k}"),
                (None, true) => "not predicted: the spec still lists it without `until`".into(),
                (None, false) => removal_by_config(c, s, judged),
            },
            (ChangeKind::VersionMoved, Some(s)) => format!("the spec has it at {}", s.version),
            (ChangeKind::AliasMoved, Some(s)) if s.name != name => {
                format!("the spec has it as an alias of {}", s.name)
            }
            (_, Some(_)) => "the spec lists it".into(),
        });
        if c.configuration.is_some() {
            c.breaking = false;
        }
    }
}

/// How `config` fails the symbol's condition ("CONFIG_X86_SGX=n"), if it does.
fn unmet(sym: &crate::spec::SymbolSpec, config: &KernelConfig) -> Option<String> {
    let needs = sym.condition();
    (needs.eval(&|o| config.get(o)) == Some(false)).then(|| {
        needs
            .atoms()
            .iter()
            .map(|o| config.describe(o))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// What the spec says of a removed symbol that needs a configuration:
/// explained when the new build fails its condition (a configuration
/// difference), a break when it meets it, and which options to compare when
/// its configuration is unknown.
fn removal_by_config(c: &mut Change, sym: &crate::spec::SymbolSpec, judged: &Judged<'_>) -> String {
    let needs = sym.condition();
    if let Some(off) = unmet(sym, &judged.new_config) {
        c.configuration = Some(format!("{off} in the new build"));
        return format!("the spec builds it only with {needs}");
    }
    if needs.eval(&|o| judged.new_config.get(o)) == Some(true) {
        return format!("not predicted: the new build has {needs}, with which the spec builds it");
    }
    let first = needs.atoms().into_iter().next().unwrap_or_default();
    format!(
        "not predicted unless the new build lacks {needs}: pass its configuration \
         (--config with its .config, or {first}=n)"
    )
}
