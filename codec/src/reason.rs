//! Reason codes (v5) and return codes (3.1.1), and which packet may carry which.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A one-byte reason code (v5) or return code (3.1.1 CONNACK and SUBACK).
///
/// A plain byte rather than an enum, so that a test can send any value, including the invalid
/// ones a broker must reject; [`ReasonCode::is_valid_for`] says which values a packet may carry.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(transparent)]
pub struct ReasonCode(pub u8);

/// The packets that carry reason codes, each with its own table of valid values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonContext {
    Connack,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Suback,
    Unsuback,
    Disconnect,
    Auth,
}

macro_rules! reason_codes {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl ReasonCode {
            $(#[doc = $text] pub const $name: ReasonCode = ReasonCode($value);)*

            /// The name of the code as the v5 spec tables give it (the first one, where a value has several).
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($value => $text,)*
                    _ => "unknown reason code",
                }
            }
        }
    };
}

reason_codes! {
    SUCCESS = 0x00, "Success";
    GRANTED_QOS_1 = 0x01, "Granted QoS 1";
    GRANTED_QOS_2 = 0x02, "Granted QoS 2";
    DISCONNECT_WITH_WILL = 0x04, "Disconnect with Will Message";
    NO_MATCHING_SUBSCRIBERS = 0x10, "No matching subscribers";
    NO_SUBSCRIPTION_EXISTED = 0x11, "No subscription existed";
    CONTINUE_AUTHENTICATION = 0x18, "Continue authentication";
    REAUTHENTICATE = 0x19, "Re-authenticate";
    UNSPECIFIED_ERROR = 0x80, "Unspecified error";
    MALFORMED_PACKET = 0x81, "Malformed Packet";
    PROTOCOL_ERROR = 0x82, "Protocol Error";
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83, "Implementation specific error";
    UNSUPPORTED_PROTOCOL_VERSION = 0x84, "Unsupported Protocol Version";
    CLIENT_IDENTIFIER_NOT_VALID = 0x85, "Client Identifier not valid";
    BAD_USER_NAME_OR_PASSWORD = 0x86, "Bad User Name or Password";
    NOT_AUTHORIZED = 0x87, "Not authorized";
    SERVER_UNAVAILABLE = 0x88, "Server unavailable";
    SERVER_BUSY = 0x89, "Server busy";
    BANNED = 0x8A, "Banned";
    SERVER_SHUTTING_DOWN = 0x8B, "Server shutting down";
    BAD_AUTHENTICATION_METHOD = 0x8C, "Bad authentication method";
    KEEP_ALIVE_TIMEOUT = 0x8D, "Keep Alive timeout";
    SESSION_TAKEN_OVER = 0x8E, "Session taken over";
    TOPIC_FILTER_INVALID = 0x8F, "Topic Filter invalid";
    TOPIC_NAME_INVALID = 0x90, "Topic Name invalid";
    PACKET_IDENTIFIER_IN_USE = 0x91, "Packet Identifier in use";
    PACKET_IDENTIFIER_NOT_FOUND = 0x92, "Packet Identifier not found";
    RECEIVE_MAXIMUM_EXCEEDED = 0x93, "Receive Maximum exceeded";
    TOPIC_ALIAS_INVALID = 0x94, "Topic Alias invalid";
    PACKET_TOO_LARGE = 0x95, "Packet too large";
    MESSAGE_RATE_TOO_HIGH = 0x96, "Message rate too high";
    QUOTA_EXCEEDED = 0x97, "Quota exceeded";
    ADMINISTRATIVE_ACTION = 0x98, "Administrative action";
    PAYLOAD_FORMAT_INVALID = 0x99, "Payload format invalid";
    RETAIN_NOT_SUPPORTED = 0x9A, "Retain not supported";
    QOS_NOT_SUPPORTED = 0x9B, "QoS not supported";
    USE_ANOTHER_SERVER = 0x9C, "Use another server";
    SERVER_MOVED = 0x9D, "Server moved";
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E, "Shared Subscriptions not supported";
    CONNECTION_RATE_EXCEEDED = 0x9F, "Connection rate exceeded";
    MAXIMUM_CONNECT_TIME = 0xA0, "Maximum connect time";
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1, "Subscription Identifiers not supported";
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2, "Wildcard Subscriptions not supported";
}

