//! The `vdsoconf` command line.

mod fuzz_live;
mod image;
mod matrix;
mod source;
mod tables;
mod tree;

use crate::isolate;
use crate::output;
use crate::session::{RunOptions, Session};
use crate::target::{
    parse_duration, parse_duration_of, parse_kernel, resolve_live_target, TargetOptions,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use vdsoconf_reports::bench::BenchReport;
use vdsoconf_reports::matrix::RowState;
use vdsoconf_reports::RunReport;
use vdsoconf_suite::checks::{PlannedCheck, Verdict};
use vdsoconf_suite::input::{read_input, read_text, InputKind};
use vdsoconf_suite::spec::{builtin, builtin_arches, load_file};
use vdsoconf_suite::vdso::LiveVdso;

#[derive(Parser)]
#[command(
    name = "vdsoconf",
    version,
    about = "Conformance suite for the Linux vDSO ABI",
    long_about = "Conformance suite for the Linux vDSO ABI.\n\n\
        Checks the vDSO of this process (or an image file) against the spec of its \
        architecture: soname, version nodes, every versioned symbol, and calls to each \
        function.\n\n\
        Verdicts are kselftest's: PASS, FAIL, SKIP (with why it could not run), XFAIL \
        (ran and saw only a kernel bug the spec records) and XPASS (did not see the \
        recorded bug it expected); XFAIL and XPASS are not failures.\n\n\
        Exit status: 0 every selected check ran and none failed; 1 a check failed; \
        2 bad input, an environment that kept checks from running (limits, no /proc, \
        a denied syscall), or output that could not be written; 4 nothing was checked \
        (no check selected, or every one skipped); 128+N stopped by signal N (the \
        reports then hold the checks that finished). Reports are written whole or not \
        at all."
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
    /// Check a built vDSO image file against its architecture's spec: ELF layout,
    /// self-containment, versions, hash tables, function symbols and the symbol set
    /// for the given kernel, config and provider. A symbol the spec lacks comes
    /// with the entry to add. Exit 0 no errors, 1 errors, 2 the image cannot be read.
    CheckImage(image::CheckImageArgs),
    /// Find every vDSO embedded in a kernel image file (x86 bzImage, arm64/riscv
    /// Image, EFI zboot, armhf zImage, s390x and ppc64 images, a plain vmlinux;
    /// gzip, xz, zstd, lz4, lzma, bzip2 or lzo compressed) and write each as
    /// DIR/<spec>.so, named by the built-in spec it belongs to (x86_64.so and
    /// i386.so from an x86_64 kernel, aarch64.so and arm64-compat.so from an
    /// arm64 one). Exit 0 images written, 1 no vDSO in the file, 2 bad input.
    Extract {
        /// The kernel image (e.g. /boot/vmlinuz-$(uname -r), arch/x86/boot/bzImage, vmlinux).
        kernel: PathBuf,
        /// Directory to write the images into (created if missing).
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The ABI history of a directory of kernels' vDSOs (history/fetch writes
    /// one: DIR/manifest.tsv and the images it lists): per architecture and
    /// vDSO, each symbol@version against each kernel, in version order, and the
    /// stability check: `diff` between consecutive kernels must find no break
    /// the spec does not predict. Exit 0 no unexplained break, 1 one or more,
    /// 2 bad input.
    History {
        /// The history directory (this repository's is history/).
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write the timeline as a self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Print one Markdown row per lineage instead (its kernels, the symbols
        /// that arrived within them, its breaks): docs/history.md's table, which
        /// a test holds to it. The exit status is the same.
        #[arg(long, conflicts_with = "format")]
        summary: bool,
    },
    /// Compare two images of one architecture for ABI breaks: symbols added
    /// (compatible), removed, moved to another version node, changed type or
    /// binding other than GLOBAL<->WEAK (which every loader accepts alike), an
    /// alias now at another function, soname changed (breaking). With the new
    /// build's configuration (--config), a symbol removed because an option the
    /// spec names is off is a configuration difference, not a break. Exit 1 when
    /// anything breaks, 0 otherwise, 2 bad input.
    Diff(image::DiffArgs),
    /// Check every vDSO a kernel build produced: found where the specs say a
    /// build writes them (x86: vdso64, vdso32, vdsox32; arm64: vdso and vdso32;
    /// …), each checked against its spec with the build's .config and
    /// kernel.release (check-image), and diffed against a baseline (diff):
    /// --against an earlier build or kernel image, or by default the newest
    /// kernel of its architecture in the ABI history. Exit 0 clean, 1 findings
    /// or breaking changes, 2 the tree or an image cannot be read.
    Tree(tree::TreeArgs),
    /// Read each vDSO's linker script in a kernel source tree (with what it
    /// includes; `#if`/`#ifdef`/`#else` tracked) and list what it exports, at
    /// which version node, under which kernel options, against the spec: a
    /// symbol the spec lacks or has at another node or under other options, a
    /// spec symbol the source does not export, a `since`/`until` the source
    /// contradicts, a condition no option decides. Exit 0 agreement, 1
    /// disagreements, 2 not a kernel source tree or a script unreadable.
    Source(source::SourceArgs),
    /// Boot a kernel under qemu-system with this suite (a static build) as /init and
    /// run the live checks against the real kernel's vDSO; results come back over
    /// the serial console. Exit status as `run`; 2 when the boot itself fails (the
    /// message names the stage and shows the last console lines).
    Boot(BootArgs),
    /// Print the target x check-group table of a results directory written by
    /// `runners/qemu/matrix`, and below it the directory's bench of the host
    /// (bench.json), if any (exit 1 when a target failed or checked nothing).
    Summary {
        /// The results directory (one sub-directory per target).
        dir: PathBuf,
        /// Also write the table (and DIR/bench.json's chart, if any) as a
        /// self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Print where the time went instead of the table: per target, the seconds
        /// spent fetching its toolchain or kernel, building its runner, running it,
        /// the part its checks took (per column) and the rest (starting qemu,
        /// booting the kernel); what every row shared above. The exit status is
        /// the table's.
        #[arg(long)]
        timings: bool,
    },
    /// Write the manual pages (man1/vdsoconf.1 and one per command) and the shell
    /// completions (completions/: bash, zsh, fish) into DIR, generated from these
    /// very options; `runners/release/dist` puts them beside the binaries.
    Manual {
        /// Directory to write into (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Measure each callable vDSO function (and each clock the spec says it serves)
    /// against the raw syscall: nanoseconds per call, median and minimum over batches.
    /// Each function runs in a child of its own: one that crashes, hangs (60 s) or
    /// writes outside its output is reported as FAILED and the exit status is 1;
    /// the others are still measured.
    Bench {
        #[command(flatten)]
        target: TargetOptions,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the chosen format to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also write bench.json, bench.txt and bench.svg into this directory and
        /// (re)write its report.html.
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
    },
    /// Differential fuzzing of the live vDSO: seeded calls of each function
    /// (clock ids across clockid_t and its CPU-time and fd clocks, every
    /// pointer class, getrandom's lengths, flags and states, getcpu on each
    /// CPU), each made through the vDSO and its system call in a child of its
    /// own and judged as the checks judge them. A disagreement the spec's
    /// deviations do not explain is a finding: printed with the seed and the
    /// call, shrunk to the simplest call that still shows it, and written as a
    /// C reproducer. Recorded deviations are counted. Exit 0 no finding, 1
    /// findings, 2 bad input.
    FuzzLive(fuzz_live::FuzzLiveArgs),
    /// Inspect and validate the spec files.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// The data of runners/qemu/matrix: its rows, and each row's target.json
    /// (what the script calls; `vdsoconf summary` reads what it writes).
    #[command(subcommand)]
    Matrix(matrix::MatrixCommand),
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: TargetOptions,
    /// Run only checks whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Read each clock this long in the monotonicity checks (default 1s, at least 10ms;
    /// `10m` makes a soak test, with a progress display when stderr is a terminal).
    /// Seconds, or a number with ms, s, m or h.
    #[arg(long)]
    duration: Option<String>,
    #[command(flatten)]
    fuzz: FuzzCallArgs,
    #[command(flatten)]
    out: ReportArgs,
}

/// The `fuzz` checks' calls (`run` and `boot`).
#[derive(Args)]
struct FuzzCallArgs {
    /// Seeded calls of each function in the `fuzz` checks (0: none); the
    /// same seed and count make the same calls on every run.
    #[arg(long, value_name = "N", default_value_t = crate::session::FUZZ_CALLS)]
    fuzz_calls: u64,
    /// The seed of the `fuzz` checks' calls.
    #[arg(long, value_name = "N", default_value_t = 1)]
    fuzz_seed: u64,
}

/// Where a run's report goes (`run` and `boot`).
#[derive(Args)]
struct ReportArgs {
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    format: RunFormat,
    /// Write the chosen format to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write every format into this directory: results.json, results.txt,
    /// results.ktap, results.junit.xml and report.html (with DIR/bench.json's chart
    /// when `vdsoconf bench --report-dir DIR` wrote one).
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
}

#[derive(Args)]
struct BootArgs {
    /// Architecture checked inside: the spec of the --binary's processes (x86_64,
    /// i386, aarch64, arm, arm64-compat, ppc64, s390x, riscv64, loongarch64).
    #[arg(long)]
    arch: String,
    /// Architecture of the kernel, which picks the qemu-system machine (default:
    /// --arch). A 32-bit runner on a 64-bit kernel checks its compat vDSO:
    /// `--arch i386 --machine x86_64`, `--arch arm64-compat --machine aarch64`.
    #[arg(long, value_name = "ARCH")]
    machine: Option<String>,
    /// The kernel image (vmlinuz / Image / vmlinux).
    #[arg(long, value_name = "PATH")]
    kernel: PathBuf,
    /// Judge `since`/`until` against this version (default: the booted kernel's uname -r).
    #[arg(long, value_name = "X.Y")]
    kernel_version: Option<String>,
    /// CPUs of the machine (2 or more for the cross-CPU checks).
    #[arg(long, default_value_t = 2)]
    smp: u32,
    /// Memory of the machine in MiB.
    #[arg(long, default_value_t = 1024)]
    memory: u32,
    /// A static vdsoconf built for --arch (default: this executable, if it is static).
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// The qemu-system executable (default: qemu-system-<machine> from PATH).
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// UEFI firmware for a machine that needs it (loongarch64; default: Debian's
    /// qemu-efi-loongarch64 file, under the share directory beside the qemu
    /// executable's bin, then /usr/share).
    #[arg(long, value_name = "PATH")]
    firmware: Option<PathBuf>,
    /// Give up on the boot after this long (seconds, or 5m).
    #[arg(long, default_value = "15m")]
    timeout: String,
    /// How long each monotonicity check reads its clock inside.
    #[arg(long)]
    duration: Option<String>,
    #[command(flatten)]
    fuzz: FuzzCallArgs,
    /// A spec file, a directory of ARCH.yaml files, or a built-in
    /// architecture's name, to check against inside instead of the built-in
    /// one (a file is put in the initramfs).
    #[arg(long, value_name = "ARCH|FILE|DIR")]
    spec: Option<PathBuf>,
    /// A parameter for the kernel's command line (repeatable), e.g.
    /// `--kernel-arg vsyscall=none` to check x86_64's vsyscall page in that mode.
    #[arg(long = "kernel-arg", value_name = "PARAM")]
    kernel_args: Vec<String>,
    /// x86 only: the counter the vDSO reads. `tsc` (clocksource=tsc
    /// tsc=reliable: the vDSO reads the TSC), `hpet` (no vDSO counter: the
    /// high-resolution clocks fall back), `kvm-clock` (KVM's pvclock page) and
    /// `hyperv` (Hyper-V's reference TSC page, QEMU's hv-time), the last two
    /// under `-accel kvm`. The boot fails unless the kernel ran on that
    /// clocksource; where KVM cannot run a guest the error says so.
    #[arg(long, value_name = "MODE")]
    clock: Option<String>,
    /// Run only checks whose name contains this text (no spaces: it travels on
    /// the kernel command line).
    #[arg(long)]
    filter: Option<String>,
    #[command(flatten)]
    out: ReportArgs,
}

#[derive(Subcommand)]
enum SpecCommand {
    /// List the built-in architecture specs.
    List,
    /// Print one built-in spec as YAML.
    Show { arch: String },
    /// Validate spec files (default: every built-in spec).
    Validate { files: Vec<PathBuf> },
    /// List the checks each spec plans, one a line: its name (ARCH::GROUP::SUBJECT,
    /// what --filter matches), a tab, and what the spec expects of it. The same
    /// specs give the same list, byte for byte, on any machine: what a change that
    /// must not alter the checks is compared by.
    Plan {
        /// Built-in architectures, spec files or directories of ARCH.yaml files,
        /// as --spec takes them (default: every built-in spec).
        #[arg(value_name = "ARCH|FILE|DIR")]
        specs: Vec<String>,
    },
    /// List the symptom ids a spec deviation may name (`ID`, `ID:DETAIL`,
    /// `ID:PREFIX*`): the live checks' and check-image's findings, which are the
    /// image checks' symptoms.
    Symptoms,
    /// Print the documentation's reference tables (docs/reference.md) as
    /// Markdown: the check groups, the symbol kinds and the symptoms, from the
    /// code and the built-in specs. The same on every machine; a test compares
    /// the checked-in file with it.
    Tables,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    /// One line per check, then the totals.
    Human,
    /// KTAP version 1 as kselftest writes it (exit status 4 when everything skipped).
    Ktap,
    /// JUnit XML, one testsuite per check group.
    Junit,
    /// The results model, schema vdsoconf-results/1.
    Json,
}

/// Bad input: printed as one line, exit status 2.
#[derive(Debug)]
struct InputError(String);

impl<E: std::fmt::Display> From<E> for InputError {
    fn from(e: E) -> Self {
        InputError(e.to_string())
    }
}

/// Writes `text` to standard output. A write that fails (a full disk, a closed
/// descriptor) is an error of the run: one line, exit status 2. A closed pipe
/// (`| head`) never gets here: SIGPIPE ends the process quietly, as for any filter.
fn write_stdout(text: &str) -> Result<(), InputError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| InputError(format!("cannot write to standard output: {e}")))
}

/// `text` fit for one line of a terminal: control characters (a NUL, an escape
/// sequence, a newline from a file) shown escaped, and a run of more than 160
/// characters without a space (a megabyte-long symbol name) cut in its middle.
pub fn one_line(text: &str) -> String {
    const LONGEST: usize = 160;
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let chars = word.chars().count();
        let shown: String = if chars > LONGEST {
            let head: String = word.chars().take(100).collect();
            let tail: String = word.chars().skip(chars - 40).collect();
            format!("{head}…[{} more characters]…{tail}", chars - 140)
        } else {
            word.to_string()
        };
        for c in shown.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// `print!` that reports a failed write as [`write_stdout`] does.
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(&format!($($arg)*))? };
}

