//! Playing a case against a broker and comparing what each client received with the model.

use super::client::{Connection, Log, ANSWER_TIMEOUT};
use super::predict::Model;
use super::{ModelError, ModelTarget, Op, CLIENTS, FILTERS, TOPICS};
use bytes::Bytes;
use mqttspec_codec::{
    Connect, Disconnect, Packet, Properties, PubAck, Publish, QoS, Subscribe, Subscription,
    Unsubscribe,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long, after every required delivery arrived, the check waits for forbidden extras.
const SETTLE: Duration = Duration::from_millis(100);

/// One client: its connection (if any) and its log, which outlives connections like a session.
struct Client {
    conn: Option<Connection>,
    log: Arc<Mutex<Log>>,
    next_packet_id: u16,
}

impl Client {
    fn packet_id(&mut self) -> u16 {
        self.next_packet_id = self.next_packet_id.wrapping_add(1).max(1);
        self.next_packet_id
    }

    fn conn(&mut self) -> Result<&mut Connection, ModelError> {
        self.conn
            .as_mut()
            .ok_or_else(|| ModelError::Harness("operation on a closed connection".into()))
    }
}

/// Runs one case against the target; `Err` describes the first disagreement with the model.
pub async fn run_case(target: &ModelTarget, ops: &[Op]) -> Result<(), ModelError> {
    static CASE: AtomicU64 = AtomicU64::new(0);
    let prefix = format!(
        "mqttspec-model/{}-{}",
        std::process::id(),
        CASE.fetch_add(1, Ordering::Relaxed)
    );
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|_| Client {
            conn: None,
            log: Arc::default(),
            next_packet_id: 0,
        })
        .collect();
    let mut model = Model::new();
    let result = play(target, &prefix, &mut clients, &mut model, ops).await;
    for c in &mut clients {
        if let Some(conn) = c.conn.take() {
            conn.drop_now().await;
        }
    }
    result
}

async fn play(
    target: &ModelTarget,
    prefix: &str,
    clients: &mut [Client],
    model: &mut Model,
    ops: &[Op],
) -> Result<(), ModelError> {
    for (step, op) in ops.iter().enumerate() {
        if !model.applies(op) {
            continue;
        }
        let message = model.next_message;
        let outcome = model.apply(op);
        execute(
            target,
            prefix,
            clients,
            op,
            message,
            outcome.map(|o| o.session_present),
        )
        .await
        .map_err(|e| match e {
            ModelError::Broker(m) => ModelError::Broker(format!("step {} ({op:?}): {m}", step + 1)),
            other => other,
        })?;
    }
    // Reconnect every persistent session that is away, so its queued messages arrive.
    for client in 0..CLIENTS {
        let c = &model.clients[client];
        if !c.connected && c.has_session && c.persistent {
            let op = Op::Connect {
                client,
                clean: false,
            };
            let outcome = model.apply(&op);
            execute(
                target,
                prefix,
                clients,
                &op,
                0,
                outcome.map(|o| o.session_present),
            )
            .await
            .map_err(|e| ModelError::Broker(format!("final reconnect of client {client}: {e}")))?;
        }
    }
    check_deliveries(clients, model).await?;
    check_retained(target, prefix, model).await
}

fn topic(prefix: &str, t: usize) -> String {
    format!("{prefix}/{}", TOPICS[t])
}

fn filter(prefix: &str, f: usize) -> String {
    format!("{prefix}/{}", FILTERS[f])
}

