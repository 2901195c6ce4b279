//! The load generator behind `mqttspec bench`: publishers and subscribers written on our own codec
//! and tokio, measuring what a broker sustains (messages/s in and out, latency, errors) and what
//! the generator itself costs, so that a result shows when the generator, not the broker, limits.
//!
//! - `conn`: connecting and framing (CONNECT/CONNACK, reading packets, writing batches).
//! - `publisher` / `subscriber`: the two roles; publishers stamp each payload with its send time.
//! - `pace`: an even publishing rate, for latency below saturation.
//! - `idle`: many idle connections, for memory per connection.
//! - `cpu`: CPU and memory readings from /proc.
//! - `report`: the result, as a table or JSON.

mod conn;
pub mod cpu;
mod idle;
mod pace;
mod publisher;
pub mod report;
mod subscriber;

pub use report::{IdleReport, LoadReport};

use mqttspec_codec::{ProtocolVersion, QoS};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What load to put on which broker.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    pub version: ProtocolVersion,
    pub publishers: usize,
    pub subscribers: usize,
    pub qos: QoS,
    /// Payload bytes per message; at least 16 (send time and sequence number).
    pub payload: usize,
    pub duration: Duration,
    /// Publishers spread over this many topics; every subscriber subscribes to all of them.
    pub topics: usize,
    /// Unacknowledged QoS 1/2 messages each publisher may have in flight.
    pub inflight: usize,
    /// Messages per second over all publishers, split evenly; `None`: as fast as the broker
    /// accepts (saturation).
    pub rate: Option<f64>,
    /// A broker process to read CPU use from (/proc/PID), when it runs on this machine.
    pub broker_pid: Option<u32>,
}

/// Errors that stop a run before it measures anything.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the broker refused {client}: {detail}")]
    Refused { client: String, detail: String },
    #[error("{0}")]
    Protocol(String),
    #[error("timed out {0}")]
    Timeout(&'static str),
}

/// Counters shared by every task of a run.
#[derive(Default)]
pub(crate) struct Counters {
    pub published: AtomicU64,
    pub acknowledged: AtomicU64,
    pub received: AtomicU64,
    pub errors: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The smallest payload: 8 bytes of send time, 8 of sequence number.
pub const MIN_PAYLOAD: usize = 16;

/// Runs publishers and subscribers for `spec.duration` and reports what happened.
pub async fn run(spec: LoadSpec) -> Result<LoadReport, LoadError> {
    let run_id = format!(
        "{:x}",
        std::process::id() ^ (Instant::now().elapsed().as_nanos() as u32)
    );
    let topic_prefix = format!("mqttspec-bench/{run_id}");
    let counters = Arc::new(Counters::default());
    let epoch = Instant::now();

    // Subscribers first, each waiting for its SUBACK, so no message is published before anyone listens.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut subs = Vec::new();
    for i in 0..spec.subscribers {
        let sub = subscriber::Subscriber::connect(
            &spec,
            format!("bench-{run_id}-s{i}"),
            format!("{topic_prefix}/+"),
        )
        .await?;
        subs.push(tokio::spawn(sub.run(
            epoch,
            counters.clone(),
            stop_rx.clone(),
        )));
    }

    let cpu_before = cpu::Sample::take(spec.broker_pid);
    let started = Instant::now();
    let deadline = started + spec.duration;
    let mut pubs = Vec::new();
    for i in 0..spec.publishers {
        let publisher = publisher::Publisher::connect(
            &spec,
            format!("bench-{run_id}-p{i}"),
            format!("{topic_prefix}/{}", i % spec.topics.max(1)),
        )
        .await?;
        let pace = pace::Pace::new(
            Instant::now(),
            spec.rate.map(|r| r / spec.publishers.max(1) as f64),
        );
        pubs.push(tokio::spawn(publisher.run(
            epoch,
            deadline,
            pace,
            counters.clone(),
        )));
    }
    for p in pubs {
        match p.await {
            Ok(Ok(())) => {}
            _ => Counters::add(&counters.errors, 1),
        }
    }
    let publish_elapsed = started.elapsed();

    // Let subscribers drain what is still in flight: until the expected count arrives, the flow
    // stops for 500 ms, or 5 s pass. Polled finely, and the out rate taken over the time until
    // the last message came: a coarse poll would add its period to the delivery time.
    let expected = counters.published.load(Ordering::Relaxed) * spec.subscribers as u64;
    let drain_deadline = Instant::now() + Duration::from_secs(5);
    let mut last = counters.received.load(Ordering::Relaxed);
    let mut last_change = Instant::now();
    while last < expected {
        let now = Instant::now();
        if now >= drain_deadline || now - last_change >= Duration::from_millis(500) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let received = counters.received.load(Ordering::Relaxed);
        if received != last {
            last = received;
            last_change = Instant::now();
        }
    }
    let wall = last_change - started;
    let cpu_after = cpu::Sample::take(spec.broker_pid);
    let _ = stop_tx.send(true);
    let mut latency = report::new_histogram();
    for s in subs {
        match s.await {
            Ok(Ok(h)) => {
                let _ = latency.add(&h);
            }
            _ => Counters::add(&counters.errors, 1),
        }
    }
    Ok(LoadReport::new(
        &spec,
        &counters,
        publish_elapsed,
        wall,
        &latency,
        cpu_before.usage_until(&cpu_after),
    ))
}

/// Opens `count` idle connections and reports the broker's memory per connection.
pub async fn run_idle(
    spec: &LoadSpec,
    count: usize,
    subscribe: bool,
    hold: Duration,
) -> Result<IdleReport, LoadError> {
    idle::run(spec, count, subscribe, hold).await
}
