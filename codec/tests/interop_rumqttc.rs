//! Interop with rumqttc 0.24's codecs (`rumqttc::mqttbytes::v4` for 3.1.1 and
//! `rumqttc::v5::mqttbytes::v5` for 5.0): for generated packets of every type both support,
//! rumqttc encodes and we decode, and we encode and rumqttc decodes, comparing every field.
//!
//! rumqttc cannot say everything our model can (no MQTT 3.1, no AUTH, a password must be text
//! and come with a user name), so each generated packet is first mapped into what it can say.
//! Where rumqttc departs from the spec, a test below pins the difference down.

mod common;

use bytes::{Bytes, BytesMut};
use common::enc;
use common::strategies::packet;
use mqttspec_codec::reason::ReasonContext;
use mqttspec_codec::*;
use proptest::prelude::*;
use rumqttc::mqttbytes::{v4 as r4, QoS as Q4};
use rumqttc::v5::mqttbytes::{v5 as r5, QoS as Q5};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn string(s: &MqttString) -> String {
    s.as_str().to_owned()
}

fn strings(v: Option<&MqttString>) -> Option<String> {
    v.map(string)
}

fn mqtt(s: Option<String>) -> Option<MqttString> {
    s.map(MqttString::from)
}

fn pairs(v: &[(MqttString, MqttString)]) -> Vec<(String, String)> {
    v.iter().map(|(k, v)| (string(k), string(v))).collect()
}

fn from_pairs(v: Vec<(String, String)>) -> Vec<(MqttString, MqttString)> {
    v.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
}

fn qos_byte(q: QoS) -> u8 {
    q as u8
}

fn q4(q: QoS) -> Q4 {
    [Q4::AtMostOnce, Q4::AtLeastOnce, Q4::ExactlyOnce][usize::from(qos_byte(q))]
}

fn q5(q: QoS) -> Q5 {
    [Q5::AtMostOnce, Q5::AtLeastOnce, Q5::ExactlyOnce][usize::from(qos_byte(q))]
}

fn from_q4(q: Q4) -> QoS {
    QoS::from_u8(q as u8).unwrap()
}

fn from_q5(q: Q5) -> QoS {
    QoS::from_u8(q as u8).unwrap()
}

/// A reason code table: the spec's byte and rumqttc's name for it.
fn to_name<E: Copy>(table: &[(u8, E)], code: ReasonCode) -> E {
    table
        .iter()
        .find(|(c, _)| *c == code.0)
        .unwrap_or_else(|| panic!("rumqttc has no name for 0x{:02X}", code.0))
        .1
}

fn to_code<E: PartialEq + std::fmt::Debug>(table: &[(u8, E)], name: E) -> ReasonCode {
    ReasonCode(table.iter().find(|(_, n)| *n == name).unwrap().0)
}

/// Maps a generated packet into what rumqttc can express, or `None` for AUTH.
fn rumqttc_can_say(p: Packet, version: ProtocolVersion) -> Option<Packet> {
    match p {
        Packet::Auth(_) => None,
        Packet::Connect(mut c) => {
            c.protocol = version;
            // rumqttc's Login is a user name and a text password, always together, and it
            // leaves out an empty one (with its flag).
            match (&c.username, &c.password) {
                (None, None) => {}
                (user, pass) => {
                    let user = user.clone().filter(|u| !u.is_empty());
                    let pass = pass.as_ref().map_or_else(String::new, hex::encode);
                    c.username = Some(user.unwrap_or_else(|| "u".into()));
                    c.password = Some(Bytes::from(if pass.is_empty() { "p".into() } else { pass }));
                }
            }
            Some(Packet::Connect(c))
        }
        p => Some(p),
    }
}

// ---- MQTT 3.1.1 ----------------------------------------------------------------------------

const V4_CONNACK: &[(u8, r4::ConnectReturnCode)] = &[
    (0, r4::ConnectReturnCode::Success),
    (1, r4::ConnectReturnCode::RefusedProtocolVersion),
    (2, r4::ConnectReturnCode::BadClientId),
    (3, r4::ConnectReturnCode::ServiceUnavailable),
    (4, r4::ConnectReturnCode::BadUserNamePassword),
    (5, r4::ConnectReturnCode::NotAuthorized),
];

const V4_SUBACK: &[(u8, r4::SubscribeReasonCode)] = &[
    (0, r4::SubscribeReasonCode::Success(Q4::AtMostOnce)),
    (1, r4::SubscribeReasonCode::Success(Q4::AtLeastOnce)),
    (2, r4::SubscribeReasonCode::Success(Q4::ExactlyOnce)),
    (0x80, r4::SubscribeReasonCode::Failure),
];