/// `println!` that reports a failed write as [`write_stdout`] does.
macro_rules! outln {
    ($($arg:tt)*) => { write_stdout(&format!("{}\n", format_args!($($arg)*)))? };
}

fn stdout_is_open() -> bool {
    vdsoconf_suite::vdso::process::stdout_was_open_at_start()
}

pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    if crate::boot::is_init(&argv) {
        crate::boot::init_main(&argv[2..]);
    }
    if let Some(code) = isolate::child_main_if_requested() {
        return code;
    }
    use vdsoconf_suite::vdso::process::{set_signal, Disposition};
    // Like any Unix filter: a closed pipe (`| head`) ends the process quietly.
    set_signal(libc::SIGPIPE, Disposition::Default);
    // A file-size limit (`ulimit -f`) must make a write fail with EFBIG, reported
    // in one line, rather than kill the process mid-report.
    set_signal(libc::SIGXFSZ, Disposition::Ignore);
    // A bug must still end in one line and status 2, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("vdsoconf: internal error: {info}");
        std::process::exit(2);
    }));
    if !stdout_is_open() {
        eprintln!("vdsoconf: standard output is closed: nothing could be reported");
        return 2;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version land here too: their text must reach its reader.
        Err(e) => {
            let shown = e.print().and_then(|()| {
                use std::io::Write;
                std::io::stdout().flush()
            });
            return match shown {
                Ok(()) => e.exit_code(),
                Err(err) => {
                    eprintln!("vdsoconf: cannot write to standard output: {err}");
                    2
                }
            };
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Symbols { image, format } => image::symbols(image, format),
        Command::Dump { output } => dump(&output),
        Command::Extract {
            kernel,
            output,
            format,
        } => extract(&kernel, &output, format),
        Command::History {
            dir,
            format,
            html,
            summary,
        } => history(&dir, format, html.as_deref(), summary),
        Command::Summary { dir, html, timings } => summary(&dir, html.as_deref(), timings),
        Command::Manual { output } => manual(&output),
        Command::Bench {
            target,
            format,
            output,
            report_dir,
        } => bench(target, format, output.as_deref(), report_dir.as_deref()),
        Command::CheckImage(args) => image::check_image(args),
        Command::Boot(args) => boot(args),
        Command::Diff(args) => image::diff(args),
        Command::Tree(args) => tree::tree(args),
        Command::Source(args) => source::source(args),
        Command::Spec(cmd) => spec(cmd),
        Command::Matrix(cmd) => matrix::matrix(cmd),
        Command::FuzzLive(args) => fuzz_live::fuzz_live(args),
    };
    match result {
        Ok(code) => code,
        Err(InputError(msg)) => {
            eprintln!("vdsoconf: {}", one_line(&msg));
            2
        }
    }
}

