//! A publishing client: as many messages as the broker accepts until the deadline, or as many as
//! its pace makes due, each payload stamped with its send time and sequence number; at QoS 1/2
//! within an in-flight window.

use super::conn::{open, Reader, Writer};
use super::pace::{due_now, Pace};
use super::{Counters, LoadError, LoadSpec};
use bytes::{BufMut, Bytes, BytesMut};
use mqttspec_codec::{MqttString, Packet, PubAck, Publish, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// Messages encoded into one write: enough to amortise the syscall, small enough to stay fair.
const BATCH: usize = 32;

/// How long a publisher waits after its deadline for its last acknowledgements.
const ACK_GRACE: Duration = Duration::from_secs(5);

/// What every message of one publisher looks like.
struct Template {
    topic: MqttString,
    qos: QoS,
    payload: usize,
}

impl Template {
    fn build(&self, epoch: Instant, seq: u64, packet_id: Option<u16>) -> Packet {
        let mut payload = BytesMut::with_capacity(self.payload);
        payload.put_u64(epoch.elapsed().as_nanos() as u64);
        payload.put_u64(seq);
        payload.resize(self.payload, 0x5A);
        Packet::Publish(Publish {
            qos: self.qos,
            topic: self.topic.clone(),
            packet_id,
            payload: Bytes::from(payload),
            ..Publish::default()
        })
    }
}

pub(crate) struct Publisher {
    reader: Reader,
    writer: Writer,
    template: Template,
    inflight: usize,
}

impl Publisher {
    pub(crate) async fn connect(
        spec: &LoadSpec,
        client_id: String,
        topic: String,
    ) -> Result<Self, LoadError> {
        let (reader, writer) = open(spec.addr, spec.version, &client_id, 0).await?;
        Ok(Self {
            reader,
            writer,
            template: Template {
                topic: topic.into(),
                qos: spec.qos,
                payload: spec.payload.max(super::MIN_PAYLOAD),
            },
            inflight: spec.inflight.clamp(1, 65_535),
        })
    }

    pub(crate) async fn run(
        self,
        epoch: Instant,
        deadline: Instant,
        pace: Option<Pace>,
        counters: Arc<Counters>,
    ) -> Result<(), LoadError> {
        if self.template.qos == QoS::AtMostOnce {
            self.run_qos0(epoch, deadline, pace, counters).await
        } else {
            self.run_acknowledged(epoch, deadline, pace, counters).await
        }
    }

    async fn run_qos0(
        mut self,
        epoch: Instant,
        deadline: Instant,
        pace: Option<Pace>,
        counters: Arc<Counters>,
    ) -> Result<(), LoadError> {
        let mut seq = 0;
        while Instant::now() < deadline {
            let n = due_now(pace.as_ref(), seq, BATCH);
            if let (0, Some(p)) = (n, &pace) {
                tokio::time::sleep_until(p.due_at(seq).min(deadline).into()).await;
                continue;
            }
            for _ in 0..n {
                self.writer.push(&self.template.build(epoch, seq, None))?;
                seq += 1;
            }
            self.writer.flush().await?;
            Counters::add(&counters.published, n as u64);
        }
        self.writer.push(&Packet::Disconnect(Default::default()))?;
        self.writer.flush().await
    }

    /// QoS 1/2: a reader task returns window credit on PUBACK/PUBCOMP and hands PUBREC ids back
    /// to this task, which answers them with PUBREL between batches.
    async fn run_acknowledged(
        self,
        epoch: Instant,
        deadline: Instant,
        pace: Option<Pace>,
        counters: Arc<Counters>,
    ) -> Result<(), LoadError> {
        let Publisher {
            mut reader,
            mut writer,
            template,
            inflight,
        } = self;
        let window = Arc::new(Semaphore::new(inflight));
        let in_use: Arc<Vec<AtomicBool>> =
            Arc::new((0..=u16::MAX).map(|_| AtomicBool::new(false)).collect());
        let (pubrec_tx, mut pubrec_rx) = mpsc::channel::<u16>(inflight);
        let acks = {
            let (window, in_use, counters) = (window.clone(), in_use.clone(), counters.clone());
            tokio::spawn(async move {
                let release = |id: u16| {
                    if in_use[usize::from(id)].swap(false, Ordering::AcqRel) {
                        window.add_permits(1);
                        Counters::add(&counters.acknowledged, 1);
                    }
                };
                while let Some(p) = reader.next().await? {
                    match p {
                        Packet::Puback(a) | Packet::Pubcomp(a) => release(a.packet_id),
                        Packet::Pubrec(a) if a.reason_code.is_error() => release(a.packet_id),
                        // The sender is gone only when publishing is over.
                        Packet::Pubrec(a) => pubrec_tx
                            .send(a.packet_id)
                            .await
                            .map_err(|_| LoadError::Protocol("publisher stopped".into()))?,
                        _ => {}
                    }
                }
                Ok::<(), LoadError>(())
            })
        };

        let mut next_id: u16 = 0;
        let mut allocate = || loop {
            next_id = next_id.wrapping_add(1).max(1);
            if !in_use[usize::from(next_id)].swap(true, Ordering::AcqRel) {
                return next_id;
            }
        };
        let mut seq = 0;
        let sleep = tokio::time::sleep_until(deadline.into());
        tokio::pin!(sleep);
        loop {
            // With a pace and nothing due: wait for the next message's time, not for credit.
            let due = due_now(pace.as_ref(), seq, BATCH);
            let next_due = match (&pace, due) {
                (Some(p), 0) => p.due_at(seq).min(deadline),
                _ => deadline,
            };
            tokio::select! {
                biased;
                Some(id) = pubrec_rx.recv() => {
                    writer.push(&Packet::Pubrel(PubAck::new(id)))?;
                    while let Ok(id) = pubrec_rx.try_recv() {
                        writer.push(&Packet::Pubrel(PubAck::new(id)))?;
                    }
                    writer.flush().await?;
                }
                // Before the pace's branch, which would otherwise wake at the deadline forever.
                _ = &mut sleep => break,
                _ = tokio::time::sleep_until(next_due.into()), if due == 0 => {}
                permit = window.acquire(), if due > 0 => {
                    let Ok(permit) = permit else { break };
                    permit.forget();
                    let mut n = 1;
                    while n < due {
                        match window.try_acquire() {
                            Ok(p) => { p.forget(); n += 1; }
                            Err(_) => break,
                        }
                    }
                    for _ in 0..n {
                        writer.push(&template.build(epoch, seq, Some(allocate())))?;
                        seq += 1;
                    }
                    writer.flush().await?;
                    Counters::add(&counters.published, n as u64);
                }
            }
        }

        // Finish the handshakes in flight: answer PUBRECs until every credit is back.
        let grace = tokio::time::sleep(ACK_GRACE);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                Some(id) = pubrec_rx.recv() => {
                    writer.push(&Packet::Pubrel(PubAck::new(id)))?;
                    writer.flush().await?;
                }
                all = window.acquire_many(inflight as u32) => {
                    drop(all);
                    break;
                }
                _ = &mut grace => {
                    Counters::add(&counters.errors, 1);
                    break;
                }
            }
        }
        acks.abort();
        writer.push(&Packet::Disconnect(Default::default()))?;
        writer.flush().await
    }
}
