//! Helpers shared by the integration tests: a broker on 127.0.0.1 port 0, and a raw client that
//! speaks through the codec. Every wait has a timeout.

#![allow(dead_code)]

use bytes::BytesMut;
use mqttspec_broker::server::{spawn, BrokerHandle};
use mqttspec_broker::Config;
use mqttspec_codec::{Connect, Decoder, Packet, ProtocolVersion, QoS, Subscribe, Subscription};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

pub async fn broker() -> BrokerHandle {
    broker_with(Config {
        sys_interval: 0,
        ..Config::default()
    })
    .await
}

pub async fn broker_with(config: Config) -> BrokerHandle {
    spawn(config).await.expect("broker starts")
}

/// A client that sends exact packets or bytes and decodes what comes back.
pub struct Raw {
    pub stream: TcpStream,
    decoder: Decoder,
    pub version: ProtocolVersion,
}

impl Raw {
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Raw {
        let stream = within("connect", TcpStream::connect(addr))
            .await
            .expect("tcp connect");
        Raw {
            stream,
            decoder: Decoder::new(version),
            version,
        }
    }

    /// Opens a connection and completes CONNECT/CONNACK.
    pub async fn connect(addr: SocketAddr, connect: Connect) -> Raw {
        let mut raw = Raw::open(addr, connect.protocol).await;
        raw.send(&Packet::from(connect)).await;
        match raw.recv().await {
            Some(Packet::Connack(a)) => assert_eq!(a.reason_code.0, 0, "{a:?}"),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        raw
    }

    /// Subscribes to `filter` (packet id 1) and waits for the SUBACK.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) {
        self.send(&Packet::Subscribe(Subscribe {
            packet_id: 1,
            properties: Default::default(),
            filters: vec![Subscription::new(filter, qos)],
        }))
        .await;
        match self.recv().await {
            Some(Packet::Suback(_)) => {}
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        mqttspec_codec::encode(packet, self.version, &mut buf).expect("encodable");
        self.send_bytes(&buf).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        within("write", self.stream.write_all(bytes))
            .await
            .expect("write");
    }

    /// The next packet, or `None` once the broker closed the connection.
    pub async fn recv(&mut self) -> Option<Packet> {
        within("a packet", async {
            loop {
                if let Some(p) = self.decoder.next().expect("broker sends valid packets") {
                    return Some(p);
                }
                match self.stream.read_buf(self.decoder.buffer_mut()).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
    }

    /// Waits for the broker to close the connection, returning what it sent before.
    pub async fn closed(&mut self) -> Vec<Packet> {
        let mut got = Vec::new();
        while let Some(p) = self.recv().await {
            got.push(p);
        }
        got
    }
}
