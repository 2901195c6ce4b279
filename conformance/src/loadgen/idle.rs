//! Many idle connections at once: what each costs the broker in memory, bare or each subscribed
//! to a topic of its own (as devices waiting for commands are).

use super::conn::open;
use super::subscriber::Subscriber;
use super::{cpu, IdleReport, LoadError, LoadSpec};
use std::any::Any;
use std::time::Duration;
use tokio::task::JoinSet;

/// Connections opened concurrently while ramping up.
const RAMP: usize = 200;

pub(crate) async fn run(
    spec: &LoadSpec,
    count: usize,
    subscribe: bool,
    hold: Duration,
) -> Result<IdleReport, LoadError> {
    let before = spec.broker_pid.and_then(cpu::rss_bytes);
    let mut open_conns = Vec::with_capacity(count);
    let mut next = 0;
    while next < count {
        let mut batch = JoinSet::new();
        for i in next..(next + RAMP).min(count) {
            let spec = spec.clone();
            batch.spawn(async move {
                let id = format!("bench-idle-{}-{i}", std::process::id());
                // Only held open until the measurement ends.
                let held: Box<dyn Any + Send> = if subscribe {
                    let topic = format!("mqttspec/bench/idle/{id}");
                    Box::new(Subscriber::connect(&spec, id, topic).await?)
                } else {
                    Box::new(open(spec.addr, spec.version, &id, 0).await?)
                };
                Ok(held)
            });
        }
        next = (next + RAMP).min(count);
        while let Some(joined) = batch.join_next().await {
            match joined {
                Ok(Ok(conn)) => open_conns.push(conn),
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(LoadError::Protocol(format!("task failed: {e}"))),
            }
        }
    }
    // Let the broker finish its per-connection set-up before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = spec.broker_pid.and_then(cpu::rss_bytes);
    tokio::time::sleep(hold).await;
    let connections = open_conns.len();
    drop(open_conns);
    Ok(IdleReport {
        connections,
        subscribed: subscribe,
        broker_rss_before: before,
        broker_rss_after: after,
        bytes_per_connection: match (before, after) {
            (Some(b), Some(a)) if connections > 0 => {
                Some(a.saturating_sub(b) as f64 / connections as f64)
            }
            _ => None,
        },
    })
}
