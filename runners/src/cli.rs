//! The `vdsoconf` command line.

use crate::isolate;
use crate::session::{RunOptions, Session};
use crate::target::{parse_duration, resolve_target, TargetOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use vdsoconf_reports::matrix::RowState;
use vdsoconf_reports::RunReport;
use vdsoconf_suite::elf::{binding_name, type_name, VdsoImage};
use vdsoconf_suite::live::LiveVdso;
use vdsoconf_suite::spec::{builtin, builtin_arches, load_file};

#[derive(Parser)]
#[command(
    name = "vdsoconf",
    version,
    about = "Conformance suite for the Linux vDSO ABI",
    long_about = "Conformance suite for the Linux vDSO ABI.\n\n\
        Checks the vDSO of this process (or an image file) against the spec of its \
        architecture: soname, version nodes, every versioned symbol, and calls to each \
        function. Exit status: 0 all checks passed, 1 a check failed, 2 bad input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance checks (the same ones as `cargo test -- --arch ARCH`).
    Run(RunArgs),
    /// List the dynamic symbols of the live vDSO or of an image file.
    Symbols {
        /// An image file (default: this process's vDSO).
        image: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write this process's vDSO to a file.
    Dump {
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the target x check-group table of a results directory written by
    /// `runners/qemu/matrix` (exit 1 when a target failed).
    Summary {
        /// The results directory (one sub-directory per target).
        dir: PathBuf,
    },
    /// Inspect and validate the spec files.
    #[command(subcommand)]
    Spec(SpecCommand),
}

#[derive(Args)]
struct RunArgs {
    /// Architecture spec to check (default: the one this binary runs as).
    #[arg(long)]
    arch: Option<String>,
    /// Whose vDSO: `kernel` or `qemu` (QEMU user mode's own).
    #[arg(long, default_value = "kernel")]
    provider: String,
    /// Kernel version to judge `since`/`until` against (default: uname -r).
    #[arg(long)]
    kernel: Option<String>,
    /// Check an image file instead of the live vDSO (calls are skipped).
    #[arg(long, conflicts_with = "observed")]
    image: Option<PathBuf>,
    /// What a probe process of --arch saw, for a target the suite cannot be built for
    /// (runners/qemu/vdso-probe.c): `absent`, or the file it dumped its vDSO to. The
    /// presence and image checks run; calls are skipped.
    #[arg(long, value_name = "absent|FILE", requires = "arch")]
    observed: Option<String>,
    /// Run only checks whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Read each clock this long in the monotonicity checks (default 1s; `10m` makes a
    /// soak test with a progress display). Seconds, or a number with s, m or h.
    #[arg(long)]
    duration: Option<String>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    format: RunFormat,
    /// Also write every report format into this directory (results.json, results.txt).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum SpecCommand {
    /// List the built-in architecture specs.
    List,
    /// Print one built-in spec as YAML.
    Show { arch: String },
    /// Validate spec files (default: every built-in spec).
    Validate { files: Vec<PathBuf> },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Human,
    Json,
}

/// Bad input: printed as one line, exit status 2.
struct InputError(String);

impl<E: std::fmt::Display> From<E> for InputError {
    fn from(e: E) -> Self {
        InputError(e.to_string())
    }
}

pub fn main() -> i32 {
    if let Some(code) = isolate::child_main_if_requested() {
        return code;
    }
    // Like any Unix filter: a closed pipe (`| head`) ends the process quietly.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // A bug must still end in one line and status 2, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("vdsoconf: internal error: {info}");
        std::process::exit(2);
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Symbols { image, format } => symbols(image, format),
        Command::Dump { output } => dump(&output),
        Command::Summary { dir } => summary(&dir),
        Command::Spec(cmd) => spec(cmd),
    };
    match result {
        Ok(code) => code,
        Err(InputError(msg)) => {
            eprintln!("vdsoconf: {msg}");
            2
        }
    }
}

fn run(args: RunArgs) -> Result<i32, InputError> {
    let opts = TargetOptions {
        arch: args.arch,
        provider: Some(args.provider),
        kernel: args.kernel,
        image: args.image,
        observed: args.observed,
    };
    let target = resolve_target(&opts)?;
    let options = match args.duration.as_deref().map(parse_duration).transpose()? {
        Some(d) => RunOptions {
            monotonic: d,
            progress: true,
        },
        None => RunOptions::default(),
    };
    let session = Session::open(target)?.with_options(options);
    let report = session.report(|c| {
        args.filter
            .as_ref()
            .is_none_or(|f| c.name().contains(f.as_str()))
    });
    let human = vdsoconf_reports::human::render(&report);
    if let Some(dir) = &args.report_dir {
        write_report_dir(dir, &report, &human)?;
    }
    match args.format {
        RunFormat::Human => print!("{human}"),
        RunFormat::Json => println!("{}", report.to_json()),
    }
    Ok(if report.counts().fail > 0 { 1 } else { 0 })
}

/// Writes every report format into `dir` (created if missing).
fn write_report_dir(dir: &Path, report: &RunReport, human: &str) -> Result<(), InputError> {
    std::fs::create_dir_all(dir).map_err(|e| InputError(format!("{}: {e}", dir.display())))?;
    for (name, text) in [
        ("results.json", report.to_json()),
        ("results.txt", human.to_string()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// The matrix table of a results directory; exit 1 when a target failed.
fn summary(dir: &Path) -> Result<i32, InputError> {
    let rows = vdsoconf_reports::matrix::read_dir(dir)?;
    print!("{}", vdsoconf_reports::matrix::render_text(&rows));
    let failed = rows.iter().any(|r| matches!(r.state(), RowState::Fail(_)));
    Ok(if failed { 1 } else { 0 })
}

fn read_image(path: &PathBuf) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))
}

fn live_vdso() -> Result<LiveVdso, InputError> {
    LiveVdso::find()?
        .ok_or_else(|| InputError("this process has no vDSO (AT_SYSINFO_EHDR is absent)".into()))
}

fn symbols(image: Option<PathBuf>, format: Format) -> Result<i32, InputError> {
    let (label, data) = match &image {
        Some(p) => (p.display().to_string(), read_image(p)?),
        None => ("live vDSO".to_string(), live_vdso()?.bytes().to_vec()),
    };
    let img = VdsoImage::parse(&data).map_err(|e| InputError(format!("{label}: {e}")))?;
    let mut rows = Vec::new();
    for sym in img.symbols() {
        let sym = sym.map_err(|e| InputError(format!("{label}: {e}")))?;
        rows.push(serde_json::json!({
            "name": sym.name_lossy(),
            "version": sym.version.name().map(|v| String::from_utf8_lossy(v).into_owned()),
            "hidden": sym.version.hidden(),
            "binding": binding_name(sym.binding()),
            "type": type_name(sym.sym_type()),
            "value": sym.value,
            "size": sym.size,
        }));
    }
    let soname = img
        .soname()
        .map(|s| String::from_utf8_lossy(s).into_owned());
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "soname": soname,
                "class": img.class().bits(),
                "endian": img.endian().name(),
                "machine": img.machine(),
                "hash": {"sysv": img.sysv_hash().is_some(), "gnu": img.gnu_hash().is_some()},
                "symbols": rows,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            println!(
                "{label}: soname {}, ELF{} {}-endian, e_machine {}, hash: {}{}",
                soname.as_deref().unwrap_or("(none)"),
                img.class().bits(),
                img.endian().name(),
                img.machine(),
                if img.sysv_hash().is_some() {
                    "sysv "
                } else {
                    ""
                },
                if img.gnu_hash().is_some() { "gnu" } else { "" },
            );
            for r in rows {
                let version = match (r["version"].as_str(), r["hidden"].as_bool()) {
                    (Some(v), Some(true)) => format!("@{v}"),
                    (Some(v), _) => format!("@@{v}"),
                    (None, _) => String::new(),
                };
                println!(
                    "  {:<40} {:<7} {:<7} 0x{:08x} {:>5}",
                    format!("{}{version}", r["name"].as_str().unwrap_or("")),
                    r["binding"].as_str().unwrap_or(""),
                    r["type"].as_str().unwrap_or(""),
                    r["value"].as_u64().unwrap_or(0),
                    r["size"].as_u64().unwrap_or(0)
                );
            }
        }
    }
    Ok(0)
}

