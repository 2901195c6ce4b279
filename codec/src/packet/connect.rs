//! CONNECT and CONNACK (§3.1, §3.2).

use crate::binary;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{BoxedProperties, PropertyContext};
use crate::reason::{ReasonCode, ReasonContext};
use crate::string::MqttString;
use crate::topic::{validate_topic_name, TopicError};
use crate::version::{ProtocolVersion, QoS};
use crate::wire::{check_len, put_binary, Reader};
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

fn default_protocol() -> ProtocolVersion {
    ProtocolVersion::V5
}

/// CONNECT: opens a session. Its `protocol` says which version the whole connection speaks.
///
/// Fields left out of the serde form take the wire's zero values (`clean_start = false`,
/// `keep_alive = 0`), so that a packet reads exactly as its bytes say; [`Connect::default`] is
/// instead what a typical client sends (clean start, keep-alive 60 s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Connect {
    #[serde(default = "default_protocol")]
    pub protocol: ProtocolVersion,
    /// Clean Start (v5) or Clean Session (3.1.1).
    #[serde(default)]
    pub clean_start: bool,
    /// Seconds; 0 turns keep-alive off.
    #[serde(default)]
    pub keep_alive: u16,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    #[serde(default)]
    pub client_id: MqttString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub will: Option<Will>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<MqttString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "binary::option"
    )]
    #[cfg_attr(
        feature = "arbitrary",
        arbitrary(with = binary::arbitrary_option_bytes)
    )]
    pub password: Option<Bytes>,
}

/// The Last Will carried by CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Will {
    pub topic: MqttString,
    #[serde(default, with = "binary")]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = binary::arbitrary_bytes))]
    pub payload: Bytes,
    #[serde(default)]
    pub qos: QoS,
    #[serde(default)]
    pub retain: bool,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
}

impl Default for Connect {
    fn default() -> Self {
        Self {
            protocol: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 60,
            properties: BoxedProperties::default(),
            client_id: MqttString::new(),
            will: None,
            username: None,
            password: None,
        }
    }
}

impl Connect {
    pub(crate) fn check_encodable(&self) -> Result<(), EncodeError> {
        check_len("client identifier", self.client_id.len())?;
        if let Some(w) = &self.will {
            check_len("will topic", w.topic.len())?;
            check_len("will payload", w.payload.len())?;
            w.properties.check_encodable()?;
        }
        if let Some(u) = &self.username {
            check_len("user name", u.len())?;
        }
        if let Some(p) = &self.password {
            check_len("password", p.len())?;
        }
        self.properties.check_encodable()
    }

    pub(crate) fn body_len(&self) -> usize {
        let v5 = self.protocol.is_v5();
        let props = |p: &BoxedProperties| if v5 { p.wire_len() } else { 0 };
        let mut len = 2 + self.protocol.protocol_name().len() + 1 + 1 + 2;
        len += props(&self.properties) + 2 + self.client_id.len();
        if let Some(w) = &self.will {
            len += props(&w.properties) + 2 + w.topic.len() + 2 + w.payload.len();
        }
        len += self.username.as_ref().map_or(0, |u| 2 + u.len());
        len + self.password.as_ref().map_or(0, |p| 2 + p.len())
    }

    fn flags(&self) -> u8 {
        let mut flags = u8::from(self.clean_start) << 1;
        if let Some(w) = &self.will {
            flags |= 0x04 | (w.qos as u8) << 3 | u8::from(w.retain) << 5;
        }
        flags |= u8::from(self.password.is_some()) << 6;
        flags | u8::from(self.username.is_some()) << 7
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        let v5 = self.protocol.is_v5();
        put_binary(out, self.protocol.protocol_name().as_bytes());
        out.extend_from_slice(&[self.protocol.level()]);
        out.extend_from_slice(&[self.flags()]);
        out.extend_from_slice(&u16::to_be_bytes(self.keep_alive));
        if v5 {
            self.properties.encode(out);
        }
        put_binary(out, self.client_id.as_bytes());
        if let Some(w) = &self.will {
            if v5 {
                w.properties.encode(out);
            }
            put_binary(out, w.topic.as_bytes());
            put_binary(out, &w.payload);
        }
        if let Some(u) = &self.username {
            put_binary(out, u.as_bytes());
        }
        if let Some(p) = &self.password {
            put_binary(out, p);
        }
    }