fn run(args: RunArgs) -> Result<i32, InputError> {
    let opts = args.target;
    // Limits too small for the live checks are refused before anything else
    // (a spec parsed first could already exhaust them).
    if opts.image.is_none() && opts.observed.is_none() {
        isolate::preflight()?;
    }
    let target = resolve_live_target(&opts)?;
    let fuzzed = RunOptions {
        fuzz_calls: args.fuzz.fuzz_calls,
        fuzz_seed: args.fuzz.fuzz_seed,
        ..RunOptions::default()
    };
    let options = match args.duration.as_deref().map(parse_duration).transpose()? {
        Some(d) => RunOptions {
            monotonic: d,
            // A soak display is for someone watching a terminal, not for a log.
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ..fuzzed
        },
        None => fuzzed,
    };
    let session = Session::open(target)?.with_options(options);
    let keep = |c: &PlannedCheck| {
        args.filter
            .as_ref()
            .is_none_or(|f| c.name().contains(f.as_str()))
    };
    crate::signals::install();
    // Human and KTAP output on standard output goes out a check at a time, so a
    // run that is killed still shows every check that finished.
    let env = session.environment();
    let mut stream = match (&args.out.output, args.out.format) {
        (None, RunFormat::Human) => {
            write_stdout(&vdsoconf_reports::human::header(&env))?;
            Some(Stream::Human)
        }
        (None, RunFormat::Ktap) => {
            let selected = session.selected(keep);
            let (ktap, head) = vdsoconf_reports::ktap::KtapStream::start(
                &vdsoconf_reports::model::tool_name(),
                &env,
                selected.iter().map(|c| c.group.name()),
            );
            write_stdout(&head)?;
            Some(Stream::Ktap(ktap))
        }
        _ => None,
    };
    let mut write_error = None;
    let report = session.report_streaming(keep, &mut |r| {
        let text = match &mut stream {
            None => return true,
            Some(Stream::Human) => vdsoconf_reports::human::result(r),
            Some(Stream::Ktap(k)) => k.result(r),
        };
        match write_stdout(&text) {
            Ok(()) => true,
            Err(e) => {
                write_error = Some(e);
                false
            }
        }
    });
    let tail = stream.as_mut().map(|s| match s {
        Stream::Human => vdsoconf_reports::human::footer(&report),
        Stream::Ktap(k) => k.finish(&report),
    });
    if let Some(e) = write_error {
        if let Some(dir) = &args.out.report_dir {
            write_report_dir(dir, &report)?;
        }
        return Err(e);
    }
    emit_report(&report, &args.out, tail)
}

