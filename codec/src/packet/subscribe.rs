//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (§3.8-§3.11).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{BoxedProperties, PropertyContext};
use crate::reason::{ReasonCode, ReasonContext};
use crate::string::MqttString;
use crate::topic::{parse_shared, validate_topic_filter};
use crate::version::QoS;
use crate::wire::{check_len, put_binary, Reader};
use bytes::BytesMut;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// When retained messages are sent for a new subscription (v5 §3.8.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum RetainHandling {
    /// 0: send retained messages at subscribe time.
    #[default]
    OnSubscribe = 0,
    /// 1: send them only if the subscription did not exist.
    OnNewSubscription = 1,
    /// 2: do not send them.
    Never = 2,
}

impl Serialize for RetainHandling {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(*self as u8)
    }
}

impl<'de> Deserialize<'de> for RetainHandling {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            0 => Ok(Self::OnSubscribe),
            1 => Ok(Self::OnNewSubscription),
            2 => Ok(Self::Never),
            v => Err(serde::de::Error::custom(format!(
                "retain_handling must be 0, 1 or 2, not {v}"
            ))),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default_rh(rh: &RetainHandling) -> bool {
    *rh == RetainHandling::OnSubscribe
}

/// One Topic Filter with its Subscription Options. Under 3.1.1 only `filter` and `qos` exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Subscription {
    pub filter: MqttString,
    #[serde(default)]
    pub qos: QoS,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_local: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub retain_as_published: bool,
    #[serde(default, skip_serializing_if = "is_default_rh")]
    pub retain_handling: RetainHandling,
}

impl Subscription {
    /// A subscription with default options.
    pub fn new(filter: impl Into<MqttString>, qos: QoS) -> Self {
        Self {
            filter: filter.into(),
            qos,
            ..Self::default()
        }
    }

    fn options(&self, v5: bool) -> u8 {
        let mut o = self.qos as u8;
        if v5 {
            o |= u8::from(self.no_local) << 2
                | u8::from(self.retain_as_published) << 3
                | (self.retain_handling as u8) << 4;
        }
        o
    }
}

/// SUBSCRIBE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Subscribe {
    pub packet_id: u16,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    pub filters: Vec<Subscription>,
}

/// SUBACK: one reason code (3.1.1: return code) per filter, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SubAck {
    pub packet_id: u16,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    pub reason_codes: Vec<ReasonCode>,
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Unsubscribe {
    pub packet_id: u16,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    pub filters: Vec<MqttString>,
}

/// UNSUBACK: in v5 one reason code per filter; under 3.1.1 no codes at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UnsubAck {
    pub packet_id: u16,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_codes: Vec<ReasonCode>,
}

fn props_len(v5: bool, p: &BoxedProperties) -> usize {
    if v5 {
        p.wire_len()
    } else {
        0
    }
}

fn decode_props(r: &mut Reader, ctx: PropertyContext) -> Result<BoxedProperties, DecodeError> {
    if r.version.is_v5() {
        BoxedProperties::decode(r, ctx)
    } else {
        Ok(BoxedProperties::default())
    }
}

/// Reads and validates one Topic Filter of SUBSCRIBE or UNSUBSCRIBE.
fn read_filter(r: &mut Reader) -> Result<MqttString, DecodeError> {
    let v5 = r.version.is_v5();
    let filter = r.string("topic filter")?;
    validate_topic_filter(&filter, v5)
        .map_err(|e| DecodeError::new(ErrorKind::InvalidTopicFilter(e), e.spec_id(v5)))?;
    Ok(filter)
}

/// Reads the reason codes that fill the rest of a SUBACK or UNSUBACK.
fn read_codes(
    r: &mut Reader,
    ctx: ReasonContext,
    name: &'static str,
    spec: (&'static str, &'static str),
) -> Result<Vec<ReasonCode>, DecodeError> {
    let v5 = r.version.is_v5();
    if r.is_empty() {
        return Err(DecodeError::new(
            ErrorKind::Truncated {
                field: "reason codes",
            },
            crate::wire::remaining_length_rule(r.version),
        ));
    }
    let codes: Vec<ReasonCode> = r.rest().iter().map(|&b| ReasonCode(b)).collect();
    if let Some(bad) = codes.iter().find(|c| !c.is_valid_for(ctx, v5)) {
        return Err(r.err(
            ErrorKind::InvalidReasonCode {
                code: bad.0,
                packet: name,
            },
            spec.0,
            spec.1,
        ));
    }
    Ok(codes)
}

impl Subscribe {
    pub(crate) fn check_encodable(&self, v5: bool) -> Result<(), EncodeError> {
        for f in &self.filters {
            check_len("topic filter", f.filter.len())?;
        }
        if v5 {
            self.properties.check_encodable()?;
        }
        Ok(())
    }

