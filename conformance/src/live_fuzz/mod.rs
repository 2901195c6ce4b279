//! Live fuzzing of any broker (`mqttspec fuzz`, `mqttspec replay`).
//!
//! Each session plays generated and mutated packet sequences from a few clients (`generate`),
//! then a liveness probe checks the broker still works (`session`). A crash, hang or liveness
//! failure is saved as a reproducer (`repro`), then minimized by replaying reduced sessions
//! against a fresh broker. Sessions are a pure function of (seed, session number).

pub mod generate;
pub mod repro;
pub mod session;

pub use repro::{Reproducer, Step};
pub use session::Finding;

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Brings a target back after a finding; returns its (possibly new) address.
pub type RestartFn =
    Box<dyn FnMut() -> Pin<Box<dyn Future<Output = Result<SocketAddr, String>> + Send>> + Send>;

/// The broker under fuzzing, and how to restart it if we can.
pub struct FuzzTarget {
    pub addr: SocketAddr,
    /// How the target is named in reproducers (e.g. `mqtt://127.0.0.1:1883`).
    pub label: String,
    restart: Option<RestartFn>,
}

impl FuzzTarget {
    pub fn new(addr: SocketAddr, label: impl Into<String>) -> Self {
        Self {
            addr,
            label: label.into(),
            restart: None,
        }
    }

    /// Lets findings be minimized even when they leave the broker dead.
    pub fn with_restart(mut self, restart: RestartFn) -> Self {
        self.restart = Some(restart);
        self
    }

    /// Restarts the target; `Ok(false)` when it cannot be restarted.
    pub async fn restart(&mut self) -> Result<bool, String> {
        match &mut self.restart {
            Some(f) => {
                self.addr = f().await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub duration: Duration,
    pub seed: u64,
    pub out_dir: PathBuf,
    /// Stop after this many sessions even if time remains.
    pub max_sessions: Option<u64>,
    /// How long the probe waits for each answer.
    pub probe_timeout: Duration,
    /// Replays allowed while minimizing one finding.
    pub max_minimize_trials: usize,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(60),
            seed: 0,
            out_dir: PathBuf::from("mqttspec-findings"),
            max_sessions: None,
            probe_timeout: Duration::from_secs(3),
            max_minimize_trials: 300,
        }
    }
}

/// Where a run stands, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub sessions: u64,
    pub packets: u64,
    pub findings: usize,
    pub elapsed: Duration,
}

/// A finding and where its reproducers were written.
#[derive(Debug, Clone)]
pub struct SavedFinding {
    pub finding: Finding,
    pub session: u64,
    pub path: PathBuf,
    pub steps: usize,
    /// The minimized reproducer, when minimization was possible.
    pub minimized: Option<(PathBuf, Reproducer)>,
}

#[derive(Debug, Clone)]
pub struct FuzzReport {
    pub progress: Progress,
    pub findings: Vec<SavedFinding>,
    /// Set when the run stopped early because the target died and cannot be restarted.
    pub stopped: Option<String>,
}

/// The steps of session `n` for `seed`.
pub fn session_steps(seed: u64, n: u64) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n);
    generate::session(&mut rng, n)
}

/// Probe numbers are unique within a process, so probes never share client ids or topics.
fn next_probe() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Fuzzes `target` until the duration or session limit; saves and minimizes every finding.
pub async fn run(
    target: &mut FuzzTarget,
    opts: &FuzzOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<FuzzReport, String> {
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|e| format!("{}: {e}", opts.out_dir.display()))?;
    let start = Instant::now();
    let mut p = Progress {
        sessions: 0,
        packets: 0,
        findings: 0,
        elapsed: Duration::ZERO,
    };
    let mut findings = Vec::new();
    let mut stopped = None;
    while start.elapsed() < opts.duration && opts.max_sessions.is_none_or(|m| p.sessions < m) {
        let n = p.sessions;
        let steps = session_steps(opts.seed, n);
        p.packets += session::play(target.addr, &steps).await as u64;
        p.sessions += 1;
        if let Err(finding) = session::probe(target.addr, next_probe(), opts.probe_timeout).await {
            let saved = record(target, opts, n, steps, finding).await?;
            let alive = saved.minimized.is_some() || alive(target, opts).await;
            findings.push(saved);
            p.findings = findings.len();
            if !alive {
                stopped = Some("the target died and cannot be restarted".to_owned());
                break;
            }
        }
        p.elapsed = start.elapsed();
        progress(&p);
    }
    p.elapsed = start.elapsed();
    Ok(FuzzReport {
        progress: p,
        findings,
        stopped,
    })
}

