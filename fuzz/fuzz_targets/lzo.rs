#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vdsoconf_fuzz_checks::lzo(data));
