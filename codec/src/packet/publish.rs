//! PUBLISH (§3.3).

use crate::binary;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{Properties, PropertyContext};
use crate::string::MqttString;
use crate::version::QoS;
use crate::wire::{check_len, put_binary, Reader};
use bytes::{BufMut, Bytes, BytesMut};
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
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub properties: Properties,
    #[serde(default, with = "binary")]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = binary::arbitrary_bytes))]
    pub payload: Bytes,
}

impl Publish {
    pub(crate) fn header_flags(&self) -> u8 {
        u8::from(self.dup) << 3 | (self.qos as u8) << 1 | u8::from(self.retain)
    }

    pub(crate) fn check_encodable(&self, v5: bool) -> Result<(), EncodeError> {
        check_len("topic name", self.topic.len())?;
        if v5 {
            self.properties.check_encodable()?;
        }
        Ok(())
    }

    pub(crate) fn body_len(&self, v5: bool) -> usize {
        let pid = if self.qos == QoS::AtMostOnce { 0 } else { 2 };
        let props = if v5 { self.properties.wire_len() } else { 0 };
        2 + self.topic.len() + pid + props + self.payload.len()
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        put_binary(out, self.topic.as_bytes());
        if self.qos != QoS::AtMostOnce {
            out.put_u16(self.packet_id.unwrap_or(0));
        }
        if v5 {
            self.properties.encode(out);
        }
        out.put_slice(&self.payload);
    }

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
        let packet_id = if qos == QoS::AtMostOnce {
            None
        } else {
            Some(r.packet_id()?)
        };
        let properties = if v5 {
            Properties::decode(r, PropertyContext::Publish)?
        } else {
            Properties::default()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(r.err(ErrorKind::EmptyTopicName, "MQTT-4.7.3-1", "§3.3.2.3.4"));
        }
        if topic.bytes().any(|b| b == b'+' || b == b'#') {
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
