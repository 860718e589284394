//! `vdsoconf fuzz-live`: the options, and what is printed.

use super::{one_line, write_stdout, InputError};
use crate::fuzz_live::{fuzz, path, replay, Budget, FuzzOptions};
use crate::target::{parse_duration_of, resolve_live_target, TargetOptions};
use clap::Args;
use std::path::{Path, PathBuf};
use vdsoconf_suite::checks::{CheckResult, Target};
use vdsoconf_suite::fuzz_live::{reproducer, Finding, FuzzCall, Seen, Tally};
use vdsoconf_suite::kinds::kind_info;

#[derive(Args)]
pub struct FuzzLiveArgs {
    #[command(flatten)]
    target: TargetOptions,
    /// The generator's seed: the same seed and count make the same calls, on
    /// every machine.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Calls of each function.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 300,
        conflicts_with = "duration"
    )]
    iterations: u64,
    /// Call for this long instead (seconds, or a number with ms, s, m or h),
    /// going round the functions: long random exploration, not reproducible
    /// call for call (each finding still prints its call).
    #[arg(long, value_name = "TIME")]
    duration: Option<String>,
    /// Only functions whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Make one call, given as a finding prints it (`'SYMBOL[@VERSION] ARGS'`,
    /// e.g. `'__vdso_clock_getres clock=AUX0 res=valid'`), and say how the
    /// judge sees it.
    #[arg(long, value_name = "CALL", conflicts_with_all = ["duration", "filter"])]
    replay: Option<String>,
    /// Call the functions of this vDSO-shaped file instead of this process's
    /// vDSO: one loadable segment from offset 0, no relocations, functions
    /// that make their system calls themselves (the tests' fake vDSOs with
    /// known bugs). A kernel's vDSO needs its data pages and cannot be loaded.
    #[arg(long, value_name = "FILE")]
    load_vdso: Option<PathBuf>,
    /// Where each finding's C reproducer is written (created if missing).
    #[arg(long, value_name = "DIR", default_value = "vdsoconf-findings")]
    out: PathBuf,
}

