//! Model-based testing of any broker (`mqttspec check-model`, and a `cargo test` against the
//! reference broker).
//!
//! proptest generates sequences of client operations (connect with a clean or persistent
//! session, subscribe and unsubscribe with wildcards, publish at QoS 0/1/2 with and without
//! retain, disconnect cleanly or abruptly); `exec` plays them against a broker while `predict`
//! says what each client must and may receive. A mismatch is shrunk by proptest to a minimal
//! sequence.

mod client;
mod exec;
pub mod predict;
mod runner;
pub mod scenario;

pub use exec::run_case;
pub use runner::{check, Outcome};

use mqttspec_codec::{ProtocolVersion, QoS};
use proptest::prelude::*;
use serde::Serialize;
use std::net::SocketAddr;

/// Clients in a case.
pub const CLIENTS: usize = 3;
/// Topic names, under a prefix unique to the case.
pub const TOPICS: [&str; 3] = ["a", "a/b", "b"];
/// Topic filters, under the same prefix.
pub const FILTERS: [&str; 5] = ["a", "a/+", "#", "+/b", "b"];

/// One client operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Connect {
        client: usize,
        clean: bool,
    },
    Subscribe {
        client: usize,
        filter: usize,
        qos: QoS,
    },
    Unsubscribe {
        client: usize,
        filter: usize,
    },
    Publish {
        client: usize,
        topic: usize,
        qos: QoS,
        retain: bool,
        empty: bool,
    },
    Disconnect {
        client: usize,
    },
    /// Close the connection without DISCONNECT.
    Drop {
        client: usize,
    },
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

/// Operations, weighted so that cases connect early and publish often.
pub fn op() -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    prop_oneof![
        3 => (client.clone(), any::<bool>()).prop_map(|(client, clean)| Op::Connect { client, clean }),
        3 => (client.clone(), 0..FILTERS.len(), qos())
            .prop_map(|(client, filter, qos)| Op::Subscribe { client, filter, qos }),
        1 => (client.clone(), 0..FILTERS.len()).prop_map(|(client, filter)| Op::Unsubscribe { client, filter }),
        5 => (client.clone(), 0..TOPICS.len(), qos(), any::<bool>(), prop::bool::weighted(0.15))
            .prop_map(|(client, topic, qos, retain, empty)| Op::Publish { client, topic, qos, retain, empty: retain && empty }),
        1 => client.clone().prop_map(|client| Op::Disconnect { client }),
        1 => client.prop_map(|client| Op::Drop { client }),
    ]
}

/// A case: a sequence of operations.
pub fn case(max_ops: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=max_ops)
}

/// Why a case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The broker did something the model forbids, or failed to do what it requires.
    #[error("{0}")]
    Broker(String),
    /// The harness itself failed (not a finding about the broker).
    #[error("harness: {0}")]
    Harness(String),
}

/// Where and how cases run.
#[derive(Debug, Clone)]
pub struct ModelTarget {
    pub addr: SocketAddr,
    pub version: ProtocolVersion,
}
