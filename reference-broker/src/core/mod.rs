//! The sans-IO broker core: a deterministic state machine with no sockets, no tokio and no clock.
//!
//! Its whole surface, in the style of quinn-proto:
//! - [`Broker::handle`]`(now, input)`: a connection opened, a packet arrived, bytes failed to
//!   decode, packets were written, a connection closed, or time passed ([`Input`]);
//! - [`Broker::poll_output`]: what to do next ([`Output`]: send a packet, close a connection,
//!   persist a record when `Config::persistence` is set);
//! - [`Broker::restore`]: rebuild retained messages and sessions from persisted records;
//! - [`Broker::poll_timeout`]: when the core next needs [`Input::Tick`].
//!
//! Time only ever comes in as a value, so keep-alive (1.5x), will delay, session expiry and message
//! expiry are tested by advancing a virtual clock (see `tests/`).
//!
//! # Layout
//! - `conn.rs`: one network connection (version, limits the client announced,
//!   topic aliases, keep-alive, write window).
//! - `session.rs`: the session state that outlives connections (subscriptions, in-flight and
//!   queued messages, QoS 2 receive state, will, expiry).
//! - `message.rs`: an application message as stored, and how it becomes an outgoing PUBLISH.
//! - `router.rs`: the subscription index and the matching of a topic to its deliveries.
//! - `retained.rs`: the retained-message store.
//! - `small_map.rs`: the ordered map of a session's subscriptions and of a filter's subscribers.
//! - `connect.rs`: CONNECT, CONNACK, takeover, DISCONNECT.
//! - `lifecycle.rs`: the end of connections and sessions: wills, will delay, session expiry.
//! - `publish.rs`: inbound PUBLISH and the QoS 1/2 acknowledgement flows.
//! - `deliver.rs`: outbound copies: routing, session queues, in-flight windows, re-sending after
//!   a reconnect, flow control towards publishers.
//! - `subscribe.rs`: SUBSCRIBE and UNSUBSCRIBE.
//! - `persist.rs`: the records of durable state ([`Record`]) and [`Broker::restore`].
//! - `timers.rs`: the deadline heap behind `poll_timeout`.
//! - `sys.rs`: `$SYS/` statistics.

mod conn;
mod connect;
mod deliver;
mod lifecycle;
mod message;
mod persist;
mod publish;
mod retained;
mod router;
mod session;
mod small_map;
mod subscribe;
mod sys;
mod timers;

#[cfg(test)]
mod tests;

use crate::config::Config;
use conn::{Conn, ConnState};
use mqttspec_codec::{
    DecodeError, Disconnect, MqttString, Packet, Properties, ProtocolVersion, ReasonCode,
};
pub use persist::{
    DeliveryState, InflightState, Record, RecordKey, Restored, SessionState, ShareState,
    SubscriptionState,
};
use retained::Retained;
use router::Router;
use session::Session;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};
use sys::Stats;
use timers::{Timer, Timers};

/// Identifies one network connection. The IO layer picks the numbers; each is used once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Something that happened, for the core to act on.
// A packet (80 bytes at most) moves through once: not boxed.
#[derive(Debug)]
pub enum Input {
    /// A client opened a network connection.
    Opened(ConnId),
    /// A whole packet arrived on a connection.
    Received(ConnId, Packet),
    /// The bytes of a connection failed to decode: the stream is broken. `version` is the version
    /// the connection speaks, or the one a broken CONNECT announced, when known.
    DecodeError {
        conn: ConnId,
        error: DecodeError,
        version: Option<ProtocolVersion>,
    },
    /// `packets` of the packets sent to a connection have been written to its socket.
    Written { conn: ConnId, packets: usize },
    /// The network connection closed (by the client or by an IO error).
    Closed(ConnId),
    /// Time passed; the core fires whatever timers are due.
    Tick,
    /// The broker is stopping: every client is told (v5: DISCONNECT 0x8B) and closed. With
    /// persistence, every persisted session and expiring retained message is recorded once more
    /// first (wills included: they are published after the restart, not now).
    Shutdown,
}

/// Something the IO layer must do, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Encode `packet` for `version` and write it to the connection.
    Send {
        conn: ConnId,
        version: ProtocolVersion,
        packet: Packet,
    },
    /// Write what was sent before, then close the connection. The core has already forgotten it.
    Close { conn: ConnId, reason: CloseReason },
    /// Append this record to durable storage before acting on the outputs that follow it (only
    /// when `Config::persistence` is set; see `persist.rs`).
    Persist(Record),
}

