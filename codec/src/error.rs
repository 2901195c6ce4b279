//! Decoding errors: what broke, which spec statement it breaks, and what a receiver must answer.
//!
//! Following rustls, "need more bytes" is not an error (the decoder returns `Ok(None)`), and every
//! error maps to the reason code a v5 receiver sends in its DISCONNECT or CONNACK.

use crate::reason::ReasonCode;
use std::fmt;

/// One rule of the wire format that an input broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Packet type 0, or 15 (AUTH) before MQTT 5.0.
    ReservedPacketType(u8),
    /// The four flag bits of the fixed header differ from the value the packet type requires.
    InvalidFixedHeaderFlags { packet_type: u8, flags: u8 },
    /// A Variable Byte Integer continued past its fourth byte.
    VariableByteIntegerTooLong,
    /// A Variable Byte Integer used more bytes than its value needs.
    NonMinimalVariableByteInteger,
    /// The packet is larger than the receiver's Maximum Packet Size.
    PacketTooLarge { size: u64, maximum: u32 },
    /// The packet ended inside a field.
    Truncated { field: &'static str },
    /// Bytes were left after the last field of the packet.
    TrailingBytes { count: usize },
    /// A UTF-8 Encoded String holds ill-formed UTF-8 (including encoded surrogates).
    InvalidUtf8 { field: &'static str },
    /// A UTF-8 Encoded String holds U+0000.
    NullCharacter { field: &'static str },
    /// CONNECT names a protocol other than "MQTT" (or "MQIsdp" for level 3).
    InvalidProtocolName,
    /// CONNECT asks for a protocol level this codec does not speak.
    UnsupportedProtocolLevel(u8),
    /// The reserved bit 0 of CONNECT's flags is set.
    ConnectReservedFlag,
    /// Will QoS is 3.
    InvalidWillQos,
    /// Will QoS or Will Retain is set while the Will Flag is not.
    WillFlagsWithoutWill,
    /// The Password Flag is set without the User Name Flag (3.1.1 only).
    PasswordWithoutUsername,
    /// CONNACK's acknowledge flags have reserved bits set.
    ConnackReservedFlags,
    /// CONNACK reports Session Present with a failure code.
    SessionPresentOnFailure,
    /// A PUBLISH with both QoS bits set.
    InvalidQos,
    /// A PUBLISH with QoS 0 and DUP set.
    DupOnQos0,
    /// A packet identifier of 0 where one is required.
    ZeroPacketIdentifier,
    /// A Topic Name (PUBLISH, Will, Response Topic) containing `+` or `#`.
    WildcardInTopicName,
    /// A zero-length Topic Name (allowed in v5 only together with a Topic Alias).
    EmptyTopicName,
    /// A Topic Filter that breaks the wildcard or shared-subscription rules.
    InvalidTopicFilter(crate::topic::TopicError),
    /// SUBSCRIBE or UNSUBSCRIBE without a single Topic Filter.
    NoTopicFilters,
    /// Reserved bits of the subscription options are set (3.1.1: or the requested QoS is 3).
    ReservedSubscriptionOptions,
    /// The Maximum QoS of a v5 subscription is 3: a Protocol Error, not a malformed packet.
    InvalidSubscriptionQos,
    /// Retain Handling is 3.
    InvalidRetainHandling,
    /// No Local set on a shared subscription.
    NoLocalOnSharedSubscription,
    /// A property identifier that MQTT 5.0 does not define.
    UnknownProperty(u32),
    /// A defined property in a packet that may not carry it.
    PropertyNotAllowed { id: u8, packet: &'static str },
    /// A property that may appear once appears twice.
    DuplicateProperty(u8),
    /// A property value outside its allowed range (e.g. Receive Maximum 0).
    InvalidPropertyValue { id: u8, why: &'static str },
    /// A reason code the packet may not carry.
    InvalidReasonCode { code: u8, packet: &'static str },
}

impl ErrorKind {
    /// The reason code a v5 receiver sends for this error (in DISCONNECT, or CONNACK for CONNECT).
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::PacketTooLarge { .. } => ReasonCode::PACKET_TOO_LARGE,
            Self::UnsupportedProtocolLevel(_) | Self::InvalidProtocolName => {
                ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
            }
            Self::WildcardInTopicName => ReasonCode::TOPIC_NAME_INVALID,
            // v5 §3.3.4: "A Topic Alias value of 0 ... is a Protocol Error, the receiver uses
            // DISCONNECT with Reason Code of 0x94 (Topic Alias invalid)".
            Self::InvalidPropertyValue {
                id: crate::properties::id::TOPIC_ALIAS,
                ..
            } => ReasonCode::TOPIC_ALIAS_INVALID,
            Self::EmptyTopicName
            | Self::NoTopicFilters
            | Self::InvalidRetainHandling
            | Self::InvalidSubscriptionQos
            | Self::NoLocalOnSharedSubscription
            | Self::DuplicateProperty(_)
            | Self::InvalidPropertyValue { .. }
            | Self::ZeroPacketIdentifier
            | Self::InvalidReasonCode { .. } => ReasonCode::PROTOCOL_ERROR,
            _ => ReasonCode::MALFORMED_PACKET,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedPacketType(t) => write!(f, "reserved packet type {t}"),
            Self::InvalidFixedHeaderFlags { packet_type, flags } => write!(
                f,
                "invalid fixed header flags 0b{flags:04b} for packet type {packet_type}"
            ),
            Self::VariableByteIntegerTooLong => {
                f.write_str("variable byte integer longer than 4 bytes")
            }
            Self::NonMinimalVariableByteInteger => {
                f.write_str("variable byte integer not in its shortest form")
            }
            Self::PacketTooLarge { size, maximum } => {
                write!(f, "packet of {size} bytes exceeds the maximum of {maximum}")
            }
            Self::Truncated { field } => write!(f, "packet ends inside {field}"),
            Self::TrailingBytes { count } => {
                write!(f, "{count} bytes left after the end of the packet")
            }
            Self::InvalidUtf8 { field } => write!(f, "{field} is not well-formed UTF-8"),
            Self::NullCharacter { field } => write!(f, "{field} contains U+0000"),
            Self::InvalidProtocolName => f.write_str("protocol name is not \"MQTT\""),
            Self::UnsupportedProtocolLevel(l) => write!(f, "unsupported protocol level {l}"),
            Self::ConnectReservedFlag => f.write_str("CONNECT reserved flag is set"),
            Self::InvalidWillQos => f.write_str("will QoS is 3"),
            Self::WillFlagsWithoutWill => {
                f.write_str("will QoS or will retain set without the will flag")
            }
            Self::PasswordWithoutUsername => {
                f.write_str("password flag set without the user name flag")
            }
            Self::ConnackReservedFlags => f.write_str("CONNACK reserved flag bits are set"),
            Self::SessionPresentOnFailure => {
                f.write_str("CONNACK has session present with a failure code")
            }
            Self::InvalidQos => f.write_str("PUBLISH with QoS 3"),
            Self::DupOnQos0 => f.write_str("PUBLISH with QoS 0 and DUP set"),
            Self::ZeroPacketIdentifier => f.write_str("packet identifier is 0"),
            Self::WildcardInTopicName => f.write_str("topic name contains a wildcard"),
            Self::EmptyTopicName => f.write_str("topic name is empty"),
            Self::InvalidTopicFilter(e) => write!(f, "invalid topic filter: {e}"),
            Self::NoTopicFilters => f.write_str("no topic filter in the payload"),
            Self::ReservedSubscriptionOptions => {
                f.write_str("reserved subscription option bits set or QoS 3")
            }
            Self::InvalidSubscriptionQos => f.write_str("subscription maximum QoS is 3"),
            Self::InvalidRetainHandling => f.write_str("retain handling is 3"),
            Self::NoLocalOnSharedSubscription => {
                f.write_str("no local set on a shared subscription")
            }
            Self::UnknownProperty(id) => write!(f, "unknown property identifier 0x{id:02X}"),
            Self::PropertyNotAllowed { id, packet } => {
                write!(f, "property 0x{id:02X} is not allowed in {packet}")
            }
            Self::DuplicateProperty(id) => write!(f, "property 0x{id:02X} appears twice"),
            Self::InvalidPropertyValue { id, why } => {
                write!(f, "invalid value for property 0x{id:02X}: {why}")
            }
            Self::InvalidReasonCode { code, packet } => {
                write!(f, "reason code 0x{code:02X} is not valid in {packet}")
            }
        }
    }
}

/// A malformed or protocol-violating packet: what is wrong and the statement it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The normative statement broken (`MQTT-3.3.1-4`), or the section (`§2.2.3`) where the rule
    /// has no numbered statement. The ID is the one of the version being decoded.
    pub spec: &'static str,
}

impl DecodeError {
    pub(crate) fn new(kind: ErrorKind, spec: &'static str) -> Self {
        Self { kind, spec }
    }

    /// The reason code a v5 receiver answers with.
    pub fn reason_code(&self) -> ReasonCode {
        self.kind.reason_code()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.kind, self.spec)
    }
}

impl std::error::Error for DecodeError {}

/// A packet that cannot be put on the wire as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{field} is {len} bytes, more than the 65,535 a length prefix can say")]
    FieldTooLong { field: &'static str, len: usize },
    #[error("packet body of {0} bytes exceeds the 268,435,455 a remaining length can say")]
    PacketTooLong(usize),
    #[error("value {0} exceeds the 268,435,455 a variable byte integer can hold")]
    VariableByteIntegerTooLarge(u32),
    #[error("{0} packets do not exist in MQTT {1}")]
    NotInVersion(&'static str, &'static str),
}
