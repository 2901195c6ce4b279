//! Fuzzing the sans-IO core (feature `arbitrary`): an arbitrary [`Script`] of operations from a
//! few clients runs against [`Broker`], and [`run`] checks invariants after every step. The
//! cargo-fuzz target `broker_core` is one line calling [`run`]; a crash it finds becomes a plain
//! test calling [`run`] with the same script.
//!
//! Invariants, each a rule of the spec or of the core's contract:
//! - nothing panics, and time handling converges (after a Tick the next deadline is in the future);
//! - every packet sent is one the strict decoder accepts, and round-trips through the codec;
//! - the first packet on a connection is CONNACK (v5: or AUTH), MQTT-3.2.0-1;
//! - nothing is sent after a connection was closed;
//! - no packet exceeds the Maximum Packet Size the client announced, MQTT-3.1.2-24;
//! - a new QoS 1/2 PUBLISH never reuses a packet id still in flight, MQTT-2.2.1-4;
//! - no more unacknowledged QoS 1/2 PUBLISHes than the client's Receive Maximum, MQTT-3.3.4-9;
//! - with persistence on (half the scripts): every record reads back from its file form (one line
//!   of JSON) as itself, and at the end a broker restored from the records holds the same
//!   sessions and retained messages as the one that made them.

use crate::config::Config;
use crate::core::{Broker, ConnId, Input, Output, Record};
use arbitrary::Arbitrary;
use bytes::Bytes;
use mqttspec_codec::{
    decode_one, to_bytes, Connect, Disconnect, Packet, Properties, ProtocolVersion, PubAck,
    Publish, QoS, ReasonCode, RetainHandling, Subscribe, Subscription, Unsubscribe, Will,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const CONNS: u8 = 4;
const TOPICS: [&str; 4] = ["t/a", "t/b", "t", "$SYS/x"];
const FILTERS: [&str; 6] = ["t/#", "t/+", "#", "t/a", "$share/g/t/a", "+/b"];

/// Broker limits worth varying: small ones reach the queueing and flow-control paths.
#[derive(Debug, Clone, Arbitrary)]
pub struct Limits {
    pub small_packets: bool,
    pub receive_maximum: u8,
    pub topic_alias_maximum: u8,
    pub max_queued_messages: u8,
    pub max_inflight: u8,
    /// Persistence on: every record must survive its file format, and a broker restored from
    /// the records must hold the same durable state (checked at the end of the script).
    pub persistence: bool,
}

/// One thing a client (or the network, or time) does.
#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    Open {
        conn: u8,
    },
    Connect {
        conn: u8,
        client: u8,
        v5: bool,
        clean: bool,
        keep_alive: u8,
        session_expiry: Option<u8>,
        will: Option<(u8, QoS, bool, Option<u8>)>,
        receive_maximum: Option<u8>,
        maximum_packet_size: Option<u16>,
        topic_alias_maximum: Option<u8>,
    },
    Subscribe {
        conn: u8,
        filter: u8,
        qos: QoS,
        no_local: bool,
        retain_as_published: bool,
        retain_handling: u8,
        subscription_id: Option<u8>,
    },
    Unsubscribe {
        conn: u8,
        filter: u8,
    },
    Publish {
        conn: u8,
        topic: u8,
        qos: QoS,
        retain: bool,
        dup: bool,
        packet_id: u8,
        alias: Option<u8>,
        payload: u8,
        expiry: Option<u8>,
    },
    Ack {
        conn: u8,
        kind: u8,
        packet_id: u8,
    },
    Ping {
        conn: u8,
    },
    Disconnect {
        conn: u8,
        reason: u8,
        session_expiry: Option<u8>,
    },
    /// Any packet at all, valid or not for its direction and state.
    Raw {
        conn: u8,
        packet: Packet,
    },
    /// The connection's bytes failed to decode.
    Garbage {
        conn: u8,
    },
    Close {
        conn: u8,
    },
    /// Stop (or resume) reporting what the connection wrote: a slow reader.
    Stall {
        conn: u8,
    },
    Advance {
        millis: u16,
    },
}