    pub(crate) fn body_len(&self, v5: bool) -> usize {
        let filters: usize = self.filters.iter().map(|f| 3 + f.filter.len()).sum();
        2 + props_len(v5, &self.properties) + filters
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&u16::to_be_bytes(self.packet_id));
        if v5 {
            self.properties.encode(out);
        }
        for f in &self.filters {
            put_binary(out, f.filter.as_bytes());
            out.extend_from_slice(&[f.options(v5)]);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let v5 = r.version.is_v5();
        let packet_id = r.packet_id()?;
        let properties = decode_props(r, PropertyContext::Subscribe)?;
        let mut filters = Vec::new();
        while !r.is_empty() {
            let filter = read_filter(r)?;
            let options = r.u8("subscription options")?;
            let reserved = if v5 { 0xC0 } else { 0xFC };
            let qos = QoS::from_u8(options & 0x03);
            let Some(qos) = qos.filter(|_| options & reserved == 0) else {
                // 3.1.1 calls QoS 3 malformed (MQTT-3.8.3-4); 5.0 a Protocol Error (§3.8.3.1).
                if v5 && options & reserved == 0 {
                    return Err(DecodeError::new(
                        ErrorKind::InvalidSubscriptionQos,
                        "§3.8.3.1",
                    ));
                }
                return Err(r.err(
                    ErrorKind::ReservedSubscriptionOptions,
                    "MQTT-3.8.3-4",
                    "MQTT-3.8.3-5",
                ));
            };
            let retain_handling = match (options >> 4) & 0x03 {
                0 => RetainHandling::OnSubscribe,
                1 => RetainHandling::OnNewSubscription,
                2 => RetainHandling::Never,
                _ => {
                    return Err(DecodeError::new(
                        ErrorKind::InvalidRetainHandling,
                        "§3.8.3.1",
                    ))
                }
            };
            let no_local = options & 0x04 != 0;
            if v5 && no_local && parse_shared(&filter).is_some() {
                return Err(DecodeError::new(
                    ErrorKind::NoLocalOnSharedSubscription,
                    "MQTT-3.8.3-4",
                ));
            }
            filters.push(Subscription {
                filter,
                qos,
                no_local,
                retain_as_published: options & 0x08 != 0,
                retain_handling,
            });
        }
        if filters.is_empty() {
            return Err(r.err(ErrorKind::NoTopicFilters, "MQTT-3.8.3-3", "MQTT-3.8.3-2"));
        }
        Ok(Self {
            packet_id,
            properties,
            filters,
        })
    }
}

impl SubAck {
    pub(crate) fn body_len(&self, v5: bool) -> usize {
        2 + props_len(v5, &self.properties) + self.reason_codes.len()
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&u16::to_be_bytes(self.packet_id));
        if v5 {
            self.properties.encode(out);
        }
        for c in &self.reason_codes {
            out.extend_from_slice(&[c.0]);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = decode_props(r, PropertyContext::Suback)?;
        let reason_codes = read_codes(
            r,
            ReasonContext::Suback,
            "SUBACK",
            ("MQTT-3.9.3-2", "MQTT-3.9.3-2"),
        )?;
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }
}

impl Unsubscribe {
    pub(crate) fn check_encodable(&self, v5: bool) -> Result<(), EncodeError> {
        for f in &self.filters {
            check_len("topic filter", f.len())?;
        }
        if v5 {
            self.properties.check_encodable()?;
        }
        Ok(())
    }

    pub(crate) fn body_len(&self, v5: bool) -> usize {
        let filters: usize = self.filters.iter().map(|f| 2 + f.len()).sum();
        2 + props_len(v5, &self.properties) + filters
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&u16::to_be_bytes(self.packet_id));
        if v5 {
            self.properties.encode(out);
        }
        for f in &self.filters {
            put_binary(out, f.as_bytes());
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = decode_props(r, PropertyContext::Unsubscribe)?;
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(read_filter(r)?);
        }
        if filters.is_empty() {
            return Err(r.err(ErrorKind::NoTopicFilters, "MQTT-3.10.3-2", "MQTT-3.10.3-2"));
        }
        Ok(Self {
            packet_id,
            properties,
            filters,
        })
    }
}

impl UnsubAck {
    pub(crate) fn body_len(&self, v5: bool) -> usize {
        if v5 {
            2 + self.properties.wire_len() + self.reason_codes.len()
        } else {
            2
        }
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        out.extend_from_slice(&u16::to_be_bytes(self.packet_id));
        if v5 {
            self.properties.encode(out);
            for c in &self.reason_codes {
                out.extend_from_slice(&[c.0]);
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        if !r.version.is_v5() {
            return Ok(Self {
                packet_id,
                ..Self::default()
            });
        }
        let properties = decode_props(r, PropertyContext::Unsuback)?;
        let reason_codes = read_codes(
            r,
            ReasonContext::Unsuback,
            "UNSUBACK",
            ("§3.11.3", "MQTT-3.11.3-2"),
        )?;
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }
}
