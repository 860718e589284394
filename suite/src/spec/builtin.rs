//! The spec files of this checkout, compiled in so `vdsoconf` works anywhere.

use super::load::{parse_spec, SpecError};
use super::model::ArchSpec;

include!(concat!(env!("OUT_DIR"), "/builtin_specs.rs"));

/// The names of every built-in spec, sorted.
pub fn builtin_arches() -> impl Iterator<Item = &'static str> {
    BUILTIN_SPECS.iter().map(|(arch, _)| *arch)
}

/// The built-in spec for `arch`: `None` if there is no such file.
pub fn builtin(arch: &str) -> Option<Result<ArchSpec, SpecError>> {
    BUILTIN_SPECS
        .iter()
        .find(|(a, _)| *a == arch)
        .map(|(a, text)| parse_spec(&format!("spec/{a}.yaml"), Some(a), text))
}
