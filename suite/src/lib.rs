//! vdsoconf's library: the vDSO/ELF parser, the spec model, live access and checks.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod checks;
pub mod elf;
pub mod input;
pub mod spec;
pub mod vdso;
