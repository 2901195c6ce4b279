//! QoS 0/1/2 in both directions, in-flight windows, downgrade, ordering, redelivery.

use super::*;

#[test]
fn qos0_is_delivered_once_without_packet_id() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v5("s"), "a/b", QoS::AtMostOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("a/b", "hi", QoS::AtMostOnce, 0));
    sim.nothing(p);
    let got = sim.publishes(sub);
    assert_eq!(payloads(&got), ["hi"]);
    assert_eq!(got[0].packet_id, None);
    assert!(!got[0].dup && !got[0].retain);
}

#[test]
fn qos1_both_directions() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v3("s"), "t", QoS::AtLeastOnce);
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "m", QoS::AtLeastOnce, 7));
    let (name, a) = ack(sim.one(p));
    assert_eq!((name, a.packet_id), ("PUBACK", 7), "MQTT-4.3.2-4");
    let got = sim.publishes(sub);
    assert_eq!(got[0].qos, QoS::AtLeastOnce);
    assert!(!got[0].dup, "MQTT-4.3.2-2");
    let pid = got[0].packet_id.expect("QoS 1 has a packet id");
    assert_ne!(pid, 0);
    sim.send(sub, puback(pid));
    sim.nothing(sub);
}

#[test]
fn qos2_is_exactly_once_inbound() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v5("s"), "t", QoS::ExactlyOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "once", QoS::ExactlyOnce, 9));
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    // The publisher re-sends (DUP) before PUBREL: acknowledged again, not delivered again.
    let mut dup = publish("t", "once", QoS::ExactlyOnce, 9);
    if let Packet::Publish(p) = &mut dup {
        p.dup = true;
    }
    sim.send(p, dup);
    assert_eq!(ack(sim.one(p)).0, "PUBREC", "MQTT-4.3.3-10");
    sim.send(p, pubrel(9));
    let (name, a) = ack(sim.one(p));
    assert_eq!((name, a.reason_code), ("PUBCOMP", ReasonCode::SUCCESS));
    assert_eq!(payloads(&sim.publishes(sub)), ["once"]);
    // After PUBCOMP the id starts a new message (MQTT-4.3.3-12).
    sim.send(p, publish("t", "again", QoS::ExactlyOnce, 9));
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    assert_eq!(payloads(&sim.publishes(sub)), ["again"]);
    // PUBREL for an unknown id: PUBCOMP 0x92.
    sim.send(p, pubrel(300));
    assert_eq!(
        ack(sim.one(p)).1.reason_code,
        ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
    );
}

#[test]
fn qos2_outbound_handshake() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v5("s"), "t", QoS::ExactlyOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "m", QoS::ExactlyOnce, 1));
    let got = sim.publishes(sub);
    let pid = got[0].packet_id.unwrap();
    assert_eq!(got[0].qos, QoS::ExactlyOnce);
    sim.send(sub, pubrec(pid));
    let (name, a) = ack(sim.one(sub));
    assert_eq!((name, a.packet_id), ("PUBREL", pid), "MQTT-4.3.3-4");
    sim.send(sub, pubcomp(pid));
    sim.nothing(sub);
    // PUBREC for an id not in flight: PUBREL 0x92.
    sim.send(sub, pubrec(4242));
    assert_eq!(
        ack(sim.one(sub)).1.reason_code,
        ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
    );
}

#[test]
fn qos_is_downgraded_to_the_granted_qos() {
    let mut config = quiet();
    config.limits.maximum_qos = QoS::AtLeastOnce;
    let mut sim = Sim::with(config);
    let (_, ack) = sim.connect_with(v5("x"));
    assert_eq!(ack.properties.maximum_qos, Some(1), "MQTT-3.2.2-9");
    let s = sim.connect(v5("s"));
    sim.send(s, subscribe(1, "t", QoS::ExactlyOnce));
    assert_eq!(
        suback(sim.one(s)).reason_codes,
        vec![ReasonCode::GRANTED_QOS_1]
    );
    let s0 = sim.subscriber(v3("s0"), "t", QoS::AtMostOnce);
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "m", QoS::AtLeastOnce, 1));
    assert_eq!(sim.publishes(s)[0].qos, QoS::AtLeastOnce);
    assert_eq!(sim.publishes(s0)[0].qos, QoS::AtMostOnce, "MQTT-3.8.4-8");
}