fn to_r4(p: &Packet) -> r4::Packet {
    match p {
        Packet::Connect(c) => r4::Packet::Connect(r4::Connect {
            protocol: rumqttc::mqttbytes::Protocol::V4,
            keep_alive: c.keep_alive,
            client_id: string(&c.client_id),
            clean_session: c.clean_start,
            last_will: c.will.as_ref().map(|w| r4::LastWill {
                topic: string(&w.topic),
                message: w.payload.clone(),
                qos: q4(w.qos),
                retain: w.retain,
            }),
            login: c.username.as_ref().map(|u| r4::Login {
                username: string(u),
                password: String::from_utf8(c.password.clone().unwrap().to_vec()).unwrap(),
            }),
        }),
        Packet::Connack(c) => r4::Packet::ConnAck(r4::ConnAck {
            session_present: c.session_present,
            code: to_name(V4_CONNACK, c.reason_code),
        }),
        Packet::Publish(p) => r4::Packet::Publish(r4::Publish {
            dup: p.dup,
            qos: q4(p.qos),
            retain: p.retain,
            topic: string(&p.topic),
            pkid: p.packet_id.unwrap_or(0),
            payload: p.payload.clone(),
        }),
        Packet::Puback(a) => r4::Packet::PubAck(r4::PubAck::new(a.packet_id)),
        Packet::Pubrec(a) => r4::Packet::PubRec(r4::PubRec::new(a.packet_id)),
        Packet::Pubrel(a) => r4::Packet::PubRel(r4::PubRel::new(a.packet_id)),
        Packet::Pubcomp(a) => r4::Packet::PubComp(r4::PubComp::new(a.packet_id)),
        Packet::Subscribe(s) => r4::Packet::Subscribe(r4::Subscribe {
            pkid: s.packet_id,
            filters: s
                .filters
                .iter()
                .map(|f| r4::SubscribeFilter::new(string(&f.filter), q4(f.qos)))
                .collect(),
        }),
        Packet::Suback(s) => r4::Packet::SubAck(r4::SubAck {
            pkid: s.packet_id,
            return_codes: s
                .reason_codes
                .iter()
                .map(|c| to_name(V4_SUBACK, *c))
                .collect(),
        }),
        Packet::Unsubscribe(u) => r4::Packet::Unsubscribe(r4::Unsubscribe {
            pkid: u.packet_id,
            topics: u.filters.iter().map(string).collect(),
        }),
        Packet::Unsuback(u) => r4::Packet::UnsubAck(r4::UnsubAck::new(u.packet_id)),
        Packet::Pingreq => r4::Packet::PingReq,
        Packet::Pingresp => r4::Packet::PingResp,
        Packet::Disconnect(_) => r4::Packet::Disconnect,
        Packet::Auth(_) => unreachable!("no AUTH before 5.0"),
    }
}

fn from_r4(p: r4::Packet) -> Packet {
    let ack = |packet_id| PubAck::new(packet_id);
    match p {
        r4::Packet::Connect(c) => Packet::from(Connect {
            protocol: V3,
            clean_start: c.clean_session,
            keep_alive: c.keep_alive,
            properties: Default::default(),
            client_id: c.client_id.into(),
            will: c.last_will.map(|w| Will {
                topic: w.topic.into(),
                payload: w.message,
                qos: from_q4(w.qos),
                retain: w.retain,
                properties: Default::default(),
            }),
            username: c.login.as_ref().map(|l| l.username.clone().into()),
            password: c.login.map(|l| Bytes::from(l.password)),
        }),
        r4::Packet::ConnAck(c) => Packet::Connack(Connack {
            session_present: c.session_present,
            reason_code: to_code(V4_CONNACK, c.code),
            properties: Default::default(),
        }),
        r4::Packet::Publish(p) => Packet::Publish(Publish {
            dup: p.dup,
            qos: from_q4(p.qos),
            retain: p.retain,
            topic: p.topic.into(),
            packet_id: (p.qos != Q4::AtMostOnce).then_some(p.pkid),
            properties: Default::default(),
            payload: p.payload,
        }),
        r4::Packet::PubAck(a) => Packet::Puback(ack(a.pkid)),
        r4::Packet::PubRec(a) => Packet::Pubrec(ack(a.pkid)),
        r4::Packet::PubRel(a) => Packet::Pubrel(ack(a.pkid)),
        r4::Packet::PubComp(a) => Packet::Pubcomp(ack(a.pkid)),
        r4::Packet::Subscribe(s) => Packet::Subscribe(Subscribe {
            packet_id: s.pkid,
            properties: Default::default(),
            filters: s
                .filters
                .into_iter()
                .map(|f| Subscription::new(f.path, from_q4(f.qos)))
                .collect(),
        }),
        r4::Packet::SubAck(s) => Packet::Suback(SubAck {
            packet_id: s.pkid,
            properties: Default::default(),
            reason_codes: s
                .return_codes
                .into_iter()
                .map(|c| to_code(V4_SUBACK, c))
                .collect(),
        }),
        r4::Packet::Unsubscribe(u) => Packet::Unsubscribe(Unsubscribe {
            packet_id: u.pkid,
            properties: Default::default(),
            filters: u.topics.into_iter().map(MqttString::from).collect(),
        }),
        r4::Packet::UnsubAck(u) => Packet::Unsuback(UnsubAck {
            packet_id: u.pkid,
            ..UnsubAck::default()
        }),
        r4::Packet::PingReq => Packet::Pingreq,
        r4::Packet::PingResp => Packet::Pingresp,
        r4::Packet::Disconnect => Packet::Disconnect(Disconnect::default()),
    }
}

