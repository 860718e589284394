//! The KTAP output parsed back against the KTAP v1 rules, and the JUnit output read by
//! an independent JUnit parser (the junit-parser crate).

use vdsoconf_reports::{junit, ktap, CaseResult, Environment, RunReport};
use vdsoconf_suite::checks::{from_problems, CheckResult, Verdict};

fn report() -> RunReport {
    let env = Environment {
        arch: "x86_64".into(),
        provider: "kernel".into(),
        build_target: "x86_64-unknown-linux-gnu".into(),
        machine: Some("x86_64".into()),
        kernel_release: Some("6.18.44".into()),
        kernel: Some("6.18".into()),
        source: "live".into(),
        vdso_present: Some(true),
        vdso_soname: Some("linux-vdso.so.1".into()),
        vdso_build_id: Some("abcd".into()),
        clocksource: Some("tsc".into()),
        cpus: Some(2),
    };
    let case = |group: &str, subject: &str, result: CheckResult| CaseResult {
        name: format!("x86_64::{group}::{subject}"),
        group: group.into(),
        expectation: "as the spec says".into(),
        result,
        duration_us: 1500,
    };
    RunReport::new(
        env,
        vec![
            case("resolve", "a@V", CheckResult::pass()),
            case(
                "resolve",
                "b@V",
                CheckResult::skip("needs CONFIG_# X\nsecond line"),
            ),
            case(
                "call",
                "a@V",
                from_problems(vec!["p1 # hash".into(), "p2".into()]),
            ),
            case(
                "call",
                "b@V",
                CheckResult::pass().with_notes(vec!["a note".into()]),
            ),
            case("served", "a@V", CheckResult::skip("seccomp")),
        ],
    )
}

#[derive(Debug)]
struct KtapResult {
    ok: bool,
    number: usize,
    description: String,
    directive: Option<String>,
}

/// Parses one level of KTAP at `indent`, from `lines[*at]`, checking version, plan,
/// numbering and that every line is a known kind. Returns (results, subtest results
/// per result).
fn parse_level(
    lines: &[&str],
    at: &mut usize,
    indent: usize,
) -> Vec<(KtapResult, Vec<KtapResult>)> {
    let pad = " ".repeat(indent);
    assert_eq!(
        lines[*at],
        format!("{pad}KTAP version 1"),
        "line {}",
        *at + 1
    );
    *at += 1;
    let mut plan = None;
    let mut out: Vec<(KtapResult, Vec<KtapResult>)> = Vec::new();
    let mut pending_children: Vec<KtapResult> = Vec::new();
    while *at < lines.len() {
        let line = lines[*at];
        if line == format!("{pad}  KTAP version 1") {
            let children = parse_level(lines, at, indent + 2);
            pending_children = children.into_iter().map(|(r, _)| r).collect();
            continue;
        }
        let Some(rest) = line.strip_prefix(&pad) else {
            break;
        };
        if rest.starts_with(' ') {
            panic!("line {}: unexpected indentation: {line:?}", *at + 1);
        }
        if let Some(p) = rest.strip_prefix("1..") {
            assert!(plan.is_none(), "two plans");
            plan = Some(p.parse::<usize>().unwrap());
        } else if rest.starts_with("# ") || rest == "#" {
            // diagnostic
        } else if rest.starts_with("ok ") || rest.starts_with("not ok ") {
            let ok = rest.starts_with("ok ");
            let body = rest.trim_start_matches("not ").trim_start_matches("ok ");
            let (num, tail) = body.split_once(' ').unwrap();
            let (description, directive) = match tail.split_once(" # ") {
                Some((d, dir)) => (d.to_string(), Some(dir.to_string())),
                None => (tail.to_string(), None),
            };
            assert!(
                !description.contains('#'),
                "a '#' in a description starts a directive: {line:?}"
            );
            out.push((
                KtapResult {
                    ok,
                    number: num.parse().unwrap(),
                    description,
                    directive,
                },
                std::mem::take(&mut pending_children),
            ));
        } else if indent > 0 {
            break;
        } else {
            panic!("line {}: not KTAP: {line:?}", *at + 1);
        }
        *at += 1;
        if indent > 0 && plan == Some(out.len()) {
            break;
        }
    }
    assert_eq!(plan, Some(out.len()), "the plan counts the results");
    for (i, (r, _)) in out.iter().enumerate() {
        assert_eq!(r.number, i + 1, "results are numbered from 1");
    }
    out
}

