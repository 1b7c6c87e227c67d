//! The `opcity` command.

use clap::{Parser, Subcommand};

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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Districts => {
            for d in opcity_domain::District::ALL {
                println!("{}\t{}\t{}", d.id(), d.name_zh(), d.name_en());
            }
        }
    }
    Ok(())
}
