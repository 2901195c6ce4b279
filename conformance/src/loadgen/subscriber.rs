//! A subscribing client: counts messages, records their latency from the stamp in the payload,
//! and acknowledges them as their QoS requires.

use super::conn::{open, Reader, Writer, HANDSHAKE_TIMEOUT};
use super::{report, Counters, LoadError, LoadSpec};
use hdrhistogram::Histogram;
use mqttspec_codec::{Packet, PubAck, QoS, Subscribe, Subscription};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

pub(crate) struct Subscriber {
    reader: Reader,
    writer: Writer,
}

impl Subscriber {
    /// Connects and subscribes, returning once the SUBACK has arrived.
    pub(crate) async fn connect(
        spec: &LoadSpec,
        client_id: String,
        filter: String,
    ) -> Result<Self, LoadError> {
        let (mut reader, mut writer) = open(spec.addr, spec.version, &client_id, 0).await?;
        writer.push(&Packet::Subscribe(Subscribe {
            packet_id: 1,
            properties: Default::default(),
            filters: vec![Subscription::new(filter, spec.qos)],
        }))?;
        writer.flush().await?;
        let answer = tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next())
            .await
            .map_err(|_| LoadError::Timeout("waiting for SUBACK"))??;
        match answer {
            Some(Packet::Suback(s)) if s.reason_codes.iter().all(|c| !c.is_error()) => {
                Ok(Self { reader, writer })
            }
            other => Err(LoadError::Refused {
                client: client_id,
                detail: format!("subscription answered with {other:?}"),
            }),
        }
    }

    /// Receives until told to stop; returns the latency histogram (nanoseconds).
    pub(crate) async fn run(
        mut self,
        epoch: Instant,
        counters: Arc<Counters>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<Histogram<u64>, LoadError> {
        let mut latency = report::new_histogram();
        loop {
            let first = tokio::select! {
                _ = stop.changed() => break,
                p = self.reader.next() => p?,
            };
            let Some(first) = first else { break };
            let mut received = 0;
            let mut next = Some(first);
            while let Some(packet) = next {
                match packet {
                    Packet::Publish(p) => {
                        received += 1;
                        if let Some(stamp) = p.payload.get(..8) {
                            let mut sent = [0u8; 8];
                            sent.copy_from_slice(stamp);
                            let now = epoch.elapsed().as_nanos() as u64;
                            let _ =
                                latency.record(now.saturating_sub(u64::from_be_bytes(sent)).max(1));
                        }
                        match (p.qos, p.packet_id) {
                            (QoS::AtLeastOnce, Some(id)) => {
                                self.writer.push(&Packet::Puback(PubAck::new(id)))?
                            }
                            (QoS::ExactlyOnce, Some(id)) => {
                                self.writer.push(&Packet::Pubrec(PubAck::new(id)))?
                            }
                            _ => {}
                        }
                    }
                    Packet::Pubrel(a) => self
                        .writer
                        .push(&Packet::Pubcomp(PubAck::new(a.packet_id)))?,
                    _ => {}
                }
                next = self.reader.buffered()?;
            }
            Counters::add(&counters.received, received);
            self.writer.flush().await?;
        }
        let _ = self.writer.push(&Packet::Disconnect(Default::default()));
        let _ = self.writer.flush().await;
        Ok(latency)
    }
}
