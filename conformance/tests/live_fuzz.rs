//! Live fuzzing end to end: against the reference broker nothing is found; against a broker that
//! wedges on a byte pattern (a proxy in front of the reference broker), the fuzzer finds the
//! hang, minimizes it to the pattern, and the reproducer replays it.

use mqttspec::live_fuzz::{self, Finding, FuzzOptions, FuzzTarget, RestartFn, Step};
use mqttspec_broker::{server, Config};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// PINGREQ: common in generated sessions, absent from the probe's own traffic.
const PATTERN: &[u8] = &[0xC0, 0x00];

/// A proxy to `backend` that stops forwarding anything, on every connection, once any client
/// has sent `PATTERN`: the "deadlock" this test plants.
async fn wedging_proxy(backend: SocketAddr) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let wedged = Arc::new(AtomicBool::new(false));
    let w = wedged.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(backend).await else {
                continue;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let up = w.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen: Vec<u8> = Vec::new();
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if seen.windows(PATTERN.len()).any(|win| win == PATTERN) {
                        up.store(true, Ordering::SeqCst);
                    }
                    let keep = seen.len().saturating_sub(PATTERN.len() - 1);
                    seen.drain(..keep);
                    if up.load(Ordering::SeqCst) || sw.write_all(&buf[..n]).await.is_err() {
                        continue;
                    }
                }
            });
            let down = w.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if down.load(Ordering::SeqCst) {
                        continue;
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, wedged)
}

/// A hang is "no answer within the probe timeout": 1 s keeps a loaded CI machine from looking hung.
fn options(dir: &str, sessions: u64) -> FuzzOptions {
    FuzzOptions {
        duration: Duration::from_secs(60),
        seed: 1,
        out_dir: std::env::temp_dir().join(format!("mqttspec-{dir}-{}", std::process::id())),
        max_sessions: Some(sessions),
        probe_timeout: Duration::from_millis(1000),
        max_minimize_trials: 200,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_broker_survives_a_short_run() {
    let broker = server::spawn(Config::default()).await.unwrap();
    let mut target = FuzzTarget::new(broker.local_addr(), "embedded");
    let opts = FuzzOptions {
        probe_timeout: Duration::from_secs(3),
        ..options("clean", 150)
    };
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        live_fuzz::run(&mut target, &opts, |_| {}),
    )
    .await
    .expect("fuzzing 150 sessions must end")
    .unwrap();
    assert_eq!(report.progress.sessions, 150);
    assert!(report.progress.packets > 300, "{:?}", report.progress);
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.finding.to_string())
        .collect();
    assert!(found.is_empty(), "the reference broker failed: {found:?}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_minimizes_and_replays_a_planted_hang() {
    let broker = server::spawn(Config::default()).await.unwrap();
    let (proxy, wedged) = wedging_proxy(broker.local_addr()).await;
    let reset = wedged.clone();
    let restart: RestartFn = Box::new(move || {
        reset.store(false, Ordering::SeqCst);
        Box::pin(async move { Ok(proxy) })
    });
    let mut target = FuzzTarget::new(proxy, "wedging proxy").with_restart(restart);
    let opts = options("planted", 60);
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        live_fuzz::run(&mut target, &opts, |_| {}),
    )
    .await
    .expect("fuzzing must end")
    .unwrap();
    let first = report.findings.first().expect("the planted hang is found");
    assert!(
        matches!(first.finding, Finding::Hang(_)),
        "{}",
        first.finding
    );
    assert!(first.path.exists());

    let (min_path, min) = first
        .minimized
        .clone()
        .expect("a restartable target is minimized");
    assert!(min.minimized);
    assert!(
        min.steps.len() < first.steps || first.steps == 1,
        "{} -> {}",
        first.steps,
        min.steps.len()
    );
    let [Step::Send { .. }] = min.steps.as_slice() else {
        panic!("expected one send step, got {:?}", min.steps);
    };
    let bytes = min.steps[0].bytes();
    assert!(bytes.windows(2).any(|w| w == PATTERN), "{bytes:02x?}");
    assert!(bytes.len() <= 4, "minimized to {bytes:02x?}");

    // The saved file replays the hang against a fresh proxy, and not against the broker itself.
    let loaded = live_fuzz::Reproducer::load(&min_path).unwrap();
    wedged.store(false, Ordering::SeqCst);
    let proxied = FuzzTarget::new(proxy, "proxy");
    let again = live_fuzz::replay(&proxied, &loaded, Duration::from_millis(1000)).await;
    assert!(matches!(again, Some(Finding::Hang(_))), "{again:?}");
    wedged.store(false, Ordering::SeqCst);
    let direct = FuzzTarget::new(broker.local_addr(), "broker");
    assert_eq!(
        live_fuzz::replay(&direct, &loaded, Duration::from_secs(2)).await,
        None
    );
    let _ = std::fs::remove_dir_all(&opts.out_dir);
    broker.shutdown().await;
}