#[test]
fn ktap_has_the_kselftest_structure() {
    let text = ktap::render(&report());
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    let top = parse_level(&lines, &mut at, 0);
    // One top-level test per group, in plan order, with their checks as subtests.
    let names: Vec<&str> = top.iter().map(|(r, _)| r.description.as_str()).collect();
    assert_eq!(names, ["resolve", "call", "served"]);
    let (resolve, resolve_subs) = &top[0];
    assert!(resolve.ok && resolve.directive.is_none());
    assert_eq!(resolve_subs.len(), 2);
    let skip = resolve_subs[1].directive.as_deref().unwrap();
    assert!(skip.starts_with("SKIP needs CONFIG_"), "{skip}");
    assert!(!skip.contains('\n'));
    // A failing subtest fails its parent; its problems are diagnostics.
    let (call, call_subs) = &top[1];
    assert!(!call.ok && !call_subs[0].ok && call_subs[1].ok);
    assert!(text.contains("  # p1 no. hash\n  # p2\n  not ok 1 x86_64::call::a@V"));
    assert!(text.contains("  # note: a note\n  ok 2 x86_64::call::b@V"));
    // A group whose checks all skipped is a skip, not a pass.
    let (served, _) = &top[2];
    assert!(served.ok && served.directive.as_deref().unwrap().starts_with("SKIP"));
    assert_eq!(at, lines.len(), "every line is KTAP");
    assert_eq!(
        lines[at - 1],
        "# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:2 error:0"
    );
}

#[test]
fn ktap_exit_codes_are_kselftests() {
    let mut r = report();
    assert_eq!(ktap::exit_code(&r), 1);
    r.results.retain(|c| !c.result.is_fail());
    assert_eq!(ktap::exit_code(&r), 0);
    r.results.retain(|c| !c.result.is_pass());
    assert_eq!(ktap::exit_code(&r), 4);
    // No test at all is not a pass either.
    r.results.clear();
    assert_eq!(ktap::exit_code(&r), 4);
}

#[test]
fn junit_is_read_by_an_independent_parser() {
    let xml = junit::render(&report());
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).unwrap();
    let names: Vec<&str> = suites.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["resolve", "call", "served"]);
    assert_eq!((suites.tests, suites.failures), (5, 1));
    let call = &suites.suites[1];
    let failed = call.cases.iter().find(|c| c.status.is_failure()).unwrap();
    let f = failed.status.failure_as_ref();
    assert!(f.message.contains("p1") && f.text.contains("p2"), "{f:?}");
    let resolve = &suites.suites[0];
    let skipped = resolve
        .cases
        .iter()
        .find(|c| c.status.is_skipped())
        .unwrap();
    assert!(skipped.status.skipped_as_ref().message.contains("CONFIG_"));
    assert!(failed.time > 0.0 && failed.time < 0.01, "{}", failed.time);
}

/// Text from a hostile image (a symbol name, a message quoting its bytes) still
/// makes well-formed JUnit: markup escaped, characters XML cannot carry left out.
#[test]
fn junit_escapes_markup_and_leaves_out_what_xml_cannot_carry() {
    let mut r = report();
    r.results[2].name = "x86_64::call::<sym\u{1}>&\"q\"@V".into();
    r.results[2].result = from_problems(vec!["bytes \u{1b}[31m<&>'\u{0}\u{ffff} end\tx".into()]);
    r.results[2].expectation = "a\u{7}b <c>".into();
    let xml = junit::render(&r);
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).unwrap();
    let case = &suites.suites[1].cases[0];
    // junit-parser's name is the classname, `::`, then the name.
    assert!(
        case.name.ends_with("::x86_64::call::<sym>&\"q\"@V"),
        "{}",
        case.name
    );
    let f = case.status.failure_as_ref();
    assert_eq!(f.message, "bytes [31m<&>' end\tx", "{xml}");
    // (junit-parser drops the escaped characters of an element's text, so the
    // text is checked as written.)
    assert!(
        xml.contains(">bytes [31m&lt;&amp;&gt;&apos; end\tx</failure>"),
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>expects: ab &lt;c&gt;\n</system-out>"),
        "{xml}"
    );
    assert_eq!(suites.failures, 1);
}

