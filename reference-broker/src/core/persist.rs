//! Persistence: the records the core emits so that an IO layer can keep retained messages and
//! persistent sessions across restarts ([`Output::Persist`](super::Output::Persist)), and
//! [`Broker::restore`], which rebuilds a fresh broker from them.
//!
//! Only with `Config::persistence` set: otherwise nothing is tracked and nothing emitted.
//!
//! # Records
//! A [`Record`] is the whole durable state of one key (a retained topic or a client id) after an
//! input changed it, or its removal; a later record of a key replaces every earlier one, so an
//! append-only log of records, read back with "last record per key wins", is the state. During one
//! [`Broker::handle`] the keys touched are only marked; at its end one record per key is emitted,
//! placed before every `Send` that input produced. An IO layer that writes records in order
//! therefore has a message on disk before it PUBACKs or PUBRECs it.
//!
//! Persisted: sessions that outlive their connection (v5 Session Expiry Interval > 0, 3.1.1
//! CleanSession 0) with their subscriptions, queued and in-flight QoS 1/2 deliveries (packet ids,
//! PUBREL sent or not), QoS 2 packet ids received awaiting PUBREL, the next packet id, the expiry
//! interval, the protocol version and the stored will with its delay. Not persisted: QoS 0 copies
//! (they are never queued), connections, topic aliases, flow-control waits, `$SYS/` messages.
//!
//! # Time
//! The core has no wall clock. A message's Message Expiry Interval is recorded as the seconds left
//! when the record was made; at a clean shutdown every persisted session and retained message is
//! recorded again, so the time left is exact then. Time while the broker is down is not counted,
//! and neither is, after a crash, the time between a message's last record and the crash. A
//! restored session behaves as if its connection had been lost at restore: its will is published
//! then (or after its delay), and its expiry interval starts then.

use super::message::{Delivery, Message};
use super::session::{Inflight, OutState, Session, StoredSub, StoredWill, SubOptions};
use super::timers::Timer;
use super::{Broker, Output};
use mqttspec_codec::{ProtocolVersion, Publish, QoS, RetainHandling, Will};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One change to durable state. Records of the same [`RecordKey`] replace each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The retained message of `topic` (as a PUBLISH with RETAIN 1), or `None`: it has none.
    Retained {
        topic: String,
        message: Option<Box<Publish>>,
    },
    /// The durable state of a session, or `None`: the session ended.
    Session {
        client_id: String,
        state: Option<Box<SessionState>>,
    },
}

/// What a record is about: "last record per key wins".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKey {
    Retained(String),
    Session(String),
}

impl Record {
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Retained { topic, .. } => RecordKey::Retained(topic.clone()),
            Record::Session { client_id, .. } => RecordKey::Session(client_id.clone()),
        }
    }

    /// Whether this record removes its key (nothing is left to keep for it).
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            Record::Retained { message: None, .. } | Record::Session { state: None, .. }
        )
    }
}

/// A persistent session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionState {
    pub version: ProtocolVersion,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry: u32,
    pub next_packet_id: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionState>,
    /// QoS 1/2 messages sent and not fully acknowledged, in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inflight: Vec<InflightState>,
    /// QoS 1/2 messages waiting to be sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue: Vec<DeliveryState>,
    /// QoS 2 packet ids received and PUBREC'd, waiting for PUBREL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incoming_qos2: Vec<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub will: Option<Will>,
    /// Will Delay Interval in seconds.
    #[serde(default)]
    pub will_delay: u32,
}

/// One subscription as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionState {
    /// The filter as subscribed, `$share/{group}/` included.
    pub filter: String,
    /// For a shared subscription: the group and the filter without the prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<ShareState>,
    pub qos: QoS,
    #[serde(default)]
    pub no_local: bool,
    #[serde(default)]
    pub retain_as_published: bool,
    #[serde(default)]
    pub retain_handling: RetainHandling,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareState {
    pub group: String,
    pub filter: String,
}

