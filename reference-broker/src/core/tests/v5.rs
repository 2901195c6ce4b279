//! MQTT 5 features: topic aliases, subscription identifiers, no local, shared subscriptions,
//! property passthrough, maximum packet size, problem information, message expiry.

use super::*;
use mqttspec_codec::MqttString;

fn with_props(p: Packet, f: impl FnOnce(&mut Properties)) -> Packet {
    match p {
        Packet::Publish(mut m) => {
            f(&mut m.properties);
            Packet::Publish(m)
        }
        other => other,
    }
}

fn aliased(topic: &str, alias: u16, payload: &'static str) -> Packet {
    with_props(publish(topic, payload, QoS::AtMostOnce, 0), |p| {
        p.topic_alias = Some(alias)
    })
}

#[test]
fn inbound_topic_aliases() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5("s"), "long/topic", QoS::AtMostOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, aliased("long/topic", 3, "1"));
    sim.send(p, aliased("", 3, "2"));
    let got = sim.publishes(s);
    assert_eq!(payloads(&got), ["1", "2"]);
    assert!(got
        .iter()
        .all(|m| &*m.topic == "long/topic" || m.properties.topic_alias.is_some()));
    // An alias not set on this connection is a protocol error.
    sim.send(p, aliased("", 4, "3"));
    assert_eq!(disconnect_code(sim.one(p)), ReasonCode::PROTOCOL_ERROR);
    // Aliases do not survive the connection (MQTT-3.3.2-7).
    let p = sim.connect(v5("p"));
    sim.send(p, aliased("", 3, "4"));
    assert_eq!(disconnect_code(sim.one(p)), ReasonCode::PROTOCOL_ERROR);
    // Above the maximum we announced: 0x94.
    let p = sim.connect(v5("p"));
    sim.send(p, aliased("x", 11, "5"));
    assert_eq!(disconnect_code(sim.one(p)), ReasonCode::TOPIC_ALIAS_INVALID);
}

#[test]
fn outbound_topic_aliases_within_the_clients_maximum() {
    let mut sim = Sim::new();
    let mut c = v5("s");
    c.properties.topic_alias_maximum = Some(1);
    let s = sim.subscriber(c, "#", QoS::AtMostOnce);
    let none = sim.subscriber(v5("n"), "#", QoS::AtMostOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("a", "1", QoS::AtMostOnce, 0));
    sim.send(p, publish("a", "2", QoS::AtMostOnce, 0));
    sim.send(p, publish("b", "3", QoS::AtMostOnce, 0));
    let got = sim.publishes(s);
    assert_eq!(
        (&*got[0].topic, got[0].properties.topic_alias),
        ("a", Some(1))
    );
    assert_eq!(
        (&*got[1].topic, got[1].properties.topic_alias),
        ("", Some(1))
    );
    assert_eq!(
        (&*got[2].topic, got[2].properties.topic_alias),
        ("b", None),
        "MQTT-3.1.2-26"
    );
    assert!(
        sim.publishes(none)
            .iter()
            .all(|m| m.properties.topic_alias.is_none()),
        "MQTT-3.1.2-27"
    );
}

