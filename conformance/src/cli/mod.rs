//! One module per subcommand: its arguments and its `main`.

pub mod bench;
pub mod broker;
pub mod coverage;
pub mod decode;
pub mod list;
pub mod run;
