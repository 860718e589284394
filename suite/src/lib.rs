//! vdsoconf's library: the vDSO/ELF parser, the spec model, live access and checks.
#![deny(unsafe_op_in_unsafe_fn)]
// `unsafe` only where the vDSO is called and the operating system is asked for
// what std does not give (suite/src/vdso/); every other module is safe code.
#![deny(unsafe_code)]

pub mod checks;
pub mod elf;
pub mod fuzz_live;
pub mod input;
pub mod kinds;
pub mod source;
pub mod spec;
#[allow(unsafe_code)]
pub mod vdso;
