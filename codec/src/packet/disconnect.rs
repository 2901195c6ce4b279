//! DISCONNECT (§3.14) and AUTH (§3.15, v5 only): a reason code and properties, both optional on
//! the wire when the code is 0x00 and there are no properties.

use crate::error::{DecodeError, ErrorKind};
use crate::properties::{BoxedProperties, PropertyContext};
use crate::reason::{ReasonCode, ReasonContext};
use crate::wire::Reader;
use bytes::BytesMut;
use serde::{Deserialize, Serialize};

/// DISCONNECT: the last packet of a connection, from either side (from the server in v5 only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Disconnect {
    #[serde(default)]
    pub reason_code: ReasonCode,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
}

/// AUTH: a step of v5 enhanced authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Auth {
    #[serde(default)]
    pub reason_code: ReasonCode,
    #[serde(default, skip_serializing_if = "BoxedProperties::is_empty")]
    pub properties: BoxedProperties,
}

fn body_len(rc: ReasonCode, props: &BoxedProperties) -> usize {
    let plen = props.encoded_len();
    match (rc.0, plen) {
        (0, 0) => 0,
        (_, 0) => 1,
        _ => 1 + crate::wire::varint_len(plen) + plen,
    }
}

fn write(rc: ReasonCode, props: &BoxedProperties, out: &mut BytesMut) {
    let has_props = !props.is_empty();
    if rc.0 != 0 || has_props {
        out.extend_from_slice(&[rc.0]);
    }
    if has_props {
        props.encode(out);
    }
}

fn decode(
    r: &mut Reader,
    rc_ctx: ReasonContext,
    prop_ctx: PropertyContext,
    spec: &'static str,
) -> Result<(ReasonCode, BoxedProperties), DecodeError> {
    if r.is_empty() {
        return Ok((ReasonCode::SUCCESS, BoxedProperties::default()));
    }
    let rc = ReasonCode(r.u8("reason code")?);
    if !rc.is_valid_for(rc_ctx, true) {
        return Err(DecodeError::new(
            ErrorKind::InvalidReasonCode {
                code: rc.0,
                packet: prop_ctx.name(),
            },
            spec,
        ));
    }
    let props = if r.is_empty() {
        BoxedProperties::default()
    } else {
        BoxedProperties::decode(r, prop_ctx)?
    };
    Ok((rc, props))
}

impl Disconnect {
    pub(crate) fn body_len(&self, v5: bool) -> usize {
        if v5 {
            body_len(self.reason_code, &self.properties)
        } else {
            0
        }
    }

    pub(crate) fn write(&self, v5: bool, out: &mut BytesMut) {
        if v5 {
            write(self.reason_code, &self.properties, out);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        if !r.version.is_v5() {
            return Ok(Self::default());
        }
        let (reason_code, properties) = decode(
            r,
            ReasonContext::Disconnect,
            PropertyContext::Disconnect,
            "MQTT-3.14.2-1",
        )?;
        Ok(Self {
            reason_code,
            properties,
        })
    }
}

/// Unlike DISCONNECT, AUTH may leave out its Reason Code and Property Length only together, when
/// the code is 0x00 and there are no properties (§3.15.2.1): a lone Reason Code has no shorter form.
fn auth_is_short(rc: ReasonCode, props: &BoxedProperties) -> bool {
    rc.0 == 0 && props.is_empty()
}

impl Auth {
    pub(crate) fn body_len(&self) -> usize {
        if auth_is_short(self.reason_code, &self.properties) {
            0
        } else {
            1 + self.properties.wire_len()
        }
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        if !auth_is_short(self.reason_code, &self.properties) {
            out.extend_from_slice(&[self.reason_code.0]);
            self.properties.encode(out);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        if r.is_empty() {
            return Ok(Self::default());
        }
        if r.remaining() == 1 {
            return Err(DecodeError::new(
                ErrorKind::Truncated {
                    field: "property length",
                },
                "§3.15.2.1",
            ));
        }
        let (reason_code, properties) = decode(
            r,
            ReasonContext::Auth,
            PropertyContext::Auth,
            "MQTT-3.15.2-1",
        )?;
        // "It is a Protocol Error to omit the Authentication Method" (§3.15.2.2.2).
        if properties.authentication_method.is_none() {
            return Err(DecodeError::new(
                ErrorKind::InvalidPropertyValue {
                    id: crate::properties::id::AUTHENTICATION_METHOD,
                    why: "AUTH without Authentication Method",
                },
                "§3.15.2.2.2",
            ));
        }
        Ok(Self {
            reason_code,
            properties,
        })
    }
}
