//! MQTT 5.0 properties (spec §2.2.2): one struct for every packet, with the rules for which
//! packet may carry which property, which may repeat, and which values are allowed.
//!
//! The encoder writes whatever is set, so a test can send a property where it does not belong;
//! the decoder enforces every rule.

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::string::MqttString;
use crate::topic::validate_topic_name;
use crate::wire::{
    check_len, put_binary, put_varint, varint_len, Reader, MAX_VARIABLE_BYTE_INTEGER,
};
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

mod boxed;
pub use boxed::BoxedProperties;

/// Property identifiers (§2.2.2.2, Table 2-4).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// Where a property list sits: each packet type, plus the Will Properties of CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyContext {
    Connect,
    Connack,
    Publish,
    Will,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
}

impl PropertyContext {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Connack => "CONNACK",
            Self::Publish => "PUBLISH",
            Self::Will => "Will Properties",
            Self::Puback => "PUBACK",
            Self::Pubrec => "PUBREC",
            Self::Pubrel => "PUBREL",
            Self::Pubcomp => "PUBCOMP",
            Self::Subscribe => "SUBSCRIBE",
            Self::Suback => "SUBACK",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::Unsuback => "UNSUBACK",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
        }
    }
}

/// The set of contexts that may carry a property, as a bit mask over [`PropertyContext`].
fn allowed_in(property: u8) -> u16 {
    use PropertyContext as C;
    let set = |cs: &[C]| cs.iter().fold(0u16, |m, c| m | c.bit());
    match property {
        id::PAYLOAD_FORMAT_INDICATOR
        | id::MESSAGE_EXPIRY_INTERVAL
        | id::CONTENT_TYPE
        | id::RESPONSE_TOPIC
        | id::CORRELATION_DATA => set(&[C::Publish, C::Will]),
        id::SUBSCRIPTION_IDENTIFIER => set(&[C::Publish, C::Subscribe]),
        id::SESSION_EXPIRY_INTERVAL => set(&[C::Connect, C::Connack, C::Disconnect]),
        id::ASSIGNED_CLIENT_IDENTIFIER
        | id::SERVER_KEEP_ALIVE
        | id::RESPONSE_INFORMATION
        | id::MAXIMUM_QOS
        | id::RETAIN_AVAILABLE
        | id::WILDCARD_SUBSCRIPTION_AVAILABLE
        | id::SUBSCRIPTION_IDENTIFIER_AVAILABLE
        | id::SHARED_SUBSCRIPTION_AVAILABLE => set(&[C::Connack]),
        id::AUTHENTICATION_METHOD | id::AUTHENTICATION_DATA => {
            set(&[C::Connect, C::Connack, C::Auth])
        }
        id::REQUEST_PROBLEM_INFORMATION | id::REQUEST_RESPONSE_INFORMATION => set(&[C::Connect]),
        id::WILL_DELAY_INTERVAL => set(&[C::Will]),
        id::SERVER_REFERENCE => set(&[C::Connack, C::Disconnect]),
        id::REASON_STRING => set(&[
            C::Connack,
            C::Puback,
            C::Pubrec,
            C::Pubrel,
            C::Pubcomp,
            C::Suback,
            C::Unsuback,
            C::Disconnect,
            C::Auth,
        ]),
        id::RECEIVE_MAXIMUM | id::TOPIC_ALIAS_MAXIMUM | id::MAXIMUM_PACKET_SIZE => {
            set(&[C::Connect, C::Connack])
        }
        id::TOPIC_ALIAS => set(&[C::Publish]),
        id::USER_PROPERTY => u16::MAX,
        _ => 0,
    }
}

/// Whether the spec defines `property` for `context`.
pub fn is_allowed(property: u8, context: PropertyContext) -> bool {
    allowed_in(property) & context.bit() != 0
}

