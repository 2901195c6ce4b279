//! Snapshots of the decoded (serde JSON) form of byte vectors built by hand from the specs'
//! packet diagrams (tests/common/vectors.rs): every packet type of both versions, MQTT 3.1's
//! CONNECT, and every v5 property. Each snapshot's description holds the vector's bytes.
//!
//! Re-encoding must give back the same bytes for every vector marked canonical.

mod common;

use common::enc;
use common::vectors::{self, Vector};
use mqttspec_codec::{decode_one, ProtocolVersion};
use mqttspec_codec::{Decoder, Packet};
use std::collections::BTreeSet;

fn decode(v: &Vector) -> Packet {
    decode_one(&v.bytes, v.version)
        .unwrap_or_else(|e| panic!("{}: {e} in {}", v.name, hex::encode(&v.bytes)))
}

fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_vector_decodes_to_its_snapshot() {
    for v in vectors::all() {
        let packet = decode(&v);
        insta::with_settings!({ description => spaced_hex(&v.bytes), omit_expression => true }, {
            insta::assert_json_snapshot!(v.name, packet);
        });
    }
}

#[test]
fn canonical_vectors_re_encode_to_the_same_bytes() {
    for v in vectors::all() {
        let packet = decode(&v);
        let again = enc(&packet, v.version);
        if v.canonical {
            assert_eq!(
                spaced_hex(&again),
                spaced_hex(&v.bytes),
                "{} re-encodes differently",
                v.name
            );
        } else {
            // Another valid form of the same packet: not the encoder's, but equal once decoded.
            assert_ne!(
                &again[..],
                &v.bytes[..],
                "{} is canonical after all",
                v.name
            );
            assert_eq!(decode_one(&again, v.version).unwrap(), packet, "{}", v.name);
        }
    }
}

#[test]
fn a_stream_of_all_vectors_decodes_packet_by_packet() {
    // A server's view: a learning decoder reads the version from the CONNECT opening the stream.
    for (list, version) in [
        (vectors::v3(), ProtocolVersion::V3_1_1),
        (vectors::v5(), ProtocolVersion::V5),
    ] {
        let connects: Vec<&Vector> = list.iter().filter(|v| v.bytes[0] == 0x10).collect();
        let rest = list.iter().filter(|v| v.bytes[0] != 0x10);
        let opening = connects.iter().find(|v| v.version == version).unwrap();
        let stream: Vec<u8> = std::iter::once(*opening)
            .chain(rest)
            .flat_map(|v| v.bytes.clone())
            .collect();
        let (packets, error, left) = common::decode_all(Decoder::learning(), &stream);
        assert_eq!((error, left), (None, 0), "{version}");
        let expected: Vec<Packet> = std::iter::once(*opening)
            .chain(list.iter().filter(|v| v.bytes[0] != 0x10))
            .map(decode)
            .collect();
        assert_eq!(packets, expected, "{version}");
    }
}

#[test]
fn vectors_cover_every_packet_type_and_property() {
    let types = |list: &[Vector]| -> BTreeSet<&'static str> {
        list.iter().map(|v| decode(v).name()).collect()
    };
    assert_eq!(types(&vectors::v3()).len(), 14, "3.1.1 has 14 packet types");
    assert_eq!(types(&vectors::v5()).len(), 15, "5.0 has 15 packet types");
    assert!(vectors::v3()
        .iter()
        .any(|v| v.version == ProtocolVersion::V3_1 && decode(v).name() == "CONNECT"));

    // Every property appears at least once (27 in Table 2-4), read from the serde form.
    let mut seen = BTreeSet::new();
    for v in vectors::v5() {
        let json = serde_json::to_value(decode(&v)).unwrap();
        let lists = [&json["properties"], &json["will"]["properties"]];
        for props in lists.into_iter().filter_map(|p| p.as_object()) {
            seen.extend(props.keys().cloned());
        }
    }
    assert_eq!(seen.len(), 27, "properties covered: {seen:?}");
}

#[test]
fn a_byte_order_mark_is_kept() {
    // MQTT-1.5.3-3 / MQTT-1.5.4-3: EF BB BF is U+FEFF and must not be skipped or stripped.
    let bytes = [0x30, 0x06, 0x00, 0x04, 0xEF, 0xBB, 0xBF, b't'];
    let Packet::Publish(p) = decode_one(&bytes, ProtocolVersion::V3_1_1).unwrap() else {
        panic!("not a PUBLISH")
    };
    assert_eq!(p.topic.as_str(), "\u{FEFF}t");
    assert_eq!(
        &enc(&Packet::Publish(p), ProtocolVersion::V3_1_1)[..],
        &bytes[..]
    );
}
