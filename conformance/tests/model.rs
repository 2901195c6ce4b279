//! Model-based tests: random operation sequences against the reference broker must agree with
//! the model; a broker that loses messages is caught and the case shrunk; and a counterexample
//! exported as a scenario is a valid scenario that a conformant broker passes.

use bytes::BytesMut;
use mqttspec::interp::{self, RunContext};
use mqttspec::model::{self, ModelTarget, Op, Outcome};
use mqttspec::registry::SpecVersion;
use mqttspec::runner::{self, Prefixes};
use mqttspec::scenario::parse_scenario;
use mqttspec::verdict::Verdict;
use mqttspec_broker::{server, Config};
use mqttspec_codec::{encode, Decoder, Packet, ProtocolVersion, QoS};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn reference_broker_agrees_with_the_model() {
    let rt = runtime();
    let broker = rt.block_on(server::spawn(Config::default())).unwrap();
    for (version, seed) in [(ProtocolVersion::V3_1_1, 1), (ProtocolVersion::V5, 2)] {
        let target = ModelTarget {
            addr: broker.local_addr(),
            version,
        };
        match model::check(&rt, &target, 16, seed, 16).unwrap() {
            Outcome::Passed { cases } => assert_eq!(cases, 16),
            Outcome::Failed { ops, reason } => {
                panic!("MQTT {version}: {reason}\nminimal case: {ops:#?}")
            }
        }
    }
    rt.block_on(broker.shutdown());
}

/// A proxy that forwards everything except QoS 1 PUBLISH packets from the broker: a broker
/// that silently loses QoS 1 messages.
async fn lossy_proxy(backend: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(backend).await else {
                continue;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
            tokio::spawn(async move {
                let mut decoder = Decoder::new(ProtocolVersion::V3_1_1);
                loop {
                    while let Ok(Some(p)) = decoder.next() {
                        if matches!(&p, Packet::Publish(x) if x.qos == QoS::AtLeastOnce) {
                            continue;
                        }
                        let mut out = BytesMut::new();
                        encode(&p, ProtocolVersion::V3_1_1, &mut out).unwrap();
                        if cw.write_all(&out).await.is_err() {
                            return;
                        }
                    }
                    match sr.read_buf(decoder.buffer_mut()).await {
                        Ok(n) if n > 0 => {}
                        _ => return,
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn a_lossy_broker_is_caught_and_the_case_shrunk() {
    let rt = runtime();
    let broker = rt.block_on(server::spawn(Config::default())).unwrap();
    let proxy = rt.block_on(lossy_proxy(broker.local_addr()));
    let target = ModelTarget {
        addr: proxy,
        version: ProtocolVersion::V3_1_1,
    };
    let Outcome::Failed { ops, reason } = model::check(&rt, &target, 48, 7, 16).unwrap() else {
        panic!("a broker that drops QoS 1 deliveries passed the model");
    };
    // The loss shows as a live delivery missing or as a retained message missing.
    assert!(
        reason.contains("at least 1 required") || reason.contains("retained messages"),
        "{reason}"
    );
    // Shrunk to the essence: connect, a QoS 1 publish, perhaps a subscription and a second
    // client's connect.
    assert!(ops.len() <= 4, "not shrunk: {ops:#?}");
    assert!(ops.iter().any(|o| matches!(
        o,
        Op::Publish {
            qos: QoS::AtLeastOnce | QoS::ExactlyOnce,
            ..
        }
    )));

    // The counterexample is a valid scenario that fails on the lossy broker and passes on the
    // reference broker.
    let text = model::scenario::render(&ops, &reason, ProtocolVersion::V3_1_1);
    let scenario = parse_scenario("counterexample.toml", "model/counterexample.toml", &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let run = |addr: SocketAddr| {
        let ctx = RunContext {
            addr: addr.to_string(),
            timeout: runner::DEFAULT_TIMEOUT,
            username: None,
            password: None,
            profile: Default::default(),
        };
        rt.block_on(interp::run(
            &scenario,
            SpecVersion::V3_1_1,
            &ctx,
            Prefixes::new().next(),
        ))
    };
    let on_reference = run(broker.local_addr());
    assert_eq!(
        on_reference.verdict,
        Verdict::Pass,
        "{}\n{}\n{text}",
        on_reference.message,
        on_reference.detail
    );
    assert_eq!(run(proxy).verdict, Verdict::Fail, "{text}");
    rt.block_on(broker.shutdown());
}

#[test]
fn exported_scenarios_pass_on_the_reference_broker() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let rt = runtime();
    let broker = rt.block_on(server::spawn(Config::default())).unwrap();
    let mut gen = TestRunner::deterministic();
    for i in 0..12 {
        let version = if i % 2 == 0 {
            ProtocolVersion::V3_1_1
        } else {
            ProtocolVersion::V5
        };
        let ops = model::case(14).new_tree(&mut gen).unwrap().current();
        let text = model::scenario::render(&ops, "none: a generated case", version);
        let scenario = parse_scenario("c.toml", "model/counterexample.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let ctx = RunContext {
            addr: broker.local_addr().to_string(),
            timeout: runner::DEFAULT_TIMEOUT,
            username: None,
            password: None,
            profile: Default::default(),
        };
        let v = if version.is_v5() {
            SpecVersion::V5_0
        } else {
            SpecVersion::V3_1_1
        };
        let out = rt.block_on(interp::run(&scenario, v, &ctx, Prefixes::new().next()));
        assert_eq!(
            out.verdict,
            Verdict::Pass,
            "{}\n{}\n{ops:#?}\n{text}",
            out.message,
            out.detail
        );
    }
    rt.block_on(broker.shutdown());
}
