//! Size limits: Remaining Length and Variable Byte Integer boundaries (3.1.1 §2.2.3, 5.0 §1.5.5
//! Table 1-1), the largest packet the wire can describe, and the receiver's Maximum Packet Size,
//! which the decoder enforces from the fixed header alone.

mod common;

use bytes::{Bytes, BytesMut};
use common::enc;
use mqttspec_codec::{
    decode_one, encode, Decoder, EncodeError, ErrorKind, Packet, Properties, ProtocolVersion,
    Publish, MAX_PACKET_SIZE, MAX_VARIABLE_BYTE_INTEGER,
};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Each boundary of Table 1-1 / Table 2.4 and its encoding.
const BOUNDARIES: [(usize, &[u8]); 8] = [
    (0, &[0x00]),
    (127, &[0x7F]),
    (128, &[0x80, 0x01]),
    (16_383, &[0xFF, 0x7F]),
    (16_384, &[0x80, 0x80, 0x01]),
    (2_097_151, &[0xFF, 0xFF, 0x7F]),
    (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
    (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
];

/// A QoS 0 PUBLISH to "t" whose Remaining Length is exactly `body` in `version`.
fn publish_of_body(body: usize, version: ProtocolVersion) -> Packet {
    let overhead = if version.is_v5() { 4 } else { 3 }; // topic "t" (+ property length 0)
    Packet::Publish(Publish {
        topic: "t".into(),
        // Zeroed memory: the largest payloads cost address space, not time.
        payload: Bytes::from(vec![0u8; body - overhead]),
        ..Publish::default()
    })
}

/// Decodes without copying: the encoded buffer becomes the decoder's buffer.
fn decode_in_place(bytes: BytesMut, version: ProtocolVersion) -> Packet {
    let mut d = Decoder::new(version);
    *d.buffer_mut() = bytes;
    let p = d.next().unwrap().expect("a whole packet");
    assert_eq!(d.buffered(), 0);
    p
}

/// The fixed header's length: the first byte and the Remaining Length's bytes.
fn header_len(bytes: &[u8]) -> usize {
    2 + bytes[1..].iter().position(|b| b & 0x80 == 0).unwrap()
}

#[test]
fn remaining_length_boundaries_encode_as_the_spec_tables_say() {
    // 0: PINGREQ is the whole packet.
    assert_eq!(&enc(&Packet::Pingreq, V5)[..], &[0xC0, 0x00]);
    for version in [V3, V5] {
        for (body, wire) in &BOUNDARIES[1..7] {
            let p = publish_of_body(*body, version);
            let bytes = enc(&p, version);
            assert_eq!(&bytes[1..1 + wire.len()], *wire, "{body} in {version}");
            assert_eq!(bytes.len(), 1 + wire.len() + body);
            assert_eq!(p.encoded_len(version), bytes.len());
            assert_eq!(decode_in_place(bytes, version), p, "{body} in {version}");
        }
    }
}

#[test]
fn the_largest_packet_round_trips_and_one_byte_more_is_refused() {
    // 268,435,455: the largest Remaining Length, once (a 256 MiB payload).
    let p = publish_of_body(MAX_VARIABLE_BYTE_INTEGER as usize, V3);
    let bytes = enc(&p, V3);
    assert_eq!(&bytes[..5], &[0x30, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert_eq!(bytes.len() as u32, MAX_PACKET_SIZE);
    assert!(decode_in_place(bytes, V3) == p);

    // 268,435,456 cannot be said: the encoder refuses and writes nothing.
    let p = publish_of_body(MAX_VARIABLE_BYTE_INTEGER as usize + 1, V5);
    let mut out = BytesMut::new();
    assert_eq!(
        encode(&p, V5, &mut out),
        Err(EncodeError::PacketTooLong(268_435_456))
    );
    assert!(out.is_empty());
}

#[test]
fn the_decoder_waits_for_the_largest_body_without_reserving_it() {
    let mut d = Decoder::new(V5);
    d.feed(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]);
    assert_eq!(d.next(), Ok(None));
    // A peer announcing 256 MiB does not make the receiver allocate it before it arrives.
    assert!(d.buffer_mut().capacity() < 1024 * 1024);
    // A fourth length byte that announces a fifth is malformed, whatever follows.
    let mut d = Decoder::new(V5);
    d.feed(&[0x30, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        d.next(),
        Ok(None),
        "three bytes with a continuation bit: need more"
    );
    d.feed(&[0xFF]);
    assert_eq!(
        d.next().unwrap_err().kind,
        ErrorKind::VariableByteIntegerTooLong
    );
}

#[test]
fn variable_byte_integers_in_properties_hit_every_boundary() {
    for (value, wire) in &BOUNDARIES[1..] {
        let p = Packet::Publish(Publish {
            topic: "t".into(),
            properties: Properties {
                subscription_identifiers: vec![*value as u32],
                ..Properties::default()
            }
            .into(),
            ..Publish::default()
        });
        let bytes = enc(&p, V5);
        // 30 RL | 00 01 74 | property length | 0B value...
        let expected: Vec<u8> = [&[0x0B][..], wire].concat();
        assert_eq!(bytes[5] as usize, expected.len(), "{value}");
        assert_eq!(&bytes[6..], &expected[..], "{value}");
        assert_eq!(decode_one(&bytes, V5).unwrap(), p);
    }
    let too_big = Packet::Publish(Publish {
        topic: "t".into(),
        properties: Properties {
            subscription_identifiers: vec![268_435_456],
            ..Properties::default()
        }
        .into(),
        ..Publish::default()
    });
    assert_eq!(
        encode(&too_big, V5, &mut BytesMut::new()),
        Err(EncodeError::VariableByteIntegerTooLarge(268_435_456))
    );
}

#[test]
fn property_length_boundaries() {
    // One User Property of 5 + name + value bytes: property lengths 127 / 128 / 16,383 / 16,384.
    for (len, wire) in &BOUNDARIES[1..5] {
        let p = Packet::Publish(Publish {
            topic: "t".into(),
            properties: Properties {
                user_properties: vec![("".into(), "v".repeat(len - 5).into())],
                ..Properties::default()
            }
            .into(),
            ..Publish::default()
        });
        let bytes = enc(&p, V5);
        // header | 00 01 74 | property length
        let at = header_len(&bytes) + 3;
        assert_eq!(&bytes[at..at + wire.len()], *wire, "property length {len}");
        assert_eq!(decode_one(&bytes, V5).unwrap(), p);
    }
}

#[test]
fn maximum_packet_size_is_enforced_from_the_fixed_header() {
    // A PUBLISH announcing 1,000 bytes of body to a receiver that takes 100 bytes at most.
    let mut d = Decoder::new(V5).with_max_packet_size(100);
    d.feed(&[0x30, 0xE8]);
    assert_eq!(d.next(), Ok(None), "the length is not complete yet");
    d.feed(&[0x07]);
    let e = d.next().unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::PacketTooLarge {
            size: 1003,
            maximum: 100
        }
    );
    assert_eq!((e.spec, e.reason_code().0), ("MQTT-3.2.2-15", 0x95));
    // Refused with three bytes received, and nothing reserved for the body.
    assert_eq!(d.buffered(), 3);
    assert!(d.buffer_mut().capacity() < 1000);

    // Before 5.0 the limit is the receiver's own; the rule is the Remaining Length's section.
    let mut d = Decoder::new(V3).with_max_packet_size(100);
    d.feed(&[0x30, 0xE8, 0x07]);
    assert_eq!(d.next().unwrap_err().spec, "§2.2.3");
}

#[test]
fn maximum_packet_size_counts_the_whole_packet() {
    for version in [V3, V5] {
        // Exactly the maximum passes; one byte more fails, however it arrives.
        let fits = enc(&publish_of_body(98, version), version); // 1 + 1 + 98 = 100 bytes
        let over = enc(&publish_of_body(99, version), version);
        assert_eq!((fits.len(), over.len()), (100, 101));
        let mut d = Decoder::learning().with_max_packet_size(100);
        d.set_version(version);
        d.feed(&fits);
        assert!(matches!(d.next(), Ok(Some(Packet::Publish(_)))));
        d.feed(&over[..2]);
        assert!(matches!(
            d.next().unwrap_err().kind,
            ErrorKind::PacketTooLarge {
                size: 101,
                maximum: 100
            }
        ));
    }
    // A learning decoder (a server before CONNECT) names the v5 rule.
    let mut d = Decoder::learning().with_max_packet_size(10);
    d.feed(&[0x10, 0x7F]);
    assert_eq!(d.next().unwrap_err().spec, "MQTT-3.2.2-15");
}
