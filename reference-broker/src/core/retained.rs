//! Retained messages: at most one per topic (MQTT-3.3.1-5), never an empty one (MQTT-3.3.1-7),
//! kept apart from sessions (3.1.1 MQTT-3.1.2-7).

use super::message::Message;
use mqttspec_codec::topic::matches;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct Retained {
    by_topic: BTreeMap<String, Arc<Message>>,
}

impl Retained {
    /// Stores `msg` for its topic, or clears the topic if the payload is empty (MQTT-3.3.1-6).
    pub fn update(&mut self, msg: &Arc<Message>) {
        if msg.payload.is_empty() {
            self.by_topic.remove(&*msg.topic);
        } else {
            self.by_topic.insert(msg.topic.to_string(), Arc::clone(msg));
        }
    }

    /// The unexpired retained messages matching `filter` (a non-shared filter).
    pub fn matching(&mut self, filter: &str, now: Instant) -> Vec<Arc<Message>> {
        self.purge(now);
        self.by_topic
            .iter()
            .filter(|(t, _)| matches(filter, t))
            .map(|(_, m)| Arc::clone(m))
            .collect()
    }

    /// Drops retained messages whose Message Expiry Interval has passed.
    pub fn purge(&mut self, now: Instant) {
        self.by_topic.retain(|_, m| !m.expired(now));
    }

    pub fn len(&self) -> usize {
        self.by_topic.len()
    }
}
