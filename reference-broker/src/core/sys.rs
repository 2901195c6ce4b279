//! `$SYS/` statistics, under the names mosquitto uses, published as retained QoS 0 messages
//! every `sys_interval` seconds (and once at start).

use super::message::Message;
use super::Broker;
use bytes::Bytes;
use mqttspec_codec::{MqttString, QoS};
use std::sync::Arc;
use std::time::Instant;

/// Counters since the broker started.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    /// Every MQTT packet received / sent (mosquitto's `messages/received` and `messages/sent`).
    pub packets_received: u64,
    pub packets_sent: u64,
    /// PUBLISH packets received / sent.
    pub publish_received: u64,
    pub publish_sent: u64,
    /// Copies not delivered: queue full, expired, too large, or QoS 0 to an absent client.
    pub publish_dropped: u64,
}

impl Broker {
    pub(super) fn publish_sys(&mut self, now: Instant) {
        self.retained.purge(now);
        let connected = self.connected_clients();
        let sessions = self.sessions.len();
        let stored: usize = self
            .sessions
            .values()
            .map(|s| s.flow().inflight.len() + s.flow().queue.len())
            .sum();
        let uptime = now.saturating_duration_since(self.started).as_secs();
        let st = self.stats.clone();
        let values: Vec<(&str, String)> = vec![
            (
                "$SYS/broker/version",
                format!("mqttspec-broker version {}", env!("CARGO_PKG_VERSION")),
            ),
            ("$SYS/broker/uptime", format!("{uptime} seconds")),
            ("$SYS/broker/clients/connected", connected.to_string()),
            ("$SYS/broker/clients/active", connected.to_string()),
            (
                "$SYS/broker/clients/disconnected",
                sessions.saturating_sub(connected).to_string(),
            ),
            (
                "$SYS/broker/clients/total",
                sessions.max(connected).to_string(),
            ),
            (
                "$SYS/broker/messages/received",
                st.packets_received.to_string(),
            ),
            ("$SYS/broker/messages/sent", st.packets_sent.to_string()),
            ("$SYS/broker/messages/stored", stored.to_string()),
            ("$SYS/broker/store/messages/count", stored.to_string()),
            (
                "$SYS/broker/publish/messages/received",
                st.publish_received.to_string(),
            ),
            (
                "$SYS/broker/publish/messages/sent",
                st.publish_sent.to_string(),
            ),
            (
                "$SYS/broker/publish/messages/dropped",
                st.publish_dropped.to_string(),
            ),
            (
                "$SYS/broker/retained messages/count",
                self.retained.len().to_string(),
            ),
            (
                "$SYS/broker/subscriptions/count",
                self.router.count().to_string(),
            ),
        ];
        for (topic, value) in values {
            let msg = Arc::new(Message {
                topic: MqttString::from(topic),
                payload: Bytes::from(value),
                qos: QoS::AtMostOnce,
                retain: true,
                properties: Default::default(),
                expiry_interval: None,
                received: now,
                publisher: None,
            });
            self.retained.update(&msg);
            self.route(now, &msg);
        }
    }
}