fn write_r4(p: &r4::Packet) -> BytesMut {
    let mut out = BytesMut::new();
    match p {
        r4::Packet::Connect(c) => c.write(&mut out),
        r4::Packet::ConnAck(c) => c.write(&mut out),
        r4::Packet::Publish(p) => p.write(&mut out),
        r4::Packet::PubAck(a) => a.write(&mut out),
        r4::Packet::PubRec(a) => a.write(&mut out),
        r4::Packet::PubRel(a) => a.write(&mut out),
        r4::Packet::PubComp(a) => a.write(&mut out),
        r4::Packet::Subscribe(s) => s.write(&mut out),
        r4::Packet::SubAck(s) => s.write(&mut out),
        r4::Packet::Unsubscribe(u) => u.write(&mut out),
        r4::Packet::UnsubAck(u) => u.write(&mut out),
        r4::Packet::PingReq => r4::PingReq.write(&mut out),
        r4::Packet::PingResp => r4::PingResp.write(&mut out),
        r4::Packet::Disconnect => r4::Disconnect.write(&mut out),
    }
    .unwrap_or_else(|e| panic!("rumqttc cannot write {p:?}: {e}"));
    out
}

fn read_r4(bytes: &[u8]) -> Result<r4::Packet, rumqttc::mqttbytes::Error> {
    let mut buf = BytesMut::from(bytes);
    let p = r4::read(&mut buf, usize::MAX)?;
    assert!(buf.is_empty(), "rumqttc left {} bytes", buf.len());
    Ok(p)
}

// ---- MQTT 5.0 ------------------------------------------------------------------------------

const V5_CONNACK: &[(u8, r5::ConnectReturnCode)] = {
    use r5::ConnectReturnCode::*;
    &[
        (0x00, Success),
        (0x80, UnspecifiedError),
        (0x81, MalformedPacket),
        (0x82, ProtocolError),
        (0x83, ImplementationSpecificError),
        (0x84, UnsupportedProtocolVersion),
        (0x85, ClientIdentifierNotValid),
        (0x86, BadUserNamePassword),
        (0x87, NotAuthorized),
        (0x88, ServerUnavailable),
        (0x89, ServerBusy),
        (0x8A, Banned),
        (0x8C, BadAuthenticationMethod),
        (0x90, TopicNameInvalid),
        (0x95, PacketTooLarge),
        (0x97, QuotaExceeded),
        (0x99, PayloadFormatInvalid),
        (0x9A, RetainNotSupported),
        (0x9B, QoSNotSupported),
        (0x9C, UseAnotherServer),
        (0x9D, ServerMoved),
        (0x9F, ConnectionRateExceeded),
    ]
};

const V5_PUBACK: &[(u8, r5::PubAckReason)] = {
    use r5::PubAckReason::*;
    &[
        (0x00, Success),
        (0x10, NoMatchingSubscribers),
        (0x80, UnspecifiedError),
        (0x83, ImplementationSpecificError),
        (0x87, NotAuthorized),
        (0x90, TopicNameInvalid),
        (0x91, PacketIdentifierInUse),
        (0x97, QuotaExceeded),
        (0x99, PayloadFormatInvalid),
    ]
};

const V5_PUBREC: &[(u8, r5::PubRecReason)] = {
    use r5::PubRecReason::*;
    &[
        (0x00, Success),
        (0x10, NoMatchingSubscribers),
        (0x80, UnspecifiedError),
        (0x83, ImplementationSpecificError),
        (0x87, NotAuthorized),
        (0x90, TopicNameInvalid),
        (0x91, PacketIdentifierInUse),
        (0x97, QuotaExceeded),
        (0x99, PayloadFormatInvalid),
    ]
};

const V5_PUBREL: &[(u8, r5::PubRelReason)] = &[
    (0x00, r5::PubRelReason::Success),
    (0x92, r5::PubRelReason::PacketIdentifierNotFound),
];

const V5_PUBCOMP: &[(u8, r5::PubCompReason)] = &[
    (0x00, r5::PubCompReason::Success),
    (0x92, r5::PubCompReason::PacketIdentifierNotFound),
];

