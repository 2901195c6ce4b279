//! Persistence: the records the core emits (`Output::Persist`) and `Broker::restore`.

use super::*;
use crate::core::Record;

/// `quiet()` with persistence on (the core only looks at whether a file is set).
fn persisting() -> Config {
    Config {
        persistence: Some("unused-by-the-core".into()),
        ..quiet()
    }
}

/// A fresh broker restored from `records`.
fn restored(records: Vec<Record>) -> Sim {
    let mut sim = Sim::with(persisting());
    let now = sim.now;
    sim.broker.restore(now, records);
    sim.drain();
    sim
}

fn session_record<'a>(records: &'a [Record], client: &str) -> Option<&'a Record> {
    records
        .iter()
        .rev()
        .find(|r| matches!(r, Record::Session { client_id, .. } if client_id == client))
}

fn publish_with_expiry(topic: &str, payload: &'static str, secs: u32) -> Packet {
    match retained(topic, payload, QoS::AtMostOnce, 0) {
        Packet::Publish(mut p) => {
            p.properties.message_expiry_interval = Some(secs);
            Packet::Publish(p)
        }
        _ => unreachable!(),
    }
}

#[test]
fn records_come_before_the_puback_of_the_message_they_hold() {
    let mut sim = Sim::with(persisting());
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtLeastOnce);
    match session_record(&sim.records, "s") {
        Some(Record::Session {
            state: Some(st), ..
        }) => {
            assert_eq!(st.subscriptions.len(), 1);
            assert_eq!(st.subscriptions[0].filter, "t");
            assert_eq!(st.expiry, 100);
        }
        other => panic!("expected the session of s, got {other:?}"),
    }
    sim.drop_conn(s);
    let p = sim.connect(v5("p"));
    sim.records.clear();

    let now = sim.now;
    sim.broker.handle(
        now,
        Input::Received(p, publish("t", "m", QoS::AtLeastOnce, 1)),
    );
    let mut outputs = Vec::new();
    while let Some(o) = sim.broker.poll_output() {
        outputs.push(o);
    }
    match outputs.as_slice() {
        [Output::Persist(Record::Session {
            client_id,
            state: Some(st),
        }), Output::Send {
            packet: Packet::Puback(_),
            ..
        }] => {
            assert_eq!(client_id, "s");
            assert_eq!(st.queue.len(), 1);
            assert_eq!(&st.queue[0].message.payload[..], b"m");
        }
        other => panic!("expected the session record, then PUBACK; got {other:#?}"),
    }
}

#[test]
fn nothing_is_recorded_when_persistence_is_off_or_the_session_is_clean() {
    let mut sim = Sim::new();
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtLeastOnce);
    sim.drop_conn(s);
    let p = sim.connect(v5("p"));
    sim.send(p, retained("t", "m", QoS::AtLeastOnce, 1));
    sim.input(Input::Shutdown);
    assert!(sim.records.is_empty(), "{:?}", sim.records);

    let mut sim = Sim::with(persisting());
    let s5 = sim.subscriber(v5("s5"), "t", QoS::AtLeastOnce);
    let s3 = sim.subscriber(v3("s3"), "t", QoS::ExactlyOnce);
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "m", QoS::ExactlyOnce, 1));
    sim.send(p, pubrel(1));
    sim.drop_conn(s5);
    sim.drop_conn(s3);
    assert!(sim.records.is_empty(), "{:?}", sim.records);
}

#[test]
fn restored_session_is_present_with_its_queued_and_inflight_messages() {
    let mut sim = Sim::with(persisting());
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::ExactlyOnce);
    let p = sim.connect(v5("p"));
    // "one": QoS 2, PUBREC'd by s, so PUBREL was sent and PUBCOMP is awaited.
    sim.send(p, publish("t", "one", QoS::ExactlyOnce, 1));
    sim.send(p, pubrel(1));
    let one = sim.publishes(s).remove(0);
    let one_id = one.packet_id.expect("QoS 2");
    sim.send(s, pubrec(one_id));
    assert_eq!(ack(sim.one(s)).0, "PUBREL");
    // "two": QoS 1, sent and not acknowledged.
    sim.send(p, publish("t", "two", QoS::AtLeastOnce, 2));
    let two = sim.publishes(s).remove(0);
    sim.drop_conn(s);
    // "three" and "four": queued while s is away.
    sim.send(p, publish("t", "three", QoS::AtLeastOnce, 3));
    sim.send(p, publish("t", "four", QoS::ExactlyOnce, 4));
    sim.send(p, pubrel(4));

    let mut sim = restored(sim.records.clone());
    let (s, connack) = sim.connect_with(v5_persistent("s", 100));
    assert!(connack.session_present, "the session survived the restart");
    let got = sim.recv(s);
    match got.as_slice() {
        [Packet::Pubrel(rel), Packet::Publish(two_again), Packet::Publish(three), Packet::Publish(four)] =>
        {
            assert_eq!(rel.packet_id, one_id, "PUBREL re-sent, not the PUBLISH");
            assert!(two_again.dup, "MQTT-3.3.1-1: a re-delivery has DUP 1");
            assert_eq!(two_again.packet_id, two.packet_id, "same packet id");
            assert_eq!(&two_again.payload[..], b"two");
            assert_eq!(
                (&three.payload[..], three.qos, three.dup),
                (&b"three"[..], QoS::AtLeastOnce, false)
            );
            assert_eq!(
                (&four.payload[..], four.qos),
                (&b"four"[..], QoS::ExactlyOnce)
            );
            assert_ne!(four.packet_id, three.packet_id);
        }
        other => panic!("expected PUBREL and three PUBLISHes, got {other:#?}"),
    }
    // The restored subscription still routes.
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "five", QoS::AtLeastOnce, 5));
    assert_eq!(payloads(&sim.publishes(s)), ["five"]);
}

