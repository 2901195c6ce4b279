//! Structure-aware generation: valid packets with fields at boundary values, invalid property
//! combinations, packets in the wrong direction, then byte-level mutations (truncation, bit flips,
//! oversize lengths) and raw garbage. Everything comes from one seeded RNG, so a session is a
//! pure function of (seed, session number).

use super::repro::Step;
use bytes::{Bytes, BytesMut};
use mqttspec_codec::{
    encode, Auth, Connack, Connect, Disconnect, MqttString, Packet, Properties, ProtocolVersion,
    PubAck, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription, UnsubAck,
    Unsubscribe, Will,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::RngExt;

const TOPICS: &[&str] = &[
    "fz/a",
    "fz/b",
    "fz/a/b",
    "fz",
    "/",
    "fz/+",
    "fz/#",
    "#",
    "+",
    "$SYS/x",
    "$share/g/fz/a",
    "$share//x",
    "a/#/b",
    "",
    "a\u{0}b",
    "\u{FEFF}",
    "ü/€/𝄞",
];
const U16S: &[u16] = &[0, 1, 2, 10, 127, 128, 255, 256, 65_534, 65_535];
const U32S: &[u32] = &[0, 1, 60, 65_535, 268_435_455, 268_435_456, u32::MAX];
const REASONS: &[u8] = &[
    0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x81, 0x8E, 0x97, 0xA2, 0xFF,
];

fn pick<T: Copy>(rng: &mut StdRng, from: &[T]) -> T {
    *from.choose(rng).expect("constant tables are not empty")
}

fn topic(rng: &mut StdRng) -> MqttString {
    if rng.random_ratio(1, 20) {
        "x".repeat(rng.random_range(1000..70_000)).into()
    } else {
        pick(rng, TOPICS).into()
    }
}

fn qos(rng: &mut StdRng) -> QoS {
    QoS::from_u8(rng.random_range(0..3)).unwrap_or_default()
}

fn bytes(rng: &mut StdRng, max: usize) -> Bytes {
    let len = rng.random_range(0..=max);
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    Bytes::from(v)
}

/// A random subset of properties with values at their boundaries, valid or not for the packet.
fn properties(rng: &mut StdRng, v5: bool) -> Properties {
    let mut p = Properties::default();
    if !v5 || rng.random_ratio(1, 2) {
        return p;
    }
    for _ in 0..rng.random_range(1..4) {
        match rng.random_range(0..14) {
            0 => p.payload_format_indicator = Some(rng.random_range(0..3)),
            1 => p.message_expiry_interval = Some(pick(rng, U32S)),
            2 => p.topic_alias = Some(pick(rng, U16S)),
            3 => p
                .subscription_identifiers
                .push(pick(rng, U32S) & 0x0FFF_FFFF),
            4 => p.session_expiry_interval = Some(pick(rng, U32S)),
            5 => p.receive_maximum = Some(pick(rng, U16S)),
            6 => p.maximum_packet_size = Some(pick(rng, U32S)),
            7 => p.topic_alias_maximum = Some(pick(rng, U16S)),
            8 => p.response_topic = Some(topic(rng)),
            9 => p.correlation_data = Some(bytes(rng, 16)),
            10 => p.user_properties.push((topic(rng), "v".into())),
            11 => p.authentication_method = Some("SCRAM-SHA-1".into()),
            12 => p.request_problem_information = Some(rng.random_range(0..3)),
            _ => p.reason_string = Some("r".into()),
        }
    }
    p
}

/// A CONNECT, usually valid, for the client's version.
pub(crate) fn connect(rng: &mut StdRng, version: ProtocolVersion, client_id: &str) -> Packet {
    let v5 = version.is_v5();
    Packet::from(Connect {
        protocol: version,
        clean_start: rng.random_bool(0.7),
        keep_alive: pick(rng, &[0, 0, 1, 60, 65_535]),
        properties: if rng.random_ratio(1, 4) {
            properties(rng, v5).into()
        } else {
            Properties::default().into()
        },
        client_id: if rng.random_ratio(1, 10) {
            MqttString::new()
        } else {
            client_id.into()
        },
        will: rng.random_ratio(1, 4).then(|| Will {
            topic: topic(rng),
            payload: bytes(rng, 8),
            qos: qos(rng),
            retain: rng.random_bool(0.3),
            properties: properties(rng, v5).into(),
        }),
        username: rng.random_ratio(1, 6).then(|| "user".into()),
        password: rng.random_ratio(1, 8).then(|| Bytes::from_static(b"pw")),
    })
}

/// Any packet, in either direction, with fields drawn from boundary values.
fn packet(rng: &mut StdRng, version: ProtocolVersion, client_id: &str) -> Packet {
    let v5 = version.is_v5();
    let pid = |rng: &mut StdRng| pick(rng, U16S);
    let ack = |rng: &mut StdRng| PubAck {
        packet_id: pick(rng, U16S),
        reason_code: ReasonCode(if v5 { pick(rng, REASONS) } else { 0 }),
        properties: properties(rng, v5).into(),
    };
    match rng.random_range(0..20) {
        0..=5 => {
            let qos = qos(rng);
            Packet::Publish(Publish {
                dup: qos != QoS::AtMostOnce && rng.random_ratio(1, 5),
                qos,
                retain: rng.random_bool(0.3),
                topic: topic(rng),
                packet_id: (qos != QoS::AtMostOnce).then(|| pid(rng)),
                properties: properties(rng, v5).into(),
                payload: bytes(rng, 64),
            })
        }
        6 | 7 => Packet::Subscribe(Subscribe {
            packet_id: pid(rng),
            properties: properties(rng, v5).into(),
            filters: (0..rng.random_range(0..4))
                .map(|_| Subscription {
                    filter: topic(rng),
                    qos: qos(rng),
                    no_local: v5 && rng.random_bool(0.2),
                    retain_as_published: v5 && rng.random_bool(0.2),
                    retain_handling: match rng.random_range(0..3) {
                        0 => RetainHandling::OnSubscribe,
                        1 => RetainHandling::OnNewSubscription,
                        _ => RetainHandling::Never,
                    },
                })
                .collect(),
        }),
        8 => Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(rng),
            properties: properties(rng, v5).into(),
            filters: (0..rng.random_range(0..3)).map(|_| topic(rng)).collect(),
        }),
        9 => Packet::Puback(ack(rng)),
        10 => Packet::Pubrec(ack(rng)),
        11 => Packet::Pubrel(ack(rng)),
        12 => Packet::Pubcomp(ack(rng)),
        13 => Packet::Pingreq,
        14 => Packet::Disconnect(Disconnect {
            reason_code: ReasonCode(if v5 { pick(rng, REASONS) } else { 0 }),
            properties: properties(rng, v5).into(),
        }),
        15 => connect(rng, version, client_id),
        16 if v5 => Packet::Auth(Auth {
            reason_code: ReasonCode(pick(rng, REASONS)),
            properties: properties(rng, v5).into(),
        }),
        // Packets only a server may send.
        17 => Packet::Connack(Connack::default()),
        18 => Packet::Suback(SubAck {
            packet_id: pid(rng),
            properties: Default::default(),
            reason_codes: vec![ReasonCode(1)],
        }),
        19 => Packet::Unsuback(UnsubAck {
            packet_id: pid(rng),
            ..UnsubAck::default()
        }),
        _ => Packet::Pingresp,
    }
}

