//! vdsoconf's runners: the command line, the conformance harness, the isolated
//! child processes, `vdsoconf boot`. No `unsafe` here: what needs it (the vDSO, raw
//! syscalls, signals, memfd) is in `vdsoconf_suite::vdso`.
#![deny(unsafe_code)]
pub mod bench;
pub mod bench_reference;
pub mod boot;
pub mod cli;
#[cfg(feature = "extract")]
pub mod extract;
pub mod fuzz_live;
#[cfg(feature = "harness")]
pub mod harness;
pub mod history;
pub mod isolate;
#[cfg(feature = "manual")]
pub mod manual;
pub mod output;
pub mod progress;
pub mod session;
pub mod signals;
pub mod source;
pub mod target;
pub mod tree;