/// A report being written to standard output as the checks finish.
enum Stream {
    Human,
    Ktap(vdsoconf_reports::ktap::KtapStream),
}

fn render(report: &RunReport, format: RunFormat) -> String {
    match format {
        RunFormat::Human => vdsoconf_reports::human::render(report),
        RunFormat::Ktap => vdsoconf_reports::ktap::render(report),
        RunFormat::Junit => vdsoconf_reports::junit::render(report),
        RunFormat::Json => format!("{}\n", report.to_json()),
    }
}

/// Writes every report format into `dir` (created if missing) as one change.
fn write_report_dir(dir: &Path, report: &RunReport) -> Result<(), InputError> {
    let mut files: Vec<(&str, Vec<u8>)> = [
        ("results.json", RunFormat::Json),
        ("results.txt", RunFormat::Human),
        ("results.ktap", RunFormat::Ktap),
        ("results.junit.xml", RunFormat::Junit),
    ]
    .into_iter()
    .map(|(name, format)| (name, render(report, format).into_bytes()))
    .collect();
    let rows = [vdsoconf_reports::matrix::single_row(report.clone())];
    let page = vdsoconf_reports::html::render("vdsoconf report", &rows, bench_in(dir)?.as_ref());
    files.push(("report.html", page.into_bytes()));
    output::replace_in_dir(dir, &files)?;
    Ok(())
}

