//! Outbound delivery (§3.3, §4.3, §4.9): routing a message to the sessions that get a copy,
//! session queues, the in-flight window, re-sending after a reconnect, and flow control.
//!
//! Flow control: when a copy lands in the queue of a connected session that already holds
//! [`Broker::hold_mark`] messages, the publisher's PUBACK/PUBREC is withheld (with every later one
//! of that publisher, to keep their order) until that queue is down to half the mark. A publisher
//! that waits for its acknowledgements (every client with an in-flight window) is so slowed to the
//! pace of its slowest connected subscriber instead of overflowing its queue; messages are dropped
//! only when a queue is full all the same. If the slow session disconnects, its waiters are
//! released. The mark is a few in-flight windows deep, not a fraction of the whole queue: a
//! message waits behind every message queued before it, so a deep standing queue is latency.

use super::message::{Delivery, Message};
use super::session::{Inflight, OutState};
use super::{Broker, ConnId};
use mqttspec_codec::{MqttString, Packet, PubAck, QoS};
use std::sync::Arc;
use std::time::Instant;

impl Broker {
    /// The queue depth from which publishers are held back: four in-flight windows (enough to
    /// keep the subscriber's window full while the publisher's next messages arrive), at most
    /// half of `max_queued_messages`, at least 1.
    pub(super) fn hold_mark(&self) -> usize {
        let l = &self.config.limits;
        (usize::from(l.max_inflight) * 4)
            .min(l.max_queued_messages.max(1).div_ceil(2))
            .max(1)
    }

    /// Sends a publisher's acknowledgement, or holds it back (flow control, see the module doc).
    pub(super) fn ack_or_hold(&mut self, id: ConnId, ack: Packet, congested: Option<String>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.extras().waiting_for.is_none() {
            if let Some(slow) = congested {
                if let Some(s) = self.sessions.get_mut(&slow) {
                    s.flow_mut().waiters.push(id);
                    conn.extras_mut().waiting_for = Some(slow);
                }
            }
        }
        if conn.extras().waiting_for.is_some() {
            conn.extras_mut().held_acks.push(ack);
        } else {
            self.send(id, ack);
        }
    }

    /// Sends the acknowledgements held for the publishers waiting on `client`'s session.
    pub(super) fn release_waiters(&mut self, client: &str) {
        let Some(s) = self.sessions.get_mut(client) else {
            return;
        };
        for id in s.take_waiters() {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            if let Some(acks) = conn.stop_waiting_for(client) {
                for ack in acks {
                    self.send(id, ack);
                }
            }
        }
    }

    /// Gives a copy of `msg` to every matching subscription; returns how many copies, and a
    /// connected session whose queue is filling up, if any (flow control).
    pub(super) fn route(&mut self, now: Instant, msg: &Arc<Message>) -> (usize, Option<String>) {
        let sessions = &self.sessions;
        let connected = |c: &str| sessions.get(c).is_some_and(|s| s.conn.is_some());
        let targets = self
            .router
            .route(&msg.topic, msg.publisher.as_deref(), &connected);
        let copies = targets.len();
        let mut congested = None;
        for t in targets {
            let delivery = Delivery {
                msg: Arc::clone(msg),
                // MQTT-3.8.4-8: the minimum of the message's QoS and the granted QoS.
                qos: msg.qos.min(t.qos),
                // MQTT-3.3.1-12/13 (v5 Retain As Published); always 0 in 3.1.1 (MQTT-3.3.1-9).
                retain: msg.retain && t.retain_as_published,
                subscription_ids: t.subscription_ids,
            };
            if self.enqueue(now, &t.client, delivery) && congested.is_none() {
                congested = Some(t.client);
            }
        }
        (copies, congested)
    }

    /// Hands one copy to a session: QoS 0 is sent now if the client is connected and reading
    /// (else dropped); QoS 1/2 join the session queue (bounded) and go out as the window allows.
    /// Returns whether the session is connected and its queue is past the flow-control mark.
    pub(super) fn enqueue(&mut self, now: Instant, client: &str, delivery: Delivery) -> bool {
        let capacity = self.config.limits.max_queued_messages.max(1);
        let mark = self.hold_mark();
        let Some(session) = self.sessions.get_mut(client) else {
            return false;
        };
        if delivery.qos == QoS::AtMostOnce {
            let conn = session.conn.filter(|c| {
                self.conns
                    .get(c)
                    .is_some_and(|c| c.unwritten < self.config.limits.max_write_queue)
            });
            match conn {
                Some(c) => {
                    self.send_publish(now, c, &delivery, None, false);
                }
                None => self.stats.publish_dropped += 1,
            }
            return false;
        }
        if session.flow().queue.len() >= capacity {
            self.stats.publish_dropped += 1;
            return session.conn.is_some();
        }
        session.flow_mut().queue.push_back(delivery);
        self.mark_session(client);
        self.pump(now, client);
        self.sessions
            .get(client)
            .is_some_and(|s| s.conn.is_some() && s.flow().queue.len() >= mark)
    }

