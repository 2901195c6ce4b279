//! One row per malformed-packet or protocol-error rule the decoder checks, in both versions: the
//! bytes, the error kind, the spec statement (or section, where the rule has no number) and the
//! v5 reason code a receiver answers with. Rows follow the order of the specs.

use mqttspec_codec::topic::TopicError;
use mqttspec_codec::{decode_one, DecodeError, ErrorKind, ProtocolVersion};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

struct Row {
    name: &'static str,
    version: ProtocolVersion,
    hex: &'static str,
    kind: fn(&ErrorKind) -> bool,
    kind_text: &'static str,
    spec: &'static str,
    reason: u8,
}

macro_rules! rows {
    ($( $name:literal, $version:ident, $hex:literal, $kind:pat, $spec:literal, $reason:literal; )*) => {
        vec![$(Row {
            name: $name,
            version: $version,
            hex: $hex,
            kind: |k| matches!(k, $kind),
            kind_text: stringify!($kind),
            spec: $spec,
            reason: $reason,
        }),*]
    };
}

use ErrorKind::*;

#[rustfmt::skip]
fn table() -> Vec<Row> {
    rows![
        // ---- §1.5 data representations ----------------------------------------------------
        // Topic "(" after 0xC3: ill-formed UTF-8.
        "utf8 ill-formed", V3, "30 04 0002 C328", InvalidUtf8 { .. }, "MQTT-1.5.3-1", 0x81;
        "utf8 ill-formed", V5, "30 05 0002 C328 00", InvalidUtf8 { .. }, "MQTT-1.5.4-1", 0x81;
        // U+D800 encoded as ED A0 80: surrogates are not UTF-8.
        "utf8 surrogate", V3, "30 05 0003 EDA080", InvalidUtf8 { .. }, "MQTT-1.5.3-1", 0x81;
        "utf8 surrogate", V5, "30 06 0003 EDA080 00", InvalidUtf8 { .. }, "MQTT-1.5.4-1", 0x81;
        // "Modified UTF-8" NUL (C0 80) is an overlong form, not U+0000.
        "utf8 overlong nul", V5, "30 05 0002 C080 00", InvalidUtf8 { .. }, "MQTT-1.5.4-1", 0x81;
        "utf8 nul in topic", V3, "30 05 0003 610062", NullCharacter { .. }, "MQTT-1.5.3-2", 0x81;
        "utf8 nul in topic", V5, "30 06 0003 610062 00", NullCharacter { .. }, "MQTT-1.5.4-2", 0x81;
        "utf8 nul in client id", V3, "10 0E 0004 4D515454 04 02 003C 0002 6300", NullCharacter { field: "client identifier" }, "MQTT-1.5.3-2", 0x81;
        // User Property value "\0" (MQTT-1.5.7-1: both strings of a pair are UTF-8 strings).
        "string pair nul", V5, "E0 09 00 07 26 0001 6B 0001 00", NullCharacter { field: "user property value" }, "MQTT-1.5.4-2", 0x81;
        "string pair without value", V5, "E0 06 00 04 26 0001 6B", Truncated { .. }, "§2.1.4", 0x81;
        // Subscription Identifier 1 written in two bytes.
        "varint non-minimal in body", V5, "82 0A 0001 03 0B 8100 0001 61 00", NonMinimalVariableByteInteger, "MQTT-1.5.5-1", 0x81;
        "varint five bytes in body", V5, "82 0D 0001 06 0B 8080808001 0001 61 00", VariableByteIntegerTooLong, "§1.5.5", 0x81;
        "binary data past the end", V5, "30 0A 0001 74 05 09 0009 414243", Truncated { .. }, "§2.1.4", 0x81;

        // ---- §2 fixed header, remaining length, packet identifier, properties --------------
        "packet type 0", V3, "00 00", ReservedPacketType(0), "§2.2.1", 0x81;
        "packet type 0", V5, "00 00", ReservedPacketType(0), "§2.1.2", 0x81;
        "AUTH before 5.0", V3, "F0 00", ReservedPacketType(15), "§2.2.1", 0x81;
        "reserved flags PUBACK", V3, "41 02 0001", InvalidFixedHeaderFlags { packet_type: 4, flags: 1 }, "MQTT-2.2.2-1", 0x81;
        "reserved flags PUBACK", V5, "41 02 0001", InvalidFixedHeaderFlags { packet_type: 4, flags: 1 }, "MQTT-2.1.3-1", 0x81;
        "reserved flags CONNECT", V3, "18 0C 0004 4D515454 04 02 003C 0000", InvalidFixedHeaderFlags { packet_type: 1, .. }, "MQTT-2.2.2-1", 0x81;
        "reserved flags CONNACK", V5, "22 03 00 00 00", InvalidFixedHeaderFlags { packet_type: 2, .. }, "MQTT-2.1.3-1", 0x81;
        "reserved flags PINGREQ", V5, "C8 00", InvalidFixedHeaderFlags { packet_type: 12, flags: 8 }, "MQTT-2.1.3-1", 0x81;
        "reserved flags PINGRESP", V3, "D1 00", InvalidFixedHeaderFlags { packet_type: 13, flags: 1 }, "MQTT-2.2.2-1", 0x81;
        "reserved flags SUBACK", V3, "92 03 0001 00", InvalidFixedHeaderFlags { packet_type: 9, .. }, "MQTT-2.2.2-1", 0x81;
        "reserved flags UNSUBACK", V5, "B4 04 0001 00 00", InvalidFixedHeaderFlags { packet_type: 11, .. }, "MQTT-2.1.3-1", 0x81;
        "reserved flags PUBREC", V5, "58 02 0001", InvalidFixedHeaderFlags { packet_type: 5, .. }, "MQTT-2.1.3-1", 0x81;
        "reserved flags PUBCOMP", V3, "72 02 0001", InvalidFixedHeaderFlags { packet_type: 7, .. }, "MQTT-2.2.2-1", 0x81;
        "remaining length 5 bytes", V3, "30 FFFFFFFF7F", VariableByteIntegerTooLong, "§2.2.3", 0x81;
        "remaining length 5 bytes", V5, "30 8080808001", VariableByteIntegerTooLong, "§1.5.5", 0x81;
        // Remaining length 0 written in two bytes: 5.0 forbids it (3.1.1 does not say).
        "remaining length non-minimal", V5, "C0 8000", NonMinimalVariableByteInteger, "MQTT-1.5.5-1", 0x81;
        "packet ends inside a field", V3, "40 01 00", Truncated { field: "packet identifier" }, "§2.2.3", 0x81;
        "packet ends inside a field", V5, "40 01 00", Truncated { field: "packet identifier" }, "§2.1.4", 0x81;
        "trailing byte PINGREQ", V3, "C0 01 00", TrailingBytes { count: 1 }, "§2.2.3", 0x81;
        "trailing byte PINGRESP", V5, "D0 01 00", TrailingBytes { count: 1 }, "§2.1.4", 0x81;
        "trailing byte PUBACK", V3, "40 03 0001 00", TrailingBytes { count: 1 }, "§2.2.3", 0x81;
        "trailing byte UNSUBACK", V3, "B0 03 0001 00", TrailingBytes { count: 1 }, "§2.2.3", 0x81;
        "trailing byte DISCONNECT", V3, "E0 01 00", TrailingBytes { count: 1 }, "§2.2.3", 0x81;
        "trailing byte CONNACK", V3, "20 03 00 00 00", TrailingBytes { count: 1 }, "§2.2.3", 0x81;
        "trailing bytes after CONNECT", V5, "10 0F 0004 4D515454 05 02 003C 00 0000 FFFF", TrailingBytes { count: 2 }, "§2.1.4", 0x81;
        "packet identifier 0 PUBLISH", V3, "32 05 0001 74 0000", ZeroPacketIdentifier, "MQTT-2.3.1-1", 0x82;
        "packet identifier 0 PUBLISH", V5, "32 06 0001 74 0000 00", ZeroPacketIdentifier, "MQTT-2.2.1-3", 0x82;
        "packet identifier 0 SUBSCRIBE", V3, "82 06 0000 0001 61 00", ZeroPacketIdentifier, "MQTT-2.3.1-1", 0x82;
        "packet identifier 0 UNSUBSCRIBE", V5, "A2 06 0000 00 0001 61", ZeroPacketIdentifier, "MQTT-2.2.1-3", 0x82;
        "packet identifier 0 PUBACK", V3, "40 02 0000", ZeroPacketIdentifier, "MQTT-2.3.1-1", 0x82;
        "packet identifier 0 PUBREL", V5, "62 02 0000", ZeroPacketIdentifier, "MQTT-2.2.1-3", 0x82;
        "packet identifier 0 SUBACK", V3, "90 03 0000 00", ZeroPacketIdentifier, "MQTT-2.3.1-1", 0x82;
        "packet identifier 0 UNSUBACK", V5, "B0 04 0000 00 00", ZeroPacketIdentifier, "MQTT-2.2.1-3", 0x82;
        // PUBLISH whose property length is missing: the topic fills the packet.
        "property length missing", V5, "30 03 0001 74", Truncated { field: "property length" }, "§2.1.4", 0x81;
        "property length past the packet", V5, "30 04 0001 74 05", Truncated { field: "properties" }, "§2.2.2.1", 0x81;
        // Property length 2 but the Topic Alias is three bytes long.
        "property past its declared length", V5, "30 08 0001 74 02 230001 78", Truncated { field: "properties" }, "§2.2.2.1", 0x81;
        "unknown property", V5, "30 06 0001 74 02 7F00", UnknownProperty(0x7F), "§2.2.2.2", 0x81;
        "unknown two-byte property id", V5, "30 07 0001 74 03 8001 00", UnknownProperty(128), "§2.2.2.2", 0x81;
        "property id non-minimal", V5, "30 07 0001 74 03 8100 00", NonMinimalVariableByteInteger, "MQTT-1.5.5-1", 0x81;

        // ---- §3.1 CONNECT ------------------------------------------------------------------
        "protocol name", V3, "10 0C 0004 4D515458 04 02 003C 0000", InvalidProtocolName, "MQTT-3.1.2-1", 0x84;
        "protocol name", V5, "10 0D 0004 6D717474 05 02 003C 00 0000", InvalidProtocolName, "MQTT-3.1.2-1", 0x84;
        "protocol level", V3, "10 0C 0004 4D515454 06 02 003C 0000", UnsupportedProtocolLevel(6), "MQTT-3.1.2-2", 0x84;
        "protocol level of MQIsdp", V3, "10 0E 0006 4D5149736470 04 02 003C 0000", UnsupportedProtocolLevel(4), "MQTT-3.1.2-2", 0x84;
        "reserved connect flag", V3, "10 0C 0004 4D515454 04 03 003C 0000", ConnectReservedFlag, "MQTT-3.1.2-3", 0x81;
        "reserved connect flag", V5, "10 0D 0004 4D515454 05 03 003C 00 0000", ConnectReservedFlag, "MQTT-3.1.2-3", 0x81;
        // Flags 0x0A: Will QoS 1 with the Will Flag clear.
        "will QoS without will", V3, "10 0C 0004 4D515454 04 0A 003C 0000", WillFlagsWithoutWill, "MQTT-3.1.2-13", 0x81;
        "will QoS without will", V5, "10 0D 0004 4D515454 05 0A 003C 00 0000", WillFlagsWithoutWill, "MQTT-3.1.2-11", 0x81;
        // Flags 0x22: Will Retain with the Will Flag clear.
        "will retain without will", V3, "10 0C 0004 4D515454 04 22 003C 0000", WillFlagsWithoutWill, "MQTT-3.1.2-15", 0x81;
        "will retain without will", V5, "10 0D 0004 4D515454 05 22 003C 00 0000", WillFlagsWithoutWill, "MQTT-3.1.2-13", 0x81;
        // Flags 0x1E: Will Flag with Will QoS 3.
        "will QoS 3", V3, "10 12 0004 4D515454 04 1E 003C 0000 0001 74 0001 78", InvalidWillQos, "MQTT-3.1.2-14", 0x81;
        "will QoS 3", V5, "10 14 0004 4D515454 05 1E 003C 00 0000 00 0001 74 0001 78", InvalidWillQos, "MQTT-3.1.2-12", 0x81;
        // Flags 0x42: Password Flag without User Name Flag (allowed from 5.0 on).
        "password without user name", V3, "10 0F 0004 4D515454 04 42 003C 0000 0001 70", PasswordWithoutUsername, "MQTT-3.1.2-22", 0x81;
        "will topic missing", V3, "10 0C 0004 4D515454 04 06 003C 0000", Truncated { field: "will topic" }, "§2.2.3", 0x81;
        "will properties missing", V5, "10 0D 0004 4D515454 05 06 003C 00 0000", Truncated { field: "property length" }, "§2.1.4", 0x81;
        "will topic with wildcard", V3, "10 12 0004 4D515454 04 06 003C 0000 0001 23 0001 78", WildcardInTopicName, "MQTT-4.7.1-1", 0x90;
        "will topic with wildcard", V5, "10 13 0004 4D515454 05 06 003C 00 0000 00 0001 2B 0000", WildcardInTopicName, "MQTT-4.7.0-1", 0x90;
        "will topic empty", V3, "10 11 0004 4D515454 04 06 003C 0000 0000 0001 78", EmptyTopicName, "MQTT-4.7.3-1", 0x82;
        "user name missing", V3, "10 0C 0004 4D515454 04 82 003C 0000", Truncated { field: "user name" }, "§2.2.3", 0x81;
        "password missing", V5, "10 10 0004 4D515454 05 C2 003C 00 0000 0001 75", Truncated { field: "password" }, "§2.1.4", 0x81;
        "client identifier missing", V3, "10 0A 0004 4D515454 04 02 003C", Truncated { field: "client identifier" }, "§2.2.3", 0x81;
        "authentication data without method", V5, "10 11 0004 4D515454 05 02 003C 04 160001 FF 0000", InvalidPropertyValue { id: 0x16, .. }, "§3.1.2.11.10", 0x82;
        "receive maximum 0", V5, "10 10 0004 4D515454 05 02 003C 03 210000 0000", InvalidPropertyValue { id: 0x21, .. }, "§2.2.2.2", 0x82;
        "maximum packet size 0", V5, "10 12 0004 4D515454 05 02 003C 05 2700000000 0000", InvalidPropertyValue { id: 0x27, .. }, "§2.2.2.2", 0x82;
        "request problem information 2", V5, "10 0F 0004 4D515454 05 02 003C 02 1702 0000", InvalidPropertyValue { id: 0x17, .. }, "§2.2.2.2", 0x82;
        "request response information 2", V5, "10 0F 0004 4D515454 05 02 003C 02 1902 0000", InvalidPropertyValue { id: 0x19, .. }, "§2.2.2.2", 0x82;
        "session expiry twice", V5, "10 17 0004 4D515454 05 02 003C 0A 1100000001 1100000002 0000", DuplicateProperty(0x11), "§2.2.2.2", 0x82;
        "authentication method twice", V5, "10 15 0004 4D515454 05 02 003C 08 150001 61 150001 62 0000", DuplicateProperty(0x15), "§2.2.2.2", 0x82;
        "topic alias in CONNECT", V5, "10 10 0004 4D515454 05 02 003C 03 230001 0000", PropertyNotAllowed { id: 0x23, packet: "CONNECT" }, "§2.2.2.2", 0x81;
        "will delay in CONNECT", V5, "10 12 0004 4D515454 05 02 003C 05 1800000001 0000", PropertyNotAllowed { id: 0x18, packet: "CONNECT" }, "§2.2.2.2", 0x81;
        "session expiry in will", V5, "10 19 0004 4D515454 05 06 003C 00 0000 05 1100000001 0001 74 0001 78", PropertyNotAllowed { id: 0x11, packet: "Will Properties" }, "§2.2.2.2", 0x81;
        "will response topic with wildcard", V5, "10 18 0004 4D515454 05 06 003C 00 0000 04 080001 23 0001 74 0001 78", InvalidPropertyValue { id: 0x08, .. }, "MQTT-3.3.2-14", 0x82;
        "will payload format indicator twice", V5, "10 18 0004 4D515454 05 06 003C 00 0000 04 0101 0100 0001 74 0001 78", DuplicateProperty(0x01), "§2.2.2.2", 0x82;

        // ---- §3.2 CONNACK ------------------------------------------------------------------
        "connack reserved flags", V3, "20 02 02 00", ConnackReservedFlags, "§3.2.2.1", 0x81;
        "connack reserved flags", V5, "20 03 80 00 00", ConnackReservedFlags, "MQTT-3.2.2-1", 0x81;
        "session present with failure", V3, "20 02 01 05", SessionPresentOnFailure, "MQTT-3.2.2-4", 0x81;
        "session present with failure", V5, "20 03 01 87 00", SessionPresentOnFailure, "MQTT-3.2.2-6", 0x81;
        "connack return code 6", V3, "20 02 00 06", InvalidReasonCode { code: 6, packet: "CONNACK" }, "§3.2.2.3", 0x82;
        // 0x05 is a 3.1.1 return code but no 5.0 Connect Reason Code.
        "connack reason code 5", V5, "20 03 00 05 00", InvalidReasonCode { code: 5, packet: "CONNACK" }, "MQTT-3.2.2-8", 0x82;
        "connack properties missing", V5, "20 02 00 00", Truncated { field: "property length" }, "§2.1.4", 0x81;
        "maximum QoS 2", V5, "20 05 00 00 02 2402", InvalidPropertyValue { id: 0x24, .. }, "§2.2.2.2", 0x82;
        "retain available 2", V5, "20 05 00 00 02 2502", InvalidPropertyValue { id: 0x25, .. }, "§2.2.2.2", 0x82;
        "wildcard subscription available 2", V5, "20 05 00 00 02 2802", InvalidPropertyValue { id: 0x28, .. }, "§2.2.2.2", 0x82;
        "subscription identifier available 2", V5, "20 05 00 00 02 2902", InvalidPropertyValue { id: 0x29, .. }, "§2.2.2.2", 0x82;
        "shared subscription available 2", V5, "20 05 00 00 02 2A02", InvalidPropertyValue { id: 0x2A, .. }, "§2.2.2.2", 0x82;
        "connack receive maximum 0", V5, "20 06 00 00 03 210000", InvalidPropertyValue { id: 0x21, .. }, "§2.2.2.2", 0x82;
        "assigned client identifier twice", V5, "20 0D 00 00 0A 120002 6161 120002 6262", DuplicateProperty(0x12), "§2.2.2.2", 0x82;
        "server keep alive twice", V5, "20 09 00 00 06 13000A 13000B", DuplicateProperty(0x13), "§2.2.2.2", 0x82;
        "will delay in CONNACK", V5, "20 08 00 00 05 1800000001", PropertyNotAllowed { id: 0x18, packet: "CONNACK" }, "§2.2.2.2", 0x81;

        // ---- §3.3 PUBLISH ------------------------------------------------------------------
        "publish QoS 3", V3, "36 05 0001 74 0001", InvalidQos, "MQTT-3.3.1-4", 0x81;
        "publish QoS 3", V5, "36 06 0001 74 0001 00", InvalidQos, "MQTT-3.3.1-4", 0x81;
        "publish DUP at QoS 0", V3, "38 03 0001 74", DupOnQos0, "MQTT-3.3.1-2", 0x81;
        "publish DUP at QoS 0", V5, "38 04 0001 74 00", DupOnQos0, "MQTT-3.3.1-2", 0x81;
        "topic name with +", V3, "30 05 0003 612F2B", WildcardInTopicName, "MQTT-3.3.2-2", 0x90;
        "topic name with #", V5, "30 06 0003 612F23 00", WildcardInTopicName, "MQTT-3.3.2-2", 0x90;
        "topic name empty", V3, "30 02 0000", EmptyTopicName, "MQTT-4.7.3-1", 0x82;
        // 5.0: empty only with a Topic Alias, else a Protocol Error (§3.3.2.1).
        "topic name empty without alias", V5, "30 03 0000 00", EmptyTopicName, "§3.3.2.3.4", 0x82;
        "topic name past the packet", V3, "30 03 0005 61", Truncated { field: "topic name" }, "§2.2.3", 0x81;
        "topic alias 0", V5, "30 07 0001 74 03 230000", InvalidPropertyValue { id: 0x23, .. }, "MQTT-3.3.2-8", 0x94;
        "topic alias twice", V5, "30 0A 0001 74 06 230001 230002", DuplicateProperty(0x23), "§2.2.2.2", 0x82;
        "subscription identifier 0", V5, "30 06 0001 74 02 0B00", InvalidPropertyValue { id: 0x0B, .. }, "§2.2.2.2", 0x82;
        "response topic with wildcard", V5, "30 0A 0001 74 06 080003 612F2B", InvalidPropertyValue { id: 0x08, .. }, "MQTT-3.3.2-14", 0x82;
        "response topic ill-formed", V5, "30 09 0001 74 05 080002 C328", InvalidUtf8 { .. }, "MQTT-1.5.4-1", 0x81;
        "response topic empty", V5, "30 07 0001 74 03 080000", InvalidPropertyValue { id: 0x08, .. }, "MQTT-4.7.3-1", 0x82;
        "content type with nul", V5, "30 08 0001 74 04 030001 00", NullCharacter { .. }, "MQTT-1.5.4-2", 0x81;
        "payload format indicator 2", V5, "30 06 0001 74 02 0102", InvalidPropertyValue { id: 0x01, .. }, "§2.2.2.2", 0x82;
        "correlation data twice", V5, "30 0C 0001 74 08 090001 41 090001 42", DuplicateProperty(0x09), "§2.2.2.2", 0x82;
        "message expiry twice", V5, "30 0E 0001 74 0A 020000000A 020000000B", DuplicateProperty(0x02), "§2.2.2.2", 0x82;
        "reason string in PUBLISH", V5, "30 09 0001 74 05 1F0002 6F6B", PropertyNotAllowed { id: 0x1F, packet: "PUBLISH" }, "§2.2.2.2", 0x81;

        // ---- §3.4-§3.7 PUBACK, PUBREC, PUBREL, PUBCOMP -------------------------------------
        "puback reason code 0x92", V5, "40 03 0001 92", InvalidReasonCode { code: 0x92, packet: "PUBACK" }, "MQTT-3.4.2-1", 0x82;
        "pubrec reason code 0x92", V5, "50 03 0001 92", InvalidReasonCode { code: 0x92, packet: "PUBREC" }, "MQTT-3.5.2-1", 0x82;
        "pubrel reason code 0x10", V5, "62 03 0001 10", InvalidReasonCode { code: 0x10, packet: "PUBREL" }, "MQTT-3.6.2-1", 0x82;
        "pubcomp reason code 0x80", V5, "70 03 0001 80", InvalidReasonCode { code: 0x80, packet: "PUBCOMP" }, "MQTT-3.7.2-1", 0x82;
        "pubrel reserved flags", V3, "60 02 0001", InvalidFixedHeaderFlags { packet_type: 6, flags: 0 }, "MQTT-3.6.1-1", 0x81;
        "pubrel reserved flags", V5, "63 02 0001", InvalidFixedHeaderFlags { packet_type: 6, flags: 3 }, "MQTT-3.6.1-1", 0x81;
        "topic alias in PUBACK", V5, "40 07 0001 00 03 230001", PropertyNotAllowed { id: 0x23, packet: "PUBACK" }, "§2.2.2.2", 0x81;
        "reason string twice in PUBCOMP", V5, "70 0C 0001 00 08 1F0001 61 1F0001 62", DuplicateProperty(0x1F), "§2.2.2.2", 0x82;
        "pubrec properties past the packet", V5, "50 05 0001 00 09 1F", Truncated { .. }, "§2.2.2.1", 0x81;
        "pubrec with a reason code before 5.0", V3, "50 03 0001 10", TrailingBytes { count: 1 }, "§2.2.3", 0x81;

        // ---- §3.8 SUBSCRIBE ----------------------------------------------------------------
        "subscribe reserved flags", V3, "80 06 0001 0001 61 00", InvalidFixedHeaderFlags { packet_type: 8, flags: 0 }, "MQTT-3.8.1-1", 0x81;
        "subscribe reserved flags", V5, "83 07 0001 00 0001 61 00", InvalidFixedHeaderFlags { packet_type: 8, flags: 3 }, "MQTT-3.8.1-1", 0x81;
        "subscribe without filters", V3, "82 02 0001", NoTopicFilters, "MQTT-3.8.3-3", 0x82;
        "subscribe without filters", V5, "82 03 0001 00", NoTopicFilters, "MQTT-3.8.3-2", 0x82;
        "subscription options missing", V3, "82 05 0001 0001 61", Truncated { field: "subscription options" }, "§2.2.3", 0x81;
        "subscribe filter ill-formed", V3, "82 07 0001 0002 C328 00", InvalidUtf8 { field: "topic filter" }, "MQTT-1.5.3-1", 0x81;
        // Options 0x04: bit 2 is reserved before 5.0 (No Local since).
        "subscription reserved bit", V3, "82 06 0001 0001 61 04", ReservedSubscriptionOptions, "MQTT-3.8.3-4", 0x81;
        "requested QoS 3", V3, "82 06 0001 0001 61 03", ReservedSubscriptionOptions, "MQTT-3.8.3-4", 0x81;
        "subscription reserved bit 6", V5, "82 07 0001 00 0001 61 40", ReservedSubscriptionOptions, "MQTT-3.8.3-5", 0x81;
        "subscription reserved bit 7", V5, "82 07 0001 00 0001 61 80", ReservedSubscriptionOptions, "MQTT-3.8.3-5", 0x81;
        // 5.0 §3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3".
        "maximum QoS 3", V5, "82 07 0001 00 0001 61 03", InvalidSubscriptionQos, "§3.8.3.1", 0x82;
        "retain handling 3", V5, "82 07 0001 00 0001 61 30", InvalidRetainHandling, "§3.8.3.1", 0x82;
        "no local on shared subscription", V5, "82 10 0001 00 000A 2473686172652F672F61 04", NoLocalOnSharedSubscription, "MQTT-3.8.3-4", 0x82;
        "filter empty", V3, "82 05 0001 0000 00", InvalidTopicFilter(TopicError::Empty), "MQTT-4.7.3-1", 0x81;
        "filter empty", V5, "82 06 0001 00 0000 00", InvalidTopicFilter(TopicError::Empty), "MQTT-4.7.3-1", 0x81;
        "filter with nul", V5, "82 07 0001 00 0001 00 00", NullCharacter { field: "topic filter" }, "MQTT-1.5.4-2", 0x81;
        "filter a#", V3, "82 07 0001 0002 6123 00", InvalidTopicFilter(TopicError::MultiLevelWildcardMisplaced), "MQTT-4.7.1-2", 0x81;
        "filter a/#/b", V5, "82 0B 0001 00 0005 612F232F62 00", InvalidTopicFilter(TopicError::MultiLevelWildcardMisplaced), "MQTT-4.7.1-1", 0x81;
        "filter a+", V3, "82 07 0001 0002 612B 00", InvalidTopicFilter(TopicError::SingleLevelWildcardMisplaced), "MQTT-4.7.1-3", 0x81;
        "filter +a/b", V5, "82 0A 0001 00 0004 2B612F62 00", InvalidTopicFilter(TopicError::SingleLevelWildcardMisplaced), "MQTT-4.7.1-2", 0x81;
        "share name empty", V5, "82 0F 0001 00 0009 2473686172652F2F61 00", InvalidTopicFilter(TopicError::InvalidShareName), "MQTT-4.8.2-1", 0x81;
        "share name with +", V5, "82 11 0001 00 000B 2473686172652F672B2F61 00", InvalidTopicFilter(TopicError::WildcardInShareName), "MQTT-4.8.2-2", 0x81;
        "share name not followed by /", V5, "82 0E 0001 00 0008 2473686172652F67 00", InvalidTopicFilter(TopicError::EmptySharedFilter), "MQTT-4.8.2-2", 0x81;
        "shared subscription without filter", V5, "82 0F 0001 00 0009 2473686172652F672F 00", InvalidTopicFilter(TopicError::EmptySharedFilter), "MQTT-4.8.2-2", 0x81;
        "shared filter with misplaced #", V5, "82 11 0001 00 000B 2473686172652F672F2361 00", InvalidTopicFilter(TopicError::MultiLevelWildcardMisplaced), "MQTT-4.7.1-1", 0x81;
        "subscription identifier twice in SUBSCRIBE", V5, "82 0B 0001 04 0B01 0B02 0001 61 00", DuplicateProperty(0x0B), "§2.2.2.2", 0x82;
        "subscription identifier 0 in SUBSCRIBE", V5, "82 09 0001 02 0B00 0001 61 00", InvalidPropertyValue { id: 0x0B, .. }, "§2.2.2.2", 0x82;
        "reason string in SUBSCRIBE", V5, "82 0C 0001 05 1F0002 6F6B 0001 61 00", PropertyNotAllowed { id: 0x1F, packet: "SUBSCRIBE" }, "§2.2.2.2", 0x81;

        // ---- §3.9 SUBACK -------------------------------------------------------------------
        "suback return code 3", V3, "90 03 0001 03", InvalidReasonCode { code: 3, packet: "SUBACK" }, "MQTT-3.9.3-2", 0x82;
        "suback reason code 0x8E", V5, "90 05 0001 00 01 8E", InvalidReasonCode { code: 0x8E, packet: "SUBACK" }, "MQTT-3.9.3-2", 0x82;
        // 0x9E is a 5.0 code only.
        "suback 5.0 code before 5.0", V3, "90 03 0001 9E", InvalidReasonCode { code: 0x9E, packet: "SUBACK" }, "MQTT-3.9.3-2", 0x82;
        "suback without return codes", V3, "90 02 0001", Truncated { field: "reason codes" }, "§2.2.3", 0x81;
        "suback without reason codes", V5, "90 03 0001 00", Truncated { field: "reason codes" }, "§2.1.4", 0x81;
        "subscription identifier in SUBACK", V5, "90 06 0001 02 0B01 00", PropertyNotAllowed { id: 0x0B, packet: "SUBACK" }, "§2.2.2.2", 0x81;

        // ---- §3.10 UNSUBSCRIBE -------------------------------------------------------------
        "unsubscribe reserved flags", V3, "A0 05 0001 0001 61", InvalidFixedHeaderFlags { packet_type: 10, flags: 0 }, "MQTT-3.10.1-1", 0x81;
        "unsubscribe reserved flags", V5, "AA 06 0001 00 0001 61", InvalidFixedHeaderFlags { packet_type: 10, flags: 0x0A }, "MQTT-3.10.1-1", 0x81;
        "unsubscribe without filters", V3, "A2 02 0001", NoTopicFilters, "MQTT-3.10.3-2", 0x82;
        "unsubscribe without filters", V5, "A2 03 0001 00", NoTopicFilters, "MQTT-3.10.3-2", 0x82;
        "unsubscribe filter ill-formed", V5, "A2 07 0001 00 0002 C328", InvalidUtf8 { field: "topic filter" }, "MQTT-1.5.4-1", 0x81;
        "unsubscribe filter misplaced #", V3, "A2 07 0001 0003 232F61", InvalidTopicFilter(TopicError::MultiLevelWildcardMisplaced), "MQTT-4.7.1-2", 0x81;
        "unsubscribe filter empty", V5, "A2 05 0001 00 0000", InvalidTopicFilter(TopicError::Empty), "MQTT-4.7.3-1", 0x81;
        "reason string in UNSUBSCRIBE", V5, "A2 0B 0001 05 1F0002 6F6B 0001 61", PropertyNotAllowed { id: 0x1F, packet: "UNSUBSCRIBE" }, "§2.2.2.2", 0x81;

        // ---- §3.11 UNSUBACK ----------------------------------------------------------------
        "unsuback reason code 1", V5, "B0 04 0001 00 01", InvalidReasonCode { code: 1, packet: "UNSUBACK" }, "MQTT-3.11.3-2", 0x82;
        "unsuback without reason codes", V5, "B0 03 0001 00", Truncated { field: "reason codes" }, "§2.1.4", 0x81;
        "user property without value in UNSUBACK", V5, "B0 09 0001 04 26 0001 61 0000", Truncated { .. }, "§2.2.2.1", 0x81;

        // ---- §3.12-§3.14 PINGREQ, PINGRESP, DISCONNECT --------------------------------------
        "disconnect reserved flags", V3, "E2 00", InvalidFixedHeaderFlags { packet_type: 14, flags: 2 }, "MQTT-3.14.1-1", 0x81;
        "disconnect reserved flags", V5, "E1 00", InvalidFixedHeaderFlags { packet_type: 14, flags: 1 }, "MQTT-3.14.1-1", 0x81;
        "disconnect reason code 1", V5, "E0 01 01", InvalidReasonCode { code: 1, packet: "DISCONNECT" }, "MQTT-3.14.2-1", 0x82;
        "disconnect reason code 0x84", V5, "E0 01 84", InvalidReasonCode { code: 0x84, packet: "DISCONNECT" }, "MQTT-3.14.2-1", 0x82;
        "topic alias in DISCONNECT", V5, "E0 05 00 03 230001", PropertyNotAllowed { id: 0x23, packet: "DISCONNECT" }, "§2.2.2.2", 0x81;
        "server reference twice", V5, "E0 0A 9C 08 1C0001 61 1C0001 62", DuplicateProperty(0x1C), "§2.2.2.2", 0x82;
        "disconnect properties past the packet", V5, "E0 03 00 05 11", Truncated { field: "properties" }, "§2.2.2.1", 0x81;

        // ---- §3.15 AUTH --------------------------------------------------------------------
        "auth reserved flags", V5, "F2 00", InvalidFixedHeaderFlags { packet_type: 15, flags: 2 }, "MQTT-3.15.1-1", 0x81;
        "auth reason code 1", V5, "F0 08 01 06 150003 616263", InvalidReasonCode { code: 1, packet: "AUTH" }, "MQTT-3.15.2-1", 0x82;
        // Only the 0x00 code with no properties may be left out, and only with the Property
        // Length: a lone Reason Code has no shorter form (§3.15.2.1).
        "auth reason code without properties", V5, "F0 01 18", Truncated { field: "property length" }, "§3.15.2.1", 0x81;
        "auth without authentication method", V5, "F0 02 18 00", InvalidPropertyValue { id: 0x15, .. }, "§3.15.2.2.2", 0x82;
        "authentication data twice", V5, "F0 0E 18 0C 150001 61 160001 01 160001 02", DuplicateProperty(0x16), "§2.2.2.2", 0x82;
        "session expiry in AUTH", V5, "F0 0B 18 09 150001 61 1100000001", PropertyNotAllowed { id: 0x11, packet: "AUTH" }, "§2.2.2.2", 0x81;
    ]
}