/// A run whose checks saw a known bug (XFAIL) and missed one (XPASS) beside
/// the other verdicts, as `apply_deviations` makes them.
fn expected_verdicts_report() -> RunReport {
    let mut r = report();
    r.results.retain(|c| !c.result.is_fail());
    let xfail = |reason: &str| CheckResult {
        verdict: Verdict::Xfail {
            reason: reason.into(),
        },
        notes: vec!["observed: AUX0: vDSO 1 ns, syscall EINVAL".into()],
        problems: vec!["AUX0: vDSO 1 ns, syscall EINVAL".into()],
        symptoms: vec!["result-differs:AUX0".into()],
        environment: false,
    };
    let xpass = CheckResult {
        verdict: Verdict::Xpass {
            reason: "expected deviation not observed (fixed?): getrandom # flags".into(),
        },
        ..CheckResult::pass()
    };
    let case = |group: &str, subject: &str, result: CheckResult| CaseResult {
        name: format!("x86_64::{group}::{subject}"),
        group: group.into(),
        expectation: "as the syscall".into(),
        result,
        duration_us: 10,
    };
    r.results.extend([
        case(
            "crosscheck",
            "getres@V",
            xfail("known kernel bug: aux clocks"),
        ),
        case("crosscheck", "getrandom@V", xpass),
        case(
            "badptr",
            "getres@V::res=null",
            xfail("known kernel bug: aux"),
        ),
    ]);
    r
}

#[test]
fn xfail_and_xpass_are_kselftest_directives_and_count_as_ran() {
    let r = expected_verdicts_report();
    let text = ktap::render(&r);
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    let top = parse_level(&lines, &mut at, 0);
    assert_eq!(at, lines.len(), "every line is KTAP");
    let names: Vec<&str> = top.iter().map(|(t, _)| t.description.as_str()).collect();
    assert_eq!(names, ["resolve", "call", "served", "crosscheck", "badptr"]);
    let (cross, subs) = &top[3];
    assert!(cross.ok && cross.directive.is_none(), "{cross:?}");
    assert!(subs.iter().all(|s| s.ok));
    assert_eq!(
        subs[0].directive.as_deref(),
        Some("XFAIL known kernel bug: aux clocks")
    );
    // A '#' in a reason would start another directive.
    assert_eq!(
        subs[1].directive.as_deref(),
        Some("XPASS expected deviation not observed (fixed?): getrandom no. flags")
    );
    // A group of xfails alone ran: it is ok, not a skip.
    let (badptr, _) = &top[4];
    assert!(badptr.ok && badptr.directive.is_none(), "{badptr:?}");
    // What was observed is a diagnostic before the line.
    assert!(text.contains(
        "  # note: observed: AUX0: vDSO 1 ns, syscall EINVAL\n  ok 1 x86_64::crosscheck::getres@V # XFAIL"
    ));
    assert_eq!(
        lines[lines.len() - 1],
        "# Totals: pass:2 fail:0 xfail:2 xpass:1 skip:2 error:0"
    );
    // Neither is a failure; a run of only xfails and skips ran something.
    assert_eq!(ktap::exit_code(&r), 0);
    let mut only_known = r.clone();
    only_known
        .results
        .retain(|c| !c.result.is_pass() && !matches!(c.result.verdict, Verdict::Xpass { .. }));
    assert_eq!(ktap::exit_code(&only_known), 0);
    only_known
        .results
        .retain(|c| matches!(c.result.verdict, Verdict::Skip { .. }));
    assert_eq!(ktap::exit_code(&only_known), 4);
}

#[test]
fn xfail_is_a_typed_skip_and_xpass_a_success_in_junit() {
    let xml = junit::render(&expected_verdicts_report());
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).unwrap();
    assert_eq!((suites.tests, suites.failures, suites.errors), (7, 0, 0));
    let cross = suites
        .suites
        .iter()
        .find(|s| s.name == "crosscheck")
        .unwrap();
    let xfail = &cross.cases[0];
    assert!(xfail.status.is_skipped());
    let skipped = xfail.status.skipped_as_ref();
    assert_eq!(skipped.skipped_type, "XFAIL");
    assert!(
        skipped.message.starts_with("XFAIL: known kernel bug"),
        "{skipped:?}"
    );
    assert!(skipped.text.contains("AUX0: vDSO 1 ns"), "{skipped:?}");
    let xpass = &cross.cases[1];
    assert!(xpass.status.is_success());
    assert!(
        xpass
            .system_out
            .as_deref()
            .unwrap_or("")
            .contains("XPASS: expected deviation not observed"),
        "{xpass:?}"
    );
}

