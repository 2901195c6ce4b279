//! `mqttspec broker` as a process: it serves a QoS 1 load on the number of threads asked for.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The broker process, killed when the test ends however it ends.
struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_broker(threads: &str) -> (Broker, SocketAddr) {
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let child = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args([
            "broker",
            "--listen",
            &addr.to_string(),
            "--threads",
            threads,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mqttspec broker");
    let broker = Broker(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the broker never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    (broker, addr)
}

/// The `Threads:` line of /proc/PID/status: the process's thread count.
fn thread_count(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads line")
}

/// A broker on `threads` threads, after it delivered every message of a short QoS 1 load.
fn broker_after_a_qos1_load(threads: &str) -> Broker {
    let (broker, addr) = start_broker(threads);
    let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(["bench", &format!("mqtt://{addr}"), "--qos", "1"])
        .args(["--publishers", "2", "--subscribers", "2"])
        .args(["--duration", "200ms", "--json"])
        .output()
        .expect("mqttspec bench");
    assert!(out.status.success(), "{out:?}");
    let load: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(load["published"].as_u64() > Some(0), "{load}");
    assert_eq!(load["received"], load["expected"], "{load}");
    broker
}

#[test]
fn one_thread_serves_a_qos1_load_on_that_thread_alone() {
    let broker = broker_after_a_qos1_load("1");
    assert_eq!(thread_count(broker.0.id()), 1);
}

#[test]
fn several_threads_serve_the_same_load_on_a_worker_pool() {
    let broker = broker_after_a_qos1_load("3");
    // The main thread blocks on the runtime; the three workers run the tasks.
    assert!(thread_count(broker.0.id()) >= 4);
}

#[test]
fn zero_threads_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(["broker", "--listen", "127.0.0.1:0", "--threads", "0"])
        .output()
        .expect("mqttspec broker");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads"));
}
