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
