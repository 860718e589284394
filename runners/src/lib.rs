pub mod bench;
pub mod cli;
pub mod harness;
pub mod isolate;
pub mod progress;
pub mod session;
pub mod target;
