//! Keep-alive, Last Will, will delay.

use super::*;

fn ka(mut c: Connect, secs: u16) -> Connect {
    c.keep_alive = secs;
    c
}

#[test]
fn keep_alive_closes_at_one_and_a_half_times_and_publishes_the_will() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut sim = Sim::new();
        let watcher = sim.subscriber(v3("w"), "will", QoS::AtMostOnce);
        let c = Connect {
            protocol: version,
            ..ka(with_will(v3("c"), "will", "gone"), 10)
        };
        let conn = sim.connect(c);
        sim.secs(10.0);
        assert!(!sim.is_closed(conn), "still open at 1.0x");
        sim.send(conn, Packet::Pingreq);
        assert_eq!(sim.one(conn), Packet::Pingresp);
        sim.secs(14.9);
        assert!(!sim.is_closed(conn), "a packet restarts the period");
        sim.nothing(watcher);
        sim.secs(0.1);
        assert!(sim.is_closed(conn), "closed at 1.5x (MQTT-3.1.2-22)");
        if version.is_v5() {
            assert_eq!(
                disconnect_code(sim.one(conn)),
                ReasonCode::KEEP_ALIVE_TIMEOUT
            );
        } else {
            sim.nothing(conn);
        }
        assert_eq!(payloads(&sim.publishes(watcher)), ["gone"]);
    }
}

#[test]
fn keep_alive_zero_never_times_out() {
    let mut sim = Sim::new();
    let conn = sim.connect(v5("c"));
    sim.secs(100_000.0);
    assert!(!sim.is_closed(conn));
}

#[test]
fn server_keep_alive_overrides_the_clients() {
    let mut config = quiet();
    config.server_keep_alive = Some(4);
    let mut sim = Sim::with(config);
    let (conn, ack) = sim.connect_with(ka(v5("c"), 100));
    assert_eq!(ack.properties.server_keep_alive, Some(4), "MQTT-3.2.2-21");
    sim.secs(5.9);
    assert!(!sim.is_closed(conn));
    sim.secs(0.1);
    assert!(sim.is_closed(conn));
    // 3.1.1 cannot be told: the client's value stays in force.
    let conn = sim.connect(ka(v3("d"), 100));
    sim.secs(100.0);
    assert!(!sim.is_closed(conn));
}

#[test]
fn will_on_abrupt_close_not_on_disconnect() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will/#", QoS::AtMostOnce);
    let a = sim.connect(with_will(v3("a"), "will/a", "a"));
    let b = sim.connect(with_will(v5("b"), "will/b", "b"));
    let c = sim.connect(with_will(v5("c"), "will/c", "c"));
    sim.send(a, disconnect(ReasonCode::SUCCESS));
    sim.send(b, disconnect(ReasonCode::DISCONNECT_WITH_WILL));
    sim.drop_conn(c);
    assert_eq!(payloads(&sim.publishes(w)), ["b", "c"], "MQTT-3.14.4-3");
}

#[test]
fn will_on_disconnect_with_an_error_code() {
    // MQTT-3.1.2-8: only DISCONNECT 0x00 deletes the will; 0x80 (Unspecified error) does not.
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let c = sim.connect(with_will(v5("c"), "will", "x"));
    sim.send(c, disconnect(ReasonCode::UNSPECIFIED_ERROR));
    assert!(sim.is_closed(c));
    assert_eq!(payloads(&sim.publishes(w)), ["x"]);
}

#[test]
fn will_on_protocol_error() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let c = sim.connect(with_will(v5("c"), "will", "x"));
    sim.send(c, Packet::from(v5("c")));
    assert_eq!(payloads(&sim.publishes(w)), ["x"]);
}

#[test]
fn will_qos_retain_and_properties() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::ExactlyOnce);
    let mut c = with_will(v5("c"), "will", "x");
    if let Some(will) = &mut c.will {
        will.qos = QoS::AtLeastOnce;
        will.retain = true;
        will.properties.content_type = Some("text/plain".into());
        will.properties.user_properties = vec![("b".into(), "1".into()), ("a".into(), "2".into())];
    }
    let c = sim.connect(c);
    sim.drop_conn(c);
    let got = sim.publishes(w);
    assert_eq!(got[0].qos, QoS::AtLeastOnce);
    assert_eq!(
        got[0].properties.content_type.as_deref(),
        Some("text/plain")
    );
    assert_eq!(got[0].properties.user_properties[0].0, "b", "MQTT-3.1.3-10");
    let late = sim.connect(v3("late"));
    sim.send(late, subscribe(1, "will", QoS::AtMostOnce));
    let got = sim.recv(late);
    assert!(
        matches!(&got[1], Packet::Publish(p) if p.retain),
        "MQTT-3.1.2-15"
    );
}

fn delayed(id: &str, delay: u32, expiry: u32) -> Connect {
    let mut c = with_will(v5_persistent(id, expiry), "will", "late");
    if let Some(w) = &mut c.will {
        w.properties.will_delay_interval = Some(delay);
    }
    c
}

#[test]
fn will_delay_publishes_after_the_delay() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let c = sim.connect(delayed("c", 5, 100));
    sim.drop_conn(c);
    sim.secs(4.9);
    sim.nothing(w);
    sim.secs(0.1);
    assert_eq!(payloads(&sim.publishes(w)), ["late"]);
}

#[test]
fn reconnecting_within_the_will_delay_cancels_the_will() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let c = sim.connect(delayed("c", 5, 100));
    sim.drop_conn(c);
    sim.secs(3.0);
    sim.connect(v5_persistent("c", 100));
    sim.secs(10.0);
    sim.nothing(w); // MQTT-3.1.3-9
}

#[test]
fn session_end_publishes_a_delayed_will_early() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    let c = sim.connect(delayed("c", 60, 5));
    sim.drop_conn(c);
    sim.secs(4.9);
    sim.nothing(w);
    sim.secs(0.1);
    assert_eq!(
        payloads(&sim.publishes(w)),
        ["late"],
        "MQTT-3.1.2-8: whichever first"
    );
    // A session expiry of 0 ends the session at once: no delay at all.
    let c = sim.connect(delayed("d", 60, 0));
    sim.drop_conn(c);
    assert_eq!(payloads(&sim.publishes(w)), ["late"]);
}

#[test]
fn takeover_with_clean_start_publishes_a_delayed_will() {
    let mut sim = Sim::new();
    let w = sim.subscriber(v5("w"), "will", QoS::AtMostOnce);
    sim.connect(delayed("c", 60, 100));
    let mut fresh = v5("c");
    fresh.clean_start = true;
    sim.connect(fresh);
    assert_eq!(
        payloads(&sim.publishes(w)),
        ["late"],
        "the old session ended"
    );
}
