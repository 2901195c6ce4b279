//! Core tests: clients driven through the state machine on a virtual clock. No sockets, no sleeps.
//!
//! [`Sim`] plays the IO layer: it feeds packets in, collects what the broker sends per connection,
//! reports every packet as written (unless told not to), and moves time forward timer by timer.

mod connect;
mod persist;
mod qos;
mod random;
mod retain;
mod session;
mod subscribe;
mod v5;
mod will;

use super::{Broker, ConnId, Input, Output};
use crate::config::Config;
use bytes::Bytes;
use mqttspec_codec::{
    Connack, Connect, Disconnect, Packet, Properties, ProtocolVersion, PubAck, Publish, QoS,
    ReasonCode, SubAck, Subscribe, Subscription, Will,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

pub struct Sim {
    pub broker: Broker,
    pub now: Instant,
    next_conn: u64,
    inbox: BTreeMap<ConnId, VecDeque<Packet>>,
    closed: BTreeSet<ConnId>,
    /// Report every packet as written at once (a fast reader). Off: the socket never drains.
    pub auto_written: bool,
    /// Every record the broker emitted (persistence on), in order.
    pub records: Vec<super::Record>,
}

impl Sim {
    pub fn new() -> Self {
        Self::with(quiet())
    }

    pub fn with(config: Config) -> Self {
        let now = Instant::now();
        let mut sim = Self {
            broker: Broker::new(config, now),
            now,
            next_conn: 0,
            inbox: BTreeMap::new(),
            closed: BTreeSet::new(),
            auto_written: true,
            records: Vec::new(),
        };
        sim.drain();
        sim
    }

    pub fn input(&mut self, input: Input) {
        self.broker.handle(self.now, input);
        self.drain();
    }

    fn drain(&mut self) {
        loop {
            let mut written: BTreeMap<ConnId, usize> = BTreeMap::new();
            while let Some(out) = self.broker.poll_output() {
                match out {
                    Output::Send { conn, packet, .. } => {
                        assert!(!self.closed.contains(&conn), "{conn}: packet after close");
                        self.inbox.entry(conn).or_default().push_back(packet);
                        *written.entry(conn).or_default() += 1;
                    }
                    Output::Close { conn, .. } => {
                        self.closed.insert(conn);
                    }
                    Output::Persist(record) => self.records.push(record),
                }
            }
            if !self.auto_written || written.is_empty() {
                return;
            }
            for (conn, packets) in written {
                self.broker
                    .handle(self.now, Input::Written { conn, packets });
            }
        }
    }

    pub fn open(&mut self) -> ConnId {
        self.next_conn += 1;
        let id = ConnId(self.next_conn);
        self.input(Input::Opened(id));
        id
    }

    pub fn send(&mut self, conn: ConnId, packet: impl Into<Packet>) {
        self.input(Input::Received(conn, packet.into()));
    }

    /// The client's connection drops without DISCONNECT.
    pub fn drop_conn(&mut self, conn: ConnId) {
        self.closed.insert(conn);
        self.input(Input::Closed(conn));
    }

    /// Everything sent to `conn` since the last call.
    pub fn recv(&mut self, conn: ConnId) -> Vec<Packet> {
        self.inbox
            .get_mut(&conn)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// Exactly one packet must have been sent to `conn`.
    pub fn one(&mut self, conn: ConnId) -> Packet {
        let mut got = self.recv(conn);
        assert_eq!(got.len(), 1, "{conn}: expected one packet, got {got:#?}");
        got.remove(0)
    }

    pub fn nothing(&mut self, conn: ConnId) {
        let got = self.recv(conn);
        assert!(got.is_empty(), "{conn}: expected nothing, got {got:#?}");
    }

    /// The PUBLISHes sent to `conn` (other packets must not be there).
    pub fn publishes(&mut self, conn: ConnId) -> Vec<Publish> {
        self.recv(conn)
            .into_iter()
            .map(|p| match p {
                Packet::Publish(p) => p,
                other => panic!("{conn}: expected PUBLISH, got {other:?}"),
            })
            .collect()
    }

    pub fn is_closed(&self, conn: ConnId) -> bool {
        self.closed.contains(&conn)
    }

    /// Moves the clock forward by `d`, firing every timer due on the way, in order.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(t) = self.broker.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.input(Input::Tick);
        }
        self.now = target;
        self.input(Input::Tick);
    }

    pub fn secs(&mut self, s: f64) {
        self.advance(Duration::from_secs_f64(s));
    }

    /// Opens a connection, sends `connect`, and returns the connection and its CONNACK.
    pub fn connect_with(&mut self, connect: Connect) -> (ConnId, Connack) {
        let conn = self.open();
        self.send(conn, Packet::from(connect));
        let first = self.inbox.get_mut(&conn).and_then(VecDeque::pop_front);
        match first {
            Some(Packet::Connack(c)) => (conn, c),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// A successful connection.
    pub fn connect(&mut self, connect: Connect) -> ConnId {
        let (conn, ack) = self.connect_with(connect);
        assert_eq!(ack.reason_code, ReasonCode::SUCCESS, "{ack:?}");
        conn
    }

    /// Connects and subscribes `filter` at `qos`; the SUBACK must grant it.
    pub fn subscriber(&mut self, connect: Connect, filter: &str, qos: QoS) -> ConnId {
        let conn = self.connect(connect);
        self.send(conn, subscribe(1, filter, qos));
        match self.one(conn) {
            Packet::Suback(s) => assert_eq!(s.reason_codes, vec![ReasonCode(qos as u8)]),
            other => panic!("expected SUBACK, got {other:?}"),
        }
        conn
    }
}

/// The default configuration without `$SYS/` publications.
pub fn quiet() -> Config {
    Config {
        sys_interval: 0,
        ..Config::default()
    }
}

// --- packet builders ---------------------------------------------------------------------

pub fn v5(id: &str) -> Connect {
    Connect {
        protocol: ProtocolVersion::V5,
        client_id: id.into(),
        keep_alive: 0,
        ..Connect::default()
    }
}

pub fn v3(id: &str) -> Connect {
    Connect {
        protocol: ProtocolVersion::V3_1_1,
        ..v5(id)
    }
}

/// A v5 CONNECT that keeps its session for `expiry` seconds.
pub fn v5_persistent(id: &str, expiry: u32) -> Connect {
    let mut c = v5(id);
    c.clean_start = false;
    c.properties.session_expiry_interval = Some(expiry);
    c
}

pub fn v3_persistent(id: &str) -> Connect {
    Connect {
        clean_start: false,
        ..v3(id)
    }
}

pub fn with_will(mut c: Connect, topic: &str, payload: &'static str) -> Connect {
    c.will = Some(Will {
        topic: topic.into(),
        payload: Bytes::from_static(payload.as_bytes()),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    });
    c
}

pub fn publish(topic: &str, payload: &'static str, qos: QoS, pid: u16) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: topic.into(),
        packet_id: (qos != QoS::AtMostOnce).then_some(pid),
        payload: Bytes::from_static(payload.as_bytes()),
        ..Publish::default()
    })
}

