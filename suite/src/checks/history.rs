//! The ABI history of one vDSO lineage (one architecture's one vDSO, say the
//! IA32 vDSO of x86_64 kernels) over the kernels that shipped it: a timeline of
//! each symbol@version, and the stability promise of
//! Documentation/ABI/stable/vdso checked between consecutive kernels with
//! `diff`. A break the spec predicts (a symbol with `until`, a type the spec
//! says changed) is explained; any other is a finding naming both kernels.

use crate::checks::diff::{annotate, diff_images, exports, Change, ChangeKind, Judged};
use crate::elf::{binding_name, type_name, VdsoImage};
use crate::spec::{ArchSpec, KernelVersion};
use serde::Serialize;
use std::collections::BTreeMap;

/// One kernel of a lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kernel {
    /// Its release (`uname -r`): `7.2.13+deb14-cloud-amd64`.
    pub release: String,
    /// Its upstream version, for headings: `7.2.13`, `7.3-rc7`.
    pub label: String,
    /// Where it came from (a Debian suite).
    pub source: String,
    /// Its series, which the spec's `since`/`until` name.
    pub version: KernelVersion,
}

/// A symbol in one kernel's image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cell {
    Absent,
    Present { binding: String, sym_type: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolRow {
    /// `name@version`.
    pub subject: String,
    /// One cell per kernel, in the lineage's order.
    pub cells: Vec<Cell>,
}

/// A breaking change between two consecutive kernels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    pub from: String,
    pub to: String,
    pub change: Change,
    /// Why the spec expects it; `None`: unexplained.
    pub explained: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lineage {
    /// The kernels' architecture (a Debian architecture name).
    pub arch: String,
    /// The spec its images are checked against.
    pub spec: String,
    /// The image's name in each kernel's directory (`i386.so`).
    pub image: String,
    pub kernels: Vec<Kernel>,
    pub symbols: Vec<SymbolRow>,
    pub breaks: Vec<Break>,
}

impl Lineage {
    pub fn unexplained(&self) -> impl Iterator<Item = &Break> {
        self.breaks.iter().filter(|b| b.explained.is_none())
    }
}

/// The lineage of `images`, given in kernel order, against `spec`.
pub fn lineage(
    arch: &str,
    image: &str,
    spec: &ArchSpec,
    images: &[(Kernel, VdsoImage<'_>)],
) -> Result<Lineage, String> {
    let mut present: BTreeMap<String, Vec<Cell>> = BTreeMap::new();
    for (i, (_, img)) in images.iter().enumerate() {
        for (name, versions) in exports(img) {
            for (version, (binding, sym_type)) in versions {
                let cells = present
                    .entry(format!("{name}@{version}"))
                    .or_insert_with(|| vec![Cell::Absent; images.len()]);
                cells[i] = Cell::Present {
                    binding: binding_name(binding).into(),
                    sym_type: type_name(sym_type).into(),
                };
            }
        }
    }
    let mut breaks = Vec::new();
    for pair in images.windows(2) {
        let ((old_k, old), (new_k, new)) = (&pair[0], &pair[1]);
        let mut changes = diff_images(old, new)
            .map_err(|e| format!("{} to {}: {e}", old_k.release, new_k.release))?;
        annotate(&mut changes, &Judged::by(spec));
        for change in changes.into_iter().filter(|c| c.breaking) {
            let explained = explanation(&change, spec, old_k.version, new_k.version);
            breaks.push(Break {
                from: old_k.release.clone(),
                to: new_k.release.clone(),
                change,
                explained,
            });
        }
    }
    Ok(Lineage {
        arch: arch.into(),
        spec: spec.arch.clone(),
        image: image.into(),
        kernels: images.iter().map(|(k, _)| k.clone()).collect(),
        symbols: present
            .into_iter()
            .map(|(subject, cells)| SymbolRow { subject, cells })
            .collect(),
        breaks,
    })
}

/// Why the spec expects `change` between kernels `old` and `new`: a removal in
/// the symbol's `until`, a NOTYPE symbol becoming a function at its
/// `notype_before`.
fn explanation(
    change: &Change,
    spec: &ArchSpec,
    old: KernelVersion,
    new: KernelVersion,
) -> Option<String> {
    let between = |k: KernelVersion| old < k && k <= new;
    if change.kind == ChangeKind::SonameChanged {
        let soname = |n: &Option<String>| spec.sonames.iter().find(|s| Some(&s.name) == n.as_ref());
        let (gone, came) = (soname(&change.old)?, soname(&change.new)?);
        return match (gone.until, came.since) {
            (Some(u), Some(s)) if between(u) && between(s) => Some(format!(
                "the spec has {} until {u} and {} since {s}",
                gone.name, came.name
            )),
            _ => None,
        };
    }
    let (name, _) = change.subject.split_once('@')?;
    let sym = spec.symbols.iter().find(|s| s.names().any(|n| n == name))?;
    match change.kind {
        ChangeKind::Removed => sym
            .until
            .filter(|&k| between(k))
            .map(|k| format!("the spec says it was removed in {k}")),
        ChangeKind::TypeChanged
            if change.old.as_deref() == Some("NOTYPE") && change.new.as_deref() == Some("FUNC") =>
        {
            sym.notype_before
                .filter(|&k| between(k))
                .map(|k| format!("the spec says it is NOTYPE before {k}"))
        }
        _ => None,
    }
}
