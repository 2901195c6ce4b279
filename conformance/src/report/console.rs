//! The console report: the failures with their traces first, then one summary line per version.

use crate::registry::SpecVersion;
use crate::verdict::{ScenarioResult, Status, Summary};
use std::fmt::Write as _;

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

/// The whole report. `verbose` also lists passes and skips one per line.
pub fn render(target: &str, results: &[ScenarioResult], notes: &[String], verbose: bool) -> String {
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
