//! Retained messages: store, replace, clear, RETAIN flags, retain handling, expiry.

use super::*;
use mqttspec_codec::RetainHandling;

#[test]
fn retained_message_is_sent_on_subscribe_with_retain_set() {
    let mut sim = Sim::new();
    let p = sim.connect(v3("p"));
    sim.send(p, retained("r/1", "old", QoS::AtMostOnce, 0));
    sim.send(p, retained("r/1", "new", QoS::AtLeastOnce, 1));
    sim.recv(p);
    let s = sim.connect(v3("s"));
    sim.send(s, subscribe(1, "r/#", QoS::ExactlyOnce));
    let got = sim.recv(s);
    assert!(matches!(got[0], Packet::Suback(_)));
    match &got[1] {
        Packet::Publish(m) => {
            assert_eq!(&m.payload[..], b"new", "MQTT-3.3.1-5: replaced");
            assert!(m.retain, "3.1.1 MQTT-3.3.1-8");
            assert_eq!(m.qos, QoS::AtLeastOnce, "the stored QoS");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(got.len(), 2);
    // A live retained publish reaches an existing 3.1.1 subscriber with RETAIN 0 (MQTT-3.3.1-9).
    sim.send(p, retained("r/1", "live", QoS::AtMostOnce, 0));
    let live = sim.publishes(s);
    assert!(!live[0].retain);
}

#[test]
fn empty_retained_payload_clears_and_is_never_stored() {
    let mut sim = Sim::new();
    let watcher = sim.subscriber(v3("w"), "r", QoS::AtMostOnce);
    let p = sim.connect(v3("p"));
    sim.send(p, retained("r", "x", QoS::AtMostOnce, 0));
    sim.send(p, retained("r", "", QoS::AtMostOnce, 0));
    // The empty one is delivered to existing subscribers as a normal message (MQTT-3.3.1-10).
    assert_eq!(payloads(&sim.publishes(watcher)), ["x", ""]);
    let s = sim.connect(v3("s"));
    sim.send(s, subscribe(1, "r", QoS::AtMostOnce));
    assert_eq!(sim.recv(s).len(), 1, "only the SUBACK (MQTT-3.3.1-11)");
}

#[test]
fn retain_zero_never_touches_the_store() {
    let mut sim = Sim::new();
    let p = sim.connect(v3("p"));
    sim.send(p, retained("r", "kept", QoS::AtMostOnce, 0));
    sim.send(p, publish("r", "", QoS::AtMostOnce, 0));
    sim.send(p, publish("r", "other", QoS::AtMostOnce, 0));
    let s = sim.connect(v3("s"));
    sim.send(s, subscribe(1, "r", QoS::AtMostOnce));
    let got = sim.recv(s);
    assert_eq!(got.len(), 2);
    assert!(matches!(&got[1], Packet::Publish(m) if &m.payload[..] == b"kept"));
}

#[test]
fn retain_handling_and_retain_as_published() {
    let mut sim = Sim::new();
    let p = sim.connect(v5("p"));
    sim.send(p, retained("r", "x", QoS::AtMostOnce, 0));
    let s = sim.connect(v5("s"));
    let sub = |rh, rap| Subscription {
        retain_handling: rh,
        retain_as_published: rap,
        ..Subscription::new("r", QoS::AtMostOnce)
    };
    sim.send(
        s,
        subscribe_with(1, vec![sub(RetainHandling::Never, false)], None),
    );
    assert_eq!(sim.recv(s).len(), 1, "MQTT-3.3.1-11");
    // Already subscribed: 1 sends nothing (MQTT-3.3.1-10) ...
    sim.send(
        s,
        subscribe_with(2, vec![sub(RetainHandling::OnNewSubscription, true)], None),
    );
    assert_eq!(sim.recv(s).len(), 1);
    // ... 0 re-sends (MQTT-3.8.4-4).
    sim.send(
        s,
        subscribe_with(3, vec![sub(RetainHandling::OnSubscribe, true)], None),
    );
    assert_eq!(sim.recv(s).len(), 2);
    // Live: RETAIN as published (MQTT-3.3.1-13).
    sim.send(p, retained("r", "y", QoS::AtMostOnce, 0));
    assert!(sim.publishes(s)[0].retain);
    sim.send(
        s,
        subscribe_with(4, vec![sub(RetainHandling::Never, false)], None),
    );
    sim.recv(s);
    sim.send(p, retained("r", "z", QoS::AtMostOnce, 0));
    assert!(!sim.publishes(s)[0].retain, "MQTT-3.3.1-12");
    // A new subscription with 1 gets them.
    let t = sim.connect(v5("t"));
    sim.send(
        t,
        subscribe_with(1, vec![sub(RetainHandling::OnNewSubscription, false)], None),
    );
    assert_eq!(sim.recv(t).len(), 2);
}

#[test]
fn retained_messages_expire() {
    let mut sim = Sim::new();
    let p = sim.connect(v5("p"));
    let mut m = retained("r", "x", QoS::AtMostOnce, 0);
    if let Packet::Publish(m) = &mut m {
        m.properties.message_expiry_interval = Some(10);
    }
    sim.send(p, m);
    sim.secs(4.0);
    let s = sim.connect(v5("s"));
    sim.send(s, subscribe(1, "r", QoS::AtMostOnce));
    let got = sim.recv(s);
    match &got[1] {
        Packet::Publish(m) => assert_eq!(
            m.properties.message_expiry_interval,
            Some(6),
            "MQTT-3.3.2-6"
        ),
        other => panic!("{other:?}"),
    }
    sim.secs(6.0);
    let s = sim.connect(v5("s2"));
    sim.send(s, subscribe(1, "r", QoS::AtMostOnce));
    assert_eq!(sim.recv(s).len(), 1, "expired");
}

#[test]
fn retain_unavailable_refuses_retained_publishes() {
    let mut config = quiet();
    config.retain_available = false;
    let mut sim = Sim::with(config);
    let (_, ack) = sim.connect_with(v5("x"));
    assert_eq!(ack.properties.retain_available, Some(0));
    let p = sim.connect(v5("p"));
    sim.send(p, retained("r", "x", QoS::AtMostOnce, 0));
    assert_eq!(
        disconnect_code(sim.one(p)),
        ReasonCode::RETAIN_NOT_SUPPORTED
    );
    let mut c = with_will(v5("w"), "t", "x");
    if let Some(w) = &mut c.will {
        w.retain = true;
    }
    let (_, ack) = sim.connect_with(c);
    assert_eq!(
        ack.reason_code,
        ReasonCode::RETAIN_NOT_SUPPORTED,
        "MQTT-3.2.2-13"
    );
}
