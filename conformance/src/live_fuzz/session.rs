//! Playing a session's steps against a broker, and the liveness probe that judges the broker after.

use super::repro::Step;
use bytes::BytesMut;
use mqttspec_codec::{
    encode, Connect, Decoder, Packet, ProtocolVersion, PubAck, Publish, QoS, Subscribe,
    Subscription,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long one write may block before the session moves on (a broker that stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_millis(500);

/// Plays `steps`. Connection errors are expected (brokers close on bad input) and not reported;
/// only the probe afterwards judges the broker.
pub(crate) async fn play(addr: SocketAddr, steps: &[Step]) -> usize {
    let mut conns: HashMap<usize, Option<TcpStream>> = HashMap::new();
    let mut scratch = vec![0u8; 64 * 1024];
    let mut sent = 0;
    for step in steps {
        let client = step.client();
        if let Step::Close { .. } = step {
            conns.insert(client, None);
            continue;
        }
        let conn = match conns.get_mut(&client) {
            Some(c) => c,
            None => {
                let stream = timeout(WRITE_TIMEOUT, TcpStream::connect(addr))
                    .await
                    .ok()
                    .and_then(Result::ok);
                conns.entry(client).or_insert(stream)
            }
        };
        let Some(stream) = conn else { continue };
        // Drain what the broker sent so far, so it never blocks writing to us.
        while let Ok(n) = stream.try_read(&mut scratch) {
            if n == 0 {
                break;
            }
        }
        let bytes = step.bytes();
        match timeout(WRITE_TIMEOUT, stream.write_all(&bytes)).await {
            Ok(Ok(())) => sent += 1,
            _ => *conn = None,
        }
    }
    // Give the broker a moment to act on the last bytes before the connections go.
    tokio::time::sleep(Duration::from_millis(5)).await;
    sent
}

/// What was wrong with the broker after a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Nothing accepts connections any more.
    Crash(String),
    /// The broker accepts connections but does not answer in time.
    Hang(String),
    /// The broker answers, but not as a working broker must.
    Liveness(String),
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Crash(d) => write!(f, "crash: {d}"),
            Self::Hang(d) => write!(f, "hang: {d}"),
            Self::Liveness(d) => write!(f, "liveness: {d}"),
        }
    }
}

/// The probe's connection: one client, its decoder and its time limit per answer.
struct ProbeConn {
    stream: TcpStream,
    decoder: Decoder,
    version: ProtocolVersion,
    limit: Duration,
}

impl ProbeConn {
    async fn send(&mut self, packet: Packet) -> Result<(), Finding> {
        let mut out = BytesMut::new();
        let _ = encode(&packet, self.version, &mut out);
        match timeout(self.limit, self.stream.write_all(&out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Finding::Liveness(format!("write failed: {e}"))),
            Err(_) => Err(Finding::Hang("write blocked".into())),
        }
    }

    async fn expect(&mut self, what: &str) -> Result<Packet, Finding> {
        loop {
            match self.decoder.next() {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => {}
                Err(e) => return Err(Finding::Liveness(format!("{what}: broker sent {e}"))),
            }
            let read = self.stream.read_buf(self.decoder.buffer_mut());
            match timeout(self.limit, read).await {
                Ok(Ok(0)) => return Err(Finding::Liveness(format!("closed before {what}"))),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(Finding::Liveness(format!("{what}: {e}"))),
                Err(_) => return Err(Finding::Hang(format!("no {what} within {:?}", self.limit))),
            }
        }
    }
}

/// A fresh client must connect, subscribe, publish at QoS 1 and receive its own message.
pub(crate) async fn probe(addr: SocketAddr, n: u64, limit: Duration) -> Result<(), Finding> {
    let stream = match timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Finding::Crash(format!("connect failed: {e}"))),
        Err(_) => return Err(Finding::Hang("TCP connect timed out".into())),
    };
    let version = ProtocolVersion::V3_1_1;
    let mut conn = ProbeConn {
        stream,
        decoder: Decoder::new(version),
        version,
        limit,
    };
    let topic = format!("mqttspec-fuzz-probe/{}/{n}", std::process::id());
    conn.send(Packet::from(Connect {
        protocol: version,
        client_id: format!("mqttspec-probe-{}-{n}", std::process::id()).into(),
        keep_alive: 30,
        ..Connect::default()
    }))
    .await?;
    match conn.expect("CONNACK").await? {
        Packet::Connack(c) if c.reason_code.0 == 0 => {}
        other => {
            return Err(Finding::Liveness(format!(
                "CONNECT answered with {other:?}"
            )))
        }
    }
    conn.send(Packet::Subscribe(Subscribe {
        packet_id: 1,
        properties: Default::default(),
        filters: vec![Subscription::new(topic.as_str(), QoS::AtLeastOnce)],
    }))
    .await?;
    match conn.expect("SUBACK").await? {
        Packet::Suback(s) if s.reason_codes.iter().all(|c| !c.is_error()) => {}
        other => {
            return Err(Finding::Liveness(format!(
                "SUBSCRIBE answered with {other:?}"
            )))
        }
    }
    conn.send(Packet::Publish(Publish {
        qos: QoS::AtLeastOnce,
        topic: topic.as_str().into(),
        packet_id: Some(2),
        payload: bytes::Bytes::from_static(b"alive"),
        ..Publish::default()
    }))
    .await?;
    let (mut acked, mut delivered) = (false, false);
    while !(acked && delivered) {
        match conn.expect("PUBACK and the probe message").await? {
            Packet::Puback(a) if a.packet_id == 2 => acked = true,
            Packet::Publish(p) if p.payload.as_ref() == b"alive" => {
                delivered = true;
                if let Some(id) = p.packet_id {
                    conn.send(Packet::Puback(PubAck::new(id))).await?;
                }
            }
            _ => {}
        }
    }
    let _ = conn.send(Packet::Disconnect(Default::default())).await;
    Ok(())
}
