//! `mqttspec check-model [TARGET]`: random operation sequences against a broker, checked
//! against a model of what MQTT requires; a failure is shrunk and written as a scenario.

use super::target::{resolve_fuzz_target, TargetArg};
use crate::model::{self, ModelTarget, Outcome};
use mqttspec_codec::ProtocolVersion;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// mqtt://host[:port]; without it, the reference broker runs in-process.
    target: Option<String>,
    /// Generated cases to run.
    #[arg(long, default_value_t = 100)]
    cases: u32,
    /// Seed of the generator: the same seed runs the same cases.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Most operations in one case.
    #[arg(long, default_value_t = 24)]
    max_ops: usize,
    #[arg(long, default_value = "3.1.1", value_parser = |s: &str| s.parse::<ProtocolVersion>())]
    protocol: ProtocolVersion,
    /// Where to write the minimal failing case as a scenario.
    #[arg(long, default_value = "model-counterexample.toml")]
    out: PathBuf,
}

pub fn main(args: Args) -> ExitCode {
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let resolved = runtime.block_on(resolve_fuzz_target(TargetArg {
        target: args.target.clone(),
        restart: None,
    }));
    let (fuzz_target, _embedded) = match resolved {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let target = ModelTarget {
        addr: fuzz_target.addr,
        version: args.protocol,
    };
    eprintln!(
        "checking {} against the model: {} cases, seed {}, MQTT {}",
        fuzz_target.label, args.cases, args.seed, args.protocol
    );
    match model::check(&runtime, &target, args.cases, args.seed, args.max_ops) {
        Ok(Outcome::Passed { cases }) => {
            println!("{cases} cases passed");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Failed { ops, reason }) => {
            println!("minimal failing case ({} operations): {reason}", ops.len());
            for (i, op) in ops.iter().enumerate() {
                println!("  {:>2}. {op:?}", i + 1);
            }
            match model::scenario::write(&args.out, &ops, &reason, args.protocol) {
                Ok(()) => println!("written as a scenario: {}", args.out.display()),
                Err(e) => eprintln!("could not write {}: {e}", args.out.display()),
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
