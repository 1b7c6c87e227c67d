//! `opcity policy …`: the policy engine's command-line surface.

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {}

pub fn run(cmd: PolicyCommand) -> ExitCode {
    match cmd {}
}