/// Every v5 property. Absent ones are `None` or empty; under 3.1.1 all are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Properties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_indicator: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expiry_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<MqttString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<MqttString>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::binary::option"
    )]
    #[cfg_attr(
        feature = "arbitrary",
        arbitrary(with = crate::binary::arbitrary_option_bytes)
    )]
    pub correlation_data: Option<Bytes>,
    /// Repeatable in PUBLISH (one per matching subscription); at most one in SUBSCRIBE.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_identifiers: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_expiry_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_client_identifier: Option<MqttString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_keep_alive: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<MqttString>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::binary::option"
    )]
    #[cfg_attr(
        feature = "arbitrary",
        arbitrary(with = crate::binary::arbitrary_option_bytes)
    )]
    pub authentication_data: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_problem_information: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_delay_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_response_information: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_information: Option<MqttString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_reference: Option<MqttString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_string: Option<MqttString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_maximum: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias_maximum: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_qos: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_available: Option<u8>,
    /// Name/value pairs, in the order sent: a server must keep that order (MQTT-3.3.2-18).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<(MqttString, MqttString)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_packet_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_subscription_available: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_identifier_available: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_subscription_available: Option<u8>,
}

/// Reads the length prefix of a property list and checks the list is all there (§2.2.2.1).
pub(crate) fn read_list_len(r: &mut Reader) -> Result<usize, DecodeError> {
    let len = r.varint("property length")? as usize;
    if len > r.remaining() {
        return Err(DecodeError::new(
            ErrorKind::Truncated {
                field: "properties",
            },
            "§2.2.2.1",
        ));
    }
    Ok(len)
}

/// Calls `$f!(field, id)` for each single-valued property of each wire type, so that length,
/// encoding and decoding are written once per type rather than once per property.
macro_rules! for_each_byte {
    ($f:ident) => {
        $f!(payload_format_indicator, PAYLOAD_FORMAT_INDICATOR);
        $f!(request_problem_information, REQUEST_PROBLEM_INFORMATION);
        $f!(request_response_information, REQUEST_RESPONSE_INFORMATION);
        $f!(maximum_qos, MAXIMUM_QOS);
        $f!(retain_available, RETAIN_AVAILABLE);
        $f!(
            wildcard_subscription_available,
            WILDCARD_SUBSCRIPTION_AVAILABLE
        );
        $f!(
            subscription_identifier_available,
            SUBSCRIPTION_IDENTIFIER_AVAILABLE
        );
        $f!(shared_subscription_available, SHARED_SUBSCRIPTION_AVAILABLE);
    };
}
macro_rules! for_each_u16 {
    ($f:ident) => {
        $f!(server_keep_alive, SERVER_KEEP_ALIVE);
        $f!(receive_maximum, RECEIVE_MAXIMUM);
        $f!(topic_alias_maximum, TOPIC_ALIAS_MAXIMUM);
        $f!(topic_alias, TOPIC_ALIAS);
    };
}
macro_rules! for_each_u32 {
    ($f:ident) => {
        $f!(message_expiry_interval, MESSAGE_EXPIRY_INTERVAL);
        $f!(session_expiry_interval, SESSION_EXPIRY_INTERVAL);
        $f!(will_delay_interval, WILL_DELAY_INTERVAL);
        $f!(maximum_packet_size, MAXIMUM_PACKET_SIZE);
    };
}
macro_rules! for_each_string {
    ($f:ident) => {
        $f!(content_type, CONTENT_TYPE);
        $f!(response_topic, RESPONSE_TOPIC);
        $f!(assigned_client_identifier, ASSIGNED_CLIENT_IDENTIFIER);
        $f!(authentication_method, AUTHENTICATION_METHOD);
        $f!(response_information, RESPONSE_INFORMATION);
        $f!(server_reference, SERVER_REFERENCE);
        $f!(reason_string, REASON_STRING);
    };
}
macro_rules! for_each_binary {
    ($f:ident) => {
        $f!(correlation_data, CORRELATION_DATA);
        $f!(authentication_data, AUTHENTICATION_DATA);
    };
}