/// Why the broker closes a connection (for logs; the client learns it from CONNACK/DISCONNECT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent DISCONNECT.
    ClientDisconnect,
    /// The CONNECT was refused (a CONNACK with an error code was sent, if any).
    ConnectRefused,
    /// A malformed packet or a protocol error.
    ProtocolError,
    /// Silent for 1.5 times the keep-alive (MQTT-3.1.2-22 / 3.1.1 MQTT-3.1.2-24).
    KeepAliveTimeout,
    /// No CONNECT within the connect timeout.
    ConnectTimeout,
    /// Another connection took over the session (MQTT-3.1.4-3).
    SessionTakenOver,
    /// The client does not read what it is sent.
    SlowReader,
    /// The broker is shutting down.
    Shutdown,
}

/// The whole broker: connections, sessions, subscriptions, retained messages and timers.
pub struct Broker {
    config: Config,
    started: Instant,
    // Boxed: a map node holds 11 entries and is often half full; an idle connection should not
    // pay for five empty `Conn` slots (see benches/README.md, idle memory).
    conns: BTreeMap<ConnId, Box<Conn>>,
    // Boxed for the same reason as `conns`.
    sessions: BTreeMap<String, Box<Session>>,
    router: Router,
    retained: Retained,
    timers: Timers,
    outputs: VecDeque<Output>,
    stats: Stats,
    next_assigned_id: u64,
    /// Connections whose write queue overflowed; closed at the end of the current input.
    overflowed: Vec<ConnId>,
    /// Connections past CONNACK 0x00.
    active: usize,
    /// What changed during the current input, when persistence is on.
    persist: Option<persist::Tracker>,
}

impl Broker {
    /// A broker with no clients, started at `now`.
    pub fn new(config: Config, now: Instant) -> Self {
        let persist = config.persistence.is_some();
        let mut broker = Self {
            config,
            started: now,
            conns: BTreeMap::new(),
            sessions: BTreeMap::new(),
            router: Router::default(),
            retained: Retained::default(),
            timers: Timers::default(),
            outputs: VecDeque::new(),
            stats: Stats::default(),
            next_assigned_id: 0,
            overflowed: Vec::new(),
            active: 0,
            persist: persist.then(persist::Tracker::default),
        };
        broker.retained.track_expired = persist;
        if broker.config.sys_interval > 0 {
            broker.publish_sys(now);
            let next = now + broker.sys_period();
            broker.timers.push(next, Timer::Sys);
        }
        broker
    }

    fn sys_period(&self) -> Duration {
        Duration::from_secs(self.config.sys_interval.clamp(1, 86_400))
    }

