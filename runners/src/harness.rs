//! The conformance harness behind `cargo test -- --arch <arch>`: libtest-mimic trials
//! generated from the spec, one per planned check.

use crate::isolate;
use crate::session::{RunOptions, Session};
use crate::target::{parse_duration, resolve_target, TargetOptions, UsageError};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::sync::{Arc, Mutex};
use vdsoconf_suite::checks::Verdict;

/// Our options: the target (as `vdsoconf run` takes it) and `--duration`.
#[derive(clap::Parser, Debug)]
#[command(
    name = "cargo test --",
    about = "vdsoconf conformance harness: one libtest trial per planned check",
    after_help = "Also VDSOCONF_SPEC=FILE|DIR for --spec. Checks are named ARCH::GROUP::SUBJECT, \
        e.g. x86_64::resolve::__vdso_time@LINUX_2.6, so any libtest filter works: \
        cargo test -- --arch x86_64 resolve::\n\nLibtest's own options follow."
)]
struct HarnessArgs {
    #[command(flatten)]
    target: TargetOptions,
    /// Read each clock this long in the monotonicity checks (default 1s; `10m`
    /// makes a soak test, with a progress display when stderr is a terminal).
    #[arg(long)]
    duration: Option<String>,
}

/// Our options (parsed by [`HarnessArgs`]), the rest for libtest, and whether
/// help was asked. An argument is ours when its `--name` is one of
/// `HarnessArgs`'s; its value (`--name value` or `--name=value`) comes with it.
fn split_all(
    args: impl Iterator<Item = String>,
) -> Result<(TargetOptions, Option<String>, Vec<String>, bool), UsageError> {
    use clap::{CommandFactory, Parser};
    let command = HarnessArgs::command();
    let takes_value = |name: &str| {
        command
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .map(|a| a.get_action().takes_values())
    };
    let (mut ours, mut rest, mut help) = (vec!["conformance".to_string()], Vec::new(), false);
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let name = arg
            .strip_prefix("--")
            .map(|a| a.split('=').next().unwrap_or(a));
        match name.and_then(|n| takes_value(n).map(|v| (n, v))) {
            Some((_, true)) if !arg.contains('=') => {
                let value = args
                    .next()
                    .ok_or_else(|| UsageError(format!("{arg} needs a value")))?;
                ours.extend([arg, value]);
            }
            Some(_) => ours.push(arg),
            None => {
                help |= arg == "--help" || arg == "-h";
                rest.push(arg);
            }
        }
    }
    let parsed = HarnessArgs::try_parse_from(ours).map_err(|e| {
        let text = e.to_string();
        UsageError(
            text.lines()
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ")
                .to_string(),
        )
    })?;
    let mut target = parsed.target;
    if target.spec.is_none() {
        target.spec = std::env::var_os(SPEC_ENV).map(Into::into);
    }
    Ok((target, parsed.duration, rest, help))
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
            ..RunOptions::default()
        },
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if help {
        use clap::CommandFactory;
        print!("{}\n\n", HarnessArgs::command().render_help());
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
                // libtest has no expected failure: an xfail or xpass is a test
                // that did not fail, its verdict and reason among the notes.
                let mut n = notes.lock().unwrap_or_else(|p| p.into_inner());
                if let Verdict::Xfail { reason } | Verdict::Xpass { reason } = &result.verdict {
                    n.push(format!("{name}: {}: {reason}", result.verdict.word()));
                }
                n.extend(result.notes.iter().map(|note| format!("{name}: {note}")));
                match result.verdict {
                    Verdict::Pass | Verdict::Xfail { .. } | Verdict::Xpass { .. } => {
                        Ok(Completion::Completed)
                    }
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
        // Every option of `vdsoconf run`'s target is taken, from the one struct.
        let (o, _, rest, _) = split(&[
            "--spec=x.yaml",
            "--image",
            "a.so",
            "--provider",
            "qemu",
            "--exact",
        ])
        .unwrap();
        assert_eq!(o.spec.as_deref(), Some(std::path::Path::new("x.yaml")));
        assert_eq!(o.image.as_deref(), Some(std::path::Path::new("a.so")));
        assert_eq!(o.provider.as_deref(), Some("qemu"));
        assert_eq!(rest, vec!["--exact"]);
        // clap's rules hold here too: --observed needs --arch.
        assert!(split(&["--observed", "absent"]).is_err());
    }
}
