//! The scenario model: what a scenario file says, after loading and validation.
//!
//! A scenario is data. It names the spec statements it checks, the protocol versions it applies
//! to, its requirement level, the broker capabilities it needs, and a list of steps that drive
//! named scripted clients. [`load`] turns TOML into this model and rejects anything doubtful
//! (unknown fields, unknown statement IDs, variables used before they are bound) with the file,
//! line and field; the interpreter ([`crate::interp`]) can then trust it.
//!
//! Packets inside steps stay as JSON *templates* (`serde_json::Value`) rather than typed
//! [`mqttspec_codec::Packet`]s, because they hold `{topic}` placeholders and `$variables` that only
//! get values while the scenario runs. [`load`] proves every template becomes a valid packet.

pub mod builtin;
pub mod load;
pub mod schema;
pub mod template;

pub use load::{load_builtin, load_dir, parse_scenario, LoadError, Source};

use crate::registry::SpecVersion;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// One scenario file, validated.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `AREA/NAME`, equal to the file's path under the scenario folder without `.toml`.
    pub id: String,
    /// One line saying what is checked.
    pub title: String,
    /// The normative statements checked, each for every version or for one.
    pub spec: Vec<SpecRef>,
    /// The protocol versions the scenario runs in.
    pub versions: Vec<SpecVersion>,
    /// MUST failures fail a run; SHOULD and MAY failures are reported as non-strict.
    pub level: Level,
    /// Broker capabilities the scenario needs; without them it is skipped.
    pub requires: Vec<Capability>,
    /// Capabilities the broker must LACK: the scenario checks how a broker without them refuses
    /// their use (e.g. a Will QoS above its Maximum QoS). It runs only when the profile or a v5
    /// CONNACK says they are missing, and is skipped otherwise.
    pub lacks: Vec<Capability>,
    /// The script.
    pub steps: Vec<Step>,
    /// Where it was loaded from, for messages: `scenarios/retain/set.toml` or a user's path.
    pub source: String,
}

impl Scenario {
    /// The area: the folder the scenario lives in (`retain` for `retain/set-replace-clear`).
    pub fn area(&self) -> &str {
        self.id.split('/').next().unwrap_or(&self.id)
    }

    /// Whether the scenario runs in `version`.
    pub fn applies_to(&self, version: SpecVersion) -> bool {
        self.versions.contains(&version)
    }

    /// The statement IDs checked in `version`.
    pub fn spec_ids(&self, version: SpecVersion) -> Vec<&str> {
        self.spec
            .iter()
            .filter(|s| s.version.is_none_or(|v| v == version))
            .map(|s| s.id.as_str())
            .collect()
    }

    /// Whether `--filter TEXT` selects this scenario, case-insensitively: text with a `/` is a
    /// prefix of the id (`connect/` is that area, not `disconnect/` too); other text is found
    /// anywhere in the id or in a statement ID (`MQTT-3.3.1` selects `MQTT-3.3.1-5`).
    pub fn matches_filter(&self, filter: &str) -> bool {
        let f = filter.to_ascii_lowercase();
        let id = self.id.to_ascii_lowercase();
        if f.contains('/') {
            return id.starts_with(&f);
        }
        id.contains(&f)
            || self
                .spec
                .iter()
                .any(|s| s.id.to_ascii_lowercase().contains(&f))
    }
}

/// A statement a scenario checks: `MQTT-3.3.1-5` for every version of the scenario, or
/// `5.0:MQTT-3.3.1-5` for one version only (the two specs number statements differently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecRef {
    pub id: String,
    pub version: Option<SpecVersion>,
}

/// Requirement level of a scenario, from the statements it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Must,
    Should,
    May,
}

