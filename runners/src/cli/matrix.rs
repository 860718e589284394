//! `vdsoconf matrix`: the data of runners/qemu/matrix, owned here. The script
//! keeps what a shell is for (apt, toolchains, qemu); the two row tables are
//! parsed here, once, and every `target.json` is written here, by serde, in the
//! schema `vdsoconf summary` reads ([`TargetInfo`]).

use super::{write_file, write_stdout, Format, InputError};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use vdsoconf_reports::matrix::TargetInfo;

#[derive(Subcommand)]
pub enum MatrixCommand {
    /// Print the matrix's rows, from runners/qemu/targets and
    /// runners/qemu/kernels: the targets that run as rows of their own, then the
    /// kernels. With --format json one array of {name, kind, spec, runner}
    /// objects, which CI engines build their job matrix from
    /// (`runners/qemu/matrix --list` prints this).
    List {
        /// The targets table (name, Rust target, Debian architecture, cross C
        /// compiler, runner, spec, provider: one row a line, `#` comments).
        #[arg(long, value_name = "FILE", default_value = "runners/qemu/targets")]
        targets: PathBuf,
        /// The kernels table (name, runner target, Debian architecture, suite,
        /// package, spec, machine, boot arguments).
        #[arg(long, value_name = "FILE", default_value = "runners/qemu/kernels")]
        kernels: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print both tables as the matrix script reads them, checked: a line per
    /// row, `target` or `kernel` and its fields, the optional ones (a kernel's
    /// machine and boot arguments) as `-` where the table leaves them out. Names
    /// are unique, every kernel's runner is a target, and no field holds a space.
    Tables {
        #[arg(long, value_name = "FILE", default_value = "runners/qemu/targets")]
        targets: PathBuf,
        #[arg(long, value_name = "FILE", default_value = "runners/qemu/kernels")]
        kernels: PathBuf,
    },
    /// Write DIR/target.json, what `vdsoconf summary` knows of a row that
    /// ran or could not: KEY=VALUE fields (target, runner, toolchain,
    /// not_built, probe_only, toolchain_fallback, error, exit, fetch_s, build_s,
    /// run_s); an empty value leaves its field out.
    Record {
        /// The row's results directory.
        dir: PathBuf,
        #[arg(value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
}

pub fn matrix(cmd: MatrixCommand) -> Result<i32, InputError> {
    match cmd {
        MatrixCommand::List {
            targets,
            kernels,
            format,
        } => {
            let rows = rows(&targets, &kernels)?;
            match format {
                Format::Text => {
                    let text: String = rows
                        .iter()
                        .map(|r| format!("{:<20} {:<32} {}\n", r.name, r.built_from, r.about))
                        .collect();
                    write_stdout(&text)?;
                }
                Format::Json => {
                    let listed: Vec<Listed> = rows.iter().map(Listed::from).collect();
                    write_stdout(&format!("{}\n", serde_json::to_string(&listed)?))?;
                }
            }
            Ok(0)
        }
        MatrixCommand::Tables { targets, kernels } => {
            let (targets, kernels) = tables(&targets, &kernels)?;
            let mut text = String::new();
            for (kind, rows) in [("target", targets), ("kernel", kernels)] {
                for row in rows {
                    text.push_str(kind);
                    for field in row {
                        text.push(' ');
                        text.push_str(&field);
                    }
                    text.push('\n');
                }
            }
            write_stdout(&text)?;
            Ok(0)
        }
        MatrixCommand::Record { dir, fields } => {
            let info = target_info(&fields)?;
            let mut json = serde_json::to_string(&info)?;
            json.push('\n');
            write_file(&dir.join("target.json"), &json)?;
            Ok(0)
        }
    }
}

/// A row as `--list --format json` gives it to CI engines.
#[derive(serde::Serialize)]
struct Listed<'a> {
    name: &'a str,
    kind: &'a str,
    spec: &'a str,
    runner: &'a str,
}

impl<'a> From<&'a Row> for Listed<'a> {
    fn from(r: &'a Row) -> Self {
        Listed {
            name: &r.name,
            kind: r.kind,
            spec: &r.spec,
            runner: &r.runner,
        }
    }
}