fn encoded(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    // A value the wire cannot carry (a string over 65,535 bytes) leaves nothing to send.
    let _ = encode(packet, version, &mut out);
    out.to_vec()
}

/// Byte-level damage to an encoded packet.
fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        bytes.push(rng.random());
        return;
    }
    match rng.random_range(0..7) {
        0 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] ^= 1 << rng.random_range(0..8);
        }
        1 => bytes[0] = (bytes[0] & 0xF0) | rng.random_range(0..16),
        2 => {
            let keep = rng.random_range(0..bytes.len());
            bytes.truncate(keep);
        }
        3 => {
            // A remaining length far beyond what follows, or one that never ends.
            let len: &[u8] = if rng.random_bool(0.5) {
                &[0xFF, 0xFF, 0xFF, 0x7F]
            } else {
                &[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
            };
            bytes.splice(1..bytes.len().min(2), len.iter().copied());
        }
        4 => {
            let i = rng.random_range(0..=bytes.len());
            bytes.insert(i, rng.random());
        }
        5 => {
            let i = rng.random_range(0..bytes.len());
            bytes.remove(i);
        }
        _ => {
            let i = rng.random_range(0..bytes.len());
            let tail = bytes[i..].to_vec();
            bytes.extend_from_slice(&tail);
        }
    }
}

/// One fuzzing session: 1-3 clients, each usually opening with CONNECT, their steps interleaved.
pub(crate) fn session(rng: &mut StdRng, session: u64) -> Vec<Step> {
    let clients = rng.random_range(1..=3);
    let mut per_client: Vec<Vec<Step>> = Vec::new();
    for c in 0..clients {
        let version = if rng.random_bool(0.5) {
            ProtocolVersion::V5
        } else {
            ProtocolVersion::V3_1_1
        };
        let id = format!("fz{session}c{c}");
        let mut steps = Vec::new();
        let mut first = encoded(&connect(rng, version, &id), version);
        if rng.random_ratio(1, 10) {
            mutate(rng, &mut first);
        }
        steps.push(Step::send(c, first));
        for _ in 0..rng.random_range(0..12) {
            let step = match rng.random_range(0..20) {
                0 => Step::close(c),
                1 => Step::send(c, bytes(rng, 48).to_vec()),
                _ => {
                    let mut b = encoded(&packet(rng, version, &id), version);
                    if rng.random_ratio(2, 5) {
                        mutate(rng, &mut b);
                    }
                    Step::send(c, b)
                }
            };
            let closes = matches!(step, Step::Close { .. });
            steps.push(step);
            if closes {
                break;
            }
        }
        per_client.push(steps);
    }
    // Interleave: repeatedly take the next step of a random client that has steps left.
    let mut out = Vec::new();
    let mut cursors = vec![0usize; per_client.len()];
    loop {
        let live: Vec<usize> = (0..per_client.len())
            .filter(|&c| cursors[c] < per_client[c].len())
            .collect();
        let Some(&c) = live.choose(rng) else { break };
        out.push(per_client[c][cursors[c]].clone());
        cursors[c] += 1;
    }
    out
}
