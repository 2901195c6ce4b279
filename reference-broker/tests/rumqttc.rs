//! Real clients over TCP: rumqttc's 3.1.1 (v4) and v5 clients against the broker.

mod common;

use common::*;
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;

/// A v4 client whose event loop runs in a task, forwarding what it receives.
struct V4 {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Packet>,
    task: tokio::task::JoinHandle<()>,
}

fn v4_options(addr: SocketAddr, id: &str) -> MqttOptions {
    let mut o = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    o.set_keep_alive(Duration::from_secs(30));
    o
}

impl V4 {
    async fn connect(options: MqttOptions) -> (V4, bool) {
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        let (tx, mut incoming) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok(event) = eventloop.poll().await {
                if let Event::Incoming(p) = event {
                    if tx.send(p).is_err() {
                        break;
                    }
                }
            }
        });
        let present = loop {
            match within("CONNACK", incoming.recv()).await {
                Some(Packet::ConnAck(a)) => {
                    assert_eq!(a.code, rumqttc::ConnectReturnCode::Success);
                    break a.session_present;
                }
                Some(_) => continue,
                None => panic!("connection failed"),
            }
        };
        (
            V4 {
                client,
                incoming,
                task,
            },
            present,
        )
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) {
        self.client.subscribe(filter, qos).await.expect("queued");
        loop {
            if let Packet::SubAck(_) = self.next().await {
                return;
            }
        }
    }

    async fn next(&mut self) -> Packet {
        within("a packet", self.incoming.recv())
            .await
            .expect("event loop running")
    }

    async fn next_publish(&mut self) -> rumqttc::Publish {
        loop {
            if let Packet::Publish(p) = self.next().await {
                return p;
            }
        }
    }

    /// Drops the connection without DISCONNECT.
    fn kill(self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn v4_pubsub_at_every_qos() {
    let b = broker().await;
    let (mut sub, _) = V4::connect(v4_options(b.local_addr(), "sub")).await;
    sub.subscribe("q/#", QoS::ExactlyOnce).await;
    let (publ, _) = V4::connect(v4_options(b.local_addr(), "pub")).await;
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let topic = format!("q/{i}");
        publ.client
            .publish(topic.clone(), qos, false, format!("m{i}"))
            .await
            .expect("queued");
        let got = sub.next_publish().await;
        assert_eq!(got.topic, topic);
        assert_eq!(got.qos, qos);
        assert_eq!(&got.payload[..], format!("m{i}").as_bytes());
    }
    b.shutdown().await;
}

#[tokio::test]
async fn v4_retained_set_and_clear() {
    let b = broker().await;
    let (publ, _) = V4::connect(v4_options(b.local_addr(), "pub")).await;
    publ.client
        .publish("r/t", QoS::AtLeastOnce, true, "kept")
        .await
        .expect("queued");
    // A later subscriber gets it with RETAIN set.
    let (mut sub, _) = V4::connect(v4_options(b.local_addr(), "late")).await;
    sub.subscribe("r/#", QoS::AtLeastOnce).await;
    let got = sub.next_publish().await;
    assert!(got.retain);
    assert_eq!(&got.payload[..], b"kept");
    // Clearing: the empty retained message reaches the live subscriber...
    publ.client
        .publish("r/t", QoS::AtLeastOnce, true, Vec::<u8>::new())
        .await
        .expect("queued");
    let cleared = sub.next_publish().await;
    assert!(cleared.payload.is_empty() && !cleared.retain);
    // ... and a new subscriber gets nothing for that topic.
    let (mut fresh, _) = V4::connect(v4_options(b.local_addr(), "fresh")).await;
    fresh.subscribe("r/#", QoS::AtLeastOnce).await;
    publ.client
        .publish("r/other", QoS::AtLeastOnce, false, "marker")
        .await
        .expect("queued");
    assert_eq!(&fresh.next_publish().await.payload[..], b"marker");
    b.shutdown().await;
}