impl Properties {
    /// No property set: what `Properties::default()` gives, usable in constants and statics.
    pub const EMPTY: Properties = Properties {
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: None,
        response_topic: None,
        correlation_data: None,
        subscription_identifiers: Vec::new(),
        session_expiry_interval: None,
        assigned_client_identifier: None,
        server_keep_alive: None,
        authentication_method: None,
        authentication_data: None,
        request_problem_information: None,
        will_delay_interval: None,
        request_response_information: None,
        response_information: None,
        server_reference: None,
        reason_string: None,
        receive_maximum: None,
        topic_alias_maximum: None,
        topic_alias: None,
        maximum_qos: None,
        retain_available: None,
        user_properties: Vec::new(),
        maximum_packet_size: None,
        wildcard_subscription_available: None,
        subscription_identifier_available: None,
        shared_subscription_available: None,
    };

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        // Field by field rather than `== Properties::default()`, which builds, compares and drops
        // a 400-byte value: this runs for every packet encoded.
        let mut empty = self.subscription_identifiers.is_empty() && self.user_properties.is_empty();
        macro_rules! none {
            ($field:ident, $id:ident) => {
                empty &= self.$field.is_none();
            };
        }
        for_each_byte!(none);
        for_each_u16!(none);
        for_each_u32!(none);
        for_each_string!(none);
        for_each_binary!(none);
        empty
    }

    /// Bytes of the property list, without its own length prefix.
    pub fn encoded_len(&self) -> usize {
        let mut len = 0;
        macro_rules! add1 {
            ($field:ident, $id:ident) => {
                len += self.$field.map_or(0, |_| 2);
            };
        }
        macro_rules! add2 {
            ($field:ident, $id:ident) => {
                len += self.$field.map_or(0, |_| 3);
            };
        }
        macro_rules! add4 {
            ($field:ident, $id:ident) => {
                len += self.$field.map_or(0, |_| 5);
            };
        }
        for_each_byte!(add1);
        for_each_u16!(add2);
        for_each_u32!(add4);
        macro_rules! add_var {
            ($field:ident, $id:ident) => {
                if let Some(v) = &self.$field {
                    len += 3 + v.len();
                }
            };
        }
        for_each_string!(add_var);
        for_each_binary!(add_var);
        for sid in &self.subscription_identifiers {
            len += 1 + varint_len(*sid as usize);
        }
        for (k, v) in &self.user_properties {
            len += 5 + k.len() + v.len();
        }
        len
    }

    /// Bytes of the property list with its length prefix: what it adds to a packet.
    pub fn wire_len(&self) -> usize {
        let len = self.encoded_len();
        varint_len(len) + len
    }

    /// Checks that every value can be put on the wire.
    pub(crate) fn check_encodable(&self) -> Result<(), EncodeError> {
        macro_rules! check {
            ($field:ident, $id:ident) => {
                if let Some(v) = &self.$field {
                    check_len(stringify!($field), v.len())?;
                }
            };
        }
        for_each_string!(check);
        for_each_binary!(check);
        for sid in &self.subscription_identifiers {
            if *sid > MAX_VARIABLE_BYTE_INTEGER {
                return Err(EncodeError::VariableByteIntegerTooLarge(*sid));
            }
        }
        for (k, v) in &self.user_properties {
            check_len("user property", k.len())?;
            check_len("user property", v.len())?;
        }
        Ok(())
    }

    /// [`Self::encoded_len`] after [`Self::check_encodable`], in one pass over the fields: what
    /// the encoder's hot path (PUBLISH) needs before writing the fixed header.
    pub(crate) fn checked_len(&self) -> Result<usize, EncodeError> {
        let mut len = 0;
        macro_rules! fixed {
            ($field:ident, $id:ident, $size:literal) => {
                len += self.$field.map_or(0, |_| 1 + $size);
            };
        }
        macro_rules! add1 {
            ($field:ident, $id:ident) => {
                fixed!($field, $id, 1)
            };
        }
        macro_rules! add2 {
            ($field:ident, $id:ident) => {
                fixed!($field, $id, 2)
            };
        }
        macro_rules! add4 {
            ($field:ident, $id:ident) => {
                fixed!($field, $id, 4)
            };
        }
        for_each_byte!(add1);
        for_each_u16!(add2);
        for_each_u32!(add4);
        // The same checks, in the same order, as `check_encodable`.
        macro_rules! add_var {
            ($field:ident, $id:ident) => {
                if let Some(v) = &self.$field {
                    check_len(stringify!($field), v.len())?;
                    len += 3 + v.len();
                }
            };
        }
        for_each_string!(add_var);
        for_each_binary!(add_var);
        for sid in &self.subscription_identifiers {
            if *sid > MAX_VARIABLE_BYTE_INTEGER {
                return Err(EncodeError::VariableByteIntegerTooLarge(*sid));
            }
            len += 1 + varint_len(*sid as usize);
        }
        for (k, v) in &self.user_properties {
            check_len("user property", k.len())?;
            check_len("user property", v.len())?;
            len += 5 + k.len() + v.len();
        }
        Ok(len)
    }

    /// Writes the length prefix and the properties, user properties last, in their order.
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.encode_with_len(self.encoded_len(), out);
    }

    /// [`Self::encode`] when the caller already has [`Self::encoded_len`].
    pub(crate) fn encode_with_len(&self, len: usize, out: &mut BytesMut) {
        put_varint(out, len);
        if len == 0 {
            return;
        }
        // Each identifier is written with its value or length prefix as one slice: one capacity
        // check and one copy instead of two or three.
        macro_rules! put_fixed {
            ($field:ident, $id:ident) => {
                if let Some(v) = self.$field {
                    let mut b = [id::$id; 5];
                    let v = v.to_be_bytes();
                    b[1..=v.len()].copy_from_slice(&v);
                    out.extend_from_slice(&b[..=v.len()]);
                }
            };
        }
        macro_rules! put_bin {
            ($field:ident, $id:ident) => {
                if let Some(v) = &self.$field {
                    let v = AsRef::<[u8]>::as_ref(v);
                    let [hi, lo] = (v.len() as u16).to_be_bytes();
                    out.extend_from_slice(&[id::$id, hi, lo]);
                    out.extend_from_slice(v);
                }
            };
        }
        for_each_byte!(put_fixed);
        for_each_u16!(put_fixed);
        for_each_u32!(put_fixed);
        for_each_string!(put_bin);
        for_each_binary!(put_bin);
        for sid in &self.subscription_identifiers {
            out.extend_from_slice(&[id::SUBSCRIPTION_IDENTIFIER]);
            put_varint(out, *sid as usize);
        }
        for (k, v) in &self.user_properties {
            let [hi, lo] = (k.len() as u16).to_be_bytes();
            out.extend_from_slice(&[id::USER_PROPERTY, hi, lo]);
            out.extend_from_slice(k.as_bytes());
            put_binary(out, v.as_bytes());
        }
    }

    /// Reads the properties of a list whose length prefix was `len` (already checked against the
    /// input by [`read_list_len`]) into `self`, which must be empty.
    pub(crate) fn decode_list(
        &mut self,
        r: &mut Reader,
        context: PropertyContext,
        len: usize,
    ) -> Result<(), DecodeError> {
        debug_assert!(self.is_empty());
        if len == 0 {
            return Ok(());
        }
        let end = r.remaining() - len;
        let mut seen: u64 = 0;
        while r.remaining() > end {
            let pid = r.varint("property identifier")?;
            let Ok(pid) = u8::try_from(pid) else {
                return Err(DecodeError::new(
                    ErrorKind::UnknownProperty(pid),
                    "§2.2.2.2",
                ));
            };
            let allowed = allowed_in(pid);
            if allowed == 0 {
                return Err(DecodeError::new(
                    ErrorKind::UnknownProperty(u32::from(pid)),
                    "§2.2.2.2",
                ));
            }
            if allowed & context.bit() == 0 {
                return Err(DecodeError::new(
                    ErrorKind::PropertyNotAllowed {
                        id: pid,
                        packet: context.name(),
                    },
                    "§2.2.2.2",
                ));
            }
            let repeatable = pid == id::USER_PROPERTY
                || (pid == id::SUBSCRIPTION_IDENTIFIER && context == PropertyContext::Publish);
            if !repeatable && seen & (1 << pid) != 0 {
                return Err(DecodeError::new(
                    ErrorKind::DuplicateProperty(pid),
                    "§2.2.2.2",
                ));
            }
            seen |= 1 << pid;
            self.read_value(r, pid)?;
        }
        if r.remaining() != end {
            // The last property ran past the declared length.
            return Err(DecodeError::new(
                ErrorKind::Truncated {
                    field: "properties",
                },
                "§2.2.2.1",
            ));
        }
        Ok(())
    }

    fn read_value(&mut self, r: &mut Reader, pid: u8) -> Result<(), DecodeError> {
        let invalid =
            |why| DecodeError::new(ErrorKind::InvalidPropertyValue { id: pid, why }, "§2.2.2.2");
        match pid {
            id::PAYLOAD_FORMAT_INDICATOR
            | id::REQUEST_PROBLEM_INFORMATION
            | id::REQUEST_RESPONSE_INFORMATION
            | id::MAXIMUM_QOS
            | id::RETAIN_AVAILABLE
            | id::WILDCARD_SUBSCRIPTION_AVAILABLE
            | id::SUBSCRIPTION_IDENTIFIER_AVAILABLE
            | id::SHARED_SUBSCRIPTION_AVAILABLE => {
                let v = r.u8("property value")?;
                if v > 1 {
                    return Err(invalid("must be 0 or 1"));
                }
                macro_rules! set {
                    ($field:ident, $id:ident) => {
                        if pid == id::$id {
                            self.$field = Some(v);
                        }
                    };
                }
                for_each_byte!(set);
            }
            id::SERVER_KEEP_ALIVE
            | id::RECEIVE_MAXIMUM
            | id::TOPIC_ALIAS_MAXIMUM
            | id::TOPIC_ALIAS => {
                let v = r.u16("property value")?;
                if v == 0 && pid == id::RECEIVE_MAXIMUM {
                    return Err(invalid("Receive Maximum must not be 0"));
                }
                if v == 0 && pid == id::TOPIC_ALIAS {
                    return Err(DecodeError::new(
                        ErrorKind::InvalidPropertyValue {
                            id: pid,
                            why: "Topic Alias must not be 0",
                        },
                        "MQTT-3.3.2-8",
                    ));
                }
                macro_rules! set {
                    ($field:ident, $id:ident) => {
                        if pid == id::$id {
                            self.$field = Some(v);
                        }
                    };
                }
                for_each_u16!(set);
            }
            id::MESSAGE_EXPIRY_INTERVAL
            | id::SESSION_EXPIRY_INTERVAL
            | id::WILL_DELAY_INTERVAL
            | id::MAXIMUM_PACKET_SIZE => {
                let v = r.u32("property value")?;
                if v == 0 && pid == id::MAXIMUM_PACKET_SIZE {
                    return Err(invalid("Maximum Packet Size must not be 0"));
                }
                macro_rules! set {
                    ($field:ident, $id:ident) => {
                        if pid == id::$id {
                            self.$field = Some(v);
                        }
                    };
                }
                for_each_u32!(set);
            }
            id::CONTENT_TYPE
            | id::RESPONSE_TOPIC
            | id::ASSIGNED_CLIENT_IDENTIFIER
            | id::AUTHENTICATION_METHOD
            | id::RESPONSE_INFORMATION
            | id::SERVER_REFERENCE
            | id::REASON_STRING => {
                let v = r.string("property value")?;
                if pid == id::RESPONSE_TOPIC {
                    if let Err(e) = validate_topic_name(&v) {
                        return Err(DecodeError::new(
                            ErrorKind::InvalidPropertyValue {
                                id: pid,
                                why: "Response Topic must be a valid topic name",
                            },
                            if e == crate::topic::TopicError::WildcardInName {
                                "MQTT-3.3.2-14"
                            } else {
                                e.spec_id(true)
                            },
                        ));
                    }
                }
                // Moved into its field, not cloned: a clone is a reference count up, then down.
                let mut v = Some(v);
                macro_rules! set {
                    ($field:ident, $id:ident) => {
                        if pid == id::$id {
                            self.$field = v.take();
                        }
                    };
                }
                for_each_string!(set);
            }
            id::CORRELATION_DATA | id::AUTHENTICATION_DATA => {
                let v = r.binary("property value")?;
                let mut v = Some(v);
                macro_rules! set {
                    ($field:ident, $id:ident) => {
                        if pid == id::$id {
                            self.$field = v.take();
                        }
                    };
                }
                for_each_binary!(set);
            }
            id::SUBSCRIPTION_IDENTIFIER => {
                let v = r.varint("subscription identifier")?;
                if v == 0 {
                    return Err(invalid("Subscription Identifier must not be 0"));
                }
                self.subscription_identifiers.push(v);
            }
            id::USER_PROPERTY => {
                let k = r.string("user property name")?;
                let v = r.string("user property value")?;
                self.user_properties.push((k, v));
            }
            _ => unreachable!("allowed_in() admits only the ids matched above"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::ProtocolVersion;

    fn decode(bytes: &[u8], ctx: PropertyContext) -> Result<Properties, DecodeError> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes), ProtocolVersion::V5);
        let p = BoxedProperties::decode(&mut r, ctx)?.into_inner();
        r.finish()?;
        Ok(p)
    }

    #[test]
    fn every_property_round_trips_where_allowed() {
        let p = Properties {
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(60),
            content_type: Some("text/plain".into()),
            response_topic: Some("r/t".into()),
            correlation_data: Some(Bytes::from_static(b"\x00\x01")),
            subscription_identifiers: vec![1, 268_435_455],
            user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
            topic_alias: Some(3),
            ..Default::default()
        };
        let mut out = BytesMut::new();
        p.encode(&mut out);
        assert_eq!(out.len(), p.wire_len());
        assert_eq!(decode(&out, PropertyContext::Publish), Ok(p));
    }

    #[test]
    fn rules() {
        // Topic Alias in CONNECT: defined property, wrong packet.
        assert!(matches!(
            decode(&[3, 0x23, 0, 1], PropertyContext::Connect)
                .unwrap_err()
                .kind,
            ErrorKind::PropertyNotAllowed { id: 0x23, .. }
        ));
        // Receive Maximum twice.
        assert_eq!(
            decode(&[6, 0x21, 0, 1, 0x21, 0, 2], PropertyContext::Connect)
                .unwrap_err()
                .kind,
            ErrorKind::DuplicateProperty(0x21)
        );
        // Subscription Identifier twice: fine in PUBLISH, not in SUBSCRIBE.
        assert!(decode(&[4, 0x0B, 1, 0x0B, 2], PropertyContext::Publish).is_ok());
        assert_eq!(
            decode(&[4, 0x0B, 1, 0x0B, 2], PropertyContext::Subscribe)
                .unwrap_err()
                .kind,
            ErrorKind::DuplicateProperty(0x0B)
        );
        assert_eq!(
            decode(&[2, 0x7F, 0], PropertyContext::Publish)
                .unwrap_err()
                .kind,
            ErrorKind::UnknownProperty(0x7F)
        );
        assert_eq!(
            decode(&[3, 0x23, 0, 0], PropertyContext::Publish)
                .unwrap_err()
                .spec,
            "MQTT-3.3.2-8"
        );
        assert!(decode(&[2, 0x01, 2], PropertyContext::Publish).is_err());
        assert!(decode(&[5, 0x27, 0, 0, 0, 0], PropertyContext::Connect).is_err());
        assert_eq!(
            decode(&[4, 0x08, 0, 1, b'#'], PropertyContext::Publish)
                .unwrap_err()
                .spec,
            "MQTT-3.3.2-14"
        );
        // Declared length shorter than the property.
        assert!(decode(&[2, 0x21, 0, 1], PropertyContext::Connect).is_err());
    }

    #[test]
    fn table_matches_spec_for_a_few_cells() {
        assert!(is_allowed(id::USER_PROPERTY, PropertyContext::Auth));
        assert!(is_allowed(id::WILL_DELAY_INTERVAL, PropertyContext::Will));
        assert!(!is_allowed(
            id::WILL_DELAY_INTERVAL,
            PropertyContext::Connect
        ));
        assert!(!is_allowed(id::REASON_STRING, PropertyContext::Connect));
        assert!(is_allowed(
            id::SESSION_EXPIRY_INTERVAL,
            PropertyContext::Disconnect
        ));
    }
}