    /// The configuration the broker runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Acts on one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        // Records of what this input changes go before its other outputs.
        let mark = self.outputs.len();
        match input {
            Input::Opened(id) => {
                // Clamped like `Config::validate` does, for configs built in code.
                let deadline =
                    now + Duration::from_secs(self.config.connect_timeout.clamp(1, 3600));
                self.conns.insert(id, Box::new(Conn::new(id, now)));
                self.timers.push(deadline, Timer::Connect(id));
            }
            Input::Received(id, packet) => self.on_packet(now, id, packet),
            Input::DecodeError {
                conn,
                error,
                version,
            } => self.on_decode_error(now, conn, error, version),
            Input::Written { conn, packets } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.unwritten = c.unwritten.saturating_sub(packets);
                    if let Some(client) = c.active_client().map(str::to_owned) {
                        self.pump(now, &client);
                    }
                }
            }
            Input::Closed(id) => {
                if self.conns.contains_key(&id) {
                    tracing::debug!(%id, "connection closed by the network");
                    self.drop_connection(now, id, true);
                }
            }
            Input::Tick => self.on_tick(now),
            Input::Shutdown => {
                self.persist_shutdown(now, mark);
                self.shutdown(now);
            }
        }
        for id in std::mem::take(&mut self.overflowed) {
            tracing::debug!(%id, "client does not read: closing");
            self.close(now, id, CloseReason::SlowReader, true);
        }
        self.flush_persist(now, mark);
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Input::Tick`] is next needed. It may come early: the core re-checks its deadlines.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Clients currently connected.
    pub fn connected_clients(&self) -> usize {
        self.active
    }

    /// Sessions held, connected or not.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    fn on_packet(&mut self, now: Instant, id: ConnId, packet: Packet) {
        let Some(conn) = self.conns.get_mut(&id) else {
            // Data after the broker closed the connection is not processed (MQTT-3.1.4-6).
            return;
        };
        conn.last_packet = now;
        self.stats.packets_received += 1;
        match conn.state {
            ConnState::AwaitingConnect => match packet {
                Packet::Connect(c) => self.on_connect(now, id, *c),
                other => {
                    // MQTT-3.1.0-1: the first packet must be CONNECT. No CONNACK or DISCONNECT
                    // may be sent before a successful CONNACK (MQTT-3.14.0-1): just close.
                    tracing::debug!(%id, packet = other.name(), "first packet is not CONNECT");
                    self.close(now, id, CloseReason::ProtocolError, true);
                }
            },
            ConnState::Active => self.on_active_packet(now, id, packet),
        }
    }

    fn on_active_packet(&mut self, now: Instant, id: ConnId, packet: Packet) {
        match packet {
            Packet::Publish(p) => self.on_publish(now, id, p),
            Packet::Puback(a) => self.on_puback(now, id, a),
            Packet::Pubrec(a) => self.on_pubrec(now, id, a),
            Packet::Pubrel(a) => self.on_pubrel(now, id, a),
            Packet::Pubcomp(a) => self.on_pubcomp(now, id, a),
            Packet::Subscribe(s) => self.on_subscribe(now, id, s),
            Packet::Unsubscribe(u) => self.on_unsubscribe(now, id, u),
            Packet::Pingreq => self.send(id, Packet::Pingresp),
            Packet::Disconnect(d) => self.on_disconnect(now, id, d),
            Packet::Connect(_) => {
                // MQTT-3.1.0-2: a second CONNECT is a protocol error.
                self.protocol_error(now, id, ReasonCode::PROTOCOL_ERROR, "second CONNECT");
            }
            Packet::Auth(_) => {
                // MQTT-4.12.0-7: no Authentication Method was accepted, so AUTH is not allowed.
                self.protocol_error(
                    now,
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    "AUTH without an authentication method",
                );
            }
            other @ (Packet::Connack(_)
            | Packet::Suback(_)
            | Packet::Unsuback(_)
            | Packet::Pingresp) => {
                let why = format!("{} is sent by servers, not clients", other.name());
                self.protocol_error(now, id, ReasonCode::PROTOCOL_ERROR, &why);
            }
        }
    }

    fn on_decode_error(
        &mut self,
        now: Instant,
        id: ConnId,
        error: DecodeError,
        version: Option<ProtocolVersion>,
    ) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        tracing::debug!(%id, %error, "undecodable input");
        if conn.is_active() {
            // v5: DISCONNECT with the reason code, then close (MQTT-4.13.1-1); 3.1.1: close.
            self.protocol_error(now, id, error.reason_code(), &error.to_string());
        } else {
            self.refuse_broken_connect(now, id, &error, version);
        }
    }

    fn on_tick(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Connect(id) => {
                    if self.conns.get(&id).is_some_and(|c| !c.is_active()) {
                        tracing::debug!(%id, "no CONNECT within the connect timeout");
                        self.close(now, id, CloseReason::ConnectTimeout, true);
                    }
                }
                Timer::KeepAlive(id) => self.check_keep_alive(now, id),
                Timer::Will(client, generation) => self.will_timer(now, &client, generation),
                Timer::Expiry(client, generation) => self.expiry_timer(now, &client, generation),
                Timer::Sys => {
                    self.publish_sys(now);
                    let next = now + self.sys_period();
                    self.timers.push(next, Timer::Sys);
                }
            }
        }
    }

    fn check_keep_alive(&mut self, now: Instant, id: ConnId) {
        let Some(deadline) = self.conns.get(&id).and_then(|c| c.keep_alive_deadline()) else {
            return;
        };
        if now < deadline {
            self.timers.push(deadline, Timer::KeepAlive(id));
            return;
        }
        tracing::debug!(%id, "keep-alive expired");
        // MQTT-3.1.2-22: close "as if the network had failed", so the will is published. v5
        // clients are told why first (0x8D Keep Alive timeout).
        self.send_disconnect(id, ReasonCode::KEEP_ALIVE_TIMEOUT, "keep alive timeout");
        self.close(now, id, CloseReason::KeepAliveTimeout, true);
    }

    fn shutdown(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.send_disconnect(id, ReasonCode::SERVER_SHUTTING_DOWN, "server shutting down");
            // Wills are not published: every subscriber is being disconnected too.
            self.close(now, id, CloseReason::Shutdown, false);
        }
    }

    // --- sending -------------------------------------------------------------------------

    /// Queues `packet` for connection `id` in its version, keeping within the client's Maximum
    /// Packet Size (MQTT-3.1.2-24): optional properties are dropped first (MQTT-3.4.2-2 and the
    /// like); a packet that still does not fit is not sent.
    fn send(&mut self, id: ConnId, mut packet: Packet) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let version = conn.version;
        if version.is_v5() && packet.encoded_len(version) > conn.max_packet_size as usize {
            if let Some(props) = optional_properties(&mut packet) {
                props.reason_string = None;
                props.user_properties.clear();
            }
            if packet.encoded_len(version) > conn.max_packet_size as usize {
                tracing::debug!(%id, packet = packet.name(), "too large for the client: not sent");
                return;
            }
        }
        if conn.unwritten >= write_hard_limit(&self.config) {
            if !self.overflowed.contains(&id) {
                self.overflowed.push(id);
            }
            return;
        }
        conn.unwritten += 1;
        self.stats.packets_sent += 1;
        self.outputs.push_back(Output::Send {
            conn: id,
            version,
            packet,
        });
    }

    /// v5 only, after a successful CONNACK only (MQTT-3.14.0-1): a DISCONNECT with `code`.
    fn send_disconnect(&mut self, id: ConnId, code: ReasonCode, why: &str) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if !conn.version.is_v5() || !conn.is_active() {
            return;
        }
        let properties = Properties {
            reason_string: Some(MqttString::from(why)),
            ..Properties::default()
        };
        self.send(
            id,
            Packet::Disconnect(Disconnect {
                reason_code: code,
                properties: properties.into(),
            }),
        );
    }

    /// Closes a connection for a malformed packet or protocol error: DISCONNECT with `code` in
    /// v5 (MQTT-4.13.1-1), then close; the will is published.
    fn protocol_error(&mut self, now: Instant, id: ConnId, code: ReasonCode, why: &str) {
        tracing::debug!(%id, %code, why, "protocol error");
        self.send_disconnect(id, code, why);
        self.close(now, id, CloseReason::ProtocolError, true);
    }

    /// Emits the close and forgets the connection, publishing its will if `will`.
    fn close(&mut self, now: Instant, id: ConnId, reason: CloseReason, will: bool) {
        if self.conns.contains_key(&id) {
            self.outputs.push_back(Output::Close { conn: id, reason });
            self.drop_connection(now, id, will);
        }
    }

    /// Properties carrying a Reason String, if the client did not turn problem information off
    /// (MQTT-3.1.2-29: only PUBLISH, CONNACK and DISCONNECT may carry one then).
    fn problem(&self, id: ConnId, why: &str) -> Properties {
        match self.conns.get(&id) {
            Some(c) if c.version.is_v5() && c.problem_info => Properties {
                reason_string: Some(MqttString::from(why)),
                ..Properties::default()
            },
            _ => Properties::default(),
        }
    }
}

/// Packets that may wait to be written to one connection, control packets included. PUBLISHes
/// stop at `limits.max_write_queue`; past twice that the client is not reading at all and is
/// disconnected. The IO layer sizes its per-connection queue from this.
pub fn write_hard_limit(config: &Config) -> usize {
    config.limits.max_write_queue.saturating_mul(2)
}

/// The properties of a packet that may be dropped to make it fit (Reason String, User Property).
fn optional_properties(packet: &mut Packet) -> Option<&mut Properties> {
    match packet {
        Packet::Connack(p) => Some(&mut p.properties),
        Packet::Puback(p) | Packet::Pubrec(p) | Packet::Pubrel(p) | Packet::Pubcomp(p) => {
            Some(&mut p.properties)
        }
        Packet::Suback(p) => Some(&mut p.properties),
        Packet::Unsuback(p) => Some(&mut p.properties),
        Packet::Disconnect(p) => Some(&mut p.properties),
        Packet::Auth(p) => Some(&mut p.properties),
        _ => None,
    }
}
