//! PUBACK, PUBREC, PUBREL and PUBCOMP (§3.4-§3.7): one shape, four packet types.

use super::packet_type;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{BoxedProperties, PropertyContext};
use crate::reason::{ReasonCode, ReasonContext};
use crate::wire::Reader;
use bytes::BytesMut;
use serde::{Deserialize, Serialize};

/// The acknowledgement of a QoS 1 or 2 PUBLISH, or a step of the QoS 2 handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PubAck {
    pub packet_id: u16,
    #[serde(default)]
    pub reason_code: ReasonCode,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
}

impl PubAck {
    /// An acknowledgement with reason 0x00 and no properties.
    pub fn new(packet_id: u16) -> Self {
        Self {
            packet_id,
            ..Self::default()
        }
    }

    /// Whether the packet is its packet identifier alone on the wire (always under 3.1.1; in v5
    /// when the reason code is 0x00 and there are no properties).
    pub(crate) fn is_short(&self, v5: bool) -> bool {
        !v5 || (self.reason_code.0 == 0 && self.properties.is_empty())
    }

    /// Writes the whole packet when [`Self::is_short`]: `first_byte`, length 2, packet identifier.
    #[inline(always)]
    pub(crate) fn put_short(&self, first_byte: u8, out: &mut BytesMut) -> Result<(), EncodeError> {
        let [hi, lo] = self.packet_id.to_be_bytes();
        out.extend_from_slice(&[first_byte, 2, hi, lo]);
        Ok(())
    }

    pub(crate) fn body_len(&self, v5: bool) -> usize {
        if !v5 {
            return 2;
        }
        let props = self.properties.encoded_len();
        match (self.reason_code.0, props) {
            (0, 0) => 2,
            (_, 0) => 3,
            _ => 3 + crate::wire::varint_len(props) + props,
        }
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&u16::to_be_bytes(self.packet_id));
        if !v5 {
            return;
        }
        let props = !self.properties.is_empty();
        if self.reason_code.0 != 0 || props {
            out.extend_from_slice(&[self.reason_code.0]);
        }
        if props {
            self.properties.encode(out);
        }
    }

    /// Decodes the body of a `ptype` packet.
    #[inline(always)]
    pub(crate) fn decode(r: &mut Reader, ptype: u8) -> Result<Self, DecodeError> {
        let mut ack = PubAck::new(r.packet_id()?);
        if !r.version.is_v5() || r.is_empty() {
            return Ok(ack);
        }
        let (rc_ctx, prop_ctx, name, spec) = match ptype {
            packet_type::PUBACK => (
                ReasonContext::Puback,
                PropertyContext::Puback,
                "PUBACK",
                "MQTT-3.4.2-1",
            ),
            packet_type::PUBREC => (
                ReasonContext::Pubrec,
                PropertyContext::Pubrec,
                "PUBREC",
                "MQTT-3.5.2-1",
            ),
            packet_type::PUBREL => (
                ReasonContext::Pubrel,
                PropertyContext::Pubrel,
                "PUBREL",
                "MQTT-3.6.2-1",
            ),
            _ => (
                ReasonContext::Pubcomp,
                PropertyContext::Pubcomp,
                "PUBCOMP",
                "MQTT-3.7.2-1",
            ),
        };
        ack.reason_code = ReasonCode(r.u8("reason code")?);
        if !ack.reason_code.is_valid_for(rc_ctx, true) {
            return Err(DecodeError::new(
                ErrorKind::InvalidReasonCode {
                    code: ack.reason_code.0,
                    packet: name,
                },
                spec,
            ));
        }
        if !r.is_empty() {
            ack.properties = BoxedProperties::decode(r, prop_ctx)?;
        }
        Ok(ack)
    }
}
