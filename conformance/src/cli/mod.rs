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

/// The tokio runtime a subcommand runs on; on failure the error is printed and the exit code
/// returned, so each subcommand starts with one line.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::ExitCode::FAILURE
    })
}
