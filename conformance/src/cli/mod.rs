//! One module per subcommand: its arguments and its `main`.

pub mod bench;
pub mod broker;
pub mod check_model;
pub mod coverage;
pub mod decode;
pub mod fuzz;
pub mod list;
pub mod replay;
pub mod run;
pub mod target;

/// The tokio runtime a subcommand runs on (one worker thread per core); on failure the error is
/// printed and the exit code returned, so each subcommand starts with one line.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    runtime_with_threads(None)
}

/// A runtime of `threads` threads: 1 is a current-thread runtime, where every task runs on the
/// calling thread and hands work to the next without waking another thread; `None` is tokio's
/// default of one worker per core.
pub(crate) fn runtime_with_threads(
    threads: Option<std::num::NonZeroUsize>,
) -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    let built = match threads.map(std::num::NonZeroUsize::get) {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Runtime::new(),
    };
    built.map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::ExitCode::FAILURE
    })
}
