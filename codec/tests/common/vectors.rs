//! Byte vectors written by hand from the packet diagrams of the two specs (3.1.1 chapter 3,
//! 5.0 chapter 3), one or more per packet type and version. Each byte is commented with the field
//! it encodes. Shared by the snapshot test, the fuzz corpus writer and the fuzz regression test.
//!
//! Properties are written in the order the encoder writes them (bytes, two-byte integers,
//! four-byte integers, strings, binary data, subscription identifiers, user properties), so that
//! re-encoding a decoded vector gives back the same bytes; `canonical: false` marks the vectors
//! that are valid but written differently on purpose (the spec allows more than one form).

use mqttspec_codec::ProtocolVersion;

pub struct Vector {
    pub name: &'static str,
    pub version: ProtocolVersion,
    pub bytes: Vec<u8>,
    /// Whether re-encoding the decoded packet must give back exactly these bytes.
    pub canonical: bool,
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn v(name: &'static str, version: ProtocolVersion, bytes: Vec<u8>) -> Vector {
    Vector {
        name,
        version,
        bytes,
        canonical: true,
    }
}

/// Every hand-built vector of MQTT 3.1 / 3.1.1.
#[rustfmt::skip]
pub fn v3() -> Vec<Vector> {
    use ProtocolVersion::V3_1_1 as V;
    vec![
        // §3.1 CONNECT with every flag: Figure 3.4 flags 0xEE = user name 0x80 | password 0x40 |
        // will retain 0x20 | will QoS 1 (0x08) | will flag 0x04 | clean session 0x02.
        v(
            "v311_connect_full",
            V,
            cat(&[
                &[0x10, 0x23],               // CONNECT, remaining length 35
                &[0x00, 0x04], b"MQTT",      // protocol name
                &[0x04],                     // protocol level 4
                &[0xEE],                     // connect flags
                &[0x00, 0x0A],               // keep alive 10 s
                &[0x00, 0x03], b"cid",       // client identifier
                &[0x00, 0x03], b"w/t",       // will topic
                &[0x00, 0x03], b"bye",       // will message
                &[0x00, 0x04], b"user",      // user name
                &[0x00, 0x02, 0x00, 0xFF],   // password: two bytes, not UTF-8
            ]),
        ),
        // CONNECT with a zero-byte client identifier and only Clean Session set (§3.1.3.1).
        v(
            "v311_connect_minimal",
            V,
            cat(&[
                &[0x10, 0x0C],               // CONNECT, remaining length 12
                &[0x00, 0x04], b"MQTT",      // protocol name
                &[0x04],                     // protocol level 4
                &[0x02],                     // clean session
                &[0x00, 0x3C],               // keep alive 60 s
                &[0x00, 0x00],               // empty client identifier
            ]),
        ),
        // MQTT 3.1 (protocol level 3, protocol name "MQIsdp"): only CONNECT differs from 3.1.1.
        v(
            "v31_connect_mqisdp",
            ProtocolVersion::V3_1,
            cat(&[
                &[0x10, 0x10],               // CONNECT, remaining length 16
                &[0x00, 0x06], b"MQIsdp",    // protocol name
                &[0x03],                     // protocol level 3
                &[0x02],                     // clean session
                &[0x00, 0x3C],               // keep alive 60 s
                &[0x00, 0x02], b"c1",        // client identifier
            ]),
        ),
        // §3.2 CONNACK: Session Present 1, return code 0x00 (accepted).
        v("v311_connack_session_present", V, vec![0x20, 0x02, 0x01, 0x00]),
        // CONNACK refused: return code 0x05 (not authorized), Session Present 0 (MQTT-3.2.2-4).
        v("v311_connack_refused", V, vec![0x20, 0x02, 0x00, 0x05]),
        // §3.3 PUBLISH QoS 0: no packet identifier (MQTT-2.3.1-5).
        v(
            "v311_publish_qos0",
            V,
            cat(&[
                &[0x30, 0x07],               // PUBLISH, DUP 0, QoS 0, RETAIN 0; length 7
                &[0x00, 0x03], b"a/b",       // topic name
                b"hi",                       // payload
            ]),
        ),
        // PUBLISH QoS 1 with DUP and RETAIN: flags 0b1011.
        v(
            "v311_publish_qos1_dup_retain",
            V,
            cat(&[
                &[0x3B, 0x08],               // PUBLISH, DUP 1, QoS 1, RETAIN 1; length 8
                &[0x00, 0x03], b"a/b",       // topic name
                &[0x00, 0x0A],               // packet identifier 10
                b"x",                        // payload
            ]),
        ),
        // PUBLISH QoS 2 with an empty payload.
        v(
            "v311_publish_qos2_empty_payload",
            V,
            cat(&[
                &[0x34, 0x05],               // PUBLISH, QoS 2; length 5
                &[0x00, 0x01], b"t",         // topic name
                &[0x12, 0x34],               // packet identifier 0x1234
            ]),
        ),
        // §3.4-§3.7: the four acknowledgements are a packet identifier and nothing else.
        v("v311_puback", V, vec![0x40, 0x02, 0x00, 0x0A]),
        v("v311_pubrec", V, vec![0x50, 0x02, 0x00, 0x0A]),
        // PUBREL's fixed header flags are 0b0010 (MQTT-3.6.1-1).
        v("v311_pubrel", V, vec![0x62, 0x02, 0x00, 0x0A]),
        v("v311_pubcomp", V, vec![0x70, 0x02, 0x00, 0x0A]),
        // §3.8 SUBSCRIBE: flags 0b0010, packet identifier, then filter / requested QoS pairs.
        v(
            "v311_subscribe",
            V,
            cat(&[
                &[0x82, 0x0C],               // SUBSCRIBE; length 12
                &[0x00, 0x01],               // packet identifier 1
                &[0x00, 0x03], b"a/+",       // topic filter
                &[0x01],                     // requested QoS 1
                &[0x00, 0x01], b"#",         // topic filter
                &[0x02],                     // requested QoS 2
            ]),
        ),
        // §3.9 SUBACK: one return code per filter; 0x80 is failure.
        v(
            "v311_suback",
            V,
            vec![
                0x90, 0x05, // SUBACK; length 5
                0x00, 0x01, // packet identifier 1
                0x01, 0x02, 0x80, // granted QoS 1, granted QoS 2, failure
            ],
        ),
        // §3.10 UNSUBSCRIBE: flags 0b0010, packet identifier, filters.
        v(
            "v311_unsubscribe",
            V,
            cat(&[
                &[0xA2, 0x0C],               // UNSUBSCRIBE; length 12
                &[0x00, 0x02],               // packet identifier 2
                &[0x00, 0x03], b"a/+",       // topic filter
                &[0x00, 0x03], b"b/#",       // topic filter
            ]),
        ),
        // §3.11 UNSUBACK: a packet identifier only.
        v("v311_unsuback", V, vec![0xB0, 0x02, 0x00, 0x02]),
        // §3.12-§3.14: two bytes each.
        v("v311_pingreq", V, vec![0xC0, 0x00]),
        v("v311_pingresp", V, vec![0xD0, 0x00]),
        v("v311_disconnect", V, vec![0xE0, 0x00]),
    ]
}

/// Every hand-built vector of MQTT 5.0.
#[rustfmt::skip]
pub fn v5() -> Vec<Vector> {
    use ProtocolVersion::V5 as V;
    vec![
        // §3.1 CONNECT with every CONNECT property and every Will property. Flags 0xF6 = user name
        // 0x80 | password 0x40 | will retain 0x20 | will QoS 2 (0x10) | will flag 0x04 | clean start.
        v(
            "v5_connect_full",
            V,
            cat(&[
                &[0x10, 0x78],                    // CONNECT, remaining length 120
                &[0x00, 0x04], b"MQTT",           // protocol name
                &[0x05],                          // protocol version 5
                &[0xF6],                          // connect flags
                &[0x00, 0x3C],                    // keep alive 60 s
                &[0x27],                          // property length 39
                &[0x17, 0x00],                    //   Request Problem Information 0 (byte)
                &[0x19, 0x01],                    //   Request Response Information 1 (byte)
                &[0x21, 0x00, 0x14],              //   Receive Maximum 20 (two-byte)
                &[0x22, 0x00, 0x0A],              //   Topic Alias Maximum 10 (two-byte)
                &[0x11, 0x00, 0x00, 0x00, 0x78],  //   Session Expiry Interval 120 (four-byte)
                &[0x27, 0x00, 0x00, 0x10, 0x00],  //   Maximum Packet Size 4096 (four-byte)
                &[0x15, 0x00, 0x04], b"meth",     //   Authentication Method (string)
                &[0x16, 0x00, 0x02, 0x01, 0x02],  //   Authentication Data (binary)
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property (string pair)
                &[0x00, 0x02], b"c5",             // client identifier
                &[0x2B],                          // will property length 43
                &[0x01, 0x01],                    //   Payload Format Indicator 1
                &[0x02, 0x00, 0x00, 0x00, 0x3C],  //   Message Expiry Interval 60
                &[0x18, 0x00, 0x00, 0x00, 0x05],  //   Will Delay Interval 5
                &[0x03, 0x00, 0x0A], b"text/plain", // Content Type
                &[0x08, 0x00, 0x03], b"r/t",      //   Response Topic
                &[0x09, 0x00, 0x02, 0xBE, 0xEF],  //   Correlation Data
                &[0x26, 0x00, 0x01], b"a", &[0x00, 0x01], b"b", // User Property
                &[0x00, 0x03], b"w/t",            // will topic
                &[0x00, 0x03], b"bye",            // will payload
                &[0x00, 0x04], b"user",           // user name
                &[0x00, 0x04], b"pass",           // password
            ]),
        ),
        // CONNECT with no properties: the property length 0 must still be there (MQTT-2.2.2-1).
        v(
            "v5_connect_minimal",
            V,
            cat(&[
                &[0x10, 0x0D],                    // CONNECT, remaining length 13
                &[0x00, 0x04], b"MQTT",           // protocol name
                &[0x05],                          // protocol version 5
                &[0x02],                          // clean start
                &[0x00, 0x3C],                    // keep alive 60 s
                &[0x00],                          // property length 0
                &[0x00, 0x00],                    // empty client identifier
            ]),
        ),
        // CONNECT with a password and no user name: allowed in 5.0 (§3.1.2.9), not in 3.1.1.
        v(
            "v5_connect_password_only",
            V,
            cat(&[
                &[0x10, 0x11],                    // CONNECT, remaining length 17
                &[0x00, 0x04], b"MQTT",           // protocol name
                &[0x05],                          // protocol version 5
                &[0x40],                          // password flag only, clean start 0
                &[0x00, 0x00],                    // keep alive off
                &[0x00],                          // property length 0
                &[0x00, 0x01], b"c",              // client identifier
                &[0x00, 0x01], b"p",              // password
            ]),
        ),
        // §3.2 CONNACK with every CONNACK property.
        v(
            "v5_connack_full",
            V,
            cat(&[
                &[0x20, 0x4C],                    // CONNACK, remaining length 76
                &[0x00],                          // acknowledge flags: no session present
                &[0x00],                          // reason code 0x00 Success
                &[0x49],                          // property length 73
                &[0x24, 0x01],                    //   Maximum QoS 1
                &[0x25, 0x01],                    //   Retain Available 1
                &[0x28, 0x01],                    //   Wildcard Subscription Available 1
                &[0x29, 0x00],                    //   Subscription Identifiers Available 0
                &[0x2A, 0x01],                    //   Shared Subscription Available 1
                &[0x13, 0x00, 0x1E],              //   Server Keep Alive 30
                &[0x21, 0x00, 0x0A],              //   Receive Maximum 10
                &[0x22, 0x00, 0x05],              //   Topic Alias Maximum 5
                &[0x11, 0x00, 0x00, 0x0E, 0x10],  //   Session Expiry Interval 3600
                &[0x27, 0x00, 0x01, 0x00, 0x00],  //   Maximum Packet Size 65536
                &[0x12, 0x00, 0x04], b"auto",     //   Assigned Client Identifier
                &[0x15, 0x00, 0x04], b"meth",     //   Authentication Method
                &[0x1A, 0x00, 0x04], b"resp",     //   Response Information
                &[0x1C, 0x00, 0x04], b"srv2",     //   Server Reference
                &[0x1F, 0x00, 0x02], b"ok",       //   Reason String
                &[0x16, 0x00, 0x01, 0xFF],        //   Authentication Data
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
            ]),
        ),
        // CONNACK refusing with 0x84 Unsupported Protocol Version and no properties.
        v(
            "v5_connack_refused",
            V,
            vec![
                0x20, 0x03, // CONNACK, remaining length 3
                0x00, // no session present (MQTT-3.2.2-6)
                0x84, // reason code Unsupported Protocol Version
                0x00, // property length 0
            ],
        ),
        // §3.3 PUBLISH QoS 1 with every PUBLISH property (two Subscription Identifiers: 1 in one
        // byte, 268,435,455 in four).
        v(
            "v5_publish_full",
            V,
            cat(&[
                &[0x32, 0x33],                    // PUBLISH QoS 1, remaining length 51
                &[0x00, 0x03], b"a/b",            // topic name
                &[0x00, 0x07],                    // packet identifier 7
                &[0x29],                          // property length 41
                &[0x01, 0x01],                    //   Payload Format Indicator 1
                &[0x23, 0x00, 0x02],              //   Topic Alias 2
                &[0x02, 0x00, 0x00, 0x00, 0x0A],  //   Message Expiry Interval 10
                &[0x03, 0x00, 0x04], b"json",     //   Content Type
                &[0x08, 0x00, 0x03], b"r/1",      //   Response Topic
                &[0x09, 0x00, 0x01, 0x2A],        //   Correlation Data
                &[0x0B, 0x01],                    //   Subscription Identifier 1 (variable byte integer)
                &[0x0B, 0xFF, 0xFF, 0xFF, 0x7F],  //   Subscription Identifier 268,435,455
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
                b"{}",                            // payload
            ]),
        ),
        // PUBLISH QoS 0 with a zero-length topic name standing for Topic Alias 5 (§3.3.2.3.4).
        v(
            "v5_publish_topic_alias_only",
            V,
            cat(&[
                &[0x30, 0x07],                    // PUBLISH QoS 0, remaining length 7
                &[0x00, 0x00],                    // empty topic name
                &[0x03, 0x23, 0x00, 0x05],        // property length 3: Topic Alias 5
                b"x",                             // payload
            ]),
        ),
        // PUBLISH QoS 2 with RETAIN, no properties and no payload.
        v(
            "v5_publish_qos2_retain",
            V,
            cat(&[
                &[0x35, 0x06],                    // PUBLISH QoS 2, RETAIN; remaining length 6
                &[0x00, 0x01], b"t",              // topic name
                &[0x00, 0x09],                    // packet identifier 9
                &[0x00],                          // property length 0
            ]),
        ),
        // §3.4 PUBACK: Reason Code 0x00 and no properties may be left out (§3.4.2.1).
        v("v5_puback_short", V, vec![0x40, 0x02, 0x00, 0x01]),
        // PUBACK with a Reason Code and no Property Length (remaining length 3, §3.4.2.2.1).
        v(
            "v5_puback_reason_only",
            V,
            vec![0x40, 0x03, 0x00, 0x01, 0x10], // packet identifier 1, 0x10 No matching subscribers
        ),
        // PUBACK with a Reason Code and properties.
        v(
            "v5_puback_full",
            V,
            cat(&[
                &[0x40, 0x12],                    // PUBACK, remaining length 18
                &[0x00, 0x01],                    // packet identifier 1
                &[0x80],                          // reason code Unspecified error
                &[0x0E],                          // property length 14
                &[0x1F, 0x00, 0x04], b"nope",     //   Reason String
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
            ]),
        ),
        // PUBACK with Reason Code 0x00 and an explicit empty property list: valid, but the
        // encoder writes the two-byte short form for it.
        Vector {
            canonical: false,
            ..v(
                "v5_puback_explicit_empty_properties",
                V,
                vec![0x40, 0x04, 0x00, 0x01, 0x00, 0x00], // pid 1, Success, property length 0
            )
        },
        // §3.5 PUBREC with 0x91 Packet Identifier in use and a Reason String.
        v(
            "v5_pubrec",
            V,
            cat(&[
                &[0x50, 0x0A],                    // PUBREC, remaining length 10
                &[0x00, 0x02],                    // packet identifier 2
                &[0x91],                          // reason code Packet Identifier in use
                &[0x06],                          // property length 6
                &[0x1F, 0x00, 0x03], b"dup",      //   Reason String
            ]),
        ),
        // §3.6 PUBREL with 0x92 Packet Identifier not found and no properties.
        v(
            "v5_pubrel",
            V,
            vec![0x62, 0x03, 0x00, 0x03, 0x92], // flags 0b0010; pid 3; reason code 0x92
        ),
        // §3.7 PUBCOMP with Reason Code 0x00 written out because a property follows.
        v(
            "v5_pubcomp",
            V,
            cat(&[
                &[0x70, 0x0B],                    // PUBCOMP, remaining length 11
                &[0x00, 0x03],                    // packet identifier 3
                &[0x00],                          // reason code Success
                &[0x07],                          // property length 7
                &[0x26, 0x00, 0x01], b"a", &[0x00, 0x01], b"b", // User Property
            ]),
        ),
        // §3.8 SUBSCRIBE with a Subscription Identifier and every subscription option.
        v(
            "v5_subscribe",
            V,
            cat(&[
                &[0x82, 0x24],                    // SUBSCRIBE, remaining length 36
                &[0x00, 0x0A],                    // packet identifier 10
                &[0x0A],                          // property length 10
                &[0x0B, 0x80, 0x01],              //   Subscription Identifier 128 (two bytes)
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
                &[0x00, 0x03], b"a/+",            // topic filter
                &[0x2D],                          // QoS 1, No Local, Retain As Published, Retain Handling 2
                &[0x00, 0x0E], b"$share/grp/s/#", // shared subscription filter
                &[0x12],                          // QoS 2, Retain Handling 1
            ]),
        ),
        // §3.9 SUBACK with a Reason String and three reason codes.
        v(
            "v5_suback",
            V,
            cat(&[
                &[0x90, 0x0B],                    // SUBACK, remaining length 11
                &[0x00, 0x0A],                    // packet identifier 10
                &[0x05],                          // property length 5
                &[0x1F, 0x00, 0x02], b"ok",       //   Reason String
                &[0x01, 0x02, 0x9E],              // Granted QoS 1, Granted QoS 2, Shared Subscriptions not supported
            ]),
        ),
        // §3.10 UNSUBSCRIBE with a User Property.
        v(
            "v5_unsubscribe",
            V,
            cat(&[
                &[0xA2, 0x0F],                    // UNSUBSCRIBE, remaining length 15
                &[0x00, 0x0B],                    // packet identifier 11
                &[0x07],                          // property length 7
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
                &[0x00, 0x03], b"a/+",            // topic filter
            ]),
        ),
        // §3.11 UNSUBACK with a Reason String and two reason codes.
        v(
            "v5_unsuback",
            V,
            cat(&[
                &[0xB0, 0x0A],                    // UNSUBACK, remaining length 10
                &[0x00, 0x0B],                    // packet identifier 11
                &[0x05],                          // property length 5
                &[0x1F, 0x00, 0x02], b"ok",       //   Reason String
                &[0x00, 0x11],                    // Success, No subscription existed
            ]),
        ),
        // §3.12, §3.13: as in 3.1.1.
        v("v5_pingreq", V, vec![0xC0, 0x00]),
        v("v5_pingresp", V, vec![0xD0, 0x00]),
        // §3.14 DISCONNECT: Reason Code 0x00 and no properties may be left out entirely.
        v("v5_disconnect_short", V, vec![0xE0, 0x00]),
        // DISCONNECT with a Reason Code and no Property Length (remaining length 1).
        v("v5_disconnect_reason_only", V, vec![0xE0, 0x01, 0x8E]), // Session taken over
        // DISCONNECT with 0x9C Use another server and every DISCONNECT property.
        v(
            "v5_disconnect_full",
            V,
            cat(&[
                &[0xE0, 0x1A],                    // DISCONNECT, remaining length 26
                &[0x9C],                          // reason code Use another server
                &[0x18],                          // property length 24
                &[0x11, 0x00, 0x00, 0x00, 0x00],  //   Session Expiry Interval 0
                &[0x1C, 0x00, 0x03], b"srv",      //   Server Reference
                &[0x1F, 0x00, 0x03], b"bye",      //   Reason String
                &[0x26, 0x00, 0x01], b"k", &[0x00, 0x01], b"v", // User Property
            ]),
        ),
        // §3.15 AUTH: Reason Code 0x00 and no properties may be left out entirely.
        v("v5_auth_short", V, vec![0xF0, 0x00]),
        // AUTH continuing authentication, with every AUTH property but User Property.
        v(
            "v5_auth_continue",
            V,
            cat(&[
                &[0xF0, 0x16],                    // AUTH, remaining length 22
                &[0x18],                          // reason code Continue authentication
                &[0x14],                          // property length 20
                &[0x15, 0x00, 0x04], b"meth",     //   Authentication Method
                &[0x1F, 0x00, 0x04], b"more",     //   Reason String
                &[0x16, 0x00, 0x03, 0x01, 0x02, 0x03], // Authentication Data
            ]),
        ),
    ]
}

/// Both lists.
pub fn all() -> Vec<Vector> {
    let mut all = v3();
    all.extend(v5());
    all
}