#[test]
fn xfail_and_xpass_in_the_text_report_and_json() {
    let r = expected_verdicts_report();
    let text = vdsoconf_reports::human::render(&r);
    assert!(text.contains("\nXFAIL x86_64::crosscheck::getres@V: known kernel bug: aux clocks\n"));
    assert!(
        text.contains("\nXPASS x86_64::crosscheck::getrandom@V: expected deviation not observed")
    );
    assert!(text.ends_with(
        "2 passed, 0 failed, 2 skipped, 2 xfail (only a known bug), 1 xpass (a known bug not seen)\n"
    ));
    // Without either, the totals line is as it always was.
    assert!(vdsoconf_reports::human::render(&report()).ends_with("2 passed, 1 failed, 2 skipped\n"));
    // JSON: the verdicts by name, read back whole.
    let json = r.to_json();
    assert!(json.contains("\"verdict\": \"xfail\"") && json.contains("\"verdict\": \"xpass\""));
    assert_eq!(RunReport::from_json(&json).unwrap(), r);
    let c = r.counts();
    assert_eq!((c.pass, c.fail, c.skip, c.xfail, c.xpass), (2, 0, 2, 2, 1));
    // Counts written before xfail and xpass existed still read.
    let old: vdsoconf_reports::model::Counts =
        serde_json::from_str(r#"{"pass":1,"fail":0,"skip":2}"#).unwrap();
    assert_eq!((old.xfail, old.xpass, old.total()), (0, 0, 3));
    assert_eq!(c.cell(), "2/0/2 +2 xfail +1 xpass");
    assert_eq!(report().counts().cell(), "2/1/2");
}

/// The bench's yardstick: the bare C loop's medians beside vdsoconf's for the
/// same clocks, as a ratio, or why it was not measured; reports from before
/// it still read.
#[test]
fn the_bench_says_how_close_it_comes_to_a_bare_c_loop() {
    use vdsoconf_reports::bench::{
        render_text, BareLoop, BareLoopRow, BenchReport, BenchRow, Timing,
    };
    let t = |median_ns: f64| Timing {
        median_ns,
        min_ns: median_ns,
    };
    let row = |symbol: &str, clock: &str, ns: f64| BenchRow {
        symbol: symbol.into(),
        clock: Some(clock.into()),
        expected: Some("served".into()),
        vdso: t(ns),
        syscall: t(100.0),
    };
    let mut report = BenchReport {
        schema: vdsoconf_reports::bench::BENCH_SCHEMA.into(),
        environment: report().environment,
        batch: 2000,
        batches: 31,
        rows: vec![
            row("__vdso_clock_gettime@LINUX_2.6", "MONOTONIC", 20.6),
            row("__vdso_clock_gettime64@LINUX_2.6", "MONOTONIC", 30.0),
            row("__vdso_clock_getres@LINUX_2.6", "REALTIME", 2.0),
        ],
        failures: Vec::new(),
        bare_loop: Some(BareLoop {
            compiler: Some("cc 12".into()),
            rows: ["REALTIME", "MONOTONIC"]
                .map(|clock| BareLoopRow {
                    clock: clock.into(),
                    timing: t(20.0),
                })
                .into(),
            missing: None,
        }),
    };
    let against = report.against_bare_loop();
    assert_eq!(against.len(), 1, "{against:?}");
    let (clock, c, v, ratio) = &against[0];
    assert_eq!((clock.as_str(), *c, *v), ("MONOTONIC", 20.0, 20.6));
    assert!((ratio - 1.03).abs() < 1e-9);
    let text = render_text(&report);
    assert!(text.contains("bare C loop (runners/bench/bare-loop.c, cc 12), medians in ns:"));
    assert!(
        text.contains("  MONOTONIC          bare C   20.0  vdsoconf   20.6  1.030x"),
        "{text}"
    );
    let json = serde_json::to_string(&report).unwrap();
    assert_eq!(serde_json::from_str::<BenchReport>(&json).unwrap(), report);
    report.bare_loop = Some(BareLoop {
        compiler: None,
        rows: Vec::new(),
        missing: Some("no C compiler (cc: not found)".into()),
    });
    assert!(
        render_text(&report).contains("bare C loop: not measured: no C compiler (cc: not found)")
    );
    report.bare_loop = None;
    let old = serde_json::to_string(&report).unwrap();
    assert!(!old.contains("bare_loop"));
    assert_eq!(
        serde_json::from_str::<BenchReport>(&old).unwrap().bare_loop,
        None
    );
}
