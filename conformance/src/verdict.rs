//! Verdicts and how a run judges them.
//!
//! A [`Verdict`] is what happened to one scenario in one version: it passed, failed (the broker
//! broke the spec), was skipped (not applicable to this broker), or could not be run (error).
//! A [`Status`] is what the run makes of it once the scenario's level, `--strict` and the
//! expected-failure file are taken into account; only some statuses fail the run.

use crate::registry::SpecVersion;
use crate::scenario::Level;
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one scenario in one version.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub version: SpecVersion,
    pub level: Level,
    /// The statement IDs checked in this version.
    pub spec: Vec<String>,
    pub verdict: Verdict,
    /// One line: why it failed, was skipped or errored; empty on a pass.
    pub message: String,
    /// The failing step with expected and received packets, and the whole trace.
    pub detail: String,
    pub duration: Duration,
    pub status: Status,
}

impl ScenarioResult {
    /// `retain/set@5.0`: how results are named in reports, tests and expected-failure files.
    pub fn name(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// What the run makes of a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    /// A MUST-level failure (or any failure with `--strict`) not listed as expected.
    Failed,
    /// A SHOULD or MAY scenario failed: reported, not counted.
    NonStrict,
    /// Failed or errored, and listed in the expected-failure file with this reason.
    ExpectedFailure(String),
    /// Passed although the expected-failure file lists it: the list is out of date.
    UnexpectedPass(String),
    Skipped,
    /// Could not be run, and not listed as expected.
    Errored,
}

impl Status {
    /// Judges a verdict. `expected` is the reason from the expected-failure file, if listed.
    pub fn judge(verdict: Verdict, level: Level, strict: bool, expected: Option<String>) -> Self {
        match (verdict, expected) {
            (Verdict::Pass, Some(reason)) => Status::UnexpectedPass(reason),
            (Verdict::Pass, None) => Status::Passed,
            (Verdict::Skip, _) => Status::Skipped,
            (Verdict::Fail | Verdict::Error, Some(reason)) => Status::ExpectedFailure(reason),
            (Verdict::Fail, None) if level.is_mandatory() || strict => Status::Failed,
            (Verdict::Fail, None) => Status::NonStrict,
            (Verdict::Error, None) => Status::Errored,
        }
    }

    /// Whether this result makes the run exit 1.
    pub fn is_unexpected(&self) -> bool {
        matches!(
            self,
            Status::Failed | Status::Errored | Status::UnexpectedPass(_)
        )
    }

    /// Short label for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "FAIL",
            Status::NonStrict => "non-strict",
            Status::ExpectedFailure(_) => "expected failure",
            Status::UnexpectedPass(_) => "UNEXPECTED PASS",
            Status::Skipped => "skip",
            Status::Errored => "ERROR",
        }
    }
}

/// Counts of a set of results, as reports print them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    /// Failures that fail the run.
    pub failed: usize,
    pub skipped: usize,
    /// Errors that fail the run.
    pub errors: usize,
    pub non_strict: usize,
    pub expected_failures: usize,
    pub unexpected_passes: usize,
    /// Everything that makes the run exit 1.
    pub unexpected: usize,
}

impl Summary {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a ScenarioResult>) -> Self {
        let mut s = Summary::default();
        for r in results {
            match &r.status {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::NonStrict => s.non_strict += 1,
                Status::ExpectedFailure(_) => s.expected_failures += 1,
                Status::UnexpectedPass(_) => s.unexpected_passes += 1,
                Status::Skipped => s.skipped += 1,
                Status::Errored => s.errors += 1,
            }
            if r.status.is_unexpected() {
                s.unexpected += 1;
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    /// `30 passed, 1 failed, 2 skipped`, then the other counts that are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )?;
        let extras = [
            (self.errors, "errors"),
            (self.expected_failures, "expected failures"),
            (self.non_strict, "non-strict"),
            (self.unexpected_passes, "unexpected passes"),
        ];
        let extras: Vec<String> = extras
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if !extras.is_empty() {
            write!(f, " ({})", extras.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging() {
        use Verdict::*;
        assert_eq!(
            Status::judge(Fail, Level::Must, false, None),
            Status::Failed
        );
        assert_eq!(
            Status::judge(Fail, Level::Should, false, None),
            Status::NonStrict
        );
        assert_eq!(
            Status::judge(Fail, Level::Should, true, None),
            Status::Failed
        );
        assert!(Status::judge(Pass, Level::Must, false, Some("x".into())).is_unexpected());
        assert!(!Status::judge(Error, Level::Must, false, Some("x".into())).is_unexpected());
        assert!(Status::judge(Error, Level::May, false, None).is_unexpected());
        assert!(!Status::judge(Skip, Level::Must, true, None).is_unexpected());
    }
}
