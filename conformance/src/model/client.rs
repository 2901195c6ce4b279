//! A model-test client on the wire: it acknowledges what it receives as a correct receiver does
//! (QoS 2 deduplicated by packet identifier until PUBREL) and counts deliveries per message.

use super::ModelError;
use bytes::BytesMut;
use mqttspec_codec::{encode, Decoder, Packet, ProtocolVersion, PubAck, QoS};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long any single answer may take.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// What a client received, kept across its connections as its session state is.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Message id (from the payload) -> times delivered to the application.
    pub counts: BTreeMap<u32, u32>,
    /// QoS 2 packet ids received and not yet released: a resent PUBLISH with one of these ids
    /// is the same message (MQTT-4.3.3-2).
    pub awaiting_release: BTreeSet<u16>,
    /// Deliveries whose payload was not a model message id, or that were malformed.
    pub strays: Vec<String>,
    /// Retained flags seen per message id.
    pub retained_flags: BTreeMap<u32, bool>,
}

pub(crate) struct Connection {
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    pub(crate) control: mpsc::UnboundedReceiver<Packet>,
    version: ProtocolVersion,
    reader: tokio::task::JoinHandle<()>,
}

async fn write(
    writer: &tokio::sync::Mutex<OwnedWriteHalf>,
    version: ProtocolVersion,
    packet: &Packet,
) -> Result<(), ModelError> {
    let mut buf = BytesMut::new();
    encode(packet, version, &mut buf).map_err(|e| ModelError::Harness(e.to_string()))?;
    let mut w = writer.lock().await;
    tokio::time::timeout(ANSWER_TIMEOUT, w.write_all(&buf))
        .await
        .map_err(|_| ModelError::Broker(format!("writing {} blocked", packet.name())))?
        .map_err(|e| ModelError::Broker(format!("writing {}: {e}", packet.name())))
}

impl Connection {
    pub(crate) async fn open(
        addr: SocketAddr,
        version: ProtocolVersion,
        log: Arc<Mutex<Log>>,
    ) -> Result<Self, ModelError> {
        let stream = tokio::time::timeout(ANSWER_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| ModelError::Broker("TCP connect timed out".into()))?
            .map_err(|e| ModelError::Broker(format!("TCP connect: {e}")))?;
        let (mut read, write_half) = stream.into_split();
        let writer = Arc::new(tokio::sync::Mutex::new(write_half));
        let (tx, control) = mpsc::unbounded_channel();
        let acker = writer.clone();
        let reader = tokio::spawn(async move {
            let mut decoder = Decoder::new(version);
            loop {
                let packet = match decoder.next() {
                    Ok(Some(p)) => p,
                    Ok(None) => match read.read_buf(decoder.buffer_mut()).await {
                        Ok(n) if n > 0 => continue,
                        _ => return,
                    },
                    Err(e) => {
                        log.lock()
                            .map(|mut l| l.strays.push(format!("broker sent {e}")))
                            .ok();
                        return;
                    }
                };
                let ack = match &packet {
                    Packet::Publish(p) => {
                        let id = std::str::from_utf8(&p.payload)
                            .ok()
                            .and_then(|s| s.strip_prefix('m'))
                            .and_then(|s| s.parse::<u32>().ok());
                        let Ok(mut l) = log.lock() else { return };
                        let fresh = match (p.qos, p.packet_id) {
                            (QoS::ExactlyOnce, Some(pid)) => l.awaiting_release.insert(pid),
                            _ => true,
                        };
                        match id {
                            _ if p.payload.is_empty() => {}
                            Some(id) if fresh => {
                                *l.counts.entry(id).or_default() += 1;
                                l.retained_flags.insert(id, p.retain);
                            }
                            Some(_) => {}
                            None => l.strays.push(format!("unexpected payload {:?}", p.payload)),
                        }
                        match (p.qos, p.packet_id) {
                            (QoS::AtLeastOnce, Some(pid)) => Some(Packet::Puback(PubAck::new(pid))),
                            (QoS::ExactlyOnce, Some(pid)) => Some(Packet::Pubrec(PubAck::new(pid))),
                            _ => None,
                        }
                    }
                    Packet::Pubrel(a) => {
                        if let Ok(mut l) = log.lock() {
                            l.awaiting_release.remove(&a.packet_id);
                        }
                        Some(Packet::Pubcomp(PubAck::new(a.packet_id)))
                    }
                    _ => None,
                };
                if let Some(ack) = ack {
                    if write(&acker, version, &ack).await.is_err() {
                        return;
                    }
                } else if !matches!(packet, Packet::Publish(_)) && tx.send(packet).is_err() {
                    return;
                }
            }
        });
        Ok(Self {
            writer,
            control,
            version,
            reader,
        })
    }

    pub(crate) async fn send(&self, packet: &Packet) -> Result<(), ModelError> {
        write(&self.writer, self.version, packet).await
    }

    /// The next packet that is not a PUBLISH or PUBREL (those are handled by the reader).
    pub(crate) async fn next(&mut self, waiting_for: &str) -> Result<Packet, ModelError> {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.control.recv()).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(ModelError::Broker(format!(
                "connection closed while waiting for {waiting_for}"
            ))),
            Err(_) => Err(ModelError::Broker(format!(
                "no {waiting_for} within {ANSWER_TIMEOUT:?}"
            ))),
        }
    }

    /// Closes the connection without DISCONNECT.
    pub(crate) async fn drop_now(self) {
        self.reader.abort();
        let mut w = self.writer.lock().await;
        let _ = w.shutdown().await;
    }
}
