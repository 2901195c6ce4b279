//! The console report: the failures with their traces first, then one summary line per version.

use crate::registry::SpecVersion;
use crate::verdict::{ScenarioResult, Status, Summary};
use std::fmt::Write as _;
use std::time::Duration;

/// How many of the slowest scenarios the summary names: where to look when a run gets slow.
const SLOWEST: usize = 5;

/// Indents every line of `text` by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole report. `verbose` also lists passes and skips one per line; `wall` is how long the
/// run took from its first scenario to its last.
pub fn render(
    target: &str,
    results: &[ScenarioResult],
    notes: &[String],
    verbose: bool,
    wall: Duration,
) -> String {
    let mut out = String::new();
    for r in results {
        let head = format!(
            "{} {} [{}: {}]",
            r.status.label(),
            r.name(),
            r.level.as_str().to_uppercase(),
            r.spec.join(", ")
        );
        match &r.status {
            Status::Failed | Status::Errored | Status::NonStrict => {
                let _ = writeln!(out, "{head}\n  {}\n  {}", r.title, r.message);
                if !r.detail.is_empty() {
                    let _ = writeln!(out, "{}", indent(&r.detail, 4));
                }
                out.push('\n');
            }
            Status::UnexpectedPass(reason) => {
                let _ = writeln!(
                    out,
                    "{head}\n  passes, but the expected-failure file lists it ({reason}): remove the entry\n"
                );
            }
            Status::ExpectedFailure(reason) => {
                let _ = writeln!(out, "{head}\n  {}\n  listed: {reason}\n", r.message);
            }
            Status::Skipped => {
                let _ = writeln!(out, "{head}: {}", r.message);
            }
            Status::Passed if verbose => {
                let _ = writeln!(out, "{head} ({} ms)", r.duration.as_millis());
            }
            Status::Passed => {}
        }
    }
    for n in notes {
        let _ = writeln!(out, "note: {n}");
    }
    let _ = writeln!(out, "\nmqttspec: {target}");
    for v in SpecVersion::all() {
        let of_v: Vec<&ScenarioResult> = results.iter().filter(|r| r.version == v).collect();
        if !of_v.is_empty() {
            let _ = writeln!(out, "MQTT {v}: {}", Summary::of(of_v));
        }
    }
    let _ = writeln!(out, "{}", timing(results, wall));
    let total = Summary::of(results);
    let _ = writeln!(
        out,
        "{}",
        if total.unexpected == 0 {
            "result: ok".to_string()
        } else {
            format!("result: {} unexpected", total.unexpected)
        }
    );
    out
}

/// `wall time 3.1 s; slowest: keepalive/x@5.0 2.6 s, ...`.
fn timing(results: &[ScenarioResult], wall: Duration) -> String {
    let mut by_time: Vec<&ScenarioResult> = results.iter().collect();
    by_time.sort_by(|a, b| {
        b.duration
            .cmp(&a.duration)
            .then_with(|| a.name().cmp(&b.name()))
    });
    let slowest: Vec<String> = by_time
        .iter()
        .take(SLOWEST)
        .map(|r| format!("{} {:.1} s", r.name(), r.duration.as_secs_f64()))
        .collect();
    let mut line = format!("wall time {:.1} s", wall.as_secs_f64());
    if !slowest.is_empty() {
        line.push_str("; slowest: ");
        line.push_str(&slowest.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Level;
    use crate::verdict::Verdict;

    fn result(id: &str, ms: u64) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            title: String::new(),
            version: SpecVersion::V5_0,
            level: Level::Must,
            spec: vec![],
            verdict: Verdict::Pass,
            message: String::new(),
            detail: String::new(),
            duration: Duration::from_millis(ms),
            status: Status::Passed,
        }
    }

    #[test]
    fn summary_names_the_wall_time_and_the_slowest_scenarios_first() {
        let results: Vec<ScenarioResult> = (1..=7)
            .map(|i| result(&format!("a/s{i}"), i * 100))
            .collect();
        let line = timing(&results, Duration::from_millis(1234));
        assert_eq!(
            line,
            "wall time 1.2 s; slowest: a/s7@5.0 0.7 s, a/s6@5.0 0.6 s, a/s5@5.0 0.5 s, a/s4@5.0 0.4 s, a/s3@5.0 0.3 s"
        );
        let out = render("t", &results, &[], false, Duration::from_secs(2));
        assert!(out.contains("wall time 2.0 s; slowest: a/s7@5.0"), "{out}");
        assert_eq!(timing(&[], Duration::ZERO), "wall time 0.0 s");
    }
}
