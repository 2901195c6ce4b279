//! CONNECT and CONNACK (§3.1, §3.2), session takeover, and DISCONNECT (§3.14).

use super::conn::ConnState;
use super::session::{Session, StoredWill};
use super::timers::Timer;
use super::{Broker, CloseReason, ConnId};
use mqttspec_codec::reason::v3_connack;
use mqttspec_codec::reason::ReasonContext;
use mqttspec_codec::{
    Connack, Connect, DecodeError, Disconnect, ErrorKind, MqttString, Packet, Properties,
    ProtocolVersion, QoS, ReasonCode, MAX_PACKET_SIZE,
};
use std::time::{Duration, Instant};

impl Broker {
    pub(super) fn on_connect(&mut self, now: Instant, id: ConnId, c: Connect) {
        let version = c.protocol;
        let v5 = version.is_v5();
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.version = version;
            if v5 {
                // Known before any CONNACK, refusals included: a refusing CONNACK drops its
                // Reason String to fit (MQTT-3.2.2-19, MQTT-3.2.2-20).
                conn.max_packet_size = c.properties.maximum_packet_size.unwrap_or(u32::MAX);
            }
        }
        // No enhanced authentication method is supported (MQTT-4.12.0-1: 0x8C).
        if v5 && c.properties.authentication_method.is_some() {
            return self.refuse(
                now,
                id,
                ReasonCode::BAD_AUTHENTICATION_METHOD,
                v3_connack::NOT_AUTHORIZED,
                "no authentication method is supported",
            );
        }
        if let Some(users) = &self.config.users {
            let ok = match (&c.username, &c.password) {
                (Some(u), Some(p)) => users.get(u.as_str()).is_some_and(|pw| pw.as_bytes() == p),
                _ => false,
            };
            if !ok {
                return self.refuse(
                    now,
                    id,
                    ReasonCode::BAD_USER_NAME_OR_PASSWORD,
                    v3_connack::BAD_USER_NAME_OR_PASSWORD,
                    "bad user name or password",
                );
            }
        }
        let mut assigned = None;
        let client_id = if c.client_id.is_empty() {
            // 3.1.1 MQTT-3.1.3-8: an empty id with CleanSession 0 is rejected; MQTT 3.1 needs an id.
            if version == ProtocolVersion::V3_1 || (!v5 && !c.clean_start) {
                return self.refuse(
                    now,
                    id,
                    ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                    v3_connack::IDENTIFIER_REJECTED,
                    "empty client identifier",
                );
            }
            // MQTT-3.1.3-6/7, MQTT-3.2.2-16: assign a unique one (and tell v5 clients).
            let new = self.assign_client_id();
            if v5 {
                assigned = Some(new.clone());
            }
            new
        } else if version == ProtocolVersion::V3_1 && c.client_id.len() > 23 {
            return self.refuse(
                now,
                id,
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                v3_connack::IDENTIFIER_REJECTED,
                "MQTT 3.1 client identifiers are at most 23 bytes",
            );
        } else {
            c.client_id.to_string()
        };
        let max_qos = self.config.limits.maximum_qos;
        let mut will = c.will.clone();
        if let Some(w) = &mut will {
            if w.qos > max_qos {
                if v5 {
                    // MQTT-3.2.2-12.
                    return self.refuse(
                        now,
                        id,
                        ReasonCode::QOS_NOT_SUPPORTED,
                        v3_connack::NOT_AUTHORIZED,
                        "will QoS exceeds the maximum QoS",
                    );
                }
                w.qos = max_qos;
            }
            if w.retain && !self.config.retain_available {
                if v5 {
                    // MQTT-3.2.2-13.
                    return self.refuse(
                        now,
                        id,
                        ReasonCode::RETAIN_NOT_SUPPORTED,
                        v3_connack::NOT_AUTHORIZED,
                        "retained messages are not supported",
                    );
                }
                w.retain = false;
            }
        }
        let old_conn = self.sessions.get(&client_id).and_then(|s| s.conn);
        if old_conn.is_none() && self.connected_clients() >= self.config.limits.max_connections {
            return self.refuse(
                now,
                id,
                ReasonCode::SERVER_BUSY,
                v3_connack::SERVER_UNAVAILABLE,
                "too many connections",
            );
        }
        let requested_expiry = if v5 {
            c.properties.session_expiry_interval.unwrap_or(0)
        } else if c.clean_start {
            0
        } else {
            u32::MAX
        };
        let expiry = if v5 {
            self.cap_expiry(requested_expiry)
        } else {
            requested_expiry
        };
        let properties = if v5 {
            self.connack_properties(requested_expiry, expiry, assigned)
        } else {
            Properties::default()
        };
        let connack = Connack {
            session_present: false,
            reason_code: ReasonCode::SUCCESS,
            properties: properties.into(),
        };
        let max_packet_size = c.properties.maximum_packet_size.unwrap_or(u32::MAX);
        if v5 && Packet::Connack(connack.clone()).encoded_len(version) > max_packet_size as usize {
            // Nothing larger than the client's Maximum Packet Size may be sent (MQTT-3.1.2-24)
            // and nothing but a CONNACK may come first (MQTT-3.2.0-1): the connection cannot be
            // set up, and is closed before it touches any session.
            tracing::debug!(%id, max_packet_size, "CONNACK exceeds the client's Maximum Packet Size");
            self.close(now, id, CloseReason::ConnectRefused, false);
            return;
        }
        if let Some(old) = old_conn {
            // MQTT-3.1.4-3 (3.1.1 MQTT-3.1.4-2): the existing connection is closed, told why in
            // v5 (0x8E); its will follows the usual rules (published unless the new connection
            // resumes the session before the will delay ends, MQTT-3.1.3-9).
            tracing::debug!(client = %client_id, %old, new = %id, "session taken over");
            self.send_disconnect(
                old,
                ReasonCode::SESSION_TAKEN_OVER,
                "another connection uses this client identifier",
            );
            self.close(now, old, CloseReason::SessionTakenOver, true);
        }
        if c.clean_start && self.sessions.contains_key(&client_id) {
            // MQTT-3.1.2-4 (3.1.1 MQTT-3.1.2-6): discard the old session.
            self.end_session(now, &client_id);
        }
        let session_present = self.sessions.contains_key(&client_id);
        let session = self
            .sessions
            .entry(client_id.clone())
            .or_insert_with(|| Box::new(Session::new(version)));
        session.conn = Some(id);
        session.generation += 1;
        session.version = version;
        session.expiry = expiry;
        session.will_due = None;
        session.will = will.map(|w| {
            Box::new(StoredWill {
                delay: if v5 {
                    w.properties.will_delay_interval.unwrap_or(0)
                } else {
                    0
                },
                will: w,
            })
        });
        self.mark_session(&client_id);