impl Level {
    /// Whether a failure at this level fails the run without `--strict`.
    pub fn is_mandatory(self) -> bool {
        self == Level::Must
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
            Level::May => "may",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An optional broker feature. A scenario that requires one is skipped, with the reason, when
/// the `--profile` file says the broker lacks it or when a v5 CONNACK declares it unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Qos1,
    Qos2,
    Retain,
    Wildcards,
    SharedSubscriptions,
    SubscriptionIdentifiers,
    TopicAliases,
    Will,
    WillDelay,
    PersistentSessions,
}

impl Capability {
    pub const ALL: [Capability; 10] = [
        Capability::Qos1,
        Capability::Qos2,
        Capability::Retain,
        Capability::Wildcards,
        Capability::SharedSubscriptions,
        Capability::SubscriptionIdentifiers,
        Capability::TopicAliases,
        Capability::Will,
        Capability::WillDelay,
        Capability::PersistentSessions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Qos1 => "qos1",
            Capability::Qos2 => "qos2",
            Capability::Retain => "retain",
            Capability::Wildcards => "wildcards",
            Capability::SharedSubscriptions => "shared-subscriptions",
            Capability::SubscriptionIdentifiers => "subscription-identifiers",
            Capability::TopicAliases => "topic-aliases",
            Capability::Will => "will",
            Capability::WillDelay => "will-delay",
            Capability::PersistentSessions => "persistent-sessions",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of the script.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in the file, for messages.
    pub index: usize,
    /// Line of the `[[step]]` header in the file.
    pub line: usize,
    /// The scripted client the step acts on (`wait` acts on none but keeps the default).
    pub client: String,
    /// Runs only in these versions; `None` means every version of the scenario.
    pub versions: Option<Vec<SpecVersion>>,
    /// Overrides the run's per-step timeout for this step's waits.
    pub timeout: Option<Duration>,
    /// Repeat the action this many times, with `$i` bound to 1, 2, ... (default once, no `$i`).
    pub repeat: Option<u32>,
    pub action: Action,
}

impl Step {
    /// Whether the step runs in `version`.
    pub fn applies_to(&self, version: SpecVersion) -> bool {
        self.versions
            .as_ref()
            .is_none_or(|vs| vs.contains(&version))
    }
}

/// What a step does. Templates are JSON objects in the packet's serde form.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open the TCP connection only (to send raw bytes, or a CONNECT of one's own).
    Open,
    /// Open the connection, send CONNECT (fields not given get defaults: the run's protocol, the
    /// client's unique id, clean start, keep-alive 60 s), and expect a CONNACK matching `connack`.
    Connect { connect: Value, connack: Value },
    /// Send one packet.
    Send(Value),
    /// Send bytes as they are (for malformed input).
    SendRaw(Vec<u8>),
    /// Expect the next event on the client's connection.
    Expect(Expectation),
    /// Expect no packet and no close for the duration.
    ExpectNothing(Duration),
    /// Expect the connection to be closed by the broker within the bound (default: the timeout).
    ExpectClosed(Option<Duration>),
    /// Close the TCP connection without DISCONNECT.
    Drop,
    /// Sleep.
    Wait(Duration),
}

impl Action {
    /// The step's keyword in scenario files, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::Connect { .. } => "connect",
            Action::Send(_) => "send",
            Action::SendRaw(_) => "send_raw",
            Action::Expect(_) => "expect",
            Action::ExpectNothing(_) => "expect_nothing",
            Action::ExpectClosed(_) => "expect_closed",
            Action::Drop => "drop",
            Action::Wait(_) => "wait",
        }
    }
}

/// What `expect` accepts.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// One packet pattern: the next packet must match it.
    Packet(Value),
    /// The next event must match one of these (a packet pattern or the connection closing).
    AnyOf(Vec<Alternative>),
    /// The next `n` packets must match these `n` patterns, in any order.
    AnyOrder(Vec<Value>),
}

/// One alternative of `any_of`.
#[derive(Debug, Clone)]
pub enum Alternative {
    Packet(Value),
    /// The broker closed the connection (EOF or reset), possibly after the packets expected.
    Closed,
    /// A packet with exactly these bytes, whether or not it decodes in the run's version: for a
    /// broker that answers a CONNECT it cannot accept in another version's form.
    Raw(Vec<u8>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(id: &str, spec: &str) -> Scenario {
        Scenario {
            id: id.into(),
            title: String::new(),
            spec: vec![SpecRef {
                id: spec.into(),
                version: None,
            }],
            versions: SpecVersion::all().to_vec(),
            level: Level::Must,
            requires: vec![],
            lacks: vec![],
            steps: vec![],
            source: String::new(),
        }
    }

    #[test]
    fn filters() {
        let connect = scenario("connect/second-connect", "MQTT-3.1.0-2");
        let disconnect = scenario("disconnect/with-will", "MQTT-3.14.4-3");
        // With a slash: a prefix of the id, so an area does not catch its namesakes.
        assert!(connect.matches_filter("connect/"));
        assert!(!disconnect.matches_filter("connect/"));
        assert!(connect.matches_filter("Connect/second"));
        // Without: anywhere in the id or a statement ID.
        assert!(disconnect.matches_filter("connect"));
        assert!(connect.matches_filter("mqtt-3.1.0"));
        assert!(!connect.matches_filter("MQTT-3.14"));
    }
}