#[test]
fn publishing_above_maximum_qos_is_refused_with_0x9b() {
    let mut config = quiet();
    config.limits.maximum_qos = QoS::AtMostOnce;
    let mut sim = Sim::with(config);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "m", QoS::AtLeastOnce, 1));
    assert_eq!(disconnect_code(sim.one(p)), ReasonCode::QOS_NOT_SUPPORTED);
    assert!(sim.is_closed(p));
}

#[test]
fn client_receive_maximum_bounds_the_outbound_window() {
    let mut sim = Sim::new();
    let mut c = v5("s");
    c.properties.receive_maximum = Some(2);
    let sub = sim.subscriber(c, "t", QoS::AtLeastOnce);
    let p = sim.connect(v5("p"));
    for (i, m) in ["1", "2", "3", "4"].into_iter().enumerate() {
        sim.send(p, publish("t", m, QoS::AtLeastOnce, i as u16 + 1));
    }
    let first = sim.publishes(sub);
    assert_eq!(payloads(&first), ["1", "2"], "MQTT-3.3.4-9");
    sim.send(sub, puback(first[0].packet_id.unwrap()));
    assert_eq!(payloads(&sim.publishes(sub)), ["3"]);
    // PINGRESP is not held back by the full window (MQTT-3.3.4-10).
    sim.send(sub, Packet::Pingreq);
    assert_eq!(sim.one(sub), Packet::Pingresp);
}

#[test]
fn more_qos2_than_receive_maximum_is_refused_with_0x93() {
    let mut config = quiet();
    config.limits.receive_maximum = 2;
    let mut sim = Sim::with(config);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "1", QoS::ExactlyOnce, 1));
    sim.send(p, publish("t", "2", QoS::ExactlyOnce, 2));
    assert_eq!(sim.recv(p).len(), 2);
    sim.send(p, publish("t", "3", QoS::ExactlyOnce, 3));
    assert_eq!(
        disconnect_code(sim.one(p)),
        ReasonCode::RECEIVE_MAXIMUM_EXCEEDED
    );
}

#[test]
fn messages_keep_their_order() {
    let mut sim = Sim::new();
    let mut c = v5("s");
    c.properties.receive_maximum = Some(3);
    let sub = sim.subscriber(c, "t", QoS::AtLeastOnce);
    let p = sim.connect(v5("p"));
    let msgs = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    for (i, m) in msgs.iter().enumerate() {
        sim.send(p, publish("t", m, QoS::AtLeastOnce, i as u16 + 1));
    }
    let mut got = Vec::new();
    loop {
        let batch = sim.publishes(sub);
        if batch.is_empty() {
            break;
        }
        for p in &batch {
            got.push(String::from_utf8(p.payload.to_vec()).unwrap());
            sim.send(sub, puback(p.packet_id.unwrap()));
        }
    }
    assert_eq!(got, msgs, "MQTT-4.6.0-5");
}

#[test]
fn puback_says_no_matching_subscribers_in_v5() {
    let mut sim = Sim::new();
    let p = sim.connect(v5("p"));
    sim.send(p, publish("nobody", "m", QoS::AtLeastOnce, 1));
    assert_eq!(
        ack(sim.one(p)).1.reason_code,
        ReasonCode::NO_MATCHING_SUBSCRIBERS
    );
}