/// One row of the matrix, as `--list` shows it.
#[derive(Debug, PartialEq)]
struct Row {
    name: String,
    kind: &'static str,
    spec: String,
    runner: String,
    /// The Rust target (a target) or the kernel package (a kernel).
    built_from: String,
    about: String,
}

/// Fields of a targets row: name, Rust target, Debian architecture, cross C
/// compiler, runner, spec, provider.
const TARGET_FIELDS: usize = 7;
/// Fields of a kernels row: name, runner-of, Debian architecture, suite,
/// package, spec, then the optional machine and boot arguments.
const KERNEL_FIELDS: usize = 8;

/// Both tables, every row with all its fields (optional ones `-`).
type Tables = (Vec<Vec<String>>, Vec<Vec<String>>);

/// Both tables, checked against each other: names unique, every kernel's
/// runner a target.
fn tables(targets_file: &Path, kernels_file: &Path) -> Result<Tables, InputError> {
    let targets = table(targets_file, TARGET_FIELDS, TARGET_FIELDS)?;
    let mut kernels = table(kernels_file, 6, KERNEL_FIELDS)?;
    let mut names: Vec<&str> = Vec::new();
    for row in targets.iter().chain(&kernels) {
        if names.contains(&row[0].as_str()) {
            return Err(InputError(format!(
                "matrix row `{}` is named twice",
                row[0]
            )));
        }
        names.push(&row[0]);
    }
    for row in &mut kernels {
        if !targets.iter().any(|t| t[0] == row[1]) {
            return Err(InputError(format!(
                "{}: kernel row `{}` boots the runner of `{}`, which is no row of {}",
                kernels_file.display(),
                row[0],
                row[1],
                targets_file.display()
            )));
        }
        row.resize(KERNEL_FIELDS, "-".into());
    }
    Ok((targets, kernels))
}

/// The rows: the targets that run as rows of their own (a runner of `-` only
/// boots as a kernel row's `/init`), then the kernels.
fn rows(targets: &Path, kernels: &Path) -> Result<Vec<Row>, InputError> {
    let (targets, kernels) = tables(targets, kernels)?;
    let mut rows = Vec::new();
    for t in targets {
        if t[4] == "-" {
            continue;
        }
        rows.push(Row {
            name: t[0].clone(),
            kind: "target",
            spec: t[5].clone(),
            runner: t[4].clone(),
            built_from: t[1].clone(),
            about: format!("{} ({})", t[5], t[6]),
        });
    }
    for k in kernels {
        rows.push(Row {
            name: k[0].clone(),
            kind: "kernel",
            spec: k[5].clone(),
            runner: "qemu-system".into(),
            built_from: k[4].clone(),
            about: format!("{} (kernel, Debian {})", k[5], k[3]),
        });
    }
    Ok(rows)
}

/// A whitespace-separated table: its rows of `required` to `columns` fields,
/// or the first line with fewer or more.
fn table(path: &Path, required: usize, columns: usize) -> Result<Vec<Vec<String>>, InputError> {
    let text = vdsoconf_suite::input::read_text(path, vdsoconf_suite::input::InputKind::Spec)?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        if fields.len() < required || fields.len() > columns {
            let expected = if required == columns {
                format!("{columns}")
            } else {
                format!("{required} to {columns}")
            };
            return Err(InputError(format!(
                "{}:{}: {} fields, a row has {expected}",
                path.display(),
                n + 1,
                fields.len()
            )));
        }
        rows.push(fields);
    }
    Ok(rows)
}

