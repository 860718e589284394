//! The spec: the data that defines each architecture's vDSO ABI (`spec/*.yaml`).

mod builtin;
mod clock;
mod condition;
mod fit;
mod kernel_version;
mod load;
mod model;

pub use builtin::{builtin, builtin_arches, builtin_ref, BUILTIN_SPECS};
pub use clock::ClockId;
pub use condition::Cond;
pub use fit::{describe as describe_header, spec_of, specs_fitting};
pub use kernel_version::KernelVersion;
pub use load::{load_file, parse_spec, SpecError};
pub use model::*;

/// The spec as YAML (what `vdsoconf spec show` prints; it loads back unchanged).
pub fn to_yaml(spec: &ArchSpec) -> Result<String, String> {
    serde_saphyr::to_string(spec).map_err(|e| e.to_string())
}
