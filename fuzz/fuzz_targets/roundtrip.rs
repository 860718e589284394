#![no_main]
use vdsoconf_fuzz_checks::{roundtrip, FuzzImage};
libfuzzer_sys::fuzz_target!(|image: FuzzImage| roundtrip(&image));
