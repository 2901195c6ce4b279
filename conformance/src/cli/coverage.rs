//! `mqttspec coverage`: per version, how many statements there are, how many a test on the wire
//! can observe, how many a scenario checks, and each unchecked one with the reason.

use crate::coverage::{compute, NO_SCENARIO};
use crate::registry;
use crate::scenario::load::load_all;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Versions to report: 3.1.1, 5.0 or all.
    #[arg(long, default_value = "all")]
    pub protocol: String,
    /// Print JSON: {"3.1.1": {"statements", "testable", "covered", "uncovered": [{"id", "reason"}]}, ...}.
    #[arg(long)]
    pub json: bool,
    /// Also load scenarios from DIR; same ids replace built-in ones.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
}

pub fn main(args: Args) -> ExitCode {
    let versions = match super::run::parse_protocols(&args.protocol) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("mqttspec coverage: {e}");
            return ExitCode::from(2);
        }
    };
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return ExitCode::from(2);
        }
    };
    let reports: Vec<_> = versions.iter().map(|v| compute(&scenarios, *v)).collect();
    if args.json {
        let obj: serde_json::Map<String, serde_json::Value> = reports
            .iter()
            .map(|c| (c.version.as_str().to_string(), c.to_json()))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&obj).expect("JSON serializes")
        );
        return ExitCode::SUCCESS;
    }
    for c in &reports {
        let pct = |n: usize| n * 100 / c.testable.max(1);
        println!(
            "MQTT {}: {} statements, {} testable on the wire, {} checked by a scenario ({}% of testable)",
            c.version, c.statements, c.testable, c.covered, pct(c.covered)
        );
        let summary = |id: &str| registry::lookup(c.version, id).map_or("", |s| s.summary);
        let untested: Vec<_> = c
            .uncovered
            .iter()
            .filter(|(_, r)| r == NO_SCENARIO)
            .collect();
        if !untested.is_empty() {
            println!("  testable, not yet checked ({}):", untested.len());
            for (id, _) in untested {
                println!("    {id:<16} {}", summary(id));
            }
        }
        let untestable: Vec<_> = c
            .uncovered
            .iter()
            .filter(|(_, r)| r != NO_SCENARIO)
            .collect();
        if !untestable.is_empty() {
            println!("  not testable on the wire ({}):", untestable.len());
            for (id, reason) in untestable {
                println!("    {id:<16} {reason}");
            }
        }
    }
    ExitCode::SUCCESS
}
