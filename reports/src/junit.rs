//! JUnit XML: one testsuite per check group; skips are `<skipped>` with the
//! reason, failures `<failure>` with the message and each problem as details.
//! JUnit has no expected failure: an xfail is `<skipped type="XFAIL">` (it is not a
//! failure, and a plain pass would hide the known bug), its message the reason; an
//! xpass is a success whose output says XPASS and why.
//!
//! Written here rather than with an XML crate: the format is a few elements, and
//! every static runner the matrix cross-builds carries this writer.

use crate::ktap::groups;
use crate::model::RunReport;
use std::fmt::Write;
use vdsoconf_suite::checks::Verdict;

pub fn render(report: &RunReport) -> String {
    let env = &report.environment;
    let mut suites = String::new();
    let (mut tests, mut skipped, mut failures) = (0, 0, 0);
    for (group, results) in groups(report) {
        let mut cases = String::new();
        let (mut group_skipped, mut group_failures) = (0, 0);
        for r in &results {
            let _ = writeln!(
                cases,
                r#"        <testcase name="{}" classname="{}.{group}" time="{:.3}">"#,
                xml(&r.name),
                xml(&env.arch),
                r.duration_us as f64 / 1e6,
            );
            let details = (!r.result.problems.is_empty()).then(|| r.result.problems.join("\n"));
            match &r.result.verdict {
                Verdict::Pass | Verdict::Xpass { .. } => {}
                Verdict::Fail { message } => {
                    group_failures += 1;
                    status(&mut cases, "failure", message, None, details.as_deref());
                }
                Verdict::Skip { reason } => {
                    group_skipped += 1;
                    status(&mut cases, "skipped", reason, None, None);
                }
                Verdict::Xfail { reason } => {
                    group_skipped += 1;
                    let message = format!("XFAIL: {reason}");
                    status(
                        &mut cases,
                        "skipped",
                        &message,
                        Some("XFAIL"),
                        details.as_deref(),
                    );
                }
            }
            let mut out = format!("expects: {}\n", r.expectation);
            if let Verdict::Xpass { reason } = &r.result.verdict {
                let _ = writeln!(out, "XPASS: {reason}");
            }
            for n in &r.result.notes {
                let _ = writeln!(out, "note: {n}");
            }
            let _ = writeln!(cases, "            <system-out>{}</system-out>", xml(&out));
            cases.push_str("        </testcase>\n");
        }
        let _ = writeln!(
            suites,
            r#"    <testsuite name="{}" tests="{}" skipped="{group_skipped}" errors="0" failures="{group_failures}">"#,
            xml(group),
            results.len(),
        );
        suites.push_str(&cases);
        suites.push_str("    </testsuite>\n");
        tests += results.len();
        skipped += group_skipped;
        failures += group_failures;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"{}\" tests=\"{tests}\" skipped=\"{skipped}\" failures=\"{failures}\" errors=\"0\">\n\
         {suites}</testsuites>\n",
        xml(&format!("vdsoconf {} {}", env.arch, env.provider)),
    )
}

/// A `<failure>` or `<skipped>` element: `message` (and `kind`) as attributes,
/// `details` as its text.
fn status(out: &mut String, tag: &str, message: &str, kind: Option<&str>, details: Option<&str>) {
    let _ = write!(out, r#"            <{tag} message="{}""#, xml(message));
    if let Some(kind) = kind {
        let _ = write!(out, r#" type="{}""#, xml(kind));
    }
    match details {
        Some(text) => {
            let _ = writeln!(out, ">{}</{tag}>", xml(text));
        }
        None => out.push_str("/>\n"),
    }
}

/// `text` as XML 1.0 character data or an attribute value: the five markup
/// characters escaped, and the characters XML 1.0 cannot carry at all (control
/// characters but tab and line ends, U+FFFE, U+FFFF) left out, so that a message
/// quoting a hostile image's bytes still makes a well-formed report.
fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\t' | '\n' | '\r' => s.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => s.push(c),
        }
    }
    s
}
