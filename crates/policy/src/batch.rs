//! Batch evaluation: many cases evaluated in parallel (rayon), written in
//! input order, with memory bounded by the chunk size.
//!
//! Output is serialized straight from the result structs into byte buffers;
//! no `serde_json::Value` tree is built on the way.

use crate::case::{CaseError, parse_case};
use crate::error::without_position;
use crate::eval::{Detail, PackAt, ProgrammeResult};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::{self, BufRead, Write};

/// Cases read, evaluated and written per step.
pub const CHUNK: usize = 4096;

/// Cases one rayon task serializes into a single buffer: large enough to
/// amortise the task, small enough to balance two cores.
const TASK: usize = 64;

/// Why a batch could not run at all (bad cases do not stop it).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not JSON: {message} at line {line} column {column}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
}

impl BatchError {
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Io(_) => "io",
            BatchError::NotJson { .. } => "not_json",
        }
    }
}

/// A case that could not be evaluated; its error object is in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    /// 1-based position among the cases.
    pub position: usize,
    /// 1-based input line, for JSON Lines.
    pub line: Option<usize>,
    pub id: Option<String>,
    pub error: CaseError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchSummary {
    pub cases: usize,
    pub failed: usize,
}

#[derive(Serialize)]
struct CaseOutput<'a> {
    id: Option<&'a str>,
    as_of: NaiveDate,
    results: &'a [ProgrammeResult<'a>],
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    id: Option<&'a str>,
    error: &'a CaseError,
}

/// Just enough of a case to echo its id when the rest is bad.
#[derive(Deserialize)]
struct IdProbe {
    person: Option<PersonIdProbe>,
}

#[derive(Deserialize)]
struct PersonIdProbe {
    id: Option<String>,
}

fn probe_id(json: &str) -> Option<String> {
    serde_json::from_str::<IdProbe>(json).ok()?.person?.id
}

/// Evaluates one case given as JSON and appends its output object (results
/// or error) to `out`. Returns the error and the case's id when it was bad.
pub fn evaluate_json(
    at: &PackAt,
    detail: Detail,
    json: &str,
    out: &mut Vec<u8>,
) -> Result<(), (Option<String>, CaseError)> {
    let parsed = parse_case(json).and_then(|case| case.validate(at.pack()).map(|()| case));
    let infallible = "serializing these types into a Vec cannot fail";
    match parsed {
        Ok(case) => {
            let evaluation = at.evaluate(&case, detail);
            let output = CaseOutput {
                id: case.person.id.as_deref(),
                as_of: at.as_of(),
                results: &evaluation.results,
            };
            serde_json::to_writer(out, &output).expect(infallible);
            Ok(())
        }
        Err(error) => {
            let id = probe_id(json);
            let output = ErrorOutput {
                id: id.as_deref(),
                error: &error,
            };
            serde_json::to_writer(out, &output).expect(infallible);
            Err((id, error))
        }
    }
}

/// How output objects are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// One object a line.
    Lines,
    /// Elements of one JSON array, one a line.
    Array,
}

/// Evaluates a slice of cases in parallel; returns one buffer per task, in
/// order, each holding its cases' output, plus the failures.
fn evaluate_chunk(
    at: &PackAt,
    detail: Detail,
    cases: &[(usize, Option<usize>, &str)],
    framing: Framing,
) -> Vec<(Vec<u8>, Vec<CaseFailure>)> {
    cases
        .par_chunks(TASK)
        .map(|task| {
            let mut buf = Vec::with_capacity(task.len() * 2048);
            let mut failures = Vec::new();
            for &(position, line, json) in task {
                if framing == Framing::Array {
                    // The position says whether a comma is due, so tasks
                    // need not know about each other.
                    buf.extend_from_slice(if position == 1 { b"\n" } else { b",\n" });
                }
                if let Err((id, error)) = evaluate_json(at, detail, json, &mut buf) {
                    failures.push(CaseFailure {
                        position,
                        line,
                        id,
                        error,
                    });
                }
                if framing == Framing::Lines {
                    buf.push(b'\n');
                }
            }
            (buf, failures)
        })
        .collect()
}

/// Reads JSON Lines (one case a line; blank lines are skipped) and writes one
/// output object a line, in input order. Reading the next chunk overlaps with
/// evaluating the current one.
pub fn evaluate_jsonl<R: BufRead + Send, W: Write>(
    at: &PackAt,
    detail: Detail,
    mut input: R,
    mut output: W,
    mut progress: impl FnMut(usize),
    mut on_failure: impl FnMut(&CaseFailure),
) -> Result<BatchSummary, BatchError> {
    let mut summary = BatchSummary::default();
    let mut reader = LineReader::default();
    let mut current = reader.chunk(&mut input)?;
    while !current.is_empty() {
        let cases: Vec<_> = current
            .iter()
            .map(|(position, line, text)| (*position, Some(*line), text.as_str()))
            .collect();
        let (next, buffers) = rayon::join(
            || reader.chunk(&mut input),
            || evaluate_chunk(at, detail, &cases, Framing::Lines),
        );
        summary.cases += cases.len();
        for (buf, failures) in buffers {
            output.write_all(&buf)?;
            summary.failed += failures.len();
            failures.iter().for_each(&mut on_failure);
        }
        progress(summary.cases);
        current = next?;
    }
    output.flush()?;
    Ok(summary)
}

/// Numbers lines and cases across chunks.
#[derive(Default)]
struct LineReader {
    line: usize,
    cases: usize,
}

impl LineReader {
    /// Up to [`CHUNK`] non-blank lines as (case position, line number, text).
    fn chunk(&mut self, input: &mut impl BufRead) -> io::Result<Vec<(usize, usize, String)>> {
        let mut chunk = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            let mut text = String::new();
            if input.read_line(&mut text)? == 0 {
                break;
            }
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            self.cases += 1;
            chunk.push((self.cases, self.line, text));
        }
        Ok(chunk)
    }
}

/// Evaluates a JSON document — an array of cases or a single case — and
/// writes a JSON array of output objects, one a line, in input order.
pub fn evaluate_document<W: Write>(
    at: &PackAt,
    detail: Detail,
    text: &str,
    mut output: W,
    mut progress: impl FnMut(usize),
    mut on_failure: impl FnMut(&CaseFailure),
) -> Result<BatchSummary, BatchError> {
    let not_json = |e: serde_json::Error| BatchError::NotJson {
        line: e.line(),
        column: e.column(),
        message: without_position(&e.to_string()).to_owned(),
    };
    let document: &RawValue = serde_json::from_str(text).map_err(not_json)?;
    let items: Vec<&RawValue> = if document.get().starts_with('[') {
        serde_json::from_str(document.get()).map_err(not_json)?
    } else {
        vec![document]
    };
    let mut summary = BatchSummary::default();
    output.write_all(b"[")?;
    for (chunk_index, chunk) in items.chunks(CHUNK).enumerate() {
        let first = chunk_index * CHUNK;
        let cases: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, raw)| (first + i + 1, None, raw.get()))
            .collect();
        for (buf, failures) in evaluate_chunk(at, detail, &cases, Framing::Array) {
            output.write_all(&buf)?;
            summary.failed += failures.len();
            failures.iter().for_each(&mut on_failure);
        }
        summary.cases += cases.len();
        progress(summary.cases);
    }
    output.write_all(b"\n]\n")?;
    output.flush()?;
    Ok(summary)
}
