//! `opcity policy …`: the policy engine's command-line surface.
//!
//! Exit status: 0 when everything was fine; 1 when some case was bad, a pack
//! test failed or a pack did not load; 2 when the input could not be read or
//! was not JSON at all. `diff` follows diff(1): 0 when the packs agree, 1
//! when they differ, 2 when one does not load.

use crate::columnar;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use opcity_packs::PackSource;
use opcity_policy::{
    BatchError, BatchSummary, CaseFailure, ConditionChange, Detail, Pack, Programme, Setting,
    batch, parse_date, whatif_jsonl,
};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Evaluate cases (JSON array, one case, or JSON Lines) against a pack.
    Eval(EvalArgs),
    /// Validate a pack and print a summary of it.
    Check {
        /// The pack: a directory, or the id of a pack built in.
        pack: PathBuf,
    },
    /// What if parameters changed: evaluate cases (JSON Lines) under the
    /// pack and under the changed parameters, and print the totals of
    /// both by programme, their difference, the cases that changed and the
    /// difference by district, as JSON.
    Whatif(WhatifArgs),
    /// Run a pack's tests (tests/*.yaml).
    Test {
        /// The pack: a directory, or the id of a pack built in.
        pack: PathBuf,
    },
    /// What differs between two packs on a date: programmes and parameters
    /// only one has, and each field that differs, as JSON.
    Diff {
        /// The first pack: a directory, or the id of a pack built in.
        a: PathBuf,
        /// The second pack.
        b: PathBuf,
        /// The date parameter values are compared on, YYYY-MM-DD; today in
        /// Shanghai when left out.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The pack: a directory, or the id of a pack built in (shenzhen-2026).
    #[arg(long)]
    pack: PathBuf,
    /// The evaluation date, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// `json`: an array of cases or one case in, an array out; `jsonl`: one
    /// case a line in, one result a line out, streamed; `parquet`: the
    /// results as Apache Parquet on standard output, one row a case (brief).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// `brief` leaves out `reasons`, and the explanation-only `parameters`
    /// and null `note` (see docs/policy-pack.md, "Results"). Default: full,
    /// brief for Parquet.
    #[arg(long, value_enum)]
    detail: Option<DetailArg>,
    /// The input file; `-` reads standard input. A file ending in
    /// `.parquet` is read as Apache Parquet, one case a row.
    file: String,
}

#[derive(Debug, Args)]
pub struct WhatifArgs {
    /// The pack: a directory, or the id of a pack built in (shenzhen-2026).
    #[arg(long)]
    pack: PathBuf,
    /// The evaluation date, YYYY-MM-DD; a changed value applies from it on.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// A parameter's value in the scenario, in its unit (fen, months,
    /// years, percent, count, m2), or `null` to unset it; repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// A programme's condition decided by another expression in the
    /// scenario (the pack's condition language; `true` waives it);
    /// repeatable.
    #[arg(long = "when", value_name = "PROGRAMME:CONDITION=EXPRESSION")]
    conditions: Vec<String>,
    /// The cases, one JSON object a line (`-` reads standard input), or a
    /// file ending in `.parquet`, one case a row.
    file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Jsonl,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DetailArg {
    Full,
    Brief,
}

pub fn run(cmd: PolicyCommand) -> ExitCode {
    match cmd {
        PolicyCommand::Eval(args) => eval(&args),
        PolicyCommand::Check { pack } => check(&pack),
        PolicyCommand::Test { pack } => test(&pack),
        PolicyCommand::Whatif(args) => whatif(&args),
        PolicyCommand::Diff { a, b, as_of } => diff(&a, &b, as_of),
    }
}

/// Loads a pack (a directory or a built-in pack's id), printing every load
/// error on stderr.
fn load(given: &Path) -> Option<Pack> {
    let source = match PackSource::resolve(given) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("{e}");
            return None;
        }
    };
    match source.load() {
        Ok(pack) => Some(pack),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("pack {source} did not load: {} error(s)", errors.len());
            None
        }
    }
}

