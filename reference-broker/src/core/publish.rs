//! Inbound PUBLISH and the QoS 1/2 acknowledgements in both directions (§3.3-§3.7, §4.3).
//!
//! Inbound QoS 2 follows the spec's Method B (Figure 4.3): the message is routed when PUBLISH
//! arrives and only its packet identifier is kept until PUBREL, so a re-sent PUBLISH is
//! acknowledged without being routed again (MQTT-4.3.3-10).

use super::connect::is_sys_topic;
use super::message::Message;
use super::session::OutState;
use super::{Broker, ConnId};
use mqttspec_codec::{Packet, PubAck, Publish, QoS, ReasonCode};
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
                    match conn.extras().aliases_in.get(&alias) {
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
                    conn.extras_mut().aliases_in.insert(alias, p.topic.clone());
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
        let duplicate_qos2 =
            p.qos == QoS::ExactlyOnce && session.flow().incoming_qos2.contains(&pid);
        if v5 && p.qos == QoS::ExactlyOnce && !duplicate_qos2 {
            // §3.3.4: more unacknowledged QoS 2 PUBLISHes than our Receive Maximum: 0x93.
            // (QoS 1 ones are acknowledged at once, or held back for flow control while the
            // client's own window stops it, so only QoS 2 ones are counted.)
            let outstanding = self
                .conns
                .get(&id)
                .map_or(0, |c| c.extras().qos2_received.len());
            if outstanding >= usize::from(self.config.limits.receive_maximum) {
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
                            s.flow_mut().incoming_qos2.insert(pid);
                        }
                        self.mark_session(&client);
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
        let msg = Arc::new(Message::from_publish(p, now, Some(client.clone())));
        if msg.retain {
            // MQTT-3.3.1-5/6/7; a RETAIN 0 message never touches the store (MQTT-3.3.1-8).
            self.retained.update(&msg);
            self.mark_retained(&msg.topic);
        }
        let (copies, congested) = self.route(now, &msg);
        // v5: like mosquitto, 0x10 No matching subscribers when nobody got a copy.
        let code = if v5 && copies == 0 {
            ReasonCode::NO_MATCHING_SUBSCRIBERS
        } else {
            ReasonCode::SUCCESS
        };
        let kind = match msg.qos {
            QoS::AtMostOnce => return,
            QoS::AtLeastOnce => Ack::Puback,
            QoS::ExactlyOnce => {
                if let Some(s) = self.sessions.get_mut(&client) {
                    s.flow_mut().incoming_qos2.insert(pid);
                }
                self.mark_session(&client);
                if let Some(c) = self.conns.get_mut(&id) {
                    c.extras_mut().qos2_received.insert(pid);
                }
                Ack::Pubrec
            }
        };
        let Some(ack) = self.ack_packet(id, kind, pid, code, "") else {
            return;
        };
        self.ack_or_hold(id, ack, congested);
    }

    pub(super) fn on_puback(&mut self, now: Instant, id: ConnId, a: PubAck) {
        let Some(client) = self.client_of(id) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&client) else {
            return;
        };
        if let Some(i) = s.inflight_index(a.packet_id) {
            if s.flow().inflight[i].delivery.qos == QoS::AtLeastOnce {
                s.flow_mut().inflight.remove(i);
                self.mark_session(&client);
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
            .filter(|&i| s.flow().inflight[i].delivery.qos == QoS::ExactlyOnce);
        match found {
            Some(i) if a.reason_code.is_error() => {
                // MQTT-4.4.0-2: treated as acknowledged, never re-sent.
                s.flow_mut().inflight.remove(i);
                self.mark_session(&client);
                self.pump(now, &client);
            }
            Some(i) => {
                // MQTT-4.3.3-4.
                s.flow_mut().inflight[i].state = OutState::Released;
                s.flow_mut().inflight[i].on_wire = true;
                self.mark_session(&client);
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
        if let Some(e) = self.conns.get_mut(&id).and_then(|c| c.extras.as_mut()) {
            e.qos2_received.remove(&a.packet_id);
        }
        let known = self.sessions.get_mut(&client).is_some_and(|s| {
            s.flow_if_any()
                .is_some_and(|f| f.incoming_qos2.remove(&a.packet_id))
        });
        if known {
            self.mark_session(&client);
        }
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
            if s.flow().inflight[i].state == OutState::Released {
                s.flow_mut().inflight.remove(i);
                self.mark_session(&client);
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

    pub(super) fn ack_packet(
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
                ack.properties = self.problem(id, why).into();
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
pub(super) enum Ack {
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
}
