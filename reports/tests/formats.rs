//! The KTAP output parsed back against the KTAP v1 rules, and the JUnit output read by
//! an independent JUnit parser (the junit-parser crate).

use vdsoconf_reports::{junit, ktap, CaseResult, Environment, RunReport};
use vdsoconf_suite::checks::{from_problems, CheckResult};

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