#[test]
fn qos2_receive_state_survives_a_restart() {
    let mut sim = Sim::with(persisting());
    let s = sim.subscriber(v5_persistent("s", 100), "t", QoS::AtMostOnce);
    let p = sim.connect(v5_persistent("p", 100));
    sim.send(p, publish("t", "once", QoS::ExactlyOnce, 7));
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    assert_eq!(payloads(&sim.publishes(s)), ["once"]);
    match session_record(&sim.records, "p") {
        Some(Record::Session {
            state: Some(st), ..
        }) => assert_eq!(st.incoming_qos2, [7]),
        other => panic!("expected the session of p, got {other:?}"),
    }

    let mut sim = restored(sim.records.clone());
    let s = sim.connect(v5_persistent("s", 100));
    let (p, connack) = sim.connect_with(v5_persistent("p", 100));
    assert!(connack.session_present);
    // The PUBLISH again (DUP): acknowledged, not delivered again (MQTT-4.3.3-10).
    let mut again = publish("t", "once", QoS::ExactlyOnce, 7);
    if let Packet::Publish(pp) = &mut again {
        pp.dup = true;
    }
    sim.send(p, again);
    assert_eq!(ack(sim.one(p)).0, "PUBREC");
    sim.send(p, pubrel(7));
    let (name, comp) = ack(sim.one(p));
    assert_eq!((name, comp.reason_code), ("PUBCOMP", ReasonCode::SUCCESS));
    sim.nothing(s);
}

#[test]
fn retained_messages_are_restored_unless_expired_or_cleared() {
    let mut sim = Sim::with(persisting());
    let p = sim.connect(v5("p"));
    sim.send(p, retained("keep", "k", QoS::AtMostOnce, 0));
    sim.send(p, retained("clear", "c", QoS::AtMostOnce, 0));
    sim.send(p, retained("clear", "", QoS::AtMostOnce, 0));
    sim.send(p, publish_with_expiry("short", "s", 10));
    sim.send(p, publish_with_expiry("long", "l", 100));
    sim.secs(11.0);
    // A clean shutdown records the time left of every expiring message.
    sim.input(Input::Shutdown);

    let mut sim = restored(sim.records.clone());
    let s = sim.connect(v5("s"));
    sim.send(s, subscribe(1, "#", QoS::AtMostOnce));
    let mut got = sim.recv(s).into_iter();
    assert!(matches!(got.next(), Some(Packet::Suback(_))));
    let got: Vec<Publish> = got
        .map(|p| match p {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect();
    let mut names = payloads(&got);
    names.sort();
    assert_eq!(names, ["k", "l"]);
    let long = got.iter().find(|p| &p.payload[..] == b"l").expect("long");
    assert_eq!(
        long.properties.message_expiry_interval,
        Some(89),
        "100 - 11 s"
    );
}

#[test]
fn sessions_that_end_are_recorded_as_removed() {
    let mut sim = Sim::with(persisting());
    // Expiry.
    let a = sim.subscriber(v5_persistent("a", 5), "t", QoS::AtLeastOnce);
    sim.drop_conn(a);
    sim.secs(6.0);
    assert!(matches!(
        session_record(&sim.records, "a"),
        Some(Record::Session { state: None, .. })
    ));
    // Replaced by a clean session.
    let b = sim.subscriber(v3_persistent("b"), "t", QoS::AtLeastOnce);
    sim.drop_conn(b);
    let b = sim.connect(v3("b"));
    assert!(matches!(
        session_record(&sim.records, "b"),
        Some(Record::Session { state: None, .. })
    ));
    sim.drop_conn(b);

    let mut sim = restored(sim.records.clone());
    assert_eq!(sim.broker.sessions(), 0);
    let (_, connack) = sim.connect_with(v3_persistent("b"));
    assert!(!connack.session_present);
}

#[test]
fn restored_sessions_expire_and_publish_their_wills() {
    let mut sim = Sim::with(persisting());
    let s = sim.subscriber(v3_persistent("s"), "will/#", QoS::AtLeastOnce);
    sim.drop_conn(s);
    let mut w = with_will(v5_persistent("w", 30), "will/w", "gone");
    if let Some(will) = &mut w.will {
        will.qos = QoS::AtLeastOnce;
        will.properties.will_delay_interval = Some(10);
    }
    sim.connect(w);
    // A clean shutdown does not publish the will, and keeps it on record.
    sim.input(Input::Shutdown);

    let mut sim = restored(sim.records.clone());
    assert_eq!(sim.broker.sessions(), 2);
    sim.secs(9.0);
    let (s, _) = sim.connect_with(v3_persistent("s"));
    sim.nothing(s);
    sim.secs(2.0);
    assert_eq!(
        payloads(&sim.publishes(s)),
        ["gone"],
        "will delay counted from the restore"
    );
    sim.secs(20.0);
    let (_, connack) = sim.connect_with(v5_persistent("w", 30));
    assert!(!connack.session_present, "expired 30 s after the restore");
}
