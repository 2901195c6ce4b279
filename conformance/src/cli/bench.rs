//! `mqttspec bench`: put a measured load on a broker (default: the reference broker, started as
//! a child process so that its CPU use is measured apart from the generator's).

use super::target::resolve;
use crate::loadgen::{self, LoadSpec};
use mqttspec_codec::{ProtocolVersion, QoS};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// mqtt://host[:port] (default port 1883). Without it, the reference broker is started.
    target: Option<String>,
    #[arg(long, default_value_t = 1)]
    publishers: usize,
    #[arg(long, default_value_t = 1)]
    subscribers: usize,
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Payload bytes per message (at least 16: send time and sequence number).
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// How long to publish, e.g. 10s or 500ms.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse)]
    duration: Duration,
    /// Topics the publishers spread over.
    #[arg(long, default_value_t = 1)]
    topics: usize,
    /// Unacknowledged QoS 1/2 messages per publisher.
    #[arg(long, default_value_t = 64)]
    inflight: usize,
    /// Publish this many messages per second in all, split evenly over the publishers, instead
    /// of as fast as the broker accepts: latency at a load the broker sustains, rather than the
    /// queues a flood builds up.
    #[arg(long, value_name = "MSGS_PER_S", value_parser = positive_rate)]
    rate: Option<f64>,
    #[arg(long, default_value = "3.1.1", value_parser = |s: &str| s.parse::<ProtocolVersion>())]
    protocol: ProtocolVersion,
    /// PID of the target broker, to report its CPU and memory beside the generator's.
    #[arg(long)]
    broker_pid: Option<u32>,
    /// Instead of a message load: open this many idle connections and report memory per connection.
    #[arg(long)]
    idle: Option<usize>,
    /// With --idle: each connection subscribes to a topic of its own (at --qos), as devices
    /// waiting for commands do.
    #[arg(long, requires = "idle")]
    idle_subscribe: bool,
    /// How long idle connections stay open.
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse)]
    hold: Duration,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// The reference broker as a child process on a free loopback port; killed when dropped.
struct ChildBroker(Child);

impl ChildBroker {
    fn start() -> Result<(Self, SocketAddr), String> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let child = Command::new(exe)
            .args(["broker", "--listen", &addr.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the reference broker: {e}"))?;
        let broker = Self(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok((broker, addr));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the reference broker did not start listening within 5 s".into())
    }
}

impl Drop for ChildBroker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "`{s}` is not a positive number of messages per second"
        )),
    }
}

/// A report as pretty JSON or as the console text.
fn render(report: &(impl serde::Serialize + std::fmt::Display), json: bool) -> String {
    if json {
        serde_json::to_string_pretty(report).unwrap_or_default()
    } else {
        report.to_string()
    }
}

pub fn main(args: Args) -> ExitCode {
    let (child, addr, broker_pid) = match &args.target {
        Some(t) => match resolve(t) {
            Ok(addr) => (None, addr, args.broker_pid),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => match ChildBroker::start() {
            Ok((child, addr)) => {
                let pid = child.0.id();
                (Some(child), addr, Some(pid))
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let spec = LoadSpec {
        addr,
        version: args.protocol,
        publishers: args.publishers,
        subscribers: args.subscribers,
        qos: QoS::from_u8(args.qos).unwrap_or_default(),
        payload: args.payload,
        duration: args.duration,
        topics: args.topics,
        inflight: args.inflight,
        rate: args.rate,
        broker_pid,
    };
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let printed = runtime.block_on(async {
        match args.idle {
            Some(n) => loadgen::run_idle(&spec, n, args.idle_subscribe, args.hold)
                .await
                .map(|r| render(&r, args.json)),
            None => loadgen::run(spec).await.map(|r| render(&r, args.json)),
        }
    });
    drop(child);
    match printed {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
