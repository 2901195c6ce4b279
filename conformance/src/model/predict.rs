//! The model: what a conformant broker must (and may) deliver to each client, given the
//! operations so far. Deliveries are counted per (client, message) as a range [min, max].

use super::{Op, CLIENTS, FILTERS, TOPICS};
use mqttspec_codec::topic::matches;
use mqttspec_codec::QoS;
use std::collections::BTreeMap;

/// How many times a client may receive one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: u32,
    /// `None`: unbounded (QoS 1 may be redelivered).
    pub max: Option<u32>,
    /// The session epoch the last guaranteed delivery belongs to; a later session discard
    /// relaxes `min`, since the broker may drop what was still queued.
    pub epoch: u32,
}

/// One client as the model sees it.
#[derive(Debug, Clone, Default)]
pub struct ClientState {
    pub connected: bool,
    /// The broker holds a session for this client (connected, or persistent while away).
    pub has_session: bool,
    /// The session outlives the connection (clean session 0 / session expiry > 0).
    pub persistent: bool,
    pub subscriptions: BTreeMap<usize, QoS>,
    /// Incremented each time the broker discards the session.
    pub epoch: u32,
    pub deliveries: BTreeMap<u32, Range>,
}

/// What a CONNECT must be answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOutcome {
    pub session_present: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub clients: Vec<ClientState>,
    /// Topic index -> (message id, QoS) of its retained message.
    pub retained: BTreeMap<usize, (u32, QoS)>,
    pub next_message: u32,
}

impl Model {
    pub fn new() -> Self {
        Self {
            clients: vec![ClientState::default(); CLIENTS],
            ..Self::default()
        }
    }

    /// Whether an operation has an effect (operations on absent connections are skipped, so
    /// every sequence is valid and shrinking never produces a nonsensical one).
    pub fn applies(&self, op: &Op) -> bool {
        match *op {
            Op::Connect { client, .. } => !self.clients[client].connected,
            Op::Subscribe { client, .. }
            | Op::Unsubscribe { client, .. }
            | Op::Publish { client, .. }
            | Op::Disconnect { client }
            | Op::Drop { client } => self.clients[client].connected,
        }
    }

    fn deliver(&mut self, client: usize, message: u32, qos: QoS, copies: u32) {
        let c = &mut self.clients[client];
        let epoch = c.epoch;
        let r = c.deliveries.entry(message).or_insert(Range {
            min: 0,
            max: Some(0),
            epoch,
        });
        match qos {
            QoS::AtMostOnce => r.max = r.max.map(|m| m + copies),
            QoS::AtLeastOnce => {
                r.min += 1;
                r.max = None;
                r.epoch = epoch;
            }
            QoS::ExactlyOnce => {
                r.min += 1;
                r.max = r.max.map(|m| m + copies);
                r.epoch = epoch;
            }
        }
    }

    fn discard_session(&mut self, client: usize) {
        let c = &mut self.clients[client];
        c.subscriptions.clear();
        c.has_session = false;
        c.epoch += 1;
    }

    /// Applies `op`; for a CONNECT, returns what the CONNACK must say.
    pub fn apply(&mut self, op: &Op) -> Option<ConnectOutcome> {
        if !self.applies(op) {
            return None;
        }
        match *op {
            Op::Connect { client, clean } => {
                let had = self.clients[client].has_session && self.clients[client].persistent;
                if clean || !had {
                    self.discard_session(client);
                }
                let c = &mut self.clients[client];
                c.connected = true;
                c.has_session = true;
                c.persistent = !clean;
                return Some(ConnectOutcome {
                    session_present: !clean && had,
                });
            }
            Op::Subscribe {
                client,
                filter,
                qos,
            } => {
                self.clients[client].subscriptions.insert(filter, qos);
                let retained: Vec<(u32, QoS)> = self
                    .retained
                    .iter()
                    .filter(|(t, _)| matches(FILTERS[filter], TOPICS[**t]))
                    .map(|(_, m)| *m)
                    .collect();
                for (message, rqos) in retained {
                    self.deliver(client, message, rqos.min(qos), 1);
                }
            }
            Op::Unsubscribe { client, filter } => {
                self.clients[client].subscriptions.remove(&filter);
            }
            Op::Publish {
                topic,
                qos,
                retain,
                empty,
                ..
            } => {
                let message = self.next_message;
                self.next_message += 1;
                if retain && empty {
                    self.retained.remove(&topic);
                } else if retain {
                    self.retained.insert(topic, (message, qos));
                }
                // An empty payload clears the retained message; its deliveries carry no model
                // message id, so the model does not count them.
                for client in 0..self.clients.len() {
                    let c = &self.clients[client];
                    if empty {
                        break;
                    }
                    if !c.has_session {
                        continue;
                    }
                    let granted: Vec<QoS> = c
                        .subscriptions
                        .iter()
                        .filter(|(f, _)| matches(FILTERS[**f], TOPICS[topic]))
                        .map(|(_, q)| *q)
                        .collect();
                    let Some(&best) = granted.iter().max() else {
                        continue;
                    };
                    // A broker may send one copy at the highest QoS, or one per subscription;
                    // for an absent client, QoS 0 may be queued or dropped.
                    self.deliver(client, message, qos.min(best), granted.len() as u32);
                }
            }
            Op::Disconnect { client } | Op::Drop { client } => {
                self.clients[client].connected = false;
                if !self.clients[client].persistent {
                    self.discard_session(client);
                }
            }
        }
        None
    }

    /// The range a client must see for a message, with `min` relaxed if its session was
    /// discarded after the guarantee was made.
    pub fn expected(&self, client: usize, message: u32) -> Range {
        let c = &self.clients[client];
        match c.deliveries.get(&message) {
            Some(r) if r.epoch < c.epoch => Range { min: 0, ..*r },
            Some(r) => *r,
            None => Range {
                min: 0,
                max: Some(0),
                epoch: c.epoch,
            },
        }
    }
}
