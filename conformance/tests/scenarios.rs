//! Every scenario of `scenarios/`, in every version it applies to, as its own test, run against
//! the embedded reference broker (one broker shared by all, as `mqttspec run` does).
//!
//! `cargo test -p mqttspec --test scenarios -- retain` runs the retain ones; a failure prints
//! the failing step, expected and received packets, and the trace of every client.
//! `MQTTSPEC_TEST_TARGET=mqtt://127.0.0.1:1883` runs them against another broker instead; there
//! skips are reported as ignored and SHOULD-level failures are tolerated.
//!
//! Scenarios that need a broker *without* a feature (`lacks = [...]`) run against a second
//! embedded broker configured without QoS 2 and retained messages.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mqttspec::interp::RunContext;
use mqttspec::runner::{self, Judging, Prefixes};
use mqttspec::scenario::load_dir;
use mqttspec::target::{start_limited, wants_limited, Running, Target};
use mqttspec::verdict::{Status, Verdict};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The runtime and the broker, started on the first test that needs them (so `--list` starts
/// nothing).
struct Shared {
    external: Option<Target>,
    state: OnceLock<(tokio::runtime::Runtime, Running, RunContext, Prefixes)>,
    limited: OnceLock<(Running, RunContext)>,
}

impl Shared {
    /// The broker without QoS 2 and retained messages, on the shared runtime.
    fn limited(&self) -> &(Running, RunContext) {
        self.limited.get_or_init(|| {
            let (rt, _, ctx, _) = self.get();
            let (running, profile) = rt
                .block_on(start_limited())
                .expect("limited reference broker");
            let ctx = RunContext {
                addr: running.addr.clone(),
                profile,
                ..ctx.clone()
            };
            (running, ctx)
        })
    }

    fn get(&self) -> &(tokio::runtime::Runtime, Running, RunContext, Prefixes) {
        self.state.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            let target = self.external.clone().unwrap_or(Target::Embedded);
            let running = rt
                .block_on(target.start())
                .unwrap_or_else(|e| panic!("cannot start {target}: {e}"));
            let ctx = RunContext {
                addr: running.addr.clone(),
                timeout: runner::DEFAULT_TIMEOUT,
                username: None,
                password: None,
                profile: Default::default(),
            };
            (rt, running, ctx, Prefixes::new())
        })
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // Scenarios mostly wait on the network: run many at once, whatever the core count.
    args.test_threads.get_or_insert(16);
    let external = std::env::var("MQTTSPEC_TEST_TARGET")
        .ok()
        .map(|t| Target::parse(&t).expect("MQTTSPEC_TEST_TARGET"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let scenarios = match load_dir(&dir) {
        Ok(s) => s,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            let trial = Trial::test("scenario files load", move || Err(text.join("\n").into()));
            libtest_mimic::run(&args, vec![trial]).exit();
        }
    };
    let lenient = external.is_some();
    let shared = Arc::new(Shared {
        external,
        state: OnceLock::new(),
        limited: OnceLock::new(),
    });
    let judging = Arc::new(Judging::default());
    let mut trials = Vec::new();
    for job in runner::plan(&scenarios, &mqttspec::registry::SpecVersion::all(), None) {
        let name = format!("{}@{}", job.scenario.id, job.version);
        let area = job.scenario.area().to_string();
        let (shared, judging) = (shared.clone(), judging.clone());
        trials.push(
            Trial::ignorable_test(name, move || {
                let (rt, _, ctx, prefixes) = shared.get();
                let lacking = wants_limited(&job.scenario.lacks) && !lenient;
                let ctx = if lacking { &shared.limited().1 } else { ctx };
                let r = rt.block_on(runner::run_job(&job, ctx, &judging, prefixes.next()));
                let report = || format!("{}\n{}", r.message, r.detail);
                match (r.verdict, &r.status) {
                    (Verdict::Pass, _) => Ok(Completion::Completed),
                    (Verdict::Skip, _) if lenient => {
                        Ok(Completion::ignored_with(r.message.clone()))
                    }
                    (Verdict::Fail, Status::NonStrict) if lenient => Ok(Completion::Completed),
                    (Verdict::Skip, _) => Err(Failed::from(format!(
                        "skipped against the reference broker, which supports everything: {}",
                        r.message
                    ))),
                    _ => Err(Failed::from(report())),
                }
            })
            .with_kind(area),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
