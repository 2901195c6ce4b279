//! SUBSCRIBE and UNSUBSCRIBE (§3.8-§3.11).

use super::message::Delivery;
use super::session::{StoredSub, SubOptions};
use super::{Broker, ConnId};
use mqttspec_codec::reason::V3_SUBACK_FAILURE;
use mqttspec_codec::topic::{has_wildcards, parse_shared};
use mqttspec_codec::{
    Packet, ReasonCode, RetainHandling, SubAck, Subscribe, UnsubAck, Unsubscribe,
};
use std::sync::Arc;
use std::time::Instant;

impl Broker {
    pub(super) fn on_subscribe(&mut self, now: Instant, id: ConnId, s: Subscribe) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let v5 = conn.version.is_v5();
        let client = conn.client_id.clone();
        let subscription_id = s.properties.subscription_identifiers.first().copied();
        if subscription_id.is_some() && !self.config.subscription_identifiers {
            // §3.8.2.1.2: a Protocol Error when the server said it does not support them.
            return self.protocol_error(
                now,
                id,
                ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                "subscription identifiers are not supported",
            );
        }
        let failure = |v5_code: ReasonCode| if v5 { v5_code } else { V3_SUBACK_FAILURE };
        let mut codes = Vec::with_capacity(s.filters.len());
        let mut send_retained = Vec::new();
        // MQTT-3.8.4-5: as if each filter came in its own SUBSCRIBE, answered in one SUBACK.
        for f in &s.filters {
            let (filter, group) = match parse_shared(&f.filter).filter(|_| v5) {
                Some(Ok(sf)) => (sf.filter.to_owned(), Some(sf.group.to_owned())),
                Some(Err(_)) => {
                    codes.push(failure(ReasonCode::TOPIC_FILTER_INVALID));
                    continue;
                }
                None => (f.filter.to_string(), None),
            };
            if group.is_some() && !self.config.shared_subscriptions {
                codes.push(ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
                continue;
            }
            if has_wildcards(&filter) && !self.config.wildcard_subscriptions {
                // 3.1.1 MQTT-3.8.3-2; v5 0xA2.
                codes.push(failure(ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED));
                continue;
            }
            // MQTT-3.8.4-7 / 3.1.1 MQTT-3.8.4-6: the server may grant less than requested.
            let granted = f.qos.min(self.config.limits.maximum_qos);
            let options = SubOptions {
                qos: granted,
                no_local: f.no_local,
                retain_as_published: f.retain_as_published,
                retain_handling: f.retain_handling,
                subscription_id,
            };
            let Some(session) = self.sessions.get_mut(&client) else {
                return;
            };
            // MQTT-3.8.4-3: an identical filter replaces the existing subscription.
            let stored = StoredSub {
                filter: filter.clone(),
                group: group.clone(),
                options: options.clone(),
            };
            let existed = session
                .subscriptions
                .insert(f.filter.to_string(), stored)
                .is_some();
            self.router
                .insert(&client, &filter, group.as_deref(), options.clone());
            self.mark_session(&client);
            codes.push(ReasonCode(granted as u8));
            // Retained messages: never for shared subscriptions (§4.8.2); otherwise as Retain
            // Handling says (MQTT-3.3.1-9/10/11; always in 3.1.1, 3.1.1 MQTT-3.3.1-6).
            let wanted = match options.retain_handling {
                RetainHandling::OnSubscribe => true,
                RetainHandling::OnNewSubscription => !existed,
                RetainHandling::Never => false,
            };
            if group.is_none() && wanted {
                send_retained.push((filter, options));
            }
        }
        let properties = match codes.iter().any(|c| c.is_error()) {
            true => self.problem(id, "one or more subscriptions failed"),
            false => Default::default(),
        };
        // MQTT-3.8.4-1/2, MQTT-3.9.3-1: one code per filter, in order. Sent before the retained
        // messages, like mosquitto.
        self.send(
            id,
            Packet::Suback(SubAck {
                packet_id: s.packet_id,
                properties: properties.into(),
                reason_codes: codes,
            }),
        );
        for (filter, options) in send_retained {
            for msg in self.retained.matching(&filter, now) {
                let delivery = Delivery {
                    qos: msg.qos.min(options.qos),
                    msg: Arc::clone(&msg),
                    // Sent because of a new subscription: RETAIN 1 (v5 §3.3.1.3, 3.1.1 MQTT-3.3.1-8).
                    retain: true,
                    subscription_ids: options.subscription_id.into_iter().collect(),
                };
                self.enqueue(now, &client, delivery);
            }
        }
    }

    pub(super) fn on_unsubscribe(&mut self, _now: Instant, id: ConnId, u: Unsubscribe) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let v5 = conn.version.is_v5();
        let client = conn.client_id.clone();
        let Some(session) = self.sessions.get_mut(&client) else {
            return;
        };
        let mut codes = Vec::with_capacity(u.filters.len());
        // MQTT-3.10.4-1: compared character by character; MQTT-3.10.4-6: one UNSUBACK.
        for f in &u.filters {
            match session.subscriptions.remove(f.as_str()) {
                Some(s) => {
                    self.router.remove(&client, &s.filter, s.group.as_deref());
                    if let Some(t) = &mut self.persist {
                        t.mark(&client);
                    }
                    codes.push(ReasonCode::SUCCESS);
                }
                None => codes.push(ReasonCode::NO_SUBSCRIPTION_EXISTED),
            }
        }
        // MQTT-3.10.4-4/5; 3.1.1 UNSUBACK has no codes.
        self.send(
            id,
            Packet::Unsuback(UnsubAck {
                packet_id: u.packet_id,
                properties: Default::default(),
                reason_codes: if v5 { codes } else { Vec::new() },
            }),
        );
    }
}
