//! The end of connections and sessions: wills (with their delay), session expiry.

use super::connect::is_sys_topic;
use super::message::Message;
use super::session::StoredWill;
use super::timers::Timer;
use super::{Broker, ConnId};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Broker {
    /// Forgets connection `id`. If it was bound to a session, the session is detached: its will
    /// is published now or scheduled (`will`), and the session ends now or is scheduled to expire.
    pub(super) fn drop_connection(&mut self, now: Instant, id: ConnId, will: bool) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        let Some(client) = conn.active_client().map(str::to_owned) else {
            return;
        };
        self.active = self.active.saturating_sub(1);
        let Some(session) = self.sessions.get_mut(&client) else {
            return;
        };
        if session.conn != Some(id) {
            return;
        }
        session.conn = None;
        session.generation += 1;
        let generation = session.generation;
        // Publishers waiting for this client to catch up wait no longer (flow control).
        self.release_waiters(&client);
        self.mark_session(&client);
        let Some(session) = self.sessions.get_mut(&client) else {
            return;
        };
        if !will {
            session.will = None;
        }
        let expiry = session.expiry;
        if let Some(w) = &session.will {
            // MQTT-3.1.2-8: after the Will Delay Interval or when the session ends, whichever
            // comes first.
            let delay = if expiry == 0 { 0 } else { w.delay.min(expiry) };
            if delay == 0 {
                self.publish_will(now, &client);
            } else {
                let due = now + Duration::from_secs(u64::from(delay));
                if let Some(s) = self.sessions.get_mut(&client) {
                    s.will_due = Some(due);
                }
                self.timers
                    .push(due, Timer::Will(client.clone(), generation));
            }
        }
        if expiry == 0 {
            self.end_session(now, &client);
        } else if expiry != u32::MAX {
            let at = now + Duration::from_secs(u64::from(expiry));
            self.timers.push(at, Timer::Expiry(client, generation));
        }
    }

    /// Removes a session and its subscriptions; a will still waiting for its delay is published
    /// now, since the session ends first (MQTT-3.1.2-8).
    pub(super) fn end_session(&mut self, now: Instant, client: &str) {
        let Some(mut session) = self.sessions.remove(client) else {
            return;
        };
        tracing::debug!(client, "session ended");
        self.mark_session(client);
        for id in session.take_waiters() {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            if let Some(acks) = conn.stop_waiting_for(client) {
                for ack in acks {
                    self.send(id, ack);
                }
            }
        }
        for s in session.subscriptions.values() {
            self.router.remove(client, &s.filter, s.group.as_deref());
        }
        if session.will_due.is_some() {
            if let Some(w) = session.will {
                self.publish_will_message(now, client, *w);
            }
        }
    }

    pub(super) fn will_timer(&mut self, now: Instant, client: &str, generation: u64) {
        let due = self.sessions.get(client).is_some_and(|s| {
            s.generation == generation && s.conn.is_none() && s.will_due.is_some_and(|d| d <= now)
        });
        if due {
            self.publish_will(now, client);
        }
    }

    pub(super) fn expiry_timer(&mut self, now: Instant, client: &str, generation: u64) {
        let expired = self
            .sessions
            .get(client)
            .is_some_and(|s| s.generation == generation && s.conn.is_none());
        if expired {
            self.end_session(now, client);
        }
    }

    /// Publishes and removes the session's will (MQTT-3.1.2-10).
    pub(super) fn publish_will(&mut self, now: Instant, client: &str) {
        let Some(session) = self.sessions.get_mut(client) else {
            return;
        };
        session.will_due = None;
        if let Some(w) = session.will.take() {
            self.mark_session(client);
            self.publish_will_message(now, client, *w);
        }
    }

    fn publish_will_message(&mut self, now: Instant, client: &str, w: StoredWill) {
        let w = w.will;
        if is_sys_topic(&w.topic) {
            tracing::debug!(client, "will to $SYS/ dropped");
            return;
        }
        tracing::debug!(client, topic = %w.topic, "publishing will");
        let msg = Arc::new(Message {
            topic: w.topic,
            payload: w.payload,
            qos: w.qos,
            // MQTT-3.1.2-14/15 (3.1.1 MQTT-3.1.2-16/17).
            retain: w.retain,
            properties: Message::forwarded_properties(&w.properties),
            expiry_interval: w.properties.message_expiry_interval,
            received: now,
            publisher: Some(client.to_owned()),
        });
        if msg.retain {
            self.retained.update(&msg);
            self.mark_retained(&msg.topic);
        }
        self.route(now, &msg);
    }
}
