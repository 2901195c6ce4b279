//! Shared stream builders for the codec benchmarks (`benches/codec.rs`).
//!
//! # Layout
//! - [`stream`] builds one *logical* stream of MQTT traffic, a list of [`Msg`], the same for every
//!   codec: publishes of 16 B, 256 B and 4 KiB at QoS 0, 1 and 2, each with its acknowledgements
//!   (PUBACK; PUBREC, PUBREL, PUBCOMP), with and without v5 properties, subscribes and their acks,
//!   an unsubscribe, and pings.
//! - [`to_ours`], [`to_rumqttc_v4`] and [`to_rumqttc_v5`] turn each [`Msg`] into the packet model of
//!   each codec, so that both sides encode exactly the same packets.
//! - [`wire`] encodes the stream with our codec: the bytes both codecs decode.
//! - [`Counts`] tallies decoded packets per type; the unit tests below check that both codecs decode
//!   the stream into the same packets, and encode it into the same number of bytes.
//! - [`floor`] is the least work an owned-model codec must do on the same stream: the yardstick
//!   that says whether 2x rumqttc is within reach at all.

pub mod floor;

use bytes::{Bytes, BytesMut};
use mqttspec_codec as ours;
use rumqttc::mqttbytes::v4 as r4;
use rumqttc::v5::mqttbytes::v5 as r5;

/// The two versions benchmarked. (MQTT 3.1 differs from 3.1.1 only in CONNECT.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V311,
    V5,
}

impl Version {
    pub const ALL: [Version; 2] = [Version::V311, Version::V5];

    pub fn ours(self) -> ours::ProtocolVersion {
        match self {
            Version::V311 => ours::ProtocolVersion::V3_1_1,
            Version::V5 => ours::ProtocolVersion::V5,
        }
    }

    /// The name used in benchmark IDs and reports.
    pub fn label(self) -> &'static str {
        match self {
            Version::V311 => "3.1.1",
            Version::V5 => "5.0",
        }
    }
}

/// Which v5 properties a PUBLISH carries (none under 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Props {
    None,
    /// Telemetry: payload format indicator, content type, message expiry and one user property.
    Telemetry,
    /// A request: response topic, correlation data and one user property.
    Request,
}

/// One packet of the logical stream, independent of any codec's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Publish {
        topic: &'static str,
        qos: u8,
        packet_id: u16,
        payload: Bytes,
        props: Props,
    },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe {
        packet_id: u16,
        filters: Vec<(&'static str, u8)>,
    },
    SubAck {
        packet_id: u16,
        granted: Vec<u8>,
    },
    Unsubscribe {
        packet_id: u16,
        filters: Vec<&'static str>,
    },
    UnsubAck(u16),
    PingReq,
    PingResp,
}

/// Payload sizes of the stream's publishes.
pub const PAYLOAD_SIZES: [usize; 3] = [16, 256, 4096];

const TOPICS: [&str; 4] = [
    "sensors/building-7/floor-3/room-12/temperature",
    "devices/3f9a2c/telemetry",
    "factory/line-2/press-4/status",
    "home/kitchen/light",
];

const FILTERS: [(&str, u8); 3] = [
    ("sensors/+/+/+/temperature", 1),
    ("devices/#", 2),
    ("factory/line-2/+/status", 0),
];

/// A payload of `len` bytes of JSON-looking ASCII.
fn payload(len: usize, seed: usize) -> Bytes {
    let pattern = format!("{{\"seq\":{seed},\"value\":21.5,\"unit\":\"C\"}}");
    pattern
        .bytes()
        .cycle()
        .take(len)
        .collect::<Vec<u8>>()
        .into()
}

