//! JUnit XML (quick-junit): one testsuite per check group; skips are `<skipped>` with
//! the reason, failures `<failure>` with the message and each problem as details.
//! JUnit has no expected failure: an xfail is `<skipped type="XFAIL">` (it is not a
//! failure, and a plain pass would hide the known bug), its message the reason; an
//! xpass is a success whose output says XPASS and why.

use crate::ktap::groups;
use crate::model::RunReport;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;
use vdsoconf_suite::checks::Verdict;

pub fn render(report: &RunReport) -> String {
    let env = &report.environment;
    let mut junit = Report::new(format!("vdsoconf {} {}", env.arch, env.provider));
    for (group, results) in groups(report) {
        let mut suite = TestSuite::new(group);
        for r in results {
            let status = match &r.result.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::Fail { message } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(message.as_str());
                    if !r.result.problems.is_empty() {
                        s.set_description(r.result.problems.join("\n"));
                    }
                    s
                }
                Verdict::Skip { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(reason.as_str());
                    s
                }
                Verdict::Xfail { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_type("XFAIL");
                    s.set_message(format!("XFAIL: {reason}"));
                    if !r.result.problems.is_empty() {
                        s.set_description(r.result.problems.join("\n"));
                    }
                    s
                }
                Verdict::Xpass { .. } => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(r.name.as_str(), status);
            case.set_classname(format!("{}.{group}", env.arch));
            case.set_time(Duration::from_micros(r.duration_us));
            let mut out = format!("expects: {}\n", r.expectation);
            if let Verdict::Xpass { reason } = &r.result.verdict {
                out.push_str(&format!("XPASS: {reason}\n"));
            }
            for n in &r.result.notes {
                out.push_str(&format!("note: {n}\n"));
            }
            case.set_system_out(out);
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().expect("a JUnit report serializes")
}