#[derive(Debug, Clone, Arbitrary)]
pub struct Script {
    pub limits: Limits,
    pub ops: Vec<Op>,
}

/// What the test knows about one connection, to judge what the broker sends on it.
#[derive(Debug, Default)]
struct ConnView {
    open: bool,
    closed: bool,
    version: Option<ProtocolVersion>,
    connacked: bool,
    max_packet_size: Option<u32>,
    receive_maximum: Option<u16>,
    in_flight: BTreeSet<u16>,
    stalled: bool,
}

struct Driver {
    broker: Broker,
    now: Instant,
    conns: BTreeMap<u8, ConnView>,
    /// Each `Open` after a close is a new connection with a new id.
    ids: BTreeMap<u8, ConnId>,
    next_id: u64,
    /// Every record emitted, in order (persistence on).
    records: Vec<Record>,
}

fn config(l: &Limits) -> Config {
    let mut c = Config {
        sys_interval: 0,
        ..Config::default()
    };
    if l.small_packets {
        c.limits.max_packet_size = 256;
    }
    c.limits.receive_maximum = u16::from(l.receive_maximum).max(1);
    c.limits.topic_alias_maximum = u16::from(l.topic_alias_maximum % 8);
    c.limits.max_queued_messages = usize::from(l.max_queued_messages % 16) + 1;
    c.limits.max_inflight = u16::from(l.max_inflight % 8) + 1;
    // The core only asks whether persistence is on; the server opens the file.
    c.persistence = l.persistence.then(|| "fuzz.log".into());
    c
}

impl Driver {
    fn id(&self, conn: u8) -> Option<ConnId> {
        let view = self.conns.get(&(conn % CONNS))?;
        (view.open && !view.closed).then(|| self.ids[&(conn % CONNS)])
    }

    fn version(&self, conn: u8) -> ProtocolVersion {
        self.conns
            .get(&(conn % CONNS))
            .and_then(|v| v.version)
            .unwrap_or(ProtocolVersion::V3_1_1)
    }

    fn input(&mut self, input: Input) {
        self.broker.handle(self.now, input);
        self.drain();
    }

    /// Delivers `packet` as the server would: through the codec, so the core sees what the
    /// decoder makes of its bytes (the packet, or a decode error), never an impossible value.
    fn send(&mut self, conn: u8, packet: Packet) {
        if let Some(id) = self.id(conn) {
            let version = match &packet {
                Packet::Connect(c) => c.protocol,
                _ => self.version(conn),
            };
            let decoded = to_bytes(&packet, version)
                .map_err(|_| None)
                .and_then(|b| decode_one(&b, version).map_err(Some));
            let packet = match decoded {
                Ok(p) => p,
                Err(None) => return, // the wire cannot carry it at all
                Err(Some(error)) => {
                    let version = self.conns.get(&(conn % CONNS)).and_then(|v| v.version);
                    return self.input(Input::DecodeError {
                        conn: id,
                        error,
                        version,
                    });
                }
            };
            if let Packet::Puback(a) | Packet::Pubcomp(a) = &packet {
                if let Some(v) = self.conns.get_mut(&(conn % CONNS)) {
                    v.in_flight.remove(&a.packet_id);
                }
            }
            if let Packet::Pubrec(a) = &packet {
                if a.reason_code.is_error() {
                    if let Some(v) = self.conns.get_mut(&(conn % CONNS)) {
                        v.in_flight.remove(&a.packet_id);
                    }
                }
            }
            self.input(Input::Received(id, packet));
        }
    }

