//! PUBLISH in both directions and the QoS 1/2 handshakes (§3.3-§3.7, §4.3, §4.9).
//!
//! Inbound QoS 2 follows the spec's Method B (Figure 4.3): the message is routed when PUBLISH
//! arrives and only its packet identifier is kept until PUBREL, so a re-sent PUBLISH is
//! acknowledged without being routed again (MQTT-4.3.3-10).
//!
//! Flow control: when a copy lands in the queue of a connected session that already holds half of
//! `max_queued_messages`, the publisher's PUBACK/PUBREC is withheld (with every later one of that
//! publisher, to keep their order) until that queue is down to a quarter. A publisher that waits
//! for its acknowledgements (every client with an in-flight window) is so slowed to the pace of
//! its slowest connected subscriber instead of overflowing its queue; messages are dropped only
//! when a queue is full all the same. If the slow session disconnects, its waiters are released.

use super::connect::is_sys_topic;
use super::message::{Delivery, Message};
use super::session::{Inflight, OutState};
use super::{Broker, ConnId};
use mqttspec_codec::{MqttString, Packet, PubAck, Publish, QoS, ReasonCode};
use std::sync::Arc;
use std::time::Instant;

impl Broker {
    pub(super) fn on_publish(&mut self, now: Instant, id: ConnId, mut p: Publish) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let v5 = conn.version.is_v5();
        let client = conn.client_id.clone();
        self.stats.publish_received += 1;
        if v5 {
            if !p.properties.subscription_identifiers.is_empty() {
                return self.protocol_error(
                    now,
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    "a client's PUBLISH may not carry a Subscription Identifier (MQTT-3.3.4-6)",
                );
            }
            if let Some(alias) = p.properties.topic_alias.take() {
                if alias == 0 || alias > self.config.limits.topic_alias_maximum {
                    // MQTT-3.3.2-8 / MQTT-3.2.2-17: 0x94 Topic Alias invalid.
                    return self.protocol_error(
                        now,
                        id,
                        ReasonCode::TOPIC_ALIAS_INVALID,
                        "topic alias out of range",
                    );
                }
                if p.topic.is_empty() {
                    match conn.aliases_in.get(&alias) {
                        Some(t) => p.topic = t.clone(),
                        None => {
                            return self.protocol_error(
                                now,
                                id,
                                ReasonCode::PROTOCOL_ERROR,
                                "topic alias not set on this connection",
                            )
                        }
                    }
                } else {
                    conn.aliases_in.insert(alias, p.topic.clone());
                }
            }
        }
        if p.qos > self.config.limits.maximum_qos {
            // v5 §3.2.2.3.4: DISCONNECT 0x9B; 3.1.1 has no way to say it, so close.
            return self.protocol_error(
                now,
                id,
                ReasonCode::QOS_NOT_SUPPORTED,
                "QoS above the maximum QoS",
            );
        }
        if p.retain && !self.config.retain_available {
            // v5 §3.2.2.3.5: DISCONNECT 0x9A.
            return self.protocol_error(
                now,
                id,
                ReasonCode::RETAIN_NOT_SUPPORTED,
                "retained messages are not supported",
            );
        }
        let pid = p.packet_id.unwrap_or(0);
        let Some(session) = self.sessions.get(&client) else {
            return;
        };
        let duplicate_qos2 = p.qos == QoS::ExactlyOnce && session.incoming_qos2.contains(&pid);
        if v5 && p.qos == QoS::ExactlyOnce && !duplicate_qos2 {
            // §3.3.4: more unacknowledged QoS 2 PUBLISHes than our Receive Maximum: 0x93.
            // (QoS 1 ones are acknowledged at once, so only QoS 2 ones are ever outstanding.)
            if session.incoming_qos2.len() >= usize::from(self.config.limits.receive_maximum) {
                return self.protocol_error(
                    now,
                    id,
                    ReasonCode::RECEIVE_MAXIMUM_EXCEEDED,
                    "receive maximum exceeded",
                );
            }
        }
        if is_sys_topic(&p.topic) {
            // Clients may not publish to $SYS/: v5 acknowledges with 0x87 Not authorized; 3.1.1
            // has no negative acknowledgement and acknowledges normally (MQTT-3.3.5-2).
            let code = if v5 {
                ReasonCode::NOT_AUTHORIZED
            } else {
                ReasonCode::SUCCESS
            };
            let why = "clients may not publish to $SYS/";
            match p.qos {
                QoS::AtMostOnce => {}
                QoS::AtLeastOnce => self.send_ack(id, Ack::Puback, pid, code, why),
                QoS::ExactlyOnce => {
                    if !v5 {
                        if let Some(s) = self.sessions.get_mut(&client) {
                            s.incoming_qos2.insert(pid);
                        }
                    }
                    self.send_ack(id, Ack::Pubrec, pid, code, why);
                }
            }
            return;
        }
        if duplicate_qos2 {
            // MQTT-4.3.3-10: acknowledge again, deliver nothing again.
            return self.send_ack(id, Ack::Pubrec, pid, ReasonCode::SUCCESS, "");
        }
        let msg = Arc::new(Message {
            expiry_interval: p.properties.message_expiry_interval,
            properties: Message::forwarded_properties(&p.properties),
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            received: now,
            publisher: Some(client.clone()),
        });
        if msg.retain {
            // MQTT-3.3.1-5/6/7; a RETAIN 0 message never touches the store (MQTT-3.3.1-8).
            self.retained.update(&msg);
        }
        let (copies, congested) = self.route(now, &msg);
        // v5: like mosquitto, 0x10 No matching subscribers when nobody got a copy.
        let code = if v5 && copies == 0 {
            ReasonCode::NO_MATCHING_SUBSCRIBERS
        } else {
            ReasonCode::SUCCESS
        };
        let kind = match p.qos {
            QoS::AtMostOnce => return,
            QoS::AtLeastOnce => Ack::Puback,
            QoS::ExactlyOnce => {
                if let Some(s) = self.sessions.get_mut(&client) {
                    s.incoming_qos2.insert(pid);
                }
                Ack::Pubrec
            }
        };
        let Some(ack) = self.ack_packet(id, kind, pid, code, "") else {
            return;
        };
        self.ack_or_hold(id, ack, congested);
    }

    /// Sends a publisher's acknowledgement, or holds it back (flow control, see the module doc).
    fn ack_or_hold(&mut self, id: ConnId, ack: Packet, congested: Option<String>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.waiting_for.is_none() {
            if let Some(slow) = congested {
                if let Some(s) = self.sessions.get_mut(&slow) {
                    s.waiters.push(id);
                    conn.waiting_for = Some(slow);
                }
            }
        }
        if conn.waiting_for.is_some() {
            conn.held_acks.push(ack);
        } else {
            self.send(id, ack);
        }
    }

    /// Sends the acknowledgements held for the publishers waiting on `client`'s session.
    pub(super) fn release_waiters(&mut self, client: &str) {
        let Some(s) = self.sessions.get_mut(client) else {
            return;
        };
        for id in std::mem::take(&mut s.waiters) {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            if conn.waiting_for.as_deref() != Some(client) {
                continue;
            }
            conn.waiting_for = None;
            for ack in std::mem::take(&mut conn.held_acks) {
                self.send(id, ack);
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
        let capacity = self.config.limits.max_queued_messages.max(1);
        if session.queue.len() >= capacity {
            self.stats.publish_dropped += 1;
            return session.conn.is_some();
        }
        session.queue.push_back(delivery);
        self.pump(now, client);
        self.sessions
            .get(client)
            .is_some_and(|s| s.conn.is_some() && s.queue.len() >= capacity.div_ceil(2))
    }

    /// Sends queued QoS 1/2 messages while the session's window allows: the client's Receive
    /// Maximum (MQTT-3.3.4-9), the configured in-flight maximum, and the write queue.
    pub(super) fn pump(&mut self, now: Instant, client: &str) {
        self.pump_queue(now, client);
        let drained = self.sessions.get(client).is_some_and(|s| {
            !s.waiters.is_empty()
                && s.queue.len() <= self.config.limits.max_queued_messages.max(1) / 4
        });
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
            let on_wire = session.inflight.iter().filter(|f| f.on_wire).count();
            if on_wire >= window || conn.unwritten >= self.config.limits.max_write_queue {
                return;
            }
            let conn_id = conn.id;
            // Re-sends after a reconnect come first, in their original order (MQTT-4.4.0-1).
            if let Some(f) = session.inflight.iter_mut().find(|f| !f.on_wire) {
                f.on_wire = true;
                let (pid, state, delivery) = (f.packet_id, f.state, f.delivery.clone());
                match state {
                    OutState::Published => {
                        // DUP: a re-delivery (MQTT-3.3.1-1). Too large: dropped as if delivered.
                        if !self.send_publish(now, conn_id, &delivery, Some(pid), true) {
                            if let Some(s) = self.sessions.get_mut(client) {
                                s.inflight.retain(|f| f.packet_id != pid);
                            }
                        }
                    }
                    OutState::Released => self.send(conn_id, Packet::Pubrel(PubAck::new(pid))),
                }
                continue;
            }
            let Some(delivery) = session.queue.pop_front() else {
                return;
            };
            if delivery.msg.expired(now) {
                // MQTT-3.3.2-5: expired before onward delivery started.
                self.stats.publish_dropped += 1;
                continue;
            }
            let Some(pid) = session.allocate_packet_id() else {
                session.queue.push_front(delivery);
                return;
            };
            if self.send_publish(now, conn_id, &delivery, Some(pid), false) {
                if let Some(s) = self.sessions.get_mut(client) {
                    s.inflight.push_back(Inflight {
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
            for f in &mut s.inflight {
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
                conn.aliases_out.insert(topic, a);
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

    pub(super) fn on_puback(&mut self, now: Instant, id: ConnId, a: PubAck) {
        let Some(client) = self.client_of(id) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&client) else {
            return;
        };
        if let Some(i) = s.inflight_index(a.packet_id) {
            if s.inflight[i].delivery.qos == QoS::AtLeastOnce {
                s.inflight.remove(i);
                self.pump(now, &client);
            }
        }
    }

    pub(super) fn on_pubrec(&mut self, now: Instant, id: ConnId, a: PubAck) {
        let Some(client) = self.client_of(id) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&client) else {
            return;
        };
        let found = s
            .inflight_index(a.packet_id)
            .filter(|&i| s.inflight[i].delivery.qos == QoS::ExactlyOnce);
        match found {
            Some(i) if a.reason_code.is_error() => {
                // MQTT-4.4.0-2: treated as acknowledged, never re-sent.
                s.inflight.remove(i);
                self.pump(now, &client);
            }
            Some(i) => {
                // MQTT-4.3.3-4.
                s.inflight[i].state = OutState::Released;
                s.inflight[i].on_wire = true;
                self.send(id, Packet::Pubrel(PubAck::new(a.packet_id)));
            }
            None => self.send_ack(
                id,
                Ack::Pubrel,
                a.packet_id,
                ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
                "unknown packet identifier",
            ),
        }
    }

    pub(super) fn on_pubrel(&mut self, _now: Instant, id: ConnId, a: PubAck) {
        let Some(client) = self.client_of(id) else {
            return;
        };
        let known = self
            .sessions
            .get_mut(&client)
            .is_some_and(|s| s.incoming_qos2.remove(&a.packet_id));
        // MQTT-4.3.3-11; after PUBCOMP the id is free for a new message (MQTT-4.3.3-12).
        let code = if known {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        self.send_ack(
            id,
            Ack::Pubcomp,
            a.packet_id,
            code,
            "unknown packet identifier",
        );
    }

    pub(super) fn on_pubcomp(&mut self, now: Instant, id: ConnId, a: PubAck) {
        let Some(client) = self.client_of(id) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&client) else {
            return;
        };
        if let Some(i) = s.inflight_index(a.packet_id) {
            if s.inflight[i].state == OutState::Released {
                s.inflight.remove(i);
                self.pump(now, &client);
            }
        }
    }

    /// Sends PUBACK/PUBREC/PUBREL/PUBCOMP. Reason codes exist only in v5; an error code comes
    /// with a reason string unless the client turned problem information off.
    fn send_ack(&mut self, id: ConnId, kind: Ack, packet_id: u16, code: ReasonCode, why: &str) {
        if let Some(ack) = self.ack_packet(id, kind, packet_id, code, why) {
            self.send(id, ack);
        }
    }

    fn ack_packet(
        &self,
        id: ConnId,
        kind: Ack,
        packet_id: u16,
        code: ReasonCode,
        why: &str,
    ) -> Option<Packet> {
        let conn = self.conns.get(&id)?;
        let v5 = conn.version.is_v5();
        let mut ack = PubAck::new(packet_id);
        if v5 {
            ack.reason_code = code;
            if code.is_error() || code == ReasonCode::PACKET_IDENTIFIER_NOT_FOUND {
                ack.properties = self.problem(id, why);
            }
        }
        Some(match kind {
            Ack::Puback => Packet::Puback(ack),
            Ack::Pubrec => Packet::Pubrec(ack),
            Ack::Pubrel => Packet::Pubrel(ack),
            Ack::Pubcomp => Packet::Pubcomp(ack),
        })
    }

    pub(super) fn client_of(&self, id: ConnId) -> Option<String> {
        self.conns
            .get(&id)
            .and_then(|c| c.active_client())
            .map(str::to_owned)
    }
}

#[derive(Clone, Copy)]
enum Ack {
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
}
