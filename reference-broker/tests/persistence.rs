//! Persistence over real TCP: a broker restarted on the same file keeps persistent sessions and
//! retained messages; a log cut short by a crash loads, a corrupt one is refused.

mod common;

use bytes::Bytes;
use common::*;
use mqttspec_broker::core::Record;
use mqttspec_broker::Config;
use mqttspec_codec::{Connack, Connect, Disconnect, Packet, ProtocolVersion, PubAck, Publish, QoS};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mqttspec-persist-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("broker.log")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(file: PathBuf) -> Config {
    Config {
        sys_interval: 0,
        persistence: Some(file),
        ..Config::default()
    }
}

fn v5(id: &str, persistent: bool) -> Connect {
    let mut c = Connect {
        protocol: ProtocolVersion::V5,
        client_id: id.into(),
        keep_alive: 0,
        clean_start: !persistent,
        ..Connect::default()
    };
    if persistent {
        c.properties.session_expiry_interval = Some(3600);
    }
    c
}

/// Connects and returns the client with its CONNACK.
async fn connect(addr: SocketAddr, connect: Connect) -> (Raw, Connack) {
    let mut raw = Raw::open(addr, ProtocolVersion::V5).await;
    raw.send(&Packet::from(connect)).await;
    match raw.recv().await {
        Some(Packet::Connack(a)) if a.reason_code.0 == 0 => (raw, a),
        other => panic!("expected CONNACK 0x00, got {other:?}"),
    }
}

fn publish(topic: &str, payload: &'static str, retain: bool, pid: u16) -> Publish {
    Publish {
        qos: QoS::AtLeastOnce,
        retain,
        topic: topic.into(),
        packet_id: Some(pid),
        payload: Bytes::from_static(payload.as_bytes()),
        ..Publish::default()
    }
}

async fn next_publish(c: &mut Raw) -> Publish {
    match c.recv().await {
        Some(Packet::Publish(p)) => p,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

async fn disconnect(mut c: Raw) {
    c.send(&Packet::Disconnect(Disconnect::default())).await;
    assert!(c.closed().await.is_empty());
}

#[tokio::test]
async fn sessions_and_retained_messages_survive_a_restart() {
    let dir = TempDir::new("restart");
    let b = broker_with(config(dir.file())).await;
    let addr = b.local_addr();
    let (mut sub, ack) = connect(addr, v5("sub", true)).await;
    assert!(!ack.session_present);
    sub.subscribe("t", QoS::AtLeastOnce).await;
    disconnect(sub).await;

    let (mut publisher, _) = connect(addr, v5("pub", false)).await;
    for p in [
        publish("t", "hello", false, 1),
        publish("r", "kept", true, 2),
    ] {
        let payload = String::from_utf8_lossy(&p.payload).into_owned();
        publisher.send(&Packet::Publish(p)).await;
        assert!(matches!(publisher.recv().await, Some(Packet::Puback(_))));
        // Written to the file before the PUBACK was sent (no shutdown, no sync yet).
        let log = std::fs::read_to_string(dir.file()).expect("read the log");
        assert!(log.contains(&format!("\"payload\":\"{payload}\"")), "{log}");
    }
    disconnect(publisher).await;
    within("shutdown", b.shutdown()).await;

    let b = broker_with(config(dir.file())).await;
    let addr = b.local_addr();
    let (mut sub, ack) = connect(addr, v5("sub", true)).await;
    assert!(ack.session_present, "the session was restored");
    let got = next_publish(&mut sub).await;
    assert_eq!((&got.payload[..], &*got.topic), (&b"hello"[..], "t"));
    sub.send(&Packet::Puback(PubAck::new(got.packet_id.expect("QoS 1"))))
        .await;

    let (mut fresh, _) = connect(addr, v5("fresh", false)).await;
    fresh.subscribe("r", QoS::AtLeastOnce).await;
    let got = next_publish(&mut fresh).await;
    assert!(got.retain);
    assert_eq!(&got.payload[..], b"kept");

    // The subscription was restored too.
    let (mut publisher, _) = connect(addr, v5("pub", false)).await;
    publisher
        .send(&Packet::Publish(publish("t", "again", false, 3)))
        .await;
    assert_eq!(&next_publish(&mut sub).await.payload[..], b"again");
    within("shutdown", b.shutdown()).await;
}

fn retained_record(topic: &str, payload: &'static str) -> String {
    let record = Record::Retained {
        topic: topic.into(),
        message: Some(Box::new(Publish {
            retain: true,
            topic: topic.into(),
            payload: Bytes::from_static(payload.as_bytes()),
            ..Publish::default()
        })),
    };
    serde_json::to_string(&record).expect("encodable")
}

#[tokio::test]
async fn a_log_with_a_truncated_last_line_loads() {
    let dir = TempDir::new("truncated");
    let text = format!(
        "{}\n{{\"kind\":\"retained\",\"topic\":\"b",
        retained_record("a", "x")
    );
    std::fs::write(dir.file(), text).expect("write");
    let b = broker_with(config(dir.file())).await;
    let (mut c, _) = connect(b.local_addr(), v5("c", false)).await;
    c.subscribe("#", QoS::AtLeastOnce).await;
    let got = next_publish(&mut c).await;
    assert_eq!((&*got.topic, &got.payload[..]), ("a", &b"x"[..]));
    within("shutdown", b.shutdown()).await;
    // Rewritten at startup: the partial line is gone.
    let text = std::fs::read_to_string(dir.file()).expect("read");
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Record>(l).is_ok()),
        "{text}"
    );
}

#[tokio::test]
async fn a_corrupt_log_is_a_startup_error() {
    let dir = TempDir::new("corrupt");
    let text = format!("garbage\n{}\n", retained_record("a", "x"));
    std::fs::write(dir.file(), text).expect("write");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let result = within(
        "the startup error",
        mqttspec_broker::server::run(listener, config(dir.file()), std::future::pending()),
    )
    .await;
    let e = result.expect_err("a corrupt file is refused");
    assert!(e.to_string().contains("line 1"), "{e}");
    assert!(e.to_string().contains("broker.log"), "{e}");
}
