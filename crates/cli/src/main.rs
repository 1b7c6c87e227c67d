//! The `opcity` command.
//!
//! Thin: it wires the library crates together. Configuration is layered
//! (`config.rs`, figment: defaults → `opcity.toml` → `OPCITY_*` → flags);
//! logs are text or JSON. `serve` (`platform.rs`) adds graceful shutdown,
//! pack reload on SIGHUP and the periodic jobs: payments due and the
//! entitlement refresh whenever the Shanghai date changes, voucher expiry
//! every five minutes, the no-show release and (when `smtp_url` is set) the
//! e-mail sender every minute, and audit sealing every second; every other
//! command seals the audit log when it ends (`platform::with_services`).
//! `policy` and `consult` need no database.

mod columnar;
mod config;
mod consult_cmd;
mod platform;
mod policy_cmd;

// mimalloc rather than the system allocator: glibc's malloc and free were
// about a third of the services' CPU under load (BENCHMARKS.md, session 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};
use config::{Config, Overrides};
use opcity_domain::{District, Role};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "opcity", version, about = "Shenzhen AI OPC programme platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the configuration and the database come from.
#[derive(Debug, Args)]
struct DataArgs {
    /// A TOML configuration file (default: ./opcity.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The database: sqlite://FILE (default sqlite://opcity.db) or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// The policy pack: a pack directory, or the id of a pack built in
    /// (default: the built-in shenzhen-2026).
    #[arg(long = "pack", global = true, value_name = "PACK")]
    pack_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the portal and the API.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
        /// Load demo data first if the database is empty, printing the logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Load the demo data set into an empty database and print its logins.
    Demo {
        #[command(flatten)]
        data: DataArgs,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Re-evaluate every person and enterprise (proactive matching); `serve`
    /// also does this daily.
    Match {
        #[command(flatten)]
        data: DataArgs,
        /// The evaluation date (default: today in Shanghai).
        #[arg(long, value_parser = opcity_policy::parse_date)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Pay the instalments due (idempotent; `serve` also runs it daily).
    Disburse {
        #[command(flatten)]
        data: DataArgs,
        /// Pay what is due on or before this date (default: today in Shanghai).
        #[arg(long, value_parser = opcity_policy::parse_date)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Benefits held: continuous eligibility.
    #[command(subcommand)]
    Entitlements(EntitlementsCommand),
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Voucher lifecycle jobs and ledger checks.
    #[command(subcommand)]
    Vouchers(VouchersCommand),
    /// Spaces and instruments.
    #[command(subcommand)]
    Spaces(SpacesCommand),
    /// E-mail notifications.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Import a CSV or XLSX file of records: every row is checked, and the whole file is written
    /// in one transaction only when no row has a problem. Prints the report
    /// as JSON; exit 1 when nothing was written.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// communities, units, apartments, instruments, persons or enterprises.
        kind: String,
        file: std::path::PathBuf,
        /// The account whose authority the import uses (and the audit log
        /// names); without it, the command line's own (`system:console`).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: Option<String>,
        /// Check and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export records in the import's columns (CSV, or XLSX when FILE ends in .xlsx).
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// communities, units, apartments, instruments, persons or enterprises.
        kind: String,
        file: std::path::PathBuf,
        /// The account whose view the export is (and the audit log names);
        /// without it, the command line's own (every record).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: Option<String>,
        /// The language of headers and values: zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
    },
    /// List Shenzhen's districts with their ids.
    Districts,
    /// Policy packs: evaluate cases, validate a pack, run its tests.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Ask the policy texts a question (answers cite their clauses), or run
    /// the consultation's evaluation set (`consult eval FILE`).
    Consult(consult_cmd::ConsultArgs),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account; prints a generated password unless --password-stdin.
    CreateUser {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// founder, community_operator, district_reviewer, municipal_admin,
        /// service_provider, investor or auditor.
        #[arg(long, value_parser = |s: &str| s.parse::<Role>())]
        role: Role,
        /// The district of a district reviewer (e.g. nanshan).
        #[arg(long, value_parser = |s: &str| s.parse::<District>().map_err(|e| e.to_string()))]
        district: Option<District>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VouchersCommand {
    /// Void expired holds and expire vouchers past their last valid day,
    /// returning unused balances to the pools (`serve` also does this every
    /// few minutes).
    Expire {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Rebuild every ledger balance from the transfers; exit 1 naming each
    /// difference.
    Reconcile {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming every altered or deleted entry.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
enum EntitlementsCommand {
    /// Re-evaluate every benefit being delivered against the pack on a
    /// date; one that no longer qualifies is flagged to its reviewer and
    /// its instalments wait (`serve` does this daily). Prints the run as
    /// JSON.
    Recheck {
        #[command(flatten)]
        data: DataArgs,
        /// The evaluation date (default: today in Shanghai).
        #[arg(long, value_parser = opcity_policy::parse_date)]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
enum SpacesCommand {
    /// Release instrument bookings not checked into within their grace
    /// period and expire unapproved ones that have started; `serve` does
    /// this every minute.
    ReleaseNoShows {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
enum MailCommand {
    /// Mail the notifications of accounts that opted in, now (`serve` does
    /// this every minute when smtp_url is set); exit 1 when some could not
    /// be sent (they are retried later).
    SendPending {
        #[command(flatten)]
        data: DataArgs,
    },
}

fn load_config(data: &DataArgs, addr: Option<String>) -> anyhow::Result<Config> {
    let overrides = Overrides {
        database_url: data.database_url.clone(),
        pack_dir: data.pack_dir.clone(),
        addr,
    };
    config::load(data.config.as_deref(), &overrides)
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_platform(command: Command) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    match command {
        Command::Serve { data, addr, demo } => {
            let config = load_config(&data, addr)?;
            platform::init_logging(&config);
            rt.block_on(platform::serve(config, demo))?;
        }
        Command::Migrate { data } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            rt.block_on(platform::services(&config))?;
            println!("database is up to date");
        }
        Command::Demo { data, seed } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::demo(s, seed, false).await)
                    .await
            })?;
        }
        Command::Match { data, as_of } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let as_of =
                as_of.unwrap_or_else(|| opcity_domain::today_in_shanghai(chrono::Utc::now()));
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::refresh(s, as_of).await).await
            })?;
        }
        Command::Import {
            data,
            kind,
            file,
            as_user,
            dry_run,
        } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let written = rt.block_on(async {
                platform::with_services(&config, async |s| {
                    platform::import(s, &kind, &file, as_user.as_deref(), dry_run).await
                })
                .await
            })?;
            return Ok(if written || dry_run {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Export {
            data,
            kind,
            file,
            as_user,
            lang,
        } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            rt.block_on(async {
                platform::with_services(&config, async |s| {
                    platform::export(s, &kind, &file, as_user.as_deref(), &lang).await
                })
                .await
            })?;
        }
        Command::Disburse { data, as_of } => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let as_of =
                as_of.unwrap_or_else(|| opcity_domain::today_in_shanghai(chrono::Utc::now()));
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::disburse(s, as_of).await).await
            })?;
        }
        Command::Admin(AdminCommand::CreateUser {
            data,
            username,
            display_name,
            role,
            district,
            password_stdin,
        }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let user = platform::NewUser {
                username,
                display_name,
                role,
                district,
                password_stdin,
            };
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::create_user(s, user).await)
                    .await
            })?;
        }
        Command::Audit(AuditCommand::Verify { data }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let intact = rt.block_on(async {
                platform::with_services(&config, async |s| platform::audit_verify(s).await).await
            })?;
            return Ok(if intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Entitlements(EntitlementsCommand::Recheck { data, as_of }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let as_of =
                as_of.unwrap_or_else(|| opcity_domain::today_in_shanghai(chrono::Utc::now()));
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::recheck(s, as_of).await).await
            })?;
        }
        Command::Vouchers(VouchersCommand::Expire { data }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::vouchers_expire(s).await).await
            })?;
        }
        Command::Vouchers(VouchersCommand::Reconcile { data }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let clean = rt.block_on(async {
                platform::with_services(&config, async |s| platform::vouchers_reconcile(s).await)
                    .await
            })?;
            return Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Spaces(SpacesCommand::ReleaseNoShows { data }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            rt.block_on(async {
                platform::with_services(&config, async |s| platform::release_no_shows(s).await)
                    .await
            })?;
        }
        Command::Mail(MailCommand::SendPending { data }) => {
            let config = load_config(&data, None)?;
            platform::init_logging(&config);
            let all_sent = rt.block_on(platform::mail_send_pending(&config))?;
            return Ok(if all_sent {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Districts | Command::Policy(_) | Command::Consult(_) => {
            unreachable!("handled without a runtime")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Districts => {
            for d in District::ALL {
                println!("{}\t{}\t{}", d.id(), d.name_zh(), d.name_en());
            }
            ExitCode::SUCCESS
        }
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Consult(args) => consult_cmd::run(args),
        other => run_platform(other).unwrap_or_else(|err| {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }),
    }
}
