//! What the broker under test supports: declared in a `--profile` file, or learned from a v5
//! CONNACK. A scenario that requires a missing capability is skipped with the reason, because an
//! optional feature a broker leaves out is not a conformance failure.

use crate::scenario::Capability;
use mqttspec_codec::Properties;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Capabilities the broker lacks, each with where that was learned.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub missing: BTreeMap<Capability, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    /// The broker's name, for the reader of the file.
    #[allow(dead_code)]
    name: Option<String>,
    /// `capability = false` for each feature the broker does not offer; `true` is the default.
    #[serde(default)]
    capabilities: BTreeMap<Capability, bool>,
}

impl Profile {
    /// Reads a profile file:
    ///
    /// ```toml
    /// name = "my broker"
    /// [capabilities]
    /// qos2 = false
    /// shared-subscriptions = false
    /// ```
    pub fn load(path: &Path) -> Result<Profile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Profile, String> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        Ok(Profile {
            missing: raw
                .capabilities
                .into_iter()
                .filter(|(_, has)| !has)
                .map(|(c, _)| (c, "the profile says the broker does not support it".into()))
                .collect(),
        })
    }

    /// Why a scenario that needs a broker without `lacks` cannot run: a capability the profile
    /// does not declare missing. Before 5.0 there is no CONNACK to learn it from, so the profile
    /// must say it; in 5.0 the first CONNACK may still show it missing (see the interpreter).
    pub fn lacking_reason(&self, lacks: &[Capability], v5: bool) -> Option<String> {
        lacks
            .iter()
            .find(|c| !self.missing.contains_key(c))
            .filter(|_| !v5)
            .map(|c| format!("needs a broker without {c}; the profile does not say it lacks it"))
    }

    /// Why a scenario needing `requires` cannot run, if the profile says so.
    pub fn skip_reason(&self, requires: &[Capability]) -> Option<String> {
        requires.iter().find_map(|c| {
            self.missing
                .get(c)
                .map(|why| format!("requires {c}: {why}"))
        })
    }
}

/// The capabilities a v5 CONNACK declares unavailable (MQTT 5.0 §3.2.2.3).
pub fn missing_from_connack(p: &Properties) -> Vec<(Capability, String)> {
    let mut out = Vec::new();
    match p.maximum_qos {
        Some(0) => {
            out.push((Capability::Qos1, "CONNACK declares Maximum QoS 0".into()));
            out.push((Capability::Qos2, "CONNACK declares Maximum QoS 0".into()));
        }
        Some(1) => out.push((Capability::Qos2, "CONNACK declares Maximum QoS 1".into())),
        _ => {}
    }
    let flags = [
        (p.retain_available, Capability::Retain, "Retain Available"),
        (
            p.wildcard_subscription_available,
            Capability::Wildcards,
            "Wildcard Subscription Available",
        ),
        (
            p.subscription_identifier_available,
            Capability::SubscriptionIdentifiers,
            "Subscription Identifiers Available",
        ),
        (
            p.shared_subscription_available,
            Capability::SharedSubscriptions,
            "Shared Subscription Available",
        ),
    ];
    for (value, cap, name) in flags {
        if value == Some(0) {
            out.push((cap, format!("CONNACK declares {name} 0")));
        }
    }
    if p.topic_alias_maximum.unwrap_or(0) == 0 {
        out.push((
            Capability::TopicAliases,
            "CONNACK declares no Topic Alias Maximum".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_profile() {
        let p =
            Profile::parse("name = \"x\"\n[capabilities]\nqos2 = false\nretain = true\n").unwrap();
        assert!(p.skip_reason(&[Capability::Retain]).is_none());
        assert!(p
            .skip_reason(&[Capability::Qos2])
            .unwrap()
            .starts_with("requires qos2"));
        let e = Profile::parse("[capabilities]\nqos3 = false\n").unwrap_err();
        assert!(e.starts_with("line 2: unknown variant `qos3`"), "{e}");
    }

    #[test]
    fn learns_from_connack() {
        let p = Properties {
            maximum_qos: Some(1),
            retain_available: Some(0),
            topic_alias_maximum: Some(10),
            ..Properties::default()
        };
        let caps: Vec<Capability> = missing_from_connack(&p)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(caps, vec![Capability::Qos2, Capability::Retain]);
    }
}
