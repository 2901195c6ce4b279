//! The broker's configuration: a TOML file, every field optional, every limit bounded.
//!
//! ```toml
//! listen = ["127.0.0.1:1883"]
//! sys_interval = 10
//! [limits]
//! receive_maximum = 100
//! ```
//!
//! Unknown fields are errors, so a typo never silently falls back to a default. See
//! reference-broker/README.md for every field.

use mqttspec_codec::QoS;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything the broker can be told. `Config::default()` is what `mqttspec broker` runs without a file.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Addresses to accept connections on (used by `mqttspec broker`; tests bind their own listener).
    pub listen: Vec<SocketAddr>,
    /// Seconds between `$SYS/` statistics publications; 0 turns them off.
    pub sys_interval: u64,
    /// v5: a keep-alive the server imposes on every client, sent as Server Keep Alive in CONNACK.
    pub server_keep_alive: Option<u16>,
    /// Seconds a new connection may take to send CONNECT before it is closed.
    pub connect_timeout: u64,
    /// Whether retained messages are supported (v5 CONNACK Retain Available).
    pub retain_available: bool,
    /// Whether topic filters with wildcards are accepted.
    pub wildcard_subscriptions: bool,
    /// Whether v5 shared subscriptions (`$share/group/filter`) are supported.
    pub shared_subscriptions: bool,
    /// Whether v5 subscription identifiers are supported.
    pub subscription_identifiers: bool,
    /// A file of `username:password` lines; when set, every client must log in.
    pub password_file: Option<PathBuf>,
    /// The credentials read from `password_file` (filled by [`Config::load_password_file`]), or set in code.
    #[serde(skip)]
    pub users: Option<BTreeMap<String, String>>,
    /// A file keeping retained messages and persistent sessions across restarts (an append-only
    /// log, see `server/store.rs`); absent (the default) means nothing is persisted.
    pub persistence: Option<PathBuf>,
    /// Sizes, counts and windows.
    pub limits: Limits,
}

/// Every bound the broker enforces, so that no queue or buffer grows without limit.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest packet accepted from a client, in bytes (v5 CONNACK Maximum Packet Size).
    pub max_packet_size: u32,
    /// QoS 1 and 2 publications a client may have unacknowledged towards the broker (v5 CONNACK).
    pub receive_maximum: u16,
    /// Highest QoS the broker supports (v5 CONNACK Maximum QoS; subscriptions are granted at most this).
    #[serde(deserialize_with = "de_qos")]
    pub maximum_qos: QoS,
    /// Highest Topic Alias a client may send (v5 CONNACK Topic Alias Maximum); 0 disables them.
    pub topic_alias_maximum: u16,
    /// Highest Session Expiry Interval granted to v5 clients, in seconds; absent means no cap.
    pub session_expiry_maximum: Option<u32>,
    /// QoS 1 and 2 messages kept per session waiting to be sent; the newest beyond it are dropped.
    pub max_queued_messages: usize,
    /// QoS 1 and 2 messages the broker has unacknowledged towards one client (also bounded by the
    /// client's Receive Maximum).
    pub max_inflight: u16,
    /// Clients connected at once; the next CONNECT is refused with Server busy / Server unavailable.
    pub max_connections: usize,
    /// Packets waiting to be written to one connection's socket. Past it, QoS 0 messages to that
    /// client are dropped and QoS 1/2 ones wait in its session queue: back-pressure for slow readers.
    pub max_write_queue: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 1883))],
            sys_interval: 10,
            server_keep_alive: None,
            connect_timeout: 10,
            retain_available: true,
            wildcard_subscriptions: true,
            shared_subscriptions: true,
            subscription_identifiers: true,
            password_file: None,
            users: None,
            persistence: None,
            limits: Limits::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_packet_size: 1024 * 1024,
            receive_maximum: 100,
            maximum_qos: QoS::ExactlyOnce,
            topic_alias_maximum: 10,
            session_expiry_maximum: None,
            max_queued_messages: 1000,
            max_inflight: 20,
            max_connections: 10_000,
            max_write_queue: 1000,
        }
    }
}

