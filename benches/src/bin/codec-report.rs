//! Turns criterion's results for the codec benches into the table of benches/README.md.
//!
//! `codec-report collect CRITERION_DIR RUN` prints one JSON line per codec benchmark found under
//! `CRITERION_DIR/codec_{decode,encode}/**/new/` (criterion's `benchmark.json` and
//! `estimates.json`), tagged with the run number; `benches/codec.sh` appends them to a file after
//! each `cargo bench` run.
//!
//! `codec-report table RUNS_FILE` reads those lines and prints the markdown table: packets/s and
//! bytes/s of both codecs and their ratio, as a range over the runs (the machine is shared, so a
//! single run says little). Times are criterion's median estimate, the statistic least moved by
//! other processes.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["collect", dir, run] => collect(Path::new(dir), run.parse().expect("run number")),
        ["table", file] => table(&fs::read_to_string(file).expect("runs file")),
        _ => {
            eprintln!(
                "usage: codec-report collect CRITERION_DIR RUN | codec-report table RUNS_FILE"
            );
            std::process::exit(2);
        }
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// Every `new/` directory under `dir`, depth first.
fn new_dirs(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                found.push(path);
            } else {
                new_dirs(&path, found);
            }
        }
    }
}

fn collect(criterion: &Path, run: u32) {
    for group in ["codec_decode", "codec_encode"] {
        let mut dirs = Vec::new();
        new_dirs(&criterion.join(group), &mut dirs);
        dirs.sort();
        for dir in dirs {
            let (Some(bench), Some(est)) = (
                read_json(&dir.join("benchmark.json")),
                read_json(&dir.join("estimates.json")),
            ) else {
                continue;
            };
            // IDs read `{version}/{mode}/{codec}` / `{unit}` (see benches/codec.rs).
            let function = bench["function_id"].as_str().unwrap_or_default();
            let parts: Vec<&str> = function.split('/').collect();
            let [version, mode, codec] = parts[..] else {
                continue;
            };
            let (unit, per_iteration) = match &bench["throughput"] {
                t if t["Bytes"].is_u64() => ("bytes", t["Bytes"].as_u64()),
                t if t["Elements"].is_u64() => ("packets", t["Elements"].as_u64()),
                _ => continue,
            };
            let line = json!({
                "run": run,
                "group": group,
                "version": version,
                "mode": mode,
                "codec": codec,
                "unit": unit,
                "per_iteration": per_iteration,
                "median_ns": est["median"]["point_estimate"],
            });
            println!("{line}");
        }
    }
}

/// `(group, version, mode, unit)` -> codec -> run -> units per second. Modes are keyed `0whole`
/// and `1segmented-1460` so that each version's rows read whole, then segmented.
type Figures = BTreeMap<(String, String, String, String), BTreeMap<String, BTreeMap<u64, f64>>>;

fn table(runs: &str) {
    let mut figures = Figures::new();
    for line in runs.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("a line written by `collect`");
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let (Some(n), Some(ns), Some(run)) = (
            v["per_iteration"].as_f64(),
            v["median_ns"].as_f64(),
            v["run"].as_u64(),
        ) else {
            continue;
        };
        figures
            .entry((s("group"), s("version"), mode_key(&s("mode")), s("unit")))
            .or_default()
            .entry(s("codec"))
            .or_default()
            .insert(run, n / (ns * 1e-9));
    }
    let runs: std::collections::BTreeSet<u64> = figures
        .values()
        .flat_map(|c| c.values().flat_map(|r| r.keys().copied()))
        .collect();
    println!(
        "Ranges are min–max over {} run(s) of the whole suite; the ratio is mqttspec / rumqttc \
         within each run (higher is better for mqttspec; the goal is >= 2.00x).\n",
        runs.len()
    );
    println!("| benchmark | version | unit | mqttspec | rumqttc | mqttspec / rumqttc |");
    println!("|---|---|---|---:|---:|---:|");
    for ((group, version, mode, unit), codecs) in &figures {
        let (Some(ours), Some(theirs)) = (codecs.get("mqttspec"), codecs.get("rumqttc")) else {
            continue;
        };
        let ratios: Vec<f64> = ours
            .iter()
            .filter_map(|(run, o)| theirs.get(run).map(|t| o / t))
            .collect();
        let name = match &mode[1..] {
            "whole" => group.clone(),
            segmented => format!("{group} ({segmented})"),
        };
        let unit_name = if unit == "bytes" {
            "bytes/s"
        } else {
            "packets/s"
        };
        println!(
            "| {name} | {version} | {unit_name} | {} | {} | {} |",
            range(ours.values().copied(), unit),
            range(theirs.values().copied(), unit),
            ratio_range(&ratios),
        );
    }
}

fn mode_key(mode: &str) -> String {
    format!("{}{mode}", if mode == "whole" { 0 } else { 1 })
}

fn si(x: f64, unit: &str) -> String {
    if unit == "bytes" {
        format!("{:.2} GiB", x / (1u64 << 30) as f64)
    } else {
        format!("{:.2} M", x / 1e6)
    }
}

fn range(values: impl Iterator<Item = f64>, unit: &str) -> String {
    let v: Vec<f64> = values.collect();
    let (lo, hi) = (
        v.iter().copied().fold(f64::MAX, f64::min),
        v.iter().copied().fold(f64::MIN, f64::max),
    );
    if v.len() < 2 || (hi - lo) / hi < 0.005 {
        si(hi, unit)
    } else {
        format!("{} – {}", si(lo, unit), si(hi, unit))
    }
}

fn ratio_range(r: &[f64]) -> String {
    let (lo, hi) = (
        r.iter().copied().fold(f64::MAX, f64::min),
        r.iter().copied().fold(f64::MIN, f64::max),
    );
    match r.len() {
        0 => "–".into(),
        1 => format!("{hi:.2}x"),
        _ => format!("{lo:.2}x – {hi:.2}x"),
    }
}