    /// Takes every output, checking it, and reports writes for connections that read.
    fn drain(&mut self) {
        loop {
            let mut written: BTreeMap<ConnId, usize> = BTreeMap::new();
            while let Some(out) = self.broker.poll_output() {
                match out {
                    Output::Send {
                        conn,
                        version,
                        packet,
                    } => {
                        self.check_send(conn, version, &packet);
                        *written.entry(conn).or_default() += 1;
                    }
                    Output::Close { conn, .. } => {
                        if let Some(v) = self.view_mut(conn) {
                            v.closed = true;
                        }
                    }
                    Output::Persist(record) => {
                        check_record_format(&record);
                        self.records.push(record);
                    }
                }
            }
            written.retain(|c, _| self.view(*c).is_some_and(|v| !v.stalled && !v.closed));
            if written.is_empty() {
                return;
            }
            for (conn, packets) in written {
                self.broker
                    .handle(self.now, Input::Written { conn, packets });
            }
        }
    }

    fn view(&self, id: ConnId) -> Option<&ConnView> {
        let slot = self.ids.iter().find(|(_, v)| **v == id)?.0;
        self.conns.get(slot)
    }

    fn view_mut(&mut self, id: ConnId) -> Option<&mut ConnView> {
        let slot = *self.ids.iter().find(|(_, v)| **v == id)?.0;
        self.conns.get_mut(&slot)
    }

    fn check_send(&mut self, conn: ConnId, version: ProtocolVersion, packet: &Packet) {
        let bytes = to_bytes(packet, version)
            .unwrap_or_else(|e| panic!("{conn}: the broker built an unencodable {packet:?}: {e}"));
        let back = decode_one(&bytes, version).unwrap_or_else(|e| {
            panic!("{conn}: the broker sent a packet its peer must reject ({e}): {packet:?}")
        });
        assert_eq!(&back, packet, "{conn}: does not round-trip");
        let Some(view) = self.view_mut(conn) else {
            panic!("{conn}: packet to a connection that never opened: {packet:?}");
        };
        assert!(!view.closed, "{conn}: packet after close: {packet:?}");
        if !view.connacked {
            match packet {
                Packet::Connack(c) => view.connacked = c.reason_code.0 < 0x80,
                Packet::Auth(_) if version.is_v5() => {}
                other => panic!("{conn}: {} before CONNACK (MQTT-3.2.0-1)", other.name()),
            }
        }
        if let Some(max) = view.max_packet_size {
            let len = packet.encoded_len(version);
            assert!(
                len <= max as usize,
                "{conn}: {} of {len} bytes exceeds the client's maximum {max} (MQTT-3.1.2-24)",
                packet.name()
            );
        }
        if let Packet::Publish(p) = packet {
            if let (QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) = (p.qos, p.packet_id) {
                let fresh = view.in_flight.insert(id);
                assert!(
                    fresh || p.dup,
                    "{conn}: new PUBLISH reuses packet id {id} still in flight (MQTT-2.2.1-4)"
                );
                if let Some(max) = view.receive_maximum {
                    assert!(
                        view.in_flight.len() <= usize::from(max),
                        "{conn}: {} unacknowledged QoS 1/2 PUBLISHes, Receive Maximum {max} (MQTT-3.3.4-9)",
                        view.in_flight.len()
                    );
                }
            }
        }
    }

