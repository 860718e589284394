//! Checks generated from the spec, and the results model they produce.

pub mod call;
mod deviation;
mod expect;
pub mod image;
pub mod live;
mod plan;
mod result;

pub use deviation::apply_deviations;
pub use expect::{expectation, Expectation};
pub use plan::{is_callable, plan, CheckKind, Group, PlannedCheck, Source, Target};
pub use result::{from_problems, CheckResult, Verdict};
