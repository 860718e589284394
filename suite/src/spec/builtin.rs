//! The spec files of this checkout, compiled in so `vdsoconf` works anywhere.

use super::load::{parse_spec, SpecError};
use super::model::ArchSpec;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/builtin_specs.rs"));

/// The names of every built-in spec, sorted.
pub fn builtin_arches() -> impl Iterator<Item = &'static str> {
    BUILTIN_SPECS.iter().map(|(arch, _)| *arch)
}

/// The built-in spec for `arch`: `None` if there is no such file.
pub fn builtin(arch: &str) -> Option<Result<ArchSpec, SpecError>> {
    builtin_ref(arch).cloned()
}

/// [`builtin`], borrowed. Each file is parsed and validated once per process:
/// the static checks ask for other architectures' specs (which spec an image
/// fits, a prototype for an unknown symbol) once per image they examine.
pub fn builtin_ref(arch: &str) -> Option<&'static Result<ArchSpec, SpecError>> {
    static PARSED: OnceLock<Vec<OnceLock<Result<ArchSpec, SpecError>>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| BUILTIN_SPECS.iter().map(|_| OnceLock::new()).collect());
    let index = BUILTIN_SPECS.iter().position(|(a, _)| *a == arch)?;
    let (a, text) = BUILTIN_SPECS[index];
    Some(parsed[index].get_or_init(|| parse_spec(&format!("spec/{a}.yaml"), Some(a), text)))
}