fn check(dir: &Path) -> ExitCode {
    let Some(pack) = load(dir) else {
        return ExitCode::FAILURE;
    };
    let window = pack.effective();
    println!("pack {} version {}", pack.id(), pack.version());
    if pack.lineage().len() > 1 {
        let chain: Vec<String> = pack
            .lineage()
            .iter()
            .map(|l| format!("{} {}", l.id, l.version))
            .collect();
        println!("chain: {}", chain.join(" → "));
    }
    println!("{}", pack.title().en);
    println!("source: {}", pack.source());
    println!("in effect {} to {}", window.from, window.to);
    println!("{} programmes:", pack.programmes().len());
    for p in pack.programmes() {
        println!("  {}", programme_line(p));
    }
    println!("{} parameters:", pack.parameters().len());
    for p in pack.parameters() {
        let latest = p.history().last().map_or_else(
            || "no value".to_owned(),
            |(since, value)| match value {
                Some(v) => format!("{v} since {since}"),
                None => format!("unset since {since}"),
            },
        );
        let origin = if p.pack == pack.id() {
            String::new()
        } else {
            format!(" [from {}]", p.pack)
        };
        let flag = p
            .flagged
            .as_ref()
            .map_or_else(String::new, |why| format!(" FLAGGED: {why}"));
        println!("  {} ({}): {latest}{origin}{flag}", p.name, p.unit.name());
    }
    println!("{} tests", pack.tests().len());
    ExitCode::SUCCESS
}

fn programme_line(p: &Programme) -> String {
    let mut flags = Vec::new();
    if p.one_time {
        flags.push("one-time".to_owned());
    }
    flags.extend(
        p.exclusion_groups
            .iter()
            .map(|g| format!("excludes within {g}")),
    );
    if let Some(base) = &p.tops_up {
        flags.push(format!("tops up {base}"));
    }
    flags.push(format!("from {}", p.pack));
    format!(
        "{} [{}, {}, measure {}, decided by {}{}] {}",
        p.id,
        word(&p.kind),
        word(&p.beneficiary),
        p.measure,
        word(&p.decided_by),
        flags.iter().map(|f| format!(", {f}")).collect::<String>(),
        p.title.en
    )
}