#[cfg(feature = "manual")]
fn manual(dir: &std::path::Path) -> Result<i32, InputError> {
    use clap::CommandFactory;
    let written = crate::manual::write(dir, Cli::command()).map_err(InputError)?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(0)
}

/// A value that travels on the kernel command line, which splits at blanks.
fn one_word(option: &str, value: &str) -> Result<(), InputError> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(InputError(format!(
            "{option} {value:?}: one word with no blanks (it goes on the kernel command line)"
        )));
    }
    Ok(())
}

fn boot(args: BootArgs) -> Result<i32, InputError> {
    use crate::boot::{boot, machine, BootOptions};
    let machine_arch = args.machine.clone().unwrap_or_else(|| args.arch.clone());
    machine(&machine_arch)?;
    let loaded = crate::target::load_spec_for(Some(&args.arch), args.spec.as_deref(), &args.arch)?;
    let mut suite_args = Vec::new();
    // A spec file goes into the initramfs, for /init to load as given (a
    // built-in architecture's name needs nothing: /init has the same one).
    let spec = match &loaded.file {
        None => None,
        Some(file) => {
            let text = read_input(file, InputKind::Spec)?;
            let name = format!("{}.yaml", args.arch);
            suite_args.extend(["--spec".to_string(), format!("/spec/{name}")]);
            Some((name, text))
        }
    };
    if let Some(k) = &args.kernel_version {
        parse_kernel(k)?;
        suite_args.extend(["--kernel".to_string(), k.clone()]);
    }
    if let Some(d) = &args.duration {
        parse_duration(d)?;
        suite_args.extend(["--duration".to_string(), d.clone()]);
    }
    suite_args.extend([
        "--fuzz-calls".to_string(),
        args.fuzz.fuzz_calls.to_string(),
        "--fuzz-seed".to_string(),
        args.fuzz.fuzz_seed.to_string(),
    ]);
    if let Some(f) = &args.filter {
        one_word("--filter", f)?;
        suite_args.extend(["--filter".to_string(), f.clone()]);
    }
    for a in &args.kernel_args {
        one_word("--kernel-arg", a)?;
        if a == "--" {
            return Err(InputError(
                "--kernel-arg: `--` would end the kernel's parameters".into(),
            ));
        }
    }
    let clock = match &args.clock {
        Some(name) => Some(crate::boot::clock_mode(name, &machine_arch).map_err(InputError)?),
        None => None,
    };
    if std::env::var_os("VDSOCONF_BOOT_DEBUG").is_some() {
        suite_args.push("--debug".to_string());
    }
    crate::signals::install();
    let booted = boot(&BootOptions {
        arch: args.arch.clone(),
        machine: machine_arch,
        kernel: args.kernel.clone(),
        binary: args.binary.clone(),
        qemu: args.qemu.clone(),
        firmware: args.firmware.clone(),
        smp: args.smp,
        memory_mb: args.memory,
        timeout: parse_duration_of("--timeout", &args.timeout)?,
        suite_args,
        kernel_args: args.kernel_args.clone(),
        clock,
        spec,
    });
    let report = match booted {
        Ok(report) => report,
        // A failed boot says at which stage, with the console lines that show
        // it: several lines, each shown as one.
        Err(why) => {
            let lines: Vec<String> = why.lines().map(one_line).collect();
            eprintln!("vdsoconf: {}", lines.join("\n"));
            return Ok(2);
        }
    };
    if report.environment.arch != args.arch {
        return Err(InputError(format!(
            "the binary inside ran as {}, not {}: pass --binary built for {}",
            report.environment.arch, args.arch, args.arch
        )));
    }
    emit_report(&report, &args.out, None)
}

