//! An Application Message as the broker holds it, and one copy of it on its way to one session.

use mqttspec_codec::{MqttString, Properties, Publish, QoS};
use std::sync::Arc;
use std::time::Instant;

/// A message the broker took ownership of (from a PUBLISH, a will, or `$SYS/`).
#[derive(Debug)]
pub(crate) struct Message {
    pub topic: MqttString,
    pub payload: bytes::Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// The properties forwarded unaltered: Payload Format Indicator (MQTT-3.3.2-4), Content Type
    /// (MQTT-3.3.2-20), Response Topic (MQTT-3.3.2-15), Correlation Data (MQTT-3.3.2-16) and User
    /// Properties in their order (MQTT-3.3.2-17, -18). Never a Topic Alias or Subscription
    /// Identifier: those belong to one hop.
    pub properties: Properties,
    /// The Message Expiry Interval received, in seconds.
    pub expiry_interval: Option<u32>,
    pub received: Instant,
    /// The client id of the publisher, for No Local (MQTT-3.8.3-3).
    pub publisher: Option<String>,
}

impl Message {
    /// The message a PUBLISH carries, received at `now` from `publisher` (none for a message
    /// read back from persistence).
    pub fn from_publish(p: Publish, now: Instant, publisher: Option<String>) -> Self {
        Self {
            expiry_interval: p.properties.message_expiry_interval,
            properties: Self::forwarded_properties(&p.properties),
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            received: now,
            publisher,
        }
    }

    /// Keeps only the properties that travel with the message.
    pub fn forwarded_properties(p: &Properties) -> Properties {
        Properties {
            payload_format_indicator: p.payload_format_indicator,
            content_type: p.content_type.clone(),
            response_topic: p.response_topic.clone(),
            correlation_data: p.correlation_data.clone(),
            user_properties: p.user_properties.clone(),
            ..Properties::default()
        }
    }

    /// Seconds left before the message expires; `None` if it never does, `Some(0)` if expired.
    pub fn remaining(&self, now: Instant) -> Option<u32> {
        let interval = self.expiry_interval?;
        let waited = now.saturating_duration_since(self.received).as_secs();
        Some(u32::try_from(u64::from(interval).saturating_sub(waited)).unwrap_or(0))
    }

    /// Whether the message expired (MQTT-3.3.2-5).
    pub fn expired(&self, now: Instant) -> bool {
        self.remaining(now) == Some(0)
    }
}

/// One copy of a message for one session: the QoS and RETAIN flag it is delivered with and the
/// Subscription Identifiers of the subscriptions it matched.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub msg: Arc<Message>,
    pub qos: QoS,
    pub retain: bool,
    pub subscription_ids: Vec<u32>,
}

impl Delivery {
    /// The PUBLISH for this delivery. The Message Expiry Interval is the one received minus the
    /// time waited (MQTT-3.3.2-6); a retransmission keeps at least 1 second, since expiry no
    /// longer applies once a PUBLISH was sent (MQTT-4.3.3-7).
    pub fn to_publish(&self, packet_id: Option<u16>, dup: bool, now: Instant) -> Publish {
        let mut properties = self.msg.properties.clone();
        properties.message_expiry_interval = self.msg.remaining(now).map(|s| s.max(1));
        properties.subscription_identifiers = self.subscription_ids.clone();
        Publish {
            dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.msg.topic.clone(),
            packet_id,
            properties: properties.into(),
            payload: self.msg.payload.clone(),
        }
    }
}