/// An outgoing QoS 1/2 message in its handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InflightState {
    pub packet_id: u16,
    /// PUBREC received and PUBREL sent: only PUBREL is re-sent (MQTT-4.3.3-6).
    #[serde(default)]
    pub released: bool,
    pub delivery: DeliveryState,
}

/// One copy of a message for one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryState {
    /// The message as the broker holds it (its QoS and RETAIN as published, the forwarded
    /// properties, Message Expiry Interval = seconds left when recorded).
    pub message: Publish,
    /// The QoS and RETAIN flag this copy is delivered with.
    pub qos: QoS,
    #[serde(default)]
    pub retain: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscription_ids: Vec<u32>,
}

/// What [`Broker::restore`] rebuilt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    pub sessions: usize,
    pub retained: usize,
}

/// Which keys changed during the current input, and which sessions have a live record.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    sessions: BTreeSet<String>,
    retained: BTreeSet<String>,
    /// Sessions whose last record is a state (so their end must be recorded).
    persisted: BTreeSet<String>,
    /// Shutting down: the state recorded at the start of the shutdown stands (wills included).
    stopping: bool,
}

impl Tracker {
    /// Marks `client`'s session as changed by the current input.
    pub fn mark(&mut self, client: &str) {
        if !self.stopping && !self.sessions.contains(client) {
            self.sessions.insert(client.to_owned());
        }
    }
}

impl Broker {
    /// Marks `client`'s session as changed by the current input (a no-op without persistence).
    pub(super) fn mark_session(&mut self, client: &str) {
        if let Some(t) = &mut self.persist {
            t.mark(client);
        }
    }

    /// Marks the retained message of `topic` as changed by the current input.
    pub(super) fn mark_retained(&mut self, topic: &str) {
        if let Some(t) = &mut self.persist {
            if !t.stopping && !t.retained.contains(topic) {
                t.retained.insert(topic.to_owned());
            }
        }
    }

    /// At shutdown: records everything once more (so the time left of messages is exact), then
    /// stops recording, so that closing the connections does not discard the wills on disk.
    pub(super) fn persist_shutdown(&mut self, now: Instant, mark: usize) {
        let Some(t) = &mut self.persist else {
            return;
        };
        t.sessions.extend(t.persisted.iter().cloned());
        t.retained.extend(self.retained.expiring_topics());
        self.flush_persist(now, mark);
        if let Some(t) = &mut self.persist {
            t.stopping = true;
        }
    }

    /// Emits one record per key marked during the current input, before the outputs from
    /// position `mark` on (the ones this input produced).
    pub(super) fn flush_persist(&mut self, now: Instant, mark: usize) {
        let Some(t) = &mut self.persist else {
            return;
        };
        for topic in self.retained.take_expired() {
            t.retained.insert(topic);
        }
        if t.sessions.is_empty() && t.retained.is_empty() {
            return;
        }
        let mut records = Vec::with_capacity(t.sessions.len() + t.retained.len());
        for topic in std::mem::take(&mut t.retained) {
            let message = self
                .retained
                .get(&topic)
                .map(|m| Box::new(message_to_publish(m, now)));
            records.push(Record::Retained { topic, message });
        }
        for client_id in std::mem::take(&mut t.sessions) {
            match self.sessions.get(&client_id).filter(|s| s.expiry > 0) {
                Some(s) => {
                    let state = Some(Box::new(session_state(s, now)));
                    t.persisted.insert(client_id.clone());
                    records.push(Record::Session { client_id, state });
                }
                None if t.persisted.remove(&client_id) => {
                    records.push(Record::Session {
                        client_id,
                        state: None,
                    });
                }
                None => {}
            }
        }
        let mark = mark.min(self.outputs.len());
        let tail = self.outputs.split_off(mark);
        self.outputs
            .extend(records.into_iter().map(Output::Persist));
        self.outputs.extend(tail);
    }