/// The word a pack file and the JSON output use for an enum value.
fn word(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn diff(a: &Path, b: &Path, as_of: Option<NaiveDate>) -> ExitCode {
    let (Some(a), Some(b)) = (load(a), load(b)) else {
        return ExitCode::from(2);
    };
    let as_of = as_of.unwrap_or_else(|| opcity_domain::today_in_shanghai(chrono::Utc::now()));
    let diff = opcity_policy::PackDiff::between(&a, &b, as_of);
    match serde_json::to_string_pretty(&diff) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    if diff.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn test(dir: &Path) -> ExitCode {
    let Some(pack) = load(dir) else {
        println!("0 passed, 1 failed");
        return ExitCode::FAILURE;
    };
    let outcomes = pack.run_tests();
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    for outcome in &failed {
        println!("FAIL {}: {}", outcome.test.file, outcome.test.name);
        for failure in &outcome.failures {
            println!("  {failure}");
        }
    }
    println!(
        "{} passed, {} failed",
        outcomes.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn eval(args: &EvalArgs) -> ExitCode {
    let Some(pack) = load(&args.pack) else {
        return ExitCode::FAILURE;
    };
    let at = pack.at(args.as_of);
    let detail = match (args.format, args.detail) {
        (Format::Parquet, Some(DetailArg::Full)) => {
            eprintln!("error: Parquet results are brief; leave out --detail full");
            return ExitCode::from(2);
        }
        (Format::Parquet, _) | (_, Some(DetailArg::Brief)) => Detail::Brief,
        (_, None | Some(DetailArg::Full)) => Detail::Full,
    };
    if args.format == Format::Json && columnar::is_parquet(&args.file) {
        eprintln!(
            "error: cases from Parquet give JSON Lines or Parquet: add --format jsonl or --format parquet"
        );
        return ExitCode::from(2);
    }
    if args.format == Format::Parquet && io::stdout().is_terminal() {
        eprintln!("error: Parquet is binary; send it to a file (… > results.parquet)");
        return ExitCode::from(2);
    }
    let progress = Progress::new();
    let output = || BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let report = |f: &CaseFailure| progress.println(failure_line(f));
    let result = match args.format {
        Format::Jsonl => open(&args.file).map_err(BatchError::Io).and_then(|input| {
            batch::evaluate_jsonl(&at, detail, input, output(), |n| progress.set(n), report)
        }),
        // The Parquet writer wants an output it may send between threads.
        Format::Parquet => open(&args.file)
            .and_then(|input| {
                let stdout = BufWriter::with_capacity(1 << 16, io::stdout());
                Ok((input, columnar::ResultsWriter::new(stdout)?))
            })
            .map_err(BatchError::Io)
            .and_then(|(input, mut parquet)| {
                let evaluated = batch::evaluate_jsonl(
                    &at,
                    detail,
                    input,
                    &mut parquet,
                    |n| progress.set(n),
                    report,
                );
                // What was evaluated before a failure is still a readable
                // file, as the JSON Lines output keeps its lines.
                parquet.finish()?.flush()?;
                evaluated
            }),
        Format::Json => read_all(&args.file)
            .map_err(BatchError::Io)
            .and_then(|text| {
                batch::evaluate_document(&at, detail, &text, output(), |n| progress.set(n), report)
            }),
    };
    progress.finish();
    finish(result)
}

/// Exit 2 when a setting or the input is refused, 1 when some case was bad
/// (the totals leave it out and are still printed).
fn whatif(args: &WhatifArgs) -> ExitCode {
    let Some(pack) = load(&args.pack) else {
        return ExitCode::FAILURE;
    };
    let settings = match Setting::parse_all(&pack, args.settings.iter().map(String::as_str)) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: --set {e}");
            return ExitCode::from(2);
        }
    };
    let changed = match args
        .conditions
        .iter()
        .map(|text| ConditionChange::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|changes| pack.with_conditions(&changes))
    {
        Ok(changed) => changed,
        Err(e) => {
            eprintln!("error: --when {e}");
            return ExitCode::from(2);
        }
    };
    let baseline = pack.at(args.as_of);
    let scenario = changed.at(args.as_of).with_settings(&settings);
    let progress = Progress::new();
    let result = open(&args.file).map_err(BatchError::Io).and_then(|input| {
        whatif_jsonl(
            &baseline,
            &scenario,
            input,
            |n| progress.set(n),
            |f| progress.println(failure_line(f)),
        )
    });
    progress.finish();
    let result = result.and_then(|(whatif, summary)| {
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &whatif).map_err(io::Error::from)?;
        writeln!(out)?;
        Ok(summary)
    });
    finish(result)
}

fn finish(result: Result<BatchSummary, BatchError>) -> ExitCode {
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!("{} of {} cases were bad", summary.failed, summary.cases);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn failure_line(f: &CaseFailure) -> String {
    let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    let id =
        f.id.as_deref()
            .map(|id| format!(" id {id}"))
            .unwrap_or_default();
    format!(
        "case {}{line}{id}: {}: {}",
        f.position, f.error.field, f.error.problem
    )
}

/// The cases in `file`: standard input for `-`, JSON Lines converted from
/// Parquet for a `.parquet` file, else the file's lines.
fn open(file: &str) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(if file == "-" {
        Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
    } else if columnar::is_parquet(file) {
        let lines = columnar::CaseLines::open(file)
            .map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))?;
        Box::new(BufReader::with_capacity(1 << 16, lines))
    } else {
        let input = std::fs::File::open(file)
            .map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))?;
        Box::new(BufReader::with_capacity(1 << 16, input))
    })
}

fn read_all(file: &str) -> io::Result<String> {
    let mut text = String::new();
    open(file)?.read_to_string(&mut text)?;
    Ok(text)
}

/// A case counter on stderr, shown only when stderr is a terminal so that
/// redirected logs stay clean.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new() -> Self {
        Progress(io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} cases evaluated ({per_sec})")
                    .expect("valid template"),
            );
            bar
        }))
    }

    fn set(&self, cases: usize) {
        if let Some(bar) = &self.0 {
            bar.set_position(cases as u64);
        }
    }

    /// Prints a line on stderr without tearing the spinner.
    fn println(&self, line: String) {
        match &self.0 {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