#[test]
fn subscription_identifiers_and_their_absence() {
    let mut sim = Sim::new();
    let s = sim.connect(v5("s"));
    sim.send(
        s,
        subscribe_with(1, vec![Subscription::new("a", QoS::AtMostOnce)], Some(77)),
    );
    sim.send(
        s,
        subscribe_with(2, vec![Subscription::new("b", QoS::AtMostOnce)], None),
    );
    sim.recv(s);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("a", "1", QoS::AtMostOnce, 0));
    sim.send(p, publish("b", "2", QoS::AtMostOnce, 0));
    let got = sim.publishes(s);
    assert_eq!(got[0].properties.subscription_identifiers, vec![77]);
    assert!(got[1].properties.subscription_identifiers.is_empty());
    // A client may not send one (MQTT-3.3.4-6).
    sim.send(
        p,
        with_props(publish("a", "3", QoS::AtMostOnce, 0), |p| {
            p.subscription_identifiers = vec![5]
        }),
    );
    assert_eq!(disconnect_code(sim.one(p)), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn no_local_skips_the_publishers_own_subscription() {
    let mut sim = Sim::new();
    let c = sim.connect(v5("c"));
    let no_local = Subscription {
        no_local: true,
        ..Subscription::new("t", QoS::AtMostOnce)
    };
    sim.send(c, subscribe_with(1, vec![no_local], None));
    sim.recv(c);
    let other = sim.subscriber(v5("o"), "t", QoS::AtMostOnce);
    sim.send(c, publish("t", "mine", QoS::AtMostOnce, 0));
    sim.nothing(c); // MQTT-3.8.3-3
    assert_eq!(payloads(&sim.publishes(other)), ["mine"]);
}

#[test]
fn shared_subscriptions_deliver_once_per_group() {
    let mut sim = Sim::new();
    let a = sim.subscriber(v5("a"), "$share/g/t/+", QoS::AtLeastOnce);
    let b = sim.subscriber(v5("b"), "$share/g/t/+", QoS::AtLeastOnce);
    let h = sim.subscriber(v5("h"), "$share/h/t/+", QoS::AtMostOnce);
    let plain = sim.subscriber(v5("plain"), "t/+", QoS::AtMostOnce);
    let p = sim.connect(v5("p"));
    for (i, m) in ["1", "2", "3", "4"].into_iter().enumerate() {
        sim.send(p, publish("t/x", m, QoS::AtLeastOnce, i as u16 + 1));
    }
    let (ga, gb) = (sim.publishes(a), sim.publishes(b));
    assert_eq!(ga.len() + gb.len(), 4, "one member per message");
    assert_eq!(ga.len(), 2, "round robin");
    assert_eq!(sim.publishes(h).len(), 4, "every group gets each message");
    assert_eq!(sim.publishes(plain).len(), 4);
    // No retained messages for shared subscriptions.
    sim.send(p, retained("t/r", "keep", QoS::AtMostOnce, 0));
    sim.recv(a);
    sim.recv(b);
    let c = sim.connect(v5("c"));
    sim.send(c, subscribe(1, "$share/g/t/#", QoS::AtMostOnce));
    assert_eq!(sim.recv(c).len(), 1);
}

#[test]
fn request_response_and_user_properties_pass_through_unaltered() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5("s"), "req", QoS::AtMostOnce);
    let p = sim.connect(v5("p"));
    let props = |p: &mut Properties| {
        p.response_topic = Some("resp/1".into());
        p.correlation_data = Some(Bytes::from_static(b"\x00\x01corr"));
        p.payload_format_indicator = Some(1);
        p.content_type = Some("application/json".into());
        p.user_properties = vec![
            ("z".into(), "1".into()),
            ("a".into(), "2".into()),
            ("z".into(), "3".into()),
        ];
    };
    sim.send(
        p,
        with_props(publish("req", "{}", QoS::AtMostOnce, 0), props),
    );
    let got = sim.publishes(s).remove(0).properties;
    let mut want = Properties::default();
    props(&mut want);
    assert_eq!(got, want, "MQTT-3.3.2-4/15/16/17/18/20");
}

#[test]
fn packets_larger_than_the_clients_maximum_are_not_sent() {
    let mut sim = Sim::new();
    let mut c = v5("s");
    c.properties.maximum_packet_size = Some(64);
    let s = sim.subscriber(c, "t", QoS::AtLeastOnce);
    let p = sim.connect(v5("p"));
    let big: &'static str = Box::leak("x".repeat(100).into_boxed_str());
    sim.send(p, publish("t", big, QoS::AtLeastOnce, 1));
    sim.send(p, publish("t", "small", QoS::AtLeastOnce, 2));
    let got = sim.publishes(s);
    assert_eq!(payloads(&got), ["small"], "MQTT-3.1.2-24/25");
}

