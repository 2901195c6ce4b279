//! The floor: the least work any codec with an owned model over `bytes` must do on this stream,
//! with no validation and no packet model at all. It is a yardstick for the 2x goal, not a codec:
//! if rumqttc's time is not twice the floor's, no owned-model codec can be twice as fast.
//!
//! - Decode: copy the stream into a `BytesMut` (as both codecs do), read each fixed header, take
//!   the 2- and 4-byte packets out of the buffer as they stand, split every other frame off, and
//!   slice a PUBLISH's topic and payload out of it: one reference count each, as an owned
//!   `Bytes` topic and payload need. Properties are skipped, not decoded.
//! - Encode: copy each packet's finished bytes into one reused `BytesMut`: what is left of an
//!   encoder that had nothing to compute.

use crate::{Counts, Version};
use bytes::{Buf, Bytes, BytesMut};
use std::hint::black_box;

/// Frames `wire`, fed in `segment`-byte pieces, the floor's way (see the module doc).
pub fn decode_floor(wire: &[u8], version: Version, segment: usize) -> Counts {
    let mut counts = Counts::default();
    let mut buf = BytesMut::new();
    for chunk in wire.chunks(segment) {
        buf.extend_from_slice(chunk);
        while let Some(packet_type) = next(&mut buf, version) {
            counts.add(packet_type);
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    counts
}

/// Takes one packet off the front of `buf`, `None` if it is not all there.
fn next(buf: &mut BytesMut, version: Version) -> Option<u8> {
    let first = *buf.first()?;
    let (remaining, len_bytes) = variable_int(&buf[1..])?;
    let total = 1 + len_bytes + remaining;
    if buf.len() < total {
        return None;
    }
    if remaining <= 2 {
        black_box(&buf[..total]);
        buf.advance(total);
        return Some(first >> 4);
    }
    let mut frame = buf.split_to(total).freeze();
    frame.advance(1 + len_bytes);
    if first >> 4 == 3 {
        let topic_len = usize::from(u16::from_be_bytes([frame[0], frame[1]]));
        let topic = frame.slice(2..2 + topic_len);
        let mut at = 2 + topic_len;
        let packet_id = if first & 0x06 != 0 {
            at += 2;
            u16::from_be_bytes([frame[at - 2], frame[at - 1]])
        } else {
            0
        };
        if version == Version::V5 {
            let (properties, len) = variable_int(&frame[at..])?;
            at += len + properties;
        }
        frame.advance(at);
        black_box((topic, frame, packet_id));
    } else {
        black_box(frame);
    }
    Some(first >> 4)
}

/// A variable byte integer and its length in bytes; `None` if it is cut short.
fn variable_int(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().take(4).enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Each packet's finished bytes, for [`encode_floor`].
pub fn packet_bytes(wire: &Bytes) -> Vec<Bytes> {
    let mut rest = wire.clone();
    let mut packets = Vec::new();
    while !rest.is_empty() {
        let (remaining, len_bytes) = variable_int(&rest[1..]).expect("a whole stream");
        packets.push(rest.split_to(1 + len_bytes + remaining));
    }
    packets
}

/// Copies every packet's bytes into `out` (cleared first); returns the bytes written.
pub fn encode_floor(packets: &[Bytes], out: &mut BytesMut) -> usize {
    out.clear();
    for p in packets {
        out.extend_from_slice(p);
    }
    out.len()
}
