//! The `opcity` command.

mod policy_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "opcity", version, about = "Shenzhen AI OPC programme platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List Shenzhen's districts with their ids.
    Districts,
    /// Policy packs: evaluate cases, validate a pack, run its tests.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Districts => {
            for d in opcity_domain::District::ALL {
                println!("{}\t{}\t{}", d.id(), d.name_zh(), d.name_en());
            }
            ExitCode::SUCCESS
        }
        Command::Policy(cmd) => policy_cmd::run(cmd),
    }
}
