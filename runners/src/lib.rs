pub mod bench;
pub mod boot;
pub mod cli;
pub mod harness;
pub mod isolate;
pub mod progress;
pub mod session;
pub mod target;
