//! Checks generated from the spec, and the results model they produce.

pub mod call;
mod expect;
pub mod image;
mod plan;
mod result;

pub use expect::{expectation, Expectation};
pub use plan::{is_callable, plan, CheckKind, Group, PlannedCheck, Source, Target};
pub use result::{from_problems, CheckResult, Verdict};