const V5_SUBACK: &[(u8, r5::SubscribeReasonCode)] = {
    use r5::SubscribeReasonCode::*;
    &[
        (0x00, Success(Q5::AtMostOnce)),
        (0x01, Success(Q5::AtLeastOnce)),
        (0x02, Success(Q5::ExactlyOnce)),
        (0x80, Unspecified),
        (0x83, ImplementationSpecific),
        (0x87, NotAuthorized),
        (0x8F, TopicFilterInvalid),
        (0x91, PkidInUse),
        (0x97, QuotaExceeded),
        (0x9E, SharedSubscriptionsNotSupported),
        (0xA1, SubscriptionIdNotSupported),
        (0xA2, WildcardSubscriptionsNotSupported),
    ]
};

const V5_UNSUBACK: &[(u8, r5::UnsubAckReason)] = {
    use r5::UnsubAckReason::*;
    &[
        (0x00, Success),
        (0x11, NoSubscriptionExisted),
        (0x80, UnspecifiedError),
        (0x83, ImplementationSpecificError),
        (0x87, NotAuthorized),
        (0x8F, TopicFilterInvalid),
        (0x91, PacketIdentifierInUse),
    ]
};

/// rumqttc's `Option<...Properties>`: `None` for an empty list, as rumqttc itself does.
fn some_if<T>(empty: bool, f: impl FnOnce() -> T) -> Option<T> {
    (!empty).then(f)
}

fn connect_props(p: &Properties) -> Option<r5::ConnectProperties> {
    some_if(p.is_empty(), || r5::ConnectProperties {
        session_expiry_interval: p.session_expiry_interval,
        receive_maximum: p.receive_maximum,
        max_packet_size: p.maximum_packet_size,
        topic_alias_max: p.topic_alias_maximum,
        request_response_info: p.request_response_information,
        request_problem_info: p.request_problem_information,
        user_properties: pairs(&p.user_properties),
        authentication_method: strings(p.authentication_method.as_ref()),
        authentication_data: p.authentication_data.clone(),
    })
}

fn will_props(p: &Properties) -> Option<r5::LastWillProperties> {
    some_if(p.is_empty(), || r5::LastWillProperties {
        delay_interval: p.will_delay_interval,
        payload_format_indicator: p.payload_format_indicator,
        message_expiry_interval: p.message_expiry_interval,
        content_type: strings(p.content_type.as_ref()),
        response_topic: strings(p.response_topic.as_ref()),
        correlation_data: p.correlation_data.clone(),
        user_properties: pairs(&p.user_properties),
    })
}

fn connack_props(p: &Properties) -> Option<r5::ConnAckProperties> {
    some_if(p.is_empty(), || r5::ConnAckProperties {
        session_expiry_interval: p.session_expiry_interval,
        receive_max: p.receive_maximum,
        max_qos: p.maximum_qos,
        retain_available: p.retain_available,
        max_packet_size: p.maximum_packet_size,
        assigned_client_identifier: strings(p.assigned_client_identifier.as_ref()),
        topic_alias_max: p.topic_alias_maximum,
        reason_string: strings(p.reason_string.as_ref()),
        user_properties: pairs(&p.user_properties),
        wildcard_subscription_available: p.wildcard_subscription_available,
        subscription_identifiers_available: p.subscription_identifier_available,
        shared_subscription_available: p.shared_subscription_available,
        server_keep_alive: p.server_keep_alive,
        response_information: strings(p.response_information.as_ref()),
        server_reference: strings(p.server_reference.as_ref()),
        authentication_method: strings(p.authentication_method.as_ref()),
        authentication_data: p.authentication_data.clone(),
    })
}

fn publish_props(p: &Properties) -> Option<r5::PublishProperties> {
    some_if(p.is_empty(), || r5::PublishProperties {
        payload_format_indicator: p.payload_format_indicator,
        message_expiry_interval: p.message_expiry_interval,
        topic_alias: p.topic_alias,
        response_topic: strings(p.response_topic.as_ref()),
        correlation_data: p.correlation_data.clone(),
        user_properties: pairs(&p.user_properties),
        subscription_identifiers: p
            .subscription_identifiers
            .iter()
            .map(|i| *i as usize)
            .collect(),
        content_type: strings(p.content_type.as_ref()),
    })
}

/// The acknowledgement properties (Reason String and User Property) of every ack type.
macro_rules! ack_props {
    ($p:expr, $ty:ident) => {
        some_if($p.is_empty(), || r5::$ty {
            reason_string: strings($p.reason_string.as_ref()),
            user_properties: pairs(&$p.user_properties),
        })
    };
}

fn reason_props(reason_string: Option<String>, user: Vec<(String, String)>) -> Properties {
    Properties {
        reason_string: mqtt(reason_string),
        user_properties: from_pairs(user),
        ..Properties::default()
    }
}

