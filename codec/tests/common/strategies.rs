//! proptest strategies for VALID packets of each version: everything they generate must decode,
//! after encoding, to itself. v5-only parts stay empty under 3.1.1, properties appear only where
//! the spec allows them and with values in range, topics and filters are valid, packet
//! identifiers are non-zero, reason codes come from each packet's table.

use bytes::Bytes;
use mqttspec_codec::properties::{id, is_allowed, PropertyContext};
use mqttspec_codec::reason::ReasonContext;
use mqttspec_codec::{
    Auth, Connack, Connect, Disconnect, MqttString, Packet, Properties, ProtocolVersion, PubAck,
    Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription, UnsubAck,
    Unsubscribe, Will,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;

/// Short text of any characters but U+0000 (MQTT-1.5.4-2), multi-byte ones included.
pub fn text() -> impl Strategy<Value = MqttString> {
    r"[^\x00]{0,6}".prop_map(MqttString::from)
}

pub fn binary() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..8).prop_map(Bytes::from)
}

/// Payloads: mostly small, sometimes past the 127 and 16,383 byte Remaining Length boundaries.
pub fn payload() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        8 => vec(any::<u8>(), 0..24),
        2 => vec(any::<u8>(), 100..300),
        1 => vec(any::<u8>(), 16_300..16_500),
    ]
    .prop_map(Bytes::from)
}

pub fn qos() -> impl Strategy<Value = QoS> {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
}

pub fn packet_id() -> impl Strategy<Value = u16> {
    1u16..=u16::MAX
}

/// One topic level without wildcards or separators.
fn level() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z0-9]{1,3}", 1 => r"[^\x00+#/]{0,4}"]
}

/// A valid Topic Name: non-empty, no wildcards, sometimes `$`-prefixed, empty levels allowed.
pub fn topic_name() -> impl Strategy<Value = MqttString> {
    (option::weighted(0.2, r"\$[A-Z]{1,3}"), vec(level(), 1..4)).prop_map(|(dollar, levels)| {
        let mut name = levels.join("/");
        if let Some(d) = dollar {
            name = format!("{d}/{name}");
        }
        if name.is_empty() {
            name.push('/');
        }
        MqttString::from(name)
    })
}

/// A valid Topic Filter: `+` levels anywhere, `#` last, and in v5 sometimes `$share/{group}/`.
pub fn topic_filter(v5: bool) -> BoxedStrategy<MqttString> {
    let shared = if v5 {
        option::weighted(0.2, "[a-z]{1,4}").boxed()
    } else {
        Just(None).boxed()
    };
    let level = prop_oneof![1 => Just("+".to_string()), 3 => level()];
    (shared, vec(level, 0..4), any::<bool>())
        .prop_map(|(group, mut levels, hash)| {
            if hash || levels.is_empty() {
                levels.push("#".into());
            }
            let mut filter = levels.join("/");
            if filter.is_empty() {
                filter.push('+');
            }
            match group {
                Some(g) => format!("$share/{g}/{filter}").into(),
                None => filter.into(),
            }
        })
        .boxed()
}

