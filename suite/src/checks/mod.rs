//! Checks generated from the spec, and the results model they produce.

mod deviation;
pub mod diff;
mod expect;
pub mod findings;
pub mod image;
pub mod live;
mod plan;
mod result;

pub use deviation::{apply_deviations, deviation_problem};
pub use expect::{expectation, expectation_with_config, Expectation, KernelConfig};
pub use plan::{is_callable, plan, CheckKind, Group, PlannedCheck, Source, Target};
pub use result::{from_problems, CheckResult, Unrunnable, Verdict};
