//! Property tests: every valid packet of both versions survives encode -> decode (and its serde
//! form), any split of a stream decodes like the whole stream, and no input makes the decoder
//! panic.

mod common;

use common::strategies::{connect, packet};
use common::{decode_all, decode_chunks, enc};
use mqttspec_codec::{decode_one, encode, Decoder, Packet, ProtocolVersion};
use proptest::collection::vec;
use proptest::prelude::*;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// encode -> decode gives the packet back, `encoded_len` is exact, and so is the serde form.
fn assert_round_trip(p: &Packet, version: ProtocolVersion) -> Result<(), TestCaseError> {
    let bytes = enc(p, version);
    prop_assert_eq!(bytes.len(), p.encoded_len(version));
    let back = decode_one(&bytes, version).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&back, p);
    let json = serde_json::to_string(p).unwrap();
    let from_json: Packet = serde_json::from_str(&json)
        .map_err(|e| TestCaseError::fail(format!("serde form {json} does not read back: {e}")))?;
    prop_assert_eq!(&from_json, p);
    Ok(())
}

/// Decodes `bytes` with a decoder for `version` (`None`: a learning one); every packet that
/// comes out must re-encode and decode to itself (the oracle of the decode fuzz targets), and
/// an error must render and map to a reason code.
fn assert_reencodes(version: Option<ProtocolVersion>, bytes: &[u8]) -> Result<(), TestCaseError> {
    let decoder = version.map_or_else(Decoder::learning, Decoder::new);
    let (packets, error, _) = decode_all(decoder, bytes);
    if let Some(e) = error {
        let _ = (e.to_string(), e.reason_code());
    }
    // A learning decoder reads packets before the first CONNECT with 3.1.1 framing.
    let (mut current, mut learned) = (version.unwrap_or(V3), version.is_some());
    for p in packets {
        if let (false, Packet::Connect(c)) = (learned, &p) {
            (current, learned) = (c.protocol, true);
        }
        let mut out = bytes::BytesMut::new();
        encode(&p, current, &mut out).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let again = decode_one(&out, current).map_err(|e| {
            TestCaseError::fail(format!("{p:?} re-encoded as {out:02x?} fails: {e}"))
        })?;
        prop_assert_eq!(again, p);
    }
    Ok(())
}

/// Some packets of one version, and that version.
fn stream() -> impl Strategy<Value = (ProtocolVersion, Vec<Packet>)> {
    let of = |v| vec(packet(v), 0..5).prop_map(move |ps| (v, ps));
    prop_oneof![of(V3), of(V5)]
}

/// A CONNECT, then packets of the version it opens (and no other CONNECT).
fn opened_stream() -> impl Strategy<Value = (ProtocolVersion, Vec<Packet>)> {
    let of = |v| {
        let rest = packet(v).prop_filter("one CONNECT", |p| !matches!(p, Packet::Connect(_)));
        (connect(v), vec(rest, 0..5)).prop_map(|(first, rest)| {
            let Packet::Connect(c) = &first else {
                unreachable!()
            };
            (c.protocol, std::iter::once(first).chain(rest).collect())
        })
    };
    prop_oneof![of(V3), of(V5)]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn v311_packets_round_trip(p in packet(V3)) {
        assert_round_trip(&p, V3)?;
    }

    #[test]
    fn v5_packets_round_trip(p in packet(V5)) {
        assert_round_trip(&p, V5)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes never make the decoder panic, in either version or learning mode.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..96)) {
        for version in [Some(V5), Some(V3), None] {
            assert_reencodes(version, &bytes)?;
        }
    }

    /// Valid packets with one byte changed, or cut short: no panic, and whatever still decodes
    /// re-encodes to itself.
    #[test]
    fn mutated_packets_never_panic(
        p in packet(V5),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = enc(&p, V5).to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        assert_reencodes(Some(V5), &bytes)?;
        assert_reencodes(None, &bytes)?;
        let original = enc(&p, V5);
        let (packets, error, left) = decode_all(Decoder::new(V5), &original[..cut.index(original.len())]);
        // A strict prefix of one packet is never a packet and never an error: just "more".
        prop_assert!(packets.is_empty() && error.is_none(), "{packets:?} {error:?}");
        prop_assert_eq!(left, cut.index(original.len()));
    }

    #[test]
    fn mutated_v311_packets_never_panic(
        p in packet(V3),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let mut bytes = enc(&p, V3).to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        assert_reencodes(Some(V3), &bytes)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// A stream of packets split at every byte offset decodes to the same packets as whole.
    #[test]
    fn stream_split_at_every_offset((version, packets) in stream()) {
        let bytes: Vec<u8> = packets.iter().flat_map(|p| enc(p, version).to_vec()).collect();
        let (whole, error, left) = decode_all(Decoder::new(version), &bytes);
        prop_assert!(error.is_none() && left == 0);
        prop_assert_eq!(&whole, &packets);
        for i in 0..=bytes.len() {
            let mut d = Decoder::new(version);
            let (split, error, left) = decode_chunks(&mut d, [&bytes[..i], &bytes[i..]]);
            prop_assert!(error.is_none() && left == 0, "split at {}: {:?}", i, error);
            prop_assert_eq!(&split, &whole, "split at {}", i);
        }
    }

    /// The same in random chunk sizes (zero-length feeds included), for a learning decoder that
    /// reads the version from the CONNECT opening the stream.
    #[test]
    fn stream_in_random_chunks(
        (version, packets) in opened_stream(),
        sizes in vec(0usize..24, 1..16),
    ) {
        let bytes: Vec<u8> = packets.iter().flat_map(|p| enc(p, version).to_vec()).collect();
        let mut chunks = Vec::new();
        let mut rest = &bytes[..];
        let all_zero = sizes.iter().all(|s| *s == 0);
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            // Zero-length sizes alone would never end the loop.
            let size = if all_zero { rest.len() } else { (*size).min(rest.len()) };
            let (chunk, tail) = rest.split_at(size);
            chunks.push(chunk);
            rest = tail;
        }
        let mut d = Decoder::learning();
        let (decoded, error, left) = decode_chunks(&mut d, chunks.iter().copied());
        prop_assert!(error.is_none() && left == 0, "{:?}", error);
        prop_assert_eq!(decoded, packets);
        prop_assert_eq!(d.version(), Some(version));
    }
}