#[test]
fn unacknowledged_messages_are_resent_with_dup_on_resume() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v3_persistent("s"), "t", QoS::ExactlyOnce);
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "a", QoS::AtLeastOnce, 1));
    sim.send(p, publish("t", "b", QoS::ExactlyOnce, 2));
    sim.send(p, publish("t", "c", QoS::ExactlyOnce, 3));
    let got = sim.publishes(sub);
    assert_eq!(payloads(&got), ["a", "b", "c"]);
    let (a, b, c) = (
        got[0].packet_id.unwrap(),
        got[1].packet_id.unwrap(),
        got[2].packet_id.unwrap(),
    );
    // "b" reaches PUBREL; "a" and "c" stay unacknowledged.
    sim.send(sub, pubrec(b));
    assert_eq!(ack(sim.one(sub)).0, "PUBREL");
    sim.drop_conn(sub);

    let (sub, ack2) = sim.connect_with(v3_persistent("s"));
    assert!(ack2.session_present);
    let again = sim.recv(sub);
    assert_eq!(again.len(), 3, "{again:#?}");
    match (&again[0], &again[1], &again[2]) {
        (Packet::Publish(x), Packet::Pubrel(r), Packet::Publish(z)) => {
            assert_eq!(
                (x.packet_id, x.dup, &x.payload[..]),
                (Some(a), true, &b"a"[..])
            );
            assert_eq!(
                r.packet_id, b,
                "PUBREL re-sent, never the PUBLISH (MQTT-4.3.3-6)"
            );
            assert_eq!(
                (z.packet_id, z.dup, &z.payload[..]),
                (Some(c), true, &b"c"[..])
            );
        }
        other => panic!("MQTT-4.4.0-1: {other:?}"),
    }
    sim.send(sub, pubcomp(b));
    sim.send(sub, puback(a));
    sim.send(sub, pubrec(c));
    assert_eq!(ack(sim.one(sub)).0, "PUBREL");
    sim.send(sub, pubcomp(c));
    sim.nothing(sub);
}

#[test]
fn qos2_receive_state_survives_reconnect() {
    let mut sim = Sim::new();
    let sub = sim.subscriber(v5("s"), "t", QoS::AtMostOnce);
    let p = sim.connect(v5_persistent("p", 100));
    sim.send(p, publish("t", "m", QoS::ExactlyOnce, 5));
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    sim.drop_conn(p);
    let p = sim.connect(v5_persistent("p", 100));
    // The client re-sends the PUBLISH (DUP) and then PUBREL: no second delivery.
    sim.send(p, publish("t", "m", QoS::ExactlyOnce, 5));
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    sim.send(p, pubrel(5));
    let (name, a) = ack(sim.one(p));
    assert_eq!((name, a.reason_code), ("PUBCOMP", ReasonCode::SUCCESS));
    assert_eq!(payloads(&sim.publishes(sub)), ["m"]);
}

#[test]
fn slow_readers_lose_qos0_and_keep_qos1_queued() {
    let mut config = quiet();
    config.limits.max_write_queue = 16;
    let mut sim = Sim::with(config);
    let sub = sim.subscriber(v5("s"), "t", QoS::AtLeastOnce);
    sim.auto_written = false;
    let p = sim.connect(v5("p"));
    for _ in 0..40 {
        sim.send(p, publish("t", "0", QoS::AtMostOnce, 0));
    }
    let got = sim.publishes(sub);
    assert_eq!(got.len(), 16, "QoS 0 stops at the write queue bound");
    sim.send(p, publish("t", "1", QoS::AtLeastOnce, 1));
    sim.nothing(sub);
    // The socket drains: the queued QoS 1 message goes out.
    sim.auto_written = true;
    sim.input(Input::Written {
        conn: sub,
        packets: 16,
    });
    assert_eq!(payloads(&sim.publishes(sub)), ["1"]);
}

#[test]
fn publishers_wait_for_a_congested_subscriber_instead_of_losing_messages() {
    let mut config = quiet();
    config.limits.max_queued_messages = 8; // flow control from 4 queued, released at 2
    let mut sim = Sim::with(config);
    let mut c = v5("s");
    c.properties.receive_maximum = Some(1);
    let sub = sim.subscriber(c, "t", QoS::AtLeastOnce);
    let other = sim.subscriber(v5("o"), "t", QoS::AtLeastOnce);
    let p = sim.connect(v3("p"));
    for pid in 1..=6 {
        sim.send(p, publish("t", "m", QoS::AtLeastOnce, pid));
    }
    // 1 in flight and 3 queued: acknowledged. The one that makes 4 queued, and all after it: held.
    let acks = ack_ids(sim.recv(p));
    assert_eq!(acks, [1, 2, 3, 4]);
    // The other subscriber is not slowed.
    for m in sim.publishes(other) {
        sim.send(other, puback(m.packet_id.unwrap()));
    }
    // The slow one catches up: once its queue is down to 2, the held acks go out, in order.
    let mut delivered = 0;
    while delivered < 6 {
        let got = sim.publishes(sub);
        assert_eq!(got.len(), 1, "receive maximum 1");
        delivered += 1;
        sim.send(sub, puback(got[0].packet_id.unwrap()));
        let acks = ack_ids(sim.recv(p));
        if delivered == 3 {
            assert_eq!(acks, [5, 6]);
        } else {
            assert!(acks.is_empty(), "after {delivered}: {acks:?}");
        }
    }
    sim.nothing(p);
}

