//! Helpers shared by the integration tests: hand-built byte vectors and proptest strategies.
//! Each test binary uses only part of them.
#![allow(dead_code)]

pub mod strategies;
pub mod vectors;

use bytes::BytesMut;
use mqttspec_codec::{encode, Decoder, Packet, ProtocolVersion};

/// Encodes a packet, panicking if the encoder refuses it.
pub fn enc(packet: &Packet, version: ProtocolVersion) -> BytesMut {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out).unwrap_or_else(|e| panic!("encode {packet:?}: {e}"));
    out
}

/// Every packet the decoder yields for `bytes` fed in one piece, then the error (if any) that
/// stopped it and the number of bytes left undecoded.
pub fn decode_all(
    mut decoder: Decoder,
    bytes: &[u8],
) -> (Vec<Packet>, Option<mqttspec_codec::DecodeError>, usize) {
    decode_chunks(&mut decoder, std::iter::once(bytes))
}

/// Feeds `chunks` one after another, draining the decoder after each; stops at the first error.
pub fn decode_chunks<'a>(
    decoder: &mut Decoder,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Packet>, Option<mqttspec_codec::DecodeError>, usize) {
    let mut packets = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.next() {
                Ok(Some(p)) => packets.push(p),
                Ok(None) => break,
                Err(e) => return (packets, Some(e), decoder.buffered()),
            }
        }
    }
    (packets, None, decoder.buffered())
}
