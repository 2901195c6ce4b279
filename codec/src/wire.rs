//! The data representations of spec §1.5: integers, Variable Byte Integers, strings, binary data.
//! One set of helpers for every packet and both versions.

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::string::MqttString;
use crate::version::ProtocolVersion;
use bytes::{Buf, Bytes, BytesMut};

/// The largest value a Variable Byte Integer can hold (§1.5.5).
pub const MAX_VARIABLE_BYTE_INTEGER: u32 = 268_435_455;

/// A cursor over one packet's body; every read is bounds-checked and slices share the input.
pub(crate) struct Reader {
    buf: Bytes,
    pos: usize,
    pub(crate) version: ProtocolVersion,
}

impl Reader {
    pub(crate) fn new(buf: Bytes, version: ProtocolVersion) -> Self {
        Self {
            buf,
            pos: 0,
            version,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn err(&self, kind: ErrorKind, v3: &'static str, v5: &'static str) -> DecodeError {
        DecodeError::new(kind, self.version.pick(v3, v5))
    }

    fn truncated(&self, field: &'static str) -> DecodeError {
        DecodeError::new(
            ErrorKind::Truncated { field },
            remaining_length_rule(self.version),
        )
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.truncated(field))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let s = self.slice(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let s = self.slice(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn slice(&mut self, len: usize, field: &'static str) -> Result<&[u8], DecodeError> {
        if self.remaining() < len {
            return Err(self.truncated(field));
        }
        let s = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    /// The next `len` bytes, sharing the input.
    #[inline]
    pub(crate) fn bytes(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        if self.remaining() < len {
            return Err(self.truncated(field));
        }
        let b = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(b)
    }

    /// Everything left (PUBLISH and CONNECT payloads).
    pub(crate) fn rest(&mut self) -> Bytes {
        // Hands over the reader's own reference to the buffer: no reference count to raise here
        // and lower when the reader is dropped. The reader is then empty.
        let mut b = std::mem::take(&mut self.buf);
        b.advance(self.pos);
        self.pos = 0;
        b
    }

    /// A Variable Byte Integer inside a packet body (§1.5.5).
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let mut value: u32 = 0;
        for i in 0..4 {
            let byte = self.u8(field)?;
            value |= u32::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                if i > 0 && byte == 0 {
                    return Err(DecodeError::new(
                        ErrorKind::NonMinimalVariableByteInteger,
                        "MQTT-1.5.5-1",
                    ));
                }
                return Ok(value);
            }
        }
        Err(DecodeError::new(
            ErrorKind::VariableByteIntegerTooLong,
            "§1.5.5",
        ))
    }

    /// Two-byte length then that many bytes (§1.5.6).
    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let len = self.u16(field)? as usize;
        self.bytes(len, field)
    }

    /// A UTF-8 Encoded String (§1.5.4 / 3.1.1 §1.5.3): well-formed, no U+0000. U+FEFF is kept.
    /// Inline in its callers for the common case, plain ASCII; anything else is checked apart.
    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        match MqttString::from_plain_ascii(self.binary(field)?) {
            Ok(plain) => Ok(plain),
            Err(raw) => self.non_ascii_string(raw, field),
        }
    }

    #[inline(never)]
    fn non_ascii_string(&self, raw: Bytes, field: &'static str) -> Result<MqttString, DecodeError> {
        if raw.contains(&0) {
            return Err(self.err(
                ErrorKind::NullCharacter { field },
                "MQTT-1.5.3-2",
                "MQTT-1.5.4-2",
            ));
        }
        MqttString::from_utf8(raw).map_err(|_| {
            self.err(
                ErrorKind::InvalidUtf8 { field },
                "MQTT-1.5.3-1",
                "MQTT-1.5.4-1",
            )
        })
    }

    /// A packet identifier that must not be 0.
    pub(crate) fn packet_id(&mut self) -> Result<u16, DecodeError> {
        let id = self.u16("packet identifier")?;
        if id == 0 {
            return Err(self.err(
                ErrorKind::ZeroPacketIdentifier,
                "MQTT-2.3.1-1",
                "MQTT-2.2.1-3",
            ));
        }
        Ok(id)
    }

    /// Fails when bytes are left over: a packet's fields must fill it exactly.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::new(
                ErrorKind::TrailingBytes {
                    count: self.remaining(),
                },
                remaining_length_rule(self.version),
            ))
        }
    }
}

/// The section defining Remaining Length, which every packet's fields must fill exactly: the
/// rule that truncated packets and trailing bytes break.
pub(crate) fn remaining_length_rule(version: ProtocolVersion) -> &'static str {
    version.pick("§2.2.3", "§2.1.4")
}

/// Bytes a Variable Byte Integer takes.
pub(crate) fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes `value` as a Variable Byte Integer at the start of `buf` (4 bytes are always enough
/// for values the caller has checked against [`MAX_VARIABLE_BYTE_INTEGER`]); returns its length.
pub(crate) fn write_varint(buf: &mut [u8; 4], mut value: usize) -> usize {
    let mut n = 0;
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 || n == 3 {
            buf[n] = byte;
            return n + 1;
        }
        buf[n] = byte | 0x80;
        n += 1;
    }
}

pub(crate) fn put_varint(out: &mut BytesMut, mut value: usize) {
    loop {
        let mut byte = (value & 0x7F) as u8;
        value >>= 7;
        if value > 0 {
            byte |= 0x80;
        }
        out.extend_from_slice(&[byte]);
        if value == 0 {
            return;
        }
    }
}

pub(crate) fn check_len(field: &'static str, len: usize) -> Result<(), EncodeError> {
    if len > u16::MAX as usize {
        Err(EncodeError::FieldTooLong { field, len })
    } else {
        Ok(())
    }
}

/// Length-prefixed bytes; the caller has checked the length with [`check_len`].
pub(crate) fn put_binary(out: &mut BytesMut, bytes: &[u8]) {
    out.extend_from_slice(&u16::to_be_bytes(bytes.len() as u16));
    out.extend_from_slice(bytes);
}

/// Parses a fixed header's remaining length from `buf` (which starts at byte 2 of the packet).
///
/// Returns `Ok(None)` when more bytes are needed, else the length, the bytes it took and whether
/// it was in its shortest form (MQTT 5.0 requires that; 3.1.1 does not say).
pub(crate) fn parse_remaining_length(
    buf: &[u8],
) -> Result<Option<(usize, usize, bool)>, DecodeError> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        value |= ((byte & 0x7F) as usize) << (7 * i);
        if byte & 0x80 == 0 {
            let minimal = i == 0 || byte != 0;
            return Ok(Some((value, i + 1, minimal)));
        }
    }
    Err(DecodeError::new(
        ErrorKind::VariableByteIntegerTooLong,
        "§2.2.3",
    ))
}