#[test]
fn publishers_are_held_a_few_windows_deep_not_half_a_long_queue_deep() {
    // A message waits behind every one queued before it: with room for 1,000, holding publishers
    // only from 500 queued would make a standing queue of that depth. The mark is four in-flight
    // windows (here 4 x 2 = 8 queued), released at half of it.
    let mut config = quiet();
    config.limits.max_queued_messages = 1000;
    config.limits.max_inflight = 2;
    let mut sim = Sim::with(config);
    let sub = sim.subscriber(v5("s"), "t", QoS::AtLeastOnce);
    let p = sim.connect(v3("p"));
    for pid in 1..=12 {
        sim.send(p, publish("t", "m", QoS::AtLeastOnce, pid));
    }
    // 2 in flight, then queued 1..7: acknowledged; the one that makes 8 queued and later: held.
    let acks = ack_ids(sim.recv(p));
    assert_eq!(acks, (1..=9).collect::<Vec<_>>());
    // Acknowledging in-flight messages drains the queue; at 4 queued the held acks go out.
    let mut released = Vec::new();
    while released.is_empty() {
        let got = sim.publishes(sub);
        assert!(!got.is_empty(), "the subscriber's window refills");
        for m in got {
            sim.send(sub, puback(m.packet_id.unwrap()));
        }
        released = ack_ids(sim.recv(p));
    }
    assert_eq!(released, [10, 11, 12]);
}

#[test]
fn held_acknowledgements_are_released_when_the_slow_subscriber_leaves() {
    let mut config = quiet();
    config.limits.max_queued_messages = 2;
    let mut sim = Sim::with(config);
    let mut c = v5("s");
    c.properties.receive_maximum = Some(1);
    let sub = sim.subscriber(c, "t", QoS::AtLeastOnce);
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "1", QoS::AtLeastOnce, 1));
    sim.send(p, publish("t", "2", QoS::ExactlyOnce, 2));
    assert_eq!(sim.recv(p).len(), 1, "the second acknowledgement is held");
    sim.drop_conn(sub);
    let (name, a) = ack(sim.one(p));
    assert_eq!((name, a.packet_id), ("PUBREC", 2));
}

#[test]
fn redelivery_respects_the_new_connections_receive_maximum() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtLeastOnce);
    let p = sim.connect(v5("p"));
    for (i, m) in ["a", "b", "c"].into_iter().enumerate() {
        sim.send(p, publish("t", m, QoS::AtLeastOnce, i as u16 + 1));
    }
    assert_eq!(sim.publishes(s).len(), 3);
    sim.drop_conn(s);
    let mut c = v5_persistent("s", 100);
    c.properties.receive_maximum = Some(1);
    let s = sim.connect(c);
    for expected in ["a", "b", "c"] {
        let got = sim.publishes(s);
        assert_eq!(payloads(&got), [expected], "one at a time (MQTT-3.3.4-9)");
        assert!(got[0].dup, "MQTT-3.3.1-1");
        sim.send(s, puback(got[0].packet_id.unwrap()));
    }
    sim.nothing(s);
}

#[test]
fn receive_maximum_counts_only_this_connections_qos2_messages() {
    let mut config = quiet();
    config.limits.receive_maximum = 2;
    let mut sim = Sim::with(config);
    let p = sim.connect(v5_persistent("p", 100));
    sim.send(p, publish("t", "1", QoS::ExactlyOnce, 1));
    sim.send(p, publish("t", "2", QoS::ExactlyOnce, 2));
    sim.recv(p);
    sim.drop_conn(p);
    // The new connection has a fresh send quota (§4.9): two more are fine.
    let p = sim.connect(v5_persistent("p", 100));
    sim.send(p, publish("t", "3", QoS::ExactlyOnce, 3));
    sim.send(p, publish("t", "4", QoS::ExactlyOnce, 4));
    assert_eq!(sim.recv(p).len(), 2);
    assert!(!sim.is_closed(p));
    // Releasing the old ones still completes them (MQTT-4.3.3-11).
    sim.send(p, pubrel(1));
    assert_eq!(ack(sim.one(p)).1.reason_code, ReasonCode::SUCCESS);
}