    /// Rebuilds retained messages and sessions from `records` (the last record of each key wins).
    /// Meant for a fresh broker, before any input. Every restored session is disconnected: its
    /// will is published now or after its delay, its expiry interval starts now (see the module
    /// doc); a v5 one is held to the current `session_expiry_maximum`. Expired retained and queued messages are not restored; in-flight ones are, since
    /// expiry no longer applies once a PUBLISH was sent (MQTT-4.3.3-7).
    pub fn restore(&mut self, now: Instant, records: impl IntoIterator<Item = Record>) -> Restored {
        let mark = self.outputs.len();
        let mut latest = BTreeMap::new();
        for r in records {
            latest.insert(r.key(), r);
        }
        let mut done = Restored::default();
        let mut clients = Vec::new();
        for record in latest.into_values() {
            match record {
                Record::Retained {
                    topic,
                    message: Some(p),
                } => {
                    let msg = Message::from_publish(*p, now, None);
                    if *msg.topic == *topic && !msg.payload.is_empty() && !msg.expired(now) {
                        self.retained.update(&Arc::new(msg));
                        done.retained += 1;
                    }
                }
                Record::Session {
                    client_id,
                    state: Some(state),
                } if state.expiry > 0 => {
                    let mut session = restore_session(*state, now);
                    if session.version.is_v5() {
                        // The configuration may have lowered the cap since.
                        session.expiry = self.cap_expiry(session.expiry);
                    }
                    for s in session.subscriptions.values() {
                        self.router.insert(
                            &client_id,
                            &s.filter,
                            s.group.as_deref(),
                            s.options.clone(),
                        );
                    }
                    self.sessions.remove(&client_id);
                    self.sessions.insert(client_id.clone(), Box::new(session));
                    if let Some(t) = &mut self.persist {
                        t.persisted.insert(client_id.clone());
                    }
                    clients.push(client_id);
                    done.sessions += 1;
                }
                Record::Retained { .. } | Record::Session { .. } => {}
            }
        }
        // As if each connection had just been lost (see `drop_connection`).
        for client in clients {
            let Some(s) = self.sessions.get_mut(&client) else {
                continue;
            };
            s.generation += 1;
            let (generation, expiry) = (s.generation, s.expiry);
            match s.will.as_ref().map(|w| w.delay.min(expiry)) {
                None => {}
                Some(0) => self.publish_will(now, &client),
                Some(delay) => {
                    let due = now + Duration::from_secs(u64::from(delay));
                    s.will_due = Some(due);
                    self.timers
                        .push(due, Timer::Will(client.clone(), generation));
                }
            }
            if expiry != u32::MAX {
                let at = now + Duration::from_secs(u64::from(expiry));
                self.timers.push(at, Timer::Expiry(client, generation));
            }
        }
        self.flush_persist(now, mark);
        done
    }
}

/// Everything a restore must bring back, as records carry it: each session that outlives its
/// connection, and each retained message. For the fuzzing oracle, which compares a broker with
/// one restored from its records.
#[cfg(feature = "arbitrary")]
pub(crate) struct DurableState {
    pub sessions: BTreeMap<String, SessionState>,
    pub retained: BTreeMap<String, Publish>,
}

#[cfg(feature = "arbitrary")]
impl Broker {
    pub(crate) fn durable_state(&self, now: Instant) -> DurableState {
        let sessions = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expiry > 0)
            .map(|(c, s)| (c.clone(), session_state(s, now)))
            .collect();
        let retained = self
            .retained
            .all()
            .map(|(t, m)| (t.clone(), message_to_publish(m, now)))
            .collect();
        DurableState { sessions, retained }
    }
}

/// The message as a PUBLISH (no packet id), its Message Expiry Interval the seconds left.
fn message_to_publish(m: &Message, now: Instant) -> Publish {
    let mut properties = m.properties.clone();
    properties.message_expiry_interval = m.remaining(now);
    Publish {
        dup: false,
        qos: m.qos,
        retain: m.retain,
        topic: m.topic.clone(),
        packet_id: None,
        properties: properties.into(),
        payload: m.payload.clone(),
    }
}