/// Writes a run's report as `run` does: the chosen format, the report directory,
/// and the exit status.
/// `streamed_tail`: the last lines of a report already streamed to standard output,
/// written instead of the whole.
fn emit_report(
    report: &RunReport,
    out: &ReportArgs,
    streamed_tail: Option<String>,
) -> Result<i32, InputError> {
    if let Some(dir) = &out.report_dir {
        write_report_dir(dir, report)?;
    }
    let text = streamed_tail.unwrap_or_else(|| render(report, out.format));
    match &out.output {
        Some(path) => write_file(path, &text)?,
        None => out!("{text}"),
    }
    if let (Some(why), Some(sig)) = (&report.interrupted, crate::signals::received()) {
        eprintln!("vdsoconf: {why}; the reports hold the checks that finished");
        return Ok(128 + sig);
    }
    let counts = report.counts();
    let mut stopped = report.results.iter().filter(|r| r.result.environment);
    if let (0, Some(first)) = (counts.fail, stopped.next()) {
        // The machine, not the vDSO, kept these from running: the run is not a pass.
        let reason = match &first.result.verdict {
            Verdict::Skip { reason } => reason.as_str(),
            _ => "",
        };
        eprintln!(
            "vdsoconf: {} check(s) could not run on this machine ({}, …): {reason}",
            1 + stopped.count(),
            first.name
        );
        return Ok(ENVIRONMENT_STOPPED);
    }
    if counts.fail == 0 && counts.ran_clean() == 0 {
        // Nothing was checked: never a pass, whatever the format.
        let why = match report.results.iter().find_map(|r| match &r.result.verdict {
            Verdict::Skip { reason } => Some(reason.as_str()),
            _ => None,
        }) {
            None => "no check was selected (see --filter)".to_string(),
            Some(reason) => format!("all {} checks were skipped: {reason}", counts.skip),
        };
        eprintln!("vdsoconf: nothing was checked: {why}");
        return Ok(NOTHING_CHECKED);
    }
    Ok(match out.format {
        RunFormat::Ktap => vdsoconf_reports::ktap::exit_code(report),
        _ if counts.fail > 0 => 1,
        _ => 0,
    })
}

/// The exit status of a run that checked nothing (kselftest's "skip").
const NOTHING_CHECKED: i32 = 4;
/// The exit status of a run the machine kept checks from (as for bad input).
const ENVIRONMENT_STOPPED: i32 = 2;

fn write_file(path: &Path, text: &str) -> Result<(), InputError> {
    Ok(output::write_file(path, text.as_bytes())?)
}

/// DIR/bench.json, if `vdsoconf bench --report-dir DIR` wrote one; a corrupt one is
/// an error, not a page without its chart.
fn bench_in(dir: &Path) -> Result<Option<BenchReport>, InputError> {
    let path = dir.join("bench.json");
    if path.symlink_metadata().is_err() {
        return Ok(None);
    }
    let text = read_text(&path, InputKind::Report)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| InputError(format!("{}: not a bench report: {e}", path.display())))
}