/// Clears the properties `context` may not carry and fixes the few cross-property rules, so that
/// any [`Properties`] becomes a valid list for that packet.
pub fn restrict(mut p: Properties, context: PropertyContext) -> Properties {
    macro_rules! keep_allowed {
        ($($field:ident: $id:ident),* $(,)?) => {
            $(if !is_allowed(id::$id, context) {
                p.$field = Default::default();
            })*
        };
    }
    keep_allowed!(
        payload_format_indicator: PAYLOAD_FORMAT_INDICATOR,
        message_expiry_interval: MESSAGE_EXPIRY_INTERVAL,
        content_type: CONTENT_TYPE,
        response_topic: RESPONSE_TOPIC,
        correlation_data: CORRELATION_DATA,
        subscription_identifiers: SUBSCRIPTION_IDENTIFIER,
        session_expiry_interval: SESSION_EXPIRY_INTERVAL,
        assigned_client_identifier: ASSIGNED_CLIENT_IDENTIFIER,
        server_keep_alive: SERVER_KEEP_ALIVE,
        authentication_method: AUTHENTICATION_METHOD,
        authentication_data: AUTHENTICATION_DATA,
        request_problem_information: REQUEST_PROBLEM_INFORMATION,
        will_delay_interval: WILL_DELAY_INTERVAL,
        request_response_information: REQUEST_RESPONSE_INFORMATION,
        response_information: RESPONSE_INFORMATION,
        server_reference: SERVER_REFERENCE,
        reason_string: REASON_STRING,
        receive_maximum: RECEIVE_MAXIMUM,
        topic_alias_maximum: TOPIC_ALIAS_MAXIMUM,
        topic_alias: TOPIC_ALIAS,
        maximum_qos: MAXIMUM_QOS,
        retain_available: RETAIN_AVAILABLE,
        user_properties: USER_PROPERTY,
        maximum_packet_size: MAXIMUM_PACKET_SIZE,
        wildcard_subscription_available: WILDCARD_SUBSCRIPTION_AVAILABLE,
        subscription_identifier_available: SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        shared_subscription_available: SHARED_SUBSCRIPTION_AVAILABLE,
    );
    match context {
        // Only PUBLISH may repeat the Subscription Identifier (§3.8.2.1.2).
        PropertyContext::Subscribe => p.subscription_identifiers.truncate(1),
        // Authentication Data needs an Authentication Method (§3.1.2.11.10).
        PropertyContext::Connect if p.authentication_method.is_none() => {
            p.authentication_data = None
        }
        _ => {}
    }
    p
}

/// Every property, each present half of the time, with a value in its allowed range.
pub fn any_properties() -> impl Strategy<Value = Properties> {
    let flag = || option::of(0u8..=1);
    let string = || option::of(text());
    let data = || option::of(binary());
    let int16 = || option::of(any::<u16>());
    let int32 = || option::of(any::<u32>());
    (
        (
            flag(),
            int32(),
            string(),
            option::of(topic_name()),
            data(),
            vec(1u32..=268_435_455, 0..3),
            int32(),
            string(),
            int16(),
        ),
        (
            string(),
            data(),
            flag(),
            int32(),
            flag(),
            string(),
            string(),
            string(),
            option::of(1u16..),
        ),
        (
            int16(),
            option::of(1u16..),
            flag(),
            flag(),
            vec((text(), text()), 0..3),
            option::of(1u32..),
            flag(),
            flag(),
            flag(),
        ),
    )
        .prop_map(
            |(
                (pfi, mei, ct, rt, cd, sids, sei, aci, ska),
                (am, ad, rpi, wdi, rri, ri, sr, rs, rm),
                (tam, ta, mq, ra, up, mps, wsa, sia, ssa),
            )| Properties {
                payload_format_indicator: pfi,
                message_expiry_interval: mei,
                content_type: ct,
                response_topic: rt,
                correlation_data: cd,
                subscription_identifiers: sids,
                session_expiry_interval: sei,
                assigned_client_identifier: aci,
                server_keep_alive: ska,
                authentication_method: am,
                authentication_data: ad,
                request_problem_information: rpi,
                will_delay_interval: wdi,
                request_response_information: rri,
                response_information: ri,
                server_reference: sr,
                reason_string: rs,
                receive_maximum: rm,
                topic_alias_maximum: tam,
                topic_alias: ta,
                maximum_qos: mq,
                retain_available: ra,
                user_properties: up,
                maximum_packet_size: mps,
                wildcard_subscription_available: wsa,
                subscription_identifier_available: sia,
                shared_subscription_available: ssa,
            },
        )
}

