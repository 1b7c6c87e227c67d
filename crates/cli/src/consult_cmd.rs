//! `opcity consult …`: ask the policy texts a question, or run the
//! consultation's evaluation set, without a database.
//!
//! Exit status: 0 on an answer (an abstention included) or an evaluation
//! that meets its targets; 1 when it misses them or the pack does not load;
//! 2 when the question is refused.

use clap::{Args, Subcommand};
use opcity_consult::{EvalSet, Lang, Library};
use opcity_packs::PackSource;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ConsultArgs {
    #[command(subcommand)]
    command: Option<ConsultCommand>,
    /// The pack whose `clauses/` are searched: a directory, or the id of a
    /// pack built in.
    #[arg(long, default_value = opcity_packs::DEFAULT)]
    pack: PathBuf,
    /// The answer's language: zh or en.
    #[arg(long, default_value = "zh", value_parser = parse_lang)]
    lang: Lang,
    /// The question (at most 500 characters).
    #[arg(required = true)]
    question: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ConsultCommand {
    /// Run an evaluation set and print recall@3, the abstention rate on
    /// out-of-scope questions and the wrong-citation rate as JSON.
    Eval {
        /// The pack: a directory, or the id of a pack built in.
        #[arg(long, default_value = opcity_packs::DEFAULT)]
        pack: PathBuf,
        /// The evaluation file (YAML: `answerable`, `out_of_scope`).
        file: PathBuf,
    },
}

fn parse_lang(code: &str) -> Result<Lang, String> {
    Lang::parse(code).ok_or_else(|| format!("`{code}` is not zh or en"))
}

fn library(given: &Path) -> Result<Library, String> {
    let source = PackSource::resolve(given).map_err(|e| e.to_string())?;
    let pack = source.load().map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        lines.join("\n")
    })?;
    match source.library(&pack) {
        Some(library) => library.map_err(|e| e.to_string()),
        None => Err(format!("{source} has no clauses/")),
    }
}

pub fn run(args: ConsultArgs) -> ExitCode {
    match args.command {
        Some(ConsultCommand::Eval { pack, file }) => eval(&pack, &file),
        None => ask(
            &args.pack,
            args.lang,
            args.question.as_deref().unwrap_or(""),
        ),
    }
}

fn ask(dir: &Path, lang: Lang, question: &str) -> ExitCode {
    let question = match opcity_consult::question::check(question) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let library = match library(dir) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: the pack {} does not load:\n  {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    match library.consult(question, lang) {
        Ok(answer) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn eval(dir: &Path, file: &Path) -> ExitCode {
    let library = match library(dir) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: the pack {} does not load:\n  {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let report = EvalSet::load(file).and_then(|set| set.run(&library, &file.display().to_string()));
    match report {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            if report.meets_targets() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "the targets are recall@3 >= 0.95, abstention >= 0.95 and no wrong citation"
                );
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
