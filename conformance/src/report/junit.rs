//! The JUnit XML report: one testsuite per protocol version, one testcase per scenario, the
//! failure text with the failing step and the whole trace.
//!
//! Results that do not fail the run (non-strict SHOULDs, listed expected failures) are written as
//! skipped with the reason, so CI shows them without marking the build red.

use crate::registry::SpecVersion;
use crate::verdict::{ScenarioResult, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The report as XML text.
pub fn render(target: &str, results: &[ScenarioResult]) -> String {
    let mut report = Report::new(format!("mqttspec {target}"));
    for v in SpecVersion::all() {
        let of_v: Vec<&ScenarioResult> = results.iter().filter(|r| r.version == v).collect();
        if of_v.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(format!("MQTT {v}"));
        for r in of_v {
            let text = |what: &str| format!("{what}\n{}", r.detail);
            let status = match &r.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed | Status::Errored => {
                    let kind = if r.status == Status::Failed {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut s = TestCaseStatus::non_success(kind);
                    s.set_message(r.message.clone())
                        .set_description(text(&r.message));
                    s
                }
                Status::UnexpectedPass(reason) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!(
                        "passes, but the expected-failure file lists it ({reason}): remove the entry"
                    ));
                    s
                }
                Status::NonStrict => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("non-strict ({} not met): {}", r.level, r.message))
                        .set_description(text(&r.message));
                    s
                }
                Status::ExpectedFailure(reason) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("expected failure: {reason}"))
                        .set_description(text(&r.message));
                    s
                }
                Status::Skipped => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.message.clone());
                    s
                }
            };
            let mut case = TestCase::new(r.id.clone(), status);
            case.set_classname(format!("mqttspec.{}", r.id.split('/').next().unwrap_or("")))
                .set_time(r.duration);
            case.add_property(("spec", r.spec.join(" ").as_str()));
            case.add_property(("level", r.level.as_str()));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serializes")
}