async fn execute(
    target: &ModelTarget,
    prefix: &str,
    clients: &mut [Client],
    op: &Op,
    message: u32,
    session_present: Option<bool>,
) -> Result<(), ModelError> {
    let v5 = target.version.is_v5();
    match *op {
        Op::Connect { client, clean } => {
            let c = &mut clients[client];
            let mut conn = Connection::open(target.addr, target.version, c.log.clone()).await?;
            let properties = Properties {
                session_expiry_interval: (v5 && !clean).then_some(u32::MAX),
                ..Properties::default()
            };
            conn.send(&Packet::from(Connect {
                protocol: target.version,
                clean_start: clean,
                keep_alive: 0,
                properties: properties.into(),
                client_id: format!("{}-c{client}", prefix.replace('/', "-")).into(),
                ..Connect::default()
            }))
            .await?;
            match conn.next("CONNACK").await? {
                Packet::Connack(a) if a.reason_code.0 == 0 => {
                    if Some(a.session_present) != session_present {
                        return Err(ModelError::Broker(format!(
                            "CONNACK session present {} where the model expects {:?}",
                            a.session_present, session_present
                        )));
                    }
                }
                other => {
                    return Err(ModelError::Broker(format!(
                        "CONNECT answered with {other:?}"
                    )))
                }
            }
            if clean {
                if let Ok(mut l) = c.log.lock() {
                    l.awaiting_release.clear();
                }
            }
            c.conn = Some(conn);
        }
        Op::Subscribe {
            client,
            filter: f,
            qos,
        } => {
            let c = &mut clients[client];
            let pid = c.packet_id();
            let conn = c.conn()?;
            conn.send(&Packet::Subscribe(Subscribe {
                packet_id: pid,
                properties: Default::default(),
                filters: vec![Subscription::new(filter(prefix, f), qos)],
            }))
            .await?;
            match conn.next("SUBACK").await? {
                Packet::Suback(s)
                    if s.packet_id == pid
                        && s.reason_codes == [mqttspec_codec::ReasonCode(qos as u8)] => {}
                other => {
                    return Err(ModelError::Broker(format!(
                        "SUBSCRIBE answered with {other:?}"
                    )))
                }
            }
        }
        Op::Unsubscribe { client, filter: f } => {
            let c = &mut clients[client];
            let pid = c.packet_id();
            let conn = c.conn()?;
            conn.send(&Packet::Unsubscribe(Unsubscribe {
                packet_id: pid,
                properties: Default::default(),
                filters: vec![filter(prefix, f).into()],
            }))
            .await?;
            match conn.next("UNSUBACK").await? {
                Packet::Unsuback(u) if u.packet_id == pid => {}
                other => {
                    return Err(ModelError::Broker(format!(
                        "UNSUBSCRIBE answered with {other:?}"
                    )))
                }
            }
        }
        Op::Publish {
            client,
            topic: t,
            qos,
            retain,
            empty,
        } => {
            let c = &mut clients[client];
            let pid = (qos != QoS::AtMostOnce).then(|| c.packet_id());
            let conn = c.conn()?;
            conn.send(&Packet::Publish(Publish {
                qos,
                retain,
                topic: topic(prefix, t).into(),
                packet_id: pid,
                payload: if empty {
                    Bytes::new()
                } else {
                    Bytes::from(format!("m{message}"))
                },
                ..Publish::default()
            }))
            .await?;
            match (qos, pid) {
                (QoS::AtLeastOnce, Some(pid)) => match conn.next("PUBACK").await? {
                    Packet::Puback(a) if a.packet_id == pid && !a.reason_code.is_error() => {}
                    other => {
                        return Err(ModelError::Broker(format!(
                            "QoS 1 PUBLISH answered with {other:?}"
                        )))
                    }
                },
                (QoS::ExactlyOnce, Some(pid)) => {
                    match conn.next("PUBREC").await? {
                        Packet::Pubrec(a) if a.packet_id == pid && !a.reason_code.is_error() => {}
                        other => {
                            return Err(ModelError::Broker(format!(
                                "QoS 2 PUBLISH answered with {other:?}"
                            )))
                        }
                    }
                    conn.send(&Packet::Pubrel(PubAck::new(pid))).await?;
                    match conn.next("PUBCOMP").await? {
                        Packet::Pubcomp(a) if a.packet_id == pid => {}
                        other => {
                            return Err(ModelError::Broker(format!(
                                "PUBREL answered with {other:?}"
                            )))
                        }
                    }
                }
                _ => {
                    // A ping round trip proves the broker has routed the QoS 0 message before
                    // the next operation runs.
                    conn.send(&Packet::Pingreq).await?;
                    match conn.next("PINGRESP").await? {
                        Packet::Pingresp => {}
                        other => {
                            return Err(ModelError::Broker(format!(
                                "PINGREQ answered with {other:?}"
                            )))
                        }
                    }
                }
            }
        }
        Op::Disconnect { client } => {
            if let Some(conn) = clients[client].conn.take() {
                conn.send(&Packet::Disconnect(Disconnect::default()))
                    .await?;
                conn.drop_now().await;
            }
        }
        Op::Drop { client } => {
            if let Some(conn) = clients[client].conn.take() {
                conn.drop_now().await;
            }
        }
    }
    Ok(())
}