/// A [`TargetInfo`] from KEY=VALUE fields.
fn target_info(fields: &[String]) -> Result<TargetInfo, InputError> {
    let mut info = TargetInfo {
        target: String::new(),
        runner: String::new(),
        toolchain: None,
        not_built: None,
        probe_only: None,
        toolchain_fallback: None,
        error: None,
        exit: None,
        fetch_s: None,
        build_s: None,
        run_s: None,
    };
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| InputError(format!("`{field}`: not KEY=VALUE")))?;
        if value.is_empty() {
            continue;
        }
        let text = || Some(value.to_string());
        let seconds = || -> Result<Option<f64>, InputError> {
            value
                .parse()
                .map(Some)
                .map_err(|_| InputError(format!("{key}={value}: not a number of seconds")))
        };
        match key {
            "target" => info.target = value.into(),
            "runner" => info.runner = value.into(),
            "toolchain" => info.toolchain = text(),
            "not_built" => info.not_built = text(),
            "probe_only" => info.probe_only = text(),
            "toolchain_fallback" => info.toolchain_fallback = text(),
            "error" => info.error = text(),
            "exit" => {
                info.exit = Some(
                    value
                        .parse()
                        .map_err(|_| InputError(format!("exit={value}: not an exit status")))?,
                )
            }
            "fetch_s" => info.fetch_s = seconds()?,
            "build_s" => info.build_s = seconds()?,
            "run_s" => info.run_s = seconds()?,
            _ => {
                return Err(InputError(format!(
                    "`{key}`: not a field of target.json (target, runner, toolchain, not_built, \
                     probe_only, toolchain_fallback, error, exit, fetch_s, build_s, run_s)"
                )))
            }
        }
    }
    if info.target.is_empty() || info.runner.is_empty() {
        return Err(InputError("target.json needs target= and runner=".into()));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(f: &[&str]) -> Vec<String> {
        f.iter().map(|s| s.to_string()).collect()
    }

    /// What the shell could not escape (quotes, backslashes, control
    /// characters in a build error) comes back as it went in.
    #[test]
    fn a_record_round_trips_any_text() {
        let error = "build failed: error[E0425]: \"x\"\\n \u{1b}[31mred\ttab";
        let info = target_info(&fields(&[
            "target=aarch64",
            "runner=qemu-aarch64",
            &format!("error={error}"),
            "exit=1",
            "fetch_s=0.5",
            "build_s=",
        ]))
        .unwrap();
        let json = serde_json::to_string(&info).unwrap();
        let back: TargetInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.error.as_deref(), Some(error));
        assert_eq!(
            (back.exit, back.fetch_s, back.build_s),
            (Some(1), Some(0.5), None)
        );
    }

    #[test]
    fn a_record_refuses_what_the_summary_could_not_read() {
        for bad in [
            &["target=a", "runner=b", "colour=red"][..],
            &["target=a", "runner=b", "exit=one"],
            &["target=a", "runner=b", "run_s=1m"],
            &["runner=b"],
            &["target=a", "runner"],
        ] {
            assert!(target_info(&fields(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_row_says_where_it_is() {
        let dir = std::env::temp_dir().join(format!("vdsoconf-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (targets, kernels) = (dir.join("targets"), dir.join("kernels"));
        std::fs::write(&targets, "t rust amd64 - native x86_64 kernel\n").unwrap();
        let fails = |kernels_text: &str, want: &str| {
            std::fs::write(&kernels, kernels_text).unwrap();
            let err = tables(&targets, &kernels).unwrap_err().0;
            assert!(err.contains(want), "{err}");
        };
        fails(
            "# a comment\nk t amd64 sid\n",
            "kernels:2: 4 fields, a row has 6 to 8",
        );
        fails("k t amd64 sid pkg x86_64 - a b\n", "kernels:1: 9 fields");
        fails("k nobody amd64 sid pkg x86_64\n", "which is no row of");
        fails("t t amd64 sid pkg x86_64\n", "`t` is named twice");
        std::fs::write(&kernels, "k t amd64 sid pkg x86_64\n").unwrap();
        let (_, k) = tables(&targets, &kernels).unwrap();
        assert_eq!(k[0][6..], ["-", "-"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The repository's own tables: every row parses and names are unique.
    #[test]
    fn the_repository_tables_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let rows = rows(
            &root.join("runners/qemu/targets"),
            &root.join("runners/qemu/kernels"),
        )
        .unwrap();
        let mut names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate row names");
        assert!(rows.iter().any(|r| r.kind == "kernel") && rows.iter().any(|r| r.kind == "target"));
    }
}
