//! The mqttspec harness: scenarios, targets, verdicts and reports, and the command line.
//!
//! # Layout
//! - [`cli`]: one module per subcommand of the `mqttspec` binary.
//! - [`loadgen`]: the load generator behind `mqttspec bench`.
//! - [`registry`]: every normative statement of MQTT 3.1.1 and 5.0, with whether a test on the
//!   wire can observe it.

pub mod cli;
pub mod client;
pub mod coverage;
pub mod duration;
pub mod expect;
pub mod interp;
pub mod loadgen;
pub mod matching;
pub mod profile;
pub mod registry;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod target;
pub mod trace;
pub mod verdict;
