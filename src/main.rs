#![deny(unsafe_code)]
fn main() {
    std::process::exit(vdsoconf_runners::cli::main())
}
