//! `mqttspec run`: being built (see the issue that owns it).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> ExitCode {
    eprintln!("mqttspec run: not built yet");
    ExitCode::from(2)
}
