//! Persistent sessions, clean start, session expiry.

use super::*;

#[test]
fn v3_persistent_session_keeps_subscriptions_and_qos1_messages() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v3_persistent("s"), "t", QoS::AtLeastOnce);
    sim.send(s, disconnect(ReasonCode::SUCCESS));
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "q0", QoS::AtMostOnce, 0));
    sim.send(p, publish("t", "q1", QoS::AtLeastOnce, 1));
    sim.send(p, publish("t", "q2", QoS::ExactlyOnce, 2));
    let (s, ack) = sim.connect_with(v3_persistent("s"));
    assert!(ack.session_present, "MQTT-3.2.2-2");
    let got = sim.publishes(s);
    assert_eq!(
        payloads(&got),
        ["q1", "q2"],
        "3.1.1 MQTT-3.1.2-5; QoS 0 is not queued"
    );
    assert!(got.iter().all(|p| !p.dup), "never sent before: DUP 0");
}

#[test]
fn clean_session_discards_everything() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v3_persistent("s"), "t", QoS::AtLeastOnce);
    sim.drop_conn(s);
    let (s, ack) = sim.connect_with(v3("s"));
    assert!(!ack.session_present, "MQTT-3.2.2-1");
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "x", QoS::AtLeastOnce, 1));
    sim.nothing(s);
    sim.drop_conn(s);
    let (_, ack) = sim.connect_with(v3_persistent("s"));
    assert!(
        !ack.session_present,
        "a clean session is not kept (MQTT-3.1.2-6)"
    );
}

#[test]
fn v5_session_expiry_interval() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5_persistent("s", 10), "t", QoS::AtLeastOnce);
    sim.drop_conn(s);
    sim.secs(9.0);
    let (s, ack) = sim.connect_with(v5_persistent("s", 10));
    assert!(ack.session_present, "MQTT-3.2.2-3");
    sim.drop_conn(s);
    sim.secs(10.0);
    assert_eq!(sim.broker.sessions(), 0, "MQTT-4.1.0-2");
    let (_, ack) = sim.connect_with(v5_persistent("s", 10));
    assert!(!ack.session_present);
}

#[test]
fn session_expiry_zero_ends_with_the_connection_and_max_never_expires() {
    let mut sim = Sim::new();
    let s = sim.connect(v5_persistent("zero", 0));
    sim.drop_conn(s);
    assert_eq!(sim.broker.sessions(), 0);
    let s = sim.connect(v5_persistent("forever", u32::MAX));
    sim.drop_conn(s);
    sim.secs(10.0 * 365.0 * 86400.0);
    let (_, ack) = sim.connect_with(v5_persistent("forever", u32::MAX));
    assert!(ack.session_present);
}

#[test]
fn disconnect_can_change_the_session_expiry() {
    let mut sim = Sim::new();
    let s = sim.connect(v5_persistent("s", 100));
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(0);
    sim.send(s, Packet::Disconnect(d));
    assert_eq!(sim.broker.sessions(), 0);
    let s = sim.connect(v5_persistent("s", 1));
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(50);
    sim.send(s, Packet::Disconnect(d));
    sim.secs(40.0);
    assert_eq!(sim.broker.sessions(), 1);
    sim.secs(10.0);
    assert_eq!(sim.broker.sessions(), 0);
}

#[test]
fn raising_a_zero_session_expiry_at_disconnect_is_a_protocol_error() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let s = sim.connect(with_will(v5("s"), "will", "x"));
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(30);
    sim.send(s, Packet::Disconnect(d));
    assert_eq!(disconnect_code(sim.one(s)), ReasonCode::PROTOCOL_ERROR);
    assert!(sim.is_closed(s));
    assert_eq!(
        payloads(&sim.publishes(w)),
        ["x"],
        "not a valid DISCONNECT: the will stands"
    );
    assert_eq!(sim.broker.sessions(), 1, "only w's session remains");
}

#[test]
fn session_expiry_maximum_is_announced() {
    let mut config = quiet();
    config.limits.session_expiry_maximum = Some(60);
    let mut sim = Sim::with(config);
    let (s, ack) = sim.connect_with(v5_persistent("s", 3600));
    assert_eq!(ack.properties.session_expiry_interval, Some(60));
    sim.drop_conn(s);
    sim.secs(60.0);
    assert_eq!(sim.broker.sessions(), 0);
}

#[test]
fn queued_messages_are_bounded() {
    let mut config = quiet();
    config.limits.max_queued_messages = 3;
    let mut sim = Sim::with(config);
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtLeastOnce);
    sim.drop_conn(s);
    let p = sim.connect(v5("p"));
    for (i, m) in ["1", "2", "3", "4", "5"].into_iter().enumerate() {
        sim.send(p, publish("t", m, QoS::AtLeastOnce, i as u16 + 1));
    }
    let s = sim.connect(v5_persistent("s", 100));
    assert_eq!(payloads(&sim.publishes(s)), ["1", "2", "3"]);
}

#[test]
fn queued_messages_expire_while_the_client_is_away() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtLeastOnce);
    sim.drop_conn(s);
    let p = sim.connect(v5("p"));
    let mut m = publish("t", "short", QoS::AtLeastOnce, 1);
    if let Packet::Publish(m) = &mut m {
        m.properties.message_expiry_interval = Some(5);
    }
    sim.send(p, m);
    let mut m = publish("t", "long", QoS::AtLeastOnce, 2);
    if let Packet::Publish(m) = &mut m {
        m.properties.message_expiry_interval = Some(50);
    }
    sim.send(p, m);
    sim.secs(10.0);
    let s = sim.connect(v5_persistent("s", 100));
    let got = sim.publishes(s);
    assert_eq!(payloads(&got), ["long"], "MQTT-3.3.2-5");
    assert_eq!(
        got[0].properties.message_expiry_interval,
        Some(40),
        "MQTT-3.3.2-6"
    );
}
