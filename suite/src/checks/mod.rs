//! Checks generated from the spec, and the results model they produce.

pub(crate) mod deviation;
pub mod diff;
mod expect;
pub mod findings;
pub mod group;
pub mod history;
pub mod image;
mod kconfig;
pub mod live;
pub(crate) mod plan;
mod result;

pub use deviation::{apply_deviations, deviation_problem, names_check};
pub use expect::{expectation, expectation_with_config, Expectation};
pub use group::{
    group_of, About, CallOutcome, CheckGroup, ImageContext, LiveContext, Runs, REGISTRY,
};
pub use kconfig::KernelConfig;
pub use plan::{plan, Case, Group, PlannedCheck, Source, Target};
pub use result::{
    from_problems, symptom_matches, symptoms, CheckResult, Problem, Unrunnable, Verdict,
};