fn to_r5(p: &Packet) -> r5::Packet {
    match p {
        Packet::Connect(c) => r5::Packet::Connect(
            r5::Connect {
                keep_alive: c.keep_alive,
                client_id: string(&c.client_id),
                clean_start: c.clean_start,
                properties: connect_props(&c.properties),
            },
            c.will.as_ref().map(|w| r5::LastWill {
                topic: w.topic.as_bytes().clone(),
                message: w.payload.clone(),
                qos: q5(w.qos),
                retain: w.retain,
                properties: will_props(&w.properties),
            }),
            c.username.as_ref().map(|u| r5::Login {
                username: string(u),
                password: String::from_utf8(c.password.clone().unwrap().to_vec()).unwrap(),
            }),
        ),
        Packet::Connack(c) => r5::Packet::ConnAck(r5::ConnAck {
            session_present: c.session_present,
            code: to_name(V5_CONNACK, c.reason_code),
            properties: connack_props(&c.properties),
        }),
        Packet::Publish(p) => r5::Packet::Publish(r5::Publish {
            dup: p.dup,
            qos: q5(p.qos),
            retain: p.retain,
            topic: p.topic.as_bytes().clone(),
            pkid: p.packet_id.unwrap_or(0),
            payload: p.payload.clone(),
            properties: publish_props(&p.properties),
        }),
        Packet::Puback(a) => r5::Packet::PubAck(r5::PubAck {
            pkid: a.packet_id,
            reason: to_name(V5_PUBACK, a.reason_code),
            properties: ack_props!(a.properties, PubAckProperties),
        }),
        Packet::Pubrec(a) => r5::Packet::PubRec(r5::PubRec {
            pkid: a.packet_id,
            reason: to_name(V5_PUBREC, a.reason_code),
            properties: ack_props!(a.properties, PubRecProperties),
        }),
        Packet::Pubrel(a) => r5::Packet::PubRel(r5::PubRel {
            pkid: a.packet_id,
            reason: to_name(V5_PUBREL, a.reason_code),
            properties: ack_props!(a.properties, PubRelProperties),
        }),
        Packet::Pubcomp(a) => r5::Packet::PubComp(r5::PubComp {
            pkid: a.packet_id,
            reason: to_name(V5_PUBCOMP, a.reason_code),
            properties: ack_props!(a.properties, PubCompProperties),
        }),
        Packet::Subscribe(s) => r5::Packet::Subscribe(r5::Subscribe {
            pkid: s.packet_id,
            filters: s
                .filters
                .iter()
                .map(|f| r5::Filter {
                    path: string(&f.filter),
                    qos: q5(f.qos),
                    nolocal: f.no_local,
                    preserve_retain: f.retain_as_published,
                    retain_forward_rule: match f.retain_handling {
                        RetainHandling::OnSubscribe => r5::RetainForwardRule::OnEverySubscribe,
                        RetainHandling::OnNewSubscription => r5::RetainForwardRule::OnNewSubscribe,
                        RetainHandling::Never => r5::RetainForwardRule::Never,
                    },
                })
                .collect(),
            properties: some_if(s.properties.is_empty(), || r5::SubscribeProperties {
                id: s
                    .properties
                    .subscription_identifiers
                    .first()
                    .map(|i| *i as usize),
                user_properties: pairs(&s.properties.user_properties),
            }),
        }),
        Packet::Suback(s) => r5::Packet::SubAck(r5::SubAck {
            pkid: s.packet_id,
            return_codes: s
                .reason_codes
                .iter()
                .map(|c| to_name(V5_SUBACK, *c))
                .collect(),
            properties: ack_props!(s.properties, SubAckProperties),
        }),
        Packet::Unsubscribe(u) => r5::Packet::Unsubscribe(r5::Unsubscribe {
            pkid: u.packet_id,
            filters: u.filters.iter().map(string).collect(),
            properties: some_if(u.properties.is_empty(), || r5::UnsubscribeProperties {
                user_properties: pairs(&u.properties.user_properties),
            }),
        }),
        Packet::Unsuback(u) => r5::Packet::UnsubAck(r5::UnsubAck {
            pkid: u.packet_id,
            reasons: u
                .reason_codes
                .iter()
                .map(|c| to_name(V5_UNSUBACK, *c))
                .collect(),
            properties: ack_props!(u.properties, UnsubAckProperties),
        }),
        Packet::Pingreq => r5::Packet::PingReq(r5::PingReq),
        Packet::Pingresp => r5::Packet::PingResp(r5::PingResp),
        Packet::Disconnect(d) => r5::Packet::Disconnect(r5::Disconnect {
            reason_code: d.reason_code.0.try_into().unwrap(),
            // rumqttc does not export DisconnectProperties: see `v5_both_ways`.
            properties: None,
        }),
        Packet::Auth(_) => unreachable!("rumqttc has no AUTH"),
    }
}