fn de_qos<'de, D: Deserializer<'de>>(d: D) -> Result<QoS, D::Error> {
    let v = u8::deserialize(d)?;
    QoS::from_u8(v).ok_or_else(|| serde::de::Error::custom(format!("must be 0, 1 or 2, not {v}")))
}

/// Why a configuration could not be used. The message names the field (or file line) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax, an unknown field, or a value of the wrong type; the text names line and field.
    #[error("{0}")]
    Parse(String),
    #[error("invalid value for `{field}`: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("{path}, line {line}: {why}")]
    PasswordFile {
        path: PathBuf,
        line: usize,
        why: &'static str,
    },
}

impl Config {
    /// Parses TOML text and checks it. A `password_file` is read relative to the current directory.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        config.load_password_file(None)?;
        Ok(config)
    }

    /// Reads and checks a TOML file. A relative `password_file` is found beside it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse(format!("{}: {e}", path.display())))?;
        config.validate()?;
        config.load_password_file(path.parent())?;
        // Like the password file, a relative persistence file is found beside the config.
        if let (Some(file), Some(dir)) = (&mut config.persistence, path.parent()) {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        }
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, why: &str| {
            Err(ConfigError::Invalid {
                field,
                why: why.to_owned(),
            })
        };
        let l = &self.limits;
        if l.receive_maximum == 0 {
            return invalid(
                "limits.receive_maximum",
                "must be at least 1 (MQTT-3.2.2 Receive Maximum)",
            );
        }
        if l.max_inflight == 0 {
            return invalid("limits.max_inflight", "must be at least 1");
        }
        if l.max_packet_size < 16 {
            return invalid("limits.max_packet_size", "must be at least 16 bytes");
        }
        if l.max_packet_size > mqttspec_codec::MAX_PACKET_SIZE {
            return invalid(
                "limits.max_packet_size",
                &format!("must be at most {}", mqttspec_codec::MAX_PACKET_SIZE),
            );
        }
        if l.max_queued_messages == 0 {
            return invalid("limits.max_queued_messages", "must be at least 1");
        }
        if l.max_connections == 0 {
            return invalid("limits.max_connections", "must be at least 1");
        }
        if l.max_write_queue < 16 {
            return invalid("limits.max_write_queue", "must be at least 16");
        }
        if self.connect_timeout == 0 || self.connect_timeout > 3600 {
            return invalid("connect_timeout", "must be between 1 and 3600 seconds");
        }
        if let Some(file) = &self.persistence {
            if file.as_os_str().is_empty() {
                return invalid("persistence", "must name a file");
            }
            if file.is_dir() {
                return invalid("persistence", "names a directory, not a file");
            }
        }
        if self.sys_interval > 86_400 {
            return invalid(
                "sys_interval",
                "must be at most 86400 seconds (0 turns it off)",
            );
        }
        Ok(())
    }

    /// Reads `password_file` (if set and not yet read) into `users`. `base` resolves a relative path.
    pub fn load_password_file(&mut self, base: Option<&Path>) -> Result<(), ConfigError> {
        let Some(file) = &self.password_file else {
            return Ok(());
        };
        if self.users.is_some() {
            return Ok(());
        }
        let path = match base {
            Some(dir) if file.is_relative() => dir.join(file),
            _ => file.clone(),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        self.users = Some(
            parse_password_file(&text).map_err(|(line, why)| ConfigError::PasswordFile {
                path,
                line,
                why,
            })?,
        );
        Ok(())
    }
}

