//! mqttspec-broker: a spec-exact MQTT 3.1.1 and 5.0 broker, the yardstick of the mqttspec suite.
//!
//! # Layout
//! - [`config`]: the TOML configuration and its limits ([`Config`]).
//! - [`core`]: the sans-IO state machine ([`core::Broker`]): every protocol rule, no sockets, no
//!   clock. Inputs are events (a packet arrived, time passed); outputs are actions (send, close).
//! - `fuzzing` (feature `arbitrary`): the core fuzzing oracle behind the `broker_core` target.
//! - [`server`]: the tokio server around the core: [`server::run`] on a listener you bound,
//!   [`server::spawn`] for tests (127.0.0.1, port 0).
//!
//! Where the specifications say MAY or SHOULD, the choices made are listed in README.md.

pub mod config;
pub mod core;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod server;

pub use config::{Config, ConfigError};
