//! `mqttspec list`: the scenarios, with their versions, level and spec statements.

use crate::scenario::load::load_all;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only scenarios whose id, area or statement ID contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also load scenarios from DIR; same ids replace built-in ones.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
}

pub fn main(args: Args) -> ExitCode {
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return ExitCode::from(2);
        }
    };
    let chosen: Vec<_> = scenarios
        .iter()
        .filter(|s| args.filter.as_deref().is_none_or(|f| s.matches_filter(f)))
        .collect();
    if args.json {
        let items: Vec<_> = chosen
            .iter()
            .map(|s| {
                let spec: serde_json::Map<String, serde_json::Value> = s
                    .versions
                    .iter()
                    .map(|v| (v.as_str().to_string(), json!(s.spec_ids(*v))))
                    .collect();
                json!({
                    "id": s.id,
                    "title": s.title,
                    "area": s.area(),
                    "versions": s.versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                    "level": s.level.as_str(),
                    "requires": s.requires.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                    "lacks": s.lacks.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                    "spec": spec,
                    "steps": s.steps.len(),
                    "source": s.source,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).expect("JSON serializes")
        );
        return ExitCode::SUCCESS;
    }
    let width = chosen.iter().map(|s| s.id.len()).max().unwrap_or(2);
    for s in &chosen {
        let versions = match s.versions.as_slice() {
            [v] => v.as_str().to_string(),
            _ => "both".to_string(),
        };
        // As the file writes them: prefixed with the version where only one version's applies.
        let ids: Vec<String> = s
            .spec
            .iter()
            .map(|r| match r.version {
                Some(v) => format!("{v}:{}", r.id),
                None => r.id.clone(),
            })
            .collect();
        println!(
            "{:<width$}  {versions:<5}  {:<6}  {}  [{}]",
            s.id,
            s.level.as_str(),
            s.title,
            ids.join(", ")
        );
    }
    println!("{} scenarios", chosen.len());
    ExitCode::SUCCESS
}