fn topic(bytes: Bytes) -> MqttString {
    MqttString::from_utf8(bytes).expect("rumqttc topics are text")
}

fn from_r5(p: r5::Packet) -> Packet {
    match p {
        r5::Packet::Connect(c, will, login) => Packet::from(Connect {
            protocol: V5,
            clean_start: c.clean_start,
            keep_alive: c.keep_alive,
            properties: c
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    session_expiry_interval: p.session_expiry_interval,
                    receive_maximum: p.receive_maximum,
                    maximum_packet_size: p.max_packet_size,
                    topic_alias_maximum: p.topic_alias_max,
                    request_response_information: p.request_response_info,
                    request_problem_information: p.request_problem_info,
                    user_properties: from_pairs(p.user_properties),
                    authentication_method: mqtt(p.authentication_method),
                    authentication_data: p.authentication_data,
                    ..Properties::default()
                })
                .into(),
            client_id: c.client_id.into(),
            will: will.map(|w| Will {
                topic: topic(w.topic),
                payload: w.message,
                qos: from_q5(w.qos),
                retain: w.retain,
                properties: w
                    .properties
                    .map_or_else(Properties::default, |p| Properties {
                        will_delay_interval: p.delay_interval,
                        payload_format_indicator: p.payload_format_indicator,
                        message_expiry_interval: p.message_expiry_interval,
                        content_type: mqtt(p.content_type),
                        response_topic: mqtt(p.response_topic),
                        correlation_data: p.correlation_data,
                        user_properties: from_pairs(p.user_properties),
                        ..Properties::default()
                    })
                    .into(),
            }),
            username: login.as_ref().map(|l| l.username.clone().into()),
            password: login.map(|l| Bytes::from(l.password)),
        }),
        r5::Packet::ConnAck(c) => Packet::Connack(Connack {
            session_present: c.session_present,
            reason_code: to_code(V5_CONNACK, c.code),
            properties: c
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    session_expiry_interval: p.session_expiry_interval,
                    receive_maximum: p.receive_max,
                    maximum_qos: p.max_qos,
                    retain_available: p.retain_available,
                    maximum_packet_size: p.max_packet_size,
                    assigned_client_identifier: mqtt(p.assigned_client_identifier),
                    topic_alias_maximum: p.topic_alias_max,
                    reason_string: mqtt(p.reason_string),
                    user_properties: from_pairs(p.user_properties),
                    wildcard_subscription_available: p.wildcard_subscription_available,
                    subscription_identifier_available: p.subscription_identifiers_available,
                    shared_subscription_available: p.shared_subscription_available,
                    server_keep_alive: p.server_keep_alive,
                    response_information: mqtt(p.response_information),
                    server_reference: mqtt(p.server_reference),
                    authentication_method: mqtt(p.authentication_method),
                    authentication_data: p.authentication_data,
                    ..Properties::default()
                })
                .into(),
        }),
        r5::Packet::Publish(p) => Packet::Publish(Publish {
            dup: p.dup,
            qos: from_q5(p.qos),
            retain: p.retain,
            topic: topic(p.topic),
            packet_id: (p.qos != Q5::AtMostOnce).then_some(p.pkid),
            properties: p
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    payload_format_indicator: p.payload_format_indicator,
                    message_expiry_interval: p.message_expiry_interval,
                    topic_alias: p.topic_alias,
                    response_topic: mqtt(p.response_topic),
                    correlation_data: p.correlation_data,
                    user_properties: from_pairs(p.user_properties),
                    subscription_identifiers: p
                        .subscription_identifiers
                        .into_iter()
                        .map(|i| i as u32)
                        .collect(),
                    content_type: mqtt(p.content_type),
                    ..Properties::default()
                })
                .into(),
            payload: p.payload,
        }),
        r5::Packet::PubAck(a) => Packet::Puback(PubAck {
            packet_id: a.pkid,
            reason_code: to_code(V5_PUBACK, a.reason),
            properties: a
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
        }),
        r5::Packet::PubRec(a) => Packet::Pubrec(PubAck {
            packet_id: a.pkid,
            reason_code: to_code(V5_PUBREC, a.reason),
            properties: a
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
        }),
        r5::Packet::PubRel(a) => Packet::Pubrel(PubAck {
            packet_id: a.pkid,
            reason_code: to_code(V5_PUBREL, a.reason),
            properties: a
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
        }),
        r5::Packet::PubComp(a) => Packet::Pubcomp(PubAck {
            packet_id: a.pkid,
            reason_code: to_code(V5_PUBCOMP, a.reason),
            properties: a
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
        }),
        r5::Packet::Subscribe(s) => Packet::Subscribe(Subscribe {
            packet_id: s.pkid,
            properties: s
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    subscription_identifiers: p.id.map(|i| i as u32).into_iter().collect(),
                    user_properties: from_pairs(p.user_properties),
                    ..Properties::default()
                })
                .into(),
            filters: s
                .filters
                .into_iter()
                .map(|f| Subscription {
                    filter: f.path.into(),
                    qos: from_q5(f.qos),
                    no_local: f.nolocal,
                    retain_as_published: f.preserve_retain,
                    retain_handling: match f.retain_forward_rule {
                        r5::RetainForwardRule::OnEverySubscribe => RetainHandling::OnSubscribe,
                        r5::RetainForwardRule::OnNewSubscribe => RetainHandling::OnNewSubscription,
                        r5::RetainForwardRule::Never => RetainHandling::Never,
                    },
                })
                .collect(),
        }),
        r5::Packet::SubAck(s) => Packet::Suback(SubAck {
            packet_id: s.pkid,
            properties: s
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
            reason_codes: s
                .return_codes
                .into_iter()
                .map(|c| to_code(V5_SUBACK, c))
                .collect(),
        }),
        r5::Packet::Unsubscribe(u) => Packet::Unsubscribe(Unsubscribe {
            packet_id: u.pkid,
            properties: u
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    user_properties: from_pairs(p.user_properties),
                    ..Properties::default()
                })
                .into(),
            filters: u.filters.into_iter().map(MqttString::from).collect(),
        }),
        r5::Packet::UnsubAck(u) => Packet::Unsuback(UnsubAck {
            packet_id: u.pkid,
            properties: u
                .properties
                .map_or_else(Properties::default, |p| {
                    reason_props(p.reason_string, p.user_properties)
                })
                .into(),
            reason_codes: u
                .reasons
                .into_iter()
                .map(|c| to_code(V5_UNSUBACK, c))
                .collect(),
        }),
        r5::Packet::PingReq(_) => Packet::Pingreq,
        r5::Packet::PingResp(_) => Packet::Pingresp,
        r5::Packet::Disconnect(d) => Packet::Disconnect(Disconnect {
            reason_code: ReasonCode(d.reason_code as u8),
            properties: d
                .properties
                .map_or_else(Properties::default, |p| Properties {
                    session_expiry_interval: p.session_expiry_interval,
                    reason_string: mqtt(p.reason_string),
                    user_properties: from_pairs(p.user_properties),
                    server_reference: mqtt(p.server_reference),
                    ..Properties::default()
                })
                .into(),
        }),
    }
}

