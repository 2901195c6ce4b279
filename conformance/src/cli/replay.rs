//! `mqttspec replay FILE [TARGET]`: play a fuzzing reproducer against a broker and say whether
//! the finding reproduces (exit 1) or not (exit 0).

use super::target::{resolve_fuzz_target, TargetArg};
use crate::live_fuzz::{self, Reproducer};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// A reproducer written by `mqttspec fuzz`.
    file: PathBuf,
    /// mqtt://host[:port]; without it, a fresh embedded reference broker.
    target: Option<String>,
    /// How long the liveness probe waits for each answer.
    #[arg(long, default_value = "3s", value_parser = crate::duration::parse)]
    probe_timeout: Duration,
}

pub fn main(args: Args) -> ExitCode {
    let repro = match Reproducer::load(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let target = TargetArg {
            target: args.target.clone(),
            restart: None,
        };
        let (target, _embedded) = match resolve_fuzz_target(target).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        println!(
            "replaying {} ({} steps, originally: {}) against {}",
            args.file.display(),
            repro.steps.len(),
            repro.finding,
            target.label
        );
        match live_fuzz::replay(&target, &repro, args.probe_timeout).await {
            Some(finding) => {
                println!("reproduced: {finding}");
                ExitCode::FAILURE
            }
            None => {
                println!("did not reproduce: the broker passed the liveness probe");
                ExitCode::SUCCESS
            }
        }
    })
}