        let keep_alive = match self.config.server_keep_alive {
            Some(k) if v5 => k,
            _ => c.keep_alive,
        };
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.state = ConnState::Active;
        self.active += 1;
        conn.client_id = client_id.clone();
        conn.keep_alive = keep_alive;
        conn.last_packet = now;
        if v5 {
            let p = &c.properties;
            conn.receive_maximum = p.receive_maximum.unwrap_or(u16::MAX);
            conn.max_packet_size = p.maximum_packet_size.unwrap_or(u32::MAX);
            conn.topic_alias_maximum = p.topic_alias_maximum.unwrap_or(0);
            conn.problem_info = p.request_problem_information != Some(0);
            conn.connect_expiry_zero = requested_expiry == 0;
        }
        self.send(
            id,
            Packet::Connack(Connack {
                session_present,
                ..connack
            }),
        );
        if keep_alive > 0 {
            let deadline = now + Duration::from_millis(u64::from(keep_alive) * 1500);
            self.timers.push(deadline, Timer::KeepAlive(id));
        }
        tracing::debug!(%id, client = %client_id, %version, session_present, "connected");
        self.resume(now, &client_id);
    }

    pub(super) fn cap_expiry(&self, requested: u32) -> u32 {
        match self.config.limits.session_expiry_maximum {
            Some(max) => requested.min(max),
            None => requested,
        }
    }

    /// What a v5 CONNACK tells the client about this server (§3.2.2.3).
    fn connack_properties(
        &self,
        requested_expiry: u32,
        expiry: u32,
        assigned: Option<String>,
    ) -> Properties {
        let cfg = &self.config;
        let l = &cfg.limits;
        let off = |on: bool| (!on).then_some(0);
        Properties {
            session_expiry_interval: (expiry != requested_expiry).then_some(expiry),
            receive_maximum: (l.receive_maximum != u16::MAX).then_some(l.receive_maximum),
            maximum_qos: (l.maximum_qos != QoS::ExactlyOnce).then_some(l.maximum_qos as u8),
            retain_available: off(cfg.retain_available),
            maximum_packet_size: (l.max_packet_size < MAX_PACKET_SIZE).then_some(l.max_packet_size),
            assigned_client_identifier: assigned.map(MqttString::from),
            topic_alias_maximum: (l.topic_alias_maximum > 0).then_some(l.topic_alias_maximum),
            wildcard_subscription_available: off(cfg.wildcard_subscriptions),
            subscription_identifier_available: off(cfg.subscription_identifiers),
            shared_subscription_available: off(cfg.shared_subscriptions),
            server_keep_alive: cfg.server_keep_alive,
            ..Properties::default()
        }
    }

    fn assign_client_id(&mut self) -> String {
        loop {
            self.next_assigned_id += 1;
            let id = format!("mqttspec-{:012x}", self.next_assigned_id);
            if !self.sessions.contains_key(&id) {
                return id;
            }
        }
    }

    /// Refuses a CONNECT with a CONNACK carrying `v5` or `v3` (per the connection's version),
    /// session present 0 (MQTT-3.2.2-6), then closes (MQTT-3.2.2-7).
    pub(super) fn refuse(
        &mut self,
        now: Instant,
        id: ConnId,
        v5: ReasonCode,
        v3: ReasonCode,
        why: &str,
    ) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        tracing::debug!(%id, why, "CONNECT refused");
        let connack = if conn.version.is_v5() {
            Connack {
                session_present: false,
                reason_code: v5,
                properties: Properties {
                    reason_string: Some(MqttString::from(why)),
                    ..Properties::default()
                }
                .into(),
            }
        } else {
            Connack {
                session_present: false,
                reason_code: v3,
                properties: Default::default(),
            }
        };
        self.send(id, Packet::Connack(connack));
        self.close(now, id, CloseReason::ConnectRefused, false);
    }

    /// A CONNECT that failed to decode. A wrong protocol name is closed silently (3.1.1
    /// MQTT-3.1.2-1 allows it; v5 MQTT-3.1.2-1 makes the CONNACK optional); an unsupported level
    /// gets CONNACK 0x01 in the 3.1.1 form (3.1.1 MQTT-3.1.2-2); any other broken 3.1.1 CONNECT is
    /// closed without CONNACK (3.1.1 MQTT-3.1.4-1), and a broken v5 CONNECT gets a CONNACK with
    /// the error's reason code (v5 §4.13.1), then the connection is closed.
    pub(super) fn refuse_broken_connect(
        &mut self,
        now: Instant,
        id: ConnId,
        error: &DecodeError,
        version: Option<ProtocolVersion>,
    ) {
        match error.kind {
            ErrorKind::InvalidProtocolName => {}
            ErrorKind::UnsupportedProtocolLevel(_) => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.version = ProtocolVersion::V3_1_1;
                }
                self.send(
                    id,
                    Packet::Connack(Connack {
                        session_present: false,
                        reason_code: v3_connack::UNACCEPTABLE_PROTOCOL_VERSION,
                        properties: Default::default(),
                    }),
                );
            }
            _ if version == Some(ProtocolVersion::V5) => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.version = ProtocolVersion::V5;
                }
                let mut code = error.reason_code();
                if !code.is_valid_for(ReasonContext::Connack, true) {
                    code = ReasonCode::MALFORMED_PACKET;
                }
                let properties = Properties {
                    reason_string: Some(MqttString::from(error.to_string())),
                    ..Properties::default()
                };
                self.send(
                    id,
                    Packet::Connack(Connack {
                        session_present: false,
                        reason_code: code,
                        properties: properties.into(),
                    }),
                );
            }
            _ => {}
        }
        self.close(now, id, CloseReason::ProtocolError, false);
    }

    pub(super) fn on_disconnect(&mut self, now: Instant, id: ConnId, d: Disconnect) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let v5 = conn.version.is_v5();
        let client = conn.client_id.clone();
        if v5 {
            if let Some(new) = d.properties.session_expiry_interval {
                if conn.connect_expiry_zero && new != 0 {
                    // §3.14.2.2.2: not a valid DISCONNECT; Protocol Error, and the will stands.
                    return self.protocol_error(
                        now,
                        id,
                        ReasonCode::PROTOCOL_ERROR,
                        "session expiry interval set at DISCONNECT after 0 at CONNECT",
                    );
                }
                let capped = self.cap_expiry(new);
                if let Some(s) = self.sessions.get_mut(&client) {
                    s.expiry = capped;
                }
            }
        }
        // MQTT-3.14.4-3: only a normal DISCONNECT (0x00) discards the will. v5 0x04 asks for it,
        // and so does any other code: an error ends the connection abnormally (MQTT-3.1.2-8).
        let will = v5 && d.reason_code != ReasonCode::SUCCESS;
        self.close(now, id, CloseReason::ClientDisconnect, will);
    }
}

/// Topics under `$SYS/` belong to the broker.
pub(super) fn is_sys_topic(topic: &str) -> bool {
    topic == "$SYS" || topic.starts_with("$SYS/")
}