fn bench(
    opts: TargetOptions,
    format: Format,
    output: Option<&Path>,
    report_dir: Option<&Path>,
) -> Result<i32, InputError> {
    if opts.image.is_some() || opts.observed.is_some() {
        return Err(InputError(
            "bench calls the live vDSO: an image (--image, --observed) cannot be measured".into(),
        ));
    }
    isolate::preflight()?;
    let target = resolve_live_target(&opts)?;
    let session = Session::open(target)?;
    crate::signals::install();
    let run = crate::isolate::run_bench(&session.target);
    if run.rows.is_empty() && run.failures.is_empty() && !run.interrupted {
        return Err(InputError(
            "no callable vDSO function in this process: nothing to measure".into(),
        ));
    }
    // The yardstick, right after the rows: the same call from a bare C loop.
    let bare_loop = (!run.interrupted).then(|| {
        let scratch =
            std::env::temp_dir().join(format!("vdsoconf-bare-loop-{}", std::process::id()));
        let measured = crate::bench_reference::measure(&scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        measured
    });
    let report = BenchReport {
        schema: vdsoconf_reports::bench::BENCH_SCHEMA.to_string(),
        environment: session.environment(),
        batch: crate::bench::BATCH,
        batches: crate::bench::BATCHES,
        rows: run.rows,
        failures: run.failures,
        bare_loop,
    };
    let json = format!("{}\n", serde_json::to_string_pretty(&report)?);
    let text = vdsoconf_reports::bench::render_text(&report);
    if let Some(dir) = report_dir {
        let rows = if dir.join("results.json").exists() {
            vdsoconf_reports::matrix::read_results(dir)?
        } else {
            Vec::new()
        };
        let page = vdsoconf_reports::html::render("vdsoconf report", &rows, Some(&report));
        let files = [
            ("bench.json", json.clone().into_bytes()),
            ("bench.txt", text.clone().into_bytes()),
            (
                "bench.svg",
                vdsoconf_reports::bench::render_svg(&report).into_bytes(),
            ),
            ("report.html", page.into_bytes()),
        ];
        output::replace_in_dir(dir, &files)?;
    }
    let out = match format {
        Format::Text => text,
        Format::Json => json,
    };
    match output {
        Some(path) => write_file(path, &out)?,
        None => out!("{out}"),
    }
    if let (true, Some(sig)) = (run.interrupted, crate::signals::received()) {
        eprintln!(
            "vdsoconf: stopped by {}: the report holds the functions measured before it",
            crate::signals::name(sig)
        );
        return Ok(128 + sig);
    }
    if let Some(f) = report.failures.first() {
        eprintln!(
            "vdsoconf: {} function(s) could not be measured ({}: {})",
            report.failures.len(),
            f.symbol,
            f.reason
        );
        return Ok(1);
    }
    Ok(0)
}

/// The matrix table of a results directory; exit 1 when a target failed.
fn summary(dir: &Path, html: Option<&Path>, timings: bool) -> Result<i32, InputError> {
    let rows = vdsoconf_reports::matrix::read_dir(dir)?;
    if timings {
        let setup = vdsoconf_reports::timings::read_setup(dir)?;
        out!(
            "{}",
            vdsoconf_reports::timings::render(&rows, setup.as_ref())
        );
    } else {
        out!("{}", vdsoconf_reports::matrix::render_text(&rows));
        // The matrix's bench of this machine, below the table: where CI's
        // figures of it come from (.ci/figures reads them from the log).
        if let Some(bench) = bench_in(dir)? {
            outln!("\nthis machine's vDSO against its syscalls (bench.json):");
            out!("{}", vdsoconf_reports::bench::render_text(&bench));
        }
    }
    if let Some(path) = html {
        let page = vdsoconf_reports::html::render(
            "vdsoconf: the qemu matrix",
            &rows,
            bench_in(dir)?.as_ref(),
        );
        write_file(path, &page)?;
    }
    // A target that checked nothing fails the matrix: it was built to be checked.
    let failed = rows
        .iter()
        .any(|r| matches!(r.state(), RowState::Fail(_) | RowState::NothingChecked(_)));
    Ok(if failed { 1 } else { 0 })
}

/// A vDSO image file's bytes; a file too large for one (a kernel image, say)
/// is named as such.
fn read_image_file(path: &Path) -> Result<Vec<u8>, InputError> {
    read_input(path, InputKind::VdsoImage).map_err(|e| {
        let head = head_of(path);
        InputError(format!("{e}{}", image::kernel_image_hint(&head)))
    })
}

/// The first 64 KiB of `path` (what a kernel image's headers need), or nothing.
fn head_of(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    // Only a regular file: opening a FIFO would wait for a writer.
    if path.metadata().is_ok_and(|m| m.is_file()) {
        if let Ok(f) = std::fs::File::open(path) {
            let _ = f.take(64 << 10).read_to_end(&mut head);
        }
    }
    head
}

fn live_vdso() -> Result<LiveVdso, InputError> {
    LiveVdso::find()?
        .ok_or_else(|| InputError("this process has no vDSO (AT_SYSINFO_EHDR is absent)".into()))
}

fn dump(output: &Path) -> Result<i32, InputError> {
    let vdso = live_vdso()?;
    // Validate before writing, so a dump is always a readable image.
    vdso.image()
        .map_err(|e| InputError(format!("live vDSO: {e}")))?;
    output::write_file(output, vdso.bytes())?;
    eprintln!("wrote {} bytes to {}", vdso.bytes().len(), output.display());
    Ok(0)
}

fn history(
    dir: &Path,
    format: Format,
    html: Option<&Path>,
    summary: bool,
) -> Result<i32, InputError> {
    use vdsoconf_reports::history::{render_html, render_summary_markdown, render_text, LEGEND};
    let lineages = crate::history::lineages(dir)?;
    if let Some(file) = html {
        let page = render_html(&format!("vDSO ABI history of {}", dir.display()), &lineages);
        output::write_file(file, page.as_bytes())?;
    }
    let breaks: usize = lineages.iter().map(|l| l.breaks.len()).sum();
    let unexplained: usize = lineages.iter().map(|l| l.unexplained().count()).sum();
    match format {
        _ if summary => out!("{}", render_summary_markdown(&lineages)),
        Format::Json => outln!("{}", serde_json::to_string_pretty(&lineages)?),
        Format::Text => {
            outln!("cells: {LEGEND}\n");
            out!("{}", render_text(&lineages));
            outln!(
                "history: {} vDSO lineages, {} images; {breaks} breaking change(s) between consecutive kernels, {unexplained} unexplained",
                lineages.len(),
                lineages.iter().map(|l| l.kernels.len()).sum::<usize>()
            );
        }
    }
    Ok(if unexplained > 0 { 1 } else { 0 })
}

#[cfg(feature = "extract")]
fn extract(kernel: &Path, dir: &Path, format: Format) -> Result<i32, InputError> {
    let data = read_input(kernel, InputKind::KernelImage)?;
    let (written, tried) = crate::extract::extract_to(&data, dir)?;
    if written.is_empty() {
        eprintln!(
            "vdsoconf: {}: no vDSO found{}",
            kernel.display(),
            if tried.is_empty() {
                " (no uncompressed image, and no compressed kernel recognised)".to_string()
            } else {
                format!("; tried {}", tried.join("; "))
            }
        );
        if format == Format::Json {
            outln!("[]");
        }
        return Ok(1);
    }
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&written)?),
        Format::Text => {
            for w in &written {
                outln!(
                    "{}: {} ({}-bit {}-endian, machine {}), {} bytes at 0x{:x}{}, spec {}",
                    w.file.display(),
                    w.soname,
                    w.class,
                    w.endian,
                    w.machine,
                    w.size,
                    w.offset,
                    w.payload
                        .as_ref()
                        .map(|p| format!(" of the {p}"))
                        .unwrap_or_default(),
                    w.spec
                        .as_deref()
                        .unwrap_or("none (no built-in spec has its class and machine)")
                );
            }
        }
    }
    Ok(0)
}

