//! PUBLISH (§3.3).

use crate::binary;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{BoxedProperties, PropertyContext};
use crate::scan::has_wildcard_byte;
use crate::string::MqttString;
use crate::version::QoS;
use crate::wire::{check_len, varint_len, write_varint, Reader, MAX_VARIABLE_BYTE_INTEGER};

use super::packet_type;
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// PUBLISH: an application message. `packet_id` is `None` at QoS 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Publish {
    #[serde(default)]
    pub dup: bool,
    #[serde(default)]
    pub qos: QoS,
    #[serde(default)]
    pub retain: bool,
    /// May be empty in v5 when a Topic Alias stands for it.
    pub topic: MqttString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_id: Option<u16>,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    #[serde(default, with = "binary")]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = binary::arbitrary_bytes))]
    pub payload: Bytes,
}

impl Publish {
    pub(crate) fn header_flags(&self) -> u8 {
        u8::from(self.dup) << 3 | (self.qos as u8) << 1 | u8::from(self.retain)
    }

    pub(crate) fn body_len(&self, v5: bool) -> usize {
        self.body_len_with(if v5 { self.properties.wire_len() } else { 0 })
    }

    /// The body length when the properties take `props_wire` bytes, length prefix included.
    fn body_len_with(&self, props_wire: usize) -> usize {
        let pid = if self.qos == QoS::AtMostOnce { 0 } else { 2 };
        2 + self.topic.len() + pid + props_wire + self.payload.len()
    }

    /// Encodes the whole packet, fixed header included: `encode`'s path for PUBLISH, which
    /// checks and measures the properties in one pass and writes them without measuring again.
    pub(crate) fn encode(&self, v5: bool, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_len("topic name", self.topic.len())?;
        let props = if v5 {
            Some(self.properties.checked_len()?)
        } else {
            None
        };
        let body = self.body_len_with(props.map_or(0, |len| varint_len(len) + len));
        if body > MAX_VARIABLE_BYTE_INTEGER as usize {
            return Err(EncodeError::PacketTooLong(body));
        }
        // The fixed header and the topic's length prefix, written as one slice.
        let mut head = [0u8; 7];
        head[0] = packet_type::PUBLISH << 4 | self.header_flags();
        let mut remaining_length = [0u8; 4];
        let n = 1 + write_varint(&mut remaining_length, body);
        head[1..5].copy_from_slice(&remaining_length);
        head[n..n + 2].copy_from_slice(&(self.topic.len() as u16).to_be_bytes());
        // All 7 bytes are written (a fixed-size copy is one store, a variable one a memcpy
        // call), then the unused ones cut off.
        out.reserve(head.len() + body);
        let start = out.len();
        out.extend_from_slice(&head);
        out.truncate(start + n + 2);
        out.extend_from_slice(self.topic.as_bytes());
        if self.qos != QoS::AtMostOnce {
            out.extend_from_slice(&u16::to_be_bytes(self.packet_id.unwrap_or(0)));
        }
        if let Some(len) = props {
            self.properties.encode_with_len(len, out);
        }
        out.extend_from_slice(&self.payload);
        Ok(())
    }

    /// Decodes a PUBLISH body. Built from locals at the end: a `Publish` is 80 bytes, so the
    /// value is returned in registers and the return slot, with no default to fill and drop.
    #[inline(always)]
    pub(crate) fn decode(r: &mut Reader, flags: u8) -> Result<Self, DecodeError> {
        let v5 = r.version.is_v5();
        let Some(qos) = QoS::from_u8((flags >> 1) & 0x03) else {
            return Err(DecodeError::new(ErrorKind::InvalidQos, "MQTT-3.3.1-4"));
        };
        let dup = flags & 0x08 != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::new(ErrorKind::DupOnQos0, "MQTT-3.3.1-2"));
        }
        let topic = r.string("topic name")?;
        let packet_id = if qos != QoS::AtMostOnce {
            Some(r.packet_id()?)
        } else {
            None
        };
        let properties = if v5 {
            BoxedProperties::decode(r, PropertyContext::Publish)?
        } else {
            BoxedProperties::new()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(r.err(ErrorKind::EmptyTopicName, "MQTT-4.7.3-1", "§3.3.2.3.4"));
        }
        if has_wildcard_byte(topic.as_bytes()) {
            return Err(DecodeError::new(
                ErrorKind::WildcardInTopicName,
                "MQTT-3.3.2-2",
            ));
        }
        Ok(Self {
            dup,
            qos,
            retain: flags & 0x01 != 0,
            topic,
            packet_id,
            properties,
            payload: r.rest(),
        })
    }
}
