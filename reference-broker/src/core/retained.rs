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
    /// Whether `purge` notes the topics it clears (for persistence).
    pub track_expired: bool,
    expired: Vec<String>,
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
        let expired = &mut self.expired;
        let track = self.track_expired;
        self.by_topic.retain(|t, m| {
            let keep = !m.expired(now);
            if !keep && track {
                expired.push(t.clone());
            }
            keep
        });
    }

    /// The topics `purge` cleared since the last call (only with `track_expired`).
    pub fn take_expired(&mut self) -> Vec<String> {
        std::mem::take(&mut self.expired)
    }

    pub fn get(&self, topic: &str) -> Option<&Arc<Message>> {
        self.by_topic.get(topic)
    }

    /// Topics whose message has a Message Expiry Interval (its time left changes as time passes).
    pub fn expiring_topics(&self) -> Vec<String> {
        self.by_topic
            .iter()
            .filter(|(_, m)| m.expiry_interval.is_some())
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Every retained message, expired ones included, by topic.
    #[cfg(feature = "arbitrary")]
    pub fn all(&self) -> impl Iterator<Item = (&String, &Arc<Message>)> {
        self.by_topic.iter()
    }

    pub fn len(&self) -> usize {
        self.by_topic.len()
    }
}
