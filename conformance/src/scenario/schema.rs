//! Load-time checks of packet templates and patterns against the codec's serde model.
//!
//! The codec owns the one truth about packet fields (its structs deny unknown fields). To check a
//! *partial* pattern (`{type = "publish", qos = 1}`) or a template holding `$variables`, we lay it
//! over a "full" sample of the same packet type, in which every optional field is present, and
//! let the codec deserialize the result: an unknown or misspelt field, or a value of the wrong
//! type (`qos = 3`, `packet_id = "one"`), then fails exactly as it would at run time, but while
//! loading, with the step's line. Variables take the sample's value at their position, so they
//! are type-checked by where they are used.

use super::template::{self, Token, Vars};
use bytes::Bytes;
use mqttspec_codec::{
    Auth, Connack, Connect, Disconnect, Packet, Properties, ProtocolVersion, PubAck, Publish, QoS,
    ReasonCode, RetainHandling, SubAck, Subscribe, Subscription, UnsubAck, Unsubscribe, Will,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The serde names of the packet types, in packet-type order.
pub const PACKET_TYPES: [&str; 15] = [
    "connect",
    "connack",
    "publish",
    "puback",
    "pubrec",
    "pubrel",
    "pubcomp",
    "subscribe",
    "suback",
    "unsubscribe",
    "unsuback",
    "pingreq",
    "pingresp",
    "disconnect",
    "auth",
];

/// Every property set. Written field by field (no `..Default::default()`) so that a property
/// added to the codec fails to compile here until it is added, instead of being rejected as an
/// unknown field in scenarios.
fn full_properties() -> Properties {
    Properties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(1),
        content_type: Some("t".into()),
        response_topic: Some("t".into()),
        correlation_data: Some(Bytes::from_static(b"c")),
        subscription_identifiers: vec![1],
        session_expiry_interval: Some(1),
        assigned_client_identifier: Some("c".into()),
        server_keep_alive: Some(1),
        authentication_method: Some("m".into()),
        authentication_data: Some(Bytes::from_static(b"d")),
        request_problem_information: Some(1),
        will_delay_interval: Some(1),
        request_response_information: Some(1),
        response_information: Some("r".into()),
        server_reference: Some("s".into()),
        reason_string: Some("r".into()),
        receive_maximum: Some(1),
        topic_alias_maximum: Some(1),
        topic_alias: Some(1),
        maximum_qos: Some(1),
        retain_available: Some(1),
        user_properties: vec![("k".into(), "v".into())],
        maximum_packet_size: Some(1),
        wildcard_subscription_available: Some(1),
        subscription_identifier_available: Some(1),
        shared_subscription_available: Some(1),
    }
}

/// A full sample of each packet type, in serde JSON form, keyed by type name.
fn samples() -> &'static BTreeMap<&'static str, Value> {
    static SAMPLES: OnceLock<BTreeMap<&'static str, Value>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let p = full_properties;
        let ack = || PubAck {
            packet_id: 1,
            reason_code: ReasonCode(0x10),
            properties: p().into(),
        };
        let packets = [
            Packet::from(Connect {
                protocol: ProtocolVersion::V5,
                clean_start: true,
                keep_alive: 1,
                properties: p().into(),
                client_id: "c".into(),
                will: Some(Will {
                    topic: "t".into(),
                    payload: Bytes::from_static(b"p"),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    properties: p().into(),
                }),
                username: Some("u".into()),
                password: Some(Bytes::from_static(b"p")),
            }),
            Packet::Connack(Connack {
                session_present: true,
                reason_code: ReasonCode(0),
                properties: p().into(),
            }),
            Packet::Publish(Publish {
                dup: true,
                qos: QoS::AtLeastOnce,
                retain: true,
                topic: "t".into(),
                packet_id: Some(1),
                properties: p().into(),
                payload: Bytes::from_static(b"p"),
            }),
            Packet::Puback(ack()),
            Packet::Pubrec(ack()),
            Packet::Pubrel(ack()),
            Packet::Pubcomp(ack()),
            Packet::Subscribe(Subscribe {
                packet_id: 1,
                properties: p().into(),
                filters: vec![Subscription {
                    filter: "t".into(),
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::Never,
                }],
            }),
            Packet::Suback(SubAck {
                packet_id: 1,
                properties: p().into(),
                reason_codes: vec![ReasonCode(1)],
            }),
            Packet::Unsubscribe(Unsubscribe {
                packet_id: 1,
                properties: p().into(),
                filters: vec!["t".into()],
            }),
            Packet::Unsuback(UnsubAck {
                packet_id: 1,
                properties: p().into(),
                reason_codes: vec![ReasonCode(0)],
            }),
            Packet::Pingreq,
            Packet::Pingresp,
            Packet::Disconnect(Disconnect {
                reason_code: ReasonCode(4),
                properties: p().into(),
            }),
            Packet::Auth(Auth {
                reason_code: ReasonCode(0x18),
                properties: p().into(),
            }),
        ];
        packets
            .iter()
            .zip(PACKET_TYPES)
            .map(|(packet, name)| {
                let json = serde_json::to_value(packet).expect("packets serialize");
                debug_assert_eq!(json["type"], name);
                (name, json)
            })
            .collect()
    })
}