async fn alive(target: &FuzzTarget, opts: &FuzzOptions) -> bool {
    session::probe(target.addr, next_probe(), opts.probe_timeout)
        .await
        .is_ok()
}

/// Saves the finding as found, then minimizes it if the target can be brought back.
async fn record(
    target: &mut FuzzTarget,
    opts: &FuzzOptions,
    session: u64,
    steps: Vec<Step>,
    finding: Finding,
) -> Result<SavedFinding, String> {
    let repro = Reproducer {
        finding: finding.to_string(),
        target: target.label.clone(),
        seed: opts.seed,
        session,
        minimized: false,
        steps,
    };
    let path = opts
        .out_dir
        .join(format!("finding-{}-{session}.toml", opts.seed));
    repro
        .save(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let minimized = match minimize(target, opts, &repro.steps).await {
        Some(steps) => {
            let min = Reproducer {
                minimized: true,
                steps,
                ..repro.clone()
            };
            let min_path = path.with_extension("min.toml");
            min.save(&min_path)
                .map_err(|e| format!("{}: {e}", min_path.display()))?;
            Some((min_path, min))
        }
        None => None,
    };
    // Leave the target healthy for the sessions that follow.
    let _ = target.restart().await;
    Ok(SavedFinding {
        finding,
        session,
        path,
        steps: repro.steps.len(),
        minimized,
    })
}

/// Whether `steps` still break the target. `None` when the answer cannot be trusted: the target
/// is not healthy before the replay and cannot be restarted.
async fn reproduces(target: &mut FuzzTarget, opts: &FuzzOptions, steps: &[Step]) -> Option<bool> {
    let restarted = target.restart().await.ok()?;
    if !restarted && !alive(target, opts).await {
        return None;
    }
    session::play(target.addr, steps).await;
    Some(
        session::probe(target.addr, next_probe(), opts.probe_timeout)
            .await
            .is_err(),
    )
}

/// Delta-debugging: drop chunks of steps, then trim the bytes of each remaining send, keeping
/// every reduction that still reproduces. `None` if the target cannot be brought back to test.
pub async fn minimize(
    target: &mut FuzzTarget,
    opts: &FuzzOptions,
    steps: &[Step],
) -> Option<Vec<Step>> {
    let mut trials = 0;
    let mut current = steps.to_vec();
    if !reproduces(target, opts, &current).await? {
        return None; // Flaky: it does not reproduce from a fresh start.
    }
    let mut chunk = current.len().div_ceil(2);
    while chunk >= 1 && trials < opts.max_minimize_trials {
        let mut i = 0;
        while i < current.len() && trials < opts.max_minimize_trials {
            let mut candidate = current.clone();
            candidate.drain(i..(i + chunk).min(candidate.len()));
            trials += 1;
            if !candidate.is_empty() && reproduces(target, opts, &candidate).await? {
                current = candidate;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    for idx in 0..current.len() {
        let Step::Send { client, .. } = current[idx] else {
            continue;
        };
        let mut bytes = current[idx].bytes();
        // Cut from the end, then from the front, halving the cut while it fails to reproduce.
        for from_front in [false, true] {
            let mut cut = bytes.len() / 2;
            while cut >= 1 && trials < opts.max_minimize_trials {
                let shorter = if from_front {
                    bytes[cut..].to_vec()
                } else {
                    bytes[..bytes.len() - cut].to_vec()
                };
                let mut candidate = current.clone();
                candidate[idx] = Step::send(client, shorter.clone());
                trials += 1;
                if !shorter.is_empty() && reproduces(target, opts, &candidate).await? {
                    bytes = shorter;
                    current = candidate;
                    cut = cut.min(bytes.len() / 2);
                } else {
                    cut /= 2;
                }
            }
        }
    }
    Some(current)
}

/// Replays a reproducer against `target`; the finding if it reproduces.
pub async fn replay(
    target: &FuzzTarget,
    repro: &Reproducer,
    probe_timeout: Duration,
) -> Option<Finding> {
    session::play(target.addr, &repro.steps).await;
    session::probe(target.addr, next_probe(), probe_timeout)
        .await
        .err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_deterministic_and_varied() {
        assert_eq!(session_steps(1, 5), session_steps(1, 5));
        assert_ne!(session_steps(1, 5), session_steps(2, 5));
        let steps: usize = (0..200).map(|n| session_steps(9, n).len()).sum();
        assert!(
            steps > 400,
            "sessions should hold several steps each, got {steps}"
        );
        // Every session opens at least one connection with bytes.
        assert!((0..50).all(|n| matches!(session_steps(3, n)[0], Step::Send { .. })));
    }
}