fn delivery_state(d: &Delivery, now: Instant) -> DeliveryState {
    DeliveryState {
        message: message_to_publish(&d.msg, now),
        qos: d.qos,
        retain: d.retain,
        subscription_ids: d.subscription_ids.clone(),
    }
}

fn delivery(d: DeliveryState, now: Instant) -> Delivery {
    Delivery {
        msg: Arc::new(Message::from_publish(d.message, now, None)),
        qos: d.qos,
        retain: d.retain,
        subscription_ids: d.subscription_ids,
    }
}

fn session_state(s: &Session, now: Instant) -> SessionState {
    SessionState {
        version: s.version,
        expiry: s.expiry,
        next_packet_id: s.next_packet_id(),
        subscriptions: s
            .subscriptions
            .iter()
            .map(|(filter, sub)| SubscriptionState {
                filter: filter.clone(),
                share: sub.group.as_ref().map(|g| ShareState {
                    group: g.clone(),
                    filter: sub.filter.clone(),
                }),
                qos: sub.options.qos,
                no_local: sub.options.no_local,
                retain_as_published: sub.options.retain_as_published,
                retain_handling: sub.options.retain_handling,
                subscription_id: sub.options.subscription_id,
            })
            .collect(),
        inflight: s
            .flow()
            .inflight
            .iter()
            .map(|f| InflightState {
                packet_id: f.packet_id,
                released: f.state == OutState::Released,
                delivery: delivery_state(&f.delivery, now),
            })
            .collect(),
        queue: s
            .flow()
            .queue
            .iter()
            .map(|d| delivery_state(d, now))
            .collect(),
        incoming_qos2: s.flow().incoming_qos2.iter().copied().collect(),
        will: s.will.as_ref().map(|w| w.will.clone()),
        will_delay: s.will.as_ref().map_or(0, |w| w.delay),
    }
}

/// A disconnected session from its record. Entries a broker never makes (QoS 0 or packet id 0
/// in flight, a packet id twice) are dropped rather than trusted.
fn restore_session(st: SessionState, now: Instant) -> Session {
    let mut s = Session::new(st.version);
    s.expiry = st.expiry;
    s.set_next_packet_id(st.next_packet_id);
    for sub in st.subscriptions {
        let (filter, group) = match sub.share {
            Some(sh) => (sh.filter, Some(sh.group)),
            None => (sub.filter.clone(), None),
        };
        let options = SubOptions {
            qos: sub.qos,
            no_local: sub.no_local,
            retain_as_published: sub.retain_as_published,
            retain_handling: sub.retain_handling,
            subscription_id: sub.subscription_id,
        };
        let stored = StoredSub {
            filter,
            group,
            options,
        };
        s.subscriptions.insert(sub.filter, stored);
    }
    for f in st.inflight {
        let valid = f.packet_id != 0
            && f.delivery.qos != QoS::AtMostOnce
            && s.inflight_index(f.packet_id).is_none();
        if !valid {
            continue;
        }
        let state = if f.released && f.delivery.qos == QoS::ExactlyOnce {
            OutState::Released
        } else {
            OutState::Published
        };
        s.flow_mut().inflight.push_back(Inflight {
            packet_id: f.packet_id,
            state,
            delivery: delivery(f.delivery, now),
            on_wire: false,
        });
    }
    for d in st.queue {
        let d = delivery(d, now);
        if d.qos != QoS::AtMostOnce && !d.msg.expired(now) {
            s.flow_mut().queue.push_back(d);
        }
    }
    let incoming_qos2: BTreeSet<u16> = st.incoming_qos2.into_iter().filter(|&p| p != 0).collect();
    if !incoming_qos2.is_empty() {
        s.flow_mut().incoming_qos2 = incoming_qos2;
    }
    s.will = st.will.map(|will| {
        Box::new(StoredWill {
            will,
            delay: st.will_delay,
        })
    });
    s
}