/// Valid properties for `context` in v5; none under 3.1.1.
pub fn properties(context: PropertyContext, v5: bool) -> BoxedStrategy<Properties> {
    if v5 {
        any_properties()
            .prop_map(move |p| restrict(p, context))
            .boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

/// The reason codes a packet may carry in a version.
pub fn valid_codes(context: ReasonContext, v5: bool) -> Vec<ReasonCode> {
    (0..=255u8)
        .map(ReasonCode)
        .filter(|c| c.is_valid_for(context, v5))
        .collect()
}

fn reason_code(context: ReasonContext, v5: bool) -> BoxedStrategy<ReasonCode> {
    if v5 || matches!(context, ReasonContext::Connack | ReasonContext::Suback) {
        select(valid_codes(context, v5)).boxed()
    } else {
        Just(ReasonCode::SUCCESS).boxed()
    }
}

pub fn will(v5: bool) -> impl Strategy<Value = Will> {
    (
        topic_name(),
        binary(),
        qos(),
        any::<bool>(),
        properties(PropertyContext::Will, v5),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties: properties.into(),
        })
}

pub fn connect(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let v5 = version.is_v5();
    let protocol = if v5 {
        Just(ProtocolVersion::V5).boxed()
    } else {
        select(vec![ProtocolVersion::V3_1_1, ProtocolVersion::V3_1]).boxed()
    };
    (
        protocol,
        any::<bool>(),
        any::<u16>(),
        properties(PropertyContext::Connect, v5),
        text(),
        option::of(will(v5)),
        option::of(text()),
        option::of(binary()),
    )
        .prop_map(
            move |(
                protocol,
                clean_start,
                keep_alive,
                properties,
                client_id,
                will,
                username,
                password,
            )| {
                // Before 5.0 a password needs a user name (MQTT-3.1.2-22).
                let password = if v5 || username.is_some() {
                    password
                } else {
                    None
                };
                Packet::from(Connect {
                    protocol,
                    clean_start,
                    keep_alive,
                    properties: properties.into(),
                    client_id,
                    will,
                    username,
                    password,
                })
            },
        )
        .boxed()
}

pub fn connack(v5: bool) -> BoxedStrategy<Packet> {
    (
        any::<bool>(),
        reason_code(ReasonContext::Connack, v5),
        properties(PropertyContext::Connack, v5),
    )
        .prop_map(|(session_present, reason_code, properties)| {
            Packet::Connack(Connack {
                // Session Present only with success (MQTT-3.2.2-4 / MQTT-3.2.2-6).
                session_present: session_present && reason_code.0 == 0,
                reason_code,
                properties: properties.into(),
            })
        })
        .boxed()
}

pub fn publish(v5: bool) -> BoxedStrategy<Packet> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        any::<bool>(),
        packet_id(),
        properties(PropertyContext::Publish, v5),
        payload(),
    )
        .prop_map(
            move |(qos, dup, retain, topic, alias_only, pid, properties, payload)| {
                // In v5 a Topic Alias may stand for the whole topic name (§3.3.2.3.4).
                let topic = if alias_only && properties.topic_alias.is_some() {
                    MqttString::new()
                } else {
                    topic
                };
                let qos0 = qos == QoS::AtMostOnce;
                Packet::Publish(Publish {
                    dup: dup && !qos0, // MQTT-3.3.1-2
                    qos,
                    retain,
                    topic,
                    packet_id: (!qos0).then_some(pid),
                    properties: properties.into(),
                    payload,
                })
            },
        )
        .boxed()
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
pub fn ack(v5: bool) -> BoxedStrategy<Packet> {
    type Wrap = fn(PubAck) -> Packet;
    let kinds: Vec<(ReasonContext, PropertyContext, Wrap)> = vec![
        (
            ReasonContext::Puback,
            PropertyContext::Puback,
            Packet::Puback,
        ),
        (
            ReasonContext::Pubrec,
            PropertyContext::Pubrec,
            Packet::Pubrec,
        ),
        (
            ReasonContext::Pubrel,
            PropertyContext::Pubrel,
            Packet::Pubrel,
        ),
        (
            ReasonContext::Pubcomp,
            PropertyContext::Pubcomp,
            Packet::Pubcomp,
        ),
    ];
    Union::new(kinds.into_iter().map(|(rc, pc, wrap)| {
        (packet_id(), reason_code(rc, v5), properties(pc, v5))
            .prop_map(move |(packet_id, reason_code, properties)| {
                wrap(PubAck {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            })
            .boxed()
    }))
    .boxed()
}

pub fn subscription(v5: bool) -> BoxedStrategy<Subscription> {
    let handling = select(vec![
        RetainHandling::OnSubscribe,
        RetainHandling::OnNewSubscription,
        RetainHandling::Never,
    ]);
    (
        topic_filter(v5),
        qos(),
        any::<bool>(),
        any::<bool>(),
        handling,
    )
        .prop_map(
            move |(filter, qos, no_local, retain_as_published, retain_handling)| {
                if !v5 {
                    return Subscription::new(filter, qos);
                }
                Subscription {
                    // No Local on a shared subscription is a Protocol Error (MQTT-3.8.3-4).
                    no_local: no_local && !filter.starts_with("$share/"),
                    filter,
                    qos,
                    retain_as_published,
                    retain_handling,
                }
            },
        )
        .boxed()
}

pub fn subscribe(v5: bool) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        properties(PropertyContext::Subscribe, v5),
        vec(subscription(v5), 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                properties: properties.into(),
                filters,
            })
        })
        .boxed()
}

