//! The mqttspec harness: scenarios, targets, verdicts and reports, and the command line.
//!
//! # Layout
//! - [`cli`]: one module per subcommand of the `mqttspec` binary.
//! - [`live_fuzz`]: live fuzzing of any broker, with reproducers and their minimization.
//! - [`loadgen`]: the load generator behind `mqttspec bench`.
//! - [`model`]: model-based testing: random operation sequences checked against a model.
//! - [`registry`]: every normative statement of MQTT 3.1.1 and 5.0, with whether a test on the
//!   wire can observe it.
//!
//! The conformance harness, in the order a run goes through it:
//! - [`scenario`]: the scenario model, and its loader ([`scenario::load`]) that turns
//!   `scenarios/AREA/NAME.toml` into it, rejecting typos with file and line; [`scenario::schema`]
//!   checks packet templates against the codec, [`scenario::template`] holds `{topic}` and `$var`.
//! - [`target`]: the broker under test, embedded (in-process, port 0) or `mqtt://host:port`.
//! - [`runner`]: runs scenario x version jobs in parallel with unique prefixes, and judges them.
//! - [`interp`]: runs one scenario's steps; [`client`] is its scripted client, [`matching`] its
//!   partial packet matching, [`trace`] the wire log a failure prints.
//! - [`verdict`]: pass / fail / skip / error, and how `--strict` and [`expect`] (the
//!   expected-failure file) judge them; [`profile`]: what the broker supports.
//! - [`report`]: console, JUnit XML and JSON; [`coverage`]: statements -> scenarios.
//! - [`duration`]: `"500ms"`-style durations, for scenario files and the command line.

pub mod cli;
pub mod client;
pub mod coverage;
pub mod duration;
pub mod expect;
pub mod interp;
pub mod live_fuzz;
pub mod loadgen;
pub mod matching;
pub mod model;
pub mod profile;
pub mod registry;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod target;
pub mod trace;
pub mod verdict;
