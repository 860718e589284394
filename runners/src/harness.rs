//! The conformance harness behind `cargo test -- --arch <arch>`: libtest-mimic trials
//! generated from the spec, one per planned check.

use crate::isolate;
use crate::session::{RunOptions, Session};
use crate::target::{parse_duration, resolve_target, TargetOptions, UsageError};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::sync::{Arc, Mutex};
use vdsoconf_suite::checks::Verdict;

const HELP: &str = "\
vdsoconf conformance harness

  cargo test -- [--arch ARCH] [--provider kernel|qemu] [--kernel X.Y] [--image FILE] [libtest options]

  --arch ARCH        spec to check (default: the architecture this binary runs as)
  --provider P       whose vDSO: kernel (default) or qemu (QEMU user mode's own)
  --kernel X.Y       kernel version the spec's since/until are judged against
                     (default: uname -r for the live vDSO, unknown for --image)
  --image FILE       check a vDSO image file instead of the live one (calls are skipped)
  --spec FILE|DIR    check against this spec file (or directory of ARCH.yaml files)
                     instead of the built-in one; also VDSOCONF_SPEC=FILE|DIR
  --duration D       read each clock for D in the monotonicity checks (default 1s;
                     e.g. 10m makes a soak test, with a progress display)

Checks are named ARCH::GROUP::SUBJECT, e.g. x86_64::resolve::__vdso_time@LINUX_2.6,
so any libtest filter works: cargo test -- --arch x86_64 resolve::
Libtest's own options follow.
";

/// Splits our options out of the arguments; the rest go to libtest.
/// Our options (target and `--duration`), the rest for libtest, and whether help was asked.
fn split_all(
    args: impl Iterator<Item = String>,
) -> Result<(TargetOptions, Option<String>, Vec<String>, bool), UsageError> {
    let mut duration = None;
    let mut opts = TargetOptions::default();
    let mut rest = Vec::new();
    let mut help = false;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match key.as_str() {
            "--arch" => &mut opts.arch,
            "--provider" => &mut opts.provider,
            "--kernel" => &mut opts.kernel,
            "--duration" => &mut duration,
            "--image" | "--spec" => {
                let v = inline
                    .or_else(|| args.next())
                    .ok_or_else(|| UsageError(format!("{key} needs a file")))?;
                let slot = if key == "--image" {
                    &mut opts.image
                } else {
                    &mut opts.spec
                };
                *slot = Some(v.into());
                continue;
            }
            "--help" | "-h" => {
                help = true;
                rest.push(arg);
                continue;
            }
            _ => {
                rest.push(arg);
                continue;
            }
        };
        let v = inline
            .or_else(|| args.next())
            .ok_or_else(|| UsageError(format!("{key} needs a value")))?;
        *slot = Some(v);
    }
    if opts.spec.is_none() {
        opts.spec = std::env::var_os(SPEC_ENV).map(Into::into);
    }
    Ok((opts, duration, rest, help))
}

/// The environment variable naming a spec file or directory for `cargo test`
/// (which passes its own arguments to every test program, so `--spec` reaches
/// only this one when given after `--`).
pub const SPEC_ENV: &str = "VDSOCONF_SPEC";

pub fn main() -> i32 {
    if let Some(code) = isolate::child_main_if_requested() {
        return code;
    }
    let mut argv = std::env::args();
    let program = argv.next().unwrap_or_else(|| "conformance".into());
    let (opts, duration, rest, help) = match split_all(argv) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let options = match duration.as_deref().map(parse_duration).transpose() {
        Ok(d) => RunOptions {
            monotonic: d.unwrap_or(RunOptions::default().monotonic),
            progress: d.is_some() && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        },
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if help {
        print!("{HELP}");
    }
    let args = Arguments::from_iter(std::iter::once(program).chain(rest));
    let target = match resolve_target(&opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let session = match Session::open(target) {
        Ok(s) => Arc::new(s.with_options(options)),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let notes: Arc<Mutex<Vec<String>>> = Arc::default();
    let trials = session
        .plan()
        .into_iter()
        .map(|check| {
            let (session, notes) = (Arc::clone(&session), Arc::clone(&notes));
            let name = check.name();
            Trial::ignorable_test(name.clone(), move || {
                let result = session.run(&check);
                if !result.notes.is_empty() {
                    let mut n = notes.lock().unwrap_or_else(|p| p.into_inner());
                    n.extend(result.notes.iter().map(|note| format!("{name}: {note}")));
                }
                match result.verdict {
                    Verdict::Pass => Ok(Completion::Completed),
                    Verdict::Skip { reason } => Ok(Completion::ignored_with(reason)),
                    Verdict::Fail { message } => Err(Failed::from(message)),
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let notes = notes.lock().unwrap_or_else(|p| p.into_inner());
    if !notes.is_empty() {
        println!("notes:");
        for n in notes.iter() {
            println!("    {n}");
        }
    }
    if conclusion.has_failed() {
        101
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Split = (TargetOptions, Option<String>, Vec<String>, bool);

    fn split(v: &[&str]) -> Result<Split, UsageError> {
        split_all(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn our_flags_are_taken_out_and_the_rest_passed_on() {
        let (o, duration, rest, help) = split(&[
            "--arch",
            "i386",
            "--nocapture",
            "--kernel=6.1",
            "--duration",
            "5m",
            "resolve::",
        ])
        .unwrap();
        assert_eq!(o.arch.as_deref(), Some("i386"));
        assert_eq!(o.kernel.as_deref(), Some("6.1"));
        assert_eq!(duration.as_deref(), Some("5m"));
        assert_eq!(rest, vec!["--nocapture", "resolve::"]);
        assert!(!help);
        assert!(split(&["--arch"]).is_err());
    }
}