fn dump(output: &PathBuf) -> Result<i32, InputError> {
    let vdso = live_vdso()?;
    // Validate before writing, so a dump is always a readable image.
    vdso.image()
        .map_err(|e| InputError(format!("live vDSO: {e}")))?;
    std::fs::write(output, vdso.bytes())
        .map_err(|e| InputError(format!("{}: {e}", output.display())))?;
    eprintln!("wrote {} bytes to {}", vdso.bytes().len(), output.display());
    Ok(0)
}

fn spec(cmd: SpecCommand) -> Result<i32, InputError> {
    match cmd {
        SpecCommand::List => {
            for arch in builtin_arches() {
                let spec = builtin(arch).expect("listed")?;
                println!("{arch:<14} {}", spec.title);
            }
        }
        SpecCommand::Show { arch } => {
            let spec = crate::target::load_arch(&arch)?;
            print!("{}", serde_saphyr_string(&spec)?);
        }
        SpecCommand::Validate { files } => {
            if files.is_empty() {
                for arch in builtin_arches() {
                    builtin(arch).expect("listed")?;
                    println!("ok  spec/{arch}.yaml");
                }
            } else {
                for f in &files {
                    load_file(f)?;
                    println!("ok  {}", f.display());
                }
            }
        }
    }
    Ok(0)
}

fn serde_saphyr_string(spec: &vdsoconf_suite::spec::ArchSpec) -> Result<String, InputError> {
    vdsoconf_suite::spec::to_yaml(spec).map_err(InputError)
}
