//! The vDSO of the running process: where it is, and how to call its functions.

mod abi;
pub mod arena;
pub mod forked;
pub mod guard;
mod handles;
pub mod kuser;
mod mapping;
pub mod process;
pub mod restart;
pub mod signals;
pub mod syscall;
pub mod syscall_watch;
pub mod vsyscall_page;

pub use abi::*;
pub use handles::*;
pub use mapping::{maps_range, LiveError, LiveVdso, AT_SYSINFO_EHDR};