    fn step(&mut self, op: &Op) {
        match op.clone() {
            Op::Open { conn } => {
                let slot = conn % CONNS;
                if self.id(slot).is_none() {
                    let id = ConnId(self.next_id);
                    self.next_id += 1;
                    self.ids.insert(slot, id);
                    self.conns.insert(
                        slot,
                        ConnView {
                            open: true,
                            ..ConnView::default()
                        },
                    );
                    self.input(Input::Opened(id));
                }
            }
            Op::Connect {
                conn,
                client,
                v5,
                clean,
                keep_alive,
                session_expiry,
                will,
                receive_maximum,
                maximum_packet_size,
                topic_alias_maximum,
            } => {
                let version = if v5 {
                    ProtocolVersion::V5
                } else {
                    ProtocolVersion::V3_1_1
                };
                let props = Properties {
                    session_expiry_interval: session_expiry.filter(|_| v5).map(u32::from),
                    receive_maximum: receive_maximum.filter(|_| v5).map(|r| u16::from(r).max(1)),
                    maximum_packet_size: maximum_packet_size
                        .filter(|_| v5)
                        .map(|m| u32::from(m).max(16)),
                    topic_alias_maximum: topic_alias_maximum.filter(|_| v5).map(u16::from),
                    ..Properties::default()
                };
                if let Some(v) = self.conns.get_mut(&(conn % CONNS)) {
                    if v.version.is_none() {
                        v.version = Some(version);
                        v.max_packet_size = props.maximum_packet_size;
                        v.receive_maximum = props.receive_maximum;
                    }
                }
                let packet = Packet::from(Connect {
                    protocol: version,
                    clean_start: clean,
                    keep_alive: u16::from(keep_alive % 4),
                    properties: props.into(),
                    client_id: format!("c{}", client % 3).into(),
                    will: will.map(|(t, qos, retain, delay)| Will {
                        topic: TOPICS[usize::from(t) % TOPICS.len()].into(),
                        payload: Bytes::from_static(b"will"),
                        qos,
                        retain,
                        properties: Properties {
                            will_delay_interval: delay.filter(|_| v5).map(|d| u32::from(d % 4)),
                            ..Properties::default()
                        }
                        .into(),
                    }),
                    ..Connect::default()
                });
                self.send(conn, packet);
            }
            Op::Subscribe {
                conn,
                filter,
                qos,
                no_local,
                retain_as_published,
                retain_handling,
                subscription_id,
            } => {
                let v5 = self.version(conn).is_v5();
                let filter = FILTERS[usize::from(filter) % FILTERS.len()];
                let packet = Packet::Subscribe(Subscribe {
                    packet_id: 1,
                    properties: Properties {
                        subscription_identifiers: subscription_id
                            .filter(|_| v5)
                            .map(|s| vec![u32::from(s).max(1)])
                            .unwrap_or_default(),
                        ..Properties::default()
                    }
                    .into(),
                    filters: vec![Subscription {
                        filter: filter.into(),
                        qos,
                        no_local: v5 && no_local && !filter.starts_with("$share/"),
                        retain_as_published: v5 && retain_as_published,
                        retain_handling: match retain_handling % 3 {
                            _ if !v5 => RetainHandling::OnSubscribe,
                            0 => RetainHandling::OnSubscribe,
                            1 => RetainHandling::OnNewSubscription,
                            _ => RetainHandling::Never,
                        },
                    }],
                });
                self.send(conn, packet);
            }
            Op::Unsubscribe { conn, filter } => {
                let filter = FILTERS[usize::from(filter) % FILTERS.len()];
                let packet = Packet::Unsubscribe(Unsubscribe {
                    packet_id: 2,
                    properties: Default::default(),
                    filters: vec![filter.into()],
                });
                self.send(conn, packet);
            }
            Op::Publish {
                conn,
                topic,
                qos,
                retain,
                dup,
                packet_id,
                alias,
                payload,
                expiry,
            } => {
                let v5 = self.version(conn).is_v5();
                let packet = Packet::Publish(Publish {
                    dup: dup && qos != QoS::AtMostOnce,
                    qos,
                    retain,
                    topic: TOPICS[usize::from(topic) % TOPICS.len()].into(),
                    packet_id: (qos != QoS::AtMostOnce).then_some(u16::from(packet_id).max(1)),
                    properties: Properties {
                        topic_alias: alias.filter(|_| v5).map(|a| u16::from(a % 10).max(1)),
                        message_expiry_interval: expiry.filter(|_| v5).map(|e| u32::from(e % 3)),
                        ..Properties::default()
                    }
                    .into(),
                    payload: Bytes::from(vec![b'x'; usize::from(payload % 4) * 100]),
                });
                self.send(conn, packet);
            }
            Op::Ack {
                conn,
                kind,
                packet_id,
            } => {
                let ack = PubAck::new(u16::from(packet_id).max(1));
                let packet = match kind % 4 {
                    0 => Packet::Puback(ack),
                    1 => Packet::Pubrec(ack),
                    2 => Packet::Pubrel(ack),
                    _ => Packet::Pubcomp(ack),
                };
                self.send(conn, packet);
            }
            Op::Ping { conn } => self.send(conn, Packet::Pingreq),
            Op::Disconnect {
                conn,
                reason,
                session_expiry,
            } => {
                let v5 = self.version(conn).is_v5();
                let packet = Packet::Disconnect(Disconnect {
                    reason_code: ReasonCode(if v5 && reason % 2 == 1 { 0x04 } else { 0 }),
                    properties: Properties {
                        session_expiry_interval: session_expiry.filter(|_| v5).map(u32::from),
                        ..Properties::default()
                    }
                    .into(),
                });
                self.send(conn, packet);
            }
            Op::Raw { conn, packet } => self.send(conn, packet),
            Op::Garbage { conn } => {
                if let Some(id) = self.id(conn) {
                    let error = mqttspec_codec::decode_one(&[0x36, 0x00], ProtocolVersion::V5)
                        .expect_err("QoS 3 PUBLISH is malformed");
                    let version = self.conns.get(&(conn % CONNS)).and_then(|v| v.version);
                    self.input(Input::DecodeError {
                        conn: id,
                        error,
                        version,
                    });
                }
            }
            Op::Close { conn } => {
                if let Some(id) = self.id(conn) {
                    if let Some(v) = self.conns.get_mut(&(conn % CONNS)) {
                        v.closed = true;
                    }
                    self.input(Input::Closed(id));
                }
            }
            Op::Stall { conn } => {
                if let Some(v) = self.conns.get_mut(&(conn % CONNS)) {
                    v.stalled = !v.stalled;
                }
            }
            Op::Advance { millis } => {
                self.now += Duration::from_millis(u64::from(millis) * 10);
                // Fire every timer that is due, as the server's timer loop does.
                let mut rounds = 0;
                while self.broker.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.input(Input::Tick);
                    rounds += 1;
                    assert!(
                        rounds < 10_000,
                        "timers never settle: poll_timeout stays due"
                    );
                }
            }
        }
    }
}

