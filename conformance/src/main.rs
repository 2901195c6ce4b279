//! `mqttspec`: the command line. Each subcommand lives in its own module under `cli/`.

use clap::{Parser, Subcommand};
use mqttspec::cli;
use std::process::ExitCode;

/// MQTT 3.1.1 and 5.0 conformance and fuzzing test suite.
#[derive(Parser)]
#[command(name = "mqttspec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance scenarios against a broker (default: the embedded reference broker).
    Run(cli::run::Args),
    /// List the scenarios and the spec statements they check.
    List(cli::list::Args),
    /// Show which spec statements the scenarios check, and which they do not, and why.
    Coverage(cli::coverage::Args),
    /// Run the reference broker.
    Broker(cli::broker::Args),
    /// Put a measured load on a broker: messages/s, latency, CPU, memory per connection.
    Bench(cli::bench::Args),
    /// Live-fuzz a broker: generated and mutated packet sequences, a liveness probe after each.
    Fuzz(cli::fuzz::Args),
    /// Check a broker against a model of MQTT delivery with random operation sequences.
    CheckModel(cli::check_model::Args),
    /// Replay a fuzzing reproducer against a broker.
    Replay(cli::replay::Args),
    /// Decode hex bytes into a packet (JSON), or name the spec statement they break.
    Decode(cli::decode::Args),
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`mqttspec list --json | head`) instead of panicking on the broken pipe.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is always a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => cli::run::main(args),
        Command::List(args) => cli::list::main(args),
        Command::Coverage(args) => cli::coverage::main(args),
        Command::Broker(args) => cli::broker::main(args),
        Command::Bench(args) => cli::bench::main(args),
        Command::Fuzz(args) => cli::fuzz::main(args),
        Command::Replay(args) => cli::replay::main(args),
        Command::CheckModel(args) => cli::check_model::main(args),
        Command::Decode(args) => cli::decode::main(args),
    }
}