/// Every client got each message a number of times within the model's range.
async fn check_deliveries(clients: &[Client], model: &Model) -> Result<(), ModelError> {
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    let short = || {
        (0..CLIENTS).find_map(|client| {
            let log = clients[client].log.lock().ok()?;
            (0..model.next_message).find_map(|m| {
                let want = model.expected(client, m).min;
                let got = log.counts.get(&m).copied().unwrap_or(0);
                (got < want).then(|| format!("client {client} received message m{m} {got} times, at least {want} required"))
            })
        })
    };
    while short().is_some() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Some(missing) = short() {
        return Err(ModelError::Broker(missing));
    }
    tokio::time::sleep(SETTLE).await;
    for (client, c) in clients.iter().enumerate() {
        let log = c
            .log
            .lock()
            .map_err(|_| ModelError::Harness("log poisoned".into()))?;
        if let Some(stray) = log.strays.first() {
            return Err(ModelError::Broker(format!("client {client}: {stray}")));
        }
        for (&m, &got) in &log.counts {
            let r = model.expected(client, m);
            if r.max.is_some_and(|max| got > max) {
                return Err(ModelError::Broker(format!(
                    "client {client} received message m{m} {got} times, at most {} allowed",
                    r.max.unwrap_or(0)
                )));
            }
        }
    }
    Ok(())
}

/// A fresh subscriber to everything receives exactly the retained messages the model holds.
async fn check_retained(
    target: &ModelTarget,
    prefix: &str,
    model: &Model,
) -> Result<(), ModelError> {
    let log: Arc<Mutex<Log>> = Arc::default();
    let mut conn = Connection::open(target.addr, target.version, log.clone()).await?;
    conn.send(&Packet::from(Connect {
        protocol: target.version,
        clean_start: true,
        keep_alive: 0,
        client_id: format!("{}-retained", prefix.replace('/', "-")).into(),
        ..Connect::default()
    }))
    .await?;
    let _ = conn.next("CONNACK").await?;
    conn.send(&Packet::Subscribe(Subscribe {
        packet_id: 1,
        properties: Default::default(),
        filters: vec![Subscription::new(format!("{prefix}/#"), QoS::ExactlyOnce)],
    }))
    .await?;
    let _ = conn.next("SUBACK").await?;
    let want: Vec<u32> = model.retained.values().map(|(m, _)| *m).collect();
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    let complete = || {
        log.lock()
            .is_ok_and(|l| want.iter().all(|m| l.counts.contains_key(m)))
    };
    while !complete() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(SETTLE).await;
    conn.drop_now().await;
    let l = log
        .lock()
        .map_err(|_| ModelError::Harness("log poisoned".into()))?;
    let got: Vec<u32> = l.counts.keys().copied().collect();
    let mut want = want;
    want.sort_unstable(); // retained messages of different topics arrive in any order
    if got != want {
        return Err(ModelError::Broker(format!(
            "a new subscriber got retained messages {got:?}, the model holds {want:?}"
        )));
    }
    if let Some((m, _)) = l.retained_flags.iter().find(|(_, r)| !**r) {
        return Err(ModelError::Broker(format!(
            "retained message m{m} arrived with RETAIN 0"
        )));
    }
    Ok(())
}
