//! The incremental decoder: feed it bytes in any split, take whole packets out.

use crate::error::{DecodeError, ErrorKind};
use crate::packet::{decode_body, packet_type, peek_connect_version, Packet, Short};
use crate::version::ProtocolVersion;
use crate::wire::{parse_remaining_length, remaining_length_rule, MAX_VARIABLE_BYTE_INTEGER};
use bytes::{Buf, Bytes, BytesMut};

/// The largest packet the wire format can describe: a 5-byte fixed header and the largest body.
pub const MAX_PACKET_SIZE: u32 = MAX_VARIABLE_BYTE_INTEGER + 5;

/// Most bytes reserved ahead for a packet still arriving, so that a peer announcing a huge
/// packet cannot make the receiver allocate for it before sending it.
const MAX_RESERVE_AHEAD: usize = 64 * 1024;

/// Turns a byte stream into packets.
///
/// "Need more bytes" is `Ok(None)`, not an error. An error means the stream is broken: the
/// connection must be closed (with the error's reason code in v5), and the decoder not used again.
/// Packets share the decoder's buffer: payloads and strings are slices of it, never copies.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: Option<ProtocolVersion>,
    max_packet_size: u32,
}

impl Decoder {
    /// A decoder for a stream whose version is known (e.g. a client after its CONNECT).
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            buf: BytesMut::new(),
            version: Some(version),
            max_packet_size: MAX_PACKET_SIZE,
        }
    }

    /// A decoder that learns the version from the first CONNECT it decodes (a server's side).
    /// Packets before that are decoded with 3.1.1 framing.
    pub fn learning() -> Self {
        Self {
            version: None,
            ..Self::new(ProtocolVersion::V5)
        }
    }

    /// Refuses packets larger than `max` bytes (fixed header included) as soon as their fixed
    /// header arrives, before their body is buffered.
    pub fn with_max_packet_size(mut self, max: u32) -> Self {
        self.max_packet_size = max;
        self
    }

    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    /// The version packets are decoded for; `None` until a learning decoder sees CONNECT.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = Some(version);
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The receive buffer, for reading from a socket straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole packet, `Ok(None)` if more bytes are needed.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Result<Option<Packet>, DecodeError> {
        // Inline in the caller: the short packets (see `Short`) that make up half of a QoS 1 and
        // 2 stream, whole at the front of the buffer. Everything else: `next_frame`.
        let short_len: usize = match self.buf.get(1) {
            Some(0) => 2,
            Some(2) => 4,
            _ => 0,
        };
        if short_len != 0
            && short_len <= self.buf.len()
            && short_len as u64 <= u64::from(self.max_packet_size)
        {
            if let Some(short) = Short::parse(&self.buf[..short_len]) {
                self.buf.advance(short_len);
                return short.decoded();
            }
        }
        self.next_frame()
    }

    /// [`Self::next`] for any packet.
    fn next_frame(&mut self) -> Result<Option<Packet>, DecodeError> {
        let Some(&first) = self.buf.first() else {
            return Ok(None);
        };
        let parsed = parse_remaining_length(&self.buf[1..]).map_err(|e| DecodeError {
            // The four-byte limit is stated in 3.1.1 §2.2.3 and in 5.0 §1.5.5.
            spec: if self.version.is_none_or(|v| v.is_v5()) {
                "§1.5.5"
            } else {
                "§2.2.3"
            },
            ..e
        })?;
        let Some((remaining, len_bytes, minimal)) = parsed else {
            return Ok(None);
        };
        let header_len = 1 + len_bytes;
        let total = header_len + remaining;
        if total as u64 > u64::from(self.max_packet_size) {
            let v5 = self.version.is_none_or(|v| v.is_v5());
            return Err(DecodeError::new(
                ErrorKind::PacketTooLarge {
                    size: total as u64,
                    maximum: self.max_packet_size,
                },
                if v5 { "MQTT-3.2.2-15" } else { "§2.2.3" },
            ));
        }
        if self.buf.len() < total {
            self.buf
                .reserve((total - self.buf.len()).min(MAX_RESERVE_AHEAD));
            return Ok(None);
        }
        let mut body = self.buf.split_to(total).freeze();
        body.advance(header_len);
        if self.version.is_some() {
            // Returned as it is, so that the packet is built in place (see `decode_body`).
            return self.decode_frame(first, body, minimal);
        }
        let result = self.decode_frame(first, body, minimal);
        if let Ok(Some(Packet::Connect(c))) = &result {
            self.version = Some(c.protocol);
        }
        result
    }

    fn decode_frame(
        &self,
        first: u8,
        body: Bytes,
        minimal_length: bool,
    ) -> Result<Option<Packet>, DecodeError> {
        let version = match self.version {
            Some(v) => v,
            None if first >> 4 == packet_type::CONNECT => {
                peek_connect_version(&body).unwrap_or(ProtocolVersion::V5)
            }
            None => ProtocolVersion::V3_1_1,
        };
        if !minimal_length && version.is_v5() {
            return Err(DecodeError::new(
                ErrorKind::NonMinimalVariableByteInteger,
                "MQTT-1.5.5-1",
            ));
        }
        decode_body(first, body, version)
    }
}

/// Decodes exactly one packet from `bytes`: an error if it is incomplete or followed by more.
/// A CONNECT is decoded for the version it announces, whatever `version` says.
pub fn decode_one(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let mut d = Decoder::new(version);
    if bytes
        .first()
        .is_some_and(|b| b >> 4 == packet_type::CONNECT)
    {
        d = Decoder::learning();
    }
    d.feed(bytes);
    match d.next()? {
        Some(p) if d.buffered() == 0 => Ok(p),
        Some(_) => Err(DecodeError::new(
            ErrorKind::TrailingBytes {
                count: d.buffered(),
            },
            remaining_length_rule(version),
        )),
        None => Err(DecodeError::new(
            ErrorKind::Truncated {
                field: "fixed header or body",
            },
            remaining_length_rule(version),
        )),
    }
}
