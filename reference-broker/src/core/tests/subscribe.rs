//! Wildcards, `$` topics, `$SYS/`, UNSUBSCRIBE, per-filter codes, overlapping subscriptions.

use super::*;
use mqttspec_codec::reason::V3_SUBACK_FAILURE;
use mqttspec_codec::{UnsubAck, Unsubscribe};

fn unsubscribe(pid: u16, filters: &[&str]) -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        packet_id: pid,
        properties: Default::default(),
        filters: filters.iter().map(|f| (*f).into()).collect(),
    })
}

#[test]
fn wildcards_match_and_dollar_topics_are_kept_apart() {
    let mut sim = Sim::new();
    let hash = sim.subscriber(v3("h"), "#", QoS::AtMostOnce);
    let plus = sim.subscriber(v3("p"), "sport/+/player", QoS::AtMostOnce);
    let sys = sim.subscriber(v3("s"), "$SYS/#", QoS::AtMostOnce);
    let pb = sim.connect(v5("pub"));
    sim.send(pb, publish("sport/tennis/player", "1", QoS::AtMostOnce, 0));
    sim.send(
        pb,
        publish("sport/tennis/player/x", "2", QoS::AtMostOnce, 0),
    );
    sim.send(pb, publish("$other/x", "3", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&sim.publishes(hash)), ["1", "2"], "MQTT-4.7.2-1");
    assert_eq!(payloads(&sim.publishes(plus)), ["1"]);
    sim.nothing(sys);
}

#[test]
fn sys_statistics_are_published_and_clients_cannot_publish_there() {
    let mut config = quiet();
    config.sys_interval = 5;
    let mut sim = Sim::with(config);
    let s = sim.connect(v5("s"));
    sim.send(s, subscribe(1, "$SYS/broker/#", QoS::AtMostOnce));
    let got = sim.recv(s);
    let topics: Vec<String> = got[1..]
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.topic.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    for t in [
        "$SYS/broker/version",
        "$SYS/broker/uptime",
        "$SYS/broker/clients/connected",
        "$SYS/broker/messages/received",
        "$SYS/broker/messages/sent",
    ] {
        assert!(topics.iter().any(|x| x == t), "{t} missing from {topics:?}");
    }
    sim.secs(5.0);
    let live = sim.publishes(s);
    let connected = live
        .iter()
        .find(|p| &*p.topic == "$SYS/broker/clients/connected")
        .unwrap();
    assert_eq!(&connected.payload[..], b"1");
    let uptime = live
        .iter()
        .find(|p| &*p.topic == "$SYS/broker/uptime")
        .unwrap();
    assert_eq!(&uptime.payload[..], b"5 seconds");

    sim.send(s, publish("$SYS/broker/uptime", "0", QoS::AtLeastOnce, 1));
    assert_eq!(ack(sim.one(s)).1.reason_code, ReasonCode::NOT_AUTHORIZED);
    let v3c = sim.connect(v3("v3"));
    sim.send(v3c, publish("$SYS/x", "0", QoS::ExactlyOnce, 1));
    assert_eq!(ack(sim.one(v3c)).0, "PUBREC");
    sim.send(v3c, pubrel(1));
    assert_eq!(ack(sim.one(v3c)).0, "PUBCOMP");
    sim.nothing(s);
}

#[test]
fn unsubscribe_stops_delivery_and_reports_per_filter() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5("s"), "a", QoS::AtMostOnce);
    sim.send(s, unsubscribe(2, &["a", "b"]));
    match sim.one(s) {
        Packet::Unsuback(UnsubAck {
            packet_id,
            reason_codes,
            ..
        }) => {
            assert_eq!(packet_id, 2);
            assert_eq!(
                reason_codes,
                vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED]
            );
        }
        other => panic!("{other:?}"),
    }
    let p = sim.connect(v5("p"));
    sim.send(p, publish("a", "x", QoS::AtMostOnce, 0));
    sim.nothing(s);
    let s3 = sim.connect(v3("s3"));
    sim.send(s3, unsubscribe(9, &["nothing"]));
    match sim.one(s3) {
        Packet::Unsuback(u) => assert!(
            u.packet_id == 9 && u.reason_codes.is_empty(),
            "MQTT-3.10.4-5"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn suback_codes_per_filter() {
    let mut config = quiet();
    config.wildcard_subscriptions = false;
    config.shared_subscriptions = false;
    let mut sim = Sim::with(config);
    let s = sim.connect(v5("s"));
    let filters = vec![
        Subscription::new("a", QoS::ExactlyOnce),
        Subscription::new("a/#", QoS::AtLeastOnce),
        Subscription::new("$share/g/a", QoS::AtMostOnce),
    ];
    sim.send(s, subscribe_with(1, filters.clone(), None));
    assert_eq!(
        suback(sim.one(s)).reason_codes,
        vec![
            ReasonCode::GRANTED_QOS_2,
            ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
            ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED
        ]
    );
    let s = sim.connect(v3("t"));
    sim.send(s, subscribe_with(1, filters[..2].to_vec(), None));
    assert_eq!(
        suback(sim.one(s)).reason_codes,
        vec![ReasonCode::GRANTED_QOS_2, V3_SUBACK_FAILURE]
    );
}

#[test]
fn overlapping_subscriptions_deliver_one_copy_at_the_highest_qos() {
    let mut sim = Sim::new();
    let s = sim.connect(v5("s"));
    sim.send(
        s,
        subscribe_with(1, vec![Subscription::new("a/+", QoS::AtMostOnce)], Some(1)),
    );
    sim.send(
        s,
        subscribe_with(2, vec![Subscription::new("a/#", QoS::ExactlyOnce)], Some(2)),
    );
    sim.recv(s);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("a/b", "x", QoS::ExactlyOnce, 1));
    let got = sim.publishes(s);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].qos, QoS::ExactlyOnce, "MQTT-3.3.4-2");
    let mut ids = got[0].properties.subscription_identifiers.clone();
    ids.sort();
    assert_eq!(ids, vec![1, 2], "MQTT-3.3.4-4");
    // 3.1.1 does the same (one copy at the highest QoS, MQTT-3.3.5-1).
    let t = sim.connect(v3("t"));
    sim.send(t, subscribe(1, "a/+", QoS::AtLeastOnce));
    sim.send(t, subscribe(2, "a/b", QoS::AtMostOnce));
    sim.recv(t);
    sim.send(p, publish("a/b", "y", QoS::ExactlyOnce, 2));
    let got = sim.publishes(t);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].qos, QoS::AtLeastOnce);
}

#[test]
fn resubscribing_replaces_the_subscription() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v3("s"), "t", QoS::ExactlyOnce);
    sim.send(s, subscribe(2, "t", QoS::AtMostOnce));
    sim.recv(s);
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "x", QoS::ExactlyOnce, 1));
    let got = sim.publishes(s);
    assert_eq!(got.len(), 1, "MQTT-3.8.4-3: replaced, not added");
    assert_eq!(got[0].qos, QoS::AtMostOnce);
}
