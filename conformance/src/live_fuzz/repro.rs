//! Reproducers: the exact bytes each client sent, in order, as a TOML file that
//! `mqttspec replay` plays back against any broker.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One action of one client in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Step {
    /// Write these bytes (hex in the file) on the client's connection, opening it if needed.
    Send { client: usize, send: String },
    /// Close the client's connection without DISCONNECT.
    Close { client: usize, close: bool },
}

impl Step {
    pub fn send(client: usize, bytes: Vec<u8>) -> Self {
        Self::Send {
            client,
            send: hex::encode(bytes),
        }
    }

    pub fn close(client: usize) -> Self {
        Self::Close {
            client,
            close: true,
        }
    }

    pub fn client(&self) -> usize {
        match self {
            Self::Send { client, .. } | Self::Close { client, .. } => *client,
        }
    }

    /// The bytes of a send step; empty for a close or undecodable hex.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Send { send, .. } => hex::decode(send).unwrap_or_default(),
            Self::Close { .. } => Vec::new(),
        }
    }
}

/// A finding, saved so it can be replayed and shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reproducer {
    /// What the liveness probe saw after the session.
    pub finding: String,
    /// The target the finding came from.
    pub target: String,
    pub seed: u64,
    pub session: u64,
    /// Whether the steps were reduced from the session as generated.
    pub minimized: bool,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

impl Reproducer {
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let body = toml::to_string_pretty(self).map_err(std::io::Error::other)?;
        let header =
            "# mqttspec live-fuzzing reproducer: replay with `mqttspec replay FILE [TARGET]`\n";
        std::fs::write(path, format!("{header}{body}"))
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml() {
        let r = Reproducer {
            finding: "hang".into(),
            target: "mqtt://127.0.0.1:1883".into(),
            seed: 7,
            session: 3,
            minimized: true,
            steps: vec![Step::send(0, vec![0xC0, 0x00]), Step::close(0)],
        };
        let dir = std::env::temp_dir().join(format!("mqttspec-repro-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.toml");
        r.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("send = \"c000\""), "{text}");
        assert_eq!(Reproducer::load(&path).unwrap(), r);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