fn write_r5(p: &r5::Packet) -> BytesMut {
    let mut out = BytesMut::new();
    p.write(&mut out)
        .unwrap_or_else(|e| panic!("rumqttc cannot write {p:?}: {e}"));
    out
}

fn read_r5(bytes: &[u8]) -> Result<r5::Packet, rumqttc::v5::mqttbytes::Error> {
    let mut buf = BytesMut::from(bytes);
    let p = r5::Packet::read(&mut buf, None)?;
    assert!(buf.is_empty(), "rumqttc left {} bytes", buf.len());
    Ok(p)
}

// ---- the tests -----------------------------------------------------------------------------

fn v4_packet() -> impl Strategy<Value = Packet> {
    packet(V3).prop_filter_map("rumqttc cannot say it", |p| rumqttc_can_say(p, V3))
}

fn v5_packet() -> impl Strategy<Value = Packet> {
    packet(V5).prop_filter_map("rumqttc cannot say it", |p| rumqttc_can_say(p, V5))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// rumqttc encodes, we decode; we encode, rumqttc decodes. Both see the same fields, and in
    /// 3.1.1 (one way to write each packet) both write the same bytes.
    #[test]
    fn v311_both_ways(p in v4_packet()) {
        let theirs = write_r4(&to_r4(&p));
        let ours = enc(&p, V3);
        prop_assert_eq!(&theirs[..], &ours[..], "bytes differ for {:?}", p);
        prop_assert_eq!(decode_one(&theirs, V3).map_err(|e| TestCaseError::fail(e.to_string()))?, p.clone());
        let back = read_r4(&ours).map_err(|e| TestCaseError::fail(format!("rumqttc: {e}")))?;
        prop_assert_eq!(from_r4(back), p);
    }

    /// The same for 5.0, where property order and short forms may differ on the wire.
    #[test]
    fn v5_both_ways(p in v5_packet()) {
        // rumqttc 0.24 keeps its DisconnectProperties type private: it reads DISCONNECT
        // properties but cannot build them.
        let writable = match &p {
            Packet::Disconnect(d) => Packet::Disconnect(Disconnect { properties: Default::default(), ..d.clone() }),
            p => p.clone(),
        };
        let mut theirs = write_r5(&to_r5(&writable));
        if rumqttc_writes_a_stray_byte(&writable) {
            prop_assert_eq!(theirs.split_off(theirs.len() - 1).to_vec(), vec![0]);
        }
        prop_assert_eq!(decode_one(&theirs, V5).map_err(|e| TestCaseError::fail(format!("ours on {:02x?}: {e}", &theirs[..])))?, writable);
        let ours = enc(&p, V5);
        if let Some(reason) = rumqttc_refuses(&p) {
            prop_assert!(read_r5(&ours).is_err(), "rumqttc now reads {:?} ({})", p, reason);
            return Ok(());
        }
        let back = read_r5(&ours).map_err(|e| TestCaseError::fail(format!("rumqttc on {:02x?}: {e}", &ours[..])))?;
        prop_assert_eq!(from_r5(back), p);
    }
}

