// Records the target triple, which reports name (a runner built for i686 runs on an
// x86_64 kernel, so the machine alone does not say it).
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=VDSOCONF_BUILD_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
