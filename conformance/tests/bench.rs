//! `mqttspec bench`: its loads against the reference broker deliver and count what they should,
//! and its idle mode holds and measures connections. Loads are short and small: these tests check
//! what is counted, never how fast (figures belong to benches/broker.sh).

use mqttspec::loadgen::{self, LoadSpec};
use mqttspec_broker::{server, Config};
use mqttspec_codec::{ProtocolVersion, QoS};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

fn spec(addr: SocketAddr, qos: QoS, publishers: usize, subscribers: usize) -> LoadSpec {
    LoadSpec {
        addr,
        version: ProtocolVersion::V3_1_1,
        publishers,
        subscribers,
        qos,
        payload: 64,
        duration: Duration::from_millis(200),
        topics: 1,
        inflight: 8,
        rate: None,
        // The broker runs in this process.
        broker_pid: Some(std::process::id()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qos1_load_delivers_every_message_to_every_subscriber() {
    let broker = server::spawn(Config::default()).await.expect("broker");
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let spec = LoadSpec {
            version,
            ..spec(broker.local_addr(), QoS::AtLeastOnce, 2, 3)
        };
        let report = loadgen::run(spec).await.expect("load");
        assert!(report.published > 0, "{report:?}");
        assert_eq!(report.acknowledged, report.published, "{report:?}");
        assert_eq!(report.expected, report.published * 3, "{report:?}");
        assert_eq!(report.received, report.expected, "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
        let latency = report.latency.as_ref().expect("latency");
        assert!(latency.p50_us > 0.0, "{report:?}");
        assert!(latency.p50_us <= latency.p99_us && latency.p99_us <= latency.max_us);
        assert!(report.cpu.broker_percent.is_some(), "{report:?}");
        let steal = report
            .cpu
            .steal_percent
            .expect("steal time from /proc/stat");
        assert!((0.0..=100.0).contains(&steal), "{report:?}");
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qos0_load_counts_at_most_what_was_published() {
    let broker = server::spawn(Config::default()).await.expect("broker");
    let report = loadgen::run(spec(broker.local_addr(), QoS::AtMostOnce, 3, 1))
        .await
        .expect("load");
    assert!(report.published > 0, "{report:?}");
    assert_eq!(report.acknowledged, 0, "{report:?}");
    assert!(report.received > 0 && report.received <= report.expected);
    assert_eq!(report.errors, 0, "{report:?}");
    broker.shutdown().await;
}

/// A pace never sends early: what was published is at most what fell due (the rate times the
/// time spent publishing, plus the first message of each publisher), however slow the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_load_publishes_no_more_than_its_rate_and_delivers_it() {
    let broker = server::spawn(Config::default()).await.expect("broker");
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let spec = LoadSpec {
            rate: Some(100.0),
            duration: Duration::from_millis(300),
            ..spec(broker.local_addr(), qos, 2, 1)
        };
        let report = loadgen::run(spec).await.expect("load");
        assert_eq!(report.rate_per_s, Some(100.0));
        assert!(report.published > 0, "{report:?}");
        let due = 100.0 * report.duration_s + 2.0;
        assert!(report.published as f64 <= due, "{report:?}");
        // A broker this far from saturation drops nothing, at QoS 0 either.
        assert_eq!(report.received, report.expected, "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_held_bare_or_subscribed_and_measured() {
    let broker = server::spawn(Config::default()).await.expect("broker");
    for subscribe in [false, true] {
        let spec = spec(broker.local_addr(), QoS::AtLeastOnce, 0, 0);
        let report = loadgen::run_idle(&spec, 40, subscribe, Duration::ZERO)
            .await
            .expect("idle connections");
        assert_eq!(report.connections, 40);
        assert_eq!(report.subscribed, subscribe);
        assert!(report.bytes_per_connection.is_some(), "{report:?}");
    }
    broker.shutdown().await;
}

/// The command end to end: it starts the reference broker as a child process and prints JSON.
#[test]
fn the_command_reports_a_load_and_idle_connections_as_json() {
    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
            .arg("bench")
            .args(args)
            .arg("--json")
            .output()
            .expect("mqttspec bench");
        assert!(out.status.success(), "{args:?}: {out:?}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let load = run(&["--qos", "1", "--subscribers", "2", "--duration", "200ms"]);
    assert!(load["published"].as_u64() > Some(0), "{load}");
    assert_eq!(load["received"], load["expected"], "{load}");
    assert!(load["cpu"]["broker_percent"].is_number(), "{load}");
    assert!(load["cpu"]["steal_percent"].is_number(), "{load}");
    let idle = run(&["--idle", "20", "--idle-subscribe", "--hold", "0s"]);
    assert_eq!(idle["connections"], 20, "{idle}");
    assert_eq!(idle["subscribed"], true, "{idle}");
    assert!(idle["bytes_per_connection"].is_number(), "{idle}");
}
