//! The scenarios compiled into the binary, so that `mqttspec run` works after `cargo install`
//! with no file beside the executable.
//!
//! `build.rs` lists the repository's `scenarios/` folder and writes one `include_str!` per file.
//! We use a build script rather than `include_dir!` because cargo then rebuilds when a scenario
//! is added, removed or edited (`rerun-if-changed` on the folder); `include_dir` only notices
//! this on nightly.

/// `(path under scenarios/, file text)`, sorted by path.
pub static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));