    /// Decodes a CONNECT body. The reader's version is only a default for the spec IDs of errors
    /// found before the protocol level is read; the level then decides.
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let name = r.string("protocol name")?;
        let level = r.u8("protocol level")?;
        let protocol = match ProtocolVersion::from_name_and_level(&name, level) {
            Some(v) => v,
            None if name != "MQTT" && name != "MQIsdp" => {
                return Err(DecodeError::new(
                    ErrorKind::InvalidProtocolName,
                    "MQTT-3.1.2-1",
                ))
            }
            None => {
                return Err(DecodeError::new(
                    ErrorKind::UnsupportedProtocolLevel(level),
                    "MQTT-3.1.2-2",
                ))
            }
        };
        r.version = protocol;
        let v5 = protocol.is_v5();
        let flags = r.u8("connect flags")?;
        if flags & 0x01 != 0 {
            return Err(DecodeError::new(
                ErrorKind::ConnectReservedFlag,
                "MQTT-3.1.2-3",
            ));
        }
        let will_flag = flags & 0x04 != 0;
        let will_qos = (flags >> 3) & 0x03;
        let will_retain = flags & 0x20 != 0;
        let has_password = flags & 0x40 != 0;
        let has_username = flags & 0x80 != 0;
        if !will_flag && will_qos != 0 {
            return Err(r.err(
                ErrorKind::WillFlagsWithoutWill,
                "MQTT-3.1.2-13",
                "MQTT-3.1.2-11",
            ));
        }
        if !will_flag && will_retain {
            return Err(r.err(
                ErrorKind::WillFlagsWithoutWill,
                "MQTT-3.1.2-15",
                "MQTT-3.1.2-13",
            ));
        }
        let Some(will_qos) = QoS::from_u8(will_qos) else {
            return Err(r.err(ErrorKind::InvalidWillQos, "MQTT-3.1.2-14", "MQTT-3.1.2-12"));
        };
        if !v5 && has_password && !has_username {
            return Err(DecodeError::new(
                ErrorKind::PasswordWithoutUsername,
                "MQTT-3.1.2-22",
            ));
        }
        let keep_alive = r.u16("keep alive")?;
        let properties = if v5 {
            let p = BoxedProperties::decode(r, PropertyContext::Connect)?;
            if p.authentication_data.is_some() && p.authentication_method.is_none() {
                return Err(DecodeError::new(
                    ErrorKind::InvalidPropertyValue {
                        id: crate::properties::id::AUTHENTICATION_DATA,
                        why: "Authentication Data without Authentication Method",
                    },
                    "§3.1.2.11.10",
                ));
            }
            p
        } else {
            BoxedProperties::default()
        };
        let client_id = r.string("client identifier")?;
        let will = if will_flag {
            let properties = if v5 {
                BoxedProperties::decode(r, PropertyContext::Will)?
            } else {
                BoxedProperties::default()
            };
            let topic = r.string("will topic")?;
            if let Err(e) = validate_topic_name(&topic) {
                let kind = match e {
                    TopicError::WildcardInName => ErrorKind::WildcardInTopicName,
                    _ => ErrorKind::EmptyTopicName,
                };
                return Err(DecodeError::new(kind, e.spec_id(v5)));
            }
            let payload = r.binary("will payload")?;
            Some(Will {
                topic,
                payload,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string("user name")?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary("password")?)
        } else {
            None
        };
        Ok(Self {
            protocol,
            clean_start: flags & 0x02 != 0,
            keep_alive,
            properties,
            client_id,
            will,
            username,
            password,
        })
    }
}

/// CONNACK: the server's answer to CONNECT. `reason_code` holds the 3.1.1 return code under 3.1.1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Connack {
    #[serde(default)]
    pub session_present: bool,
    #[serde(default)]
    pub reason_code: ReasonCode,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
}

impl Connack {
    pub(crate) fn body_len(&self, v5: bool) -> usize {
        2 + if v5 { self.properties.wire_len() } else { 0 }
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&[u8::from(self.session_present)]);
        out.extend_from_slice(&[self.reason_code.0]);
        if v5 {
            self.properties.encode(out);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let v5 = r.version.is_v5();
        let flags = r.u8("connect acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(r.err(ErrorKind::ConnackReservedFlags, "§3.2.2.1", "MQTT-3.2.2-1"));
        }
        let reason_code = ReasonCode(r.u8("connect reason code")?);
        if !reason_code.is_valid_for(ReasonContext::Connack, v5) {
            return Err(r.err(
                ErrorKind::InvalidReasonCode {
                    code: reason_code.0,
                    packet: "CONNACK",
                },
                "§3.2.2.3",
                "MQTT-3.2.2-8",
            ));
        }
        let session_present = flags & 0x01 != 0;
        if session_present && reason_code.0 != 0 {
            return Err(r.err(
                ErrorKind::SessionPresentOnFailure,
                "MQTT-3.2.2-4",
                "MQTT-3.2.2-6",
            ));
        }
        let properties = if v5 {
            BoxedProperties::decode(r, PropertyContext::Connack)?
        } else {
            BoxedProperties::default()
        };
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }
}