#[tokio::test]
async fn v4_last_will_on_abrupt_close() {
    let b = broker().await;
    let (mut sub, _) = V4::connect(v4_options(b.local_addr(), "watcher")).await;
    sub.subscribe("wills/#", QoS::AtLeastOnce).await;
    let mut o = v4_options(b.local_addr(), "doomed");
    o.set_last_will(LastWill::new(
        "wills/doomed",
        "gone",
        QoS::AtLeastOnce,
        false,
    ));
    let (doomed, _) = V4::connect(o).await;
    doomed.kill();
    let will = sub.next_publish().await;
    assert_eq!(will.topic, "wills/doomed");
    assert_eq!(&will.payload[..], b"gone");
    b.shutdown().await;
}

#[tokio::test]
async fn v4_persistent_session_resumes() {
    let b = broker().await;
    let mut o = v4_options(b.local_addr(), "durable");
    o.set_clean_session(false);
    let (mut sub, present) = V4::connect(o.clone()).await;
    assert!(!present);
    sub.subscribe("d/t", QoS::AtLeastOnce).await;
    sub.client.disconnect().await.expect("queued");
    let _ = tokio::time::timeout(Duration::from_secs(2), sub.task).await;

    let (publ, _) = V4::connect(v4_options(b.local_addr(), "pub")).await;
    publ.client
        .publish("d/t", QoS::AtLeastOnce, false, "while away")
        .await
        .expect("queued");
    // Let the PUBLISH reach the broker before the subscriber comes back.
    let (mut probe, _) = V4::connect(v4_options(b.local_addr(), "probe")).await;
    probe.subscribe("d/probe", QoS::AtLeastOnce).await;
    publ.client
        .publish("d/probe", QoS::AtLeastOnce, false, "x")
        .await
        .expect("queued");
    probe.next_publish().await;

    let (mut sub, present) = V4::connect(o).await;
    assert!(present, "session present");
    let got = sub.next_publish().await;
    assert_eq!(&got.payload[..], b"while away");
    b.shutdown().await;
}

