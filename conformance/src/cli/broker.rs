//! `mqttspec broker`: runs the reference broker until Ctrl-C.
//!
//! Logs go to stderr through `tracing` (`RUST_LOG=debug` for every connection and packet decision).
//! Exit codes: 0 after a clean shutdown, 1 if a listener cannot be bound or the persistence file
//! cannot be used, 2 for an invalid configuration.

use mqttspec_broker::server::run_listeners;
use mqttspec_broker::Config;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; repeat for several. Overrides `listen` of the config file
    /// [default: 127.0.0.1:1883]
    #[arg(long, value_name = "ADDR")]
    listen: Vec<SocketAddr>,
    /// TOML configuration file (see reference-broker/README.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep retained messages and persistent sessions in FILE across restarts (an append-only
    /// log). Overrides `persistence` of the config file [default: nothing is persisted]
    #[arg(long, value_name = "FILE")]
    persistence: Option<PathBuf>,
    /// Threads to run on. 1 runs the whole broker on one thread, as mosquitto's event loop does:
    /// no wake-ups across threads, and the other cores stay free (for a load generator on the
    /// same machine, say) [default: one per core]
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
}

pub fn main(args: Args) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let mut config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mqttspec broker: invalid configuration: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if !args.listen.is_empty() {
        config.listen = args.listen;
    }
    if let Some(file) = args.persistence {
        config.persistence = Some(file);
        if let Err(e) = config.validate() {
            eprintln!("mqttspec broker: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    }
    if config.listen.is_empty() {
        eprintln!("mqttspec broker: invalid configuration: `listen` names no address");
        return ExitCode::from(2);
    }
    let runtime = match super::runtime_with_threads(args.threads) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> ExitCode {
    let mut listeners = Vec::new();
    for addr in &config.listen {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => listeners.push(l),
            Err(e) => {
                eprintln!("mqttspec broker: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match run_listeners(listeners, config, ctrl_c).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqttspec broker: {e}");
            ExitCode::FAILURE
        }
    }
}
