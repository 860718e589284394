fn main() {
    std::process::exit(vdsoconf_runners::harness::main())
}