    /// Sends queued QoS 1/2 messages while the session's window allows: the client's Receive
    /// Maximum (MQTT-3.3.4-9), the configured in-flight maximum, and the write queue.
    pub(super) fn pump(&mut self, now: Instant, client: &str) {
        self.pump_queue(now, client);
        let release = self.hold_mark() / 2;
        let drained = self
            .sessions
            .get(client)
            .is_some_and(|s| !s.flow().waiters.is_empty() && s.flow().queue.len() <= release);
        if drained {
            self.release_waiters(client);
        }
    }

    fn pump_queue(&mut self, now: Instant, client: &str) {
        loop {
            let Some(session) = self.sessions.get_mut(client) else {
                return;
            };
            let Some(conn) = session.conn.and_then(|c| self.conns.get(&c)) else {
                return;
            };
            // §4.9: PUBLISHes (and PUBRELs) sent on this connection and not yet completed count
            // against the client's Receive Maximum.
            let window = usize::from(conn.receive_maximum.min(self.config.limits.max_inflight));
            let on_wire = session.flow().inflight.iter().filter(|f| f.on_wire).count();
            if on_wire >= window || conn.unwritten >= self.config.limits.max_write_queue {
                return;
            }
            let conn_id = conn.id;
            // Re-sends after a reconnect come first, in their original order (MQTT-4.4.0-1).
            if let Some(f) = session
                .flow_if_any()
                .and_then(|fl| fl.inflight.iter_mut().find(|f| !f.on_wire))
            {
                f.on_wire = true;
                let (pid, state, delivery) = (f.packet_id, f.state, f.delivery.clone());
                match state {
                    OutState::Published => {
                        // DUP: a re-delivery (MQTT-3.3.1-1). Too large: dropped as if delivered.
                        if !self.send_publish(now, conn_id, &delivery, Some(pid), true) {
                            if let Some(s) = self.sessions.get_mut(client) {
                                s.flow_mut().inflight.retain(|f| f.packet_id != pid);
                            }
                            self.mark_session(client);
                        }
                    }
                    OutState::Released => self.send(conn_id, Packet::Pubrel(PubAck::new(pid))),
                }
                continue;
            }
            let Some(delivery) = session.flow_if_any().and_then(|f| f.queue.pop_front()) else {
                return;
            };
            // `mark_session` by hand: `session` is still borrowed.
            if let Some(t) = &mut self.persist {
                t.mark(client);
            }
            if delivery.msg.expired(now) {
                // MQTT-3.3.2-5: expired before onward delivery started.
                self.stats.publish_dropped += 1;
                continue;
            }
            let Some(pid) = session.allocate_packet_id() else {
                session.flow_mut().queue.push_front(delivery);
                return;
            };
            if self.send_publish(now, conn_id, &delivery, Some(pid), false) {
                if let Some(s) = self.sessions.get_mut(client) {
                    s.flow_mut().inflight.push_back(Inflight {
                        packet_id: pid,
                        state: OutState::Published,
                        delivery,
                        on_wire: true,
                    });
                }
            }
        }
    }

    /// On a session's new connection: re-send unacknowledged PUBLISHes with DUP set and PUBRELs,
    /// with their original packet identifiers (MQTT-4.4.0-1, MQTT-3.3.1-1), then the queue.
    pub(super) fn resume(&mut self, now: Instant, client: &str) {
        if let Some(s) = self.sessions.get_mut(client) {
            for f in s.flow_if_any().into_iter().flat_map(|fl| &mut fl.inflight) {
                f.on_wire = false;
            }
        }
        self.pump(now, client);
    }

    /// Sends one PUBLISH, with a topic alias when the client allows them (the first
    /// `topic_alias_maximum` topics get one, MQTT-3.1.2-26/27). Returns false if it is larger
    /// than the client's Maximum Packet Size: then it is discarded as if sent (MQTT-3.1.2-25).
    pub(super) fn send_publish(
        &mut self,
        now: Instant,
        id: ConnId,
        delivery: &Delivery,
        packet_id: Option<u16>,
        dup: bool,
    ) -> bool {
        let Some(conn) = self.conns.get_mut(&id) else {
            return false;
        };
        let mut publish = delivery.to_publish(packet_id, dup, now);
        let version = conn.version;
        if version.is_v5() {
            let alias = conn.alias_for(&publish.topic);
            let topic = publish.topic.clone();
            if let Some((a, new)) = alias {
                publish.properties.topic_alias = Some(a);
                if !new {
                    publish.topic = MqttString::new();
                }
            }
            let packet = Packet::Publish(publish);
            if packet.encoded_len(version) > conn.max_packet_size as usize {
                tracing::debug!(%id, "PUBLISH larger than the client's maximum: discarded");
                self.stats.publish_dropped += 1;
                return false;
            }
            if let Some((a, true)) = alias {
                conn.extras_mut().aliases_out.insert(topic, a);
            }
            self.stats.publish_sent += 1;
            self.send(id, packet);
        } else {
            publish.properties = Default::default();
            self.stats.publish_sent += 1;
            self.send(id, Packet::Publish(publish));
        }
        true
    }
}