/// The packet type a template or pattern names, checked against the codec's types.
pub fn packet_type(v: &Value) -> Result<&str, String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("expected a packet table, found {v}"));
    };
    match obj.get("type") {
        Some(Value::String(t)) if PACKET_TYPES.contains(&t.as_str()) => Ok(t),
        Some(Value::String(t)) => Err(format!(
            "unknown packet type {t:?}; the types are {}",
            PACKET_TYPES.join(", ")
        )),
        Some(other) => Err(format!("packet type must be a string, found {other}")),
        None => Err(format!(
            "a packet needs a `type` ({})",
            PACKET_TYPES.join(", ")
        )),
    }
}

/// Checks a template that will be sent: with its variables given sample values, it must
/// deserialize into a packet as it stands (required fields included).
pub fn check_template(template: &Value) -> Result<(), String> {
    let ty = packet_type(template)?;
    let mut bad = None;
    template::walk_strings(template, &mut |s| {
        if matches!(template::token(s), Token::Any | Token::Absent) {
            bad = Some(s.to_string());
        }
    });
    if let Some(token) = bad {
        return Err(format!(
            "{token:?} is a pattern token: it can be expected, not sent"
        ));
    }
    let filled = overlay(Some(&samples()[ty]), template, false)?;
    serde_json::from_value::<Packet>(filled)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Checks a pattern that will be matched: laid over a full sample of its type, it must
/// deserialize, so every field it names exists and every literal it gives has the right type.
pub fn check_pattern(pattern: &Value) -> Result<(), String> {
    let ty = packet_type(pattern)?;
    let filled = overlay(Some(&samples()[ty]), pattern, true)?;
    serde_json::from_value::<Packet>(filled)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Lays `pattern` over `sample`. Variables and `$_` take the sample's value; `$none` removes the
/// field; text gets its placeholders expanded with dummy values. With `fill`, fields the pattern
/// does not name come from the sample (a partial pattern); without, they stay absent (a template).
fn overlay(sample: Option<&Value>, pattern: &Value, fill: bool) -> Result<Value, String> {
    Ok(match pattern {
        Value::String(s) => match template::token(s) {
            Token::Var(_) | Token::Any => sample.cloned().unwrap_or_else(|| pattern.clone()),
            Token::Absent => Value::Null,
            Token::Text => {
                let unknown = template::unknown_placeholders(s);
                if !unknown.is_empty() {
                    return Err(format!(
                        "unknown placeholder {} in {s:?} (known: {{client}}, {{topic}}, {{$variable}})",
                        unknown.join(", ")
                    ));
                }
                let mut names = Vec::new();
                template::vars_read(pattern, &mut names);
                let dummy: Vars = names.into_iter().map(|n| (n, Value::from("1"))).collect();
                let ph = template::Placeholders {
                    client: "ms0".into(),
                    topic: "mqttspec/0/0".into(),
                };
                Value::String(template::expand(s, &dummy, &ph)?)
            }
        },
        Value::Object(map) => {
            let base = sample.and_then(Value::as_object);
            let mut out = match (fill, base) {
                (true, Some(b)) => b.clone(),
                _ => Map::new(),
            };
            for (k, v) in map {
                if matches!(v, Value::String(s) if template::token(s) == Token::Absent) {
                    out.remove(k);
                } else {
                    out.insert(k.clone(), overlay(base.and_then(|b| b.get(k)), v, fill)?);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let base = sample.and_then(Value::as_array);
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| overlay(base.and_then(|b| b.get(i).or(b.first())), v, fill))
                    .collect::<Result<_, _>>()?,
            )
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_packet_type_has_a_sample() {
        assert_eq!(samples().len(), PACKET_TYPES.len());
    }

    #[test]
    fn partial_patterns_pass_and_typos_fail() {
        check_pattern(&json!({"type": "publish", "qos": 1, "packet_id": "$pid"})).unwrap();
        check_pattern(&json!({"type": "suback", "reason_codes": [1, "$rc"]})).unwrap();
        check_pattern(&json!({"type": "connack", "properties": {"topic_alias": "$none"}})).unwrap();
        let err = check_pattern(&json!({"type": "publish", "qoss": 1})).unwrap_err();
        assert!(err.contains("unknown field `qoss`"), "{err}");
        let err = check_pattern(&json!({"type": "publish", "qos": 3})).unwrap_err();
        assert!(err.contains("QoS must be 0, 1 or 2"), "{err}");
        let err = check_pattern(&json!({"type": "publsh"})).unwrap_err();
        assert!(err.contains("unknown packet type"), "{err}");
    }

    #[test]
    fn templates_must_be_complete() {
        check_template(&json!({"type": "puback", "packet_id": "$pid"})).unwrap();
        check_template(&json!({"type": "publish", "topic": "{topic}/a", "payload": "x"})).unwrap();
        let err = check_template(&json!({"type": "puback"})).unwrap_err();
        assert!(err.contains("missing field `packet_id`"), "{err}");
        let err = check_template(&json!({"type": "puback", "packet_id": "$_"})).unwrap_err();
        assert!(err.contains("pattern token"), "{err}");
        let err = check_template(&json!({"type": "publish", "topic": "{topc}"})).unwrap_err();
        assert!(err.contains("unknown placeholder {topc}"), "{err}");
    }
}
