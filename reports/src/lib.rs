//! Reports: the one results model every runner fills ([`RunReport`]) and the
//! writers that read it. Writers know nothing of how checks are run.
#![deny(unsafe_code)]

pub mod bench;
pub mod history;
pub mod html;
pub mod human;
pub mod junit;
pub mod ktap;
pub mod matrix;
pub mod model;
pub mod table;
pub mod timings;

pub use model::{CaseResult, Counts, Environment, RunReport, SCHEMA};
