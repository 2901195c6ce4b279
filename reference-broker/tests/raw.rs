//! Raw sockets through the codec: malformed input closes that connection only.

mod common;

use bytes::Bytes;
use common::*;
use mqttspec_codec::{Connect, Packet, ProtocolVersion, Publish, QoS, ReasonCode};

fn connect(version: ProtocolVersion, id: &str) -> Connect {
    Connect {
        protocol: version,
        client_id: id.into(),
        keep_alive: 0,
        ..Connect::default()
    }
}

fn publish(topic: &str, payload: &'static [u8]) -> Packet {
    Packet::Publish(Publish {
        topic: topic.into(),
        payload: Bytes::from_static(payload),
        ..Publish::default()
    })
}

async fn subscriber(addr: std::net::SocketAddr, id: &str, filter: &str) -> Raw {
    let mut s = Raw::connect(addr, connect(ProtocolVersion::V5, id)).await;
    s.subscribe(filter, QoS::AtMostOnce).await;
    s
}

#[tokio::test]
async fn malformed_packets_close_only_their_connection() {
    let b = broker().await;
    let addr = b.local_addr();
    let mut watcher = subscriber(addr, "watcher", "t").await;

    // v5: PUBLISH with QoS 3 after CONNACK gets DISCONNECT 0x81, then the close.
    let mut bad = Raw::connect(addr, connect(ProtocolVersion::V5, "bad5")).await;
    bad.send_bytes(&[0x36, 0x03, 0x00, 0x01, b't']).await;
    let got = bad.closed().await;
    match got.as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("expected DISCONNECT 0x81, got {other:?}"),
    }

    // 3.1.1: the connection is just closed.
    let mut bad = Raw::connect(addr, connect(ProtocolVersion::V3_1_1, "bad3")).await;
    bad.send_bytes(&[0xF0, 0x00]).await; // AUTH does not exist in 3.1.1
    assert!(bad.closed().await.is_empty());

    // Garbage before CONNECT: closed without a word (MQTT-3.14.0-1).
    let mut junk = Raw::open(addr, ProtocolVersion::V5).await;
    junk.send_bytes(&[0x00, 0x00, 0xFF, 0xFF]).await;
    assert!(junk.closed().await.is_empty());

    // A remaining length that never ends.
    let mut junk = Raw::open(addr, ProtocolVersion::V5).await;
    junk.send_bytes(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).await;
    assert!(junk.closed().await.is_empty());

    // Everyone else is still served.
    let mut p = Raw::connect(addr, connect(ProtocolVersion::V3_1_1, "p")).await;
    p.send(&publish("t", b"still")).await;
    match watcher.recv().await {
        Some(Packet::Publish(m)) => assert_eq!(&m.payload[..], b"still"),
        other => panic!("{other:?}"),
    }
    b.shutdown().await;
}

#[tokio::test]
async fn broken_v5_connect_gets_a_connack_with_the_reason() {
    let b = broker().await;
    // v5 CONNECT with the reserved flag bit set.
    let mut c = Raw::open(b.local_addr(), ProtocolVersion::V5).await;
    c.send_bytes(&[
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x03, 0, 0, 0, 0, 0,
    ])
    .await;
    match c.closed().await.as_slice() {
        [Packet::Connack(a)] => assert_eq!(a.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("{other:?}"),
    }
    // Protocol level 6: a 3.1.1 CONNACK 0x01.
    let mut c = Raw::open(b.local_addr(), ProtocolVersion::V3_1_1).await;
    c.send_bytes(&[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 0, 0, 0])
        .await;
    match c.closed().await.as_slice() {
        [Packet::Connack(a)] => assert_eq!(a.reason_code.0, 0x01),
        other => panic!("{other:?}"),
    }
    b.shutdown().await;
}

#[tokio::test]
async fn packets_over_the_maximum_size_are_refused() {
    let mut config = mqttspec_broker::Config {
        sys_interval: 0,
        ..Default::default()
    };
    config.limits.max_packet_size = 1024;
    let b = broker_with(config).await;
    let mut c = Raw::connect(b.local_addr(), connect(ProtocolVersion::V5, "big")).await;
    let big: &'static [u8] = Box::leak(vec![b'x'; 2000].into_boxed_slice());
    c.send(&publish("t", big)).await;
    match c.closed().await.as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PACKET_TOO_LARGE),
        other => panic!("{other:?}"),
    }
    b.shutdown().await;
}