/// rumqttc 0.24 writes a DISCONNECT with a Reason Code and no properties as `E0 01 rc 00`: a
/// Remaining Length of 1 followed by two bytes (its `len()` leaves out the Property Length it
/// then writes). The stray 0x00 would start the next packet on a connection.
fn rumqttc_writes_a_stray_byte(p: &Packet) -> bool {
    matches!(p, Packet::Disconnect(d) if d.reason_code.0 != 0 && d.properties.is_empty())
}

#[test]
fn rumqttc_disconnect_with_a_reason_code_has_a_stray_byte() {
    let d = r5::Disconnect::new(r5::DisconnectReasonCode::DisconnectWithWillMessage);
    let bytes = write_r5(&r5::Packet::Disconnect(d));
    assert_eq!(&bytes[..], &[0xE0, 0x01, 0x04, 0x00]);
    // On a stream: the DISCONNECT, then a packet of reserved type 0 that never completes.
    let (packets, error, left) = common::decode_all(Decoder::new(V5), &bytes);
    assert_eq!(
        packets,
        vec![Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::DISCONNECT_WITH_WILL,
            properties: Default::default()
        })]
    );
    assert_eq!((error, left), (None, 1));
    // And rumqttc refuses the spec's shortest DISCONNECT (§3.14.2.1), which it reads only
    // through Disconnect::read, never through Packet::read.
    assert!(read_r5(&[0xE0, 0x00]).is_err());
    // Nor the one-byte form of §3.14.2.2.1 (Reason Code, no Property Length).
    assert!(read_r5(&[0xE0, 0x01, 0x04]).is_err());
    assert_eq!(
        enc(&Packet::Disconnect(Disconnect::default()), V5)[..],
        [0xE0, 0x00]
    );
}

/// The valid 5.0 packets rumqttc 0.24 cannot read, and why.
fn rumqttc_refuses(p: &Packet) -> Option<&'static str> {
    match p {
        // §3.14.2.1: "The Reason Code and Property Length can be omitted if the Reason Code is
        // 0x00 ... In this case the DISCONNECT has a Remaining Length of 0." rumqttc's
        // Packet::read wants a body for everything but PINGREQ and PINGRESP.
        Packet::Disconnect(d) if d.reason_code.0 == 0 && d.properties.is_empty() => {
            Some("DISCONNECT with Remaining Length 0")
        }
        // §3.14.2.2.1: "If the Remaining Length is less than 2, a value of 0 is used" for the
        // Property Length; rumqttc reads one anyway.
        Packet::Disconnect(d) if d.properties.is_empty() => {
            Some("DISCONNECT with Remaining Length 1")
        }
        _ => None,
    }
}

#[test]
fn the_reason_code_tables_are_the_specs() {
    let ours = common::strategies::valid_codes;
    fn firsts<E>(table: &[(u8, E)]) -> Vec<ReasonCode> {
        table.iter().map(|(c, _)| ReasonCode(*c)).collect()
    }
    assert_eq!(firsts(V4_CONNACK), ours(ReasonContext::Connack, false));
    assert_eq!(firsts(V4_SUBACK), ours(ReasonContext::Suback, false));
    assert_eq!(firsts(V5_CONNACK), ours(ReasonContext::Connack, true));
    assert_eq!(firsts(V5_PUBACK), ours(ReasonContext::Puback, true));
    assert_eq!(firsts(V5_PUBREC), ours(ReasonContext::Pubrec, true));
    assert_eq!(firsts(V5_PUBREL), ours(ReasonContext::Pubrel, true));
    assert_eq!(firsts(V5_PUBCOMP), ours(ReasonContext::Pubcomp, true));
    assert_eq!(firsts(V5_SUBACK), ours(ReasonContext::Suback, true));
    assert_eq!(firsts(V5_UNSUBACK), ours(ReasonContext::Unsuback, true));
    // rumqttc's DISCONNECT codes are its enum's discriminants.
    let disconnect: Vec<ReasonCode> = (0..=255u8)
        .filter(|c| r5::DisconnectReasonCode::try_from(*c).is_ok())
        .map(ReasonCode)
        .collect();
    assert_eq!(disconnect, ours(ReasonContext::Disconnect, true));
}
