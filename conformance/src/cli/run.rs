//! `mqttspec run`: runs the scenarios against a broker and reports.
//!
//! Exit codes: 0 when nothing unexpected happened, 1 when something did (a MUST failure, an
//! error, or an expected failure that now passes), 2 for usage and configuration errors.

use crate::expect::ExpectFile;
use crate::interp::RunContext;
use crate::profile::Profile;
use crate::registry::SpecVersion;
use crate::report;
use crate::runner::{self, Judging};
use crate::scenario::load::load_all;
use crate::target::Target;
use crate::verdict::Summary;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The broker: mqtt://HOST[:PORT] (default port 1883). Default: the embedded reference
    /// broker, started in-process on 127.0.0.1.
    pub target: Option<String>,
    /// Protocol versions to run: 3.1.1, 5.0 or all.
    #[arg(long, default_value = "all")]
    pub protocol: String,
    /// Run only scenarios whose id, area or statement ID contains TEXT (e.g. retain, MQTT-3.3.1).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Scenarios run at the same time (default: 8 per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Default bound of every wait of a step (e.g. 3s, 500ms).
    #[arg(long, value_name = "DUR", default_value = "3s", value_parser = crate::duration::parse)]
    pub timeout: Duration,
    /// User name sent in every CONNECT that does not set its own.
    #[arg(long)]
    pub username: Option<String>,
    /// Password sent in every CONNECT that does not set its own.
    #[arg(long)]
    pub password: Option<String>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Expected failures of this broker (TOML: [[fail]] id, versions, spec, reason).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// What the broker supports (TOML: [capabilities] name = false); others are skipped.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Count SHOULD- and MAY-level failures as failures.
    #[arg(long)]
    pub strict: bool,
    /// Also load scenarios from DIR (AREA/NAME.toml); same ids replace built-in ones.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// List passing and skipped scenarios too.
    #[arg(long, short)]
    pub verbose: bool,
}

/// The versions `--protocol` names.
pub fn parse_protocols(text: &str) -> Result<Vec<SpecVersion>, String> {
    if text == "all" {
        return Ok(SpecVersion::all().to_vec());
    }
    match text {
        "3.1.1" => Ok(vec![SpecVersion::V3_1_1]),
        "5.0" | "5" => Ok(vec![SpecVersion::V5_0]),
        other => Err(format!("--protocol {other:?}: use 3.1.1, 5.0 or all")),
    }
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mqttspec run: {message}");
    ExitCode::from(2)
}

pub fn main(args: Args) -> ExitCode {
    let versions = match parse_protocols(&args.protocol) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let target = match &args.target {
        Some(t) => match Target::parse(t) {
            Ok(t) => t,
            Err(e) => return usage(e),
        },
        None => Target::Embedded,
    };
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return usage(format!("{} scenario file(s) do not load", errors.len()));
        }
    };
    let expect = match &args.expect {
        Some(p) => match ExpectFile::load(p) {
            Ok(f) => f,
            Err(e) => return usage(e),
        },
        None => ExpectFile::default(),
    };
    let profile = match &args.profile {
        Some(p) => match Profile::load(p) {
            Ok(f) => f,
            Err(e) => return usage(e),
        },
        None => Profile::default(),
    };
    let jobs = runner::plan(&scenarios, &versions, args.filter.as_deref());
    if jobs.is_empty() {
        return usage(match &args.filter {
            Some(f) => format!("no scenario matches --filter {f:?}"),
            None => "no scenarios to run".to_string(),
        });
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return usage(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(run(args, target, jobs, expect, profile))
}

async fn run(
    args: Args,
    target: Target,
    jobs: Vec<runner::Job>,
    expect: ExpectFile,
    profile: Profile,
) -> ExitCode {
    let running = match target.start().await {
        Ok(r) => r,
        Err(e) => return usage(format!("cannot start {target}: {e}")),
    };
    let shown = match &target {
        Target::Embedded => format!("{target} (mqtt://{})", running.addr),
        t => t.to_string(),
    };
    let ctx = Arc::new(RunContext {
        addr: running.addr.clone(),
        timeout: args.timeout,
        username: args.username.clone(),
        password: args.password.clone(),
        profile,
    });
    let ran: Vec<(String, SpecVersion)> = jobs
        .iter()
        .map(|j| (j.scenario.id.clone(), j.version))
        .collect();
    let judging = Arc::new(Judging {
        strict: args.strict,
        expect,
    });
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let parallel = args.jobs.unwrap_or_else(runner::default_jobs);
    let started = std::time::Instant::now();
    let on_result = |r: &crate::verdict::ScenarioResult| {
        bar.inc(1);
        if r.status.is_unexpected() {
            bar.set_message(format!("{} unexpected", bar.position()));
        }
    };
    // Against the embedded broker, scenarios about a missing feature run on a second one
    // without it, so the main job skips nothing.
    let (limited_jobs, jobs): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|j| {
        target == Target::Embedded && crate::target::wants_limited(&j.scenario.lacks)
    });
    let mut results =
        runner::run_all(jobs, ctx.clone(), judging.clone(), parallel, on_result).await;
    if !limited_jobs.is_empty() {
        match crate::target::start_limited().await {
            Ok((limited, profile)) => {
                let ctx = Arc::new(RunContext {
                    addr: limited.addr.clone(),
                    profile,
                    ..(*ctx).clone()
                });
                results.extend(
                    runner::run_all(limited_jobs, ctx, judging.clone(), parallel, on_result).await,
                );
                limited.stop().await;
            }
            Err(e) => return usage(format!("cannot start the limited embedded broker: {e}")),
        }
    }
    bar.finish_and_clear();
    let wall = started.elapsed();
    running.stop().await;

    let notes: Vec<String> = judging
        .expect
        .unused(&ran)
        .iter()
        .map(|e| {
            format!(
                "expected-failure entry {:?} matches no scenario of this run",
                e.id
            )
        })
        .collect();
    print!(
        "{}",
        report::console::render(&shown, &results, &notes, args.verbose, wall)
    );
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, report::junit::render(&shown, &results)) {
            return usage(format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::json::render(&shown, &results, wall))
            .expect("JSON serializes");
        if let Err(e) = std::fs::write(path, text + "\n") {
            return usage(format!("cannot write {}: {e}", path.display()));
        }
    }
    if Summary::of(&results).unexpected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
