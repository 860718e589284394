pub mod cli;
pub mod harness;