pub fn suback(v5: bool) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        properties(PropertyContext::Suback, v5),
        vec(reason_code(ReasonContext::Suback, v5), 1..4),
    )
        .prop_map(|(packet_id, properties, reason_codes)| {
            Packet::Suback(SubAck {
                packet_id,
                properties: properties.into(),
                reason_codes,
            })
        })
        .boxed()
}

pub fn unsubscribe(v5: bool) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        properties(PropertyContext::Unsubscribe, v5),
        vec(topic_filter(v5), 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties: properties.into(),
                filters,
            })
        })
        .boxed()
}

pub fn unsuback(v5: bool) -> BoxedStrategy<Packet> {
    if !v5 {
        return packet_id()
            .prop_map(|packet_id| {
                Packet::Unsuback(UnsubAck {
                    packet_id,
                    ..UnsubAck::default()
                })
            })
            .boxed();
    }
    (
        packet_id(),
        properties(PropertyContext::Unsuback, true),
        vec(reason_code(ReasonContext::Unsuback, true), 1..4),
    )
        .prop_map(|(packet_id, properties, reason_codes)| {
            Packet::Unsuback(UnsubAck {
                packet_id,
                properties: properties.into(),
                reason_codes,
            })
        })
        .boxed()
}

pub fn disconnect(v5: bool) -> BoxedStrategy<Packet> {
    if !v5 {
        return Just(Packet::Disconnect(Disconnect::default())).boxed();
    }
    (
        reason_code(ReasonContext::Disconnect, true),
        properties(PropertyContext::Disconnect, true),
    )
        .prop_map(|(reason_code, properties)| {
            Packet::Disconnect(Disconnect {
                reason_code,
                properties: properties.into(),
            })
        })
        .boxed()
}

/// AUTH (v5 only): the short form, or a Reason Code with properties that include the
/// Authentication Method (§3.15.2.2.2).
pub fn auth() -> BoxedStrategy<Packet> {
    prop_oneof![
        Just(Packet::Auth(Auth::default())),
        (
            reason_code(ReasonContext::Auth, true),
            properties(PropertyContext::Auth, true),
            text(),
        )
            .prop_map(|(reason_code, mut properties, method)| {
                properties.authentication_method.get_or_insert(method);
                Packet::Auth(Auth {
                    reason_code,
                    properties: properties.into(),
                })
            }),
    ]
    .boxed()
}

/// Any valid packet of `version` (3.1 and 3.1.1 share everything but CONNECT).
pub fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let v5 = version.is_v5();
    let mut all = vec![
        connect(version),
        connack(v5),
        publish(v5),
        ack(v5),
        subscribe(v5),
        suback(v5),
        unsubscribe(v5),
        unsuback(v5),
        Just(Packet::Pingreq).boxed(),
        Just(Packet::Pingresp).boxed(),
        disconnect(v5),
    ];
    if v5 {
        all.push(auth());
    }
    Union::new(all).boxed()
}
