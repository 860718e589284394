//! The properties vdsoconf's fuzz targets check. Each function panics on a finding;
//! `cargo fuzz` calls them from `fuzz/fuzz_targets/`, and the stable test suite
//! replays the committed corpus through the same functions.
#![deny(unsafe_code)]

mod differential;
mod extract;
mod image_desc;
mod parse_raw;
mod spec_yaml;

pub use differential::differential;
pub use extract::{extract_scan, lzo};
pub use image_desc::{roundtrip, FuzzImage};
pub use parse_raw::parse_raw;
pub use spec_yaml::spec_yaml;