mod v5 {
    use super::*;
    use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, LastWill, Packet};
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};

    struct V5 {
        client: AsyncClient,
        incoming: mpsc::UnboundedReceiver<Packet>,
        task: tokio::task::JoinHandle<()>,
    }

    fn options(addr: SocketAddr, id: &str) -> MqttOptions {
        let mut o = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        o
    }

    impl V5 {
        async fn connect(options: MqttOptions) -> (V5, bool) {
            let (client, mut eventloop) = AsyncClient::new(options, 100);
            let (tx, mut incoming) = mpsc::unbounded_channel();
            let task = tokio::spawn(async move {
                while let Ok(event) = eventloop.poll().await {
                    if let Event::Incoming(p) = event {
                        if tx.send(p).is_err() {
                            break;
                        }
                    }
                }
            });
            let present = loop {
                match within("CONNACK", incoming.recv()).await {
                    Some(Packet::ConnAck(a)) => {
                        assert_eq!(a.code, ConnectReturnCode::Success);
                        break a.session_present;
                    }
                    Some(_) => continue,
                    None => panic!("connection failed"),
                }
            };
            (
                V5 {
                    client,
                    incoming,
                    task,
                },
                present,
            )
        }

        async fn subscribe(&mut self, filter: &str, qos: QoS) {
            self.client.subscribe(filter, qos).await.expect("queued");
            loop {
                if let Packet::SubAck(_) = self.next().await {
                    return;
                }
            }
        }

        async fn next(&mut self) -> Packet {
            within("a packet", self.incoming.recv())
                .await
                .expect("event loop running")
        }

        async fn next_publish(&mut self) -> rumqttc::v5::mqttbytes::v5::Publish {
            loop {
                if let Packet::Publish(p) = self.next().await {
                    return p;
                }
            }
        }
    }

    #[tokio::test]
    async fn v5_pubsub_at_every_qos() {
        let b = broker().await;
        let (mut sub, _) = V5::connect(options(b.local_addr(), "sub5")).await;
        sub.subscribe("q/+", QoS::ExactlyOnce).await;
        let (publ, _) = V5::connect(options(b.local_addr(), "pub5")).await;
        for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
            .into_iter()
            .enumerate()
        {
            publ.client
                .publish(format!("q/{i}"), qos, false, format!("m{i}"))
                .await
                .expect("queued");
            let got = sub.next_publish().await;
            assert_eq!(&got.topic[..], format!("q/{i}").as_bytes());
            assert_eq!(got.qos, qos);
        }
        b.shutdown().await;
    }

    #[tokio::test]
    async fn v5_retained_and_will_and_session() {
        let b = broker().await;
        let (mut watcher, _) = V5::connect(options(b.local_addr(), "w5")).await;
        watcher.subscribe("w/#", QoS::AtLeastOnce).await;

        let mut o = options(b.local_addr(), "doomed5");
        o.set_last_will(LastWill::new(
            "w/doomed",
            "bye",
            QoS::AtLeastOnce,
            true,
            None,
        ));
        let (doomed, _) = V5::connect(o).await;
        doomed.task.abort();
        let will = watcher.next_publish().await;
        assert_eq!(&will.payload[..], b"bye");

        // The will was retained: a new subscriber gets it with RETAIN set.
        let (mut late, _) = V5::connect(options(b.local_addr(), "late5")).await;
        late.subscribe("w/#", QoS::AtLeastOnce).await;
        let got = late.next_publish().await;
        assert!(got.retain);

        // A persistent session with a session expiry interval.
        let mut o = options(b.local_addr(), "durable5");
        o.set_clean_start(false);
        let mut props = rumqttc::v5::mqttbytes::v5::ConnectProperties::new();
        props.session_expiry_interval = Some(300);
        o.set_connect_properties(props);
        let (mut d, present) = V5::connect(o.clone()).await;
        assert!(!present);
        d.subscribe("s/t", QoS::AtLeastOnce).await;
        d.task.abort();
        late.client
            .publish("s/t", QoS::AtLeastOnce, false, "queued")
            .await
            .expect("queued");
        late.subscribe("s/probe", QoS::AtLeastOnce).await;
        late.client
            .publish("s/probe", QoS::AtLeastOnce, false, "x")
            .await
            .expect("queued");
        late.next_publish().await;
        let (mut d, present) = V5::connect(o).await;
        assert!(present);
        assert_eq!(&d.next_publish().await.payload[..], b"queued");
        b.shutdown().await;
    }
}

#[tokio::test]
async fn v4_flood_at_qos1_loses_nothing_with_small_queues() {
    let mut config = mqttspec_broker::Config {
        sys_interval: 0,
        ..Default::default()
    };
    // rumqttc keeps up to 100 PUBLISHes unacknowledged: flow control starts at 150 queued, so the
    // queue never reaches 300 and nothing is dropped, however slow the subscriber.
    config.limits.max_queued_messages = 300;
    config.limits.max_inflight = 5;
    let b = broker_with(config).await;
    let (mut sub, _) = V4::connect(v4_options(b.local_addr(), "sub")).await;
    sub.subscribe("flood", QoS::AtLeastOnce).await;
    let (publ, _) = V4::connect(v4_options(b.local_addr(), "pub")).await;
    const N: usize = 2000;
    let client = publ.client.clone();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            client
                .publish("flood", QoS::AtLeastOnce, false, i.to_string())
                .await
                .expect("queued");
        }
    });
    for i in 0..N {
        let got = sub.next_publish().await;
        assert_eq!(
            &got.payload[..],
            i.to_string().as_bytes(),
            "in order, none lost"
        );
    }
    within("the publisher", sender).await.expect("joined");
    b.shutdown().await;
}