#[cfg(not(feature = "extract"))]
fn extract(_kernel: &Path, _dir: &Path, _format: Format) -> Result<i32, InputError> {
    Err(InputError(
        "this build has no `extract` (the static runners are built without the `extract` feature); use a default build".into(),
    ))
}

#[cfg(not(feature = "manual"))]
fn manual(_dir: &std::path::Path) -> Result<i32, InputError> {
    Err(InputError(
        "this build has no `manual` (the static runners are built without the `manual` feature); use a default build, or the pages that come with the release binaries".into(),
    ))
}

fn spec(cmd: SpecCommand) -> Result<i32, InputError> {
    match cmd {
        SpecCommand::List => {
            for arch in builtin_arches() {
                let spec = builtin(arch).expect("listed")?;
                outln!("{arch:<14} {}", spec.title);
            }
        }
        SpecCommand::Symptoms => {
            for (id, meaning) in vdsoconf_suite::checks::symptoms() {
                outln!("{id:<26} {meaning}");
            }
            for (id, _, meaning) in vdsoconf_suite::checks::findings::FINDINGS {
                outln!("{id:<26} {meaning} (a finding)");
            }
        }
        SpecCommand::Tables => out!("{}", tables::reference()?),
        SpecCommand::Plan { specs } => {
            let arches: Vec<String> = if specs.is_empty() {
                builtin_arches().map(str::to_string).collect()
            } else {
                specs
            };
            for name in &arches {
                // Named as --spec names a spec, and found the same way.
                let spec = crate::target::load_spec(None, Some(Path::new(name)))?;
                for check in vdsoconf_suite::checks::plan(&spec) {
                    outln!("{}\t{}", check.name(), check.expectation);
                }
            }
        }
        SpecCommand::Show { arch } => {
            let spec = crate::target::load_arch(&arch)?;
            out!("{}", serde_saphyr_string(&spec)?);
        }
        SpecCommand::Validate { files } => {
            if files.is_empty() {
                for arch in builtin_arches() {
                    builtin(arch).expect("listed")?;
                    outln!("ok  spec/{arch}.yaml");
                }
            } else {
                // Every file is read and each bad one named, not just the first.
                let mut bad = 0;
                for f in &files {
                    match load_file(f) {
                        Ok(_) => outln!("ok  {}", f.display()),
                        Err(e) => {
                            bad += 1;
                            eprintln!("vdsoconf: {}", one_line(&e.to_string()));
                        }
                    }
                }
                if bad > 0 {
                    if files.len() > 1 {
                        eprintln!("vdsoconf: {bad} of {} spec files are invalid", files.len());
                    }
                    return Ok(2);
                }
            }
        }
    }
    Ok(0)
}

fn serde_saphyr_string(spec: &vdsoconf_suite::spec::ArchSpec) -> Result<String, InputError> {
    vdsoconf_suite::spec::to_yaml(spec).map_err(InputError)
}