/// 3.1.1 CONNACK return codes (Table 3.1), which reuse the same byte with other meanings.
pub mod v3_connack {
    use super::ReasonCode;
    pub const ACCEPTED: ReasonCode = ReasonCode(0x00);
    pub const UNACCEPTABLE_PROTOCOL_VERSION: ReasonCode = ReasonCode(0x01);
    pub const IDENTIFIER_REJECTED: ReasonCode = ReasonCode(0x02);
    pub const SERVER_UNAVAILABLE: ReasonCode = ReasonCode(0x03);
    pub const BAD_USER_NAME_OR_PASSWORD: ReasonCode = ReasonCode(0x04);
    pub const NOT_AUTHORIZED: ReasonCode = ReasonCode(0x05);
}

/// 3.1.1 SUBACK failure return code.
pub const V3_SUBACK_FAILURE: ReasonCode = ReasonCode(0x80);

const CONNACK: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];
const PUBACK_PUBREC: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_PUBCOMP: &[u8] = &[0x00, 0x92];
const SUBACK: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];
const UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
const DISCONNECT: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];
const AUTH: &[u8] = &[0x00, 0x18, 0x19];
const V3_CONNACK: &[u8] = &[0, 1, 2, 3, 4, 5];
const V3_SUBACK: &[u8] = &[0, 1, 2, 0x80];

impl ReasonCode {
    /// Codes of 0x80 and above report failure (v5 §2.4; also the 3.1.1 SUBACK failure code).
    pub fn is_error(self) -> bool {
        self.0 >= 0x80
    }

    /// Whether `self` is one of the values the spec allows in this packet for this version.
    pub fn is_valid_for(self, context: ReasonContext, v5: bool) -> bool {
        let table = match (context, v5) {
            (ReasonContext::Connack, false) => V3_CONNACK,
            (ReasonContext::Suback, false) => V3_SUBACK,
            (ReasonContext::Connack, true) => CONNACK,
            (ReasonContext::Puback | ReasonContext::Pubrec, _) => PUBACK_PUBREC,
            (ReasonContext::Pubrel | ReasonContext::Pubcomp, _) => PUBREL_PUBCOMP,
            (ReasonContext::Suback, true) => SUBACK,
            (ReasonContext::Unsuback, _) => UNSUBACK,
            (ReasonContext::Disconnect, _) => DISCONNECT,
            (ReasonContext::Auth, _) => AUTH,
        };
        table.contains(&self.0)
    }
}

impl From<u8> for ReasonCode {
    fn from(v: u8) -> Self {
        Self(v)
    }
}

impl fmt::Debug for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} ({})", self.0, self.name())
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} {}", self.0, self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_valid_everywhere_and_error_codes_are_not() {
        for ctx in [
            ReasonContext::Connack,
            ReasonContext::Puback,
            ReasonContext::Pubrec,
            ReasonContext::Pubrel,
            ReasonContext::Pubcomp,
            ReasonContext::Suback,
            ReasonContext::Unsuback,
            ReasonContext::Disconnect,
            ReasonContext::Auth,
        ] {
            assert!(ReasonCode::SUCCESS.is_valid_for(ctx, true), "{ctx:?}");
            assert!(!ReasonCode(0x03).is_valid_for(ctx, true), "{ctx:?}");
        }
        assert!(ReasonCode(0x05).is_valid_for(ReasonContext::Connack, false));
        assert!(!ReasonCode(0x05).is_valid_for(ReasonContext::Connack, true));
        assert!(!ReasonCode::PACKET_IDENTIFIER_NOT_FOUND.is_valid_for(ReasonContext::Puback, true));
        assert!(ReasonCode::PACKET_IDENTIFIER_NOT_FOUND.is_valid_for(ReasonContext::Pubrel, true));
        assert_eq!(ReasonCode(0x8E).name(), "Session taken over");
        assert_eq!(ReasonCode(0x8E).to_string(), "0x8E Session taken over");
    }
}
