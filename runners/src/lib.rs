pub mod cli;
pub mod harness;
pub mod isolate;
pub mod session;
pub mod target;
