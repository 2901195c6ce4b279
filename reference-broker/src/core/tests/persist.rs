//! Persistence: the records the core emits (`Output::Persist`) and `Broker::restore`.

use super::*;
use crate::core::Record;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

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

/// One random step of QoS 1/2 traffic between three mostly persistent clients that connect,
/// drop, subscribe, publish, and acknowledge some of what they get.
fn traffic_step(sim: &mut Sim, rng: &mut StdRng, conns: &mut [Option<ConnId>; 3]) {
    let i = rng.random_range(0..3) as usize;
    let id = ["a", "b", "c"][i];
    let qos = |rng: &mut StdRng| QoS::from_u8(rng.random_range(0..3) as u8).unwrap_or_default();
    match (rng.random_range(0..8), conns[i]) {
        (0, None) => {
            let mut c = match rng.random_range(0..3) {
                0 => v3_persistent(id),
                1 => v5_persistent(id, 100),
                _ => v5_persistent(id, u32::MAX),
            };
            c.clean_start = rng.random_range(0..8) == 0;
            conns[i] = Some(sim.connect(c));
        }
        (1, Some(c)) => {
            sim.drop_conn(c);
            conns[i] = None;
        }
        (2, Some(c)) => {
            let filter = ["t/#", "t/1", "$share/g/t/2"][rng.random_range(0..3) as usize];
            let q = qos(rng);
            sim.send(c, subscribe(1, filter, q));
        }
        (3 | 4, Some(c)) => {
            let topic = ["t/1", "t/2"][rng.random_range(0..2) as usize];
            let pid = rng.random_range(0..5) as u16 + 1;
            let q = qos(rng);
            if rng.random_range(0..4) == 0 {
                sim.send(c, retained(topic, "r", q, pid));
            } else {
                sim.send(c, publish(topic, "m", q, pid));
            }
        }
        (5, Some(c)) => {
            for p in sim.recv(c) {
                if rng.random_range(0..2) == 0 {
                    continue;
                }
                match p {
                    Packet::Publish(p) if p.qos == QoS::AtLeastOnce => {
                        sim.send(c, puback(p.packet_id.unwrap_or(0)))
                    }
                    Packet::Publish(p) if p.qos == QoS::ExactlyOnce => {
                        sim.send(c, pubrec(p.packet_id.unwrap_or(0)))
                    }
                    Packet::Pubrel(a) => sim.send(c, pubcomp(a.packet_id)),
                    _ => {}
                }
            }
        }
        (6, Some(c)) => sim.send(c, pubrel(rng.random_range(0..5) as u16 + 1)),
        (7, _) => sim.secs(1.0),
        _ => {}
    }
}

/// After random traffic, the records restore every persistent session and retained message as
/// the broker holds them: no change goes unrecorded.
#[test]
fn records_follow_random_traffic() {
    let (mut sessions, mut messages) = (0, 0);
    for seed in 0..100u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut sim = Sim::with(persisting());
        let mut conns = [None; 3];
        for _ in 0..300 {
            traffic_step(&mut sim, &mut rng, &mut conns);
        }
        // No shutdown (it records every key again): the records made along the way must do.
        let mut back = restored(sim.records.clone());
        let persistent: Vec<&String> = sim
            .broker
            .sessions
            .iter()
            .filter(|(_, s)| s.expiry > 0)
            .map(|(c, _)| c)
            .collect();
        assert_eq!(back.broker.sessions.len(), persistent.len(), "seed {seed}");
        for client in persistent {
            let (a, b) = (&sim.broker.sessions[client], &back.broker.sessions[client]);
            sessions += 1;
            messages += a.flow().inflight.len() + a.flow().queue.len();
            let ctx = format!("seed {seed}, session {client}");
            assert_eq!((a.version, a.expiry), (b.version, b.expiry), "{ctx}");
            assert_eq!(a.subscriptions, b.subscriptions, "{ctx}");
            assert_eq!(a.flow().incoming_qos2, b.flow().incoming_qos2, "{ctx}");
            assert_eq!(a.next_packet_id(), b.next_packet_id(), "{ctx}");
            let flight = |s: &crate::core::session::Session| {
                s.flow()
                    .inflight
                    .iter()
                    .map(|f| (f.packet_id, f.state, f.delivery.qos, f.delivery.retain))
                    .collect::<Vec<_>>()
            };
            assert_eq!(flight(a), flight(b), "{ctx}");
            let queue = |s: &crate::core::session::Session| {
                s.flow()
                    .queue
                    .iter()
                    .map(|d| (d.msg.topic.clone(), d.msg.payload.clone(), d.qos, d.retain))
                    .collect::<Vec<_>>()
            };
            assert_eq!(queue(a), queue(b), "{ctx}");
        }
        let retained = |sim: &mut Sim| {
            let now = sim.now;
            sim.broker
                .retained
                .matching("#", now)
                .iter()
                .map(|m| (m.topic.to_string(), m.payload.clone(), m.qos))
                .collect::<Vec<_>>()
        };
        assert_eq!(retained(&mut sim), retained(&mut back), "seed {seed}");
    }
    eprintln!("{sessions} persistent sessions holding {messages} messages compared");
    assert!(
        sessions > 100 && messages > 500,
        "the traffic exercises persistence"
    );
}
