//! The result of a load run, for people (a table) and for scripts (JSON).

use super::cpu::CpuUsage;
use super::{Counters, LoadSpec};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A latency histogram in nanoseconds, 1 ns to 100 s at 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("constant bounds are valid")
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub target: String,
    pub protocol: String,
    pub publishers: usize,
    pub subscribers: usize,
    pub qos: u8,
    pub payload_bytes: usize,
    pub duration_s: f64,
    /// The rate asked for (`--rate`), messages/s over all publishers; `None`: saturation.
    pub rate_per_s: Option<f64>,
    pub published: u64,
    pub acknowledged: u64,
    /// Messages the subscribers should have received: published x subscribers.
    pub expected: u64,
    pub received: u64,
    pub messages_in_per_s: f64,
    pub messages_out_per_s: f64,
    pub latency: Option<Latency>,
    pub errors: u64,
    pub cpu: CpuUsage,
}

impl LoadReport {
    pub(crate) fn new(
        spec: &LoadSpec,
        counters: &Counters,
        publishing: Duration,
        wall: Duration,
        latency: &Histogram<u64>,
        cpu: CpuUsage,
    ) -> Self {
        let published = counters.published.load(Ordering::Relaxed);
        let received = counters.received.load(Ordering::Relaxed);
        let us = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        Self {
            target: spec.addr.to_string(),
            protocol: spec.version.to_string(),
            publishers: spec.publishers,
            subscribers: spec.subscribers,
            qos: spec.qos as u8,
            payload_bytes: spec.payload.max(super::MIN_PAYLOAD),
            duration_s: publishing.as_secs_f64(),
            rate_per_s: spec.rate,
            published,
            acknowledged: counters.acknowledged.load(Ordering::Relaxed),
            expected: published * spec.subscribers as u64,
            received,
            messages_in_per_s: published as f64 / publishing.as_secs_f64().max(1e-9),
            messages_out_per_s: received as f64 / wall.as_secs_f64().max(1e-9),
            latency: (!latency.is_empty()).then(|| Latency {
                p50_us: us(0.5),
                p99_us: us(0.99),
                p999_us: us(0.999),
                max_us: latency.max() as f64 / 1000.0,
            }),
            errors: counters.errors.load(Ordering::Relaxed),
            cpu,
        }
    }
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.0}%"))
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "target {} (MQTT {}), {} publisher(s) -> {} subscriber(s), QoS {}, {} B payload, {:.1} s",
            self.target,
            self.protocol,
            self.publishers,
            self.subscribers,
            self.qos,
            self.payload_bytes,
            self.duration_s
        )?;
        if let Some(rate) = self.rate_per_s {
            writeln!(f, "  paced at {rate:.0} msg/s in all")?;
        }
        writeln!(
            f,
            "  in:  {:>12.0} msg/s  ({} published, {} acknowledged)",
            self.messages_in_per_s, self.published, self.acknowledged
        )?;
        writeln!(
            f,
            "  out: {:>12.0} msg/s  ({} of {} expected received)",
            self.messages_out_per_s, self.received, self.expected
        )?;
        if let Some(l) = &self.latency {
            writeln!(
                f,
                "  latency: p50 {:.0} us, p99 {:.0} us, p99.9 {:.0} us, max {:.0} us",
                l.p50_us, l.p99_us, l.p999_us, l.max_us
            )?;
        }
        write!(
            f,
            "  errors: {}   cpu: generator {}, broker {}, stolen by the host {}",
            self.errors,
            percent(self.cpu.generator_percent),
            percent(self.cpu.broker_percent),
            percent(self.cpu.steal_percent)
        )?;
        if self
            .cpu
            .steal_percent
            .is_some_and(|s| s >= STEAL_WARNING_PERCENT)
        {
            write!(
                f,
                "\n  warning: the hypervisor took {} of this machine's CPU during the run; \
                 its figures are not comparable with another run's",
                percent(self.cpu.steal_percent)
            )?;
        }
        Ok(())
    }
}

/// Steal time above which the console report warns that the run is not comparable.
const STEAL_WARNING_PERCENT: f64 = 5.0;

/// Memory cost of idle connections.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub connections: usize,
    /// Each connection subscribed to a topic of its own.
    pub subscribed: bool,
    pub broker_rss_before: Option<u64>,
    pub broker_rss_after: Option<u64>,
    pub bytes_per_connection: Option<f64>,
}

impl fmt::Display for IdleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.subscribed {
            ", each subscribed to a topic of its own"
        } else {
            ""
        };
        write!(f, "{} idle connections open{how}", self.connections)?;
        match (
            self.broker_rss_before,
            self.broker_rss_after,
            self.bytes_per_connection,
        ) {
            (Some(b), Some(a), Some(per)) => write!(
                f,
                "; broker RSS {:.1} MiB -> {:.1} MiB, {:.0} bytes per connection",
                b as f64 / 1048576.0,
                a as f64 / 1048576.0,
                per
            ),
            _ => write!(f, "; broker memory unknown (give --broker-pid)"),
        }
    }
}
