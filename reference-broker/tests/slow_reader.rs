//! Subscribers that stop reading must not hold up the broker: QoS 0 copies to them are dropped
//! once their write queue is full, and the publisher keeps being served.

mod common;

use bytes::Bytes;
use common::*;
use mqttspec_codec::{Connect, Packet, ProtocolVersion, Publish, QoS};

async fn client(addr: std::net::SocketAddr, id: &str) -> Raw {
    let connect = Connect {
        protocol: ProtocolVersion::V5,
        client_id: id.into(),
        keep_alive: 0,
        ..Connect::default()
    };
    Raw::connect(addr, connect).await
}

/// Reads until PINGRESP, counting the PUBLISHes before it.
async fn publishes_until_pong(c: &mut Raw) -> usize {
    c.send(&Packet::Pingreq).await;
    let mut publishes = 0;
    loop {
        match c.recv().await {
            Some(Packet::Pingresp) => return publishes,
            Some(Packet::Publish(_)) => publishes += 1,
            other => panic!("expected PUBLISH or PINGRESP, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_that_do_not_read_hold_up_no_one() {
    let broker = broker().await;
    let addr = broker.local_addr();
    let mut first = client(addr, "first").await;
    first.subscribe("t", QoS::AtMostOnce).await;
    let mut second = client(addr, "second").await;
    second.subscribe("t", QoS::AtMostOnce).await;
    let mut publisher = client(addr, "publisher").await;

    // 20 MB while neither subscriber reads: far more than their socket buffers and write queues
    // hold. Every send must still complete (each within `WAIT`), and the PINGREQ be answered.
    let payload = Bytes::from(vec![0x5a; 4096]);
    for _ in 0..5_000 {
        publisher
            .send(&Packet::Publish(Publish {
                topic: "t".into(),
                payload: payload.clone(),
                ..Publish::default()
            }))
            .await;
    }
    assert_eq!(publishes_until_pong(&mut publisher).await, 0);
    // Both are still connected and, once they read, get what was queued before their PINGRESP.
    for subscriber in [&mut first, &mut second] {
        let backlog = publishes_until_pong(subscriber).await;
        assert!((1..=5_000).contains(&backlog), "{backlog}");
    }
    broker.shutdown().await;
}
