//! Which spec statements the scenarios check, per version, and why the others are not checked.

use crate::registry::{self, SpecVersion};
use crate::scenario::Scenario;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The coverage of one version.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub version: SpecVersion,
    pub statements: usize,
    /// Statements a test on the wire can observe.
    pub testable: usize,
    /// Testable statements that at least one scenario checks.
    pub covered: usize,
    /// Every statement no scenario checks, with the reason.
    pub uncovered: Vec<(&'static str, String)>,
    /// Statement -> scenarios checking it.
    pub checked_by: BTreeMap<&'static str, Vec<String>>,
}

/// Reason given for a testable statement that no scenario checks yet.
pub const NO_SCENARIO: &str = "testable on the wire; no scenario checks it yet";

pub fn compute(scenarios: &[Scenario], version: SpecVersion) -> Coverage {
    let mut checked_by: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for st in registry::statements(version) {
        let by: Vec<String> = scenarios
            .iter()
            .filter(|s| s.applies_to(version) && s.spec_ids(version).contains(&st.id))
            .map(|s| s.id.clone())
            .collect();
        if !by.is_empty() {
            checked_by.insert(st.id, by);
        }
    }
    let all = registry::statements(version);
    let uncovered = all
        .iter()
        .filter(|st| !checked_by.contains_key(st.id))
        .map(|st| {
            let reason = st.testability.reason().unwrap_or(NO_SCENARIO).to_string();
            (st.id, reason)
        })
        .collect();
    Coverage {
        version,
        statements: all.len(),
        testable: all.iter().filter(|s| s.testability.is_wire()).count(),
        covered: checked_by.len(),
        uncovered,
        checked_by,
    }
}

impl Coverage {
    /// `{"statements", "testable", "covered", "uncovered": [{"id", "reason"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "statements": self.statements,
            "testable": self.testable,
            "covered": self.covered,
            "uncovered": self.uncovered.iter().map(|(id, reason)| json!({"id": id, "reason": reason})).collect::<Vec<_>>(),
        })
    }
}