#[test]
fn request_problem_information_zero_drops_reason_strings() {
    let mut sim = Sim::new();
    let a = sim.connect(v5("a"));
    sim.send(a, publish("$SYS/x", "0", QoS::AtLeastOnce, 1));
    let (_, with) = ack(sim.one(a));
    assert!(with.properties.reason_string.is_some());
    let mut c = v5("b");
    c.properties.request_problem_information = Some(0);
    let b = sim.connect(c);
    sim.send(b, publish("$SYS/x", "0", QoS::AtLeastOnce, 1));
    let (_, without) = ack(sim.one(b));
    assert_eq!(without.reason_code, ReasonCode::NOT_AUTHORIZED);
    assert_eq!(
        without.properties.reason_string, None::<MqttString>,
        "MQTT-3.1.2-29"
    );
}

#[test]
fn subscription_identifiers_can_be_turned_off() {
    let mut config = quiet();
    config.subscription_identifiers = false;
    let mut sim = Sim::with(config);
    let (s, ack) = sim.connect_with(v5("s"));
    assert_eq!(ack.properties.subscription_identifier_available, Some(0));
    sim.send(
        s,
        subscribe_with(1, vec![Subscription::new("a", QoS::AtMostOnce)], Some(1)),
    );
    assert_eq!(
        disconnect_code(sim.one(s)),
        ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED
    );
}

#[test]
fn shutdown_tells_v5_clients() {
    let mut sim = Sim::new();
    let a = sim.connect(v5("a"));
    let b = sim.connect(v3("b"));
    sim.input(Input::Shutdown);
    assert_eq!(
        disconnect_code(sim.one(a)),
        ReasonCode::SERVER_SHUTTING_DOWN
    );
    sim.nothing(b);
    assert!(sim.is_closed(a) && sim.is_closed(b));
}

#[test]
fn unsubscribing_leaves_a_shared_group() {
    let mut sim = Sim::new();
    let a = sim.subscriber(v5("a"), "$share/g/t", QoS::AtMostOnce);
    let b = sim.subscriber(v5("b"), "$share/g/t", QoS::AtMostOnce);
    sim.send(
        a,
        Packet::Unsubscribe(mqttspec_codec::Unsubscribe {
            packet_id: 2,
            properties: Default::default(),
            filters: vec!["$share/g/t".into()],
        }),
    );
    match sim.one(a) {
        Packet::Unsuback(u) => assert_eq!(u.reason_codes, vec![ReasonCode::SUCCESS]),
        other => panic!("{other:?}"),
    }
    let p = sim.connect(v5("p"));
    for _ in 0..3 {
        sim.send(p, publish("t", "m", QoS::AtMostOnce, 0));
    }
    sim.nothing(a);
    assert_eq!(sim.publishes(b).len(), 3);
}

#[test]
fn will_properties_and_expiry_are_forwarded() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5_persistent("w", 100), "will", QoS::AtLeastOnce);
    sim.drop_conn(w);
    let mut c = with_will(v5("c"), "will", "x");
    if let Some(will) = &mut c.will {
        will.qos = QoS::AtLeastOnce;
        will.properties.message_expiry_interval = Some(30);
        will.properties.response_topic = Some("resp".into());
        will.properties.correlation_data = Some(Bytes::from_static(b"id"));
    }
    let c = sim.connect(c);
    sim.drop_conn(c);
    sim.secs(10.0);
    let w = sim.connect(v5_persistent("w", 100));
    let got = sim.publishes(w).remove(0);
    assert_eq!(
        got.properties.message_expiry_interval,
        Some(20),
        "MQTT-3.3.2-6"
    );
    assert_eq!(got.properties.response_topic.as_deref(), Some("resp"));
    assert_eq!(got.properties.correlation_data.as_deref(), Some(&b"id"[..]));
}