fn decode(row: &Row) -> Result<mqttspec_codec::Packet, DecodeError> {
    let clean: String = row.hex.split_whitespace().collect();
    let bytes = hex::decode(&clean).unwrap_or_else(|e| panic!("{}: bad hex: {e}", row.name));
    decode_one(&bytes, row.version)
}

#[test]
fn every_malformed_vector_is_rejected_with_its_rule() {
    let mut failures = Vec::new();
    for row in table() {
        let what = format!("{} ({}) [{}]", row.name, row.version, row.hex);
        match decode(&row) {
            Ok(p) => failures.push(format!("{what}: decoded as {p:?}")),
            Err(e) => {
                if !(row.kind)(&e.kind) {
                    failures.push(format!(
                        "{what}: kind {:?}, expected {}",
                        e.kind, row.kind_text
                    ));
                }
                if e.spec != row.spec {
                    failures.push(format!("{what}: spec {}, expected {}", e.spec, row.spec));
                }
                if e.reason_code().0 != row.reason {
                    failures.push(format!(
                        "{what}: reason 0x{:02X}, expected 0x{:02X}",
                        e.reason_code().0,
                        row.reason
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_is_distinct_and_covers_both_versions() {
    let rows = table();
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows {
        assert!(
            seen.insert((row.name, row.version)),
            "duplicate row {} ({})",
            row.name,
            row.version
        );
    }
    let count = |v| rows.iter().filter(|r| r.version == v).count();
    assert!(
        count(V3) >= 40 && count(V5) >= 100,
        "{} / {}",
        count(V3),
        count(V5)
    );
}

/// The same byte strings, each one rule away from a valid packet: fixing the broken field gives
/// a packet that decodes, so each row tests its rule and not an accident of the vector.
#[test]
fn near_miss_vectors_decode() {
    for (version, hex) in [
        (V3, "30 04 0002 C3A9"),                            // "é" is well-formed
        (V5, "30 07 0001 74 03 230001"),                    // Topic Alias 1
        (V5, "82 07 0001 00 0001 61 02"),                   // Maximum QoS 2
        (V5, "82 07 0001 00 0001 61 20"),                   // Retain Handling 2
        (V5, "82 10 0001 00 000A 2473686172652F672F61 00"), // shared, No Local 0
        (V5, "F0 08 18 06 150003 616263"),                  // AUTH with a method
        (V3, "10 11 0004 4D515454 04 C2 003C 0000 0001 75 0000"), // user name and password
        (V5, "10 10 0004 4D515454 05 42 003C 00 0000 0001 70"), // 5.0: password alone
        (V5, "E0 01 04"),                                   // Disconnect with Will
        (V3, "C0 8000"),                                    // 3.1.1: non-minimal length
        (V5, "20 03 00 00 00"),                             // CONNACK success
        (V5, "90 05 0001 00 01 9E"),                        // SUBACK 0x9E in 5.0
    ] {
        let clean: String = hex.split_whitespace().collect();
        let bytes = hex::decode(clean).unwrap();
        if let Err(e) = decode_one(&bytes, version) {
            panic!("{hex} ({version}) should decode: {e}");
        }
    }
}
