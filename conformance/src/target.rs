//! The broker under test: the embedded reference broker, or any `mqtt://host:port`.
//!
//! The embedded broker is started in-process on 127.0.0.1, port 0, so `mqttspec run` needs no
//! setup and `cargo test` runs scenarios without a network service.

use crate::profile::Profile;
use crate::scenario::Capability;
use mqttspec_broker::config::Limits;
use mqttspec_broker::server::{self, BrokerHandle};
use mqttspec_codec::QoS;
use std::fmt;

/// What the limited embedded broker leaves out.
pub const LIMITED_LACKS: [Capability; 2] = [Capability::Qos2, Capability::Retain];

/// Where scenarios are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The reference broker, started in-process for the run.
    Embedded,
    /// A broker at `host:port`.
    Tcp { host: String, port: u16 },
}

impl Target {
    /// Parses `mqtt://host[:port]` (default port 1883). `tcp://` is accepted as a synonym.
    pub fn parse(text: &str) -> Result<Target, String> {
        let rest = text
            .strip_prefix("mqtt://")
            .or_else(|| text.strip_prefix("tcp://"))
            .ok_or_else(|| {
                format!("target {text:?}: write mqtt://HOST[:PORT] (mqtts:// and ws:// are not supported yet)")
            })?
            .trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 literal in brackets, or a host with an explicit port.
            Some((h, p)) if !h.is_empty() && (!h.contains(':') || h.ends_with(']')) => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("target {text:?}: port {p:?} is not a number"))?;
                (h.to_string(), port)
            }
            _ => (rest.to_string(), 1883),
        };
        if host.is_empty() {
            return Err(format!("target {text:?}: no host"));
        }
        Ok(Target::Tcp { host, port })
    }

    /// Starts the target if it is embedded; returns where to connect.
    pub async fn start(&self) -> std::io::Result<Running> {
        match self {
            Target::Embedded => {
                let handle = server::spawn(mqttspec_broker::Config::default()).await?;
                let addr = handle.local_addr().to_string();
                Ok(Running {
                    addr,
                    broker: Some(handle),
                })
            }
            Target::Tcp { host, port } => Ok(Running {
                addr: format!("{host}:{port}"),
                broker: None,
            }),
        }
    }
}

/// Starts the reference broker without QoS 2 and retained messages, and returns the profile that
/// says so: where scenarios with `lacks = [...]` (how a broker refuses a feature it lacks) run
/// when the target is the embedded broker.
pub async fn start_limited() -> std::io::Result<(Running, Profile)> {
    let config = mqttspec_broker::Config {
        retain_available: false,
        limits: Limits {
            maximum_qos: QoS::AtLeastOnce,
            ..Limits::default()
        },
        ..mqttspec_broker::Config::default()
    };
    let handle = server::spawn(config).await?;
    let mut profile = Profile::default();
    for cap in LIMITED_LACKS {
        profile
            .missing
            .insert(cap, "the limited embedded reference broker".into());
    }
    let running = Running {
        addr: handle.local_addr().to_string(),
        broker: Some(handle),
    };
    Ok((running, profile))
}

/// Whether a scenario runs on the limited embedded broker rather than the full one.
pub fn wants_limited(lacks: &[Capability]) -> bool {
    !lacks.is_empty() && lacks.iter().all(|c| LIMITED_LACKS.contains(c))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Embedded => f.write_str("embedded reference broker"),
            Target::Tcp { host, port } => write!(f, "mqtt://{host}:{port}"),
        }
    }
}

/// A target ready for connections.
pub struct Running {
    /// `host:port` to connect to.
    pub addr: String,
    broker: Option<BrokerHandle>,
}

impl Running {
    /// A target that is already running at `addr` (used by tests that start their own peer).
    pub fn external(addr: String) -> Running {
        Running { addr, broker: None }
    }

    /// Stops the embedded broker, if this run started one.
    pub async fn stop(self) {
        if let Some(b) = self.broker {
            b.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = |h: &str, p| Target::Tcp {
            host: h.into(),
            port: p,
        };
        assert_eq!(Target::parse("mqtt://localhost"), Ok(t("localhost", 1883)));
        assert_eq!(
            Target::parse("mqtt://127.0.0.1:1884/"),
            Ok(t("127.0.0.1", 1884))
        );
        assert_eq!(Target::parse("mqtt://[::1]:1885"), Ok(t("[::1]", 1885)));
        assert!(Target::parse("localhost:1883").is_err());
        assert!(Target::parse("mqtt://h:x").is_err());
    }
}