pub fn retained(topic: &str, payload: &'static str, qos: QoS, pid: u16) -> Packet {
    match publish(topic, payload, qos, pid) {
        Packet::Publish(p) => Packet::Publish(Publish { retain: true, ..p }),
        _ => unreachable!(),
    }
}

pub fn subscribe(pid: u16, filter: &str, qos: QoS) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: pid,
        properties: Default::default(),
        filters: vec![Subscription::new(filter, qos)],
    })
}

pub fn subscribe_with(pid: u16, filters: Vec<Subscription>, id: Option<u32>) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: pid,
        properties: Properties {
            subscription_identifiers: id.into_iter().collect(),
            ..Properties::default()
        }
        .into(),
        filters,
    })
}

pub fn puback(pid: u16) -> Packet {
    Packet::Puback(PubAck::new(pid))
}
pub fn pubrec(pid: u16) -> Packet {
    Packet::Pubrec(PubAck::new(pid))
}
pub fn pubrel(pid: u16) -> Packet {
    Packet::Pubrel(PubAck::new(pid))
}
pub fn pubcomp(pid: u16) -> Packet {
    Packet::Pubcomp(PubAck::new(pid))
}

pub fn disconnect(code: ReasonCode) -> Packet {
    Packet::Disconnect(Disconnect {
        reason_code: code,
        properties: Default::default(),
    })
}

/// The reason code of a DISCONNECT, panicking on anything else.
pub fn disconnect_code(p: Packet) -> ReasonCode {
    match p {
        Packet::Disconnect(d) => d.reason_code,
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
}

pub fn suback(p: Packet) -> SubAck {
    match p {
        Packet::Suback(s) => s,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

pub fn ack(p: Packet) -> (&'static str, PubAck) {
    let name = p.name();
    match p {
        Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => (name, a),
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
}

/// The packet ids of acknowledgements.
pub fn ack_ids(ps: Vec<Packet>) -> Vec<u16> {
    ps.into_iter().map(|a| ack(a).1.packet_id).collect()
}

pub fn payloads(ps: &[Publish]) -> Vec<&str> {
    ps.iter()
        .map(|p| std::str::from_utf8(&p.payload).unwrap_or("<binary>"))
        .collect()
}
