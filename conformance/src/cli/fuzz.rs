//! `mqttspec fuzz`: live-fuzz a broker (default: the embedded reference broker), saving and
//! minimizing a reproducer for every crash, hang or liveness failure.

use super::target::{resolve_fuzz_target, TargetArg};
use crate::live_fuzz::{self, FuzzOptions};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// mqtt://host[:port]; without it, the reference broker runs in-process (restarted after
    /// each finding, so findings can be minimized).
    target: Option<String>,
    /// How long to fuzz, e.g. 30s or 10m.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse)]
    duration: Duration,
    /// Seed of the session generator: the same seed plays the same sessions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many sessions.
    #[arg(long)]
    sessions: Option<u64>,
    /// Folder for reproducers.
    #[arg(long, default_value = "mqttspec-findings")]
    out: PathBuf,
    /// How long the liveness probe waits for each answer.
    #[arg(long, default_value = "3s", value_parser = crate::duration::parse)]
    probe_timeout: Duration,
    /// Shell command that restarts an external broker after a finding (enables minimization of
    /// findings that kill it).
    #[arg(long)]
    restart: Option<String>,
}

pub fn main(args: Args) -> ExitCode {
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let target = TargetArg {
            target: args.target.clone(),
            restart: args.restart.clone(),
        };
        let (mut target, _embedded) = match resolve_fuzz_target(target).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let opts = FuzzOptions {
            duration: args.duration,
            seed: args.seed,
            out_dir: args.out.clone(),
            max_sessions: args.sessions,
            probe_timeout: args.probe_timeout,
            ..FuzzOptions::default()
        };
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        eprintln!("fuzzing {} with seed {}", target.label, args.seed);
        let report = live_fuzz::run(&mut target, &opts, |p| {
            let rate = p.packets as f64 / p.elapsed.as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} sessions, {rate:.0} packets/s, {} findings",
                p.sessions, p.findings
            ));
        })
        .await;
        bar.finish_and_clear();
        match report {
            Ok(r) => {
                let p = r.progress;
                println!(
                    "{} sessions, {} packets in {:.1} s ({:.0} packets/s), {} findings",
                    p.sessions,
                    p.packets,
                    p.elapsed.as_secs_f64(),
                    p.packets as f64 / p.elapsed.as_secs_f64().max(1e-3),
                    r.findings.len()
                );
                for f in &r.findings {
                    println!("  session {}: {}", f.session, f.finding);
                    println!("    reproducer: {} ({} steps)", f.path.display(), f.steps);
                    match &f.minimized {
                        Some((path, min)) => println!(
                            "    minimized:  {} ({} steps)",
                            path.display(),
                            min.steps.len()
                        ),
                        None => println!("    not minimized: it does not reproduce from a fresh start, or the target cannot be restarted"),
                    }
                }
                if let Some(why) = r.stopped {
                    println!("stopped early: {why}");
                }
                if r.findings.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    })
}