/// `username:password` per line; blank lines and lines starting with `#` are skipped.
/// Errors carry the 1-based line number.
pub fn parse_password_file(text: &str) -> Result<BTreeMap<String, String>, (usize, &'static str)> {
    let mut users = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((user, password)) = line.split_once(':') else {
            return Err((i + 1, "expected `username:password`"));
        };
        if user.is_empty() {
            return Err((i + 1, "empty user name"));
        }
        if users.insert(user.to_owned(), password.to_owned()).is_some() {
            return Err((i + 1, "user listed twice"));
        }
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default() {
        let c = Config::from_toml_str("").unwrap();
        assert_eq!(c.limits.receive_maximum, 100);
        assert_eq!(c.limits.topic_alias_maximum, 10);
        assert_eq!(c.limits.maximum_qos, QoS::ExactlyOnce);
        assert!(c.retain_available && c.wildcard_subscriptions && c.shared_subscriptions);
        assert!(c.server_keep_alive.is_none() && c.users.is_none());
    }

    #[test]
    fn fields_parse() {
        let c = Config::from_toml_str(
            "listen = [\"0.0.0.0:1884\", \"127.0.0.1:1885\"]\nsys_interval = 0\nserver_keep_alive = 30\n\
             [limits]\nmaximum_qos = 1\nsession_expiry_maximum = 3600\nmax_inflight = 5\n",
        )
        .unwrap();
        assert_eq!(c.listen.len(), 2);
        assert_eq!(c.sys_interval, 0);
        assert_eq!(c.server_keep_alive, Some(30));
        assert_eq!(c.limits.maximum_qos, QoS::AtLeastOnce);
        assert_eq!(c.limits.session_expiry_maximum, Some(3600));
        assert_eq!(c.limits.max_inflight, 5);
    }

    #[test]
    fn errors_name_the_field() {
        let e = Config::from_toml_str("[limits]\nrecieve_maximum = 3\n").unwrap_err();
        assert!(e.to_string().contains("recieve_maximum"), "{e}");
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = Config::from_toml_str("[limits]\nreceive_maximum = 0\n").unwrap_err();
        assert!(e.to_string().contains("limits.receive_maximum"), "{e}");
        let e = Config::from_toml_str("[limits]\nmaximum_qos = 3\n").unwrap_err();
        assert!(e.to_string().contains("maximum_qos"), "{e}");
        let e = Config::from_toml_str("sys_interval = \"often\"\n").unwrap_err();
        assert!(e.to_string().contains("sys_interval"), "{e}");
        let e = Config::from_toml_str("persistence = \"\"\n").unwrap_err();
        assert!(e.to_string().contains("`persistence`"), "{e}");
        let dir = std::env::temp_dir()
            .display()
            .to_string()
            .replace('\\', "/");
        let e = Config::from_toml_str(&format!("persistence = \"{dir}\"\n")).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let c = Config::from_toml_str("persistence = \"broker.log\"\n").unwrap();
        assert_eq!(c.persistence, Some(PathBuf::from("broker.log")));
    }

    #[test]
    fn load_reads_the_password_file_beside_the_config() {
        let dir = std::env::temp_dir().join(format!("mqttspec-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("users.txt"), "alice:secret\n").unwrap();
        std::fs::write(
            dir.join("broker.toml"),
            "password_file = \"users.txt\"\npersistence = \"state.log\"\n",
        )
        .unwrap();
        let c = Config::load(&dir.join("broker.toml")).unwrap();
        assert_eq!(c.users.unwrap()["alice"], "secret");
        assert_eq!(c.persistence, Some(dir.join("state.log")));
        std::fs::write(dir.join("bad.toml"), "password_file = \"missing.txt\"\n").unwrap();
        let e = Config::load(&dir.join("bad.toml")).unwrap_err();
        assert!(e.to_string().contains("missing.txt"), "{e}");
        std::fs::write(dir.join("users.txt"), "alice\n").unwrap();
        let e = Config::load(&dir.join("broker.toml")).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn password_file_lines() {
        let users = parse_password_file("# users\nalice:secret\n\nbob:pa:ss\n").unwrap();
        assert_eq!(users["alice"], "secret");
        assert_eq!(users["bob"], "pa:ss");
        assert_eq!(parse_password_file("alice\n").unwrap_err().0, 1);
        assert_eq!(parse_password_file("a:1\na:2\n").unwrap_err().0, 2);
    }
}
