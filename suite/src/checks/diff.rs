//! The ABI difference between two images of one architecture (`vdsoconf diff`):
//! what a program linked against the old vDSO would find changed in the new one.

use crate::checks::image::{is_version_node_symbol, version_label};
use crate::elf::{binding_name, type_name, VdsoImage};
use crate::spec::ArchSpec;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    VersionMoved,
    BindingChanged,
    TypeChanged,
    SonameChanged,
}

impl ChangeKind {
    /// Whether a caller of the old image can break: everything but an addition.
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
    }
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
                changes.push(change(
                    ChangeKind::BindingChanged,
                    subject.clone(),
                    Some(binding_name(ob).into()),
                    Some(binding_name(nb).into()),
                ));
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
    Ok(changes)
}

/// Says, for each change, whether the spec of `spec` predicts it.
pub fn annotate_with_spec(changes: &mut [Change], spec: &ArchSpec) {
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
                    format!("the new soname is not in spec/{}.yaml", spec.arch)
                });
            }
            continue;
        };
        let entry = spec.symbols.iter().find(|s| s.names().any(|n| n == name));
        c.spec = Some(match (c.kind, entry) {
            (_, None) => format!("{name} is not in spec/{}.yaml: add it", spec.arch),
            (ChangeKind::Added, Some(s)) if s.version == version => match s.since {
                Some(k) => format!("predicted: the spec has it since {k}"),
                None => "the spec lists it (first kernel unknown)".into(),
            },
            (ChangeKind::Added, Some(s)) => {
                format!("the spec has it at {}, not {version}", s.version)
            }
            (ChangeKind::Removed, Some(s)) => match s.until {
                Some(k) => format!("predicted: the spec says it was removed in {k}"),
                None => "not predicted: the spec still lists it without `until`".into(),
            },
            (ChangeKind::VersionMoved, Some(s)) => format!("the spec has it at {}", s.version),
            (_, Some(_)) => "the spec lists it".into(),
        });
    }
}
