//! Runs many scenarios, in parallel, against one running target, and judges each result.
//!
//! Scenarios are independent by construction (unique client ids and topics per run), so they
//! run concurrently up to `jobs` at a time; most of a scenario's time is spent waiting on the
//! broker, so the right number is well above the number of cores.

use crate::expect::ExpectFile;
use crate::interp::{self, RunContext};
use crate::registry::SpecVersion;
use crate::scenario::template::Placeholders;
use crate::scenario::Scenario;
use crate::verdict::{ScenarioResult, Status, Verdict};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// One scenario in one version.
#[derive(Debug, Clone)]
pub struct Job {
    pub scenario: Arc<Scenario>,
    pub version: SpecVersion,
}

/// The jobs for `scenarios` in `versions`, optionally narrowed by `--filter`.
pub fn plan(scenarios: &[Scenario], versions: &[SpecVersion], filter: Option<&str>) -> Vec<Job> {
    let mut jobs = Vec::new();
    for s in scenarios {
        if filter.is_some_and(|f| !s.matches_filter(f)) {
            continue;
        }
        let s = Arc::new(s.clone());
        for &v in versions {
            if s.applies_to(v) {
                jobs.push(Job {
                    scenario: s.clone(),
                    version: v,
                });
            }
        }
    }
    jobs
}

/// How results are judged.
#[derive(Debug, Clone, Default)]
pub struct Judging {
    pub strict: bool,
    pub expect: ExpectFile,
}

/// Unique prefixes for each scenario run of this process: a run id that differs between
/// processes (so leftovers of an earlier run on a long-lived broker, such as retained messages or
/// persistent sessions, are never seen) and a sequence number that differs between runs.
pub struct Prefixes {
    run: String,
    seq: AtomicU64,
}

impl Default for Prefixes {
    fn default() -> Self {
        Self::new()
    }
}

impl Prefixes {
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ (u64::from(std::process::id()) << 32);
        Self {
            run: base36(seed % 36u64.pow(5), 5),
            seq: AtomicU64::new(0),
        }
    }

    /// The next run's placeholders: `{client}` is `ms` + 5 + 4 alphanumerics (11 characters, so a
    /// client name of up to 10 keeps ids within 3.1.1's guaranteed 23), `{topic}` is
    /// `mqttspec/RUN/SEQ`.
    pub fn next(&self) -> Placeholders {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let seq = base36(n % 36u64.pow(4), 4);
        Placeholders {
            client: format!("ms{}{seq}", self.run),
            topic: format!("mqttspec/{}/{seq}", self.run),
        }
    }
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap()
}

/// Runs one job, within its time budget, and judges it.
pub async fn run_job(
    job: &Job,
    ctx: &RunContext,
    judging: &Judging,
    placeholders: Placeholders,
) -> ScenarioResult {
    let s = &job.scenario;
    let started = Instant::now();
    let budget = interp::time_budget(s, job.version, ctx.timeout);
    let outcome = match tokio::time::timeout(budget, interp::run(s, job.version, ctx, placeholders)).await {
        Ok(o) => o,
        Err(_) => interp::Outcome {
            verdict: Verdict::Error,
            message: format!(
                "the scenario exceeded its time budget of {} (a harness bug: every wait is bounded)",
                crate::duration::format(budget)
            ),
            detail: String::new(),
            trace: Default::default(),
        },
    };
    let mut detail = outcome.detail.clone();
    if outcome.verdict != Verdict::Pass && !outcome.trace.events.is_empty() {
        if !detail.is_empty() {
            detail.push_str("\n\n");
        }
        detail.push_str("trace:\n");
        detail.push_str(&outcome.trace.to_string());
    }
    let passed = outcome.verdict == Verdict::Pass;
    let expected = judging.expect.reason(&s.id, job.version, passed);
    ScenarioResult {
        id: s.id.clone(),
        title: s.title.clone(),
        version: job.version,
        level: s.level,
        spec: s
            .spec_ids(job.version)
            .into_iter()
            .map(String::from)
            .collect(),
        verdict: outcome.verdict,
        message: outcome.message,
        detail,
        duration: started.elapsed(),
        status: Status::judge(outcome.verdict, s.level, judging.strict, expected),
    }
}

/// Runs `jobs`, at most `parallel` at a time, calling `on_result` as each one ends. Results come
/// back in the order of `jobs`.
pub async fn run_all(
    jobs: Vec<Job>,
    ctx: Arc<RunContext>,
    judging: Arc<Judging>,
    parallel: usize,
    mut on_result: impl FnMut(&ScenarioResult),
) -> Vec<ScenarioResult> {
    let prefixes = Arc::new(Prefixes::new());
    let gate = Arc::new(Semaphore::new(parallel.max(1)));
    let mut set = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let (ctx, judging, gate, prefixes) =
            (ctx.clone(), judging.clone(), gate.clone(), prefixes.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore never closes");
            (i, run_job(&job, &ctx, &judging, prefixes.next()).await)
        });
    }
    let mut results: Vec<(usize, ScenarioResult)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("a scenario task panicked");
        on_result(&r);
        results.push((i, r));
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The default `--jobs`: scenarios mostly wait, so several per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 8
}

/// The default per-step timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