#[tokio::test]
async fn packets_split_anywhere_are_reassembled() {
    let b = broker().await;
    let mut s = subscriber(b.local_addr(), "s", "split").await;
    let mut p = Raw::connect(b.local_addr(), connect(ProtocolVersion::V5, "p")).await;
    let bytes = mqttspec_codec::to_bytes(&publish("split", b"whole"), ProtocolVersion::V5)
        .expect("encodable");
    for byte in bytes.iter() {
        p.send_bytes(&[*byte]).await;
    }
    match s.recv().await {
        Some(Packet::Publish(m)) => assert_eq!(&m.payload[..], b"whole"),
        other => panic!("{other:?}"),
    }
    b.shutdown().await;
}

#[tokio::test]
async fn shutdown_disconnects_v5_clients_with_0x8b() {
    let b = broker().await;
    let mut c = Raw::connect(b.local_addr(), connect(ProtocolVersion::V5, "c")).await;
    within("shutdown", b.shutdown()).await;
    match c.closed().await.as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::SERVER_SHUTTING_DOWN),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn keep_alive_closes_a_silent_client_at_one_and_a_half_times() {
    let b = broker().await;
    let mut c = Raw::connect(
        b.local_addr(),
        Connect {
            keep_alive: 1,
            ..connect(ProtocolVersion::V5, "silent")
        },
    )
    .await;
    let start = std::time::Instant::now();
    let got = c.closed().await;
    let waited = start.elapsed();
    assert!(
        matches!(got.as_slice(), [Packet::Disconnect(d)] if d.reason_code == ReasonCode::KEEP_ALIVE_TIMEOUT),
        "{got:?}"
    );
    assert!(
        waited >= std::time::Duration::from_millis(1300),
        "{waited:?}"
    );
    assert!(
        waited <= std::time::Duration::from_millis(3500),
        "{waited:?}"
    );
    b.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_stall_the_others() {
    let b = broker().await;
    let addr = b.local_addr();
    // Subscribes to everything, then never reads again.
    let _slow = subscriber(addr, "slow", "flood/#").await;
    let mut fast = Raw::connect(addr, connect(ProtocolVersion::V5, "fast")).await;
    fast.subscribe("flood/#", QoS::AtLeastOnce).await;
    const N: u16 = 4000;
    let reader = tokio::spawn(async move {
        let mut got = 0u16;
        while got < N {
            match fast.recv().await {
                Some(Packet::Publish(p)) => {
                    got += 1;
                    let ack = mqttspec_codec::PubAck::new(p.packet_id.expect("QoS 1"));
                    fast.send(&Packet::Puback(ack)).await;
                }
                Some(_) => {}
                None => panic!("fast subscriber disconnected after {got}"),
            }
        }
        got
    });
    let mut publ = Raw::connect(addr, connect(ProtocolVersion::V5, "flooder")).await;
    let payload: &'static [u8] = Box::leak(vec![b'x'; 4096].into_boxed_slice());
    for i in 1..=N {
        publ.send(&Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            packet_id: Some(i),
            ..match publish("flood/t", payload) {
                Packet::Publish(p) => p,
                _ => unreachable!(),
            }
        }))
        .await;
        match publ.recv().await {
            Some(Packet::Puback(a)) => assert_eq!(a.packet_id, i),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(within("fast subscriber", reader).await.expect("joined"), N);
    let mut other = Raw::connect(addr, connect(ProtocolVersion::V3_1_1, "other")).await;
    other.send(&Packet::Pingreq).await;
    assert_eq!(other.recv().await, Some(Packet::Pingresp));
    b.shutdown().await;
}
