//! The JSON report:
//! `{"target", "summary": {"passed","failed","skipped","errors",...}, "results": [{"id",
//! "version","verdict","status","spec","level","message","duration_ms","detail"}], "wall_ms"}`.

use crate::verdict::{ScenarioResult, Status, Summary};
use serde_json::{json, Value};

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NonStrict => "non-strict",
        Status::ExpectedFailure(_) => "expected-failure",
        Status::UnexpectedPass(_) => "unexpected-pass",
        Status::Skipped => "skipped",
        Status::Errored => "error",
    }
}

/// The report as a JSON value; `wall` is the run's total wall time.
pub fn render(target: &str, results: &[ScenarioResult], wall: std::time::Duration) -> Value {
    let items: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id,
                "version": r.version.as_str(),
                "verdict": r.verdict.as_str(),
                "status": status_name(&r.status),
                "spec": r.spec,
                "level": r.level.as_str(),
                "message": r.message,
                "duration_ms": r.duration.as_millis() as u64,
            });
            if let Status::ExpectedFailure(reason) | Status::UnexpectedPass(reason) = &r.status {
                v["expected_failure"] = reason.clone().into();
            }
            if !r.detail.is_empty() {
                v["detail"] = r.detail.clone().into();
            }
            v
        })
        .collect();
    json!({
        "target": target,
        "summary": Summary::of(results),
        "wall_ms": wall.as_millis() as u64,
        "results": items,
    })
}