/// Runs `script` against a fresh core, panicking on the first broken invariant.
pub fn run(script: &Script) {
    let now = Instant::now();
    let mut d = Driver {
        broker: Broker::new(config(&script.limits), now),
        now,
        conns: BTreeMap::new(),
        ids: BTreeMap::new(),
        next_id: 0,
        records: Vec::new(),
    };
    d.drain();
    for op in &script.ops {
        d.step(op);
    }
    if script.limits.persistence {
        check_restore(&d, &script.limits);
    }
    d.input(Input::Shutdown);
}

/// A record reads back from the persistence file's form (one line of JSON) as itself.
fn check_record_format(record: &Record) {
    let line = serde_json::to_string(record)
        .unwrap_or_else(|e| panic!("{record:?} does not serialize: {e}"));
    assert!(!line.contains('\n'), "a record is one line: {line}");
    let back: Record =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line} does not read back: {e}"));
    assert_eq!(&back, record, "{line}");
}

/// A broker restored from the records holds what the running one holds: every session that
/// outlives its connection and every retained message. Wills are left out of the restore, since
/// a restore publishes them (a will published into the restored sessions would change their
/// queues); messages with a Message Expiry Interval are left out of the comparison, since a
/// record holds the seconds left when it was made.
fn check_restore(d: &Driver, limits: &Limits) {
    let records = d.records.iter().cloned().map(|mut r| {
        if let Record::Session { state: Some(s), .. } = &mut r {
            s.will = None;
            s.will_delay = 0;
        }
        r
    });
    let mut back = Broker::new(config(limits), d.now);
    back.restore(d.now, records);
    let (mut want, mut got) = (d.broker.durable_state(d.now), back.durable_state(d.now));
    for s in want.sessions.values_mut().chain(got.sessions.values_mut()) {
        s.will = None;
        s.will_delay = 0;
        s.queue
            .retain(|q| q.message.properties.message_expiry_interval.is_none());
        for f in &mut s.inflight {
            f.delivery.message.properties.message_expiry_interval = None;
        }
    }
    for r in [&mut want.retained, &mut got.retained] {
        r.retain(|_, m| m.properties.message_expiry_interval.is_none());
    }
    assert_eq!(
        want.sessions.keys().collect::<Vec<_>>(),
        got.sessions.keys().collect::<Vec<_>>(),
        "restored sessions"
    );
    for (client, state) in &want.sessions {
        assert_eq!(Some(state), got.sessions.get(client), "session {client}");
    }
    assert_eq!(want.retained, got.retained, "retained messages");
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::Unstructured;

    #[test]
    fn a_plain_session_runs_clean() {
        let script = Script {
            limits: Limits {
                small_packets: false,
                receive_maximum: 2,
                topic_alias_maximum: 2,
                max_queued_messages: 3,
                max_inflight: 2,
                persistence: true,
            },
            ops: vec![
                Op::Open { conn: 0 },
                Op::Connect {
                    conn: 0,
                    client: 0,
                    v5: true,
                    clean: true,
                    keep_alive: 1,
                    session_expiry: Some(5),
                    will: None,
                    receive_maximum: Some(1),
                    maximum_packet_size: Some(300),
                    topic_alias_maximum: None,
                },
                Op::Subscribe {
                    conn: 0,
                    filter: 0,
                    qos: QoS::ExactlyOnce,
                    no_local: false,
                    retain_as_published: false,
                    retain_handling: 0,
                    subscription_id: Some(3),
                },
                Op::Publish {
                    conn: 0,
                    topic: 0,
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    dup: false,
                    packet_id: 1,
                    alias: None,
                    payload: 3, // 300 bytes: over the client's maximum, so never sent to it
                    expiry: None,
                },
                Op::Advance { millis: 500 },
            ],
        };
        run(&script);
    }

    #[test]
    fn arbitrary_scripts_keep_every_invariant() {
        // A deterministic spread of inputs, so the oracle runs in every `cargo test`.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let (mut ran, mut ops) = (0, 0);
        for _ in 0..1000 {
            let bytes: Vec<u8> = (0..2048)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            // Ops one after another until the bytes run out (a collection's own length
            // encoding would make most scripts a single op).
            let mut u = Unstructured::new(&bytes);
            let Ok(limits) = Limits::arbitrary(&mut u) else {
                continue;
            };
            let mut script = Script {
                limits,
                ops: Vec::new(),
            };
            while let Ok(op) = Op::arbitrary(&mut u) {
                if u.is_empty() {
                    break;
                }
                script.ops.push(op);
            }
            ran += 1;
            ops += script.ops.len();
            run(&script);
        }
        assert!(
            ran > 900 && ops > 10 * ran,
            "{ran} scripts, {ops} operations"
        );
    }

    /// The seed corpus of the `broker_core` target (fuzz/corpus/broker_core, where minimized
    /// findings are kept too), replayed without nightly on every `cargo test`.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/broker_core");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/broker_core") {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            if let Ok(script) = Script::arbitrary_take_rest(Unstructured::new(&data)) {
                run(&script);
                replayed += 1;
            }
        }
        assert!(
            replayed >= 10,
            "{replayed} corpus scripts in {}",
            dir.display()
        );
    }
}