pub fn fuzz_live(args: FuzzLiveArgs) -> Result<i32, InputError> {
    if args.target.image.is_some() || args.target.observed.is_some() {
        return Err(InputError(
            "fuzz-live calls the live vDSO: an image (--image, --observed) cannot be called (see --load-vdso)".into(),
        ));
    }
    if let Some(file) = &args.load_vdso {
        vdsoconf_suite::vdso::LiveVdso::check_loadable(file)
            .map_err(|e| InputError(format!("--load-vdso {e}")))?;
    }
    crate::isolate::preflight()?;
    let target = resolve_live_target(&args.target)?;
    let budget = match &args.duration {
        Some(d) => Budget::For(parse_duration_of("--duration", d)?),
        None => Budget::Calls(args.iterations),
    };
    let opts = FuzzOptions {
        seed: args.seed,
        budget,
        filter: args.filter.clone(),
        load: args.load_vdso.clone(),
    };
    if let Some(text) = &args.replay {
        return replay_one(&target, &opts, text, &args.out);
    }
    write_stdout(&format!(
        "fuzz-live: {} ({} provider{}), seed {}, {}{}\n",
        target.spec.arch,
        target.provider.name(),
        target
            .kernel
            .map_or(String::new(), |k| format!(", kernel {k}")),
        opts.seed,
        match budget {
            Budget::Calls(n) => format!("{n} calls of each function"),
            Budget::For(d) => format!("calls for {d:?}"),
        },
        opts.load
            .as_ref()
            .map_or(String::new(), |f| format!(", functions of {}", f.display()))
    ))?;
    let mut write_error = None;
    let run = fuzz(&target, &opts, &mut |tally| {
        if let Err(e) = write_stdout(&tally_line(tally)) {
            write_error.get_or_insert(e);
        }
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    for (n, finding) in run.findings.iter().enumerate() {
        let file = write_reproducer(&target, &opts, finding, n + 1, &args.out)?;
        write_stdout(&finding_text(&opts, finding, &file))?;
    }
    let deviations: u64 = run.tallies.iter().flat_map(|t| t.deviations.values()).sum();
    let calls: u64 = run.tallies.iter().map(|t| t.calls).sum();
    write_stdout(&format!(
        "{calls} calls: {} finding(s), {deviations} call(s) showed a recorded deviation\n",
        run.findings.len()
    ))?;
    let not_made: u64 = run.tallies.iter().flat_map(|t| t.not_made.values()).sum();
    if calls == not_made {
        return Err(InputError(
            "no call of any function could be made (see the lines above)".into(),
        ));
    }
    Ok(i32::from(!run.findings.is_empty()))
}

/// One function's line, and one line per deviation and per reason a call was not made.
fn tally_line(t: &Tally) -> String {
    if let Some(why) = &t.skipped {
        return format!("{}: not fuzzed: {}\n", t.subject, one_line(why));
    }
    let mut text = format!(
        "{}: {} calls: {} agree, {} recorded deviation, {} finding\n",
        t.subject,
        t.calls,
        t.agreed,
        t.deviations.values().sum::<u64>(),
        t.disagreed
    );
    for (d, n) in &t.deviations {
        text.push_str(&format!("  deviation ({n} calls): {}\n", one_line(d)));
    }
    for (why, n) in &t.not_made {
        text.push_str(&format!("  not made ({n} calls): {}\n", one_line(why)));
    }
    text
}

fn call_text(finding_subject: &str, call: &str) -> String {
    format!("{finding_subject} {call}")
}

fn finding_text(opts: &FuzzOptions, f: &Finding, reproducer: &Path) -> String {
    let target = &f.subject;
    let info = kind_info(f.kind);
    let shrunk = call_text(target, &f.shrunk.show(&info));
    let load = opts
        .load
        .as_ref()
        .map_or(String::new(), |p| format!(" --load-vdso {}", p.display()));
    format!(
        "FINDING {} [{}]: {} call(s)\n  first:      seed {}, call {}: {}\n  simplest:   {}\n  observed:   {}\n  path:       {}\n  replay:     vdsoconf fuzz-live --replay '{}'{load}\n  reproducer: {}\n",
        f.subject,
        f.symptoms.join(", "),
        f.count,
        opts.seed,
        f.first_index,
        call_text(target, &f.first.show(&info)),
        shrunk,
        one_line(&message(&f.result)),
        f.path.as_deref().unwrap_or("not watched"),
        shrunk,
        reproducer.display()
    )
}

fn message(r: &CheckResult) -> String {
    match &r.verdict {
        vdsoconf_suite::checks::Verdict::Fail { message } => message.clone(),
        other => format!("{other:?}"),
    }
}

/// Writes the finding's C reproducer into `dir`; its path.
fn write_reproducer(
    target: &Target,
    opts: &FuzzOptions,
    f: &Finding,
    n: usize,
    dir: &Path,
) -> Result<PathBuf, InputError> {
    let sym = &target.spec.symbols[f.symbol];
    let loaded = opts.load.as_ref().map(|p| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string()
    });
    let source = reproducer::c_source(sym, &kind_info(sym.kind), &f.shrunk, loaded.as_deref());
    std::fs::create_dir_all(dir)
        .map_err(|e| InputError(format!("--out {}: {e}", dir.display())))?;
    let file = dir.join(format!("finding-{n}-{}.c", sym.name));
    std::fs::write(&file, source).map_err(|e| InputError(format!("{}: {e}", file.display())))?;
    Ok(file)
}

/// `--replay 'SYMBOL[@VERSION] ARGS'`.
fn replay_one(
    target: &Target,
    opts: &FuzzOptions,
    text: &str,
    out: &Path,
) -> Result<i32, InputError> {
    let (name, args) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    let (name, version) = name
        .split_once('@')
        .map_or((name, None), |(n, v)| (n, Some(v)));
    let symbol = target
        .spec
        .symbols
        .iter()
        .position(|s| s.name == name && version.is_none_or(|v| s.version == v))
        .ok_or_else(|| {
            InputError(format!(
                "--replay: no symbol {name}{} in the {} spec",
                version.map_or(String::new(), |v| format!("@{v}")),
                target.spec.arch
            ))
        })?;
    let sym = &target.spec.symbols[symbol];
    let info = kind_info(sym.kind);
    if info.fuzz == vdsoconf_suite::fuzz_live::FuzzShape::No {
        return Err(InputError(format!(
            "--replay: a {} is not fuzzed",
            info.name
        )));
    }
    let call = FuzzCall::parse(&info, args).map_err(|e| InputError(format!("--replay: {e}")))?;
    let subject = format!("{}@{}", sym.name, sym.version);
    let (verdict, finding) = match replay(target, opts, symbol, &call) {
        Seen::Agreed => ("agrees with the system call".to_string(), None),
        Seen::Deviation(d) => (format!("a recorded deviation: {d}"), None),
        Seen::NotMade(why) | Seen::Absent(why) => (format!("not made: {why}"), None),
        Seen::Finding(symptoms, result) => {
            (format!("FINDING [{}]", symptoms.join(", ")), Some(result))
        }
    };
    write_stdout(&format!("{subject} {}: {verdict}\n", call.show(&info)))?;
    let Some(result) = finding else {
        return Ok(0);
    };
    let watched = path(target, opts, symbol, &call);
    let finding = Finding {
        symbol,
        kind: sym.kind,
        subject,
        symptoms: vdsoconf_suite::fuzz_live::symptom_ids(&result),
        first_index: 0,
        first: call.clone(),
        shrunk: call,
        result,
        count: 1,
        path: Some(watched),
    };
    let file = write_reproducer(target, opts, &finding, 1, out)?;
    write_stdout(&format!(
        "  observed:   {}\n  path:       {}\n  reproducer: {}\n",
        one_line(&message(&finding.result)),
        finding.path.as_deref().unwrap_or("not watched"),
        file.display()
    ))?;
    Ok(1)
}