/// The logical stream: 60 publishes (sizes 16 B x6, 256 B x3, 4 KiB x1 out of every 10, QoS cycling
/// 0/1/2, every other one with properties) with their acknowledgements, two subscribes with their
/// acks, an unsubscribe with its ack, and a ping round trip every 20 publishes: 152 packets.
pub fn stream() -> Vec<Msg> {
    let mut out = Vec::new();
    let mut packet_id = 0u16;
    let mut next_id = || {
        packet_id += 1;
        packet_id
    };
    let subscribe = |packet_id: u16, filters: &[(&'static str, u8)]| {
        [
            Msg::Subscribe {
                packet_id,
                filters: filters.to_vec(),
            },
            Msg::SubAck {
                packet_id,
                granted: filters.iter().map(|f| f.1).collect(),
            },
        ]
    };
    out.extend(subscribe(next_id(), &FILTERS));
    for i in 0..60usize {
        let size = match i % 10 {
            0..=5 => PAYLOAD_SIZES[0],
            6..=8 => PAYLOAD_SIZES[1],
            _ => PAYLOAD_SIZES[2],
        };
        let qos = (i % 3) as u8;
        let props = match i % 4 {
            0 | 2 => Props::None,
            1 => Props::Telemetry,
            _ => Props::Request,
        };
        let id = if qos == 0 { 0 } else { next_id() };
        out.push(Msg::Publish {
            topic: TOPICS[i % TOPICS.len()],
            qos,
            packet_id: id,
            payload: payload(size, i),
            props,
        });
        match qos {
            1 => out.push(Msg::PubAck(id)),
            2 => out.extend([Msg::PubRec(id), Msg::PubRel(id), Msg::PubComp(id)]),
            _ => {}
        }
        if i % 20 == 19 {
            out.extend([Msg::PingReq, Msg::PingResp]);
        }
        if i == 29 {
            out.extend(subscribe(next_id(), &[("home/+/light", 1)]));
            let id = next_id();
            out.extend([
                Msg::Unsubscribe {
                    packet_id: id,
                    filters: vec!["factory/line-2/+/status"],
                },
                Msg::UnsubAck(id),
            ]);
        }
    }
    out
}

const USER_PROPERTY: (&str, &str) = ("trace-id", "4bf92f3577b34da6a3ce929d0e0e4736");
const CONTENT_TYPE: &str = "application/json";
const MESSAGE_EXPIRY: u32 = 3600;
const RESPONSE_TOPIC: &str = "replies/client-42";
const CORRELATION_DATA: &[u8] = b"req-000123";

fn ours_props(props: Props) -> ours::Properties {
    let user = vec![(USER_PROPERTY.0.into(), USER_PROPERTY.1.into())];
    match props {
        Props::None => ours::Properties::default(),
        Props::Telemetry => ours::Properties {
            payload_format_indicator: Some(1),
            content_type: Some(CONTENT_TYPE.into()),
            message_expiry_interval: Some(MESSAGE_EXPIRY),
            user_properties: user,
            ..Default::default()
        },
        Props::Request => ours::Properties {
            response_topic: Some(RESPONSE_TOPIC.into()),
            correlation_data: Some(Bytes::from_static(CORRELATION_DATA)),
            user_properties: user,
            ..Default::default()
        },
    }
}

fn ours_qos(q: u8) -> ours::QoS {
    ours::QoS::from_u8(q).expect("QoS 0, 1 or 2")
}

/// The packet in our model, for `version` (properties are dropped under 3.1.1).
pub fn to_ours(msg: &Msg, version: Version) -> ours::Packet {
    use ours::{Packet, PubAck, ReasonCode};
    let v5 = version == Version::V5;
    match msg {
        Msg::Publish {
            topic,
            qos,
            packet_id,
            payload,
            props,
        } => Packet::Publish(ours::Publish {
            qos: ours_qos(*qos),
            topic: (*topic).into(),
            packet_id: (*qos > 0).then_some(*packet_id),
            properties: if v5 {
                ours_props(*props).into()
            } else {
                ours::Properties::default().into()
            },
            payload: payload.clone(),
            ..Default::default()
        }),
        Msg::PubAck(id) => Packet::Puback(PubAck::new(*id)),
        Msg::PubRec(id) => Packet::Pubrec(PubAck::new(*id)),
        Msg::PubRel(id) => Packet::Pubrel(PubAck::new(*id)),
        Msg::PubComp(id) => Packet::Pubcomp(PubAck::new(*id)),
        Msg::Subscribe { packet_id, filters } => Packet::Subscribe(ours::Subscribe {
            packet_id: *packet_id,
            properties: if v5 {
                ours::Properties {
                    subscription_identifiers: vec![u32::from(*packet_id)],
                    ..Default::default()
                }
                .into()
            } else {
                ours::Properties::default().into()
            },
            filters: filters
                .iter()
                .map(|(f, q)| ours::Subscription::new(*f, ours_qos(*q)))
                .collect(),
        }),
        Msg::SubAck { packet_id, granted } => Packet::Suback(ours::SubAck {
            packet_id: *packet_id,
            properties: ours::Properties::default().into(),
            reason_codes: granted.iter().map(|&q| ReasonCode(q)).collect(),
        }),
        Msg::Unsubscribe { packet_id, filters } => Packet::Unsubscribe(ours::Unsubscribe {
            packet_id: *packet_id,
            properties: ours::Properties::default().into(),
            filters: filters.iter().map(|&f| f.into()).collect(),
        }),
        Msg::UnsubAck(id) => Packet::Unsuback(ours::UnsubAck {
            packet_id: *id,
            properties: ours::Properties::default().into(),
            reason_codes: if v5 { vec![ReasonCode(0)] } else { vec![] },
        }),
        Msg::PingReq => Packet::Pingreq,
        Msg::PingResp => Packet::Pingresp,
    }
}

fn r4_qos(q: u8) -> rumqttc::mqttbytes::QoS {
    rumqttc::mqttbytes::qos(q).expect("QoS 0, 1 or 2")
}

/// The packet in rumqttc's MQTT 3.1.1 model.
pub fn to_rumqttc_v4(msg: &Msg) -> r4::Packet {
    use r4::Packet;
    match msg {
        Msg::Publish {
            topic,
            qos,
            packet_id,
            payload,
            ..
        } => {
            let mut p = r4::Publish::from_bytes(*topic, r4_qos(*qos), payload.clone());
            p.pkid = *packet_id;
            Packet::Publish(p)
        }
        Msg::PubAck(id) => Packet::PubAck(r4::PubAck::new(*id)),
        Msg::PubRec(id) => Packet::PubRec(r4::PubRec::new(*id)),
        Msg::PubRel(id) => Packet::PubRel(r4::PubRel::new(*id)),
        Msg::PubComp(id) => Packet::PubComp(r4::PubComp::new(*id)),
        Msg::Subscribe { packet_id, filters } => Packet::Subscribe(r4::Subscribe {
            pkid: *packet_id,
            filters: filters
                .iter()
                .map(|(f, q)| r4::SubscribeFilter::new(f.to_string(), r4_qos(*q)))
                .collect(),
        }),
        Msg::SubAck { packet_id, granted } => Packet::SubAck(r4::SubAck::new(
            *packet_id,
            granted
                .iter()
                .map(|&q| r4::SubscribeReasonCode::Success(r4_qos(q)))
                .collect(),
        )),
        Msg::Unsubscribe { packet_id, filters } => Packet::Unsubscribe(r4::Unsubscribe {
            pkid: *packet_id,
            topics: filters.iter().map(|f| f.to_string()).collect(),
        }),
        Msg::UnsubAck(id) => Packet::UnsubAck(r4::UnsubAck::new(*id)),
        Msg::PingReq => Packet::PingReq,
        Msg::PingResp => Packet::PingResp,
    }
}

fn r5_qos(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    rumqttc::v5::mqttbytes::qos(q).expect("QoS 0, 1 or 2")
}

fn r5_props(props: Props) -> Option<r5::PublishProperties> {
    let user = vec![(USER_PROPERTY.0.to_string(), USER_PROPERTY.1.to_string())];
    let none = r5::PublishProperties::default();
    match props {
        Props::None => None,
        Props::Telemetry => Some(r5::PublishProperties {
            payload_format_indicator: Some(1),
            content_type: Some(CONTENT_TYPE.to_string()),
            message_expiry_interval: Some(MESSAGE_EXPIRY),
            user_properties: user,
            ..none
        }),
        Props::Request => Some(r5::PublishProperties {
            response_topic: Some(RESPONSE_TOPIC.to_string()),
            correlation_data: Some(Bytes::from_static(CORRELATION_DATA)),
            user_properties: user,
            ..none
        }),
    }
}

/// The packet in rumqttc's MQTT 5.0 model.
pub fn to_rumqttc_v5(msg: &Msg) -> r5::Packet {
    use r5::Packet;
    match msg {
        Msg::Publish {
            topic,
            qos,
            packet_id,
            payload,
            props,
        } => {
            let mut p = r5::Publish::new(*topic, r5_qos(*qos), payload.clone(), r5_props(*props));
            p.pkid = *packet_id;
            Packet::Publish(p)
        }
        Msg::PubAck(id) => Packet::PubAck(r5::PubAck::new(*id, None)),
        Msg::PubRec(id) => Packet::PubRec(r5::PubRec::new(*id, None)),
        Msg::PubRel(id) => Packet::PubRel(r5::PubRel::new(*id, None)),
        Msg::PubComp(id) => Packet::PubComp(r5::PubComp::new(*id, None)),
        Msg::Subscribe { packet_id, filters } => Packet::Subscribe(r5::Subscribe {
            pkid: *packet_id,
            filters: filters
                .iter()
                .map(|(f, q)| r5::Filter::new(*f, r5_qos(*q)))
                .collect(),
            properties: Some(r5::SubscribeProperties {
                id: Some(usize::from(*packet_id)),
                user_properties: vec![],
            }),
        }),
        Msg::SubAck { packet_id, granted } => Packet::SubAck(r5::SubAck {
            pkid: *packet_id,
            return_codes: granted
                .iter()
                .map(|&q| r5::SubscribeReasonCode::Success(r5_qos(q)))
                .collect(),
            properties: None,
        }),
        Msg::Unsubscribe { packet_id, filters } => Packet::Unsubscribe(r5::Unsubscribe {
            pkid: *packet_id,
            filters: filters.iter().map(|f| f.to_string()).collect(),
            properties: None,
        }),
        Msg::UnsubAck(id) => Packet::UnsubAck(r5::UnsubAck {
            pkid: *id,
            reasons: vec![r5::UnsubAckReason::Success],
            properties: None,
        }),
        Msg::PingReq => Packet::PingReq(r5::PingReq),
        Msg::PingResp => Packet::PingResp(r5::PingResp),
    }
}

/// The stream on the wire, as our codec encodes it for `version`: the input of the decode benches.
pub fn wire(msgs: &[Msg], version: Version) -> Bytes {
    let mut out = BytesMut::new();
    for m in msgs {
        ours::encode(&to_ours(m, version), version.ours(), &mut out).expect("encodable");
    }
    out.freeze()
}

/// Packets per type number (index 1..=15), to compare what two codecs decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts(pub [usize; 16]);

impl Counts {
    pub fn add(&mut self, packet_type: u8) {
        self.0[usize::from(packet_type)] += 1;
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// The fixed-header type number of a rumqttc v4 packet.
pub fn r4_type(p: &r4::Packet) -> u8 {
    use r4::Packet::*;
    match p {
        Connect(_) => 1,
        ConnAck(_) => 2,
        Publish(_) => 3,
        PubAck(_) => 4,
        PubRec(_) => 5,
        PubRel(_) => 6,
        PubComp(_) => 7,
        Subscribe(_) => 8,
        SubAck(_) => 9,
        Unsubscribe(_) => 10,
        UnsubAck(_) => 11,
        PingReq => 12,
        PingResp => 13,
        Disconnect => 14,
    }
}

/// The fixed-header type number of a rumqttc v5 packet.
pub fn r5_type(p: &r5::Packet) -> u8 {
    use r5::Packet::*;
    match p {
        Connect(..) => 1,
        ConnAck(_) => 2,
        Publish(_) => 3,
        PubAck(_) => 4,
        PubRec(_) => 5,
        PubRel(_) => 6,
        PubComp(_) => 7,
        Subscribe(_) => 8,
        SubAck(_) => 9,
        Unsubscribe(_) => 10,
        UnsubAck(_) => 11,
        PingReq(_) => 12,
        PingResp(_) => 13,
        Disconnect(_) => 14,
    }
}

/// Decodes a whole stream with our incremental decoder, fed in `segment`-byte pieces.
pub fn decode_ours(wire: &[u8], version: Version, segment: usize) -> Counts {
    let mut counts = Counts::default();
    let mut d = ours::Decoder::new(version.ours());
    for chunk in wire.chunks(segment) {
        d.feed(chunk);
        loop {
            match d.next() {
                Ok(Some(p)) => counts.add(p.packet_type()),
                Ok(None) => break,
                Err(e) => panic!("mqttspec: {e}"),
            }
        }
    }
    assert_eq!(d.buffered(), 0, "bytes left over");
    counts
}

/// Decodes a whole stream with rumqttc's codec for `version`, fed in `segment`-byte pieces.
pub fn decode_rumqttc(wire: &[u8], version: Version, segment: usize) -> Counts {
    let mut counts = Counts::default();
    let mut buf = BytesMut::new();
    for chunk in wire.chunks(segment) {
        buf.extend_from_slice(chunk);
        loop {
            match version {
                Version::V311 => match r4::read(&mut buf, usize::MAX) {
                    Ok(p) => counts.add(r4_type(&p)),
                    Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => break,
                    Err(e) => panic!("rumqttc v4: {e}"),
                },
                Version::V5 => match r5::Packet::read(&mut buf, None) {
                    Ok(p) => counts.add(r5_type(&p)),
                    Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => break,
                    Err(e) => panic!("rumqttc v5: {e}"),
                },
            }
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    counts
}

/// Encodes every packet into `out` (cleared first, so its capacity is reused) with our codec.
pub fn encode_ours(packets: &[ours::Packet], version: Version, out: &mut BytesMut) -> usize {
    out.clear();
    for p in packets {
        ours::encode(p, version.ours(), out).expect("encodable");
    }
    out.len()
}

/// Writes a rumqttc v4 packet: v4 has no `Packet::write`, so this is the dispatch its v5 module
/// has built in (and rumqttc's own event loop does by hand).
pub fn r4_write(p: &r4::Packet, out: &mut BytesMut) -> Result<usize, rumqttc::mqttbytes::Error> {
    use r4::Packet::*;
    match p {
        Connect(p) => p.write(out),
        ConnAck(p) => p.write(out),
        Publish(p) => p.write(out),
        PubAck(p) => p.write(out),
        PubRec(p) => p.write(out),
        PubRel(p) => p.write(out),
        PubComp(p) => p.write(out),
        Subscribe(p) => p.write(out),
        SubAck(p) => p.write(out),
        Unsubscribe(p) => p.write(out),
        UnsubAck(p) => p.write(out),
        PingReq => r4::PingReq.write(out),
        PingResp => r4::PingResp.write(out),
        Disconnect => r4::Disconnect.write(out),
    }
}

/// rumqttc's models of one stream, for either version.
pub enum Rumqttc {
    V4(Vec<r4::Packet>),
    V5(Vec<r5::Packet>),
}

impl Rumqttc {
    pub fn build(msgs: &[Msg], version: Version) -> Self {
        match version {
            Version::V311 => Rumqttc::V4(msgs.iter().map(to_rumqttc_v4).collect()),
            Version::V5 => Rumqttc::V5(msgs.iter().map(to_rumqttc_v5).collect()),
        }
    }

    /// Encodes every packet into `out` (cleared first, so its capacity is reused).
    pub fn encode(&self, out: &mut BytesMut) -> usize {
        out.clear();
        match self {
            Rumqttc::V4(ps) => {
                for p in ps {
                    r4_write(p, out).expect("rumqttc v4 encodes");
                }
            }
            Rumqttc::V5(ps) => {
                for p in ps {
                    p.write(out).expect("rumqttc v5 encodes");
                }
            }
        }
        out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TCP's usual maximum segment size on Ethernet: the split the segmented benches use.
    const MSS: usize = 1460;

    #[test]
    fn stream_has_the_advertised_mix() {
        let msgs = stream();
        let counts = decode_ours(&wire(&msgs, Version::V5), Version::V5, usize::MAX);
        assert_eq!(counts.total(), msgs.len());
        assert_eq!(counts.0[3], 60, "publishes");
        assert_eq!(counts.0[4], 20, "PUBACK");
        for t in 5..=7 {
            assert_eq!(counts.0[t], 20, "PUBREC/PUBREL/PUBCOMP");
        }
        assert_eq!((counts.0[8], counts.0[9]), (2, 2), "SUBSCRIBE/SUBACK");
        assert_eq!((counts.0[10], counts.0[11]), (1, 1), "UNSUBSCRIBE/UNSUBACK");
        assert_eq!((counts.0[12], counts.0[13]), (3, 3), "pings");
    }

    #[test]
    fn both_codecs_decode_the_same_packets() {
        let msgs = stream();
        for v in Version::ALL {
            let wire = wire(&msgs, v);
            for segment in [usize::MAX, MSS, 1] {
                let ours = decode_ours(&wire, v, segment);
                let theirs = decode_rumqttc(&wire, v, segment);
                assert_eq!(ours, theirs, "{} split {segment}", v.label());
                let floor = floor::decode_floor(&wire, v, segment);
                assert_eq!(ours, floor, "{} split {segment}", v.label());
                assert_eq!(ours.total(), msgs.len());
            }
        }
    }

    #[test]
    fn the_floor_encoder_writes_the_stream_back() {
        for v in Version::ALL {
            let wire = wire(&stream(), v);
            let packets = floor::packet_bytes(&wire);
            assert_eq!(packets.len(), stream().len());
            let mut out = BytesMut::new();
            assert_eq!(floor::encode_floor(&packets, &mut out), wire.len());
            assert_eq!(out, wire);
        }
    }

    #[test]
    fn both_codecs_encode_the_same_bytes() {
        let msgs = stream();
        for v in Version::ALL {
            let mut theirs = BytesMut::new();
            for m in &msgs {
                match v {
                    Version::V311 => {
                        r4_write(&to_rumqttc_v4(m), &mut theirs).map_err(|e| e.to_string())
                    }
                    Version::V5 => to_rumqttc_v5(m)
                        .write(&mut theirs)
                        .map_err(|e| e.to_string()),
                }
                .expect("rumqttc encodes");
            }
            let ours = wire(&msgs, v);
            assert_eq!(ours.len(), theirs.len(), "{}", v.label());
            if v == Version::V311 {
                // No properties, so no ordering freedom: byte for byte the same.
                assert_eq!(ours, theirs.freeze());
            }
        }
    }

    #[test]
    fn rumqttc_decodes_to_the_packets_it_was_built_from() {
        // Stronger than counts: rumqttc's decode of our bytes equals its own model of the stream
        // (v5 properties included), so both sides really decode the same content.
        let msgs = stream();
        let mut buf = BytesMut::from(&wire(&msgs, Version::V5)[..]);
        for m in &msgs {
            let p = r5::Packet::read(&mut buf, None).expect("decodes");
            assert_eq!(p, to_rumqttc_v5(m));
        }
        let mut buf = BytesMut::from(&wire(&msgs, Version::V311)[..]);
        for m in &msgs {
            assert_eq!(
                r4::read(&mut buf, usize::MAX).expect("decodes"),
                to_rumqttc_v4(m)
            );
        }
        let ours: Vec<_> = msgs.iter().map(|m| to_ours(m, Version::V5)).collect();
        let mut d = ours::Decoder::new(ours::ProtocolVersion::V5);
        d.feed(&wire(&msgs, Version::V5));
        for p in &ours {
            assert_eq!(&d.next().unwrap().unwrap(), p);
        }
    }
}
