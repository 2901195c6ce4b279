//! The expected-failure file of a broker under certification: which scenarios are known to fail
//! on it, and why. A listed failure is reported but does not fail the run; a listed scenario that
//! passes does (the list is out of date), so the file always says exactly where the broker stands.
//!
//! ```toml
//! [[fail]]
//! id = "session/*"                 # glob over scenario ids: * any run of characters, ? one
//! versions = ["5.0"]               # optional; default: every version
//! spec = "MQTT-3.1.2-5"            # the statement the broker deviates from
//! reason = "keeps the old session when ..."
//! flaky = true                     # optional: the deviation depends on timing, so a pass is
//!                                  # not reported as unexpected
//! ```

use crate::registry::SpecVersion;
use serde::Deserialize;
use std::path::Path;

/// One listed expected failure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub versions: Option<Vec<String>>,
    pub spec: String,
    pub reason: String,
    /// The deviation shows only on some runs (it depends on the broker's timers): a pass is
    /// then accepted instead of reported as an out-of-date entry.
    #[serde(default)]
    pub flaky: bool,
}

/// The file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    #[serde(default)]
    pub fail: Vec<Entry>,
}

impl ExpectFile {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ExpectFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        for entry in &file.fail {
            for v in entry.versions.iter().flatten() {
                if SpecVersion::parse(v).is_none() {
                    return Err(format!("entry {:?}: unknown version {v:?}", entry.id));
                }
            }
            if entry.reason.trim().is_empty() {
                return Err(format!("entry {:?}: give the reason", entry.id));
            }
        }
        Ok(file)
    }

    /// The entry listing scenario `id` in `version`, if any.
    pub fn lookup(&self, id: &str, version: SpecVersion) -> Option<&Entry> {
        self.fail.iter().find(|e| {
            glob(&e.id, id)
                && e.versions
                    .as_ref()
                    .is_none_or(|vs| vs.iter().any(|v| SpecVersion::parse(v) == Some(version)))
        })
    }

    /// The reason text reports show for a listed result; `None` when not listed, or when the
    /// entry is flaky and the scenario passed.
    pub fn reason(&self, id: &str, version: SpecVersion, passed: bool) -> Option<String> {
        self.lookup(id, version)
            .filter(|e| !(passed && e.flaky))
            .map(|e| format!("{} [{}]", e.reason, e.spec))
    }

    /// Entries that matched no scenario of the run (a typo, or a scenario renamed).
    pub fn unused<'a>(&'a self, ran: &[(String, SpecVersion)]) -> Vec<&'a Entry> {
        self.fail
            .iter()
            .filter(|e| {
                !ran.iter().any(|(id, v)| {
                    glob(&e.id, id)
                        && e.versions
                            .as_ref()
                            .is_none_or(|vs| vs.iter().any(|x| SpecVersion::parse(x) == Some(*v)))
                })
            })
            .collect()
    }
}

/// Glob matching with `*` (any run of characters, `/` included) and `?` (one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("session/*", "session/persistent-qos1"));
        assert!(glob("*", "a/b"));
        assert!(glob("a/?", "a/b"));
        assert!(glob("*/clear*", "retain/clear-empty"));
        assert!(!glob("session/*", "retain/x"));
        assert!(!glob("a/b", "a/bc"));
    }

    #[test]
    fn lookup_by_glob_and_version() {
        let f = ExpectFile::parse(
            "[[fail]]\nid = \"retain/*\"\nversions = [\"5.0\"]\nspec = \"MQTT-3.3.1-5\"\nreason = \"r\"\n",
        )
        .unwrap();
        assert!(f.lookup("retain/set", SpecVersion::V5_0).is_some());
        assert!(f.lookup("retain/set", SpecVersion::V3_1_1).is_none());
        assert_eq!(
            f.reason("retain/set", SpecVersion::V5_0, false).unwrap(),
            "r [MQTT-3.3.1-5]"
        );
        let e = ExpectFile::parse("[[fail]]\nid = \"x\"\nspec = \"s\"\n").unwrap_err();
        assert!(e.contains("missing field `reason`"), "{e}");
    }
}
